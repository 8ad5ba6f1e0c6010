//! Idempotent job handling and in-memory delivery, with toy jobs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use cwsync_queue::{Job, JobFailure, JobKind, JobQueue, MemoryJobQueue};
use cwsync_store::TenantId;
use cwsync_store::idempotency::{Idempotency, MemoryIdempotencyStore};
use cwsync_sync::GroupKey;
use cwsync_sync::deliver::{deliver_all, deliver_all_concurrently, sqs_event};
use cwsync_sync::jobs::{
    first_delivery, handle_batch, key_without, pending_groups, prefetch_groups, run_once,
};
use time::OffsetDateTime;

fn job(tenant: &str, run: &str, account: &str) -> Job {
    Job::new(
        JobKind::DailyExportAccount,
        tenant,
        run,
        false,
        serde_json::json!({"accountId": account}),
    )
    .unwrap()
}

/// The one message delivering `job` for the `receives`th time.
fn message(job: &Job, receives: u32) -> SqsMessage {
    sqs_event(&[(job.clone(), receives)]).records.remove(0)
}

fn deadline() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(5)
}

#[tokio::test]
async fn a_job_runs_once_per_key_and_its_replay_changes_nothing() {
    let idempotency = Idempotency::new(Arc::new(MemoryIdempotencyStore::new()));
    let tenant = TenantId::parse("acme").unwrap();
    let runs = AtomicUsize::new(0);
    let key = job("acme", "r1", "A-1").key();
    for _ in 0..2 {
        run_once(&idempotency, &tenant, &key, deadline(), || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // A failed run leaves the key free: the redelivery runs it.
    let other = job("acme", "r1", "A-2").key();
    let failed = run_once(&idempotency, &tenant, &other, deadline(), || async {
        Err(JobFailure::transient("throttled"))
    })
    .await;
    assert_eq!(failed, Err(JobFailure::transient("throttled")));
    run_once(&idempotency, &tenant, &other, deadline(), || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_hint_is_not_part_of_the_key_and_a_first_delivery_is_told_by_its_receive_count() {
    let bare = job("acme", "r1", "A-1");
    let hinted = Job::new(
        JobKind::DailyExportAccount,
        "acme",
        "r1",
        false,
        serde_json::json!({"accountId": "A-1", "hint": true}),
    )
    .unwrap();
    assert_ne!(hinted.key(), bare.key());
    assert_eq!(key_without(&hinted, "hint"), bare.key());
    assert_eq!(key_without(&bare, "hint"), bare.key());
    assert!(first_delivery(&message(&bare, 1)));
    assert!(!first_delivery(&message(&bare, 2)));
    assert!(!first_delivery(&SqsMessage::default()));
}

#[tokio::test]
async fn groups_of_a_batch_are_read_once_without_the_jobs_already_done() {
    let store = Arc::new(MemoryIdempotencyStore::new());
    let idempotency = Idempotency::new(Arc::clone(&store) as _);
    let tenant = TenantId::parse("acme").unwrap();
    let done = job("acme", "r1", "A-3");
    run_once(&idempotency, &tenant, &done.key(), deadline(), || async {
        Ok(())
    })
    .await
    .unwrap();
    let jobs = [
        job("acme", "r1", "A-1"),
        job("acme", "r1", "A-2"),
        done,
        job("acme", "r2", "A-9"),
    ];
    let batch: Vec<(Job, u32)> = jobs.iter().map(|j| (j.clone(), 1)).collect();
    let event = sqs_event(&batch);
    let groups = pending_groups(&event, store.as_ref(), Job::key, |job, _| {
        job.payload()["accountId"].as_str().map(str::to_owned)
    })
    .await;
    let r1 = GroupKey::of(&jobs[0]).unwrap();
    let r2 = GroupKey::of(&jobs[3]).unwrap();
    assert_eq!(groups[&r1], ["A-1", "A-2"]);
    assert_eq!(groups[&r2], ["A-9"]);
    let reads = AtomicUsize::new(0);
    let prefetched = prefetch_groups(groups, 2, |_, members| {
        reads.fetch_add(1, Ordering::SeqCst);
        async move { Ok(members.len()) }
    })
    .await;
    assert_eq!(
        reads.load(Ordering::SeqCst),
        1,
        "only the group of two is read"
    );
    assert_eq!(prefetched[&r1], Some(2));
    assert_eq!(prefetched[&r2], None);
    // Each job gets its group's reads; exactly the failed message is delivered again.
    let response = handle_batch(
        "toy",
        event,
        2,
        5,
        &prefetched,
        |job, _, group| async move {
            match (job.run_id(), group) {
                ("r1", Some(2)) => Ok(()),
                ("r2", None) => Err(JobFailure::transient("throttled")),
                other => Err(JobFailure::permanent(format!("unexpected {other:?}"))),
            }
        },
    )
    .await;
    let failed: Vec<&str> = response
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["local-3"]);
}

#[tokio::test]
async fn delivery_redelivers_a_failed_job_with_its_count_raised_and_dead_letters_it_at_the_limit() {
    let queue = MemoryJobQueue::new();
    queue
        .send_batch(&[job("acme", "r1", "A-1"), job("acme", "r1", "A-2")])
        .await
        .unwrap();
    let seen: std::sync::Mutex<HashMap<String, Vec<u32>>> = Default::default();
    let delivery = deliver_all(
        &queue,
        3,
        |event: SqsEvent, _deadline| {
            let seen = &seen;
            async move {
                let mut response = aws_lambda_events::event::sqs::SqsBatchResponse::default();
                for record in event.records {
                    let job = Job::parse(record.body.as_deref().unwrap()).unwrap();
                    let account = job.payload()["accountId"].as_str().unwrap().to_owned();
                    let count = record.attributes["ApproximateReceiveCount"]
                        .parse()
                        .unwrap();
                    seen.lock()
                        .unwrap()
                        .entry(account.clone())
                        .or_default()
                        .push(count);
                    // A-1 succeeds on its second delivery; A-2 never does.
                    if account == "A-2" || count < 2 {
                        let mut failure =
                            aws_lambda_events::event::sqs::BatchItemFailure::default();
                        failure.item_identifier = record.message_id.unwrap();
                        response.batch_item_failures.push(failure);
                    }
                }
                response
            }
        },
        |_| {},
    )
    .await;
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen["A-1"], [1, 2]);
    assert_eq!(seen["A-2"], [1, 2, 3]);
    assert_eq!(delivery.deliveries, 5);
    assert_eq!(
        delivery.dead_letters,
        [job("acme", "r1", "A-2").key().as_str()]
    );
}

#[tokio::test]
async fn concurrent_delivery_handles_that_many_batches_at_once_and_delivers_every_job_once() {
    let queue = MemoryJobQueue::new();
    let jobs: Vec<Job> = (0..50)
        .map(|n| job("acme", "r1", &format!("A-{n}")))
        .collect();
    queue.send_batch(&jobs).await.unwrap();
    // Each of the first three batches waits for the two others: with fewer than three batches in
    // flight they never finish (the timeout below is a bound, not a race).
    let barrier = tokio::sync::Barrier::new(3);
    let started = AtomicUsize::new(0);
    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let seen: std::sync::Mutex<Vec<String>> = Default::default();
    let delivery = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        deliver_all_concurrently(
            &queue,
            3,
            3,
            |event: SqsEvent, _deadline| {
                let (barrier, started, in_flight, most, seen) =
                    (&barrier, &started, &in_flight, &most, &seen);
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    if started.fetch_add(1, Ordering::SeqCst) < 3 {
                        barrier.wait().await;
                    }
                    for record in event.records {
                        let job = Job::parse(record.body.as_deref().unwrap()).unwrap();
                        let account = job.payload()["accountId"].as_str().unwrap().to_owned();
                        seen.lock().unwrap().push(account);
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    aws_lambda_events::event::sqs::SqsBatchResponse::default()
                }
            },
            |_| {},
        ),
    )
    .await
    .expect("three batches in flight at once");
    assert_eq!(most.load(Ordering::SeqCst), 3);
    assert_eq!(delivery.deliveries, 50);
    assert!(delivery.dead_letters.is_empty());
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    let mut expected: Vec<String> = (0..50).map(|n| format!("A-{n}")).collect();
    expected.sort();
    assert_eq!(seen, expected);
}
