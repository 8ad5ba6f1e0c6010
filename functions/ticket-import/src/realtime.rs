//! Real time, wired: the callback receiver ([`crate::callback`]) hands each verified ticket change
//! to [`QueueSink`], which sends one ticket job for it to the ticket queue — the same job the
//! schedule's planning sends, in a run of its own (the job starts it: one ticket, one run). The
//! job reads the ticket again; a storm of distinct updates for one ticket makes several jobs and
//! one call (the import is idempotent: the first creates, the rest find it unchanged).
//!
//! Callbacks come for every change of every ticket, finished or not: their jobs import a ticket
//! only once it is finished (`whenFinished`); an open ticket's line is skipped, never on the
//! error report.
//!
//! A project ticket's change sends a project ticket's job (`kind: project`), which reads it from
//! `/project/tickets` with its project and phase.

use std::sync::Arc;

use cwsync_runtime::{Deps, Queue};
use cwsync_store::RunId;
use cwsync_sync::jobs::send_jobs;
use time::OffsetDateTime;

use crate::FUNCTION;
use crate::callback::{SinkError, TicketChange, TicketChangeSink, TicketRecordType};
use crate::plan::{TicketJob, ticket_job_for};
use cwsync_mapping::tickets::TicketKind;

/// Sends one ticket job per verified change (see the module docs).
#[derive(Debug)]
pub struct QueueSink {
    deps: Arc<Deps>,
}

impl QueueSink {
    /// A sink sending to `deps`' ticket queue.
    pub fn new(deps: Arc<Deps>) -> Self {
        QueueSink { deps }
    }
}

#[async_trait::async_trait]
impl TicketChangeSink for QueueSink {
    async fn accept(&self, change: &TicketChange) -> Result<(), SinkError> {
        let ticket = change.ticket_id;
        let kind = match change.record_type {
            TicketRecordType::Project => TicketKind::Project,
            _ => TicketKind::Service,
        };
        let run_id = RunId::new(OffsetDateTime::now_utc());
        let failed = |e: cwsync_sync::SyncError| SinkError {
            detail: e.to_string(),
        };
        let payload = TicketJob {
            when_finished: true,
            ..TicketJob::new(ticket, kind)
        };
        let job = ticket_job_for(&change.tenant, &run_id, false, payload).map_err(failed)?;
        let what = format!("the job of ticket {ticket} (a callback)");
        send_jobs(
            &self.deps,
            Queue::Ticket,
            &change.tenant,
            FUNCTION,
            std::slice::from_ref(&job),
            &what,
        )
        .await
        .map_err(failed)?;
        tracing::info!(tenant = %change.tenant, ticket, ?kind, %run_id, action = ?change.action, "callback: ticket job sent");
        Ok(())
    }
}
