//! `daily-export`: products, subscriptions and user lists exported to ConnectWise catalog items,
//! agreement additions and agreement documents, every day and on demand.
//!
//! One function, three ways in: the schedule (`{"action":"scheduled"}`, every 15 minutes: the
//! tenants whose own time of day has come, see [`schedule`]), console events ([`console::Event`]:
//! export now, disable, enable, report, errors), and SQS job batches from the export queue
//! ([`jobs`]: a tenant's planning, one job per page of changed products, one per account). The
//! planning ([`plan`]) fans out the changed catalog ([`catalog`]) and, once its pages are done,
//! the accounts ([`account`]); all of it runs on the shared sync machinery (`cwsync_sync`:
//! claims, staged runs, the error ledger, idempotent jobs) and the pure mapping
//! `cwsync_mapping::export`.

pub mod account;
pub mod catalog;
pub mod console;
pub mod documents;
pub mod jobs;
pub mod plan;
pub mod reference;
pub mod schedule;

use std::sync::Arc;

use cwsync_connectwise::Client;
use cwsync_mapping::export::ExportReference;
use cwsync_mapping::settings::TenantSettings;
use cwsync_runtime::Deps;
use cwsync_store::idempotency::Idempotency;
use cwsync_store::links::LinkStore;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::{Invocation, batch_answer, deadline_of};
use cwsync_sync::tenant::ConnectOptions;
use cwsync_sync::{FunctionCore, RunBook, SyncError};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use time::OffsetDateTime;

pub use console::Event;

/// The function's name, as deployed and as reported.
pub const FUNCTION: &str = "daily-export";
/// The job kind of its runs.
pub const JOB_KIND: &str = "daily-export";
/// How long a tenant's scheduled day stays claimed: past the longest local day, so a tick
/// late in a day never starts it again.
pub const DAY_CLAIM_TTL: time::Duration = time::Duration::hours(48);
/// Account jobs of one SQS batch handled at once.
pub use cwsync_sync::function::DEFAULT_CONCURRENCY;
/// Products per catalog page job: a page's identifier lookups fit one ConnectWise read, and its
/// creates fit one invocation.
pub const CATALOG_PAGE_SIZE: usize = 100;
/// Accounts a planner handles at once: their companies and agreements are read (1,000 ids a
/// read either way), their jobs built and sent a page at a time, so planning a tenant of any
/// size holds one page's hints, not every account's.
pub const ACCOUNT_PAGE_SIZE: usize = 1000;
/// The unit entities of an export run: its catalog pages (stage 1, when the catalog changed),
/// then its accounts.
pub const UNITS: &[&str] = &[catalog::PAGE, account::ACCOUNT];

/// What one export touches: the tenant, its settings and reference data, its clients and links.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The tenant.
    pub tenant: &'a TenantId,
    /// Plan and report only; write nothing.
    pub dry_run: bool,
    /// The tenant's settings.
    pub settings: &'a TenantSettings,
    /// ConnectWise reference data of the run.
    pub reference: &'a ExportReference,
    /// The tenant's ConnectWise.
    pub cw: &'a Client,
    /// The links.
    pub links: &'a dyn LinkStore,
    /// When the export runs.
    pub now: OffsetDateTime,
}

impl<'a> Scope<'a> {
    /// The claim-before-create of `source` in this scope (its tenant, links, time and dry run).
    pub fn creation(
        &self,
        source: cwsync_store::links::SourceRef<'a>,
        cw_kind: &'a str,
        what: &'a str,
        natural_key: &'a str,
        fingerprint: &'a str,
    ) -> cwsync_sync::Creation<'a> {
        cwsync_sync::Creation {
            tenant: self.tenant,
            links: self.links,
            source,
            cw_kind,
            what,
            natural_key,
            fingerprint,
            now: self.now,
            dry_run: self.dry_run,
            defer_taken: false,
        }
    }
}

/// The function's state across invocations: the core every function has (read through it:
/// `self.deps`, `self.now()`, …) and the export's own.
#[derive(Debug)]
pub struct DailyExport {
    /// Deps, clients and reference data, job idempotency, batch concurrency.
    pub core: FunctionCore<ExportReference>,
    /// Each tenant's scheduled day, claimed once (kept [`DAY_CLAIM_TTL`]).
    pub day_claims: Idempotency,
    /// Products per catalog page job ([`CATALOG_PAGE_SIZE`]; smaller in tests).
    pub catalog_page_size: usize,
    /// Accounts a planner reads hints for and sends jobs of at once ([`ACCOUNT_PAGE_SIZE`];
    /// smaller in tests).
    pub account_page_size: usize,
    /// Records per document page job ([`documents::PAGE_SIZE`]; smaller in tests).
    pub document_page_size: usize,
}

impl std::ops::Deref for DailyExport {
    type Target = FunctionCore<ExportReference>;
    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl DailyExport {
    /// The function over `deps`, its clients built with `options`.
    pub fn new(deps: Arc<Deps>, options: ConnectOptions) -> Self {
        let core = FunctionCore::new(JOB_KIND, deps, options);
        DailyExport {
            day_claims: core.claims(DAY_CLAIM_TTL),
            core,
            catalog_page_size: CATALOG_PAGE_SIZE,
            account_page_size: ACCOUNT_PAGE_SIZE,
            document_page_size: documents::PAGE_SIZE,
        }
    }

    /// Where the export records its runs, as the account jobs see them: their unit is an
    /// account (a run's units are its catalog pages and its accounts, see [`UNITS`]).
    pub fn run_book(&self) -> RunBook {
        RunBook::new(Arc::clone(&self.deps), JOB_KIND, account::ACCOUNT).with_units(UNITS)
    }

    /// Where the catalog page jobs record: their unit is a catalog page.
    pub fn catalog_book(&self) -> RunBook {
        RunBook::new(Arc::clone(&self.deps), JOB_KIND, catalog::PAGE).with_units(UNITS)
    }

    /// What an export of `tenant` at `now` touches, with its settings, reference data and
    /// ConnectWise client (the links are the function's).
    pub fn scope<'a>(
        &'a self,
        tenant: &'a TenantId,
        dry_run: bool,
        settings: &'a TenantSettings,
        reference: &'a ExportReference,
        cw: &'a Client,
        now: OffsetDateTime,
    ) -> Scope<'a> {
        Scope {
            tenant,
            dry_run,
            settings,
            reference,
            cw,
            links: self.deps.stores.links.as_ref(),
            now,
        }
    }

    /// The tenant's reference data for run `run_id`: read once per run and warm function.
    pub async fn reference(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        cw: &Client,
    ) -> Result<Arc<ExportReference>, SyncError> {
        self.connections
            .reference(&self.deps, tenant, run_id.as_str(), false, || {
                reference::read_reference(cw)
            })
            .await
    }

    /// Handles one raw payload: an SQS batch (it has `Records`) or a console event.
    pub async fn handle(
        &self,
        payload: Value,
        deadline: OffsetDateTime,
    ) -> Result<Value, Diagnostic> {
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
