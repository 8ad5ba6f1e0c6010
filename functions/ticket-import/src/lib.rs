//! `ticket-import`: finished ConnectWise service tickets, their time and products → billing
//! service calls (seeds 000 "Service Sync", ID965).
//!
//! One function, three ways in: the schedule (`{"action":"scheduled"}`: every tenant whose
//! `schedules.ticketImport` interval has come, see [`console`]), console events
//! ([`console::Event`]: import now, import one ticket, exclude a ticket, report, errors), and SQS
//! job batches from the ticket queue ([`jobs`]: a tenant's planning, one job per ticket). The
//! planning ([`plan`]) lists the tickets changed since the tenant's watermark in an import status
//! and with time logged, and fans them out; each ticket job ([`ticket`]) reads its ticket afresh,
//! maps it with the pure `cwsync_mapping::tickets` and creates or updates its call. All of it runs
//! on the shared sync machinery (`cwsync_sync`: runs, the error ledger, idempotent jobs, tenant
//! clients and reference data).
//!
//! ConnectWise callbacks (real time) are received, verified and handed over as ticket changes by
//! [`callback`], and registered by [`callbacks_admin`]; [`callback_routes`] routes both.
//!
//! The other way, [`moving`] turns billing calls flagged for ConnectWise into ConnectWise tickets
//! (seeds "Moving Tickets", ID912); the import completes those calls when their tickets finish.

pub mod callback;
pub mod callback_keys;
pub mod callback_routes;
pub mod callbacks_admin;
pub mod realtime;

pub mod console;
pub mod jobs;
pub mod moving;
pub mod plan;
pub mod reference;
pub mod ticket;

use std::sync::Arc;

use callback_keys::KeyError;
use callback_routes::{Callbacks, Routed};
use cwsync_mapping::tickets::TicketReference;
use cwsync_runtime::Deps;
use cwsync_store::idempotency::Idempotency;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::{Invocation, batch_answer, deadline_of};
use cwsync_sync::tenant::{ConnectOptions, TenantClients};
use cwsync_sync::{FunctionCore, RunBook, SyncError};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use time::OffsetDateTime;

pub use console::Event;

/// The function's name, as deployed and as reported.
pub const FUNCTION: &str = "ticket-import";
/// The job kind of its runs.
pub const JOB_KIND: &str = "ticket-import";
/// The watermark stream of a tenant's service tickets.
pub const STREAM: &str = "service-tickets";
/// The watermark stream of a tenant's project tickets (and the projects closed).
pub const PROJECT_STREAM: &str = "project-tickets";
/// Ticket jobs of one SQS batch handled at once.
pub use cwsync_sync::function::DEFAULT_CONCURRENCY;
/// Tickets whose time entries one ConnectWise read asks for (`chargeToId in (...)`).
pub const TIME_ENTRY_BATCH: usize = 50;
/// How long a tenant's scheduled slot stays claimed: past the longest interval.
pub const SLOT_CLAIM_TTL: time::Duration = time::Duration::hours(48);

/// The function's state across invocations: the core every function has (read through it:
/// `self.deps`, `self.now()`, …) and the import's own.
#[derive(Debug)]
pub struct TicketImport {
    /// Deps, clients and reference data, job idempotency, batch concurrency.
    pub core: FunctionCore<TicketReference>,
    /// Each tenant's scheduled slots, claimed once (kept [`SLOT_CLAIM_TTL`]).
    pub slot_claims: Idempotency,
    /// Tickets per time-entry read ([`TIME_ENTRY_BATCH`]).
    pub time_entry_batch: usize,
    /// The callback receiver and `register-callbacks` (see [`TicketImport::with_realtime`]).
    pub callbacks: Option<Arc<Callbacks>>,
}

impl std::ops::Deref for TicketImport {
    type Target = FunctionCore<TicketReference>;
    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl TicketImport {
    /// The function over `deps`, its clients built with `options`.
    pub fn new(deps: Arc<Deps>, options: ConnectOptions) -> Self {
        let core = FunctionCore::new(JOB_KIND, deps, options);
        TicketImport {
            slot_claims: core.claims(SLOT_CLAIM_TTL),
            core,
            time_entry_batch: TIME_ENTRY_BATCH,
            callbacks: None,
        }
    }

    /// The function as deployed: [`TicketImport::new`] that also answers ConnectWise callbacks
    /// (Function URL requests, each verified and turned into one ticket job by
    /// [`realtime::QueueSink`]) and `register-callbacks`. Fails only when the signing-key client
    /// cannot be built.
    pub fn with_realtime(deps: Arc<Deps>, options: ConnectOptions) -> Result<Self, KeyError> {
        let sink = Arc::new(realtime::QueueSink::new(Arc::clone(&deps)));
        let callbacks = Callbacks::new(Arc::clone(&deps), sink, options.clone())?;
        Ok(TicketImport {
            callbacks: Some(Arc::new(callbacks)),
            ..Self::new(deps, options)
        })
    }

    /// Where the import records its runs: one unit per ticket. A ticket's job that fails as a
    /// whole is on the error ledger, where the next run's planning finds it: its ticket is
    /// behind the watermark already.
    pub fn run_book(&self) -> RunBook {
        RunBook::new(
            Arc::clone(&self.deps),
            JOB_KIND,
            cwsync_mapping::tickets::entity::TICKET,
        )
        .with_job_failures_on_ledger()
    }

    /// The tenant's reference data for run `run_id` (`single`: a run of one ticket, which may
    /// reuse a recent run's).
    pub async fn reference(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        single: bool,
        clients: &TenantClients,
    ) -> Result<Arc<TicketReference>, SyncError> {
        self.connections
            .reference(&self.deps, tenant, run_id.as_str(), single, || {
                reference::read_reference(&clients.cw, &clients.billing)
            })
            .await
    }

    /// Handles one raw payload: a ConnectWise callback or `register-callbacks` (with
    /// [`TicketImport::with_realtime`]), an SQS batch (it has `Records`) or a console event.
    pub async fn handle(
        &self,
        payload: Value,
        deadline: OffsetDateTime,
    ) -> Result<Value, Diagnostic> {
        let payload = match &self.callbacks {
            Some(callbacks) => match callbacks.route(payload).await {
                Routed::Answer(answer) => return answer,
                Routed::NotOurs(payload) => payload,
            },
            None => payload,
        };
        match Invocation::<Event>::parse(FUNCTION, payload)? {
            Invocation::Jobs(event) => batch_answer(&self.handle_jobs(event, deadline).await),
            Invocation::Event(event) => self.handle_event(event).await,
        }
    }

    /// The Lambda entry.
    pub async fn handle_lambda(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let deadline = deadline_of(&event.context);
        self.handle(event.payload, deadline).await
    }
}
