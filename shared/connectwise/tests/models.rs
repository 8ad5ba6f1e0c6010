//! The serde models against real-shaped ConnectWise samples (copied from
//! `/work/shared/connectwise/samples/` into `tests/fixtures/`), and the serialisation rules the
//! client relies on: only set fields are written, money reads from numbers or strings, nulls and
//! unknown keys are dropped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::str::FromStr;

use cwsync_connectwise::models::{
    Addition, Agreement, BoardStatus, CallbackAction, CallbackEntry, CallbackPayload, CatalogItem,
    Company, CompanyInfo, CompanySite, Contact, Count, DocumentInfo, Info, Invoice, Member,
    Project, ProjectPhase, ProjectTicket, Reference, Resource, ServiceNote, SystemInfo, Ticket,
    TimeEntry, datetime,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::macros::datetime;

/// Reads a sample into `T`, writes it back, and checks that:
/// - reading the written JSON gives the same model (a lossless round trip);
/// - everything written was in the sample with the same value (numbers compared as decimals, so
///   `1.0` matches `1` and `"25.00"` matches `25`);
/// - the only top-level keys with a value that the model drops are `dropped` (keys the 2026.4
///   schema no longer has).
fn round_trip<T>(sample: &str, dropped: &[&str]) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let original: Value = serde_json::from_str(sample).unwrap();
    let model: T = serde_json::from_str(sample).unwrap();
    let written = serde_json::to_value(&model).unwrap();
    let reread: T = serde_json::from_value(written.clone()).unwrap();
    assert_eq!(
        model, reread,
        "the model changed on a write/read round trip"
    );
    assert_subset(&written, &original, "$");

    let kept: BTreeSet<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let lost: BTreeSet<&str> = original
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, value)| !value.is_null() && !kept.contains(key.as_str()))
        .map(|(key, _)| key.as_str())
        .collect();
    assert_eq!(lost, dropped.iter().copied().collect::<BTreeSet<_>>());
    model
}

fn assert_subset(written: &Value, original: &Value, at: &str) {
    match (written, original) {
        (Value::Object(out), Value::Object(inp)) => {
            for (key, value) in out {
                let source = inp
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}.{key} was written but is not in the sample"));
                assert_subset(value, source, &format!("{at}.{key}"));
            }
        }
        (Value::Array(out), Value::Array(inp)) => {
            assert_eq!(out.len(), inp.len(), "{at}: array length changed");
            for (index, (value, source)) in out.iter().zip(inp).enumerate() {
                assert_subset(value, source, &format!("{at}[{index}]"));
            }
        }
        (Value::Number(out), Value::Number(inp)) => {
            assert_eq!(decimal(&out.to_string()), decimal(&inp.to_string()), "{at}");
        }
        (Value::Number(out), Value::String(inp)) => {
            assert_eq!(decimal(&out.to_string()), decimal(inp), "{at}");
        }
        _ => assert_eq!(written, original, "{at}"),
    }
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .unwrap()
}

fn dec(text: &str) -> Option<Decimal> {
    Some(decimal(text))
}

// --- every sample reads, and writes back only what it read -------------------------------------

#[test]
fn the_company_sample_round_trips_dropping_only_keys_the_schema_no_longer_has() {
    let company: Company = round_trip(
        include_str!("fixtures/company.json"),
        &["marketId", "territoryId", "timeZone"],
    );
    assert_eq!(company.identifier.as_deref(), Some("YourCompany"));
    assert_eq!(company.status.unwrap().name.as_deref(), Some("Active"));
    assert_eq!(company.types.unwrap()[0].id, Some(5));
    assert_eq!(
        company.date_acquired,
        Some(datetime!(2002-08-20 18:04:26 UTC))
    );
    assert_eq!(company.annual_revenue, dec("0"));
    assert_eq!(company.address_line1, None, "a null reads as absent");
    let info = company.info.unwrap();
    assert_eq!(info.last_updated, Some(datetime!(2015-12-24 22:08:22 UTC)));
    assert_eq!(info.updated_by.as_deref(), Some("omnicorp"));
}

#[test]
fn the_site_sample_round_trips() {
    let site: CompanySite = round_trip(include_str!("fixtures/site.json"), &[]);
    assert_eq!(
        site.state_reference.unwrap().identifier.as_deref(),
        Some("FL")
    );
    assert_eq!(site.company.unwrap().id, Some(2));
    let info = site.info.unwrap();
    assert_eq!(info.date_entered, Some(datetime!(2023-11-02 09:15:40 UTC)));
    assert_eq!(info.entered_by.as_deref(), Some("jdoe"));
}

#[test]
fn the_contact_sample_round_trips_with_its_communication_items() {
    let contact: Contact = round_trip(include_str!("fixtures/contact.json"), &[]);
    let items = contact.communication_items.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].communication_type.as_deref(), Some("Email"));
    assert_eq!(items[1].value.as_deref(), Some("Arnie@YourCompany.com"));
    assert_eq!(
        items[0].kind.as_ref().unwrap().name.as_deref(),
        Some("Direct")
    );
}

#[test]
fn the_agreement_sample_round_trips() {
    let agreement: Agreement = round_trip(include_str!("fixtures/agreement.json"), &[]);
    assert_eq!(agreement.kind.unwrap().name.as_deref(), Some("Block Time"));
    assert_eq!(agreement.application_limit, dec("1"));
    assert_eq!(agreement.agreement_status.as_deref(), Some("Expired"));
    assert_eq!(agreement.custom_fields.unwrap().len(), 2);
}

#[test]
fn the_minimal_agreement_sample_round_trips_without_its_required_contact() {
    let agreement: Agreement = round_trip(include_str!("fixtures/agreement-minimal.json"), &[]);
    assert_eq!(agreement.contact, None);
    assert_eq!(agreement.bill_amount, dec("10000"));
}

#[test]
fn the_agreement_addition_sample_round_trips() {
    let addition: Addition = round_trip(include_str!("fixtures/agreement-addition.json"), &[]);
    assert_eq!(
        addition.product.unwrap().identifier.as_deref(),
        Some("M365-BP")
    );
    assert_eq!(addition.unit_cost, dec("18.5"));
    assert_eq!(
        addition.effective_date,
        Some(datetime!(2024-01-01 0:00 UTC))
    );
}

#[test]
fn the_invoice_sample_round_trips() {
    let invoice: Invoice = round_trip(include_str!("fixtures/invoice.json"), &[]);
    assert_eq!(invoice.invoice_number.as_deref(), Some("INV-1001"));
    assert_eq!(invoice.total, dec("1284"));
    assert_eq!(invoice.kind.as_deref(), Some("Standard"));
    let status = invoice.status.unwrap();
    assert_eq!(status.name.as_deref(), Some("Closed"));
    assert_eq!(status.is_closed, Some(true));
    assert_eq!(invoice.payments, dec("0"));
    assert_eq!(invoice.balance, dec("1284"));
    assert_eq!(invoice.company.unwrap().id, Some(219));
}

#[test]
fn an_agreement_reference_keeps_its_agreement_type_name() {
    let reference: Reference = serde_json::from_value(json!({
        "id": 12, "name": "Managed", "type": "Managed Services",
        "_info": {"agreement_href": "https://cw.example/finance/agreements/12"}
    }))
    .unwrap();
    assert_eq!(reference.kind.as_deref(), Some("Managed Services"));
    assert_eq!(
        serde_json::to_value(Reference::id(12)).unwrap(),
        json!({"id": 12}),
        "a reference sent on a write is still just its id"
    );
}

#[test]
fn the_catalog_item_sample_round_trips() {
    let item: CatalogItem = round_trip(include_str!("fixtures/catalog-item.json"), &[]);
    assert_eq!(
        item.connect_wise_id.as_deref(),
        Some("00000000-0000-4000-8000-000000000310")
    );
    assert_eq!(item.price, dec("22"));
    assert_eq!(item.subcategory.unwrap().name.as_deref(), Some("Licensing"));
}

#[test]
fn the_ticket_sample_round_trips_dropping_only_keys_the_schema_no_longer_has() {
    let ticket: Ticket = round_trip(
        include_str!("fixtures/ticket.json"),
        &["businessUnitId", "enteredBy", "locationId"],
    );
    assert_eq!(ticket.record_type.as_deref(), Some("ServiceTicket"));
    assert_eq!(
        ticket.company.unwrap().identifier.as_deref(),
        Some("YourCompany")
    );
    assert_eq!(ticket.custom_fields.unwrap()[0].value, Some(json!(5)));
    let info = ticket.info.unwrap();
    assert_eq!(info.date_entered, Some(datetime!(2005-05-27 17:30:19 UTC)));
    assert!(info.other.contains_key("notes_href"));
}

#[test]
fn the_ticket_note_sample_round_trips() {
    let note: ServiceNote = round_trip(include_str!("fixtures/ticket-note.json"), &[]);
    assert_eq!(note.ticket_id, Some(69));
    assert_eq!(note.member.unwrap().identifier.as_deref(), Some("User1"));
}

#[test]
fn the_time_entry_sample_round_trips_with_its_string_hourly_cost() {
    let entry: TimeEntry = round_trip(include_str!("fixtures/time-entry.json"), &[]);
    assert_eq!(entry.hourly_cost, dec("25.00"));
    assert_eq!(entry.actual_hours, dec("0.73"));
    assert_eq!(entry.time_start, Some(datetime!(2018-05-05 14:00 UTC)));
    let ticket = entry.ticket.unwrap();
    assert_eq!(ticket.summary.as_deref(), Some("Example summary"));
    assert_eq!(ticket.info.unwrap()["status"], json!(">Closed"));
}

#[test]
fn the_member_sample_round_trips_dropping_only_keys_the_schema_no_longer_has() {
    let member: Member = round_trip(
        include_str!("fixtures/member.json"),
        &[
            "defaultDepartmentId",
            "defaultLocationId",
            "salesDefaultLocationId",
            "scheduleDefaultDepartmentId",
            "scheduleDefaultLocationId",
            "securityLevel",
            "securityLocationId",
            "serviceDefaultDepartmentId",
            "serviceDefaultLocationId",
            "serviceTeams",
        ],
    );
    assert_eq!(member.identifier.as_deref(), Some("User1"));
    assert_eq!(member.hire_date, Some(datetime!(1800-01-01 8:00 UTC)));
    assert_eq!(member.hourly_cost, dec("65"));
}

#[test]
fn the_callback_entry_sample_round_trips_reading_an_empty_last_updated_as_absent() {
    let entry: CallbackEntry = round_trip(include_str!("fixtures/callback-entry.json"), &[]);
    assert_eq!(entry.kind.as_deref(), Some("ticket"));
    assert_eq!(entry.level.as_deref(), Some("owner"));
    assert_eq!(entry.object_id, Some(1));
    assert_eq!(entry.info.unwrap().last_updated, None);
}

#[test]
fn the_system_info_sample_round_trips() {
    let info: SystemInfo = round_trip(include_str!("fixtures/system-info.json"), &[]);
    assert_eq!(info.version.as_deref(), Some("v2.0"));
}

#[test]
fn the_login_companyinfo_sample_round_trips() {
    let info: CompanyInfo = round_trip(include_str!("fixtures/login-companyinfo.json"), &[]);
    assert_eq!(info.codebase.as_deref(), Some("v2017_3/"));
    assert_eq!(info.company_id.as_deref(), Some("CW"));
    assert_eq!(info.is_cloud, Some(true));
}

#[test]
fn an_unknown_login_company_reads_as_none() {
    let info: Option<CompanyInfo> = serde_json::from_str("null").unwrap();
    assert_eq!(info, None);
}

#[test]
fn the_callback_payload_sample_round_trips_and_decodes_its_entity_as_a_ticket() {
    let payload: CallbackPayload = round_trip(include_str!("fixtures/callback-payload.json"), &[]);
    assert_eq!(payload.action, CallbackAction::Updated);
    assert_eq!(payload.kind.as_deref(), Some("ticket"));
    assert_eq!(payload.id, Some(1234));
    assert_eq!(
        payload.metadata.as_ref().unwrap().key_url.as_deref(),
        Some("https://cw.example.com/example-signing-key-url")
    );
    let ticket: Ticket = payload.entity().unwrap().unwrap();
    assert_eq!(ticket.id, Some(1234));
    assert_eq!(ticket.summary.as_deref(), Some("Printer offline"));
    assert_eq!(ticket.board.unwrap().name.as_deref(), Some("Service Desk"));
}

// --- callbacks -----------------------------------------------------------------------------------

#[test]
fn a_delete_callback_without_an_entity_decodes_to_no_record() {
    let payload: CallbackPayload =
        serde_json::from_value(json!({"Action": "deleted", "Type": "ticket", "ID": 7})).unwrap();
    assert_eq!(payload.action, CallbackAction::Deleted);
    assert_eq!(payload.entity::<Ticket>().unwrap(), None);

    let null_entity: CallbackPayload =
        serde_json::from_value(json!({"Action": "deleted", "ID": 7, "Entity": null})).unwrap();
    assert_eq!(null_entity.entity::<Ticket>().unwrap(), None);
}

#[test]
fn a_callback_action_is_read_case_insensitively_and_an_unknown_one_is_kept() {
    let added: CallbackPayload = serde_json::from_value(json!({"Action": "Added"})).unwrap();
    assert_eq!(added.action, CallbackAction::Added);
    let merged: CallbackPayload = serde_json::from_value(json!({"Action": "merged"})).unwrap();
    assert_eq!(merged.action, CallbackAction::Other("merged".into()));
    assert_eq!(
        serde_json::to_value(&merged).unwrap(),
        json!({"Action": "merged"})
    );
}

#[test]
fn a_callback_entity_sent_as_an_object_is_still_decoded() {
    let payload: CallbackPayload = serde_json::from_value(json!({
        "Action": "added", "Type": "company", "ID": 3,
        "Entity": {"id": 3, "identifier": "ACME", "name": "Acme"}
    }))
    .unwrap();
    let company: Company = payload.entity().unwrap().unwrap();
    assert_eq!(company.identifier.as_deref(), Some("ACME"));
}

#[test]
fn a_callback_entity_that_is_not_the_record_names_the_callback_in_the_error() {
    let payload: CallbackPayload = serde_json::from_value(
        json!({"Action": "updated", "Type": "ticket", "ID": 9, "Entity": "{\"id\": \"nine\"}"}),
    )
    .unwrap();
    let error = payload.entity::<Ticket>().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("callback entity of ticket 9 "),
        "{error}"
    );
}

// --- what gets written ----------------------------------------------------------------------------

#[test]
fn a_company_with_only_identifier_and_name_serialises_to_exactly_those_keys() {
    let company = Company {
        identifier: Some("ACME".into()),
        name: Some("Acme Ltd".into()),
        ..Company::default()
    };
    assert_eq!(
        serde_json::to_value(&company).unwrap(),
        json!({"identifier": "ACME", "name": "Acme Ltd"})
    );
}

#[test]
fn a_reference_built_from_an_id_serialises_as_only_the_id() {
    assert_eq!(
        serde_json::to_value(Reference::id(42)).unwrap(),
        json!({"id": 42})
    );
    let site = CompanySite {
        name: Some("Main".into()),
        company: Some(Reference::id(7)),
        ..CompanySite::default()
    };
    assert_eq!(
        serde_json::to_value(&site).unwrap(),
        json!({"name": "Main", "company": {"id": 7}})
    );
}

#[test]
fn nulls_in_a_response_are_not_written_back() {
    let company: Company = serde_json::from_value(json!({
        "identifier": "ACME",
        "addressLine1": null,
        "country": null,
        "timeZoneSetup": {"id": 1, "name": "US Eastern", "_info": null},
        "types": [{"id": 5, "_info": {"lastUpdated": "2015-08-21T20:22:06Z", "updatedBy": null}}],
        "_info": {"lastUpdated": "2015-12-24T22:08:22Z", "updatedBy": null, "extra": null}
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&company).unwrap(),
        json!({
            "identifier": "ACME",
            "timeZoneSetup": {"id": 1, "name": "US Eastern"},
            "types": [{"id": 5, "_info": {"lastUpdated": "2015-08-21T20:22:06Z"}}],
            "_info": {"lastUpdated": "2015-12-24T22:08:22Z"}
        })
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let contact: Contact = serde_json::from_value(json!({
        "id": 2,
        "firstName": "Arnie",
        "someFieldFromANewerServer": {"nested": [1, 2, 3]},
        "company": {"id": 2, "brandNewHint": true}
    }))
    .unwrap();
    assert_eq!(contact.id, Some(2));
    assert_eq!(contact.company, Some(Reference::id(2)));
    assert_eq!(
        serde_json::to_value(&contact).unwrap(),
        json!({"id": 2, "firstName": "Arnie", "company": {"id": 2}})
    );
}

#[test]
fn a_record_info_keeps_its_other_hints() {
    let info: Info = serde_json::from_value(json!({
        "lastUpdated": "2024-03-05T16:20:11Z",
        "updatedBy": "jdoe",
        "notes_href": "https://cw.example.com/notes"
    }))
    .unwrap();
    assert_eq!(
        info.other["notes_href"],
        json!("https://cw.example.com/notes")
    );
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({
            "lastUpdated": "2024-03-05T16:20:11Z",
            "updatedBy": "jdoe",
            "notes_href": "https://cw.example.com/notes"
        })
    );
}

// --- money ----------------------------------------------------------------------------------------

#[test]
fn money_reads_from_a_number_or_a_string_and_is_written_as_a_number() {
    for hourly_cost in [
        json!(10800.0),
        json!("10800.00"),
        json!(10800),
        json!(" 10800 "),
    ] {
        let entry: TimeEntry =
            serde_json::from_value(json!({ "hourlyCost": hourly_cost })).unwrap();
        assert_eq!(entry.hourly_cost, dec("10800"), "from {hourly_cost}");
        assert_eq!(
            serde_json::to_value(&entry).unwrap(),
            json!({"hourlyCost": 10800}),
            "from {hourly_cost}"
        );
    }
}

#[test]
fn money_keeps_cents_exactly() {
    let entry: TimeEntry = serde_json::from_value(
        json!({"hourlyRate": 0.1, "hourlyCost": "0.30", "actualHours": 0.73}),
    )
    .unwrap();
    assert_eq!(entry.hourly_rate, dec("0.1"));
    assert_eq!(entry.hourly_cost, dec("0.30"));
    assert_eq!(
        serde_json::to_value(&entry).unwrap(),
        json!({"actualHours": 0.73, "hourlyCost": 0.3, "hourlyRate": 0.1})
    );
}

#[test]
fn money_reads_null_and_empty_string_as_absent() {
    let entry: TimeEntry =
        serde_json::from_value(json!({"hourlyCost": "", "hourlyRate": null})).unwrap();
    assert_eq!(entry.hourly_cost, None);
    assert_eq!(entry.hourly_rate, None);
}

#[test]
fn money_that_is_not_a_number_is_an_error_naming_the_value() {
    let error = serde_json::from_value::<TimeEntry>(json!({"hourlyCost": "ten"})).unwrap_err();
    assert!(error.to_string().contains("\"ten\""), "{error}");
    assert!(serde_json::from_value::<TimeEntry>(json!({"hourlyCost": true})).is_err());
}

#[test]
fn a_negative_amount_round_trips() {
    let invoice: Invoice = serde_json::from_value(json!({"balance": -12.5})).unwrap();
    assert_eq!(invoice.balance, dec("-12.5"));
    assert_eq!(
        serde_json::to_value(&invoice).unwrap(),
        json!({"balance": -12.5})
    );
}

// --- timestamps ----------------------------------------------------------------------------------

#[test]
fn timestamps_are_read_tolerantly_and_written_in_the_api_form() {
    for (sent, expected) in [
        ("2024-03-05T16:20:11Z", datetime!(2024-03-05 16:20:11 UTC)),
        (
            "2024-03-05T17:20:11+01:00",
            datetime!(2024-03-05 16:20:11 UTC),
        ),
        ("2024-03-05T16:20:11", datetime!(2024-03-05 16:20:11 UTC)),
        ("2024-03-05 16:20:11", datetime!(2024-03-05 16:20:11 UTC)),
        ("2024-03-05", datetime!(2024-03-05 0:00 UTC)),
    ] {
        let entry: TimeEntry = serde_json::from_value(json!({ "timeStart": sent })).unwrap();
        assert_eq!(entry.time_start, Some(expected), "from {sent}");
    }
    let entry: TimeEntry =
        serde_json::from_value(json!({"timeStart": "2024-03-05T17:20:11+01:00"})).unwrap();
    assert_eq!(
        serde_json::to_value(&entry).unwrap(),
        json!({"timeStart": "2024-03-05T16:20:11Z"})
    );
}

#[test]
fn a_fractional_timestamp_keeps_its_fraction() {
    let parsed = datetime::parse("2024-03-05T16:20:11.250Z").unwrap();
    assert_eq!(parsed, datetime!(2024-03-05 16:20:11.25 UTC));
    assert_eq!(datetime::format(parsed).unwrap(), "2024-03-05T16:20:11.25Z");
}

#[test]
fn a_timestamp_that_is_not_iso_8601_is_an_error_naming_the_value() {
    let error =
        serde_json::from_value::<TimeEntry>(json!({"timeStart": "03/05/2024 4pm"})).unwrap_err();
    assert!(error.to_string().contains("03/05/2024 4pm"), "{error}");
}

// --- paths and small bodies -----------------------------------------------------------------------

#[test]
fn flat_collections_and_child_collections_have_their_api_paths() {
    assert_eq!(Company::PATH, "/company/companies");
    assert_eq!(TimeEntry::PATH, "/time/entries");
    assert_eq!(DocumentInfo::PATH, "/system/documents");
    assert_eq!(CompanySite::path(7), "/company/companies/7/sites");
    assert_eq!(Addition::path(4), "/finance/agreements/4/additions");
    assert_eq!(ServiceNote::path(69), "/service/tickets/69/notes");
    assert_eq!(Invoice::pdf_path(149), "/finance/invoices/149/pdf");
    assert_eq!(
        DocumentInfo::download_path(267),
        "/system/documents/267/download"
    );
    assert_eq!(CompanyInfo::path("CW"), "/login/companyinfo/CW");
    assert_eq!(SystemInfo::PATH, "/system/info");
}

#[test]
fn a_count_response_reads_its_number() {
    let count: Count = serde_json::from_str(r#"{"count": 1234}"#).unwrap();
    assert_eq!(count.count, 1234);
}

#[test]
fn a_member_password_never_shows_in_debug_output() {
    let member: Member =
        serde_json::from_value(json!({"identifier": "api", "password": "hunter2-secret"})).unwrap();
    assert!(!format!("{member:?}").contains("hunter2-secret"));
    assert_eq!(member.password.as_ref().unwrap().expose(), "hunter2-secret");
    assert_eq!(
        serde_json::to_value(&member).unwrap()["password"],
        json!("hunter2-secret")
    );
}

#[test]
fn a_project_ticket_callback_entity_reads_as_a_project_ticket_with_its_phase() {
    let payload: CallbackPayload = serde_json::from_value(json!({
        "Action": "updated", "Type": "ticket", "ID": 12,
        "Entity": r#"{"id":12,"summary":"Cable","recordType":"ProjectTicket","project":{"id":3,"name":"Move"},"phase":{"id":4,"name":"Plan"},"actualHours":4.5,"_info":{"lastUpdated":"2026-12-01T08:00:00Z"}}"#
    }))
    .unwrap();
    let ticket: ProjectTicket = payload.entity().unwrap().unwrap();
    assert_eq!(ticket.ticket.id, Some(12));
    assert_eq!(ticket.ticket.summary.as_deref(), Some("Cable"));
    assert_eq!(ticket.phase.as_ref().and_then(|p| p.id), Some(4));
    assert_eq!(
        ticket.project.as_ref().and_then(|p| p.name.as_deref()),
        Some("Move")
    );
    assert_eq!(ticket.ticket.actual_hours, dec("4.5"));
    assert!(ticket.ticket.info.is_some());
    // Read as a ticket, `recordType` tells which collection to re-fetch it from.
    let as_ticket: Ticket = payload.entity().unwrap().unwrap();
    assert_eq!(as_ticket.record_type.as_deref(), Some("ProjectTicket"));
}

#[test]
fn board_statuses_and_projects_read_their_billing_fields() {
    let status: BoardStatus = serde_json::from_value(json!(
        {"id": 7, "name": "Completed", "board": {"id": 3, "name": "Field Service"},
         "closedStatus": false, "inactive": false, "defaultFlag": false, "sortOrder": 2}
    ))
    .unwrap();
    assert_eq!(
        (
            status.closed_status,
            status.inactive,
            status.board.and_then(|b| b.id)
        ),
        (Some(false), Some(false), Some(3))
    );
    let project: Project = serde_json::from_value(json!(
        {"id": 5, "name": "Install", "billingMethod": "FixedFee", "billingAmount": "4800.00",
         "downpayment": 1000, "estimatedStart": "2026-11-15T00:00:00Z", "company": {"id": 2}}
    ))
    .unwrap();
    assert_eq!(project.billing_method.as_deref(), Some("FixedFee"));
    assert_eq!(project.billing_amount, dec("4800"));
    assert_eq!(project.downpayment, dec("1000"));
    assert!(project.estimated_start.is_some());
    let phase: ProjectPhase = serde_json::from_value(json!(
        {"id": 6, "description": "Installation", "billTime": "Billable", "billPhaseClosedFlag": true}
    ))
    .unwrap();
    assert_eq!(phase.bill_time.as_deref(), Some("Billable"));
    assert_eq!(phase.bill_phase_closed_flag, Some(true));
}
