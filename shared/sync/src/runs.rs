//! Runs of a job and the error ledger, as every job records them.
//!
//! A tenant-wide run is planned with its number of units of work (accounts, catalog pages) and
//! fanned out one job per unit; each job records its unit's lines ([`RunBook::record`]) and then
//! asks [`RunBook::finish_if_done`]: whoever records the last planned unit finishes the run, as
//! `succeeded`, or `partially_failed` when any record failed. A unit is done when its own record
//! (the run's *unit entity*, e.g. `company` for an account) is recorded, so a unit's other lines
//! are recorded before it: a run whose every unit is recorded has every line.
//!
//! A job that stops for good before its unit's lines exist is still recorded, as its unit's
//! failure ([`RunBook::record_job_failure`]), so the run finishes rather than wait on the
//! dead-letter queue. Transient failures are not recorded: SQS delivers the job again.
//!
//! A run may name a **follow-up**: a job its finisher sends once the last unit is recorded (a
//! scheduled customer sync names the day's export planning, so the export starts after every
//! account has its company). It is sent before the run is marked finished, so a finisher that
//! fails in between sends it again on its retry; the follow-up job runs once by its job key.
//!
//! A run may be **staged** ([`RunBook::start_staged`]): its first stage's units (a daily export's
//! catalog pages) must all be recorded before the next stage is planned (its accounts, whose
//! additions name catalog items). Whoever records the stage's last unit sends the stage's
//! *continuation* instead of finishing the run; the continuation [`RunBook::extend`]s the run
//! with its own units (once: a redelivered continuation learns it came again) and fans them out;
//! the run then finishes as any run when its last unit is recorded, and sends its follow-up. The
//! continuation is sent by every finisher that finds the stage done (a retry, a second worker),
//! and runs once by its job key. The run's planned units add up over its stages, and a unit is
//! done when a record of any of the run's unit entities is recorded for it
//! ([`RunBook::with_units`]: catalog pages and accounts), so the units of a later stage are only
//! counted once it is planned. The store refuses to finish a run whose continuation is pending.
//!
//! The error ledger follows the lines (never in a dry run): a failed line with a source
//! fingerprint is recorded there, any other line clears its record's entry.

use std::sync::Arc;

use cwsync_queue::Job;
use cwsync_runtime::{Counter, Deps, Queue};
use cwsync_store::runs::{Outcome, Run, RunExtension, RunLogEntry, RunStart, RunStatus};
use cwsync_store::{RunId, StoreError, TenantId};
use futures::StreamExt;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::SyncError;
use crate::record::{RecordResult, Recorder, UnitResult};

/// Run records of unchanged units written at once.
const UNCHANGED_WRITES_AT_ONCE: usize = 16;

/// A job a run's finisher sends to a queue once the run is done.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    /// The queue it goes to.
    pub queue: Queue,
    /// The job.
    pub job: Job,
}

impl FollowUp {
    fn queue_name(queue: Queue) -> &'static str {
        match queue {
            Queue::Export => "export",
            Queue::Customer => "customer",
            Queue::Ticket => "ticket",
        }
    }

    /// The follow-up as a run holds it: `{"queue": "export", "job": {…}}`.
    pub fn to_text(&self) -> String {
        json!({"queue": Self::queue_name(self.queue), "job": self.job}).to_string()
    }

    /// Reads what [`FollowUp::to_text`] wrote.
    pub fn parse(text: &str) -> Result<FollowUp, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let queue = match value.get("queue").and_then(Value::as_str) {
            Some("export") => Queue::Export,
            Some("customer") => Queue::Customer,
            Some("ticket") => Queue::Ticket,
            other => return Err(format!("queue: unknown queue {other:?}")),
        };
        let job = Job::from_value(value.get("job").cloned().unwrap_or(Value::Null))
            .map_err(|e| e.to_string())?;
        Ok(FollowUp { queue, job })
    }
}

/// Where one job kind records its runs and failures.
#[derive(Debug, Clone)]
pub struct RunBook {
    deps: Arc<Deps>,
    job_kind: &'static str,
    unit_entity: &'static str,
    units: &'static [&'static str],
    job_failures_on_ledger: bool,
}

/// The error ledger's fingerprint of a unit whose job failed as a whole (permanent, or given up
/// on its last delivery) in a book that keeps job failures on the ledger
/// ([`RunBook::with_job_failures_on_ledger`]): nothing about the record is known.
pub const JOB_FAILURE_FINGERPRINT: &str = "job-failed";
/// The error ledger's fingerprint of a unit whose job began its message's last delivery and has
/// not finished it ([`RunBook::mark_last_delivery`]).
pub const LAST_DELIVERY_FINGERPRINT: &str = "job-last-delivery";

impl RunBook {
    /// The runs of `job_kind` in `deps`' stores, whose units are done when a record of
    /// `unit_entity` is recorded for them.
    pub fn new(deps: Arc<Deps>, job_kind: &'static str, unit_entity: &'static str) -> Self {
        RunBook {
            deps,
            job_kind,
            unit_entity,
            units: &[],
            job_failures_on_ledger: false,
        }
    }

    /// The same book for a job whose next run plans a failed unit again only from the error
    /// ledger (the ticket import: a ticket planned is behind the watermark, and the next run
    /// does not list it). A unit's own job failure ([`RunBook::settle_unit`]: permanent, or
    /// given up on the message's last delivery) goes on the ledger
    /// ([`JOB_FAILURE_FINGERPRINT`]), not off it, and its last delivery marks it there as it
    /// begins ([`RunBook::mark_last_delivery`]), so the next runs plan the unit again while it
    /// is on the report (`errorAttempts`).
    pub fn with_job_failures_on_ledger(mut self) -> Self {
        self.job_failures_on_ledger = true;
        self
    }

    /// On its message's last delivery ([`crate::jobs::current_delivery`]), in a book that keeps
    /// job failures on the ledger, puts unit `unit_id` on the error ledger before its job does
    /// anything else ([`LAST_DELIVERY_FINGERPRINT`]): a delivery stopped half way (its deadline,
    /// a crash) records nothing and its message goes to the dead-letter queue, so the mark is
    /// what makes the next run plan the unit again. The unit's own outcome replaces it. Nothing
    /// in a dry run; a ledger that cannot be written is logged and the job goes on (the dead
    /// letter is then the unit's only memory, as without the mark).
    pub async fn mark_last_delivery(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        unit_id: &str,
    ) {
        let Some(delivery) = crate::jobs::current_delivery().filter(crate::jobs::Delivery::is_last)
        else {
            return;
        };
        if dry_run || !self.job_failures_on_ledger {
            return;
        }
        let text = format!(
            "its job in run {run_id} began its last delivery ({} of {}) before the dead-letter \
             queue and has not finished it (still running, or stopped at its deadline or by a \
             crash); the next run tries it again",
            delivery.receive_count, delivery.max_receives
        );
        let marked = self
            .deps
            .stores
            .ledger
            .record_failure(
                tenant,
                self.unit_entity,
                unit_id,
                LAST_DELIVERY_FINGERPRINT,
                &text,
                Self::now(),
            )
            .await;
        if let Err(error) = marked {
            tracing::warn!(job = self.job_kind, unit = unit_id, %error, "the last delivery's mark was not written");
        }
    }

    /// The same book for runs whose stages have units of other entities too: a unit is done when
    /// a record of any of `units` is recorded for it (a daily export's catalog pages and
    /// accounts). This book's own unit entity (the one its jobs' failures are recorded as)
    /// always counts.
    pub fn with_units(mut self, units: &'static [&'static str]) -> Self {
        self.units = units;
        self
    }

    /// Whether `entity` is a unit's own record in this book's runs.
    fn is_unit(&self, entity: &str) -> bool {
        entity == self.unit_entity || self.units.contains(&entity)
    }

    /// How many of `run`'s units are done.
    fn units_done(&self, run: &Run) -> u64 {
        run.counts
            .iter()
            .filter(|(entity, _)| self.is_unit(entity))
            .map(|(_, counts)| counts.total())
            .sum()
    }

    /// The job kind.
    pub fn job_kind(&self) -> &'static str {
        self.job_kind
    }

    /// The entity of each unit's own record.
    pub fn unit_entity(&self) -> &'static str {
        self.unit_entity
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// Starts run `run_id` planned with `units`: `true` when it is new, `false` when it was
    /// started before (a redelivered planning job: record what only the first planning records
    /// only then).
    pub async fn start(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        units: u64,
    ) -> Result<bool, SyncError> {
        self.start_then(tenant, run_id, dry_run, units, None).await
    }

    /// [`RunBook::start`], naming the job its finisher sends once the run is done.
    pub async fn start_then(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        units: u64,
        follow_up: Option<&FollowUp>,
    ) -> Result<bool, SyncError> {
        let start = self.run_start(run_id, dry_run, units, follow_up);
        self.start_run(tenant, start).await
    }

    /// Starts run `run_id` staged (see the module docs): its first stage planned with `units`,
    /// `continuation` sent once they are all recorded (it [`RunBook::extend`]s the run), and
    /// `follow_up` once the whole run is done. `true` when it is new, as [`RunBook::start`].
    pub async fn start_staged(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        units: u64,
        continuation: &FollowUp,
        follow_up: Option<&FollowUp>,
    ) -> Result<bool, SyncError> {
        let start = self
            .run_start(run_id, dry_run, units, follow_up)
            .with_continuation(Some(continuation.to_text()));
        self.start_run(tenant, start).await
    }

    fn run_start(
        &self,
        run_id: &RunId,
        dry_run: bool,
        units: u64,
        follow_up: Option<&FollowUp>,
    ) -> RunStart {
        RunStart::new(run_id.clone(), self.job_kind, dry_run, Self::now())
            .with_planned(units)
            .with_follow_up(follow_up.map(FollowUp::to_text))
    }

    async fn start_run(&self, tenant: &TenantId, start: RunStart) -> Result<bool, SyncError> {
        match self.deps.stores.runs.start(tenant, start).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// The continuation of stage `from_stage` plans the next stage: adds its `units` to the run
    /// (with the next stage's own `continuation`, when it is not the last). `true` when this call
    /// extended the run; `false` when the stage was continued before (a redelivered
    /// continuation: send its jobs again, but record its own lines only the first time). A run
    /// that finished or was never started is an error.
    pub async fn extend(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        from_stage: u32,
        units: u64,
        continuation: Option<&FollowUp>,
    ) -> Result<bool, SyncError> {
        let extension = RunExtension {
            from_stage,
            units,
            continuation: continuation.map(FollowUp::to_text),
        };
        let extended = self
            .deps
            .stores
            .runs
            .extend(tenant, run_id, extension)
            .await?;
        if extended.applied {
            tracing::info!(%tenant, %run_id, stage = extended.run.stage, units, "run extended");
        }
        Ok(extended.applied)
    }

    /// Makes sure run `run_id` exists before one unit is synced in it, starting it with one
    /// planned unit when it doesn't (a console sync of one account, a change event). `true` when
    /// the run has one unit at most: such a run may reuse recent reference data.
    pub async fn ensure_single(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
    ) -> Result<bool, SyncError> {
        match self.deps.stores.runs.get(tenant, run_id).await? {
            Some(run) => Ok(run.planned.is_none_or(|planned| planned <= 1)),
            None => {
                self.start(tenant, run_id, dry_run, 1).await?;
                Ok(true)
            }
        }
    }

    /// Records `results` in the run (each unit's own record last) and updates the error ledger
    /// (not in a dry run).
    pub async fn record(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        results: &[UnitResult],
    ) -> Result<(), SyncError> {
        let deps = &*self.deps;
        let now = Self::now();
        let metrics = deps.metrics.job(self.job_kind, tenant.as_str());
        for result in results {
            let (units, others): (Vec<_>, Vec<_>) =
                result.records.iter().partition(|r| self.is_unit(&r.entity));
            for record in others.into_iter().chain(units) {
                deps.stores
                    .runs
                    .record(tenant, run_id, RunLogEntry::from(record))
                    .await?;
                metrics.increment(Counter::RecordsProcessed);
                log_line(record, dry_run);
                if record.outcome == Outcome::Failed {
                    metrics.increment(Counter::RecordsFailed);
                }
                if !dry_run {
                    self.update_ledger(tenant, record, now).await?;
                }
            }
        }
        Ok(())
    }

    /// Records a failed line on the error ledger (with its fingerprint: without one nothing names
    /// the record from one run to the next, and an entry it has stays as it is: a failure is not
    /// a success) or clears the entry of a record that did not fail.
    async fn update_ledger(
        &self,
        tenant: &TenantId,
        record: &RecordResult,
        now: OffsetDateTime,
    ) -> Result<(), SyncError> {
        let ledger = &self.deps.stores.ledger;
        if record.outcome == Outcome::Failed {
            if record.source_fingerprint.is_empty() {
                return Ok(());
            }
            ledger
                .record_failure(
                    tenant,
                    &record.entity,
                    &record.record_id,
                    &record.source_fingerprint,
                    &record.detail,
                    now,
                )
                .await?;
        } else if ledger
            .get(tenant, &record.entity, &record.record_id, now)
            .await?
            .is_some()
        {
            // One item read per record, not the tenant's whole ledger per job: a tenant with
            // thousands of failing records must not make every job read them all.
            ledger
                .clear(tenant, &record.entity, &record.record_id)
                .await?;
        }
        Ok(())
    }

    /// [`RunBook::record`], then [`RunBook::finish_if_done`].
    pub async fn record_and_finish(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        results: &[UnitResult],
    ) -> Result<(), SyncError> {
        self.record(tenant, run_id, dry_run, results).await?;
        self.finish_if_done(tenant, run_id).await
    }

    /// Records the permanent failure of unit `unit_id`'s job as the unit's failed record in the
    /// run (and, with a `source_fingerprint`, on the error ledger) and finishes the run if it was
    /// the last unit: a job whose failure is known never leaves its run waiting on the
    /// dead-letter queue.
    pub async fn record_job_failure(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        unit_id: &str,
        source_fingerprint: String,
        error: &SyncError,
    ) -> Result<UnitResult, SyncError> {
        tracing::warn!(
            job = self.job_kind,
            unit = unit_id,
            %error,
            "job failed permanently; recorded as its unit's failure"
        );
        let line =
            Recorder::new(self.unit_entity, unit_id, source_fingerprint).failed(error.to_string());
        let result = UnitResult::single(line);
        self.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
            .await?;
        Ok(result)
    }

    /// What a unit's job comes to: `Ok` when it ran; a transient error to be retried (SQS
    /// delivers it again), unless this is the message's last delivery
    /// ([`crate::jobs::current_delivery`]): then, as for any other error, the failure is recorded
    /// as the unit's ([`RunBook::record_job_failure`]), so the run finishes rather than wait on
    /// the dead-letter queue. It is off the ledger (nothing about a record names it; the next
    /// run plans every unit and tries this one again), unless the book keeps job failures on
    /// the ledger ([`RunBook::with_job_failures_on_ledger`]).
    pub async fn settle_unit<T>(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        unit_id: &str,
        result: Result<T, SyncError>,
    ) -> Result<(), cwsync_queue::JobFailure> {
        let Err(error) = result else { return Ok(()) };
        let error = match crate::jobs::current_delivery().filter(crate::jobs::Delivery::is_last) {
            _ if !error.is_transient() => error,
            None => return Err(error.into()),
            Some(last) => SyncError::GaveUp {
                deliveries: last.receive_count,
                source: Box::new(error),
            },
        };
        let fingerprint = if self.job_failures_on_ledger {
            JOB_FAILURE_FINGERPRINT.to_owned()
        } else {
            String::new()
        };
        self.record_job_failure(tenant, run_id, dry_run, unit_id, fingerprint, &error)
            .await
            .map(|_| ())
            .map_err(cwsync_queue::JobFailure::from)
    }

    /// Records units found unchanged without a job: their lines in the run, many at once (a
    /// tenant's thousands of units in one planning invocation), units' own records last. They
    /// are not on the error ledger (a unit with a ledger entry is always synced), so the ledger
    /// is left alone.
    pub async fn record_unchanged(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        results: &[UnitResult],
    ) -> Result<(), SyncError> {
        let runs = &self.deps.stores.runs;
        let metrics = self.deps.metrics.job(self.job_kind, tenant.as_str());
        let (units, others): (Vec<_>, Vec<_>) = results
            .iter()
            .flat_map(|r| &r.records)
            .partition(|r| self.is_unit(&r.entity));
        for records in [others, units] {
            let mut writes = futures::stream::iter(
                records
                    .into_iter()
                    .map(|record| runs.record(tenant, run_id, RunLogEntry::from(record))),
            )
            .buffer_unordered(UNCHANGED_WRITES_AT_ONCE);
            while let Some(written) = writes.next().await {
                written?;
                metrics.increment(Counter::RecordsProcessed);
            }
        }
        Ok(())
    }

    /// Finishes the run once every planned unit's own record is recorded, or, while a stage's
    /// continuation is pending, sends the continuation instead (again by every finisher that
    /// finds the stage done: it runs once by its job key). Safe to call from every job: a run
    /// already finished (by another worker a moment ago) is left as it is.
    pub async fn finish_if_done(&self, tenant: &TenantId, run_id: &RunId) -> Result<(), SyncError> {
        let runs = &self.deps.stores.runs;
        let Some(run) = runs.get(tenant, run_id).await? else {
            return Ok(());
        };
        let Some(planned) = run.planned else {
            return Ok(());
        };
        if run.status != RunStatus::Running {
            return Ok(());
        }
        if self.units_done(&run) < planned {
            return Ok(());
        }
        if let Some(text) = &run.continuation {
            let what = format!("the stage {} continuation of run {run_id}", run.stage);
            self.send_follow_up(tenant, run_id, text, &what).await?;
            return Ok(());
        }
        if let Some(text) = &run.follow_up {
            let what = format!("the follow-up of run {run_id}");
            self.send_follow_up(tenant, run_id, text, &what).await?;
        }
        let failed = run.counts.values().any(|c| c.failed > 0);
        let status = if failed {
            RunStatus::PartiallyFailed
        } else {
            RunStatus::Succeeded
        };
        match runs.finish(tenant, run_id, Self::now(), status).await {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

impl RunBook {
    /// Sends a done stage's continuation or a finished run's follow-up job (`what` names it).
    /// One that can't be read is logged and dropped (no retry makes it readable); one that can't
    /// be sent stops the finisher, to be retried.
    async fn send_follow_up(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        text: &str,
        what: &str,
    ) -> Result<(), SyncError> {
        let follow_up = match FollowUp::parse(text) {
            Ok(follow_up) => follow_up,
            Err(reason) => {
                tracing::error!(%tenant, %run_id, %reason, what, "a run's next job can't be read; dropped");
                return Ok(());
            }
        };
        let jobs = std::slice::from_ref(&follow_up.job);
        crate::jobs::send_jobs(
            &self.deps,
            follow_up.queue,
            tenant,
            self.job_kind,
            jobs,
            what,
        )
        .await?;
        tracing::info!(%tenant, %run_id, job = %follow_up.job.kind(), what, "run's next job sent");
        Ok(())
    }
}

/// One log line per record: ids and outcomes, and the detail of a failure (details name billing
/// fields and values, never a key).
fn log_line(record: &RecordResult, dry_run: bool) {
    match record.outcome {
        Outcome::Failed => {
            tracing::warn!(entity = %record.entity, record = %record.record_id, detail = %record.detail, dry_run, "record failed");
        }
        Outcome::Unchanged => {
            tracing::debug!(entity = %record.entity, record = %record.record_id, "record unchanged");
        }
        outcome => {
            tracing::info!(entity = %record.entity, record = %record.record_id, connectwise_id = ?record.connect_wise_id, outcome = outcome.as_str(), dry_run, "record synced");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cwsync_queue::JobKind;

    #[test]
    fn a_follow_up_reads_back_as_written_and_a_bad_one_is_named() {
        let job = Job::new(
            JobKind::DailyExportPlan,
            "acme",
            "20261206T070000Z-abcdef",
            false,
            json!({}),
        )
        .unwrap();
        let follow_up = FollowUp {
            queue: Queue::Export,
            job,
        };
        assert_eq!(FollowUp::parse(&follow_up.to_text()), Ok(follow_up));
        let unknown = FollowUp::parse(r#"{"queue": "elsewhere", "job": {}}"#).unwrap_err();
        assert!(unknown.starts_with("queue: unknown queue"), "{unknown}");
        let bad_job = FollowUp::parse(r#"{"queue": "export", "job": {"version": 1}}"#).unwrap_err();
        assert!(bad_job.contains("kind"), "{bad_job}");
    }
}
