//! The test events in `infra/events/` are what this function really reads: every console event
//! parses as an [`Event`], every action has its file, and the SQS sample's job is a ticket job
//! the function handles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use cwsync_queue::{Job, JobKind};
use cwsync_runtime::Deps;
use cwsync_sync::tenant::ConnectOptions;
use cwsync_test_support::{console_events, read_event};
use cwsync_ticket_import::plan::TicketJob;
use cwsync_ticket_import::{Event, FUNCTION, TicketImport};
use serde_json::json;
use time::OffsetDateTime;

/// Every action a user or the schedule can ask of ticket-import.
const ACTIONS: [&str; 9] = [
    "health",
    "scheduled",
    "import-now",
    "import-ticket",
    "exclude-ticket",
    "move-calls",
    "report",
    "errors",
    "register-callbacks",
];

fn service() -> TicketImport {
    TicketImport::new(
        Arc::new(Deps::for_tests(FUNCTION)),
        ConnectOptions::default(),
    )
}

fn deadline() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(5)
}

#[test]
fn every_console_event_in_infra_parses_and_every_action_has_one() {
    let mut actions = BTreeSet::new();
    for (name, json) in console_events(FUNCTION) {
        let event: Event = cwsync_runtime::parse_event(FUNCTION, json.clone())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let action = json["action"].as_str().unwrap_or_default().to_owned();
        assert_eq!(name, format!("{action}-ticket-import.json"));
        // The console samples must never write to a real tenant's billing system by accident.
        if let Event::ImportNow { dry_run, .. }
        | Event::ImportTicket { dry_run, .. }
        | Event::MoveCalls { dry_run, .. } = &event
        {
            assert!(*dry_run, "{name}: the sample import must be a dry run");
        }
        actions.insert(action);
    }
    let expected: BTreeSet<String> = ACTIONS.iter().map(|a| (*a).to_owned()).collect();
    assert_eq!(actions, expected);
}

#[test]
fn the_sqs_sample_carries_a_ticket_job_as_the_planner_writes_it() {
    let event = read_event(Path::new("sqs-ticket-import.json"));
    let body = event["Records"][0]["body"]
        .as_str()
        .expect("the body is a string");
    let job = Job::parse(body).unwrap_or_else(|e| panic!("the sample's job: {e}"));
    assert_eq!(job.kind(), JobKind::TicketImportTicket);
    cwsync_store::RunId::parse(job.run_id()).unwrap_or_else(|e| panic!("the sample's run id: {e}"));
    let payload: TicketJob = serde_json::from_value(job.payload().clone())
        .unwrap_or_else(|e| panic!("the sample's payload: {e}"));
    assert_eq!(payload.ticket_id, 48213);
}

#[tokio::test]
async fn the_sqs_sample_is_consumed_and_recorded_as_the_tickets_failure() {
    // No tenant `acme` in the test dependencies: the ticket's job fails for good, which is that
    // ticket's failure in its run, not a message delivered again until the dead-letter queue.
    let service = service();
    let event = read_event(Path::new("sqs-ticket-import.json"));
    let answer = service
        .handle(event, deadline())
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let report = service
        .handle(
            read_event(Path::new("report-ticket-import.json")),
            deadline(),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(report["records"][0]["recordId"], "48213", "{report}");
    assert_eq!(report["records"][0]["outcome"], "failed", "{report}");
}

#[tokio::test]
async fn the_scheduled_event_ticks_and_exclude_ticket_stores_the_exclusion_once() {
    let service = service();
    let tick = service
        .handle(
            read_event(Path::new("scheduled-ticket-import.json")),
            deadline(),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(tick, json!({"tenants": 0, "started": [], "problems": []}));

    let exclude = read_event(Path::new("exclude-ticket-ticket-import.json"));
    let first = service
        .handle(exclude.clone(), deadline())
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(first["changed"], true, "{first}");
    let again = service
        .handle(exclude, deadline())
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(again["changed"], false, "{again}");

    // The settings now exist, so the tenant is in the registry the tick reads; with no secret
    // for it, its planning job is sent all the same (the job reads the secret).
    let tick = service
        .handle(
            read_event(Path::new("scheduled-ticket-import.json")),
            deadline(),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {}", e.error_type, e.error_message));
    assert_eq!(tick["tenants"], 1, "{tick}");
}

#[tokio::test]
async fn a_malformed_event_is_refused_naming_the_field() {
    let error = service()
        .handle(
            json!({"action": "import-ticket", "tenant": "acme"}),
            deadline(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "InvalidEvent");
    assert!(
        error.error_message.contains("ticketId"),
        "{}",
        error.error_message
    );
}
