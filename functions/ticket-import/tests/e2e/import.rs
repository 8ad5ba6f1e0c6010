//! A finished ticket imports once, with its labor and parts; what is not finished or has no time
//! is not imported; the watermark carries a run to the next without missing or repeating one.

use rust_decimal::Decimal;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_finished_ticket_with_time_and_products_imports_once_with_labor_parts_and_a_held_placeholder()
 {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    let ticket = world
        .ticket(company, "Printer jams on tray 2", FINISHED)
        .await;
    let entry = world.time(ticket, "jdoe", 2, None).await;
    let toner = world.catalog_item(TONER).await;
    let mystery = world.catalog_item(MYSTERY).await;
    world.product(ticket, toner, 2).await;
    let unknown = world.product(ticket, mystery, 1).await;

    let (planned, report) = world.import_now().await;
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "created");

    let call = world.call_of(ticket).expect("the ticket's call");
    assert_eq!(call.account_id, "A-1001");
    assert_eq!(call.description, "Printer jams on tray 2");
    assert_eq!(call.labor.len(), 1);
    let labor = &call.labor[0];
    assert_eq!(labor.technician_id, "T-100", "jdoe is T-100 by e-mail");
    assert_eq!(labor.hours, Decimal::from(2));
    assert_eq!(
        labor.external_reference.as_deref(),
        Some(format!("cw:time:{entry}").as_str())
    );
    let items: Vec<&str> = call.parts.iter().map(|p| p.item_id.as_str()).collect();
    assert_eq!(items, ["I-TONER-BK", "I-TPL-HARDWARE"]);
    assert!(call.on_hold, "a placeholder part holds the call");
    let reason = call.hold_reason.clone().unwrap_or_default();
    assert!(
        reason.contains(&format!("product {unknown} ({MYSTERY})")),
        "{reason}"
    );

    // Imported once: a second run lists the ticket again (it is within the overlap) but it was
    // planned at that version already, so it sends no job and writes nothing; a re-plan on
    // purpose (`since`) runs its job, which finds it unchanged.
    let writes = world.billing_call_writes();
    let (again, _) = world.import_now().await;
    assert_eq!(again["tickets"], 1, "{again}");
    assert_eq!(again["alreadyPlanned"], 1, "{again}");
    assert_eq!(again["jobsSent"], 0, "{again}");
    let replanned = world
        .ok(json!({"action": "import-now", "tenant": TENANT, "since": rfc3339(T0)}))
        .await;
    assert_eq!(
        replanned["alreadyPlanned"], 0,
        "`since` ignores the tail: {replanned}"
    );
    world.deliver().await;
    let again = world.report(replanned["runId"].as_str().unwrap()).await;
    assert_eq!(again.outcome("ticket", &ticket.to_string()), "unchanged");
    assert_eq!(world.billing_call_writes(), writes, "no billing write");
    assert_eq!(world.imported_calls().len(), 1);
}

#[tokio::test]
async fn a_ticket_without_time_or_on_another_status_is_not_imported() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    let no_time = world.ticket(company, "Nothing logged", FINISHED).await;
    let open = world.ticket(company, "Still open", "In Progress").await;
    world.time(open, "jdoe", 1, None).await;

    let (planned, report) = world.import_now().await;
    assert_eq!(
        planned["tickets"], 1,
        "only the finished one is listed: {planned}"
    );
    assert_eq!(planned["withoutTime"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 0, "{planned}");
    assert_eq!(report.status(), "succeeded");
    assert!(world.call_of(no_time).is_none());
    assert!(world.call_of(open).is_none());
    assert_eq!(world.billing_call_writes(), 0);
}

#[tokio::test]
async fn a_ticket_finished_after_a_run_is_imported_by_the_next_and_none_twice() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    let first = world.finished("A-1001", "First").await;
    let later = world.ticket(company, "Later", "In Progress").await;
    world.time(later, "jdoe", 3, None).await;

    let (planned, _) = world.import_now().await;
    assert_eq!(planned["jobsSent"], 1);
    assert!(world.call_of(first).is_some());
    assert!(world.call_of(later).is_none());

    // An hour later (past the overlap), the second ticket is finished.
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    world.set_status(later, FINISHED).await;
    let (planned, report) = world.import_now().await;
    assert!(
        planned["since"].is_string(),
        "the run reads from the watermark: {planned}"
    );
    // The first ticket was saved at the watermark itself: the overlap lists it again, and the
    // watermark's tail says it was planned at that version already (no job).
    assert_eq!(planned["tickets"], 2, "{planned}");
    assert_eq!(planned["alreadyPlanned"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &later.to_string()), "created");
    assert_eq!(world.imported_calls().len(), 2);

    // An hour on, the first is past the overlap and no longer listed; the second (the watermark
    // now) is listed again and not planned again.
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    let newest = world.finished("A-1001", "Newest").await;
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["tickets"], 2, "{planned}");
    assert_eq!(planned["alreadyPlanned"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &newest.to_string()), "created");
    let read: Vec<&serde_json::Value> = report.0["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["recordId"].as_str() != Some(newest.to_string().as_str()))
        .collect();
    assert!(read.is_empty(), "only the new ticket's job ran: {read:?}");
    assert_eq!(world.imported_calls().len(), 3);
}

#[tokio::test]
async fn every_job_delivered_twice_makes_one_call_per_ticket() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    let mut tickets = Vec::new();
    for n in 0..3 {
        let ticket = world
            .ticket(company, &format!("Ticket {n}"), FINISHED)
            .await;
        world.time(ticket, "jdoe", 1, None).await;
        tickets.push(ticket);
    }
    let planned = world
        .ok(json!({"action": "import-now", "tenant": TENANT}))
        .await;
    world.deliver_twice().await;
    assert_eq!(world.imported_calls().len(), 3);
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.count("ticket", "created"), 3, "{}", report.0);
}

#[tokio::test]
async fn more_time_after_the_import_updates_the_open_call() {
    let world = World::start().await;
    let ticket = world.finished("A-1001", "Jam").await;
    world.import_now().await;
    let before = world.call_of(ticket).unwrap();

    world
        .cw
        .advance_clock(std::time::Duration::from_secs(2 * 60));
    world.time(ticket, "jdoe", 2, None).await;
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "updated", "{reply}");
    let after = world.call_of(ticket).unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.labor.len(), 2);
    assert!(after.version > before.version);
    assert_eq!(world.imported_calls().len(), 1);
}

#[tokio::test]
async fn an_invoiced_call_is_never_changed_and_the_difference_is_reported() {
    let world = World::start().await;
    let ticket = world.finished("A-1001", "Jam").await;
    world.import_now().await;
    let call = world.call_of(ticket).unwrap();
    world.billing.modify_service_call(&call.id, |c| {
        c.status = cwsync_billing::models::ServiceCallStatus::Invoiced;
    });
    let invoiced = world.call_of(ticket).unwrap();

    world.time(ticket, "jdoe", 2, None).await;
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    let line = &reply["records"][0];
    assert_eq!(line["outcome"], "failed", "{reply}");
    let detail = line["detail"].as_str().unwrap();
    assert!(
        detail.contains("invoiced") && detail.contains("labor"),
        "{detail}"
    );
    assert_eq!(world.call_of(ticket).unwrap(), invoiced, "unchanged");
    let errors = world.errors().await;
    assert!(
        errors
            .iter()
            .any(|e| e["recordId"].as_str() == Some(ticket.to_string().as_str())),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_company_changed_after_the_import_is_reported_and_not_applied() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    let other = world.company_of("A-1003");
    let ticket = world.ticket(company, "Jam", FINISHED).await;
    world.time(ticket, "jdoe", 1, None).await;
    world.import_now().await;
    let call = world.call_of(ticket).unwrap();

    world.set_company(ticket, other).await;
    world.time(ticket, "jdoe", 1, None).await;
    let writes = world.billing_call_writes();
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    let line = &reply["records"][0];
    assert_eq!(line["outcome"], "failed", "{reply}");
    let detail = line["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("changed to {other}")) && detail.contains("locked"),
        "{detail}"
    );
    assert_eq!(world.billing_call_writes(), writes);
    assert_eq!(world.call_of(ticket).unwrap(), call);
}
