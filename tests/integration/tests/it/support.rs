//! Shared helpers: a started simulator, a client configured for it (millisecond retries, a short
//! timeout, no rate limit to speak of), company bodies, and `Front`, a small recording proxy put
//! between the client and the simulator when a test must see what arrived on the wire.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use cwsync_connectwise::models::{Company, Reference};
use cwsync_connectwise::{Client, ClientConfig, Query, RateLimit, RetryPolicy, Site};
use cwsync_connectwise_sim::{
    SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A simulator with the reference data (statuses, types, countries, members…).
pub async fn sim() -> Simulator {
    Simulator::start(SimOptions::default())
        .await
        .expect("the simulator starts")
}

/// A simulator started with `options`.
pub async fn sim_with(options: SimOptions) -> Simulator {
    Simulator::start(options)
        .await
        .expect("the simulator starts")
}

/// Retries in milliseconds, so retry tests take milliseconds too.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(10),
    }
}

/// A rate limit high enough never to slow a functional test.
pub fn unthrottled() -> RateLimit {
    RateLimit {
        per_second: NonZeroU32::new(100_000).unwrap(),
        burst: NonZeroU32::new(100_000).unwrap(),
        max_in_flight: 64,
    }
}

/// A client configuration for the server at `base_url` with the default test member's keys.
pub fn config_at(base_url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        Site::parse(base_url).expect("a loopback URL is a valid site"),
        TEST_COMPANY_ID,
        SecretString::from(TEST_PUBLIC_KEY),
        SecretString::from(TEST_PRIVATE_KEY),
        TEST_CLIENT_ID,
    );
    // Generous next to a loopback round trip, even on a busy 2-core CI machine.
    config.timeout = Duration::from_secs(5);
    config.retry = fast_retry();
    config.rate = unthrottled();
    config
}

/// A client configuration pointed at `sim`.
pub fn config(sim: &Simulator) -> ClientConfig {
    config_at(&sim.base_url())
}

/// A connected client (codebase looked up) for `sim`.
pub async fn client(sim: &Simulator) -> Client {
    connect(config(sim)).await
}

pub async fn connect(config: ClientConfig) -> Client {
    Client::connect(config)
        .await
        .expect("the client connects to the simulator")
}

/// A valid new company (identifier, name, an address field and its primary site's name, as
/// ConnectWise requires).
pub fn new_company(identifier: &str, name: &str) -> Company {
    Company {
        identifier: Some(identifier.to_owned()),
        name: Some(name.to_owned()),
        city: Some("Tampa".to_owned()),
        site: Some(Reference {
            name: Some("Main".to_owned()),
            ..Reference::default()
        }),
        ..Company::default()
    }
}

/// Seeds `n` companies `C00001`… named `Company 00001`… (every tenth in Orlando, the rest in
/// Tampa) straight into the simulator's store; returns their ids.
pub fn seed_companies(sim: &Simulator, n: usize) -> Vec<i64> {
    let records = (1..=n)
        .map(|i| {
            json!({
                "identifier": format!("C{i:05}"),
                "name": format!("Company {i:05}"),
                "city": if i % 10 == 0 { "Orlando" } else { "Tampa" },
                "numberOfEmployees": i % 50,
                "status": {"id": 1},
            })
        })
        .collect();
    sim.seed("/company/companies", records)
        .expect("companies are seeded")
}

/// The simulator's stored record `id` of `collection`.
pub fn stored(sim: &Simulator, collection: &str, id: i64) -> Value {
    sim.records(collection)
        .into_iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{collection} has no record {id}"))
}

/// What [`Front`] saw.
#[derive(Debug, Default)]
pub struct FrontLog {
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    /// Path and query of every request, as received.
    uris: Mutex<Vec<String>>,
}

impl FrontLog {
    /// The most requests that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak_in_flight.load(Ordering::SeqCst)
    }

    /// Path and query of every request forwarded so far.
    pub fn uris(&self) -> Vec<String> {
        self.uris.lock().unwrap().clone()
    }
}

struct FrontState {
    upstream: String,
    http: reqwest::Client,
    log: Arc<FrontLog>,
    null_company_info: bool,
}

/// A recording reverse proxy in front of a simulator, on its own loopback port. It forwards
/// everything unchanged and records request URIs and the peak number of requests in flight; it
/// can also answer the codebase lookup with `null`, as ConnectWise does for an unknown company.
pub struct Front {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub log: Arc<FrontLog>,
}

impl Front {
    pub async fn start(sim: &Simulator, null_company_info: bool) -> Front {
        let log = Arc::new(FrontLog::default());
        let state = Arc::new(FrontState {
            upstream: sim.base_url(),
            http: reqwest::Client::new(),
            log: log.clone(),
            null_company_info,
        });
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Front {
            base_url: format!("http://{addr}"),
            log,
        }
    }
}

/// Decrements the in-flight count however the handler ends.
struct InFlight(Arc<FrontLog>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn forward(State(state): State<Arc<FrontState>>, request: Request) -> Response {
    let now = state.log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.log.peak_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(state.log.clone());
    let uri = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string);
    state.log.uris.lock().unwrap().push(uri.clone());
    if state.null_company_info && uri.starts_with("/login/companyinfo/") {
        return (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            "null",
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut upstream = state
        .http
        .request(parts.method, format!("{}{uri}", state.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !is_hop_header(name) {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !is_hop_header(name) {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response.body(Body::from(bytes)).unwrap()
}

/// Headers that describe one connection, not the message. `host` is forwarded on purpose: the
/// simulator builds its `Link` URLs from it, so they point back at the proxy.
fn is_hop_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "content-length" | "transfer-encoding" | "keep-alive"
    )
}

/// Reads `raw` as `T` and checks that writing it back keeps every key the simulator sent: the
/// model knows every field of the record.
pub fn typed_without_loss<T: DeserializeOwned + Serialize>(raw: &Value, what: &str) -> T {
    let typed: T = serde_json::from_value(raw.clone())
        .unwrap_or_else(|e| panic!("{what} does not read as its model: {e}\n{raw}"));
    let back = serde_json::to_value(&typed).unwrap();
    let lost: Vec<&String> = raw
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| back.get(k.as_str()).is_none())
        .collect();
    assert!(lost.is_empty(), "{what}: the model drops {lost:?}");
    typed
}

/// Every record of a collection, raw, each checked against its model.
pub async fn all_typed<T: DeserializeOwned + Serialize>(client: &Client, path: &str) -> Vec<T> {
    let raw: Vec<Value> = client
        .list_all(path, &Query::new().page_size(1000))
        .await
        .unwrap();
    assert!(!raw.is_empty(), "{path} is seeded");
    raw.iter().map(|r| typed_without_loss(r, path)).collect()
}
