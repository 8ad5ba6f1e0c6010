//! Billing documents both ways (issue 11), each kind a run of its own inside `daily-export`:
//! invoices, payments, orders and projects exported to ConnectWise; credit holds to a company
//! custom field; ConnectWise agreement invoices and sales orders pulled back to the billing
//! system.
//!
//! Every kind runs the same way, on the shared sync machinery (`cwsync_sync`):
//!
//! 1. **Planning** ([`JobKind::DocumentsPlan`], sent by the daily export's planning on the
//!    schedule, or by the console's `export-documents`): the kind lists its *candidates*, each
//!    with a *stamp* (a digest of what its sync would write, computed by the kind's own pure
//!    code). A candidate whose link (under [`Document::entity`]) holds that stamp was synced as it
//!    is and gets no job (`full` sends them all); the rest go out in pages of
//!    [`crate::DailyExport::document_page_size`], one [`JobKind::DocumentsPage`] job each, before
//!    the run is started (a page that comes before its run waits for it); the planning's own line
//!    (the run's `document-plan` unit) says how many were listed, unchanged and sent. A pull
//!    (ConnectWise → billing) lists from its watermark less an overlap, plus the records on its
//!    error ledger, and moves the watermark once its pages are sent.
//! 2. **A page** reads its records afresh in batched reads, syncs each (the kind's `sync_page`),
//!    records each record's line and its stamp when it synced, and then the page's line; whoever
//!    records the last page finishes the run, which then sends its follow-up (invoices are
//!    followed by their payments: a payment needs its invoice in ConnectWise).
//!
//! Each page runs once per job key (its run and number); a replay changes nothing, a crash half
//! way is finished by the retry (creates are claimed, looked up by their natural key when their
//! outcome is unknown), and a record that fails is its failed line naming it and its field, on the
//! error ledger until it syncs.

pub mod agreement_invoices;
pub mod credit_hold;
pub mod invoices;
pub mod orders;
pub mod payments;
pub mod products;
pub mod projects;
pub mod pull;
pub mod pushed;
pub mod sales_orders;

use std::collections::HashMap;

use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::{Job, JobKind};
use cwsync_runtime::Queue;
use cwsync_store::links::{LinkState, LinkStore, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::send_jobs;
use cwsync_sync::{
    FollowUp, RecordResult, Recorder, RunBook, SyncError, TenantClients, UnitResult,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::DailyExport;
use crate::plan::export_job;

/// Records per page job, unless the function says otherwise: a page's batched reads fit one
/// ConnectWise read (`id in (...)`) each, and its writes one invocation.
pub const PAGE_SIZE: usize = 50;
/// How many times larger a pull's pages are than a push's (see [`Document::page_size`]).
pub const PULL_PAGES: usize = 4;
/// The unit entity of a document page.
pub const PAGE: &str = "document-page";
/// The unit entity of a document run's planning line.
pub const PLAN: &str = "document-plan";
/// The unit entities of a document run.
pub const UNITS: &[&str] = &[PAGE, PLAN];
/// The payload field of [`DocumentsPage::record_ids`], left out of the idempotency key: a page is
/// its run's page by its number.
pub const RECORDS_FIELD: &str = "recordIds";

/// A kind of billing document, synced in runs of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Document {
    /// Billing invoices with their items → ConnectWise invoices with products.
    Invoices,
    /// Billing payments, summed per invoice → the invoice's one ConnectWise payment.
    Payments,
    /// Billing orders with their items → ConnectWise sales orders with products.
    Orders,
    /// Billing projects, options and change orders → ConnectWise opportunities.
    Projects,
    /// A billing account's credit hold → a ConnectWise company custom field.
    CreditHold,
    /// ConnectWise agreement invoices → billing contracts.
    AgreementInvoices,
    /// ConnectWise sales orders → billing orders.
    SalesOrders,
}

impl Document {
    /// Every kind, in the order a day runs them.
    pub const ALL: [Document; 7] = [
        Document::Invoices,
        Document::Payments,
        Document::Orders,
        Document::Projects,
        Document::CreditHold,
        Document::AgreementInvoices,
        Document::SalesOrders,
    ];

    /// The wire name (`agreement-invoices`).
    pub fn as_str(self) -> &'static str {
        match self {
            Document::Invoices => "invoices",
            Document::Payments => "payments",
            Document::Orders => "orders",
            Document::Projects => "projects",
            Document::CreditHold => "credit-hold",
            Document::AgreementInvoices => "agreement-invoices",
            Document::SalesOrders => "sales-orders",
        }
    }

    /// The job kind of its runs (what the `report` action and the run records name).
    pub fn job_kind(self) -> &'static str {
        match self {
            Document::Invoices => "export-invoices",
            Document::Payments => "export-payments",
            Document::Orders => "export-orders",
            Document::Projects => "export-projects",
            Document::CreditHold => "export-credit-hold",
            Document::AgreementInvoices => "pull-agreement-invoices",
            Document::SalesOrders => "pull-sales-orders",
        }
    }

    /// The entity of its records' lines and links (a billing invoice's link is under `invoice`;
    /// a pulled ConnectWise invoice's under `agreement-invoice`, keyed by its ConnectWise id).
    pub fn entity(self) -> &'static str {
        match self {
            Document::Invoices => "invoice",
            Document::Payments => "invoice-payment",
            Document::Orders => "sales-order",
            Document::Projects => "opportunity",
            Document::CreditHold => "credit-hold",
            Document::AgreementInvoices => "agreement-invoice",
            Document::SalesOrders => "billing-order",
        }
    }

    /// Why the kind does not run for a tenant with `settings` (`None`: it runs).
    pub fn off(self, settings: &TenantSettings) -> Option<String> {
        let export = &settings.export;
        let documents = &settings.documents;
        if !export.enabled {
            return Some("the export is disabled (export.enabled is false)".to_owned());
        }
        let toggle = |on: bool, name: &str| {
            (!on).then(|| {
                format!(
                    "{} are not exported (export.{name} is false)",
                    self.as_str()
                )
            })
        };
        let section = |on: bool, name: &str| {
            (!on).then(|| {
                format!(
                    "{} are not synced (documents.{name} is not set)",
                    self.as_str()
                )
            })
        };
        match self {
            Document::Invoices => toggle(export.invoices, "invoices"),
            Document::Payments => {
                toggle(export.payments, "payments").or_else(|| toggle(export.invoices, "invoices"))
            }
            Document::Orders => toggle(export.orders, "orders"),
            Document::Projects => toggle(export.projects, "projects"),
            Document::CreditHold => section(documents.credit_hold.is_some(), "creditHold"),
            Document::AgreementInvoices => {
                section(documents.agreement_invoices.is_some(), "agreementInvoices")
            }
            Document::SalesOrders => section(documents.sales_orders.is_some(), "salesOrders"),
        }
    }

    /// Whether the kind pulls from ConnectWise to the billing system (its pages' reads are
    /// ConnectWise's, its writes the billing system's).
    pub fn is_pull(self) -> bool {
        matches!(self, Document::AgreementInvoices | Document::SalesOrders)
    }

    /// Records per page job, of `base` (the function's [`crate::DailyExport::document_page_size`]):
    /// a pull's pages are [`PULL_PAGES`] times larger, since each of their batched reads is a
    /// ConnectWise call and their writes go to the billing system.
    pub fn page_size(self, base: usize) -> usize {
        if self.is_pull() {
            base.saturating_mul(PULL_PAGES).max(1)
        } else {
            base.max(1)
        }
    }

    /// The kind whose run follows this one's (the payments follow their invoices).
    pub fn then(self) -> Option<Document> {
        match self {
            Document::Invoices => Some(Document::Payments),
            _ => None,
        }
    }

    /// Whether another kind's run starts this one (then the day does not start it itself).
    pub fn is_follow_up(self) -> bool {
        Document::ALL.iter().any(|d| d.then() == Some(self))
    }
}

impl std::fmt::Display for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payload of a [`JobKind::DocumentsPlan`] job and of the console's `export-documents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentsRequest {
    /// The kind.
    pub document: Document,
    /// Only these records (billing ids; ConnectWise ids for a pull).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_ids: Option<Vec<String>>,
    /// Sync every candidate, unchanged stamps or not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
}

impl DocumentsRequest {
    /// The whole run of `document`.
    pub fn all(document: Document) -> Self {
        DocumentsRequest {
            document,
            record_ids: None,
            full: false,
        }
    }
}

/// The payload of a [`JobKind::DocumentsPage`] job: one page of a run's changed records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentsPage {
    /// The kind.
    pub document: Document,
    /// The page's number in its run (from 1): its line is `document-page` `page-{n}`.
    pub page: u32,
    /// The records to sync.
    pub record_ids: Vec<String>,
}

impl DocumentsPage {
    /// The page's unit id in its run (`page-3`).
    pub fn unit_id(&self) -> String {
        format!("page-{}", self.page)
    }
}

/// One record a kind may sync, with the stamp of what its sync would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The record's id (its link's source id).
    pub id: String,
    /// The digest of what syncing it would write.
    pub stamp: String,
}

/// What a kind's listing found.
#[derive(Debug, Default)]
pub struct Candidates {
    /// The records it may sync.
    pub records: Vec<Candidate>,
    /// Lines of records that can't be synced at all (malformed in the listing).
    pub lines: Vec<RecordResult>,
    /// A pull's watermark stream and where it moves to once the pages are sent.
    pub advance: Option<(String, OffsetDateTime)>,
}

/// What a kind's planning and pages work with.
#[derive(Debug, Clone, Copy)]
pub struct DocContext<'a> {
    /// The tenant.
    pub tenant: &'a TenantId,
    /// The run.
    pub run_id: &'a RunId,
    /// Plan and report only; write nothing.
    pub dry_run: bool,
    /// The tenant's settings.
    pub settings: &'a TenantSettings,
    /// The tenant's ConnectWise and billing clients.
    pub clients: &'a TenantClients,
    /// The links.
    pub links: &'a dyn LinkStore,
    /// When the run runs.
    pub now: OffsetDateTime,
    /// The function (its deps: watermarks, the ledger).
    pub function: &'a DailyExport,
}

impl DocContext<'_> {
    /// The claim-before-create of `source` in this context.
    pub fn creation<'b>(
        &'b self,
        source: SourceRef<'b>,
        cw_kind: &'b str,
        what: &'b str,
        natural_key: &'b str,
        fingerprint: &'b str,
    ) -> cwsync_sync::Creation<'b> {
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

    /// Records that `source` (linked to ConnectWise `cw_kind` `cw_id`) synced as `stamp`, so the
    /// next planning finds it unchanged; nothing in a dry run. An existing link to another record
    /// is replaced.
    pub async fn record_synced(
        &self,
        source: SourceRef<'_>,
        cw_kind: &str,
        cw_id: i64,
        stamp: &str,
    ) -> Result<(), SyncError> {
        if self.dry_run {
            return Ok(());
        }
        let current = self.links.get(self.tenant, source).await?;
        let linked = current
            .as_ref()
            .is_some_and(|l| l.state == LinkState::Linked && l.cw_id == Some(cw_id));
        if !linked {
            if current.is_some() {
                self.links.unlink(self.tenant, source).await?;
            }
            self.links
                .link_existing(self.tenant, source, cw_kind, cw_id, stamp, self.now)
                .await?;
        }
        self.links
            .record_stamp(self.tenant, source, stamp, self.now)
            .await?;
        Ok(())
    }
}

/// What planning a document run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedDocuments {
    /// The kind.
    pub document: Document,
    /// The run (read it with the `report` action and `document`).
    pub run_id: String,
    /// Records listed.
    pub listed: u64,
    /// Records unchanged since their last sync (no job).
    pub unchanged: u64,
    /// Records sent to be synced.
    pub to_sync: u64,
    /// Page jobs sent.
    pub pages: u64,
    /// Whether the run only plans.
    pub dry_run: bool,
}

impl DailyExport {
    /// Where document runs of `document` record: their unit is a page (or the planning).
    pub fn documents_book(&self, document: Document) -> RunBook {
        RunBook::new(std::sync::Arc::clone(&self.deps), document.job_kind(), PAGE).with_units(UNITS)
    }

    /// What a document run of `tenant` works with.
    fn doc_context<'a>(
        &'a self,
        tenant: &'a TenantId,
        run_id: &'a RunId,
        dry_run: bool,
        settings: &'a TenantSettings,
        clients: &'a TenantClients,
    ) -> DocContext<'a> {
        DocContext {
            tenant,
            run_id,
            dry_run,
            settings,
            clients,
            links: self.deps.stores.links.as_ref(),
            now: self.now(),
            function: self,
        }
    }

    /// The job of a document run's planning: run `run_id` of `tenant`.
    pub fn documents_plan_job(
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        request: &DocumentsRequest,
    ) -> Result<Job, SyncError> {
        export_job(
            JobKind::DocumentsPlan,
            tenant,
            run_id,
            dry_run,
            request,
            || format!("the {} planning", request.document),
        )
    }

    /// Plans run `run_id` of `request.document` for `tenant` (see the module docs).
    pub async fn plan_documents(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        request: &DocumentsRequest,
    ) -> Result<PlannedDocuments, SyncError> {
        let document = request.document;
        let deps = &*self.deps;
        let book = self.documents_book(document);
        let mut planned = PlannedDocuments {
            document,
            run_id: run_id.to_string(),
            listed: 0,
            unchanged: 0,
            to_sync: 0,
            pages: 0,
            dry_run,
        };
        // A started run has all its pages sent (they go out before it starts).
        if let Some(run) = deps.stores.runs.get(tenant, run_id).await? {
            book.finish_if_done(tenant, run_id).await?;
            planned.pages = run.planned.unwrap_or(1).saturating_sub(1);
            planned.dry_run = run.dry_run;
            return Ok(planned);
        }
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        let follow_up = self.follow_up(tenant, run_id, dry_run, document)?;
        if let Some(reason) = document.off(&settings) {
            let line = Recorder::new(PLAN, document.as_str(), String::new())
                .with_detail(Outcome::Skipped, format!("{reason}: nothing synced"));
            book.start_then(tenant, run_id, dry_run, 1, follow_up.as_ref())
                .await?;
            book.record_and_finish(tenant, run_id, dry_run, &[UnitResult::single(line)])
                .await?;
            return Ok(planned);
        }
        let clients = self.clients(tenant).await?;
        let ctx = self.doc_context(tenant, run_id, dry_run, &settings, &clients);
        let ids = request.record_ids.as_deref();
        let listed = match document {
            Document::Invoices => Box::pin(invoices::candidates(&ctx, ids)).await?,
            Document::Payments => Box::pin(payments::candidates(&ctx, ids)).await?,
            Document::Orders => Box::pin(orders::candidates(&ctx, ids)).await?,
            Document::Projects => Box::pin(projects::candidates(&ctx, ids)).await?,
            Document::CreditHold => Box::pin(credit_hold::candidates(&ctx, ids)).await?,
            Document::AgreementInvoices => {
                Box::pin(agreement_invoices::candidates(&ctx, ids)).await?
            }
            Document::SalesOrders => Box::pin(sales_orders::candidates(&ctx, ids)).await?,
        };
        planned.listed = listed.records.len() as u64;
        let source_ids: Vec<String> = listed.records.iter().map(|c| c.id.clone()).collect();
        let links = ctx
            .links
            .get_many(tenant, document.entity(), &source_ids)
            .await?;
        let to_sync: Vec<&Candidate> = listed
            .records
            .iter()
            .filter(|c| {
                request.full
                    || dry_run
                    || links.get(&c.id).and_then(|l| l.sync_stamp.as_deref())
                        != Some(c.stamp.as_str())
            })
            .collect();
        planned.unchanged = planned.listed - to_sync.len() as u64;
        planned.to_sync = to_sync.len() as u64;
        let pages: Vec<Job> = to_sync
            .chunks(document.page_size(self.document_page_size))
            .zip(1u32..)
            .map(|(chunk, page)| {
                let payload = DocumentsPage {
                    document,
                    page,
                    record_ids: chunk.iter().map(|c| c.id.clone()).collect(),
                };
                export_job(
                    JobKind::DocumentsPage,
                    tenant,
                    run_id,
                    dry_run,
                    &payload,
                    || format!("{document} page {page}"),
                )
            })
            .collect::<Result<_, _>>()?;
        planned.pages = pages.len() as u64;
        let what = format!("the {} {document} page jobs of run {run_id}", pages.len());
        send_jobs(deps, Queue::Export, tenant, crate::FUNCTION, &pages, &what).await?;
        let units = pages.len() as u64 + 1;
        let fresh = book
            .start_then(tenant, run_id, dry_run, units, follow_up.as_ref())
            .await?;
        if let Some((stream, to)) = &listed.advance
            && !dry_run
        {
            deps.stores
                .watermarks
                .advance(tenant, stream, *to, self.now())
                .await?;
        }
        if fresh {
            let mut lines = listed.lines;
            lines.push(
                Recorder::new(PLAN, document.as_str(), String::new()).with_detail(
                    Outcome::Unchanged,
                    format!(
                        "{} listed, {} unchanged since their last sync, {} sent in {} pages",
                        planned.listed, planned.unchanged, planned.to_sync, planned.pages
                    ),
                ),
            );
            let unit = UnitResult {
                unit_id: document.as_str().to_owned(),
                records: lines,
            };
            book.record(tenant, run_id, dry_run, &[unit]).await?;
        }
        book.finish_if_done(tenant, run_id).await?;
        Ok(planned)
    }

    /// The run that follows `document`'s (its planning job), when the tenant syncs it.
    fn follow_up(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        document: Document,
    ) -> Result<Option<FollowUp>, SyncError> {
        let Some(next) = document.then() else {
            return Ok(None);
        };
        let next_run = run_id.companion(next.as_str());
        let job =
            Self::documents_plan_job(tenant, &next_run, dry_run, &DocumentsRequest::all(next))?;
        Ok(Some(FollowUp {
            queue: Queue::Export,
            job,
        }))
    }

    /// Syncs one page of run `run_id` and records its records' lines and the page's.
    pub async fn sync_documents_page(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        page: &DocumentsPage,
    ) -> Result<UnitResult, SyncError> {
        let deps = &*self.deps;
        let document = page.document;
        let book = self.documents_book(document);
        let unit_id = page.unit_id();
        if deps.stores.runs.get(tenant, run_id).await?.is_none() {
            return Err(SyncError::Unsettled {
                record: format!("{document} {unit_id} of run {run_id}"),
                detail: "the run is not started yet (its planner sends the pages first, then \
                         starts it): retried"
                    .to_owned(),
            });
        }
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        let recorder = Recorder::new(PAGE, &unit_id, String::new());
        let mut result = UnitResult {
            unit_id: unit_id.clone(),
            records: Vec::new(),
        };
        if let Some(reason) = document.off(&settings) {
            result
                .records
                .push(recorder.with_detail(Outcome::Skipped, format!("{reason}: nothing written")));
        } else {
            let clients = self.clients(tenant).await?;
            let ctx = self.doc_context(tenant, run_id, dry_run, &settings, &clients);
            let ids = &page.record_ids;
            let records = match document {
                Document::Invoices => Box::pin(invoices::sync_page(&ctx, ids)).await?,
                Document::Payments => Box::pin(payments::sync_page(&ctx, ids)).await?,
                Document::Orders => Box::pin(orders::sync_page(&ctx, ids)).await?,
                Document::Projects => Box::pin(projects::sync_page(&ctx, ids)).await?,
                Document::CreditHold => Box::pin(credit_hold::sync_page(&ctx, ids)).await?,
                Document::AgreementInvoices => {
                    Box::pin(agreement_invoices::sync_page(&ctx, ids)).await?
                }
                Document::SalesOrders => Box::pin(sales_orders::sync_page(&ctx, ids)).await?,
            };
            result.records = records;
            let count = page.record_ids.len();
            let noun = page.document.as_str();
            let line = page_line(&recorder, count, noun, "their lines", &result.records);
            result.records.push(line);
        }
        book.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
            .await?;
        Ok(result)
    }
}

/// A page's own line: `failed` naming its failed records, `updated` when it wrote (or would
/// write) something, else `unchanged`. `count` records of `noun` (`invoices`) were on it; `lines`
/// names where their lines are (`their catalog-item lines`).
pub(crate) fn page_line(
    recorder: &Recorder,
    count: usize,
    noun: &str,
    lines: &str,
    records: &[RecordResult],
) -> RecordResult {
    let failed: Vec<&str> = records
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .map(|r| r.record_id.as_str())
        .collect();
    if !failed.is_empty() {
        return recorder.failed(format!(
            "{} of its {count} {noun} failed (see {lines}): {}",
            failed.len(),
            failed.join(", ")
        ));
    }
    let wrote = records.iter().any(|r| {
        matches!(
            r.outcome,
            Outcome::Created | Outcome::Updated | Outcome::Linked
        )
    });
    let outcome = if wrote {
        Outcome::Updated
    } else {
        Outcome::Unchanged
    };
    recorder.with_detail(outcome, format!("{count} {noun} synced"))
}

/// The account → ConnectWise company links of `accounts`.
pub async fn company_ids(
    ctx: &DocContext<'_>,
    accounts: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, i64>, SyncError> {
    let mut accounts: Vec<String> = accounts.into_iter().collect();
    accounts.sort();
    accounts.dedup();
    Ok(ctx
        .links
        .get_many(ctx.tenant, customer::COMPANY, &accounts)
        .await?
        .into_iter()
        .filter(|(_, l)| l.state == LinkState::Linked)
        .filter_map(|(id, l)| Some((id, l.cw_id?)))
        .collect())
}

/// The failed line of each malformed record of a listing.
pub fn malformed_lines(
    entity: &'static str,
    malformed: &[cwsync_billing::MalformedRecord],
) -> Vec<RecordResult> {
    malformed
        .iter()
        .map(|bad| {
            let id = bad.id.as_deref().unwrap_or("(no id)");
            Recorder::new(entity, id, String::new()).failed(bad.to_string())
        })
        .collect()
}

/// The records of a page's listing in the page's order, and the lines of those it could not
/// sync: malformed (failed, naming the field) or gone from the billing system (skipped).
pub fn listed_in_order<'a, T>(
    entity: &'static str,
    ids: &[String],
    listed: &'a cwsync_billing::Listing<T>,
    id_of: impl Fn(&T) -> &String,
) -> (Vec<&'a T>, Vec<RecordResult>) {
    let mut lines = malformed_lines(entity, &listed.malformed);
    let found: HashMap<&String, &T> = listed.records.iter().map(|r| (id_of(r), r)).collect();
    let mut present = Vec::new();
    for id in ids {
        match found.get(id) {
            Some(record) => present.push(*record),
            None if listed.malformed.iter().any(|b| b.id.as_ref() == Some(id)) => {}
            None => lines.push(Recorder::new(entity, id, String::new()).with_detail(
                Outcome::Skipped,
                "no longer in the billing system: nothing exported".to_owned(),
            )),
        }
    }
    (present, lines)
}
