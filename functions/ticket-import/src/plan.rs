//! A tenant's planning ([`cwsync_queue::JobKind::TicketImportTenant`], or the console's
//! `import-now`): which tickets this run imports, one job per ticket on the ticket queue.
//!
//! 1. The service tickets whose status is one of `ticketImport.statuses` and whose `lastUpdated`
//!    is at or after the tenant's watermark less `ticketImport.overlapMinutes` (all of them the
//!    first time, or with `since`), read in pages of 1,000 ordered by id.
//! 2. Their time entries, `TIME_ENTRY_BATCH` tickets per read
//!    (`chargeToType="ServiceTicket" AND chargeToId in (...)`, only the ids): a ticket is
//!    imported once time is logged on it (seeds: "if there are no time entries for the ticket,
//!    the call will not get picked up"). Excluded tickets are left out.
//! 3. The run is started with one unit per ticket, the jobs sent, and only then the watermark
//!    advanced to the latest `lastUpdated` listed: a planner that stops half way plans again
//!    from the old watermark, and the overlap and the idempotent ticket jobs make that safe.
//!
//! A ticket listed without time moves the watermark too: it is seen again when it changes
//! (ConnectWise moves a ticket's `lastUpdated` when it changes; whether logging time on it does
//! is not documented, so a user who logs time on a finished ticket later can `import-ticket` it).

use std::collections::BTreeSet;

use cwsync_connectwise::models::{Resource, Ticket, TimeEntry};
use cwsync_connectwise::{Condition, Direction, Query};
use cwsync_mapping::tickets::SERVICE_TICKET;
use cwsync_queue::{Job, JobKind};
use cwsync_runtime::Queue;
use cwsync_store::watermarks::read_from;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::SyncError;
use cwsync_sync::jobs::send_jobs;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::{FUNCTION, JOB_KIND, STREAM, TicketImport};

/// The payload of a tenant's planning job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanRequest {
    /// Read the tickets changed since then instead of since the watermark.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
}

/// The payload of a ticket job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TicketJob {
    /// The ConnectWise ticket.
    pub ticket_id: i64,
}

/// What a planning did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRun {
    /// The run.
    pub run_id: String,
    /// Whether it only plans.
    pub dry_run: bool,
    /// The lower bound of `lastUpdated` read (`None`: every ticket).
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// Tickets in an import status changed since then.
    pub tickets: u64,
    /// Of those, tickets without time entries (not imported).
    pub without_time: u64,
    /// Of those, tickets excluded from the import.
    pub excluded: u64,
    /// Ticket jobs sent.
    pub jobs_sent: u64,
    /// Time-entry reads: one per batch of up to `TIME_ENTRY_BATCH` tickets (more only when a
    /// batch's URL or its entries need more than one request).
    pub time_entry_reads: u64,
}

impl TicketImport {
    /// Plans run `run_id` of `tenant` (see the module docs).
    pub async fn plan_run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        request: &PlanRequest,
    ) -> Result<PlannedRun, SyncError> {
        let deps = &*self.deps;
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        let import = &settings.ticket_import;
        let mut planned = PlannedRun {
            run_id: run_id.to_string(),
            dry_run,
            ..PlannedRun::default()
        };
        if import.statuses.is_empty() {
            return Err(SyncError::NotConfigured {
                tenant: tenant.to_string(),
                job: JOB_KIND,
                reason: "ticketImport.statuses names no status to import".to_owned(),
            });
        }
        let overlap = std::time::Duration::from_secs(u64::from(import.overlap_minutes) * 60);
        planned.since = match request.since {
            Some(since) => Some(since),
            None => deps
                .stores
                .watermarks
                .get(tenant, STREAM)
                .await?
                .map(|wm| read_from(&wm, overlap)),
        };
        let clients = self.clients(tenant).await?;
        let cw = &clients.cw;

        let mut condition = Condition::field("status/name").in_(import.statuses.iter());
        if let Some(since) = planned.since {
            condition = condition.and(Condition::field("lastUpdated").ge(since));
        }
        let query = Query::new()
            .filter(condition)
            .fields(["id", "_info/lastUpdated"])
            .order_by("id", Direction::Asc)
            .page_size(1000);
        let tickets: Vec<Ticket> = cw
            .list_all(Ticket::PATH, &query)
            .await
            .map_err(|e| SyncError::connectwise("listing the finished tickets", e))?;
        planned.tickets = tickets.len() as u64;
        let latest = tickets
            .iter()
            .filter_map(|t| t.info.as_ref().and_then(|i| i.last_updated))
            .max();
        let candidates: Vec<i64> = tickets
            .iter()
            .filter_map(|t| t.id)
            .filter(|id| {
                let excluded = import.is_excluded(*id);
                if excluded {
                    planned.excluded += 1;
                }
                !excluded
            })
            .collect();

        let mut with_time = BTreeSet::new();
        for chunk in candidates.chunks(self.time_entry_batch.max(1)) {
            let entries: Vec<TimeEntry> = cw
                .list_by_ids(
                    TimeEntry::PATH,
                    "chargeToId",
                    chunk.iter().copied(),
                    &Query::new()
                        .filter(Condition::field("chargeToType").eq(SERVICE_TICKET))
                        .fields(["id", "chargeToId"])
                        .page_size(1000),
                )
                .await
                .map_err(|e| SyncError::connectwise("reading the tickets' time entries", e))?;
            planned.time_entry_reads += 1;
            with_time.extend(entries.iter().filter_map(|e| e.charge_to_id));
        }
        let to_import: Vec<i64> = candidates
            .iter()
            .copied()
            .filter(|id| with_time.contains(id))
            .collect();
        planned.without_time = (candidates.len() - to_import.len()) as u64;

        let jobs: Vec<Job> = to_import
            .iter()
            .map(|id| ticket_job(tenant, run_id, dry_run, *id))
            .collect::<Result<_, _>>()?;
        let book = self.run_book();
        book.start(tenant, run_id, dry_run, jobs.len() as u64)
            .await?;
        let what = format!("the {} ticket jobs of run {run_id}", jobs.len());
        send_jobs(deps, Queue::Ticket, tenant, FUNCTION, &jobs, &what).await?;
        planned.jobs_sent = jobs.len() as u64;
        if let Some(latest) = latest
            && !dry_run
        {
            deps.stores
                .watermarks
                .advance(tenant, STREAM, latest, self.now())
                .await?;
        }
        book.finish_if_done(tenant, run_id).await?;
        tracing::info!(%tenant, %run_id, tickets = planned.tickets, jobs = planned.jobs_sent, "ticket import planned");
        Ok(planned)
    }
}

/// The job importing ticket `ticket_id` in run `run_id`.
pub fn ticket_job(
    tenant: &TenantId,
    run_id: &RunId,
    dry_run: bool,
    ticket_id: i64,
) -> Result<Job, SyncError> {
    Job::new(
        JobKind::TicketImportTicket,
        tenant.as_str(),
        run_id.as_str(),
        dry_run,
        json!(TicketJob { ticket_id }),
    )
    .map_err(|e| SyncError::Unsettled {
        record: format!("the job of ticket {ticket_id}"),
        detail: e.to_string(),
    })
}
