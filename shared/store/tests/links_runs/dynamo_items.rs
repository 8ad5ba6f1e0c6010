//! The items the DynamoDB stores write, read raw: keys and attributes as `KEYS.md` documents.

use crate::{T0, moto_table, tenant};
use aws_sdk_dynamodb::types::AttributeValue;
use cwsync_store::links::{
    ClaimOutcome, DEFAULT_STALE_AFTER, DynamoLinkStore, LinkStore, SourceRef,
};
use cwsync_store::runs::{DynamoRunStore, Outcome, RunId, RunLogEntry, RunStart, RunStore};
use std::collections::HashMap;
use time::Duration;

type Item = HashMap<String, AttributeValue>;

async fn raw(table: &cwsync_store::dynamo::Table, pk: &str, sk: &str) -> Option<Item> {
    table
        .client
        .get_item()
        .table_name(&table.name)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item[name].as_s().unwrap()
}

fn n(item: &Item, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_completed_link_is_stored_as_a_forward_and_a_reverse_item() {
    let Some(table) = moto_table().await else {
        return;
    };
    let store = DynamoLinkStore::new(table.clone(), DEFAULT_STALE_AFTER);
    let acme = tenant("acme");
    let source = SourceRef::new("company", "C#42");
    let ClaimOutcome::Won(claim) = store.claim(&acme, source, "company", T0).await.unwrap() else {
        panic!("first claim must win");
    };
    let pending = raw(&table, "T#acme#LINK#company", "SRC#C#42")
        .await
        .unwrap();
    assert_eq!(s(&pending, "state"), "pending");
    assert_eq!(s(&pending, "claimedAt"), "2026-11-22T10:00:00Z");
    assert_eq!(s(&pending, "claimToken").len(), 32);
    assert!(!pending.contains_key("cwId"));

    store
        .complete(&acme, &claim, 42, "fp-1", T0 + Duration::seconds(2))
        .await
        .unwrap();
    let forward = raw(&table, "T#acme#LINK#company", "SRC#C#42")
        .await
        .unwrap();
    assert_eq!(s(&forward, "state"), "linked");
    assert_eq!(n(&forward, "cwId"), 42);
    assert_eq!(s(&forward, "cwKind"), "company");
    assert_eq!(s(&forward, "fingerprint"), "fp-1");
    assert_eq!(s(&forward, "updatedAt"), "2026-11-22T10:00:02Z");
    assert_eq!(n(&forward, "version"), 2);
    assert!(
        !forward.contains_key("claimToken"),
        "a linked item keeps no claim token"
    );
    assert!(!forward.contains_key("ttl"), "links never expire");

    let reverse = raw(&table, "T#acme#CWLINK#company", "CW#42").await.unwrap();
    assert_eq!(s(&reverse, "sourceKind"), "company");
    assert_eq!(
        s(&reverse, "sourceId"),
        "C#42",
        "a '#' in a source id is just data"
    );
    assert_eq!(s(&reverse, "linkedAt"), "2026-11-22T10:00:02Z");

    assert!(
        !forward.contains_key("syncStamp"),
        "no stamp before a sync records one"
    );
    store
        .record_stamp(&acme, source, "stamp-1", T0 + Duration::seconds(3))
        .await
        .unwrap();
    let stamped = raw(&table, "T#acme#LINK#company", "SRC#C#42")
        .await
        .unwrap();
    assert_eq!(s(&stamped, "syncStamp"), "stamp-1");
    assert_eq!(s(&stamped, "fingerprint"), "fp-1");
    assert_eq!(n(&stamped, "version"), 3);
}

#[tokio::test]
async fn a_run_keeps_flat_counters_and_expiring_log_items() {
    let Some(table) = moto_table().await else {
        return;
    };
    let store = DynamoRunStore::new(table.clone());
    let acme = tenant("acme");
    let run_id = RunId::new(T0);
    let start = RunStart {
        retention: Duration::days(7),
        ..RunStart::new(run_id.clone(), "daily-export", false, T0)
    };
    store.start(&acme, start).await.unwrap();
    let entry = RunLogEntry {
        entity: "company".into(),
        record_id: "C-1".into(),
        outcome: Outcome::Created,
        detail: "name, phone".into(),
    };
    store.record(&acme, &run_id, entry.clone()).await.unwrap();
    store.record(&acme, &run_id, entry).await.unwrap();

    let expires = (T0 + Duration::days(7)).unix_timestamp();
    let run = raw(&table, "T#acme#RUN", run_id.as_str()).await.unwrap();
    assert_eq!(n(&run, "c#company#created"), 2);
    assert_eq!(n(&run, "logEntries"), 2);
    assert_eq!(n(&run, "logLimit"), 10_000);
    assert_eq!(n(&run, "ttl"), expires);
    assert_eq!(s(&run, "status"), "running");
    assert_eq!(s(&run, "jobKind"), "daily-export");

    let log = raw(&table, &format!("T#acme#RUNLOG#{run_id}"), "0000000002")
        .await
        .unwrap();
    assert_eq!(s(&log, "outcome"), "created");
    assert_eq!(s(&log, "recordId"), "C-1");
    assert_eq!(s(&log, "detail"), "name, phone");
    assert_eq!(n(&log, "ttl"), expires, "the log expires with its run");
}
