//! The local run's ticket import, after the daily export: the ConnectWise simulator's
//! finished-tickets fixture is seeded on the companies the customer sync made (and on the
//! agreement the daily export made for the first of them), the ticket-import settings it needs
//! are stored (its statuses, its catalog items' product type, that agreement's contract), and
//! the real `ticket-import` function runs twice on the same stores: the first import creates the
//! billing service calls (one on hold for a product the billing system lacks) and reports the
//! tickets it cannot import and why; the unchanged re-run writes nothing to either side.
//!
//! What is printed about the calls is read back from the billing simulator (what really is
//! there), next to the run's stored report.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use cwsync_billing::models::ServiceCall;
use cwsync_billing_sim::BillingSim;
use cwsync_connectwise_sim::{
    FinishedTickets, Simulator, TicketFixtureLinks, seed_finished_tickets,
};
use cwsync_customer_sync::CustomerSync;
use cwsync_queue::MemoryJobQueue;
use cwsync_ticket_import::TicketImport;
use cwsync_ticket_import::console::Event as TicketEvent;
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    RunLine, TENANT, deliver, print_failures, print_header, print_records, print_row, record_line,
    report_records, run_line, shown, totals, update_settings,
};

/// The billing contract the fixture's agreement is billed under: the first account's active
/// contract (`tests/billing-sim/fixtures/contracts.json`), whose name no agreement the export
/// makes matches, so the tenant maps it (`ticketImport.agreements`).
const CONTRACT: &str = "C-3001";
/// The account whose company gets most of the fixture's tickets, and the second one's.
const ACCOUNT: &str = "A-1001";
const SECOND_ACCOUNT: &str = "A-1002";

/// A billing service call made from a ConnectWise ticket, as the billing simulator holds it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportedCall {
    /// The ConnectWise ticket.
    pub ticket: i64,
    /// The call's id and number.
    pub call_id: String,
    pub number: String,
    pub account_id: String,
    pub contract_id: Option<String>,
    /// `T-100 1.50 h billable (Onsite)`, one per labor line.
    pub labor: Vec<String>,
    /// `I-TONER-BK x 2`, one per part.
    pub parts: Vec<String>,
    pub on_hold: bool,
    pub hold_reason: Option<String>,
    /// The ticket's time entries and products in ConnectWise (what the call's lines come from).
    pub connectwise_time_entries: usize,
    pub connectwise_products: usize,
}

/// What the ticket import of the local run works with.
pub(crate) struct TicketWorld<'a> {
    pub import: &'a TicketImport,
    pub customers: &'a CustomerSync,
    pub queue: &'a MemoryJobQueue,
    pub cw: &'a Simulator,
    pub billing: &'a BillingSim,
    pub every: Duration,
}

impl TicketWorld<'_> {
    /// Seeds the fixture, stores the settings, imports twice. Prints the import's table and
    /// what it imported (unless `json`); returns its lines and the fixture's ids.
    pub(crate) async fn run(&self, json: bool) -> anyhow::Result<(Vec<RunLine>, FinishedTickets)> {
        let company = self.company_of(ACCOUNT)?;
        let links = TicketFixtureLinks {
            company,
            second_company: self.company_of(SECOND_ACCOUNT)?,
            agreement: self.agreement_of(company),
        };
        let fixture = seed_finished_tickets(self.cw, &links)
            .map_err(|e| anyhow::anyhow!("seeding the finished-tickets fixture: {e}"))?;
        self.store_settings(links.agreement).await?;

        let first = self.import_now("first import").await?;
        let rerun = self.import_now("unchanged re-run").await?;
        let lines = vec![first, rerun];
        if !json {
            println!();
            print_ticket_log(&lines);
        }
        Ok((lines, fixture))
    }

    /// The ConnectWise company the customer sync linked to billing account `account_id`.
    fn company_of(&self, account_id: &str) -> anyhow::Result<i64> {
        let Some(account) = self.billing.account(account_id) else {
            bail!("the billing fixture has no account {account_id}");
        };
        self.cw
            .records("/company/companies")
            .iter()
            .find(|c| c["identifier"].as_str() == Some(account.code.trim()))
            .and_then(|c| c["id"].as_i64())
            .with_context(|| format!("the customer sync made no company for {account_id}"))
    }

    /// The agreement the daily export made for `company`, if any.
    fn agreement_of(&self, company: i64) -> Option<i64> {
        self.cw
            .records("/finance/agreements")
            .iter()
            .find(|a| a["company"]["id"].as_i64() == Some(company))
            .and_then(|a| a["id"].as_i64())
    }

    /// Adds what the fixture needs to the tenant's settings: the statuses imported, the billing
    /// product type of the catalog's `Inventory` items (whose placeholder stands in for an item
    /// the billing system lacks), and the contract of the export's agreement.
    async fn store_settings(&self, agreement: Option<i64>) -> anyhow::Result<()> {
        let agreements: BTreeMap<String, &str> = agreement
            .map(|id| (id.to_string(), CONTRACT))
            .into_iter()
            .collect();
        update_settings(self.customers, "ticket-import", |settings| {
            settings["ticketImport"] = json!({
                "statuses": ["Completed", "Closed"],
                "productTypes": {"Inventory": "Supplies"},
                "agreements": agreements,
            });
        })
        .await
    }

    /// One `import-now` of the tenant, delivered to the end: its line.
    async fn import_now(&self, label: &'static str) -> anyhow::Result<RunLine> {
        let cw_before = self.cw.calls();
        let billing_before = self.billing.calls();
        let planned = ticket_event(
            self.import,
            TicketEvent::ImportNow {
                tenant: TENANT.to_owned(),
                since: None,
                dry_run: false,
            },
        )
        .await?;
        let import = self.import;
        let delivery = deliver(
            self.queue,
            self.every,
            ("imported", "tickets"),
            |event, deadline| import.handle_jobs(event, deadline),
        )
        .await;
        let cw_after = self.cw.calls();
        let billing_after = self.billing.calls();
        let run_id = planned["runId"].as_str().unwrap_or_default().to_owned();
        let report = ticket_event(
            self.import,
            TicketEvent::Report {
                tenant: TENANT.to_owned(),
                run_id: Some(run_id.clone()),
                page_token: None,
                moves: false,
            },
        )
        .await?;
        let mut line = run_line(label, run_id, &report, delivery.dead_letters);
        line.changed = report_records(&report)
            .filter(|r| r["outcome"] == "created" || r["outcome"] == "updated")
            .map(record_line)
            .collect();
        line.skipped = report_records(&report)
            .filter(|r| r["outcome"] == "skipped")
            .map(record_line)
            .collect();
        line.not_imported = not_imported(&planned);
        let writes = cw_after.writes() - cw_before.writes();
        line.connectwise_reads = Some(cw_after.total() - cw_before.total() - writes);
        line.connectwise_writes = Some(writes);
        line.billing_writes = Some(billing_writes(
            &billing_after.by_route,
            &billing_before.by_route,
        ));
        line.imported = self.imported_calls();
        Ok(line)
    }

    /// The billing calls made from tickets, with the ConnectWise records they come from.
    fn imported_calls(&self) -> Vec<ImportedCall> {
        let entries = self.cw.records("/time/entries");
        let products = self.cw.records("/procurement/products");
        let mut calls: Vec<ImportedCall> = self
            .billing
            .service_calls()
            .iter()
            .filter_map(|call| {
                let ticket = call
                    .external_reference
                    .as_deref()?
                    .strip_prefix("cw:ticket:")?
                    .parse::<i64>()
                    .ok()?;
                Some(imported_call(ticket, call, &entries, &products))
            })
            .collect();
        calls.sort_by_key(|c| c.ticket);
        calls
    }
}

fn imported_call(
    ticket: i64,
    call: &ServiceCall,
    entries: &[Value],
    products: &[Value],
) -> ImportedCall {
    let on_ticket = |records: &[Value], field: &str| {
        records
            .iter()
            .filter(|r| {
                r[field].as_i64() == Some(ticket) || r[field]["id"].as_i64() == Some(ticket)
            })
            .count()
    };
    ImportedCall {
        ticket,
        call_id: call.id.clone(),
        number: call.number.clone(),
        account_id: call.account_id.clone(),
        contract_id: call.contract_id.clone(),
        labor: call
            .labor
            .iter()
            .map(|l| {
                format!(
                    "{} {} h {}{}",
                    l.technician_id,
                    l.hours,
                    if l.billable {
                        "billable"
                    } else {
                        "not billable"
                    },
                    l.work_type
                        .as_deref()
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default()
                )
            })
            .collect(),
        parts: call
            .parts
            .iter()
            .map(|p| format!("{} x {}", p.item_id, p.quantity))
            .collect(),
        on_hold: call.on_hold,
        hold_reason: call.hold_reason.clone(),
        connectwise_time_entries: on_ticket(entries, "chargeToId"),
        connectwise_products: on_ticket(products, "ticket"),
    }
}

/// The planning's tickets that got no job, in words.
fn not_imported(planned: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    let count = |field: &str| planned[field].as_u64().unwrap_or(0);
    if count("withoutTime") > 0 {
        lines.push(format!(
            "{} ticket(s) in an import status without time entries (a ticket imports once time \
             is logged on it)",
            count("withoutTime")
        ));
    }
    if count("excluded") > 0 {
        lines.push(format!(
            "{} ticket(s) excluded (ticketImport.excluded)",
            count("excluded")
        ));
    }
    lines
}

/// Billing writes between two snapshots of calls by route: every call that is not a GET (the
/// simulator's own `writes` counts the write-backs and PATCHes the customer sync makes, not the
/// service-call creates and updates).
fn billing_writes(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> u64 {
    after
        .iter()
        .filter(|(route, _)| !route.starts_with("GET "))
        .map(|(route, n)| n.saturating_sub(before.get(route).copied().unwrap_or(0)))
        .sum()
}

async fn ticket_event(import: &TicketImport, event: TicketEvent) -> anyhow::Result<Value> {
    import
        .handle_event(event)
        .await
        .map_err(|d| anyhow::anyhow!("{}: {}", d.error_type, d.error_message))
}

/// The ticket import's log: each run's totals, then the calls as the billing system holds them
/// (ticket → call, labor lines, parts, hold), what was not imported, and the failed tickets.
fn print_ticket_log(lines: &[RunLine]) {
    println!("ticket import");
    print_header(["CW reads", "CW writes", "billing writes"]);
    for line in lines {
        print_row(
            line.label,
            totals(line),
            [
                shown(line.connectwise_reads),
                shown(line.connectwise_writes),
                shown(line.billing_writes),
            ],
        );
    }
    println!();
    println!(
        "(records: finished tickets with time; the counts come from each run's stored import log, \
         the calls below from the billing system)"
    );
    if let Some(last) = lines.last() {
        for call in &last.imported {
            println!(
                "  ticket {} -> service call {} ({}), account {}{}",
                call.ticket,
                call.number,
                call.call_id,
                call.account_id,
                call.contract_id
                    .as_deref()
                    .map(|c| format!(", contract {c}"))
                    .unwrap_or_default()
            );
            println!(
                "      labor ({} of {} time entries): {}",
                call.labor.len(),
                call.connectwise_time_entries,
                call.labor.join("; ")
            );
            println!(
                "      parts ({} of {} products): {}",
                call.parts.len(),
                call.connectwise_products,
                if call.parts.is_empty() {
                    "none".to_owned()
                } else {
                    call.parts.join("; ")
                }
            );
            if call.on_hold {
                println!(
                    "      on hold: {}",
                    call.hold_reason.as_deref().unwrap_or("no reason given")
                );
            }
        }
    }
    for line in lines {
        for record in &line.changed {
            println!("  {}: {record}", line.label);
        }
    }
    print_records(lines, "not imported:", |line| &line.not_imported);
    print_records(lines, "skipped", |line| &line.skipped);
    print_failures(lines);
}
