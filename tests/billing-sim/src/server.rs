//! The HTTP side of the simulator: one handler serves the contract's routes (knobs → auth →
//! route → list, get, patch, batch write-back or service-call write) and answers everything
//! else with the contract's error body.
//!
//! Routes are recognised on the raw (still percent-encoded) path, so an id holding `%2F` stays one
//! segment; ids are decoded afterwards. No input may panic the server: every parse failure is an
//! [`ApiError`]. The state lock is never held across an await.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cwsync_billing::models::{
    Account, AccountUser, Contract, ContractTemplate, Invoice, Item, Order, Page, Payment, Product,
    ProductType, Project, ServiceCall, Subscription, Technician,
};
use cwsync_billing::{Listed, RecordKind as Kind};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::contracts;
use crate::cursor::Cursors;
use crate::error::ApiError;
use crate::knobs::FaultKind;
use crate::orders;
use crate::patch;
use crate::patch::RecordKind;
use crate::service_calls;
use crate::state::{Inner, SimState, Table};

/// `Content-Type` of every response.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json";
/// Records per page when `limit` is absent.
pub(crate) const DEFAULT_LIMIT: u32 = 100;
/// The largest `limit`.
pub(crate) const MAX_LIMIT: u32 = 500;
/// The largest request body accepted.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most items of one batch write-back (the contract's `maxItems`).
const MAX_WRITE_BACK_ITEMS: usize = cwsync_billing::models::MAX_WRITE_BACK_BATCH;

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// The router: everything goes to one handler, which recognises the contract's routes itself.
pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = (status, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    resp
}

/// The contract's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteKind {
    /// `GET /v1/<collection>`.
    List(Kind),
    /// `/v1/<collection>/{id}`.
    Record(Kind),
    Site,
    Contact,
    WriteBacks,
    /// `/v1/service-calls/{id}/hold`.
    ServiceCallHold,
    /// `/v1/service-calls/by-reference/{externalReference}`.
    ServiceCallByReference,
    /// `/v1/orders/by-reference/{externalReference}`.
    OrderByReference,
    /// `/v1/contracts/by-reference/{externalReference}`.
    ContractByReference,
}

impl RouteKind {
    fn template(self) -> &'static str {
        match self {
            RouteKind::List(kind) => kind.list_route(),
            RouteKind::Record(kind) => kind.record_route(),
            RouteKind::Site => "/v1/accounts/{accountId}/sites/{siteId}",
            RouteKind::Contact => "/v1/accounts/{accountId}/contacts/{contactId}",
            RouteKind::WriteBacks => "/v1/write-backs",
            RouteKind::ServiceCallHold => "/v1/service-calls/{id}/hold",
            RouteKind::ServiceCallByReference => {
                "/v1/service-calls/by-reference/{externalReference}"
            }
            RouteKind::OrderByReference => "/v1/orders/by-reference/{externalReference}",
            RouteKind::ContractByReference => "/v1/contracts/by-reference/{externalReference}",
        }
    }

    fn allowed(self) -> &'static str {
        match self {
            RouteKind::Record(Kind::Account) => "GET, PATCH",
            RouteKind::List(Kind::ServiceCall | Kind::Order | Kind::Contract) => "GET, POST",
            RouteKind::Record(Kind::ServiceCall | Kind::Contract) => "GET, PUT",
            RouteKind::List(_)
            | RouteKind::Record(_)
            | RouteKind::ServiceCallByReference
            | RouteKind::OrderByReference
            | RouteKind::ContractByReference => "GET",
            RouteKind::Site | RouteKind::Contact => "PATCH",
            RouteKind::WriteBacks | RouteKind::ServiceCallHold => "POST",
        }
    }
}

/// A recognised route with its id segments, still percent-encoded.
#[derive(Debug)]
struct Route {
    kind: RouteKind,
    raw_ids: Vec<String>,
}

impl Route {
    fn recognise(path: &str) -> Option<Route> {
        if path == "/v1/write-backs" {
            return Some(Route {
                kind: RouteKind::WriteBacks,
                raw_ids: Vec::new(),
            });
        }
        let (kind, rest) = Kind::ALL
            .into_iter()
            .find_map(|kind| Some((kind, path.strip_prefix(kind.list_route())?)))?;
        if rest.is_empty() {
            return Some(Route {
                kind: RouteKind::List(kind),
                raw_ids: Vec::new(),
            });
        }
        let segments: Vec<&str> = rest.strip_prefix('/')?.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        let (route, ids) = match (kind, segments.as_slice()) {
            (_, [id]) => (RouteKind::Record(kind), vec![*id]),
            (Kind::Account, [account, "sites", site]) => (RouteKind::Site, vec![*account, *site]),
            (Kind::Account, [account, "contacts", contact]) => {
                (RouteKind::Contact, vec![*account, *contact])
            }
            (Kind::ServiceCall, ["by-reference", reference]) => {
                (RouteKind::ServiceCallByReference, vec![*reference])
            }
            (Kind::ServiceCall, [id, "hold"]) => (RouteKind::ServiceCallHold, vec![*id]),
            (Kind::Order, ["by-reference", reference]) => {
                (RouteKind::OrderByReference, vec![*reference])
            }
            (Kind::Contract, ["by-reference", reference]) => {
                (RouteKind::ContractByReference, vec![*reference])
            }
            _ => return None,
        };
        Some(Route {
            kind: route,
            raw_ids: ids.into_iter().map(str::to_owned).collect(),
        })
    }

    /// The ids, percent-decoded.
    fn ids(&self) -> Result<Vec<String>, ApiError> {
        self.raw_ids
            .iter()
            .map(|raw| {
                percent_decode_str(raw)
                    .decode_utf8()
                    .map(|id| id.into_owned())
                    .map_err(|_| {
                        ApiError::invalid("path", "an id is not UTF-8 once percent-decoded")
                    })
            })
            .collect()
    }
}

/// Knobs first (latency, counters, rate limit, faults), then the call itself.
async fn handle(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path().to_owned();
    let target_len = parts
        .uri
        .path_and_query()
        .map_or(path.len(), |pq| pq.as_str().len());
    let single_only = state.lock().knobs.single_write_backs_only;
    // A server that serves only the single-record write-backs has no such route.
    let route =
        Route::recognise(&path).filter(|r| !(single_only && r.kind == RouteKind::WriteBacks));
    let template = route.as_ref().map_or("<unmatched>", |r| r.kind.template());
    let latency = state.lock().knobs.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (limited, fault) = {
        let mut inner = state.lock();
        inner.calls.record(&method, template, target_len);
        match inner.knobs.check_rate_limit(Instant::now()) {
            Some(secs) => (Some(secs), None),
            None => (None, inner.knobs.take_fault(&method, template, &path)),
        }
    };
    if let Some(secs) = limited {
        return ApiError::rate_limited(secs).into_response();
    }
    let mut after = None;
    if let Some(rule) = fault {
        if rule.after_processing || rule.kind == FaultKind::MalformedJson {
            after = Some(rule.kind);
        } else if let FaultKind::Delay(delay) = rule.kind {
            tokio::time::sleep(delay).await;
        } else if rule.kind == FaultKind::Freeze {
            return freeze(&state).await;
        } else {
            return fault_response(&rule.kind);
        }
    }
    let resp = match serve(&state, &parts, body, &method, route).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    match after {
        None => resp,
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            resp
        }
        Some(FaultKind::MalformedJson) => malformed(resp).await,
        Some(FaultKind::Freeze) => freeze(&state).await,
        Some(kind) => fault_response(&kind),
    }
}

/// Holds a request without answering (for as long as a test could wait on it), telling the
/// test it froze.
async fn freeze(state: &SimState) -> Response {
    let frozen = state.lock().knobs.frozen.clone();
    frozen.notify_one();
    tokio::time::sleep(FREEZE).await;
    ApiError::status(504).into_response()
}

/// How long a frozen request is held: far beyond any client timeout a test sets.
const FREEZE: Duration = Duration::from_secs(600);

fn fault_response(kind: &FaultKind) -> Response {
    match kind {
        FaultKind::Status(code) => ApiError::status(*code).into_response(),
        FaultKind::Throttle { retry_after_secs } => {
            ApiError::rate_limited(*retry_after_secs).into_response()
        }
        FaultKind::Drop => {
            let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            resp.extensions_mut().insert(DropConnection);
            resp
        }
        // Handled where they apply; never answered on their own.
        FaultKind::Delay(_) | FaultKind::MalformedJson | FaultKind::Freeze => {
            ApiError::status(500).into_response()
        }
    }
}

/// The same response with the first half of its body only.
async fn malformed(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

async fn serve(
    state: &SimState,
    parts: &Parts,
    body: Body,
    method: &str,
    route: Option<Route>,
) -> Result<Response, ApiError> {
    authenticate(state, &parts.headers)?;
    let Some(route) = route else {
        return Err(ApiError::not_found(format!(
            "no such route: {}",
            parts.uri.path()
        )));
    };
    let ids = route.ids()?;
    match (route.kind, method, ids.as_slice()) {
        (RouteKind::List(kind), "GET", _) => match kind {
            Kind::Account => list::<Account>(state, parts.uri.query()),
            Kind::Product => list::<Product>(state, parts.uri.query()),
            Kind::Subscription => list::<Subscription>(state, parts.uri.query()),
            Kind::User => list::<AccountUser>(state, parts.uri.query()),
            Kind::Technician => list::<Technician>(state, parts.uri.query()),
            Kind::Contract => list::<Contract>(state, parts.uri.query()),
            Kind::Item => list::<Item>(state, parts.uri.query()),
            Kind::ProductType => list::<ProductType>(state, parts.uri.query()),
            Kind::ServiceCall => list::<ServiceCall>(state, parts.uri.query()),
            Kind::Invoice => list::<Invoice>(state, parts.uri.query()),
            Kind::Payment => list::<Payment>(state, parts.uri.query()),
            Kind::Order => list::<Order>(state, parts.uri.query()),
            Kind::Project => list::<Project>(state, parts.uri.query()),
            Kind::ContractTemplate => list::<ContractTemplate>(state, parts.uri.query()),
        },
        (RouteKind::Record(kind), "GET", [id]) => match kind {
            Kind::Account => get::<Account>(state, id),
            Kind::Product => get::<Product>(state, id),
            Kind::Subscription => get::<Subscription>(state, id),
            Kind::User => get::<AccountUser>(state, id),
            Kind::Technician => get::<Technician>(state, id),
            Kind::Contract => {
                let inner = state.lock();
                let contract = inner
                    .contracts
                    .get(id)
                    .ok_or_else(|| not_found(Kind::Contract, id))?;
                Ok(with_etag(
                    json_response(StatusCode::OK, &inner.served(contract)),
                    contract.version,
                ))
            }
            Kind::Item => get::<Item>(state, id),
            Kind::ProductType => get::<ProductType>(state, id),
            Kind::Invoice => get::<Invoice>(state, id),
            Kind::Payment => get::<Payment>(state, id),
            Kind::Order => get::<Order>(state, id),
            Kind::Project => get::<Project>(state, id),
            Kind::ContractTemplate => get::<ContractTemplate>(state, id),
            Kind::ServiceCall => {
                let inner = state.lock();
                let call = inner
                    .service_calls
                    .get(id)
                    .ok_or_else(|| not_found(Kind::ServiceCall, id))?;
                Ok(with_etag(
                    json_response(StatusCode::OK, &inner.served(call)),
                    call.version,
                ))
            }
        },
        (RouteKind::ServiceCallByReference, "GET", [reference]) => {
            let inner = state.lock();
            let call = service_calls::by_reference(&inner, reference)
                .ok_or_else(|| ApiError::not_found(format!("no service call of {reference}")))?;
            Ok(with_etag(
                json_response(StatusCode::OK, &inner.served(call)),
                call.version,
            ))
        }
        (RouteKind::ContractByReference, "GET", [reference]) => {
            let inner = state.lock();
            let contract = contracts::by_reference(&inner, reference)
                .ok_or_else(|| ApiError::not_found(format!("no contract of {reference}")))?;
            Ok(with_etag(
                json_response(StatusCode::OK, &inner.served(contract)),
                contract.version,
            ))
        }
        (RouteKind::List(Kind::Contract), "POST", _) => {
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let contract = contracts::create(&mut inner, &body)?;
            Ok(with_etag(
                json_response(StatusCode::CREATED, &to_value(&contract)?),
                contract.version,
            ))
        }
        (RouteKind::Record(Kind::Contract), "PUT", [id]) => {
            let if_match = if_match(&parts.headers);
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let contract = contracts::update(&mut inner, id, if_match.as_deref(), &body)?;
            Ok(with_etag(
                json_response(StatusCode::OK, &to_value(&contract)?),
                contract.version,
            ))
        }
        (RouteKind::OrderByReference, "GET", [reference]) => {
            let inner = state.lock();
            let order = orders::by_reference(&inner, reference)
                .ok_or_else(|| ApiError::not_found(format!("no order of {reference}")))?;
            Ok(json_response(StatusCode::OK, &inner.served(order)))
        }
        (RouteKind::List(Kind::Order), "POST", _) => {
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let order = orders::create(&mut inner, &body)?;
            Ok(json_response(StatusCode::CREATED, &to_value(&order)?))
        }
        (RouteKind::List(Kind::ServiceCall), "POST", _) => {
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let call = service_calls::create(&mut inner, &body)?;
            Ok(with_etag(
                json_response(StatusCode::CREATED, &to_value(&call)?),
                call.version,
            ))
        }
        (RouteKind::Record(Kind::ServiceCall), "PUT", [id]) => {
            let if_match = if_match(&parts.headers);
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let call = service_calls::update(&mut inner, id, if_match.as_deref(), &body)?;
            Ok(with_etag(
                json_response(StatusCode::OK, &to_value(&call)?),
                call.version,
            ))
        }
        (RouteKind::ServiceCallHold, "POST", [id]) => {
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let call = service_calls::hold(&mut inner, id, &body)?;
            Ok(with_etag(
                json_response(StatusCode::OK, &to_value(&call)?),
                call.version,
            ))
        }
        (RouteKind::Record(Kind::Account), "PATCH", [id]) => {
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let record = apply_to_account(&mut inner, id, || patch::account_patch(&body))?;
            Ok(json_response(StatusCode::OK, &record))
        }
        (RouteKind::Site, "PATCH", [account_id, site_id]) => {
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let record = apply_to_child(&mut inner, RecordKind::Site, account_id, site_id, || {
                patch::site_patch(&body)
            })?;
            Ok(json_response(StatusCode::OK, &record))
        }
        (RouteKind::Contact, "PATCH", [account_id, contact_id]) => {
            let body = read_json_body(&parts.headers, body).await?;
            let mut inner = state.lock();
            inner.calls.records_written += 1;
            let record = apply_to_child(
                &mut inner,
                RecordKind::Contact,
                account_id,
                contact_id,
                || patch::contact_patch(&body),
            )?;
            Ok(json_response(StatusCode::OK, &record))
        }
        (RouteKind::WriteBacks, "POST", _) => {
            let body = read_json_body(&parts.headers, body).await?;
            write_backs(state, &body)
        }
        (kind, _, _) => Err(ApiError {
            allow: Some(kind.allowed()),
            ..ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "InvalidRequest",
                format!("{method} is not allowed on {}", kind.template()),
            )
        }),
    }
}

/// The `If-Match` header's value, when sent (a value that is not text reads as empty).
fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
}

/// The items of a batch write-back, applied one by one in order; each item's refusal is its
/// own result (the status its single-record PATCH would have answered), never the batch's.
fn write_backs(state: &SimState, body: &[u8]) -> Result<Response, ApiError> {
    let envelope: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid("items", format!("the body is not JSON: {e}")))?;
    let Value::Object(envelope) = envelope else {
        return Err(ApiError::invalid(
            "items",
            "the body must be a JSON object {\"items\": [...]}",
        ));
    };
    if let Some(other) = envelope.keys().find(|k| *k != "items") {
        return Err(ApiError::invalid(
            other,
            "unknown field; the body has only items",
        ));
    }
    let items = match envelope.get("items") {
        Some(Value::Array(items)) => items,
        _ => {
            return Err(ApiError::invalid(
                "items",
                "must be an array of write-backs",
            ));
        }
    };
    if items.is_empty() || items.len() > MAX_WRITE_BACK_ITEMS {
        return Err(ApiError::invalid(
            "items",
            format!(
                "must hold 1 to {MAX_WRITE_BACK_ITEMS} items per call, not {}",
                items.len()
            ),
        ));
    }
    let mut inner = state.lock();
    inner.calls.records_written += items.len() as u64;
    let results: Vec<Value> = items
        .iter()
        .map(|item| {
            let applied = patch::write_back_item(item).and_then(|item| match item.kind {
                RecordKind::Account => apply_to_account(&mut inner, &item.id, || Ok(item.patch)),
                kind => apply_to_child(&mut inner, kind, &item.account_id, &item.id, || {
                    Ok(item.patch)
                }),
            });
            match applied {
                Ok(record) => serde_json::json!({ "status": 200, "record": record }),
                Err(refused) => serde_json::json!({
                    "status": refused.status.as_u16(),
                    "error": refused.body()["error"],
                }),
            }
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "results": results }),
    ))
}

/// Applies an account's patch (the account is looked up first, so an unknown account is a 404
/// whatever its body) and stamps it when something changed; returns the whole account.
fn apply_to_account(
    inner: &mut Inner,
    id: &str,
    patch: impl FnOnce() -> Result<patch::Patch, ApiError>,
) -> Result<Value, ApiError> {
    let now = inner.knobs.now();
    let account = inner
        .accounts
        .get_mut(id)
        .ok_or_else(|| account_not_found(id))?;
    if patch()?.apply_to_account(account) {
        account.updated_at = now;
    }
    to_value(&*account)
}

/// Applies a site's or contact's patch: found in its account (404 first), the patch applied,
/// the account stamped when something changed; returns the whole site or contact.
fn apply_to_child(
    inner: &mut Inner,
    kind: RecordKind,
    account_id: &str,
    child_id: &str,
    patch: impl FnOnce() -> Result<patch::Patch, ApiError>,
) -> Result<Value, ApiError> {
    let now = inner.knobs.now();
    let account = inner
        .accounts
        .get_mut(account_id)
        .ok_or_else(|| account_not_found(account_id))?;
    let missing = |what: &str| {
        ApiError::not_found(format!(
            "{what} {child_id} of account {account_id} not found"
        ))
    };
    let (changed, record) = match kind {
        RecordKind::Site => {
            let site = account
                .sites
                .iter_mut()
                .find(|s| s.id == child_id)
                .ok_or_else(|| missing("site"))?;
            let changed = patch()?.apply_to_site(site);
            (changed, to_value(&*site)?)
        }
        RecordKind::Contact | RecordKind::Account => {
            let contact = account
                .contacts
                .iter_mut()
                .find(|c| c.id == child_id)
                .ok_or_else(|| missing("contact"))?;
            let changed = patch()?.apply_to_contact(contact);
            (changed, to_value(&*contact)?)
        }
    };
    if changed {
        account.updated_at = now;
    }
    Ok(record)
}

/// The call's version as its `ETag` (`"3"`).
fn with_etag(mut resp: Response, version: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        resp.headers_mut().insert(header::ETAG, value);
    }
    resp
}

fn account_not_found(id: &str) -> ApiError {
    not_found(Kind::Account, id)
}

fn not_found(kind: Kind, id: &str) -> ApiError {
    ApiError::not_found(format!("{kind} {id} not found"))
}

/// `GET /v1/<collection>/{id}`: the record as served.
fn get<T: Table>(state: &SimState, id: &str) -> Result<Response, ApiError> {
    let inner = state.lock();
    let record = T::rows(&inner)
        .get(id)
        .ok_or_else(|| not_found(T::KIND, id))?;
    ok(&inner.served(record))
}

fn ok<T: Serialize>(record: &T) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &to_value(record)?))
}

fn to_value<T: Serialize>(record: &T) -> Result<Value, ApiError> {
    serde_json::to_value(record).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            format!("the record cannot be serialized: {e}"),
        )
    })
}

/// `Authorization: Bearer <key>` with the simulator's key.
fn authenticate(state: &SimState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "an Authorization: Bearer <API key> header is required",
        ));
    };
    let value = value.to_str().unwrap_or_default().trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "only Bearer authentication is accepted",
        ));
    }
    if token.trim() != state.options.api_key {
        return Err(ApiError::unauthorized("the API key is not valid"));
    }
    Ok(())
}

/// The body of a PATCH or batch write-back: JSON (`application/merge-patch+json` or `application/json`), at most
/// 1 MiB.
async fn read_json_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let mime = content_type
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "InvalidRequest",
                format!(
                    "the body must be application/merge-patch+json or application/json, not {mime}"
                ),
            ));
        }
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "InvalidRequest",
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })
}

/// The parameters of a listing (`GET /v1/accounts`, `/v1/products`, `/v1/subscriptions`,
/// `/v1/users`).
#[derive(Debug, Default)]
struct ListParams {
    updated_since: Option<OffsetDateTime>,
    ids: Option<HashSet<String>>,
    account_ids: Option<HashSet<String>>,
    /// `invoiceIds` (payments only).
    invoice_ids: Option<HashSet<String>>,
    /// `flaggedForConnectWise=true`.
    flagged: bool,
    after: Option<(OffsetDateTime, String)>,
    limit: Option<u32>,
}

impl ListParams {
    fn parse(kind: Kind, query: Option<&str>, cursors: &Cursors) -> Result<ListParams, ApiError> {
        let allowed = kind.list_parameters();
        let mut params = ListParams::default();
        let mut seen = HashSet::new();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let name = name.as_ref();
            if !allowed.contains(&name) {
                return Err(ApiError::invalid(
                    name,
                    format!(
                        "unknown parameter; GET {} takes {}",
                        kind.list_route(),
                        in_words(allowed)
                    ),
                ));
            }
            if !seen.insert(name.to_owned()) {
                return Err(ApiError::invalid(name, "is given more than once"));
            }
            match name {
                "updatedSince" => {
                    let at = OffsetDateTime::parse(&value, &Rfc3339).map_err(|_| {
                        ApiError::invalid(
                            name,
                            format!(
                                "must be an RFC 3339 date-time such as 2026-11-01T00:00:00Z, not {value:?}"
                            ),
                        )
                    })?;
                    params.updated_since = Some(at);
                }
                "ids" => params.ids = Some(id_list(name, kind, &value)?),
                "accountIds" => params.account_ids = Some(id_list(name, Kind::Account, &value)?),
                "invoiceIds" => params.invoice_ids = Some(id_list(name, Kind::Invoice, &value)?),
                "flaggedForConnectWise" => {
                    params.flagged = match value.as_ref() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(ApiError::invalid(
                                name,
                                format!("must be true or false, not {value:?}"),
                            ));
                        }
                    }
                }
                "cursor" => {
                    let key = cursors.decode(&value).ok_or_else(|| {
                        ApiError::invalid(
                            name,
                            "is not a cursor this server issued; pass nextCursor unchanged",
                        )
                    })?;
                    params.after = Some(key);
                }
                _ => {
                    let limit = value
                        .trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            ApiError::invalid(
                                name,
                                format!(
                                    "must be a whole number from 1 to {MAX_LIMIT}, not {value:?}"
                                ),
                            )
                        })?;
                    params.limit = Some(limit);
                }
            }
        }
        Ok(params)
    }

    fn matches<T: Listed>(&self, record: &T) -> bool {
        let id = record.id();
        let updated_at = record.updated_at();
        self.updated_since.is_none_or(|t| updated_at >= t)
            && (!self.flagged || record.awaits_connect_wise_ticket())
            && self.invoice_ids.as_ref().is_none_or(|invoices| {
                record
                    .invoice_id()
                    .is_some_and(|invoice| invoices.contains(invoice))
            })
            && self.ids.as_ref().is_none_or(|ids| ids.contains(id))
            && self.account_ids.as_ref().is_none_or(|accounts| {
                record
                    .account_id()
                    .is_some_and(|account| accounts.contains(account))
            })
            && self
                .after
                .as_ref()
                .is_none_or(|(t, after)| (updated_at, id) > (*t, after.as_str()))
    }
}

/// `ids` or `accountIds`: ids of `kind` separated by commas, none empty.
fn id_list(name: &str, kind: Kind, value: &str) -> Result<HashSet<String>, ApiError> {
    let ids: HashSet<String> = value.split(',').map(str::to_owned).collect();
    if ids.iter().any(String::is_empty) {
        return Err(ApiError::invalid(
            name,
            format!("must be {kind} ids separated by commas, none of them empty"),
        ));
    }
    Ok(ids)
}

/// `a, b and c`.
fn in_words(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// One page in `(updatedAt, id)` order, starting after the cursor's key.
fn list<T: Table>(state: &SimState, query: Option<&str>) -> Result<Response, ApiError> {
    let mut inner = state.lock();
    let params = ListParams::parse(T::KIND, query, &inner.cursors)?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT) as usize;
    let mut rows: Vec<&T> = T::rows(&inner)
        .values()
        .filter(|r| params.matches(*r))
        .collect();
    rows.sort_unstable_by(|a, b| (a.updated_at(), a.id()).cmp(&(b.updated_at(), b.id())));
    let more = rows.len() > limit;
    rows.truncate(limit);
    let last = rows.last().map(|r| (r.updated_at(), r.id().to_owned()));
    let items: Vec<serde_json::Value> = rows.into_iter().map(|r| inner.served(r)).collect();
    let next_cursor = match last {
        Some((at, id)) if more => Some(inner.cursors.encode(at, &id)),
        _ => None,
    };
    ok(&Page { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_recognised_on_raw_segments() {
        let r = Route::recognise("/v1/accounts/a%2Fb/sites/S%201").unwrap();
        assert_eq!(r.kind, RouteKind::Site);
        assert_eq!(r.ids().unwrap(), ["a/b", "S 1"]);
        assert_eq!(
            Route::recognise("/v1/accounts").unwrap().kind,
            RouteKind::List(Kind::Account)
        );
        let r = Route::recognise("/v1/subscriptions/SUB%2F1").unwrap();
        assert_eq!(r.kind, RouteKind::Record(Kind::Subscription));
        assert_eq!(r.ids().unwrap(), ["SUB/1"]);
        assert_eq!(
            Route::recognise("/v1/users").unwrap().kind,
            RouteKind::List(Kind::User)
        );
        for unknown in [
            "/v1/accounts/",
            "/v1/accounts/A/x/B",
            "/v2/accounts",
            "/v1/accountsX",
            "/v1/accounts//sites/S",
            "/v1/products/P-1/sites/S",
            "/v1/productsX",
            "/v1/subscriptions/",
        ] {
            assert!(Route::recognise(unknown).is_none(), "{unknown}");
        }
    }

    #[test]
    fn list_parameters_out_of_bounds_are_refused() {
        for query in [
            "limit=0",
            "limit=501",
            "limit=ten",
            "updatedSince=yesterday",
            "ids=A,,B",
            "cursor=zzz",
            "page=2",
            "limit=5&limit=6",
        ] {
            let e = ListParams::parse(Kind::Account, Some(query), &Cursors::default()).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(e.fields.len(), 1, "{query}");
        }
        let p = ListParams::parse(
            Kind::Account,
            Some("limit=500&ids=A%2C1,B+2"),
            &Cursors::default(),
        )
        .unwrap();
        assert_eq!(p.limit, Some(500));
        assert_eq!(p.ids.unwrap().len(), 3, "a %2C splits like a comma");
        // Only the records of accounts take accountIds.
        for kind in [Kind::Account, Kind::Product] {
            let e =
                ListParams::parse(kind, Some("accountIds=A-1"), &Cursors::default()).unwrap_err();
            assert_eq!(e.fields[0].field, "accountIds", "{kind}");
        }
        for kind in [Kind::Subscription, Kind::User] {
            let p = ListParams::parse(
                kind,
                Some("accountIds=A-1,A-2&ids=S-1"),
                &Cursors::default(),
            )
            .unwrap();
            assert_eq!(p.account_ids.unwrap().len(), 2, "{kind}");
            let e =
                ListParams::parse(kind, Some("accountIds=A-1,"), &Cursors::default()).unwrap_err();
            assert_eq!(e.fields[0].field, "accountIds", "{kind}");
        }
    }
}
