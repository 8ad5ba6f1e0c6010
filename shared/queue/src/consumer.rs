//! The SQS consumer side: turns a Lambda [`SqsEvent`] into handler calls and a partial batch
//! response (`batchItemFailures`), the way the event source mapping expects with
//! `FunctionResponseTypes: [ReportBatchItemFailures]`.
//!
//! Every record is parsed and handled on its own; one bad record never fails the others. What
//! each outcome does:
//!
//! | outcome | in `batchItemFailures` | log | counted as |
//! |---|---|---|---|
//! | handler returned `Ok` | no: Lambda deletes it | debug | `ok` |
//! | handler returned [`JobFailure::Transient`] | yes: redelivered after the visibility timeout | warn | `transient` |
//! | body missing, not JSON, unknown version or kind, invalid field ([`crate::JobError`]) | yes | error | `permanent` |
//! | handler returned [`JobFailure::Permanent`] | yes | error | `permanent` |
//! | handler panicked | yes | error | `permanent` |
//! | FIFO only: an earlier record of the same message group failed in this batch | yes, not handled | warn | `skipped` |
//!
//! Permanent failures are reported too, on purpose: reporting them is what sends them to the
//! dead-letter queue. SQS redelivers a reported record until its receive count reaches the
//! queue's `maxReceiveCount`, then moves it to the DLQ, where it waits for inspection and
//! redrive. So a poison message is never retried forever (the redrive policy bounds it), never
//! silently dropped (deleting it would lose the evidence), and never fails the rest of its batch.
//! Each delivery of a permanent failure logs one error line with the message id, receive count
//! and reason; the summary counts them apart from transient failures, for metrics and alarms.
//!
//! Records run concurrently up to `concurrency` at a time, on the caller's task (so handlers may
//! borrow the function's `Deps`). A panic is caught per record (`catch_unwind`), so it fails that
//! record only. Records of a FIFO queue (its ARN ends in `.fifo`; its records carry a
//! `SequenceNumber`) run in order within their `MessageGroupId`; after a failure the group's later
//! records are reported without being handled, as AWS requires to keep the group's order. On a
//! standard queue the `MessageGroupId` only names the tenant for fair queuing: those records run
//! concurrently, each on its own.
//!
//! This module never logs message bodies: they hold customer data.

use crate::job::Job;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::{FutureExt, StreamExt};
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use tracing::Instrument;

/// What a handler learns about the message beside the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobContext {
    /// The SQS message id (also what `batchItemFailures` names).
    pub message_id: String,
    /// SQS's `ApproximateReceiveCount`: 1 on the first delivery.
    pub receive_count: u32,
}

/// Why a handler could not finish a job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobFailure {
    /// Retrying later may succeed (throttled, timed out, a dependency down).
    #[error("transient: {0}")]
    Transient(String),
    /// The job can never succeed as it is (invalid data, missing settings): it goes to the DLQ
    /// after the receive limit.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl JobFailure {
    /// A failure retrying may fix.
    pub fn transient(reason: impl std::fmt::Display) -> Self {
        JobFailure::Transient(reason.to_string())
    }

    /// A failure retrying can't fix.
    pub fn permanent(reason: impl std::fmt::Display) -> Self {
        JobFailure::Permanent(reason.to_string())
    }

    /// Whether retrying may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, JobFailure::Transient(_))
    }
}

/// Counts of one batch's outcomes, for metrics (see the module docs for what each means).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Handled successfully.
    pub ok: usize,
    /// Failed transiently.
    pub transient: usize,
    /// Malformed or invalid messages, permanent handler failures, and panics.
    pub permanent: usize,
    /// FIFO records not handled because an earlier record of their group failed.
    pub skipped: usize,
}

impl BatchSummary {
    /// Records reported in `batchItemFailures`.
    pub fn failed(&self) -> usize {
        self.transient + self.permanent + self.skipped
    }
}

/// The response for Lambda and the counts for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedBatch {
    /// Return this from the Lambda handler.
    pub response: SqsBatchResponse,
    /// Emit these as metrics.
    pub summary: BatchSummary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Transient(String),
    Permanent(String),
    Skipped,
}

/// Handles each record of `event` with `handler`, at most `concurrency` at a time (0 counts as 1),
/// and reports every record that did not succeed in `batchItemFailures`, in event order.
///
/// A record without a message id (never sent by Lambda) can't be named alone: if it fails, the
/// response carries an empty identifier, which makes Lambda retry the whole batch rather than
/// lose the record.
pub async fn process_batch<F, Fut>(
    event: SqsEvent,
    concurrency: usize,
    handler: F,
) -> ProcessedBatch
where
    F: Fn(Job, JobContext) -> Fut,
    Fut: Future<Output = Result<(), JobFailure>>,
{
    let handler = &handler;
    let mut results: Vec<(usize, String, Outcome)> = futures::stream::iter(lanes(event))
        .map(|lane| run_lane(lane, handler))
        .buffer_unordered(concurrency.max(1))
        .flat_map(futures::stream::iter)
        .collect()
        .await;
    results.sort_by_key(|(index, _, _)| *index);

    let mut response = SqsBatchResponse::default();
    let mut summary = BatchSummary::default();
    for (_, message_id, outcome) in results {
        match outcome {
            Outcome::Ok => {
                summary.ok += 1;
                continue;
            }
            Outcome::Transient(_) => summary.transient += 1,
            Outcome::Permanent(_) => summary.permanent += 1,
            Outcome::Skipped => summary.skipped += 1,
        }
        response.add_failure(message_id);
    }
    tracing::info!(
        ok = summary.ok,
        transient = summary.transient,
        permanent = summary.permanent,
        skipped = summary.skipped,
        "SQS batch processed"
    );
    ProcessedBatch { response, summary }
}

type Lane = Vec<(usize, SqsMessage)>;

/// The message group `record` must keep its order in: its `MessageGroupId` on a FIFO queue
/// (whose ARN ends in `.fifo`, and whose records carry a `SequenceNumber`); `None` on a standard
/// queue, where a group id only tells fair queuing the tenant.
fn fifo_group(record: &SqsMessage) -> Option<String> {
    let fifo = record
        .event_source_arn
        .as_deref()
        .is_some_and(|arn| arn.ends_with(".fifo"))
        || record.attributes.contains_key("SequenceNumber");
    fifo.then(|| record.attributes.get("MessageGroupId").cloned())
        .flatten()
}

/// Records that must run in order share a lane (one per FIFO message group); every other record
/// has a lane of its own.
fn lanes(event: SqsEvent) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = Vec::new();
    let mut by_group: HashMap<String, usize> = HashMap::new();
    for (index, record) in event.records.into_iter().enumerate() {
        match fifo_group(&record) {
            Some(group) => match by_group.get(&group) {
                Some(&lane) => lanes[lane].push((index, record)),
                None => {
                    by_group.insert(group, lanes.len());
                    lanes.push(vec![(index, record)]);
                }
            },
            None => lanes.push(vec![(index, record)]),
        }
    }
    lanes
}

async fn run_lane<F, Fut>(lane: Lane, handler: &F) -> Vec<(usize, String, Outcome)>
where
    F: Fn(Job, JobContext) -> Fut,
    Fut: Future<Output = Result<(), JobFailure>>,
{
    let mut results = Vec::with_capacity(lane.len());
    let mut failed = false;
    for (index, record) in lane {
        let message_id = record.message_id.clone().unwrap_or_default();
        let outcome = if failed {
            tracing::warn!(message_id = %message_id, "not handled: an earlier message of its FIFO group failed");
            Outcome::Skipped
        } else {
            handle_record(record, handler).await
        };
        failed |= outcome != Outcome::Ok;
        results.push((index, message_id, outcome));
    }
    results
}

async fn handle_record<F, Fut>(record: SqsMessage, handler: &F) -> Outcome
where
    F: Fn(Job, JobContext) -> Fut,
    Fut: Future<Output = Result<(), JobFailure>>,
{
    let message_id = record.message_id.clone().unwrap_or_default();
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let span = tracing::info_span!(
        "sqs_record",
        message_id = %message_id,
        receive_count,
        kind = tracing::field::Empty,
        tenant = tracing::field::Empty,
        run_id = tracing::field::Empty,
    );
    let handled_span = span.clone();
    async move {
        if message_id.is_empty() {
            tracing::error!(
                "SQS record has no message id: a failure will make Lambda retry the whole batch"
            );
        }
        let job = match record.body.as_deref().map(Job::parse) {
            Some(Ok(job)) => job,
            Some(Err(e)) => return permanent(format!("invalid job message: {e}")),
            None => return permanent("invalid job message: the record has no body".to_owned()),
        };
        handled_span.record("kind", job.kind().as_str());
        handled_span.record("tenant", job.tenant());
        handled_span.record("run_id", job.run_id());
        let context = JobContext {
            message_id,
            receive_count,
        };
        // A panic while building the future counts as much as one while running it.
        let future = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(job, context))) {
            Ok(future) => future,
            Err(panic) => return permanent(panic_reason(panic.as_ref())),
        };
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(Ok(())) => {
                tracing::debug!("job done");
                Outcome::Ok
            }
            Ok(Err(JobFailure::Transient(reason))) => {
                tracing::warn!(reason = %reason, "job failed transiently; SQS will redeliver it");
                Outcome::Transient(reason)
            }
            Ok(Err(JobFailure::Permanent(reason))) => permanent(reason),
            Err(panic) => permanent(panic_reason(panic.as_ref())),
        }
    }
    .instrument(span)
    .await
}

fn permanent(reason: String) -> Outcome {
    tracing::error!(
        reason = %reason,
        "job failed permanently; reported so SQS moves it to the DLQ after maxReceiveCount"
    );
    Outcome::Permanent(reason)
}

fn panic_reason(panic: &(dyn Any + Send)) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-text panic payload");
    format!("handler panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobKind;
    use serde_json::json;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn body(action: &str) -> String {
        Job::new(
            JobKind::TicketImportTicket,
            "acme",
            "r1",
            false,
            json!({"action": action}),
        )
        .unwrap()
        .to_body()
        .unwrap()
    }

    fn record(id: &str, body: Option<String>) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = Some(id.to_owned());
        record.body = body;
        record
            .attributes
            .insert("ApproximateReceiveCount".into(), "2".into());
        record
    }

    fn event(records: Vec<SqsMessage>) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = records;
        event
    }

    fn failure_ids(processed: &ProcessedBatch) -> Vec<&str> {
        processed
            .response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    /// Succeeds, fails or panics as the payload's `action` says.
    async fn act(job: Job, _context: JobContext) -> Result<(), JobFailure> {
        match job.payload()["action"].as_str() {
            Some("ok") => Ok(()),
            Some("transient") => Err(JobFailure::transient("ConnectWise throttled")),
            Some("permanent") => Err(JobFailure::permanent("account has no company type")),
            Some("panic") => panic!("bug in the handler"),
            other => Err(JobFailure::permanent(format!(
                "unexpected action {other:?}"
            ))),
        }
    }

    #[tokio::test]
    async fn exactly_the_records_that_did_not_succeed_are_reported_in_event_order() {
        let records = vec![
            record("ok-1", Some(body("ok"))),
            record("transient", Some(body("transient"))),
            record("malformed", Some("{not json".into())),
            record("ok-2", Some(body("ok"))),
            record(
                "future-version",
                Some(body("ok").replace("\"version\":1", "\"version\":2")),
            ),
            record(
                "unknown-kind",
                Some(body("ok").replace("ticket-import-ticket", "ticket-import-everything")),
            ),
            record("permanent", Some(body("permanent"))),
            record("panics", Some(body("panic"))),
            record("no-body", None),
            record("ok-3", Some(body("ok"))),
        ];
        let processed = process_batch(event(records), 3, act).await;
        assert_eq!(
            failure_ids(&processed),
            [
                "transient",
                "malformed",
                "future-version",
                "unknown-kind",
                "permanent",
                "panics",
                "no-body"
            ]
        );
        assert_eq!(
            processed.summary,
            BatchSummary {
                ok: 3,
                transient: 1,
                permanent: 6,
                skipped: 0
            }
        );
        assert_eq!(processed.summary.failed(), 7);
    }

    #[tokio::test]
    async fn a_batch_where_everything_succeeds_reports_no_failures() {
        let records = (0..5)
            .map(|i| record(&format!("m{i}"), Some(body("ok"))))
            .collect();
        let processed = process_batch(event(records), 2, act).await;
        assert!(processed.response.batch_item_failures.is_empty());
        assert_eq!(processed.summary.ok, 5);
        assert_eq!(
            serde_json::to_value(&processed.response).unwrap(),
            json!({"batchItemFailures": []})
        );
    }

    #[tokio::test]
    async fn a_handler_panicking_before_its_future_exists_fails_only_its_record() {
        let processed = process_batch(
            event(vec![
                record("a", Some(body("panic"))),
                record("b", Some(body("ok"))),
            ]),
            2,
            |job: Job, ctx| {
                if job.payload()["action"] == "panic" {
                    panic!("panicked while building the future");
                }
                act(job, ctx)
            },
        )
        .await;
        assert_eq!(failure_ids(&processed), ["a"]);
        assert_eq!(processed.summary.ok, 1);
    }

    #[tokio::test]
    async fn the_handler_sees_the_message_id_and_receive_count() {
        let seen = Mutex::new(Vec::new());
        let mut first_delivery = record("m1", Some(body("ok")));
        first_delivery.attributes.clear();
        process_batch(
            event(vec![record("m0", Some(body("ok"))), first_delivery]),
            1,
            |_job, context| {
                seen.lock().unwrap().push(context);
                async { Ok(()) }
            },
        )
        .await;
        assert_eq!(
            *seen.lock().unwrap(),
            [
                JobContext {
                    message_id: "m0".into(),
                    receive_count: 2
                },
                JobContext {
                    message_id: "m1".into(),
                    receive_count: 1
                }
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_concurrency_limit_of_handlers_run_at_once() {
        let gauge = Gauge::default();
        let records = (0..10)
            .map(|i| record(&format!("m{i}"), Some(body("ok"))))
            .collect();
        let processed = process_batch(event(records), 3, |_job, _context| {
            gauge.enter();
            let gauge = &gauge;
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                gauge.leave();
                Ok(())
            }
        })
        .await;
        assert_eq!(processed.summary.ok, 10);
        assert_eq!(gauge.most(), 3);
    }

    /// Counts the handlers running at once, and the most there were.
    #[derive(Default)]
    struct Gauge {
        running: AtomicUsize,
        most: AtomicUsize,
    }

    impl Gauge {
        fn enter(&self) {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
        }

        fn leave(&self) {
            self.running.fetch_sub(1, Ordering::SeqCst);
        }

        fn most(&self) -> usize {
            self.most.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn in_a_fifo_group_records_after_a_failure_are_reported_without_running() {
        let grouped = |id: &str, action: &str, group: &str| {
            let mut r = record(id, Some(body(action)));
            r.attributes.insert("MessageGroupId".into(), group.into());
            r.attributes
                .insert("SequenceNumber".into(), format!("1800{id}"));
            r
        };
        let handled = Mutex::new(Vec::new());
        let records = vec![
            grouped("a1", "ok", "tenant-a"),
            grouped("b1", "ok", "tenant-b"),
            grouped("a2", "transient", "tenant-a"),
            grouped("b2", "ok", "tenant-b"),
            grouped("a3", "ok", "tenant-a"),
        ];
        let processed = process_batch(event(records), 4, |job, context: JobContext| {
            handled.lock().unwrap().push(context.message_id.clone());
            act(job, context)
        })
        .await;
        assert_eq!(failure_ids(&processed), ["a2", "a3"]);
        assert_eq!(
            processed.summary,
            BatchSummary {
                ok: 3,
                transient: 1,
                permanent: 0,
                skipped: 1
            }
        );
        let handled = handled.lock().unwrap();
        assert!(!handled.contains(&"a3".to_owned()));
        let order: Vec<_> = handled.iter().filter(|id| id.starts_with('a')).collect();
        assert_eq!(order, ["a1", "a2"], "a group's records run in order");
    }

    #[tokio::test]
    async fn on_a_standard_queue_a_tenant_group_neither_orders_nor_skips_its_records() {
        // A fair queue's records: the tenant as `MessageGroupId`, no `SequenceNumber`, a queue
        // ARN without `.fifo`.
        let fair = |id: &str, action: &str| {
            let mut r = record(id, Some(body(action)));
            r.attributes
                .insert("MessageGroupId".into(), "tenant-a".into());
            r.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:cwsync-jobs".into());
            r
        };
        let gauge = Gauge::default();
        let records = vec![
            fair("a1", "ok"),
            fair("a2", "transient"),
            fair("a3", "ok"),
            fair("a4", "ok"),
        ];
        let processed = process_batch(event(records), 4, |job, context: JobContext| {
            gauge.enter();
            let gauge = &gauge;
            async move {
                tokio::task::yield_now().await;
                let result = act(job, context).await;
                gauge.leave();
                result
            }
        })
        .await;
        assert_eq!(failure_ids(&processed), ["a2"]);
        assert_eq!(
            processed.summary,
            BatchSummary {
                ok: 3,
                transient: 1,
                permanent: 0,
                skipped: 0
            }
        );
        assert!(gauge.most() > 1, "a tenant's records run concurrently");
        let mut fifo = fair("f1", "ok");
        fifo.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:jobs.fifo".into());
        assert_eq!(fifo_group(&fifo).as_deref(), Some("tenant-a"));
        assert_eq!(fifo_group(&fair("s1", "ok")), None);
    }

    #[tokio::test]
    async fn a_failing_record_without_a_message_id_is_reported_with_an_empty_identifier() {
        let mut nameless = record("", Some(body("transient")));
        nameless.message_id = None;
        let processed = process_batch(
            event(vec![nameless, record("ok", Some(body("ok")))]),
            0,
            act,
        )
        .await;
        assert_eq!(failure_ids(&processed), [""]);
    }
}
