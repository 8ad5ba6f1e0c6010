//! What a user (Lambda console test events, `aws lambda invoke`, the local runner) and the
//! schedule ask of the daily export: export a tenant now (some accounts, a dry run, confirming a
//! mass change), disable and enable a tenant's export, the export log of a run, the error
//! report, and the schedule's tick.
//!
//! Every answer is JSON; a failure is a `Diagnostic` whose message names the tenant and what to
//! do. No answer ever holds a key.

use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::{Job, JobKind};
use cwsync_runtime::{HealthReport, Queue};
use cwsync_store::{RunId, TenantId};
use cwsync_sync::report::{
    ErrorsEvent, ReportEvent, diagnostic, latest_summary, run_report, tenant_errors_report,
    tenant_id, tick_tenants, to_json,
};
use cwsync_sync::suggest::{self, latest_run_accounts_wanting, suggested_report};
use cwsync_sync::{FollowUp, SyncError};
use jiff::Timestamp;
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::{Value, json};

use crate::account::is_unmapped;
use crate::documents::{Document, DocumentsRequest};
use crate::plan::PlanRequest;
use crate::schedule::TenantSchedule;
use crate::{DailyExport, FUNCTION, JOB_KIND};

cwsync_sync::console_event! {
/// What a console test event or the schedule can ask of this function.
#[derive(Eq)]
pub enum Event {
    /// Answer that the function is deployed and starts.
    Health {},
    /// The schedule's tick: every tenant whose daily time has come (each once per local day)
    /// gets its customer sync, and then its export.
    Scheduled {},
    /// Export a tenant now: plans a run and fans out one job per account.
    ExportNow {
        /// The tenant.
        tenant: String,
        /// Only these accounts.
        #[serde(default)]
        account_ids: Option<Vec<String>>,
        /// Plan and report only; write nothing.
        #[serde(default)]
        dry_run: bool,
        /// Write even when the mass-change guard trips.
        #[serde(default)]
        confirm_mass_change: bool,
        /// Export every account even when unchanged since its last export (corrects additions
        /// changed by hand in ConnectWise).
        #[serde(default)]
        full: bool,
        /// Start the tenant's document runs too (invoices, payments, orders, …: each kind its
        /// settings sync), as the schedule does.
        #[serde(default)]
        documents: bool,
    },
    /// Sync one kind of billing document now (see [`crate::documents`]): plans a run of its
    /// own and fans out one job per page of changed records.
    ExportDocuments {
        /// The tenant.
        tenant: String,
        /// The kind: `invoices`, `payments`, `orders`, `projects`, `credit-hold`,
        /// `agreement-invoices` or `sales-orders`.
        document: Document,
        /// Only these records (billing ids; ConnectWise ids for `agreement-invoices` and
        /// `sales-orders`).
        #[serde(default)]
        record_ids: Option<Vec<String>>,
        /// Plan and report only; write nothing.
        #[serde(default)]
        dry_run: bool,
        /// Sync every record even when unchanged since its last sync.
        #[serde(default)]
        full: bool,
    },
    /// Turn the tenant's export off: no scheduled or console export runs, queued jobs write
    /// nothing. Nothing is deleted in ConnectWise; every link is kept.
    Disable {
        /// The tenant.
        tenant: String,
    },
    /// Turn the tenant's export on again.
    Enable {
        /// The tenant.
        tenant: String,
    },
    /// The export log of a run (the tenant's latest export without `runId`), with the last and
    /// the next scheduled run, and candidate companies for the accounts of the page it reported
    /// unmapped.
    Report(ReportEvent),
    /// The log of a document run (the tenant's latest run of `document` without `runId`), a
    /// page of records at a time.
    DocumentsReport {
        /// The tenant.
        tenant: String,
        /// The kind.
        document: Document,
        /// The run.
        #[serde(default)]
        run_id: Option<String>,
        /// The next page of records, from the previous answer.
        #[serde(default)]
        page_token: Option<String>,
    },
    /// The tenant's error report: records that keep failing, until fixed, and candidate
    /// companies for the accounts the latest export reported unmapped.
    Errors(ErrorsEvent),
}
}

/// What a tick of the schedule did: the tenants whose day it started.
pub type TickReport = cwsync_sync::report::TickReport<StartedRun>;

/// A tenant's day the tick started: its customer sync, then (when that is done) its export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedRun {
    /// The tenant.
    pub tenant: String,
    /// The export's run (it starts once the customer sync is done).
    pub run_id: String,
    /// The tenant's local date the run is for.
    pub date: String,
}

impl DailyExport {
    /// Handles one console event.
    pub async fn handle_event(&self, event: Event) -> Result<Value, Diagnostic> {
        match event {
            Event::Health {} => to_json(&HealthReport::ok(FUNCTION, env!("CARGO_PKG_VERSION"))),
            Event::Scheduled {} => to_json(&self.tick(Timestamp::now()).await),
            Event::ExportNow {
                tenant,
                account_ids,
                dry_run,
                confirm_mass_change,
                full,
                documents,
            } => {
                let tenant = tenant_id(&tenant)?;
                let request = PlanRequest {
                    account_ids,
                    confirm_mass_change,
                    full,
                    continues_stage: None,
                    documents,
                };
                let run_id = RunId::new(self.now());
                let planned = Box::pin(self.plan_run(&tenant, run_id, dry_run, &request)).await?;
                to_json(&planned)
            }
            Event::ExportDocuments {
                tenant,
                document,
                record_ids,
                dry_run,
                full,
            } => {
                let tenant = tenant_id(&tenant)?;
                let request = DocumentsRequest {
                    document,
                    record_ids,
                    full,
                };
                let run_id = RunId::new(self.now());
                let planned =
                    Box::pin(self.plan_documents(&tenant, &run_id, dry_run, &request)).await?;
                to_json(&planned)
            }
            Event::Disable { tenant } => self.set_enabled(&tenant_id(&tenant)?, false).await,
            Event::Enable { tenant } => {
                let tenant = tenant_id(&tenant)?;
                // A tenant without its connection would fail every scheduled export: refused
                // now, naming the secret that is missing or wrong.
                self.deps
                    .secrets
                    .credentials(tenant.as_str())
                    .await
                    .map_err(SyncError::from)?;
                self.set_enabled(&tenant, true).await
            }
            Event::Report(ReportEvent {
                tenant,
                run_id,
                page_token,
            }) => {
                let tenant = tenant_id(&tenant)?;
                let settings = cwsync_sync::tenant::settings(&self.deps, &tenant).await?;
                let report = run_report(
                    &self.deps,
                    &tenant,
                    JOB_KIND,
                    run_id,
                    page_token,
                    settings.error_attempts,
                    self.now(),
                )
                .await?;
                let next = TenantSchedule::new(&settings.schedules.daily_export)
                    .ok()
                    .and_then(|s| s.next_after(Timestamp::now()).ok().flatten())
                    .map(|next| next.to_string());
                let report =
                    suggested_report(&self.deps, &self.connections, &tenant, report, is_unmapped)
                        .await?;
                let mut value = to_json(&report)?;
                let documents = self.document_summaries(&tenant, &settings).await?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("nextScheduledRun".to_owned(), json!(next));
                    object.insert("enabled".to_owned(), json!(settings.export.enabled));
                    object.insert("documents".to_owned(), documents);
                }
                Ok(value)
            }
            Event::DocumentsReport {
                tenant,
                document,
                run_id,
                page_token,
            } => {
                let tenant = tenant_id(&tenant)?;
                let settings = cwsync_sync::tenant::settings(&self.deps, &tenant).await?;
                let report = run_report(
                    &self.deps,
                    &tenant,
                    document.job_kind(),
                    run_id,
                    page_token,
                    settings.error_attempts,
                    self.now(),
                )
                .await?;
                to_json(&report)
            }
            Event::Errors(ErrorsEvent { tenant }) => {
                let tenant = tenant_id(&tenant)?;
                let errors = tenant_errors_report(&self.deps, &tenant, self.now()).await?;
                // An unmapped account is skipped, not failed (it is not on the error ledger): the
                // latest export's unmapped accounts are listed here with their candidates.
                let unmapped =
                    latest_run_accounts_wanting(&self.deps, &tenant, JOB_KIND, is_unmapped).await?;
                let suggestions = suggest::suggestions(
                    &self.deps,
                    &self.connections,
                    &tenant,
                    Some(unmapped),
                    None,
                )
                .await?;
                to_json(&json!({ "errors": errors, "suggestions": suggestions }))
            }
        }
    }

    /// The export log's document section: for each kind the tenant syncs, its latest run (its
    /// status and counts; `documents-report` reads its records), or why it is off.
    async fn document_summaries(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
    ) -> Result<Value, Diagnostic> {
        let mut section = serde_json::Map::new();
        for document in Document::ALL {
            let entry = match document.off(settings) {
                Some(off) => json!({ "off": off }),
                None => json!({
                    "latestRun": latest_summary(&self.deps, tenant, document.job_kind()).await?
                }),
            };
            section.insert(document.as_str().to_owned(), entry);
        }
        Ok(Value::Object(section))
    }

    /// Turns the tenant's export on or off (a settings change, conditional on the version read,
    /// retried once on a concurrent save).
    async fn set_enabled(&self, tenant: &TenantId, enabled: bool) -> Result<Value, Diagnostic> {
        let store = &self.deps.stores.settings;
        for _ in 0..2 {
            let stored = store.get(tenant).await.map_err(SyncError::from)?;
            let (mut settings, version) = match stored {
                Some(v) => (v.value, Some(v.version)),
                None => (TenantSettings::default(), None),
            };
            let changed = settings.export.enabled != enabled;
            settings.export.enabled = enabled;
            if !changed {
                return to_json(
                    &json!({"tenant": tenant.as_str(), "enabled": enabled, "changed": false}),
                );
            }
            match store.put(tenant, &settings, version).await {
                Ok(version) => {
                    return to_json(&json!({
                        "tenant": tenant.as_str(),
                        "enabled": enabled,
                        "changed": true,
                        "settingsVersion": version,
                    }));
                }
                Err(cwsync_store::StoreError::Conflict { .. }) => continue,
                Err(error) => return Err(SyncError::from(error).into()),
            }
        }
        Err(diagnostic(
            "SettingsConflict",
            format!("tenant {tenant}: the settings changed twice while saving; try again"),
        ))
    }

    /// The schedule's tick at `now`: every tenant whose export is enabled and whose local time
    /// of day has come gets its day started, once per local date (claimed under the date's key,
    /// so a repeated tick starts nothing): its customer sync's planning job goes to the customer
    /// queue, naming the export's planning as the job to send once the sync is done.
    pub async fn tick(&self, now: Timestamp) -> TickReport {
        tick_tenants(&self.deps, |tenant| async move {
            self.tick_tenant(&tenant, now).await
        })
        .await
    }

    async fn tick_tenant(
        &self,
        tenant: &TenantId,
        now: Timestamp,
    ) -> Result<Option<StartedRun>, SyncError> {
        let Some(stored) = self.deps.stores.settings.get(tenant).await? else {
            return Ok(None);
        };
        let settings = stored.value;
        if !settings.export.enabled {
            return Ok(None);
        }
        let schedule = TenantSchedule::new(&settings.schedules.daily_export).map_err(|e| {
            SyncError::NotConfigured {
                tenant: tenant.to_string(),
                job: FUNCTION,
                reason: e.to_string(),
            }
        })?;
        let Some(day) = schedule
            .due(now, None)
            .map_err(|e| SyncError::NotConfigured {
                tenant: tenant.to_string(),
                job: FUNCTION,
                reason: e.to_string(),
            })?
        else {
            return Ok(None);
        };
        // The day's runs are named after the day, so two ticks racing name the same runs. The
        // customer sync runs first and sends the export's planning when it is done, so a new
        // account has its company before its agreement.
        let started_at = time::OffsetDateTime::from_unix_timestamp(day.starts_at.as_second())
            .unwrap_or_else(|_| self.now());
        let run_id = RunId::derived(started_at, &day.claim_key());
        let customer_run = RunId::derived(started_at, &format!("customer-sync#{}", day.date));
        let plan = Job::new(
            JobKind::DailyExportPlan,
            tenant.as_str(),
            run_id.as_str(),
            false,
            serde_json::to_value(PlanRequest {
                documents: true,
                ..PlanRequest::default()
            })
            .unwrap_or_default(),
        );
        let then = plan.map(|plan| FollowUp {
            queue: Queue::Export,
            job: plan,
        });
        let job = then
            .and_then(|then| {
                let then: Value = serde_json::from_str(&then.to_text()).unwrap_or_default();
                Job::new(
                    JobKind::CustomerSyncTenant,
                    tenant.as_str(),
                    customer_run.as_str(),
                    false,
                    json!({ "then": then }),
                )
            })
            .map_err(|e| SyncError::Unsettled {
                record: format!("the scheduled runs of tenant {tenant}"),
                detail: e.to_string(),
            })?;
        // Claimed once per local date: the idempotency record of the day's key.
        let deadline = self.now() + time::Duration::minutes(1);
        let claimed = self
            .day_claims
            .run(tenant, &day.claim_key(), deadline, || async {
                let queue = self
                    .deps
                    .queues
                    .get(Queue::Customer)
                    .map_err(|e| e.to_string())?;
                queue
                    .send_batch(std::slice::from_ref(&job))
                    .await
                    .and_then(|report| report.ensure_all_sent())
                    .map_err(|e| e.to_string())
            })
            .await;
        match claimed {
            Ok(cwsync_store::idempotency::Outcome::Executed(())) => Ok(Some(StartedRun {
                tenant: tenant.to_string(),
                run_id: run_id.to_string(),
                date: day.date.to_string(),
            })),
            Ok(_) => Ok(None),
            Err(error) => Err(SyncError::Unsettled {
                record: format!("the scheduled export of tenant {tenant} on {}", day.date),
                detail: error.to_string(),
            }),
        }
    }
}
