//! Everything one tenant's job needs before it touches a record: its settings, its ConnectWise
//! client and its billing client, and the reference data of the run (whatever the job resolves
//! names against: a customer sync's states and types, a daily export's catalog and agreements).
//!
//! A tenant's ConnectWise client is limited twice: by its own limiter, and by a gate on the
//! tenant's request windows in the store ([`cwsync_store::rate_gate`]), which every worker of the
//! tenant shares, so the tenant's `connectWise.requestsPerSecond` (10 by default) holds across all
//! concurrent workers, not per worker. A deployment may override the rate for every tenant
//! ([`ConnectOptions::cw_rate`]: the local run against the simulator, the benchmarks).
//!
//! Clients are cached per tenant for the secret cache's TTL, so a warm function pays the codebase
//! look-up once, not once per job; a refused key evicts them (and the cached secret) so a rotated
//! key is picked up on the next attempt. Reference data is cached per tenant and run
//! ([`ReferenceCache`]). The ConnectWise calls each tenant's client makes are counted into the
//! invocation's metrics ([`Connections::client_stats`], [`Connections::count_calls`]). Nothing here
//! ever logs or returns a key: errors name the tenant and what is missing.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cwsync_billing::{BillingClient, BillingConfig};
use cwsync_connectwise::{
    Admission, Client, ClientConfig, ClientStats, CwError, GateError, RateLimit, RequestGate,
    RetryPolicy,
};
use cwsync_runtime::{Counter, Deps};
use cwsync_store::TenantId;
use cwsync_store::rate_gate::{
    DEFAULT_WINDOW, GateDecision, GatePolicy, RateGate, SystemWallClock,
};
use cwsync_store::settings::TenantSettings;
use tokio::time::Instant;

use crate::SyncError;

/// How clients are built: the production defaults, or short retries for tests and local runs.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// ConnectWise retry policy (the client's default when `None`).
    pub cw_retry: Option<RetryPolicy>,
    /// ConnectWise rate limit of every tenant, overriding the tenant's
    /// `connectWise.requestsPerSecond` (the local limiter and the shared gate both use its
    /// `per_second`); the tenant's setting when `None`.
    pub cw_rate: Option<RateLimit>,
    /// Length of the windows the shared gate counts requests in ([`DEFAULT_WINDOW`], 1 s, when
    /// `None`).
    pub gate_window: Option<Duration>,
    /// Billing-system retry policy (the client's default when `None`).
    pub billing_retry: Option<cwsync_billing::RetryPolicy>,
    /// Timeout of one HTTP attempt on either side (the clients' defaults when `None`).
    pub timeout: Option<Duration>,
    /// How long a tenant's clients and reference data are reused; the secret cache's TTL when
    /// `None`.
    pub cache_ttl: Option<Duration>,
}

/// One tenant's connections.
#[derive(Debug, Clone)]
pub struct TenantClients {
    /// ConnectWise, connected (codebase known).
    pub cw: Client,
    /// The billing system.
    pub billing: BillingClient,
    /// The gate on the tenant's shared request windows the ConnectWise client asks before every
    /// attempt (its counters show what this worker leased).
    pub gate: Arc<RateGate>,
}

/// `gate` as a ConnectWise client's [`RequestGate`] ([`cwsync_connectwise::ClientConfig::gate`]):
/// what [`Connections`] gives each tenant's client; a store failure becomes a [`GateError`] that
/// is transient when the store's error is.
pub fn connectwise_gate(gate: Arc<RateGate>) -> Arc<dyn RequestGate> {
    Arc::new(TenantGate(gate))
}

/// A tenant's [`RateGate`] as the ConnectWise client's [`RequestGate`].
#[derive(Debug)]
struct TenantGate(Arc<RateGate>);

#[async_trait::async_trait]
impl RequestGate for TenantGate {
    async fn admit(&self) -> Result<Admission, GateError> {
        match self.0.admit().await {
            Ok(GateDecision::Admitted) => Ok(Admission::Admitted),
            Ok(GateDecision::WaitFor(wait)) => Ok(Admission::WaitFor(wait)),
            Err(error) => Err(GateError {
                transient: error.is_transient(),
                detail: error.to_string(),
            }),
        }
    }
}

#[derive(Debug)]
struct Cached<T> {
    value: T,
    at: Instant,
}

struct CachedReference<R> {
    run_id: String,
    reference: Arc<R>,
    at: Instant,
}

/// Reference data of type `R` per tenant, kept for the run it was read for.
///
/// A job of a run reads it once ([`ReferenceCache::get`]); the next run reads it again, so what
/// was just added in ConnectWise counts from the next run on. A run of one unit (a billing change,
/// a console sync) may reuse the data of another run while it is younger than the TTL, so a stream
/// of single changes doesn't read it once per change.
///
/// Jobs of one batch run concurrently: the first to miss reads, and the others of that tenant
/// wait for its read and take what it cached (one read per tenant, not one per concurrent job).
pub struct ReferenceCache<R> {
    entries: Mutex<HashMap<String, CachedReference<R>>>,
    /// Per tenant, held while its data is being read.
    reading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<R> Default for ReferenceCache<R> {
    fn default() -> Self {
        ReferenceCache {
            entries: Mutex::new(HashMap::new()),
            reading: Mutex::new(HashMap::new()),
        }
    }
}

/// Names the cached tenants and their runs, not the data.
impl<R> std::fmt::Debug for ReferenceCache<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = lock(&self.entries);
        f.debug_map()
            .entries(entries.iter().map(|(tenant, c)| (tenant, &c.run_id)))
            .finish()
    }
}

impl<R: Send + Sync + 'static> ReferenceCache<R> {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tenant's reference data for `run_id`: the cached data when it was read for this run
    /// (or, for a `single` run, is younger than `ttl`), else what `load` reads, cached for the
    /// run; while one caller reads a tenant's data, the others wait and then take it. A failed
    /// `load` caches nothing (the next waiter reads again).
    pub async fn get<F, Fut>(
        &self,
        tenant: &TenantId,
        run_id: &str,
        single: bool,
        ttl: Duration,
        load: F,
    ) -> Result<Arc<R>, SyncError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<R, SyncError>>,
    {
        let cached = || {
            lock(&self.entries)
                .get(tenant.as_str())
                .filter(|c| c.run_id == run_id || (single && c.at.elapsed() < ttl))
                .map(|hit| Arc::clone(&hit.reference))
        };
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let reading = Arc::clone(lock(&self.reading).entry(tenant.to_string()).or_default());
        let _reading = reading.lock().await;
        // Read by the caller this one waited for.
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let reference = Arc::new(load().await?);
        lock(&self.entries).insert(
            tenant.to_string(),
            CachedReference {
                run_id: run_id.to_owned(),
                reference: Arc::clone(&reference),
                at: Instant::now(),
            },
        );
        Ok(reference)
    }
}

/// The ConnectWise request counters of some tenants' clients at one moment: taken before a batch
/// ([`Connections::client_stats`]), counted into metrics after it ([`Connections::count_calls`]).
#[derive(Debug, Default)]
pub struct CallCounts(Vec<(TenantId, ClientStats)>);

/// Per-tenant clients and reference data (of type `R`), shared by every invocation of a warm
/// function of one job kind.
#[derive(Debug)]
pub struct Connections<R> {
    job: &'static str,
    options: ConnectOptions,
    clients: Mutex<HashMap<String, Cached<TenantClients>>>,
    references: ReferenceCache<R>,
    http: OnceLock<Result<SharedHttp, String>>,
}

/// The HTTP clients every tenant's clients send through, built on first use: one connection
/// pool and one TLS configuration for all tenants of the function instead of two per tenant
/// (`cwsync_http::http_client`). ConnectWise's follows redirects as it always did; the billing
/// system's never does.
#[derive(Debug, Clone)]
struct SharedHttp {
    connectwise: reqwest::Client,
    billing: reqwest::Client,
}

impl SharedHttp {
    fn build() -> Result<Self, String> {
        use cwsync_http::{Redirects, http_client};
        Ok(SharedHttp {
            connectwise: http_client(Redirects::Follow)?,
            billing: http_client(Redirects::Never)?,
        })
    }
}

impl<R: Send + Sync + 'static> Connections<R> {
    /// Connections of the `job` kind (`customer-sync`, `daily-export`, … named in errors and
    /// metrics) built with `options`.
    pub fn new(job: &'static str, options: ConnectOptions) -> Self {
        Connections {
            job,
            options,
            clients: Mutex::new(HashMap::new()),
            references: ReferenceCache::new(),
            http: OnceLock::new(),
        }
    }

    /// How long a tenant's clients and reference data are reused.
    pub fn ttl(&self, deps: &Deps) -> Duration {
        self.options
            .cache_ttl
            .unwrap_or(deps.config.secret_cache_ttl)
    }

    /// The tenant's clients: cached, or built from its secret (one codebase look-up). A secret
    /// without the billing system's API is a [`SyncError::NotConfigured`] naming the tenant and
    /// the job.
    pub async fn clients(
        &self,
        deps: &Deps,
        tenant: &TenantId,
    ) -> Result<TenantClients, SyncError> {
        let ttl = self.ttl(deps);
        if let Some(hit) = lock(&self.clients)
            .get(tenant.as_str())
            .filter(|c| c.at.elapsed() < ttl)
        {
            return Ok(hit.value.clone());
        }
        let credentials = deps
            .secrets
            .credentials(tenant.as_str())
            .await
            .map_err(SyncError::Secrets)?;
        let billing_credentials =
            credentials
                .billing
                .clone()
                .ok_or_else(|| SyncError::NotConfigured {
                    tenant: tenant.to_string(),
                    job: self.job,
                    reason: format!(
                        "its secret has no billingUrl and billingApiKey: the {} needs the billing system's API",
                        self.job
                    ),
                })?;
        let http = self
            .http
            .get_or_init(SharedHttp::build)
            .clone()
            .map_err(|message| {
                SyncError::connectwise("connecting to ConnectWise", CwError::Config { message })
            })?;
        let mut cw_config: ClientConfig = credentials.client_config();
        cw_config.http = Some(http.connectwise);
        if let Some(retry) = self.options.cw_retry {
            cw_config.retry = retry;
        }
        cw_config.rate = match self.options.cw_rate {
            Some(rate) => rate,
            None => {
                let per_second = settings(deps, tenant)
                    .await?
                    .connect_wise
                    .requests_per_second;
                // Validated to be at least 1 when the settings were read.
                let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
                RateLimit::paced(per_second)
            }
        };
        let gate = Arc::new(RateGate::new(
            Arc::clone(&deps.stores.request_windows),
            tenant.clone(),
            GatePolicy::new(
                cw_config.rate.per_second,
                self.options.gate_window.unwrap_or(DEFAULT_WINDOW),
            ),
            Arc::new(SystemWallClock),
        ));
        cw_config.gate = Some(connectwise_gate(Arc::clone(&gate)));
        if let Some(timeout) = self.options.timeout {
            cw_config.timeout = timeout;
        }
        let cw = Client::connect(cw_config)
            .await
            .map_err(|error| SyncError::connectwise("connecting to ConnectWise", error))?;
        let mut billing_config =
            BillingConfig::new(billing_credentials.url, billing_credentials.api_key);
        billing_config.http = Some(http.billing);
        if let Some(retry) = self.options.billing_retry {
            billing_config.retry = retry;
        }
        if let Some(timeout) = self.options.timeout {
            billing_config.timeout = timeout;
        }
        let billing = BillingClient::new(billing_config)
            .map_err(|error| SyncError::billing("configuring the billing client", error))?;
        let clients = TenantClients { cw, billing, gate };
        lock(&self.clients).insert(
            tenant.to_string(),
            Cached {
                value: clients.clone(),
                at: Instant::now(),
            },
        );
        Ok(clients)
    }

    /// Forgets a tenant's clients and cached secret (ConnectWise or the billing system refused
    /// its keys: they may just have been rotated).
    pub async fn evict(&self, deps: &Deps, tenant: &TenantId) {
        lock(&self.clients).remove(tenant.as_str());
        deps.secrets.invalidate(tenant.as_str()).await;
    }

    /// The tenant's reference data for `run_id`, read by `load` once per run; a `single` run may
    /// reuse data younger than the cache TTL (see [`ReferenceCache::get`]).
    pub async fn reference<F, Fut>(
        &self,
        deps: &Deps,
        tenant: &TenantId,
        run_id: &str,
        single: bool,
        load: F,
    ) -> Result<Arc<R>, SyncError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<R, SyncError>>,
    {
        let ttl = self.ttl(deps);
        self.references.get(tenant, run_id, single, ttl, load).await
    }

    /// The ConnectWise request counters of each tenant's client (built when not cached; a tenant
    /// whose clients can't be had is left out), to count calls with [`Connections::count_calls`].
    pub async fn client_stats<'a>(
        &self,
        deps: &Deps,
        tenants: impl Iterator<Item = &'a TenantId>,
    ) -> CallCounts {
        let mut stats = Vec::new();
        let unique: HashSet<&TenantId> = tenants.collect();
        for tenant in unique {
            if let Ok(clients) = self.clients(deps, tenant).await {
                stats.push((tenant.clone(), clients.cw.stats()));
            }
        }
        CallCounts(stats)
    }

    /// Adds the ConnectWise calls (and throttles) each tenant's client made since `before` to the
    /// invocation's metrics of this job kind.
    pub async fn count_calls(&self, deps: &Deps, before: CallCounts) {
        for (tenant, before) in before.0 {
            if let Ok(clients) = self.clients(deps, &tenant).await {
                let after = clients.cw.stats();
                let metrics = deps.metrics.job(self.job, tenant.as_str());
                metrics.add(
                    Counter::ConnectwiseCalls,
                    after.requests.saturating_sub(before.requests),
                );
                metrics.add(
                    Counter::ConnectwiseThrottles,
                    after.throttled.saturating_sub(before.throttled),
                );
            }
        }
    }
}

/// A tenant's settings; the defaults when none were ever stored.
pub async fn settings(deps: &Deps, tenant: &TenantId) -> Result<TenantSettings, SyncError> {
    Ok(deps
        .stores
        .settings
        .get(tenant)
        .await
        .map_err(SyncError::Store)?
        .map(|versioned| versioned.value)
        .unwrap_or_default())
}

/// What [`change_settings`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsChange {
    /// The change was already in the settings: nothing was saved.
    Unchanged,
    /// Saved as this version.
    Saved(u64),
}

/// Changes a tenant's settings with `change` (which says whether it changed anything), saved
/// conditionally on the version read and tried once more when another save came in between (a
/// console action such as disabling an export or excluding a ticket). A change the settings
/// refuse is the store's `Invalid` error; two concurrent saves in a row are a
/// [`SyncError::Unsettled`] to retry.
pub async fn change_settings(
    deps: &Deps,
    tenant: &TenantId,
    change: impl Fn(&mut TenantSettings) -> bool,
) -> Result<SettingsChange, SyncError> {
    let store = &deps.stores.settings;
    for _ in 0..2 {
        let stored = store.get(tenant).await?;
        let (mut settings, version) = match stored {
            Some(v) => (v.value, Some(v.version)),
            None => (TenantSettings::default(), None),
        };
        if !change(&mut settings) {
            return Ok(SettingsChange::Unchanged);
        }
        match store.put(tenant, &settings, version).await {
            Ok(version) => return Ok(SettingsChange::Saved(version)),
            Err(cwsync_store::StoreError::Conflict { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(SyncError::Unsettled {
        record: format!("the settings of tenant {tenant}"),
        detail: "they changed twice while saving; try again".to_owned(),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned cache only means another task panicked mid-insert; the map is still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use cwsync_connectwise::Query;
    use cwsync_connectwise::models::{Resource, State};
    use cwsync_connectwise_sim::{
        SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
    };
    use cwsync_runtime::config::Config;
    use cwsync_runtime::secrets::StaticTenantSecrets;

    const JOB: &str = "test-job";
    const HOUR: Duration = Duration::from_secs(3600);

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    /// A cache and a loader that counts its reads and returns the read's number.
    struct Loads {
        cache: ReferenceCache<usize>,
        reads: AtomicUsize,
    }

    impl Loads {
        fn new() -> Self {
            Loads {
                cache: ReferenceCache::new(),
                reads: AtomicUsize::new(0),
            }
        }

        async fn get(&self, tenant: &TenantId, run_id: &str, single: bool) -> usize {
            let read = || async { Ok(self.reads.fetch_add(1, Ordering::SeqCst) + 1) };
            *self
                .cache
                .get(tenant, run_id, single, HOUR, read)
                .await
                .unwrap()
        }
    }

    #[tokio::test]
    async fn concurrent_jobs_of_a_run_read_a_tenants_data_once() {
        let loads = Loads::new();
        let slow = |n: usize| async move {
            // The read takes a while: every other job asks meanwhile.
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            Ok(n)
        };
        let tenant = acme();
        let get = || {
            loads.cache.get(&tenant, "run-1", false, HOUR, || {
                slow(loads.reads.fetch_add(1, Ordering::SeqCst) + 1)
            })
        };
        let got = futures::future::join_all((0..4).map(|_| get())).await;
        let got: Vec<usize> = got.into_iter().map(|r| *r.unwrap()).collect();
        assert_eq!(got, [1, 1, 1, 1]);
        assert_eq!(
            loads.reads.load(Ordering::SeqCst),
            1,
            "one read for four jobs"
        );
        // Another tenant is not held up by, nor given, this one's data.
        let other = TenantId::parse("other").unwrap();
        assert_eq!(loads.get(&other, "run-1", false).await, 2);
    }

    #[tokio::test]
    async fn reference_data_is_read_once_per_run_and_again_for_the_next_run() {
        let loads = Loads::new();
        assert_eq!(loads.get(&acme(), "run-1", false).await, 1);
        assert_eq!(loads.get(&acme(), "run-1", false).await, 1);
        assert_eq!(loads.get(&acme(), "run-2", false).await, 2);
        assert_eq!(loads.get(&acme(), "run-2", true).await, 2);
        assert_eq!(loads.reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn each_tenant_has_its_own_reference_data() {
        let loads = Loads::new();
        let globex = TenantId::parse("globex").unwrap();
        assert_eq!(loads.get(&acme(), "run-1", false).await, 1);
        assert_eq!(loads.get(&globex, "run-1", false).await, 2);
        assert_eq!(loads.get(&acme(), "run-1", false).await, 1);
        assert_eq!(loads.get(&globex, "run-1", false).await, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_single_run_reuses_another_runs_data_only_while_it_is_younger_than_the_ttl() {
        let loads = Loads::new();
        assert_eq!(loads.get(&acme(), "run-1", false).await, 1);
        tokio::time::advance(HOUR - Duration::from_secs(1)).await;
        // A run of one unit reuses it; a tenant-wide run reads its own.
        assert_eq!(loads.get(&acme(), "single-1", true).await, 1);
        assert_eq!(loads.get(&acme(), "run-2", false).await, 2);
        tokio::time::advance(HOUR).await;
        // Too old now: read again, and that read serves the single run from then on.
        assert_eq!(loads.get(&acme(), "single-2", true).await, 3);
        assert_eq!(loads.get(&acme(), "single-2", false).await, 3);
        assert_eq!(loads.get(&acme(), "single-3", true).await, 3);
    }

    #[tokio::test]
    async fn a_failed_read_caches_nothing_and_is_the_jobs_error() {
        let cache: ReferenceCache<usize> = ReferenceCache::new();
        let error = cache
            .get(&acme(), "run-1", false, HOUR, || async {
                Err(SyncError::Unsettled {
                    record: "reference data".to_owned(),
                    detail: "not readable yet".to_owned(),
                })
            })
            .await
            .unwrap_err();
        assert!(error.to_string().contains("not readable yet"), "{error}");
        let read = cache
            .get(&acme(), "run-1", false, HOUR, || async { Ok(7) })
            .await
            .unwrap();
        assert_eq!(*read, 7);
    }

    /// A ConnectWise simulator and test dependencies with tenant `acme` pointing at it (and at a
    /// billing system when `billing`).
    async fn world(billing: bool) -> (Simulator, Deps) {
        let sim = Simulator::start(SimOptions::default()).await.unwrap();
        let mut secret = serde_json::json!({
            "site": sim.base_url(),
            "companyId": TEST_COMPANY_ID,
            "publicKey": TEST_PUBLIC_KEY,
            "privateKey": TEST_PRIVATE_KEY,
            "clientId": TEST_CLIENT_ID,
        });
        if billing {
            secret["billingUrl"] = "http://127.0.0.1:9/".into();
            secret["billingApiKey"] = "billing-key-never-shown".into();
        }
        let secrets = StaticTenantSecrets::new()
            .with_secret_json("acme", &secret.to_string())
            .unwrap();
        (sim, Deps::local(JOB, Config::local(), secrets))
    }

    fn connections(ttl: Duration) -> Connections<()> {
        Connections::new(
            JOB,
            ConnectOptions {
                cache_ttl: Some(ttl),
                timeout: Some(Duration::from_secs(5)),
                ..ConnectOptions::default()
            },
        )
    }

    fn codebase_lookups(sim: &Simulator) -> u64 {
        sim.calls().count("GET", "/login/companyinfo/{company}")
    }

    #[tokio::test]
    async fn a_settings_change_is_saved_once_and_a_change_already_made_saves_nothing() {
        let (_sim, deps) = world(false).await;
        let exclude = |settings: &mut TenantSettings| {
            if settings.ticket_import.excluded.contains(&7) {
                return false;
            }
            settings.ticket_import.excluded.push(7);
            true
        };
        let first = change_settings(&deps, &acme(), exclude).await.unwrap();
        assert_eq!(first, SettingsChange::Saved(1));
        let again = change_settings(&deps, &acme(), exclude).await.unwrap();
        assert_eq!(again, SettingsChange::Unchanged);
        let stored = settings(&deps, &acme()).await.unwrap();
        assert_eq!(stored.ticket_import.excluded, [7]);
        // A change the settings refuse is the store's error, and nothing is saved.
        let refused = change_settings(&deps, &acme(), |s: &mut TenantSettings| {
            s.error_attempts = 0;
            true
        })
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("errorAttempts"), "{refused}");
        assert_eq!(
            settings(&deps, &acme()).await.unwrap().error_attempts,
            stored.error_attempts
        );
    }

    #[tokio::test]
    async fn a_tenants_clients_are_built_once_and_again_after_an_eviction() {
        let (sim, deps) = world(true).await;
        let connections = connections(HOUR);
        for _ in 0..2 {
            connections.clients(&deps, &acme()).await.unwrap();
        }
        assert_eq!(codebase_lookups(&sim), 1);
        // Keys refused: the next job builds them again from the (re-read) secret.
        connections.evict(&deps, &acme()).await;
        connections.clients(&deps, &acme()).await.unwrap();
        assert_eq!(codebase_lookups(&sim), 2);
    }

    /// Every tenant's clients send through the function's one HTTP client: two tenants on one
    /// host (ConnectWise's cloud serves many) reuse one pooled connection instead of holding a
    /// pool and a TLS configuration each. A proxy in front of the simulator counts connections.
    #[tokio::test]
    async fn the_tenants_of_a_function_share_one_http_client_and_its_connections() {
        let (sim, mut deps) = world(true).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = format!("http://{}", listener.local_addr().unwrap());
        let upstream = sim
            .base_url()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect(upstream).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        let mut secrets = StaticTenantSecrets::new();
        for tenant in ["acme", "globex"] {
            let secret = serde_json::json!({
                "site": proxy,
                "companyId": TEST_COMPANY_ID,
                "publicKey": TEST_PUBLIC_KEY,
                "privateKey": TEST_PRIVATE_KEY,
                "clientId": TEST_CLIENT_ID,
                "billingUrl": "http://127.0.0.1:9/",
                "billingApiKey": "billing-key-never-shown",
            });
            secrets = secrets
                .with_secret_json(tenant, &secret.to_string())
                .unwrap();
        }
        deps.secrets = Arc::new(secrets);
        let connections = connections(HOUR);
        for tenant in [acme(), TenantId::parse("globex").unwrap()] {
            let clients = connections.clients(&deps, &tenant).await.unwrap();
            let _: Vec<State> = clients
                .cw
                .list_all(State::PATH, &Query::new())
                .await
                .unwrap();
        }
        assert_eq!(
            codebase_lookups(&sim),
            2,
            "each tenant looked its codebase up"
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "two tenants' four requests, one after another, went over one connection"
        );
    }

    #[tokio::test]
    async fn a_tenants_clients_are_built_again_once_older_than_the_ttl() {
        let (sim, deps) = world(true).await;
        let connections = connections(Duration::ZERO);
        for _ in 0..2 {
            connections.clients(&deps, &acme()).await.unwrap();
        }
        assert_eq!(codebase_lookups(&sim), 2);
    }

    #[tokio::test]
    async fn a_tenants_client_is_gated_on_its_shared_windows_at_the_tenants_rate() {
        let (sim, deps) = world(true).await;
        let mut settings = TenantSettings::default();
        settings.connect_wise.requests_per_second = 40;
        deps.stores
            .settings
            .put(&acme(), &settings, None)
            .await
            .unwrap();
        let connections: Connections<()> = Connections::new(
            JOB,
            ConnectOptions {
                gate_window: Some(Duration::from_millis(50)),
                timeout: Some(Duration::from_secs(5)),
                ..ConnectOptions::default()
            },
        );
        let clients = connections.clients(&deps, &acme()).await.unwrap();
        // 40 a second is 2 a 50 ms window, for the local limiter and the shared gate alike.
        assert_eq!(clients.gate.policy().limit, 2);
        assert_eq!(clients.gate.tenant(), &acme());
        let sent_before = sim.calls().total();
        for _ in 0..5 {
            let _: Vec<State> = clients
                .cw
                .list_all(State::PATH, &Query::new())
                .await
                .unwrap();
        }
        let sent = sim.calls().total() - sent_before;
        assert_eq!(sent, 5);
        assert_eq!(
            clients.gate.stats().admitted,
            sent,
            "every request was admitted"
        );
        let usage = deps
            .stores
            .request_windows
            .usage(&acme(), 50, 0, u64::MAX)
            .await
            .unwrap();
        assert!(usage.iter().all(|u| u.leased <= 2), "{usage:?}");
        assert!(usage.len() >= 3, "5 requests at 2 a window: {usage:?}");

        // A deployment's override is every tenant's rate.
        let overridden: Connections<()> = Connections::new(
            JOB,
            ConnectOptions {
                cw_rate: Some(RateLimit {
                    per_second: NonZeroU32::new(1_000).unwrap(),
                    ..RateLimit::default()
                }),
                ..ConnectOptions::default()
            },
        );
        let clients = overridden.clients(&deps, &acme()).await.unwrap();
        assert_eq!(clients.gate.policy().limit, 1_000);
    }

    #[tokio::test]
    async fn a_secret_without_the_billing_system_names_the_tenant_and_the_job() {
        let (_sim, deps) = world(false).await;
        let error = connections(HOUR).clients(&deps, &acme()).await.unwrap_err();
        assert!(
            matches!(&error, SyncError::NotConfigured { tenant, job, .. } if tenant == "acme" && *job == JOB),
            "{error:?}"
        );
        assert!(!error.is_transient());
        assert!(error.to_string().contains("billingUrl"), "{error}");
    }

    #[tokio::test]
    async fn an_unknown_tenant_is_its_secrets_error_and_no_key_is_shown() {
        let (_sim, deps) = world(true).await;
        let globex = TenantId::parse("globex").unwrap();
        let error = connections(HOUR).clients(&deps, &globex).await.unwrap_err();
        assert!(matches!(error, SyncError::Secrets(_)), "{error:?}");
        assert!(error.to_string().contains("globex"), "{error}");
        let connections = connections(HOUR);
        let clients = connections.clients(&deps, &acme()).await.unwrap();
        let shown = format!("{clients:?} {connections:?}");
        for key in [TEST_PRIVATE_KEY, "billing-key-never-shown"] {
            assert!(!shown.contains(key), "{shown}");
        }
    }

    #[tokio::test]
    async fn the_calls_a_tenants_client_made_are_counted_into_the_jobs_metrics() {
        let (sim, deps) = world(true).await;
        let connections = connections(HOUR);
        let tenants = [acme(), acme()];
        let before = connections.client_stats(&deps, tenants.iter()).await;
        let sent_before = sim.calls().total();
        let clients = connections.clients(&deps, &acme()).await.unwrap();
        let states: Vec<State> = clients
            .cw
            .list_all(State::PATH, &Query::new())
            .await
            .unwrap();
        assert!(!states.is_empty());
        let sent = sim.calls().total() - sent_before;
        connections.count_calls(&deps, before).await;

        let mut out = Vec::new();
        deps.metrics
            .flush_to(&mut out, None, std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["tenant"], "acme");
        assert_eq!(line["job_kind"], JOB);
        assert!(sent > 0);
        assert_eq!(line[cwsync_runtime::metrics::CONNECTWISE_CALLS], sent);
        assert_eq!(line[cwsync_runtime::metrics::CONNECTWISE_THROTTLES], 0);
    }
}
