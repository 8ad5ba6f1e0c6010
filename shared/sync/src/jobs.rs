//! Idempotent job handling, the same for every job kind: an SQS batch is read once per group of
//! jobs that can share reads (one tenant, one run, one dry-run flag), then each job runs on its
//! own under its idempotency record, and the answer names exactly the messages to deliver again.
//!
//! Safe under redelivery: a job whose idempotency record says it completed is replayed (its work
//! does not run and nothing is recorded again) and needs no reads; the work itself is idempotent
//! (links, diffs). Two deliveries of one job at once: the idempotency lock lets one run, the other
//! is retried. A job that fails transiently is delivered again; one that fails for good is
//! reported too, so past the receive limit it reaches the dead-letter queue (see
//! `cwsync_queue::process_batch`) — jobs record a known permanent failure in their run first
//! ([`crate::runs::RunBook::record_job_failure`]).

use std::collections::HashMap;
use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use cwsync_queue::{Job, JobContext, JobFailure, JobKey, ProcessedBatch, process_batch};
use cwsync_store::TenantId;
use cwsync_store::idempotency::{
    Idempotency, IdempotencyError, IdempotencyStatus, IdempotencyStore, Outcome as Replay, key_hash,
};
use lambda_runtime::Diagnostic;
use time::OffsetDateTime;

use crate::SyncError;

/// Whether a delivery is the message's first, by SQS's `ApproximateReceiveCount` (a message
/// without the count is taken as delivered before).
pub fn first_delivery(record: &SqsMessage) -> bool {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .is_some_and(|count| count == "1")
}

/// The idempotency key of `job` without payload field `hint`: a hint a planner adds (and a
/// redelivered planning job may add differently) does not make it other work.
pub fn key_without(job: &Job, hint: &str) -> JobKey {
    let mut payload = job.payload().clone();
    let hinted = payload
        .as_object_mut()
        .and_then(|object| object.remove(hint))
        .is_some();
    if !hinted {
        return job.key();
    }
    Job::new(
        job.kind(),
        job.tenant(),
        job.run_id(),
        job.dry_run(),
        payload,
    )
    .map_or_else(|_| job.key(), |bare| bare.key())
}

/// Runs `work` under the idempotency record of `key`: at most once per key, a replay answering
/// `Ok` without running it.
pub async fn run_once<F, Fut>(
    idempotency: &Idempotency,
    tenant: &TenantId,
    key: &JobKey,
    deadline: OffsetDateTime,
    work: F,
) -> Result<(), JobFailure>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), JobFailure>>,
{
    match idempotency.run(tenant, key.as_str(), deadline, work).await {
        Ok(Replay::Executed(())) => Ok(()),
        Ok(Replay::Replayed(())) => {
            tracing::info!(
                job = key.as_str(),
                "job already done: replay changes nothing"
            );
            Ok(())
        }
        Err(IdempotencyError::Work { source, .. }) => Err(source),
        Err(error) if error.is_transient() => Err(JobFailure::transient(error)),
        Err(error) => Err(JobFailure::permanent(error)),
    }
}

/// The jobs that can share reads: one tenant, one run, the same dry-run flag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    /// The tenant.
    pub tenant: TenantId,
    /// The run.
    pub run_id: String,
    /// Whether the run only plans.
    pub dry_run: bool,
}

impl GroupKey {
    /// The group of `job`; `None` for a job whose tenant is not valid (it fails on its own).
    pub fn of(job: &Job) -> Option<GroupKey> {
        Some(GroupKey {
            tenant: TenantId::parse(job.tenant()).ok()?,
            run_id: job.run_id().to_owned(),
            dry_run: job.dry_run(),
        })
    }
}

/// The batch's jobs that still have work, by group: `member` says what a job brings to its
/// group's read (`None`: it takes no part, e.g. another kind); a job whose idempotency record
/// (under `key_of`) says it completed is left out, as its replay needs no reads.
pub async fn pending_groups<M>(
    event: &SqsEvent,
    idempotency: &dyn IdempotencyStore,
    key_of: impl Fn(&Job) -> JobKey,
    member: impl Fn(&Job, &SqsMessage) -> Option<M>,
) -> HashMap<GroupKey, Vec<M>> {
    let mut groups: HashMap<GroupKey, Vec<M>> = HashMap::new();
    for record in &event.records {
        let Some(job) = record.body.as_deref().and_then(|b| Job::parse(b).ok()) else {
            continue;
        };
        let Some(member) = member(&job, record) else {
            continue;
        };
        let Some(key) = GroupKey::of(&job) else {
            continue;
        };
        let hash = key_hash(&key.tenant, key_of(&job).as_str());
        if let Ok(Some(done)) = idempotency.get(&hash).await
            && done.status == IdempotencyStatus::Completed
        {
            continue;
        }
        groups.entry(key).or_default().push(member);
    }
    groups
}

/// Reads each group of at least `min` members once with `read`; smaller groups, and groups whose
/// read fails (logged), map to `None` and their jobs read on their own.
pub async fn prefetch_groups<M, G, F, Fut>(
    groups: HashMap<GroupKey, Vec<M>>,
    min: usize,
    read: F,
) -> HashMap<GroupKey, Option<G>>
where
    F: Fn(GroupKey, Vec<M>) -> Fut,
    Fut: Future<Output = Result<G, SyncError>>,
{
    let mut prefetched = HashMap::new();
    for (key, members) in groups {
        let value = if members.len() < min.max(1) {
            None
        } else {
            match read(key.clone(), members).await {
                Ok(group) => Some(group),
                Err(error) => {
                    tracing::warn!(%error, "batch read failed; each job reads on its own");
                    None
                }
            }
        };
        prefetched.insert(key, value);
    }
    prefetched
}

/// Which delivery of its message a job is running in, and how many SQS makes before the
/// dead-letter queue (the queue's `maxReceiveCount`, the functions' `MAX_RECEIVE_COUNT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// SQS's `ApproximateReceiveCount` (1 on the first delivery).
    pub receive_count: u32,
    /// The queue's `maxReceiveCount`.
    pub max_receives: u32,
}

impl Delivery {
    /// Whether this is the message's last delivery: failing now sends it to the dead-letter
    /// queue, so a known failure is recorded in its run instead (see
    /// [`crate::runs::RunBook::settle_unit`]).
    pub fn is_last(&self) -> bool {
        self.receive_count >= self.max_receives
    }
}

tokio::task_local! {
    static DELIVERY: Delivery;
}

/// The delivery the current job runs in ([`handle_batch`] sets it for each job); `None`
/// outside a batch (a console action runs a job's work directly).
pub fn current_delivery() -> Option<Delivery> {
    DELIVERY.try_with(|delivery| *delivery).ok()
}

/// Handles an SQS batch of `job_kind` jobs, at most `concurrency` at once: `run` gets each job
/// with its delivery context and its group's shared reads (when `groups` holds them), and the
/// answer's `batchItemFailures` name the messages to deliver again. Each job runs knowing its
/// [`Delivery`] (`max_receives`: the queue's `maxReceiveCount`), so its last one can record why it
/// gives up.
pub async fn handle_batch<'g, G, F, Fut>(
    job_kind: &str,
    event: SqsEvent,
    concurrency: usize,
    max_receives: u32,
    groups: &'g HashMap<GroupKey, Option<G>>,
    run: F,
) -> ProcessedBatch
where
    F: Fn(Job, JobContext, Option<&'g G>) -> Fut,
    Fut: Future<Output = Result<(), JobFailure>>,
{
    let processed = process_batch(event, concurrency, |job, context| {
        let group = GroupKey::of(&job)
            .and_then(|key| groups.get(&key))
            .and_then(Option::as_ref);
        let delivery = Delivery {
            receive_count: context.receive_count,
            max_receives,
        };
        DELIVERY.scope(delivery, run(job, context, group))
    })
    .await;
    tracing::info!(
        job = job_kind,
        ok = processed.summary.ok,
        transient = processed.summary.transient,
        permanent = processed.summary.permanent,
        "batch handled"
    );
    processed
}

/// What a function's invocation brings: an SQS batch of its queue (a payload with `Records`) or
/// an event of its own (console, schedule), parsed as `E`; a malformed one is refused naming why.
#[derive(Debug)]
pub enum Invocation<E> {
    /// A batch of jobs.
    Jobs(SqsEvent),
    /// A console or schedule event.
    Event(E),
}

impl<E: serde::de::DeserializeOwned> Invocation<E> {
    /// Reads `payload` for `function`.
    pub fn parse(function: &'static str, payload: serde_json::Value) -> Result<Self, Diagnostic> {
        if payload.get("Records").is_some() {
            return serde_json::from_value(payload)
                .map(Invocation::Jobs)
                .map_err(|e| Diagnostic {
                    error_type: "InvalidEvent".to_owned(),
                    error_message: format!("invalid SQS event for {function}: {e}"),
                });
        }
        cwsync_runtime::parse_event(function, payload)
            .map(Invocation::Event)
            .map_err(|e| {
                tracing::warn!(error = %e, "refused an event");
                Diagnostic::from(e)
            })
    }
}

/// A batch's answer as the invocation's JSON.
pub fn batch_answer(response: &SqsBatchResponse) -> Result<serde_json::Value, Diagnostic> {
    serde_json::to_value(response).map_err(|e| Diagnostic {
        error_type: "InternalError".to_owned(),
        error_message: e.to_string(),
    })
}

/// The invocation's deadline; five minutes from now when the context has none (tests).
pub fn deadline_of(context: &lambda_runtime::Context) -> OffsetDateTime {
    Some(i128::from(context.deadline))
        .filter(|ms| *ms > 0)
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok())
        .unwrap_or_else(|| OffsetDateTime::now_utc() + time::Duration::minutes(5))
}

/// Sends `jobs` to `queue` (no request for none). A queue the function was not given is
/// [`SyncError::NotConfigured`] naming `job_kind`; a batch not wholly sent is the caller's error
/// (its job is retried, and the jobs sent twice run once by their keys). `what` names them in
/// the error (`the 12 account jobs of run …`).
pub async fn send_jobs(
    deps: &cwsync_runtime::Deps,
    queue: cwsync_runtime::Queue,
    tenant: &TenantId,
    job_kind: &'static str,
    jobs: &[Job],
    what: &str,
) -> Result<(), SyncError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let queue = deps
        .queues
        .get(queue)
        .map_err(|e| SyncError::NotConfigured {
            tenant: tenant.to_string(),
            job: job_kind,
            reason: e.to_string(),
        })?;
    queue
        .send_batch(jobs)
        .await
        .and_then(|report| report.ensure_all_sent())
        .map_err(|e| SyncError::Queue {
            context: format!("sending {what}"),
            source: Box::new(e),
        })?;
    Ok(())
}

/// Sends `job` to `queue` at most once per `key` of `tenant` (a scheduled slot, a tenant's local
/// date), claimed under `claims`: ticks that repeat or overlap send it once. `true` when this
/// call sent it. `what` names it in errors.
pub async fn send_once(
    deps: &cwsync_runtime::Deps,
    claims: &Idempotency,
    tenant: &TenantId,
    key: &str,
    queue: cwsync_runtime::Queue,
    job: &Job,
    what: &str,
) -> Result<bool, SyncError> {
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(1);
    let claimed = claims
        .run(tenant, key, deadline, || async {
            let queue = deps.queues.get(queue).map_err(|e| e.to_string())?;
            queue
                .send_batch(std::slice::from_ref(job))
                .await
                .and_then(|report| report.ensure_all_sent())
                .map_err(|e| e.to_string())
        })
        .await;
    match claimed {
        Ok(Replay::Executed(())) => Ok(true),
        Ok(Replay::Replayed(())) => Ok(false),
        Err(error) => Err(SyncError::Unsettled {
            record: what.to_owned(),
            detail: error.to_string(),
        }),
    }
}
