//! The HTTP side of the simulator: one generic handler serves every endpoint of the facts file under
//! `/{codebase}apis/3.0/…` (knobs → auth → permissions → list/get/create/replace/patch/delete), plus the
//! unauthenticated `/login/companyinfo/{company}`. Every JSON body sent for a facts endpoint is checked
//! against the endpoint's response schema; a mismatch becomes a 500 `SimulatorSchemaViolation`.
//! No input may panic the server: every parse failure is an `ApiError`.
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::facts::{Endpoint, RouteMatch};
use crate::knobs::{FaultKind, FaultRule};
use crate::query;
use crate::resources;
use crate::state::{SchemaViolation, SimState};
use crate::writes::{
    Actor, FORECASTS, Target, WriteMode, callback_jobs, delete_locked, forecast_item, not_found,
    write_locked,
};
use crate::{ApiMember, documents};

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Version reported in `api-current-version` and `/system/info`.
pub const API_VERSION: &str = "2026.4";
const DEFAULT_PAGE_SIZE: usize = 25;
const MAX_PAGE_SIZE: usize = 1000;

/// The scheme a request arrived on (`http` or `https`), for absolute URLs in `Link` headers.
#[derive(Debug, Clone, Copy)]
pub struct RequestScheme(pub &'static str);

/// Marks a response that must not be sent: the connection is closed instead (fault `Drop`).
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/login/companyinfo/{company}", get(company_info))
        .route("/callback-keys/{id}", get(callback_key))
        .nest("/__sim", crate::control::router())
        .fallback(api)
        .with_state(state)
}

async fn company_info(State(state): State<Arc<SimState>>, Path(company): Path<String>) -> Response {
    state
        .lock()
        .calls
        .by_endpoint
        .entry("GET /login/companyinfo/{company}".into())
        .and_modify(|n| *n += 1)
        .or_insert(1);
    let known = state
        .options
        .members
        .iter()
        .find(|m| m.company_id.eq_ignore_ascii_case(&company));
    let body = match known {
        None => Value::Null,
        Some(m) => {
            let code = state
                .options
                .codebase
                .trim_end_matches('/')
                .replace('_', ".");
            json!({
                "CompanyName": state.options.company_name,
                "Codebase": state.options.codebase,
                "VersionCode": code,
                "VersionNumber": "v4.6.90112",
                "CompanyID": m.company_id,
                "IsCloud": true,
            })
        }
    };
    let mut resp = json_response(StatusCode::OK, &body);
    add_common_headers(&state, &mut resp);
    resp
}

/// A callback's `Metadata.key_url`: the signing key of callback entry `id`, unauthenticated (a
/// verifier fetches it with nothing but the URL). Not counted as an API call.
async fn callback_key(Path(id): Path<String>) -> Response {
    match id.parse::<i64>() {
        Ok(id) if id > 0 => json_response(
            StatusCode::OK,
            &json!({"signing_key": crate::callbacks::signing_key(id)}),
        ),
        _ => ApiError::not_found(format!("Callback key {id} not found")).into_response(),
    }
}

/// Everything under the API prefix (and anything else not routed: 404).
async fn api(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let mut resp = handle(&state, req).await;
    add_common_headers(&state, &mut resp);
    resp
}

fn add_common_headers(state: &SimState, resp: &mut Response) {
    let seq = {
        let mut inner = state.lock();
        inner.request_seq += 1;
        inner.request_seq
    };
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("00000000-0000-4000-8000-{seq:012x}")) {
        headers.insert("x-cw-request-id", v);
    }
    headers.insert("api-current-version", HeaderValue::from_static(API_VERSION));
    headers.insert(
        "x-server-name",
        HeaderValue::from_static("cwsync-connectwise-sim"),
    );
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = (status, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    resp
}

/// The part of the path after `/{codebase}apis/3.0`, when the codebase is accepted.
fn strip_api_prefix<'a>(state: &SimState, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix('/')?;
    let (codebase, rest) = rest.split_once('/')?;
    let codebase = format!("{codebase}/");
    let accepted = codebase.eq_ignore_ascii_case(&state.options.codebase)
        || codebase.eq_ignore_ascii_case("v4_6_release/");
    if !accepted {
        return None;
    }
    let rest = rest.strip_prefix("apis/3.0")?;
    if rest.is_empty() || rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

/// Everything the handlers need about one call.
struct Call<'a> {
    state: &'a SimState,
    method: String,
    route: RouteMatch<'a>,
    endpoint: &'a Endpoint,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Vec<(String, String)>,
    member: &'a ApiMember,
    body: Bytes,
    /// `http` or `https`, as the connection was made.
    scheme: &'static str,
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        self.query
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase() == lower)
            .map(|(_, v)| v.clone())
    }
}

async fn handle(state: &Arc<SimState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path().to_string();
    let Some(rest) = strip_api_prefix(state, &path) else {
        return ApiError::not_found(format!("The requested URL {path} was not found"))
            .into_response();
    };
    let latency = state.lock().knobs.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(route) = state.facts.match_path(rest) else {
        state.lock().calls.record(&method, "<unmatched>");
        return ApiError::not_found(format!("The requested URL {path} was not found"))
            .into_response();
    };
    let template = route.route.template.clone();
    state.lock().calls.record(&method, &template);
    let Some(endpoint) = route.route.endpoint(&method) else {
        let mut resp = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}'."),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&route.route.methods().join(", ")) {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        return resp;
    };
    let retry = state.lock().knobs.check_rate_limit(Instant::now());
    if let Some(secs) = retry {
        state.lock().calls.throttled += 1;
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!("Rate limit exceeded. Retry after {secs} seconds."),
        );
        e.retry_after = Some(secs);
        return e.into_response();
    }
    let fault = state.lock().knobs.take_fault(&method, &template, rest);
    let mut after: Option<FaultRule> = None;
    if let Some(rule) = fault {
        if rule.after_processing {
            after = Some(rule);
        } else if let FaultKind::Hang { millis } = rule.kind {
            tokio::time::sleep(Duration::from_millis(millis)).await;
        } else if rule.kind == FaultKind::Freeze {
            return freeze(state).await;
        } else {
            return fault_response(&rule.kind);
        }
    }
    let member = match authenticate(state, &parts.headers) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let denied = member.denied.iter().any(|(m, t)| {
        m.as_str().eq_ignore_ascii_case(&method)
            && crate::facts::normalize_template(t).eq_ignore_ascii_case(&template)
    });
    if denied {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("You do not have access to {method} {template}"),
        )
        .into_response();
    }
    let max = state.options.max_upload_bytes.saturating_add(1024 * 1024);
    let body = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                format!("The request body exceeds the limit of {max} bytes."),
            )
            .into_response();
        }
    };
    let query = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let call = Call {
        state,
        method: method.clone(),
        route,
        endpoint,
        headers: parts.headers.clone(),
        uri: parts.uri.clone(),
        query,
        member,
        body,
        scheme: parts
            .extensions
            .get::<RequestScheme>()
            .map_or("http", |s| s.0),
    };
    let resp = match dispatch(&call).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    match after {
        None => resp,
        Some(rule) => match rule.kind {
            FaultKind::Hang { millis } => {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                resp
            }
            FaultKind::Freeze => freeze(state).await,
            other => fault_response(&other),
        },
    }
}

/// Holds a request without answering (for as long as a test could wait on it), telling the
/// test it froze.
async fn freeze(state: &SimState) -> Response {
    let frozen = state.lock().knobs.frozen.clone();
    frozen.notify_one();
    tokio::time::sleep(FREEZE).await;
    StatusCode::GATEWAY_TIMEOUT.into_response()
}

/// How long a frozen request is held: far beyond any client timeout a test sets.
const FREEZE: Duration = Duration::from_secs(600);

fn fault_response(kind: &FaultKind) -> Response {
    match kind {
        FaultKind::Drop => {
            let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            resp.extensions_mut().insert(DropConnection);
            resp
        }
        FaultKind::TimeoutError => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UnexpectedError",
            "Execution Timeout Expired. The timeout period elapsed prior to completion of the operation or the server is not responding.",
        )
        .into_response(),
        FaultKind::Hang { .. } | FaultKind::Freeze => {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        FaultKind::Throttle { retry_after_secs } => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                format!("Rate limit exceeded. Retry after {retry_after_secs} seconds."),
            );
            e.retry_after = Some(*retry_after_secs);
            e.into_response()
        }
        FaultKind::Raw {
            status,
            content_type,
            body,
        } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = (status, body.clone()).into_response();
            if let Ok(value) = HeaderValue::from_str(content_type) {
                resp.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            resp
        }
        FaultKind::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (c, m) = match status.as_u16() {
                502 => ("BadGateway", "The server received an invalid response from an upstream server."),
                503 => ("ServiceUnavailable", "The service is temporarily unavailable. Please try again later."),
                504 => ("GatewayTimeout", "The upstream server did not respond in time."),
                429 => ("TooManyRequests", "Rate limit exceeded."),
                _ => ("UnexpectedError", "An unexpected error has occurred."),
            };
            ApiError::new(status, c, m).into_response()
        }
    }
}

/// Basic `company+public:private`. A missing `clientId` header is refused with 401 as well: the spec marks
/// it required on every operation and the vendor's other product answers 401 without it.
fn authenticate<'a>(state: &'a SimState, headers: &HeaderMap) -> Result<&'a ApiMember, ApiError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(encoded) = auth
        .strip_prefix("Basic ")
        .or_else(|| auth.strip_prefix("basic "))
    else {
        return Err(ApiError::unauthorized(
            "Authorization header with Basic credentials is required.",
        ));
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let parsed = decoded.split_once(':').and_then(|(user, private)| {
        user.split_once('+')
            .map(|(company, public)| (company.to_string(), public.to_string(), private.to_string()))
    });
    let Some((company, public, private)) = parsed else {
        return Err(ApiError::unauthorized(
            "Credentials must be company+publicKey:privateKey.",
        ));
    };
    let Some(member) = state.member(&company, &public, &private) else {
        return Err(ApiError::unauthorized(
            "The API keys are not valid for this company.",
        ));
    };
    if state.options.require_client_id {
        let client_id = headers
            .get("clientid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim();
        if client_id.is_empty() {
            return Err(ApiError::unauthorized("A clientId header is required."));
        }
    }
    Ok(member)
}

/// How a route template is served.
enum Kind {
    Collection(String),
    Item(String),
    Count(String),
    InvoicePdf,
    DocumentDownload,
    SystemInfo,
}

fn classify(template: &str) -> Kind {
    if template == "/system/info" {
        return Kind::SystemInfo;
    }
    if template == "/finance/invoices/{id}/pdf" {
        return Kind::InvoicePdf;
    }
    if template == "/system/documents/{id}/download" {
        return Kind::DocumentDownload;
    }
    if let Some(c) = template.strip_suffix("/count") {
        return Kind::Count(c.to_string());
    }
    if let Some(c) = template.strip_suffix("/{id}") {
        return Kind::Item(c.to_string());
    }
    Kind::Collection(template.to_string())
}

async fn dispatch(call: &Call<'_>) -> Result<Response, ApiError> {
    match (classify(&call.route.route.template), call.method.as_str()) {
        (Kind::SystemInfo, _) => respond(call, StatusCode::OK, system_info()),
        (Kind::InvoicePdf, _) => invoice_pdf(call),
        (Kind::DocumentDownload, _) => documents::download(call.state, &item_id(call)?),
        (Kind::Count(c), _) => {
            let (storage, parent) = collection_scope(call, &c)?;
            let records = filtered(call, &storage, parent)?;
            let body = json!({ "count": records.len() });
            // The reconstructed spec gives `/sales/opportunities/{parentId}/notes/count` the
            // notes' own schema (a copy-paste slip); every count answers a `Count`.
            let declared = call
                .endpoint
                .response
                .as_ref()
                .and_then(|r| r.schema.as_deref());
            if declared.is_some_and(|s| s != "Count") {
                return Ok(json_response(StatusCode::OK, &body));
            }
            respond(call, StatusCode::OK, body)
        }
        (Kind::Collection(c), "GET") => list(call, &c),
        (Kind::Collection(c), "POST") if c == "/system/documents" => {
            let (status, record) =
                documents::upload(call.state, call.member, &call.headers, call.body.clone())
                    .await?;
            let _ = status;
            respond(
                call,
                StatusCode::from_u16(call.endpoint.status).unwrap_or(StatusCode::CREATED),
                record,
            )
        }
        (Kind::Collection(c), "POST") => {
            let body = parse_object(&call.body)?;
            let (storage, parent) = collection_scope(call, &c)?;
            let target = Target {
                collection: &c,
                storage: &storage,
                parent,
                id: None,
            };
            let record = write(call, target, WriteMode::Create(body))?;
            respond(
                call,
                StatusCode::from_u16(call.endpoint.status).unwrap_or(StatusCode::CREATED),
                record,
            )
        }
        (Kind::Item(c), "GET") if c == FORECASTS => {
            let (_, parent) = collection_scope(call, &c)?;
            let raw = item_id(call)?;
            let item = raw
                .parse::<i64>()
                .ok()
                .and_then(|id| forecast_item(&call.state.lock(), parent, id))
                .ok_or_else(|| {
                    ApiError::not_found(format!("Forecast item with id {raw} not found"))
                })?;
            check_body(call, &item)?;
            let projected = match parse_fields(call)? {
                Some(f) => query::fields::project(&item, &f),
                None => item,
            };
            Ok(json_response(StatusCode::OK, &projected))
        }
        (Kind::Item(c), "GET") => {
            let (storage, parent) = collection_scope(call, &c)?;
            let id = resolve_item_id(call, &storage, parent)?;
            let record = {
                let inner = call.state.lock();
                inner.store.get(&storage, id).map(|r| r.value.clone())
            };
            let record = record.ok_or_else(|| not_found(&c, id))?;
            let fields = parse_fields(call)?;
            check_body(call, &record)?;
            let projected = match &fields {
                Some(f) => query::fields::project(&record, f),
                None => record,
            };
            Ok(json_response(StatusCode::OK, &projected))
        }
        (Kind::Item(c), "PUT") | (Kind::Item(c), "POST") => {
            let body = parse_object(&call.body)?;
            let (storage, parent) = collection_scope(call, &c)?;
            let id = resolve_item_id(call, &storage, parent)?;
            let target = Target {
                collection: &c,
                storage: &storage,
                parent,
                id: Some(id),
            };
            let record = write(call, target, WriteMode::Replace(body))?;
            respond(
                call,
                StatusCode::from_u16(call.endpoint.status).unwrap_or(StatusCode::OK),
                record,
            )
        }
        (Kind::Item(c), "PATCH") => {
            let ops: Value = serde_json::from_slice(&call.body).map_err(|e| {
                ApiError::bad_request(
                    "InvalidObject",
                    format!("The request body is not valid JSON: {e}"),
                )
            })?;
            let (storage, parent) = collection_scope(call, &c)?;
            let id = resolve_item_id(call, &storage, parent)?;
            let target = Target {
                collection: &c,
                storage: &storage,
                parent,
                id: Some(id),
            };
            let record = write(call, target, WriteMode::Patch(ops))?;
            respond(
                call,
                StatusCode::from_u16(call.endpoint.status).unwrap_or(StatusCode::OK),
                record,
            )
        }
        (Kind::Item(c), "DELETE") => {
            let (storage, parent) = collection_scope(call, &c)?;
            let id = resolve_item_id(call, &storage, parent)?;
            delete(call, &c, &storage, id)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (_, m) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{m}'."),
        )),
    }
}

fn system_info() -> Value {
    json!({
        "version": "v2026.4.90112",
        "isCloud": true,
        "serverTimeZone": "Eastern Standard Time",
        "licenseBits": [],
        "cloudRegion": "NA",
        "maxWorkFlowRecordsAllowed": 1000,
    })
}

fn item_id(call: &Call<'_>) -> Result<String, ApiError> {
    call.route
        .param("id")
        .map(str::to_string)
        .ok_or_else(|| ApiError::not_found("Missing id"))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The storage table and parent id for a collection template in this call; the parent must exist.
fn collection_scope(call: &Call<'_>, collection: &str) -> Result<(String, Option<i64>), ApiError> {
    let storage = resources::storage_collection(collection).to_string();
    let Some((parent_collection, _)) = collection.split_once("/{parentId}") else {
        return Ok((storage, None));
    };
    let raw = call.route.param("parentId").unwrap_or("");
    let parent: i64 = raw.parse().map_err(|_| {
        ApiError::not_found(format!(
            "{} with id {raw} not found",
            capitalize(&resources::resource_name(parent_collection))
        ))
    })?;
    let exists = call
        .state
        .lock()
        .store
        .get(resources::storage_collection(parent_collection), parent)
        .is_some();
    if !exists {
        return Err(not_found(parent_collection, parent));
    }
    Ok((storage, Some(parent)))
}

/// The numeric id of `/{id}`; members may also be addressed by identifier.
fn resolve_item_id(call: &Call<'_>, storage: &str, parent: Option<i64>) -> Result<i64, ApiError> {
    let raw = item_id(call)?;
    let inner = call.state.lock();
    let found = match raw.parse::<i64>() {
        Ok(id) => inner
            .store
            .get(storage, id)
            .filter(|r| parent.is_none() || r.parent == parent)
            .map(|_| id),
        Err(_) if storage == "/system/members" => inner
            .store
            .list(storage, None)
            .into_iter()
            .find(|(_, r)| {
                r.value
                    .get("identifier")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(&raw))
            })
            .map(|(id, _)| id),
        Err(_) => None,
    };
    found.ok_or_else(|| {
        ApiError::not_found(format!(
            "{} with id {raw} not found",
            capitalize(&resources::resource_name(storage))
        ))
    })
}

fn parse_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "InvalidObject",
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::bad_request(
            "InvalidObject",
            format!(
                "The request body must be a JSON object, not {}",
                kind_name(&other)
            ),
        )),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Sends a JSON body for this call's endpoint, validating it against the endpoint's response schema.
fn respond(call: &Call<'_>, status: StatusCode, body: Value) -> Result<Response, ApiError> {
    check_body(call, &body)?;
    Ok(json_response(status, &body))
}

/// Checks a body (or, for lists, each record) against the endpoint's response schema when enabled.
fn check_body(call: &Call<'_>, body: &Value) -> Result<(), ApiError> {
    if !call.state.options.validate_responses {
        return Ok(());
    }
    let Some(facts) = &call.endpoint.response else {
        return Ok(());
    };
    let Some(schema) = &facts.schema else {
        return Ok(());
    };
    // A single record of a list endpoint is checked against the item schema.
    let array = facts.array && body.is_array();
    match call.state.check_response(schema, array, body) {
        Ok(()) => Ok(()),
        Err(message) => {
            let violation = SchemaViolation {
                method: call.method.clone(),
                endpoint: call.route.route.template.clone(),
                schema: schema.clone(),
                message: message.clone(),
            };
            tracing::error!(?violation, "response does not match the facts schema");
            call.state.lock().violations.push(violation);
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SimulatorSchemaViolation",
                format!(
                    "The simulator's response for {} {} does not match schema {schema}: {message}",
                    call.method, call.route.route.template
                ),
            ))
        }
    }
}

fn parse_fields(call: &Call<'_>) -> Result<Option<query::fields::FieldSet>, ApiError> {
    match call.param("fields").filter(|f| !f.trim().is_empty()) {
        None => Ok(None),
        Some(f) => query::fields::parse_fields(&f).map(Some).map_err(|e| {
            ApiError::bad_request("InvalidParameter", format!("fields: {}", e.message))
        }),
    }
}

/// Records of a collection that pass conditions, childConditions and customFieldConditions, in id order.
fn filtered(
    call: &Call<'_>,
    storage: &str,
    parent: Option<i64>,
) -> Result<Vec<(i64, Value)>, ApiError> {
    let mut exprs = Vec::new();
    for name in ["conditions", "childConditions"] {
        if let Some(text) = call.param(name).filter(|t| !t.trim().is_empty()) {
            let expr = query::conditions::parse(&text).map_err(|e| {
                ApiError::bad_request("InvalidCondition", format!("{name}: {}", e.message))
            })?;
            exprs.push(expr);
        }
    }
    // customFieldConditions are evaluated against each entry of `customFields`; a record matches when one does.
    let custom = match call
        .param("customFieldConditions")
        .filter(|t| !t.trim().is_empty())
    {
        Some(text) => Some(query::conditions::parse(&text).map_err(|e| {
            ApiError::bad_request(
                "InvalidCondition",
                format!("customFieldConditions: {}", e.message),
            )
        })?),
        None => None,
    };
    let record_schema = record_schema(call.state, storage);
    if let Some(schema) = &record_schema {
        for (name, expr) in ["conditions", "childConditions"].iter().zip(&exprs) {
            for path in expr.paths() {
                check_field(call.state, schema, name, path)?;
            }
        }
    }
    let doc_filter = if storage == "/system/documents" {
        documents::list_filter(call.state, &call.query)?
    } else {
        None
    };
    let inner = call.state.lock();
    let view = resources::resource(storage).and_then(|r| r.view_of);
    let rows = match (view, parent) {
        // A view lists the records of another collection whose field is the parent's id, as the
        // references its GET answers with.
        (Some((of, field)), Some(pid)) => inner
            .store
            .list(of, None)
            .into_iter()
            .filter(|(_, row)| {
                row.value
                    .pointer(&format!("/{field}"))
                    .and_then(Value::as_i64)
                    == Some(pid)
            })
            .collect(),
        _ => inner.store.list(storage, parent),
    };
    let view_reference = view.and_then(|_| {
        call.state
            .facts
            .route(storage)
            .and_then(|r| r.endpoint("GET"))
            .and_then(|e| e.response.as_ref())
            .and_then(|r| r.schema.clone())
    });
    let mut out = Vec::with_capacity(rows.len());
    for (id, row) in rows {
        if let Some(allowed) = &doc_filter
            && !allowed.contains(&id)
        {
            continue;
        }
        if !exprs.iter().all(|e| e.matches(&row.value)) {
            continue;
        }
        if let Some(expr) = &custom {
            let any = row
                .value
                .get("customFields")
                .and_then(Value::as_array)
                .is_some_and(|cfs| cfs.iter().any(|cf| expr.matches(cf)));
            if !any {
                continue;
            }
        }
        let value = match (view, &view_reference) {
            (Some((of, _)), Some(schema)) => crate::validate::RecordWriter {
                facts: &call.state.facts,
                store: &inner.store,
                api_base: &call.state.api_base,
                resource: String::new(),
            }
            .reference_to(schema, of, id, row.parent, &row.value),
            _ => row.value.clone(),
        };
        out.push((id, value));
    }
    Ok(out)
}

/// The schema of the records a collection's conditions are evaluated on: the list's item schema,
/// or for a read-only view the schema of the records it shows.
fn record_schema(state: &SimState, storage: &str) -> Option<String> {
    let listed = match resources::resource(storage).and_then(|r| r.view_of) {
        Some((of, _)) => of,
        None => storage,
    };
    state
        .facts
        .route(listed)
        .and_then(|r| r.endpoint("GET"))
        .and_then(|e| e.response.as_ref())
        .and_then(|r| r.schema.clone())
}

/// A 400 naming a field a condition or `orderBy` uses that the record does not have.
fn check_field(
    state: &SimState,
    schema: &str,
    parameter: &str,
    path: &[String],
) -> Result<(), ApiError> {
    crate::condition_fields::check_path(&state.facts, schema, path).map_err(|segment| {
        ApiError::bad_request(
            "InvalidCondition",
            format!(
                "{parameter}: {} is not a recognized name ('{segment}' is not a field of {schema}).",
                path.join("/")
            ),
        )
    })
}

fn parse_positive(call: &Call<'_>, name: &str) -> Result<Option<usize>, ApiError> {
    match call.param(name) {
        None => Ok(None),
        Some(raw) if raw.trim().is_empty() => Ok(None),
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ApiError::bad_request(
                "InvalidParameter",
                format!("{name} must be a whole number of at least 1, not '{raw}'"),
            )),
        },
    }
}

fn list(call: &Call<'_>, collection: &str) -> Result<Response, ApiError> {
    let (storage, parent) = collection_scope(call, collection)?;
    let page_size = parse_positive(call, "pageSize")?
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let forward_only = call
        .headers
        .get("pagination-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("forward-only"));
    let fields = parse_fields(call)?;
    let mut records = filtered(call, &storage, parent)?;
    let (page_records, link) = if forward_only {
        let page_id = match call.param("pageId").filter(|p| !p.trim().is_empty()) {
            None => 0,
            Some(raw) => raw
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "InvalidParameter",
                        format!("pageId must be a whole number, not '{raw}'"),
                    )
                })?,
        };
        records.retain(|(id, _)| *id > page_id);
        let more = records.len() > page_size;
        records.truncate(page_size);
        let link = match (more, records.last()) {
            (true, Some((last, _))) => Some(format!(
                "<{}>; rel=\"next\"",
                link_url(call, "pageId", *last as usize)
            )),
            _ => None,
        };
        (
            records.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            link,
        )
    } else {
        let page = parse_positive(call, "page")?.unwrap_or(1);
        let mut values: Vec<Value> = records.into_iter().map(|(_, v)| v).collect();
        if let Some(order) = call.param("orderBy").filter(|o| !o.trim().is_empty()) {
            let keys = query::order::parse_order_by(&order).map_err(|e| {
                ApiError::bad_request("InvalidParameter", format!("orderBy: {}", e.message))
            })?;
            if let Some(schema) = record_schema(call.state, &storage) {
                for key in &keys {
                    check_field(call.state, &schema, "orderBy", &key.path)?;
                }
            }
            query::order::sort(&mut values, &keys);
        }
        let total = values.len();
        let last_page = total.div_ceil(page_size).max(1);
        let start = (page - 1).saturating_mul(page_size);
        let page_values: Vec<Value> = values.into_iter().skip(start).take(page_size).collect();
        let mut rels = Vec::new();
        if page > 1 {
            rels.push(format!("<{}>; rel=\"first\"", link_url(call, "page", 1)));
            rels.push(format!(
                "<{}>; rel=\"prev\"",
                link_url(call, "page", page - 1)
            ));
        }
        if page < last_page {
            rels.push(format!(
                "<{}>; rel=\"next\"",
                link_url(call, "page", page + 1)
            ));
            rels.push(format!(
                "<{}>; rel=\"last\"",
                link_url(call, "page", last_page)
            ));
        }
        (
            page_values,
            if rels.is_empty() {
                None
            } else {
                Some(rels.join(", "))
            },
        )
    };
    let body = Value::Array(page_records);
    check_body(call, &body)?;
    let body = match &fields {
        Some(f) => Value::Array(
            body.as_array()
                .into_iter()
                .flatten()
                .map(|r| query::fields::project(r, f))
                .collect(),
        ),
        None => body,
    };
    let mut resp = json_response(StatusCode::OK, &body);
    if let Some(link) = link
        && let Ok(v) = HeaderValue::from_str(&link)
    {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
}

/// The absolute URL of this request with `name` (page or pageId) set to `value`; the other query
/// parameters are kept exactly as the client sent them.
fn link_url(call: &Call<'_>, name: &str, value: usize) -> String {
    let host = call
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let base = &call.state.base_url;
            base.split("://").nth(1).unwrap_or(base).to_string()
        });
    let scheme = call
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(call.scheme);
    let mut pieces: Vec<String> = call
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or("");
            let key = percent_encoding::percent_decode_str(key)
                .decode_utf8_lossy()
                .to_ascii_lowercase();
            key != "page" && key != "pageid"
        })
        .map(str::to_string)
        .collect();
    pieces.push(format!("{name}={value}"));
    format!("{scheme}://{host}{}?{}", call.uri.path(), pieces.join("&"))
}

fn invoice_pdf(call: &Call<'_>) -> Result<Response, ApiError> {
    let raw = item_id(call)?;
    let id: i64 = raw
        .parse()
        .map_err(|_| ApiError::not_found(format!("Invoice with id {raw} not found")))?;
    let record = call
        .state
        .lock()
        .store
        .get("/finance/invoices", id)
        .map(|r| r.value.clone());
    let record = record.ok_or_else(|| not_found("/finance/invoices", id))?;
    let number = record
        .get("invoiceNumber")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| id.to_string());
    let pdf = format!(
        "%PDF-1.4\n% cwsync ConnectWise simulator\n1 0 obj << /Type /Catalog >> endobj\n% Invoice {number}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    );
    let mut resp = (StatusCode::OK, pdf.into_bytes()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"Invoice-{number}.pdf\""))
    {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

fn actor(call: &Call<'_>) -> Actor {
    Actor {
        identifier: call.member.identifier.clone(),
        company_id: call.member.company_id.clone(),
    }
}

/// Sends callback jobs after the lock is released; delivery never blocks the response.
fn send_jobs(call: &Call<'_>, jobs: Vec<crate::callbacks::CallbackJob>) {
    for job in jobs {
        let _ = call.state.callback_tx.send(job);
    }
}

fn write(call: &Call<'_>, target: Target<'_>, mode: WriteMode) -> Result<Value, ApiError> {
    let (record, jobs) = {
        let mut inner = call.state.lock();
        let (record, events) = write_locked(call.state, &mut inner, target, mode, &actor(call))?;
        (record, callback_jobs(call.state, &mut inner, &events))
    };
    send_jobs(call, jobs);
    Ok(record)
}

fn delete(call: &Call<'_>, collection: &str, storage: &str, id: i64) -> Result<(), ApiError> {
    let jobs = {
        let mut inner = call.state.lock();
        let events = delete_locked(&mut inner, collection, storage, id, &actor(call))?;
        callback_jobs(call.state, &mut inner, &events)
    };
    send_jobs(call, jobs);
    Ok(())
}
