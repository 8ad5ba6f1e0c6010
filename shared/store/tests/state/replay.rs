//! The replay guard: the first arrival of a request is recorded and a second one is a replay,
//! however many arrive at once; an expired arrival no longer counts; a forgotten one may arrive
//! again; tenants never see each other's arrivals.

use crate::support::{T0, against_both_stores, tenant};
use cwsync_store::replay::{Arrival, DynamoReplayGuard, MemoryReplayGuard, ReplayGuard};
use std::sync::Arc;
use time::Duration;

fn digest(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

async fn a_second_arrival_is_a_replay_until_the_first_expires(guard: Arc<dyn ReplayGuard>) {
    let acme = tenant("acme");
    let until = T0 + Duration::hours(1);
    assert_eq!(
        guard.arrive(&acme, &digest(1), T0, until).await.unwrap(),
        Arrival::First
    );
    let later = T0 + Duration::minutes(59);
    assert_eq!(
        guard
            .arrive(&acme, &digest(1), later, later + Duration::hours(1))
            .await
            .unwrap(),
        Arrival::Again
    );
    // Another request, and the same request of another tenant, are first arrivals.
    assert_eq!(
        guard.arrive(&acme, &digest(2), T0, until).await.unwrap(),
        Arrival::First
    );
    assert_eq!(
        guard
            .arrive(&tenant("globex"), &digest(1), T0, until)
            .await
            .unwrap(),
        Arrival::First
    );
    // Past its expiry the old arrival no longer counts (whether or not the TTL deleted it yet).
    let expired = until + Duration::seconds(2);
    assert_eq!(
        guard
            .arrive(&acme, &digest(1), expired, expired + Duration::hours(1))
            .await
            .unwrap(),
        Arrival::First
    );
}
against_both_stores!(
    a_second_arrival_is_a_replay_until_the_first_expires,
    memory: MemoryReplayGuard::new(),
    dynamo: DynamoReplayGuard::new
);

async fn of_many_simultaneous_arrivals_exactly_one_is_first(guard: Arc<dyn ReplayGuard>) {
    let acme = tenant("acme");
    let arrivals = (0..8).map(|_| {
        let (guard, acme) = (guard.clone(), acme.clone());
        tokio::spawn(async move {
            guard
                .arrive(&acme, &digest(7), T0, T0 + Duration::hours(1))
                .await
                .unwrap()
        })
    });
    let mut firsts = 0;
    for arrival in arrivals {
        if arrival.await.unwrap() == Arrival::First {
            firsts += 1;
        }
    }
    assert_eq!(firsts, 1);
}
against_both_stores!(
    of_many_simultaneous_arrivals_exactly_one_is_first,
    memory: MemoryReplayGuard::new(),
    dynamo: DynamoReplayGuard::new
);

async fn a_forgotten_arrival_may_arrive_again(guard: Arc<dyn ReplayGuard>) {
    let acme = tenant("acme");
    let until = T0 + Duration::hours(1);
    assert_eq!(
        guard.arrive(&acme, &digest(3), T0, until).await.unwrap(),
        Arrival::First
    );
    guard.forget(&acme, &digest(3)).await.unwrap();
    // Forgetting what never arrived is no error.
    guard.forget(&acme, &digest(4)).await.unwrap();
    assert_eq!(
        guard.arrive(&acme, &digest(3), T0, until).await.unwrap(),
        Arrival::First
    );
    assert_eq!(
        guard.arrive(&acme, &digest(3), T0, until).await.unwrap(),
        Arrival::Again
    );
}
against_both_stores!(
    a_forgotten_arrival_may_arrive_again,
    memory: MemoryReplayGuard::new(),
    dynamo: DynamoReplayGuard::new
);

async fn a_malformed_digest_is_refused_naming_it(guard: Arc<dyn ReplayGuard>) {
    let error = guard
        .arrive(&tenant("acme"), "not-a-digest", T0, T0 + Duration::hours(1))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("digest"), "{error}");
    assert!(!error.is_transient());
}
against_both_stores!(
    a_malformed_digest_is_refused_naming_it,
    memory: MemoryReplayGuard::new(),
    dynamo: DynamoReplayGuard::new
);
