//! What every `LinkStore` must do. Each function gets a fresh, empty store.

use crate::{T0, tenant};
use cwsync_store::StoreError;
use cwsync_store::links::{Claim, ClaimOutcome, LinkState, LinkStore, SourceRef};
use std::sync::Arc;
use time::Duration;

const COMPANY: &str = "company";

fn c(id: &str) -> SourceRef<'_> {
    SourceRef::new(COMPANY, id)
}

async fn win(
    store: &dyn LinkStore,
    tenant_name: &str,
    id: &str,
    at: time::OffsetDateTime,
) -> Claim {
    match store
        .claim(&tenant(tenant_name), c(id), COMPANY, at)
        .await
        .unwrap()
    {
        ClaimOutcome::Won(claim) => claim,
        other => panic!("expected to win the claim on {id}, got {other:?}"),
    }
}

fn conflict_reason(error: StoreError) -> String {
    match error {
        StoreError::Conflict { item, reason } => format!("{item}: {reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

pub async fn a_first_claim_wins_and_a_second_finds_it_held(store: Arc<dyn LinkStore>) {
    let acme = tenant("acme");
    let claim = win(&*store, "acme", "C-1", T0).await;
    assert!(!claim.must_heal());
    assert_eq!(claim.claimed_at(), T0);

    let second = store
        .claim(&acme, c("C-1"), COMPANY, T0 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        second,
        ClaimOutcome::HeldByOther {
            claimed_at: T0,
            stale_at: T0 + Duration::minutes(5)
        }
    );
    let link = store.get(&acme, c("C-1")).await.unwrap().unwrap();
    assert_eq!(link.state, LinkState::Pending);
    assert_eq!(link.cw_id, None);
    assert_eq!(link.claimed_at, Some(T0));
    assert!(link.claim_token.is_some());
}

pub async fn a_claim_race_has_exactly_one_winner_and_the_others_see_the_link(
    store: Arc<dyn LinkStore>,
) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.claim(&tenant("acme"), c("C-1"), COMPANY, T0).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut held = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            ClaimOutcome::Won(claim) => winners.push(claim),
            ClaimOutcome::HeldByOther { claimed_at, .. } => {
                assert_eq!(claimed_at, T0);
                held += 1;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    // Against moto this needs DynamoDB requests applied one at a time, as DynamoDB does (see
    // main.rs): stock moto_server races conditional puts on its threads.
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 20 concurrent claimers wins (against moto: is it applying DynamoDB requests one at a time? see main.rs)"
    );
    assert_eq!(held, 19);

    // Only the winner can complete; afterwards everyone sees the link.
    let link = store
        .complete(&tenant("acme"), &winners[0], 42, "fp", T0)
        .await
        .unwrap();
    let again = store
        .claim(&tenant("acme"), c("C-1"), COMPANY, T0)
        .await
        .unwrap();
    assert_eq!(again, ClaimOutcome::AlreadyLinked(link));
}

pub async fn a_stale_pending_claim_is_taken_over_and_the_old_claimer_can_no_longer_complete(
    store: Arc<dyn LinkStore>,
) {
    let acme = tenant("acme");
    let crashed = win(&*store, "acme", "C-1", T0).await;

    // Just inside the window the claim still protects the record.
    let early = store
        .claim(&acme, c("C-1"), COMPANY, T0 + Duration::seconds(299))
        .await
        .unwrap();
    assert!(
        matches!(early, ClaimOutcome::HeldByOther { .. }),
        "{early:?}"
    );

    let healer = win(&*store, "acme", "C-1", T0 + Duration::minutes(5)).await;
    assert!(
        healer.must_heal(),
        "a taken-over claim must look the record up by natural key first"
    );
    assert_eq!(healer.replaced_claim_at(), Some(T0));

    // The claimer that went quiet wakes up: its claim is gone, and the error says what to do.
    let late = store
        .complete(&acme, &crashed, 100, "fp-old", T0 + Duration::minutes(6))
        .await
        .unwrap_err();
    let reason = conflict_reason(late);
    assert!(
        reason.contains("company/C-1") && reason.contains("taken over"),
        "{reason}"
    );
    assert!(reason.contains("natural key"), "{reason}");

    // The healer found the record the first claimer created and links it.
    let link = store
        .complete(&acme, &healer, 100, "fp-new", T0 + Duration::minutes(7))
        .await
        .unwrap();
    assert_eq!(link.cw_id, Some(100));
    assert_eq!(
        link.created_at, T0,
        "taking over keeps when the link was first written"
    );
    assert_eq!(
        store.get_by_cw(&acme, COMPANY, 100).await.unwrap(),
        Some(link)
    );
}

pub async fn completing_a_claim_links_both_directions_and_is_safe_to_retry(
    store: Arc<dyn LinkStore>,
) {
    let acme = tenant("acme");
    let claim = win(&*store, "acme", "C-1", T0).await;
    let at = T0 + Duration::seconds(3);
    let link = store.complete(&acme, &claim, 42, "fp-1", at).await.unwrap();
    assert_eq!(link.state, LinkState::Linked);
    assert_eq!(link.cw_kind, COMPANY);
    assert_eq!(link.cw_id, Some(42));
    assert_eq!(link.fingerprint.as_deref(), Some("fp-1"));
    assert_eq!(link.claim_token, None);
    assert_eq!((link.created_at, link.updated_at), (T0, at));

    assert_eq!(
        store.get(&acme, c("C-1")).await.unwrap().as_ref(),
        Some(&link)
    );
    assert_eq!(
        store.get_by_cw(&acme, COMPANY, 42).await.unwrap().as_ref(),
        Some(&link)
    );
    assert_eq!(
        store.get_by_cw(&acme, "site", 42).await.unwrap(),
        None,
        "kinds are separate"
    );

    // A retry after a lost response finds the work done instead of failing.
    let retried = store.complete(&acme, &claim, 42, "fp-1", at).await.unwrap();
    assert_eq!(retried, link);
    // Completing the same claim with another id is a conflict, not a relink.
    let other = store
        .complete(&acme, &claim, 43, "fp-1", at)
        .await
        .unwrap_err();
    assert!(conflict_reason(other).contains("linked meanwhile to ConnectWise company 42"));
}

pub async fn one_connectwise_record_cant_be_linked_to_two_billing_records(
    store: Arc<dyn LinkStore>,
) {
    let acme = tenant("acme");
    let first = win(&*store, "acme", "C-1", T0).await;
    store.complete(&acme, &first, 42, "fp", T0).await.unwrap();

    let second = win(&*store, "acme", "C-2", T0).await;
    let error = store
        .complete(&acme, &second, 42, "fp", T0)
        .await
        .unwrap_err();
    let reason = conflict_reason(error);
    assert!(
        reason.contains("company/C-1") && reason.contains("company/C-2") && reason.contains("42"),
        "the error names both records: {reason}"
    );
    // Nothing changed: C-2 is still pending under its claim, 42 still points at C-1.
    let pending = store.get(&acme, c("C-2")).await.unwrap().unwrap();
    assert_eq!(pending.state, LinkState::Pending);
    assert_eq!(
        store
            .get_by_cw(&acme, COMPANY, 42)
            .await
            .unwrap()
            .unwrap()
            .source_id,
        "C-1"
    );

    let error = store
        .link_existing(&acme, c("C-3"), COMPANY, 42, "fp", T0)
        .await
        .unwrap_err();
    let reason = conflict_reason(error);
    assert!(
        reason.contains("company/C-1") && reason.contains("company/C-3"),
        "{reason}"
    );
    assert_eq!(
        store.get(&acme, c("C-3")).await.unwrap(),
        None,
        "the transaction wrote nothing"
    );
}

pub async fn linking_an_existing_record_writes_both_directions_and_respects_claims(
    store: Arc<dyn LinkStore>,
) {
    let acme = tenant("acme");
    let link = store
        .link_existing(&acme, c("C-1"), COMPANY, 7, "fp-1", T0)
        .await
        .unwrap();
    assert_eq!((link.state, link.cw_id), (LinkState::Linked, Some(7)));
    assert_eq!(
        store.get_by_cw(&acme, COMPANY, 7).await.unwrap(),
        Some(link.clone())
    );

    // Matching again to the same record only records the new fingerprint.
    let later = T0 + Duration::hours(1);
    let again = store
        .link_existing(&acme, c("C-1"), COMPANY, 7, "fp-2", later)
        .await
        .unwrap();
    assert_eq!(again.fingerprint.as_deref(), Some("fp-2"));
    assert_eq!((again.created_at, again.updated_at), (T0, later));

    let elsewhere = store
        .link_existing(&acme, c("C-1"), COMPANY, 8, "fp", later)
        .await;
    assert!(
        conflict_reason(elsewhere.unwrap_err()).contains("already linked to ConnectWise company 7")
    );

    // A fresh claim is respected; a stale one is replaced and its holder loses.
    let claim = win(&*store, "acme", "C-2", T0).await;
    let fresh = store
        .link_existing(&acme, c("C-2"), COMPANY, 9, "fp", T0 + Duration::minutes(1))
        .await;
    assert!(conflict_reason(fresh.unwrap_err()).contains("retry after"));
    let replaced = store
        .link_existing(&acme, c("C-2"), COMPANY, 9, "fp", T0 + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(replaced.cw_id, Some(9));
    let lost = store
        .complete(&acme, &claim, 10, "fp", T0 + Duration::minutes(6))
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict { .. })), "{lost:?}");
    assert_eq!(store.get_by_cw(&acme, COMPANY, 10).await.unwrap(), None);
}

pub async fn a_sync_is_recorded_only_on_a_linked_link(store: Arc<dyn LinkStore>) {
    let acme = tenant("acme");
    let missing = store.record_sync(&acme, c("C-1"), "fp", T0).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { ref item }) if item.contains("company/C-1"))
    );

    let claim = win(&*store, "acme", "C-1", T0).await;
    let pending = store.record_sync(&acme, c("C-1"), "fp", T0).await;
    assert!(conflict_reason(pending.unwrap_err()).contains("still pending"));

    let linked = store.complete(&acme, &claim, 42, "fp-1", T0).await.unwrap();
    let synced_at = T0 + Duration::days(1);
    let synced = store
        .record_sync(&acme, c("C-1"), "fp-2", synced_at)
        .await
        .unwrap();
    assert_eq!(synced.fingerprint.as_deref(), Some("fp-2"));
    assert_eq!(synced.updated_at, synced_at);
    assert_eq!(synced.cw_id, Some(42));
    assert!(synced.version > linked.version);
    assert_eq!(store.get(&acme, c("C-1")).await.unwrap(), Some(synced));
}

pub async fn a_sync_stamp_is_recorded_only_on_a_linked_link_and_kept_by_later_syncs(
    store: Arc<dyn LinkStore>,
) {
    let acme = tenant("acme");
    let missing = store.record_stamp(&acme, c("C-1"), "st", T0).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { ref item }) if item.contains("company/C-1"))
    );
    let claim = win(&*store, "acme", "C-1", T0).await;
    let pending = store.record_stamp(&acme, c("C-1"), "st", T0).await;
    assert!(conflict_reason(pending.unwrap_err()).contains("still pending"));

    let linked = store.complete(&acme, &claim, 42, "fp-1", T0).await.unwrap();
    assert_eq!(linked.sync_stamp, None, "a new link has no stamp yet");
    let at = T0 + Duration::hours(1);
    let stamped = store
        .record_stamp(&acme, c("C-1"), "stamp-1", at)
        .await
        .unwrap();
    assert_eq!(stamped.sync_stamp.as_deref(), Some("stamp-1"));
    assert_eq!(stamped.fingerprint.as_deref(), Some("fp-1"));
    assert_eq!(stamped.updated_at, at);
    assert!(stamped.version > linked.version);
    assert_eq!(
        store.get(&acme, c("C-1")).await.unwrap(),
        Some(stamped.clone())
    );
    let read = store
        .get_many(&acme, COMPANY, &["C-1".to_owned()])
        .await
        .unwrap();
    assert_eq!(read.get("C-1"), Some(&stamped));

    // A later sync that changes the fingerprint keeps the stamp (the sync records its own).
    let synced = store
        .record_sync(&acme, c("C-1"), "fp-2", at)
        .await
        .unwrap();
    assert_eq!(synced.sync_stamp.as_deref(), Some("stamp-1"));

    let too_long = store
        .record_stamp(&acme, c("C-1"), &"x".repeat(257), at)
        .await;
    assert!(
        matches!(too_long, Err(StoreError::Invalid { ref field, .. }) if field == "sync_stamp"),
        "{too_long:?}"
    );
    let other_tenant = store
        .record_stamp(&tenant("other"), c("C-1"), "st", at)
        .await;
    assert!(matches!(other_tenant, Err(StoreError::NotFound { .. })));

    // Unlinked and linked again to an existing record: no stamp until a sync records one.
    store.unlink(&acme, c("C-1")).await.unwrap();
    let relinked = store
        .link_existing(&acme, c("C-1"), COMPANY, 42, "fp-3", at)
        .await
        .unwrap();
    assert_eq!(relinked.sync_stamp, None);
}

pub async fn unlinking_removes_both_directions(store: Arc<dyn LinkStore>) {
    let acme = tenant("acme");
    let link = store
        .link_existing(&acme, c("C-1"), COMPANY, 42, "fp", T0)
        .await
        .unwrap();
    assert_eq!(store.unlink(&acme, c("C-1")).await.unwrap(), Some(link));
    assert_eq!(store.get(&acme, c("C-1")).await.unwrap(), None);
    assert_eq!(store.get_by_cw(&acme, COMPANY, 42).await.unwrap(), None);
    assert_eq!(store.unlink(&acme, c("C-1")).await.unwrap(), None);

    // The ConnectWise record is free again.
    store
        .link_existing(&acme, c("C-2"), COMPANY, 42, "fp", T0)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_by_cw(&acme, COMPANY, 42)
            .await
            .unwrap()
            .unwrap()
            .source_id,
        "C-2"
    );

    // A stuck pending claim can be cleared by hand, and its holder then loses.
    let claim = win(&*store, "acme", "C-3", T0).await;
    let removed = store.unlink(&acme, c("C-3")).await.unwrap().unwrap();
    assert_eq!(removed.state, LinkState::Pending);
    let lost = store
        .complete(&acme, &claim, 43, "fp", T0)
        .await
        .unwrap_err();
    assert!(conflict_reason(lost).contains("removed"));
}

pub async fn one_tenant_never_sees_or_touches_another_tenants_links(store: Arc<dyn LinkStore>) {
    let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
    let link_a = store
        .link_existing(&a, c("C-1"), COMPANY, 42, "fp-a", T0)
        .await
        .unwrap();

    assert_eq!(store.get(&b, c("C-1")).await.unwrap(), None);
    assert_eq!(store.get_by_cw(&b, COMPANY, 42).await.unwrap(), None);
    assert!(
        store
            .get_many(&b, COMPANY, &["C-1".to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.unlink(&b, c("C-1")).await.unwrap(), None);
    assert!(matches!(
        store.record_sync(&b, c("C-1"), "fp", T0).await,
        Err(StoreError::NotFound { .. })
    ));

    // The same source id and ConnectWise id in tenant B are B's own business.
    let claim_b = win(&*store, "tenant-b", "C-1", T0).await;
    // A claim won in B can't be spent in A.
    let cross = store.complete(&a, &claim_b, 42, "fp", T0).await;
    assert!(
        matches!(cross, Err(StoreError::Invalid { ref field, .. }) if field == "claim"),
        "{cross:?}"
    );
    let link_b = store.complete(&b, &claim_b, 42, "fp-b", T0).await.unwrap();
    assert_eq!(link_b.tenant, b);

    assert_eq!(store.get(&a, c("C-1")).await.unwrap(), Some(link_a.clone()));
    assert_eq!(
        store.get_by_cw(&a, COMPANY, 42).await.unwrap(),
        Some(link_a)
    );
    assert_eq!(
        store.get_by_cw(&b, COMPANY, 42).await.unwrap(),
        Some(link_b)
    );
}

pub async fn many_links_are_read_at_once_across_batches(store: Arc<dyn LinkStore>) {
    let acme = tenant("acme");
    let ids: Vec<String> = (0..250).map(|i| format!("C-{i:03}")).collect();
    // Every fifth record stays unlinked, so absences fall into every batch of 100.
    let linked: Vec<(usize, &String)> =
        ids.iter().enumerate().filter(|(i, _)| i % 5 != 0).collect();
    for (i, id) in &linked {
        let cw_id = 1_000 + i64::try_from(*i).unwrap();
        store
            .link_existing(&acme, c(id), COMPANY, cw_id, "fp", T0)
            .await
            .unwrap();
    }

    let mut asked = ids.clone();
    asked.push("C-001".to_owned()); // a duplicate is read once
    let found = store.get_many(&acme, COMPANY, &asked).await.unwrap();
    assert_eq!(found.len(), 200);
    for (i, id) in &linked {
        assert_eq!(
            found[*id].cw_id,
            Some(1_000 + i64::try_from(*i).unwrap()),
            "{id}"
        );
    }
    assert!(!found.contains_key("C-000") && !found.contains_key("C-245"));
    assert!(
        store
            .get_many(&acme, COMPANY, &[])
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn malformed_input_is_refused_naming_the_field(store: Arc<dyn LinkStore>) {
    let acme = tenant("acme");
    fn field_of<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
        match result {
            Err(StoreError::Invalid { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }
    assert_eq!(
        field_of(store.get(&acme, SourceRef::new("Company", "C-1")).await),
        "kind"
    );
    assert_eq!(
        field_of(store.get(&acme, SourceRef::new("company#x", "C-1")).await),
        "kind"
    );
    assert_eq!(field_of(store.get(&acme, c("")).await), "source_id");
    assert_eq!(
        field_of(store.claim(&acme, c("C-1"), "CW Company", T0).await),
        "cw_kind"
    );
    assert_eq!(
        field_of(
            store
                .link_existing(&acme, c("C-1"), COMPANY, 1, "", T0)
                .await
        ),
        "fingerprint"
    );
    let long = "x".repeat(513);
    assert_eq!(
        field_of(store.get_many(&acme, COMPANY, &[long]).await),
        "source_id"
    );
    assert_eq!(
        store.get(&acme, c("C-1")).await.unwrap(),
        None,
        "nothing was written"
    );
}
