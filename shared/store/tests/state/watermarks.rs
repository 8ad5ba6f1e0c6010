//! Watermarks: start absent, only move forward, survive racing workers.

use crate::support::{T0, against_both_stores, tenant};
use cwsync_store::watermarks::{
    DynamoWatermarkStore, MemoryWatermarkStore, WatermarkStore, read_from,
};
use std::sync::Arc;
use time::Duration;

async fn a_watermark_starts_absent_and_moves_forward(store: Arc<dyn WatermarkStore>) {
    let acme = tenant("acme");
    assert_eq!(store.get(&acme, "tickets").await.unwrap(), None);
    let first = store
        .advance(&acme, "tickets", T0, T0 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        (first.last_seen, first.updated_at),
        (T0, T0 + Duration::minutes(1))
    );
    let later = T0 + Duration::milliseconds(1_500);
    let moved = store
        .advance(&acme, "tickets", later, T0 + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(moved.last_seen, later, "sub-second steps count");
    assert_eq!(store.get(&acme, "tickets").await.unwrap(), Some(moved));
    let next_read = read_from(&moved, std::time::Duration::from_secs(120));
    assert_eq!(next_read, later - Duration::minutes(2));
}
against_both_stores!(
    a_watermark_starts_absent_and_moves_forward,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);

async fn an_older_batch_never_pulls_the_watermark_back(store: Arc<dyn WatermarkStore>) {
    let acme = tenant("acme");
    let newer = store
        .advance(
            &acme,
            "tickets",
            T0 + Duration::hours(2),
            T0 + Duration::hours(2),
        )
        .await
        .unwrap();
    let answer = store
        .advance(
            &acme,
            "tickets",
            T0 + Duration::hours(1),
            T0 + Duration::hours(3),
        )
        .await
        .unwrap();
    assert_eq!(
        answer, newer,
        "the slower worker learns the stored watermark"
    );
    let same = store
        .advance(
            &acme,
            "tickets",
            T0 + Duration::hours(2),
            T0 + Duration::hours(4),
        )
        .await
        .unwrap();
    assert_eq!(same, newer, "an equal instant is not a move");
    assert_eq!(store.get(&acme, "tickets").await.unwrap(), Some(newer));
}
against_both_stores!(
    an_older_batch_never_pulls_the_watermark_back,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);

async fn racing_workers_leave_the_latest_watermark(store: Arc<dyn WatermarkStore>) {
    let acme = tenant("acme");
    // Interleaved offsets so later instants are not simply submitted last.
    let offsets = [7, 2, 15, 0, 11, 4, 13, 9, 1, 14, 6, 10, 3, 12, 5, 8];
    let tasks = offsets.map(|minutes| {
        let (store, acme) = (store.clone(), acme.clone());
        tokio::spawn(async move {
            let seen = T0 + Duration::minutes(minutes);
            let stored = store.advance(&acme, "invoices", seen, T0).await.unwrap();
            assert!(
                stored.last_seen >= seen,
                "an advance never answers with an older watermark"
            );
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
    let last = store.get(&acme, "invoices").await.unwrap().unwrap();
    assert_eq!(last.last_seen, T0 + Duration::minutes(15));
}
against_both_stores!(
    racing_workers_leave_the_latest_watermark,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);

async fn watermarks_are_per_tenant_and_stream(store: Arc<dyn WatermarkStore>) {
    let (acme, other) = (tenant("acme"), tenant("other"));
    store.advance(&acme, "tickets", T0, T0).await.unwrap();
    assert_eq!(store.get(&acme, "time-entries").await.unwrap(), None);
    assert_eq!(store.get(&other, "tickets").await.unwrap(), None);
    assert!(
        store.advance(&acme, "", T0, T0).await.is_err(),
        "a stream needs a name"
    );
}
against_both_stores!(
    watermarks_are_per_tenant_and_stream,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);
