//! A faithful simulator of the billing-system contract (`shared/billing/openapi.yaml`) for tests
//! and local runs: accounts with their sites and contacts, what the daily export reads
//! (products with their prices, subscriptions, users of accounts with their services), and what
//! the ticket import reads and writes (technicians, contracts, items, product types with their
//! placeholder items; service calls created once per external reference, updated under their
//! version, held, invoiced calls refusing change), and the billing documents (invoices with
//! items, payments and refunds filterable by invoice, orders, projects with options and change
//! orders, contract templates; accounts' credit hold); cursor
//! paging in `(updatedAt, id)` order, inclusive `updatedSince`, the `ids` and `accountIds`
//! filters, merge-patch write-backs of accounts validated field by field (one record per PATCH,
//! or up to 100 per `POST /v1/write-backs` with per-record results), bearer authentication and
//! the contract's error bodies.
//!
//! Tests drive it through [`BillingSim`]: seed and inspect records (from the embedded fixtures,
//! or generated at any scale by [`generate`]), change them as a user would (which stamps
//! `updatedAt`), serve one with a bad field, move the clock that stamps `updatedAt`, and turn knobs (latency, a rate limit, injected faults — statuses, 429s, delays,
//! dropped connections, malformed bodies) while counting every call by route. Any HTTP client
//! must see it behave as the contract says, so it never bends a rule for the cwsync client. It
//! listens only where it is told (127.0.0.1 by default) and never calls out.

mod contracts;
mod cursor;
mod error;
mod fixtures;
pub mod generate;
pub mod knobs;
mod orders;
mod patch;
mod server;
mod service_calls;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use cwsync_billing::RecordKind;
use cwsync_billing::models::{
    Account, AccountUser, Contract, ContractTemplate, Invoice, Item, Order, Payment, Product,
    ProductType, Project, ServiceCall, Subscription, Technician,
};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;
use url::Url;

pub use contracts::CONTRACT_CUSTOM_FIELDS;
pub use error::SimError;
pub use fixtures::{
    FIXTURE_ACCOUNTS_JSON, FIXTURE_CONTRACT_TEMPLATES_JSON, FIXTURE_CONTRACTS_JSON,
    FIXTURE_EXPORT_SETTINGS_JSON, FIXTURE_INVOICES_JSON, FIXTURE_ITEMS_JSON, FIXTURE_ORDERS_JSON,
    FIXTURE_PAYMENTS_JSON, FIXTURE_PRODUCT_TYPES_JSON, FIXTURE_PRODUCTS_JSON,
    FIXTURE_PROJECTS_JSON, FIXTURE_SERVICE_CALLS_JSON, FIXTURE_SUBSCRIPTIONS_JSON,
    FIXTURE_TECHNICIANS_JSON, FIXTURE_USERS_JSON, fixture_accounts, fixture_contract_templates,
    fixture_contracts, fixture_export_settings, fixture_invoices, fixture_items, fixture_orders,
    fixture_payments, fixture_product_types, fixture_products, fixture_projects,
    fixture_service_calls, fixture_subscriptions, fixture_technicians, fixture_users,
};
pub use knobs::{BillingCallStats, FaultKind, FaultRule, FaultTrigger};

use fixtures::Fixtures;
use state::SimState;

/// The API key the simulator accepts by default (fake, test-only).
pub const TEST_BILLING_API_KEY: &str = "cwsync-test-billing-api-key";

/// How a simulator starts (and what [`BillingSim::reset`] returns to).
#[derive(Clone)]
pub struct BillingSimOptions {
    /// The API key accepted in `Authorization: Bearer <key>`.
    pub api_key: String,
    /// Seed the embedded fixtures (accounts, products, subscriptions, users) at start and on
    /// reset.
    pub seed_fixture: bool,
    /// Delay before every call.
    pub latency: Duration,
    /// `(max_requests, window, retry_after_secs)`: beyond `max_requests` calls in one window,
    /// calls get 429 with `Retry-After: retry_after_secs`.
    pub rate_limit: Option<(u32, Duration, u64)>,
    /// A fixed clock for `updatedAt` of writes; `None` = real UTC time.
    pub clock: Option<OffsetDateTime>,
    /// Serve only the single-record write-backs (`POST /v1/write-backs` answers 404), as a
    /// billing system without the contract's optional batch form.
    pub single_write_backs_only: bool,
}

impl Default for BillingSimOptions {
    /// The test key, no records, no latency, no rate limit, the real clock.
    fn default() -> Self {
        Self {
            api_key: TEST_BILLING_API_KEY.to_owned(),
            seed_fixture: false,
            latency: Duration::ZERO,
            rate_limit: None,
            clock: None,
            single_write_backs_only: false,
        }
    }
}

impl BillingSimOptions {
    /// The defaults, with the embedded fixture seeded.
    pub fn with_fixture() -> Self {
        Self {
            seed_fixture: true,
            ..Self::default()
        }
    }
}

impl fmt::Debug for BillingSimOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillingSimOptions")
            .field("api_key", &"[REDACTED]")
            .field("seed_fixture", &self.seed_fixture)
            .field("latency", &self.latency)
            .field("rate_limit", &self.rate_limit)
            .field("clock", &self.clock)
            .field("single_write_backs_only", &self.single_write_backs_only)
            .finish()
    }
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct BillingSim {
    state: Arc<SimState>,
    addr: SocketAddr,
    base_url: Url,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

/// Returned by the connection service to make hyper close the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct ConnectionDropped;

impl BillingSim {
    /// Binds 127.0.0.1 on a free port and serves in the background.
    pub async fn start(options: BillingSimOptions) -> Result<BillingSim, SimError> {
        BillingSim::start_on(options, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Binds `addr` and serves in the background.
    pub async fn start_on(
        options: BillingSimOptions,
        addr: SocketAddr,
    ) -> Result<BillingSim, SimError> {
        let fixtures = if options.seed_fixture {
            Fixtures::parse()?
        } else {
            Fixtures::default()
        };
        let bind_error = |source| SimError::Bind {
            addr: addr.to_string(),
            source,
        };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        // URLs must be reachable: a wildcard bind is advertised as loopback.
        let advertised = if local.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], local.port()))
        } else {
            local
        };
        let base_url =
            Url::parse(&format!("http://{advertised}/")).map_err(|e| SimError::Bind {
                addr: addr.to_string(),
                source: std::io::Error::other(e),
            })?;
        let state = Arc::new(SimState::new(options, fixtures));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let app = server::router(state.clone());
        let server = tokio::spawn(serve(listener, app, shutdown_rx));
        Ok(BillingSim {
            state,
            addr: advertised,
            base_url,
            shutdown,
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT/`: the base URL a client is configured with.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key it accepts.
    pub fn api_key(&self) -> &str {
        &self.state.options.api_key
    }

    /// Stores accounts as given (their `updatedAt` included), replacing any with the same id.
    pub fn seed_accounts(&self, accounts: Vec<Account>) {
        state::seed(&mut self.state.lock(), accounts);
    }

    /// Every stored account, in id order.
    pub fn accounts(&self) -> Vec<Account> {
        self.state.lock().accounts.values().cloned().collect()
    }

    /// One stored account.
    pub fn account(&self, id: &str) -> Option<Account> {
        self.state.lock().accounts.get(id).cloned()
    }

    /// Changes an account as a user of the billing system would, and sets its `updatedAt` to the
    /// simulated clock. Returns whether the account exists. Changing the id moves the record.
    pub fn modify_account(&self, id: &str, change: impl FnOnce(&mut Account)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Serves account `id` with `field` set to `value` (in listings and reads), as a billing
    /// system holding a bad record would, to test malformed input; writes still apply to the
    /// stored account. `clear_corruptions` undoes it.
    pub fn corrupt_account(&self, id: &str, field: &str, value: serde_json::Value) {
        self.corrupt(RecordKind::Account, id, field, value);
    }

    /// Serves the record of `kind` with id `id` with the top-level `field` set to `value` (in
    /// listings and reads), as a billing system holding a bad record would (a subscription whose
    /// `quantity` is `"abc"`, a product without `sku` when `value` is `null`…); the stored record
    /// is unchanged. `clear_corruptions` undoes it.
    pub fn corrupt(&self, kind: RecordKind, id: &str, field: &str, value: serde_json::Value) {
        self.state
            .lock()
            .corruptions
            .entry((kind, id.to_owned()))
            .or_default()
            .insert(field.to_owned(), value);
    }

    /// Serves the record of `kind` with id `id` without its top-level `field` (in listings and
    /// reads), as a billing system that lost a field would; `clear_corruptions` undoes it.
    pub fn omit(&self, kind: RecordKind, id: &str, field: &str) {
        self.state
            .lock()
            .omissions
            .entry((kind, id.to_owned()))
            .or_default()
            .insert(field.to_owned());
    }

    /// Serves every record as stored again.
    pub fn clear_corruptions(&self) {
        let mut state = self.state.lock();
        state.corruptions.clear();
        state.omissions.clear();
    }

    /// Stores products as given (their `updatedAt` included), replacing any with the same id.
    pub fn seed_products(&self, products: Vec<Product>) {
        state::seed(&mut self.state.lock(), products);
    }

    /// Every stored product, in id order.
    pub fn products(&self) -> Vec<Product> {
        self.state.lock().products.values().cloned().collect()
    }

    /// One stored product.
    pub fn product(&self, id: &str) -> Option<Product> {
        self.state.lock().products.get(id).cloned()
    }

    /// Changes a product as a user would (a price, `enabled: false` to stop selling it) and sets
    /// its `updatedAt` to the simulated clock. Returns whether it exists. The contract never
    /// deletes a product, so neither does the simulator.
    pub fn modify_product(&self, id: &str, change: impl FnOnce(&mut Product)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Stores subscriptions as given (their `updatedAt` included), replacing any with the same
    /// id.
    pub fn seed_subscriptions(&self, subscriptions: Vec<Subscription>) {
        state::seed(&mut self.state.lock(), subscriptions);
    }

    /// Every stored subscription, cancelled ones included, in id order.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.state.lock().subscriptions.values().cloned().collect()
    }

    /// One stored subscription.
    pub fn subscription(&self, id: &str) -> Option<Subscription> {
        self.state.lock().subscriptions.get(id).cloned()
    }

    /// Changes a subscription as a user would (a quantity, another account, a cancellation:
    /// set `cancelled_at`) and sets its `updatedAt` to the simulated clock. Returns whether it
    /// exists. The contract never deletes a subscription (it is cancelled), so neither does the
    /// simulator.
    pub fn modify_subscription(&self, id: &str, change: impl FnOnce(&mut Subscription)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Stores users of accounts as given (their `updatedAt` included), replacing any with the
    /// same id.
    pub fn seed_users(&self, users: Vec<AccountUser>) {
        state::seed(&mut self.state.lock(), users);
    }

    /// Every stored user, in id order.
    pub fn users(&self) -> Vec<AccountUser> {
        self.state.lock().users.values().cloned().collect()
    }

    /// One stored user.
    pub fn user(&self, id: &str) -> Option<AccountUser> {
        self.state.lock().users.get(id).cloned()
    }

    /// Changes a user as the billing system would (a service enabled or removed, the user
    /// disabled) and sets their `updatedAt` to the simulated clock. Returns whether they exist.
    pub fn modify_user(&self, id: &str, change: impl FnOnce(&mut AccountUser)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Removes a user from their account (the contract lets users disappear: they are no longer
    /// listed); returns them when they existed.
    pub fn remove_user(&self, id: &str) -> Option<AccountUser> {
        self.state.lock().users.remove(id)
    }

    /// Stores technicians as given, replacing any with the same id.
    pub fn seed_technicians(&self, technicians: Vec<Technician>) {
        state::seed(&mut self.state.lock(), technicians);
    }

    /// Changes a technician as a user would (`active: false`, a new e-mail) and stamps it.
    /// Returns whether it exists.
    pub fn modify_technician(&self, id: &str, change: impl FnOnce(&mut Technician)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Stores contracts as given, replacing any with the same id.
    pub fn seed_contracts(&self, contracts: Vec<Contract>) {
        state::seed(&mut self.state.lock(), contracts);
    }

    /// Every stored contract, in id order.
    pub fn contracts(&self) -> Vec<Contract> {
        self.state.lock().contracts.values().cloned().collect()
    }

    /// Changes a contract as a user of the billing system would (invoice it, set it billable),
    /// moving its version and `updatedAt`. Returns whether it exists.
    pub fn modify_contract(&self, id: &str, change: impl FnOnce(&mut Contract)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Stores items as given (placeholders too), replacing any with the same id.
    pub fn seed_items(&self, items: Vec<Item>) {
        state::seed(&mut self.state.lock(), items);
    }

    /// Changes an item as a user would (a price, `active: false`) and stamps it. Returns whether
    /// it exists.
    pub fn modify_item(&self, id: &str, change: impl FnOnce(&mut Item)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Stores product types as given, replacing any with the same id.
    pub fn seed_product_types(&self, product_types: Vec<ProductType>) {
        state::seed(&mut self.state.lock(), product_types);
    }

    /// Stores service calls as given (their version and `updatedAt` included), replacing any with
    /// the same id; calls the simulator makes are numbered after them.
    pub fn seed_service_calls(&self, calls: Vec<ServiceCall>) {
        state::seed(&mut self.state.lock(), calls);
    }

    /// Every stored service call, in id order.
    pub fn service_calls(&self) -> Vec<ServiceCall> {
        self.state.lock().service_calls.values().cloned().collect()
    }

    /// One stored service call.
    pub fn service_call(&self, id: &str) -> Option<ServiceCall> {
        self.state.lock().service_calls.get(id).cloned()
    }

    /// Changes a service call as a user of the billing system would (invoice it, take it off
    /// hold, flag it for ConnectWise), moving its version and `updatedAt`. Returns whether it
    /// exists. Calls are never deleted.
    pub fn modify_service_call(&self, id: &str, change: impl FnOnce(&mut ServiceCall)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Stores invoices as given, replacing any with the same id.
    pub fn seed_invoices(&self, invoices: Vec<Invoice>) {
        state::seed(&mut self.state.lock(), invoices);
    }

    /// Changes an invoice as a user would (a new item, paid, void) and stamps it. Returns
    /// whether it exists.
    pub fn modify_invoice(&self, id: &str, change: impl FnOnce(&mut Invoice)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Every stored invoice.
    pub fn invoices(&self) -> Vec<Invoice> {
        self.state.lock().invoices.values().cloned().collect()
    }

    /// Stores payments and refunds as given, replacing any with the same id.
    pub fn seed_payments(&self, payments: Vec<Payment>) {
        state::seed(&mut self.state.lock(), payments);
    }

    /// Changes a payment as a user would and stamps it. Returns whether it exists.
    pub fn modify_payment(&self, id: &str, change: impl FnOnce(&mut Payment)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Every stored payment and refund.
    pub fn payments(&self) -> Vec<Payment> {
        self.state.lock().payments.values().cloned().collect()
    }

    /// Stores orders as given, replacing any with the same id.
    pub fn seed_orders(&self, orders: Vec<Order>) {
        state::seed(&mut self.state.lock(), orders);
    }

    /// Changes an order as a user would (its stage, its items) and stamps it. Returns whether
    /// it exists.
    pub fn modify_order(&self, id: &str, change: impl FnOnce(&mut Order)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Every stored order.
    pub fn orders(&self) -> Vec<Order> {
        self.state.lock().orders.values().cloned().collect()
    }

    /// Stores projects, options and change orders as given, replacing any with the same id.
    pub fn seed_projects(&self, projects: Vec<Project>) {
        state::seed(&mut self.state.lock(), projects);
    }

    /// Changes a project as a user would (won, lost, new items) and stamps it. Returns whether
    /// it exists.
    pub fn modify_project(&self, id: &str, change: impl FnOnce(&mut Project)) -> bool {
        state::modify(&mut self.state.lock(), id, change)
    }

    /// Every stored project, option and change order.
    pub fn projects(&self) -> Vec<Project> {
        self.state.lock().projects.values().cloned().collect()
    }

    /// Stores contract templates as given, replacing any with the same id.
    pub fn seed_contract_templates(&self, templates: Vec<ContractTemplate>) {
        state::seed(&mut self.state.lock(), templates);
    }

    /// Deletes an account; returns it when it existed.
    pub fn remove_account(&self, id: &str) -> Option<Account> {
        self.state.lock().accounts.remove(id)
    }

    /// Back to the start: records (the fixtures when the options seed them), counters and knobs
    /// (faults, rate limit, latency, clock) as the options say.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Fixes the simulated clock that stamps `updatedAt`.
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

    /// Delay added before every call.
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().knobs.latency = latency;
    }

    /// `Some((max_requests, window, retry_after_secs))`: beyond `max_requests` calls in one
    /// window, calls get 429 with `Retry-After: retry_after_secs`. `None` lifts the limit.
    pub fn set_rate_limit(&self, limit: Option<(u32, Duration, u64)>) {
        self.state
            .lock()
            .knobs
            .set_rate_limit(limit.map(state::rate_limit));
    }

    /// `true`: serve only the single-record write-backs (`POST /v1/write-backs` answers 404, as
    /// on a billing system without the batch form); `false`: serve both forms.
    pub fn set_single_write_backs_only(&self, single_only: bool) {
        self.state.lock().knobs.single_write_backs_only = single_only;
    }

    /// Adds a fault rule (the first rule that fires on a call wins).
    pub fn inject(&self, rule: FaultRule) {
        self.state.lock().knobs.add_fault(rule);
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

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.lock().knobs.clear_faults();
    }

    /// The calls received so far.
    pub fn calls(&self) -> BillingCallStats {
        self.state.lock().calls.clone()
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for BillingSim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Accept loop: each connection is served by hyper directly so that a `Drop` fault can make the
/// service fail, which closes the connection without writing a response.
async fn serve(listener: TcpListener, app: axum::Router, mut shutdown: watch::Receiver<bool>) {
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
                connections.spawn(serve_connection(stream, app.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

async fn serve_connection(stream: tokio::net::TcpStream, app: axum::Router) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move {
            let resp = match app.oneshot(req.map(Body::new)).await {
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
    let io = hyper_util::rt::TokioIo::new(stream);
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}
