//! The SQS queue: `SendMessageBatch` in batches shaped by [`crate::batch`], resending only the
//! entries SQS failed, a bounded number of times.
//!
//! Entry ids and FIFO deduplication ids are the job key's digest, so a response entry maps back to
//! its job and a FIFO queue drops a job sent again within its five-minute window. FIFO queues (the
//! URL ends in `.fifo`) group messages by tenant, so one tenant's jobs keep their order and
//! different tenants run side by side. This module never logs bodies: they hold customer data.
//!
//! The SDK call sits behind a small crate-private trait ([`SendMessageBatchApi`]) so the resend
//! logic can be tested against scripted partial failures, which moto cannot produce on demand.

use crate::JobQueue;
use crate::batch::{PreparedJob, SendLimits, SendReport, SentJob, chunk, prepare};
use crate::error::QueueError;
use crate::job::Job;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

/// How often and how patiently failed entries are resent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends of one entry in total, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the first resend; doubles each time.
    pub base_delay: Duration,
    /// Longest wait between two resends.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 100 ms doubling up to 2 s: long enough to ride out throttling, short enough for
    /// a Lambda invocation. (The SDK separately retries whole requests that fail.)
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Jobs sent to one SQS queue.
#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    api: Arc<dyn SendMessageBatchApi>,
    queue_url: String,
    fifo: bool,
    limits: SendLimits,
    retry: RetryPolicy,
}

impl SqsJobQueue {
    /// A queue at `queue_url`, with SQS's limits and the default retry policy.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self::with_api(Arc::new(SdkSendMessageBatch { client }), queue_url.into())
    }

    pub(crate) fn with_api(api: Arc<dyn SendMessageBatchApi>, queue_url: String) -> Self {
        SqsJobQueue {
            api,
            fifo: queue_url.ends_with(".fifo"),
            queue_url,
            limits: SendLimits::SQS,
            retry: RetryPolicy::default(),
        }
    }

    /// Other size limits (e.g. a queue with a smaller `MaximumMessageSize`).
    pub fn with_limits(mut self, limits: SendLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Another retry policy (tests use millisecond delays).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Whether the queue is FIFO (its URL ends in `.fifo`).
    pub fn is_fifo(&self) -> bool {
        self.fifo
    }

    fn entry(&self, job: &PreparedJob) -> BatchEntry {
        BatchEntry {
            id: job.key.digest().to_owned(),
            body: job.body.clone(),
            // On a standard queue the tenant as group makes it a fair queue (AWS, "Amazon SQS fair
            // queues"): a tenant holding more than its share of the in-flight messages (over 10%
            // and at least 30) yields to the quiet ones. On a FIFO queue it orders per tenant.
            group_id: Some(job.tenant.clone()),
            deduplication_id: self.fifo.then(|| job.key.digest().to_owned()),
        }
    }
}

#[async_trait::async_trait]
impl JobQueue for SqsJobQueue {
    /// Sends every unique job, resending only failed entries. Returns `Err` only when a request
    /// fails permanently (missing queue, access denied): that would fail every job alike. Jobs of
    /// earlier batches may then have been sent; sending the whole call again is safe, because a
    /// FIFO queue drops repeated keys and consumers run a key once.
    async fn send_batch(&self, jobs: &[Job]) -> Result<SendReport, QueueError> {
        let prepared = prepare(jobs, &self.limits);
        for refused in &prepared.refused {
            tracing::error!(queue_url = %self.queue_url, error = %refused, "job not sent");
        }
        let mut report = SendReport {
            duplicates: prepared.duplicates,
            failed: prepared.refused,
            ..SendReport::default()
        };
        let max_attempts = self.retry.max_attempts.max(1);
        let mut pending = prepared.jobs;
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let last = attempt >= max_attempts;
            let mut resend = Vec::new();
            for batch in chunk(std::mem::take(&mut pending), &self.limits) {
                let entries = batch.iter().map(|job| self.entry(job)).collect();
                let response = match self.api.send_message_batch(&self.queue_url, entries).await {
                    Ok(response) => response,
                    Err(failure) if failure.transient => {
                        tracing::warn!(queue_url = %self.queue_url, attempt, code = %failure.code,
                            error = %failure.message, "SendMessageBatch failed; will resend its entries");
                        // The whole request failed: every entry of it failed the same way.
                        let failed = batch.iter().map(|job| EntryFailure {
                            id: job.key.digest().to_owned(),
                            code: failure.code.clone(),
                            message: failure.message.clone(),
                            sender_fault: false,
                        });
                        BatchResponse {
                            successful: Vec::new(),
                            failed: failed.collect(),
                        }
                    }
                    Err(failure) => {
                        tracing::error!(queue_url = %self.queue_url, code = %failure.code,
                            error = %failure.message, sent = report.sent.len(), "SendMessageBatch failed permanently");
                        return Err(QueueError::Request {
                            queue_url: self.queue_url.clone(),
                            message: failure.message,
                            transient: false,
                        });
                    }
                };
                settle(batch, response, attempt, last, &mut report, &mut resend);
            }
            if !resend.is_empty() {
                tokio::time::sleep(self.retry.delay_after(attempt)).await;
            }
            pending = resend;
        }
        Ok(report)
    }
}

/// Sorts one response into sent, resend and failed. Entries the response does not mention are
/// treated as transient failures: they may or may not have been stored, and resending a key is
/// safe where sending it twice is merely wasteful.
fn settle(
    batch: Vec<PreparedJob>,
    response: BatchResponse,
    attempt: u32,
    last: bool,
    report: &mut SendReport,
    resend: &mut Vec<PreparedJob>,
) {
    let index: HashMap<String, usize> = batch
        .iter()
        .enumerate()
        .map(|(i, job)| (job.key.digest().to_owned(), i))
        .collect();
    let mut slots: Vec<Option<PreparedJob>> = batch.into_iter().map(Some).collect();
    let mut take = |id: &str| index.get(id).and_then(|&i| slots.get_mut(i)?.take());

    for (id, message_id) in response.successful {
        if let Some(job) = take(&id) {
            report.sent.push(SentJob {
                key: job.key,
                message_id,
            });
        }
    }
    let mut failed: Vec<(PreparedJob, EntryFailure)> = response
        .failed
        .into_iter()
        .filter_map(|failure| Some((take(&failure.id)?, failure)))
        .collect();
    // Whatever is left was not mentioned; in batch order, so reports are deterministic.
    failed.extend(slots.into_iter().flatten().map(|job| {
        let failure = EntryFailure {
            id: job.key.digest().to_owned(),
            code: "MissingFromResponse".into(),
            message: "SQS reported neither success nor failure for this entry".into(),
            sender_fault: false,
        };
        (job, failure)
    }));
    for (job, failure) in failed {
        if failure.sender_fault || last {
            let error = QueueError::EntryFailed {
                key: job.key,
                code: failure.code,
                message: failure.message,
                attempts: attempt,
                transient: !failure.sender_fault,
            };
            tracing::error!(error = %error, "job not sent");
            report.failed.push(error);
        } else {
            tracing::warn!(key = %job.key, attempt, code = %failure.code, "SQS failed a batch entry; resending it");
            resend.push(job);
        }
    }
}

/// One entry of a `SendMessageBatch` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchEntry {
    pub id: String,
    pub body: String,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

/// What SQS answered: `(entry id, message id)` per success, and the failed entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BatchResponse {
    pub successful: Vec<(String, String)>,
    pub failed: Vec<EntryFailure>,
}

/// One failed entry of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryFailure {
    pub id: String,
    pub code: String,
    pub message: String,
    /// SQS blames the request (bad parameter): resending the same entry fails the same way.
    pub sender_fault: bool,
}

/// A whole request that failed, after the SDK's own retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestFailure {
    pub code: String,
    pub message: String,
    pub transient: bool,
}

/// The one SQS call the queue makes; a seam for scripted partial failures in tests.
#[async_trait::async_trait]
pub(crate) trait SendMessageBatchApi: Send + Sync + Debug {
    async fn send_message_batch(
        &self,
        queue_url: &str,
        entries: Vec<BatchEntry>,
    ) -> Result<BatchResponse, RequestFailure>;
}

#[derive(Clone)]
struct SdkSendMessageBatch {
    client: aws_sdk_sqs::Client,
}

// The client's own Debug dumps its whole configuration; the queue URL already says which queue.
impl Debug for SdkSendMessageBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("aws_sdk_sqs::Client")
    }
}

#[async_trait::async_trait]
impl SendMessageBatchApi for SdkSendMessageBatch {
    async fn send_message_batch(
        &self,
        queue_url: &str,
        entries: Vec<BatchEntry>,
    ) -> Result<BatchResponse, RequestFailure> {
        let mut request = self.client.send_message_batch().queue_url(queue_url);
        for entry in entries {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(entry.id)
                .message_body(entry.body)
                .set_message_group_id(entry.group_id)
                .set_message_deduplication_id(entry.deduplication_id)
                .build()
                .map_err(|e| RequestFailure {
                    code: "InvalidEntry".into(),
                    message: e.to_string(),
                    transient: false,
                })?;
            request = request.entries(entry);
        }
        let output = request.send().await.map_err(request_failure)?;
        Ok(BatchResponse {
            successful: output
                .successful()
                .iter()
                .map(|s| (s.id().to_owned(), s.message_id().to_owned()))
                .collect(),
            failed: output
                .failed()
                .iter()
                .map(|f| EntryFailure {
                    id: f.id().to_owned(),
                    code: f.code().to_owned(),
                    message: f.message().unwrap_or_default().to_owned(),
                    sender_fault: f.sender_fault(),
                })
                .collect(),
        })
    }
}

type SendBatchSdkError = SdkError<SendMessageBatchError, aws_sdk_sqs::config::http::HttpResponse>;

/// Throttling, 5xx, timeouts and connection failures are transient; everything else (missing
/// queue, denied, invalid request) fails the same way on every try.
fn request_failure(err: SendBatchSdkError) -> RequestFailure {
    let transient = match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let e = service.err();
            e.is_request_throttled()
                || e.is_kms_throttled()
                || service.raw().status().is_server_error()
        }
        _ => false,
    };
    // A service error's code and message say it all; the full context would repeat the raw
    // response. Connection and timeout errors need their source chain.
    let message = match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("UnknownError"),
            service.message().unwrap_or("no message")
        ),
        None => DisplayErrorContext(&err).to_string(),
    };
    RequestFailure {
        code: err.code().unwrap_or("RequestFailed").to_owned(),
        message,
        transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobKind;
    use serde_json::json;
    use std::sync::Mutex;

    type Script =
        dyn Fn(usize, &[BatchEntry]) -> Result<BatchResponse, RequestFailure> + Send + Sync;

    /// An in-process SendMessageBatch: answers each call with `script(call number, entries)` and
    /// records every request.
    struct ScriptedSqs {
        script: Box<Script>,
        calls: Mutex<Vec<Vec<BatchEntry>>>,
    }

    impl Debug for ScriptedSqs {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("ScriptedSqs")
        }
    }

    impl ScriptedSqs {
        fn new(
            script: impl Fn(usize, &[BatchEntry]) -> Result<BatchResponse, RequestFailure>
            + Send
            + Sync
            + 'static,
        ) -> Arc<Self> {
            Arc::new(ScriptedSqs {
                script: Box::new(script),
                calls: Mutex::default(),
            })
        }
        fn calls(&self) -> Vec<Vec<BatchEntry>> {
            self.calls.lock().unwrap().clone()
        }
        fn sends_of(&self, id: &str) -> usize {
            self.calls().iter().flatten().filter(|e| e.id == id).count()
        }
    }

    #[async_trait::async_trait]
    impl SendMessageBatchApi for ScriptedSqs {
        async fn send_message_batch(
            &self,
            _queue_url: &str,
            entries: Vec<BatchEntry>,
        ) -> Result<BatchResponse, RequestFailure> {
            let call = {
                let mut calls = self.calls.lock().unwrap();
                calls.push(entries.clone());
                calls.len() - 1
            };
            (self.script)(call, &entries)
        }
    }

    /// Accepts every entry except those `fail` picks, which fail with `sender_fault`.
    fn answer(
        entries: &[BatchEntry],
        fail: impl Fn(&BatchEntry) -> bool,
        sender_fault: bool,
    ) -> BatchResponse {
        let mut response = BatchResponse::default();
        for e in entries {
            if fail(e) {
                response.failed.push(EntryFailure {
                    id: e.id.clone(),
                    code: if sender_fault {
                        "InvalidParameterValue"
                    } else {
                        "InternalError"
                    }
                    .into(),
                    message: "scripted".into(),
                    sender_fault,
                });
            } else {
                response
                    .successful
                    .push((e.id.clone(), format!("msg-{}", e.id)));
            }
        }
        response
    }

    fn jobs(n: usize) -> Vec<Job> {
        (0..n)
            .map(|i| {
                Job::new(
                    JobKind::CustomerSyncAccount,
                    "acme",
                    "r1",
                    false,
                    json!({"accountId": i}),
                )
                .unwrap()
            })
            .collect()
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    fn queue(api: Arc<ScriptedSqs>, url: &str) -> SqsJobQueue {
        SqsJobQueue::with_api(api, url.to_owned()).with_retry(fast())
    }

    const URL: &str = "https://sqs.us-east-1.amazonaws.com/1/jobs";

    #[tokio::test(start_paused = true)]
    async fn only_the_entries_sqs_failed_are_resent_and_every_job_is_sent_once() {
        let jobs = jobs(25);
        let flaky: Vec<String> = [3, 7]
            .iter()
            .map(|&i| jobs[i].key().digest().to_owned())
            .collect();
        let flaky_in_script = flaky.clone();
        let sqs = ScriptedSqs::new(move |call, entries| {
            Ok(answer(
                entries,
                |e| call == 0 && flaky_in_script.contains(&e.id),
                false,
            ))
        });
        let report = queue(sqs.clone(), URL).send_batch(&jobs).await.unwrap();

        let sizes: Vec<_> = sqs.calls().iter().map(Vec::len).collect();
        assert_eq!(
            sizes,
            [10, 10, 5, 2],
            "three batches, then one resend of the two failed entries"
        );
        let resent: Vec<_> = sqs.calls()[3].iter().map(|e| e.id.clone()).collect();
        assert_eq!(resent, flaky);
        assert_eq!(report.sent.len(), 25);
        assert!(report.failed.is_empty());
        for job in &jobs {
            let id = job.key().digest().to_owned();
            let expected = if flaky.contains(&id) { 2 } else { 1 };
            assert_eq!(sqs.sends_of(&id), expected, "job {}", job.key());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_entry_that_keeps_failing_is_reported_transient_after_the_last_attempt() {
        let jobs = jobs(3);
        let stuck = jobs[1].key().digest().to_owned();
        let stuck_in_script = stuck.clone();
        let sqs = ScriptedSqs::new(move |_, entries| {
            Ok(answer(entries, |e| e.id == stuck_in_script, false))
        });
        let report = queue(sqs.clone(), URL).send_batch(&jobs).await.unwrap();

        assert_eq!(sqs.sends_of(&stuck), 3);
        assert_eq!(report.sent.len(), 2);
        assert_eq!(
            report.failed,
            [QueueError::EntryFailed {
                key: jobs[1].key(),
                code: "InternalError".into(),
                message: "scripted".into(),
                attempts: 3,
                transient: true,
            }]
        );
        assert!(report.ensure_all_sent().unwrap_err().is_transient());
    }

    #[tokio::test(start_paused = true)]
    async fn an_entry_sqs_blames_on_the_sender_is_not_resent() {
        let jobs = jobs(2);
        let bad = jobs[0].key().digest().to_owned();
        let bad_in_script = bad.clone();
        let sqs = ScriptedSqs::new(move |_, entries| {
            Ok(answer(entries, |e| e.id == bad_in_script, true))
        });
        let report = queue(sqs.clone(), URL).send_batch(&jobs).await.unwrap();

        assert_eq!(sqs.calls().len(), 1);
        assert_eq!(report.sent.len(), 1);
        assert!(
            matches!(&report.failed[..], [e @ QueueError::EntryFailed { attempts: 1, .. }] if !e.is_transient() && e.key() == Some(&jobs[0].key()))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_request_is_resent_whole() {
        let sqs = ScriptedSqs::new(|call, entries| {
            if call == 0 {
                Err(RequestFailure {
                    code: "RequestThrottled".into(),
                    message: "slow down".into(),
                    transient: true,
                })
            } else {
                Ok(answer(entries, |_| false, false))
            }
        });
        let report = queue(sqs.clone(), URL).send_batch(&jobs(4)).await.unwrap();
        assert_eq!(sqs.calls().iter().map(Vec::len).collect::<Vec<_>>(), [4, 4]);
        assert_eq!(report.sent.len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_stays_throttled_reports_each_job_with_the_code() {
        let sqs = ScriptedSqs::new(|_, _| {
            Err(RequestFailure {
                code: "RequestThrottled".into(),
                message: "slow down".into(),
                transient: true,
            })
        });
        let report = queue(sqs.clone(), URL).send_batch(&jobs(2)).await.unwrap();
        assert_eq!(sqs.calls().len(), 3);
        assert_eq!(report.failed.len(), 2);
        assert!(report.failed.iter().all(|e| e.is_transient() && matches!(e, QueueError::EntryFailed { code, attempts: 3, .. } if code == "RequestThrottled")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_missing_queue_fails_the_whole_send_as_permanent() {
        let sqs = ScriptedSqs::new(|_, _| {
            Err(RequestFailure {
                code: "QueueDoesNotExist".into(),
                message: "no such queue".into(),
                transient: false,
            })
        });
        let err = queue(sqs.clone(), URL)
            .send_batch(&jobs(12))
            .await
            .unwrap_err();
        assert_eq!(sqs.calls().len(), 1, "the second batch is not attempted");
        assert!(!err.is_transient());
        assert!(err.to_string().contains(URL));
    }

    #[tokio::test(start_paused = true)]
    async fn entries_missing_from_the_response_are_resent() {
        let sqs = ScriptedSqs::new(|call, entries| {
            let mut response = answer(entries, |_| false, false);
            if call == 0 {
                response.successful.pop();
            }
            Ok(response)
        });
        let jobs = jobs(3);
        let report = queue(sqs.clone(), URL).send_batch(&jobs).await.unwrap();
        assert_eq!(sqs.calls().iter().map(Vec::len).collect::<Vec<_>>(), [3, 1]);
        assert_eq!(sqs.calls()[1][0].id, jobs[2].key().digest());
        assert_eq!(report.sent.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn entries_are_grouped_by_tenant_and_fifo_ones_deduplicated_by_key() {
        let sqs = ScriptedSqs::new(|_, entries| Ok(answer(entries, |_| false, false)));
        let job = &jobs(1)[0];
        queue(
            sqs.clone(),
            "https://sqs.us-east-1.amazonaws.com/1/jobs.fifo",
        )
        .send_batch(std::slice::from_ref(job))
        .await
        .unwrap();
        queue(sqs.clone(), URL)
            .send_batch(std::slice::from_ref(job))
            .await
            .unwrap();
        let calls = sqs.calls();
        let fifo = &calls[0][0];
        assert_eq!(fifo.group_id.as_deref(), Some("acme"));
        assert_eq!(fifo.deduplication_id.as_deref(), Some(job.key().digest()));
        assert_eq!(fifo.body, job.to_body().unwrap());
        let standard = &calls[1][0];
        assert_eq!(
            (
                standard.group_id.as_deref(),
                standard.deduplication_id.as_deref()
            ),
            (Some("acme"), None)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn resends_wait_a_doubling_capped_delay() {
        let sqs = ScriptedSqs::new(|_, entries| Ok(answer(entries, |_| true, false)));
        let retry = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        let started = tokio::time::Instant::now();
        let report = queue(sqs.clone(), URL)
            .with_retry(retry)
            .send_batch(&jobs(1))
            .await
            .unwrap();
        // 100 + 200 + 300 (capped); no wait after the last attempt.
        assert_eq!(started.elapsed(), Duration::from_millis(600));
        assert_eq!(sqs.calls().len(), 4);
        assert_eq!(report.failed.len(), 1);
    }

    #[test]
    fn the_url_decides_fifo() {
        let api = ScriptedSqs::new(|_, _| Ok(BatchResponse::default()));
        assert!(SqsJobQueue::with_api(api.clone(), "https://x/q.fifo".into()).is_fifo());
        assert!(!SqsJobQueue::with_api(api, "https://x/q".into()).is_fifo());
    }
}
