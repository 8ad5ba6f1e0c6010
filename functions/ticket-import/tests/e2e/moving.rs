//! Moving tickets (seeds 000 "Moving Tickets"): billing calls flagged for ConnectWise become one
//! ConnectWise ticket each and go on hold naming it; a failed move is reported and leaves the call
//! as it was; a lost answer or an interrupted move never makes a second ticket; the import later
//! completes the same call from the finished ticket.
//!
//! The billing fixture flags `SC-8001` (account A-1001: Service Desk, New, Incident, Priority 3,
//! contract C-3001) and `SC-8003` (account A-1004, board `Help Desk`, which these settings do not
//! map); `SC-8002` is flagged but held by its user, so it is not listed.

use cwsync_billing::models::ServiceCallStatus;
use cwsync_connectwise_sim::{FaultKind, FaultRule};
use cwsync_test_support::Report;
use serde_json::{Value, json};

use crate::support::*;

const MOVED: &str = "SC-8001";
const UNMAPPED: &str = "SC-8003";

/// The world with `ticketImport.moving` mapping the fixture's hints (not `Help Desk`).
async fn moving_world() -> World {
    let world = World::start().await;
    world
        .put_settings(json!({"ticketImport": {"moving": {
            "boards": {"Service Desk": "Service Desk"},
            "statuses": {"New": "New"},
            "types": {"Incident": "Incident", "Request": "Request"},
            "priorities": {"Priority 3 - Normal Response": "Priority 3 - Normal Response"},
        }}}))
        .await;
    world
}

async fn move_calls(world: &World, dry_run: bool) -> Value {
    world
        .ok(json!({"action": "move-calls", "tenant": TENANT, "dryRun": dry_run}))
        .await
}

fn line<'a>(moved: &'a Value, call: &str) -> &'a Value {
    moved["records"]
        .as_array()
        .and_then(|r| r.iter().find(|l| l["recordId"] == call))
        .unwrap_or_else(|| panic!("no line of {call}: {moved}"))
}

/// The ConnectWise tickets made for billing call `call` (by their `externalXRef`).
fn tickets_of(world: &World, call: &str) -> Vec<Value> {
    world
        .cw
        .records("/service/tickets")
        .into_iter()
        .filter(|t| t["externalXRef"] == call)
        .collect()
}

#[tokio::test]
async fn a_flagged_call_becomes_one_ticket_and_goes_on_hold_naming_it_and_a_rerun_moves_nothing() {
    let world = moving_world().await;
    let moved = move_calls(&world, false).await;
    // The reference data once per run, only for the board the calls name; one write per ticket.
    let calls = world.cw.calls().by_endpoint;
    for endpoint in [
        "GET /service/boards",
        "GET /service/boards/{parentId}/statuses",
        "GET /service/boards/{parentId}/types",
        "GET /service/priorities",
        "POST /service/tickets",
    ] {
        assert_eq!(calls.get(endpoint), Some(&1), "{endpoint}: {calls:?}");
    }
    assert_eq!(moved["calls"], 2, "SC-8002 is held by its user: {moved}");
    assert_eq!(moved["moved"], 1, "{moved}");
    assert_eq!(line(&moved, MOVED)["outcome"], "created", "{moved}");

    let tickets = tickets_of(&world, MOVED);
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let ticket = &tickets[0];
    let id = ticket["id"].as_i64().unwrap();
    assert_eq!(line(&moved, MOVED)["connectWiseId"], id);
    assert_eq!(ticket["summary"], "Copier on floor 2 jams on tray 2");
    assert_eq!(ticket["company"]["id"], world.company_of("A-1001"));
    assert_eq!(ticket["board"]["id"], 1, "Service Desk");
    assert_eq!(ticket["status"]["id"], 1, "New on Service Desk");
    assert_eq!(ticket["type"]["id"], 1, "Incident on Service Desk");
    assert_eq!(ticket["priority"]["id"], 3, "Priority 3 - Normal Response");

    let call = world.billing.service_call(MOVED).unwrap();
    assert!(call.on_hold);
    let reason = call.hold_reason.clone().unwrap_or_default();
    assert!(reason.contains(&format!("ticket #{id}")), "{reason}");
    let note = &call.notes.last().unwrap().text;
    assert!(
        note.contains(&format!("ConnectWise ticket #{id}")),
        "{note}"
    );
    assert_eq!(
        call.external_reference.as_deref(),
        Some(format!("cw:ticket:{id}").as_str())
    );

    // The unmapped board is the call's failure, naming the value and the setting; not held.
    let failed = line(&moved, UNMAPPED);
    assert_eq!(failed["outcome"], "failed");
    let detail = failed["detail"].as_str().unwrap();
    assert!(detail.contains("\"Help Desk\""), "{detail}");
    assert!(
        detail.contains("ticketImport.moving.boards[\"Help Desk\"]"),
        "{detail}"
    );
    assert!(!world.billing.service_call(UNMAPPED).unwrap().on_hold);
    assert!(tickets_of(&world, UNMAPPED).is_empty());
    let errors = world.errors().await;
    assert!(
        errors.iter().any(|e| e.to_string().contains(UNMAPPED)),
        "{errors:?}"
    );
    let report = Report(
        world
            .ok(json!({"action": "report", "tenant": TENANT, "moves": true}))
            .await,
    );
    assert_eq!(report.status(), "partially_failed", "{}", report.0);
    assert_eq!(report.outcome("service-call", MOVED), "created");

    // Again: the moved call is no longer listed; nothing is written anywhere.
    let cw_calls = world.cw.calls().total();
    let billing_writes = world.billing_call_writes();
    let again = move_calls(&world, false).await;
    assert_eq!(again["calls"], 1, "only the failing one: {again}");
    assert_eq!(
        world.cw.calls().total(),
        cw_calls,
        "no ConnectWise call at all"
    );
    assert_eq!(world.billing_call_writes(), billing_writes);
    assert_eq!(tickets_of(&world, MOVED).len(), 1);

    // Mapped, the failing call moves on the next run and leaves the error report.
    world
        .put_settings(
            json!({"ticketImport": {"moving": {"boards": {"Help Desk": "Service Desk"}}}}),
        )
        .await;
    let fixed = move_calls(&world, false).await;
    assert_eq!(line(&fixed, UNMAPPED)["outcome"], "created", "{fixed}");
    assert_eq!(tickets_of(&world, UNMAPPED).len(), 1);
    assert!(world.billing.service_call(UNMAPPED).unwrap().on_hold);
    let errors = world.errors().await;
    assert!(
        !errors.iter().any(|e| e.to_string().contains(UNMAPPED)),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_lost_create_answer_is_settled_by_the_tickets_external_xref_into_one_ticket() {
    let world = moving_world().await;
    // The ticket is created, but the answer never arrives (nor a retry's: a POST is not retried).
    world.cw.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("POST", "/service/tickets")
            .next(1)
            .after_processing(),
    );
    let moved = move_calls(&world, false).await;
    let settled = line(&moved, MOVED);
    assert_eq!(settled["outcome"], "linked", "{moved}");
    assert!(
        settled["detail"].as_str().unwrap().contains("externalXRef"),
        "{settled}"
    );
    let tickets = tickets_of(&world, MOVED);
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let call = world.billing.service_call(MOVED).unwrap();
    assert!(call.on_hold);
    assert_eq!(
        call.external_reference,
        Some(format!("cw:ticket:{}", tickets[0]["id"]))
    );
}

#[tokio::test]
async fn an_interrupted_move_finishes_its_hold_next_time_without_a_second_ticket() {
    let world = moving_world().await;
    // The ticket is made, then the billing system is down for the hold: the move stops (to be
    // retried) with the call not on hold.
    world.billing.inject(
        cwsync_billing_sim::FaultRule::new(cwsync_billing_sim::FaultKind::Status(503))
            .on("POST", "/v1/service-calls/{id}/hold"),
    );
    let stopped = world
        .event(json!({"action": "move-calls", "tenant": TENANT}))
        .await
        .unwrap_err();
    assert_eq!(
        stopped.error_type, "SyncRetryLater",
        "{}",
        stopped.error_message
    );
    assert_eq!(tickets_of(&world, MOVED).len(), 1);
    assert!(!world.billing.service_call(MOVED).unwrap().on_hold);

    world.billing.clear_faults();
    let moved = move_calls(&world, false).await;
    let finished = line(&moved, MOVED);
    assert_eq!(finished["outcome"], "linked", "{moved}");
    assert!(
        finished["detail"]
            .as_str()
            .unwrap()
            .contains("earlier attempt"),
        "{finished}"
    );
    assert_eq!(tickets_of(&world, MOVED).len(), 1, "no second ticket");
    assert!(world.billing.service_call(MOVED).unwrap().on_hold);
}

#[tokio::test]
async fn two_moves_at_once_make_one_ticket() {
    let world = moving_world().await;
    let event = json!({"action": "move-calls", "tenant": TENANT});
    let (a, b) = tokio::join!(world.event(event.clone()), world.event(event));
    for reply in [a, b] {
        let reply = reply.unwrap_or_else(|d| panic!("{}: {}", d.error_type, d.error_message));
        if let Some(line) = reply["records"]
            .as_array()
            .and_then(|r| r.iter().find(|l| l["recordId"] == MOVED))
        {
            let outcome = line["outcome"].as_str().unwrap();
            assert!(
                ["created", "linked", "skipped"].contains(&outcome),
                "{reply}"
            );
        }
    }
    assert_eq!(tickets_of(&world, MOVED).len(), 1);
    let call = world.billing.service_call(MOVED).unwrap();
    assert!(call.on_hold);
}

#[tokio::test]
async fn a_ticket_connectwise_refuses_is_reported_and_the_call_is_not_held_until_it_moves() {
    let world = moving_world().await;
    world.cw.inject(
        FaultRule::new(FaultKind::Status(400))
            .on("POST", "/service/tickets")
            .next(1),
    );
    let moved = move_calls(&world, false).await;
    let refused = line(&moved, MOVED);
    assert_eq!(refused["outcome"], "failed", "{moved}");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("not put on hold"),
        "{refused}"
    );
    assert!(tickets_of(&world, MOVED).is_empty());
    let call = world.billing.service_call(MOVED).unwrap();
    assert!(!call.on_hold);
    assert_eq!(call.external_reference, None);
    let errors = world.errors().await;
    assert!(
        errors.iter().any(|e| e.to_string().contains(MOVED)),
        "{errors:?}"
    );

    // ConnectWise takes it the next time: moved once.
    let again = move_calls(&world, false).await;
    assert_eq!(line(&again, MOVED)["outcome"], "created", "{again}");
    assert_eq!(tickets_of(&world, MOVED).len(), 1);
    assert!(world.billing.service_call(MOVED).unwrap().on_hold);
}

#[tokio::test]
async fn the_moved_ticket_finished_with_time_and_a_product_completes_the_same_call() {
    let world = moving_world().await;
    move_calls(&world, false).await;
    let ticket = tickets_of(&world, MOVED)[0]["id"].as_i64().unwrap();
    let calls_before = world.billing.service_calls().len();

    world.time(ticket, "jdoe", 2, None).await;
    let toner = world.catalog_item(TONER).await;
    world.product(ticket, toner, 1).await;
    world.set_status(ticket, FINISHED).await;
    let (_, report) = world.import_now().await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(
        report.outcome("ticket", &ticket.to_string()),
        "updated",
        "{}",
        report.0
    );

    assert_eq!(
        world.billing.service_calls().len(),
        calls_before,
        "no second call"
    );
    let call = world.billing.service_call(MOVED).unwrap();
    assert_eq!(call.status, ServiceCallStatus::Completed);
    assert!(!call.on_hold, "completed: off hold");
    assert_eq!(call.labor.len(), 1);
    assert_eq!(call.labor[0].technician_id, "T-100");
    let items: Vec<&str> = call.parts.iter().map(|p| p.item_id.as_str()).collect();
    assert_eq!(items, ["I-TONER-BK"]);
    assert_eq!(
        call.contract_id.as_deref(),
        Some("C-3001"),
        "the call keeps the contract its user gave it"
    );
    assert_eq!(world.call_of(ticket).map(|c| c.id), Some(MOVED.to_owned()));

    // Imported: the next run writes nothing, and the moves leave it alone.
    let writes = world.billing_call_writes();
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "unchanged", "{reply}");
    move_calls(&world, false).await;
    assert_eq!(world.billing_call_writes(), writes);
    assert_eq!(tickets_of(&world, MOVED).len(), 1);
}

#[tokio::test]
async fn a_dry_run_says_what_would_move_and_writes_nothing() {
    let world = moving_world().await;
    let cw_writes = world.cw.calls().writes();
    let planned = move_calls(&world, true).await;
    assert_eq!(planned["dryRun"], true);
    let would = line(&planned, MOVED);
    assert_eq!(would["outcome"], "created", "{planned}");
    assert!(
        would["detail"].as_str().unwrap().contains("would create"),
        "{would}"
    );
    assert_eq!(line(&planned, UNMAPPED)["outcome"], "failed");
    assert_eq!(world.cw.calls().writes(), cw_writes);
    assert_eq!(world.billing_call_writes(), 0);
    assert!(tickets_of(&world, MOVED).is_empty());
    assert!(!world.billing.service_call(MOVED).unwrap().on_hold);
    let errors = world.errors().await;
    assert!(
        !errors.iter().any(|e| e.to_string().contains(UNMAPPED)),
        "a dry run keeps no ledger: {errors:?}"
    );

    // The real run moves it.
    let moved = move_calls(&world, false).await;
    assert_eq!(line(&moved, MOVED)["outcome"], "created");
}

#[tokio::test]
async fn the_schedules_tick_moves_the_flagged_calls_once_per_slot() {
    let world = moving_world().await;
    let tick = world.ok(json!({"action": "scheduled"})).await;
    let started = &tick["started"][0];
    assert!(started["movesRunId"].is_string(), "{tick}");
    assert!(
        started["runId"].is_string(),
        "the import is planned too: {tick}"
    );
    let again = world.ok(json!({"action": "scheduled"})).await;
    assert_eq!(again["started"].as_array().unwrap().len(), 0, "{again}");

    world.deliver_twice().await;
    assert_eq!(tickets_of(&world, MOVED).len(), 1);
    assert!(world.billing.service_call(MOVED).unwrap().on_hold);
    let report = Report(
        world
            .ok(json!({"action": "report", "tenant": TENANT, "moves": true,
                       "runId": started["movesRunId"]}))
            .await,
    );
    assert_eq!(
        report.outcome("service-call", MOVED),
        "created",
        "{}",
        report.0
    );
}
