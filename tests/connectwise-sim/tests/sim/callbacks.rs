//! Callbacks: registration and delivery of the documented payload to a receiver on this machine.
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::common::{Api, company, sim};

/// A webhook receiver on 127.0.0.1; returns its URL and the bodies it receives.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (url, mut raw) = raw_receiver().await;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some((_, body)) = raw.recv().await {
            let _ = tx.send(serde_json::from_slice(&body).unwrap());
        }
    });
    (url, rx)
}

/// A receiver that keeps the signature header and the exact body bytes.
async fn raw_receiver() -> (String, mpsc::UnboundedReceiver<(Option<String>, Vec<u8>)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    type Tx = mpsc::UnboundedSender<(Option<String>, Vec<u8>)>;
    let app =
        axum::Router::new()
            .route(
                "/hook",
                post(
                    |State(tx): State<Tx>,
                     headers: axum::http::HeaderMap,
                     body: axum::body::Bytes| async move {
                        let sig = headers
                            .get("x-content-signature")
                            .map(|v| v.to_str().unwrap().to_string());
                        let _ = tx.send((sig, body.to_vec()));
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

async fn next(rx: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a callback arrives")
        .unwrap()
}

#[tokio::test]
async fn company_changes_are_posted_to_a_registered_callback() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (url, mut rx) = receiver().await;
    let (status, entry) = api
        .send_json(
            Method::POST,
            "/system/callbacks",
            &json!({"url": url, "objectId": 1, "type": "company", "level": "owner"}),
        )
        .await;
    assert_eq!(status, 201, "{entry}");

    let (_, created) = api
        .send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let added = next(&mut rx).await;
    assert_eq!(added["Action"], "added");
    assert_eq!(added["Type"], "company");
    assert_eq!(added["ID"], created["id"]);
    assert_eq!(added["MemberId"], "cwsyncapi");
    assert_eq!(added["CompanyId"], "cwsync");
    assert!(added["Metadata"]["key_url"].is_string());
    let entity: Value =
        serde_json::from_str(added["Entity"].as_str().expect("Entity is a JSON string")).unwrap();
    assert_eq!(entity["identifier"], "ACME");

    api.send_json(
        Method::PATCH,
        "/company/companies/1",
        &json!([{"op": "replace", "path": "/name", "value": "Acme 2"}]),
    )
    .await;
    let updated = next(&mut rx).await;
    assert_eq!(updated["Action"], "updated");
    let entity: Value = serde_json::from_str(updated["Entity"].as_str().unwrap()).unwrap();
    assert_eq!(entity["name"], "Acme 2");

    api.req(Method::DELETE, "/company/companies/1")
        .send()
        .await
        .unwrap();
    let deleted = next(&mut rx).await;
    assert_eq!(deleted["Action"], "deleted");
    assert_eq!(deleted["ID"], 1);
    assert!(deleted.get("Entity").is_none());

    let log = sim
        .wait_for_callback_deliveries(3, Duration::from_secs(5))
        .await;
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d.status == Some(204)));
}

#[tokio::test]
async fn inactive_callbacks_and_other_types_receive_nothing() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (url, mut rx) = receiver().await;
    api.send_json(
        Method::POST,
        "/system/callbacks",
        &json!({"url": url, "objectId": 1, "type": "ticket", "level": "owner"}),
    )
    .await;
    api.send_json(
        Method::POST,
        "/system/callbacks",
        &json!({"url": url, "objectId": 1, "type": "company", "level": "owner", "inactiveFlag": true}),
    )
    .await;
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err()
    );
    assert!(sim.callback_deliveries().is_empty());
}

#[tokio::test]
async fn ticket_callbacks_carry_the_ticket_as_entity() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (url, mut rx) = receiver().await;
    api.send_json(
        Method::POST,
        "/system/callbacks",
        &json!({"url": url, "objectId": 1, "type": "ticket", "level": "owner"}),
    )
    .await;
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let (status, ticket) = api
        .send_json(
            Method::POST,
            "/service/tickets",
            &json!({"summary": "Printer offline", "company": {"id": 1}, "board": {"id": 1}, "status": {"id": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(ticket["board"]["name"], "Service Desk");
    let payload = next(&mut rx).await;
    assert_eq!(payload["Type"], "ticket");
    let entity: Value = serde_json::from_str(payload["Entity"].as_str().unwrap()).unwrap();
    assert_eq!(entity["summary"], "Printer offline");
}

#[tokio::test]
async fn disabled_delivery_sends_nothing() {
    let sim = sim().await;
    sim.set_callbacks_enabled(false);
    let api = Api::new(&sim);
    let (url, mut rx) = receiver().await;
    api.send_json(
        Method::POST,
        "/system/callbacks",
        &json!({"url": url, "objectId": 1, "type": "company", "level": "owner"}),
    )
    .await;
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_callback_entry_needs_url_type_level_and_object_id() {
    let sim = sim().await;
    let (status, body) = Api::new(&sim)
        .send_json(
            Method::POST,
            "/system/callbacks",
            &json!({"description": "x"}),
        )
        .await;
    assert_eq!(status, 400);
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, vec!["level", "objectId", "type", "url"]);
}

#[tokio::test]
async fn an_unreachable_receiver_is_logged_without_failing_the_api_call() {
    let sim = sim().await;
    let api = Api::new(&sim);
    // A port nothing listens on: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    api.send_json(
        Method::POST,
        "/system/callbacks",
        &json!({"url": format!("http://127.0.0.1:{port}/hook"), "objectId": 1, "type": "company", "level": "owner"}),
    )
    .await;
    let (status, _) = api
        .send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    assert_eq!(status, 201);
    let log = sim
        .wait_for_callback_deliveries(1, Duration::from_secs(5))
        .await;
    assert_eq!(log.len(), 1);
    assert!(log[0].status.is_none() && log[0].error.is_some());
}

#[tokio::test]
async fn callbacks_are_signed_with_the_key_served_at_key_url() {
    use base64::Engine;
    let sim = sim().await;
    let api = Api::new(&sim);
    let (url, mut rx) = raw_receiver().await;
    api.send_json(
        Method::POST,
        "/system/callbacks",
        &json!({"url": url, "objectId": 1, "type": "company", "level": "owner"}),
    )
    .await;
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let (signature, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let payload: Value = serde_json::from_slice(&body).unwrap();
    let key_url = payload["Metadata"]["key_url"].as_str().unwrap();
    let key: Value = reqwest::get(key_url).await.unwrap().json().await.unwrap();
    let signing_key = key["signing_key"].as_str().unwrap();
    // Verify the way public clients do: HMAC-SHA256 keyed with SHA-256(signing key), base64.
    let hashed = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, signing_key.as_bytes());
    let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, hashed.as_ref());
    let expected = base64::engine::general_purpose::STANDARD
        .encode(aws_lc_rs::hmac::sign(&hmac_key, &body).as_ref());
    assert_eq!(signature.as_deref(), Some(expected.as_str()));
    assert_eq!(
        serde_json::to_vec(&payload).unwrap(),
        body,
        "the body is compact JSON, as a re-serialising verifier expects"
    );
}
