//! A tenant's planning ([`cwsync_queue::JobKind::TicketImportTenant`], or the console's
//! `import-now`): which tickets this run imports, one job per ticket on the ticket queue.
//!
//! 1. The service tickets whose status is one of `ticketImport.statuses` and whose `lastUpdated`
//!    is at or after the tenant's watermark less `ticketImport.overlapMinutes` (all of them the
//!    first time, or with `since`), read in pages of 1,000 ordered by id.
//! 2. Their time entries, `TIME_ENTRY_BATCH` tickets per read
//!    (`chargeToType="ServiceTicket" AND chargeToId in (...)`, only the ids): a ticket is
//!    imported once time is logged on it (seeds: "if there are no time entries for the ticket,
//!    the call will not get picked up"). Excluded tickets are left out, and so are the tickets
//!    planned at the version listed already (below); neither needs a time-entry read.
//! 3. The run is started with one unit per ticket, the jobs sent, and only then the watermark
//!    advanced to the latest `lastUpdated` listed, with its tail: a planner that stops half way
//!    plans again from the old watermark and its old tail, and the overlap and the idempotent
//!    ticket jobs make that safe.
//!
//! **The overlap without the repeats.** The overlap re-lists the tickets of the window before
//! the watermark on every run (for same-second updates and late commits), and in a quiet period
//! the watermark stays put, so every scheduled run would list the same tickets and send their
//! jobs again (4 ConnectWise reads each, to find them unchanged). So the watermark keeps a tail
//! ([`cwsync_store::watermarks`]): each ticket this run listed whose `lastUpdated` (or, for a
//! closed project's ticket, whose project's `lastUpdated`) falls inside the overlap window before
//! the new watermark, with that `lastUpdated`, once its job is sent (or was sent by an earlier
//! run: [`PlannedRun::already_planned`]). The next run skips a ticket listed with exactly that
//! `(id, lastUpdated)`; a ticket in the window with a newer `lastUpdated`, or not in the tail (a
//! late commit), is planned as before. A ticket without time or excluded is never in the tail
//! (its time is read again while it is in the window, as before). A ticket on the error report
//! (failing, reported fewer than `errorAttempts` times) is planned again although in the tail,
//! and, when the listing no longer holds it (behind the window), read again by id (still in an
//! import status): one fixed by a setting or a link imports on the next run, whenever it is
//! fixed, and so does one whose job failed as a whole (the billing system down through every
//! delivery: [`cwsync_sync::runs::JOB_FAILURE_FINGERPRINT`]). Past its attempts it waits, like a ticket past
//! the window, until it changes (or `import-ticket`). The tail holds at most
//! [`cwsync_store::watermarks::TAIL_LIMIT`] tickets per stream (the latest kept): in a window with
//! more, the others are simply planned again, never missed. `import-now` with `since` and
//! `import-ticket` ignore the tail (they re-plan on purpose); a dry run reads it to say what it
//! would skip and never writes it. Two planners at once: each skips what the stored tail holds;
//! both may plan the same new ticket (as before: its jobs are idempotent), and their tails are
//! merged (same watermark) or the later watermark's kept.
//!
//! Project tickets (`/project/tickets`) are planned the same way on their own watermark stream
//! ([`PROJECT_STREAM`]; time `chargeToType="ProjectTicket"`), and so are the project tickets of the
//! projects closed since that watermark (`closedFlag=true`: closing a project does not touch its
//! tickets, and a ticket billed on completion waits for it). Their jobs say `kind: project`.
//!
//! A ticket listed without time moves the watermark too: it is seen again when it changes
//! (ConnectWise moves a ticket's `lastUpdated` when it changes; whether logging time on it does
//! is not documented, so a user who logs time on a finished ticket later can `import-ticket` it).

use std::collections::{BTreeSet, HashMap};

use cwsync_connectwise::models::{Project, Reference, Resource, TimeEntry};
use cwsync_connectwise::{Client, Condition, Direction, Query};
use cwsync_mapping::settings::TicketImport as ImportSettings;
use cwsync_mapping::tickets::{TicketKind, entity};
use cwsync_queue::{Job, JobKind};
use cwsync_runtime::Queue;
use cwsync_store::watermarks::{Seen, Watermark, read_from, window_start};
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
    /// Tickets in an import status changed since then (service and project tickets), and those
    /// on the error report read again (`failing_read_again`).
    pub tickets: u64,
    /// Of those, project tickets.
    pub project_tickets: u64,
    /// The lower bound of the project tickets' `lastUpdated` read (their own watermark).
    #[serde(with = "time::serde::rfc3339::option")]
    pub project_since: Option<OffsetDateTime>,
    /// Projects closed since then, whose finished tickets were read again.
    pub closed_projects: u64,
    /// Of the tickets, those on the error report that were not listed (behind the window) and
    /// were read again by id, still finished.
    pub failing_read_again: u64,
    /// Of those, tickets without time entries (not imported).
    pub without_time: u64,
    /// Of those, tickets excluded from the import.
    pub excluded: u64,
    /// Of those, tickets planned at the version listed by an earlier run already (listed again
    /// inside the overlap window, unchanged: in the watermark's tail), so not planned again.
    pub already_planned: u64,
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
        let service_resume = self.resume(tenant, STREAM, request, overlap).await?;
        let project_resume = self
            .resume(tenant, PROJECT_STREAM, request, overlap)
            .await?;
        planned.since = service_resume.since;
        planned.project_since = project_resume.since;
        let clients = self.clients(tenant).await?;
        let cw = &clients.cw;

        let (mut service, service_latest) =
            list_finished(cw, TicketKind::Service, import, planned.since, Among::All).await?;
        let (mut project, mut project_latest) = list_finished(
            cw,
            TicketKind::Project,
            import,
            planned.project_since,
            Among::All,
        )
        .await?;
        // Projects closed since the watermark, with their `lastUpdated`.
        let mut closed_at: HashMap<i64, Option<OffsetDateTime>> = HashMap::new();
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
            closed_at.extend(
                closed
                    .iter()
                    .filter_map(|p| Some((p.id?, p.info.as_ref().and_then(|i| i.last_updated)))),
            );
            let ids: Vec<i64> = closed.iter().filter_map(|p| p.id).collect();
            if !ids.is_empty() {
                let (of_closed, _) = list_finished(
                    cw,
                    TicketKind::Project,
                    import,
                    None,
                    Among::OfProjects(&ids),
                )
                .await?;
                // Listed twice: keep the copy that names its closed project.
                project.extend(of_closed);
                project.sort_unstable_by_key(|t| (t.id, t.project.is_none()));
                project.dedup_by_key(|t| t.id);
            }
        }
        // Tickets failing and still on the error report are planned again: fixed in the
        // meantime (a setting added, a company linked, the billing system back), they import on
        // this run. Listed, even when in a tail; not listed (behind the window: failed, or their
        // job gave up, after the watermark moved on), read again by id if still finished.
        let failing = self
            .failing_tickets(tenant, settings.error_attempts)
            .await?;
        let listed: BTreeSet<i64> = service.iter().chain(&project).map(|t| t.id).collect();
        let mut unlisted: Vec<i64> = failing
            .iter()
            .copied()
            .filter(|id| !listed.contains(id) && !import.is_excluded(*id))
            .collect();
        // The kinds share one id space: a ticket found as a project ticket is not asked for
        // again as a service ticket.
        for (kind, tickets) in [
            (TicketKind::Project, &mut project),
            (TicketKind::Service, &mut service),
        ] {
            if unlisted.is_empty() {
                break;
            }
            let (again, _) =
                list_finished(cw, kind, import, None, Among::Tickets(&unlisted)).await?;
            let found: BTreeSet<i64> = again.iter().map(|t| t.id).collect();
            unlisted.retain(|id| !found.contains(id));
            planned.failing_read_again += again.len() as u64;
            tickets.extend(again);
        }
        planned.tickets = (service.len() + project.len()) as u64;
        planned.project_tickets = project.len() as u64;

        let mut to_import = Vec::new();
        let mut tails = Vec::new();
        for (kind, tickets, resume, latest) in [
            (
                TicketKind::Service,
                service,
                &service_resume,
                service_latest,
            ),
            (
                TicketKind::Project,
                project,
                &project_resume,
                project_latest,
            ),
        ] {
            // What this stream's next run will list again, planned at this version now or
            // before: the tail kept with the new watermark.
            let window = latest.map(|latest| window_start(latest, overlap));
            let in_window = |t: &ListedTicket| {
                let Some(from) = window else { return false };
                t.last_updated.is_some_and(|at| at >= from)
                    || t.project
                        .and_then(|p| closed_at.get(&p).copied().flatten())
                        .is_some_and(|at| at >= from)
            };
            let mut tail = Vec::new();
            let mut keep = |ticket: &ListedTicket| {
                if let (true, Some(at)) = (in_window(ticket), ticket.last_updated) {
                    tail.push(Seen::new(ticket.id, at));
                }
            };
            let mut candidates = Vec::new();
            for ticket in tickets {
                if import.is_excluded(ticket.id) {
                    planned.excluded += 1;
                } else if resume.already_planned(&ticket) && !failing.contains(&ticket.id) {
                    planned.already_planned += 1;
                    keep(&ticket);
                } else {
                    candidates.push(ticket);
                }
            }
            let ids: Vec<i64> = candidates.iter().map(|t| t.id).collect();
            let with_time = self
                .with_time(cw, kind, &ids, &mut planned.time_entry_reads)
                .await?;
            for ticket in candidates {
                if with_time.contains(&ticket.id) {
                    to_import.push((kind, ticket.id));
                    keep(&ticket);
                } else {
                    planned.without_time += 1;
                }
            }
            tails.push(tail);
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
            // Only now, the jobs sent: a tail entry means "its job was sent at that version".
            for ((stream, latest), tail) in
                [(STREAM, service_latest), (PROJECT_STREAM, project_latest)]
                    .into_iter()
                    .zip(&tails)
            {
                if let Some(latest) = latest {
                    deps.stores
                        .watermarks
                        .advance_with_tail(tenant, stream, latest, tail, self.now())
                        .await?;
                }
            }
        }
        book.finish_if_done(tenant, run_id).await?;
        tracing::info!(%tenant, %run_id, tickets = planned.tickets, jobs = planned.jobs_sent, already_planned = planned.already_planned, "ticket import planned");
        Ok(planned)
    }

    /// Where a run reads `stream` from: `since`, else the watermark less the overlap (and then
    /// the watermark's tail says which listed tickets were planned already).
    async fn resume(
        &self,
        tenant: &TenantId,
        stream: &str,
        request: &PlanRequest,
        overlap: std::time::Duration,
    ) -> Result<Resume, SyncError> {
        if let Some(since) = request.since {
            return Ok(Resume {
                since: Some(since),
                watermark: None,
            });
        }
        let watermark = self.deps.stores.watermarks.get(tenant, stream).await?;
        Ok(Resume {
            since: watermark.as_ref().map(|wm| read_from(wm, overlap)),
            watermark,
        })
    }

    /// The tickets on `tenant`'s error report (failing, reported fewer than `max_attempts`
    /// times while unchanged).
    async fn failing_tickets(
        &self,
        tenant: &TenantId,
        max_attempts: u32,
    ) -> Result<BTreeSet<i64>, SyncError> {
        let report = self
            .deps
            .stores
            .ledger
            .report(tenant, max_attempts, self.now())
            .await?;
        Ok(report
            .iter()
            .filter(|e| e.kind == entity::TICKET)
            .filter_map(|e| e.record_id.parse().ok())
            .collect())
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

/// Where a stream's run reads from, and the watermark whose tail it skips (`None` with `since`:
/// a console's re-plan on purpose).
struct Resume {
    since: Option<OffsetDateTime>,
    watermark: Option<Watermark>,
}

impl Resume {
    /// Whether `ticket` was planned at the version listed already (in the watermark's tail).
    fn already_planned(&self, ticket: &ListedTicket) -> bool {
        match (&self.watermark, ticket.last_updated) {
            (Some(watermark), Some(at)) => watermark.processed(ticket.id, at),
            _ => false,
        }
    }
}

/// A ticket as listed: its id, `lastUpdated` and (of a closed project's) project.
#[derive(Debug, Deserialize)]
struct Listed {
    id: Option<i64>,
    #[serde(rename = "_info")]
    info: Option<cwsync_connectwise::models::Info>,
    project: Option<Reference>,
}

/// A listed ticket with an id.
#[derive(Debug, Clone, Copy)]
struct ListedTicket {
    id: i64,
    last_updated: Option<OffsetDateTime>,
    project: Option<i64>,
}

/// Which tickets [`list_finished`] reads.
#[derive(Debug, Clone, Copy)]
enum Among<'a> {
    /// Every ticket.
    All,
    /// The tickets of these projects (listed with their project).
    OfProjects(&'a [i64]),
    /// These tickets.
    Tickets(&'a [i64]),
}

/// The tickets of `kind` in an import status changed since `since`, among `among`, in pages of
/// 1,000 ordered by id, and the latest `lastUpdated` listed.
async fn list_finished(
    cw: &Client,
    kind: TicketKind,
    import: &ImportSettings,
    since: Option<OffsetDateTime>,
    among: Among<'_>,
) -> Result<(Vec<ListedTicket>, Option<OffsetDateTime>), SyncError> {
    let mut condition = Condition::field("status/name").in_(import.statuses.iter());
    if let Some(since) = since {
        condition = condition.and(Condition::field("lastUpdated").ge(since));
    }
    let fields: &[&str] = match among {
        Among::OfProjects(_) => &["id", "_info/lastUpdated", "project/id"],
        Among::All | Among::Tickets(_) => &["id", "_info/lastUpdated"],
    };
    let query = Query::new()
        .filter(condition)
        .fields(fields.iter().copied())
        .order_by("id", Direction::Asc)
        .page_size(1000);
    let listed: Vec<Listed> = match among {
        Among::All => cw.list_all(kind.path(), &query).await,
        Among::OfProjects(ids) => {
            cw.list_by_ids(kind.path(), "project/id", ids.iter().copied(), &query)
                .await
        }
        Among::Tickets(ids) => {
            cw.list_by_ids(kind.path(), "id", ids.iter().copied(), &query)
                .await
        }
    }
    .map_err(|e| SyncError::connectwise("listing the finished tickets", e))?;
    let tickets: Vec<ListedTicket> = listed
        .into_iter()
        .filter_map(|t| {
            Some(ListedTicket {
                id: t.id?,
                last_updated: t.info.and_then(|i| i.last_updated),
                project: t.project.and_then(|p| p.id),
            })
        })
        .collect();
    let latest = tickets.iter().filter_map(|t| t.last_updated).max();
    Ok((tickets, latest))
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
