//! HTTP control endpoints under `/__sim/…`, so the binary can be driven from outside (other languages'
//! clients, the local runner). They mirror the Rust API of `Simulator`; they are never counted as API calls
//! and need no authentication (the simulator only ever listens on a test machine).
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::knobs::{FaultRule, RateLimit};
use crate::state::SimState;
use crate::validate::{format_datetime, parse_datetime};

type St = State<Arc<SimState>>;

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/reset", post(reset))
        .route("/calls", get(calls))
        .route("/latency", put(set_latency))
        .route("/rate-limit", put(set_rate_limit))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/clock", get(get_clock).put(set_clock))
        .route("/clock/advance", post(advance_clock))
        .route("/seed/{*path}", post(seed))
        .route("/fixture", post(fixture))
        .route("/fixtures/finished-tickets", post(finished_tickets))
        .route("/records/{*path}", get(records))
        .route("/callbacks/deliveries", get(deliveries))
        .route("/callbacks/enabled", put(set_callbacks_enabled))
        .route("/callbacks/signing-key", get(signing_key))
        .route("/callbacks/drop", post(drop_callbacks))
        .route("/callbacks/duplicate", post(duplicate_callbacks))
        .route("/schema-violations", get(violations))
}

fn bad(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"code": "InvalidControlRequest", "message": message})),
    )
        .into_response()
}

async fn reset(State(state): St) -> Response {
    match crate::reset(&state) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad(e.to_string()),
    }
}

async fn calls(State(state): St) -> Response {
    Json(state.lock().calls.clone()).into_response()
}

#[derive(Deserialize)]
struct Millis {
    millis: u64,
}

async fn set_latency(State(state): St, Json(body): Json<Millis>) -> Response {
    state.lock().knobs.latency = Duration::from_millis(body.millis);
    StatusCode::NO_CONTENT.into_response()
}

/// Body: a RateLimit object, or `null` to remove the limit.
async fn set_rate_limit(State(state): St, Json(body): Json<Option<RateLimit>>) -> Response {
    state.lock().knobs.set_rate_limit(body);
    StatusCode::NO_CONTENT.into_response()
}

async fn list_faults(State(state): St) -> Response {
    Json(state.lock().knobs.fault_rules()).into_response()
}

async fn add_fault(State(state): St, Json(rule): Json<FaultRule>) -> Response {
    state.lock().knobs.add_fault(rule);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(state): St) -> Response {
    state.lock().knobs.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_clock(State(state): St) -> Response {
    let inner = state.lock();
    Json(json!({"now": format_datetime(inner.knobs.now()), "fixed": inner.knobs.clock.is_some()}))
        .into_response()
}

#[derive(Deserialize)]
struct ClockBody {
    /// `YYYY-MM-DDTHH:MM:SSZ`, or null for real time.
    now: Option<String>,
}

async fn set_clock(State(state): St, Json(body): Json<ClockBody>) -> Response {
    let fixed = match body.now {
        None => None,
        Some(text) => match parse_datetime(&text) {
            Some(t) => Some(t),
            None => return bad(format!("'{text}' is not a date-time")),
        },
    };
    state.lock().knobs.clock = fixed;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(State(state): St, Json(body): Json<Advance>) -> Response {
    let mut inner = state.lock();
    let now = inner.knobs.now();
    inner.knobs.clock = Some(now + time::Duration::seconds(body.seconds));
    Json(json!({"now": format_datetime(now + time::Duration::seconds(body.seconds))}))
        .into_response()
}

async fn seed(
    State(state): St,
    Path(path): Path<String>,
    Json(records): Json<Vec<Value>>,
) -> Response {
    match crate::seed_path(
        &state,
        &format!("/{}", path.trim_start_matches('/')),
        records,
    ) {
        Ok(ids) => (StatusCode::CREATED, Json(json!({"ids": ids}))).into_response(),
        Err(e) => bad(e.to_string()),
    }
}

async fn fixture(State(state): St, Json(body): Json<Value>) -> Response {
    match crate::load_fixture(&state, &body) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad(e.to_string()),
    }
}

async fn records(State(state): St, Path(path): Path<String>) -> Response {
    Json(crate::records(
        &state,
        &format!("/{}", path.trim_start_matches('/')),
    ))
    .into_response()
}

async fn deliveries(State(state): St) -> Response {
    Json(state.deliveries.all()).into_response()
}

#[derive(Deserialize)]
struct Enabled {
    enabled: bool,
}

async fn set_callbacks_enabled(State(state): St, Json(body): Json<Enabled>) -> Response {
    state.lock().knobs.callbacks_disabled = !body.enabled;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Count {
    count: usize,
}

/// Body `{"count": n}`: the next n callback deliveries are lost.
async fn drop_callbacks(State(state): St, Json(body): Json<Count>) -> Response {
    state.lock().knobs.callbacks_to_drop = body.count;
    StatusCode::NO_CONTENT.into_response()
}

/// Body `{"count": n}`: the next n callback deliveries are each sent twice.
async fn duplicate_callbacks(State(state): St, Json(body): Json<Count>) -> Response {
    state.lock().knobs.callbacks_to_duplicate = body.count;
    StatusCode::NO_CONTENT.into_response()
}

/// The key of the old, single-key `key_url` (payloads now name `/callback-keys/<n>`).
async fn signing_key() -> Response {
    Json(json!({"signing_key": crate::callbacks::SIGNING_KEY})).into_response()
}

/// Body: `{"company", "secondCompany", "agreement"?}` (ids); answers the ids the fixture made.
async fn finished_tickets(
    State(state): St,
    Json(links): Json<crate::TicketFixtureLinks>,
) -> Response {
    match crate::ticket_fixture::seed(&state, &links) {
        Ok(made) => (StatusCode::CREATED, Json(made)).into_response(),
        Err(e) => bad(e.to_string()),
    }
}

async fn violations(State(state): St) -> Response {
    Json(state.lock().violations.clone()).into_response()
}
