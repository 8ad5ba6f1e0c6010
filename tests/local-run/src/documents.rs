//! The local run's billing documents, after the ticket import: the billing fixture's invoices,
//! payments and orders go to ConnectWise as invoices (with their products), the one payment per
//! invoice, and sales orders, through the real `daily-export` function's document runs, and then
//! again unchanged (nothing written). Each run's counts and the records it failed, with why, are
//! printed: one invoice and one order have an item (`LABOR-ONSITE`) no ConnectWise catalog item
//! matches, so they fail naming it (and that invoice's payment waits for its invoice). Then the
//! pulls back: two ConnectWise agreement invoices of one agreement and date become one billing
//! contract, and a sales order made in ConnectWise a billing order (on hold: one product has no
//! billing item); the sales orders the export made are not pulled back.
//! Then the fixture's project, option and change order become opportunities (the catalog items
//! they need created), and the credit holds go to the companies' "Credit Hold" field: the
//! account on hold has no company (the customer sync refused its state), so it fails naming it.

use std::time::Duration;

use anyhow::Context;
use cwsync_billing_sim::BillingSim;
use cwsync_connectwise_sim::Simulator;
use cwsync_customer_sync::CustomerSync;
use cwsync_daily_export::DailyExport;
use cwsync_daily_export::console::Event as ExportEvent;
use cwsync_daily_export::documents::Document;
use cwsync_queue::MemoryJobQueue;
use cwsync_store::links::SourceRef;
use cwsync_store::{RunId, TenantId};
use serde_json::json;

use crate::{
    RunLine, TENANT, deliver, export_event, print_failures, print_run_log, record_line,
    report_records, run_line, update_settings,
};

/// What the documents of the local run work with.
pub(crate) struct DocumentsWorld<'a> {
    pub export: &'a DailyExport,
    pub customers: &'a CustomerSync,
    pub queue: &'a MemoryJobQueue,
    pub cw: &'a Simulator,
    pub billing: &'a BillingSim,
    pub every: Duration,
}

impl DocumentsWorld<'_> {
    /// Turns the documents on, runs invoices (payments follow) and orders, twice, then projects
    /// and credit holds, twice. Prints the table (unless `json`); returns the lines.
    pub(crate) async fn run(&self, json: bool) -> anyhow::Result<Vec<RunLine>> {
        self.store_settings().await?;
        self.seed_pulled().await?;
        let mut lines = Vec::new();
        for label in ["", " re-run"] {
            let cw_before = self.cw.calls();
            let billing_before = self.billing.calls().writes();
            let invoices = self.export_documents(Document::Invoices).await?;
            let orders = self.export_documents(Document::Orders).await?;
            // The pulls back: ConnectWise agreement invoices and sales orders made there.
            let agreement_invoices = self.export_documents(Document::AgreementInvoices).await?;
            let sales_orders = self.export_documents(Document::SalesOrders).await?;
            let cw_after = self.cw.calls();
            // The payments run is the invoices run's follow-up, named after it.
            let payments = invoices.companion(Document::Payments.as_str());
            let runs = [
                (Document::Invoices, invoices),
                (Document::Payments, payments),
                (Document::Orders, orders),
                (Document::AgreementInvoices, agreement_invoices),
                (Document::SalesOrders, sales_orders),
            ];
            for (document, run_id) in runs {
                let mut line = self.line(document, &run_id, label).await?;
                if document == Document::Invoices {
                    // The calls of the whole round, on its first line.
                    let writes = cw_after.writes() - cw_before.writes();
                    line.connectwise_reads = Some(cw_after.total() - cw_before.total() - writes);
                    line.connectwise_writes = Some(writes);
                    line.billing_writes = Some(self.billing.calls().writes() - billing_before);
                }
                lines.push(line);
            }
        }
        // Then projects (→ opportunities) and credit holds (→ the company custom field), twice:
        // after the invoices' re-run, as the catalog items projects create would change it.
        for label in ["", " re-run"] {
            let cw_before = self.cw.calls();
            let projects = self.export_documents(Document::Projects).await?;
            let holds = self.export_documents(Document::CreditHold).await?;
            let cw_after = self.cw.calls();
            for (document, run_id) in [
                (Document::Projects, projects),
                (Document::CreditHold, holds),
            ] {
                let mut line = self.line(document, &run_id, label).await?;
                if document == Document::Projects {
                    let writes = cw_after.writes() - cw_before.writes();
                    line.connectwise_reads = Some(cw_after.total() - cw_before.total() - writes);
                    line.connectwise_writes = Some(writes);
                }
                lines.push(line);
            }
        }
        if !json {
            println!();
            print_documents_log(&lines);
        }
        Ok(lines)
    }

    /// Adds the documents to the tenant's settings: invoices, payments, orders and projects
    /// exported, the fixture's order stages mapped, a sales rep for orders that name none, and
    /// credit holds to the company custom field "Credit Hold".
    async fn store_settings(&self) -> anyhow::Result<()> {
        update_settings(self.customers, "document", |settings| {
            for toggle in ["invoices", "payments", "orders", "projects"] {
                settings["export"][toggle] = json!(true);
            }
            settings["documents"] = json!({
                "orders": {
                    "statuses": {"Open": "New", "Closed": "Shipped"},
                    "salesRep": "jdoe",
                },
                "agreementInvoices": {
                    "statuses": ["Sent"],
                    "invoiceNumberField": "CW Invoice Number",
                },
                "salesOrders": {"statuses": ["Shipped"], "errorItem": "TPL-HARDWARE"},
                "creditHold": {"customField": "Credit Hold"},
            });
        })
        .await
    }

    /// What the pulls find in ConnectWise: two agreement invoices of one agreement on one date
    /// (both applied to its contract, the same item on both rolled up into one line) and a sales
    /// order made in ConnectWise with a product the billing system has and one it lacks (the
    /// error item, the order on hold). The sales orders the orders export made are in the pulled
    /// status too, and are never pulled back.
    async fn seed_pulled(&self) -> anyhow::Result<()> {
        let tenant = TenantId::parse(TENANT).context("the tenant id")?;
        let company = self
            .export
            .deps
            .stores
            .links
            .get(&tenant, SourceRef::new("company", "A-1001"))
            .await?
            .and_then(|l| l.cw_id)
            .context("account A-1001 has no company")?;
        let seed = |path: &str, records: Vec<serde_json::Value>| {
            self.cw
                .seed(path, records)
                .with_context(|| format!("seeding {path}"))
        };
        let invoice = |number: &str| {
            json!({
                "invoiceNumber": number, "type": "Agreement", "status": {"id": 2, "name": "Sent"},
                "company": {"id": company}, "billToCompany": {"id": company},
                "agreement": {"id": 9001, "name": "Acme managed print", "type": "Managed Services"},
                "date": "2026-11-01T00:00:00Z"
            })
        };
        let invoices = seed(
            "/finance/invoices",
            vec![invoice("AGR-1101"), invoice("AGR-1102")],
        )?;
        let order = seed(
            "/sales/orders",
            vec![json!({
                "company": {"id": company}, "billToCompany": {"id": company},
                "status": {"id": 2, "name": "Shipped"}, "orderDate": "2026-11-10T00:00:00Z",
                "poNumber": "PO-CW-1", "salesRep": {"id": 1, "identifier": "jdoe"}
            })],
        )?;
        // Catalog items by an id of their own (the reference carries the identifier).
        let product =
            |parent: (&str, i64), (catalog, identifier): (i64, &str), quantity: i64, price: i64| {
                json!({
                    parent.0: {"id": parent.1},
                    "catalogItem": {"id": catalog, "identifier": identifier},
                    "description": identifier, "quantity": quantity, "price": price,
                    "extPrice": quantity * price, "billableOption": "Billable"
                })
            };
        seed(
            "/procurement/products",
            vec![
                product(("invoice", invoices[0]), (90_001, "M365-BP"), 10, 22),
                product(("invoice", invoices[0]), (90_002, "LABOR-ONSITE"), 2, 95),
                product(("invoice", invoices[1]), (90_001, "M365-BP"), 1, 22),
                product(
                    ("salesOrder", order[0]),
                    (90_003, "TONER-DXC5850-BK"),
                    2,
                    89,
                ),
                product(("salesOrder", order[0]), (90_004, "SCANNER-KIT"), 1, 240),
            ],
        )?;
        Ok(())
    }

    /// One `export-documents` run of `document`, delivered to the end (with its follow-up): its
    /// run id.
    async fn export_documents(&self, document: Document) -> anyhow::Result<RunId> {
        let planned = export_event(
            self.export,
            ExportEvent::ExportDocuments {
                tenant: TENANT.to_owned(),
                document,
                record_ids: None,
                dry_run: false,
                full: false,
            },
        )
        .await?;
        let export = self.export;
        deliver(
            self.queue,
            self.every,
            ("synced", "document pages"),
            |event, deadline| export.handle_jobs(event, deadline),
        )
        .await;
        let run_id = planned["runId"].as_str().unwrap_or_default();
        RunId::parse(run_id).with_context(|| format!("the {document} run's id {run_id:?}"))
    }

    /// The line of `document`'s run `run_id`.
    async fn line(
        &self,
        document: Document,
        run_id: &RunId,
        suffix: &str,
    ) -> anyhow::Result<RunLine> {
        let report = export_event(
            self.export,
            ExportEvent::DocumentsReport {
                tenant: TENANT.to_owned(),
                document,
                run_id: Some(run_id.to_string()),
                page_token: None,
            },
        )
        .await?;
        let run_id = run_id.to_string();
        let label: &'static str = Box::leak(format!("{document}{suffix}").into_boxed_str());
        let mut line = run_line(label, run_id, &report, Vec::new());
        line.changed = report_records(&report)
            .filter(|r| r["outcome"] == "created" || r["outcome"] == "updated")
            .map(record_line)
            .collect();
        Ok(line)
    }
}

/// The documents' log: each run's totals and per-entity counts, what was written, the failures.
fn print_documents_log(lines: &[RunLine]) {
    print_run_log(
        "billing documents (invoices, then payments as their follow-up, then orders; then the pulls back: agreement invoices, sales orders; then projects and credit holds)",
        lines,
        "(calls: each round's, on its invoices or projects line; records: invoices, invoice payments, sales orders, agreement invoices, billing orders, opportunities, credit holds, their pages and plans)",
    );
    for line in lines {
        for record in &line.changed {
            println!("  {}: {record}", line.label);
        }
    }
    print_failures(lines);
}
