//! Real time (issue 10 §5), end to end: the import as deployed behind a Function URL, its
//! `register-callbacks` pointing the ConnectWise simulator at it, and the simulator's own signed
//! deliveries of ticket changes turned into ticket jobs and imported — once, however many
//! arrive; a forged or replayed request refused without a job; a lost callback caught by the
//! schedule.

use std::sync::Arc;
use std::time::Duration;

use cwsync_connectwise_sim::CallbackDelivery;
use cwsync_runtime::Config;
use cwsync_test_support::function_url::FunctionUrl;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::*;

/// How long a test waits for the simulator's asynchronous deliveries.
const DELIVERY_WAIT: Duration = Duration::from_secs(20);

struct Realtime {
    world: World,
    /// Where the Function URL answers.
    front: String,
}

/// The import as deployed behind a Function URL, the tenant's callback registered, the
/// simulator's clock on the wall clock (a callback older than 15 minutes is refused as stale).
async fn realtime() -> Realtime {
    let front = FunctionUrl::bind().await;
    let url = front.url().to_owned();
    let mut config = Config::local();
    config.callback_url = Some(url.clone());
    let world = World::start_with(config, true).await;
    world.cw.set_clock(OffsetDateTime::now_utc());
    let import = Arc::clone(&world.import);
    front.serve(move |payload| {
        let import = Arc::clone(&import);
        async move {
            match import.handle(payload, deadline()).await {
                Ok(answer) => answer,
                Err(d) => json!({"statusCode": 500, "body": d.error_message}),
            }
        }
    });
    let registered = world
        .ok(json!({"action": "register-callbacks", "tenant": TENANT}))
        .await;
    assert_eq!(registered["writes"], 1, "{registered}");
    Realtime { world, front: url }
}

impl Realtime {
    /// Waits for `n` deliveries in all.
    async fn deliveries(&self, n: usize) -> Vec<CallbackDelivery> {
        let log = self
            .world
            .cw
            .wait_for_callback_deliveries(n, DELIVERY_WAIT)
            .await;
        assert!(log.len() >= n, "{n} deliveries expected: {log:?}");
        log
    }

    /// POSTs `body` with `signature` to the tenant's callback URL, as ConnectWise would.
    async fn post(&self, body: &str, signature: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}callbacks/{TENANT}", self.front))
            .header("content-type", "application/json")
            .header("x-content-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn statuses(log: &[CallbackDelivery]) -> Vec<Option<u16>> {
    log.iter().map(|d| d.status).collect()
}

#[tokio::test]
async fn a_ticket_finished_in_connectwise_arrives_by_callback_and_imports_once() {
    let rt = realtime().await;
    let world = &rt.world;
    // Made finished, then its time logged: an `added` and an `updated` callback.
    let ticket = world.finished("A-1001", "Scanner offline").await;
    let log = rt.deliveries(2).await;
    assert_eq!(statuses(&log), [Some(204), Some(204)], "{log:?}");
    assert_eq!(world.ticket_queue.len(), 2, "one job per change");
    world.deliver().await;
    let call = world.call_of(ticket).expect("the ticket's call");
    assert_eq!(call.labor.len(), 1);
    // The two jobs may run at once: both may ask to create, the billing system makes one call
    // by the ticket's reference and the second settles on it. Neither updates it.
    assert_eq!(world.imported_calls().len(), 1);
    let routes = world.billing.calls().by_route;
    assert!(
        !routes.keys().any(|r| r.starts_with("PUT ")),
        "nothing to update: {routes:?}"
    );
}

#[tokio::test]
async fn a_storm_of_callbacks_for_one_ticket_imports_it_once() {
    let rt = realtime().await;
    let world = &rt.world;
    let company = world.company_of("A-1001");
    // Every delivery sent twice, byte for byte, and five distinct changes of one ticket.
    world.cw.duplicate_next_callbacks(100);
    let ticket = world.ticket(company, "Wi-Fi drops", FINISHED).await;
    for _ in 0..4 {
        world.time(ticket, "jdoe", 1, None).await;
    }
    let log = rt.deliveries(10).await;
    let accepted = log.iter().filter(|d| d.status == Some(204)).count();
    let replays = log.iter().filter(|d| d.status == Some(409)).count();
    assert_eq!((accepted, replays), (5, 5), "{:?}", statuses(&log));
    assert_eq!(world.ticket_queue.len(), 5, "one job per distinct change");
    world.deliver_twice().await;
    let call = world.call_of(ticket).expect("the ticket's call");
    assert_eq!(call.labor.len(), 4);
    assert_eq!(world.imported_calls().len(), 1);
    // Jobs running at once may each ask to create (one call is made, by the ticket's reference);
    // none updates it: every job read the same finished ticket.
    let routes = world.billing.calls().by_route;
    assert!(
        !routes.keys().any(|r| r.starts_with("PUT ")),
        "created once, then unchanged: {routes:?}"
    );
    // Delivered again later, the ticket's jobs find its call unchanged: no billing write at all.
    let writes = world.billing_call_writes();
    world.import_now().await;
    assert_eq!(world.billing_call_writes(), writes);
}

#[tokio::test]
async fn a_forged_or_replayed_callback_is_refused_and_sends_no_job() {
    let rt = realtime().await;
    let world = &rt.world;
    let ticket = world
        .ticket(world.company_of("A-1001"), "Printer", "New")
        .await;
    let log = rt.deliveries(1).await;
    let genuine = &log[0];
    assert_eq!(genuine.status, Some(204));
    world.ticket_queue.drain();

    // The same request again: a replay.
    assert_eq!(rt.post(&genuine.body, &genuine.signature).await, 409);
    // Another ticket's id under the genuine signature: forged.
    let forged = genuine.body.replace(
        &format!("\"ID\":{ticket}"),
        &format!("\"ID\":{}", ticket + 1000),
    );
    assert_ne!(forged, genuine.body, "the body names the ticket by `ID`");
    assert_eq!(rt.post(&forged, &genuine.signature).await, 401);
    // Signed with a key that is not the callback's.
    let wrong = world
        .cw
        .sign_callback(genuine.callback_id + 1, forged.as_bytes());
    assert_eq!(rt.post(&forged, &wrong).await, 401);
    // No signature at all.
    assert_eq!(rt.post(&forged, "").await, 401);
    assert_eq!(world.ticket_queue.len(), 0, "no job for a refused request");
}

#[tokio::test]
async fn a_lost_callback_is_caught_by_the_schedule() {
    let rt = realtime().await;
    let world = &rt.world;
    world.cw.drop_next_callbacks(100);
    let ticket = world.finished("A-1001", "Lost in transit").await;
    let log = rt.deliveries(2).await;
    assert!(log.iter().all(|d| d.dropped), "{log:?}");
    assert_eq!(world.ticket_queue.len(), 0);
    assert!(world.call_of(ticket).is_none());
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["jobsSent"], 1, "{planned}");
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "created");
    assert_eq!(world.imported_calls().len(), 1);
}

#[tokio::test]
async fn registering_again_changes_nothing() {
    let rt = realtime().await;
    let again = rt
        .world
        .ok(json!({"action": "register-callbacks", "tenant": TENANT}))
        .await;
    assert_eq!(again["writes"], 0, "{again}");
    let entries: Vec<Value> = rt.world.cw.records("/system/callbacks");
    assert_eq!(entries.len(), 1, "{entries:?}");
}

#[tokio::test]
async fn an_open_tickets_callbacks_import_nothing_and_report_no_error_until_it_is_finished() {
    let rt = realtime().await;
    let world = &rt.world;
    let ticket = world
        .ticket(world.company_of("A-1001"), "Still working on it", "New")
        .await;
    world.time(ticket, "jdoe", 1, None).await;
    rt.deliveries(2).await;
    assert_eq!(world.ticket_queue.len(), 2);
    world.deliver().await;
    assert!(world.call_of(ticket).is_none());
    let errors = world.errors().await;
    assert!(
        !errors.iter().any(|e| e["entity"] == "ticket"),
        "an open ticket is no error: {errors:?}"
    );
    // Finished: its next callback imports it.
    world.set_status(ticket, FINISHED).await;
    rt.deliveries(3).await;
    world.deliver().await;
    assert_eq!(world.call_of(ticket).expect("imported").labor.len(), 1);
}
