//! What a user (Lambda console test events, `aws lambda invoke`, the local runner) and the
//! schedule ask of the ticket import: import a tenant's finished tickets now, import one ticket
//! now (ignoring the watermark), exclude a ticket for good, move the billing calls flagged for
//! ConnectWise to tickets now, a run's report, the error report, and the schedule's tick (which
//! also sends the tenant's move job when it moves calls).
//!
//! Every answer is JSON; a failure is a `Diagnostic` whose message names the tenant and what to
//! do. No answer ever holds a key.

use cwsync_queue::{Job, JobKind};
use cwsync_runtime::{HealthReport, Queue};
use cwsync_store::{RunId, TenantId};
use cwsync_sync::SyncError;
use cwsync_sync::jobs::send_once;
use cwsync_sync::report::{
    ErrorsEvent, diagnostic, errors_answer, tenant_id, tenant_run_report, tick_tenants, to_json,
};
use cwsync_sync::tenant::{SettingsChange, change_settings};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::moving::MOVE_JOB_KIND;
use crate::plan::PlanRequest;
use crate::{FUNCTION, JOB_KIND, TicketImport};

cwsync_sync::console_event! {
/// What a console test event or the schedule can ask of this function.
#[derive(Eq)]
pub enum Event {
    /// Answer that the function is deployed and starts.
    Health {},
    /// The schedule's tick: every tenant whose `schedules.ticketImport` interval has come gets
    /// its planning job (once per interval).
    Scheduled {},
    /// Import a tenant's finished tickets now: plans a run (from the watermark, or `since`) and
    /// fans out one job per ticket.
    ImportNow {
        /// The tenant.
        tenant: String,
        /// Read the tickets changed since then instead of since the watermark.
        #[serde(default, with = "time::serde::rfc3339::option")]
        since: Option<OffsetDateTime>,
        /// Plan and report only; write nothing (the watermark stays).
        #[serde(default)]
        dry_run: bool,
    },
    /// Import one ticket now, whatever the watermark says, and answer with its line.
    ImportTicket {
        /// The tenant.
        tenant: String,
        /// The ConnectWise ticket.
        ticket_id: i64,
        /// Plan and report only; write nothing.
        #[serde(default)]
        dry_run: bool,
    },
    /// Remove a ticket from the import for good (stored in the tenant's settings,
    /// `ticketImport.excluded`); its errors leave the error report.
    ExcludeTicket {
        /// The tenant.
        tenant: String,
        /// The ConnectWise ticket.
        ticket_id: i64,
    },
    /// Move the tenant's billing calls flagged for ConnectWise to ConnectWise tickets now, and
    /// answer with the run's lines (see [`crate::moving`]).
    MoveCalls {
        /// The tenant.
        tenant: String,
        /// Plan and report only; write nothing.
        #[serde(default)]
        dry_run: bool,
    },
    /// The import log of a run (the tenant's latest import without `runId`).
    Report {
        /// The tenant.
        tenant: String,
        /// A run of the calls moved to ConnectWise (`move-calls`) rather than of the import.
        #[serde(default)]
        moves: bool,
        /// The run.
        #[serde(default)]
        run_id: Option<String>,
        /// The next page of records, from the previous answer.
        #[serde(default)]
        page_token: Option<String>,
    },
    /// The tenant's error report: tickets (and other records) that keep failing, until fixed.
    Errors(ErrorsEvent),
    /// Make the tenant's ConnectWise hold exactly one active ticket callback at this function's
    /// URL (`CALLBACK_URL`): created, repaired or de-duplicated; a second run writes nothing
    /// (see [`crate::callbacks_admin`]).
    RegisterCallbacks {
        /// The tenant.
        tenant: String,
        /// Only say what it would do.
        #[serde(default)]
        dry_run: bool,
    },
}
}

/// What a tick of the schedule did.
pub type TickReport = cwsync_sync::report::TickReport<StartedRun>;

/// A tenant's runs the tick started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartedRun {
    /// The tenant.
    pub tenant: String,
    /// The import's run, when the tick started one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The run moving flagged calls to ConnectWise, when the tick started one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moves_run_id: Option<String>,
}

impl TicketImport {
    /// Handles one console event.
    pub async fn handle_event(&self, event: Event) -> Result<Value, Diagnostic> {
        match event {
            Event::Health {} => to_json(&HealthReport::ok(FUNCTION, env!("CARGO_PKG_VERSION"))),
            Event::Scheduled {} => to_json(&self.tick(self.now()).await),
            Event::ImportNow {
                tenant,
                since,
                dry_run,
            } => {
                let tenant = tenant_id(&tenant)?;
                let run_id = RunId::new(self.now());
                let request = PlanRequest { since };
                let planned = Box::pin(self.plan_run(&tenant, &run_id, dry_run, &request)).await?;
                to_json(&planned)
            }
            Event::ImportTicket {
                tenant,
                ticket_id,
                dry_run,
            } => {
                let tenant = tenant_id(&tenant)?;
                let run_id = RunId::new(self.now());
                let result =
                    Box::pin(self.import_ticket_in_run(&tenant, &run_id, dry_run, ticket_id))
                        .await?;
                to_json(&json!({
                    "runId": run_id.as_str(),
                    "dryRun": dry_run,
                    "records": result.records,
                }))
            }
            Event::ExcludeTicket { tenant, ticket_id } => {
                self.exclude(&tenant_id(&tenant)?, ticket_id).await
            }
            Event::MoveCalls { tenant, dry_run } => {
                let tenant = tenant_id(&tenant)?;
                let run_id = RunId::new(self.now());
                to_json(&Box::pin(self.move_calls(&tenant, &run_id, dry_run)).await?)
            }
            Event::Report {
                tenant,
                moves,
                run_id,
                page_token,
            } => {
                let tenant = tenant_id(&tenant)?;
                let now = self.now();
                let kind = if moves { MOVE_JOB_KIND } else { JOB_KIND };
                let report =
                    tenant_run_report(&self.deps, &tenant, kind, run_id, page_token, now).await?;
                to_json(&report)
            }
            Event::Errors(event) => errors_answer(&self.deps, &event, self.now()).await,
            // With callbacks, `handle` routes this event to them before parsing it here; only a
            // function built without them gets this far.
            Event::RegisterCallbacks { .. } => Err(diagnostic(
                "NotConfigured",
                "this ticket-import answers no callbacks (built without them)",
            )),
        }
    }

    /// Excludes ticket `ticket_id` for good: listed in the settings, off the error ledger.
    async fn exclude(&self, tenant: &TenantId, ticket_id: i64) -> Result<Value, Diagnostic> {
        if ticket_id <= 0 {
            return Err(diagnostic(
                "InvalidEvent",
                format!("ticketId: ConnectWise ticket ids are positive, got {ticket_id}"),
            ));
        }
        let change = change_settings(&self.deps, tenant, |settings| {
            let excluded = &mut settings.ticket_import.excluded;
            if excluded.contains(&ticket_id) {
                return false;
            }
            excluded.push(ticket_id);
            true
        })
        .await?;
        self.deps
            .stores
            .ledger
            .clear(
                tenant,
                cwsync_mapping::tickets::entity::TICKET,
                &ticket_id.to_string(),
            )
            .await
            .map_err(SyncError::from)?;
        let (changed, version) = match change {
            SettingsChange::Unchanged => (false, None),
            SettingsChange::Saved(version) => (true, Some(version)),
        };
        to_json(&json!({
            "tenant": tenant.as_str(),
            "ticketId": ticket_id,
            "excluded": true,
            "changed": changed,
            "settingsVersion": version,
        }))
    }

    /// The schedule's tick at `now`: every tenant whose scheduled import is on gets one planning
    /// job per interval slot (`schedules.ticketImport.intervalMinutes`, counted from the epoch),
    /// claimed under the slot's key so repeated or overlapping ticks send it once.
    pub async fn tick(&self, now: OffsetDateTime) -> TickReport {
        tick_tenants(&self.deps, |tenant| async move {
            self.tick_tenant(&tenant, now).await
        })
        .await
    }

    async fn tick_tenant(
        &self,
        tenant: &TenantId,
        now: OffsetDateTime,
    ) -> Result<Option<StartedRun>, SyncError> {
        let Some(stored) = self.deps.stores.settings.get(tenant).await? else {
            return Ok(None);
        };
        let schedule = &stored.value.schedules.ticket_import;
        if !schedule.enabled {
            return Ok(None);
        }
        let interval = i64::from(schedule.interval_minutes.max(1)) * 60;
        let slot = now.unix_timestamp().div_euclid(interval);
        let starts_at = OffsetDateTime::from_unix_timestamp(slot * interval).unwrap_or(now);
        let run_id = if stored.value.ticket_import.statuses.is_empty() {
            None
        } else {
            let what = format!("the scheduled import of tenant {tenant}");
            let key = format!("{JOB_KIND}#{interval}#{slot}");
            let plan = json!(PlanRequest::default());
            self.send_slot_job(
                tenant,
                JobKind::TicketImportTenant,
                &key,
                starts_at,
                plan,
                &what,
            )
            .await?
        };
        let moves_run_id = if stored.value.ticket_import.moving.is_some() {
            let what = format!("the scheduled move of tenant {tenant}'s flagged calls");
            let key = format!("{MOVE_JOB_KIND}#{interval}#{slot}");
            self.send_slot_job(
                tenant,
                JobKind::TicketMoveTenant,
                &key,
                starts_at,
                json!({}),
                &what,
            )
            .await?
        } else {
            None
        };
        Ok(
            (run_id.is_some() || moves_run_id.is_some()).then(|| StartedRun {
                tenant: tenant.to_string(),
                run_id,
                moves_run_id,
            }),
        )
    }

    /// Sends the `kind` job (`payload`) of the tenant's slot `key` starting at `starts_at`, once
    /// however many ticks come (the slot's claim), as run `RunId::derived(starts_at, key)`: the
    /// run's id when this tick sent it.
    async fn send_slot_job(
        &self,
        tenant: &TenantId,
        kind: JobKind,
        key: &str,
        starts_at: OffsetDateTime,
        payload: Value,
        what: &str,
    ) -> Result<Option<String>, SyncError> {
        let run_id = RunId::derived(starts_at, key);
        let job =
            Job::new(kind, tenant.as_str(), run_id.as_str(), false, payload).map_err(|e| {
                SyncError::Unsettled {
                    record: what.to_owned(),
                    detail: e.to_string(),
                }
            })?;
        let sent = send_once(
            &self.deps,
            &self.slot_claims,
            tenant,
            key,
            Queue::Ticket,
            &job,
            what,
        )
        .await?;
        Ok(sent.then(|| run_id.to_string()))
    }
}
