//! Everything one tenant's job needs before it touches a record: its settings, its ConnectWise
//! client and its billing client, and the ConnectWise reference data of the run.
//!
//! Clients are cached per tenant for the secret cache's TTL, so a warm function pays the codebase
//! look-up once, not once per job; a refused key evicts them (and the cached secret) so a rotated
//! key is picked up on the next attempt. Reference data is cached per tenant and run. Nothing here
//! ever logs or returns a key: errors name the tenant and what is missing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cwsync_billing::{BillingClient, BillingConfig};
use cwsync_connectwise::models::{
    CommunicationType, CompanyStatus, CompanyType, Country, Currency, Resource, State,
};
use cwsync_connectwise::{Client, ClientConfig, CwError, Query, RateLimit, RetryPolicy};
use cwsync_mapping::customers::CustomerReference;
use cwsync_mapping::settings::{CwRef, TenantSettings};
use cwsync_runtime::Deps;
use cwsync_store::TenantId;

use crate::SyncError;

/// How clients are built: the production defaults, or short retries for tests and local runs.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// ConnectWise retry policy (the client's default when `None`).
    pub cw_retry: Option<RetryPolicy>,
    /// ConnectWise rate limit (the client's default when `None`).
    pub cw_rate: Option<RateLimit>,
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
}

#[derive(Debug)]
struct Cached<T> {
    value: T,
    at: Instant,
}

#[derive(Debug)]
struct CachedReference {
    run_id: String,
    reference: Arc<CustomerReference>,
    at: Instant,
}

/// Per-tenant clients and reference data, shared by every invocation of a warm function.
#[derive(Debug, Default)]
pub struct Connections {
    options: ConnectOptions,
    clients: Mutex<HashMap<String, Cached<TenantClients>>>,
    references: Mutex<HashMap<String, CachedReference>>,
}

impl Connections {
    /// Connections built with `options`.
    pub fn new(options: ConnectOptions) -> Self {
        Connections {
            options,
            ..Connections::default()
        }
    }

    fn ttl(&self, deps: &Deps) -> Duration {
        self.options
            .cache_ttl
            .unwrap_or(deps.config.secret_cache_ttl)
    }

    /// The tenant's clients: cached, or built from its secret (one codebase look-up).
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
                    job: crate::JOB_KIND,
                    reason: "its secret has no billingUrl and billingApiKey: the customer sync needs the billing system's API".to_owned(),
                })?;
        let mut cw_config: ClientConfig = credentials.client_config();
        if let Some(retry) = self.options.cw_retry {
            cw_config.retry = retry;
        }
        if let Some(rate) = self.options.cw_rate {
            cw_config.rate = rate;
        }
        if let Some(timeout) = self.options.timeout {
            cw_config.timeout = timeout;
        }
        let cw = Client::connect(cw_config)
            .await
            .map_err(|error| SyncError::connectwise("connecting to ConnectWise", error))?;
        let mut billing_config =
            BillingConfig::new(billing_credentials.url, billing_credentials.api_key);
        if let Some(retry) = self.options.billing_retry {
            billing_config.retry = retry;
        }
        if let Some(timeout) = self.options.timeout {
            billing_config.timeout = timeout;
        }
        let billing = BillingClient::new(billing_config)
            .map_err(|error| SyncError::billing("configuring the billing client", error))?;
        let clients = TenantClients { cw, billing };
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

    /// The ConnectWise reference data for `run_id`: read once per run (four paged reads), so a
    /// state or type just added in ConnectWise counts from the next run on. A run of one account
    /// (`single`: a billing change, a console sync) may reuse the data of a run younger than
    /// the cache TTL, so a stream of account changes doesn't read it once per change.
    pub async fn reference(
        &self,
        deps: &Deps,
        tenant: &TenantId,
        run_id: &str,
        single: bool,
        cw: &Client,
    ) -> Result<Arc<CustomerReference>, SyncError> {
        let ttl = self.ttl(deps);
        if let Some(hit) = lock(&self.references)
            .get(tenant.as_str())
            .filter(|c| c.run_id == run_id || (single && c.at.elapsed() < ttl))
        {
            return Ok(Arc::clone(&hit.reference));
        }
        let reference = Arc::new(read_reference(cw).await?);
        lock(&self.references).insert(
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

/// Reads the reference data a customer sync resolves names against.
pub async fn read_reference(cw: &Client) -> Result<CustomerReference, SyncError> {
    let query = Query::new();
    let context = "reading ConnectWise reference data";
    let wrap = |error: CwError| SyncError::connectwise(context, error);
    // No currencies: the ConnectWise API has no currency endpoint (not in the 2026.4 API), so
    // companies keep ConnectWise's default currency and an account's currency is not applied.
    let (states, countries, company_types, company_statuses, communication_types) = tokio::try_join!(
        async {
            cw.list_all::<State>(State::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<Country>(Country::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<CompanyType>(CompanyType::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<CompanyStatus>(CompanyStatus::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<CommunicationType>(CommunicationType::PATH, &query)
                .await
                .map_err(wrap)
        },
    )?;
    Ok(CustomerReference {
        states,
        countries,
        company_types,
        company_statuses,
        currencies: Vec::new(),
        communication_types,
    })
}

/// `reference` with the tenant's currency mapping (`mappings.currencies`, code → ConnectWise
/// id) as its currencies: ConnectWise has no currency list to read.
pub fn with_currencies(
    reference: Arc<CustomerReference>,
    settings: &TenantSettings,
) -> Arc<CustomerReference> {
    let currencies: Vec<Currency> = settings
        .mappings
        .currencies
        .iter()
        .filter_map(|(code, target)| match target {
            CwRef::Id(id) => Some(Currency {
                id: Some(*id),
                currency_code: Some(code.clone()),
                ..Currency::default()
            }),
            CwRef::Name(_) => None,
        })
        .collect();
    if currencies.is_empty() {
        return reference;
    }
    let mut with = (*reference).clone();
    with.currencies = currencies;
    Arc::new(with)
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned cache only means another task panicked mid-insert; the map is still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
