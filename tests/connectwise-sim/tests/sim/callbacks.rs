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

/// A receiver that keeps the signature header and the exact body bytes, answering 204.
async fn raw_receiver() -> (String, mpsc::UnboundedReceiver<(Option<String>, Vec<u8>)>) {
    scripted_receiver(Vec::new()).await
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

/// A receiver that answers with the given statuses in turn (then 204), recording (signature, body).
async fn scripted_receiver(
    statuses: Vec<u16>,
) -> (String, mpsc::UnboundedReceiver<(Option<String>, Vec<u8>)>) {
    use std::sync::{Arc, Mutex};
    type Shared = (
        mpsc::UnboundedSender<(Option<String>, Vec<u8>)>,
        Arc<Mutex<std::collections::VecDeque<u16>>>,
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let script = Arc::new(Mutex::new(statuses.into_iter().collect()));
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                |State((tx, script)): State<Shared>,
                 headers: axum::http::HeaderMap,
                 body: axum::body::Bytes| async move {
                    let sig = headers
                        .get("x-content-signature")
                        .map(|v| v.to_str().unwrap().to_string());
                    let _ = tx.send((sig, body.to_vec()));
                    let code = script.lock().unwrap().pop_front().unwrap_or(204);
                    StatusCode::from_u16(code).unwrap()
                },
            ),
        )
        .with_state((tx, script));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

async fn next_raw(
    rx: &mut mpsc::UnboundedReceiver<(Option<String>, Vec<u8>)>,
) -> (String, Vec<u8>) {
    let (sig, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a callback arrives")
        .unwrap();
    (sig.expect("the POST is signed"), body)
}

/// Verifies a callback the way a receiver must: fetch the key from `Metadata.key_url`, then
/// base64(HMAC-SHA256(SHA-256(key), exact body bytes)).
async fn verify(signature: &str, body: &[u8]) -> bool {
    use base64::Engine;
    let payload: Value = serde_json::from_slice(body).unwrap();
    let key_url = payload["Metadata"]["key_url"].as_str().unwrap();
    let key: Value = reqwest::get(key_url).await.unwrap().json().await.unwrap();
    let hashed = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        key["signing_key"].as_str().unwrap().as_bytes(),
    );
    let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, hashed.as_ref());
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return false;
    };
    aws_lc_rs::hmac::verify(&hmac_key, body, &given).is_ok()
}

async fn register(api: &Api, url: &str, kind: &str) -> i64 {
    let (status, entry) = api
        .send_json(
            Method::POST,
            "/system/callbacks",
            &json!({"url": url, "objectId": 1, "type": kind, "level": "owner", "description": "cwsync"}),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    entry["id"].as_i64().unwrap()
}

fn quick_sim_options() -> cwsync_connectwise_sim::SimOptions {
    cwsync_connectwise_sim::SimOptions {
        callback_attempts: 3,
        callback_retry_delay: Duration::from_millis(5),
        ..Default::default()
    }
}

#[tokio::test]
async fn ticket_changes_time_and_project_tickets_raise_signed_ticket_callbacks() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (url, mut rx) = raw_receiver().await;
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let entry = register(&api, &url, "ticket").await;

    let (_, ticket) = api
        .send_json(
            Method::POST,
            "/service/tickets",
            &json!({"summary": "Jam", "company": {"id": 1}}),
        )
        .await;
    let (sig, body) = next_raw(&mut rx).await;
    assert!(verify(&sig, &body).await, "signed with the key at key_url");
    let added: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(added["Action"], "added");
    assert_eq!(added["ID"], ticket["id"]);
    assert_eq!(
        added["Metadata"]["key_url"],
        format!("{}/callback-keys/{entry}", sim.base_url())
    );
    assert_eq!(
        added["FromUrl"],
        sim.base_url().split("://").nth(1).unwrap()
    );
    let entity: Value = serde_json::from_str(added["Entity"].as_str().unwrap()).unwrap();
    assert_eq!(entity["recordType"], "ServiceTicket");

    // Time on the ticket: the ticket was updated.
    api.send_json(
        Method::POST,
        "/time/entries",
        &json!({"chargeToType": "ServiceTicket", "chargeToId": ticket["id"], "member": {"id": 2},
                "timeStart": "2026-12-01T14:00:00Z", "timeEnd": "2026-12-01T15:00:00Z"}),
    )
    .await;
    let (sig, body) = next_raw(&mut rx).await;
    assert!(verify(&sig, &body).await);
    let updated: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (updated["Action"].as_str(), updated["ID"].as_i64()),
        (Some("updated"), ticket["id"].as_i64())
    );
    let entity: Value = serde_json::from_str(updated["Entity"].as_str().unwrap()).unwrap();
    assert_eq!(entity["actualHours"], 1.0);

    // A project ticket is a ticket too; its entity says so.
    let (_, project) = api
        .send_json(
            Method::POST,
            "/project/projects",
            &json!({"name": "Move", "company": {"id": 1}, "board": {"id": 2}, "billingMethod": "ActualRates",
                    "estimatedStart": "2026-11-01T00:00:00Z", "estimatedEnd": "2026-12-01T00:00:00Z"}),
        )
        .await;
    let (_, phase) = api
        .send_json(
            Method::POST,
            &format!("/project/projects/{}/phases", project["id"]),
            &json!({"description": "Plan"}),
        )
        .await;
    let (status, pt) = api
        .send_json(
            Method::POST,
            "/project/tickets",
            &json!({"summary": "Cable", "phase": {"id": phase["id"]}, "company": {"id": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{pt}");
    let (_, body) = next_raw(&mut rx).await;
    let added: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (added["Type"].as_str(), added["ID"].as_i64()),
        (Some("ticket"), pt["id"].as_i64())
    );
    let entity: Value = serde_json::from_str(added["Entity"].as_str().unwrap()).unwrap();
    assert_eq!(entity["recordType"], "ProjectTicket");

    api.req(
        Method::DELETE,
        &format!("/service/tickets/{}", ticket["id"]),
    )
    .send()
    .await
    .unwrap();
    let (sig, body) = next_raw(&mut rx).await;
    assert!(verify(&sig, &body).await);
    let deleted: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(deleted["Action"], "deleted");
    assert!(deleted.get("Entity").is_none());
}

#[tokio::test]
async fn a_failing_receiver_is_retried_until_it_answers_2xx() {
    let sim = cwsync_connectwise_sim::Simulator::start(quick_sim_options())
        .await
        .unwrap();
    let api = Api::new(&sim);
    let (url, mut rx) = scripted_receiver(vec![500, 503]).await;
    register(&api, &url, "company").await;
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let first = next_raw(&mut rx).await;
    for _ in 0..2 {
        assert_eq!(
            next_raw(&mut rx).await,
            first,
            "a retry sends the same bytes and signature"
        );
    }
    let log = sim
        .wait_for_callback_deliveries(1, Duration::from_secs(5))
        .await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].attempts, log[0].status), (3, Some(204)));
    assert!(log[0].delivered());

    // A receiver that never takes it: the attempts run out and the failure is logged.
    let (url, mut rx) = scripted_receiver(vec![500; 10]).await;
    register(&api, &url, "contact").await;
    api.send_json(
        Method::POST,
        "/company/contacts",
        &json!({"firstName": "Ann", "company": {"id": 1}}),
    )
    .await;
    let log = sim
        .wait_for_callback_deliveries(2, Duration::from_secs(5))
        .await;
    assert_eq!((log[1].attempts, log[1].status), (3, Some(500)));
    assert!(!log[1].delivered());
    let mut received = 0;
    while tokio::time::timeout(Duration::from_millis(100), rx.recv())
        .await
        .is_ok()
    {
        received += 1;
    }
    assert_eq!(received, 3);
}

#[tokio::test]
async fn lost_and_stormed_callbacks_as_tests_ask() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (url, mut rx) = raw_receiver().await;
    let entry = register(&api, &url, "company").await;

    sim.drop_next_callbacks(1);
    api.send_json(Method::POST, "/company/companies", &company("LOST", "Lost"))
        .await;
    sim.duplicate_next_callbacks(1);
    api.send_json(
        Method::POST,
        "/company/companies",
        &company("STORM", "Storm"),
    )
    .await;
    let one = next_raw(&mut rx).await;
    let two = next_raw(&mut rx).await;
    assert_eq!(
        one, two,
        "a storm delivers the same bytes and signature twice"
    );
    let payload: Value = serde_json::from_slice(&one.1).unwrap();
    assert_eq!(payload["ID"], 2, "the first company's callback was lost");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), rx.recv())
            .await
            .is_err(),
        "nothing else arrives"
    );
    let log = sim
        .wait_for_callback_deliveries(3, Duration::from_secs(5))
        .await;
    assert_eq!(log.len(), 3);
    assert!(log[0].dropped && log[0].attempts == 0 && log[0].payload["ID"] == 1);
    assert!(!log[1].dropped && log[1].delivered() && log[2].delivered());
    assert_eq!(log[1].body.as_bytes(), one.1.as_slice());
    assert_eq!(log[1].signature, one.0);

    // The same knobs over HTTP.
    let control = reqwest::Client::new();
    let resp = control
        .post(format!("{}/__sim/callbacks/drop", sim.base_url()))
        .json(&json!({"count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    api.send_json(Method::POST, "/company/companies", &company("GONE", "Gone"))
        .await;
    let log = sim
        .wait_for_callback_deliveries(4, Duration::from_secs(5))
        .await;
    assert!(log[3].dropped);

    // Forging and replaying: the helper signs like the simulator, a changed body fails.
    let forged = br#"{"Action":"updated","Type":"company","ID":1}"#;
    let signature = sim.sign_callback(entry, forged);
    assert_eq!(
        signature,
        cwsync_connectwise_sim::callback_signature(&sim.callback_signing_key(entry), forged)
    );
    let key: Value = reqwest::get(sim.callback_key_url(entry))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(key["signing_key"], sim.callback_signing_key(entry));
    assert!(verify(&one.0, &one.1).await);
    let mut tampered = one.1.clone();
    let at = tampered.iter().position(|b| *b == b'2').unwrap();
    tampered[at] = b'3';
    assert!(
        !verify(&one.0, &tampered).await,
        "a changed body does not verify"
    );
    let (status, _) = Api::new(&sim).get_json("/system/callbacks").await;
    assert_eq!(status, 200);
}
