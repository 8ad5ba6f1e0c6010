//! The ticket queue's jobs: a tenant's planning ([`JobKind::TicketImportTenant`], sent by the
//! schedule) and one ticket's import ([`JobKind::TicketImportTicket`], fanned out by the
//! planning). Each runs at most once per job key (`cwsync_sync::jobs`); a ticket job records its
//! ticket's line in the run and the last one finishes the run; a permanent failure no ticket
//! explains is recorded as the ticket's failure, so the run goes on without the dead-letter queue.
//!
//! A ticket's job is its ticket's only memory: the planning moved the watermark past it. So the
//! import's run book keeps job failures on the error ledger
//! ([`cwsync_sync::RunBook::with_job_failures_on_ledger`]), where the next run's planning finds
//! them, and a job on its message's last delivery marks its ticket there before it starts
//! ([`cwsync_sync::RunBook::mark_last_delivery`]): stopped there (its deadline, a crash), it is
//! on the dead-letter queue and on the ledger, and the next run imports it (the import is
//! idempotent, so a redrive of the dead letter as well makes no second call).

use std::collections::{BTreeSet, HashMap};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cwsync_queue::{Job, JobFailure, JobKind};
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::{self as sync_jobs, GroupKey};
use time::OffsetDateTime;

use crate::plan::{PlanRequest, TicketJob};
use crate::ticket::TicketBatch;
use crate::{JOB_KIND, TicketImport};

impl TicketImport {
    /// Handles a batch from the ticket queue; the answer names the messages to deliver again.
    ///
    /// The ticket jobs of one tenant and run in the batch are read together first
    /// ([`TicketBatch`]: four ConnectWise reads for up to ten tickets instead of four each); then
    /// each job imports its ticket on its own, under its own idempotency record.
    pub async fn handle_jobs(&self, event: SqsEvent, deadline: OffsetDateTime) -> SqsBatchResponse {
        // The tenants of the batch, whose ConnectWise calls are counted into the metrics.
        let tenants: BTreeSet<TenantId> = event
            .records
            .iter()
            .filter_map(|r| r.body.as_deref().and_then(|b| Job::parse(b).ok()))
            .filter_map(|job| TenantId::parse(job.tenant()).ok())
            .collect();
        let before = self
            .connections
            .client_stats(&self.deps, tenants.iter())
            .await;
        let groups = self.prefetch(&event).await;
        let processed = sync_jobs::handle_batch(
            JOB_KIND,
            event,
            self.concurrency,
            self.deps.config.max_receive_count,
            &groups,
            |job, _, group| self.run_job(job, deadline, group),
        )
        .await;
        self.connections.count_calls(&self.deps, before).await;
        processed.response
    }

    /// The tickets of each group of two or more ticket jobs that have not completed before, read
    /// together; a group whose read fails is left to read per job.
    async fn prefetch(&self, event: &SqsEvent) -> HashMap<GroupKey, Option<TicketBatch>> {
        let groups = sync_jobs::pending_groups(
            event,
            self.deps.stores.idempotency.as_ref(),
            Job::key,
            |job, _| {
                (job.kind() == JobKind::TicketImportTicket)
                    .then(|| job.payload_as::<TicketJob>().ok())
                    .flatten()
            },
        )
        .await;
        sync_jobs::prefetch_groups(groups, 2, |key, members| async move {
            let clients = self.clients(&key.tenant).await?;
            TicketBatch::read(&clients.cw, &members).await
        })
        .await
    }

    /// Runs one job (at most once per key); a ticket job takes its ticket from `batch` when its
    /// batch read it.
    pub async fn run_job(
        &self,
        job: Job,
        deadline: OffsetDateTime,
        batch: Option<&TicketBatch>,
    ) -> Result<(), JobFailure> {
        let tenant = TenantId::parse(job.tenant()).map_err(JobFailure::permanent)?;
        let run_id = RunId::parse(job.run_id()).map_err(JobFailure::permanent)?;
        let key = job.key();
        let work = || async {
            match job.kind() {
                JobKind::TicketImportTicket => {
                    let payload: TicketJob = job.payload_as().map_err(JobFailure::permanent)?;
                    let book = self.run_book();
                    let ticket = payload.ticket_id.to_string();
                    book.mark_last_delivery(&tenant, &run_id, job.dry_run(), &ticket)
                        .await;
                    let result = Box::pin(self.import_ticket_of_kind_in_run(
                        &tenant,
                        &run_id,
                        job.dry_run(),
                        payload,
                        batch.and_then(|b| b.get(payload.kind, payload.ticket_id)),
                    ))
                    .await;
                    book.settle_unit(&tenant, &run_id, job.dry_run(), &ticket, result)
                        .await
                }
                JobKind::TicketImportTenant => {
                    let request: PlanRequest = job.payload_as().map_err(JobFailure::permanent)?;
                    Box::pin(self.plan_run(&tenant, &run_id, job.dry_run(), &request))
                        .await
                        .map(|_| ())
                        .map_err(JobFailure::from)
                }
                JobKind::TicketMoveTenant => {
                    match Box::pin(self.move_calls(&tenant, &run_id, job.dry_run())).await {
                        Ok(_) => Ok(()),
                        // Moving was turned off since the job was sent: nothing to do.
                        Err(error @ cwsync_sync::SyncError::NotConfigured { .. }) => {
                            tracing::info!(%tenant, %run_id, %error, "move job skipped");
                            Ok(())
                        }
                        Err(error) => Err(JobFailure::from(error)),
                    }
                }
                other => Err(JobFailure::permanent(format!(
                    "{other} is not a ticket-import job; it was sent to the wrong queue"
                ))),
            }
        };
        sync_jobs::run_once(&self.idempotency, &tenant, &key, deadline, work).await
    }
}
