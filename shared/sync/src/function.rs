//! What every cwsync function holds across invocations, whatever its job: its dependencies,
//! its per-tenant clients and reference data, the idempotency of its jobs and how many jobs of
//! one SQS batch it handles at once ([`FunctionCore`]).
//!
//! A function keeps its core in a field and dereferences to it, so its handlers read
//! `self.deps`, `self.connections`, `self.idempotency`, `self.concurrency`, `self.now()` and
//! `self.clients(tenant)` alike in every function, and add only what is their own (schedule
//! claims, page sizes, callbacks).

use std::sync::Arc;

use cwsync_runtime::Deps;
use cwsync_store::TenantId;
use cwsync_store::idempotency::Idempotency;
use time::OffsetDateTime;

use crate::SyncError;
use crate::tenant::{ConnectOptions, Connections, TenantClients};

/// Jobs of one SQS batch a function handles at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The state every function keeps across invocations.
#[derive(Debug)]
pub struct FunctionCore<R> {
    /// Stores, queues, secrets, metrics.
    pub deps: Arc<Deps>,
    /// Per-tenant clients and reference data (`R`).
    pub connections: Connections<R>,
    /// Jobs run at most once per job key.
    pub idempotency: Idempotency,
    /// Jobs of one SQS batch handled at once.
    pub concurrency: usize,
}

impl<R: Send + Sync + 'static> FunctionCore<R> {
    /// The core of the function running `job`'s jobs over `deps`, its clients built with
    /// `options`, handling [`DEFAULT_CONCURRENCY`] jobs of a batch at once.
    pub fn new(job: &'static str, deps: Arc<Deps>, options: ConnectOptions) -> Self {
        let idempotency = Idempotency::new(Arc::clone(&deps.stores.idempotency));
        FunctionCore {
            deps,
            connections: Connections::new(job, options),
            idempotency,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Claims kept `ttl` in the function's idempotency store: a schedule's slots or days,
    /// claimed once however many ticks come.
    pub fn claims(&self, ttl: time::Duration) -> Idempotency {
        Idempotency::new(Arc::clone(&self.deps.stores.idempotency)).with_record_ttl(ttl)
    }

    /// Now, for runs, links and the ledger.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// The tenant's clients (see [`Connections::clients`]).
    pub async fn clients(&self, tenant: &TenantId) -> Result<TenantClients, SyncError> {
        self.connections.clients(&self.deps, tenant).await
    }
}
