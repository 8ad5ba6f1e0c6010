//! The billing documents through the cwsync client against the simulator over real HTTP:
//! invoices, payments (by invoice, split over requests, refunds summed), orders, projects and
//! contract templates listed incrementally with every page followed, a malformed document named
//! by its id and field while the rest are read, and the account's credit hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use cwsync_billing::models::{
    ContractLine, ContractUpdate, DocumentItem, NewContract, NewOrder, Payment, ProjectKind,
    ProjectStatus,
};
use cwsync_billing::{
    BillingClient, BillingConfig, BillingError, DocumentQuery, PaymentQuery, RecordKind,
    ReferenceQuery, RetryPolicy,
};
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, FaultKind, FaultRule, TEST_BILLING_API_KEY, generate,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use time::OffsetDateTime;

const PAYMENTS: &str = "/v1/payments";
const INVOICES: &str = "/v1/invoices";
const ORDERS: &str = "/v1/orders";

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_491_200 + secs).unwrap()
}

fn client_with(sim: &BillingSim, max_url_len: usize) -> BillingClient {
    let mut config = BillingConfig::new(sim.base_url(), SecretString::from(TEST_BILLING_API_KEY));
    config.timeout = Duration::from_secs(10);
    config.max_url_len = max_url_len;
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

fn ids<T>(records: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    records.iter().map(|r| id(r).to_owned()).collect()
}

fn received(payments: &[Payment], invoice: &str) -> Decimal {
    payments
        .iter()
        .filter(|p| p.invoice_id == invoice)
        .map(|p| p.amount)
        .sum()
}

#[tokio::test]
async fn the_fixture_documents_read_with_their_items_options_and_refund() {
    let sim = fixture_sim().await;
    let client = client_with(&sim, 2000);
    let invoices = client
        .list_invoices(&DocumentQuery::default())
        .await
        .unwrap();
    assert!(invoices.malformed.is_empty());
    assert_eq!(
        ids(&invoices.records, |i| &i.id),
        ["INV-7001", "INV-7002", "INV-7003"]
    );
    assert_eq!(invoices.records[0].items.len(), 2);
    let payments = client
        .list_payments(&PaymentQuery::of_invoices(["INV-7002"]))
        .await
        .unwrap()
        .records;
    assert_eq!(payments.len(), 3);
    assert_eq!(payments.iter().filter(|p| p.is_refund()).count(), 1);
    let paid = received(&payments, "INV-7002");
    let invoice = &invoices.records[1];
    assert_eq!(invoice.total - paid, invoice.balance);
    assert_eq!(paid, Decimal::new(29000, 2));
    let projects = client
        .list_projects(&DocumentQuery::of_accounts(["A-1001"]))
        .await
        .unwrap()
        .records;
    let kinds: Vec<ProjectKind> = projects.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ProjectKind::Project,
            ProjectKind::Option,
            ProjectKind::ChangeOrder
        ]
    );
    assert!(
        projects[1..]
            .iter()
            .all(|p| p.parent_project_id.as_deref() == Some("PRJ-7301"))
    );
    assert_eq!(projects[2].status, ProjectStatus::Won);
    let orders = client.list_orders(&DocumentQuery::default()).await.unwrap();
    assert_eq!(orders.records.len(), 3);
    let templates = client
        .list_contract_templates(&ReferenceQuery::default())
        .await
        .unwrap()
        .records;
    let default: Vec<&str> = templates
        .iter()
        .filter(|t| t.is_default)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(default, ["Managed Services"]);
    let held = client.get_account("A-1005").await.unwrap();
    assert!(held.on_hold);
    assert!(!client.get_account("A-1001").await.unwrap().on_hold);
    let one = client
        .get::<cwsync_billing::models::Order>("ORD-7201")
        .await
        .unwrap();
    assert_eq!(one, orders.records[0]);
}

#[tokio::test]
async fn payments_of_many_invoices_are_split_over_requests_and_kept_to_those_invoices() {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    let accounts: Vec<String> = (0..4).map(|i| format!("A-{i}")).collect();
    let products = generate::products(3, at(0));
    let invoices = generate::invoices(&accounts, 30, &products, at(10));
    let payments = generate::payments(&invoices, 3, at(1000));
    sim.seed_invoices(invoices.clone());
    sim.seed_payments(payments);
    // A short URL limit: the 60 invoices asked for need several requests.
    let client = client_with(&sim, 300);
    let wanted: Vec<String> = invoices.iter().step_by(2).map(|i| i.id.clone()).collect();
    let query = PaymentQuery {
        invoice_ids: Some(wanted.clone()),
        page_size: Some(7),
        ..PaymentQuery::default()
    };
    let listing = client.list_payments(&query).await.unwrap();
    assert_eq!(listing.records.len(), 180);
    for invoice in invoices.iter().step_by(2) {
        assert_eq!(
            received(&listing.records, &invoice.id),
            invoice.total,
            "{}",
            invoice.id
        );
    }
    let calls = sim.calls();
    assert!(calls.count("GET", PAYMENTS) > 1, "split over requests");
    assert!(calls.longest_target <= 300, "{}", calls.longest_target);
    // With accounts too, the account filter travels and the invoices are kept here.
    let query = PaymentQuery {
        invoice_ids: Some(wanted[..2].to_vec()),
        account_ids: Some(vec!["A-0".into()]),
        ..PaymentQuery::default()
    };
    let listing = client.list_payments(&query).await.unwrap();
    assert_eq!(
        ids(&listing.records, |p| &p.invoice_id),
        [
            "INV-000000",
            "INV-000000",
            "INV-000000",
            "INV-000002",
            "INV-000002",
            "INV-000002"
        ]
    );
    // No invoice: nothing, and no request.
    let before = sim.calls().total;
    let none = client
        .list_payments(&PaymentQuery::of_invoices(Vec::<String>::new()))
        .await
        .unwrap();
    assert!(none.records.is_empty());
    assert_eq!(sim.calls().total, before);
}

#[tokio::test]
async fn an_invoice_id_holding_a_comma_is_read_without_the_filter_and_kept_by_invoice() {
    let sim = fixture_sim().await;
    let client = client_with(&sim, 2000);
    let mut refund = client
        .list_payments(&PaymentQuery::of_invoices(["INV-7002"]))
        .await
        .unwrap()
        .records
        .pop()
        .unwrap();
    refund.id = "PAY-9".into();
    refund.invoice_id = "INV,1".into();
    sim.seed_payments(vec![refund]);
    let listing = client
        .list_payments(&PaymentQuery::of_invoices(["INV,1", "INV-7001"]))
        .await
        .unwrap();
    // In (updatedAt, id) order: the copied refund keeps its 7 November stamp.
    assert_eq!(ids(&listing.records, |p| &p.id), ["PAY-9", "PAY-7104"]);
}

#[tokio::test]
async fn a_malformed_invoice_is_named_by_id_and_field_and_the_others_are_read_incrementally() {
    let sim = fixture_sim().await;
    sim.corrupt(
        RecordKind::Invoice,
        "INV-7002",
        "total",
        serde_json::json!("a lot"),
    );
    let client = client_with(&sim, 2000);
    let listing = client
        .list_invoices(&DocumentQuery::default())
        .await
        .unwrap();
    assert_eq!(ids(&listing.records, |i| &i.id), ["INV-7001", "INV-7003"]);
    assert_eq!(listing.malformed.len(), 1);
    let bad = &listing.malformed[0];
    assert_eq!(bad.id.as_deref(), Some("INV-7002"));
    assert_eq!(bad.field.as_deref(), Some("total"));
    assert!(
        bad.to_string()
            .starts_with("invoice INV-7002 is not a valid invoice: total")
    );
    // A later change comes again on the incremental read, and nothing older does.
    sim.set_clock(at(86_400 * 40));
    assert!(sim.modify_invoice("INV-7001", |i| i.status = "Paid".into()));
    let since = DocumentQuery::changed_since(at(86_400 * 40));
    let changed = client.list_invoices(&since).await.unwrap();
    assert_eq!(ids(&changed.records, |i| &i.id), ["INV-7001"]);
    assert_eq!(changed.records[0].status, "Paid");
    assert!(sim.calls().count("GET", INVOICES) >= 2);
}

/// The billing order of ConnectWise sales order `number`: a toner and a placeholder on hold.
fn new_order(number: u32) -> NewOrder {
    let line = |item: &str, quantity: i64, price: i64| DocumentItem {
        id: None,
        item_id: item.into(),
        sku: None,
        description: None,
        quantity: Decimal::from(quantity),
        price: Decimal::from(price),
        cost: None,
        taxable: false,
        billable_option: None,
    };
    NewOrder {
        external_reference: format!("cw:order:{number}"),
        account_id: "A-1003".into(),
        contact_id: Some("C-3005".into()),
        bill_to_account_id: None,
        customer_po: Some("PO-1".into()),
        stage: "Open".into(),
        order_date: time::macros::date!(2026 - 11 - 05),
        due_date: None,
        currency: Some("USD".into()),
        sales_rep: Some("jdoe@example.com".into()),
        items: vec![line("I-TONER-BK", 2, 89), line("I-TPL-HARDWARE", 1, 310)],
        on_hold: true,
        hold_reason: Some("product FUSER-X is not in the item list".into()),
    }
}

#[tokio::test]
async fn an_order_whose_answer_is_lost_is_made_once_and_found_by_its_reference() {
    let sim = fixture_sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("POST", ORDERS)
            .nth(1)
            .after_processing(),
    );
    let client = client_with(&sim, 2000);
    let made = client.create_order(&new_order(88)).await.unwrap();
    assert!(
        !made.created,
        "the retry found the order the first try made"
    );
    assert!(made.record.on_hold);
    assert_eq!(made.record.items.len(), 2);
    assert_eq!(sim.calls().count("POST", ORDERS), 2);
    let again = client.create_order(&new_order(88)).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.record, made.record);
    let found = client.find_order("cw:order:88").await.unwrap();
    assert_eq!(found.as_ref(), Some(&made.record));
    assert_eq!(client.find_order("cw:order:89").await.unwrap(), None);
    let fresh = client.create_order(&new_order(90)).await.unwrap();
    assert!(fresh.created);
    assert_ne!(fresh.record.id, made.record.id);
    let orders = client.list_orders(&DocumentQuery::default()).await.unwrap();
    assert_eq!(orders.records.len(), 5);
}

#[tokio::test]
async fn an_invalid_order_is_refused_naming_its_fields() {
    let sim = fixture_sim().await;
    let client = client_with(&sim, 2000);
    let mut order = new_order(91);
    order.items[1].item_id = "I-NOPE".into();
    order.hold_reason = None;
    match client.create_order(&order).await {
        Err(BillingError::Invalid { fields, .. }) => {
            let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(names, ["items[1].itemId", "holdReason"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.find_order("cw:order:91").await.unwrap(), None);
}

fn new_contract(agreement: u32) -> NewContract {
    NewContract {
        external_reference: format!("cw:agreement:{agreement}"),
        account_id: "A-1003".into(),
        template_id: "CT-01".into(),
        name: Some("Managed Services".into()),
        start_date: None,
        end_date: None,
        billable: false,
        period_start: Some(time::macros::date!(2026 - 11 - 01)),
        period_end: Some(time::macros::date!(2026 - 11 - 30)),
        lines: vec![ContractLine {
            item_id: "I-LABOR-ONSITE".into(),
            quantity: Decimal::ONE,
            amount: Decimal::new(43500, 2),
            detail: Some("3 x Onsite labor".into()),
        }],
        custom_fields: [("CW Invoice Number".to_owned(), "INV-42".to_owned())].into(),
    }
}

#[tokio::test]
async fn a_contract_is_made_once_and_updated_under_its_version() {
    let sim = fixture_sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("POST", "/v1/contracts")
            .nth(1)
            .after_processing(),
    );
    let client = client_with(&sim, 2000);
    let made = client.create_contract(&new_contract(42)).await.unwrap();
    assert!(
        !made.created,
        "the retry found the contract the first try made"
    );
    let contract = made.record;
    assert!(!contract.billable);
    assert_eq!(contract.version, 1);
    assert_eq!(sim.contracts().len(), 5);
    let update = ContractUpdate {
        billable: true,
        period_start: contract.period_start,
        period_end: contract.period_end,
        lines: contract.lines.clone(),
        custom_fields: Default::default(),
    };
    let updated = client
        .update_contract(&contract.id, 1, &update)
        .await
        .unwrap();
    assert!(updated.billable);
    assert_eq!(updated.version, 2);
    assert_eq!(updated.custom_fields["CW Invoice Number"], "INV-42");
    match client.update_contract(&contract.id, 1, &update).await {
        Err(BillingError::VersionConflict { .. }) => {}
        other => panic!("{other:?}"),
    }
    let found = client.find_contract("cw:agreement:42").await.unwrap();
    assert_eq!(found, Some(updated));
    assert_eq!(client.find_contract("cw:agreement:1").await.unwrap(), None);
}

#[tokio::test]
async fn knobs_apply_to_the_document_routes_and_a_throttled_listing_is_retried() {
    let sim = fixture_sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Throttle {
            retry_after_secs: 0,
        })
        .on("GET", PAYMENTS)
        .nth(1),
    );
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("GET", "/v1/projects/{id}")
            .nth(1),
    );
    let client = client_with(&sim, 2000);
    let payments = client
        .list_payments(&PaymentQuery::of_invoices(["INV-7002"]))
        .await
        .unwrap();
    assert_eq!(payments.records.len(), 3);
    assert_eq!(sim.calls().count("GET", PAYMENTS), 2, "one 429, one retry");
    assert_eq!(client.stats().throttled, 1);
    let project = client
        .get::<cwsync_billing::models::Project>("PRJ-7301")
        .await
        .unwrap();
    assert_eq!(project.items.len(), 2);
    assert_eq!(sim.calls().count("GET", "/v1/projects/{id}"), 2);
}
