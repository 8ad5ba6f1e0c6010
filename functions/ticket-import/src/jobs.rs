//! The ticket queue's jobs: a tenant's planning ([`JobKind::TicketImportTenant`], sent by the
//! schedule) and one ticket's import ([`JobKind::TicketImportTicket`], fanned out by the
//! planning). Each runs at most once per job key (`cwsync_sync::jobs`); a ticket job records its
//! ticket's line in the run and the last one finishes the run; a permanent failure no ticket
//! explains is recorded as the ticket's failure, so the run goes on without the dead-letter queue.

use std::collections::{BTreeSet, HashMap};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cwsync_queue::{Job, JobFailure, JobKind};
use cwsync_store::{RunId, TenantId};
use cwsync_sync::jobs as sync_jobs;
use time::OffsetDateTime;

use crate::plan::{PlanRequest, TicketJob};
use crate::{JOB_KIND, TicketImport};

impl TicketImport {
    /// Handles a batch from the ticket queue; the answer names the messages to deliver again.
    pub async fn handle_jobs(&self, event: SqsEvent, deadline: OffsetDateTime) -> SqsBatchResponse {
        let groups: HashMap<sync_jobs::GroupKey, Option<()>> = HashMap::new();
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
        let processed =
            sync_jobs::handle_batch(JOB_KIND, event, self.concurrency, &groups, |job, _, _| {
                self.run_job(job, deadline)
            })
            .await;
        self.connections.count_calls(&self.deps, before).await;
        processed.response
    }

    /// Runs one job (at most once per key).
    pub async fn run_job(&self, job: Job, deadline: OffsetDateTime) -> Result<(), JobFailure> {
        let tenant = TenantId::parse(job.tenant()).map_err(JobFailure::permanent)?;
        let run_id = RunId::parse(job.run_id()).map_err(JobFailure::permanent)?;
        let key = job.key();
        let work = || async {
            match job.kind() {
                JobKind::TicketImportTicket => {
                    let payload: TicketJob = job.payload_as().map_err(JobFailure::permanent)?;
                    let result = Box::pin(self.import_ticket_of_kind_in_run(
                        &tenant,
                        &run_id,
                        job.dry_run(),
                        payload,
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
}
