//! The tenant's rate limit across workers (issue 9 §6): two workers — two clients, each with its
//! own limiter and its own gate, as two Lambda instances have — share one tenant's request windows
//! in DynamoDB (moto) and send many requests to the simulator. Every request the simulator saw was
//! admitted on a leased token, and no window's leases pass its limit; the same workload with a
//! gate that only counts sends more than the limit in some window, so these assertions fail if
//! the gate stops gating. Windows are one second on the real clock (long next to a loaded machine's
//! DynamoDB round trip); only counts are asserted.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use cwsync_connectwise::models::Company;
use cwsync_connectwise::{Client, RateLimit};
use cwsync_store::TenantId;
use cwsync_store::rate_gate::{
    DynamoRequestWindows, GatePolicy, MemoryRequestWindows, RateGate, RequestWindows,
    SystemWallClock, WallClock,
};
use cwsync_sync::tenant::connectwise_gate;
use futures::future::join_all;

use crate::support::{config, seed_companies, sim};

const WINDOW: Duration = Duration::from_secs(1);
/// 40 requests/s: 40 per one-second window.
const PER_SECOND: u32 = 40;
const LIMIT: u32 = 40;
const WORKERS: usize = 2;
const TASKS_PER_WORKER: usize = 3;
const REQUESTS_PER_TASK: usize = 20;

/// A worker: a client with its own local limiter (40/s, a burst of one window) whose gate leases
/// from `windows` by `policy`.
fn worker(
    sim: &cwsync_connectwise_sim::Simulator,
    windows: &Arc<dyn RequestWindows>,
    tenant: &TenantId,
    policy: GatePolicy,
) -> (Client, Arc<RateGate>) {
    let gate = Arc::new(RateGate::new(
        Arc::clone(windows),
        tenant.clone(),
        policy,
        Arc::new(SystemWallClock),
    ));
    let mut config = config(sim);
    config.codebase = Some("v4_6_release/".to_owned());
    let per_second = NonZeroU32::new(PER_SECOND).unwrap();
    config.rate = RateLimit {
        per_second,
        burst: NonZeroU32::new(LIMIT).unwrap(),
        max_in_flight: 8,
    };
    config.gate = Some(connectwise_gate(Arc::clone(&gate)));
    (Client::new(config).unwrap(), gate)
}

/// Every worker's tasks GET companies until each has sent its share; returns the gates.
async fn workload(
    sim: &cwsync_connectwise_sim::Simulator,
    windows: Arc<dyn RequestWindows>,
    tenant: &TenantId,
    policy: GatePolicy,
    ids: &[i64],
) -> Vec<(Client, Arc<RateGate>)> {
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| worker(sim, &windows, tenant, policy))
        .collect();
    let tasks = workers.iter().flat_map(|(client, _)| {
        (0..TASKS_PER_WORKER).map(|task| {
            let client = client.clone();
            let ids = ids.to_vec();
            tokio::spawn(async move {
                for n in 0..REQUESTS_PER_TASK {
                    let id = ids[(task + n) % ids.len()];
                    client
                        .get::<Company>(&format!("/company/companies/{id}"))
                        .await
                        .unwrap();
                }
            })
        })
    });
    for task in join_all(tasks).await {
        task.unwrap();
    }
    workers
}

/// Tokens leased per window start, from the windows' items.
async fn leased_per_window(
    windows: &dyn RequestWindows,
    tenant: &TenantId,
    from_ms: u64,
) -> BTreeMap<u64, u32> {
    let length_ms = WINDOW.as_millis() as u64;
    windows
        .usage(tenant, length_ms, from_ms - from_ms % length_ms, u64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|usage| (usage.window.start_ms, usage.leased))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_sharing_a_tenants_dynamodb_gate_never_send_more_than_a_window_allows() {
    let Some(moto) = cwsync_aws_harness::moto() else {
        return;
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let table = cwsync_store::dynamo::create_table(
        &dynamodb,
        &cwsync_aws_harness::unique_name("rate-gate"),
    )
    .await
    .unwrap();
    let dynamo = Arc::new(DynamoRequestWindows::new(table));
    let sim = sim().await;
    let ids = seed_companies(&sim, 12);
    let sent = (WORKERS * TASKS_PER_WORKER * REQUESTS_PER_TASK) as u64;

    // Gated: the tenant's 40 requests/s, shared by both workers through DynamoDB.
    let acme = TenantId::parse("acme").unwrap();
    let policy = GatePolicy::new(NonZeroU32::new(PER_SECOND).unwrap(), WINDOW);
    assert_eq!(policy.limit, LIMIT);
    let from = SystemWallClock.now_ms();
    let windows: Arc<dyn RequestWindows> = dynamo.clone();
    let workers = workload(&sim, windows, &acme, policy, &ids).await;

    let seen = sim.calls().count("GET", "/company/companies/{id}");
    let requests: u64 = workers.iter().map(|(c, _)| c.stats().requests).sum();
    let admitted: u64 = workers.iter().map(|(_, g)| g.stats().admitted).sum();
    let tokens: u64 = workers.iter().map(|(_, g)| g.stats().tokens_leased).sum();
    let waits: u64 = workers.iter().map(|(c, _)| c.stats().gate_waits).sum();
    assert_eq!(seen, sent, "no 429 and no retry: each request once");
    assert_eq!(requests, seen);
    assert_eq!(
        admitted, seen,
        "every request the simulator saw was admitted"
    );
    let per_window = leased_per_window(dynamo.as_ref(), &acme, from).await;
    assert!(
        per_window.values().all(|&leased| leased <= LIMIT),
        "a window's leases passed its limit of {LIMIT}: {per_window:?}"
    );
    let leased: u64 = per_window.values().map(|&l| u64::from(l)).sum();
    assert_eq!(leased, tokens, "every token a worker holds is on a window");
    assert!(leased >= admitted, "{admitted} requests on {leased} tokens");
    assert!(
        per_window.len() as u64 >= sent / u64::from(LIMIT),
        "{sent} requests at {LIMIT} a window: {per_window:?}"
    );
    assert!(waits > 0, "the workers waited for the next window");
    let writes = dynamo.writes();
    println!(
        "shared rate gate: {writes} DynamoDB writes for {seen} ConnectWise requests ({:.2} a request; {} windows, {waits} waits)",
        writes as f64 / seen as f64,
        per_window.len()
    );
    assert!(writes < seen, "{writes} writes for {seen} requests");

    // The same workload, its gate only counting (one token a lease, no limit to speak of): the
    // two workers' local limiters alone let more than the tenant's limit through in a window.
    let baseline = TenantId::parse("baseline").unwrap();
    let counting = GatePolicy {
        limit: 1_000_000,
        window: WINDOW,
        first_chunk: 1,
        max_chunk: 1,
    };
    let from = SystemWallClock.now_ms();
    let counter: Arc<dyn RequestWindows> = Arc::new(MemoryRequestWindows::new());
    workload(&sim, Arc::clone(&counter), &baseline, counting, &ids).await;
    let ungated = leased_per_window(counter.as_ref(), &baseline, from).await;
    assert_eq!(ungated.values().map(|&n| u64::from(n)).sum::<u64>(), sent);
    let busiest = ungated.values().copied().max().unwrap_or(0);
    assert!(
        busiest > LIMIT,
        "without the shared gate the workers sent {busiest} in one window (limit {LIMIT}): {ungated:?}"
    );
}
