//! Request windows and the rate gate: leases never pass a window's limit however many workers
//! lease at once, windows roll, a tenant spends only its own tokens; a gate leases in chunks,
//! waits for the next window when one is spent, and never uses a lease that outlived its window.

use crate::support::{against_both_stores, tenant};
use cwsync_store::dynamo::Table;
use cwsync_store::rate_gate::{
    DynamoRequestWindows, GateDecision, GatePolicy, GateStats, Lease, MemoryRequestWindows,
    RateGate, RequestWindows, SystemWallClock, TokioWallClock, WallClock, Window,
};
use cwsync_store::{StoreError, TenantId};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A window start far from any real one: these tests never depend on the wall clock.
const T0_MS: u64 = 1_800_000_000_000;

fn window(n: u64) -> Window {
    Window {
        start_ms: T0_MS + n * 1_000,
        length_ms: 1_000,
    }
}

async fn leases_never_pass_a_windows_limit_with_many_concurrent_leasers(
    store: Arc<dyn RequestWindows>,
) {
    let acme = tenant("acme");
    let leasers = (0..12).map(|_| {
        let (store, acme) = (store.clone(), acme.clone());
        tokio::spawn(async move {
            let mut grants = Vec::new();
            loop {
                match store.lease(&acme, window(0), 3, 20).await.unwrap().granted {
                    0 => return grants,
                    granted => grants.push(granted),
                }
            }
        })
    });
    let mut grants = Vec::new();
    for leaser in leasers {
        grants.extend(leaser.await.unwrap());
    }
    assert_eq!(grants.iter().sum::<u32>(), 20, "{grants:?}");
    assert!(
        grants.iter().any(|&g| g < 3),
        "the last chunk shrinks to what is left: {grants:?}"
    );
    let usage = store
        .usage(&acme, 1_000, T0_MS, T0_MS + 1_000)
        .await
        .unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].window, usage[0].limit, usage[0].leased),
        (window(0), 20, 20)
    );
}
against_both_stores!(
    leases_never_pass_a_windows_limit_with_many_concurrent_leasers,
    memory: MemoryRequestWindows::new(),
    dynamo: DynamoRequestWindows::new
);

async fn a_spent_window_grants_nothing_and_the_next_one_starts_afresh(
    store: Arc<dyn RequestWindows>,
) {
    let acme = tenant("acme");
    let lease = |granted, left| Lease { granted, left };
    assert_eq!(
        store.lease(&acme, window(0), 4, 5).await.unwrap(),
        lease(4, 1)
    );
    assert_eq!(
        store.lease(&acme, window(0), 4, 5).await.unwrap(),
        lease(1, 0),
        "the last chunk shrinks to what is left, and says the window is spent"
    );
    assert_eq!(
        store.lease(&acme, window(0), 1, 5).await.unwrap().granted,
        0
    );
    assert_eq!(
        store.lease(&acme, window(1), 4, 5).await.unwrap().granted,
        4
    );
    // A want above the limit gets the limit at most.
    assert_eq!(
        store.lease(&acme, window(2), 50, 5).await.unwrap().granted,
        5
    );
    let usage = store
        .usage(&acme, 1_000, T0_MS, T0_MS + 3_000)
        .await
        .unwrap();
    let leased: Vec<(Window, u32)> = usage.iter().map(|u| (u.window, u.leased)).collect();
    assert_eq!(leased, vec![(window(0), 5), (window(1), 4), (window(2), 5)]);
    // Windows of another length are other counters.
    let short = Window {
        start_ms: T0_MS,
        length_ms: 500,
    };
    assert_eq!(store.lease(&acme, short, 2, 5).await.unwrap().granted, 2);
    assert_eq!(
        store
            .usage(&acme, 1_000, T0_MS, T0_MS + 1_000)
            .await
            .unwrap()[0]
            .leased,
        5
    );
}
against_both_stores!(
    a_spent_window_grants_nothing_and_the_next_one_starts_afresh,
    memory: MemoryRequestWindows::new(),
    dynamo: DynamoRequestWindows::new
);

async fn a_tenant_never_spends_another_tenants_tokens(store: Arc<dyn RequestWindows>) {
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    assert_eq!(
        store.lease(&acme, window(0), 10, 10).await.unwrap().granted,
        10
    );
    assert_eq!(
        store.lease(&acme, window(0), 1, 10).await.unwrap().granted,
        0
    );
    assert_eq!(
        store
            .lease(&globex, window(0), 10, 10)
            .await
            .unwrap()
            .granted,
        10
    );
    for (who, leased) in [(&acme, 10), (&globex, 10)] {
        let usage = store.usage(who, 1_000, T0_MS, T0_MS + 1_000).await.unwrap();
        assert_eq!(usage.len(), 1, "{who}");
        assert_eq!(usage[0].leased, leased, "{who}");
    }
    assert!(
        store
            .usage(&tenant("initech"), 1_000, 0, u64::MAX)
            .await
            .unwrap()
            .is_empty()
    );
}
against_both_stores!(
    a_tenant_never_spends_another_tenants_tokens,
    memory: MemoryRequestWindows::new(),
    dynamo: DynamoRequestWindows::new
);

async fn a_lease_no_store_could_grant_is_refused_naming_its_field(store: Arc<dyn RequestWindows>) {
    let acme = tenant("acme");
    let crooked = Window {
        start_ms: T0_MS + 1,
        length_ms: 1_000,
    };
    for (window, want, limit, field) in [
        (window(0), 0, 5, "want"),
        (window(0), 1, 0, "limit"),
        (crooked, 1, 5, "window"),
    ] {
        let error = store.lease(&acme, window, want, limit).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Invalid { field: f, .. } if f == field),
            "{error:?}"
        );
    }
}
against_both_stores!(
    a_lease_no_store_could_grant_is_refused_naming_its_field,
    memory: MemoryRequestWindows::new(),
    dynamo: DynamoRequestWindows::new
);

fn per_second(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// Asks `gate` until it admits `requests`, sleeping (tokio time) whenever it says wait.
async fn send(gate: &RateGate, requests: u32) {
    let mut admitted = 0;
    while admitted < requests {
        match gate.admit().await.unwrap() {
            GateDecision::Admitted => admitted += 1,
            GateDecision::WaitFor(wait) => tokio::time::sleep(wait).await,
        }
    }
}

// Paused tokio time drives the gate's clock: each wait jumps to the next window, so the counts
// below are exact on every machine.
#[tokio::test(start_paused = true)]
async fn a_gate_leases_in_growing_chunks_and_waits_out_a_spent_window() {
    let windows = Arc::new(MemoryRequestWindows::new());
    let acme = tenant("acme");
    let gate = RateGate::new(
        windows.clone(),
        acme.clone(),
        GatePolicy::new(per_second(10), Duration::from_secs(1)),
        Arc::new(TokioWallClock::starting_at(T0_MS)),
    );
    send(&gate, 25).await;
    // 10 a window in chunks of 2, 3, 3 and the 2 left; the last 5 in chunks of 2 and 3.
    assert_eq!(
        gate.stats(),
        GateStats {
            admitted: 25,
            leases: 10,
            tokens_leased: 25,
            waits: 2,
        }
    );
    let usage = windows.usage(&acme, 1_000, 0, u64::MAX).await.unwrap();
    let leased: Vec<u32> = usage.iter().map(|u| u.leased).collect();
    assert_eq!(leased, vec![10, 10, 5]);
    assert_eq!(usage[2].window, window(2));
}

#[tokio::test(start_paused = true)]
async fn workers_sharing_a_tenants_windows_together_stay_within_its_limit() {
    let windows = Arc::new(MemoryRequestWindows::new());
    let acme = tenant("acme");
    let clock = TokioWallClock::starting_at(T0_MS);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let gate = Arc::new(RateGate::new(
                windows.clone(),
                acme.clone(),
                GatePolicy::new(per_second(10), Duration::from_secs(1)),
                Arc::new(clock),
            ));
            // Each worker runs 3 tasks, as a Lambda runs jobs concurrently.
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    let gate = gate.clone();
                    tokio::spawn(async move { send(&gate, 10).await })
                })
                .collect();
            (gate, tasks)
        })
        .collect();
    let mut stats = Vec::new();
    for (gate, tasks) in workers {
        for task in tasks {
            task.await.unwrap();
        }
        stats.push(gate.stats());
    }
    let admitted: u64 = stats.iter().map(|s| s.admitted).sum();
    let leases: u64 = stats.iter().map(|s| s.leases).sum();
    assert_eq!(admitted, 120);
    let usage = windows.usage(&acme, 1_000, 0, u64::MAX).await.unwrap();
    assert!(usage.iter().all(|u| u.leased <= 10), "{usage:?}");
    assert!(usage.len() >= 12, "120 requests at 10 a window: {usage:?}");
    assert!(leases < admitted, "{leases} leases for {admitted} requests");
}

/// Windows whose first lease answers only after `delay` (tokio time).
#[derive(Debug)]
struct SlowFirstLease {
    inner: MemoryRequestWindows,
    delay: Duration,
    calls: AtomicU32,
}

#[async_trait::async_trait]
impl RequestWindows for SlowFirstLease {
    async fn lease(
        &self,
        tenant: &TenantId,
        window: Window,
        want: u32,
        limit: u32,
    ) -> Result<Lease, StoreError> {
        let granted = self.inner.lease(tenant, window, want, limit).await;
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            tokio::time::sleep(self.delay).await;
        }
        granted
    }

    async fn usage(
        &self,
        tenant: &TenantId,
        length_ms: u64,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<cwsync_store::rate_gate::WindowUsage>, StoreError> {
        self.inner.usage(tenant, length_ms, from_ms, to_ms).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_lease_answered_after_its_window_is_not_spent_in_the_next() {
    let windows = Arc::new(SlowFirstLease {
        inner: MemoryRequestWindows::new(),
        delay: Duration::from_millis(1_500),
        calls: AtomicU32::new(0),
    });
    let acme = tenant("acme");
    let clock = Arc::new(TokioWallClock::starting_at(T0_MS));
    let gate = RateGate::new(
        windows.clone(),
        acme.clone(),
        GatePolicy::new(per_second(10), Duration::from_secs(1)),
        clock.clone(),
    );
    assert_eq!(gate.admit().await.unwrap(), GateDecision::Admitted);
    // The first chunk counted in window 0; the request went out in window 1, on its own lease.
    let usage = windows.usage(&acme, 1_000, 0, u64::MAX).await.unwrap();
    let leased: Vec<(Window, u32)> = usage.iter().map(|u| (u.window, u.leased)).collect();
    assert_eq!(leased, vec![(window(0), 2), (window(1), 2)]);
    assert_eq!(Window::containing(clock.now_ms(), 1_000), window(1));
    assert_eq!(gate.stats().tokens_leased, 4);
    assert_eq!(gate.stats().admitted, 1);
}

/// Two workers (own gates, two tasks each) leasing from one DynamoDB table on the real clock, 20
/// requests per one-second window (long next to a loaded machine's DynamoDB round trip: a lease
/// answered after its window ended is retried, three in a row fail); only counts are asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_on_dynamodb_never_lease_more_than_a_window_allows() {
    let Some(table) = crate::support::table().await else {
        return;
    };
    workers_on_dynamodb(table).await;
}

async fn workers_on_dynamodb(table: Table) {
    let windows = Arc::new(DynamoRequestWindows::new(table));
    let acme = tenant("acme");
    let policy = GatePolicy::new(per_second(20), Duration::from_secs(1));
    assert_eq!(policy.limit, 20);
    let from = SystemWallClock.now_ms();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let gate = Arc::new(RateGate::new(
                windows.clone(),
                acme.clone(),
                policy,
                Arc::new(SystemWallClock),
            ));
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let gate = gate.clone();
                    tokio::spawn(async move { send(&gate, 20).await })
                })
                .collect();
            (gate, tasks)
        })
        .collect();
    let mut admitted = 0;
    let mut tokens = 0;
    for (gate, tasks) in workers {
        for task in tasks {
            task.await.unwrap();
        }
        admitted += gate.stats().admitted;
        tokens += gate.stats().tokens_leased;
    }
    assert_eq!(admitted, 80);
    let usage = windows
        .usage(&acme, 1_000, from - from % 1_000, u64::MAX)
        .await
        .unwrap();
    let per_window: BTreeMap<u64, u32> = usage
        .iter()
        .map(|u| (u.window.start_ms, u.leased))
        .collect();
    assert!(
        per_window.values().all(|&leased| leased <= 20),
        "{per_window:?}"
    );
    assert_eq!(
        per_window.values().map(|&l| u64::from(l)).sum::<u64>(),
        tokens,
        "every token a gate got is on the windows' counters"
    );
    assert!(
        per_window.len() >= 4,
        "80 requests at 20 a window: {per_window:?}"
    );
    assert!(
        windows.writes() < admitted,
        "{} writes for {admitted} requests",
        windows.writes()
    );
}
