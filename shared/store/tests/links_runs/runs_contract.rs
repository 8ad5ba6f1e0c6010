//! What every `RunStore` must do. Each function gets a fresh, empty store.

use crate::{T0, tenant};
use cwsync_store::StoreError;
use cwsync_store::runs::{
    Counts, Outcome, RunExtension, RunId, RunLogEntry, RunStart, RunStatus, RunStore,
};
use std::collections::HashSet;
use std::sync::Arc;
use time::Duration;

fn entry(entity: &str, record_id: &str, outcome: Outcome) -> RunLogEntry {
    RunLogEntry {
        entity: entity.to_owned(),
        record_id: record_id.to_owned(),
        outcome,
        detail: format!("{outcome:?} {record_id}"),
    }
}

pub async fn a_run_lives_from_start_to_finish(store: Arc<dyn RunStore>) {
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    let started = store
        .start(
            &acme,
            RunStart::new(run_id.clone(), "daily-export", true, T0),
        )
        .await
        .unwrap();
    assert_eq!(started.status, RunStatus::Running);
    assert!(started.dry_run);
    assert_eq!(started.expires_at, T0 + Duration::days(30));
    assert_eq!(
        store.get(&acme, &run_id).await.unwrap(),
        Some(started.clone())
    );

    let twice = store
        .start(
            &acme,
            RunStart::new(run_id.clone(), "daily-export", true, T0),
        )
        .await;
    assert!(
        matches!(twice, Err(StoreError::Conflict { ref item, .. }) if item.contains(run_id.as_str()))
    );

    store
        .record(&acme, &run_id, entry("company", "C-1", Outcome::Created))
        .await
        .unwrap();
    store
        .record(&acme, &run_id, entry("company", "C-2", Outcome::Unchanged))
        .await
        .unwrap();
    let failed = RunLogEntry {
        detail: "ConnectWise refused: name is required".to_owned(),
        ..entry("contact", "P-9", Outcome::Failed)
    };
    store.record(&acme, &run_id, failed.clone()).await.unwrap();

    let ended_at = T0 + Duration::minutes(3);
    let finished = store
        .finish(&acme, &run_id, ended_at, RunStatus::PartiallyFailed)
        .await
        .unwrap();
    assert_eq!(finished.status, RunStatus::PartiallyFailed);
    assert_eq!(finished.ended_at, Some(ended_at));
    assert_eq!(finished.records, 3);
    assert_eq!(
        finished.counts["company"],
        Counts {
            created: 1,
            unchanged: 1,
            ..Counts::default()
        }
    );
    assert_eq!(
        finished.counts["contact"],
        Counts {
            failed: 1,
            ..Counts::default()
        }
    );
    assert_eq!(
        store.get(&acme, &run_id).await.unwrap(),
        Some(finished.clone())
    );

    // Finishing again the same way is a harmless repeat; another way is refused.
    let repeat = store
        .finish(&acme, &run_id, ended_at, RunStatus::PartiallyFailed)
        .await;
    assert_eq!(repeat.unwrap(), finished);
    let other = store
        .finish(&acme, &run_id, ended_at, RunStatus::Succeeded)
        .await;
    assert!(
        matches!(other, Err(StoreError::Conflict { ref reason, .. }) if reason.contains("partially_failed"))
    );
    let running = store
        .finish(&acme, &run_id, ended_at, RunStatus::Running)
        .await;
    assert!(matches!(running, Err(StoreError::Invalid { ref field, .. }) if field == "status"));

    let page = store.log_page(&acme, &run_id, None, 10).await.unwrap();
    assert_eq!(page.entries.len(), 3);
    assert_eq!(page.entries[2], failed);
    assert_eq!(page.next_page_token, None);
}

pub async fn fifty_concurrent_records_add_up_to_exact_counts(store: Arc<dyn RunStore>) {
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    store
        .start(
            &acme,
            RunStart::new(run_id.clone(), "daily-export", false, T0),
        )
        .await
        .unwrap();

    let outcomes = [
        Outcome::Created,
        Outcome::Updated,
        Outcome::Unchanged,
        Outcome::Failed,
        Outcome::Linked,
    ];
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&store);
            let (acme, run_id) = (acme.clone(), run_id.clone());
            let entity = if i % 2 == 0 { "company" } else { "site" };
            let outcome = outcomes[i % outcomes.len()];
            tokio::spawn(async move {
                store
                    .record(&acme, &run_id, entry(entity, &format!("R-{i}"), outcome))
                    .await
            })
        })
        .collect();
    let mut seqs = HashSet::new();
    for task in tasks {
        let receipt = task.await.unwrap().unwrap();
        assert!(receipt.logged);
        seqs.insert(receipt.seq);
    }
    // Against moto this needs DynamoDB requests applied one at a time, as DynamoDB applies each
    // UpdateItem ADD atomically: stock moto_server loses increments racing on its threads.
    assert_eq!(
        seqs,
        (1..=50).collect::<HashSet<u64>>(),
        "every record got its own number (against moto: is it applying DynamoDB requests one at a time? see main.rs)"
    );

    let run = store.get(&acme, &run_id).await.unwrap().unwrap();
    assert_eq!(run.records, 50);
    // i even → company, outcome i % 5: companies get 5 of each outcome, sites too.
    let five_each = Counts {
        created: 5,
        updated: 5,
        unchanged: 5,
        failed: 5,
        linked: 5,
        skipped: 0,
    };
    assert_eq!(run.counts["company"], five_each);
    assert_eq!(run.counts["site"], five_each);
    assert_eq!(run.counts.values().map(Counts::total).sum::<u64>(), 50);

    let page = store.log_page(&acme, &run_id, None, 100).await.unwrap();
    let ids: HashSet<String> = page.entries.into_iter().map(|e| e.record_id).collect();
    assert_eq!(ids.len(), 50, "every record is in the log once");
}

pub async fn the_log_keeps_only_its_limit_and_the_run_says_it_was_truncated(
    store: Arc<dyn RunStore>,
) {
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    let start = RunStart {
        log_limit: 5,
        ..RunStart::new(run_id.clone(), "customer-sync", false, T0)
    };
    store.start(&acme, start).await.unwrap();
    let mut logged = Vec::new();
    for i in 0..8 {
        let receipt = store
            .record(
                &acme,
                &run_id,
                entry("company", &format!("C-{i}"), Outcome::Updated),
            )
            .await
            .unwrap();
        logged.push(receipt.logged);
    }
    assert_eq!(logged, [true, true, true, true, true, false, false, false]);

    let run = store.get(&acme, &run_id).await.unwrap().unwrap();
    assert!(run.log_truncated);
    assert_eq!((run.records, run.log_limit), (8, 5));
    assert_eq!(
        run.counts["company"].updated, 8,
        "records beyond the limit are still counted"
    );
    let page = store.log_page(&acme, &run_id, None, 100).await.unwrap();
    let ids: Vec<&str> = page.entries.iter().map(|e| e.record_id.as_str()).collect();
    assert_eq!(ids, ["C-0", "C-1", "C-2", "C-3", "C-4"]);
}

pub async fn a_long_log_is_read_in_pages_with_tokens_bound_to_the_run(store: Arc<dyn RunStore>) {
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    let other_run = RunId::new(T0 + Duration::seconds(1));
    for id in [&run_id, &other_run] {
        store
            .start(&acme, RunStart::new(id.clone(), "daily-export", false, T0))
            .await
            .unwrap();
    }
    for i in 0..250 {
        store
            .record(
                &acme,
                &run_id,
                entry("company", &format!("C-{i:03}"), Outcome::Created),
            )
            .await
            .unwrap();
    }

    let mut read = Vec::new();
    let mut sizes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = store
            .log_page(&acme, &run_id, token.as_deref(), 100)
            .await
            .unwrap();
        sizes.push(page.entries.len());
        read.extend(page.entries.into_iter().map(|e| e.record_id));
        token = page.next_page_token;
        if let Some(t) = &token {
            // A token is opaque: it never carries a raw key.
            assert!(!t.contains('#') && !t.contains(run_id.as_str()), "{t}");
        } else {
            break;
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    let expected: Vec<String> = (0..250).map(|i| format!("C-{i:03}")).collect();
    assert_eq!(read, expected, "every entry once, in order");

    let first = store.log_page(&acme, &run_id, None, 100).await.unwrap();
    let token = first.next_page_token.unwrap();
    let wrong_run = store.log_page(&acme, &other_run, Some(&token), 100).await;
    assert!(
        matches!(wrong_run, Err(StoreError::Invalid { ref field, .. }) if field == "page_token")
    );
    let wrong_tenant = store
        .log_page(&tenant("other"), &run_id, Some(&token), 100)
        .await;
    assert!(
        matches!(wrong_tenant, Err(StoreError::Invalid { ref field, .. }) if field == "page_token")
    );
    let garbage = store
        .log_page(&acme, &run_id, Some("T#acme#RUNLOG"), 100)
        .await;
    assert!(matches!(garbage, Err(StoreError::Invalid { .. })));
    let too_big = store.log_page(&acme, &run_id, None, 1_001).await;
    assert!(matches!(too_big, Err(StoreError::Invalid { ref field, .. }) if field == "limit"));
}

pub async fn runs_are_listed_newest_first_per_tenant(store: Arc<dyn RunStore>) {
    let (acme, other) = (tenant("acme"), tenant("other"));
    let mut ids = Vec::new();
    // Started out of order on purpose: the id alone orders them.
    for hours in [1, 0, 2] {
        let at = T0 + Duration::hours(hours);
        let id = RunId::new(at);
        store
            .start(&acme, RunStart::new(id.clone(), "ticket-import", false, at))
            .await
            .unwrap();
        ids.push((at, id));
    }
    let other_id = RunId::new(T0 + Duration::hours(5));
    store
        .start(
            &other,
            RunStart::new(other_id.clone(), "ticket-import", false, T0),
        )
        .await
        .unwrap();

    ids.sort();
    let newest_first: Vec<RunId> = ids.iter().rev().map(|(_, id)| id.clone()).collect();
    let listed: Vec<RunId> = store
        .list(&acme, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(listed, newest_first);
    let two: Vec<RunId> = store
        .list(&acme, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(two, newest_first[..2]);
    let older: Vec<RunId> = store
        .list_before(&acme, Some(&newest_first[1]), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(older, newest_first[2..], "the page after the first two");
    let after_oldest = store
        .list_before(&acme, Some(&newest_first[2]), 10)
        .await
        .unwrap();
    assert!(after_oldest.is_empty(), "nothing is older than the oldest");
    let others: Vec<RunId> = store
        .list(&other, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(others, [other_id]);
    assert_eq!(
        store.get(&other, &newest_first[0]).await.unwrap(),
        None,
        "tenants don't share runs"
    );
}

pub async fn an_unknown_run_is_reported_as_not_found(store: Arc<dyn RunStore>) {
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    assert_eq!(store.get(&acme, &run_id).await.unwrap(), None);
    let named = |result: Result<_, StoreError>| match result {
        Err(StoreError::NotFound { item }) => item,
        other => panic!("expected not found, got {other:?}"),
    };
    let record = store
        .record(&acme, &run_id, entry("company", "C-1", Outcome::Created))
        .await;
    assert_eq!(
        named(record.map(|_| ())),
        format!("tenant acme run {run_id}")
    );
    let finish = store.finish(&acme, &run_id, T0, RunStatus::Succeeded).await;
    assert!(named(finish.map(|_| ())).contains(run_id.as_str()));
    let page = store.log_page(&acme, &run_id, None, 10).await;
    assert!(named(page.map(|_| ())).contains(run_id.as_str()));
    assert!(store.list(&acme, 10).await.unwrap().is_empty());
    let bad_entity = store
        .record(&acme, &run_id, entry("Company", "C-1", Outcome::Created))
        .await;
    assert!(matches!(bad_entity, Err(StoreError::Invalid { ref field, .. }) if field == "entity"));
}

/// The next stage after `from_stage`, with `units` and the stage's own continuation.
fn extension(from_stage: u32, units: u64, continuation: Option<&str>) -> RunExtension {
    RunExtension {
        from_stage,
        units,
        continuation: continuation.map(str::to_owned),
    }
}

pub async fn a_staged_run_is_extended_once_per_stage_and_finishes_only_in_its_last(
    store: Arc<dyn RunStore>,
) {
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    let started = store
        .start(
            &acme,
            RunStart::new(run_id.clone(), "daily-export", false, T0)
                .with_planned(3)
                .with_continuation(Some("accounts".to_owned())),
        )
        .await
        .unwrap();
    assert_eq!(started.stage, 1);
    assert_eq!(started.continuation.as_deref(), Some("accounts"));
    assert_eq!(store.get(&acme, &run_id).await.unwrap(), Some(started));

    // Between stages the run can't be finished, whatever its counts say.
    for page in ["1", "2", "3"] {
        store
            .record(
                &acme,
                &run_id,
                entry("catalog-page", page, Outcome::Updated),
            )
            .await
            .unwrap();
    }
    let early = store.finish(&acme, &run_id, T0, RunStatus::Succeeded).await;
    assert!(
        matches!(early, Err(StoreError::Conflict { ref reason, .. }) if reason.contains("continuation")),
        "{early:?}"
    );

    // The continuation adds its units once; the same stage continued again adds nothing.
    let accounts = extension(1, 5, None);
    let extended = store
        .extend(&acme, &run_id, accounts.clone())
        .await
        .unwrap();
    assert!(extended.applied);
    assert_eq!(extended.run.stage, 2);
    assert_eq!(extended.run.planned, Some(8));
    assert_eq!(extended.run.continuation, None);
    assert_eq!(extended.run.counts["catalog-page"].updated, 3);
    let again = store.extend(&acme, &run_id, accounts).await.unwrap();
    assert!(!again.applied);
    assert_eq!(again.run.planned, Some(8));
    assert_eq!(again.run.stage, 2);
    assert_eq!(store.get(&acme, &run_id).await.unwrap(), Some(again.run));

    // A stage the run has not reached is refused naming where it is.
    let ahead = store.extend(&acme, &run_id, extension(3, 1, None)).await;
    assert!(
        matches!(ahead, Err(StoreError::Conflict { ref reason, .. }) if reason.contains("in stage 2")),
        "{ahead:?}"
    );

    // In its last stage it finishes as any run; a late continuation of stage 1 still adds
    // nothing, and one of its own last stage is refused as finished.
    let finished = store
        .finish(&acme, &run_id, T0, RunStatus::Succeeded)
        .await
        .unwrap();
    assert_eq!(finished.status, RunStatus::Succeeded);
    let late = store
        .extend(&acme, &run_id, extension(1, 5, None))
        .await
        .unwrap();
    assert!(!late.applied);
    assert_eq!(late.run.planned, Some(8));
    let after = store.extend(&acme, &run_id, extension(2, 1, None)).await;
    assert!(
        matches!(after, Err(StoreError::Conflict { ref reason, .. }) if reason.contains("finished")),
        "{after:?}"
    );
}

pub async fn a_stage_may_name_the_next_continuation_and_unknown_runs_are_not_found(
    store: Arc<dyn RunStore>,
) {
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    let missing = store.extend(&acme, &run_id, extension(1, 1, None)).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    let zero = store.extend(&acme, &run_id, extension(0, 1, None)).await;
    assert!(matches!(zero, Err(StoreError::Invalid { ref field, .. }) if field == "from_stage"));

    // A run started without a plan of units: the extension's units are its plan.
    store
        .start(
            &acme,
            RunStart::new(run_id.clone(), "ticket-import", false, T0)
                .with_continuation(Some("stage 2".to_owned())),
        )
        .await
        .unwrap();
    let second = store
        .extend(&acme, &run_id, extension(1, 2, Some("stage 3")))
        .await
        .unwrap();
    assert!(second.applied);
    assert_eq!(
        (second.run.stage, second.run.planned),
        (2, Some(2)),
        "{second:?}"
    );
    assert_eq!(second.run.continuation.as_deref(), Some("stage 3"));
    assert!(matches!(
        store.finish(&acme, &run_id, T0, RunStatus::Succeeded).await,
        Err(StoreError::Conflict { .. })
    ));
    let third = store
        .extend(&acme, &run_id, extension(2, 0, None))
        .await
        .unwrap();
    assert_eq!((third.run.stage, third.run.planned), (3, Some(2)));
    assert_eq!(third.run.continuation, None);
    assert!(
        store
            .finish(&acme, &run_id, T0, RunStatus::Succeeded)
            .await
            .is_ok()
    );
}
