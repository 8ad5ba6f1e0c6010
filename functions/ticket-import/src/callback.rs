//! ConnectWise callbacks in real time (issue 10 §5, API-BEHAVIOUR §8): a callback arrives at the
//! function's public URL (AuthType NONE: ConnectWise can't sign with SigV4), is verified here,
//! answered at once, and handed over as a bare [`TicketChange`] (tenant, ticket id, service or
//! project, added/updated/deleted) to a [`TicketChangeSink`], which queues one ticket job. The
//! ticket itself is never taken from the payload: the job fetches it again.
//!
//! A request is accepted only when all of this holds, checked in this order:
//!
//! 1. it is a `POST` to `/callbacks/<tenant>` (the URL registered for the tenant) of a known
//!    tenant, with a body of at most [`CallbackOptions::max_body_bytes`] that is a JSON object;
//! 2. it is authentic: either its `?token=` equals the tenant's `callbackSecret` (compared in
//!    constant time; a wrong token is refused even when the request is also signed), or its
//!    `x-content-signature` is base64(HMAC-SHA256(key = SHA-256(signing key), message = the raw
//!    body bytes)), the signing key fetched from `Metadata.key_url` only when that URL is on the
//!    tenant's ConnectWise host, and cached (see [`crate::callback_keys`]; a signature that fails
//!    under a cached key is tried once more under the key fetched again, in case it was rotated);
//! 3. it is a ticket callback (`Type` `ticket`; project tickets come as `ticket` too, told apart
//!    by the entity's `recordType`) with a positive `ID` and an `Action` of added, updated or
//!    deleted; an added or updated one carries its `Entity` (a JSON string) of the same id, with a
//!    `recordType` and an `_info.lastUpdated`; a delete may carry none;
//! 4. it is fresh: the entity's `_info.lastUpdated` is no older than
//!    [`CallbackOptions::stale_after`] (15 minutes by default) and no further in the future than
//!    [`CallbackOptions::max_skew`]. This is the stricter reading of "stale": a callback that
//!    ConnectWise delivers late is refused too, and the schedule's incremental read imports that
//!    ticket instead. A delete without an entity has no age; the replay guard alone bounds it,
//!    and replaying it only makes the job look the ticket up again;
//! 5. it is new: its first arrival is recorded in the replay guard (a digest of tenant and body,
//!    kept longer than the staleness window), and a second arrival of the same body is refused as
//!    replayed. The signature is left out of the digest on purpose: it is a function of the body
//!    under the tenant's key, so it would only add ways to vary a replay (whitespace, another
//!    authentication) without naming another change. Distinct changes of one ticket differ in
//!    their entity, so they all pass; exact repeats (a storm of identical deliveries) end as one.
//!
//! Answers: 204 (no body) once the sink has the change; a refusal is a JSON `{"error": …}` with a
//! 4xx naming what is wrong (400 malformed, 401 not authentic, 403 key URL on another host, 404
//! unknown route or tenant, 405 not a POST, 409 replayed, 413 too large, 422 stale), or a 5xx when
//! the failure is ours and worth a retry (the key server, Secrets Manager or the store were
//! unavailable, or the sink failed: the arrival is then forgotten so ConnectWise's retry is
//! accepted). A lost callback is caught by the schedule.
//!
//! Nothing here logs or answers with a secret: not the token, not the signing key, not the
//! signature; refusals name the field and the rule.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cwsync_connectwise::models::common::Info;
use cwsync_connectwise::models::system::{CallbackAction, CallbackPayload};
use cwsync_runtime::{Deps, SecretsError, TenantCredentials};
use cwsync_store::TenantId;
use cwsync_store::replay::Arrival;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::callback_keys::{DEFAULT_KEY_TIMEOUT, KeyError, SigningKeys};

/// Where callbacks are POSTed: `/callbacks/<tenant>`.
pub const CALLBACK_PATH: &str = "/callbacks/";
/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-content-signature";
/// The query parameter that carries the tenant's callback secret.
pub const TOKEN_PARAMETER: &str = "token";
/// The callback type of service and project tickets alike.
pub const TICKET_TYPE: &str = "ticket";
/// Default of [`CallbackOptions::max_body_bytes`]: a ticket's JSON is a few KB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
/// Default of [`CallbackOptions::stale_after`].
pub const DEFAULT_STALE_AFTER: Duration = Duration::minutes(15);
/// Default of [`CallbackOptions::max_skew`]: how far ConnectWise's clock may run ahead of ours.
pub const DEFAULT_MAX_SKEW: Duration = Duration::minutes(2);
/// The least time an arrival is remembered (a delete without an entity has no age).
pub const MIN_REPLAY_MEMORY: Duration = Duration::hours(1);

/// What the receiver accepts; the defaults suit production, tests shorten nothing but may move
/// the clock (see [`CallbackReceiver::receive_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackOptions {
    /// A callback whose entity was last updated longer ago than this is stale.
    pub stale_after: Duration,
    /// A `lastUpdated` up to this far in the future is accepted (clocks differ).
    pub max_skew: Duration,
    /// The largest body accepted, in bytes (decoded).
    pub max_body_bytes: usize,
}

impl Default for CallbackOptions {
    fn default() -> Self {
        CallbackOptions {
            stale_after: DEFAULT_STALE_AFTER,
            max_skew: DEFAULT_MAX_SKEW,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl CallbackOptions {
    /// How long an arrival is remembered: past the last moment a request could still be fresh
    /// (its `lastUpdated` at most `max_skew` ahead, accepted until `stale_after` later), and at
    /// least [`MIN_REPLAY_MEMORY`].
    pub fn replay_memory(&self) -> Duration {
        (self.stale_after + self.max_skew + Duration::minutes(1)).max(MIN_REPLAY_MEMORY)
    }
}

/// Which kind of ticket changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TicketRecordType {
    /// A service ticket (`/service/tickets`, `recordType` `ServiceTicket`).
    Service,
    /// A project ticket (`/project/tickets`, `recordType` `ProjectTicket` or `ProjectIssue`).
    Project,
    /// Not stated: a delete without an entity (the job looks in both places).
    Unknown,
}

/// What happened to the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TicketAction {
    /// Created in ConnectWise.
    Added,
    /// Changed in ConnectWise.
    Updated,
    /// Deleted in ConnectWise.
    Deleted,
}

/// A verified callback, reduced to ids: all a ticket job needs to fetch the ticket again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketChange {
    /// The tenant named by the callback URL.
    pub tenant: TenantId,
    /// The ConnectWise ticket id (`ID`).
    pub ticket_id: i64,
    /// Service or project ticket.
    pub record_type: TicketRecordType,
    /// Added, updated or deleted.
    pub action: TicketAction,
}

/// The sink could not take a change; the callback is answered 503 so ConnectWise retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct SinkError {
    /// What failed (never a secret).
    pub detail: String,
}

/// Where verified ticket changes go: the ticket import queues one ticket job per change.
#[async_trait::async_trait]
pub trait TicketChangeSink: Send + Sync + Debug {
    /// Takes one change; an error makes the callback a 503 (ConnectWise retries it).
    async fn accept(&self, change: &TicketChange) -> Result<(), SinkError>;
}

/// A [`TicketChangeSink`] that keeps changes in memory (tests and the local run); it can be told
/// to fail.
#[derive(Debug, Default)]
pub struct MemoryTicketChangeSink {
    changes: Mutex<Vec<TicketChange>>,
    failure: Mutex<Option<String>>,
}

impl MemoryTicketChangeSink {
    /// An empty sink that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// The changes accepted so far, in order.
    pub fn changes(&self) -> Vec<TicketChange> {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// From now on fail every change with `detail` (`None`: accept again).
    pub fn fail_with(&self, detail: Option<&str>) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = detail.map(str::to_owned);
    }
}

#[async_trait::async_trait]
impl TicketChangeSink for MemoryTicketChangeSink {
    async fn accept(&self, change: &TicketChange) -> Result<(), SinkError> {
        if let Some(detail) = self
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Err(SinkError { detail });
        }
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change.clone());
        Ok(())
    }
}

/// Why a callback was refused. The message is the answer's `error`: it names the field and the
/// rule, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not `/callbacks/<tenant>`.
    #[error("not found: callbacks are POSTed to /callbacks/<tenant>")]
    NotFound,
    /// Not a POST.
    #[error("method {0} is not allowed: callbacks are POSTed")]
    Method(String),
    /// The tenant in the URL is not one (invalid id, or no secret).
    #[error("unknown tenant {0:?}")]
    UnknownTenant(String),
    /// The body is too large.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// A field of the request is missing or wrong.
    #[error("{field} {problem}")]
    Malformed {
        /// The field (`body`, `ID`, `Entity._info.lastUpdated`, …).
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Not a ticket callback.
    #[error("Type {0:?} is not a ticket callback (only `ticket` callbacks are registered)")]
    WrongType(String),
    /// Neither a token nor a signature with a key URL.
    #[error(
        "not authenticated: the request carries neither an x-content-signature with \
         Metadata.key_url nor a callback token"
    )]
    Unauthenticated,
    /// The signature is not the body's under the tenant's signing key.
    #[error("forged: x-content-signature does not match the body")]
    Forged,
    /// The token is not the tenant's callback secret.
    #[error("not authenticated: the callback token is wrong")]
    WrongToken,
    /// The signing key could not be had (or its URL was refused).
    #[error("{0}")]
    Key(KeyError),
    /// The entity was last updated too long ago (or too far in the future).
    #[error(
        "stale: Entity._info.lastUpdated {last_updated} is {problem} (accepted: at most \
         {window_minutes} minutes old)"
    )]
    Stale {
        /// The entity's `lastUpdated`, RFC 3339.
        last_updated: String,
        /// `too old` or `in the future`.
        problem: &'static str,
        /// The staleness window.
        window_minutes: i64,
    },
    /// The same request arrived before.
    #[error("replayed: this request (same tenant and body) was received before")]
    Replayed,
    /// Something of ours failed that may work on a retry (ConnectWise retries a 5xx).
    #[error("{0} (transient: retry)")]
    Unavailable(String),
    /// The deployment or the tenant's secret is wrong (a 500; ConnectWise retries until fixed).
    #[error("the tenant's configuration is wrong: {0}")]
    Misconfigured(String),
    /// The sink could not take the change.
    #[error("the ticket change could not be handed over (transient: retry): {0}")]
    Sink(String),
}

impl Refusal {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::NotFound | Refusal::UnknownTenant(_) => 404,
            Refusal::Method(_) => 405,
            Refusal::TooLarge(_) => 413,
            Refusal::Malformed { .. } | Refusal::WrongType(_) => 400,
            Refusal::Unauthenticated | Refusal::Forged | Refusal::WrongToken => 401,
            Refusal::Key(KeyError::ForeignHost { .. }) => 403,
            Refusal::Key(KeyError::NotAUrl) => 400,
            Refusal::Key(KeyError::Unreadable { .. }) => 401,
            Refusal::Key(KeyError::Unavailable { .. }) => 503,
            Refusal::Stale { .. } => 422,
            Refusal::Replayed => 409,
            Refusal::Unavailable(_) | Refusal::Sink(_) => 503,
            Refusal::Misconfigured(_) => 500,
        }
    }
}

fn malformed(field: &'static str, problem: impl Into<String>) -> Refusal {
    Refusal::Malformed {
        field,
        problem: problem.into(),
    }
}

/// Whether a raw Lambda payload is a Function URL request (a callback) rather than a console
/// event or an SQS batch.
pub fn is_function_url_request(payload: &Value) -> bool {
    payload
        .get("requestContext")
        .and_then(|context| context.get("http"))
        .is_some()
}

/// The tenant a request's path names: `/callbacks/<tenant>` (a trailing `/` is tolerated).
pub fn tenant_of(request: &LambdaFunctionUrlRequest) -> Result<TenantId, Refusal> {
    let path = request
        .raw_path
        .as_deref()
        .or(request.request_context.http.path.as_deref())
        .unwrap_or_default();
    let tenant = path
        .strip_prefix(CALLBACK_PATH)
        .map(|rest| rest.strip_suffix('/').unwrap_or(rest))
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        .ok_or(Refusal::NotFound)?;
    let method = request
        .request_context
        .http
        .method
        .as_deref()
        .unwrap_or_default();
    if !method.eq_ignore_ascii_case("POST") {
        return Err(Refusal::Method(method.chars().take(16).collect()));
    }
    TenantId::parse(tenant).map_err(|_| Refusal::UnknownTenant(tenant.chars().take(64).collect()))
}

/// The raw body bytes (base64-decoded when the Function URL encoded them), at most `max`.
pub fn body_bytes(request: &LambdaFunctionUrlRequest, max: usize) -> Result<Vec<u8>, Refusal> {
    let body = request.body.as_deref().unwrap_or_default();
    if !request.is_base64_encoded {
        if body.len() > max {
            return Err(Refusal::TooLarge(max));
        }
        return Ok(body.as_bytes().to_vec());
    }
    // Check before decoding: base64 is 4 characters per 3 bytes.
    if body.len() / 4 * 3 > max + 3 {
        return Err(Refusal::TooLarge(max));
    }
    let bytes = STANDARD
        .decode(body.trim())
        .map_err(|_| malformed("body", "is marked base64 but is not valid base64"))?;
    if bytes.len() > max {
        return Err(Refusal::TooLarge(max));
    }
    Ok(bytes)
}

/// Reads the body as a callback payload; names the position or the field when it is not one.
pub fn parse_payload(body: &[u8]) -> Result<CallbackPayload, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        malformed(
            "body",
            format!(
                "is not valid JSON (at line {} column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    if !value.is_object() {
        return Err(malformed("body", "is not a JSON object"));
    }
    for field in ["Action", "Type", "ID"] {
        if value.get(field).is_none_or(Value::is_null) {
            return Err(malformed(field, "is missing"));
        }
    }
    serde_json::from_value(value).map_err(|e| malformed("body", e.to_string()))
}

/// Whether `signature` (base64) is HMAC-SHA256(key = SHA-256(`signing_key`), `body`). Compared
/// in constant time.
pub fn signature_matches(signing_key: &SecretString, body: &[u8], signature: &str) -> bool {
    let Ok(tag) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let key_bytes = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        signing_key.expose_secret().as_bytes(),
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key_bytes.as_ref());
    aws_lc_rs::hmac::verify(&key, body, &tag).is_ok()
}

/// `x-content-signature` of `body` under `signing_key`, as ConnectWise computes it.
pub fn sign(signing_key: &str, body: &[u8]) -> String {
    let key_bytes = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, signing_key.as_bytes());
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key_bytes.as_ref());
    STANDARD.encode(aws_lc_rs::hmac::sign(&key, body).as_ref())
}

/// Whether `given` is the tenant's callback secret, compared in constant time.
pub fn token_matches(secret: &SecretString, given: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(
        secret.expose_secret().as_bytes(),
        given.as_bytes(),
    )
    .is_ok()
}

/// The replay guard's name of a request: hex SHA-256 of tenant and body, each length-prefixed
/// so no two different requests share it.
pub fn request_digest(tenant: &TenantId, body: &[u8]) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in [tenant.as_str().as_bytes(), body] {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the receiver reads of a callback's `Entity`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityView {
    id: Option<i64>,
    record_type: Option<String>,
    #[serde(rename = "_info")]
    info: Option<Info>,
}

/// Checks the fields of an authentic callback and reduces it to a [`TicketChange`]: its type,
/// id, action and entity (see the module docs), and its age at `now`.
pub fn ticket_change(
    tenant: &TenantId,
    payload: &CallbackPayload,
    now: OffsetDateTime,
    options: &CallbackOptions,
) -> Result<TicketChange, Refusal> {
    let kind = payload.kind.as_deref().unwrap_or_default();
    if !kind.eq_ignore_ascii_case(TICKET_TYPE) {
        return Err(Refusal::WrongType(kind.chars().take(40).collect()));
    }
    let ticket_id = payload
        .id
        .filter(|id| *id > 0)
        .ok_or_else(|| malformed("ID", "is not a positive ticket id"))?;
    let action = match &payload.action {
        CallbackAction::Added => TicketAction::Added,
        CallbackAction::Updated => TicketAction::Updated,
        CallbackAction::Deleted => TicketAction::Deleted,
        CallbackAction::Other(other) => {
            return Err(malformed(
                "Action",
                format!(
                    "{:?} is not added, updated or deleted",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    };
    let entity: Option<EntityView> = payload
        .entity()
        .map_err(|e| malformed("Entity", format!("is not a ticket record ({})", e.source)))?;
    let Some(entity) = entity else {
        if action == TicketAction::Deleted {
            return Ok(TicketChange {
                tenant: tenant.clone(),
                ticket_id,
                record_type: TicketRecordType::Unknown,
                action,
            });
        }
        return Err(malformed(
            "Entity",
            "is missing: an added or updated ticket's callback carries the ticket",
        ));
    };
    if let Some(id) = entity.id.filter(|id| *id != ticket_id) {
        return Err(malformed(
            "Entity.id",
            format!("is {id}, not the callback's ID {ticket_id}"),
        ));
    }
    let record_type = match entity.record_type.as_deref() {
        Some("ServiceTicket") => TicketRecordType::Service,
        Some("ProjectTicket" | "ProjectIssue") => TicketRecordType::Project,
        None if action == TicketAction::Deleted => TicketRecordType::Unknown,
        None => return Err(malformed("Entity.recordType", "is missing")),
        Some(other) => {
            return Err(malformed(
                "Entity.recordType",
                format!(
                    "{:?} is not ServiceTicket, ProjectTicket or ProjectIssue",
                    other.chars().take(40).collect::<String>()
                ),
            ));
        }
    };
    match entity.info.and_then(|info| info.last_updated) {
        Some(last_updated) => check_fresh(last_updated, now, options)?,
        None if action == TicketAction::Deleted => {}
        None => {
            return Err(malformed(
                "Entity._info.lastUpdated",
                "is missing: the callback's age can't be checked",
            ));
        }
    }
    Ok(TicketChange {
        tenant: tenant.clone(),
        ticket_id,
        record_type,
        action,
    })
}

fn check_fresh(
    last_updated: OffsetDateTime,
    now: OffsetDateTime,
    options: &CallbackOptions,
) -> Result<(), Refusal> {
    let problem = if last_updated < now - options.stale_after {
        "too old"
    } else if last_updated > now + options.max_skew {
        "in the future"
    } else {
        return Ok(());
    };
    Err(Refusal::Stale {
        last_updated: cwsync_connectwise::models::datetime::format(last_updated)
            .unwrap_or_else(|_| last_updated.to_string()),
        problem,
        window_minutes: options.stale_after.whole_minutes(),
    })
}

/// Receives callbacks: verifies them and hands the changes to the sink.
#[derive(Debug)]
pub struct CallbackReceiver {
    deps: Arc<Deps>,
    keys: SigningKeys,
    sink: Arc<dyn TicketChangeSink>,
    options: CallbackOptions,
}

impl CallbackReceiver {
    /// A receiver over `deps` (tenant secrets, the replay guard) that hands changes to `sink`,
    /// with the default options and key fetching.
    pub fn new(deps: Arc<Deps>, sink: Arc<dyn TicketChangeSink>) -> Result<Self, KeyError> {
        Ok(CallbackReceiver {
            deps,
            keys: SigningKeys::new(DEFAULT_KEY_TIMEOUT)?,
            sink,
            options: CallbackOptions::default(),
        })
    }

    /// The same with other options.
    pub fn with_options(mut self, options: CallbackOptions) -> Self {
        self.options = options;
        self
    }

    /// The same with other signing keys (another TTL or clock).
    pub fn with_keys(mut self, keys: SigningKeys) -> Self {
        self.keys = keys;
        self
    }

    /// The signing keys (their fetch count shows what was fetched).
    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// Answers one raw Lambda payload that [`is_function_url_request`]: the Function URL
    /// response as JSON.
    pub async fn handle_payload(&self, payload: Value) -> Value {
        let response = match serde_json::from_value::<LambdaFunctionUrlRequest>(payload) {
            Ok(request) => self.receive(&request).await,
            Err(_) => refusal_response(&malformed("request", "is not a Function URL request")),
        };
        serde_json::to_value(&response).unwrap_or(Value::Null)
    }

    /// Answers one callback now.
    pub async fn receive(&self, request: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        self.receive_at(request, OffsetDateTime::now_utc()).await
    }

    /// Answers one callback as of `now`: 204 once the change is handed over, else the refusal.
    pub async fn receive_at(
        &self,
        request: &LambdaFunctionUrlRequest,
        now: OffsetDateTime,
    ) -> LambdaFunctionUrlResponse {
        match self.accept(request, now).await {
            Ok(change) => {
                tracing::info!(
                    tenant = %change.tenant,
                    ticket_id = change.ticket_id,
                    action = ?change.action,
                    record_type = ?change.record_type,
                    "callback accepted"
                );
                let mut response = LambdaFunctionUrlResponse::default();
                response.status_code = 204;
                response
            }
            Err(refusal) => {
                let tenant = tenant_of(request)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                tracing::warn!(%tenant, status = refusal.status(), reason = %refusal, "callback refused");
                refusal_response(&refusal)
            }
        }
    }

    /// Verifies one callback and hands its change to the sink (see the module docs for the
    /// order of the checks).
    pub async fn accept(
        &self,
        request: &LambdaFunctionUrlRequest,
        now: OffsetDateTime,
    ) -> Result<TicketChange, Refusal> {
        let (change, digest) = self.verify(request, now).await?;
        let guard = &self.deps.stores.replays;
        let expires_at = now + self.options.replay_memory();
        match guard.arrive(&change.tenant, &digest, now, expires_at).await {
            Ok(Arrival::First) => {}
            Ok(Arrival::Again) => return Err(Refusal::Replayed),
            Err(error) => {
                return Err(Refusal::Unavailable(format!(
                    "the replay guard could not record the request: {error}"
                )));
            }
        }
        if let Err(error) = self.sink.accept(&change).await {
            // ConnectWise retries a 5xx with the same body: that retry must not be a replay.
            if let Err(forget) = guard.forget(&change.tenant, &digest).await {
                tracing::warn!(tenant = %change.tenant, error = %forget, "the refused callback's arrival could not be forgotten: its retry will be refused as a replay, and the schedule imports the ticket");
            }
            return Err(Refusal::Sink(error.detail));
        }
        Ok(change)
    }

    /// Checks everything but novelty: the route, the body, authenticity, the fields and the age.
    /// Returns the change and the request's digest for the replay guard.
    pub async fn verify(
        &self,
        request: &LambdaFunctionUrlRequest,
        now: OffsetDateTime,
    ) -> Result<(TicketChange, String), Refusal> {
        let tenant = tenant_of(request)?;
        let body = body_bytes(request, self.options.max_body_bytes)?;
        let payload = parse_payload(&body)?;
        let credentials = self.credentials(&tenant).await?;
        self.authenticate(request, &credentials, &payload, &body)
            .await?;
        let change = ticket_change(&tenant, &payload, now, &self.options)?;
        let digest = request_digest(&tenant, &body);
        Ok((change, digest))
    }

    async fn credentials(&self, tenant: &TenantId) -> Result<TenantCredentials, Refusal> {
        self.deps
            .secrets
            .credentials(tenant.as_str())
            .await
            .map_err(|error| match error {
                SecretsError::NotFound { .. } | SecretsError::InvalidTenant { .. } => {
                    Refusal::UnknownTenant(tenant.to_string())
                }
                error if error.is_transient() => Refusal::Unavailable(error.to_string()),
                error => Refusal::Misconfigured(error.to_string()),
            })
    }

    /// The token when one is given (it must be right), else the signature under the key from
    /// the tenant's ConnectWise.
    async fn authenticate(
        &self,
        request: &LambdaFunctionUrlRequest,
        credentials: &TenantCredentials,
        payload: &CallbackPayload,
        body: &[u8],
    ) -> Result<(), Refusal> {
        let signature = request
            .headers
            .get(SIGNATURE_HEADER)
            .map(|value| {
                value
                    .to_str()
                    .map(str::to_owned)
                    .map_err(|_| Refusal::Forged)
            })
            .transpose()?;
        if let Some(token) = request.query_string_parameters.get(TOKEN_PARAMETER) {
            let right = credentials
                .callback_secret
                .as_ref()
                .is_some_and(|secret| token_matches(secret, token));
            return if right {
                Ok(())
            } else {
                Err(Refusal::WrongToken)
            };
        }
        let (Some(signature), Some(key_url)) = (
            signature,
            payload
                .metadata
                .as_ref()
                .and_then(|metadata| metadata.key_url.as_deref()),
        ) else {
            return Err(Refusal::Unauthenticated);
        };
        let key = self
            .keys
            .key(key_url, &credentials.site)
            .await
            .map_err(Refusal::Key)?;
        if signature_matches(&key, body, &signature) {
            return Ok(());
        }
        // ConnectWise may have rotated the key since it was cached: one more try under a key
        // fetched again (not more often than the key module allows).
        let refreshed = self
            .keys
            .refreshed_key(key_url, &credentials.site)
            .await
            .map_err(Refusal::Key)?;
        match refreshed {
            Some(key) if signature_matches(&key, body, &signature) => Ok(()),
            _ => Err(Refusal::Forged),
        }
    }
}

/// A refusal as a Function URL answer: its status and `{"error": reason}`.
pub fn refusal_response(refusal: &Refusal) -> LambdaFunctionUrlResponse {
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = i64::from(refusal.status());
    response.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.body = Some(serde_json::json!({ "error": refusal.to_string() }).to_string());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[test]
    fn signatures_are_computed_as_connectwise_and_the_simulator_do() {
        let body = br#"{"Action":"updated","Type":"ticket","ID":1}"#;
        let ours = sign("k", body);
        assert_eq!(
            ours,
            cwsync_connectwise_sim::callbacks::signature("k", body)
        );
        let key = SecretString::from("k");
        assert!(signature_matches(&key, body, &ours));
        assert!(!signature_matches(&key, b"{}", &ours));
        assert!(!signature_matches(&SecretString::from("j"), body, &ours));
        assert!(!signature_matches(&key, body, "%%%"));
        assert!(!signature_matches(&key, body, ""));
    }

    #[test]
    fn tokens_are_compared_whole() {
        let secret = SecretString::from("cb-0123456789abcdefghijKLMN");
        assert!(token_matches(&secret, "cb-0123456789abcdefghijKLMN"));
        for wrong in [
            "",
            "cb-0123456789abcdefghijKLM",
            "cb-0123456789abcdefghijKLMNO",
        ] {
            assert!(!token_matches(&secret, wrong), "{wrong}");
        }
    }

    #[test]
    fn request_digests_differ_whenever_tenant_or_body_does() {
        let globex = TenantId::parse("globex").unwrap();
        let base = request_digest(&acme(), b"body");
        assert_eq!(base.len(), 64);
        assert_eq!(base, request_digest(&acme(), b"body"));
        for other in [
            request_digest(&globex, b"body"),
            request_digest(&acme(), b"body2"),
            // Length prefixes: moving bytes between parts changes the digest.
            request_digest(&TenantId::parse("acm").unwrap(), b"ebody"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn the_replay_memory_outlasts_every_fresh_request() {
        let options = CallbackOptions::default();
        assert!(options.replay_memory() > options.stale_after + options.max_skew);
        let long = CallbackOptions {
            stale_after: Duration::hours(3),
            ..options
        };
        assert!(long.replay_memory() > Duration::hours(3) + long.max_skew);
    }

    #[test]
    fn the_age_check_refuses_old_and_future_entities() {
        let now = datetime!(2026-12-06 12:00:00 UTC);
        let options = CallbackOptions::default();
        assert!(check_fresh(now - Duration::minutes(15), now, &options).is_ok());
        assert!(check_fresh(now + Duration::minutes(2), now, &options).is_ok());
        for at in [now - Duration::minutes(16), now + Duration::minutes(3)] {
            let refusal = check_fresh(at, now, &options).unwrap_err();
            assert_eq!(refusal.status(), 422, "{refusal}");
        }
    }
}
