//! The ticket import's side of the contract against the billing simulator over real HTTP: the
//! reference records (technicians, contracts, items, product types) listed like every kind, and
//! the service-call writes — created exactly once per external reference (a repeated, retried
//! or concurrent create returns the one call), updated only on the version it was planned on,
//! never changed once invoiced, held with a note naming the ticket, and listed when flagged
//! for ConnectWise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use cwsync_billing::models::{
    HoldRequest, Item, LaborLine, NewServiceCall, Part, ServiceCallStatus, ServiceCallUpdate,
    Technician,
};
use cwsync_billing::{
    BillingClient, BillingConfig, BillingError, ContractQuery, RecordKind, ReferenceQuery,
    RetryPolicy, ServiceCallQuery,
};
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, FaultKind, FaultRule, TEST_BILLING_API_KEY,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

const SERVICE_CALLS: &str = "/v1/service-calls";

fn client(sim: &BillingSim) -> BillingClient {
    let mut config = BillingConfig::new(sim.base_url(), SecretString::from(TEST_BILLING_API_KEY));
    config.timeout = Duration::from_secs(10);
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(20),
    };
    BillingClient::new(config).unwrap()
}

async fn fixture_sim() -> BillingSim {
    BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap()
}

fn ts(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

/// The call of ConnectWise ticket `ticket`: Jane's 1.5 billable hours and one toner.
fn new_call(ticket: u32) -> NewServiceCall {
    NewServiceCall {
        external_reference: format!("cw:ticket:{ticket}"),
        account_id: "A-1001".into(),
        contract_id: Some("C-3001".into()),
        description: "Copier jams on tray 2".into(),
        status: ServiceCallStatus::Completed,
        on_hold: false,
        hold_reason: None,
        notes: vec![format!("Imported from ConnectWise ticket #{ticket}")],
        labor: vec![LaborLine {
            external_reference: Some("cw:time:1".into()),
            technician_id: "T-100".into(),
            hours: Decimal::new(15, 1),
            billable: true,
            work_type: Some("Onsite".into()),
            notes: Some("Cleared the jam, replaced the pickup roller".into()),
            started_at: Some(ts("2026-11-03T14:00:00Z")),
            ended_at: Some(ts("2026-11-03T15:30:00Z")),
        }],
        parts: vec![Part {
            external_reference: Some("cw:product:7".into()),
            item_id: "I-TONER-BK".into(),
            quantity: Decimal::ONE,
            price: None,
            description: None,
        }],
    }
}

fn update_of(new: &NewServiceCall) -> ServiceCallUpdate {
    ServiceCallUpdate {
        contract_id: new.contract_id.clone(),
        description: new.description.clone(),
        status: new.status,
        on_hold: new.on_hold,
        hold_reason: new.hold_reason.clone(),
        add_notes: Vec::new(),
        labor: new.labor.clone(),
        parts: new.parts.clone(),
    }
}

#[tokio::test]
async fn technicians_contracts_items_and_product_types_are_listed_with_paging_ids_and_updated_since()
 {
    let sim = fixture_sim().await;
    let c = client(&sim);
    let small_pages = ReferenceQuery {
        page_size: Some(2),
        ..ReferenceQuery::default()
    };
    let technicians = c.list_technicians(&small_pages).await.unwrap();
    assert_eq!(technicians.records.len(), 4, "over two pages");
    assert!(technicians.records.iter().any(|t| !t.active));
    assert_eq!(sim.calls().count("GET", "/v1/technicians"), 2);

    let items = c.list_items(&small_pages).await.unwrap();
    assert_eq!(items.records.len(), 9);
    let types = c
        .list_product_types(&ReferenceQuery::default())
        .await
        .unwrap();
    let hardware = types.records.iter().find(|t| t.name == "Hardware").unwrap();
    let placeholder: Item = c
        .get(hardware.placeholder_item_id.as_deref().unwrap())
        .await
        .unwrap();
    assert!(placeholder.placeholder);

    let acme = c
        .list_contracts(&ContractQuery::of_accounts(["A-1001"]))
        .await
        .unwrap();
    let numbers: Vec<&str> = acme.records.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers, ["MPS-2026-001"]);

    // updatedSince is inclusive; ids narrow.
    let since = c
        .list_items(&ReferenceQuery::changed_since(ts("2026-09-02T08:07:00Z")))
        .await
        .unwrap();
    let ids: Vec<&str> = since.records.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["I-TPL-SUPPLIES", "I-TPL-SERVICE"]);
    let two = c
        .list_technicians(&ReferenceQuery::by_ids(["T-101", "T-999", "T-100"]))
        .await
        .unwrap();
    assert_eq!(two.records.len(), 2);
    let jane: Technician = c.get("T-100").await.unwrap();
    assert_eq!(jane.identifier.as_deref(), Some("jdoe"));
}

#[tokio::test]
async fn a_malformed_item_is_named_by_id_and_field_and_the_others_are_listed() {
    let sim = fixture_sim().await;
    sim.corrupt(RecordKind::Item, "I-DRUM", "price", json!("cheap"));
    sim.corrupt(RecordKind::Technician, "T-101", "active", json!("yes"));
    let c = client(&sim);
    let items = c.list_items(&ReferenceQuery::default()).await.unwrap();
    assert_eq!(items.records.len(), 8);
    assert_eq!(items.malformed.len(), 1);
    let named = items.malformed[0].to_string();
    assert!(
        named.starts_with("item I-DRUM is not a valid item: price: "),
        "{named}"
    );
    assert_eq!(items.malformed[0].field.as_deref(), Some("price"));
    let technicians = c
        .list_technicians(&ReferenceQuery::default())
        .await
        .unwrap();
    assert_eq!(technicians.malformed[0].id.as_deref(), Some("T-101"));
    assert_eq!(technicians.malformed[0].field.as_deref(), Some("active"));
}

#[tokio::test]
async fn a_second_create_with_the_same_reference_returns_the_existing_call() {
    let sim = fixture_sim().await;
    let c = client(&sim);
    let first = c.create_service_call(&new_call(4711)).await.unwrap();
    assert!(first.created);
    assert_eq!(first.call.id, "SC-9001");
    assert_eq!(first.call.version, 1);
    assert_eq!(first.call.labor[0].hours, Decimal::new(15, 1));
    assert_eq!(first.call.notes.len(), 1);

    let mut changed = new_call(4711);
    changed.description = "another description".into();
    let again = c.create_service_call(&changed).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.call, first.call, "the existing call, unchanged");
    let made = sim
        .service_calls()
        .into_iter()
        .filter(|call| call.external_reference.as_deref() == Some("cw:ticket:4711"))
        .count();
    assert_eq!(made, 1);
    let found = c.find_service_call("cw:ticket:4711").await.unwrap();
    assert_eq!(found.map(|f| f.id), Some("SC-9001".to_owned()));
    assert_eq!(c.find_service_call("cw:ticket:1").await.unwrap(), None);
}

#[tokio::test]
async fn two_concurrent_creates_of_one_ticket_make_one_call() {
    let sim = fixture_sim().await;
    let c = client(&sim);
    let creates = (0..8).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.create_service_call(&new_call(5000)).await.unwrap() })
    });
    let results = futures_join(creates).await;
    assert_eq!(results.iter().filter(|r| r.created).count(), 1);
    assert!(results.iter().all(|r| r.call.id == results[0].call.id));
    assert_eq!(sim.service_calls().len(), 4 + 1);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_retried_without_a_second_call() {
    let sim = fixture_sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("POST", SERVICE_CALLS)
            .nth(1)
            .after_processing(),
    );
    let c = client(&sim);
    let created = c.create_service_call(&new_call(6000)).await.unwrap();
    assert!(
        !created.created,
        "the retry found the call the first try made"
    );
    assert_eq!(
        created.call.external_reference.as_deref(),
        Some("cw:ticket:6000")
    );
    assert_eq!(sim.service_calls().len(), 5);
    assert_eq!(sim.calls().count("POST", SERVICE_CALLS), 2);
}

#[tokio::test]
async fn an_invalid_call_is_refused_naming_every_field_and_nothing_is_made() {
    let sim = fixture_sim().await;
    let c = client(&sim);
    let mut bad = new_call(7000);
    bad.contract_id = Some("C-3002".into()); // another account's
    bad.labor[0].technician_id = "T-102".into(); // inactive
    bad.labor.push(LaborLine {
        technician_id: "T-999".into(),
        hours: Decimal::from(25),
        ..bad.labor[0].clone()
    });
    bad.parts[0].item_id = "I-NOPE".into();
    bad.parts[0].quantity = Decimal::ZERO;
    bad.on_hold = true;
    let error = c.create_service_call(&bad).await.unwrap_err();
    let BillingError::Invalid {
        fields, message, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        named,
        [
            "contractId",
            "holdReason",
            "labor[0].technicianId",
            "labor[1].technicianId",
            "labor[1].hours",
            "parts[0].itemId",
            "parts[0].quantity"
        ]
    );
    assert!(message.contains("cw:ticket:7000"), "{message}");
    assert_eq!(sim.service_calls().len(), 4);
}

#[tokio::test]
async fn an_update_applies_only_on_the_version_it_was_planned_on() {
    let sim = fixture_sim().await;
    let c = client(&sim);
    let new = new_call(4711);
    let call = c.create_service_call(&new).await.unwrap().call;

    // Unchanged: the version and updatedAt stay.
    let same = c
        .update_service_call(&call.id, call.version, &update_of(&new))
        .await
        .unwrap();
    assert_eq!(same, call);

    let mut more_time = update_of(&new);
    more_time.labor.push(LaborLine {
        external_reference: Some("cw:time:2".into()),
        hours: Decimal::new(5, 1),
        ..new.labor[0].clone()
    });
    more_time.add_notes = vec!["More time logged in ConnectWise".into()];
    let updated = c
        .update_service_call(&call.id, call.version, &more_time)
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.labor.len(), 2);
    assert_eq!(updated.notes.len(), 2);

    // A second worker planned on version 1: refused, naming the version now.
    let stale = c
        .update_service_call(&call.id, call.version, &update_of(&new))
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            BillingError::VersionConflict {
                current_version: Some(2),
                ..
            }
        ),
        "{stale:?}"
    );
    assert_eq!(sim.service_call(&call.id).unwrap().labor.len(), 2);
}

#[tokio::test]
async fn an_invoiced_call_refuses_every_change() {
    let sim = fixture_sim().await;
    let c = client(&sim);
    let invoiced = c.get_service_call("SC-8004").await.unwrap();
    assert_eq!(invoiced.status, ServiceCallStatus::Invoiced);
    let update = ServiceCallUpdate {
        contract_id: invoiced.contract_id.clone(),
        description: invoiced.description.clone(),
        status: ServiceCallStatus::Completed,
        on_hold: false,
        hold_reason: None,
        add_notes: Vec::new(),
        labor: Vec::new(),
        parts: Vec::new(),
    };
    let error = c
        .update_service_call("SC-8004", invoiced.version, &update)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, BillingError::Conflict { code, .. } if code == "Invoiced"),
        "{error:?}"
    );
    assert!(error.to_string().contains("SC-8004"), "{error}");
    let hold = HoldRequest {
        reason: "review".into(),
        note: None,
        external_reference: None,
    };
    let error = c.hold_service_call("SC-8004", &hold).await.unwrap_err();
    assert!(matches!(error, BillingError::Conflict { .. }), "{error:?}");
    assert_eq!(sim.service_call("SC-8004").unwrap(), invoiced);
}

#[tokio::test]
async fn flagged_calls_are_listed_until_held_with_the_ticket_note_and_a_repeated_hold_changes_nothing()
 {
    let sim = fixture_sim().await;
    let c = client(&sim);
    let flagged = c
        .list_service_calls(&ServiceCallQuery::flagged_for_connect_wise())
        .await
        .unwrap();
    let ids: Vec<&str> = flagged.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["SC-8001", "SC-8003"],
        "the held one waits for its user"
    );
    assert_eq!(
        flagged.records[0]
            .connect_wise
            .as_ref()
            .unwrap()
            .board
            .as_deref(),
        Some("Service Desk")
    );

    let hold = HoldRequest {
        reason: "moved to ConnectWise".into(),
        note: Some("ConnectWise ticket #4711".into()),
        external_reference: Some("cw:ticket:4711".into()),
    };
    let held = c.hold_service_call("SC-8001", &hold).await.unwrap();
    assert!(held.on_hold);
    assert_eq!(held.external_reference.as_deref(), Some("cw:ticket:4711"));
    assert_eq!(held.notes.last().unwrap().text, "ConnectWise ticket #4711");
    let again = c.hold_service_call("SC-8001", &hold).await.unwrap();
    assert_eq!(again, held, "no second note, no new version");

    let flagged = c
        .list_service_calls(&ServiceCallQuery::flagged_for_connect_wise())
        .await
        .unwrap();
    assert_eq!(flagged.records.len(), 1);
    // The ticket's call is found by its reference, and no other call may take the reference.
    assert_eq!(
        c.find_service_call("cw:ticket:4711")
            .await
            .unwrap()
            .unwrap()
            .id,
        "SC-8001"
    );
    let error = c.hold_service_call("SC-8003", &hold).await.unwrap_err();
    assert!(
        matches!(&error, BillingError::Duplicate { existing_id: Some(id), .. } if id == "SC-8001"),
        "{error:?}"
    );
    let existing = c.create_service_call(&new_call(4711)).await.unwrap();
    assert!(!existing.created);
    assert_eq!(existing.call.id, "SC-8001");
}
