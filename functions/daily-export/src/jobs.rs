//! The export queue's jobs: a tenant's planning ([`JobKind::DailyExportPlan`], sent by the
//! schedule, and again as a staged run's continuation), one page of the changed catalog
//! ([`JobKind::DailyExportCatalog`]) and one account's export ([`JobKind::DailyExportAccount`]),
//! both fanned out by the planning. Each runs at most once per job key (`cwsync_sync::jobs`),
//! records its unit's lines in the run (the page's products and the page, or the account's
//! records and the account) and, when it is the last unit, sends the stage's continuation or
//! finishes the run; a permanent failure is recorded as its unit's failure so the run goes on
//! without the dead-letter queue.
//!
//! - **A catalog page** reads its products from billing by id (batched), exports them with
//!   [`catalog::export_products`] (claims: never two catalog items for one SKU, whoever runs it
//!   twice) and records each product's line and the page's, `failed` when any product failed.
//!   A page delivered before its planner started the run (the planner sends the pages first)
//!   waits for it: it is retried.
//! - **An account** finds its products' catalog items through their links: the planner exported
//!   every product the account uses before the account job was sent, so a product without a
//!   catalog item (its catalog line or page failed) fails the subscription's addition naming the
//!   product; the account job never exports the catalog itself.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cwsync_billing::{ProductQuery, SubscriptionQuery, UserQuery};
use cwsync_connectwise::Query;
use cwsync_connectwise::models::{Agreement, Company, Resource};
use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::export::entity;
use cwsync_queue::{Job, JobFailure, JobKind};
use cwsync_store::links::{LinkState, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::{self as sync_jobs, key_without};
use cwsync_sync::{Recorder, SyncError, UnitResult};
use time::OffsetDateTime;

use crate::account::{ACCOUNT, AccountInput, export_account};
use crate::documents::{self, DocumentsPage, DocumentsRequest, page_line};
use crate::plan::{
    AccountHint, AccountJob, BillingSide, CatalogJob, HINT_FIELD, PRODUCTS_FIELD, PlanRequest,
    account_stamp,
};
use crate::{DailyExport, JOB_KIND, catalog};

/// The ConnectWise kind an account's export stamp is linked as (its company, under a kind of its
/// own so it never meets the customer sync's company link).
const STAMP_KIND: &str = "export-company";

/// The idempotency key of an export job. A page is its run's page by its number: the products
/// or records it carries are what its planner found stale, which a second planner finding fewer
/// does not make another page; an account job's hint is not part of its work either.
pub fn idempotency_key(job: &Job) -> cwsync_queue::JobKey {
    match job.kind() {
        JobKind::DailyExportCatalog => key_without(job, PRODUCTS_FIELD),
        JobKind::DocumentsPage => key_without(job, documents::RECORDS_FIELD),
        _ => key_without(job, HINT_FIELD),
    }
}

impl DailyExport {
    /// Handles a batch from the export queue; the answer names the messages to deliver again.
    pub async fn handle_jobs(&self, event: SqsEvent, deadline: OffsetDateTime) -> SqsBatchResponse {
        let groups: HashMap<sync_jobs::GroupKey, Option<()>> = HashMap::new();
        let processed = sync_jobs::handle_batch(
            JOB_KIND,
            event,
            self.concurrency,
            self.deps.config.max_receive_count,
            &groups,
            |job, context, _| self.run_job(job, deadline, context.receive_count <= 1),
        )
        .await;
        processed.response
    }

    /// Runs one job (at most once per key). `first`: its first delivery (the planner's hints
    /// hold only then).
    pub async fn run_job(
        &self,
        job: Job,
        deadline: OffsetDateTime,
        first: bool,
    ) -> Result<(), JobFailure> {
        let tenant = TenantId::parse(job.tenant()).map_err(JobFailure::permanent)?;
        let run_id = RunId::parse(job.run_id()).map_err(JobFailure::permanent)?;
        let key = idempotency_key(&job);
        let work = || async {
            match job.kind() {
                JobKind::DailyExportCatalog => {
                    let page: CatalogJob = job.payload_as().map_err(JobFailure::permanent)?;
                    let result =
                        Box::pin(self.export_catalog_page(&tenant, &run_id, job.dry_run(), &page))
                            .await;
                    self.catalog_book()
                        .settle_unit(&tenant, &run_id, job.dry_run(), &page.unit_id(), result)
                        .await
                }
                JobKind::DailyExportAccount => {
                    let payload: AccountJob = job.payload_as().map_err(JobFailure::permanent)?;
                    let hint = payload.hint.filter(|_| first);
                    let result = Box::pin(self.export_account_in_run(
                        &tenant,
                        &run_id,
                        job.dry_run(),
                        &payload.account_id,
                        hint,
                    ))
                    .await;
                    self.run_book()
                        .settle_unit(&tenant, &run_id, job.dry_run(), &payload.account_id, result)
                        .await
                }
                JobKind::DailyExportPlan => {
                    let request: PlanRequest = job.payload_as().map_err(JobFailure::permanent)?;
                    Box::pin(self.plan_run(&tenant, run_id.clone(), job.dry_run(), &request))
                        .await
                        .map(|_| ())
                        .map_err(JobFailure::from)
                }
                JobKind::DocumentsPlan => {
                    let request: DocumentsRequest =
                        job.payload_as().map_err(JobFailure::permanent)?;
                    let book = self.documents_book(request.document);
                    let result =
                        Box::pin(self.plan_documents(&tenant, &run_id, job.dry_run(), &request))
                            .await;
                    book.settle_unit(
                        &tenant,
                        &run_id,
                        job.dry_run(),
                        request.document.as_str(),
                        result,
                    )
                    .await
                }
                JobKind::DocumentsPage => {
                    let page: DocumentsPage = job.payload_as().map_err(JobFailure::permanent)?;
                    let book = self.documents_book(page.document);
                    let result =
                        Box::pin(self.sync_documents_page(&tenant, &run_id, job.dry_run(), &page))
                            .await;
                    book.settle_unit(&tenant, &run_id, job.dry_run(), &page.unit_id(), result)
                        .await
                }
                other => Err(JobFailure::permanent(format!(
                    "{other} is not a daily-export job; it was sent to the wrong queue"
                ))),
            }
        };
        sync_jobs::run_once(&self.idempotency, &tenant, &key, deadline, work).await
    }

    /// Exports one page of run `run_id`'s stale products to the catalog and records the
    /// products' lines and the page's (see the module docs).
    pub async fn export_catalog_page(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        page: &CatalogJob,
    ) -> Result<UnitResult, SyncError> {
        let deps = &*self.deps;
        let book = self.catalog_book();
        let unit_id = page.unit_id();
        if deps.stores.runs.get(tenant, run_id).await?.is_none() {
            return Err(SyncError::Unsettled {
                record: format!("catalog {unit_id} of run {run_id}"),
                detail: "the run is not started yet (its planner sends the pages first, then \
                         starts it): retried"
                    .to_owned(),
            });
        }
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        let recorder = Recorder::new(catalog::PAGE, &unit_id, String::new());
        let off = if !settings.export.enabled {
            Some("the export is disabled (export.enabled is false): nothing written")
        } else if !settings.export.products {
            Some("products are not exported (export.products is false): nothing written")
        } else {
            None
        };
        let mut result = UnitResult {
            unit_id: unit_id.clone(),
            records: Vec::new(),
        };
        if let Some(reason) = off {
            result
                .records
                .push(recorder.with_detail(Outcome::Skipped, reason.to_owned()));
            book.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
                .await?;
            return Ok(result);
        }
        let clients = self.clients(tenant).await?;
        let listed = clients
            .billing
            .list_products(&ProductQuery::by_ids(page.product_ids.clone()))
            .await
            .map_err(|e| SyncError::billing(format!("listing the products of {unit_id}"), e))?;
        for bad in &listed.malformed {
            let id = bad.id.as_deref().unwrap_or("(no id)");
            result.records.push(
                Recorder::new(entity::CATALOG_ITEM, id, String::new()).failed(bad.to_string()),
            );
        }
        let found: HashMap<&str, &cwsync_billing::models::Product> =
            listed.records.iter().map(|p| (p.id.as_str(), p)).collect();
        let named_bad = |id: &str| listed.malformed.iter().any(|b| b.id.as_deref() == Some(id));
        let mut products = Vec::new();
        for id in &page.product_ids {
            match found.get(id.as_str()) {
                Some(product) => products.push(*product),
                None if named_bad(id) => {}
                None => result.records.push(
                    Recorder::new(entity::CATALOG_ITEM, id, String::new()).with_detail(
                        Outcome::Skipped,
                        "no longer in the billing system's product list: nothing exported"
                            .to_owned(),
                    ),
                ),
            }
        }
        if !products.is_empty() {
            let reference = self.reference(tenant, run_id, &clients.cw).await?;
            let scope = self.scope(
                tenant,
                dry_run,
                &settings,
                &reference,
                &clients.cw,
                self.now(),
            );
            let exported = Box::pin(catalog::export_products(&scope, &products)).await?;
            result.records.extend(exported.records);
        }
        let count = page.product_ids.len();
        let line = page_line(
            &recorder,
            count,
            "products",
            "their catalog-item lines",
            &result.records,
        );
        result.records.push(line);
        book.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
            .await?;
        Ok(result)
    }

    /// Exports one account inside run `run_id` (started with one unit when it does not exist: a
    /// console export of one account) and records its lines.
    pub async fn export_account_in_run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        account_id: &str,
        hint: Option<AccountHint>,
    ) -> Result<UnitResult, SyncError> {
        let book = self.run_book();
        book.ensure_single(tenant, run_id, dry_run).await?;
        let result =
            Box::pin(self.export_account_now(tenant, run_id, dry_run, account_id, hint)).await?;
        book.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
            .await?;
        Ok(result)
    }

    /// Exports one account (see [`crate::account`]) and, when all went well, records its stamp.
    pub async fn export_account_now(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        account_id: &str,
        hint: Option<AccountHint>,
    ) -> Result<UnitResult, SyncError> {
        let deps = &*self.deps;
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        if !settings.export.enabled {
            let line = Recorder::new(ACCOUNT, account_id, String::new()).with_detail(
                Outcome::Skipped,
                "the export is disabled (export.enabled is false): nothing written".to_owned(),
            );
            return Ok(UnitResult::single(line));
        }
        let clients = self.clients(tenant).await?;
        let now = self.now();
        let links = deps.stores.links.as_ref();

        // The billing side of this account.
        let accounts = vec![account_id.to_owned()];
        let subscriptions = clients
            .billing
            .list_subscriptions(&SubscriptionQuery {
                account_ids: Some(accounts.clone()),
                ..SubscriptionQuery::default()
            })
            .await
            .map_err(|e| {
                SyncError::billing(format!("listing the subscriptions of {account_id}"), e)
            })?;
        let product_ids: Vec<String> = subscriptions
            .records
            .iter()
            .map(|s| s.product_id.clone())
            .collect();
        let products = if product_ids.is_empty() {
            Default::default()
        } else {
            clients
                .billing
                .list_products(&ProductQuery::by_ids(product_ids.clone()))
                .await
                .map_err(|e| SyncError::billing("listing the subscribed products", e))?
        };
        let users = if settings.export.user_list {
            Some(
                clients
                    .billing
                    .list_users(&UserQuery {
                        account_ids: Some(accounts),
                        ..UserQuery::default()
                    })
                    .await
                    .map_err(|e| {
                        SyncError::billing(format!("listing the users of {account_id}"), e)
                    })?,
            )
        } else {
            None
        };
        let malformed_products: HashMap<String, String> = products
            .malformed
            .iter()
            .filter_map(|bad| Some((bad.id.clone()?, bad.to_string())))
            .collect();
        let mut side = BillingSide {
            products: products
                .records
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect(),
            ..BillingSide::default()
        };
        side.subscriptions
            .insert(account_id.to_owned(), subscriptions.records);
        if let Some(users) = users {
            side.users.insert(account_id.to_owned(), users.records);
        }
        let malformed: Vec<_> = subscriptions
            .malformed
            .iter()
            .map(|bad| {
                Recorder::new(
                    entity::ADDITION,
                    bad.id.as_deref().unwrap_or("(no id)"),
                    String::new(),
                )
                .failed(bad.to_string())
            })
            .collect();

        // The ConnectWise side: company (customer sync's link), catalog items, agreements.
        let company_id = links
            .get(tenant, SourceRef::new(customer::COMPANY, account_id))
            .await?
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id);
        let first_contact = hint.as_ref().and_then(|h| h.first_contact);
        let (company, agreements) = match (company_id, hint) {
            (None, _) => (None, None),
            (Some(_), Some(hint)) => {
                let company = Some(Company::from(hint.company));
                let agreements: Vec<Agreement> =
                    hint.agreements.into_iter().map(Agreement::from).collect();
                (company, Some(agreements))
            }
            (Some(id), None) => {
                let company: Company = clients
                    .cw
                    .get_with(
                        &format!("{}/{id}", Company::PATH),
                        &Query::new().fields(["id", "name", "defaultContact"]),
                    )
                    .await
                    .map_err(|e| SyncError::connectwise(format!("reading company {id}"), e))?;
                (Some(company), None)
            }
        };
        let reference = self.reference(tenant, run_id, &clients.cw).await?;
        let scope = self.scope(tenant, dry_run, &settings, &reference, &clients.cw, now);
        // The planner exported the catalog of every product the account uses before sending
        // this job: a product without a link fails its addition, naming the product.
        let catalog_ids: HashMap<String, i64> = links
            .get_many(tenant, entity::CATALOG_ITEM, &product_ids)
            .await?
            .into_iter()
            .filter(|(_, l)| l.state == LinkState::Linked)
            .filter_map(|(id, l)| Some((id, l.cw_id?)))
            .collect();
        let agreement_refs: Option<Vec<&Agreement>> =
            agreements.as_ref().map(|list| list.iter().collect());
        let input = AccountInput {
            account_id,
            company: company.as_ref(),
            subscriptions: side
                .subscriptions
                .get(account_id)
                .map(|subs| subs.iter().collect())
                .unwrap_or_default(),
            products: &side.products,
            malformed_products: &malformed_products,
            catalog: &catalog_ids,
            users: side
                .users
                .get(account_id)
                .map(|users| users.iter().collect()),
            agreements: agreement_refs,
            first_contact,
        };
        let mut result = Box::pin(export_account(&scope, input)).await?;
        // The account's own line stays last: the run counts it as the unit done.
        let unit = result.records.remove(0);
        result.records.extend(malformed);
        let failed = result.records.iter().any(|r| r.outcome == Outcome::Failed);
        result
            .records
            .push(if failed && unit.outcome != Outcome::Failed {
                Recorder::new(ACCOUNT, account_id, String::new())
                    .failed("some records failed: see their lines")
            } else {
                unit
            });
        if !failed
            && !dry_run
            && let Some(company_id) = company_id
        {
            let stamp = account_stamp(account_id, Some(company_id), &side, &catalog_ids, &settings);
            let source = SourceRef::new(ACCOUNT, account_id);
            // The account was linked to another company since its last export: that stamp goes.
            if links
                .get(tenant, source)
                .await?
                .is_some_and(|l| l.cw_id != Some(company_id))
            {
                links.unlink(tenant, source).await?;
            }
            links
                .link_existing(tenant, source, STAMP_KIND, company_id, &stamp, now)
                .await?;
            links.record_stamp(tenant, source, &stamp, now).await?;
        }
        Ok(result)
    }
}
