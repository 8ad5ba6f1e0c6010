//! The callback receiver over real HTTP: a tiny key server (axum) serves the signing key at the
//! tenant's "ConnectWise" host, and each test POSTs a Function URL request to the receiver and
//! checks the answer and what reached the sink. Every refusal of the module docs has its test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine;
use cwsync_runtime::clock::ManualClock;
use cwsync_runtime::{Config, Deps, StaticTenantSecrets};
use cwsync_store::TenantId;
use cwsync_ticket_import::callback::{
    CallbackReceiver, MemoryTicketChangeSink, TicketAction, TicketChange, TicketRecordType, sign,
};
use cwsync_ticket_import::callback_keys::SigningKeys;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const KEY: &str = "signing-key-of-acme-7f3e";
const TOKEN: &str = "cb-0123456789abcdefghijKLMN";
/// The moment the tests receive callbacks at.
const NOW: OffsetDateTime = datetime!(2026-12-06 12:00:00 UTC);

/// A key server: `GET /key` answers `{"signing_key": KEY}` (or the status set in `status`).
struct KeyServer {
    base: String,
    requests: Arc<AtomicU64>,
    status: Arc<AtomicU16>,
    key: Arc<Mutex<String>>,
}

impl KeyServer {
    async fn start() -> KeyServer {
        let requests = Arc::new(AtomicU64::new(0));
        let status = Arc::new(AtomicU16::new(200));
        let key = Arc::new(Mutex::new(KEY.to_owned()));
        let (counted, answered, served) =
            (Arc::clone(&requests), Arc::clone(&status), Arc::clone(&key));
        let app = Router::new().route(
            "/key",
            get(move || {
                let (counted, answered) = (Arc::clone(&counted), Arc::clone(&answered));
                let key = served.lock().unwrap().clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let status = StatusCode::from_u16(answered.load(Ordering::SeqCst)).unwrap();
                    (status, axum::Json(json!({ "signing_key": key })))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        KeyServer {
            base,
            requests,
            status,
            key,
        }
    }

    fn key_url(&self) -> String {
        format!("{}/key", self.base)
    }

    fn fetched(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

struct World {
    keys: KeyServer,
    sink: Arc<MemoryTicketChangeSink>,
    receiver: CallbackReceiver,
}

/// Tenant `acme` whose ConnectWise is the key server's host (with a callback secret), tenant
/// `globex` without one; a receiver over in-memory stores and a memory sink.
async fn world() -> World {
    world_with(None).await
}

/// [`world`] with these stores (DynamoDB on moto) instead of memory.
async fn world_with(stores: Option<cwsync_runtime::Stores>) -> World {
    let keys = KeyServer::start().await;
    let secret = |callback_secret: Option<&str>| {
        let mut secret = json!({
            "site": keys.base, "companyId": "acme", "publicKey": "pub-never-shown",
            "privateKey": "priv-never-shown", "clientId": "client-1",
        });
        if let Some(token) = callback_secret {
            secret["callbackSecret"] = token.into();
        }
        secret.to_string()
    };
    let secrets = StaticTenantSecrets::new()
        .with_secret_json("acme", &secret(Some(TOKEN)))
        .unwrap()
        .with_secret_json("globex", &secret(None))
        .unwrap();
    let mut deps = Deps::local("ticket-import", Config::local(), secrets);
    if let Some(stores) = stores {
        deps.stores = stores;
    }
    let sink = Arc::new(MemoryTicketChangeSink::new());
    let receiver = CallbackReceiver::new(Arc::new(deps), sink.clone()).unwrap();
    World {
        keys,
        sink,
        receiver,
    }
}

/// A ticket entity as ConnectWise sends it (as a JSON string in the payload).
fn entity(id: i64, record_type: &str, last_updated: &str) -> String {
    json!({
        "id": id, "summary": "Printer offline", "recordType": record_type,
        "board": {"id": 1, "name": "Service Desk"},
        "_info": {"lastUpdated": last_updated, "updatedBy": "jdoe"}
    })
    .to_string()
}

fn payload(world: &World, action: &str, id: i64, entity: Option<String>) -> Value {
    let mut body = json!({
        "Action": action, "Type": "ticket", "ID": id, "CompanyId": "acme", "MemberId": "jdoe",
        "FromUrl": "cw.example.com", "Metadata": {"key_url": world.keys.key_url()},
    });
    if let Some(entity) = entity {
        body["Entity"] = entity.into();
    }
    body
}

fn updated(world: &World, id: i64) -> Value {
    payload(
        world,
        "updated",
        id,
        Some(entity(id, "ServiceTicket", "2026-12-06T11:58:00Z")),
    )
}

/// A Function URL request POSTing `body` to `path`, with these headers and query parameters.
fn request(
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
    query: &[(&str, &str)],
) -> LambdaFunctionUrlRequest {
    let headers: serde_json::Map<String, Value> = [("content-type", "application/json")]
        .iter()
        .chain(headers)
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    let query: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    serde_json::from_value(json!({
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "queryStringParameters": query,
        "requestContext": {
            "accountId": "anonymous", "apiId": "abc123", "domainName": "abc123.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc123", "requestId": "r-1", "time": "06/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796558400000_i64,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "ConnectWise"}
        },
        "body": body,
        "isBase64Encoded": false
    }))
    .unwrap()
}

/// `body` signed with `key` and POSTed to acme's URL.
fn signed(body: &Value, key: &str) -> LambdaFunctionUrlRequest {
    let text = body.to_string();
    let signature = sign(key, text.as_bytes());
    request(
        "/callbacks/acme",
        &text,
        &[("x-content-signature", &signature)],
        &[],
    )
}

async fn send(world: &World, request: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
    world.receiver.receive_at(request, NOW).await
}

/// The status and the `error` of an answer.
fn answer(response: &LambdaFunctionUrlResponse) -> (i64, String) {
    let error = response
        .body
        .as_deref()
        .map(|body| {
            serde_json::from_str::<Value>(body).unwrap()["error"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .unwrap_or_default();
    (response.status_code, error)
}

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

#[tokio::test]
async fn a_signed_ticket_update_is_accepted_and_handed_over_as_ids_only() {
    let world = world().await;
    let response = send(&world, &signed(&updated(&world, 1234), KEY)).await;
    assert_eq!(answer(&response), (204, String::new()));
    assert_eq!(
        world.sink.changes(),
        vec![TicketChange {
            tenant: acme(),
            ticket_id: 1234,
            record_type: TicketRecordType::Service,
            action: TicketAction::Updated,
        }]
    );
    assert_eq!(world.keys.fetched(), 1);
    // The cached key and the tenants' secrets stay out of the receiver's Debug.
    let shown = format!("{:?}", world.receiver);
    for secret in [KEY, TOKEN, "priv-never-shown"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn a_project_ticket_is_told_apart_by_its_record_type_and_a_base64_body_is_decoded() {
    let world = world().await;
    let body = payload(
        &world,
        "added",
        77,
        Some(entity(77, "ProjectTicket", "2026-12-06T11:59:30Z")),
    )
    .to_string();
    let mut request = request(
        "/callbacks/acme",
        &base64::engine::general_purpose::STANDARD.encode(&body),
        &[("x-content-signature", &sign(KEY, body.as_bytes()))],
        &[],
    );
    request.is_base64_encoded = true;
    assert_eq!(send(&world, &request).await.status_code, 204);
    let change = &world.sink.changes()[0];
    assert_eq!(
        (change.ticket_id, change.record_type, change.action),
        (77, TicketRecordType::Project, TicketAction::Added)
    );
}

#[tokio::test]
async fn a_storm_of_the_same_callback_is_handed_over_once_and_distinct_updates_each_once() {
    let world = world().await;
    let storm = signed(&updated(&world, 1234), KEY);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(answer(&send(&world, &storm).await));
    }
    assert_eq!(statuses[0].0, 204);
    for (status, error) in &statuses[1..] {
        assert_eq!(*status, 409);
        assert!(error.contains("replayed"), "{error}");
    }
    // A later change of the same ticket is a new request.
    let later = payload(
        &world,
        "updated",
        1234,
        Some(entity(1234, "ServiceTicket", "2026-12-06T11:59:00Z")),
    );
    assert_eq!(send(&world, &signed(&later, KEY)).await.status_code, 204);
    assert_eq!(world.sink.changes().len(), 2);
    assert_eq!(world.keys.fetched(), 1, "the key is cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_arriving_at_once_is_handed_over_once_with_the_replay_guard_in_dynamodb() {
    // DynamoDB on moto when it runs (always in CI), else memory: the guard's conditional put
    // decides which of the simultaneous arrivals is the first.
    let world = Arc::new(world_with(Some(cwsync_test_support::stores("callbacks").await)).await);
    let storm = signed(&updated(&world, 1234), KEY);
    // The key is cached first, so every arrival races on the guard alone.
    let other = signed(&updated(&world, 4321), KEY);
    assert_eq!(send(&world, &other).await.status_code, 204);
    let arrivals = (0..8).map(|_| {
        let (world, storm) = (Arc::clone(&world), storm.clone());
        tokio::spawn(async move { send(&world, &storm).await.status_code })
    });
    let mut statuses = Vec::new();
    for arrival in arrivals {
        statuses.push(arrival.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 409, 409, 409, 409, 409, 409, 409]);
    let handed: Vec<i64> = world.sink.changes().iter().map(|c| c.ticket_id).collect();
    assert_eq!(handed, vec![4321, 1234]);
}

#[tokio::test]
async fn a_forged_or_wrongly_keyed_signature_is_refused_and_nothing_is_handed_over() {
    let world = world().await;
    let body = updated(&world, 1234);
    // Signed over another body.
    let mut forged = signed(&updated(&world, 999), KEY);
    forged.body = Some(body.to_string());
    for request in [forged, signed(&body, "another-key"), {
        let mut garbage = signed(&body, KEY);
        garbage
            .headers
            .insert("x-content-signature", "not base64!".parse().unwrap());
        garbage
    }] {
        let (status, error) = answer(&send(&world, &request).await);
        assert_eq!(status, 401);
        assert!(error.contains("forged"), "{error}");
        assert!(!error.contains(KEY), "{error}");
    }
    assert!(world.sink.changes().is_empty());
    assert_eq!(
        world.keys.fetched(),
        1,
        "forgeries fetch the key no more than once"
    );
}

/// Signing keys kept 10 minutes on a clock the test moves.
fn keys_on_a_manual_clock() -> (SigningKeys, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let keys = SigningKeys::new(std::time::Duration::from_secs(5))
        .unwrap()
        .with_ttl(std::time::Duration::from_secs(600), clock.clone());
    (keys, clock)
}

#[tokio::test]
async fn a_rotated_key_is_fetched_again_but_forgeries_cannot_make_it_fetched_often() {
    let world = world().await;
    let (keys, clock) = keys_on_a_manual_clock();
    let receiver = world.receiver.with_keys(keys);
    let send = |id: i64, key: &str| {
        let request = signed(&updated_for(&world.keys, id), key);
        let receiver = &receiver;
        async move { receiver.receive_at(&request, NOW).await.status_code }
    };
    assert_eq!(send(1, KEY).await, 204);
    *world.keys.key.lock().unwrap() = "rotated-key".to_owned();
    // The cached key was fetched just now: not fetched again yet.
    assert_eq!(send(2, "rotated-key").await, 401);
    assert_eq!(world.keys.fetched(), 1);
    clock.advance(std::time::Duration::from_secs(31));
    assert_eq!(
        send(3, "rotated-key").await,
        204,
        "fetched again and verified"
    );
    assert_eq!(world.keys.fetched(), 2);
    for id in 4..8 {
        assert_eq!(send(id, "forger").await, 401);
    }
    assert_eq!(world.keys.fetched(), 2);
    assert_eq!(send(9, "rotated-key").await, 204);
}

#[tokio::test]
async fn a_key_url_on_another_host_is_refused_without_fetching_it() {
    let world = world().await;
    let other = KeyServer::start().await;
    let mut body = updated(&world, 1234);
    body["Metadata"]["key_url"] = other.key_url().into();
    let (status, error) = answer(&send(&world, &signed(&body, KEY)).await);
    assert_eq!(status, 403);
    assert!(error.contains("not at the tenant's ConnectWise"), "{error}");
    assert_eq!((other.fetched(), world.keys.fetched()), (0, 0));
    assert!(world.sink.changes().is_empty());
}

#[tokio::test]
async fn a_replayed_callback_is_refused_later_and_however_its_signature_is_dressed() {
    let world = world().await;
    let request = signed(&updated(&world, 1234), KEY);
    assert_eq!(send(&world, &request).await.status_code, 204);
    let later = world
        .receiver
        .receive_at(&request, NOW + Duration::minutes(10))
        .await;
    assert_eq!(answer(&later).0, 409);
    // The same body with the signature padded, or with the tenant's token instead.
    let signature = request.headers["x-content-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut padded = request.clone();
    padded.headers.insert(
        "x-content-signature",
        format!(" {signature} ").parse().unwrap(),
    );
    let body = request.body.clone().unwrap();
    let with_token = with_token_instead(&body);
    for replay in [padded, with_token] {
        assert_eq!(answer(&send(&world, &replay).await).0, 409);
    }
    assert_eq!(world.sink.changes().len(), 1);
}

/// `body` POSTed to acme's URL with its callback token and no signature.
fn with_token_instead(body: &str) -> LambdaFunctionUrlRequest {
    request("/callbacks/acme", body, &[], &[("token", TOKEN)])
}

#[tokio::test]
async fn a_stale_or_future_callback_is_refused() {
    let world = world().await;
    for (last_updated, problem) in [
        ("2026-12-06T11:44:59Z", "too old"),
        ("2026-12-06T12:05:00Z", "in the future"),
    ] {
        let body = payload(
            &world,
            "updated",
            1234,
            Some(entity(1234, "ServiceTicket", last_updated)),
        );
        let (status, error) = answer(&send(&world, &signed(&body, KEY)).await);
        assert_eq!(status, 422, "{last_updated}");
        assert!(
            error.contains("stale") && error.contains(problem),
            "{error}"
        );
    }
    // Exactly at the window's edge it is still fresh.
    let edge = payload(
        &world,
        "updated",
        1234,
        Some(entity(1234, "ServiceTicket", "2026-12-06T11:45:00Z")),
    );
    assert_eq!(send(&world, &signed(&edge, KEY)).await.status_code, 204);
}

#[tokio::test]
async fn a_deleted_ticket_without_an_entity_is_accepted() {
    let world = world().await;
    for (id, explicit_null) in [(5, false), (6, true)] {
        let mut body = payload(&world, "deleted", id, None);
        if explicit_null {
            body["Entity"] = Value::Null;
        }
        assert_eq!(send(&world, &signed(&body, KEY)).await.status_code, 204);
    }
    let changes = world.sink.changes();
    assert_eq!(changes.len(), 2);
    assert!(
        changes.iter().all(
            |c| c.action == TicketAction::Deleted && c.record_type == TicketRecordType::Unknown
        )
    );
}

#[tokio::test]
async fn malformed_callbacks_are_refused_naming_the_field() {
    let world = world().await;
    let good = updated(&world, 1234);
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases: Vec<(Value, i64, &str)> = vec![
        (without("ID"), 400, "ID is missing"),
        (without("Action"), 400, "Action is missing"),
        (with("ID", json!(-4)), 400, "ID is not a positive"),
        (with("Type", json!("company")), 400, "not a ticket callback"),
        (with("Action", json!("merged")), 400, "Action \"merged\""),
        (
            with("Entity", json!("{not json")),
            400,
            "Entity is not a ticket record",
        ),
        (
            with(
                "Entity",
                entity(999, "ServiceTicket", "2026-12-06T11:58:00Z").into(),
            ),
            400,
            "Entity.id is 999",
        ),
        (
            with(
                "Entity",
                entity(1234, "Opportunity", "2026-12-06T11:58:00Z").into(),
            ),
            400,
            "Entity.recordType",
        ),
        (
            with(
                "Entity",
                json!({"id": 1234, "recordType": "ServiceTicket"})
                    .to_string()
                    .into(),
            ),
            400,
            "Entity._info.lastUpdated is missing",
        ),
        (without("Entity"), 400, "Entity is missing"),
    ];
    for (body, status, reason) in cases {
        let (got, error) = answer(&send(&world, &signed(&body, KEY)).await);
        assert_eq!(got, status, "{body}: {error}");
        assert!(error.contains(reason), "{body}: {error}");
    }
    // Not JSON at all, and JSON that is no object: refused before anything is fetched.
    for text in ["{\"Action\": ", "[1,2]"] {
        let request = request(
            "/callbacks/acme",
            text,
            &[("x-content-signature", &sign(KEY, text.as_bytes()))],
            &[],
        );
        let (status, error) = answer(&send(&world, &request).await);
        assert_eq!(status, 400, "{text}");
        assert!(error.starts_with("body "), "{error}");
    }
    assert!(world.sink.changes().is_empty());
}

#[tokio::test]
async fn wrong_routes_methods_tenants_and_sizes_are_refused() {
    let world = world().await;
    let body = updated(&world, 1234).to_string();
    let signature = sign(KEY, body.as_bytes());
    let headers = [("x-content-signature", signature.as_str())];
    let (status, _) = answer(&send(&world, &request("/other/acme", &body, &headers, &[])).await);
    assert_eq!(status, 404);
    let (status, error) =
        answer(&send(&world, &request("/callbacks/initech", &body, &headers, &[])).await);
    assert_eq!(
        (status, error.as_str()),
        (404, "unknown tenant \"initech\"")
    );
    let (status, _) = answer(&send(&world, &request("/callbacks/..", &body, &headers, &[])).await);
    assert_eq!(status, 404);
    let mut get = request("/callbacks/acme", &body, &headers, &[]);
    get.request_context.http.method = Some("GET".to_owned());
    assert_eq!(answer(&send(&world, &get).await).0, 405);
    let huge = "x".repeat(300 * 1024);
    assert_eq!(
        answer(&send(&world, &request("/callbacks/acme", &huge, &headers, &[])).await).0,
        413
    );
    assert!(world.sink.changes().is_empty());
    assert_eq!(world.keys.fetched(), 0);
}

#[tokio::test]
async fn the_tenants_callback_token_authenticates_an_unsigned_callback_and_a_wrong_one_is_refused()
{
    let world = world().await;
    let body = updated(&world, 1234).to_string();
    let with_token = |token: &str| request("/callbacks/acme", &body, &[], &[("token", token)]);
    assert_eq!(send(&world, &with_token(TOKEN)).await.status_code, 204);
    assert_eq!(world.keys.fetched(), 0, "no key needed");
    // A wrong token is refused even when the request is also rightly signed.
    let mut wrong = with_token("cb-0123456789abcdefghijKLMX");
    wrong.headers.insert(
        "x-content-signature",
        sign(KEY, body.as_bytes()).parse().unwrap(),
    );
    let (status, error) = answer(&send(&world, &wrong).await);
    assert_eq!(status, 401);
    assert!(
        error.contains("token is wrong") && !error.contains("cb-0123"),
        "{error}"
    );
    // globex has no callback secret: no token is right.
    let globex = request("/callbacks/globex", &body, &[], &[("token", TOKEN)]);
    assert_eq!(answer(&send(&world, &globex).await).0, 401);
    // Neither a token nor a signature.
    let (status, error) = answer(&send(&world, &request("/callbacks/acme", &body, &[], &[])).await);
    assert_eq!(status, 401);
    assert!(error.contains("not authenticated"), "{error}");
    assert_eq!(world.sink.changes().len(), 1);
}

#[tokio::test]
async fn a_failing_sink_is_a_503_and_connectwises_retry_is_then_accepted() {
    let world = world().await;
    let request = signed(&updated(&world, 1234), KEY);
    world
        .sink
        .fail_with(Some("the ticket queue is unavailable"));
    let (status, error) = answer(&send(&world, &request).await);
    assert_eq!(status, 503);
    assert!(error.contains("ticket queue"), "{error}");
    world.sink.fail_with(None);
    assert_eq!(
        send(&world, &request).await.status_code,
        204,
        "not a replay"
    );
    assert_eq!(world.sink.changes().len(), 1);
}

#[tokio::test]
async fn an_unavailable_key_server_is_a_503_and_a_refusing_one_a_401() {
    let world = world().await;
    world.keys.status.store(503, Ordering::SeqCst);
    let (status, error) = answer(&send(&world, &signed(&updated(&world, 1), KEY)).await);
    assert_eq!(status, 503);
    assert!(error.contains("unavailable"), "{error}");
    world.keys.status.store(404, Ordering::SeqCst);
    assert_eq!(
        answer(&send(&world, &signed(&updated(&world, 2), KEY)).await).0,
        401
    );
    // Nothing was cached from the failures: once the server answers, the key is fetched.
    world.keys.status.store(200, Ordering::SeqCst);
    assert_eq!(
        send(&world, &signed(&updated(&world, 3), KEY))
            .await
            .status_code,
        204
    );
    assert_eq!(world.keys.fetched(), 3);
}

#[tokio::test]
async fn a_cached_key_is_fetched_again_once_older_than_its_ttl() {
    let world = world().await;
    let (keys, clock) = keys_on_a_manual_clock();
    let receiver = world.receiver.with_keys(keys);
    for id in 1..=2 {
        assert_eq!(
            receiver
                .receive_at(&signed(&updated_for(&world.keys, id), KEY), NOW)
                .await
                .status_code,
            204
        );
    }
    assert_eq!(world.keys.fetched(), 1);
    clock.advance(std::time::Duration::from_secs(601));
    assert_eq!(
        receiver
            .receive_at(&signed(&updated_for(&world.keys, 3), KEY), NOW)
            .await
            .status_code,
        204
    );
    assert_eq!(world.keys.fetched(), 2);
    assert_eq!(receiver.keys().fetches(), 2);
}

fn updated_for(keys: &KeyServer, id: i64) -> Value {
    json!({
        "Action": "updated", "Type": "ticket", "ID": id,
        "Entity": entity(id, "ServiceTicket", "2026-12-06T11:58:00Z"),
        "Metadata": {"key_url": keys.key_url()},
    })
}

#[tokio::test]
async fn a_function_url_payload_is_answered_as_json_and_a_broken_one_refused() {
    let world = world().await;
    // Through the raw-payload entry the router uses (receive uses the wall clock: the entity is
    // dated now).
    let mut body = updated(&world, 1234);
    let now = cwsync_connectwise::models::datetime::format(OffsetDateTime::now_utc()).unwrap();
    body["Entity"] = entity(1234, "ServiceTicket", &now).into();
    let live = signed(&body, KEY);
    let answer = world
        .receiver
        .handle_payload(serde_json::to_value(&live).unwrap())
        .await;
    assert_eq!(answer["statusCode"], 204, "{answer}");
    let broken = world
        .receiver
        .handle_payload(json!({"requestContext": {"http": {}}}))
        .await;
    assert_eq!(broken["statusCode"], 400, "{broken}");
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, from the moment this is first called: a global
/// subscriber (a thread-local one misses events while other tests run in parallel, as callsite
/// interest is cached process-wide), so the secrets check covers every test's logs.
fn logs() -> Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

#[tokio::test]
async fn no_key_token_or_signature_is_ever_logged() {
    let logs = logs();
    let world = world().await;
    let good = signed(&updated(&world, 1234), KEY);
    let signature = good.headers["x-content-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = updated(&world, 55).to_string();
    let requests = [
        good.clone(),
        good,
        signed(&updated(&world, 1234), "forger"),
        request("/callbacks/acme", &body, &[], &[("token", TOKEN)]),
        request(
            "/callbacks/acme",
            &body,
            &[],
            &[("token", "cb-0123456789abcdefghijWRNG")],
        ),
    ];
    for request in &requests {
        send(&world, request).await;
    }
    world.sink.fail_with(Some("queue down"));
    send(&world, &signed(&updated(&world, 77), KEY)).await;
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("callback accepted"), "{logged}");
    assert!(logged.contains("callback refused"), "{logged}");
    for secret in [
        KEY,
        TOKEN,
        "cb-0123456789abcdefghijWRNG",
        signature.as_str(),
    ] {
        assert!(!logged.contains(secret), "{secret} was logged: {logged}");
    }
}
