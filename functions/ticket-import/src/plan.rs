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
//! Project tickets (`/project/tickets`) are planned the same way on their own watermark stream
//! ([`PROJECT_STREAM`]; time `chargeToType="ProjectTicket"`), and so are the project tickets of the
//! projects closed since that watermark (`closedFlag=true`: closing a project does not touch its
//! tickets, and a ticket billed on completion waits for it). Their jobs say `kind: project`.
//!
//! A ticket listed without time moves the watermark too: it is seen again when it changes
//! (ConnectWise moves a ticket's `lastUpdated` when it changes; whether logging time on it does
//! is not documented, so a user who logs time on a finished ticket later can `import-ticket` it).

use std::collections::BTreeSet;

use cwsync_connectwise::models::{Project, Resource, TimeEntry};
use cwsync_connectwise::{Client, Condition, Direction, Query};
use cwsync_mapping::settings::TicketImport as ImportSettings;
use cwsync_mapping::tickets::TicketKind;
use cwsync_queue::{Job, JobKind};
use cwsync_runtime::Queue;
use cwsync_store::watermarks::read_from;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::SyncError;
use cwsync_sync::jobs::send_jobs;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::{FUNCTION, JOB_KIND, PROJECT_STREAM, STREAM, TicketImport};

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
    /// A service or a project ticket (absent: service, as jobs sent before project tickets).
    #[serde(default, skip_serializing_if = "TicketKind::is_service")]
    pub kind: TicketKind,
    /// Import it only if it is finished (in an import status, with time logged); else the
    /// ticket's line is skipped, not failed: a callback's job, sent on every change of any
    /// ticket, finished or not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub when_finished: bool,
}

impl TicketJob {
    /// The job of ticket `ticket_id` of `kind`, whatever its state (the planner's, a console's).
    pub fn new(ticket_id: i64, kind: TicketKind) -> Self {
        TicketJob {
            ticket_id,
            kind,
            when_finished: false,
        }
    }
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
    /// Tickets in an import status changed since then (service and project tickets).
    pub tickets: u64,
    /// Of those, project tickets.
    pub project_tickets: u64,
    /// The lower bound of the project tickets' `lastUpdated` read (their own watermark).
    #[serde(with = "time::serde::rfc3339::option")]
    pub project_since: Option<OffsetDateTime>,
    /// Projects closed since then, whose finished tickets were read again.
    pub closed_projects: u64,
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
        planned.since = self.since(tenant, STREAM, request, import).await?;
        planned.project_since = self.since(tenant, PROJECT_STREAM, request, import).await?;
        let clients = self.clients(tenant).await?;
        let cw = &clients.cw;

        let (service, service_latest) =
            list_finished(cw, TicketKind::Service, import, planned.since, None).await?;
        let (mut project, mut project_latest) =
            list_finished(cw, TicketKind::Project, import, planned.project_since, None).await?;
        if let Some(since) = planned.project_since {
            // Projects closed since the watermark: their tickets did not change, but those that
            // bill on completion import now.
            let closed: Vec<Project> = cw
                .list_all(
                    Project::PATH,
                    &Query::new()
                        .filter(
                            Condition::field("closedFlag")
                                .eq(true)
                                .and(Condition::field("lastUpdated").ge(since)),
                        )
                        .fields(["id", "_info/lastUpdated"])
                        .order_by("id", Direction::Asc)
                        .page_size(1000),
                )
                .await
                .map_err(|e| SyncError::connectwise("listing the projects closed", e))?;
            planned.closed_projects = closed.len() as u64;
            project_latest = project_latest.max(
                closed
                    .iter()
                    .filter_map(|p| p.info.as_ref().and_then(|i| i.last_updated))
                    .max(),
            );
            let ids: Vec<i64> = closed.iter().filter_map(|p| p.id).collect();
            if !ids.is_empty() {
                let (of_closed, _) =
                    list_finished(cw, TicketKind::Project, import, None, Some(&ids)).await?;
                project.extend(of_closed);
                project.sort_unstable();
                project.dedup();
            }
        }
        planned.tickets = (service.len() + project.len()) as u64;
        planned.project_tickets = project.len() as u64;

        let mut to_import = Vec::new();
        for (kind, ids) in [
            (TicketKind::Service, service),
            (TicketKind::Project, project),
        ] {
            let candidates: Vec<i64> = ids
                .into_iter()
                .filter(|id| {
                    let excluded = import.is_excluded(*id);
                    if excluded {
                        planned.excluded += 1;
                    }
                    !excluded
                })
                .collect();
            let with_time = self
                .with_time(cw, kind, &candidates, &mut planned.time_entry_reads)
                .await?;
            for id in candidates {
                if with_time.contains(&id) {
                    to_import.push((kind, id));
                } else {
                    planned.without_time += 1;
                }
            }
        }

        let jobs: Vec<Job> = to_import
            .iter()
            .map(|(kind, id)| ticket_job_of(tenant, run_id, dry_run, *id, *kind))
            .collect::<Result<_, _>>()?;
        let book = self.run_book();
        book.start(tenant, run_id, dry_run, jobs.len() as u64)
            .await?;
        let what = format!("the {} ticket jobs of run {run_id}", jobs.len());
        send_jobs(deps, Queue::Ticket, tenant, FUNCTION, &jobs, &what).await?;
        planned.jobs_sent = jobs.len() as u64;
        if !dry_run {
            for (stream, latest) in [(STREAM, service_latest), (PROJECT_STREAM, project_latest)] {
                if let Some(latest) = latest {
                    deps.stores
                        .watermarks
                        .advance(tenant, stream, latest, self.now())
                        .await?;
                }
            }
        }
        book.finish_if_done(tenant, run_id).await?;
        tracing::info!(%tenant, %run_id, tickets = planned.tickets, jobs = planned.jobs_sent, "ticket import planned");
        Ok(planned)
    }

    /// Where a run reads `stream` from: `since`, else the watermark less the overlap.
    async fn since(
        &self,
        tenant: &TenantId,
        stream: &str,
        request: &PlanRequest,
        import: &ImportSettings,
    ) -> Result<Option<OffsetDateTime>, SyncError> {
        if let Some(since) = request.since {
            return Ok(Some(since));
        }
        let overlap = std::time::Duration::from_secs(u64::from(import.overlap_minutes) * 60);
        Ok(self
            .deps
            .stores
            .watermarks
            .get(tenant, stream)
            .await?
            .map(|wm| read_from(&wm, overlap)))
    }

    /// Which of `ids` (tickets of `kind`) have time logged on them, `time_entry_batch` tickets
    /// per read (each read counted in `reads`).
    async fn with_time(
        &self,
        cw: &Client,
        kind: TicketKind,
        ids: &[i64],
        reads: &mut u64,
    ) -> Result<BTreeSet<i64>, SyncError> {
        let mut with_time = BTreeSet::new();
        for chunk in ids.chunks(self.time_entry_batch.max(1)) {
            let entries: Vec<TimeEntry> = cw
                .list_by_ids(
                    TimeEntry::PATH,
                    "chargeToId",
                    chunk.iter().copied(),
                    &Query::new()
                        .filter(Condition::field("chargeToType").eq(kind.charge_to_type()))
                        .fields(["id", "chargeToId"])
                        .page_size(1000),
                )
                .await
                .map_err(|e| SyncError::connectwise("reading the tickets' time entries", e))?;
            *reads += 1;
            with_time.extend(entries.iter().filter_map(|e| e.charge_to_id));
        }
        Ok(with_time)
    }
}

/// A ticket's id and `lastUpdated`, as listed.
#[derive(Debug, Deserialize)]
struct Listed {
    id: Option<i64>,
    #[serde(rename = "_info")]
    info: Option<cwsync_connectwise::models::Info>,
}

/// The tickets of `kind` in an import status changed since `since` (or of projects `projects`),
/// in pages of 1,000 ordered by id: their ids and the latest `lastUpdated` listed.
async fn list_finished(
    cw: &Client,
    kind: TicketKind,
    import: &ImportSettings,
    since: Option<OffsetDateTime>,
    projects: Option<&[i64]>,
) -> Result<(Vec<i64>, Option<OffsetDateTime>), SyncError> {
    let mut condition = Condition::field("status/name").in_(import.statuses.iter());
    if let Some(since) = since {
        condition = condition.and(Condition::field("lastUpdated").ge(since));
    }
    let query = Query::new()
        .filter(condition)
        .fields(["id", "_info/lastUpdated"])
        .order_by("id", Direction::Asc)
        .page_size(1000);
    let listed: Vec<Listed> = match projects {
        None => cw.list_all(kind.path(), &query).await,
        Some(ids) => {
            cw.list_by_ids(kind.path(), "project/id", ids.iter().copied(), &query)
                .await
        }
    }
    .map_err(|e| SyncError::connectwise("listing the finished tickets", e))?;
    let latest = listed
        .iter()
        .filter_map(|t| t.info.as_ref().and_then(|i| i.last_updated))
        .max();
    Ok((listed.iter().filter_map(|t| t.id).collect(), latest))
}

/// The job importing service ticket `ticket_id` in run `run_id`.
pub fn ticket_job(
    tenant: &TenantId,
    run_id: &RunId,
    dry_run: bool,
    ticket_id: i64,
) -> Result<Job, SyncError> {
    ticket_job_of(tenant, run_id, dry_run, ticket_id, TicketKind::Service)
}

/// The job importing ticket `ticket_id` of `kind` in run `run_id`.
pub fn ticket_job_of(
    tenant: &TenantId,
    run_id: &RunId,
    dry_run: bool,
    ticket_id: i64,
    kind: TicketKind,
) -> Result<Job, SyncError> {
    ticket_job_for(tenant, run_id, dry_run, TicketJob::new(ticket_id, kind))
}

/// The job carrying `payload` in run `run_id`.
pub fn ticket_job_for(
    tenant: &TenantId,
    run_id: &RunId,
    dry_run: bool,
    payload: TicketJob,
) -> Result<Job, SyncError> {
    Job::new(
        JobKind::TicketImportTicket,
        tenant.as_str(),
        run_id.as_str(),
        dry_run,
        json!(payload),
    )
    .map_err(|e| SyncError::Unsettled {
        record: format!("the job of ticket {}", payload.ticket_id),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_job_says_project_and_an_old_payload_reads_as_a_service_ticket() {
        let old: TicketJob = serde_json::from_value(json!({"ticketId": 7})).unwrap();
        assert_eq!(old.kind, TicketKind::Service);
        let service = serde_json::to_value(TicketJob::new(7, TicketKind::Service)).unwrap();
        assert_eq!(
            service,
            json!({"ticketId": 7}),
            "service payloads as before"
        );
        let project = serde_json::to_value(TicketJob::new(8, TicketKind::Project)).unwrap();
        assert_eq!(project, json!({"ticketId": 8, "kind": "project"}));
        let read: TicketJob = serde_json::from_value(project).unwrap();
        assert_eq!(read.kind, TicketKind::Project);
        assert!(
            serde_json::from_value::<TicketJob>(json!({"ticketId": 8, "kind": "task"})).is_err()
        );
    }
}
