//! The in-memory stores' snapshots (what `cwsync-local --state FILE` keeps between runs): a
//! store restored from a snapshot, after a JSON round trip, answers as the store it was taken
//! from — links in both directions, ledger entries, watermarks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_store::TenantId;
use cwsync_store::ledger::{ErrorLedger, LedgerSnapshot, MemoryErrorLedger};
use cwsync_store::links::{LinkSnapshot, LinkState, LinkStore, MemoryLinkStore, SourceRef};
use cwsync_store::watermarks::{MemoryWatermarkStore, WatermarkSnapshot, WatermarkStore};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::macros::datetime;

fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

#[tokio::test]
async fn links_ledger_and_watermarks_survive_a_snapshot_round_trip() {
    let tenant = TenantId::parse("acme").unwrap();
    let now = datetime!(2026-11-20 08:00 UTC);
    let links = MemoryLinkStore::default();
    let source = SourceRef::new("company", "A-1");
    links
        .link_existing(&tenant, source, "company", 250, "fp-1", now)
        .await
        .unwrap();
    let ledger = MemoryErrorLedger::default();
    ledger
        .record_failure(&tenant, "company", "A-2", "fp-2", "state: unknown", now)
        .await
        .unwrap();
    let watermarks = MemoryWatermarkStore::new();
    watermarks
        .advance(&tenant, "billing-accounts", now, now)
        .await
        .unwrap();

    let links_copy = MemoryLinkStore::default();
    links_copy.restore(round_trip::<LinkSnapshot>(&links.snapshot()));
    let ledger_copy = MemoryErrorLedger::default();
    ledger_copy.restore(round_trip::<LedgerSnapshot>(&ledger.snapshot()));
    let watermarks_copy = MemoryWatermarkStore::new();
    watermarks_copy.restore(round_trip::<WatermarkSnapshot>(&watermarks.snapshot()));

    let link = links_copy.get(&tenant, source).await.unwrap().unwrap();
    assert_eq!(link, links.get(&tenant, source).await.unwrap().unwrap());
    assert_eq!((link.state, link.cw_id), (LinkState::Linked, Some(250)));
    // The reverse direction came along: ConnectWise company 250 is taken.
    assert_eq!(
        links_copy.get_by_cw(&tenant, "company", 250).await.unwrap(),
        links.get_by_cw(&tenant, "company", 250).await.unwrap()
    );
    assert!(
        links_copy
            .link_existing(
                &tenant,
                SourceRef::new("company", "A-9"),
                "company",
                250,
                "fp",
                now
            )
            .await
            .is_err(),
        "a restored link still guards its ConnectWise record"
    );
    assert_eq!(
        ledger_copy
            .get(&tenant, "company", "A-2", now)
            .await
            .unwrap(),
        ledger.get(&tenant, "company", "A-2", now).await.unwrap()
    );
    assert!(
        ledger_copy
            .get(&tenant, "company", "A-2", now)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        watermarks_copy
            .get(&tenant, "billing-accounts")
            .await
            .unwrap(),
        watermarks.get(&tenant, "billing-accounts").await.unwrap()
    );
    assert!(
        watermarks_copy
            .get(&tenant, "billing-accounts")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(links_copy.snapshot(), links.snapshot());
}
