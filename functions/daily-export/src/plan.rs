//! Planning a tenant's export run (issue 9 §2, §6): read what the billing system holds, export the
//! catalog, then fan out one job per account whose export may change something.
//!
//! 1. The billing side in a few paged reads: the subscriptions (all, or of the accounts asked
//!    for), the products, and the users when the user list is exported. A listed record that is
//!    not valid is its failed line, named by its id and field.
//! 2. **The catalog** is exported by the planner itself, before any account job, so every
//!    account's additions find their catalog items: products whose stamp (what the product and
//!    the tenant's settings were, and the catalog item's `_info.lastUpdated`, when it was last
//!    written or verified) is unchanged cost one read per 1,000 items (the stamps, `fields=`);
//!    the others are exported in batched reads and one write each where something differs.
//! 3. **The mass-change guard**: when the run would cancel or zero more than the tenant's share of
//!    its live additions, the run is planned as a dry run (nothing is written) unless the console
//!    confirmed it, and its report says what it would have done.
//! 4. **Accounts**: an account whose stamp (its subscriptions, their products and catalog items,
//!    its users and company, the settings) is what its last export recorded is reported
//!    unchanged without a job. The others get one job each, with the company and the company's
//!    agreements read for a page of 1,000 accounts at once (`id in (...)`, `company/id in
//!    (...)`) and passed, typed and trimmed to what the job reads, as hints it uses on its first
//!    delivery; the jobs go out a page at a time, so the planner holds one page's hints.
//!
//! What the stamps can't see: an addition changed by hand in ConnectWise (ConnectWise lists
//! additions only per agreement, so checking each would cost a read per agreement every day) is
//! corrected when its subscription next changes, or by an `export-now` with `"full": true`.

use std::collections::{BTreeSet, HashMap, HashSet};

use cwsync_billing::models::{AccountUser, Product, Subscription};
use cwsync_billing::{ProductQuery, SubscriptionQuery, UserQuery};
use cwsync_connectwise::Query;
use cwsync_connectwise::models::{Addition, Agreement, CatalogItem, Company, Reference, Resource};
use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::export::{PlannedAddition, entity, mass_change, user_list_csv};
use cwsync_mapping::fingerprint;
use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::{Job, JobKind};
use cwsync_runtime::Queue;
use cwsync_store::links::{Link, LinkState};
use cwsync_store::runs::Outcome;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::send_jobs;
use cwsync_sync::{FollowUp, Recorder, SyncError, UnitResult};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::DailyExport;
use crate::account::{ACCOUNT, AdditionPlace};
use crate::catalog;
use crate::documents::{Document, DocumentsRequest};

/// The payload of a [`JobKind::DailyExportPlan`] job and of the console's `export-now`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanRequest {
    /// Only these accounts (all accounts with subscriptions when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_ids: Option<Vec<String>>,
    /// Write even when the mass-change guard trips.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirm_mass_change: bool,
    /// Export every account, unchanged stamps or not (corrects additions changed by hand).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
    /// Set on the continuation a staged run sends once the catalog pages of this stage are
    /// done: plan the run's accounts (extending the run), not the whole run. Never set by the
    /// console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues_stage: Option<u32>,
    /// Start the tenant's document runs with this run (each kind the tenant syncs, see
    /// [`crate::documents`]): set by the schedule and by `export-now` with `"documents": true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub documents: bool,
}

/// The payload of a [`JobKind::DailyExportCatalog`] job: one page of the run's stale products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogJob {
    /// The page's number in its run (from 1): its line is `catalog-page` `page-{n}`.
    pub page: u32,
    /// The products to export (at most [`crate::DailyExport::catalog_page_size`]).
    pub product_ids: Vec<String>,
}

impl CatalogJob {
    /// The page's unit id in its run (`page-3`).
    pub fn unit_id(&self) -> String {
        format!("page-{}", self.page)
    }
}

/// The payload of a [`JobKind::DailyExportAccount`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountJob {
    /// The billing account's id.
    pub account_id: String,
    /// The company and its agreements as the planner read them (honoured on the first delivery
    /// only; a later delivery reads them again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<AccountHint>,
}

/// What the planner read for an account job: only what the job uses, typed, so a page of them
/// is small in the planner and in the messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountHint {
    /// The company.
    pub company: HintCompany,
    /// The company's agreements.
    pub agreements: Vec<HintAgreement>,
    /// The company's first contact, when it has no default contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_contact: Option<i64>,
}

/// A reference as a hint keeps it: its id (ConnectWise's other reference fields are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    /// The referenced record's id.
    #[serde(default)]
    pub id: Option<i64>,
}

/// A company as an account job reads it (`fields=id,name,defaultContact`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HintCompany {
    /// The company's id.
    pub id: i64,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its default contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_contact: Option<IdRef>,
}

impl From<HintCompany> for Company {
    fn from(hint: HintCompany) -> Company {
        Company {
            id: Some(hint.id),
            name: hint.name,
            default_contact: hint.default_contact.map(|c| Reference {
                id: c.id,
                ..Reference::default()
            }),
            ..Company::default()
        }
    }
}

/// An agreement as matching reads it ([`crate::account::AGREEMENT_FIELDS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HintAgreement {
    /// The agreement's id.
    #[serde(default)]
    pub id: Option<i64>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its agreement type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<IdRef>,
    /// Its company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<IdRef>,
    /// Whether it is cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_flag: Option<bool>,
    /// Its status (`Active`, `Cancelled`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_status: Option<String>,
}

impl From<HintAgreement> for Agreement {
    fn from(hint: HintAgreement) -> Agreement {
        let reference = |r: Option<IdRef>| {
            r.map(|r| Reference {
                id: r.id,
                ..Reference::default()
            })
        };
        Agreement {
            id: hint.id,
            name: hint.name,
            kind: reference(hint.kind),
            company: reference(hint.company),
            cancelled_flag: hint.cancelled_flag,
            agreement_status: hint.agreement_status,
            ..Agreement::default()
        }
    }
}

/// A contact as the hints read it (`fields=id,company/id`).
#[derive(Debug, Deserialize)]
struct HintContact {
    id: i64,
    company: Option<IdRef>,
}

/// The payload field of [`AccountJob::hint`], left out of the idempotency key.
pub const HINT_FIELD: &str = "hint";
/// The payload field of [`CatalogJob::product_ids`], left out of the idempotency key: a page is
/// its run's page by its number.
pub const PRODUCTS_FIELD: &str = "productIds";

/// What planning did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedExport {
    /// The run (read it with the `report` action).
    pub run_id: String,
    /// Accounts in the run.
    pub accounts: u64,
    /// Jobs this planning sent: the account jobs, or, when the catalog changed, its catalog page
    /// jobs (the account jobs follow from the run's continuation once the pages are done).
    pub jobs_sent: u64,
    /// Catalog page jobs of the run (0: the catalog needed nothing and the accounts went out at
    /// once).
    pub catalog_pages: u64,
    /// Accounts unchanged since their last export (no job).
    pub unchanged: u64,
    /// Whether the run only plans (asked for, or the guard tripped).
    pub dry_run: bool,
    /// Why the mass-change guard stopped the run's writes, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mass_change_guard: Option<serde_json::Value>,
    /// The document runs started with this run (`{document, runId}`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub document_runs: Vec<serde_json::Value>,
}

/// The largest hint an account job carries, serialized: far under SQS's 256 KiB a message, so
/// a company with hundreds of agreements still makes a job (one whose hint is left out reads
/// its company and agreements itself).
pub const MAX_HINT_BYTES: usize = 64 * 1024;

/// `hint`, unless it is larger than [`MAX_HINT_BYTES`].
fn bounded_hint(hint: AccountHint) -> Option<AccountHint> {
    let size = serde_json::to_vec(&hint).map_or(usize::MAX, |bytes| bytes.len());
    (size <= MAX_HINT_BYTES).then_some(hint)
}

/// The entity of the mass-change guard's line in a run.
pub const GUARD: &str = "mass-change-guard";

/// What planning a run's accounts reads from.
#[derive(Debug, Clone, Copy)]
struct AccountsInputs<'a> {
    tenant: &'a TenantId,
    run_id: &'a RunId,
    request: &'a PlanRequest,
    settings: &'a TenantSettings,
    cw: &'a cwsync_connectwise::Client,
    billing: &'a BillingSide,
    accounts: &'a BTreeSet<String>,
}

/// Which stage a run's accounts are.
#[derive(Debug)]
enum AccountsStage {
    /// The run's only stage: starts the run, whose first lines are these.
    Only(Vec<cwsync_sync::RecordResult>),
    /// The continuation of this (catalog) stage: extends the run.
    Continues(u32),
}

/// Whether `run` was planned in stages (its continuation is pending, or it is past stage 1).
fn is_staged(run: &cwsync_store::runs::Run) -> bool {
    run.stage > 1 || run.continuation.is_some()
}

/// A job of run `run_id` (`what` names it in an error: `catalog page 2`).
pub(crate) fn export_job(
    kind: JobKind,
    tenant: &TenantId,
    run_id: &RunId,
    dry_run: bool,
    payload: &impl Serialize,
    what: impl FnOnce() -> String,
) -> Result<Job, SyncError> {
    Job::new(
        kind,
        tenant.as_str(),
        run_id.as_str(),
        dry_run,
        serde_json::to_value(payload).unwrap_or_default(),
    )
    .map_err(|e| SyncError::Unsettled {
        record: format!("the job of {} in run {run_id}", what()),
        detail: e.to_string(),
    })
}

/// What the billing side holds for a run.
#[derive(Debug, Default)]
pub struct BillingSide {
    /// Subscriptions by account (each account's in `(updatedAt, id)` order).
    pub subscriptions: HashMap<String, Vec<Subscription>>,
    /// Products by id.
    pub products: HashMap<String, Product>,
    /// Users by account (when the user list is exported).
    pub users: HashMap<String, Vec<AccountUser>>,
    /// The malformed records' lines.
    pub malformed: Vec<cwsync_sync::RecordResult>,
}

impl DailyExport {
    /// Plans run `run_id` of `tenant` (see the module docs): its first stage, or, for the
    /// continuation a staged run sends once its catalog pages are done
    /// ([`PlanRequest::continues_stage`]), its accounts.
    pub async fn plan_run(
        &self,
        tenant: &TenantId,
        run_id: RunId,
        dry_run: bool,
        request: &PlanRequest,
    ) -> Result<PlannedExport, SyncError> {
        let deps = &*self.deps;
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        if !settings.export.enabled {
            return Err(SyncError::NotConfigured {
                tenant: tenant.to_string(),
                job: crate::FUNCTION,
                reason: "the export is disabled (export.enabled is false): enable it with the \
                         `enable` action"
                    .to_owned(),
            });
        }
        // The day's document runs go out first (each runs once by its job key: a redelivered
        // planner sends them again to no effect).
        let document_runs = if request.documents && request.continues_stage.is_none() {
            self.start_document_runs(tenant, &run_id, dry_run, &settings)
                .await?
        } else {
            Vec::new()
        };
        // A run already started tells a redelivered planner what it planned: a staged run's
        // catalog pages were all sent before it was started, and its accounts are its
        // continuation's; a run of one stage had no stale catalog and resends its account jobs.
        let started = match request.continues_stage {
            Some(_) => None,
            None => deps.stores.runs.get(tenant, &run_id).await?,
        };
        if let Some(run) = started.as_ref().filter(|r| is_staged(r)) {
            self.run_book().finish_if_done(tenant, &run_id).await?;
            return Ok(PlannedExport {
                run_id: run_id.to_string(),
                accounts: 0,
                jobs_sent: 0,
                catalog_pages: run.planned.unwrap_or(0),
                unchanged: 0,
                dry_run: run.dry_run,
                mass_change_guard: None,
                document_runs,
            });
        }
        let clients = self.clients(tenant).await?;
        let billing =
            read_billing(&clients.billing, &settings, request.account_ids.as_deref()).await?;
        let now = self.now();

        // The accounts in the run: those asked for, else every account with a subscription.
        let accounts: BTreeSet<String> = match &request.account_ids {
            Some(ids) => ids.iter().cloned().collect(),
            None => billing.subscriptions.keys().cloned().collect(),
        };
        let mut planned = PlannedExport {
            run_id: run_id.to_string(),
            accounts: accounts.len() as u64,
            jobs_sent: 0,
            catalog_pages: 0,
            unchanged: 0,
            dry_run,
            mass_change_guard: None,
            document_runs,
        };
        let inputs = AccountsInputs {
            tenant,
            run_id: &run_id,
            request,
            settings: &settings,
            cw: &clients.cw,
            billing: &billing,
            accounts: &accounts,
        };

        // The continuation of a staged run: its accounts, under the run's dry-run flag (the
        // mass-change guard decided it in the first stage, whose lines are recorded).
        if let Some(stage) = request.continues_stage {
            let next = AccountsStage::Continues(stage);
            Box::pin(self.plan_accounts(&inputs, dry_run, next, &mut planned)).await?;
            return Ok(planned);
        }

        // The mass-change guard decides whether this run writes at all.
        let sub_ids: Vec<String> = billing
            .subscriptions
            .values()
            .flatten()
            .map(|s| s.id.clone())
            .collect();
        let addition_links = deps
            .stores
            .links
            .get_many(tenant, entity::ADDITION, &sub_ids)
            .await?;
        let trip = guard(&billing, &addition_links, &settings, now);
        let guarded = trip.is_some() && !request.confirm_mass_change && !dry_run;
        // A run already started keeps the flag it was started with (its jobs' keys hold it).
        let dry_run = started
            .as_ref()
            .map_or(dry_run || guarded, |run| run.dry_run);
        planned.dry_run = dry_run;
        planned.mass_change_guard = trip.as_ref().map(|t| json!(t));
        let mut opening: Vec<cwsync_sync::RecordResult> = billing.malformed.clone();
        if let Some(trip) = &trip {
            let recorder = Recorder::new(GUARD, tenant.as_str(), String::new());
            let detail = format!(
                "the run would cancel {} and zero {} of {} live additions ({}%, more than the \
                 tenant's {}%): {}",
                trip.cancelled,
                trip.zeroed,
                trip.total,
                (trip.share * Decimal::from(100)).round_dp(1),
                (settings.export.mass_change_guard * Decimal::from(100)).round_dp(1),
                if guarded {
                    "nothing was written; export-now with \"confirmMassChange\": true applies it"
                } else {
                    "confirmed"
                }
            );
            let outcome = if guarded {
                Outcome::Skipped
            } else {
                Outcome::Updated
            };
            opening.push(recorder.with_detail(outcome, detail));
        }

        // The catalog: the products the run's subscriptions use (every product on a full tenant
        // run) whose catalog item may need a change. (A run of one stage started before has its
        // plan: products changed since are the next run's.)
        let mut wanted: Vec<&Product> = if request.account_ids.is_some() {
            let used: HashSet<&str> = accounts
                .iter()
                .filter_map(|a| billing.subscriptions.get(a))
                .flatten()
                .map(|s| s.product_id.as_str())
                .collect();
            billing
                .products
                .values()
                .filter(|p| used.contains(p.id.as_str()))
                .collect()
        } else {
            billing.products.values().collect()
        };
        wanted.sort_by(|a, b| a.id.cmp(&b.id));
        let mut stale_products = Vec::new();
        if settings.export.products && !wanted.is_empty() && started.is_none() {
            let stale = self
                .stale_products(tenant, &clients.cw, &settings, &wanted, request.full)
                .await?;
            opening.extend(stale.unchanged);
            stale_products = stale.to_export;
        }
        if stale_products.is_empty() {
            // Nothing for the catalog to do: the accounts at once, in one stage.
            let stage = AccountsStage::Only(opening);
            Box::pin(self.plan_accounts(&inputs, dry_run, stage, &mut planned)).await?;
            return Ok(planned);
        }

        // Stage 1: one job per page of stale products; the accounts are the continuation. The
        // pages are sent before the run starts, so a started staged run has all its pages sent
        // (a page job that comes before the start waits for it).
        let pages = self.catalog_pages(tenant, &run_id, dry_run, &stale_products)?;
        let what = format!("the {} catalog page jobs of run {run_id}", pages.len());
        send_jobs(deps, Queue::Export, tenant, crate::FUNCTION, &pages, &what).await?;
        let continuation = PlanRequest {
            continues_stage: Some(1),
            ..request.clone()
        };
        let continuation = FollowUp {
            queue: Queue::Export,
            job: export_job(
                JobKind::DailyExportPlan,
                tenant,
                &run_id,
                dry_run,
                &continuation,
                || "the accounts' planning".to_owned(),
            )?,
        };
        let book = self.catalog_book();
        let fresh = book
            .start_staged(
                tenant,
                &run_id,
                dry_run,
                pages.len() as u64,
                &continuation,
                None,
            )
            .await?;
        planned.jobs_sent = pages.len() as u64;
        planned.catalog_pages = pages.len() as u64;
        if fresh && !opening.is_empty() {
            let catalog = UnitResult {
                unit_id: "catalog".to_owned(),
                records: opening,
            };
            book.record(tenant, &run_id, dry_run, &[catalog]).await?;
        }
        book.finish_if_done(tenant, &run_id).await?;
        Ok(planned)
    }

    /// Sends the planning job of each document kind `settings` sync (a follow-up kind is sent
    /// by its leader's run) as a run companion to `run_id`; what was started.
    async fn start_document_runs(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        settings: &TenantSettings,
    ) -> Result<Vec<serde_json::Value>, SyncError> {
        let mut jobs = Vec::new();
        let mut started = Vec::new();
        for document in Document::ALL {
            if document.is_follow_up() || document.off(settings).is_some() {
                continue;
            }
            let companion = run_id.companion(document.as_str());
            let request = DocumentsRequest::all(document);
            jobs.push(Self::documents_plan_job(
                tenant, &companion, dry_run, &request,
            )?);
            started.push(json!({"document": document, "runId": companion.as_str()}));
        }
        let what = format!("the {} document runs of run {run_id}", jobs.len());
        send_jobs(
            &self.deps,
            Queue::Export,
            tenant,
            crate::FUNCTION,
            &jobs,
            &what,
        )
        .await?;
        Ok(started)
    }

    /// The catalog page jobs of `products` (in id order), [`DailyExport::catalog_page_size`]
    /// each.
    fn catalog_pages(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        products: &[&Product],
    ) -> Result<Vec<Job>, SyncError> {
        products
            .chunks(self.catalog_page_size.max(1))
            .zip(1u32..)
            .map(|(chunk, page)| {
                let payload = CatalogJob {
                    page,
                    product_ids: chunk.iter().map(|p| p.id.clone()).collect(),
                };
                let kind = JobKind::DailyExportCatalog;
                export_job(kind, tenant, run_id, dry_run, &payload, || {
                    format!("catalog page {page}")
                })
            })
            .collect()
    }

    /// Plans the run's accounts: those whose stamp is unchanged are recorded without a job, the
    /// others get one job each. In a run of one stage this starts the run (and records the
    /// opening lines); a continuation extends it. Either way a redelivered planner sends its
    /// jobs again (each runs once by its key) and records its lines only the first time.
    async fn plan_accounts(
        &self,
        inputs: &AccountsInputs<'_>,
        dry_run: bool,
        stage: AccountsStage,
        planned: &mut PlannedExport,
    ) -> Result<(), SyncError> {
        let AccountsInputs {
            tenant,
            run_id,
            request,
            settings,
            billing,
            accounts,
            ..
        } = *inputs;
        let deps = &*self.deps;
        let book = self.run_book();
        let account_ids: Vec<String> = accounts.iter().cloned().collect();
        let links = deps.stores.links.as_ref();
        let company_links = links
            .get_many(tenant, customer::COMPANY, &account_ids)
            .await?;
        let stamps = links.get_many(tenant, ACCOUNT, &account_ids).await?;
        let catalog_links = self.catalog_links(tenant, billing).await?;
        let mut unchanged = Vec::new();
        let mut to_send: Vec<(&String, Option<i64>)> = Vec::new();
        for account in accounts {
            let company = company_links
                .get(account)
                .filter(|l| l.state == LinkState::Linked)
                .and_then(|l| l.cw_id);
            let stamp = account_stamp(account, company, billing, &catalog_links, settings);
            let same = !request.full
                && !dry_run
                && stamps.get(account).and_then(|l| l.sync_stamp.as_deref())
                    == Some(stamp.as_str());
            if same {
                let recorder = Recorder::new(ACCOUNT, account, String::new());
                unchanged.push(UnitResult::single(recorder.with_detail(
                    Outcome::Unchanged,
                    "unchanged since its last export: not exported again".to_owned(),
                )));
            } else {
                to_send.push((account, company));
            }
        }
        planned.unchanged = unchanged.len() as u64;

        // The jobs a page of accounts at a time (their hints read together): the first page is
        // built before the run is started or extended, so a job that can't be made starts
        // nothing, as before paging.
        let mut pages = to_send.chunks(self.account_page_size.max(1));
        let mut jobs = match pages.next() {
            Some(page) => self.account_jobs(inputs, dry_run, page).await?,
            None => Vec::new(),
        };
        let units = accounts.len() as u64;
        let (fresh, opening) = match stage {
            AccountsStage::Only(opening) => {
                (book.start(tenant, run_id, dry_run, units).await?, opening)
            }
            AccountsStage::Continues(stage) => (
                book.extend(tenant, run_id, stage, units, None).await?,
                Vec::new(),
            ),
        };
        let what = |n: usize| format!("{n} of the {} export jobs of run {run_id}", to_send.len());
        let mut sent = 0;
        loop {
            let function = crate::FUNCTION;
            send_jobs(
                deps,
                Queue::Export,
                tenant,
                function,
                &jobs,
                &what(jobs.len()),
            )
            .await?;
            sent += jobs.len() as u64;
            match pages.next() {
                Some(page) => jobs = self.account_jobs(inputs, dry_run, page).await?,
                None => break,
            }
        }
        planned.jobs_sent = sent;
        if fresh {
            if !opening.is_empty() {
                let catalog = UnitResult {
                    unit_id: "catalog".to_owned(),
                    records: opening,
                };
                book.record(tenant, run_id, dry_run, &[catalog]).await?;
            }
            book.record_unchanged(tenant, run_id, &unchanged).await?;
        }
        book.finish_if_done(tenant, run_id).await
    }
    /// The jobs of a page of accounts (each with its company, when linked), with the hints
    /// read for the page at once; a hint too large for a message is left out (its job reads
    /// its own).
    async fn account_jobs(
        &self,
        inputs: &AccountsInputs<'_>,
        dry_run: bool,
        page: &[(&String, Option<i64>)],
    ) -> Result<Vec<Job>, SyncError> {
        let AccountsInputs {
            tenant, run_id, cw, ..
        } = *inputs;
        let mut hints = self.hints(cw, page).await;
        page.iter()
            .map(|(account, company)| {
                let hint = company
                    .and_then(|id| hints.as_mut().and_then(|h| h.remove(&id)))
                    .and_then(bounded_hint);
                let payload = AccountJob {
                    account_id: (*account).clone(),
                    hint,
                };
                let kind = JobKind::DailyExportAccount;
                export_job(kind, tenant, run_id, dry_run, &payload, || {
                    format!("account {account}")
                })
            })
            .collect()
    }

    /// The products whose catalog item needs an export, and the unchanged ones' lines.
    async fn stale_products<'p>(
        &self,
        tenant: &TenantId,
        cw: &cwsync_connectwise::Client,
        settings: &TenantSettings,
        products: &[&'p Product],
        full: bool,
    ) -> Result<StaleProducts<'p>, SyncError> {
        let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
        let links = self
            .deps
            .stores
            .links
            .get_many(tenant, entity::CATALOG_ITEM, &ids)
            .await?;
        let stamped: Vec<i64> = links
            .values()
            .filter(|l| l.state == LinkState::Linked && l.sync_stamp.is_some())
            .filter_map(|l| l.cw_id)
            .collect();
        let mut stale = StaleProducts::default();
        let items: HashMap<i64, CatalogItem> = if stamped.is_empty() || full {
            HashMap::new()
        } else {
            cw.list_by_ids::<CatalogItem, i64>(
                CatalogItem::PATH,
                "id",
                stamped,
                &Query::new()
                    .fields(["id", "_info/lastUpdated", "_info/updatedBy"])
                    .page_size(1000),
            )
            .await
            .map_err(|e| SyncError::connectwise("reading the catalog items' stamps", e))?
            .into_iter()
            .filter_map(|item| Some((item.id?, item)))
            .collect()
        };
        for product in products {
            let link = links.get(&product.id);
            let item = link.and_then(|l| l.cw_id).and_then(|id| items.get(&id));
            let same = match (link, item) {
                (Some(link), Some(item)) => {
                    link.sync_stamp.as_deref()
                        == Some(catalog::stamp(product, settings, item).as_str())
                }
                _ => false,
            };
            if same {
                let recorder = Recorder::new(entity::CATALOG_ITEM, &product.id, String::new());
                let line = recorder.with_detail(
                    Outcome::Unchanged,
                    "unchanged on both sides since its last export".to_owned(),
                );
                stale.unchanged.push(match link.and_then(|l| l.cw_id) {
                    Some(id) => line.with_id(id),
                    None => line,
                });
            } else {
                stale.to_export.push(*product);
            }
        }
        Ok(stale)
    }

    /// The catalog item of every product, from the links (after the catalog export).
    async fn catalog_links(
        &self,
        tenant: &TenantId,
        billing: &BillingSide,
    ) -> Result<HashMap<String, i64>, SyncError> {
        let ids: Vec<String> = billing.products.keys().cloned().collect();
        Ok(self
            .deps
            .stores
            .links
            .get_many(tenant, entity::CATALOG_ITEM, &ids)
            .await?
            .into_iter()
            .filter(|(_, l)| l.state == LinkState::Linked)
            .filter_map(|(id, l)| Some((id, l.cw_id?)))
            .collect())
    }

    /// The companies and their agreements of the accounts to send, read at once; `None` when the
    /// read fails (each job then reads its own).
    async fn hints(
        &self,
        cw: &cwsync_connectwise::Client,
        accounts: &[(&String, Option<i64>)],
    ) -> Option<HashMap<i64, AccountHint>> {
        let ids: Vec<i64> = accounts.iter().filter_map(|(_, c)| *c).collect();
        if ids.is_empty() {
            return None;
        }
        let companies = cw
            .list_by_ids::<HintCompany, i64>(
                Company::PATH,
                "id",
                ids.clone(),
                &Query::new()
                    .fields(["id", "name", "defaultContact"])
                    .page_size(1000),
            )
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "reading the companies for hints"))
            .ok()?;
        let agreements = cw
            .list_by_ids::<HintAgreement, i64>(
                Agreement::PATH,
                "company/id",
                ids,
                &Query::new()
                    .fields(crate::account::AGREEMENT_FIELDS)
                    .page_size(1000),
            )
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "reading the agreements for hints"))
            .ok()?;
        let mut by_company: HashMap<i64, AccountHint> = companies
            .into_iter()
            .map(|company| {
                let hint = AccountHint {
                    company,
                    agreements: Vec::new(),
                    first_contact: None,
                };
                (hint.company.id, hint)
            })
            .collect();
        // A company without a default contact: its first contact, for an agreement to create
        // (ConnectWise requires one), read for all of them at once.
        let without: Vec<i64> = by_company
            .iter()
            .filter(|(_, h)| h.company.default_contact.and_then(|c| c.id).is_none())
            .map(|(id, _)| *id)
            .collect();
        if !without.is_empty() {
            let contacts = cw
                .list_by_ids::<HintContact, i64>(
                    cwsync_connectwise::models::Contact::PATH,
                    "company/id",
                    without,
                    &Query::new()
                        .fields(["id", "company/id"])
                        .order_by("id", cwsync_connectwise::Direction::Asc)
                        .page_size(1000),
                )
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "reading the companies' contacts"))
                .ok()?;
            for contact in contacts {
                let company = contact.company.and_then(|c| c.id);
                if let Some(hint) = company.and_then(|c| by_company.get_mut(&c))
                    && hint.first_contact.is_none_or(|first| contact.id < first)
                {
                    hint.first_contact = Some(contact.id);
                }
            }
        }
        for agreement in agreements {
            let company = agreement.company.and_then(|c| c.id);
            if let Some(hint) = company.and_then(|c| by_company.get_mut(&c)) {
                hint.agreements.push(agreement);
            }
        }
        Some(by_company)
    }
}

/// Products to export and the unchanged ones' lines.
#[derive(Debug, Default)]
struct StaleProducts<'p> {
    to_export: Vec<&'p Product>,
    unchanged: Vec<cwsync_sync::RecordResult>,
}

/// Reads the billing side: subscriptions (of `accounts`, or all), products, and users.
pub async fn read_billing(
    billing: &cwsync_billing::BillingClient,
    settings: &TenantSettings,
    accounts: Option<&[String]>,
) -> Result<BillingSide, SyncError> {
    let mut side = BillingSide::default();
    let subscriptions = billing
        .list_subscriptions(&SubscriptionQuery {
            account_ids: accounts.map(<[String]>::to_vec),
            ..SubscriptionQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("listing the subscriptions", e))?;
    let products = billing
        .list_products(&ProductQuery::default())
        .await
        .map_err(|e| SyncError::billing("listing the products", e))?;
    let mut malformed = subscriptions.malformed;
    malformed.extend(products.malformed);
    if settings.export.user_list {
        let users = billing
            .list_users(&UserQuery {
                account_ids: accounts.map(<[String]>::to_vec),
                ..UserQuery::default()
            })
            .await
            .map_err(|e| SyncError::billing("listing the users", e))?;
        malformed.extend(users.malformed);
        for user in users.records {
            side.users
                .entry(user.account_id.clone())
                .or_default()
                .push(user);
        }
    }
    for subscription in subscriptions.records {
        side.subscriptions
            .entry(subscription.account_id.clone())
            .or_default()
            .push(subscription);
    }
    side.products = products
        .records
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    side.malformed = malformed
        .iter()
        .map(|bad| {
            let kind = match bad.kind.noun() {
                "subscription" => entity::ADDITION,
                "product" => entity::CATALOG_ITEM,
                _ => entity::USER_LIST,
            };
            Recorder::new(kind, bad.id.as_deref().unwrap_or("(no id)"), String::new())
                .failed(bad.to_string())
        })
        .collect();
    Ok(side)
}

/// What an account's export depends on, hashed: when it is what the last export recorded, the
/// account's export would change nothing ConnectWise holds from cwsync.
pub fn account_stamp(
    account: &str,
    company: Option<i64>,
    billing: &BillingSide,
    catalog: &HashMap<String, i64>,
    settings: &TenantSettings,
) -> String {
    let subscriptions = billing.subscriptions.get(account);
    let products: Vec<(&Product, Option<&i64>)> = subscriptions
        .into_iter()
        .flatten()
        .filter_map(|s| billing.products.get(&s.product_id))
        .map(|p| (p, catalog.get(&p.id)))
        .collect();
    let users = billing
        .users
        .get(account)
        .filter(|_| settings.export.user_list)
        .map(|users| user_list_csv(users).fingerprint);
    fingerprint(&json!({
        "company": company,
        "subscriptions": subscriptions,
        "products": products,
        "users": users,
        "export": settings.export,
        "agreementDefaults": settings.agreement_defaults,
        "productDefaults": settings.product_defaults,
        "mappings": settings.mappings,
        "pricing": settings.pricing,
        "neverOverwrite": settings.never_overwrite.additions,
    }))
}

/// The mass-change guard over the run's subscriptions and the additions they have.
fn guard(
    billing: &BillingSide,
    links: &HashMap<String, Link>,
    settings: &TenantSettings,
    now: OffsetDateTime,
) -> Option<cwsync_mapping::export::GuardTrip> {
    let today = now.date();
    let mut current = Vec::new();
    let mut desired = Vec::new();
    for subscription in billing.subscriptions.values().flatten() {
        let Some(link) = links.get(&subscription.id) else {
            continue;
        };
        let Some(place) = AdditionPlace::of(link) else {
            continue;
        };
        let now_addition = Addition {
            id: link.cw_id,
            quantity: place.quantity,
            cancelled_date: place.cancelled.then_some(now),
            ..Addition::default()
        };
        let ends = subscription.cancelled_at.is_some()
            || subscription.end_date.is_some_and(|end| end <= today);
        let then = Addition {
            id: link.cw_id,
            quantity: Some(subscription.quantity),
            cancelled_date: ends.then_some(now),
            ..Addition::default()
        };
        current.push(now_addition);
        desired.push(then);
    }
    let planned: Vec<PlannedAddition<'_>> = current
        .iter()
        .zip(&desired)
        .map(|(current, desired)| PlannedAddition { current, desired })
        .collect();
    mass_change(&planned, &current, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(agreements: usize) -> AccountHint {
        let id = |id| Some(IdRef { id: Some(id) });
        AccountHint {
            company: HintCompany {
                id: 7,
                name: Some("Contoso".to_owned()),
                default_contact: id(3),
            },
            agreements: (0..agreements as i64)
                .map(|n| HintAgreement {
                    id: Some(n),
                    name: Some(format!("Managed services {n}")),
                    kind: id(2),
                    company: id(7),
                    cancelled_flag: Some(false),
                    agreement_status: Some("Active".to_owned()),
                })
                .collect(),
            first_contact: None,
        }
    }

    #[test]
    fn a_hint_reads_connectwise_records_keeps_only_ids_of_references_and_converts_back() {
        let company: HintCompany = serde_json::from_value(json!({
            "id": 7, "name": "Contoso",
            "defaultContact": {"id": 3, "name": "Ann", "_info": {"contact_href": "https://x/3"}}
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&company).unwrap(),
            json!({"id": 7, "name": "Contoso", "defaultContact": {"id": 3}})
        );
        let company = Company::from(company);
        assert_eq!(company.id, Some(7));
        assert_eq!(company.default_contact.and_then(|c| c.id), Some(3));

        let agreement: HintAgreement = serde_json::from_value(json!({
            "id": 11, "name": "MSP", "type": {"id": 2, "name": "Managed"},
            "company": {"id": 7, "identifier": "Contoso"}, "cancelledFlag": true,
            "agreementStatus": "Cancelled"
        }))
        .unwrap();
        let agreement = Agreement::from(agreement);
        assert_eq!(agreement.id, Some(11));
        assert_eq!(agreement.kind.and_then(|k| k.id), Some(2));
        assert_eq!(agreement.company.and_then(|c| c.id), Some(7));
        assert_eq!(agreement.cancelled_flag, Some(true));
        assert_eq!(agreement.agreement_status.as_deref(), Some("Cancelled"));
    }

    #[test]
    fn an_account_job_queued_with_the_untyped_hint_of_before_still_parses() {
        // The shape the planner sent before the hints were typed: whole ConnectWise records.
        let payload = json!({"accountId": "A-1", "hint": {
            "company": {"id": 7, "name": "Contoso",
                        "defaultContact": {"id": 3, "name": "Ann", "_info": {}}},
            "agreements": [{"id": 11, "name": "MSP", "type": {"id": 2, "name": "Managed"},
                            "company": {"id": 7}, "contact": {"id": 3}, "startDate": null,
                            "billingCycle": {"id": 1}, "cancelledFlag": false,
                            "agreementStatus": "Active", "_info": {"lastUpdated": "x"}}]
        }});
        let job: AccountJob = serde_json::from_value(payload).unwrap();
        let hint = job.hint.unwrap();
        assert_eq!(hint.company.default_contact.and_then(|c| c.id), Some(3));
        assert_eq!(hint.agreements[0].kind.and_then(|k| k.id), Some(2));
        assert_eq!(
            hint.agreements[0].agreement_status.as_deref(),
            Some("Active")
        );
    }

    #[test]
    fn a_hint_too_large_for_its_message_is_left_out_and_the_others_are_kept_whole() {
        let small = hint(20);
        assert_eq!(bounded_hint(small.clone()), Some(small));
        // About 140 bytes an agreement: a company with 1,000 of them is over the bound (and
        // one with 2,000 would make a message over SQS's 256 KiB).
        let large = hint(1000);
        let size = serde_json::to_vec(&large).unwrap().len();
        assert!(size > MAX_HINT_BYTES, "{size}");
        assert_eq!(bounded_hint(large), None);
    }
}
