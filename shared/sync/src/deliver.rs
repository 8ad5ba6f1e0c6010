//! Fan-out without SQS, for local runs and end-to-end tests of any job: jobs sent to an in-memory
//! queue are delivered as SQS would deliver them — in batches of up to ten to the function's batch
//! handler, a message reported in `batchItemFailures` delivered again with its receive count
//! raised, and moved to a dead-letter list after `max_receives`.

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use cwsync_queue::{Job, MemoryJobQueue};
use futures::StreamExt;
use time::OffsetDateTime;

/// SQS's largest batch for a Lambda event source.
const BATCH: usize = 10;

/// How far a delivery has come, after each batch: jobs finished (done, or failed for good) of
/// the jobs known so far (a tenant-wide run's jobs are all queued before delivery starts).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Jobs that will not be delivered again.
    pub finished: u64,
    /// Jobs taken from the queue so far.
    pub known: u64,
}

/// What delivering a queue's jobs came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Deliveries made (a redelivered job counts again).
    pub deliveries: u64,
    /// Jobs that never succeeded within `max_receives` (they would be in the DLQ), by job key.
    pub dead_letters: Vec<String>,
}

/// Delivers every job in `queue` (and any job the deliveries send) to `handle` (a function's SQS
/// batch handler, given the event and the invocation's deadline) until the queue is empty, one
/// batch after another (one warm instance), telling `progress` how far it has come after each
/// batch.
pub async fn deliver_all<H, Fut>(
    queue: &MemoryJobQueue,
    max_receives: u32,
    handle: H,
    progress: impl FnMut(Progress),
) -> Delivery
where
    H: Fn(SqsEvent, OffsetDateTime) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    deliver_all_concurrently(queue, max_receives, 1, handle, progress).await
}

/// [`deliver_all`] with up to `instances` batches handled at once, as an SQS event source with
/// `MaximumConcurrency: instances` drives that many function instances (at least 1; 1 is
/// [`deliver_all`]). The batches run on the caller's task; `progress` hears of each as it ends.
pub async fn deliver_all_concurrently<H, Fut>(
    queue: &MemoryJobQueue,
    max_receives: u32,
    instances: usize,
    handle: H,
    mut progress: impl FnMut(Progress),
) -> Delivery
where
    H: Fn(SqsEvent, OffsetDateTime) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let mut delivery = Delivery::default();
    let mut counts = Progress::default();
    let mut retry: Vec<(Job, u32)> = Vec::new();
    loop {
        let mut pending: Vec<(Job, u32)> = std::mem::take(&mut retry);
        let fresh = queue.drain();
        counts.known += fresh.len() as u64;
        pending.extend(fresh.into_iter().map(|job| (job, 1)));
        if pending.is_empty() {
            return delivery;
        }
        let handle = &handle;
        let mut batches = futures::stream::iter(pending.chunks(BATCH))
            .map(|chunk| async move {
                let event = sqs_event(chunk);
                let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
                (chunk, handle(event, deadline).await)
            })
            .buffered(instances.max(1));
        while let Some((chunk, response)) = batches.next().await {
            delivery.deliveries += chunk.len() as u64;
            let retried_before = retry.len();
            for failure in response.batch_item_failures {
                let index = message_index(&failure.item_identifier);
                let Some((job, receives)) = index.and_then(|i| chunk.get(i)) else {
                    continue;
                };
                if *receives >= max_receives {
                    delivery.dead_letters.push(job.key().as_str().to_owned());
                } else {
                    retry.push((job.clone(), receives + 1));
                }
            }
            let again = (retry.len() - retried_before) as u64;
            counts.finished += chunk.len() as u64 - again;
            progress(counts);
        }
    }
}

/// The SQS event delivering `batch` (each job with its receive count, as
/// `ApproximateReceiveCount`); message `i` is named `local-i` ([`message_index`] reads it back).
pub fn sqs_event(batch: &[(Job, u32)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (index, (job, receives)) in batch.iter().enumerate() {
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("local-{index}"));
        message.body = job.to_body().ok();
        message
            .attributes
            .insert("ApproximateReceiveCount".to_owned(), receives.to_string());
        event.records.push(message);
    }
    event
}

/// The position in its batch of the message [`sqs_event`] named `message_id`.
pub fn message_index(message_id: &str) -> Option<usize> {
    message_id.strip_prefix("local-")?.parse().ok()
}
