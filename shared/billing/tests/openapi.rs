//! `openapi.yaml` describes exactly the records of `models.rs`: every schema lists the same
//! camelCase properties the Rust types read and write. A field added on one side only fails here.
//! And what the simulator serves on every listing and read matches the schema: every required
//! property present, no property the schema does not list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use cwsync_billing::RecordKind;
use cwsync_billing::models::{
    Account, AccountUpdate, AccountUser, Address, Contact, ContactUpdate, Page, Price, Product,
    Site, SiteUpdate, Subscription, WriteBack, WriteBackBatch, WriteBackResult, WriteBackResults,
};
use cwsync_billing_sim::{BillingSim, BillingSimOptions, TEST_BILLING_API_KEY};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

const OPENAPI: &str = include_str!("../openapi.yaml");

/// Property names per schema under `components.schemas`, read from the file's fixed layout
/// (schemas at 4 spaces, `properties:` at 6, property names at 8).
fn schema_properties() -> BTreeMap<String, BTreeSet<String>> {
    schema_layout().0
}

/// The `required: [a, b]` list of each schema that has one (at 6 spaces).
fn schema_required() -> BTreeMap<String, BTreeSet<String>> {
    schema_layout().1
}

type Layout = (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
);

fn schema_layout() -> Layout {
    let mut required: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut schemas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut in_schemas = false;
    let mut current: Option<String> = None;
    let mut in_properties = false;
    for line in OPENAPI.lines() {
        if line == "  schemas:" {
            in_schemas = true;
            continue;
        }
        if !in_schemas || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let key = line.trim().strip_suffix(':').map(str::to_owned);
        match indent {
            0..=3 => break,
            4 => {
                current = key;
                in_properties = false;
                if let Some(name) = &current {
                    schemas.entry(name.clone()).or_default();
                }
            }
            6 => {
                in_properties = line.trim() == "properties:";
                if let (Some(list), Some(name)) =
                    (line.trim().strip_prefix("required: ["), &current)
                {
                    let names = list.trim_end_matches(']').split(',');
                    required.insert(name.clone(), names.map(|n| n.trim().to_owned()).collect());
                }
            }
            8 if in_properties => {
                let name = line.trim().split(':').next().unwrap().to_owned();
                schemas
                    .get_mut(current.as_ref().unwrap())
                    .unwrap()
                    .insert(name);
            }
            _ => {}
        }
    }
    (schemas, required)
}

/// The JSON property names of a value with every optional field set.
fn keys<T: Serialize>(value: &T) -> BTreeSet<String> {
    serde_json::to_value(value)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

fn full_address() -> Address {
    Address {
        line1: s("1"),
        line2: s("2"),
        city: s("c"),
        state: s("AZ"),
        postal_code: s("85016"),
        country: s("United States"),
    }
}

fn full_site() -> Site {
    Site {
        id: "S".into(),
        name: "n".into(),
        address: full_address(),
        phone: s("p"),
        fax: s("f"),
        connect_wise_site_id: Some(1),
    }
}

fn full_contact() -> Contact {
    Contact {
        id: "C".into(),
        first_name: s("f"),
        last_name: s("l"),
        title: s("t"),
        phone: s("p"),
        email: s("e"),
        mobile: s("m"),
        fax: s("x"),
        connect_wise_contact_id: Some(1),
    }
}

fn full_account() -> Account {
    Account {
        id: "A".into(),
        code: "C".into(),
        name: "n".into(),
        status: s("Active"),
        account_type: s("Client"),
        parent_account_id: s("P"),
        bill_to_account_id: s("B"),
        currency: s("USD"),
        phone: s("p"),
        fax: s("f"),
        website: s("w"),
        billing_address: Some(full_address()),
        customer_type: s("ct"),
        contract_type: s("k"),
        branch: s("b"),
        sync_to_connect_wise: true,
        on_hold: true,
        connect_wise_company_id: Some(1),
        sites: vec![full_site()],
        contacts: vec![full_contact()],
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn full_price() -> Price {
    Price {
        price_list: "Retail".into(),
        unit: "Month".into(),
        price: Decimal::new(2200, 2),
        cost: Some(Decimal::new(1800, 2)),
    }
}

fn full_product() -> Product {
    Product {
        id: "P".into(),
        sku: "SKU".into(),
        name: "n".into(),
        description: s("d"),
        enabled: true,
        unit: s("License"),
        product_type: s("License"),
        taxable: true,
        cost: Some(Decimal::ONE),
        prices: vec![full_price()],
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn full_subscription() -> Subscription {
    Subscription {
        id: "S".into(),
        account_id: "A".into(),
        product_id: "P".into(),
        quantity: Decimal::TEN,
        unit_cost: Some(Decimal::ONE),
        unit_price: Some(Decimal::TWO),
        unit: s("License"),
        billing_frequency: s("Monthly"),
        agreement_type: s("Managed Services"),
        start_date: Some(time::macros::date!(2026 - 01 - 01)),
        end_date: Some(time::macros::date!(2026 - 12 - 31)),
        cancelled_at: Some(OffsetDateTime::UNIX_EPOCH),
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn full_user() -> AccountUser {
    AccountUser {
        id: "U".into(),
        account_id: "A".into(),
        name: "n".into(),
        email: s("e"),
        enabled: true,
        services: vec!["Teams".into()],
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn every_record_schema_lists_exactly_the_models_properties() {
    let schemas = schema_properties();
    let export_schemas = [
        ("Price", keys(&full_price())),
        ("Product", keys(&full_product())),
        (
            "ProductPage",
            keys(&Page {
                items: vec![full_product()],
                next_cursor: s("c"),
            }),
        ),
        ("Subscription", keys(&full_subscription())),
        (
            "SubscriptionPage",
            keys(&Page {
                items: vec![full_subscription()],
                next_cursor: s("c"),
            }),
        ),
        ("AccountUser", keys(&full_user())),
        (
            "UserPage",
            keys(&Page {
                items: vec![full_user()],
                next_cursor: s("c"),
            }),
        ),
    ];
    let expected: [(&str, BTreeSet<String>); 8] = [
        ("Address", keys(&full_address())),
        ("Site", keys(&full_site())),
        ("Contact", keys(&full_contact())),
        ("Account", keys(&full_account())),
        (
            "AccountPage",
            keys(&Page {
                items: vec![full_account()],
                next_cursor: s("c"),
            }),
        ),
        (
            "AccountUpdate",
            keys(&AccountUpdate {
                name: s("n"),
                status: s("s"),
                account_type: s("t"),
                phone: s("p"),
                fax: s("f"),
                website: s("w"),
                billing_address: Some(full_address()),
                connect_wise_company_id: Some(1),
            }),
        ),
        (
            "SiteUpdate",
            keys(&SiteUpdate {
                name: s("n"),
                address: Some(full_address()),
                phone: s("p"),
                fax: s("f"),
                connect_wise_site_id: Some(1),
            }),
        ),
        (
            "ContactUpdate",
            keys(&ContactUpdate {
                first_name: s("f"),
                last_name: s("l"),
                title: s("t"),
                phone: s("p"),
                email: s("e"),
                mobile: s("m"),
                fax: s("x"),
                connect_wise_contact_id: Some(1),
            }),
        ),
    ];
    let site_item = WriteBack::Site {
        account_id: "A".into(),
        id: "S".into(),
        patch: SiteUpdate::default(),
    };
    let result = WriteBackResult {
        status: 200,
        record: Some(serde_json::json!({})),
        error: Some(serde_json::json!({})),
    };
    let batch_schemas = [
        ("WriteBackItem", keys(&site_item)),
        (
            "WriteBackBatch",
            keys(&WriteBackBatch {
                items: vec![site_item.clone()],
            }),
        ),
        ("WriteBackResult", keys(&result)),
        (
            "WriteBackResults",
            keys(&WriteBackResults {
                results: vec![result.clone()],
            }),
        ),
    ];
    for (schema, properties) in expected
        .into_iter()
        .chain(batch_schemas)
        .chain(export_schemas)
    {
        assert_eq!(
            schemas.get(schema),
            Some(&properties),
            "components.schemas.{schema} in openapi.yaml"
        );
    }
}

#[test]
fn the_contract_defines_the_routes_the_client_calls() {
    for route in [
        "  /v1/accounts:",
        "  /v1/accounts/{id}:",
        "  /v1/accounts/{accountId}/sites/{siteId}:",
        "  /v1/accounts/{accountId}/contacts/{contactId}:",
        "  /v1/write-backs:",
        "  /v1/products:",
        "  /v1/products/{id}:",
        "  /v1/subscriptions:",
        "  /v1/subscriptions/{id}:",
        "  /v1/users:",
        "  /v1/users/{id}:",
        "  /v1/technicians:",
        "  /v1/technicians/{id}:",
        "  /v1/contracts:",
        "  /v1/contracts/{id}:",
        "  /v1/contracts/by-reference/{externalReference}:",
        "  /v1/items:",
        "  /v1/items/{id}:",
        "  /v1/product-types:",
        "  /v1/product-types/{id}:",
        "  /v1/service-calls:",
        "  /v1/service-calls/{id}:",
        "  /v1/service-calls/{id}/hold:",
        "  /v1/service-calls/by-reference/{externalReference}:",
        "  /v1/invoices:",
        "  /v1/invoices/{id}:",
        "  /v1/payments:",
        "  /v1/payments/{id}:",
        "  /v1/orders:",
        "  /v1/orders/{id}:",
        "  /v1/orders/by-reference/{externalReference}:",
        "  /v1/projects:",
        "  /v1/projects/{id}:",
        "  /v1/contract-templates:",
        "  /v1/contract-templates/{id}:",
    ] {
        assert!(OPENAPI.lines().any(|l| l == route), "{route}");
    }
    for code in [
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "InvalidRequest",
        "Duplicate",
        "Invoiced",
        "Conflict",
        "VersionConflict",
        "RateLimited",
        "Internal",
        "Unavailable",
    ] {
        assert!(
            OPENAPI.contains(&format!("                - {code}\n")),
            "error code {code} is in the enum"
        );
    }
}

/// Checks one served record against its schema: every required property present, none unknown;
/// the same for each price of a product.
fn conforms(schema: &str, record: &Value) {
    let properties = &schema_properties()[schema];
    let required = &schema_required()[schema];
    let object = record.as_object().unwrap();
    let present: BTreeSet<String> = object.keys().cloned().collect();
    assert!(
        present.is_subset(properties),
        "{schema}: {:?} are not in the schema",
        present.difference(properties).collect::<Vec<_>>()
    );
    assert!(
        required.is_subset(&present),
        "{schema} {record}: {:?} missing",
        required.difference(&present).collect::<Vec<_>>()
    );
    if matches!(schema, "Invoice" | "Order" | "Project") {
        for line in object["items"].as_array().unwrap() {
            conforms("DocumentItem", line);
        }
    }
    if let Some(prices) = object.get("prices") {
        for price in prices.as_array().unwrap() {
            conforms("Price", price);
        }
    }
}

#[tokio::test]
async fn every_listing_and_read_of_the_simulator_serves_records_that_match_their_schema() {
    let sim = BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = sim.base_url();
    for (kind, schema, page_schema) in [
        (RecordKind::Account, "Account", "AccountPage"),
        (RecordKind::Product, "Product", "ProductPage"),
        (RecordKind::Subscription, "Subscription", "SubscriptionPage"),
        (RecordKind::User, "AccountUser", "UserPage"),
        (RecordKind::Technician, "Technician", "TechnicianPage"),
        (RecordKind::Contract, "Contract", "ContractPage"),
        (RecordKind::Item, "Item", "ItemPage"),
        (RecordKind::ProductType, "ProductType", "ProductTypePage"),
        (RecordKind::ServiceCall, "ServiceCall", "ServiceCallPage"),
        (RecordKind::Invoice, "Invoice", "InvoicePage"),
        (RecordKind::Payment, "Payment", "PaymentPage"),
        (RecordKind::Order, "Order", "OrderPage"),
        (RecordKind::Project, "Project", "ProjectPage"),
        (
            RecordKind::ContractTemplate,
            "ContractTemplate",
            "ContractTemplatePage",
        ),
    ] {
        let get = |path: String| {
            let http = http.clone();
            let url = base.join(path.trim_start_matches('/')).unwrap();
            async move {
                let resp = http
                    .get(url)
                    .bearer_auth(TEST_BILLING_API_KEY)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                resp.json::<Value>().await.unwrap()
            }
        };
        let page = get(format!("{}?limit=2", kind.list_route())).await;
        conforms(page_schema, &page);
        assert!(
            page["nextCursor"].is_string(),
            "{kind}: more than 2 in the fixture"
        );
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        for item in items {
            conforms(schema, item);
            let id = item["id"].as_str().unwrap();
            let one = get(format!("{}/{id}", kind.list_route())).await;
            conforms(schema, &one);
            assert_eq!(&one, item, "{kind} {id}: read and listed alike");
        }
    }
}

/// The ticket import's schemas list exactly what its models write (every optional field set).
#[test]
fn the_ticket_import_schemas_list_exactly_the_models_properties() {
    use serde_json::json;
    let schemas = schema_properties();
    let stamp = "2026-11-02T10:00:00Z";
    let full: [(&str, Value); 12] = [
        (
            "Technician",
            json!({"id": "T", "name": "n", "email": "e", "identifier": "i", "active": true, "updatedAt": stamp}),
        ),
        (
            "Contract",
            json!({"id": "C", "accountId": "A", "number": "1", "name": "n", "status": "Active", "startDate": "2026-01-01", "endDate": "2026-12-31", "externalReference": "cw:agreement:1", "templateId": "CT", "billable": false, "periodStart": "2026-11-01", "periodEnd": "2026-11-30", "lines": [{"itemId": "I", "quantity": 1, "amount": 2, "detail": "d"}], "customFields": {"PO Number": "1"}, "version": 2, "updatedAt": stamp}),
        ),
        (
            "Item",
            json!({"id": "I", "sku": "s", "name": "n", "productTypeId": "P", "unit": "Each", "price": 1, "active": true, "placeholder": false, "updatedAt": stamp}),
        ),
        (
            "ProductType",
            json!({"id": "P", "name": "n", "placeholderItemId": "I", "active": true, "updatedAt": stamp}),
        ),
        (
            "LaborLine",
            json!({"externalReference": "r", "technicianId": "T", "hours": 1, "billable": true, "workType": "w", "notes": "n", "startedAt": stamp, "endedAt": stamp}),
        ),
        (
            "Part",
            json!({"externalReference": "r", "itemId": "I", "quantity": 1, "price": 2, "description": "d"}),
        ),
        ("CallNote", json!({"text": "t", "createdAt": stamp})),
        (
            "ConnectWiseTicketRequest",
            json!({"board": "b", "status": "s", "type": "t", "priority": "p"}),
        ),
        (
            "ServiceCall",
            json!({"id": "S", "number": "1", "accountId": "A", "contractId": "C", "externalReference": "r", "description": "d", "status": "Open", "onHold": true, "holdReason": "h", "notes": [], "labor": [], "parts": [], "connectWise": {}, "version": 1, "updatedAt": stamp}),
        ),
        (
            "NewServiceCall",
            json!({"externalReference": "r", "accountId": "A", "contractId": "C", "description": "d", "status": "Open", "onHold": true, "holdReason": "h", "notes": [], "labor": [], "parts": []}),
        ),
        (
            "ServiceCallUpdate",
            json!({"contractId": "C", "description": "d", "status": "Open", "onHold": true, "holdReason": "h", "addNotes": [], "labor": [], "parts": []}),
        ),
        (
            "HoldRequest",
            json!({"reason": "r", "note": "n", "externalReference": "x"}),
        ),
    ];
    fn round_trip<T: serde::de::DeserializeOwned + Serialize>(value: &Value) -> BTreeSet<String> {
        keys(&serde_json::from_value::<T>(value.clone()).unwrap())
    }
    use cwsync_billing::models as m;
    for (schema, value) in full {
        let written = match schema {
            "Technician" => round_trip::<m::Technician>(&value),
            "Contract" => round_trip::<m::Contract>(&value),
            "Item" => round_trip::<m::Item>(&value),
            "ProductType" => round_trip::<m::ProductType>(&value),
            "LaborLine" => round_trip::<m::LaborLine>(&value),
            "Part" => round_trip::<m::Part>(&value),
            "CallNote" => round_trip::<m::CallNote>(&value),
            "ConnectWiseTicketRequest" => round_trip::<m::ConnectWiseTicketRequest>(&value),
            "ServiceCall" => round_trip::<m::ServiceCall>(&value),
            "NewServiceCall" => round_trip::<m::NewServiceCall>(&value),
            "ServiceCallUpdate" => round_trip::<m::ServiceCallUpdate>(&value),
            _ => round_trip::<m::HoldRequest>(&value),
        };
        let given: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            written, given,
            "{schema}: the model writes every property it reads"
        );
        assert_eq!(
            schemas.get(schema),
            Some(&written),
            "components.schemas.{schema} in openapi.yaml"
        );
    }
}

/// The billing documents' schemas list exactly what their models write (every optional field
/// set), and the credit hold is on the account.
#[test]
fn the_document_schemas_list_exactly_the_models_properties() {
    use cwsync_billing::models as m;
    use serde_json::json;
    fn round_trip<T: serde::de::DeserializeOwned + Serialize>(value: &Value) -> BTreeSet<String> {
        keys(&serde_json::from_value::<T>(value.clone()).unwrap())
    }
    let schemas = schema_properties();
    let stamp = "2026-11-02T10:00:00Z";
    let line = json!({"id": "L", "itemId": "I", "sku": "s", "description": "d", "quantity": 1,
        "price": 2, "cost": 1, "taxable": true, "billableOption": "DoNotBill"});
    let full: [(&str, Value, BTreeSet<String>); 10] = {
        let invoice = json!({"id": "INV", "number": "1", "type": "Standard", "status": "Open",
            "accountId": "A", "billToAccountId": "B", "currency": "USD",
            "invoiceDate": "2026-11-01", "dueDate": "2026-12-01", "total": 2, "balance": 1,
            "items": [line.clone()], "updatedAt": stamp});
        let payment = json!({"id": "P", "accountId": "A", "invoiceId": "INV", "type": "Check",
            "amount": -1, "paymentDate": "2026-11-02", "reference": "r", "updatedAt": stamp});
        let order = json!({"id": "O", "number": "1", "accountId": "A", "contactId": "C",
            "billToAccountId": "B", "customerPo": "po", "stage": "Open",
            "orderDate": "2026-11-01", "dueDate": "2026-11-02", "currency": "USD",
            "salesRep": "s", "items": [line.clone()], "externalReference": "cw:order:1",
            "onHold": true, "holdReason": "h", "updatedAt": stamp});
        let new_order = json!({"externalReference": "cw:order:1", "accountId": "A",
            "contactId": "C", "billToAccountId": "B", "customerPo": "po", "stage": "Open",
            "orderDate": "2026-11-01", "dueDate": "2026-11-02", "currency": "USD",
            "salesRep": "s", "items": [line.clone()], "onHold": true, "holdReason": "h"});
        let project = json!({"id": "PR", "number": "1", "name": "n", "kind": "ChangeOrder",
            "parentProjectId": "PP", "status": "Won", "ownerEmail": "e", "ownerIdentifier": "i",
            "accountId": "A", "primaryContactId": "C", "siteId": "S", "closeDate": "2026-12-01",
            "items": [line.clone()], "updatedAt": stamp});
        let template = json!({"id": "CT", "name": "n", "isDefault": true, "active": false,
            "updatedAt": stamp});
        let contract_line = json!({"itemId": "I", "quantity": 1, "amount": 2, "detail": "d"});
        let new_contract = json!({"externalReference": "cw:agreement:1", "accountId": "A",
            "templateId": "CT", "name": "n", "startDate": "2026-01-01", "endDate": "2026-12-31",
            "billable": false, "periodStart": "2026-11-01", "periodEnd": "2026-11-30",
            "lines": [contract_line.clone()], "customFields": {"Remarks": "r"}});
        let contract_update = json!({"billable": true, "periodStart": "2026-11-01",
            "periodEnd": "2026-11-30", "lines": [contract_line.clone()],
            "customFields": {"Remarks": "r"}});
        [
            (
                "DocumentItem",
                line.clone(),
                round_trip::<m::DocumentItem>(&line),
            ),
            (
                "Invoice",
                invoice.clone(),
                round_trip::<m::Invoice>(&invoice),
            ),
            (
                "Payment",
                payment.clone(),
                round_trip::<m::Payment>(&payment),
            ),
            ("Order", order.clone(), round_trip::<m::Order>(&order)),
            (
                "NewOrder",
                new_order.clone(),
                round_trip::<m::NewOrder>(&new_order),
            ),
            (
                "ContractLine",
                contract_line.clone(),
                round_trip::<m::ContractLine>(&contract_line),
            ),
            (
                "NewContract",
                new_contract.clone(),
                round_trip::<m::NewContract>(&new_contract),
            ),
            (
                "ContractUpdate",
                contract_update.clone(),
                round_trip::<m::ContractUpdate>(&contract_update),
            ),
            (
                "Project",
                project.clone(),
                round_trip::<m::Project>(&project),
            ),
            (
                "ContractTemplate",
                template.clone(),
                round_trip::<m::ContractTemplate>(&template),
            ),
        ]
    };
    for (schema, value, written) in full {
        let given: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            written, given,
            "{schema}: the model writes every property it reads"
        );
        assert_eq!(
            schemas.get(schema),
            Some(&written),
            "components.schemas.{schema} in openapi.yaml"
        );
    }
    assert!(schemas["Account"].contains("onHold"));
}
