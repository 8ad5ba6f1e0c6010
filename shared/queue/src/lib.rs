//! cwsync jobs on queues: versioned [`Job`] messages, the [`JobQueue`] they are sent through
//! ([`SqsJobQueue`] on AWS, [`MemoryJobQueue`] locally and in tests), and [`process_batch`], the
//! consumer helper that turns a Lambda SQS event into a partial batch response.
//!
//! Sending is idempotent per [`JobKey`]: a call sends one message per key, FIFO queues drop a key
//! sent again, and consumers run a key once (the store's idempotency records). What this crate
//! must never do: log a message body (customer data), or drop a message it could not handle —
//! failures go back to SQS and, past the receive limit, to the dead-letter queue.
//!
//! ```no_run
//! # async fn example(client: aws_sdk_sqs::Client, event: aws_lambda_events::event::sqs::SqsEvent)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use cwsync_queue::{Job, JobFailure, JobKind, JobQueue, SqsJobQueue, process_batch};
//!
//! let queue = SqsJobQueue::new(client, "https://sqs.eu-west-1.amazonaws.com/123/export");
//! let job = Job::new(JobKind::DailyExportAccount, "acme", "2026-11-22T06:00:00Z", false,
//!     serde_json::json!({"accountId": "A-1"}))?;
//! queue.send_batch(&[job]).await?.ensure_all_sent()?;
//!
//! let processed = process_batch(event, 8, |job, _context| async move {
//!     if job.dry_run() { return Ok(()); }
//!     Err(JobFailure::transient("ConnectWise throttled"))
//! })
//! .await;
//! // return processed.response to Lambda; emit processed.summary as metrics
//! # Ok(()) }
//! ```

mod batch;
mod consumer;
mod error;
mod job;
mod memory;
mod sqs;

pub use batch::{SendLimits, SendReport, SentJob};
pub use consumer::{BatchSummary, JobContext, JobFailure, ProcessedBatch, process_batch};
pub use error::QueueError;
pub use job::{JOB_VERSION, Job, JobError, JobKey, JobKind, MAX_RUN_ID_LEN};
pub use memory::MemoryJobQueue;
pub use sqs::{RetryPolicy, SqsJobQueue};

/// Where jobs are sent. Shared as `Arc<dyn JobQueue>`.
#[async_trait::async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Sends `jobs`, one message per job key. Per-job problems (too large, refused by the queue)
    /// are in the report, each naming its key; `Err` means the send as a whole failed.
    async fn send_batch(&self, jobs: &[Job]) -> Result<SendReport, QueueError>;
}
