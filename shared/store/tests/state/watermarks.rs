//! Watermarks: start absent, only move forward, survive racing workers; their tails go with them.

use crate::support::{T0, against_both_stores, tenant};
use cwsync_store::watermarks::{
    DynamoWatermarkStore, MemoryWatermarkStore, Seen, TAIL_LIMIT, WatermarkStore, read_from,
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
    assert_eq!(
        store.get(&acme, "tickets").await.unwrap(),
        Some(moved.clone())
    );
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

fn seen(id: i64, minutes: i64) -> Seen {
    Seen::new(id, T0 + Duration::minutes(minutes))
}

async fn a_tail_is_kept_with_its_watermark_and_replaced_when_it_moves(
    store: Arc<dyn WatermarkStore>,
) {
    let acme = tenant("acme");
    let stored = store
        .advance_with_tail(&acme, "tickets", T0, &[seen(2, 0), seen(1, -3)], T0)
        .await
        .unwrap();
    assert_eq!(stored.tail, [seen(1, -3), seen(2, 0)], "in id order");
    let read = store.get(&acme, "tickets").await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert!(read.processed(1, T0 - Duration::minutes(3)));
    assert!(
        !read.processed(1, T0 - Duration::minutes(2)),
        "another version of the record is not"
    );
    assert!(
        !read.processed(3, T0),
        "a record not in the tail is not (a late commit)"
    );
    assert!(
        store.get(&acme, "project-tickets").await.unwrap().is_none(),
        "per stream"
    );

    let later = T0 + Duration::minutes(5);
    let moved = store
        .advance_with_tail(&acme, "tickets", later, &[seen(2, 0), seen(4, 5)], later)
        .await
        .unwrap();
    assert_eq!(
        moved.tail,
        [seen(2, 0), seen(4, 5)],
        "the mover's tail replaces the old one"
    );
    let plain = store
        .advance(&acme, "tickets", later + Duration::minutes(1), later)
        .await
        .unwrap();
    assert!(plain.tail.is_empty(), "an advance without a tail clears it");
    assert_eq!(store.get(&acme, "tickets").await.unwrap(), Some(plain));
}
against_both_stores!(
    a_tail_is_kept_with_its_watermark_and_replaced_when_it_moves,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);

async fn an_advance_that_loses_never_overwrites_the_later_tail(store: Arc<dyn WatermarkStore>) {
    let acme = tenant("acme");
    let later = store
        .advance_with_tail(
            &acme,
            "tickets",
            T0 + Duration::minutes(10),
            &[seen(7, 10)],
            T0,
        )
        .await
        .unwrap();
    let answer = store
        .advance_with_tail(&acme, "tickets", T0, &[seen(1, 0), seen(2, 0)], T0)
        .await
        .unwrap();
    assert_eq!(
        answer, later,
        "the slower planner learns the stored watermark"
    );
    assert_eq!(store.get(&acme, "tickets").await.unwrap(), Some(later));
}
against_both_stores!(
    an_advance_that_loses_never_overwrites_the_later_tail,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);

async fn an_advance_to_the_same_instant_adds_its_entries_to_the_tail(
    store: Arc<dyn WatermarkStore>,
) {
    let acme = tenant("acme");
    let first = store
        .advance_with_tail(&acme, "tickets", T0, &[seen(1, 0), seen(2, -1)], T0)
        .await
        .unwrap();
    let unchanged = store
        .advance_with_tail(
            &acme,
            "tickets",
            T0,
            &[seen(2, -1)],
            T0 + Duration::minutes(15),
        )
        .await
        .unwrap();
    assert_eq!(
        unchanged, first,
        "nothing new: the stored watermark as it was"
    );
    // A run that found a late commit (listed inside the window, not in the tail) at the same
    // watermark remembers it too.
    let added = store
        .advance_with_tail(
            &acme,
            "tickets",
            T0,
            &[seen(3, -4), seen(1, 0)],
            T0 + Duration::minutes(30),
        )
        .await
        .unwrap();
    assert_eq!(added.tail, [seen(1, 0), seen(2, -1), seen(3, -4)]);
    assert_eq!(
        (added.last_seen, added.updated_at),
        (T0, T0),
        "the watermark itself did not move"
    );
    assert_eq!(store.get(&acme, "tickets").await.unwrap(), Some(added));
}
against_both_stores!(
    an_advance_to_the_same_instant_adds_its_entries_to_the_tail,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);

async fn planners_adding_to_one_tail_at_once_lose_no_entry(store: Arc<dyn WatermarkStore>) {
    let acme = tenant("acme");
    store
        .advance_with_tail(&acme, "tickets", T0, &[seen(0, 0)], T0)
        .await
        .unwrap();
    // Five planners at the same watermark, each with its own late commits: every conditional
    // write one loses is one another won, so each gets its turn within its attempts.
    let tasks = (1..=5).map(|planner: i64| {
        let (store, acme) = (store.clone(), acme.clone());
        tokio::spawn(async move {
            let tail: Vec<Seen> = (0..3).map(|n| seen(planner * 10 + n, -n)).collect();
            let stored = store
                .advance_with_tail(&acme, "tickets", T0, &tail, T0)
                .await
                .unwrap();
            assert!(tail.iter().all(|s| stored.tail.contains(s)), "{stored:?}");
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
    let stored = store.get(&acme, "tickets").await.unwrap().unwrap();
    assert_eq!(stored.tail.len(), 1 + 5 * 3, "{stored:?}");
}
against_both_stores!(
    planners_adding_to_one_tail_at_once_lose_no_entry,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);

async fn a_tail_keeps_its_latest_entries_up_to_the_limit(store: Arc<dyn WatermarkStore>) {
    let acme = tenant("acme");
    let over = TAIL_LIMIT as i64 + 5;
    let tail: Vec<Seen> = (0..over)
        .map(|n| Seen::new(n, T0 - Duration::seconds(over - n)))
        .collect();
    let stored = store
        .advance_with_tail(&acme, "tickets", T0, &tail, T0)
        .await
        .unwrap();
    assert_eq!(stored.tail.len(), TAIL_LIMIT);
    assert_eq!(stored.tail.first(), Some(&tail[5]), "the 5 oldest dropped");
    assert_eq!(stored.tail.last(), tail.last());
    assert_eq!(store.get(&acme, "tickets").await.unwrap(), Some(stored));
}
against_both_stores!(
    a_tail_keeps_its_latest_entries_up_to_the_limit,
    memory: MemoryWatermarkStore::new(),
    dynamo: DynamoWatermarkStore::new
);
