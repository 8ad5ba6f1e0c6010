//! The error ledger: counting, drop-off after N attempts, come-back on change, clear, TTL.

use crate::support::{T0, against_both_stores, tenant};
use cwsync_store::StoreError;
use cwsync_store::ledger::{DynamoErrorLedger, ErrorLedger, MAX_ERROR_CHARS, MemoryErrorLedger};
use std::sync::Arc;
use time::Duration;

const HOUR: Duration = Duration::hours(1);

fn ids(entries: &[cwsync_store::ledger::LedgerEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| format!("{}/{}", e.kind, e.record_id))
        .collect()
}

async fn failures_count_up_and_drop_off_the_report_after_n_attempts(ledger: Arc<dyn ErrorLedger>) {
    let acme = tenant("acme");
    for attempt in 1..=3u32 {
        let now = T0 + HOUR * attempt;
        let entry = ledger
            .record_failure(
                &acme,
                "company",
                "C-1",
                "v1",
                &format!("state is invalid ({attempt})"),
                now,
            )
            .await
            .unwrap();
        assert_eq!(entry.attempts, attempt);
        assert_eq!(entry.first_seen, T0 + HOUR);
        assert_eq!(entry.last_seen, now);
        assert_eq!(entry.last_error, format!("state is invalid ({attempt})"));
    }
    let report = ledger.report(&acme, 3, T0 + HOUR * 4).await.unwrap();
    assert_eq!(ids(&report), ["company/C-1"]);
    assert_eq!(report[0].attempts, 3);

    let fourth = ledger
        .record_failure(
            &acme,
            "company",
            "C-1",
            "v1",
            "still invalid",
            T0 + HOUR * 4,
        )
        .await
        .unwrap();
    assert_eq!(fourth.attempts, 4);
    assert!(
        ledger
            .report(&acme, 3, T0 + HOUR * 5)
            .await
            .unwrap()
            .is_empty(),
        "dropped off"
    );
    assert_eq!(
        ledger.report(&acme, 4, T0 + HOUR * 5).await.unwrap().len(),
        1,
        "a tenant allowing 4 still sees it"
    );
    let kept = ledger
        .get(&acme, "company", "C-1", T0 + HOUR * 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.attempts, kept.first_seen),
        (4, T0 + HOUR),
        "stays stored after dropping off"
    );
}
against_both_stores!(
    failures_count_up_and_drop_off_the_report_after_n_attempts,
    memory: MemoryErrorLedger::default(),
    dynamo: DynamoErrorLedger::new
);

async fn a_changed_record_comes_back_on_the_report_with_attempts_restarted(
    ledger: Arc<dyn ErrorLedger>,
) {
    let acme = tenant("acme");
    for attempt in 0..5 {
        ledger
            .record_failure(
                &acme,
                "contact",
                "K-9",
                "v1",
                "email is invalid",
                T0 + HOUR * attempt,
            )
            .await
            .unwrap();
    }
    assert!(
        ledger
            .report(&acme, 3, T0 + HOUR * 5)
            .await
            .unwrap()
            .is_empty()
    );

    let changed = ledger
        .record_failure(
            &acme,
            "contact",
            "K-9",
            "v2",
            "email is still invalid",
            T0 + HOUR * 6,
        )
        .await
        .unwrap();
    assert_eq!(changed.attempts, 1);
    assert_eq!(changed.first_seen, T0 + HOUR * 6);
    assert_eq!(changed.record_fingerprint, "v2");
    let report = ledger.report(&acme, 3, T0 + HOUR * 6).await.unwrap();
    assert_eq!(ids(&report), ["contact/K-9"]);
    assert_eq!(report[0].last_error, "email is still invalid");

    let again = ledger
        .record_failure(
            &acme,
            "contact",
            "K-9",
            "v2",
            "email is still invalid",
            T0 + HOUR * 7,
        )
        .await
        .unwrap();
    assert_eq!(again.attempts, 2, "counting continues on the new version");
}
against_both_stores!(
    a_changed_record_comes_back_on_the_report_with_attempts_restarted,
    memory: MemoryErrorLedger::default(),
    dynamo: DynamoErrorLedger::new
);

async fn a_success_clears_the_entry(ledger: Arc<dyn ErrorLedger>) {
    let acme = tenant("acme");
    ledger
        .record_failure(&acme, "product", "SKU-1", "v1", "category missing", T0)
        .await
        .unwrap();
    ledger.clear(&acme, "product", "SKU-1").await.unwrap();
    assert_eq!(
        ledger.get(&acme, "product", "SKU-1", T0).await.unwrap(),
        None
    );
    assert!(ledger.report(&acme, 3, T0).await.unwrap().is_empty());
    ledger.clear(&acme, "product", "SKU-1").await.unwrap(); // clearing twice is fine
    let fresh = ledger
        .record_failure(
            &acme,
            "product",
            "SKU-1",
            "v1",
            "category missing",
            T0 + HOUR,
        )
        .await
        .unwrap();
    assert_eq!(fresh.attempts, 1, "a failure after a success starts over");
}
against_both_stores!(
    a_success_clears_the_entry,
    memory: MemoryErrorLedger::default(),
    dynamo: DynamoErrorLedger::new
);

async fn entries_expire_one_ttl_after_the_last_failure(ledger: Arc<dyn ErrorLedger>) {
    let acme = tenant("acme");
    let first = ledger
        .record_failure(
            &acme,
            "invoice",
            "INV-7",
            "v1",
            "bill-to company unmapped",
            T0,
        )
        .await
        .unwrap();
    let last = ledger
        .record_failure(
            &acme,
            "invoice",
            "INV-7",
            "v1",
            "bill-to company unmapped",
            T0 + HOUR,
        )
        .await
        .unwrap();
    assert_eq!(first.expires_at, T0 + Duration::days(7));
    assert_eq!(
        last.expires_at,
        T0 + HOUR + Duration::days(7),
        "the TTL restarts at each failure"
    );

    let just_before = last.expires_at - Duration::seconds(1);
    assert!(
        ledger
            .get(&acme, "invoice", "INV-7", just_before)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(ledger.report(&acme, 3, just_before).await.unwrap().len(), 1);
    assert_eq!(
        ledger
            .get(&acme, "invoice", "INV-7", last.expires_at)
            .await
            .unwrap(),
        None
    );
    assert!(
        ledger
            .report(&acme, 3, last.expires_at)
            .await
            .unwrap()
            .is_empty()
    );

    // An expired entry (DynamoDB deletes it lazily) is never counted on.
    let after = ledger
        .record_failure(
            &acme,
            "invoice",
            "INV-7",
            "v1",
            "bill-to company unmapped",
            last.expires_at,
        )
        .await
        .unwrap();
    assert_eq!((after.attempts, after.first_seen), (1, last.expires_at));
}
against_both_stores!(
    entries_expire_one_ttl_after_the_last_failure,
    memory: MemoryErrorLedger::new(Duration::days(7)),
    dynamo: |table| DynamoErrorLedger::with_ttl(table, Duration::days(7))
);

async fn error_texts_are_stored_truncated(ledger: Arc<dyn ErrorLedger>) {
    let acme = tenant("acme");
    let long = format!("ConnectWise said: {}", "ä".repeat(5_000));
    let entry = ledger
        .record_failure(&acme, "agreement", "A-1", "v1", &long, T0)
        .await
        .unwrap();
    assert_eq!(entry.last_error.chars().count(), MAX_ERROR_CHARS);
    assert!(
        entry.last_error.starts_with("ConnectWise said: ää") && entry.last_error.ends_with('…')
    );
    let stored = ledger
        .get(&acme, "agreement", "A-1", T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_error, entry.last_error);
    let counted = ledger
        .record_failure(&acme, "agreement", "A-1", "v1", &long, T0 + HOUR)
        .await
        .unwrap();
    assert_eq!(
        counted.last_error, entry.last_error,
        "the counting path truncates too"
    );
}
against_both_stores!(
    error_texts_are_stored_truncated,
    memory: MemoryErrorLedger::default(),
    dynamo: DynamoErrorLedger::new
);

async fn the_report_is_per_tenant_and_ordered_by_kind_and_record(ledger: Arc<dyn ErrorLedger>) {
    let (acme, other) = (tenant("acme"), tenant("acme-eu"));
    for (kind, id) in [("contact", "1"), ("company", "2"), ("company", "10")] {
        ledger
            .record_failure(&acme, kind, id, "v1", "failed", T0)
            .await
            .unwrap();
    }
    ledger
        .record_failure(&other, "company", "2", "v1", "failed", T0)
        .await
        .unwrap();
    let report = ledger.report(&acme, 3, T0).await.unwrap();
    // Sort-key order: text, so "10" sorts before "2".
    assert_eq!(ids(&report), ["company/10", "company/2", "contact/1"]);
    assert_eq!(
        ids(&ledger.report(&other, 3, T0).await.unwrap()),
        ["company/2"]
    );
    ledger.clear(&other, "company", "2").await.unwrap();
    assert_eq!(
        ledger.report(&acme, 3, T0).await.unwrap().len(),
        3,
        "clearing is per tenant"
    );
}
against_both_stores!(
    the_report_is_per_tenant_and_ordered_by_kind_and_record,
    memory: MemoryErrorLedger::default(),
    dynamo: DynamoErrorLedger::new
);

async fn concurrent_failures_of_one_record_are_all_counted(ledger: Arc<dyn ErrorLedger>) {
    let acme = tenant("acme");
    let tasks = (0..8).map(|i| {
        let (ledger, acme) = (ledger.clone(), acme.clone());
        tokio::spawn(async move {
            ledger
                .record_failure(&acme, "site", "S-1", "v1", &format!("worker {i}"), T0)
                .await
                .unwrap()
        })
    });
    let entries: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let mut counts: Vec<u32> = entries.iter().map(|e| e.attempts).collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=8).collect::<Vec<_>>(),
        "each failure counted once"
    );
    let stored = ledger.get(&acme, "site", "S-1", T0).await.unwrap().unwrap();
    assert_eq!(stored.attempts, 8);
}
against_both_stores!(
    concurrent_failures_of_one_record_are_all_counted,
    memory: MemoryErrorLedger::default(),
    dynamo: DynamoErrorLedger::new
);

async fn a_kind_that_would_break_the_key_is_refused(ledger: Arc<dyn ErrorLedger>) {
    let acme = tenant("acme");
    let refused = ledger
        .record_failure(&acme, "company#evil", "1", "v1", "x", T0)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::Invalid { ref field, .. } if field == "kind"),
        "{refused}"
    );
    assert!(ledger.report(&acme, 3, T0).await.unwrap().is_empty());
}
against_both_stores!(
    a_kind_that_would_break_the_key_is_refused,
    memory: MemoryErrorLedger::default(),
    dynamo: DynamoErrorLedger::new
);

/// The item holds what KEYS.md says, with `ttl` as epoch seconds so DynamoDB's TTL deletes it.
#[tokio::test]
async fn a_ledger_item_carries_its_ttl_as_epoch_seconds() {
    let Some(table) = crate::support::table().await else {
        return;
    };
    let ledger = DynamoErrorLedger::new(table.clone());
    let entry = ledger
        .record_failure(&tenant("acme"), "company", "C-1", "v1", "failed", T0)
        .await
        .unwrap();
    let item = table
        .client
        .get_item()
        .table_name(&table.name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("T#acme#ERR".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("company#C-1".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        item["ttl"].as_n().unwrap(),
        &entry.expires_at.unix_timestamp().to_string()
    );
    assert_eq!(item["attempts"].as_n().unwrap(), "1");
    assert_eq!(item["recordFingerprint"].as_s().unwrap(), "v1");
}
