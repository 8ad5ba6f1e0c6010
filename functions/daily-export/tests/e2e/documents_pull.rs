//! ConnectWise → billing pulls (issue 11 §2): agreement invoices → billing contracts, sales
//! orders → billing orders, over both simulators, driven by the console's `export-documents`
//! and delivered like SQS.

use cwsync_billing_sim::{fixture_accounts, fixture_contract_templates, fixture_items};
use cwsync_store::TenantId;
use cwsync_store::links::SourceRef;
use cwsync_test_support::Report;
use serde_json::{Value, json};

use crate::support::{T0, TENANT, World};

const AGREEMENT_INVOICE: &str = "agreement-invoice";
const BILLING_ORDER: &str = "billing-order";

/// The billing calls that write (every method but GET).
fn billing_writes(world: &World) -> u64 {
    world
        .billing
        .calls()
        .by_route
        .iter()
        .filter(|(route, _)| !route.starts_with("GET "))
        .map(|(_, n)| n)
        .sum()
}

/// Plans a run of `document` (`extra` merged into the event), delivers its jobs (twice each when
/// `twice`); the planning's answer and the run's report.
async fn pull(world: &World, document: &str, extra: Value, twice: bool) -> (Value, Report) {
    let mut event = json!({"action": "export-documents", "tenant": TENANT, "document": document});
    cwsync_test_support::merge(&mut event, extra);
    let planned = world.ok(event).await;
    if twice {
        world.deliver_twice().await;
    } else {
        world.deliver().await;
    }
    let report = Report(
        world
            .ok(
                json!({"action": "documents-report", "tenant": TENANT, "document": document,
                       "runId": planned["runId"]}),
            )
            .await,
    );
    assert!(
        matches!(report.status(), "succeeded" | "partially_failed"),
        "{}",
        report.0
    );
    (planned, report)
}

/// An agreement invoice of company `company` for agreement `agreement` of `kind`, dated `date`.
fn agreement_invoice(
    id: i64,
    company: i64,
    agreement: i64,
    kind: &str,
    date: &str,
    updated: &str,
) -> Value {
    json!({
        "id": id, "invoiceNumber": format!("AGR-{id}"), "type": "Agreement",
        "status": {"id": 2, "name": "Sent"},
        "company": {"id": company}, "billToCompany": {"id": company},
        "agreement": {"id": agreement, "name": format!("Agreement {agreement}"), "type": kind},
        "date": format!("{date}T00:00:00Z"),
        "_info": {"lastUpdated": updated}
    })
}

/// Seeds `records` at `path` in the ConnectWise simulator.
fn seed(world: &World, path: &str, records: Vec<Value>) -> Vec<i64> {
    world.cw.seed(path, records).unwrap()
}

/// A product of invoice `invoice`: `quantity` × catalog item `identifier` at `price`.
fn invoice_product(id: i64, invoice: i64, identifier: &str, quantity: i64, price: i64) -> Value {
    product(id, "invoice", invoice, identifier, quantity, price)
}

/// A product of sales order `order`.
fn order_product(id: i64, order: i64, identifier: &str, quantity: i64, price: i64) -> Value {
    product(id, "salesOrder", order, identifier, quantity, price)
}

/// A product of the document `parent` (its `field`).
fn product(
    id: i64,
    field: &str,
    parent: i64,
    identifier: &str,
    quantity: i64,
    price: i64,
) -> Value {
    json!({
        "id": id, field: {"id": parent}, "sequenceNumber": id,
        "catalogItem": {"id": 800 + id, "identifier": identifier},
        "description": format!("{identifier} ({id})"),
        "quantity": quantity, "price": price, "extPrice": quantity * price,
        "billableOption": "Billable"
    })
}

/// The contract made for agreement `agreement`.
fn contract_of(world: &World, agreement: i64) -> cwsync_billing::models::Contract {
    let reference = format!("cw:agreement:{agreement}");
    world
        .billing
        .contracts()
        .into_iter()
        .find(|c| c.external_reference.as_deref() == Some(reference.as_str()))
        .unwrap_or_else(|| panic!("no contract of {reference}"))
}

async fn agreement_world() -> (World, i64) {
    let world = World::start().await;
    world.billing.seed_items(fixture_items());
    world
        .billing
        .seed_contract_templates(fixture_contract_templates());
    world.cw.set_clock(T0);
    world
        .put_settings(json!({"documents": {"agreementInvoices": {
            "statuses": ["Sent"],
            "agreementTypes": ["Managed Services", "Co-Managed"],
            "defaultTemplate": "Licensing",
            "invoiceNumberField": "CW Invoice Number"
        }}}))
        .await;
    let company = world.company_of("A-1001").await;
    (world, company)
}

#[tokio::test]
async fn agreement_invoices_make_their_contracts_both_of_one_date_and_an_unchanged_rerun_writes_nothing()
 {
    let (world, company) = agreement_world().await;
    let at = "2026-11-20T08:00:00Z";
    seed(
        &world,
        "/finance/invoices",
        vec![
            agreement_invoice(5001, company, 77, "Managed Services", "2026-11-01", at),
            // A second invoice of agreement 77 on the same date: both are applied. Updated
            // before the others: out of the next runs' window (its product change is not).
            agreement_invoice(
                5002,
                company,
                77,
                "Managed Services",
                "2026-11-01",
                "2026-11-20T06:00:00Z",
            ),
            // No template is named Co-Managed: the tenant's default (Licensing).
            agreement_invoice(5003, company, 78, "Co-Managed", "2026-11-01", at),
            // An agreement type the tenant does not pull.
            agreement_invoice(5004, company, 79, "Block Time", "2026-11-01", at),
        ],
    );
    seed(
        &world,
        "/procurement/products",
        vec![
            invoice_product(1, 5001, "M365-BP", 3, 20),
            invoice_product(2, 5001, "m365-bp", 2, 20),
            invoice_product(3, 5001, "LABOR-ONSITE", 1, 100),
            invoice_product(4, 5002, "TONER-DXC5850-BK", 1, 50),
            invoice_product(5, 5003, "M365-BP", 4, 20),
            invoice_product(6, 5004, "M365-BP", 1, 20),
        ],
    );

    let (planned, report) = pull(&world, "agreement-invoices", json!({}), false).await;
    assert_eq!(planned["listed"], 3, "{planned}");
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.outcome(AGREEMENT_INVOICE, "5001"), "created");
    assert_eq!(report.outcome(AGREEMENT_INVOICE, "5002"), "created");
    let detail = report.detail(AGREEMENT_INVOICE, "5001");
    assert!(
        detail.contains("template Managed Services (named like the agreement type)")
            && detail.contains("AGR-5001, AGR-5002"),
        "{detail}"
    );
    let detail = report.detail(AGREEMENT_INVOICE, "5003");
    assert!(detail.contains("default template Licensing"), "{detail}");

    let contract = contract_of(&world, 77);
    assert_eq!(contract.account_id, "A-1001");
    assert_eq!(contract.template_id.as_deref(), Some("CT-01"));
    assert!(contract.billable, "billable again once updated");
    assert_eq!(
        contract
            .custom_fields
            .get("CW Invoice Number")
            .map(String::as_str),
        Some("AGR-5001, AGR-5002")
    );
    let lines: Vec<(String, String, String)> = contract
        .lines
        .iter()
        .map(|l| {
            (
                l.item_id.clone(),
                l.quantity.normalize().to_string(),
                l.amount.normalize().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            // Two products of one item: rolled up, quantity 1, the amounts summed.
            ("I-M365-BP".into(), "1".into(), "100".into()),
            ("I-LABOR-ONSITE".into(), "1".into(), "100".into()),
            // The same date's second invoice, applied with the first.
            ("I-TONER-BK".into(), "1".into(), "50".into()),
        ]
    );
    let rolled = contract.lines[0].detail.as_deref().unwrap();
    assert!(
        rolled.contains("AGR-5001: 3 x") && rolled.contains("AGR-5001: 2 x"),
        "{rolled}"
    );
    assert_eq!(
        contract_of(&world, 78).template_id.as_deref(),
        Some("CT-02")
    );
    // Agreement 79's type is not pulled: no contract.
    assert!(
        world
            .billing
            .contracts()
            .iter()
            .all(|c| c.external_reference.as_deref() != Some("cw:agreement:79"))
    );
    // The ticket import finds the contract through the agreement link.
    let tenant = TenantId::parse(TENANT).unwrap();
    let link = world
        .export
        .deps
        .stores
        .links
        .get(&tenant, SourceRef::new("contract", &contract.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (link.cw_kind.as_str(), link.cw_id),
        ("contract-agreement", Some(77))
    );

    // Unchanged: listed again (the overlap), no page job, nothing written.
    let (billing_before, cw_before) = (billing_writes(&world), world.cw_writes());
    let (planned, _) = pull(&world, "agreement-invoices", json!({}), false).await;
    assert_eq!(
        (planned["pages"].as_u64(), planned["toSync"].as_u64()),
        (Some(0), Some(0)),
        "{planned}"
    );
    assert_eq!(billing_writes(&world), billing_before);
    assert_eq!(world.cw_writes(), cw_before);

    // A changed product of an invoice (which does not move the invoice's `lastUpdated`)
    // updates the contract: billable cleared, then the new lines with billable set again (two
    // versions), delivered twice (the replay changes nothing).
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    seed(
        &world,
        "/procurement/products",
        vec![invoice_product(4, 5002, "TONER-DXC5850-BK", 2, 50)],
    );
    let version = contract_of(&world, 77).version;

    // A dry run says what it would do and writes nothing.
    let billing_before = billing_writes(&world);
    let (planned, report) =
        pull(&world, "agreement-invoices", json!({"dryRun": true}), false).await;
    assert_eq!(planned["dryRun"], true);
    assert!(
        report
            .detail(AGREEMENT_INVOICE, "5002")
            .contains("would update"),
        "{}",
        report.0
    );
    assert_eq!(billing_writes(&world), billing_before);
    assert_eq!(contract_of(&world, 77).version, version);

    let (planned, report) = pull(&world, "agreement-invoices", json!({}), true).await;
    assert_eq!(planned["toSync"], 1, "{planned}");
    assert_eq!(
        report.outcome(AGREEMENT_INVOICE, "5002"),
        "updated",
        "{}",
        report.0
    );
    let contract = contract_of(&world, 77);
    assert_eq!(
        contract.version,
        version + 2,
        "cleared, then updated; the replay wrote nothing"
    );
    assert!(contract.billable);
    assert_eq!(contract.lines[2].amount.normalize().to_string(), "100");

    // The update's answer is lost (the billing system applied it, the client heard a 503): the
    // retry finds the contract updated, and nothing is written twice.
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    seed(
        &world,
        "/procurement/products",
        vec![invoice_product(4, 5002, "TONER-DXC5850-BK", 3, 50)],
    );
    world.billing.inject(
        cwsync_billing_sim::FaultRule::new(cwsync_billing_sim::FaultKind::Status(503))
            .on("PUT", "/v1/contracts/{id}")
            .nth(2)
            .after_processing(),
    );
    let version = contract_of(&world, 77).version;
    let puts = || world.billing.calls().count("PUT", "/v1/contracts/{id}");
    let puts_before = puts();
    let (_, report) = pull(&world, "agreement-invoices", json!({}), false).await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    // Cleared, updated (answer lost), the client's retry refused as stale (412): read again,
    // nothing left to write.
    assert_eq!(puts() - puts_before, 3, "{}", report.0);
    let contract = contract_of(&world, 77);
    assert_eq!(contract.version, version + 2, "{:?}", report.0);
    assert!(contract.billable);
    assert_eq!(contract.lines[2].amount.normalize().to_string(), "150");
}

#[tokio::test]
async fn an_agreement_invoice_of_an_unlinked_company_fails_naming_it_and_syncs_once_linked() {
    let (world, company) = agreement_world().await;
    let seeded = seed(
        &world,
        "/company/companies",
        vec![json!({"identifier": "NEWCO", "name": "Newco Holdings", "city": "Boise"})],
    );
    let newco = seeded[0];
    seed(
        &world,
        "/finance/invoices",
        vec![
            agreement_invoice(
                6001,
                newco,
                90,
                "Managed Services",
                "2026-11-01",
                "2026-11-20T08:00:00Z",
            ),
            // A later one of a linked company: the watermark moves past the first.
            agreement_invoice(
                6002,
                company,
                91,
                "Managed Services",
                "2026-11-01",
                "2026-11-20T10:00:00Z",
            ),
        ],
    );
    seed(
        &world,
        "/procurement/products",
        vec![
            invoice_product(11, 6001, "M365-BP", 1, 20),
            invoice_product(12, 6002, "M365-BP", 1, 20),
        ],
    );
    let (_, report) = pull(&world, "agreement-invoices", json!({}), false).await;
    assert_eq!(report.status(), "partially_failed");
    assert_eq!(report.outcome(AGREEMENT_INVOICE, "6001"), "failed");
    let detail = report.detail(AGREEMENT_INVOICE, "6001");
    assert!(
        detail.contains(&format!("company {newco}")) && detail.contains("no billing account"),
        "{detail}"
    );
    assert!(
        world
            .billing
            .contracts()
            .iter()
            .all(|c| c.external_reference.as_deref() != Some("cw:agreement:90"))
    );

    assert_eq!(report.outcome(AGREEMENT_INVOICE, "6002"), "created");
    // The account is linked; the invoice did not change and is before the watermark's window:
    // the error ledger brings it back.
    let mut account = fixture_accounts()[0].clone();
    account.id = "A-3001".to_owned();
    account.code = "NEW-3001".to_owned();
    account.name = "Newco Holdings".to_owned();
    world.billing.seed_accounts(vec![account]);
    world.link("A-3001", newco).await;
    let (planned, report) = pull(&world, "agreement-invoices", json!({}), false).await;
    assert_eq!(planned["listed"], 2, "{planned}");
    assert_eq!(planned["toSync"], 1, "{planned}");
    assert_eq!(
        report.outcome(AGREEMENT_INVOICE, "6001"),
        "created",
        "{}",
        report.0
    );
    assert_eq!(contract_of(&world, 90).account_id, "A-3001");
}

/// A sales order of company `company` in status `status`.
fn sales_order(id: i64, company: i64, status: &str, updated: &str) -> Value {
    json!({
        "id": id, "company": {"id": company}, "billToCompany": {"id": company},
        "status": {"id": if status == "New" { 1 } else { 2 }, "name": status},
        "orderDate": "2026-11-10T00:00:00Z", "poNumber": format!("PO-{id}"),
        "salesRep": {"id": 1, "identifier": "jdoe"},
        "_info": {"lastUpdated": updated}
    })
}

/// The billing order made from sales order `order`.
fn order_of(world: &World, order: i64) -> Option<cwsync_billing::models::Order> {
    let reference = format!("cw:sales-order:{order}");
    world
        .billing
        .orders()
        .into_iter()
        .find(|o| o.external_reference.as_deref() == Some(reference.as_str()))
}

#[tokio::test]
async fn sales_orders_become_billing_orders_once_an_unknown_product_holds_its_order() {
    let world = World::start().await;
    world.billing.seed_items(fixture_items());
    world.cw.set_clock(T0);
    world
        .put_settings(json!({"documents": {"salesOrders": {
            "statuses": ["Shipped"], "errorItem": "TPL-HARDWARE"
        }}}))
        .await;
    let company = world.company_of("A-1001").await;
    let at = "2026-11-20T08:00:00Z";
    seed(
        &world,
        "/sales/orders",
        vec![
            sales_order(7001, company, "Shipped", at),
            sales_order(7002, company, "Shipped", at),
            // No product: not pulled yet. Updated before the others: out of the next runs'
            // window (the product it gets is not).
            sales_order(7003, company, "Shipped", "2026-11-20T06:00:00Z"),
            // Not in the tenant's statuses.
            sales_order(7004, company, "New", at),
            // Made by the orders export from a billing order: never pulled back.
            sales_order(7006, company, "Shipped", at),
        ],
    );
    let tenant = TenantId::parse(TENANT).unwrap();
    world
        .export
        .deps
        .stores
        .links
        .link_existing(
            &tenant,
            SourceRef::new("sales-order", "ORD-77"),
            "sales-order",
            7006,
            "exported",
            T0,
        )
        .await
        .unwrap();
    seed(
        &world,
        "/procurement/products",
        vec![
            order_product(21, 7001, "TONER-DXC5850-BK", 2, 80),
            order_product(22, 7001, "drum-dxc5850", 1, 150),
            order_product(23, 7002, "MYSTERY-X", 1, 10),
            order_product(24, 7004, "TONER-DXC5850-BK", 1, 80),
            order_product(26, 7006, "TONER-DXC5850-BK", 1, 80),
        ],
    );

    // Delivered twice, as SQS may: one billing order each all the same.
    let (planned, report) = pull(&world, "sales-orders", json!({}), true).await;
    assert_eq!(planned["listed"], 2, "{planned}");
    assert_eq!(
        report.outcome(BILLING_ORDER, "7001"),
        "created",
        "{}",
        report.0
    );
    assert_eq!(report.outcome(BILLING_ORDER, "7002"), "created");
    assert!(
        report.detail(BILLING_ORDER, "7002").contains("on hold"),
        "{}",
        report.0
    );
    assert_eq!(world.billing.calls().count("POST", "/v1/orders"), 2);
    let order = order_of(&world, 7001).unwrap();
    assert_eq!(order.account_id, "A-1001");
    assert_eq!(order.stage, "Shipped");
    assert_eq!(order.customer_po.as_deref(), Some("PO-7001"));
    assert!(!order.on_hold);
    assert_eq!(
        order
            .items
            .iter()
            .map(|i| (i.item_id.as_str(), i.quantity.normalize().to_string()))
            .collect::<Vec<_>>(),
        [("I-TONER-BK", "2".to_owned()), ("I-DRUM", "1".to_owned())]
    );
    let held = order_of(&world, 7002).unwrap();
    assert!(held.on_hold);
    assert_eq!(held.items[0].item_id, "I-TPL-HARDWARE");
    let reason = held.hold_reason.unwrap();
    assert!(
        reason.contains("product 23") && reason.contains("MYSTERY-X"),
        "{reason}"
    );
    for never in [7003, 7004, 7006] {
        assert!(order_of(&world, never).is_none(), "{never}");
    }

    // Unchanged: no page job, nothing written.
    let billing_before = billing_writes(&world);
    let (planned, _) = pull(&world, "sales-orders", json!({}), false).await;
    assert_eq!(planned["pages"], 0, "{planned}");
    assert_eq!(billing_writes(&world), billing_before);

    // A product arrives on 7003 (the order's own `lastUpdated` does not move): a dry run says
    // so and makes nothing, the run makes it.
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    seed(
        &world,
        "/procurement/products",
        vec![order_product(25, 7003, "M365-BP", 5, 20)],
    );
    let (planned, report) = pull(&world, "sales-orders", json!({"dryRun": true}), false).await;
    assert_eq!(planned["dryRun"], true, "{planned}");
    assert!(
        report
            .detail(BILLING_ORDER, "7003")
            .contains("would create")
    );
    assert_eq!(billing_writes(&world), billing_before);
    assert!(order_of(&world, 7003).is_none());
    let (_, report) = pull(&world, "sales-orders", json!({}), false).await;
    assert_eq!(
        report.outcome(BILLING_ORDER, "7003"),
        "created",
        "{}",
        report.0
    );
    assert_eq!(
        order_of(&world, 7003).unwrap().items[0].item_id,
        "I-M365-BP"
    );
}
