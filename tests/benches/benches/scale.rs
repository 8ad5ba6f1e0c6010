//! The jobs at scale, with ConnectWise's rate limit on and the simulators' latency of a real
//! network: **1 tenant × 5,000 accounts** and **200 tenants × 50 accounts**, for each of the
//! three jobs:
//! - `large`, `many`: the customer sync's first sync (each account with one site and two
//!   contacts);
//! - `export-large`, `export-many`: the daily export's first export of the accounts'
//!   subscriptions (`SCALE_EXPORT_SUBSCRIPTIONS` [3] per account over `SCALE_EXPORT_PRODUCTS`
//!   [12] products, `cwsync_billing_sim::generate`, every tenth product disabled; monthly and
//!   annual, so two agreements per account), with the settings the end-to-end tests use;
//! - `tickets-large`, `tickets-many`: the ticket import's first import of one finished service
//!   ticket per account's company, with one or two time entries (alternately) by members who
//!   match billing technicians by e-mail, into billing service calls.
//!
//! The export and the ticket import need the accounts' companies and the tenant's settings
//! first: that **set-up is not measured**. The simulators drop their latency and rate limit, the
//! tenant's settings are stored (`put-settings`), every tenant's customer sync runs to the end
//! (unlimited client, as the other benches set tenants up), and for the ticket import the child
//! seeds the tickets and time entries through the ConnectWise simulator's write path
//! (`Simulator::create`, as `benches/ticket_import.rs` does; not counted as API calls). Then the
//! latency and the limit are back on (the limit's window restarts), the call counts are
//! snapshotted, and only the job's own planning and delivery are measured.
//!
//! Two processes, so the figures are the function's own: the simulators (one ConnectWise and one
//! billing simulator per tenant, each ConnectWise one with a fixed-window rate limit of the
//! tenant's rate, both with the latency) run in a child process (this same binary, started with
//! `CWSYNC_SCALE_SIMS`); the bench process runs the real function over HTTP, on in-memory stores
//! and an in-memory job queue delivered as SQS would, `SCALE_INSTANCES` batches at once (the
//! stack's `JobConcurrency`, the event source's `MaximumConcurrency`), each batch's jobs the
//! function's `DEFAULT_CONCURRENCY` at a time, every tenant's client at the tenant's rate through
//! the shared rate gate. Every tenant is planned at once, then the queue is delivered.
//!
//! Prints per scenario: ConnectWise calls (429s included) and their ratio to the job's lower
//! bound, the wall time and its ratio to the **rate-limit floor** (the busiest tenant's accepted
//! calls ÷ its rate, tenants in parallel; target ≤ 1.15), records written per second, and the
//! bench process's peak RSS during the measured window (`VmHWM`, reset before it): the function,
//! its stores and queue and the bench's driver — not the simulators. The lower bounds, per tenant
//! (a read lists up to 1,000 records):
//! - customer sync: one write per record created (company, site, contacts) plus one listing read
//!   per 1,000 accounts;
//! - daily export: one write per record created (catalog items, agreements, additions) plus one
//!   read per 1,000 products (their catalog items by SKU) and one per 1,000 accounts (their
//!   agreements by company);
//! - ticket import: no ConnectWise write (it writes to billing: one service call per ticket,
//!   billing calls are printed apart); the planning's ticket listing (one read per 1,000) and
//!   time entries (one read per `TIME_ENTRY_BATCH` tickets), the members once (to match
//!   technicians), and per SQS batch of 10 ticket jobs the reads its jobs make afresh ("never
//!   trust the job"): the tickets, their time entries, their products.
//!
//! With `MOTO_ENDPOINT` set the stores are on moto (another process, as DynamoDB is), so the RSS
//! figure holds none of the stored data; without it they are in memory and it holds what
//! DynamoDB would hold (links, runs, ledger) too. The queue is always in memory.
//!
//! Run: `cargo bench -p cwsync-benches --bench scale`. Environment (defaults in brackets):
//! `SCALE_LATENCY_MS` [50] latency of every simulator call; `SCALE_INSTANCES` [5] batches
//! handled at once; `SCALE_LARGE_ACCOUNTS` [5000] and `SCALE_LARGE_RATE` [100] (requests/s) for
//! the one large tenant; `SCALE_TENANTS` [200], `SCALE_TENANT_ACCOUNTS` [50] and
//! `SCALE_TENANT_RATE` [10] (the client's default `requestsPerSecond`) for the many small ones;
//! `SCALE_SCENARIOS` [`large,many,export-large,export-many,tickets-large,tickets-many`]. How the
//! client paces itself (production's defaults in brackets): `SCALE_CLIENT_RATE_PERCENT` [100] the
//! tenant's `requestsPerSecond` as a share of the limit, `SCALE_BURST_PERCENT` [production's: a tenth, `RateLimit::paced`] the client
//! limiter's burst as a share of that rate, `SCALE_GATE_WINDOW_MS` [1000] the shared gate's
//! window. `SCALE_INTERLEAVE` [0]: 1 sends the planned jobs back to the queue in turns, one of
//! each tenant, before the delivery (each planner sends its tenant's jobs together, so batches
//! hold one tenant's jobs; this shows what a queue mixing tenants would do). Only the jobs the
//! planning sent are interleaved: a staged run's later jobs (the first export's account jobs,
//! sent by its catalog stage's continuation) come during the delivery, as sent. A CI-sized smoke: `SCALE_LARGE_ACCOUNTS=200 SCALE_TENANTS=5 SCALE_TENANT_ACCOUNTS=20
//! SCALE_LATENCY_MS=5`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cwsync_benches::{
    MAX_RECEIVES, T0, TICKET_FINISHED, account, account_id, bench_options, delta, export_now,
    export_products_and_subscriptions, peak_rss_mib, rss_mib, seed_ticket_reference, seed_tickets,
};
use cwsync_billing::models::{Product, Subscription};
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise::RateLimit;
use cwsync_connectwise_sim::{SimOptions, Simulator};
use cwsync_customer_sync::CustomerSync;
use cwsync_daily_export::DailyExport;
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::{Config, Deps, StaticTenantSecrets};
use cwsync_sync::deliver::{Delivery, deliver_all_concurrently};
use cwsync_sync::report::ReportEvent;
use cwsync_sync::tenant::ConnectOptions;
use cwsync_ticket_import::{TIME_ENTRY_BATCH, TicketImport};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Set in the child process: the simulators it hosts, as JSON ([`SimsSpec`]).
const SIMS_ROLE: &str = "CWSYNC_SCALE_SIMS";
/// Records one ConnectWise read lists (`pageSize=1000`).
const PAGE: usize = 1000;
/// SQS's batch for a job queue (`BatchSize` in `infra/template.yaml`).
const SQS_BATCH: usize = 10;

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The job a scenario measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Job {
    /// The customer sync's first sync.
    Customers,
    /// The daily export's first export of the subscriptions (after the customer sync).
    Export { products: usize, per_account: usize },
    /// The ticket import's first import (after the customer sync).
    Tickets,
}

impl Job {
    fn title(self) -> String {
        match self {
            Job::Customers => "customer sync, first sync, 1 site and 2 contacts per account".into(),
            Job::Export {
                products,
                per_account,
            } => format!(
                "daily export, first export, {per_account} subscriptions per account over \
                 {products} products (every tenth disabled)"
            ),
            Job::Tickets => "ticket import, first import, 1 finished ticket per account with 1 or \
                             2 time entries"
                .into(),
        }
    }
}

/// One tenant's products and subscriptions for the export (the same in both processes).
fn export_data(
    accounts: usize,
    products: usize,
    per_account: usize,
) -> (Vec<Product>, Vec<Subscription>) {
    let account_ids: Vec<String> = (0..accounts).map(account_id).collect();
    export_products_and_subscriptions(&account_ids, products, per_account)
}

/// What the child process hosts: `tenants` pairs of simulators, each billing one with `accounts`
/// accounts (and what `job` needs), every call delayed by `latency_ms`, each ConnectWise one
/// limited to `rate` calls per second (a fixed 1 s window; a refused call gets 429 with
/// `Retry-After` the rest of the window, at least 1 s).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct SimsSpec {
    tenants: usize,
    accounts: usize,
    latency_ms: u64,
    rate: u32,
    job: Job,
}

impl SimsSpec {
    fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    fn rate_limit(&self) -> cwsync_connectwise_sim::RateLimit {
        cwsync_connectwise_sim::RateLimit::new(self.rate, Duration::from_secs(1))
    }
}

/// Starts one tenant's simulators, seeded for `spec.job` through their seeding functions.
async fn start_tenant_sims(spec: &SimsSpec) -> (Simulator, BillingSim) {
    let cw = Simulator::start(SimOptions {
        validate_responses: false,
        latency: spec.latency(),
        rate_limit: Some(spec.rate_limit()),
        ..SimOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("the ConnectWise simulator: {e}"));
    let billing = BillingSim::start(BillingSimOptions {
        latency: spec.latency(),
        ..BillingSimOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("the billing simulator: {e}"));
    billing.set_clock(T0);
    billing.seed_accounts((0..spec.accounts).map(|n| account(n, T0)).collect());
    match spec.job {
        Job::Customers => {}
        Job::Export {
            products,
            per_account,
        } => {
            let (products, subscriptions) = export_data(spec.accounts, products, per_account);
            billing.seed_products(products);
            billing.seed_subscriptions(subscriptions);
        }
        Job::Tickets => seed_ticket_reference(&cw, &billing),
    }
    (cw, billing)
}

/// The child: starts the simulators, prints `READY` and their URLs, then answers commands, one
/// line each, until `quit` or the end of its input: `calls` (one JSON line of each tenant's call
/// counts), `setup` (no latency, no rate limit), `measure` (the latency and the limit back, the
/// limit's window restarted), `tickets` (seeds the tickets on every tenant's companies).
async fn host_simulators(spec: SimsSpec) {
    let mut sims = Vec::with_capacity(spec.tenants);
    for _ in 0..spec.tenants {
        sims.push(start_tenant_sims(&spec).await);
    }
    let urls: Vec<Value> = sims
        .iter()
        .map(|(cw, billing)| json!({"cw": cw.base_url(), "billing": billing.base_url().as_str()}))
        .collect();
    println!("READY {}", Value::Array(urls));
    // Commands arrive on stdin, read on a thread of its own (the runtime has no async stdin here).
    let (commands, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if commands.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = lines.recv().await {
        let answer = match line.trim() {
            "calls" => {
                let calls: Vec<Value> = sims
                    .iter()
                    .map(|(cw, billing)| {
                        let (cw, billing) = (cw.calls(), billing.calls());
                        json!({
                            "cw": cw.total, "cw_throttled": cw.throttled,
                            "cw_by_endpoint": cw.by_endpoint,
                            "billing": billing.total, "billing_by_route": billing.by_route,
                        })
                    })
                    .collect();
                json!({"tenants": calls, "cpu_ms": cpu_time().as_millis() as u64})
            }
            "setup" | "measure" => {
                let measure = line.trim() == "measure";
                for (cw, billing) in &sims {
                    let latency = if measure {
                        spec.latency()
                    } else {
                        Duration::ZERO
                    };
                    cw.set_latency(latency);
                    billing.set_latency(latency);
                    cw.set_rate_limit(measure.then(|| spec.rate_limit()));
                }
                json!("ok")
            }
            "tickets" => json!(sims.iter().map(|(cw, _)| seed_tickets(cw)).sum::<usize>()),
            _ => break,
        };
        println!("{answer}");
    }
    for (cw, billing) in sims {
        cw.shutdown().await;
        billing.shutdown().await;
    }
}

/// One tenant's calls as the child counts them.
#[derive(Debug, Default, Clone, serde::Deserialize)]
struct TenantCalls {
    cw: u64,
    cw_throttled: u64,
    cw_by_endpoint: BTreeMap<String, u64>,
    billing: u64,
    billing_by_route: BTreeMap<String, u64>,
}

impl TenantCalls {
    /// The calls made since `before`.
    fn since(&self, before: &TenantCalls) -> TenantCalls {
        TenantCalls {
            cw: self.cw - before.cw,
            cw_throttled: self.cw_throttled - before.cw_throttled,
            cw_by_endpoint: delta(&self.cw_by_endpoint, &before.cw_by_endpoint),
            billing: self.billing - before.billing,
            billing_by_route: delta(&self.billing_by_route, &before.billing_by_route),
        }
    }

    /// The billing writes: every call that is not a GET (the simulator's own `writes` counts
    /// only PATCHes and write-backs, not service-call creates).
    fn billing_writes(&self) -> u64 {
        self.billing_by_route
            .iter()
            .filter(|(route, _)| !route.starts_with("GET "))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Every tenant's calls and the simulators' process's CPU time, at one moment.
#[derive(Debug, Clone, serde::Deserialize)]
struct CallsSnapshot {
    tenants: Vec<TenantCalls>,
    cpu_ms: u64,
}

/// The child process and its simulators' URLs.
struct Sims {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    /// (ConnectWise, billing) base URL of each tenant.
    urls: Vec<(String, String)>,
}

impl Sims {
    async fn start(spec: SimsSpec) -> Sims {
        let exe = std::env::current_exe().expect("the bench's own path");
        let mut child = tokio::process::Command::new(exe)
            .env(SIMS_ROLE, serde_json::to_string(&spec).unwrap())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the simulators' process");
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let urls = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the simulators' process ended before it was ready");
            if let Some(urls) = line.strip_prefix("READY ") {
                let urls: Vec<Value> = serde_json::from_str(urls).unwrap();
                break urls
                    .iter()
                    .map(|u| {
                        (
                            u["cw"].as_str().unwrap().to_owned(),
                            u["billing"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect();
            }
        };
        Sims {
            child,
            stdin,
            lines,
            urls,
        }
    }

    /// Sends `command` to the child; its one-line answer.
    async fn command(&mut self, command: &str) -> Value {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
        let line = self.lines.next_line().await.unwrap().unwrap();
        serde_json::from_str(&line).unwrap()
    }

    /// Each tenant's call counts so far, and the CPU time the simulators' process has used.
    async fn calls(&mut self) -> CallsSnapshot {
        serde_json::from_value(self.command("calls").await).unwrap()
    }

    async fn stop(mut self) {
        let _ = self.stdin.write_all(b"quit\n").await;
        drop(self.stdin);
        let _ = self.child.wait().await;
    }
}

/// CPU time this process has used (user and system), from `/proc/self/stat` (clock ticks of
/// 10 ms, as Linux reports them to user space); zero where there is no `/proc`.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command (which may hold spaces) start after its closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS (Linux: `5` to `clear_refs`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn tenant(t: usize) -> String {
    format!("scale-{t:03}")
}

fn fail(action: &str, d: Diagnostic) -> ! {
    panic!("{action}: {}: {}", d.error_type, d.error_message)
}

/// A scenario.
struct Scenario {
    name: String,
    tenants: usize,
    accounts: usize,
    rate: u32,
    job: Job,
}

/// How the function's client paces itself against the limit.
#[derive(Debug, Clone, Copy)]
struct Pacing {
    /// The tenant's `requestsPerSecond` as a percentage of ConnectWise's limit.
    rate_percent: u32,
    /// The client limiter's burst as a percentage of that rate; `None`: production's
    /// (`RateLimit::paced`, a tenth).
    burst_percent: Option<u32>,
    /// The shared gate's window (production: 1 s).
    gate_window: Duration,
}

impl Pacing {
    /// The client options of the measured function: the tenant's rate as paced, the shared gate,
    /// retries as deployed (a 429 waits for the server's Retry-After).
    fn options(&self, limit: u32) -> ConnectOptions {
        let rate = NonZeroU32::new(limit * self.rate_percent / 100).unwrap_or(NonZeroU32::MIN);
        let paced = RateLimit::paced(rate);
        let burst = self.burst_percent.map_or(paced.burst, |percent| {
            NonZeroU32::new(rate.get() * percent / 100).unwrap_or(NonZeroU32::MIN)
        });
        ConnectOptions {
            cw_rate: Some(RateLimit { burst, ..paced }),
            gate_window: Some(self.gate_window),
            cw_retry: None,
            billing_retry: None,
            timeout: Some(Duration::from_secs(10)),
            ..bench_options()
        }
    }
}

/// The measured function, one of the three.
enum Function {
    Customers(CustomerSync),
    Export(DailyExport),
    Tickets(TicketImport),
}

impl Function {
    fn concurrency(&self) -> usize {
        match self {
            Function::Customers(f) => {
                assert_eq!(f.concurrency, cwsync_customer_sync::DEFAULT_CONCURRENCY);
                f.concurrency
            }
            Function::Export(f) => {
                assert_eq!(f.concurrency, cwsync_daily_export::DEFAULT_CONCURRENCY);
                f.concurrency
            }
            Function::Tickets(f) => {
                assert_eq!(f.concurrency, cwsync_ticket_import::DEFAULT_CONCURRENCY);
                f.concurrency
            }
        }
    }

    /// Plans `tenant`'s tenant-wide run; the planning's answer.
    async fn plan(&self, tenant: String) -> Value {
        let planned = match self {
            Function::Customers(f) => {
                f.handle_event(cwsync_customer_sync::console::Event::SyncTenant {
                    tenant,
                    dry_run: false,
                    incremental: false,
                })
                .await
            }
            Function::Export(f) => f.handle_event(export_now(&tenant)).await,
            Function::Tickets(f) => {
                f.handle_event(cwsync_ticket_import::Event::ImportNow {
                    tenant,
                    since: None,
                    dry_run: false,
                })
                .await
            }
        };
        planned.unwrap_or_else(|d| fail("planning", d))
    }

    async fn handle_jobs(&self, event: SqsEvent, deadline: OffsetDateTime) -> SqsBatchResponse {
        match self {
            Function::Customers(f) => f.handle_jobs(event, deadline).await,
            Function::Export(f) => f.handle_jobs(event, deadline).await,
            Function::Tickets(f) => f.handle_jobs(event, deadline).await,
        }
    }

    /// The report of `tenant`'s run `run_id`, asserted a success.
    async fn report(&self, tenant: String, run_id: Option<String>) -> Value {
        let event = ReportEvent {
            tenant,
            run_id,
            page_token: None,
        };
        let report = match self {
            Function::Customers(f) => {
                f.handle_event(cwsync_customer_sync::console::Event::Report(event))
                    .await
            }
            Function::Export(f) => {
                f.handle_event(cwsync_daily_export::Event::Report(event))
                    .await
            }
            Function::Tickets(f) => {
                f.handle_event(cwsync_ticket_import::Event::Report {
                    tenant: event.tenant,
                    run_id: event.run_id,
                    page_token: None,
                    moves: false,
                })
                .await
            }
        };
        let report = report.unwrap_or_else(|d| fail("report", d));
        cwsync_benches::assert_run_succeeded(&report);
        report
    }
}

/// A tenant-wide run of every tenant at once: their plans, then their queue delivered.
struct Window {
    planned: Duration,
    wall: Duration,
    delivery: Delivery,
    /// Records created, by entity, over every tenant's report.
    created: BTreeMap<String, u64>,
    /// The process's RSS when the window opened, and its peak while the runs were planned and
    /// while their jobs were delivered, in MiB.
    rss: Rss,
}

struct Rss {
    start: f64,
    planning: f64,
    delivery: f64,
}

/// Plans every tenant's run at once, delivers `queue` `instances` batches at once (its jobs in
/// turns, one of each tenant, when `interleave`), then (not
/// timed) reads every run's report (each must have succeeded) and counts what they created.
async fn run_all(
    function: &Function,
    queue: &MemoryJobQueue,
    tenants: usize,
    instances: usize,
    interleave: bool,
) -> Window {
    let start = rss_mib();
    reset_peak_rss();
    let started = Instant::now();
    let plans = futures::future::join_all((0..tenants).map(|t| function.plan(tenant(t)))).await;
    let planned = started.elapsed();
    let planning = peak_rss_mib();
    reset_peak_rss();
    if interleave {
        interleave_tenants(queue).await;
    }
    let delivery = deliver_all_concurrently(
        queue,
        MAX_RECEIVES,
        instances,
        |event, deadline| function.handle_jobs(event, deadline),
        |_| {},
    )
    .await;
    let wall = started.elapsed();
    let rss = Rss {
        start,
        planning,
        delivery: peak_rss_mib(),
    };
    assert!(
        delivery.dead_letters.is_empty(),
        "jobs that would be in the DLQ: {:?}",
        delivery.dead_letters
    );
    let mut created: BTreeMap<String, u64> = BTreeMap::new();
    for (t, plan) in plans.iter().enumerate() {
        let run_id = plan["runId"].as_str().map(str::to_owned);
        let report = function.report(tenant(t), run_id).await;
        for (entity, counts) in report["run"]["counts"].as_object().into_iter().flatten() {
            *created.entry(entity.clone()).or_default() += counts["created"].as_u64().unwrap_or(0);
        }
    }
    created.retain(|_, n| *n > 0);
    Window {
        planned,
        wall,
        delivery,
        created,
        rss,
    }
}

/// Takes the queue's jobs and sends them back in turns, one job of each tenant, in the order
/// each tenant's were planned.
async fn interleave_tenants(queue: &MemoryJobQueue) {
    use cwsync_queue::JobQueue as _;
    let mut by_tenant: BTreeMap<String, std::collections::VecDeque<cwsync_queue::Job>> =
        BTreeMap::new();
    for job in queue.drain() {
        by_tenant
            .entry(job.tenant().to_owned())
            .or_default()
            .push_back(job);
    }
    let mut turns = Vec::new();
    while by_tenant.values().any(|jobs| !jobs.is_empty()) {
        turns.extend(
            by_tenant
                .values_mut()
                .filter_map(std::collections::VecDeque::pop_front),
        );
    }
    for chunk in turns.chunks(SQS_BATCH) {
        queue.send_batch(chunk).await.unwrap();
    }
}

/// What one tenant's run must create and the ConnectWise calls it cannot do without.
struct Bound {
    /// Records created by entity, as the report counts them (asserted).
    created: BTreeMap<String, u64>,
    /// ConnectWise writes (one per record created in ConnectWise).
    writes: u64,
    /// ConnectWise reads, and what they are.
    reads: u64,
    reads_are: String,
}

fn bound(job: Job, accounts: usize) -> Bound {
    let pages = |n: usize| n.div_ceil(PAGE) as u64;
    let n = accounts as u64;
    match job {
        Job::Customers => Bound {
            created: [("company", n), ("contact", 2 * n), ("site", n)]
                .map(|(k, v)| (k.to_owned(), v))
                .into(),
            writes: 4 * n,
            reads: pages(accounts),
            reads_are: "1 company listing per 1,000 accounts".into(),
        },
        Job::Export {
            products,
            per_account,
        } => {
            let (products_seeded, subscriptions) = export_data(accounts, products, per_account);
            // One agreement per account, agreement type and billing cycle.
            let agreements: BTreeSet<(&String, &Option<String>, &Option<String>)> = subscriptions
                .iter()
                .map(|s| (&s.account_id, &s.agreement_type, &s.billing_frequency))
                .collect();
            let created: BTreeMap<String, u64> = [
                ("catalog-item", products_seeded.len() as u64),
                ("agreement", agreements.len() as u64),
                ("addition", subscriptions.len() as u64),
            ]
            .map(|(k, v)| (k.to_owned(), v))
            .into();
            Bound {
                writes: created.values().sum(),
                created,
                reads: pages(products) + pages(accounts),
                reads_are: "1 per 1,000 products (catalog items by SKU) + 1 per 1,000 accounts \
                            (agreements by company)"
                    .into(),
            }
        }
        Job::Tickets => {
            let batches = accounts.div_ceil(SQS_BATCH) as u64;
            Bound {
                created: [("ticket", n)].map(|(k, v)| (k.to_owned(), v)).into(),
                writes: 0,
                reads: pages(accounts)
                    + accounts.div_ceil(TIME_ENTRY_BATCH) as u64
                    + 1
                    + 3 * batches,
                reads_are: format!(
                    "1 ticket listing per 1,000 + 1 time-entry read per {TIME_ENTRY_BATCH} \
                     tickets + 1 members read + 3 per SQS batch of {SQS_BATCH} jobs (tickets, \
                     time entries, products)"
                ),
            }
        }
    }
}

/// The set-up a job needs before its measured window (not measured): the simulators without
/// latency or limit, every tenant's settings stored and its customer sync run to the end with an
/// unlimited client, the tickets seeded; then the latency and the limit back on.
async fn set_up(scenario: &Scenario, sims: &mut Sims, deps: &Arc<Deps>, queue: &MemoryJobQueue) {
    let settings = match scenario.job {
        Job::Customers => return,
        Job::Export { .. } => cwsync_billing_sim::fixture_export_settings(),
        Job::Tickets => json!({"ticketImport": {"statuses": [TICKET_FINISHED]}}),
    };
    let started = Instant::now();
    sims.command("setup").await;
    let customers = CustomerSync::new(Arc::clone(deps), bench_options());
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let mut document =
        serde_json::to_value(cwsync_mapping::settings::TenantSettings::default()).unwrap();
    cwsync_test_support::merge(&mut document, settings);
    for t in 0..scenario.tenants {
        let put = json!({"action": "put-settings", "tenant": tenant(t), "settings": document});
        if let Err(d) = customers.handle(put, deadline).await {
            fail("put-settings", d);
        }
    }
    let customers = Function::Customers(customers);
    let window = run_all(&customers, queue, scenario.tenants, 5, false).await;
    let companies = window.created.get("company").copied().unwrap_or(0);
    assert_eq!(companies, (scenario.tenants * scenario.accounts) as u64);
    let tickets = if scenario.job == Job::Tickets {
        let seeded = sims.command("tickets").await.as_u64().unwrap();
        format!(", {seeded} tickets seeded")
    } else {
        String::new()
    };
    sims.command("measure").await;
    println!(
        "  set-up, not measured: settings stored, customer sync of {companies} companies \
         (no latency, no limit){tickets}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn run(scenario: &Scenario, latency_ms: u64, instances: usize, pacing: Pacing) {
    let spec = SimsSpec {
        tenants: scenario.tenants,
        accounts: scenario.accounts,
        latency_ms,
        rate: scenario.rate,
        job: scenario.job,
    };
    println!("{}", scenario.name);
    let mut sims = Sims::start(spec).await;
    let mut secrets = StaticTenantSecrets::new();
    for (t, (cw, billing)) in sims.urls.iter().enumerate() {
        let secret = cwsync_test_support::secret_at(cw, billing);
        secrets = secrets
            .with_secret_json(&tenant(t), &secret.to_string())
            .unwrap();
    }
    let function_name = match scenario.job {
        Job::Customers => cwsync_customer_sync::FUNCTION,
        Job::Export { .. } => cwsync_daily_export::FUNCTION,
        Job::Tickets => cwsync_ticket_import::FUNCTION,
    };
    let mut deps = Deps::local(function_name, Config::local(), secrets);
    // On moto (DynamoDB over HTTP, in its own process) when `MOTO_ENDPOINT` is set, so the peak
    // RSS holds none of the stored data; else in memory.
    if std::env::var_os("MOTO_ENDPOINT").is_some() {
        deps.stores = cwsync_test_support::stores("cwsync-scale").await;
    }
    let customer_queue = Arc::new(MemoryJobQueue::new());
    deps.queues.customer = Some(customer_queue.clone());
    let job_queue = match scenario.job {
        Job::Customers => customer_queue.clone(),
        Job::Export { .. } => {
            let queue = Arc::new(MemoryJobQueue::new());
            deps.queues.export = Some(queue.clone());
            queue
        }
        Job::Tickets => {
            let queue = Arc::new(MemoryJobQueue::new());
            deps.queues.ticket = Some(queue.clone());
            queue
        }
    };
    let deps = Arc::new(deps);
    set_up(scenario, &mut sims, &deps, &customer_queue).await;

    let options = pacing.options(scenario.rate);
    let rate = options.cw_rate.map_or(0, |r| r.per_second.get());
    let burst = options.cw_rate.map_or(0, |r| r.burst.get());
    let function = match scenario.job {
        Job::Customers => Function::Customers(CustomerSync::new(deps, options)),
        Job::Export { .. } => Function::Export(DailyExport::new(deps, options)),
        Job::Tickets => Function::Tickets(TicketImport::new(deps, options)),
    };
    let concurrency = function.concurrency();

    let before = sims.calls().await;
    let cpu_before = cpu_time();
    // What a queue that mixes tenants would deliver (the planners send a tenant's jobs together).
    let interleave = env_or::<u8>("SCALE_INTERLEAVE", 0) == 1;
    if interleave {
        println!("  the planned jobs are sent back to the queue in turns, one of each tenant");
    }
    let window = run_all(
        &function,
        &job_queue,
        scenario.tenants,
        instances,
        interleave,
    )
    .await;
    let cpu = cpu_time().saturating_sub(cpu_before);
    let rss = window.rss.planning.max(window.rss.delivery);
    let wall = window.wall;

    let per_tenant = bound(scenario.job, scenario.accounts);
    let expected: BTreeMap<String, u64> = per_tenant
        .created
        .iter()
        .map(|(entity, n)| (entity.clone(), n * scenario.tenants as u64))
        .collect();
    assert_eq!(
        window.created, expected,
        "{}: records created",
        scenario.name
    );
    let created: u64 = expected.values().sum();

    let after = sims.calls().await;
    sims.stop().await;
    let sims_cpu = after.cpu_ms.saturating_sub(before.cpu_ms);
    let calls: Vec<TenantCalls> = after
        .tenants
        .iter()
        .zip(&before.tenants)
        .map(|(after, before)| after.since(before))
        .collect();
    let sum = |f: fn(&TenantCalls) -> u64| -> u64 { calls.iter().map(f).sum() };
    let cw_calls = sum(|c| c.cw);
    let throttled = sum(|c| c.cw_throttled);
    let billing_calls = sum(|c| c.billing);
    let billing_writes = sum(TenantCalls::billing_writes);
    let busiest = calls
        .iter()
        .map(|c| c.cw - c.cw_throttled)
        .max()
        .unwrap_or(0);
    let tenants = scenario.tenants as u64;
    let (writes, reads) = (per_tenant.writes * tenants, per_tenant.reads * tenants);
    let bound = writes + reads;
    let floor = busiest as f64 / f64::from(scenario.rate);
    let ratio = wall.as_secs_f64() / floor;
    // What the job writes: to ConnectWise, or (the ticket import) to billing.
    let written = if writes > 0 { created } else { billing_writes };

    println!(
        "  measured: the job's planning and delivery only; client: {rate} req/s ({}% of the \
         limit), burst {burst}, gate windows of {} ms; {instances} batches of {SQS_BATCH} at \
         once, each {concurrency} jobs at a time",
        pacing.rate_percent,
        pacing.gate_window.as_millis()
    );
    let created_list: Vec<String> = expected.iter().map(|(e, n)| format!("{n} {e}")).collect();
    println!("  created (asserted): {}", created_list.join(", "));
    println!(
        "  ConnectWise calls {cw_calls} (429s: {throttled}) / lower bound {bound} ({writes} \
         writes + {reads} reads: {} per tenant) = {:.3}; billing calls {billing_calls} \
         ({billing_writes} writes)",
        per_tenant.reads_are,
        cw_calls as f64 / bound as f64
    );
    println!(
        "  wall {:.1} s (planning {:.1} s) / rate-limit floor {floor:.1} s (busiest tenant's \
         {busiest} accepted calls at {} req/s) = {ratio:.2} (target <= 1.15: {})",
        wall.as_secs_f64(),
        window.planned.as_secs_f64(),
        scenario.rate,
        if ratio <= 1.15 { "met" } else { "MISSED" },
    );
    println!(
        "  {:.0} records written/s, {:.0} accounts/s; {} deliveries; peak RSS of the function's \
         process {rss:.1} MiB (at the start {:.1} MiB; the planning's peak {:.1}, the \
         delivery's {:.1})",
        written as f64 / wall.as_secs_f64(),
        (scenario.tenants * scenario.accounts) as f64 / wall.as_secs_f64(),
        window.delivery.deliveries,
        window.rss.start,
        window.rss.planning,
        window.rss.delivery,
    );
    println!(
        "  CPU: the function's process {:.1} s ({:.2} ms per ConnectWise call), the simulators' \
         {:.1} s, of {:.0} s on the machine's 2 cores",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / cw_calls.max(1) as f64,
        sims_cpu as f64 / 1000.0,
        2.0 * wall.as_secs_f64(),
    );
    let mut cw_by_endpoint: BTreeMap<&str, u64> = BTreeMap::new();
    let mut billing_by_route: BTreeMap<&str, u64> = BTreeMap::new();
    for c in &calls {
        for (endpoint, n) in &c.cw_by_endpoint {
            *cw_by_endpoint.entry(endpoint).or_default() += n;
        }
        for (route, n) in &c.billing_by_route {
            *billing_by_route.entry(route).or_default() += n;
        }
    }
    for (endpoint, n) in cw_by_endpoint {
        println!("    CW      {endpoint:<52} {n:>7}");
    }
    for (route, n) in billing_by_route {
        println!("    billing {route:<52} {n:>7}");
    }
}

#[tokio::main]
async fn main() {
    if let Ok(spec) = std::env::var(SIMS_ROLE) {
        let spec: SimsSpec = serde_json::from_str(&spec).expect("the simulators' spec");
        host_simulators(spec).await;
        return;
    }
    let latency_ms: u64 = env_or("SCALE_LATENCY_MS", 50);
    let instances: usize = env_or("SCALE_INSTANCES", 5);
    let large = |job| Scenario {
        tenants: 1,
        accounts: env_or("SCALE_LARGE_ACCOUNTS", 5_000),
        rate: env_or("SCALE_LARGE_RATE", 100),
        job,
        name: String::new(),
    };
    let many = |job| Scenario {
        tenants: env_or("SCALE_TENANTS", 200),
        accounts: env_or("SCALE_TENANT_ACCOUNTS", 50),
        rate: env_or("SCALE_TENANT_RATE", 10),
        job,
        name: String::new(),
    };
    let export = Job::Export {
        products: env_or("SCALE_EXPORT_PRODUCTS", 12),
        per_account: env_or("SCALE_EXPORT_SUBSCRIPTIONS", 3),
    };
    let wanted: String = env_or(
        "SCALE_SCENARIOS",
        "large,many,export-large,export-many,tickets-large,tickets-many".to_owned(),
    );
    let pacing = Pacing {
        rate_percent: env_or("SCALE_CLIENT_RATE_PERCENT", 100u32).clamp(1, 100),
        burst_percent: std::env::var("SCALE_BURST_PERCENT")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map(|p| p.clamp(1, 100)),
        gate_window: Duration::from_millis(env_or("SCALE_GATE_WINDOW_MS", 1000u64).max(1)),
    };
    println!(
        "jobs at scale: simulator latency {latency_ms} ms; {instances} batches at once; \
         ConnectWise limited per tenant (fixed 1 s windows) at the tenant's rate"
    );
    let started = Instant::now();
    let scenarios = [
        ("large", large(Job::Customers)),
        ("many", many(Job::Customers)),
        ("export-large", large(export)),
        ("export-many", many(export)),
        ("tickets-large", large(Job::Tickets)),
        ("tickets-many", many(Job::Tickets)),
    ];
    for (key, mut scenario) in scenarios {
        if !wanted.split(',').any(|w| w.trim() == key) {
            continue;
        }
        scenario.name = format!(
            "{key}: {}: {} tenant(s) x {} accounts at {} req/s per tenant",
            scenario.job.title(),
            scenario.tenants,
            scenario.accounts,
            scenario.rate
        );
        run(&scenario, latency_ms, instances, pacing).await;
    }
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
}
