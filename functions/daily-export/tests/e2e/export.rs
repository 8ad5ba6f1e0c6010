//! What the export writes: catalog items, agreements and additions, once; nothing on an
//! unchanged re-run; exactly the changed addition after a change; a cancel date, never a delete.

use cwsync_billing_sim::{fixture_products, fixture_subscriptions, fixture_users};
use cwsync_queue::JobQueue;
use serde_json::{Value, json};

use crate::support::World;

fn by<'a>(records: &'a [Value], field: &str, value: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r[field] == value).collect()
}

fn addition_of<'a>(additions: &'a [Value], product_identifier: &str) -> Vec<&'a Value> {
    additions
        .iter()
        .filter(|a| a["product"]["identifier"] == product_identifier)
        .collect()
}

async fn fixture_world() -> World {
    let world = World::start().await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    world
}

#[tokio::test]
async fn a_first_export_creates_each_catalog_item_agreement_and_addition_once() {
    let world = fixture_world().await;
    let (planned, report) = world.export_now(json!({})).await;
    assert_eq!(planned["dryRun"], false);

    // Every product is a catalog item, by its SKU; the disabled one inactive.
    let items = world.records("/procurement/catalog");
    assert_eq!(items.len(), 6, "{items:?}");
    for sku in ["M365-BP", "M365-E3", "CLOUD-BACKUP-TB", "MSP-WORKSTATION"] {
        assert_eq!(by(&items, "identifier", sku).len(), 1, "{sku}");
    }
    assert_eq!(
        by(&items, "identifier", "LEGACY-AV")[0]["inactiveFlag"],
        true
    );

    // One agreement per account and kind; one addition per exportable subscription. (A-1005's
    // company was refused by the customer sync: its account is reported unmapped.)
    let agreements = world.records("/finance/agreements");
    assert_eq!(agreements.len(), 2, "{agreements:?}");
    let additions = world.additions();
    assert_eq!(additions.len(), 3, "{additions:?}");
    assert_eq!(addition_of(&additions, "M365-BP").len(), 1);
    assert_eq!(report.outcome("export-account", "A-1005"), "skipped");
    assert!(
        report
            .detail("export-account", "A-1005")
            .starts_with("unmapped")
    );
    let backup = addition_of(&additions, "CLOUD-BACKUP-TB");
    assert_eq!(backup[0]["quantity"], 2.5);
    // No unit price on the subscription: the Retail price of its unit (TB).
    assert_eq!(backup[0]["unitPrice"], 45.0);

    // A cancelled subscription never exported gets no addition; unmapped values are named.
    assert_eq!(report.outcome("addition", "SUB-5004"), "skipped");
    let biennial = report.detail("addition", "SUB-5005");
    assert!(
        biennial.contains("\"Biennial\"") && biennial.contains("mappings.billingFrequencies"),
        "{biennial}"
    );
    let lease = report.detail("addition", "SUB-5006");
    assert!(
        lease.contains("Equipment Lease") && lease.contains("mappings.agreementTypes"),
        "{lease}"
    );
    assert_eq!(report.status(), "partially_failed");
}

#[tokio::test]
async fn an_unchanged_rerun_writes_nothing_and_sends_no_job() {
    let world = fixture_world().await;
    world.export_now(json!({})).await;
    let writes = world.cw_writes();
    let (planned, report) = world.export_now(json!({})).await;
    assert_eq!(
        world.cw_writes(),
        writes,
        "an unchanged re-run writes nothing"
    );
    // The accounts whose every record exported are not sent again; the failing one is.
    assert_eq!(planned["unchanged"], 2, "{planned}");
    assert_eq!(planned["jobsSent"], 2, "{planned}");
    assert_eq!(report.outcome("catalog-item", "P-M365-BP"), "unchanged");
}

#[tokio::test]
async fn a_quantity_change_patches_that_addition_and_a_cancellation_sets_its_cancel_date() {
    let world = fixture_world().await;
    world.export_now(json!({})).await;
    let before = world.additions().len();
    world
        .billing
        .advance_clock(std::time::Duration::from_secs(3600));
    world
        .billing
        .modify_subscription("SUB-5001", |s| s.quantity = 30.into());
    world.billing.modify_subscription("SUB-5003", |s| {
        s.cancelled_at = Some(time::macros::datetime!(2026-11-20 09:00 UTC));
    });
    let patches = world
        .cw
        .calls()
        .count("PATCH", "/finance/agreements/{parentId}/additions/{id}");
    // One of three live additions cancelled is over the default guard (20%): confirmed.
    let (_, report) = world.export_now(json!({"confirmMassChange": true})).await;
    assert_eq!(
        world
            .cw
            .calls()
            .count("PATCH", "/finance/agreements/{parentId}/additions/{id}")
            - patches,
        2,
        "exactly the two changed additions are patched"
    );
    assert_eq!(report.outcome("addition", "SUB-5001"), "updated");
    assert_eq!(report.outcome("addition", "SUB-5003"), "updated");
    assert!(
        report
            .detail("addition", "SUB-5003")
            .contains("cancelledDate")
    );
    let additions = world.additions();
    assert_eq!(
        additions.len(),
        before,
        "a cancellation never deletes an addition"
    );
    assert_eq!(addition_of(&additions, "M365-BP")[0]["quantity"], 30);
    assert!(addition_of(&additions, "M365-E3")[0]["cancelledDate"].is_string());
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_says_what_it_would_do() {
    let world = fixture_world().await;
    let writes = world.cw_writes();
    let (planned, report) = world.export_now(json!({"dryRun": true})).await;
    assert_eq!(planned["dryRun"], true);
    assert_eq!(world.cw_writes(), writes);
    assert!(world.records("/procurement/catalog").is_empty());
    assert!(
        report
            .detail("catalog-item", "P-M365-BP")
            .starts_with("would create"),
        "{}",
        report.detail("catalog-item", "P-M365-BP")
    );
}

#[tokio::test]
async fn replaying_every_job_duplicates_nothing() {
    let world = fixture_world().await;
    let planned = world
        .ok(json!({"action": "export-now", "tenant": crate::support::TENANT}))
        .await;
    // Every job delivered twice, as SQS may.
    let jobs = world.export_queue.drain();
    for _ in 0..2 {
        world.export_queue.send_batch(&jobs).await.unwrap();
    }
    world.deliver().await;
    assert_eq!(world.records("/finance/agreements").len(), 2);
    assert_eq!(world.additions().len(), 3);
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_eq!(report.status(), "partially_failed");
}

#[tokio::test]
async fn a_subscription_moved_to_another_account_moves_its_addition() {
    let world = fixture_world().await;
    world.export_now(json!({})).await;
    world
        .billing
        .advance_clock(std::time::Duration::from_secs(3600));
    world
        .billing
        .modify_subscription("SUB-5002", |s| s.account_id = "A-1003".to_owned());
    let (_, report) = world.export_now(json!({})).await;
    let backup: Vec<Value> = addition_of(&world.additions(), "CLOUD-BACKUP-TB")
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(
        backup.len(),
        2,
        "cancelled on the old agreement, added on the new"
    );
    let live: Vec<&Value> = backup
        .iter()
        .filter(|a| a["cancelledDate"].is_null())
        .collect();
    assert_eq!(live.len(), 1);
    assert_ne!(report.outcome("addition", "SUB-5002"), "failed");
}

#[tokio::test]
async fn a_company_with_thousands_of_agreements_still_gets_its_account_job() {
    let world = fixture_world().await;
    let company = world.company_of("A-1001").await;
    // 3,000 old cancelled agreements: even trimmed to what matching reads, their hint would make
    // a message over SQS's 256 KiB. The job goes without it and reads them itself.
    let old: Vec<Value> = (0..3000)
        .map(|n| {
            json!({"name": format!("Retired agreement {n}"), "type": {"id": 1},
                   "company": {"id": company}, "contact": {"id": 1}, "cancelledFlag": true,
                   "agreementStatus": "Cancelled"})
        })
        .collect();
    world.cw.seed("/finance/agreements", old).unwrap();
    let (_, report) = world.export_now(json!({})).await;
    assert_eq!(
        report.outcome("export-account", "A-1001"),
        "updated",
        "{}",
        report.0
    );
    let made: Vec<Value> = world
        .records("/finance/agreements")
        .into_iter()
        .filter(|a| a["cancelledFlag"] != true)
        .collect();
    assert_eq!(made.len(), 2, "{made:?}");
    assert_eq!(world.additions().len(), 3);
}
