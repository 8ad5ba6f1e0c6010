//! Errors of sending jobs. Each names the job key (or the queue) and says whether retrying can
//! help ([`QueueError::is_transient`]).

use crate::job::JobKey;

/// Why a job, or a whole send, did not reach the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The job's body is over the per-message limit; it was not sent (the others were).
    #[error(
        "job {key} is {bytes} bytes, over the {limit}-byte message limit (permanent): not sent"
    )]
    TooLarge {
        /// The refused job.
        key: JobKey,
        /// Its body size in bytes.
        bytes: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// Another job in the same call had this key but different content (e.g. `dryRun` differs):
    /// one key must mean one piece of work, so the later one was not sent.
    #[error(
        "job {key} conflicts with an earlier job of the same key in this send (permanent): not sent"
    )]
    ConflictingDuplicate {
        /// The shared key.
        key: JobKey,
    },
    /// The job could not be serialised (never expected for a valid job).
    #[error("job {key} could not be serialised (permanent): {reason}")]
    Serialize {
        /// The job.
        key: JobKey,
        /// serde_json's message.
        reason: String,
    },
    /// SQS failed this entry of a `SendMessageBatch`: after the last attempt when `transient`,
    /// at once when SQS blamed the sender (`SenderFault`), since resending can't fix those.
    #[error("job {key} was refused by SQS ({}) with {code}: {message}; {attempts} attempt(s)", transient_word(*.transient))]
    EntryFailed {
        /// The job.
        key: JobKey,
        /// SQS's error code for the entry.
        code: String,
        /// SQS's message for the entry.
        message: String,
        /// How many times it was sent.
        attempts: u32,
        /// Whether a later retry may succeed.
        transient: bool,
    },
    /// A whole `SendMessageBatch` request failed (the SDK has already retried it).
    #[error("SendMessageBatch to {queue_url} failed ({}): {message}", transient_word(*.transient))]
    Request {
        /// The queue.
        queue_url: String,
        /// The SDK's error, with its context.
        message: String,
        /// Whether a later retry may succeed.
        transient: bool,
    },
    /// [`SendReport::ensure_all_sent`](crate::SendReport::ensure_all_sent): some jobs did not go.
    #[error("{failed} of {total} job(s) were not sent ({}); first: {first}", transient_word(*.transient))]
    NotAllSent {
        /// How many were not sent.
        failed: usize,
        /// How many unique jobs the call had.
        total: usize,
        /// The first failure, in full.
        first: Box<QueueError>,
        /// Whether every failure is transient (retrying the whole send may complete it).
        transient: bool,
    },
}

fn transient_word(transient: bool) -> &'static str {
    if transient { "transient" } else { "permanent" }
}

impl QueueError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            QueueError::TooLarge { .. }
            | QueueError::ConflictingDuplicate { .. }
            | QueueError::Serialize { .. } => false,
            QueueError::EntryFailed { transient, .. }
            | QueueError::Request { transient, .. }
            | QueueError::NotAllSent { transient, .. } => *transient,
        }
    }

    /// The job this error is about, when it is about one job.
    pub fn key(&self) -> Option<&JobKey> {
        match self {
            QueueError::TooLarge { key, .. }
            | QueueError::ConflictingDuplicate { key }
            | QueueError::Serialize { key, .. }
            | QueueError::EntryFailed { key, .. } => Some(key),
            QueueError::Request { .. } | QueueError::NotAllSent { .. } => None,
        }
    }
}
