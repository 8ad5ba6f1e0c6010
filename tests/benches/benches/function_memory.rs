//! The peak memory of the **release** `customer-sync` binary in the largest scenario, the first
//! sync of 1 tenant × 5,000 accounts (one site and two contacts each), run as Lambda runs it: one
//! warm instance of the binary under the Lambda Runtime API stand-in
//! (`cwsync_lambda_harness::Instance`), its table, job queue and tenant secret on moto
//! (`cwsync_test_support::binary_stack`), the simulators in this bench's process. The instance
//! stores the tenant's settings (`put-settings`), plans the run (`sync-tenant`: the account
//! listing, the company listing, the jobs sent to SQS), then is handed the queue's messages in
//! batches of 10 as the event source mapping hands them, until the queue is empty; the bench
//! then asks it for the run's report and checks that every account's company was created.
//!
//! Nothing but the function is in the measured process: not the stores, the queue, the
//! simulators or a driver. The figures are the process's `VmRSS` and `VmHWM` (peak) from
//! `/proc/<pid>/status` after each step: at init (after a `health` event), after the settings,
//! after the planning (the peak so far is the planning's) and at the end (the whole run's peak).
//! Target: < 48 MB (10⁶ bytes) for 5,000 accounts.
//!
//! One instance handles every event, so anything the function keeps between invocations shows;
//! in production the planning and the batches may fall on different instances, each of which
//! peaks lower or equal.
//!
//! Needs moto (`MOTO_ENDPOINT`, or the repo's `.venv`) and the release binary, which the bench
//! does not build:
//!
//! ```text
//! cargo build --release -p cwsync-customer-sync
//! cargo bench -p cwsync-benches --bench function_memory
//! ```
//!
//! The binary is looked for as [`cwsync_benches::release_dir`] says. `MEMORY_ACCOUNTS` [5000]
//! sets the accounts. The tenant's `requestsPerSecond` is 1,000 (the most it may be) and the
//! simulators answer at once: the run is bound by moto (serialized Python), and its wall time
//! says nothing about the function. The function's log lines go to a file named at the start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::time::{Duration, Instant};

use cwsync_benches::{T0, account, lambda_certificates, release_dir};
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise_sim::{SimOptions, Simulator};
use cwsync_lambda_harness::{Instance, Memory, Outcome};
use cwsync_test_support::Report;
use cwsync_test_support::binary_stack::BinaryStack;
use serde_json::{Value, json};

/// Target: the peak under 48 MB.
const TARGET_BYTES: u64 = 48_000_000;
/// A bound on one invocation, not a race (a batch of 10 accounts on moto takes seconds).
const WAIT: Duration = Duration::from_secs(600);
/// SQS's batch for a job queue (`BatchSize` in `infra/template.yaml`).
const SQS_BATCH: i32 = 10;

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn memory(instance: &Instance, step: &str) -> Memory {
    let memory = instance
        .memory()
        .unwrap_or_else(|| panic!("{step}: the instance's memory can't be read (no /proc?)"));
    println!(
        "  {step:<34} RSS {:>10}   peak so far {:>10}",
        mib(memory.rss_kib),
        mib(memory.peak_kib)
    );
    memory
}

async fn answer(instance: &mut Instance, event: Value) -> Value {
    match instance.invoke(event.clone(), WAIT).await {
        Ok(Outcome::Response(answer)) => answer,
        other => panic!("{event}: {other:?}"),
    }
}

#[tokio::main]
async fn main() {
    let accounts: usize = std::env::var("MEMORY_ACCOUNTS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5000);
    let binary = release_dir().join("customer-sync");
    if !binary.exists() {
        panic!(
            "{}: build the release binary first: cargo build --release -p cwsync-customer-sync",
            binary.display()
        );
    }
    let Some(moto) = cwsync_aws_harness::moto() else {
        panic!("this bench needs moto: set MOTO_ENDPOINT or create .venv (bash .ci/test)");
    };
    println!(
        "function memory: the release customer-sync ({}), one warm instance, first sync of 1 \
         tenant x {accounts} accounts (1 site, 2 contacts each), stores, queue and secret on moto",
        binary.display()
    );

    let cw = Simulator::start(SimOptions {
        validate_responses: false,
        ..SimOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("the ConnectWise simulator: {e}"));
    let billing = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap_or_else(|e| panic!("the billing simulator: {e}"));
    billing.set_clock(T0);
    billing.seed_accounts((0..accounts).map(|n| account(n, T0)).collect());

    let stack = BinaryStack::create(moto, "memory").await;
    let tenant = cwsync_aws_harness::unique_name("memory");
    stack
        .put_secret(&tenant, &cwsync_test_support::secret(&cw, &billing))
        .await;
    let empty = std::env::temp_dir().join(format!("cwsync-memory-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap_or_else(|e| panic!("{}: {e}", empty.display()));
    let log = std::env::temp_dir().join(format!("cwsync-memory-{}.log", std::process::id()));
    println!("  the function's log: {}", log.display());
    let certificates = lambda_certificates(&empty.to_string_lossy());
    let mut env = stack.env();
    env.extend(certificates.iter().map(|(k, v)| (*k, v.as_str())));
    env.push(("METRICS_NAMESPACE", "cwsync"));
    let path = binary.to_string_lossy().into_owned();
    let mut instance = Instance::start(&path, cwsync_customer_sync::FUNCTION, &env, Some(&log))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    answer(&mut instance, json!({"action": "health"})).await;
    let init = memory(&instance, "init (after a health event)");
    let settings = json!({"connectWise": {"requestsPerSecond": 1000}});
    answer(
        &mut instance,
        cwsync_test_support::put_settings_event(&tenant, &json!({}), settings),
    )
    .await;
    memory(&instance, "settings stored");

    let started = Instant::now();
    let planned = answer(
        &mut instance,
        json!({"action": "sync-tenant", "tenant": tenant}),
    )
    .await;
    let planning_time = started.elapsed();
    assert_eq!(planned["jobsSent"], json!(accounts), "{planned}");
    let planning = memory(&instance, "planned (jobs sent)");

    let delivered = stack
        .deliver(
            &stack.customer_queue,
            &mut instance,
            SQS_BATCH,
            (accounts as u64).div_ceil(SQS_BATCH as u64) * 3 + 100,
            WAIT,
        )
        .await
        .unwrap_or_else(|e| panic!("the delivery: {e}"));
    let wall = started.elapsed();
    let end = memory(&instance, "every batch delivered");

    let report = Report(answer(&mut instance, json!({"action": "report", "tenant": tenant})).await);
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(
        report.count("company", "created"),
        accounts as u64,
        "{}",
        report.0
    );
    let companies = cw.records("company/companies").len();
    assert_eq!(companies, accounts, "companies in ConnectWise");

    println!(
        "  planning {:.1} s, delivery {} batches ({} messages, {} reported), {:.1} s in all \
         (moto-bound)",
        planning_time.as_secs_f64(),
        delivered.batches,
        delivered.deliveries,
        delivered.reported,
        wall.as_secs_f64()
    );
    let peak_bytes = end.peak_kib * 1024;
    println!(
        "  peak RSS {} ({:.1} MB): planning's peak {}, init {}; target < {:.0} MB: {}",
        mib(end.peak_kib),
        peak_bytes as f64 / 1e6,
        mib(planning.peak_kib),
        mib(init.rss_kib),
        TARGET_BYTES as f64 / 1e6,
        if peak_bytes < TARGET_BYTES {
            "met"
        } else {
            "MISSED"
        }
    );
    let _ = std::fs::remove_dir(&empty);
}
