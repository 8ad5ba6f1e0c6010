//! Never a duplicate: a create whose answer is lost, and two workers importing one ticket at
//! once, each leave exactly one call, linked to its ticket.

use cwsync_billing_sim::{FaultKind, FaultRule};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_create_whose_answers_are_lost_is_found_by_its_reference_on_the_next_delivery() {
    let world = World::start().await;
    let ticket = world.finished("A-1001", "Lost answer").await;
    // The create lands, but neither it nor the client's retries are ever answered: the job is
    // delivered again, and finds the call by the ticket's reference instead of making another.
    world.billing.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("POST", "/v1/service-calls")
            .next(4)
            .after_processing(),
    );
    let (_, report) = world.import_now().await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "linked");
    assert!(
        report
            .detail("ticket", &ticket.to_string())
            .contains("earlier attempt"),
        "{}",
        report.0
    );
    assert_eq!(world.imported_calls().len(), 1);

    // Linked: the next run finds it unchanged without a billing call.
    world.billing.clear_faults();
    let writes = world.billing_call_writes();
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "unchanged", "{reply}");
    assert_eq!(world.billing_call_writes(), writes);
}

#[tokio::test]
async fn two_workers_importing_one_ticket_at_once_make_one_call() {
    let world = World::start().await;
    let ticket = world.finished("A-1001", "Raced").await;
    let event = json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket});
    let (a, b) = tokio::join!(world.event(event.clone()), world.event(event));
    let outcomes: Vec<String> = [a, b]
        .into_iter()
        .map(|reply| {
            let reply = reply.unwrap_or_else(|d| panic!("{}: {}", d.error_type, d.error_message));
            reply["records"][0]["outcome"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(outcomes.contains(&"created".to_owned()), "{outcomes:?}");
    assert_eq!(world.imported_calls().len(), 1);
    let call = world.call_of(ticket).unwrap();
    assert_eq!(call.labor.len(), 1);
}

#[tokio::test]
async fn a_job_stopped_on_its_last_delivery_is_remembered_and_a_later_run_imports_its_ticket() {
    let world = World::start().await;
    let stopped = world
        .finished("A-1001", "Stopped on its last delivery")
        .await;
    // An hour later another ticket is finished: the watermark moves past the first one's
    // overlap window (10 minutes), so no later listing holds it.
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    let later = world.finished("A-1001", "Imported at once").await;
    world
        .ok(json!({"action": "import-now", "tenant": TENANT}))
        .await;
    let mut jobs = world.ticket_queue.drain();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    jobs.sort_by_key(|job| job.payload()["ticketId"].as_i64());
    let (stopped_job, later_job) = (jobs[0].clone(), jobs[1].clone());
    world
        .import
        .handle_jobs(
            cwsync_sync::deliver::sqs_event(&[(later_job, 1)]),
            deadline(),
        )
        .await;
    assert!(world.call_of(later).is_some());

    // The stopped ticket's message is on its last delivery before the dead-letter queue (the
    // queue's `maxReceiveCount`, 5), and its worker is stopped while the billing system holds
    // the call's create: it records nothing, and SQS moves the message to the DLQ.
    world
        .billing
        .inject(FaultRule::new(FaultKind::Freeze).on("POST", "/v1/service-calls"));
    let frozen = world.billing.frozen();
    let import = std::sync::Arc::clone(&world.import);
    let event = cwsync_sync::deliver::sqs_event(&[(stopped_job.clone(), 5)]);
    // Its deadline is near, so that its lock has expired when an operator redrives it (below).
    let stopped_deadline = time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let worker = tokio::spawn(async move { import.handle_jobs(event, stopped_deadline).await });
    frozen.notified().await;
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());
    world.billing.clear_faults();
    assert!(world.call_of(stopped).is_none());

    // Its ticket is on the error report, saying so.
    let entry = world.error_of(stopped).await;
    assert!(entry.to_string().contains("last delivery"), "{entry}");

    // The next scheduled run reads it again (behind the window) and imports it, once; the
    // mark is gone.
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["failingReadAgain"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(
        report.outcome("ticket", &stopped.to_string()),
        "created",
        "{}",
        report.0
    );
    assert_eq!(world.call_of(stopped).unwrap().account_id, "A-1001");
    assert_eq!(world.imported_calls().len(), 2);
    // An operator redriving the dead letter as well: its job imports the ticket again and finds
    // the call (the ticket's reference), no second call and no billing write.
    let writes = world.billing_call_writes();
    let left = stopped_deadline - time::OffsetDateTime::now_utc();
    let left: std::time::Duration = left.try_into().unwrap_or_default();
    tokio::time::sleep(left + std::time::Duration::from_millis(100)).await;
    let redriven = world
        .import
        .handle_jobs(
            cwsync_sync::deliver::sqs_event(&[(stopped_job, 1)]),
            deadline(),
        )
        .await;
    assert!(redriven.batch_item_failures.is_empty(), "{redriven:?}");
    assert_eq!(world.imported_calls().len(), 2);
    assert_eq!(world.billing_call_writes(), writes);
    let on_report = world.tickets_on_report().await;
    assert!(on_report.is_empty(), "{on_report:?}");
}
