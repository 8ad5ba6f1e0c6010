//! The test events in `infra/events/` are what this function really reads: every console event
//! parses as an [`Event`], every action has its file, and the SQS sample's job is an account job
//! the function handles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cwsync_daily_export::plan::AccountJob;
use cwsync_daily_export::{DailyExport, Event, FUNCTION};
use cwsync_queue::{Job, JobKind};
use cwsync_runtime::Deps;
use cwsync_sync::tenant::ConnectOptions;
use serde_json::{Value, json};
use time::OffsetDateTime;

/// Every action a user or the schedule can ask of daily-export.
const ACTIONS: [&str; 9] = [
    "health",
    "scheduled",
    "export-now",
    "export-documents",
    "documents-report",
    "disable",
    "enable",
    "report",
    "errors",
];

fn events_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/events")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The console events of this function: `{action}-daily-export.json`, the SQS sample aside.
fn console_events() -> Vec<(String, Value)> {
    let mut events = Vec::new();
    for entry in std::fs::read_dir(events_folder()).expect("infra/events is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with("-daily-export.json") && !name.starts_with("sqs-") {
            events.push((name, read_json(&path)));
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0));
    events
}

fn service() -> DailyExport {
    DailyExport::new(
        Arc::new(Deps::for_tests(FUNCTION)),
        ConnectOptions::default(),
    )
}

#[test]
fn every_console_event_in_infra_parses_and_every_action_has_one() {
    let mut actions = BTreeSet::new();
    for (name, json) in console_events() {
        let event: Event =
            cwsync_runtime::parse_event(FUNCTION, json.clone()).unwrap_or_else(|e| {
                panic!("{name}: {e}");
            });
        let action = json["action"].as_str().unwrap_or_default().to_owned();
        // A document action has one file per kind: `export-documents-invoices-daily-export.json`.
        match json["document"].as_str() {
            Some(document) => assert_eq!(name, format!("{action}-{document}-daily-export.json")),
            None => assert_eq!(name, format!("{action}-daily-export.json")),
        }
        if let Event::ExportDocuments {
            tenant, dry_run, ..
        } = &event
        {
            assert!(
                *dry_run,
                "{name}: the sample document run must be a dry run"
            );
            assert_eq!(tenant, "acme");
        }
        if let Event::ExportNow {
            tenant, dry_run, ..
        } = &event
        {
            // The console sample must never write to a real tenant's ConnectWise by accident.
            assert!(*dry_run, "{name}: the sample export must be a dry run");
            assert_eq!(tenant, "acme");
        }
        actions.insert(action);
    }
    let expected: BTreeSet<String> = ACTIONS.iter().map(|a| (*a).to_owned()).collect();
    assert_eq!(actions, expected);
}

#[test]
fn the_sqs_sample_carries_an_account_job_as_the_planner_writes_it() {
    let event = read_json(&events_folder().join("sqs-daily-export.json"));
    let records = event["Records"].as_array().expect("Records is a list");
    assert_eq!(records.len(), 1);
    let body = records[0]["body"].as_str().expect("the body is a string");
    let job = Job::parse(body).unwrap_or_else(|e| panic!("the sample's job: {e}"));
    assert_eq!(job.kind(), JobKind::DailyExportAccount);
    assert_eq!(job.tenant(), "acme");
    cwsync_store::RunId::parse(job.run_id()).unwrap_or_else(|e| panic!("the sample's run id: {e}"));
    let payload: AccountJob = serde_json::from_value(job.payload().clone())
        .unwrap_or_else(|e| panic!("the sample's payload: {e}"));
    assert_eq!(payload.account_id, "C-1001");
    assert_eq!(payload.hint, None);
}

#[tokio::test]
async fn the_sqs_sample_is_consumed_and_not_left_for_redelivery() {
    // No tenant `acme` in the test dependencies: the account's job fails for good, which is that
    // account's failure in its run, not a message delivered again until the dead-letter queue.
    let event = read_json(&events_folder().join("sqs-daily-export.json"));
    let answer = service()
        .handle(
            event,
            OffsetDateTime::now_utc() + time::Duration::minutes(5),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(answer, json!({"batchItemFailures": []}));
}

/// [`service`] whose tenant `acme` (the sample events' tenant) has its secret.
fn service_with_acme() -> DailyExport {
    let secret = json!({
        "site": "https://api-na.myconnectwise.net", "companyId": "acme", "publicKey": "pub",
        "privateKey": "priv", "clientId": "client", "billingUrl": "https://billing.invalid/",
        "billingApiKey": "key",
    });
    let secrets = cwsync_runtime::StaticTenantSecrets::new()
        .with_secret_json("acme", &secret.to_string())
        .unwrap();
    let deps = Deps::local(FUNCTION, cwsync_runtime::Config::local(), secrets);
    DailyExport::new(Arc::new(deps), ConnectOptions::default())
}

#[tokio::test]
async fn the_scheduled_event_ticks_and_disable_enable_turn_the_tenants_export_off_and_on() {
    // Without its secret, the tenant's export is not enabled (every run would fail).
    let refused = service()
        .handle(
            read_json(&events_folder().join("enable-daily-export.json")),
            OffsetDateTime::now_utc() + time::Duration::minutes(5),
        )
        .await
        .expect_err("no secret, no export");
    assert!(
        refused.error_message.contains("cwsync/tenants/acme"),
        "{}",
        refused.error_message
    );

    let service = service_with_acme();
    let folder = events_folder();
    let now = || OffsetDateTime::now_utc() + time::Duration::minutes(5);

    // No tenants registered: the tick considers none and starts nothing.
    let tick = service
        .handle(
            read_json(&folder.join("scheduled-daily-export.json")),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(tick, json!({"tenants": 0, "started": [], "problems": []}));

    let disabled = service
        .handle(read_json(&folder.join("disable-daily-export.json")), now())
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(disabled["tenant"], "acme");
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["changed"], true);

    let enabled = service
        .handle(read_json(&folder.join("enable-daily-export.json")), now())
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["changed"], true);

    // The settings now exist, so the tenant is in the registry the tick reads.
    let tick = service
        .handle(
            read_json(&folder.join("scheduled-daily-export.json")),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(tick["tenants"], 1, "{tick}");
    assert_eq!(tick["problems"], json!([]), "{tick}");
}
