//! The peak memory of each function's **release** binary in the largest scenario, 1 tenant ×
//! 5,000 accounts (one site and two contacts each), run as Lambda runs it: one warm instance of
//! the binary under the Lambda Runtime API stand-in (`cwsync_lambda_harness::Instance`), its
//! table, job queues and tenant secret on moto (`cwsync_test_support::binary_stack`), the
//! simulators in this bench's process. `MEMORY_JOB` picks the job:
//! - `customers` (the default): the customer sync's first sync;
//! - `export`: the daily export's first export of 3 subscriptions per account over 12 products
//!   (the scale bench's data: two agreements and three additions per account);
//! - `tickets`: the ticket import's first import of one finished ticket per account's company,
//!   with one or two time entries.
//!
//! The instance stores the tenant's settings (`put-settings`, for the export and the ticket
//! import through a customer-sync instance that then syncs the accounts: that set-up is not
//! measured, and its instance is gone before the measured one starts), plans the run
//! (`sync-tenant`, `export-now`, `import-now`: the listings, the jobs sent to SQS), then is
//! handed its queue's messages in batches of 10 as the event source mapping hands them (jobs it
//! sends meanwhile, such as the export's account jobs after its catalog stage, included) until
//! the queue is empty; the bench then asks it for the run's report, which must have succeeded.
//!
//! Nothing but the function is in the measured process: not the stores, the queue, the
//! simulators or a driver. The figures are the process's `VmRSS` and `VmHWM` (peak) from
//! `/proc/<pid>/status` after each step: at init (after a `health` event), after the planning
//! (the peak so far is the planning's) and at the end (the whole run's peak). Target: < 48 MB
//! (10⁶ bytes) for 5,000 accounts.
//!
//! One instance handles every event, so anything the function keeps between invocations shows;
//! in production the planning and the batches may fall on different instances, each of which
//! peaks lower or equal.
//!
//! Needs moto (`MOTO_ENDPOINT`, or the repo's `.venv`) and the release binaries, which the bench
//! does not build:
//!
//! ```text
//! cargo build --release -p cwsync-customer-sync -p cwsync-daily-export -p cwsync-ticket-import
//! cargo bench -p cwsync-benches --bench function_memory
//! MEMORY_JOB=export cargo bench -p cwsync-benches --bench function_memory
//! ```
//!
//! The binaries are looked for as [`cwsync_benches::release_dir`] says. `MEMORY_ACCOUNTS`
//! [5000] sets the accounts; `MEMORY_TRACE=N` prints the instance's memory after every N
//! batches. The tenant's `requestsPerSecond` is 1,000 (the most it may be) and the simulators
//! answer at once: the run is bound by moto (serialized Python), and its wall time says nothing
//! about the function. The functions' log lines go to a file named at the start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::time::{Duration, Instant};

use cwsync_benches::{
    TICKET_FINISHED, account_id, export_products_and_subscriptions, lambda_certificates,
    release_dir, seed_ticket_reference, seed_tickets, start_simulators,
};
use cwsync_lambda_harness::{Instance, Memory, Outcome};
use cwsync_test_support::Report;
use cwsync_test_support::binary_stack::{BinaryStack, Delivered};
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

/// The job measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Customers,
    Export,
    Tickets,
}

impl Job {
    fn from_env() -> Job {
        match std::env::var("MEMORY_JOB").as_deref().map(str::trim) {
            Err(_) | Ok("" | "customers") => Job::Customers,
            Ok("export") => Job::Export,
            Ok("tickets") => Job::Tickets,
            Ok(other) => panic!("MEMORY_JOB={other}: expected customers, export or tickets"),
        }
    }

    /// The function's binary (its `[[bin]]` name, which is also the function's name).
    fn binary(self) -> &'static str {
        match self {
            Job::Customers => cwsync_customer_sync::FUNCTION,
            Job::Export => cwsync_daily_export::FUNCTION,
            Job::Tickets => cwsync_ticket_import::FUNCTION,
        }
    }

    /// The tenant's settings besides the defaults.
    fn settings(self) -> Value {
        let mut settings = match self {
            Job::Customers => json!({}),
            Job::Export => cwsync_billing_sim::fixture_export_settings(),
            Job::Tickets => json!({"ticketImport": {"statuses": [TICKET_FINISHED]}}),
        };
        cwsync_test_support::merge(
            &mut settings,
            json!({"connectWise": {"requestsPerSecond": 1000}}),
        );
        settings
    }

    /// The console event that plans the tenant's run.
    fn plan(self, tenant: &str) -> Value {
        match self {
            Job::Customers => json!({"action": "sync-tenant", "tenant": tenant}),
            Job::Export => json!({"action": "export-now", "tenant": tenant}),
            Job::Tickets => json!({"action": "import-now", "tenant": tenant}),
        }
    }

    /// Its job queue.
    fn queue(self, stack: &BinaryStack) -> &str {
        match self {
            Job::Customers => &stack.customer_queue,
            Job::Export => &stack.export_queue,
            Job::Tickets => &stack.ticket_queue,
        }
    }
}

/// Starts a warm instance of `binary` on `stack`, its output appended to `log`.
async fn instance(binary: &str, env: &[(&str, &str)], log: &std::path::Path) -> Instance {
    let path = release_dir().join(binary);
    if !path.exists() {
        panic!(
            "{}: build the release binaries first: cargo build --release -p \
             cwsync-customer-sync -p cwsync-daily-export -p cwsync-ticket-import",
            path.display()
        );
    }
    Instance::start(&path.to_string_lossy(), binary, env, Some(log))
        .await
        .unwrap_or_else(|e| panic!("{binary}: {e}"))
}

/// Hands `queue`'s messages to `instance` until it is empty; with `MEMORY_TRACE=N`, prints the
/// instance's memory after every N batches.
async fn deliver(
    stack: &BinaryStack,
    queue: &str,
    instance: &mut Instance,
    accounts: usize,
) -> Delivered {
    // Each job is delivered at most a few times; the bound only stops a delivery that never ends.
    let most = (accounts as u64).div_ceil(SQS_BATCH as u64) * 5 + 100;
    let every: u64 = std::env::var("MEMORY_TRACE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(most);
    let mut total = Delivered::default();
    while total.batches < most {
        let (delivered, drained) = stack
            .deliver_some(queue, instance, SQS_BATCH, every, WAIT)
            .await
            .unwrap_or_else(|e| panic!("the delivery: {e}"));
        total.batches += delivered.batches;
        total.deliveries += delivered.deliveries;
        total.reported += delivered.reported;
        if drained {
            return total;
        }
        memory(instance, &format!("after {} batches", total.batches));
    }
    panic!("the delivery: {queue} still held messages after {most} batches")
}

/// The records the run of `planned` created, by entity; panics unless it succeeded.
async fn created(instance: &mut Instance, tenant: &str, planned: &Value) -> Vec<(String, u64)> {
    let event = json!({"action": "report", "tenant": tenant, "runId": planned["runId"]});
    let report = Report(answer(instance, event).await);
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    let mut created: Vec<(String, u64)> = report.0["run"]["counts"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(entity, counts)| (entity.clone(), counts["created"].as_u64().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    created.sort();
    created
}

#[tokio::main]
async fn main() {
    let job = Job::from_env();
    let accounts: usize = std::env::var("MEMORY_ACCOUNTS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5000);
    let Some(moto) = cwsync_aws_harness::moto() else {
        panic!("this bench needs moto: set MOTO_ENDPOINT or create .venv (bash .ci/test)");
    };
    println!(
        "function memory: the release {} ({}), one warm instance, 1 tenant x {accounts} \
         accounts (1 site, 2 contacts each), stores, queues and secret on moto",
        job.binary(),
        release_dir().display()
    );

    let (cw, billing) = start_simulators(accounts).await;
    match job {
        Job::Customers => {}
        Job::Export => {
            let ids: Vec<String> = (0..accounts).map(account_id).collect();
            let (products, subscriptions) = export_products_and_subscriptions(&ids, 12, 3);
            billing.seed_products(products);
            billing.seed_subscriptions(subscriptions);
        }
        Job::Tickets => seed_ticket_reference(&cw, &billing),
    }

    let stack = BinaryStack::create(moto, "memory").await;
    let tenant = cwsync_aws_harness::unique_name("memory");
    stack
        .put_secret(&tenant, &cwsync_test_support::secret(&cw, &billing))
        .await;
    let empty = std::env::temp_dir().join(format!("cwsync-memory-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap_or_else(|e| panic!("{}: {e}", empty.display()));
    let log = std::env::temp_dir().join(format!("cwsync-memory-{}.log", std::process::id()));
    println!("  the functions' log: {}", log.display());
    let certificates = lambda_certificates(&empty.to_string_lossy());
    let mut env = stack.env();
    env.extend(certificates.iter().map(|(k, v)| (*k, v.as_str())));
    env.push(("METRICS_NAMESPACE", "cwsync"));

    let mut customers = instance(cwsync_customer_sync::FUNCTION, &env, &log).await;
    let put = cwsync_test_support::put_settings_event(&tenant, &json!({}), job.settings());
    if job != Job::Customers {
        let started = Instant::now();
        answer(&mut customers, put.clone()).await;
        let planned = answer(&mut customers, Job::Customers.plan(&tenant)).await;
        deliver(&stack, &stack.customer_queue, &mut customers, accounts).await;
        let created = created(&mut customers, &tenant, &planned).await;
        drop(customers);
        let tickets = if job == Job::Tickets {
            format!(", {} tickets seeded", seed_tickets(&cw))
        } else {
            String::new()
        };
        println!(
            "  set-up, not measured (another instance): settings stored, customer sync \
             {created:?}{tickets}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        customers = instance(job.binary(), &env, &log).await;
    }
    let mut function = customers;

    answer(&mut function, json!({"action": "health"})).await;
    let init = memory(&function, "init (after a health event)");
    if job == Job::Customers {
        answer(&mut function, put).await;
        memory(&function, "settings stored");
    }

    let started = Instant::now();
    let planned = answer(&mut function, job.plan(&tenant)).await;
    let planning_time = started.elapsed();
    let planning = memory(&function, "planned (jobs sent)");

    let delivered = deliver(&stack, job.queue(&stack), &mut function, accounts).await;
    let wall = started.elapsed();
    let end = memory(&function, "every batch delivered");
    let created = created(&mut function, &tenant, &planned).await;
    if job == Job::Customers {
        let companies = cw.records("company/companies").len();
        assert_eq!(companies, accounts, "companies in ConnectWise");
    }

    println!(
        "  planning {:.1} s, delivery {} batches ({} messages, {} reported), {:.1} s in all \
         (moto-bound); created {created:?}",
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
