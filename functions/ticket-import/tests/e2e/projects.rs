//! Project tickets (seeds 000 "Project Tickets") import like service tickets: by phase as soon as
//! they are finished with time, on completion once their project closes, fixed fee on hold for
//! review with the fee per `ticketImport.fixedFee` (an item billed once per project), a down
//! payment reported and never imported; replayed jobs and re-runs write nothing more.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::*;

/// The project board's finished status (the simulator's Projects board: Open, Completed).
const PROJECT_FINISHED: &str = "Completed";

/// A world importing service tickets `Closed` and project tickets `Completed`.
async fn world() -> World {
    let world = World::start().await;
    world
        .put_settings(json!({"ticketImport": {"statuses": [FINISHED, PROJECT_FINISHED]}}))
        .await;
    world
}

/// A project of billing account `account`'s company billed by `method` (`billingAmount`,
/// `downpayment` when given) with one phase (billed when the project closes when
/// `on_completion`, else on its own): the project's and the phase's ids.
async fn project(
    world: &World,
    account: &str,
    method: &str,
    amount: Option<i64>,
    downpayment: Option<i64>,
    on_completion: bool,
) -> (i64, i64) {
    let mut body = json!({"name": "Fleet install", "company": {"id": world.company_of(account)},
                          "board": {"name": "Projects"}, "billingMethod": method,
                          "estimatedStart": "2026-11-01T00:00:00Z",
                          "estimatedEnd": "2026-12-31T00:00:00Z"});
    if let Some(amount) = amount {
        body["billingAmount"] = json!(amount);
    }
    if let Some(downpayment) = downpayment {
        body["downpayment"] = json!(downpayment);
    }
    let created: Value = world.user.create("/project/projects", &body).await.unwrap();
    let project = created["id"].as_i64().unwrap();
    let phase: Value = world
        .user
        .create(
            &format!("/project/projects/{project}/phases"),
            &json!({"description": "Installation", "billTime": "Billable",
                    "billProjectClosedFlag": on_completion,
                    "billPhaseClosedFlag": !on_completion}),
        )
        .await
        .unwrap();
    (project, phase["id"].as_i64().unwrap())
}

/// A project ticket of `project`'s `phase` for `account`'s company in `status`.
async fn project_ticket(
    world: &World,
    account: &str,
    (project, phase): (i64, i64),
    summary: &str,
    status: &str,
) -> i64 {
    let status = world
        .cw
        .records("/service/boards/2/statuses")
        .into_iter()
        .find(|s| s["name"] == status)
        .and_then(|s| s["id"].as_i64())
        .unwrap();
    let created: Value = world
        .user
        .create(
            "/project/tickets",
            &json!({"summary": summary, "project": {"id": project}, "phase": {"id": phase},
                    "company": {"id": world.company_of(account)}, "board": {"id": 2},
                    "status": {"id": status}}),
        )
        .await
        .unwrap();
    created["id"].as_i64().unwrap()
}

/// `hours` of `jdoe`'s time on project ticket `ticket`.
async fn project_time(world: &World, ticket: i64, hours: i64) -> i64 {
    let start = world.cw.now();
    let created: Value = world
        .user
        .create(
            "/time/entries",
            &json!({"chargeToType": "ProjectTicket", "chargeToId": ticket,
                    "member": {"identifier": "jdoe"}, "timeStart": rfc3339(start),
                    "timeEnd": rfc3339(start + time::Duration::hours(hours)),
                    "notes": "installed"}),
        )
        .await
        .unwrap();
    created["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_phase_billed_project_ticket_with_time_imports_once_and_one_without_time_does_not() {
    let world = world().await;
    let project = project(&world, "A-1001", "ActualRates", None, None, false).await;
    let ticket = project_ticket(&world, "A-1001", project, "Mount MFPs", PROJECT_FINISHED).await;
    let entry = project_time(&world, ticket, 3).await;
    let no_time = project_ticket(&world, "A-1001", project, "Nothing yet", PROJECT_FINISHED).await;

    let (planned, report) = world.import_now().await;
    assert_eq!(planned["projectTickets"], 2, "{planned}");
    assert_eq!(planned["withoutTime"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "created");
    assert!(world.call_of(no_time).is_none());

    let call = world.call_of(ticket).expect("the project ticket's call");
    assert_eq!(call.account_id, "A-1001");
    assert_eq!(call.description, "Fleet install / Installation: Mount MFPs");
    assert_eq!(call.labor.len(), 1);
    assert_eq!(call.labor[0].technician_id, "T-100");
    assert_eq!(call.labor[0].hours, Decimal::from(3));
    assert!(call.labor[0].billable, "time billed as logged");
    assert_eq!(
        call.labor[0].external_reference.as_deref(),
        Some(format!("cw:time:{entry}").as_str())
    );
    assert!(!call.on_hold);

    // Unchanged: a re-run (the ticket listed again in the overlap, planned at that version
    // already: no job) and a console import of the ticket (asked as a service ticket: the kinds
    // share one id space) write nothing.
    let writes = world.billing_call_writes();
    let (again, _) = world.import_now().await;
    assert_eq!(again["projectTickets"], 2, "{again}");
    assert_eq!(again["alreadyPlanned"], 1, "{again}");
    assert_eq!(again["jobsSent"], 0, "{again}");
    let one = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(one["records"][0]["outcome"], "unchanged", "{one}");
    assert_eq!(world.billing_call_writes(), writes, "no billing write");
    assert_eq!(world.imported_calls().len(), 1);
}

#[tokio::test]
async fn fixed_fee_calls_are_held_for_review_and_the_fee_item_is_billed_once_per_project_under_replay()
 {
    let world = world().await;
    world
        .put_settings(
            json!({"ticketImport": {"fixedFee": {"as": "item", "itemId": "I-LABOR-ONSITE"}}}),
        )
        .await;
    let project = project(&world, "A-1001", "FixedFee", Some(4800), None, false).await;
    let first = project_ticket(&world, "A-1001", project, "Rack", PROJECT_FINISHED).await;
    let second = project_ticket(&world, "A-1001", project, "Cable", PROJECT_FINISHED).await;
    project_time(&world, first, 2).await;
    project_time(&world, second, 1).await;

    // Every job delivered twice, as SQS may.
    let planned = world
        .ok(json!({"action": "import-now", "tenant": TENANT}))
        .await;
    assert_eq!(planned["jobsSent"], 2, "{planned}");
    world.deliver_twice().await;

    let calls = [first, second].map(|t| world.call_of(t).expect("a call per ticket"));
    assert_eq!(
        world.imported_calls().len(),
        2,
        "one call per ticket, none twice"
    );
    let fees: Vec<_> = calls
        .iter()
        .flat_map(|c| c.parts.iter())
        .filter(|p| {
            p.external_reference.as_deref() == Some(&format!("cw:project-fee:{}", project.0))
        })
        .collect();
    assert_eq!(fees.len(), 1, "the fee is billed once: {calls:?}");
    assert_eq!(fees[0].item_id, "I-LABOR-ONSITE");
    assert_eq!(fees[0].price, Some(Decimal::from(4800)));
    assert_eq!(fees[0].quantity, Decimal::ONE);
    for call in &calls {
        assert!(call.on_hold, "a fixed-fee call waits for review");
        let reason = call.hold_reason.clone().unwrap_or_default();
        assert!(reason.starts_with("fixed-fee project"), "{reason}");
        assert!(
            call.labor.iter().all(|l| !l.billable),
            "the fee bills the work"
        );
    }

    // An unchanged re-run sends no job (both planned at that version already), and a re-plan
    // on purpose (`since`) finds both unchanged: nothing more written to the billing system.
    let writes = world.billing_call_writes();
    let (again, _) = world.import_now().await;
    assert_eq!(again["alreadyPlanned"], 2, "{again}");
    assert_eq!(again["jobsSent"], 0, "{again}");
    let replanned = world
        .ok(json!({"action": "import-now", "tenant": TENANT, "since": rfc3339(T0)}))
        .await;
    assert_eq!(replanned["jobsSent"], 2, "{replanned}");
    let project_reads = |world: &World| {
        let calls = world.cw.calls();
        [
            calls.count("GET", "/project/tickets"),
            calls.count("GET", "/project/projects/{id}"),
            calls.count("GET", "/project/projects/{parentId}/phases/{id}"),
        ]
    };
    let before = project_reads(&world);
    world.deliver().await;
    let by_jobs: Vec<u64> = project_reads(&world)
        .iter()
        .zip(before)
        .map(|(a, b)| a - b)
        .collect();
    // The two jobs come in one batch: their tickets in one read, their project and phase once.
    assert_eq!(by_jobs, [1, 1, 1], "tickets, project, phase");
    let again = world.report(replanned["runId"].as_str().unwrap()).await;
    assert_eq!(again.count("ticket", "unchanged"), 2, "{}", again.0);
    assert_eq!(world.billing_call_writes(), writes);
}

#[tokio::test]
async fn by_default_the_fixed_fee_is_left_for_a_miscellaneous_charge_and_a_down_payment_is_reported()
 {
    let world = world().await;
    let project = project(&world, "A-1001", "FixedFee", Some(4800), Some(1000), false).await;
    let ticket = project_ticket(&world, "A-1001", project, "Rack", PROJECT_FINISHED).await;
    project_time(&world, ticket, 2).await;

    let (_, report) = world.import_now().await;
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "created");
    let call = world.call_of(ticket).unwrap();
    assert!(call.on_hold);
    let reason = call.hold_reason.clone().unwrap_or_default();
    assert!(
        reason.contains("add the fixed fee of 4800.00 as a miscellaneous charge"),
        "{reason}"
    );
    assert_eq!(
        call.parts,
        [],
        "nothing billed for the fee or the down payment"
    );

    let down = project.0.to_string();
    assert_eq!(report.outcome("down-payment", &down), "skipped");
    let detail = report.detail("down-payment", &down);
    assert!(
        detail.contains("down payment of 1000.00") && detail.contains("not imported"),
        "{detail}"
    );
}

#[tokio::test]
async fn an_on_completion_ticket_waits_for_its_project_to_close_and_then_imports() {
    let world = world().await;
    let waiting = project(&world, "A-1001", "ActualRates", None, None, true).await;
    let ticket = project_ticket(&world, "A-1001", waiting, "Configure", PROJECT_FINISHED).await;
    project_time(&world, ticket, 2).await;

    let (_, report) = world.import_now().await;
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "skipped");
    let detail = report.detail("ticket", &ticket.to_string());
    assert!(detail.contains("waits for project"), "{detail}");
    assert!(world.call_of(ticket).is_none());

    // Later another project ticket moves the watermark past this one's...
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    let other = project(&world, "A-1001", "ActualRates", None, None, false).await;
    project_ticket(&world, "A-1001", other, "Elsewhere", PROJECT_FINISHED).await;
    world.import_now().await;
    // ...and then the project closes: closing it does not touch its tickets, but the planning
    // reads the projects closed since its watermark.
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    let _: Value = world
        .user
        .patch(
            &format!("/project/projects/{}", waiting.0),
            &[cwsync_connectwise::PatchOp::replace(
                "closedFlag",
                json!(true),
            )],
        )
        .await
        .unwrap();
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["closedProjects"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "created");
    let call = world.call_of(ticket).unwrap();
    assert_eq!(call.description, "Fleet install / Installation: Configure");
    assert!(!call.on_hold);

    // The project stays inside the overlap: an unchanged re-run lists it and its ticket again
    // and plans nothing (the ticket is in the tail through its closed project).
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["closedProjects"], 1, "{planned}");
    assert_eq!(planned["alreadyPlanned"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 0, "{planned}");
}

#[tokio::test]
async fn a_project_tickets_callback_sends_its_job_and_the_job_imports_it() {
    use cwsync_store::TenantId;
    use cwsync_ticket_import::callback::{
        TicketAction, TicketChange, TicketChangeSink, TicketRecordType,
    };
    use cwsync_ticket_import::realtime::QueueSink;

    let world = world().await;
    let project = project(&world, "A-1001", "ActualRates", None, None, false).await;
    let ticket = project_ticket(&world, "A-1001", project, "Mount MFPs", PROJECT_FINISHED).await;
    project_time(&world, ticket, 1).await;

    let sink = QueueSink::new(std::sync::Arc::clone(&world.import.deps));
    let change = TicketChange {
        tenant: TenantId::parse(TENANT).unwrap(),
        ticket_id: ticket,
        record_type: TicketRecordType::Project,
        action: TicketAction::Updated,
    };
    sink.accept(&change).await.unwrap();
    let sent = world.ticket_queue.received();
    assert_eq!(sent.len(), 1, "one job for the change");
    assert_eq!(sent[0].payload()["kind"], "project", "{:?}", sent[0]);
    world.deliver().await;
    let call = world.call_of(ticket).expect("imported from the callback");
    assert_eq!(call.description, "Fleet install / Installation: Mount MFPs");
}
