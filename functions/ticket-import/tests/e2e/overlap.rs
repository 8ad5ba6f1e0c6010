//! The overlap window without the repeats: each run lists again the tickets of the overlap window
//! before the watermark (same-second updates, late commits), and the watermark's tail (the
//! tickets the run that set it listed there, with their `lastUpdated`) keeps the unchanged ones
//! from being planned again. A ticket updated inside the window, or committed late with an older
//! `lastUpdated`, is planned as before; a failing one is retried while it is on the error report.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::*;
use cwsync_test_support::Report;

/// The ConnectWise calls since `before`, by endpoint (only those that moved).
fn calls_since(world: &World, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    world
        .cw
        .calls()
        .by_endpoint
        .into_iter()
        .filter_map(|(endpoint, n)| {
            let delta = n - before.get(&endpoint).copied().unwrap_or(0);
            (delta > 0).then_some((endpoint, delta))
        })
        .collect()
}

/// The scheduled tick at `at`, delivered to the end: the run's report.
async fn scheduled(world: &World, at: OffsetDateTime) -> Report {
    let tick = world.import.tick(at).await;
    assert_eq!(tick.started.len(), 1, "{tick:?}");
    let run_id = tick.started[0].run_id.clone().expect("a planning started");
    world.deliver().await;
    world.report(&run_id).await
}

/// Service tickets finished a minute apart (all inside the 10-minute overlap), each with time.
async fn finished_a_minute_apart(world: &World, n: usize) -> Vec<i64> {
    let mut tickets = Vec::new();
    for i in 0..n {
        if i > 0 {
            world.cw.advance_clock(Duration::from_secs(60));
        }
        tickets.push(world.finished("A-1001", &format!("Ticket {i}")).await);
    }
    tickets
}

#[tokio::test]
async fn an_unchanged_scheduled_rerun_sends_no_ticket_job_and_writes_nothing() {
    let world = World::start().await;
    let tickets = finished_a_minute_apart(&world, 3).await;
    let slot = OffsetDateTime::now_utc() + time::Duration::days(1);

    let first = scheduled(&world, slot).await;
    assert_eq!(first.count("ticket", "created"), 3, "{}", first.0);
    let writes = world.billing_call_writes();

    // Two more slots, nothing changed: every ticket is listed again (inside the overlap) and
    // none planned again; no ConnectWise read but the listings, no billing write.
    for n in 1..=2 {
        let before = world.cw.calls().by_endpoint;
        let again = scheduled(&world, slot + time::Duration::minutes(15 * n)).await;
        assert_eq!(again.status(), "succeeded", "{}", again.0);
        assert_eq!(again.0["run"]["planned"], 0, "no ticket job: {}", again.0);
        assert_eq!(again.0["records"].as_array().map(Vec::len), Some(0));
        let calls = calls_since(&world, &before);
        assert_eq!(
            calls.get("GET /service/tickets"),
            Some(&1),
            "the service listing, once: {calls:?}"
        );
        assert!(
            calls.keys().all(|e| [
                "GET /service/tickets",
                "GET /project/tickets",
                "GET /project/projects"
            ]
            .contains(&e.as_str())),
            "only the listings (no time entries, no ticket read): {calls:?}"
        );
        assert_eq!(world.billing_call_writes(), writes, "no billing write");
    }
    // The console's dry run says the same without writing.
    let dry = world
        .ok(json!({"action": "import-now", "tenant": TENANT, "dryRun": true}))
        .await;
    assert_eq!(dry["tickets"], 3, "{dry}");
    assert_eq!(dry["alreadyPlanned"], 3, "{dry}");
    assert_eq!(dry["jobsSent"], 0, "{dry}");
    assert_eq!(world.imported_calls().len(), tickets.len());
}

#[tokio::test]
async fn a_ticket_updated_inside_the_window_is_imported_again() {
    let world = World::start().await;
    let tickets = finished_a_minute_apart(&world, 2).await;
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["jobsSent"], 2, "{planned}");
    let before = world.call_of(tickets[0]).unwrap();

    // Two minutes on (well inside the overlap), more time on the older ticket: its
    // `lastUpdated` moves, so it is not the version planned before.
    world.cw.advance_clock(Duration::from_secs(120));
    world.time(tickets[0], "jdoe", 2, None).await;
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["tickets"], 2, "{planned}");
    assert_eq!(planned["alreadyPlanned"], 1, "the other one: {planned}");
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &tickets[0].to_string()), "updated");
    let after = world.call_of(tickets[0]).unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.labor.len(), 2);

    // And then it is in the tail at its new version.
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["alreadyPlanned"], 2, "{planned}");
    assert_eq!(planned["jobsSent"], 0, "{planned}");
    assert_eq!(world.imported_calls().len(), 2);
}

#[tokio::test]
async fn a_ticket_committed_late_inside_the_window_is_imported() {
    let world = World::start().await;
    world.cw.advance_clock(Duration::from_secs(5 * 60));
    let early = world.finished("A-1001", "At the watermark").await;
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["jobsSent"], 1, "{planned}");

    // A ticket that becomes visible only now, stamped three minutes before the watermark (a
    // late commit: the simulator's clock set back while it is written).
    let watermark = world.cw.now();
    world.cw.set_clock(watermark - time::Duration::minutes(3));
    let late = world.finished("A-1002", "Committed late").await;
    world.cw.set_clock(watermark + time::Duration::minutes(1));

    // A dry run says what it would plan, and writes nothing (not the tail either).
    let dry = world
        .ok(json!({"action": "import-now", "tenant": TENANT, "dryRun": true}))
        .await;
    assert_eq!(dry["alreadyPlanned"], 1, "{dry}");
    assert_eq!(dry["jobsSent"], 1, "{dry}");
    world.deliver().await;
    assert!(world.call_of(late).is_none(), "a dry run writes nothing");

    let (planned, report) = world.import_now().await;
    assert_eq!(planned["tickets"], 2, "{planned}");
    assert_eq!(planned["alreadyPlanned"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &late.to_string()), "created");
    assert_eq!(world.call_of(late).unwrap().account_id, "A-1002");

    // The watermark did not move (the late ticket is older), but its tail took the late one.
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["alreadyPlanned"], 2, "{planned}");
    assert_eq!(planned["jobsSent"], 0, "{planned}");
    assert!(world.call_of(early).is_some());
    assert_eq!(world.imported_calls().len(), 2);
}

/// A finished ticket whose time is by `ghost`, a member no billing technician matches.
async fn ghost_ticket(world: &World) -> i64 {
    let company = world.company_of("A-1001");
    let ticket = world.ticket(company, "Nobody's work", FINISHED).await;
    world.member("ghost", "ghost@example.com");
    world.time(ticket, "ghost", 1, None).await;
    ticket
}

fn on_report(errors: &[Value], ticket: i64) -> bool {
    errors
        .iter()
        .any(|e| e["recordId"].as_str() == Some(ticket.to_string().as_str()))
}

#[tokio::test]
async fn a_failing_ticket_in_the_window_imports_on_the_next_run_once_its_setting_is_fixed() {
    let world = World::start().await;
    let ticket = ghost_ticket(&world).await;
    let id = ticket.to_string();
    let (_, report) = world.import_now().await;
    assert_eq!(report.outcome("ticket", &id), "failed", "{}", report.0);

    // Fixed in the settings (the ticket itself unchanged, in the tail): on the error report,
    // so the next run plans it again, and it imports.
    world
        .put_settings(json!({"ticketImport": {"members": {"ghost": "T-100"}}}))
        .await;
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["alreadyPlanned"], 0, "{planned}");
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &id), "created", "{}", report.0);
    assert!(!on_report(&world.errors().await, ticket));
    let (planned, _) = world.import_now().await;
    assert_eq!(
        planned["alreadyPlanned"], 1,
        "imported: not again {planned}"
    );
    assert_eq!(planned["jobsSent"], 0, "{planned}");
}

#[tokio::test]
async fn a_ticket_failing_past_its_attempts_is_left_alone_until_it_changes() {
    let world = World::start().await;
    world.put_settings(json!({"errorAttempts": 2})).await;
    let ticket = ghost_ticket(&world).await;
    let id = ticket.to_string();
    for attempt in 1..=3 {
        let (planned, report) = world.import_now().await;
        assert_eq!(planned["jobsSent"], 1, "attempt {attempt}: {planned}");
        assert_eq!(report.outcome("ticket", &id), "failed", "{}", report.0);
    }
    // Off the report after `errorAttempts`: no more jobs while it is unchanged.
    assert!(!on_report(&world.errors().await, ticket));
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["alreadyPlanned"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 0, "{planned}");

    // The ticket changes (more time): planned again, failing, back on the report.
    world.cw.advance_clock(Duration::from_secs(60));
    world.time(ticket, "ghost", 1, None).await;
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &id), "failed", "{}", report.0);
    assert!(on_report(&world.errors().await, ticket));
}
