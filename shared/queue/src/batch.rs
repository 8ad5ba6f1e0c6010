//! Shaping a send: one message per job key, no message over the size limit, batches of at most
//! ten entries and under the batch byte limit. Pure functions shared by the SQS and in-memory
//! queues, so a local run refuses exactly what SQS would.

use crate::error::QueueError;
use crate::job::{Job, JobKey};
use std::collections::HashMap;

/// SQS's limits on `SendMessageBatch`. The defaults are the classic SQS limits (10 entries,
/// 256 KiB per message and per batch); SQS now allows up to 1 MiB, but the smaller bound works on
/// every queue and keeps jobs small, as they should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    /// Entries per `SendMessageBatch` request (SQS: 10).
    pub max_entries: usize,
    /// Bytes of one message body.
    pub max_message_bytes: usize,
    /// Bytes of all bodies in one request.
    pub max_batch_bytes: usize,
}

impl SendLimits {
    /// 10 entries, 262,144 bytes per message and per batch.
    pub const SQS: SendLimits = SendLimits {
        max_entries: 10,
        max_message_bytes: 256 * 1024,
        max_batch_bytes: 256 * 1024,
    };
}

impl Default for SendLimits {
    fn default() -> Self {
        SendLimits::SQS
    }
}

/// What happened to each job of a `send_batch` call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Jobs the queue accepted, in the order they were accepted.
    pub sent: Vec<SentJob>,
    /// Keys that appeared again in the same call with the same content: sent once, not twice.
    pub duplicates: Vec<JobKey>,
    /// Jobs not sent, each error naming its key and saying whether it is transient.
    pub failed: Vec<QueueError>,
}

/// A job the queue accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentJob {
    /// The job's key.
    pub key: JobKey,
    /// The queue's message id.
    pub message_id: String,
}

impl SendReport {
    /// `Ok` when every unique job was sent; otherwise one error counting the failures and holding
    /// the first (transient only if all of them are).
    pub fn ensure_all_sent(&self) -> Result<(), QueueError> {
        let Some(first) = self.failed.first() else {
            return Ok(());
        };
        Err(QueueError::NotAllSent {
            failed: self.failed.len(),
            total: self.sent.len() + self.failed.len(),
            first: Box::new(first.clone()),
            transient: self.failed.iter().all(QueueError::is_transient),
        })
    }
}

/// A job ready to send: its key, its tenant (the FIFO group) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedJob {
    pub key: JobKey,
    pub tenant: String,
    pub body: String,
}

/// The jobs of one call after de-duplication and size checks.
#[derive(Debug, Default)]
pub(crate) struct PreparedSend {
    pub jobs: Vec<PreparedJob>,
    pub duplicates: Vec<JobKey>,
    pub refused: Vec<QueueError>,
}

/// One message per key (the first wins; a later job with the same key and the same content is a
/// duplicate, with different content a conflict); a body over the limit is refused alone.
pub(crate) fn prepare(jobs: &[Job], limits: &SendLimits) -> PreparedSend {
    // A message must fit in a batch on its own as well as under the per-message limit.
    let message_limit = limits.max_message_bytes.min(limits.max_batch_bytes);
    let mut first_by_key: HashMap<JobKey, &Job> = HashMap::new();
    let mut out = PreparedSend::default();
    for job in jobs {
        let key = job.key();
        if let Some(first) = first_by_key.get(&key) {
            if *first == job {
                out.duplicates.push(key);
            } else {
                out.refused.push(QueueError::ConflictingDuplicate { key });
            }
            continue;
        }
        first_by_key.insert(key.clone(), job);
        let body = match job.to_body() {
            Ok(body) => body,
            Err(e) => {
                out.refused.push(QueueError::Serialize {
                    key,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if body.len() > message_limit {
            out.refused.push(QueueError::TooLarge {
                key,
                bytes: body.len(),
                limit: message_limit,
            });
            continue;
        }
        out.jobs.push(PreparedJob {
            key,
            tenant: job.tenant().to_owned(),
            body,
        });
    }
    out
}

/// Greedy batches in input order: a new batch starts when the current one has `max_entries`
/// entries or the next body would take it over `max_batch_bytes`. Every job must already be
/// under the message limit (see [`prepare`]).
pub(crate) fn chunk(jobs: Vec<PreparedJob>, limits: &SendLimits) -> Vec<Vec<PreparedJob>> {
    let max_entries = limits.max_entries.max(1);
    let mut batches: Vec<Vec<PreparedJob>> = Vec::new();
    let mut current: Vec<PreparedJob> = Vec::new();
    let mut current_bytes = 0usize;
    for job in jobs {
        let bytes = job.body.len();
        if !current.is_empty()
            && (current.len() >= max_entries || current_bytes + bytes > limits.max_batch_bytes)
        {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += bytes;
        current.push(job);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobKind;
    use serde_json::json;

    fn job(n: usize, padding: usize) -> Job {
        Job::new(
            JobKind::DailyExportAccount,
            "acme",
            "run-1",
            false,
            json!({"accountId": n, "pad": "x".repeat(padding)}),
        )
        .unwrap()
    }

    fn sizes(batches: &[Vec<PreparedJob>]) -> Vec<usize> {
        batches.iter().map(Vec::len).collect()
    }

    #[test]
    fn twenty_five_small_jobs_go_in_batches_of_ten_ten_and_five() {
        let jobs: Vec<_> = (0..25).map(|n| job(n, 0)).collect();
        let prepared = prepare(&jobs, &SendLimits::SQS);
        assert_eq!(prepared.jobs.len(), 25);
        let batches = chunk(prepared.jobs, &SendLimits::SQS);
        assert_eq!(sizes(&batches), [10, 10, 5]);
        // Order is kept: the first batch holds the first ten jobs.
        assert_eq!(batches[0][0].key, jobs[0].key());
        assert_eq!(batches[2][4].key, jobs[24].key());
    }

    #[test]
    fn large_jobs_split_by_bytes_before_the_entry_count_is_reached() {
        // Each body is a little over 60 KiB: four of them fit under 256 KiB, a fifth does not.
        let jobs: Vec<_> = (0..10).map(|n| job(n, 60 * 1024)).collect();
        let prepared = prepare(&jobs, &SendLimits::SQS);
        let body = prepared.jobs[0].body.len();
        assert!(
            4 * body <= 256 * 1024 && 5 * body > 256 * 1024,
            "body is {body} bytes"
        );
        let batches = chunk(prepared.jobs, &SendLimits::SQS);
        assert_eq!(sizes(&batches), [4, 4, 2]);
        for batch in &batches {
            assert!(batch.iter().map(|j| j.body.len()).sum::<usize>() <= 256 * 1024);
        }
    }

    #[test]
    fn a_job_exactly_at_the_limit_is_sent_and_one_byte_more_is_refused_naming_its_key() {
        let probe = job(1, 0).to_body().unwrap().len();
        let limits = SendLimits {
            max_entries: 10,
            max_message_bytes: probe + 100,
            max_batch_bytes: 10_000,
        };
        let at_limit = job(1, 100);
        let over = job(2, 101);
        assert_eq!(at_limit.to_body().unwrap().len(), probe + 100);
        let prepared = prepare(&[at_limit.clone(), over.clone()], &limits);
        assert_eq!(prepared.jobs.len(), 1);
        assert_eq!(prepared.jobs[0].key, at_limit.key());
        assert_eq!(
            prepared.refused,
            [QueueError::TooLarge {
                key: over.key(),
                bytes: probe + 101,
                limit: probe + 100
            }]
        );
        assert!(
            prepared.refused[0]
                .to_string()
                .contains(over.key().as_str())
        );
    }

    #[test]
    fn a_job_bigger_than_a_whole_batch_is_refused_even_under_the_message_limit() {
        let limits = SendLimits {
            max_entries: 10,
            max_message_bytes: 1_000_000,
            max_batch_bytes: 500,
        };
        let prepared = prepare(&[job(1, 600)], &limits);
        assert!(prepared.jobs.is_empty());
        assert!(matches!(
            prepared.refused[..],
            [QueueError::TooLarge { limit: 500, .. }]
        ));
    }

    #[test]
    fn a_repeated_key_is_prepared_once_and_reported_as_a_duplicate() {
        let prepared = prepare(&[job(1, 0), job(2, 0), job(1, 0)], &SendLimits::SQS);
        assert_eq!(prepared.jobs.len(), 2);
        assert_eq!(prepared.duplicates, [job(1, 0).key()]);
        assert!(prepared.refused.is_empty());
    }

    #[test]
    fn a_repeated_key_with_different_content_is_refused_as_a_conflict() {
        let live = job(1, 0);
        let dry = Job::new(
            live.kind(),
            live.tenant(),
            live.run_id(),
            true,
            live.payload().clone(),
        )
        .unwrap();
        assert_eq!(live.key(), dry.key());
        let prepared = prepare(&[live.clone(), dry], &SendLimits::SQS);
        assert_eq!(prepared.jobs.len(), 1);
        assert_eq!(
            prepared.refused,
            [QueueError::ConflictingDuplicate { key: live.key() }]
        );
    }

    #[test]
    fn no_jobs_make_no_batches() {
        assert!(chunk(Vec::new(), &SendLimits::SQS).is_empty());
    }

    #[test]
    fn a_report_with_failures_is_not_all_sent_and_says_whether_to_retry() {
        let key = job(1, 0).key();
        let mut report = SendReport::default();
        assert!(report.ensure_all_sent().is_ok());
        report.sent.push(SentJob {
            key: job(2, 0).key(),
            message_id: "m".into(),
        });
        report.failed.push(QueueError::EntryFailed {
            key: key.clone(),
            code: "InternalError".into(),
            message: "try again".into(),
            attempts: 3,
            transient: true,
        });
        let err = report.ensure_all_sent().unwrap_err();
        assert!(err.is_transient());
        assert!(
            err.to_string()
                .starts_with("1 of 2 job(s) were not sent (transient)")
        );
        report.failed.push(QueueError::TooLarge {
            key,
            bytes: 2,
            limit: 1,
        });
        assert!(!report.ensure_all_sent().unwrap_err().is_transient());
    }
}
