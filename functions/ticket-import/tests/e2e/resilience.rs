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
