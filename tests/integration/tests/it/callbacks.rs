//! Callbacks: a callback registered through the client is delivered, for changes made through the
//! client, to a receiver on this machine, and the client's `CallbackPayload` reads it back into
//! the changed record.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{
    CallbackAction, CallbackEntry, CallbackPayload, Company, Reference, Ticket,
};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::support::{client, new_company, sim};

/// A webhook receiver on 127.0.0.1; returns its URL and the bodies it receives.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                |State(tx): State<mpsc::UnboundedSender<Value>>, Json(body): Json<Value>| async move {
                    let _ = tx.send(body);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

async fn next_payload(rx: &mut mpsc::UnboundedReceiver<Value>) -> (Value, CallbackPayload) {
    let raw = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a callback arrives within 10 s")
        .expect("the receiver is running");
    let payload: CallbackPayload =
        serde_json::from_value(raw.clone()).expect("the body is a CallbackPayload");
    (raw, payload)
}

fn entry(url: &str, kind: &str) -> CallbackEntry {
    CallbackEntry {
        url: Some(url.to_owned()),
        object_id: Some(1),
        kind: Some(kind.to_owned()),
        level: Some("owner".to_owned()),
        description: Some(format!("cwsync {kind} changes")),
        ..CallbackEntry::default()
    }
}

#[tokio::test]
async fn a_ticket_created_and_patched_through_the_client_is_posted_to_the_registered_callback() {
    let sim = sim().await;
    let client = client(&sim).await;
    let (url, mut rx) = receiver().await;
    let registered: CallbackEntry = client
        .create("/system/callbacks", &entry(&url, "ticket"))
        .await
        .unwrap();
    assert!(registered.id.is_some());
    assert_eq!(registered.url.as_deref(), Some(url.as_str()));
    let company: Company = client
        .create("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap();

    let ticket: Ticket = client
        .create(
            "/service/tickets",
            &Ticket {
                summary: Some("Printer \"HQ-1\" jammed".to_owned()),
                company: Some(Reference::id(company.id.unwrap())),
                ..Ticket::default()
            },
        )
        .await
        .unwrap();
    let ticket_id = ticket.id.unwrap();

    let (raw, added) = next_payload(&mut rx).await;
    assert_eq!(added.action, CallbackAction::Added);
    assert_eq!(added.kind.as_deref(), Some("ticket"));
    assert_eq!(added.id, Some(ticket_id));
    assert!(raw["Entity"].is_string(), "Entity is a JSON string: {raw}");
    assert_eq!(
        added.member_id.as_deref(),
        Some(cwsync_connectwise_sim::TEST_MEMBER_IDENTIFIER)
    );
    assert_eq!(
        added.company_id.as_deref(),
        Some(cwsync_connectwise_sim::TEST_COMPANY_ID)
    );
    assert!(
        added
            .metadata
            .as_ref()
            .and_then(|m| m.key_url.as_deref())
            .is_some_and(|u| u.starts_with("http")),
        "{raw}"
    );
    let entity: Ticket = added
        .entity()
        .unwrap()
        .expect("an added record has an entity");
    assert_eq!(entity, ticket, "the callback carries the record as created");

    let patched: Ticket = client
        .patch(
            &format!("/service/tickets/{ticket_id}"),
            &[PatchOp::replace("summary", "Printer fixed")],
        )
        .await
        .unwrap();
    let (_, updated) = next_payload(&mut rx).await;
    assert_eq!(updated.action, CallbackAction::Updated);
    assert_eq!(updated.id, Some(ticket_id));
    let entity: Ticket = updated.entity().unwrap().unwrap();
    assert_eq!(entity.summary.as_deref(), Some("Printer fixed"));
    assert_eq!(entity, patched);

    client
        .delete(&format!("/service/tickets/{ticket_id}"))
        .await
        .unwrap();
    let (_, deleted) = next_payload(&mut rx).await;
    assert_eq!(deleted.action, CallbackAction::Deleted);
    assert_eq!(deleted.id, Some(ticket_id));
    assert!(deleted.entity::<Ticket>().unwrap().is_none());
}

#[tokio::test]
async fn a_company_callback_receives_company_changes_only() {
    let sim = sim().await;
    let client = client(&sim).await;
    let (url, mut rx) = receiver().await;
    client
        .create::<_, CallbackEntry>("/system/callbacks", &entry(&url, "company"))
        .await
        .unwrap();

    let company: Company = client
        .create("/company/companies", &new_company("ACME", "Acme & Sons"))
        .await
        .unwrap();
    client
        .create::<_, Ticket>(
            "/service/tickets",
            &Ticket {
                summary: Some("not for this callback".to_owned()),
                company: Some(Reference::id(company.id.unwrap())),
                ..Ticket::default()
            },
        )
        .await
        .unwrap();
    let renamed: Company = client
        .patch(
            &format!("/company/companies/{}", company.id.unwrap()),
            &[PatchOp::replace("name", "Acme Renamed")],
        )
        .await
        .unwrap();

    let (_, added) = next_payload(&mut rx).await;
    let (_, updated) = next_payload(&mut rx).await;
    assert_eq!(added.action, CallbackAction::Added);
    assert_eq!(added.entity::<Company>().unwrap(), Some(company));
    assert_eq!(updated.action, CallbackAction::Updated);
    let entity: Company = updated.entity().unwrap().unwrap();
    assert_eq!(entity.name.as_deref(), Some("Acme Renamed"));
    assert_eq!(entity, renamed);
    let all = sim.callback_deliveries();
    assert!(
        all.iter().all(|d| d.payload["Type"] == "company"),
        "no ticket change went to the company callback: {all:?}"
    );
}
