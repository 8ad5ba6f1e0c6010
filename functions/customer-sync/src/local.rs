//! Fan-out without SQS, for the local runner and the end-to-end tests: the customer sync's jobs
//! delivered from an in-memory queue as SQS would deliver them (`cwsync_sync::deliver`), through
//! the same consumer ([`CustomerSync::handle_jobs`]).

use cwsync_queue::MemoryJobQueue;
use lambda_runtime::Diagnostic;

pub use cwsync_sync::deliver::{Delivery, Progress};

use crate::{CustomerSync, Event};

impl CustomerSync {
    /// Delivers every job in `queue` (and any job the deliveries send) until it is empty.
    pub async fn deliver_all(&self, queue: &MemoryJobQueue, max_receives: u32) -> Delivery {
        self.deliver_all_with_progress(queue, max_receives, |_| {})
            .await
    }

    /// Syncs every account of `tenant` to the end without SQS: plans the tenant-wide run (the
    /// console's `sync-tenant`), then delivers its jobs from `queue`
    /// ([`CustomerSync::deliver_all`]). The error is the planning's refusal, or a
    /// `DeadLetters` diagnostic naming the jobs SQS would have dead-lettered.
    pub async fn sync_tenant_to_end(
        &self,
        tenant: &str,
        queue: &MemoryJobQueue,
        max_receives: u32,
    ) -> Result<Delivery, Diagnostic> {
        let sync = Event::SyncTenant {
            tenant: tenant.to_owned(),
            dry_run: false,
            incremental: false,
        };
        Box::pin(self.handle_event(sync)).await?;
        let delivery = self.deliver_all(queue, max_receives).await;
        if delivery.dead_letters.is_empty() {
            Ok(delivery)
        } else {
            Err(Diagnostic {
                error_type: "DeadLetters".to_owned(),
                error_message: format!(
                    "tenant {tenant}: jobs never succeeded in {max_receives} deliveries: {}",
                    delivery.dead_letters.join(", ")
                ),
            })
        }
    }

    /// [`CustomerSync::deliver_all`], telling `progress` how far it has come after each batch
    /// (the local run prints a progress line from it on long runs).
    pub async fn deliver_all_with_progress(
        &self,
        queue: &MemoryJobQueue,
        max_receives: u32,
        progress: impl FnMut(Progress),
    ) -> Delivery {
        cwsync_sync::deliver::deliver_all(
            queue,
            max_receives,
            |event, deadline| self.handle_jobs(event, deadline),
            progress,
        )
        .await
    }
}
