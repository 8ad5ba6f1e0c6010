//! The run report and the error report, for any job kind: a tenant's runs of every kind share
//! one partition, yet a report is always of the kind asked for.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_runtime::Deps;
use cwsync_store::runs::{Outcome, RunLogEntry, RunStart};
use cwsync_store::{RunId, TenantId};
use cwsync_sync::report::{REPORT_PAGE, errors_report, run_report, to_json};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-03-01 08:00 UTC);
const EXPORT: &str = "daily-export";
const CUSTOMERS: &str = "customer-sync";
const ATTEMPTS: u32 = 5;

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

/// Starts a run of `kind` `seconds` after T0 and records one line in it.
async fn run(deps: &Deps, kind: &str, seconds: i64, record_id: &str) -> RunId {
    let at = T0 + Duration::seconds(seconds);
    let id = RunId::new(at);
    let runs = &deps.stores.runs;
    runs.start(&tenant(), RunStart::new(id.clone(), kind, false, at))
        .await
        .unwrap();
    let line = RunLogEntry {
        entity: "item".to_owned(),
        record_id: record_id.to_owned(),
        outcome: Outcome::Created,
        detail: "created".to_owned(),
    };
    runs.record(&tenant(), &id, line).await.unwrap();
    id
}

async fn report(
    deps: &Deps,
    kind: &str,
    run_id: Option<&RunId>,
) -> Result<serde_json::Value, lambda_runtime::Diagnostic> {
    let report = run_report(
        deps,
        &tenant(),
        kind,
        run_id.map(ToString::to_string),
        None,
        ATTEMPTS,
        T0 + Duration::days(1),
    )
    .await?;
    to_json(&report)
}

#[tokio::test]
async fn without_a_run_id_the_report_is_of_the_latest_run_of_the_kind_asked_for() {
    let deps = Deps::for_tests(EXPORT);
    let export = run(&deps, EXPORT, 0, "export-1").await;
    // More runs of another kind since than one page of runs holds: the export is further back.
    for i in 1..=250 {
        run(&deps, CUSTOMERS, i, &format!("A-{i}")).await;
    }
    let answer = report(&deps, EXPORT, None).await.unwrap();
    assert_eq!(answer["run"]["runId"], export.as_str(), "{answer}");
    assert_eq!(answer["run"]["jobKind"], EXPORT);
    assert_eq!(
        answer["records"],
        json!([{"entity": "item", "recordId": "export-1", "outcome": "created", "detail": "created"}])
    );
    let answer = report(&deps, CUSTOMERS, None).await.unwrap();
    assert_eq!(answer["records"][0]["recordId"], "A-250", "{answer}");
}

#[tokio::test]
async fn a_run_of_another_kind_is_not_found_naming_both_kinds() {
    let deps = Deps::for_tests(EXPORT);
    let customers = run(&deps, CUSTOMERS, 0, "A-1").await;
    let refused = report(&deps, EXPORT, Some(&customers)).await.unwrap_err();
    assert_eq!(refused.error_type, "NotFound");
    assert!(
        refused.error_message.contains(EXPORT) && refused.error_message.contains(CUSTOMERS),
        "{}",
        refused.error_message
    );
    let found = report(&deps, CUSTOMERS, Some(&customers)).await.unwrap();
    assert_eq!(found["run"]["runId"], customers.as_str());
}

#[tokio::test]
async fn a_tenant_without_a_run_of_the_kind_gets_not_found() {
    let deps = Deps::for_tests(EXPORT);
    run(&deps, CUSTOMERS, 0, "A-1").await;
    let refused = report(&deps, EXPORT, None).await.unwrap_err();
    assert_eq!(refused.error_type, "NotFound");
    assert!(refused.error_message.contains("no daily-export runs"));
    let malformed = run_report(
        &deps,
        &tenant(),
        EXPORT,
        Some("yesterday".to_owned()),
        None,
        ATTEMPTS,
        T0,
    )
    .await
    .unwrap_err();
    assert_eq!(malformed.error_type, "InvalidEvent");
}

#[tokio::test]
async fn a_long_run_is_read_a_page_at_a_time() {
    let deps = Deps::for_tests(EXPORT);
    let id = run(&deps, EXPORT, 0, "line-0").await;
    for i in 1..=REPORT_PAGE {
        let line = RunLogEntry {
            entity: "item".to_owned(),
            record_id: format!("line-{i}"),
            outcome: Outcome::Unchanged,
            detail: String::new(),
        };
        deps.stores.runs.record(&tenant(), &id, line).await.unwrap();
    }
    let first = run_report(&deps, &tenant(), EXPORT, None, None, ATTEMPTS, T0)
        .await
        .unwrap();
    assert_eq!(first.records.len(), REPORT_PAGE);
    let token = first.next_page_token.expect("a second page");
    let second = run_report(&deps, &tenant(), EXPORT, None, Some(token), ATTEMPTS, T0)
        .await
        .unwrap();
    let ids: Vec<&str> = second
        .records
        .iter()
        .map(|r| r.record_id.as_str())
        .collect();
    assert_eq!(ids, [format!("line-{REPORT_PAGE}")]);
    assert_eq!(second.next_page_token, None);
}

#[tokio::test]
async fn the_error_report_holds_the_tenants_failing_records_up_to_its_attempts() {
    let deps = Deps::for_tests(EXPORT);
    let ledger = &deps.stores.ledger;
    let acme = tenant();
    ledger
        .record_failure(
            &acme,
            "catalog-item",
            "SKU-1",
            "f1",
            "price: not a number",
            T0,
        )
        .await
        .unwrap();
    for attempt in 0..2 {
        let at = T0 + Duration::minutes(attempt);
        ledger
            .record_failure(&acme, "company", "A-7", "f2", "name: empty", at)
            .await
            .unwrap();
    }
    let now = T0 + Duration::hours(1);
    let errors = errors_report(&deps, &acme, 2, now).await.unwrap();
    let seen: Vec<(&str, &str, u32)> = errors
        .iter()
        .map(|e| (e.entity.as_str(), e.record_id.as_str(), e.attempts))
        .collect();
    assert_eq!(seen, [("catalog-item", "SKU-1", 1), ("company", "A-7", 2)]);
    assert_eq!(
        to_json(&errors[0]).unwrap(),
        json!({
            "entity": "catalog-item",
            "recordId": "SKU-1",
            "attempts": 1,
            "firstSeen": "2026-03-01T08:00:00Z",
            "lastSeen": "2026-03-01T08:00:00Z",
            "lastError": "price: not a number",
        })
    );
    // Past the tenant's attempts a record leaves the report.
    let errors = errors_report(&deps, &acme, 1, now).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].record_id, "SKU-1");
}
