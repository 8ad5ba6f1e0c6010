//! Billing documents → ConnectWise, end to end: invoices with their items become ConnectWise
//! invoices with products, once; an unchanged re-run sends no job and writes nothing; a change
//! is one write; a posted invoice is never changed; replays and dry runs write nothing twice.

use cwsync_billing_sim::{fixture_invoices, fixture_items};
use serde_json::{Value, json};

use crate::support::World;

/// The SKUs of the fixture invoices' items, as ConnectWise catalog items.
const SKUS: [&str; 4] = [
    "TONER-DXC5850-BK",
    "DRUM-DXC5850",
    "LABOR-ONSITE",
    "M365-BP",
];

/// A world with the fixture invoices and items in billing, their catalog items in ConnectWise
/// and invoices exported.
async fn invoices_world() -> World {
    let world = World::start().await;
    world.billing.seed_items(fixture_items());
    world.billing.seed_invoices(fixture_invoices());
    for sku in SKUS {
        catalog_item(&world, sku);
    }
    world
        .put_settings(json!({"export": {"invoices": true}}))
        .await;
    world
}

/// A ConnectWise catalog item for `sku`, unless there is one.
fn catalog_item(world: &World, sku: &str) {
    let existing = world
        .records("/procurement/catalog")
        .iter()
        .any(|c| c["identifier"] == json!(sku));
    if !existing {
        world
            .cw
            .create(
                "/procurement/catalog",
                json!({"identifier": sku, "description": sku, "customerDescription": sku,
                       "subcategory": {"id": 1}, "type": {"name": "Inventory"}, "price": 1}),
            )
            .unwrap();
    }
}

fn invoice_by_number(world: &World, number: &str) -> Value {
    world
        .records("/finance/invoices")
        .into_iter()
        .find(|i| i["invoiceNumber"] == json!(number))
        .unwrap_or_else(|| panic!("no ConnectWise invoice {number}"))
}

fn products_of(world: &World, invoice: i64) -> Vec<Value> {
    world
        .records("/procurement/products")
        .into_iter()
        .filter(|p| p["invoice"]["id"] == json!(invoice))
        .collect()
}

#[tokio::test]
async fn invoices_become_connectwise_invoices_with_products_once() {
    let world = invoices_world().await;
    let (planned, report) = world.documents("invoices", json!({})).await;
    assert_eq!(planned["listed"], 3, "{planned}");
    assert_eq!(planned["toSync"], 3, "{planned}");
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.count("invoice", "created"), 3, "{}", report.0);

    let first = invoice_by_number(&world, "100231");
    assert_eq!(first["type"], "Standard");
    let products = products_of(&world, first["id"].as_i64().unwrap());
    assert_eq!(products.len(), 2, "{products:?}");
    let mut quantities: Vec<f64> = products
        .iter()
        .map(|p| p["quantity"].as_f64().unwrap())
        .collect();
    quantities.sort_by(f64::total_cmp);
    assert_eq!(quantities, [1.0, 2.0]);
    // Ordinary names: the credit memo's type, an item found by its billing item's SKU.
    let credit = invoice_by_number(&world, "100233");
    assert_eq!(credit["type"], "CreditMemo");
    let labor = invoice_by_number(&world, "100232");
    assert_eq!(products_of(&world, labor["id"].as_i64().unwrap()).len(), 1);

    // Unchanged: no job, no write.
    let writes = world.cw_writes();
    let (planned, report) = world.documents("invoices", json!({})).await;
    assert_eq!(planned["toSync"], 0, "{planned}");
    assert_eq!(planned["unchanged"], 3, "{planned}");
    assert_eq!(report.status(), "succeeded");
    assert_eq!(
        world.cw_writes(),
        writes,
        "an unchanged re-run writes nothing"
    );
    assert_eq!(world.records("/finance/invoices").len(), 3);

    // One item's quantity changes: one product write, nothing else.
    world.billing.modify_invoice("INV-7001", |i| {
        i.items[0].quantity = 3.into();
    });
    let (planned, report) = world.documents("invoices", json!({})).await;
    assert_eq!(planned["toSync"], 1, "{planned}");
    assert_eq!(
        report.outcome("invoice", "INV-7001"),
        "updated",
        "{}",
        report.0
    );
    assert!(
        report.detail("invoice", "INV-7001").contains("1 changed"),
        "{}",
        report.0
    );
    assert_eq!(world.cw_writes(), writes + 1);
    let products = products_of(&world, first["id"].as_i64().unwrap());
    assert_eq!(products.len(), 2);
    assert!(
        products.iter().any(|p| p["quantity"].as_f64() == Some(3.0)),
        "{products:?}"
    );
}

#[tokio::test]
async fn a_posted_invoice_is_never_changed_and_the_difference_is_reported() {
    let world = invoices_world().await;
    world.documents("invoices", json!({})).await;
    let invoice = invoice_by_number(&world, "100231");
    let id = invoice["id"].as_i64().unwrap();
    // Posted to accounting, as the accounting export does.
    let posted = world.cw.seed(
        "/finance/invoices",
        vec![{
            let mut posted = invoice.clone();
            posted["glBatch"] = json!({"id": 5, "identifier": "GL-5"});
            posted
        }],
    );
    assert!(posted.is_ok(), "{posted:?}");
    world.billing.modify_invoice("INV-7001", |i| {
        i.due_date = Some(time::macros::date!(2027 - 01 - 31));
    });
    let writes = world.cw_writes();
    let (_, report) = world.documents("invoices", json!({})).await;
    assert_eq!(
        report.outcome("invoice", "INV-7001"),
        "failed",
        "{}",
        report.0
    );
    let detail = report.detail("invoice", "INV-7001");
    assert!(
        detail.contains("posted") && detail.contains("dueDate"),
        "{detail}"
    );
    assert_eq!(
        world.cw_writes(),
        writes,
        "a posted invoice is never written"
    );
    assert_eq!(
        invoice_by_number(&world, "100231")["dueDate"],
        invoice["dueDate"]
    );
    assert_eq!(report.status(), "partially_failed");
    let errors = world
        .ok(json!({"action": "errors", "tenant": crate::support::TENANT}))
        .await;
    assert!(errors.to_string().contains("INV-7001"), "{errors}");
    let _ = id;
}

#[tokio::test]
async fn an_existing_invoice_is_matched_by_number_and_a_replay_creates_nothing_twice() {
    let world = invoices_world().await;
    // Someone keyed invoice 100232 into ConnectWise by hand, for the same company.
    let company = world
        .export
        .deps
        .stores
        .links
        .get(
            &cwsync_store::TenantId::parse(crate::support::TENANT).unwrap(),
            cwsync_store::links::SourceRef::new("company", "A-1003"),
        )
        .await
        .unwrap()
        .and_then(|l| l.cw_id)
        .expect("the customer sync linked A-1003");
    world
        .cw
        .create(
            "/finance/invoices",
            json!({"type": "Standard", "company": {"id": company}, "invoiceNumber": "100232"}),
        )
        .unwrap();
    let planned = world
        .ok(
            json!({"action": "export-documents", "tenant": crate::support::TENANT,
                   "document": "invoices"}),
        )
        .await;
    // Every page job delivered twice, as SQS may.
    world.deliver_twice().await;
    let report = world
        .documents_report("invoices", planned["runId"].as_str().unwrap())
        .await;
    assert_eq!(
        report.outcome("invoice", "INV-7002"),
        "updated",
        "{}",
        report.0
    );
    assert!(
        report
            .detail("invoice", "INV-7002")
            .contains("matched by invoiceNumber"),
        "{}",
        report.0
    );
    assert_eq!(
        world.records("/finance/invoices").len(),
        3,
        "never two invoices"
    );
    let labor = invoice_by_number(&world, "100232");
    assert_eq!(
        products_of(&world, labor["id"].as_i64().unwrap()).len(),
        1,
        "never two products"
    );
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_an_unlinked_account_waits_for_its_company() {
    let world = invoices_world().await;
    let writes = world.cw_writes();
    let (planned, report) = world.documents("invoices", json!({"dryRun": true})).await;
    assert_eq!(planned["dryRun"], true);
    assert_eq!(report.count("invoice", "created"), 3, "{}", report.0);
    assert!(
        report
            .detail("invoice", "INV-7001")
            .contains("would create"),
        "{}",
        report.0
    );
    assert_eq!(world.cw_writes(), writes);
    assert!(world.records("/finance/invoices").is_empty());

    // An invoice of an account the customer sync has not linked fails naming the account, and
    // the others go on.
    world
        .billing
        .modify_invoice("INV-7003", |i| i.account_id = "A-9999".to_owned());
    let (_, report) = world.documents("invoices", json!({})).await;
    assert_eq!(
        report.outcome("invoice", "INV-7003"),
        "failed",
        "{}",
        report.0
    );
    assert!(
        report.detail("invoice", "INV-7003").contains("A-9999"),
        "{}",
        report.0
    );
    assert_eq!(report.count("invoice", "created"), 2, "{}", report.0);
}

#[tokio::test]
async fn invoices_off_is_a_skipped_run_that_writes_nothing() {
    let world = invoices_world().await;
    world
        .put_settings(json!({"export": {"invoices": false, "payments": false}}))
        .await;
    let (planned, report) = world.documents("invoices", json!({})).await;
    assert_eq!(planned["pages"], 0);
    assert_eq!(
        report.outcome("document-plan", "invoices"),
        "skipped",
        "{}",
        report.0
    );
    assert!(
        report
            .detail("document-plan", "invoices")
            .contains("export.invoices"),
        "{}",
        report.0
    );
    assert!(world.records("/finance/invoices").is_empty());
}

fn payment_of(world: &World, number: &str) -> Vec<Value> {
    let invoice = invoice_by_number(world, number);
    world.records(&format!("/finance/invoices/{}/payments", invoice["id"]))
}

#[tokio::test]
async fn payments_follow_their_invoices_summed_into_one_payment_per_invoice() {
    let world = invoices_world().await;
    world
        .billing
        .seed_payments(cwsync_billing_sim::fixture_payments());
    world
        .put_settings(json!({"export": {"payments": true}}))
        .await;
    // The invoices run; its follow-up, the payments run, is delivered with it.
    world.documents("invoices", json!({})).await;
    let payments = world
        .ok(
            json!({"action": "documents-report", "tenant": crate::support::TENANT,
                   "document": "payments"}),
        )
        .await;
    assert_eq!(payments["run"]["status"], "succeeded", "{payments}");
    // INV-7002: 200 + 110 − 20 refunded = one payment of 290.
    let paid = payment_of(&world, "100232");
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert_eq!(paid[0]["amount"].as_f64(), Some(290.0));
    assert_eq!(
        payment_of(&world, "100231")[0]["amount"].as_f64(),
        Some(100.0)
    );
    assert!(
        payment_of(&world, "100233").is_empty(),
        "no payments, no payment"
    );

    // Unchanged: no job, no write.
    let writes = world.cw_writes();
    let (planned, _) = world.documents("payments", json!({})).await;
    assert_eq!(planned["toSync"], 0, "{planned}");
    assert_eq!(world.cw_writes(), writes);

    // Another payment arrives: the one payment changes, none is added.
    world
        .billing
        .seed_payments(vec![cwsync_billing::models::Payment {
            id: "PAY-7105".to_owned(),
            account_id: "A-1001".to_owned(),
            invoice_id: "INV-7001".to_owned(),
            payment_type: "ACH".to_owned(),
            amount: 50.into(),
            payment_date: time::macros::date!(2026 - 11 - 20),
            reference: None,
            updated_at: time::macros::datetime!(2026-11-20 10:00 UTC),
        }]);
    let (_, report) = world.documents("payments", json!({})).await;
    assert_eq!(
        report.outcome("invoice-payment", "INV-7001"),
        "updated",
        "{}",
        report.0
    );
    let paid = payment_of(&world, "100231");
    assert_eq!(paid.len(), 1, "never two payments: {paid:?}");
    assert_eq!(paid[0]["amount"].as_f64(), Some(150.0));

    // All of it refunded: the payment goes.
    world
        .billing
        .seed_payments(vec![cwsync_billing::models::Payment {
            id: "PAY-7106".to_owned(),
            account_id: "A-1001".to_owned(),
            invoice_id: "INV-7001".to_owned(),
            payment_type: "ACH".to_owned(),
            amount: (-150).into(),
            payment_date: time::macros::date!(2026 - 11 - 21),
            reference: Some("refund".to_owned()),
            updated_at: time::macros::datetime!(2026-11-21 10:00 UTC),
        }]);
    let (_, report) = world.documents("payments", json!({})).await;
    assert!(
        report
            .detail("invoice-payment", "INV-7001")
            .contains("removed"),
        "{}",
        report.0
    );
    assert!(payment_of(&world, "100231").is_empty());
}

/// The members orders name, as ConnectWise holds them.
pub(crate) fn seed_members(world: &World) {
    for (identifier, email) in [
        ("jdoe", "jdoe@example.com"),
        ("srivera", "srivera@example.com"),
    ] {
        let known = world.records("/system/members");
        if known.iter().any(|m| m["identifier"] == json!(identifier)) {
            continue;
        }
        world
            .cw
            .create(
                "/system/members",
                json!({"identifier": identifier, "firstName": identifier, "lastName": "Rep",
                       "primaryEmail": email, "officeEmail": email, "defaultEmail": "Office",
                       "defaultPhone": "Office", "hireDate": "2024-03-01T00:00:00Z",
                       "licenseClass": "F", "securityRole": {"id": 2}, "inactiveFlag": false}),
            )
            .unwrap();
    }
}

fn order_by_number(world: &World, number: &str) -> Value {
    world
        .records("/sales/orders")
        .into_iter()
        .find(|o| o["description"] == json!(number))
        .unwrap_or_else(|| panic!("no ConnectWise sales order {number}"))
}

fn status_id(world: &World, name: &str) -> Value {
    world
        .records("/sales/orders/statuses")
        .into_iter()
        .find(|s| s["name"] == json!(name))
        .map(|s| s["id"].clone())
        .unwrap_or_else(|| panic!("no order status {name}"))
}

#[tokio::test]
async fn orders_become_sales_orders_with_their_status_rep_contact_and_products() {
    let world = invoices_world().await;
    seed_members(&world);
    world
        .billing
        .seed_orders(cwsync_billing_sim::fixture_orders());
    catalog_item(&world, "CANON-DXC5850I-LSE");
    world
        .put_settings(json!({"export": {"orders": true}, "documents": {"orders": {
            "statuses": {"Open": "New", "Closed": "Shipped"}, "salesRep": "jdoe"}}}))
        .await;
    let (planned, report) = world.documents("orders", json!({})).await;
    assert_eq!(planned["toSync"], 3, "{planned}");
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.count("sales-order", "created"), 3, "{}", report.0);
    let first = order_by_number(&world, "SO-5501");
    assert_eq!(first["status"]["id"], status_id(&world, "New"));
    assert_eq!(first["poNumber"], "PO-88123");
    assert!(
        first["contact"]["id"].is_i64(),
        "the contact's link: {first}"
    );
    let reps: Vec<Value> = world.records("/system/members");
    let rep_of = |id: &Value| {
        reps.iter()
            .find(|m| &m["id"] == id)
            .map(|m| m["identifier"].clone())
            .unwrap()
    };
    assert_eq!(rep_of(&first["salesRep"]["id"]), "jdoe");
    let shipped = order_by_number(&world, "SO-5502");
    assert_eq!(
        shipped["status"]["id"],
        status_id(&world, "Shipped"),
        "same-named status"
    );
    assert_eq!(rep_of(&shipped["salesRep"]["id"]), "srivera");
    // No rep on the order: the tenant's.
    assert_eq!(
        rep_of(&order_by_number(&world, "SO-5503")["salesRep"]["id"]),
        "jdoe"
    );
    let products: Vec<Value> = world
        .records("/procurement/products")
        .into_iter()
        .filter(|p| p["salesOrder"]["id"] == first["id"])
        .collect();
    assert_eq!(products.len(), 2, "{products:?}");

    // Unchanged: nothing sent, nothing written.
    let writes = world.cw_writes();
    let (planned, _) = world.documents("orders", json!({})).await;
    assert_eq!(planned["toSync"], 0, "{planned}");
    assert_eq!(world.cw_writes(), writes);

    // The stage moves: one write, the status.
    world
        .billing
        .modify_order("ORD-7201", |o| o.stage = "Closed".to_owned());
    let (_, report) = world.documents("orders", json!({})).await;
    assert_eq!(
        report.outcome("sales-order", "ORD-7201"),
        "updated",
        "{}",
        report.0
    );
    assert_eq!(world.cw_writes(), writes + 1);
    assert_eq!(
        order_by_number(&world, "SO-5501")["status"]["id"],
        status_id(&world, "Shipped")
    );

    // A stage nothing maps fails naming it; the order syncs once mapped.
    world
        .billing
        .modify_order("ORD-7202", |o| o.stage = "Backordered".to_owned());
    let (_, report) = world.documents("orders", json!({})).await;
    assert_eq!(
        report.outcome("sales-order", "ORD-7202"),
        "failed",
        "{}",
        report.0
    );
    assert!(
        report
            .detail("sales-order", "ORD-7202")
            .contains("Backordered"),
        "{}",
        report.0
    );
    world
        .put_settings(json!({"documents": {"orders": {"statuses": {"Backordered": "New"}}}}))
        .await;
    let (_, report) = world.documents("orders", json!({})).await;
    assert_eq!(
        report.outcome("sales-order", "ORD-7202"),
        "updated",
        "{}",
        report.0
    );
    assert_eq!(
        world.records("/sales/orders").len(),
        3,
        "never a second order"
    );
}

#[tokio::test]
async fn the_days_export_starts_the_document_runs_and_its_log_shows_them() {
    let world = invoices_world().await;
    world
        .billing
        .seed_payments(cwsync_billing_sim::fixture_payments());
    world
        .put_settings(json!({"export": {"payments": true}}))
        .await;
    let (planned, report) = world.export_now(json!({"documents": true})).await;
    let runs = planned["documentRuns"].as_array().unwrap();
    // Invoices start with the day; payments follow the invoices; orders are off.
    assert_eq!(runs.len(), 1, "{planned}");
    assert_eq!(runs[0]["document"], "invoices");
    let documents = &report.0["documents"];
    assert_eq!(
        documents["invoices"]["latestRun"]["status"], "succeeded",
        "{documents}"
    );
    assert_eq!(
        documents["invoices"]["latestRun"]["runId"],
        runs[0]["runId"]
    );
    assert_eq!(
        documents["payments"]["latestRun"]["status"], "succeeded",
        "{documents}"
    );
    assert!(
        documents["orders"]["off"]
            .as_str()
            .unwrap()
            .contains("export.orders"),
        "{documents}"
    );
    assert_eq!(world.records("/finance/invoices").len(), 3);
    assert_eq!(payment_of(&world, "100232").len(), 1);
}

#[tokio::test]
async fn lost_answers_and_a_worker_cut_off_mid_document_leave_no_duplicate() {
    use cwsync_connectwise_sim::{FaultKind, FaultRule};
    let world = invoices_world().await;
    world
        .billing
        .seed_orders(cwsync_billing_sim::fixture_orders());
    world
        .billing
        .seed_payments(cwsync_billing_sim::fixture_payments());
    seed_members(&world);
    world
        .put_settings(json!({"export": {"orders": true, "payments": true},
                             "documents": {"orders": {"statuses": {"Open": "New",
                             "Closed": "Shipped"}, "salesRep": "jdoe"}}}))
        .await;
    // ConnectWise applies the first invoice, the second product and the first payment and
    // order, then the connection drops before each answer: the job is retried.
    for (path, nth) in [
        ("/finance/invoices", 1),
        ("/procurement/products", 2),
        ("/finance/invoices/{parentId}/payments", 1),
        ("/sales/orders", 1),
    ] {
        world.cw.inject(
            FaultRule::new(FaultKind::Drop)
                .on("POST", path)
                .nth(nth)
                .after_processing(),
        );
    }
    let (_, invoices) = world.documents("invoices", json!({})).await;
    let (_, orders) = world.documents("orders", json!({})).await;
    assert_eq!(invoices.status(), "succeeded", "{}", invoices.0);
    assert_ne!(orders.status(), "running", "{}", orders.0);
    assert_eq!(
        world.records("/finance/invoices").len(),
        3,
        "never two invoices"
    );
    let invoice_products = world
        .records("/procurement/products")
        .into_iter()
        .filter(|p| p["invoice"].is_object())
        .count();
    assert_eq!(invoice_products, 4, "never two products for one item");
    assert_eq!(payment_of(&world, "100232").len(), 1, "never two payments");
    assert_eq!(
        payment_of(&world, "100232")[0]["amount"].as_f64(),
        Some(290.0)
    );
    let orders_made = world.records("/sales/orders");
    let numbers: std::collections::BTreeSet<_> = orders_made
        .iter()
        .map(|o| o["description"].to_string())
        .collect();
    assert_eq!(
        numbers.len(),
        orders_made.len(),
        "never two sales orders: {orders_made:?}"
    );

    // And the next runs find everything as it is.
    let writes = world.cw_writes();
    world.documents("invoices", json!({})).await;
    world.documents("orders", json!({})).await;
    assert_eq!(world.cw_writes(), writes);
}

#[tokio::test]
async fn every_document_job_delivered_twice_writes_once() {
    let world = invoices_world().await;
    world
        .billing
        .seed_orders(cwsync_billing_sim::fixture_orders());
    world
        .billing
        .seed_payments(cwsync_billing_sim::fixture_payments());
    seed_members(&world);
    catalog_item(&world, "CANON-DXC5850I-LSE");
    world
        .put_settings(json!({"export": {"orders": true, "payments": true},
                             "documents": {"orders": {"statuses": {"Open": "New",
                             "Closed": "Shipped"}, "salesRep": "jdoe"}}}))
        .await;
    for document in ["invoices", "orders"] {
        world
            .ok(
                json!({"action": "export-documents", "tenant": crate::support::TENANT,
                       "document": document}),
            )
            .await;
        // Every job (pages, the payments' planning and its pages) delivered twice, as SQS may.
        world.deliver_twice().await;
    }
    let writes = world.cw_writes();
    assert_eq!(world.records("/finance/invoices").len(), 3);
    assert_eq!(payment_of(&world, "100232").len(), 1);
    assert_eq!(payment_of(&world, "100231").len(), 1);
    assert_eq!(world.records("/sales/orders").len(), 3);
    let products = world.records("/procurement/products").len();
    // 4 invoice products and 4 order products, once each.
    assert_eq!(products, 8);
    // And a third delivery of the same day's work writes nothing.
    world.documents("invoices", json!({})).await;
    world.documents("orders", json!({})).await;
    assert_eq!(world.cw_writes(), writes);
}
