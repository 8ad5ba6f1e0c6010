//! The jobs at scale, with ConnectWise's rate limit on and the simulators' latency of a real
//! network: **1 tenant × 5,000 accounts** and **200 tenants × 50 accounts**, the customer sync's
//! first sync (each account with one site and two contacts). Not run in CI: a full run takes
//! minutes (see `docs/BENCHMARKS.md`).
//!
//! Two processes, so the figures are the function's own: the simulators (one ConnectWise and one
//! billing simulator per tenant, each ConnectWise one with a fixed-window rate limit of the
//! tenant's rate, both with the latency) run in a child process (this same binary, started with
//! `CWSYNC_SCALE_SIMS`); the bench process runs the real `customer-sync` function over HTTP, on
//! in-memory stores and an in-memory customer queue delivered as SQS would, `SCALE_INSTANCES`
//! batches at once (the stack's `JobConcurrency`, the event source's `MaximumConcurrency`), each
//! batch's jobs `DEFAULT_CONCURRENCY` at a time, every tenant's client at the tenant's rate
//! through the shared rate gate. Every tenant is planned at once, then the queue is delivered.
//!
//! Prints per scenario: ConnectWise calls (429s included) and their ratio to the lower bound (the
//! records created plus one listing read per 1,000 accounts of each tenant), the wall time and
//! its ratio to the **rate-limit floor** (the busiest tenant's accepted calls ÷ its rate, tenants
//! in parallel; target ≤ 1.15), records created per second, and the bench process's peak RSS
//! during the scenario (`VmHWM`, reset before it): the function, its stores and queue and the
//! bench's driver — not the simulators. With `MOTO_ENDPOINT` set the stores are on moto (another
//! process, as DynamoDB is), so the figure holds none of the stored data; without it they are in
//! memory and it holds what DynamoDB would hold (links, runs, ledger) too. The queue is always in
//! memory (5,000 jobs of a few hundred bytes).
//!
//! Run: `cargo bench -p cwsync-benches --bench scale`. Environment (defaults in brackets):
//! `SCALE_LATENCY_MS` [50] latency of every simulator call; `SCALE_INSTANCES` [5] batches
//! handled at once; `SCALE_LARGE_ACCOUNTS` [5000] and `SCALE_LARGE_RATE` [100] (requests/s) for
//! the one large tenant; `SCALE_TENANTS` [200], `SCALE_TENANT_ACCOUNTS` [50] and
//! `SCALE_TENANT_RATE` [10] (the client's default `requestsPerSecond`) for the many small ones;
//! `SCALE_SCENARIOS` [`large,many`]. How the client paces itself (production's defaults in
//! brackets): `SCALE_CLIENT_RATE_PERCENT` [100] the tenant's `requestsPerSecond` as a share of
//! the limit, `SCALE_BURST_PERCENT` [100] the client limiter's burst as a share of that rate,
//! `SCALE_GATE_WINDOW_MS` [1000] the shared gate's window. A CI-sized smoke: `SCALE_LARGE_ACCOUNTS=200
//! SCALE_TENANTS=5 SCALE_TENANT_ACCOUNTS=20 SCALE_LATENCY_MS=5`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cwsync_benches::{MAX_RECEIVES, T0, account, bench_options, peak_rss_mib};
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise::RateLimit;
use cwsync_connectwise_sim::{SimOptions, Simulator};
use cwsync_customer_sync::console::Event;
use cwsync_customer_sync::{CustomerSync, DEFAULT_CONCURRENCY, FUNCTION};
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::{Config, Deps, StaticTenantSecrets};
use cwsync_sync::deliver::deliver_all_concurrently;
use cwsync_sync::report::ReportEvent;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Set in the child process: the simulators it hosts, as JSON ([`SimsSpec`]).
const SIMS_ROLE: &str = "CWSYNC_SCALE_SIMS";

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// What the child process hosts: `tenants` pairs of simulators, each billing one with `accounts`
/// accounts, every call delayed by `latency_ms`, each ConnectWise one limited to `rate` calls
/// per second (a fixed 1 s window; a refused call gets 429 with `Retry-After` the rest of the
/// window, at least 1 s).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct SimsSpec {
    tenants: usize,
    accounts: usize,
    latency_ms: u64,
    rate: u32,
}

/// The child: starts the simulators, prints `READY` and their URLs, then answers `calls` (one
/// JSON line of each tenant's call counts) until `quit` or the end of its input.
async fn host_simulators(spec: SimsSpec) {
    let latency = Duration::from_millis(spec.latency_ms);
    let mut sims = Vec::with_capacity(spec.tenants);
    for _ in 0..spec.tenants {
        let cw = Simulator::start(SimOptions {
            validate_responses: false,
            latency,
            rate_limit: Some(cwsync_connectwise_sim::RateLimit::new(
                spec.rate,
                Duration::from_secs(1),
            )),
            ..SimOptions::default()
        })
        .await
        .unwrap_or_else(|e| panic!("the ConnectWise simulator: {e}"));
        let billing = BillingSim::start(BillingSimOptions {
            latency,
            ..BillingSimOptions::default()
        })
        .await
        .unwrap_or_else(|e| panic!("the billing simulator: {e}"));
        billing.set_clock(T0);
        billing.seed_accounts((0..spec.accounts).map(|n| account(n, T0)).collect());
        sims.push((cw, billing));
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
        match line.trim() {
            "calls" => {
                let calls: Vec<Value> = sims
                    .iter()
                    .map(|(cw, billing)| {
                        let (cw, billing) = (cw.calls(), billing.calls());
                        json!({
                            "cw": cw.total, "cw_writes": cw.writes, "cw_throttled": cw.throttled,
                            "cw_by_endpoint": cw.by_endpoint,
                            "billing": billing.total, "billing_writes": billing.writes,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    json!({"tenants": calls, "cpu_ms": cpu_time().as_millis() as u64})
                );
            }
            _ => break,
        }
    }
    for (cw, billing) in sims {
        cw.shutdown().await;
        billing.shutdown().await;
    }
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

    /// Each tenant's call counts so far, and the CPU time the simulators' process has used.
    async fn calls(&mut self) -> Value {
        self.stdin.write_all(b"calls\n").await.unwrap();
        self.stdin.flush().await.unwrap();
        let line = self.lines.next_line().await.unwrap().unwrap();
        serde_json::from_str(&line).unwrap()
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

/// A scenario's figures.
struct Scenario {
    name: String,
    tenants: usize,
    accounts: usize,
    rate: u32,
}

/// How the function's client paces itself against the limit.
#[derive(Debug, Clone, Copy)]
struct Pacing {
    /// The tenant's `requestsPerSecond` as a percentage of ConnectWise's limit.
    rate_percent: u32,
    /// The client limiter's burst as a percentage of that rate (production: 100).
    burst_percent: u32,
    /// The shared gate's window (production: 1 s).
    gate_window: Duration,
}

async fn run(scenario: &Scenario, latency_ms: u64, instances: usize, pacing: Pacing) {
    let spec = SimsSpec {
        tenants: scenario.tenants,
        accounts: scenario.accounts,
        latency_ms,
        rate: scenario.rate,
    };
    let mut sims = Sims::start(spec).await;
    let mut secrets = StaticTenantSecrets::new();
    for (t, (cw, billing)) in sims.urls.iter().enumerate() {
        let secret = cwsync_test_support::secret_at(cw, billing);
        secrets = secrets
            .with_secret_json(&tenant(t), &secret.to_string())
            .unwrap();
    }
    let mut deps = Deps::local(FUNCTION, Config::local(), secrets);
    // On moto (DynamoDB over HTTP, in its own process) when `MOTO_ENDPOINT` is set, so the peak
    // RSS holds none of the stored data; else in memory.
    if std::env::var_os("MOTO_ENDPOINT").is_some() {
        deps.stores = cwsync_test_support::stores("cwsync-scale").await;
    }
    let queue = Arc::new(MemoryJobQueue::new());
    deps.queues.customer = Some(queue.clone());
    let rate =
        NonZeroU32::new(scenario.rate * pacing.rate_percent / 100).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.get() * pacing.burst_percent / 100).unwrap_or(NonZeroU32::MIN);
    let options = cwsync_sync::tenant::ConnectOptions {
        cw_rate: Some(RateLimit {
            per_second: rate,
            burst,
            ..RateLimit::default()
        }),
        gate_window: Some(pacing.gate_window),
        // Retries as deployed (a 429 waits for the server's Retry-After).
        cw_retry: None,
        billing_retry: None,
        timeout: Some(Duration::from_secs(10)),
        ..bench_options()
    };
    let service = CustomerSync::new(Arc::new(deps), options);
    assert_eq!(service.concurrency, DEFAULT_CONCURRENCY);

    reset_peak_rss();
    let sims_cpu_before = sims.calls().await["cpu_ms"].as_u64().unwrap_or(0);
    let cpu_before = cpu_time();
    let started = Instant::now();
    let plans = futures::future::join_all((0..scenario.tenants).map(|t| {
        service.handle_event(Event::SyncTenant {
            tenant: tenant(t),
            dry_run: false,
            incremental: false,
        })
    }))
    .await;
    let planned = started.elapsed();
    let delivery = deliver_all_concurrently(
        &queue,
        MAX_RECEIVES,
        instances,
        |event, deadline| service.handle_jobs(event, deadline),
        |_| {},
    )
    .await;
    let wall = started.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);
    let rss = peak_rss_mib();
    assert!(
        delivery.dead_letters.is_empty(),
        "{}: jobs that would be in the DLQ: {:?}",
        scenario.name,
        delivery.dead_letters
    );

    // Every tenant's run succeeded and created everything (not timed).
    let mut created = 0u64;
    for (t, plan) in plans.into_iter().enumerate() {
        let plan =
            plan.unwrap_or_else(|d| panic!("sync-tenant: {}: {}", d.error_type, d.error_message));
        let report = service
            .handle_event(Event::Report(ReportEvent {
                tenant: tenant(t),
                run_id: plan["runId"].as_str().map(str::to_owned),
                page_token: None,
            }))
            .await
            .unwrap_or_else(|d| panic!("report: {}: {}", d.error_type, d.error_message));
        cwsync_benches::assert_run_succeeded(&report);
        for (entity, per_account) in [("company", 1), ("site", 1), ("contact", 2)] {
            let n = report["run"]["counts"][entity]["created"]
                .as_u64()
                .unwrap_or(0);
            assert_eq!(
                n,
                per_account * scenario.accounts as u64,
                "{}: tenant {t}: {entity}s created",
                scenario.name
            );
            created += n;
        }
    }

    let answer = sims.calls().await;
    sims.stop().await;
    let sims_cpu = answer["cpu_ms"].as_u64().unwrap_or(0) - sims_cpu_before;
    let calls: Vec<Value> = answer["tenants"].as_array().cloned().unwrap_or_default();
    let sum = |key: &str| calls.iter().map(|c| c[key].as_u64().unwrap_or(0)).sum();
    let cw_calls: u64 = sum("cw");
    let throttled: u64 = sum("cw_throttled");
    let billing_calls: u64 = sum("billing");
    let busiest = calls
        .iter()
        .map(|c| c["cw"].as_u64().unwrap_or(0) - c["cw_throttled"].as_u64().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let listings = scenario.tenants as u64 * scenario.accounts.div_ceil(1000) as u64;
    let bound = created + listings;
    let floor = busiest as f64 / f64::from(scenario.rate);
    let ratio = wall.as_secs_f64() / floor;

    println!("{}", scenario.name);
    println!(
        "  client: {rate} req/s ({}% of the limit), burst {burst}, gate windows of {} ms",
        pacing.rate_percent,
        pacing.gate_window.as_millis()
    );
    println!(
        "  ConnectWise calls {cw_calls} (429s: {throttled}) / lower bound {bound} ({created} records \
         created + {listings} listing reads) = {:.3}; billing calls {billing_calls}",
        cw_calls as f64 / bound as f64
    );
    println!(
        "  wall {:.1} s (planning {:.1} s) / rate-limit floor {floor:.1} s (busiest tenant's \
         {busiest} accepted calls at {} req/s) = {ratio:.2} (target <= 1.15: {})",
        wall.as_secs_f64(),
        planned.as_secs_f64(),
        scenario.rate,
        if ratio <= 1.15 { "met" } else { "MISSED" },
    );
    println!(
        "  {:.0} records created/s, {:.0} accounts/s; {} deliveries; peak RSS of the function's \
         process {rss:.1} MiB",
        created as f64 / wall.as_secs_f64(),
        (scenario.tenants * scenario.accounts) as f64 / wall.as_secs_f64(),
        delivery.deliveries,
    );
    println!(
        "  CPU: the function's process {:.1} s ({:.2} ms per ConnectWise call), the simulators' \
         {:.1} s, of {:.0} s on the machine's 2 cores",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / cw_calls.max(1) as f64,
        sims_cpu as f64 / 1000.0,
        2.0 * wall.as_secs_f64(),
    );
    let mut by_endpoint: std::collections::BTreeMap<String, u64> = Default::default();
    for c in &calls {
        for (endpoint, n) in c["cw_by_endpoint"].as_object().into_iter().flatten() {
            *by_endpoint.entry(endpoint.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
    for (endpoint, n) in by_endpoint {
        println!("    CW {endpoint:<52} {n:>7}");
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
    let large = Scenario {
        tenants: 1,
        accounts: env_or("SCALE_LARGE_ACCOUNTS", 5_000),
        rate: env_or("SCALE_LARGE_RATE", 100),
        name: String::new(),
    };
    let many = Scenario {
        tenants: env_or("SCALE_TENANTS", 200),
        accounts: env_or("SCALE_TENANT_ACCOUNTS", 50),
        rate: env_or("SCALE_TENANT_RATE", 10),
        name: String::new(),
    };
    let wanted: String = env_or("SCALE_SCENARIOS", "large,many".to_owned());
    let pacing = Pacing {
        rate_percent: env_or("SCALE_CLIENT_RATE_PERCENT", 100u32).clamp(1, 100),
        burst_percent: env_or("SCALE_BURST_PERCENT", 100u32).clamp(1, 100),
        gate_window: Duration::from_millis(env_or("SCALE_GATE_WINDOW_MS", 1000u64).max(1)),
    };
    println!(
        "customer sync at scale: first sync, 1 site and 2 contacts per account; simulator latency \
         {latency_ms} ms; {instances} batches of 10 at once, each {DEFAULT_CONCURRENCY} jobs at a \
         time; ConnectWise limited per tenant (fixed 1 s windows) at the tenant's rate"
    );
    let started = Instant::now();
    for (key, mut scenario) in [("large", large), ("many", many)] {
        if !wanted.split(',').any(|w| w.trim() == key) {
            continue;
        }
        scenario.name = format!(
            "{} tenant(s) x {} accounts at {} req/s per tenant",
            scenario.tenants, scenario.accounts, scenario.rate
        );
        run(&scenario, latency_ms, instances, pacing).await;
    }
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
}
