//! How fast and how frugal a tenant-wide customer sync is, end to end: the real `customer-sync`
//! function over real HTTP against both in-process simulators (no added latency), on in-memory
//! stores and an in-memory customer queue delivered as SQS would (batches of ten, each batch's
//! jobs handled `DEFAULT_CONCURRENCY` at a time, as deployed). Three scenarios, every round on
//! fresh simulators and fresh function state:
//! - the first sync of 500 accounts, each with one site and two contacts (everything created;
//!   asserted: no site of a new company is read back, the create's answer names its primary
//!   site; printed: its ConnectWise calls against the bound of 1.02 × the records written plus
//!   one read per 1,000 accounts listed),
//! - the unchanged re-run (asserted: no job sent, zero ConnectWise writes, zero billing writes),
//! - the re-run after one field (the phone) changed on 50 accounts (asserted: 50 jobs, 50 company
//!   PATCHes and no other ConnectWise write);
//!
//! then, once, the first sync and the unchanged re-run of 5,000 accounts of the same shape. For
//! each unchanged re-run it prints the ConnectWise reads against the bound for the
//! planner, 4 + 2·⌈N/1000⌉, and the billing reads against ⌈N/100⌉ (the listing's page).
//!
//! Run: `cargo bench -p cwsync-benches --bench customer_sync`. Prints one line per scenario: wall
//! time of the run (planning, fan-out and every job delivered; median of the rounds), accounts per
//! second, and the calls each simulator received, then the calls by endpoint of one round and the
//! process's peak RSS at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cwsync_benches::{
    BenchWorld, MAX_RECEIVES, TENANT, account_id, bench_options, bench_world, delta, median,
    median_count, peak_rss_mib, spread,
};
use cwsync_billing_sim::{BillingCallStats, BillingSim};
use cwsync_connectwise_sim::{CallStats, Simulator};
use cwsync_customer_sync::console::Event;
use cwsync_customer_sync::{CustomerSync, DEFAULT_CONCURRENCY, FUNCTION};
use cwsync_queue::MemoryJobQueue;
use cwsync_sync::report::ReportEvent;
use serde_json::Value;

const ACCOUNTS: usize = 500;
/// The large tenant of the unchanged re-run (one round).
const LARGE: usize = 5_000;
/// Accounts in one page of the billing listing (the contract's default page).
const BILLING_PAGE: usize = 100;
const CHANGED: usize = 50;
const ROUNDS: usize = 5;

const FIRST: &str = "first sync, 500 accounts (1 site, 2 contacts)";
const UNCHANGED: &str = "unchanged re-run, 500 accounts";
const ONE_FIELD: &str = "re-run, phone changed on 50 of 500";
const SCENARIOS: [&str; 3] = [FIRST, UNCHANGED, ONE_FIELD];
const LARGE_FIRST: &str = "first sync, 5,000 accounts (1 round)";
const LARGE_UNCHANGED: &str = "unchanged re-run, 5,000 accounts (1 round)";

/// Both simulators and the function over them, as a deployed function would run it except for
/// the ConnectWise rate limit (see `bench_options`).
struct World {
    cw: Simulator,
    billing: BillingSim,
    service: CustomerSync,
    queue: Arc<MemoryJobQueue>,
}

async fn world(accounts: usize) -> World {
    let BenchWorld {
        cw,
        billing,
        deps,
        customer_queue: queue,
    } = bench_world(FUNCTION, accounts).await;
    let service = CustomerSync::new(Arc::new(deps), bench_options());
    // `service.concurrency` stays the deployed default.
    assert_eq!(service.concurrency, DEFAULT_CONCURRENCY);
    World {
        cw,
        billing,
        service,
        queue,
    }
}

/// What one run cost.
struct Measured {
    time: Duration,
    jobs_sent: u64,
    cw_reads: u64,
    cw_writes: u64,
    billing_reads: u64,
    billing_writes: u64,
    cw_by_endpoint: BTreeMap<String, u64>,
    billing_by_route: BTreeMap<String, u64>,
    report: Value,
}

impl Measured {
    fn count(&self, entity: &str, outcome: &str) -> u64 {
        self.report["run"]["counts"][entity][outcome]
            .as_u64()
            .unwrap_or(0)
    }

    fn failed(&self) -> u64 {
        self.report["run"]["counts"]
            .as_object()
            .into_iter()
            .flat_map(|entities| entities.values())
            .filter_map(|counts| counts["failed"].as_u64())
            .sum()
    }

    /// The ConnectWise calls of one endpoint, e.g. `("PATCH", "/company/companies/{id}")`.
    fn cw(&self, method: &str, template: &str) -> u64 {
        self.cw_by_endpoint
            .get(&format!("{method} {template}"))
            .copied()
            .unwrap_or(0)
    }
}

/// One tenant-wide run: plan, fan out, deliver every job; then its report (not timed).
async fn sync(world: &World) -> Measured {
    let cw_before: CallStats = world.cw.calls();
    let billing_before: BillingCallStats = world.billing.calls();
    let started = Instant::now();
    let planned = world
        .service
        .handle_event(Event::SyncTenant {
            tenant: TENANT.to_owned(),
            dry_run: false,
            incremental: false,
        })
        .await
        .unwrap_or_else(|d| panic!("sync-tenant: {}: {}", d.error_type, d.error_message));
    let delivery = world.service.deliver_all(&world.queue, MAX_RECEIVES).await;
    let time = started.elapsed();
    let cw_after = world.cw.calls();
    let billing_after = world.billing.calls();
    assert!(
        delivery.dead_letters.is_empty(),
        "jobs that would be in the DLQ: {delivery:?}"
    );
    let jobs_sent = planned["jobsSent"].as_u64().unwrap();
    let run_id = planned["runId"].as_str().unwrap().to_owned();
    let report = world
        .service
        .handle_event(Event::Report(ReportEvent {
            tenant: TENANT.to_owned(),
            run_id: Some(run_id),
            page_token: None,
        }))
        .await
        .unwrap_or_else(|d| panic!("report: {}: {}", d.error_type, d.error_message));
    let cw_writes = cw_after.writes() - cw_before.writes();
    let billing_writes = billing_after.writes() - billing_before.writes();
    Measured {
        time,
        jobs_sent,
        cw_reads: cw_after.total() - cw_before.total() - cw_writes,
        cw_writes,
        billing_reads: billing_after.total() - billing_before.total() - billing_writes,
        billing_writes,
        cw_by_endpoint: delta(&cw_after.by_endpoint, &cw_before.by_endpoint),
        billing_by_route: delta(&billing_after.by_route, &billing_before.by_route),
        report,
    }
}

fn check_succeeded(name: &str, run: &Measured) {
    assert_eq!(
        run.report["run"]["status"], "succeeded",
        "{name}: {}",
        run.report["run"]
    );
    assert_eq!(run.failed(), 0, "{name}: {}", run.report["run"]);
}

/// The first sync of a fresh world's `accounts` accounts, checked.
async fn first_sync(name: &str, world: &World, accounts: u64) -> Measured {
    let first = sync(world).await;
    check_succeeded(name, &first);
    for (entity, n) in [("company", 1), ("site", 1), ("contact", 2)] {
        assert_eq!(
            first.count(entity, "created"),
            n * accounts,
            "{name}: {entity}s created: {}",
            first.report["run"]
        );
    }
    assert_eq!(
        first.cw("GET", "/company/companies/{parentId}/sites"),
        0,
        "{name}: the create's answer names the new company's primary site: {:?}",
        first.cw_by_endpoint
    );
    first
}

/// The unchanged re-run, checked: no job, no write on either side, everything unchanged.
async fn unchanged_rerun(name: &str, world: &World, accounts: u64) -> Measured {
    let unchanged = sync(world).await;
    check_succeeded(name, &unchanged);
    assert_eq!(unchanged.jobs_sent, 0, "{name}: no account changed");
    assert_eq!(
        unchanged.cw_writes, 0,
        "{name}: an unchanged re-run must make no ConnectWise write: {:?}",
        unchanged.cw_by_endpoint
    );
    assert_eq!(
        unchanged.billing_writes, 0,
        "{name}: an unchanged re-run must make no billing write: {:?}",
        unchanged.billing_by_route
    );
    for (entity, n) in [("company", 1), ("site", 1), ("contact", 2)] {
        assert_eq!(
            unchanged.count(entity, "unchanged"),
            n * accounts,
            "{name}: {entity}s unchanged: {}",
            unchanged.report["run"]
        );
    }
    unchanged
}

/// The bound on an unchanged re-run's ConnectWise reads: 4 + 2·⌈N/1000⌉.
fn cw_read_bound(accounts: usize) -> u64 {
    4 + 2 * accounts.div_ceil(1000) as u64
}

/// One round: a fresh world, the three scenarios in order.
async fn round() -> [Measured; 3] {
    let world = world(ACCOUNTS).await;
    let accounts = ACCOUNTS as u64;

    let first = first_sync(FIRST, &world, accounts).await;
    let unchanged = unchanged_rerun(UNCHANGED, &world, accounts).await;

    for n in (0..ACCOUNTS).step_by(ACCOUNTS / CHANGED) {
        assert!(world.billing.modify_account(&account_id(n), |a| {
            a.phone = Some("602-555-0199".to_owned());
        }));
    }
    let one_field = sync(&world).await;
    check_succeeded(ONE_FIELD, &one_field);
    let changed = CHANGED as u64;
    assert_eq!(
        one_field.jobs_sent, changed,
        "{ONE_FIELD}: only the changed"
    );
    assert_eq!(
        one_field.cw("PATCH", "/company/companies/{id}"),
        changed,
        "{ONE_FIELD}: {:?}",
        one_field.cw_by_endpoint
    );
    assert_eq!(
        one_field.cw_writes, changed,
        "{ONE_FIELD}: only the company PATCHes: {:?}",
        one_field.cw_by_endpoint
    );
    assert_eq!(one_field.count("company", "updated"), changed);
    assert_eq!(one_field.count("company", "unchanged"), accounts - changed);

    world.cw.shutdown().await;
    world.billing.shutdown().await;
    [first, unchanged, one_field]
}

/// The cost bound of a first sync (issue 8): 1.02 ConnectWise calls per record written, plus
/// one read per 1,000 accounts listed.
fn first_sync_bound(writes: u64) -> f64 {
    1.02 * writes as f64 + (ACCOUNTS as f64 / 1000.0).ceil()
}

/// The large tenant: its first sync and its unchanged re-run.
async fn large_round() -> [Measured; 2] {
    let world = world(LARGE).await;
    let accounts = LARGE as u64;
    let first = first_sync(LARGE_FIRST, &world, accounts).await;
    let unchanged = unchanged_rerun(LARGE_UNCHANGED, &world, accounts).await;
    world.cw.shutdown().await;
    world.billing.shutdown().await;
    [first, unchanged]
}

#[tokio::main]
async fn main() {
    let mut rounds: Vec<[Measured; 3]> = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        rounds.push(round().await);
    }
    let large = large_round().await;

    println!(
        "customer sync, {ACCOUNTS} accounts, jobs handled {DEFAULT_CONCURRENCY} at a time \
         (DEFAULT_CONCURRENCY), median of {ROUNDS} rounds"
    );
    println!(
        "{:<46} {:>11} {:>11} {:>10} {:>10} {:>9} {:>9}",
        "scenario", "median", "accounts/s", "CW reads", "CW writes", "bill rd", "bill wr"
    );
    for (i, name) in SCENARIOS.iter().enumerate() {
        let runs: Vec<&Measured> = rounds.iter().map(|r| &r[i]).collect();
        let time = median(runs.iter().map(|r| r.time).collect());
        let column =
            |f: fn(&Measured) -> u64| spread(&runs.iter().map(|r| f(r)).collect::<Vec<_>>());
        println!(
            "{name:<46} {:>8.0} ms {:>11.0} {:>10} {:>10} {:>9} {:>9}",
            time.as_secs_f64() * 1000.0,
            ACCOUNTS as f64 / time.as_secs_f64(),
            column(|r| r.cw_reads),
            column(|r| r.cw_writes),
            column(|r| r.billing_reads),
            column(|r| r.billing_writes),
        );
    }
    for (name, run) in [LARGE_FIRST, LARGE_UNCHANGED].iter().zip(&large) {
        println!(
            "{name:<46} {:>8.0} ms {:>11.0} {:>10} {:>10} {:>9} {:>9}",
            run.time.as_secs_f64() * 1000.0,
            LARGE as f64 / run.time.as_secs_f64(),
            run.cw_reads,
            run.cw_writes,
            run.billing_reads,
            run.billing_writes,
        );
    }
    println!();
    println!(
        "unchanged re-runs against the bound (CW reads <= 4 + 2*ceil(N/1000), billing reads <= ceil(N/{BILLING_PAGE})):"
    );
    let unchanged_reads: Vec<u64> = rounds.iter().map(|r| r[1].cw_reads).collect();
    let unchanged_billing: Vec<u64> = rounds.iter().map(|r| r[1].billing_reads).collect();
    for (accounts, cw_reads, billing_reads, jobs) in [
        (
            ACCOUNTS,
            median_count(unchanged_reads),
            median_count(unchanged_billing),
            rounds[0][1].jobs_sent,
        ),
        (
            LARGE,
            large[1].cw_reads,
            large[1].billing_reads,
            large[1].jobs_sent,
        ),
    ] {
        let bound = cw_read_bound(accounts);
        let billing_bound = accounts.div_ceil(BILLING_PAGE) as u64;
        println!(
            "  {accounts:>5} accounts: CW reads {cw_reads} / bound {bound} = {:.2}; billing reads \
             {billing_reads} / {billing_bound} = {:.2}; jobs sent {jobs}",
            cw_reads as f64 / bound as f64,
            billing_reads as f64 / billing_bound as f64,
        );
    }
    let round_times: Vec<String> = rounds
        .iter()
        .map(|r| {
            r.iter()
                .map(|m| format!("{:.0}", m.time.as_secs_f64() * 1000.0))
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    println!("round times (ms): {}", round_times.join(", "));
    let first: Vec<&Measured> = rounds.iter().map(|r| &r[0]).collect();
    let calls = median_count(first.iter().map(|r| r.cw_reads + r.cw_writes).collect());
    let writes = median_count(first.iter().map(|r| r.cw_writes).collect());
    let bound = first_sync_bound(writes);
    println!(
        "first sync: {calls} ConnectWise calls for {writes} records written ({:.3}x); bound 1.02 x \
         writes + 1 read per 1,000 accounts listed = {bound:.0}; ratio to the bound {:.3}",
        calls as f64 / writes.max(1) as f64,
        calls as f64 / bound,
    );

    println!();
    println!("calls by endpoint (round 1):");
    let by_scenario = SCENARIOS
        .iter()
        .zip(&rounds[0])
        .map(|(name, run)| (*name, run, ACCOUNTS))
        .chain(
            [LARGE_FIRST, LARGE_UNCHANGED]
                .into_iter()
                .zip(&large)
                .map(|(name, run)| (name, run, LARGE)),
        );
    for (name, run, accounts) in by_scenario {
        println!("  {name}");
        for (endpoint, n) in &run.cw_by_endpoint {
            println!(
                "    CW      {endpoint:<52} {n:>6}  ({:.3}/account)",
                *n as f64 / accounts as f64
            );
        }
        for (route, n) in &run.billing_by_route {
            println!(
                "    billing {route:<52} {n:>6}  ({:.3}/account)",
                *n as f64 / accounts as f64
            );
        }
    }
    println!();
    println!("peak RSS: {:.1} MiB", peak_rss_mib());
}
