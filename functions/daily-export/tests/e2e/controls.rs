//! The console's controls: disable and enable, the mass-change guard, an account without a
//! company, the schedule's tick, and the export log.

use cwsync_billing_sim::{fixture_products, fixture_subscriptions, fixture_users};
use cwsync_queue::{JobKind, JobQueue};
use serde_json::json;

use crate::support::{TENANT, World};

#[tokio::test]
async fn a_disabled_export_refuses_to_run_deletes_nothing_and_runs_again_once_enabled() {
    let world = World::start().await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    world.export_now(json!({})).await;
    let additions = world.additions().len();
    let answer = world
        .ok(json!({"action": "disable", "tenant": TENANT}))
        .await;
    assert_eq!(answer["enabled"], false);
    let refused = world
        .event(json!({"action": "export-now", "tenant": TENANT}))
        .await
        .unwrap_err();
    assert!(
        refused.error_message.contains("disabled"),
        "{}",
        refused.error_message
    );
    assert_eq!(
        world.additions().len(),
        additions,
        "disabling deletes nothing"
    );
    let tick = world.export.tick(jiff::Timestamp::now()).await;
    assert!(tick.started.is_empty(), "{tick:?}");
    world
        .ok(json!({"action": "enable", "tenant": TENANT}))
        .await;
    let (planned, _) = world.export_now(json!({})).await;
    assert!(planned["runId"].is_string());
}

#[tokio::test]
async fn the_mass_change_guard_writes_nothing_until_confirmed() {
    let world = World::start().await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    world.export_now(json!({})).await;
    world
        .billing
        .advance_clock(std::time::Duration::from_secs(3600));
    // Every live addition cancelled at once (a billing system that lost its subscriptions'
    // state): 100% > 20%.
    for id in ["SUB-5001", "SUB-5002", "SUB-5003"] {
        world.billing.modify_subscription(id, |s| {
            s.cancelled_at = Some(time::macros::datetime!(2026-11-20 09:00 UTC));
        });
    }
    let writes = world.cw_writes();
    let (planned, report) = world.export_now(json!({})).await;
    assert_eq!(planned["dryRun"], true, "{planned}");
    assert_eq!(planned["massChangeGuard"]["cancelled"], 3, "{planned}");
    assert_eq!(world.cw_writes(), writes, "the guard writes nothing");
    assert!(
        report
            .detail("mass-change-guard", TENANT)
            .contains("confirmMassChange")
    );
    let (planned, _) = world.export_now(json!({"confirmMassChange": true})).await;
    assert_eq!(planned["dryRun"], false);
    let cancelled = world
        .additions()
        .iter()
        .filter(|a| a["cancelledDate"].is_string())
        .count();
    assert_eq!(cancelled, 3);
}

#[tokio::test]
async fn the_schedule_starts_a_due_tenant_once_per_local_day() {
    let world = World::start().await;
    world
        .put_settings(json!({"schedules": {"dailyExport": {"enabled": true, "time": "02:00", "timeZone": "America/New_York"}}}))
        .await;
    let before: jiff::Timestamp = "2026-12-06T06:59:00Z".parse().unwrap();
    assert!(world.export.tick(before).await.started.is_empty());
    let due: jiff::Timestamp = "2026-12-06T07:00:00Z".parse().unwrap();
    let first = world.export.tick(due).await;
    assert_eq!(first.started.len(), 1, "{first:?}");
    assert_eq!(first.started[0].date, "2026-12-06");
    let again: jiff::Timestamp = "2026-12-06T07:15:00Z".parse().unwrap();
    assert!(
        world.export.tick(again).await.started.is_empty(),
        "once per day"
    );
    // The customer sync runs first; its run, once done, sends the export's planning.
    assert_eq!(
        world.customer_queue.len(),
        1,
        "one customer-sync planning job"
    );
    assert_eq!(
        world.export_queue.len(),
        0,
        "the export waits for the customer sync"
    );
    let delivery = world.customers.deliver_all(&world.customer_queue, 5).await;
    assert!(delivery.dead_letters.is_empty(), "{delivery:?}");
    // Every finisher that finds the sync done sends the follow-up (two last jobs finishing at
    // once may both send it): one job by its key, which runs once.
    let sent = world.export_queue.drain();
    let mut keys: Vec<String> = sent.iter().map(|j| j.key().as_str().to_owned()).collect();
    keys.dedup();
    assert_eq!(
        keys.len(),
        1,
        "the export's planning, sent by the finished sync: {sent:?}"
    );
    assert_eq!(sent[0].kind(), JobKind::DailyExportPlan);
    world.export_queue.send_batch(&sent).await.unwrap();
    world.deliver().await;
    let report = world.report(&first.started[0].run_id).await;
    assert_eq!(report.0["run"]["jobKind"], "daily-export");
    assert_ne!(report.status(), "running", "{}", report.0);
}

#[tokio::test]
async fn the_report_shows_the_export_log_and_the_next_scheduled_run() {
    let world = World::start().await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    let (planned, report) = world.export_now(json!({})).await;
    assert_eq!(report.0["run"]["runId"], planned["runId"]);
    assert_eq!(report.0["run"]["jobKind"], "daily-export");
    assert_eq!(report.count("addition", "created"), 3, "{}", report.0);
    assert_eq!(report.count("catalog-item", "created"), 6, "{}", report.0);
    assert!(report.0["nextScheduledRun"].is_string(), "{}", report.0);
    // The latest run of this job, not the customer sync's.
    let latest = world
        .ok(json!({"action": "report", "tenant": TENANT}))
        .await;
    assert_eq!(latest["run"]["runId"], planned["runId"]);
}
