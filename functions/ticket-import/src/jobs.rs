//! The ticket queue's jobs: a tenant's planning ([`JobKind::TicketImportTenant`], sent by the
//! schedule) and one ticket's import ([`JobKind::TicketImportTicket`], fanned out by the
//! planning). Each runs at most once per job key (`cwsync_sync::jobs`); a ticket job records its
//! ticket's line in the run and the last one finishes the run; a permanent failure no ticket
//! explains is recorded as the ticket's failure, so the run goes on without the dead-letter queue.
//!
//! A ticket's job is its ticket's only memory: the planning moved the watermark past it. So a job
//! failing as a whole is on the error ledger ([`crate::JOB_FAILURE_FINGERPRINT`]), where the next
//! run's planning finds it, and a job on its message's last delivery puts its ticket on the
//! ledger before it starts ([`LAST_DELIVERY_FINGERPRINT`]): stopped there (its deadline, a
//! crash), it is on the dead-letter queue and on the ledger, and the next run imports it (the
//! import is idempotent, so a redrive of the dead letter as well makes no second call). The
//! ticket's own outcome replaces the mark.

use std::collections::{BTreeSet, HashMap};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cwsync_queue::{Job, JobFailure, JobKind};
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs::{self as sync_jobs, GroupKey};
use time::OffsetDateTime;

use crate::plan::{PlanRequest, TicketJob};
use crate::ticket::TicketBatch;
use crate::{JOB_KIND, TicketImport};

/// The error ledger's fingerprint of a ticket whose job began its message's last delivery and
/// has not finished it (see the module docs).
pub const LAST_DELIVERY_FINGERPRINT: &str = "ticket-job-last-delivery";

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
                    if !job.dry_run() {
                        self.mark_last_delivery(&tenant, &run_id, payload.ticket_id)
                            .await;
                    }
                    let result = Box::pin(self.import_ticket_of_kind_in_run(
                        &tenant,
                        &run_id,
                        job.dry_run(),
                        payload,
                        batch.and_then(|b| b.get(payload.kind, payload.ticket_id)),
                    ))
                    .await;
                    self.run_book()
                        .settle_unit(
                            &tenant,
                            &run_id,
                            job.dry_run(),
                            &payload.ticket_id.to_string(),
                            result,
                        )
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

    /// On its message's last delivery, puts `ticket_id` on the error ledger before its job
    /// starts, so a delivery stopped half way is remembered beyond the dead-letter queue (see
    /// the module docs). A ledger that cannot be written is logged and the job goes on: the
    /// dead letter is then the ticket's only memory, as it would be without the mark.
    async fn mark_last_delivery(&self, tenant: &TenantId, run_id: &RunId, ticket_id: i64) {
        let Some(delivery) = sync_jobs::current_delivery().filter(sync_jobs::Delivery::is_last)
        else {
            return;
        };
        let text = format!(
            "the ticket's job in run {run_id} began its last delivery ({} of {}) before the \
             dead-letter queue and has not finished it (still running, or stopped at its \
             deadline or by a crash); the next run imports the ticket again",
            delivery.receive_count, delivery.max_receives
        );
        let marked = self
            .deps
            .stores
            .ledger
            .record_failure(
                tenant,
                cwsync_mapping::tickets::entity::TICKET,
                &ticket_id.to_string(),
                LAST_DELIVERY_FINGERPRINT,
                &text,
                self.now(),
            )
            .await;
        if let Err(error) = marked {
            tracing::warn!(%tenant, ticket_id, %error, "the last delivery's mark was not written");
        }
    }
}
