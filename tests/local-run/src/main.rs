//! `cwsync-local`: runs cwsync on embedded defaults, with no AWS account and no Docker.
//!
//! It starts the ConnectWise simulator and the billing-system simulator in-process (the billing
//! side seeded with a small set of accounts, sites and contacts; ConnectWise with its reference
//! data and one company that already exists for one of the accounts), and runs the real
//! customer-sync function over real HTTP on in-memory state and queues: a tenant-wide run plans
//! and fans out one job per account, the jobs are delivered as SQS would, and the run's report is
//! printed. It runs three times: the first creates (and links the existing company), the unchanged
//! re-run writes nothing, and after one billing field changes, one PATCH carries only that field.
//!
//! Then the real daily-export function runs on the same stores, with the settings the billing
//! fixture needs (its units, frequencies and agreement types mapped to the simulator's reference
//! data): a first export (catalog items, agreements, additions), an unchanged re-run that writes
//! nothing, and, after one subscription's quantity changes and another is cancelled, an export
//! that patches exactly those two additions — stopped first by the mass-change guard when the
//! cancellation is over the tenant's share, then confirmed as a user would from the console. Each
//! run's export log is printed.
//!
//! Then the real ticket-import function runs on the same stores ([`tickets`]): the ConnectWise
//! simulator's finished-tickets fixture on the companies and agreement made above, imported
//! once (calls created, one on hold for a placeholder part, tickets that cannot be imported named
//! with why) and again unchanged (nothing written). Its log and the calls as the billing
//! simulator holds them are printed.
//!
//! With `--tenant-secret FILE` it runs against a real tenant instead (the same JSON as the
//! Secrets Manager secret): `test-connection` first, then one tenant-wide sync, a dry run unless
//! `--write`, with its links, error ledger and watermarks kept in `--state FILE` so the next run
//! is incremental. Keys are never printed.

mod documents;
mod tickets;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use clap::Parser;
use cwsync_billing::models::Account;
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, TEST_BILLING_API_KEY, fixture_export_settings,
};
use cwsync_connectwise::{RateLimit, RetryPolicy};
use cwsync_connectwise_sim::{
    SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use cwsync_customer_sync::console::Event;
use cwsync_customer_sync::{ConnectOptions, CustomerSync, FUNCTION};
use cwsync_daily_export::DailyExport;
use cwsync_daily_export::console::Event as ExportEvent;
use cwsync_daily_export::plan::GUARD;
use cwsync_mapping::export::entity;
use cwsync_mapping::settings::SCHEMA_VERSION;
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::{Config, Deps, StaticTenantSecrets};
use cwsync_store::ledger::{LedgerSnapshot, MemoryErrorLedger};
use cwsync_store::links::{LinkSnapshot, MemoryLinkStore};
use cwsync_store::watermarks::{MemoryWatermarkStore, WatermarkSnapshot};
use cwsync_sync::deliver::{Delivery, Progress, deliver_all};
use cwsync_sync::report::ReportEvent;
use cwsync_ticket_import::TicketImport;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The tenant of the local run.
const TENANT: &str = "local";
/// Deliveries of one job before it would go to the DLQ (the stack's `maxReceiveCount`).
const MAX_RECEIVES: u32 = 5;
/// ConnectWise requests per second against the in-process simulator, which has no limit: the
/// deployed default (10/s, chosen because ConnectWise does not publish its limits) would leave
/// the CPU idle, and the simulator is not what that default protects.
const SIMULATOR_CW_RATE: u32 = 1000;

/// Run cwsync locally against in-process simulators, or against your own ConnectWise and billing
/// system with --tenant-secret.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// A JSON file with the billing accounts to sync (an array of accounts as in
    /// `shared/billing/openapi.yaml`); defaults to the billing simulator's embedded set (and then
    /// ConnectWise also starts with a company that matches one of them). With this file only the
    /// customer sync runs: the daily export runs on the embedded subscriptions.
    #[arg(long, value_name = "FILE", conflicts_with = "tenant_secret")]
    accounts: Option<PathBuf>,
    /// Print the reports as JSON instead of tables: `{"customerSync": [runs], "dailyExport":
    /// [runs]}`.
    #[arg(long)]
    json: bool,
    /// Plan only: the first customer sync is a dry run (nothing is written), then stop (no
    /// export).
    #[arg(long, conflicts_with = "tenant_secret")]
    dry_run: bool,
    /// Keep both simulators running afterwards (until Ctrl-C), to look at them with any client.
    #[arg(long, conflicts_with = "tenant_secret")]
    keep_running: bool,
    /// Run against a real tenant instead of the simulators: FILE holds the same JSON as the
    /// tenant's Secrets Manager secret (site, companyId, publicKey, privateKey, clientId,
    /// billingUrl, billingApiKey). Runs test-connection, then a tenant-wide sync: a dry run
    /// (nothing written anywhere) unless --write.
    #[arg(long, value_name = "FILE")]
    tenant_secret: Option<PathBuf>,
    /// With --tenant-secret: apply the sync (create, link and update in ConnectWise, write back
    /// to the billing system) instead of a dry run.
    #[arg(long, requires = "tenant_secret")]
    write: bool,
    /// With --tenant-secret: keep the links, error ledger and watermarks in this JSON file
    /// (created when missing, saved after a --write run), so the next run is incremental.
    /// Without it they live in memory for this run only.
    #[arg(long, value_name = "FILE", requires = "tenant_secret")]
    state: Option<PathBuf>,
    /// ConnectWise requests per second. Default: 1000 against the simulator, 10 (the deployed
    /// default) against a real tenant.
    #[arg(long, value_name = "N", env = "CWSYNC_CW_RATE")]
    cw_rate: Option<NonZeroU32>,
    /// Milliseconds between progress lines ("synced 120/220 accounts", on stderr).
    #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
    progress_every_ms: u64,
}

/// One run, as the local report shows it.
#[derive(Debug, Serialize)]
struct RunLine {
    label: &'static str,
    run_id: String,
    status: Value,
    counts: Value,
    failures: Vec<String>,
    /// Calls as the simulators counted them (`None` against a real tenant).
    #[serde(skip_serializing_if = "Option::is_none")]
    connectwise_reads: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connectwise_writes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_writes: Option<u64>,
    /// Requests as the clients counted them (against a real tenant).
    #[serde(skip_serializing_if = "Option::is_none")]
    connectwise_requests: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_requests: Option<u64>,
    dead_letters: Vec<String>,
    /// Whether the run wrote nothing (asked for, or stopped by the export's mass-change guard).
    dry_run: bool,
    /// Export runs: the records created or updated, with what changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changed: Vec<String>,
    /// Export runs: the records left alone on purpose, and why (an account with no company, a
    /// subscription cancelled before it was ever exported).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<String>,
    /// Export runs: what the mass-change guard found, and whether it stopped the run's writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    mass_change_guard: Option<String>,
    /// Export runs: the candidate companies the report suggests for each unmapped account.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suggestions: Vec<String>,
    /// Ticket-import runs: the billing calls made from tickets after the run, as the billing
    /// system holds them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    imported: Vec<tickets::ImportedCall>,
    /// Ticket-import runs: the tickets the planning listed but sent no job for, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_imported: Vec<String>,
}

/// The ConnectWise rate limit the run uses, and the sentence that says so.
fn cw_rate(args: &Args, against_simulator: bool) -> (Option<RateLimit>, String) {
    let deployed = RateLimit::default().per_second;
    let how = "set it with --cw-rate N or CWSYNC_CW_RATE=N";
    let with = RateLimit::paced;
    match (args.cw_rate, against_simulator) {
        (Some(n), _) => (
            Some(with(n)),
            format!(
                "ConnectWise rate limit: {n} requests/s (from --cw-rate or CWSYNC_CW_RATE; deployed, the default is {deployed}/s)"
            ),
        ),
        (None, true) => {
            let n = NonZeroU32::new(SIMULATOR_CW_RATE).unwrap_or(deployed);
            (
                Some(with(n)),
                format!(
                    "ConnectWise rate limit: {n} requests/s (the simulator has no limit; deployed, the default is {deployed}/s; {how})"
                ),
            )
        }
        (None, false) => (
            None,
            format!(
                "ConnectWise rate limit: {deployed} requests/s (the deployed default: ConnectWise does not publish its limits; if your instance allows more, raise it: {how})"
            ),
        ),
    }
}

/// Prints a line about the run: on stdout with the table, on stderr with --json (whose stdout is
/// the JSON alone).
fn note(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// Delivers the queued jobs to `handle` (a function's SQS batch handler) as SQS would, printing
/// "`done` N/M `what`" on stderr at most every `every` (and the last count when a line was
/// printed before).
async fn deliver<H, Fut>(
    queue: &MemoryJobQueue,
    every: Duration,
    (done_verb, what): (&str, &str),
    handle: H,
) -> Delivery
where
    H: Fn(SqsEvent, OffsetDateTime) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let mut last = Instant::now();
    let mut printed = false;
    deliver_all(queue, MAX_RECEIVES, handle, |p: Progress| {
        let done = p.finished == p.known;
        if last.elapsed() >= every || (done && printed) {
            eprintln!("{done_verb} {}/{} {what}", p.finished, p.known);
            last = Instant::now();
            printed = true;
        }
    })
    .await
}

/// Delivers the customer sync's queued jobs ("synced N/M accounts").
async fn deliver_customers(
    service: &CustomerSync,
    queue: &MemoryJobQueue,
    every: Duration,
) -> Delivery {
    deliver(queue, every, ("synced", "accounts"), |event, deadline| {
        service.handle_jobs(event, deadline)
    })
    .await
}

/// Changes the tenant's stored settings with `change` (a read, then a write under its version);
/// `what` names the change in an error.
async fn update_settings(
    service: &CustomerSync,
    what: &str,
    change: impl FnOnce(&mut Value),
) -> anyhow::Result<()> {
    let stored = event(
        service,
        Event::GetSettings {
            tenant: TENANT.to_owned(),
        },
    )
    .await?;
    let mut settings = stored["settings"].clone();
    change(&mut settings);
    event(
        service,
        Event::PutSettings {
            tenant: TENANT.to_owned(),
            settings,
            expected_version: stored["version"].as_u64(),
        },
    )
    .await
    .with_context(|| format!("storing the {what} settings"))?;
    Ok(())
}

async fn event(service: &CustomerSync, event: Event) -> anyhow::Result<Value> {
    service
        .handle_event(event)
        .await
        .map_err(|d| anyhow::anyhow!("{}: {}", d.error_type, d.error_message))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Errors only unless RUST_LOG says otherwise (`RUST_LOG=info` shows every record synced):
    // the report is the output, and it lists the failed records itself.
    cwsync_runtime::telemetry::init_local("error");
    match &args.tenant_secret {
        Some(path) => against_tenant(&args, path).await,
        None => against_simulators(&args).await,
    }
}

async fn against_simulators(args: &Args) -> anyhow::Result<()> {
    let billing = BillingSim::start(match &args.accounts {
        None => BillingSimOptions::with_fixture(),
        Some(_) => BillingSimOptions::default(),
    })
    .await
    .context("starting the billing simulator")?;
    if let Some(path) = &args.accounts {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let accounts: Vec<Account> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        billing.seed_accounts(accounts);
    }
    let cw = Simulator::start(SimOptions::default())
        .await
        .context("starting the ConnectWise simulator")?;
    if args.accounts.is_none() {
        seed_existing_company(&cw, &billing)?;
    }

    let secret = json!({
        "site": cw.base_url(),
        "companyId": TEST_COMPANY_ID,
        "publicKey": TEST_PUBLIC_KEY,
        "privateKey": TEST_PRIVATE_KEY,
        "clientId": TEST_CLIENT_ID,
        "billingUrl": billing.base_url().to_string(),
        "billingApiKey": TEST_BILLING_API_KEY,
    });
    let secrets = StaticTenantSecrets::new().with_secret_json(TENANT, &secret.to_string())?;
    let mut deps = Deps::local(FUNCTION, Config::local(), secrets);
    let queue = Arc::new(MemoryJobQueue::new());
    deps.queues.customer = Some(queue.clone());
    let export_queue = Arc::new(MemoryJobQueue::new());
    deps.queues.export = Some(export_queue.clone());
    let ticket_queue = Arc::new(MemoryJobQueue::new());
    deps.queues.ticket = Some(ticket_queue.clone());
    let (rate, rate_line) = cw_rate(args, true);
    let options = ConnectOptions {
        cw_retry: Some(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_elapsed: Duration::from_secs(5),
        }),
        cw_rate: rate,
        ..ConnectOptions::default()
    };
    let deps = Arc::new(deps);
    let mut service = CustomerSync::new(Arc::clone(&deps), options.clone());
    // One job at a time, in the planner's order (parents first), so a child's parent company
    // exists when the child is synced and the report is the same on every machine. Deployed, jobs
    // run concurrently: a child synced while its parent is still being created gets its parent
    // company on the next run.
    service.core.concurrency = 1;
    // The export on the same stores (its accounts' companies are the customer sync's links), one
    // job at a time too, so its log lists the records in the same order on every machine.
    let mut export = DailyExport::new(Arc::clone(&deps), options.clone());
    export.core.concurrency = 1;
    // The ticket import after the export, one ticket at a time too (its log in ticket order).
    let mut import = TicketImport::new(deps, options);
    import.core.concurrency = 1;
    let run_export = !args.dry_run && args.accounts.is_none();

    if !args.json {
        println!(
            "cwsync local run: ConnectWise simulator at {}, billing simulator at {}",
            cw.base_url(),
            billing.base_url()
        );
        println!(
            "tenant {TENANT:?}: customer sync{}, in-memory state and queues",
            if run_export {
                ", then the daily export"
            } else {
                ""
            }
        );
    }
    note(args.json, &rate_line);
    if !args.json {
        println!();
    }

    let every = Duration::from_millis(args.progress_every_ms);
    let mut lines = Vec::new();
    let plan: &[(&'static str, bool)] = if args.dry_run {
        &[("dry run", true)]
    } else {
        &[
            ("first run", false),
            ("unchanged re-run", false),
            ("one field changed", false),
        ]
    };
    for (label, dry_run) in plan {
        if *label == "one field changed" {
            change_one_field(&billing)?;
        }
        let cw_before = cw.calls();
        let billing_before = billing.calls().writes();
        let planned = event(
            &service,
            Event::SyncTenant {
                tenant: TENANT.to_owned(),
                dry_run: *dry_run,
                incremental: false,
            },
        )
        .await?;
        let delivery = deliver_customers(&service, &queue, every).await;
        let run_id = planned["runId"].as_str().unwrap_or_default().to_owned();
        let report = run_report(&service, &run_id).await?;
        let mut line = run_line(label, run_id, &report, delivery.dead_letters);
        let cw_after = cw.calls();
        let writes = cw_after.writes() - cw_before.writes();
        line.connectwise_reads = Some(cw_after.total() - cw_before.total() - writes);
        line.connectwise_writes = Some(writes);
        line.billing_writes = Some(billing.calls().writes() - billing_before);
        lines.push(line);
        if *dry_run && !args.json {
            print_suggestions(&report);
        }
    }

    if !args.json {
        print_table(&lines);
    }
    let (exports, ticket_imports) = if run_export {
        let world = ExportWorld {
            export: &export,
            customers: &service,
            queue: &export_queue,
            cw: &cw,
            billing: &billing,
            every,
        };
        let exports = world.run(args.json).await?;
        let tickets = tickets::TicketWorld {
            import: &import,
            customers: &service,
            queue: &ticket_queue,
            cw: &cw,
            billing: &billing,
            every,
        };
        let (imports, fixture) = tickets.run(args.json).await?;
        let documents = documents::DocumentsWorld {
            export: &export,
            customers: &service,
            queue: &export_queue,
            cw: &cw,
            billing: &billing,
            every,
        };
        let documents = documents.run(args.json).await?;
        (exports, Some((imports, fixture, documents)))
    } else {
        (Vec::new(), None)
    };
    if args.json {
        let mut output = json!({"customerSync": lines, "dailyExport": exports});
        if let Some((imports, fixture, documents)) = ticket_imports {
            output["ticketImport"] = serde_json::to_value(imports)?;
            output["ticketFixture"] = serde_json::to_value(fixture)?;
            output["documents"] = serde_json::to_value(documents)?;
        }
        println!("{}", serde_json::to_string_pretty(&output)?);
    }

    if args.keep_running {
        println!();
        println!(
            "simulators still running — ConnectWise at {} (company {TEST_COMPANY_ID}, public key \
             {TEST_PUBLIC_KEY}, private key {TEST_PRIVATE_KEY}, clientId {TEST_CLIENT_ID}; test-only keys), \
             billing at {} (bearer {TEST_BILLING_API_KEY}); Ctrl-C to stop",
            cw.base_url(),
            billing.base_url()
        );
        tokio::signal::ctrl_c().await?;
    }
    cw.shutdown().await;
    Ok(())
}

async fn run_report(service: &CustomerSync, run_id: &str) -> anyhow::Result<Value> {
    event(
        service,
        Event::Report(ReportEvent {
            tenant: TENANT.to_owned(),
            run_id: Some(run_id.to_owned()),
            page_token: None,
        }),
    )
    .await
}

/// What the daily export of the local run works with: the export and the customer sync (whose
/// console stores the settings) on shared stores, the export queue, both simulators.
struct ExportWorld<'a> {
    export: &'a DailyExport,
    customers: &'a CustomerSync,
    queue: &'a MemoryJobQueue,
    cw: &'a Simulator,
    billing: &'a BillingSim,
    every: Duration,
}

impl ExportWorld<'_> {
    /// Stores the export settings of the billing fixture, then exports: first, unchanged, and
    /// after a quantity change and a cancellation (confirming the mass-change guard if it trips).
    /// Prints the export log (unless `json`) and returns its lines.
    async fn run(&self, json: bool) -> anyhow::Result<Vec<RunLine>> {
        let mut settings = fixture_export_settings();
        if let Some(object) = settings.as_object_mut() {
            object.insert("schemaVersion".to_owned(), json!(SCHEMA_VERSION));
        }
        event(
            self.customers,
            Event::PutSettings {
                tenant: TENANT.to_owned(),
                settings,
                expected_version: None,
            },
        )
        .await
        .context("storing the export settings")?;

        let (first, first_report) = self.export_now("first export", false).await?;
        let (rerun, _) = self.export_now("unchanged re-run", false).await?;
        let changes = self.change_two_subscriptions(&first_report)?;
        let (changed, _) = self.export_now("quantity + cancel", false).await?;
        // When the guard stopped that run (planned as a dry run, nothing written), confirm it as
        // a user would from the console, with `"confirmMassChange": true`.
        let guarded = changed.dry_run && changed.mass_change_guard.is_some();
        let mut lines = vec![first, rerun, changed];
        if guarded {
            lines.push(self.export_now("confirmed", true).await?.0);
        }
        if !json {
            println!();
            print_export_log(&lines, &changes);
        }
        Ok(lines)
    }

    /// One `export-now` of the tenant, delivered to the end: its line of the export log, and its
    /// report.
    async fn export_now(
        &self,
        label: &'static str,
        confirm_mass_change: bool,
    ) -> anyhow::Result<(RunLine, Value)> {
        let cw_before = self.cw.calls();
        let billing_before = self.billing.calls().writes();
        let planned = export_event(
            self.export,
            ExportEvent::ExportNow {
                tenant: TENANT.to_owned(),
                account_ids: None,
                dry_run: false,
                confirm_mass_change,
                full: false,
                documents: false,
            },
        )
        .await?;
        let export = self.export;
        let delivery = deliver(
            self.queue,
            self.every,
            ("exported", "jobs"),
            |event, deadline| export.handle_jobs(event, deadline),
        )
        .await;
        // The run's own calls: the report's suggestions read ConnectWise too, after.
        let cw_after = self.cw.calls();
        let billing_after = self.billing.calls().writes();
        let run_id = planned["runId"].as_str().unwrap_or_default().to_owned();
        let report = export_event(
            self.export,
            ExportEvent::Report(ReportEvent {
                tenant: TENANT.to_owned(),
                run_id: Some(run_id.clone()),
                page_token: None,
            }),
        )
        .await?;
        let mut line = run_line(label, run_id, &report, delivery.dead_letters);
        line.dry_run = planned["dryRun"] == true;
        line.changed = report_records(&report)
            .filter(|r| r["outcome"] == "created" || r["outcome"] == "updated")
            .filter(|r| r["entity"] != GUARD && r["detail"] != "")
            .map(record_line)
            .collect();
        line.skipped = report_records(&report)
            .filter(|r| r["outcome"] == "skipped" && r["entity"] != GUARD)
            .map(record_line)
            .collect();
        line.mass_change_guard = report_records(&report)
            .find(|r| r["entity"] == GUARD)
            .map(|r| r["detail"].as_str().unwrap_or_default().to_owned());
        line.suggestions = suggestion_lines(&report, true);
        let writes = cw_after.writes() - cw_before.writes();
        line.connectwise_reads = Some(cw_after.total() - cw_before.total() - writes);
        line.connectwise_writes = Some(writes);
        line.billing_writes = Some(billing_after - billing_before);
        Ok((line, report))
    }

    /// Raises the quantity of the first subscription the first export added, and cancels the
    /// second, as billing users would. Returns what it changed, in words.
    fn change_two_subscriptions(&self, first: &Value) -> anyhow::Result<Vec<String>> {
        let added: Vec<&str> = report_records(first)
            .filter(|r| r["entity"] == entity::ADDITION && r["outcome"] == "created")
            .filter_map(|r| r["recordId"].as_str())
            .collect();
        let [more, cancel, ..] = added.as_slice() else {
            bail!(
                "the first export added {} subscriptions; the local run changes two",
                added.len()
            );
        };
        let mut quantity = Decimal::ZERO;
        self.billing.modify_subscription(more, |s| {
            s.quantity += Decimal::from(5);
            quantity = s.quantity;
        });
        let now = self.billing.now();
        self.billing
            .modify_subscription(cancel, |s| s.cancelled_at = Some(now));
        Ok(vec![
            format!("subscription {more}: quantity raised by 5 to {quantity}"),
            format!("subscription {cancel}: cancelled"),
        ])
    }
}

async fn export_event(export: &DailyExport, event: ExportEvent) -> anyhow::Result<Value> {
    export
        .handle_event(event)
        .await
        .map_err(|d| anyhow::anyhow!("{}: {}", d.error_type, d.error_message))
}

/// The records of a report's page.
fn report_records(report: &Value) -> impl Iterator<Item = &Value> {
    report["records"].as_array().into_iter().flatten()
}

/// `entity recordId: detail`: a record of a report, in a line (a detail that names its record
/// already, as a refused value's does, is not prefixed again).
fn record_line(record: &Value) -> String {
    let named = format!(
        "{} {}",
        record["entity"].as_str().unwrap_or_default(),
        record["recordId"].as_str().unwrap_or_default()
    );
    let detail = record["detail"].as_str().unwrap_or_default();
    if detail.starts_with(&format!("{named}:")) {
        detail.to_owned()
    } else {
        format!("{named}: {detail}")
    }
}

/// What `--state FILE` holds: the stores that make a later run incremental, and whose tenant
/// they are (so one file is never used for another tenant's links).
#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    /// `site company` of the ConnectWise side, and the billing URL: not secrets.
    tenant: String,
    links: LinkSnapshot,
    ledger: LedgerSnapshot,
    watermarks: WatermarkSnapshot,
}

/// The in-memory stores a `--tenant-secret` run uses, restored from and saved to `--state`.
struct LocalState {
    links: Arc<MemoryLinkStore>,
    ledger: Arc<MemoryErrorLedger>,
    watermarks: Arc<MemoryWatermarkStore>,
}

impl LocalState {
    fn load(path: Option<&Path>, tenant: &str) -> anyhow::Result<LocalState> {
        let state = LocalState {
            links: Arc::new(MemoryLinkStore::default()),
            ledger: Arc::new(MemoryErrorLedger::default()),
            watermarks: Arc::new(MemoryWatermarkStore::new()),
        };
        let Some(path) = path.filter(|p| p.exists()) else {
            return Ok(state);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the state file {}", path.display()))?;
        let file: StateFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "the state file {} is not cwsync-local state",
                path.display()
            )
        })?;
        if file.tenant != tenant {
            bail!(
                "the state file {} belongs to another tenant ({}), not {tenant}; use another --state file",
                path.display(),
                file.tenant
            );
        }
        state.links.restore(file.links);
        state.ledger.restore(file.ledger);
        state.watermarks.restore(file.watermarks);
        Ok(state)
    }

    /// Writes the stores to `path` (through a temporary file, so a crash never leaves half a
    /// state behind).
    fn save(&self, path: &Path, tenant: &str) -> anyhow::Result<()> {
        let file = StateFile {
            tenant: tenant.to_owned(),
            links: self.links.snapshot(),
            ledger: self.ledger.snapshot(),
            watermarks: self.watermarks.snapshot(),
        };
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, serde_json::to_vec_pretty(&file)?)
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::fs::rename(&temporary, path)
            .with_context(|| format!("replacing the state file {}", path.display()))?;
        Ok(())
    }
}

/// `--tenant-secret FILE`: test-connection, then one tenant-wide sync (a dry run unless
/// `--write`), against the tenant's own ConnectWise and billing system.
async fn against_tenant(args: &Args, path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the tenant secret {}", path.display()))?;
    // The Lambda's own parser: a malformed secret is named by its field, never its value.
    let secrets = StaticTenantSecrets::new()
        .with_secret_json(TENANT, &text)
        .map_err(|e| anyhow::anyhow!("the tenant secret {}: {e}", path.display()))?;
    let tenant = tenant_name(&text);
    let state = LocalState::load(args.state.as_deref(), &tenant)?;
    let mut deps = Deps::local(FUNCTION, Config::local(), secrets);
    deps.stores.links = state.links.clone();
    deps.stores.ledger = state.ledger.clone();
    deps.stores.watermarks = state.watermarks.clone();
    let queue = Arc::new(MemoryJobQueue::new());
    deps.queues.customer = Some(queue.clone());
    let (rate, rate_line) = cw_rate(args, false);
    let options = ConnectOptions {
        cw_rate: rate,
        ..ConnectOptions::default()
    };
    let mut service = CustomerSync::new(Arc::new(deps), options);
    // Parents before children, as in the simulator run.
    service.core.concurrency = 1;
    let dry_run = !args.write;

    if !args.json {
        println!("cwsync local run against {tenant}");
        println!(
            "{}; state {}",
            if dry_run {
                "dry run: nothing is written anywhere (add --write to apply)"
            } else {
                "--write: changes are applied to ConnectWise and the billing system"
            },
            match &args.state {
                Some(file) => format!("in {}", file.display()),
                None => "in memory (add --state FILE to keep it for the next run)".to_owned(),
            }
        );
    }
    note(args.json, &rate_line);

    let connection = event(
        &service,
        Event::TestConnection {
            tenant: TENANT.to_owned(),
        },
    )
    .await?;
    if !args.json {
        print_connection(&connection);
    }
    let usable = connection["connectWise"] == "connected"
        && connection["billing"] == "connected"
        && connection["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["usedBy"] == FUNCTION)
            .all(|p| p["granted"] == true);
    if !usable {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "testConnection": connection }))?
            );
        }
        bail!(
            "test-connection found a problem the customer sync cannot run with (above); nothing was synced"
        );
    }

    let cw_before = request_counts(&service).await;
    let planned = event(
        &service,
        Event::SyncTenant {
            tenant: TENANT.to_owned(),
            dry_run,
            incremental: false,
        },
    )
    .await?;
    let delivery = deliver_customers(
        &service,
        &queue,
        Duration::from_millis(args.progress_every_ms),
    )
    .await;
    let run_id = planned["runId"].as_str().unwrap_or_default().to_owned();
    let report = run_report(&service, &run_id).await?;
    let label = if dry_run { "dry run" } else { "sync" };
    let mut line = run_line(label, run_id, &report, delivery.dead_letters);
    let cw_after = request_counts(&service).await;
    line.connectwise_requests = Some(cw_after.0 - cw_before.0);
    line.billing_requests = Some(cw_after.1 - cw_before.1);
    if let (Some(file), false) = (&args.state, dry_run) {
        state.save(file, &tenant)?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "testConnection": connection, "runs": [line] }))?
        );
    } else {
        println!();
        print_table(&[line]);
        if dry_run {
            print_suggestions(&report);
        }
    }
    Ok(())
}

/// Requests the tenant's ConnectWise and billing clients have sent so far.
async fn request_counts(service: &CustomerSync) -> (u64, u64) {
    let Ok(tenant) = cwsync_store::TenantId::parse(TENANT) else {
        return (0, 0);
    };
    match service.clients(&tenant).await {
        Ok(clients) => (
            clients.cw.stats().requests,
            clients.billing.stats().requests,
        ),
        Err(_) => (0, 0),
    }
}

/// `ConnectWise <site> company <companyId>, billing <billingUrl>`: which tenant a secret is, in
/// its fields that are not secrets.
fn tenant_name(secret: &str) -> String {
    let value: Value = serde_json::from_str(secret).unwrap_or_default();
    let field = |name: &str| value[name].as_str().unwrap_or("?").to_owned();
    format!(
        "ConnectWise {} company {}, billing {}",
        field("site"),
        field("companyId"),
        field("billingUrl")
    )
}

/// The test-connection report in lines: each side, and what the API member may not do.
fn print_connection(report: &Value) {
    let text = |v: &Value| v.as_str().unwrap_or("not checked").to_owned();
    println!();
    println!(
        "test-connection: ConnectWise {} (codebase {}), billing {}",
        text(&report["connectWise"]),
        text(&report["codebase"]),
        text(&report["billing"])
    );
    for permission in report["permissions"].as_array().into_iter().flatten() {
        if permission["granted"] != true {
            println!(
                "  not allowed: {} (needed by {}){}",
                text(&permission["operation"]),
                text(&permission["usedBy"]),
                permission["fix"]
                    .as_str()
                    .map(|fix| format!(": {fix}"))
                    .unwrap_or_default()
            );
        }
    }
}

/// A company that already exists in ConnectWise for the second account (same identifier), so the
/// first run links it instead of creating a duplicate.
fn seed_existing_company(cw: &Simulator, billing: &BillingSim) -> anyhow::Result<()> {
    let mut accounts = billing.accounts();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    let Some(account) = accounts.iter().filter(|a| a.sync_to_connect_wise).nth(1) else {
        return Ok(());
    };
    cw.seed(
        "/company/companies",
        vec![json!({
            "identifier": account.code.trim(),
            "name": account.name,
            "addressLine1": "1 Old Address Way",
            "city": "Phoenix",
            "state": "AZ",
            "zip": "85001",
            "country": {"id": 1},
            "status": {"id": 1},
            "types": [{"id": 1}],
        })],
    )
    .map_err(|e| anyhow::anyhow!("seeding an existing company: {e}"))?;
    Ok(())
}

/// Changes the phone number of the first account that syncs, as a billing user would.
fn change_one_field(billing: &BillingSim) -> anyhow::Result<()> {
    let mut accounts = billing.accounts();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    let Some(account) = accounts.iter().find(|a| a.sync_to_connect_wise) else {
        bail!("no account to change");
    };
    let id = account.id.clone();
    billing.modify_account(&id, |account| {
        account.phone = Some("602-555-0199".to_owned());
    });
    Ok(())
}

fn run_line(
    label: &'static str,
    run_id: String,
    report: &Value,
    dead_letters: Vec<String>,
) -> RunLine {
    let failures = report_records(report)
        .filter(|r| r["outcome"] == "failed")
        .map(record_line)
        .collect();
    RunLine {
        label,
        run_id,
        status: report["run"]["status"].clone(),
        counts: report["run"]["counts"].clone(),
        failures,
        connectwise_reads: None,
        connectwise_writes: None,
        billing_writes: None,
        connectwise_requests: None,
        billing_requests: None,
        dead_letters,
        dry_run: report["run"]["dryRun"] == true,
        changed: Vec::new(),
        skipped: Vec::new(),
        mass_change_guard: None,
        suggestions: Vec::new(),
        imported: Vec::new(),
        not_imported: Vec::new(),
    }
}

/// The outcomes a report counts, in the tables' column order.
const OUTCOMES: [&str; 6] = [
    "created",
    "linked",
    "updated",
    "unchanged",
    "skipped",
    "failed",
];

fn count(line: &RunLine, outcome: &str) -> u64 {
    line.counts
        .as_object()
        .into_iter()
        .flat_map(|entities| entities.values())
        .filter_map(|counts| counts[outcome].as_u64())
        .sum()
}

/// A row of the tables: a label, the six outcome counts and three call counts.
fn print_row(label: &str, outcomes: [String; 6], calls: [String; 3]) {
    let [created, linked, updated, unchanged, skipped, failed] = outcomes;
    let [c1, c2, c3] = calls;
    let row = format!(
        "{label:<20} {created:>7} {linked:>7} {updated:>7} {unchanged:>9} {skipped:>7} {failed:>6} {c1:>8} {c2:>9} {c3:>8}"
    );
    println!("{}", row.trim_end());
}

fn print_header(calls: [&str; 3]) {
    print_row("run", OUTCOMES.map(str::to_owned), calls.map(str::to_owned));
}

/// A number, or `-` when not counted.
fn shown(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

/// A run's counts of every outcome, over every entity.
fn totals(line: &RunLine) -> [String; 6] {
    OUTCOMES.map(|outcome| count(line, outcome).to_string())
}

/// Records of the runs (`records` of each), under their table: a record reported the same way
/// in several runs once, with those runs.
fn print_records(lines: &[RunLine], outcome: &str, records: impl Fn(&RunLine) -> &[String]) {
    let mut seen: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in lines {
        for record in records(line) {
            match seen.iter_mut().find(|(r, _)| r == record) {
                Some((_, runs)) => runs.push(line.label),
                None => seen.push((record, vec![line.label])),
            }
        }
    }
    for (record, runs) in seen {
        println!("  {}: {outcome} {record}", runs.join(", "));
    }
}

/// The failed records and dead letters of the runs, under their table.
fn print_failures(lines: &[RunLine]) {
    print_records(lines, "failed", |line| &line.failures);
    for line in lines {
        for key in &line.dead_letters {
            println!(
                "  {}: job {key} would be in the dead-letter queue",
                line.label
            );
        }
    }
}

fn print_table(lines: &[RunLine]) {
    // Against the simulators their counters split reads from writes; against a real tenant the
    // clients count requests.
    let real = lines.iter().any(|l| l.connectwise_requests.is_some());
    let calls = |line: &RunLine| -> [String; 3] {
        if real {
            [
                shown(line.connectwise_requests),
                shown(line.billing_requests),
                String::new(),
            ]
        } else {
            [
                shown(line.connectwise_reads),
                shown(line.connectwise_writes),
                shown(line.billing_writes),
            ]
        }
    };
    print_header(if real {
        ["CW calls", "billing calls", ""]
    } else {
        ["CW reads", "CW writes", "billing writes"]
    });
    for line in lines {
        print_row(line.label, totals(line), calls(line));
    }
    println!();
    println!(
        "(records: companies, sites, contacts and billing write-backs; the counts come from each run's stored report)"
    );
    print_failures(lines);
}

/// A log's table: `title`, each run's totals and calls, its counts per entity, then `note`.
pub(crate) fn print_run_log(title: &str, lines: &[RunLine], note: &str) {
    println!("{title}");
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
        for (entity, counts) in line.counts.as_object().into_iter().flatten() {
            print_row(
                &format!("  {entity}"),
                OUTCOMES.map(|outcome| counts[outcome].as_u64().unwrap_or(0).to_string()),
                [String::new(), String::new(), String::new()],
            );
        }
    }
    println!();
    println!("{note}");
}

/// The daily export's log: each run's totals and its counts per entity, then what changed
/// between runs, the records each run created or updated (with their changed fields), the
/// mass-change guard's word and the failed records.
fn print_export_log(lines: &[RunLine], changes: &[String]) {
    print_run_log(
        "daily export",
        lines,
        "(records: catalog items, agreements, additions and accounts; the counts come from each run's stored export log)",
    );
    for change in changes {
        println!("  before \"quantity + cancel\": {change}");
    }
    for line in lines {
        if let Some(guard) = &line.mass_change_guard {
            println!("  {}: mass-change guard: {guard}", line.label);
        }
        for record in &line.changed {
            println!("  {}: {record}", line.label);
        }
    }
    print_records(lines, "skipped", |line| &line.skipped);
    print_records(lines, "suggestion for account", |line| &line.suggestions);
    print_failures(lines);
}

fn print_suggestions(report: &Value) {
    for line in suggestion_lines(report, false) {
        println!("  suggestion for account {line}");
    }
}

/// A report's suggestions, one line per account: `{account}: {candidates}`, best first (with
/// `with_none`, an account without a close company says so).
fn suggestion_lines(report: &Value, with_none: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for suggestion in report["suggestions"].as_array().into_iter().flatten() {
        let candidates: Vec<String> = suggestion["candidates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{} {:?} ({:.2})",
                    c["companyId"],
                    c["name"].as_str().unwrap_or_default(),
                    c["score"].as_f64().unwrap_or_default()
                )
            })
            .collect();
        let account = suggestion["accountId"].as_str().unwrap_or_default();
        if !candidates.is_empty() {
            lines.push(format!("{account}: {}", candidates.join(", ")));
        } else if with_none {
            lines.push(format!(
                "{account}: no ConnectWise company with a similar name (let the customer sync \
                 create it, or link one)"
            ));
        }
    }
    lines
}
