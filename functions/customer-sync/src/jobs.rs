//! Runs and jobs: a tenant-wide sync plans a run and fans out one job per account; each account
//! job syncs its account and records the outcome in the run and the error ledger; whoever records
//! the last planned account finishes the run (`cwsync_sync::runs`, the unit being the account and
//! its own record its company).
//!
//! Safe under redelivery: every job runs under an idempotency record (a replayed job returns the
//! stored result and records nothing again), and the sync itself is idempotent (links, diffs);
//! see `cwsync_sync::jobs`. Two jobs for one account at once: the links' claim lets exactly one
//! create.

use std::collections::{HashMap, HashSet};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cwsync_billing::models::Account;
use cwsync_billing::{AccountQuery, BillingError};
use cwsync_mapping::customers::entity;
use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::{Job, JobFailure, JobKind};
use cwsync_runtime::Queue;
use cwsync_store::runs::Outcome;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::{self as sync_jobs, GroupKey, first_delivery, key_without};
use cwsync_sync::tenant;
use cwsync_sync::{FollowUp, Recorder, RunBook, UnitResult};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::engine::{self, Scope};
use crate::reference;
use crate::unchanged;
use crate::{CustomerSync, JOB_KIND, SyncError};

/// The watermark stream of incremental account reads.
pub const ACCOUNTS_STREAM: &str = "customer-accounts";
/// How far before the watermark an incremental read starts, so a record written while the last
/// read ran is not missed (reading it twice is harmless: an unchanged account writes nothing).
pub const WATERMARK_OVERLAP: std::time::Duration = std::time::Duration::from_secs(300);

/// Deliveries of an account job that wait for a parent or bill-to company another job is
/// creating; a later delivery syncs without it (the next run sets it).
pub const RELATED_WAITS: u32 = 2;

/// The payload of a [`JobKind::CustomerSyncAccount`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountJob {
    /// The billing account's id.
    pub account_id: String,
    /// The tenant-wide planner listed the tenant's companies and none was a candidate for the
    /// account (by identifier or account number). Honoured only on the job's first delivery: the
    /// job then skips its candidate look-ups. A company created in ConnectWise since is refused
    /// as a second identifier on create, which the job retries; a later delivery ignores the
    /// hint and looks. Absent (older messages, console syncs): the look-ups are made.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_candidate_at_plan: bool,
}

/// The payload field of [`AccountJob::no_candidate_at_plan`], left out of a job's idempotency
/// key: a redelivered planning job may hint differently, and it is still the same work.
const NO_CANDIDATE_FIELD: &str = "noCandidateAtPlan";

/// The idempotency key of `job`, without the planner's hint (see [`NO_CANDIDATE_FIELD`]).
pub fn idempotency_key(job: &Job) -> cwsync_queue::JobKey {
    key_without(job, NO_CANDIDATE_FIELD)
}

/// The payload of a [`JobKind::CustomerSyncTenant`] job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantJob {
    /// Only accounts changed since the last run (its watermark), instead of every account.
    #[serde(default)]
    pub incremental: bool,
    /// A job to send once the run is done (`{"queue": "export", "job": {…}}`, see
    /// [`cwsync_sync::FollowUp`]): the schedule's customer sync names the day's export, so every
    /// account has its company before its agreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<serde_json::Value>,
}

/// What planning a tenant-wide run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRun {
    /// The run's id (read its report with the `report` action).
    pub run_id: String,
    /// Accounts in the run.
    pub accounts: u64,
    /// Jobs sent (accounts the filters left alone are recorded as skipped at once).
    pub jobs_sent: u64,
    /// Whether the run only plans.
    pub dry_run: bool,
}

impl CustomerSync {
    /// Where the customer sync records its runs: units are accounts, done when their company is.
    pub fn run_book(&self) -> RunBook {
        RunBook::new(std::sync::Arc::clone(&self.deps), JOB_KIND, entity::COMPANY)
    }

    /// Plans a tenant-wide run: reads the accounts (all, or those changed since the watermark),
    /// starts the run, records the filtered-out accounts as skipped and sends one job per other
    /// account, parents first. A full run sends no job for an account unchanged on both sides
    /// since its last sync (see [`crate::unchanged`]): it records it as unchanged instead.
    pub async fn plan_tenant_run(
        &self,
        tenant: &TenantId,
        run_id: RunId,
        dry_run: bool,
        incremental: bool,
    ) -> Result<PlannedRun, SyncError> {
        self.plan_tenant_run_then(tenant, run_id, dry_run, incremental, None)
            .await
    }

    /// [`CustomerSync::plan_tenant_run`], sending `follow_up` once the run is done.
    pub async fn plan_tenant_run_then(
        &self,
        tenant: &TenantId,
        run_id: RunId,
        dry_run: bool,
        incremental: bool,
        follow_up: Option<FollowUp>,
    ) -> Result<PlannedRun, SyncError> {
        let deps = &*self.deps;
        let settings = tenant::settings(deps, tenant).await?;
        let clients = self.clients(tenant).await?;
        let since = if incremental {
            deps.stores
                .watermarks
                .get(tenant, ACCOUNTS_STREAM)
                .await?
                .map(|w| cwsync_store::watermarks::read_from(&w, WATERMARK_OVERLAP))
        } else {
            None
        };
        // Read before the accounts, so a failure recorded while they are read is not missed.
        let ledger = deps
            .stores
            .ledger
            .report(tenant, u32::MAX, self.now())
            .await?;
        let listing = clients
            .billing
            .list_accounts_checked(&AccountQuery {
                updated_since: since,
                ..AccountQuery::default()
            })
            .await
            .map_err(|e| SyncError::billing("listing the billing accounts", e))?;
        let mut accounts = listing.accounts;
        let mut malformed = listing.malformed;
        if since.is_some() {
            // Accounts still failing are tried again although they did not change: the fix
            // may have been made in ConnectWise (a state or type added).
            let listed: HashSet<String> = accounts.iter().map(|a| a.id.clone()).collect();
            let failing: Vec<String> = ledger
                .iter()
                .filter(|e| e.kind == entity::COMPANY && !listed.contains(&e.record_id))
                .map(|e| e.record_id.clone())
                .collect();
            if !failing.is_empty() {
                let retried = clients
                    .billing
                    .list_accounts_checked(&AccountQuery {
                        ids: Some(failing),
                        ..AccountQuery::default()
                    })
                    .await
                    .map_err(|e| SyncError::billing("reading the failing billing accounts", e))?;
                accounts.extend(retried.accounts);
                malformed.extend(retried.malformed);
            }
        }
        let accounts = parents_first(accounts);
        let now = self.now();
        let runs = self.run_book();
        // A redelivered planning job finds its run started: it sends the jobs again (each runs
        // once, by its idempotency key) but records the skipped accounts only the first time.
        let planned = (accounts.len() + malformed.len()) as u64;
        let fresh = runs
            .start_then(tenant, &run_id, dry_run, planned, follow_up.as_ref())
            .await?;
        let mut jobs = Vec::new();
        // Records the billing system sent that are not valid accounts fail alone, named.
        let mut skipped: Vec<UnitResult> = malformed
            .iter()
            .enumerate()
            .map(|(n, bad)| malformed_result(bad, n))
            .collect();
        // An incremental run lists only accounts that changed (or fail): checking the others'
        // ConnectWise side would cost more reads than it saves.
        let selected: Vec<&Account> = accounts
            .iter()
            .filter(|a| engine::filtered_out(a, &settings).is_none())
            .collect();
        // A full run lists the tenant's companies once, 1,000 a page: the unchanged check
        // compares their stamps, and each job learns whether a candidate company exists for its
        // account (a first sync then makes no candidate look-up per batch). The hints only save
        // reads: when the listing fails the jobs look for themselves (and the unchanged check,
        // when it needs the listing, reads it and fails the planning as before).
        let companies = if incremental || selected.is_empty() {
            None
        } else {
            match unchanged::list_companies(&clients.cw).await {
                Ok(companies) => Some(companies),
                Err(error) => {
                    tracing::warn!(%error, "no company listing: the jobs look up candidates");
                    None
                }
            }
        };
        let mut unchanged = if incremental {
            HashMap::new()
        } else {
            let inputs = unchanged::PlanInputs {
                tenant,
                settings: &settings,
                cw: &clients.cw,
                links: deps.stores.links.as_ref(),
                ledger: &ledger,
                companies: companies.as_deref(),
            };
            unchanged::find_unchanged(inputs, &selected).await?
        };
        let mut unchanged_results = Vec::with_capacity(unchanged.len());
        for account in &accounts {
            match engine::filtered_out(account, &settings) {
                Some(reason) => skipped.push(engine::skipped(account, reason)),
                None if let Some(result) = unchanged.remove(&account.id) => {
                    unchanged_results.push(result);
                }
                None => jobs.push(
                    Job::new(
                        JobKind::CustomerSyncAccount,
                        tenant.as_str(),
                        run_id.as_str(),
                        dry_run,
                        serde_json::to_value(AccountJob {
                            account_id: account.id.clone(),
                            no_candidate_at_plan: companies
                                .as_deref()
                                .is_some_and(|c| unchanged::no_candidate(account, c)),
                        })
                        .unwrap_or_else(|_| serde_json::json!({"accountId": account.id})),
                    )
                    .map_err(|e| SyncError::NotConfigured {
                        tenant: tenant.to_string(),
                        job: JOB_KIND,
                        reason: format!("account {} can't become a job: {e}", account.id),
                    })?,
                ),
            }
        }
        let what = format!("the {} account jobs of run {run_id}", jobs.len());
        sync_jobs::send_jobs(deps, Queue::Customer, tenant, JOB_KIND, &jobs, &what).await?;
        if fresh {
            runs.record(tenant, &run_id, dry_run, &skipped).await?;
            runs.record_unchanged(tenant, &run_id, &unchanged_results)
                .await?;
        }
        runs.finish_if_done(tenant, &run_id).await?;
        if !dry_run && let Some(latest) = accounts.iter().map(|a| a.updated_at).max() {
            deps.stores
                .watermarks
                .advance(tenant, ACCOUNTS_STREAM, latest, now)
                .await?;
        }
        Ok(PlannedRun {
            run_id: run_id.to_string(),
            accounts: (accounts.len() + malformed.len()) as u64,
            jobs_sent: jobs.len() as u64,
            dry_run,
        })
    }

    /// Syncs one account now, inside run `run_id` (started with one planned account when it
    /// doesn't exist yet), and records its outcome. With `prefetched` (the batch's reads), the
    /// account and its ConnectWise records are taken from there instead of read again. With
    /// `no_candidate` (the planner's hint, on a job's first delivery) no candidate company is
    /// looked up for the account.
    #[allow(clippy::too_many_arguments)]
    pub async fn sync_account_now(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        account_id: &str,
        prefetched: Option<&GroupPrefetch>,
        wait_for_related: bool,
        no_candidate: bool,
    ) -> Result<UnitResult, SyncError> {
        let deps = &*self.deps;
        let runs = self.run_book();
        // A run of one account (a billing change, a console sync) may reuse recent reference data.
        let single = runs.ensure_single(tenant, run_id, dry_run).await?;
        // The batch read the tenant's settings already; a job alone reads them itself.
        let settings = match prefetched {
            Some(group) => group.settings.clone(),
            None => tenant::settings(deps, tenant).await?,
        };
        let clients = self.clients(tenant).await?;
        let from_batch = prefetched.and_then(|p| p.accounts.get(account_id).cloned());
        let read = match from_batch {
            Some(account) => Ok(account),
            None => clients.billing.get_account(account_id).await,
        };
        let account = match read {
            Ok(account) => account,
            Err(BillingError::NotFound { .. }) => {
                let result = UnitResult::single(
                    Recorder::new(entity::COMPANY, account_id, String::new()).with_detail(
                        Outcome::Skipped,
                        "the account no longer exists in the billing system".to_owned(),
                    ),
                );
                runs.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
                    .await?;
                return Ok(result);
            }
            Err(BillingError::Decode { reason, .. }) => {
                // The same record fails the same way on every delivery: report it, don't retry.
                let bad = cwsync_billing::MalformedAccount {
                    id: Some(account_id.to_owned()),
                    field: None,
                    reason,
                };
                let result = malformed_result(&bad, 0);
                runs.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
                    .await?;
                return Ok(result);
            }
            Err(error) => {
                return Err(SyncError::billing(
                    format!("reading billing account {account_id}"),
                    error,
                ));
            }
        };
        let reference = self
            .connections
            .reference(deps, tenant, run_id.as_str(), single, || {
                reference::read_reference(&clients.cw)
            })
            .await?;
        let reference = reference::with_currencies(reference, &settings);
        let no_candidates: HashSet<String> = no_candidate
            .then(|| account_id.to_owned())
            .into_iter()
            .collect();
        let scope = Scope {
            tenant,
            dry_run,
            settings: &settings,
            reference: &reference,
            cw: &clients.cw,
            billing: &clients.billing,
            links: deps.stores.links.as_ref(),
            now: self.now(),
            wait_for_related,
            no_candidates: &no_candidates,
        };
        let outcome = Box::pin(engine::sync_accounts(
            scope,
            std::slice::from_ref(&account),
            prefetched.map(|p| &p.prefetch),
        ))
        .await;
        let mut results = match outcome {
            Ok(results) => results,
            Err(error) => {
                if error.keys_refused() {
                    self.connections.evict(deps, tenant).await;
                }
                if error.is_transient() {
                    return Err(error);
                }
                // Known and final: the account's failure, on the error ledger like any other.
                return runs
                    .record_job_failure(
                        tenant,
                        run_id,
                        dry_run,
                        account_id,
                        cwsync_mapping::customers::fingerprint(&account),
                        &error,
                    )
                    .await;
            }
        };
        runs.record_and_finish(tenant, run_id, dry_run, &results)
            .await?;
        Ok(results.pop().unwrap_or(UnitResult {
            unit_id: account_id.to_owned(),
            records: Vec::new(),
        }))
    }

    /// Handles an SQS batch of customer-sync jobs; the answer's `batchItemFailures` name the
    /// messages to deliver again.
    ///
    /// The account jobs of one tenant and run in the batch are read together first (their billing
    /// accounts in one call, their ConnectWise companies, candidates and contacts in one look-up
    /// each); then each job syncs its account on its own, under its own idempotency record.
    pub async fn handle_jobs(&self, event: SqsEvent, deadline: OffsetDateTime) -> SqsBatchResponse {
        let groups = self.prefetch(&event).await;
        let before = self
            .connections
            .client_stats(&self.deps, groups.keys().map(|g| &g.tenant))
            .await;
        let processed = sync_jobs::handle_batch(
            JOB_KIND,
            event,
            self.concurrency,
            self.deps.config.max_receive_count,
            &groups,
            |job, context, group| {
                let wait = context.receive_count <= RELATED_WAITS;
                let first = context.receive_count == 1;
                self.run_job_with(job, deadline, group, wait, first)
            },
        )
        .await;
        self.connections.count_calls(&self.deps, before).await;
        processed.response
    }

    /// The shared reads of each group of two or more account jobs (same tenant, run and dry-run
    /// flag) that have not completed before. A group whose reads fail is left to read per job.
    async fn prefetch(&self, event: &SqsEvent) -> HashMap<GroupKey, Option<GroupPrefetch>> {
        // Each job's account id, and whether the planner's hint spares its candidate look-ups.
        let groups = sync_jobs::pending_groups(
            event,
            self.deps.stores.idempotency.as_ref(),
            idempotency_key,
            |job, record| {
                let payload = job.payload_as::<AccountJob>().ok()?;
                (job.kind() == JobKind::CustomerSyncAccount).then(|| {
                    let spared = payload.no_candidate_at_plan && first_delivery(record);
                    (payload.account_id, spared)
                })
            },
        )
        .await;
        sync_jobs::prefetch_groups(groups, 2, |key, members| {
            Box::pin(self.read_group(key, members))
        })
        .await
    }

    async fn read_group(
        &self,
        key: GroupKey,
        members: Vec<(String, bool)>,
    ) -> Result<GroupPrefetch, SyncError> {
        let (tenant, run_id, dry_run) = (&key.tenant, &key.run_id, key.dry_run);
        let no_candidates: HashSet<String> = members
            .iter()
            .filter(|(_, spared)| *spared)
            .map(|(id, _)| id.clone())
            .collect();
        let ids: Vec<String> = members.into_iter().map(|(id, _)| id).collect();
        let deps = &*self.deps;
        let settings = tenant::settings(deps, tenant).await?;
        let clients = self.clients(tenant).await?;
        let reference = self
            .connections
            .reference(deps, tenant, run_id, false, || {
                reference::read_reference(&clients.cw)
            })
            .await?;
        let reference = reference::with_currencies(reference, &settings);
        // A malformed account is left out: its job reads it alone and reports it.
        let accounts = clients
            .billing
            .list_accounts_checked(&AccountQuery {
                ids: Some(ids),
                ..AccountQuery::default()
            })
            .await
            .map_err(|e| SyncError::billing("reading the batch's billing accounts", e))?
            .accounts;
        let scope = Scope {
            tenant,
            dry_run,
            settings: &settings,
            reference: &reference,
            cw: &clients.cw,
            billing: &clients.billing,
            links: deps.stores.links.as_ref(),
            now: self.now(),
            wait_for_related: false,
            no_candidates: &no_candidates,
        };
        let prefetch = engine::Prefetch::read(scope, &accounts).await?;
        Ok(GroupPrefetch {
            settings,
            accounts: accounts.into_iter().map(|a| (a.id.clone(), a)).collect(),
            prefetch,
        })
    }

    /// Runs one job under its idempotency record.
    /// Its first delivery: it waits for a parent company being created (see [`RELATED_WAITS`]).
    /// The planner's hint is honoured (see [`AccountJob::no_candidate_at_plan`]).
    pub async fn run_job(&self, job: Job, deadline: OffsetDateTime) -> Result<(), JobFailure> {
        self.run_job_with(job, deadline, None, true, true).await
    }

    async fn run_job_with(
        &self,
        job: Job,
        deadline: OffsetDateTime,
        prefetched: Option<&GroupPrefetch>,
        wait_for_related: bool,
        first_delivery: bool,
    ) -> Result<(), JobFailure> {
        let tenant = TenantId::parse(job.tenant()).map_err(JobFailure::permanent)?;
        let run_id = RunId::parse(job.run_id()).map_err(JobFailure::permanent)?;
        let span = cwsync_runtime::telemetry::job_span(tenant.as_str(), run_id.as_str(), None);
        let _entered = span.enter();
        let key = idempotency_key(&job);
        let work = || async {
            match job.kind() {
                JobKind::CustomerSyncAccount => {
                    let payload: AccountJob = job.payload_as().map_err(JobFailure::permanent)?;
                    let result = Box::pin(self.sync_account_now(
                        &tenant,
                        &run_id,
                        job.dry_run(),
                        &payload.account_id,
                        prefetched,
                        wait_for_related,
                        payload.no_candidate_at_plan && first_delivery,
                    ))
                    .await;
                    // Failed before the account was read (settings, credentials): still the
                    // account's failure in the run, which then finishes.
                    self.run_book()
                        .settle_unit(&tenant, &run_id, job.dry_run(), &payload.account_id, result)
                        .await
                }
                JobKind::CustomerSyncTenant => {
                    let payload: TenantJob = job.payload_as().map_err(JobFailure::permanent)?;
                    let follow_up = payload
                        .then
                        .map(|then| FollowUp::parse(&then.to_string()))
                        .transpose()
                        .map_err(|reason| {
                            JobFailure::permanent(format!("payload.then: {reason}"))
                        })?;
                    Box::pin(self.plan_tenant_run_then(
                        &tenant,
                        run_id.clone(),
                        job.dry_run(),
                        payload.incremental,
                        follow_up,
                    ))
                    .await
                    .map(|_| ())
                    .map_err(JobFailure::from)
                }
                other => Err(JobFailure::permanent(format!(
                    "{other} is not a customer-sync job; it was sent to the wrong queue"
                ))),
            }
        };
        sync_jobs::run_once(&self.idempotency, &tenant, &key, deadline, work).await
    }
}

/// A group's shared reads: its billing accounts and what ConnectWise holds for them.
#[derive(Debug)]
pub struct GroupPrefetch {
    settings: TenantSettings,
    accounts: HashMap<String, Account>,
    prefetch: engine::Prefetch,
}

/// The failed company record of a billing record that is not a valid account. One without an id
/// is named by its position in the listing (and can't go on the error ledger).
fn malformed_result(bad: &cwsync_billing::MalformedAccount, n: usize) -> UnitResult {
    let record_id = bad
        .id
        .clone()
        .unwrap_or_else(|| format!("(record {} without an id)", n + 1));
    // Without an id nothing names the record from one run to the next: it stays off the error
    // ledger (the run report still lists it).
    let fingerprint = if bad.id.is_some() {
        bad.reason.clone()
    } else {
        String::new()
    };
    UnitResult::single(
        Recorder::new(entity::COMPANY, &record_id, fingerprint)
            .failed(format!("the billing system sent an invalid record: {bad}")),
    )
}

/// Orders accounts so each parent and bill-to account comes before the accounts pointing at it
/// (where both are in the list), so their companies exist when the children are synced.
pub fn parents_first(accounts: Vec<Account>) -> Vec<Account> {
    let ids: HashSet<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let mut placed: HashSet<String> = HashSet::new();
    let mut ordered = Vec::with_capacity(accounts.len());
    let mut pending = accounts;
    while !pending.is_empty() {
        let before = pending.len();
        let (ready, waiting): (Vec<Account>, Vec<Account>) = pending.into_iter().partition(|a| {
            [&a.parent_account_id, &a.bill_to_account_id]
                .into_iter()
                .flatten()
                .all(|p| p == &a.id || !ids.contains(p) || placed.contains(p))
        });
        placed.extend(ready.iter().map(|a| a.id.clone()));
        ordered.extend(ready);
        pending = waiting;
        if pending.len() == before {
            // A cycle: keep the rest in their order.
            ordered.append(&mut pending);
        }
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account_job(payload: serde_json::Value) -> Job {
        Job::new(JobKind::CustomerSyncAccount, "acme", "r1", false, payload).unwrap()
    }

    #[test]
    fn a_job_message_without_the_hint_reads_as_no_hint_and_is_written_without_it() {
        let old: AccountJob = account_job(serde_json::json!({"accountId": "A-1"}))
            .payload_as()
            .unwrap();
        assert!(!old.no_candidate_at_plan);
        assert_eq!(
            serde_json::to_value(&old).unwrap(),
            serde_json::json!({"accountId": "A-1"})
        );
        let hinted = AccountJob {
            no_candidate_at_plan: true,
            ..old
        };
        assert_eq!(
            serde_json::to_value(&hinted).unwrap(),
            serde_json::json!({"accountId": "A-1", "noCandidateAtPlan": true})
        );
    }

    #[test]
    fn the_hint_is_not_part_of_the_idempotency_key() {
        let bare = account_job(serde_json::json!({"accountId": "A-1"}));
        let hinted =
            account_job(serde_json::json!({"accountId": "A-1", "noCandidateAtPlan": true}));
        let other = account_job(serde_json::json!({"accountId": "A-2", "noCandidateAtPlan": true}));
        assert_eq!(idempotency_key(&hinted), idempotency_key(&bare));
        assert_eq!(idempotency_key(&bare), bare.key());
        assert_ne!(idempotency_key(&other), idempotency_key(&bare));
    }

    #[test]
    fn the_hint_counts_only_on_a_first_delivery_by_its_receive_count() {
        let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
        assert!(
            !first_delivery(&record),
            "no count: taken as delivered before"
        );
        record
            .attributes
            .insert("ApproximateReceiveCount".to_owned(), "1".to_owned());
        assert!(first_delivery(&record));
        record
            .attributes
            .insert("ApproximateReceiveCount".to_owned(), "2".to_owned());
        assert!(!first_delivery(&record));
    }
}
