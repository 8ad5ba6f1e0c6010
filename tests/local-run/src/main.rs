//! `cwsync-local`: runs cwsync on embedded defaults, with no AWS account and no Docker.
//!
//! It starts the ConnectWise simulator and the billing-system simulator in-process (the billing
//! side seeded with a small set of accounts, sites and contacts; ConnectWise with its reference
//! data and one company that already exists for one of the accounts), and runs the real
//! customer-sync function over real HTTP on in-memory state and queues: a tenant-wide run plans
//! and fans out one job per account, the jobs are delivered as SQS would, and the run's report is
//! printed. It runs three times: the first creates (and links the existing company), the unchanged
//! re-run writes nothing, and after one billing field changes, one PATCH carries only that field.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use cwsync_billing::models::Account;
use cwsync_billing_sim::{BillingSim, BillingSimOptions, TEST_BILLING_API_KEY};
use cwsync_connectwise::RetryPolicy;
use cwsync_connectwise_sim::{
    CallStats, SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY,
    TEST_PUBLIC_KEY,
};
use cwsync_customer_sync::console::Event;
use cwsync_customer_sync::{ConnectOptions, CustomerSync, FUNCTION};
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::{Config, Deps, StaticTenantSecrets};
use serde::Serialize;
use serde_json::{Value, json};

/// The tenant of the local run.
const TENANT: &str = "local";
/// Deliveries of one job before it would go to the DLQ (the stack's `maxReceiveCount`).
const MAX_RECEIVES: u32 = 5;

/// Run cwsync locally against in-process simulators.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// A JSON file with the billing accounts to sync (an array of accounts as in
    /// `shared/billing/openapi.yaml`); defaults to the billing simulator's embedded set (and then
    /// ConnectWise also starts with a company that matches one of them).
    #[arg(long)]
    accounts: Option<std::path::PathBuf>,
    /// Print the reports as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Plan only: the first run is a dry run (nothing is written), then stop.
    #[arg(long)]
    dry_run: bool,
    /// Keep both simulators running afterwards (until Ctrl-C), to look at them with any client.
    #[arg(long)]
    keep_running: bool,
}

/// One run, as the local report shows it.
#[derive(Debug, Serialize)]
struct RunLine {
    label: &'static str,
    run_id: String,
    status: Value,
    counts: Value,
    failures: Vec<String>,
    connectwise_reads: u64,
    connectwise_writes: u64,
    billing_writes: u64,
    dead_letters: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Errors only unless RUST_LOG says otherwise (`RUST_LOG=info` shows every record synced):
    // the report is the output, and it lists the failed records itself.
    cwsync_runtime::telemetry::init_local("error");
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
    let options = ConnectOptions {
        cw_retry: Some(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_elapsed: Duration::from_secs(5),
        }),
        ..ConnectOptions::default()
    };
    let mut service = CustomerSync::new(Arc::new(deps), options);
    // One job at a time, in the planner's order (parents first), so a child's parent company
    // exists when the child is synced and the report is the same on every machine. Deployed, jobs
    // run concurrently: a child synced while its parent is still being created gets its parent
    // company on the next run.
    service.concurrency = 1;

    if !args.json {
        println!(
            "cwsync local run: ConnectWise simulator at {}, billing simulator at {}",
            cw.base_url(),
            billing.base_url()
        );
        println!("tenant {TENANT:?}: customer sync, in-memory state and queue");
        println!();
    }

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
        let planned = service
            .handle_event(Event::SyncTenant {
                tenant: TENANT.to_owned(),
                dry_run: *dry_run,
                incremental: false,
            })
            .await
            .map_err(|d| anyhow::anyhow!("{}: {}", d.error_type, d.error_message))?;
        let delivery = service.deliver_all(&queue, MAX_RECEIVES).await;
        let run_id = planned["runId"].as_str().unwrap_or_default().to_owned();
        let report = service
            .handle_event(Event::Report {
                tenant: TENANT.to_owned(),
                run_id: Some(run_id.clone()),
                page_token: None,
            })
            .await
            .map_err(|d| anyhow::anyhow!("{}: {}", d.error_type, d.error_message))?;
        lines.push(run_line(
            label,
            run_id,
            &report,
            &cw_before,
            &cw.calls(),
            billing.calls().writes() - billing_before,
            delivery.dead_letters,
        ));
        if *dry_run && !args.json {
            print_suggestions(&report);
        }
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
    } else {
        print_table(&lines);
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
    before: &CallStats,
    after: &CallStats,
    billing_writes: u64,
    dead_letters: Vec<String>,
) -> RunLine {
    let writes = after.writes() - before.writes();
    let total = after.total() - before.total();
    let failures = report["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["outcome"] == "failed")
        .map(|r| {
            format!(
                "{} {}: {}",
                r["entity"].as_str().unwrap_or_default(),
                r["recordId"].as_str().unwrap_or_default(),
                r["detail"].as_str().unwrap_or_default()
            )
        })
        .collect();
    RunLine {
        label,
        run_id,
        status: report["run"]["status"].clone(),
        counts: report["run"]["counts"].clone(),
        failures,
        connectwise_reads: total - writes,
        connectwise_writes: writes,
        billing_writes,
        dead_letters,
    }
}

fn count(line: &RunLine, outcome: &str) -> u64 {
    line.counts
        .as_object()
        .into_iter()
        .flat_map(|entities| entities.values())
        .filter_map(|counts| counts[outcome].as_u64())
        .sum()
}

fn print_table(lines: &[RunLine]) {
    println!(
        "{:<18} {:>7} {:>7} {:>7} {:>9} {:>7} {:>6} {:>8} {:>9} {:>8}",
        "run",
        "created",
        "linked",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "CW reads",
        "CW writes",
        "billing writes"
    );
    for line in lines {
        println!(
            "{:<18} {:>7} {:>7} {:>7} {:>9} {:>7} {:>6} {:>8} {:>9} {:>8}",
            line.label,
            count(line, "created"),
            count(line, "linked"),
            count(line, "updated"),
            count(line, "unchanged"),
            count(line, "skipped"),
            count(line, "failed"),
            line.connectwise_reads,
            line.connectwise_writes,
            line.billing_writes,
        );
    }
    println!();
    println!(
        "(records: companies, sites, contacts and billing write-backs; the counts come from each run's stored report)"
    );
    for line in lines {
        for failure in &line.failures {
            println!("  {}: failed {failure}", line.label);
        }
        for key in &line.dead_letters {
            println!(
                "  {}: job {key} would be in the dead-letter queue",
                line.label
            );
        }
    }
}

fn print_suggestions(report: &Value) {
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
        if !candidates.is_empty() {
            println!(
                "  suggestion for account {}: {}",
                suggestion["accountId"].as_str().unwrap_or_default(),
                candidates.join(", ")
            );
        }
    }
}
