//! The in-memory queue for tests and the local runner: same de-duplication and size limits as the
//! SQS queue, no network. Jobs go through their JSON body on the way in, as they would over SQS,
//! so a job that would not survive SQS does not survive here either.

use crate::JobQueue;
use crate::batch::{SendLimits, SendReport, SentJob, prepare};
use crate::error::QueueError;
use crate::job::Job;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A FIFO of jobs behind a mutex.
#[derive(Debug, Default)]
pub struct MemoryJobQueue {
    limits: SendLimits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    pending: VecDeque<Job>,
    received: Vec<Job>,
    next_message: u64,
}

impl MemoryJobQueue {
    /// An empty queue with SQS's limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty queue with other limits (tests of the size rules).
    pub fn with_limits(limits: SendLimits) -> Self {
        MemoryJobQueue {
            limits,
            state: Mutex::default(),
        }
    }

    /// Takes every pending job, oldest first (the local runner's "receive").
    pub fn drain(&self) -> Vec<Job> {
        self.lock().pending.drain(..).collect()
    }

    /// Every job ever accepted, in order, including drained ones (for assertions).
    pub fn received(&self) -> Vec<Job> {
        self.lock().received.clone()
    }

    /// How many jobs are pending.
    pub fn len(&self) -> usize {
        self.lock().pending.len()
    }

    /// Whether no job is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is a single push.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl JobQueue for MemoryJobQueue {
    async fn send_batch(&self, jobs: &[Job]) -> Result<SendReport, QueueError> {
        let prepared = prepare(jobs, &self.limits);
        let mut report = SendReport {
            duplicates: prepared.duplicates,
            failed: prepared.refused,
            ..SendReport::default()
        };
        let mut state = self.lock();
        for entry in prepared.jobs {
            match Job::parse(&entry.body) {
                Ok(job) => {
                    state.next_message += 1;
                    report.sent.push(SentJob {
                        key: entry.key,
                        message_id: format!("memory-{}", state.next_message),
                    });
                    state.received.push(job.clone());
                    state.pending.push_back(job);
                }
                Err(e) => report.failed.push(QueueError::Serialize {
                    key: entry.key,
                    reason: e.to_string(),
                }),
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobKind;
    use serde_json::json;

    fn job(n: u32) -> Job {
        Job::new(
            JobKind::CustomerSyncAccount,
            "acme",
            "r1",
            false,
            json!({"accountId": n}),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn sent_jobs_are_drained_in_order_and_remembered_after_draining() {
        let queue = MemoryJobQueue::new();
        let report = queue.send_batch(&[job(1), job(2)]).await.unwrap();
        assert_eq!(report.sent.len(), 2);
        queue.send_batch(&[job(3)]).await.unwrap();
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.drain(), [job(1), job(2), job(3)]);
        assert!(queue.is_empty());
        assert_eq!(queue.received(), [job(1), job(2), job(3)]);
        assert!(queue.drain().is_empty());
    }

    #[tokio::test]
    async fn a_key_repeated_in_one_send_is_queued_once() {
        let queue = MemoryJobQueue::new();
        let report = queue.send_batch(&[job(1), job(1), job(2)]).await.unwrap();
        assert_eq!(report.duplicates, [job(1).key()]);
        assert_eq!(queue.drain(), [job(1), job(2)]);
    }

    #[tokio::test]
    async fn a_job_over_the_size_limit_is_refused_alone() {
        let small = job(1);
        let big = Job::new(
            JobKind::CustomerSyncAccount,
            "acme",
            "r1",
            false,
            json!({"pad": "x".repeat(500)}),
        )
        .unwrap();
        let queue = MemoryJobQueue::with_limits(SendLimits {
            max_entries: 10,
            max_message_bytes: 300,
            max_batch_bytes: 300,
        });
        let report = queue
            .send_batch(&[big.clone(), small.clone()])
            .await
            .unwrap();
        assert_eq!(report.sent.len(), 1);
        assert!(
            matches!(&report.failed[..], [QueueError::TooLarge { key, .. }] if *key == big.key())
        );
        assert_eq!(queue.drain(), [small]);
    }
}
