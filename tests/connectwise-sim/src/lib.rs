//! A faithful simulator of the ConnectWise Manage REST API for tests, local runs and benchmarks.
//!
//! Endpoints, status codes and record shapes come from the schema facts file
//! (`schema/connectwise-facts.json`, embedded at build time); one generic, facts-driven store serves them.
//! Real third-party clients (pyconnectwise, django-connectwise…) must work against it as against
//! ConnectWise. Tests drive it through [`Simulator`] (Rust) or the `/__sim/…` control endpoints (HTTP).
//! It must never reach outside the machine: callbacks go only to the URLs tests register.
mod agreements;
pub mod callbacks;
mod condition_fields;
mod control;
mod defaults;
mod documents;
mod error;
pub mod facts;
mod invoicing;
pub mod knobs;
pub mod query;
mod resources;
mod server;
mod state;
mod store;
mod ticket_fixture;
mod tls;
mod validate;
mod writes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Method;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

pub use callbacks::{CallbackDelivery, CallbackPolicy, signature as callback_signature};
pub use error::{ApiError, FieldError, SimError};
pub use knobs::{CallStats, FaultKind, FaultRule, FaultTrigger, RateLimit};
pub use state::SchemaViolation;
pub use ticket_fixture::{FinishedTickets, TicketFixtureLinks, seed_finished_tickets};

use state::SimState;

/// Company id of the default test API member (the login company).
pub const TEST_COMPANY_ID: &str = "cwsync";
/// Public key of the default test API member (fake, test-only).
pub const TEST_PUBLIC_KEY: &str = "cwsyncTestPublicKey";
/// Private key of the default test API member (fake, test-only).
pub const TEST_PRIVATE_KEY: &str = "cwsyncTestPrivateKey";
/// A clientId GUID for tests.
pub const TEST_CLIENT_ID: &str = "00000000-0000-4000-8000-00000000c0de";
/// Member identifier of the default test API member (`_info.updatedBy` of its writes).
pub const TEST_MEMBER_IDENTIFIER: &str = "cwsyncapi";
/// Default codebase.
pub const DEFAULT_CODEBASE: &str = "v2026_4/";

/// The reference data seeded by default (statuses, types, states, countries, catalog setup, members…).
pub const REFERENCE_DATA_JSON: &str = include_str!("../fixtures/reference-data.json");

/// An API member: the credentials a client logs in with, and what its security role denies.
#[derive(Clone)]
pub struct ApiMember {
    pub company_id: String,
    pub public_key: String,
    pub private_key: String,
    /// Member identifier (`_info.updatedBy`, callback `MemberId`).
    pub identifier: String,
    /// Operations this member may not call: (method, path template such as `/company/companies/{id}`) → 403.
    pub denied: Vec<(Method, String)>,
}

impl std::fmt::Debug for ApiMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiMember")
            .field("company_id", &self.company_id)
            .field("public_key", &self.public_key)
            .field("private_key", &"<redacted>")
            .field("identifier", &self.identifier)
            .field("denied", &self.denied)
            .finish()
    }
}

impl ApiMember {
    /// The default test member (`TEST_COMPANY_ID`, `TEST_PUBLIC_KEY`, `TEST_PRIVATE_KEY`).
    pub fn test_member() -> ApiMember {
        ApiMember {
            company_id: TEST_COMPANY_ID.into(),
            public_key: TEST_PUBLIC_KEY.into(),
            private_key: TEST_PRIVATE_KEY.into(),
            identifier: TEST_MEMBER_IDENTIFIER.into(),
            denied: Vec::new(),
        }
    }

    /// Denies one operation (method + path template) to this member.
    pub fn deny(mut self, method: Method, template: &str) -> ApiMember {
        self.denied.push((method, template.to_string()));
        self
    }
}

impl Default for ApiMember {
    fn default() -> Self {
        ApiMember::test_member()
    }
}

/// How a simulator starts.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub members: Vec<ApiMember>,
    /// Codebase served besides the `v4_6_release/` alias; ends with `/`.
    pub codebase: String,
    /// `CompanyName` in `/login/companyinfo`.
    pub company_name: String,
    /// Seed [`REFERENCE_DATA_JSON`] at start and on reset.
    pub seed_reference_data: bool,
    /// Check every JSON response against the facts schema; a mismatch becomes a 500.
    pub validate_responses: bool,
    /// Refuse calls without a `clientId` header (401).
    pub require_client_id: bool,
    pub latency: Duration,
    pub rate_limit: Option<RateLimit>,
    /// Largest accepted document upload.
    pub max_upload_bytes: usize,
    /// Timeout of one callback delivery.
    pub callback_timeout: Duration,
    /// Attempts per callback delivery (at least 1) while the receiver answers non-2xx or is unreachable.
    pub callback_attempts: u32,
    /// Delay before a callback's second attempt; doubled before each later one.
    pub callback_retry_delay: Duration,
    /// A created company gets the primary site its create names (`"site": {"name": "Main"}`), holding
    /// its address, as in ConnectWise. Off: the site is still required on create but not made.
    pub create_default_site: bool,
    /// Also speak HTTPS on the same port, with a test CA made at start ([`Simulator::tls_ca_pem`]); URLs
    /// are then advertised as `https://`. For clients that only build https URLs (pyconnectwise).
    pub tls: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            members: vec![ApiMember::test_member()],
            codebase: DEFAULT_CODEBASE.into(),
            company_name: "cwsync Test Company".into(),
            seed_reference_data: true,
            validate_responses: true,
            require_client_id: true,
            latency: Duration::ZERO,
            rate_limit: None,
            max_upload_bytes: 10 * 1024 * 1024,
            callback_timeout: Duration::from_secs(5),
            callback_attempts: 3,
            callback_retry_delay: Duration::from_millis(50),
            create_default_site: true,
            tls: false,
        }
    }
}

impl SimOptions {
    /// Options without the reference data: every collection starts empty.
    pub fn empty() -> SimOptions {
        SimOptions {
            seed_reference_data: false,
            ..SimOptions::default()
        }
    }
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Simulator {
    state: Arc<SimState>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    worker: Option<JoinHandle<()>>,
    tls_ca_pem: Option<String>,
}

/// Returned by the connection service to make hyper close the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct ConnectionDropped;

impl Simulator {
    /// Binds 127.0.0.1 on a free port and serves in the background.
    pub async fn start(options: SimOptions) -> Result<Simulator, SimError> {
        Simulator::start_on(options, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Binds `addr` and serves in the background.
    pub async fn start_on(options: SimOptions, addr: SocketAddr) -> Result<Simulator, SimError> {
        let facts = facts::Facts::embedded()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SimError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        // URLs must be reachable: a wildcard bind is advertised as loopback.
        let advertised = if local.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], local.port()))
        } else {
            local
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let log = Arc::new(callbacks::DeliveryLog::default());
        let policy = callbacks::CallbackPolicy {
            timeout: options.callback_timeout,
            attempts: options.callback_attempts,
            retry_delay: options.callback_retry_delay,
        };
        let tls = if options.tls {
            Some(tls::generate(&[local.ip().to_string()])?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{advertised}");
        let state = Arc::new(SimState::new(facts, options, base_url, tx, log.clone()));
        initialise(&state)?;
        let worker = tokio::spawn(callbacks::run_worker(rx, log, policy));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let app = server::router(state.clone());
        let tls_ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let server = tokio::spawn(serve(listener, app, tls, shutdown_rx));
        Ok(Simulator {
            state,
            addr: advertised,
            shutdown,
            server: Some(server),
            worker: Some(worker),
            tls_ca_pem,
        })
    }

    pub(crate) fn state(&self) -> &SimState {
        &self.state
    }

    /// The PEM of the test CA that signed the HTTPS certificate (when started with `tls`).
    pub fn tls_ca_pem(&self) -> Option<String> {
        self.tls_ca_pem.clone()
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// `http://127.0.0.1:PORT/v2026_4/apis/3.0`
    pub fn api_base(&self) -> String {
        self.state.api_base.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stores records in a collection (`/company/companies`, `/company/companies/5/sites`,
    /// `/service/boards`…) without validation; ids are assigned when absent, kept (and the counter bumped)
    /// when given. References that resolve are expanded. Returns the ids.
    pub fn seed(&self, path: &str, records: Vec<Value>) -> Result<Vec<i64>, SimError> {
        seed_path(&self.state, path, records)
    }

    /// Creates a record as `POST <path>` by the default test member would: validated, defaults and
    /// derived values filled in, side effects applied and callbacks sent — but not counted as an
    /// API call. `path` is a collection path such as `/service/tickets` or
    /// `/service/boards/3/statuses`. Returns the created record.
    pub fn create(&self, path: &str, body: Value) -> Result<Value, SimError> {
        create_record(&self.state, path, body)
    }

    /// Seeds a fixture: a JSON object mapping collection paths to arrays of records.
    pub fn load_fixture(&self, fixture: &Value) -> Result<(), SimError> {
        load_fixture(&self.state, fixture)
    }

    /// The stored records of a collection path (`/company/companies/5/sites` lists company 5's sites; with
    /// `{parentId}` or on an alias it lists all), in id order.
    pub fn records(&self, path: &str) -> Vec<Value> {
        records(&self.state, path)
    }

    pub fn calls(&self) -> CallStats {
        self.state.lock().calls.clone()
    }

    /// Extra delay before every API call.
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().knobs.latency = latency;
    }

    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.state.lock().knobs.set_rate_limit(limit);
    }

    pub fn inject(&self, rule: FaultRule) {
        self.state.lock().knobs.add_fault(rule);
    }

    pub fn clear_faults(&self) {
        self.state.lock().knobs.clear_faults();
    }

    /// Each injected rule with the number of times it fired (since it was injected).
    pub fn fault_counts(&self) -> Vec<(FaultRule, u64)> {
        self.state.lock().knobs.fault_counts()
    }

    /// Notified (one permit per request) each time a [`FaultKind::Freeze`] holds a request: a
    /// test waits on it to kill the worker that is waiting for the answer.
    pub fn frozen(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.state.lock().knobs.frozen.clone()
    }

    /// Fixes the simulated clock (used for `_info.lastUpdated`).
    pub fn set_clock(&self, now: OffsetDateTime) {
        self.state.lock().knobs.clock = Some(now);
    }

    /// Moves the simulated clock forward (fixing it first at the real time if it was not fixed).
    pub fn advance_clock(&self, by: Duration) {
        let mut inner = self.state.lock();
        let now = inner.knobs.now();
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        inner.knobs.clock = Some(now.checked_add(by).unwrap_or(now));
    }

    /// Back to real UTC time.
    pub fn use_real_clock(&self) {
        self.state.lock().knobs.clock = None;
    }

    /// The simulated time now.
    pub fn now(&self) -> OffsetDateTime {
        self.state.lock().knobs.now()
    }

    /// Turns callback delivery off (entries are still stored) or back on.
    pub fn set_callbacks_enabled(&self, enabled: bool) {
        self.state.lock().knobs.callbacks_disabled = !enabled;
    }

    /// Loses the next `n` callback deliveries: they are logged as dropped and never sent (a
    /// lost callback, which the schedule must catch).
    pub fn drop_next_callbacks(&self, n: usize) {
        self.state.lock().knobs.callbacks_to_drop = n;
    }

    /// Sends each of the next `n` callback deliveries twice, same bytes and signature (a storm).
    pub fn duplicate_next_callbacks(&self, n: usize) {
        self.state.lock().knobs.callbacks_to_duplicate = n;
    }

    /// The signing key of callback entry `callback_id`, as served at its `key_url`.
    pub fn callback_signing_key(&self, callback_id: i64) -> String {
        callbacks::signing_key(callback_id)
    }

    /// `Metadata.key_url` of callback entry `callback_id`'s payloads.
    pub fn callback_key_url(&self, callback_id: i64) -> String {
        callbacks::key_url(&self.state.base_url, callback_id)
    }

    /// The `x-content-signature` callback entry `callback_id` would send with `body`, so tests can
    /// forge (sign a body the simulator never sent) or re-sign.
    pub fn sign_callback(&self, callback_id: i64, body: &[u8]) -> String {
        callbacks::signature(&callbacks::signing_key(callback_id), body)
    }

    /// Every callback delivery so far (one per delivery after its retries; a storm's copies each
    /// count; dropped ones are marked), in order.
    pub fn callback_deliveries(&self) -> Vec<CallbackDelivery> {
        self.state.deliveries.all()
    }

    /// Waits until at least `n` callback deliveries are logged (or `timeout` passes); returns the log.
    pub async fn wait_for_callback_deliveries(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Vec<CallbackDelivery> {
        self.state.deliveries.wait_for(n, timeout).await
    }

    pub fn schema_violations(&self) -> Vec<SchemaViolation> {
        self.state.lock().violations.clone()
    }

    /// Clears records, documents, counters, knobs (faults, rate limit, latency, clock), callback deliveries and
    /// schema violations; re-seeds the reference data when the options ask for it.
    pub fn reset(&self) -> Result<(), SimError> {
        reset(&self.state)
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(worker) = self.worker.take() {
            worker.abort();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(worker) = self.worker.take() {
            worker.abort();
        }
    }
}

/// Accept loop: each connection is served by hyper directly so that a `Drop` fault can make the service
/// fail, which closes the connection without writing a response. With TLS on, a connection whose first
/// byte starts a TLS handshake (0x16) gets TLS; any other gets plain HTTP.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<tls::TlsMaterial>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let app = app.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    if let Some(tls) = tls {
                        let mut first = [0u8; 1];
                        if matches!(stream.peek(&mut first).await, Ok(1)) && first[0] == 0x16 {
                            match tls.acceptor.accept(stream).await {
                                Ok(secure) => serve_connection(secure, app, "https").await,
                                Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
                            }
                            return;
                        }
                    }
                    serve_connection(stream, app, "http").await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

async fn serve_connection<I>(io: I, app: axum::Router, scheme: &'static str)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(server::RequestScheme(scheme));
            let resp = match app.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            if resp.extensions().get::<server::DropConnection>().is_some() {
                Err(ConnectionDropped)
            } else {
                Ok(resp)
            }
        }
    });
    let io = hyper_util::rt::TokioIo::new(io);
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

fn initialise(state: &SimState) -> Result<(), SimError> {
    {
        let mut inner = state.lock();
        inner.knobs.latency = state.options.latency;
        inner.knobs.set_rate_limit(state.options.rate_limit.clone());
    }
    if state.options.seed_reference_data {
        let fixture: Value = serde_json::from_str(REFERENCE_DATA_JSON)
            .map_err(|e| SimError::InvalidFixture(format!("embedded reference data: {e}")))?;
        load_fixture(state, &fixture)?;
    }
    Ok(())
}

pub(crate) fn reset(state: &SimState) -> Result<(), SimError> {
    {
        let mut inner = state.lock();
        *inner = state::Inner::default();
    }
    state.deliveries.clear();
    initialise(state)
}

pub(crate) fn load_fixture(state: &SimState, fixture: &Value) -> Result<(), SimError> {
    let Value::Object(map) = fixture else {
        return Err(SimError::InvalidFixture(
            "a fixture must be a JSON object of path → array of records".into(),
        ));
    };
    let mut inner = state.lock();
    let mut seeded = Vec::new();
    for (path, records) in map {
        let Value::Array(records) = records else {
            return Err(SimError::InvalidFixture(format!(
                "{path} must map to an array of records"
            )));
        };
        let ids = seed_locked(state, &mut inner, path, records.clone())?;
        let (template, _) = resources::split_collection_path(path);
        seeded.push((resources::storage_collection(&template).to_string(), ids));
    }
    // References are expanded once everything is in, so fixture order does not matter.
    expand_seeded(state, &mut inner, &seeded);
    Ok(())
}

fn known_collection(state: &SimState, template: &str) -> bool {
    let routed = state
        .facts
        .route(template)
        .is_some_and(|r| !r.template.ends_with("/{id}") && !r.template.ends_with("/count"));
    routed || resources::resource(template).is_some()
}

fn seed_locked(
    state: &SimState,
    inner: &mut state::Inner,
    path: &str,
    records: Vec<Value>,
) -> Result<Vec<i64>, SimError> {
    let (template, parent) = resources::split_collection_path(path);
    if !known_collection(state, &template) {
        return Err(SimError::UnknownCollection(path.to_string()));
    }
    let storage = resources::storage_collection(&template).to_string();
    let is_child = storage.contains("/{parentId}");
    let now = validate::format_datetime(inner.knobs.now());
    inner.store.ensure(&storage);
    let mut ids = Vec::with_capacity(records.len());
    for (index, mut record) in records.into_iter().enumerate() {
        let invalid = |reason: &str| SimError::InvalidSeed {
            collection: path.to_string(),
            index,
            reason: reason.to_string(),
        };
        let Value::Object(map) = &mut record else {
            return Err(invalid("a record must be a JSON object"));
        };
        let id = match map.get("id") {
            None | Some(Value::Null) => inner.store.allocate_id(&storage),
            Some(v) => v
                .as_i64()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("id must be a positive whole number"))?,
        };
        map.insert("id".into(), Value::from(id));
        let info = map
            .entry("_info")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(info) = info {
            info.entry("lastUpdated")
                .or_insert_with(|| Value::String(now.clone()));
            info.entry("updatedBy")
                .or_insert_with(|| Value::String(TEST_MEMBER_IDENTIFIER.into()));
        }
        // The parent comes from the path, or for a flat alias (companyTypeAssociations) from `company`.
        let row_parent = if is_child {
            parent.or_else(|| {
                let kind = resources::resource(&storage)
                    .and_then(|r| r.parent_kind)
                    .unwrap_or("");
                map.get(&format!("{kind}Id"))
                    .and_then(Value::as_i64)
                    .or_else(|| {
                        map.get(kind)
                            .and_then(|p| p.get("id"))
                            .and_then(Value::as_i64)
                    })
            })
        } else {
            None
        };
        if let (Some(pid), Some(kind)) = (
            row_parent,
            resources::resource(&storage).and_then(|r| r.parent_kind),
        ) {
            let schema = writes::collection_schema(state, &storage);
            let props = schema
                .as_deref()
                .and_then(|s| state.facts.schema(s))
                .and_then(|s| s.get("properties"));
            let id_field = format!("{kind}Id");
            if props.is_some_and(|p| p.get(&id_field).is_some()) {
                map.entry(id_field).or_insert(Value::from(pid));
            } else if props.is_some_and(|p| p.get(kind).is_some()) {
                map.entry(kind.to_string())
                    .or_insert(serde_json::json!({ "id": pid }));
            }
        }
        validate::strip_nulls(&mut record);
        inner.store.put(&storage, id, row_parent, record);
        ids.push(id);
    }
    Ok(ids)
}

fn expand_seeded(state: &SimState, inner: &mut state::Inner, seeded: &[(String, Vec<i64>)]) {
    let mut updates = Vec::new();
    for (storage, ids) in seeded {
        let Some(schema) = writes::collection_schema(state, storage) else {
            continue;
        };
        let writer = validate::RecordWriter {
            facts: &state.facts,
            store: &inner.store,
            api_base: &state.api_base,
            resource: resources::resource_name(storage),
        };
        for id in ids {
            if let Some(row) = inner.store.get(storage, *id) {
                let mut value = row.value.clone();
                writer.expand_seeded(&schema, &mut value);
                updates.push((storage.clone(), *id, row.parent, value));
            }
        }
    }
    for (storage, id, parent, value) in updates {
        inner.store.put(&storage, id, parent, value);
    }
}

pub(crate) fn create_record(state: &SimState, path: &str, body: Value) -> Result<Value, SimError> {
    let refused = |status: u16, body: String| SimError::Refused {
        method: "POST".into(),
        path: path.to_string(),
        status,
        body,
    };
    let Value::Object(body) = body else {
        return Err(refused(400, "the body must be a JSON object".into()));
    };
    let (template, parent) = resources::split_collection_path(path);
    if !known_collection(state, &template) {
        return Err(SimError::UnknownCollection(path.to_string()));
    }
    let storage = resources::storage_collection(&template).to_string();
    let actor = writes::Actor {
        identifier: TEST_MEMBER_IDENTIFIER.into(),
        company_id: TEST_COMPANY_ID.into(),
    };
    let (record, jobs) = {
        let mut inner = state.lock();
        if let Some((parent_collection, _)) = template.split_once("/{parentId}") {
            let exists = parent.is_some_and(|p| {
                inner
                    .store
                    .get(resources::storage_collection(parent_collection), p)
                    .is_some()
            });
            if !exists {
                return Err(refused(404, format!("{path}: the parent does not exist")));
            }
        }
        let target = writes::Target {
            collection: &template,
            storage: &storage,
            parent,
            id: None,
        };
        let (record, events) = writes::write_locked(
            state,
            &mut inner,
            target,
            writes::WriteMode::Create(body),
            &actor,
        )
        .map_err(|e| {
            refused(
                e.status.as_u16(),
                serde_json::to_string(&e).unwrap_or_else(|_| e.message.clone()),
            )
        })?;
        (record, writes::callback_jobs(state, &mut inner, &events))
    };
    for job in jobs {
        let _ = state.callback_tx.send(job);
    }
    Ok(record)
}

pub(crate) fn records(state: &SimState, path: &str) -> Vec<Value> {
    let (template, parent) = resources::split_collection_path(path);
    let storage = resources::storage_collection(&template);
    state
        .lock()
        .store
        .list(storage, parent)
        .into_iter()
        .map(|(_, r)| r.value.clone())
        .collect()
}

pub(crate) fn seed_path(
    state: &SimState,
    path: &str,
    records: Vec<Value>,
) -> Result<Vec<i64>, SimError> {
    let mut inner = state.lock();
    let ids = seed_locked(state, &mut inner, path, records)?;
    let (template, _) = resources::split_collection_path(path);
    let storage = resources::storage_collection(&template).to_string();
    expand_seeded(state, &mut inner, &[(storage, ids.clone())]);
    Ok(ids)
}
