//! Idempotency (Powertools design): lock, replay, in-progress expiry at the invocation deadline,
//! release on failure, payload validation. Time comes from a manual clock.

use crate::support::{T0, against_both_stores, tenant};
use cwsync_store::idempotency::{
    Clock, DynamoIdempotencyStore, Idempotency, IdempotencyError, IdempotencyRecord,
    IdempotencyStatus, IdempotencyStore, LockAttempt, ManualClock, MemoryIdempotencyStore, Outcome,
    key_hash,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use time::Duration;
use tokio::sync::{Semaphore, oneshot};

/// An upper bound on waits for another task; the tests never rely on it passing.
const BOUND: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Summary {
    created: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("ConnectWise refused the agreement")]
struct Boom;

fn setup(store: Arc<dyn IdempotencyStore>) -> (Idempotency, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    (Idempotency::new(store).with_clock(clock.clone()), clock)
}

async fn a_completed_job_is_replayed_without_running_the_work(store: Arc<dyn IdempotencyStore>) {
    let (idempotency, _clock) = setup(store.clone());
    let acme = tenant("acme");
    let runs = AtomicUsize::new(0);
    let deadline = T0 + Duration::minutes(5);
    let work = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Boom>(Summary { created: 3 })
    };
    let first = idempotency
        .run(&acme, "export/A-1", deadline, work)
        .await
        .unwrap();
    assert_eq!(first, Outcome::Executed(Summary { created: 3 }));
    let second = idempotency
        .run(&acme, "export/A-1", deadline, work)
        .await
        .unwrap();
    assert_eq!(second, Outcome::Replayed(Summary { created: 3 }));
    assert!(second.is_replayed());
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the work ran once");

    let record = store
        .get(&key_hash(&acme, "export/A-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, IdempotencyStatus::Completed);
    assert_eq!(
        record.expires_at,
        T0 + Duration::hours(1),
        "default record TTL"
    );
    assert_eq!(record.result.as_deref(), Some(r#"{"created":3}"#));

    // Another tenant's job with the same key is another job.
    let other = idempotency
        .run(&tenant("other"), "export/A-1", deadline, work)
        .await
        .unwrap();
    assert_eq!(other, Outcome::Executed(Summary { created: 3 }));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
against_both_stores!(
    a_completed_job_is_replayed_without_running_the_work,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn a_second_run_while_the_first_is_in_progress_is_refused_as_transient(
    store: Arc<dyn IdempotencyStore>,
) {
    let (idempotency, _clock) = setup(store);
    let acme = tenant("acme");
    let deadline = T0 + Duration::minutes(5);
    let (started, has_started) = oneshot::channel();
    let (finish, may_finish) = oneshot::channel::<()>();
    let first = tokio::spawn({
        let (idempotency, acme) = (idempotency.clone(), acme.clone());
        async move {
            idempotency
                .run(&acme, "export/A-1", deadline, || async move {
                    started.send(()).unwrap();
                    may_finish.await.unwrap();
                    Ok::<_, Boom>(Summary { created: 1 })
                })
                .await
        }
    });
    tokio::time::timeout(BOUND, has_started)
        .await
        .unwrap()
        .unwrap();

    let second_ran = AtomicUsize::new(0);
    let second = idempotency
        .run(
            &acme,
            "export/A-1",
            deadline + Duration::minutes(1),
            || async {
                second_ran.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Boom>(Summary { created: 99 })
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(second, IdempotencyError::AlreadyInProgress { until, .. } if until == deadline),
        "{second}"
    );
    assert!(second.is_transient(), "SQS should deliver it again later");
    assert_eq!(second_ran.load(Ordering::SeqCst), 0);

    finish.send(()).unwrap();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first, Outcome::Executed(Summary { created: 1 }));
    let third = idempotency
        .run(&acme, "export/A-1", deadline, || async {
            Ok::<_, Boom>(Summary { created: 99 })
        })
        .await
        .unwrap();
    assert_eq!(third, Outcome::Replayed(Summary { created: 1 }));
}
against_both_stores!(
    a_second_run_while_the_first_is_in_progress_is_refused_as_transient,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn many_concurrent_runs_of_one_job_run_the_work_exactly_once(
    store: Arc<dyn IdempotencyStore>,
) {
    const RUNS: u32 = 8;
    let (idempotency, _clock) = setup(store);
    let acme = tenant("acme");
    let executed = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(Semaphore::new(0));
    let tasks = (0..RUNS).map(|_| {
        let (idempotency, acme) = (idempotency.clone(), acme.clone());
        let (executed, refused) = (executed.clone(), refused.clone());
        tokio::spawn(async move {
            let result = idempotency
                .run(&acme, "ticket/T-77", T0 + Duration::minutes(5), || async {
                    executed.fetch_add(1, Ordering::SeqCst);
                    // Hold the lock until every other run has been refused, so none can
                    // arrive after completion and be replayed instead.
                    let everyone_else = refused.acquire_many(RUNS - 1);
                    let _ = tokio::time::timeout(BOUND, everyone_else).await;
                    Ok::<_, Boom>(Summary { created: 1 })
                })
                .await;
            if matches!(result, Err(IdempotencyError::AlreadyInProgress { .. })) {
                refused.add_permits(1);
            }
            result
        })
    });
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        executed.load(Ordering::SeqCst),
        1,
        "the work ran exactly once"
    );
    let winners = results
        .iter()
        .filter(|r| matches!(r, Ok(Outcome::Executed(_))))
        .count();
    let in_progress = results
        .iter()
        .filter(|r| matches!(r, Err(IdempotencyError::AlreadyInProgress { .. })))
        .count();
    assert_eq!((winners, in_progress), (1, RUNS as usize - 1));
}
against_both_stores!(
    many_concurrent_runs_of_one_job_run_the_work_exactly_once,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn a_lock_left_by_a_crashed_invocation_is_retaken_after_its_deadline(
    store: Arc<dyn IdempotencyStore>,
) {
    let (idempotency, clock) = setup(store);
    let acme = tenant("acme");
    let crashed_deadline = T0 + Duration::minutes(5);
    let (started, has_started) = oneshot::channel();
    let crashed = tokio::spawn({
        let (idempotency, acme) = (idempotency.clone(), acme.clone());
        async move {
            idempotency
                .run(&acme, "export/A-2", crashed_deadline, || async move {
                    started.send(()).unwrap();
                    std::future::pending::<Result<Summary, Boom>>().await
                })
                .await
        }
    });
    tokio::time::timeout(BOUND, has_started)
        .await
        .unwrap()
        .unwrap();
    crashed.abort(); // the invocation dies holding the lock
    assert!(crashed.await.unwrap_err().is_cancelled());

    let run_now = || {
        let deadline = clock.now() + Duration::minutes(5);
        idempotency.run(&acme, "export/A-2", deadline, || async {
            Ok::<_, Boom>(Summary { created: 2 })
        })
    };
    let refused = run_now().await.unwrap_err();
    assert!(
        matches!(refused, IdempotencyError::AlreadyInProgress { until, .. } if until == crashed_deadline)
    );

    clock.advance(Duration::minutes(5));
    assert!(
        matches!(
            run_now().await,
            Err(IdempotencyError::AlreadyInProgress { .. })
        ),
        "held up to and including its deadline"
    );
    clock.advance(Duration::milliseconds(1));
    assert_eq!(
        run_now().await.unwrap(),
        Outcome::Executed(Summary { created: 2 })
    );
}
against_both_stores!(
    a_lock_left_by_a_crashed_invocation_is_retaken_after_its_deadline,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn a_failed_job_releases_its_lock_so_a_retry_runs(store: Arc<dyn IdempotencyStore>) {
    let (idempotency, _clock) = setup(store.clone());
    let acme = tenant("acme");
    let deadline = T0 + Duration::minutes(5);
    let failed = idempotency
        .run(&acme, "export/A-3", deadline, || async {
            Err::<Summary, _>(Boom)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(failed, IdempotencyError::Work { source: Boom, .. }),
        "{failed}"
    );
    assert!(
        !failed.is_transient(),
        "the work's own error decides, not the lock"
    );
    assert_eq!(
        store.get(&key_hash(&acme, "export/A-3")).await.unwrap(),
        None,
        "lock released"
    );

    let retried = idempotency
        .run(&acme, "export/A-3", deadline, || async {
            Ok::<_, Boom>(Summary { created: 4 })
        })
        .await
        .unwrap();
    assert_eq!(retried, Outcome::Executed(Summary { created: 4 }));
}
against_both_stores!(
    a_failed_job_releases_its_lock_so_a_retry_runs,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn a_job_whose_invocation_ran_out_of_time_is_not_started_and_is_retried(
    store: Arc<dyn IdempotencyStore>,
) {
    let (idempotency, _clock) = setup(store);
    let ran = AtomicUsize::new(0);
    let late = idempotency
        .run(&tenant("acme"), "export/A-1", T0, || async {
            ran.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Boom>(Summary { created: 1 })
        })
        .await
        .unwrap_err();
    assert!(matches!(late, IdempotencyError::OutOfTime { .. }), "{late}");
    assert!(
        late.is_transient(),
        "an innocent job must not reach the DLQ: {late}"
    );
    assert!(late.to_string().contains("deliver it again"), "{late}");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    // Delivered again with time left, it runs.
    let again = idempotency
        .run(
            &tenant("acme"),
            "export/A-1",
            T0 + Duration::minutes(5),
            || async {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Boom>(Summary { created: 1 })
            },
        )
        .await
        .unwrap();
    assert_eq!(again, Outcome::Executed(Summary { created: 1 }));
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}
against_both_stores!(
    a_job_whose_invocation_ran_out_of_time_is_not_started_and_is_retried,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn a_replay_with_another_payload_is_refused(store: Arc<dyn IdempotencyStore>) {
    let (idempotency, _clock) = setup(store);
    let acme = tenant("acme");
    let deadline = T0 + Duration::minutes(5);
    let payload = serde_json::json!({"account": "A-1", "dryRun": false});
    let runs = AtomicUsize::new(0);
    let work = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Boom>(Summary { created: 5 })
    };
    let first = idempotency
        .run_with_payload(&acme, "export/A-1", &payload, deadline, work)
        .await
        .unwrap();
    assert_eq!(first, Outcome::Executed(Summary { created: 5 }));

    let other_payload = serde_json::json!({"account": "A-1", "dryRun": true});
    let refused = idempotency
        .run_with_payload(&acme, "export/A-1", &other_payload, deadline, work)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, IdempotencyError::PayloadMismatch { .. }),
        "{refused}"
    );
    assert!(!refused.is_transient(), "a retry would be refused again");

    let same = idempotency
        .run_with_payload(&acme, "export/A-1", &payload, deadline, work)
        .await
        .unwrap();
    assert_eq!(same, Outcome::Replayed(Summary { created: 5 }));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
against_both_stores!(
    a_replay_with_another_payload_is_refused,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn a_completed_job_runs_again_once_its_record_expires(store: Arc<dyn IdempotencyStore>) {
    let (idempotency, clock) = setup(store);
    let idempotency = idempotency.with_record_ttl(Duration::minutes(10));
    let acme = tenant("acme");
    let runs = AtomicUsize::new(0);
    let run = || {
        let deadline = clock.now() + Duration::minutes(5);
        idempotency.run(&acme, "import/T-1", deadline, || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Boom>(Summary { created: 6 })
        })
    };
    assert!(!run().await.unwrap().is_replayed());
    clock.advance(Duration::minutes(10));
    assert!(
        run().await.unwrap().is_replayed(),
        "still replayed at its expiry second"
    );
    clock.advance(Duration::seconds(1));
    assert!(
        !run().await.unwrap().is_replayed(),
        "ran again after expiry"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
against_both_stores!(
    a_completed_job_runs_again_once_its_record_expires,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

async fn releasing_a_lock_that_was_retaken_leaves_the_new_owner_alone(
    store: Arc<dyn IdempotencyStore>,
) {
    let hash = key_hash(&tenant("acme"), "export/A-4");
    let lock = |deadline, token: &str| IdempotencyRecord {
        key_hash: hash.clone(),
        status: IdempotencyStatus::InProgress,
        expires_at: T0 + Duration::hours(1),
        in_progress_expires_at: Some(deadline),
        result: None,
        payload_hash: None,
        lock_token: token.to_owned(),
    };
    let first = lock(T0 + Duration::minutes(1), "first");
    let second = lock(T0 + Duration::minutes(3), "second");
    assert_eq!(
        store.try_lock(&first, T0).await.unwrap(),
        LockAttempt::Acquired
    );
    assert_eq!(
        store
            .try_lock(&second, T0 + Duration::seconds(30))
            .await
            .unwrap(),
        LockAttempt::Held(first.clone())
    );
    assert_eq!(
        store
            .try_lock(&second, T0 + Duration::minutes(2))
            .await
            .unwrap(),
        LockAttempt::Acquired,
        "the first lock's deadline passed"
    );
    store.release(&first).await.unwrap();
    assert_eq!(
        store.get(&hash).await.unwrap(),
        Some(second.clone()),
        "not the first's to delete"
    );
    store.release(&second).await.unwrap();
    assert_eq!(store.get(&hash).await.unwrap(), None);
}
against_both_stores!(
    releasing_a_lock_that_was_retaken_leaves_the_new_owner_alone,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);

/// The item holds what KEYS.md says: Powertools' statuses, and `ttl` = `expiresAt` so DynamoDB's
/// TTL removes finished records.
#[tokio::test]
async fn an_idempotency_item_carries_its_status_and_ttl() {
    let Some(table) = crate::support::table().await else {
        return;
    };
    let (idempotency, _clock) = setup(Arc::new(DynamoIdempotencyStore::new(table.clone())));
    let acme = tenant("acme");
    idempotency
        .run(&acme, "export/A-5", T0 + Duration::minutes(5), || async {
            Ok::<_, Boom>(Summary { created: 7 })
        })
        .await
        .unwrap();
    let pk = format!("IDEM#{}", key_hash(&acme, "export/A-5"));
    let item = table
        .client
        .get_item()
        .table_name(&table.name)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("IDEM".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["status"].as_s().unwrap(), "COMPLETED");
    assert_eq!(
        item["ttl"].as_n().unwrap(),
        item["expiresAt"].as_n().unwrap()
    );
    assert_eq!(
        item["expiresAt"].as_n().unwrap(),
        &(T0 + Duration::hours(1)).unix_timestamp().to_string()
    );
}

async fn a_retried_lock_write_that_finds_its_own_lock_holds_it(store: Arc<dyn IdempotencyStore>) {
    let hash = key_hash(&tenant("acme"), "export/A-6");
    let lock = |token: &str| IdempotencyRecord {
        key_hash: hash.clone(),
        status: IdempotencyStatus::InProgress,
        expires_at: T0 + Duration::hours(1),
        in_progress_expires_at: Some(T0 + Duration::minutes(5)),
        result: None,
        payload_hash: None,
        lock_token: token.to_owned(),
    };
    let ours = lock("ours");
    assert_eq!(
        store.try_lock(&ours, T0).await.unwrap(),
        LockAttempt::Acquired
    );
    // What the SDK does when the first response was lost: the same write again.
    assert_eq!(
        store.try_lock(&ours, T0).await.unwrap(),
        LockAttempt::Acquired
    );
    // Another invocation with the very same deadline is still refused: the token tells them apart.
    assert_eq!(
        store.try_lock(&lock("theirs"), T0).await.unwrap(),
        LockAttempt::Held(ours)
    );
}
against_both_stores!(
    a_retried_lock_write_that_finds_its_own_lock_holds_it,
    memory: MemoryIdempotencyStore::new(),
    dynamo: DynamoIdempotencyStore::new
);
