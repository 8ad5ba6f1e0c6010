//! Runs: one item per job run (job kind, start/end, dry-run flag, status, counts per entity and
//! outcome) and a bounded per-record log of what changed or failed, read a page at a time.
//!
//! Many workers (SQS jobs of one run) record into a run at once: counts are added atomically on
//! the run item and each log entry gets its sequence number from an atomic counter there, so the
//! totals always add up. The log keeps the first [`RunStart::log_limit`] entries; beyond that only
//! counts are kept and the run says [`Run::log_truncated`]. Runs and their logs expire
//! [`RunStart::retention`] after they started (DynamoDB TTL).
//!
//! `record` is not idempotent: a retried call counts twice. Callers record once per handled
//! record, after the outcome is final. This module never decides outcomes; it only keeps them.
//!
//! **Stages.** A run may be planned in stages (a daily export's catalog pages, then its
//! accounts, which need the catalog items to exist): it starts in stage 1 with that stage's
//! planned units and a [`RunStart::continuation`], the job its finisher sends once those units are
//! recorded. The continuation [`RunStore::extend`]s the run with its own units, conditional on
//! the stage it continues (one conditional update), so a redelivered continuation learns it came
//! again and adds nothing. A run whose continuation is pending can't be finished.

mod dynamo;
mod memory;

pub use dynamo::DynamoRunStore;
pub use memory::MemoryRunStore;

use crate::{StoreError, TenantId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use time::{Duration, OffsetDateTime, UtcOffset};

/// How long a run and its log are kept unless the caller says otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::days(30);
/// How many log entries a run keeps unless the caller says otherwise.
pub const DEFAULT_LOG_LIMIT: u32 = 10_000;
/// Longest `detail` kept per log entry (bytes); longer text is cut on a character boundary so
/// one huge error can't push an item past DynamoDB's 400 KB.
pub const MAX_DETAIL_BYTES: usize = 2_048;
/// Largest page of runs or log entries one call returns.
pub const MAX_PAGE: usize = 1_000;
const MAX_RECORD_ID_BYTES: usize = 512;
const MAX_NAME_CHARS: usize = 32;

/// A run id, time-sortable: `YYYYMMDDTHHMMSSZ-<6 hex>` (UTC start second plus a random suffix),
/// so a tenant's runs sort newest first by id alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// A fresh id for a run starting at `now`.
    pub fn new(now: OffsetDateTime) -> Self {
        Self::with_suffix(now, rand::random::<u32>())
    }

    /// The id of the run of `key` starting at `at`: its suffix is derived from `key` (the first
    /// bytes of its SHA-256), so whoever starts the run of one key at one time (a scheduled day
    /// started by two ticks) names the same run.
    pub fn derived(at: OffsetDateTime, key: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.as_bytes());
        let suffix = digest
            .iter()
            .take(4)
            .fold(0u32, |acc, byte| (acc << 8) | u32::from(*byte));
        Self::with_suffix(at, suffix)
    }

    fn with_suffix(now: OffsetDateTime, suffix: u32) -> Self {
        let at = now.to_offset(UtcOffset::UTC);
        RunId(format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{:06x}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            suffix & 0x00ff_ffff
        ))
    }

    /// Parses an id made by [`RunId::new`] (e.g. from a job message).
    pub fn parse(value: impl Into<String>) -> Result<Self, StoreError> {
        let value = value.into();
        let b = value.as_bytes();
        let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
        let well_formed = b.len() == 23
            && digits(0..8)
            && b[8] == b'T'
            && digits(9..15)
            && b[15] == b'Z'
            && b[16] == b'-'
            && b[17..]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        let valid_time = well_formed
            && time::PrimitiveDateTime::parse(
                &value[..15],
                time::macros::format_description!("[year][month][day]T[hour][minute][second]"),
            )
            .is_ok();
        if valid_time {
            Ok(RunId(value))
        } else {
            Err(StoreError::Invalid {
                field: "run_id".to_owned(),
                reason: format!(
                    "{:?} is not a run id (YYYYMMDDTHHMMSSZ-xxxxxx, UTC, lowercase hex)",
                    crate::error::cut(&value)
                ),
            })
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The second the run started (its id's timestamp).
    pub fn started_at(&self) -> OffsetDateTime {
        time::PrimitiveDateTime::parse(
            self.0.get(..15).unwrap_or_default(),
            time::macros::format_description!("[year][month][day]T[hour][minute][second]"),
        )
        .map(time::PrimitiveDateTime::assume_utc)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The id of the run of `key` that starts with this one (a run this run sends, named the
    /// same by whoever sends it).
    pub fn companion(&self, key: &str) -> Self {
        Self::derived(self.started_at(), &format!("{key}#{}", self.0))
    }
}

impl TryFrom<String> for RunId {
    type Error = StoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RunId::parse(value)
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> Self {
        id.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What happened to one record in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Created in ConnectWise.
    Created,
    /// Changed fields updated in ConnectWise.
    Updated,
    /// Already up to date.
    Unchanged,
    /// Left alone on purpose (filtered out, opted out, dropped from the error report).
    Skipped,
    /// Failed; the detail says why.
    Failed,
    /// Matched to an existing ConnectWise record and linked (nothing created).
    Linked,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Created,
        Outcome::Updated,
        Outcome::Unchanged,
        Outcome::Skipped,
        Outcome::Failed,
        Outcome::Linked,
    ];

    /// The outcome as stored (`created`, `updated`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Linked => "linked",
        }
    }

    /// The outcome stored as `name`, if any.
    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// How many records of one entity ended in each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Created in ConnectWise.
    pub created: u64,
    /// Updated in ConnectWise.
    pub updated: u64,
    /// Already up to date.
    pub unchanged: u64,
    /// Left alone on purpose.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Linked to an existing ConnectWise record.
    pub linked: u64,
}

impl Counts {
    /// The count of one outcome.
    pub fn get(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Created => self.created,
            Outcome::Updated => self.updated,
            Outcome::Unchanged => self.unchanged,
            Outcome::Skipped => self.skipped,
            Outcome::Failed => self.failed,
            Outcome::Linked => self.linked,
        }
    }

    /// The count of one outcome, to change.
    pub fn get_mut(&mut self, outcome: Outcome) -> &mut u64 {
        match outcome {
            Outcome::Created => &mut self.created,
            Outcome::Updated => &mut self.updated,
            Outcome::Unchanged => &mut self.unchanged,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Failed => &mut self.failed,
            Outcome::Linked => &mut self.linked,
        }
    }

    /// All records counted.
    pub fn total(&self) -> u64 {
        Outcome::ALL.into_iter().map(|o| self.get(o)).sum()
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started, not finished.
    Running,
    /// Finished; every record handled without failure.
    Succeeded,
    /// Finished; some records failed (the counts and log say which).
    PartiallyFailed,
    /// The run itself failed (e.g. ConnectWise refused the credentials).
    Failed,
}

impl RunStatus {
    /// The status as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::PartiallyFailed => "partially_failed",
            RunStatus::Failed => "failed",
        }
    }
}

/// What starting a run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    /// The run's id (see [`RunId::new`]).
    pub run_id: RunId,
    /// Which job: `daily-export`, `customer-sync`, `ticket-import`, … (1–32 of `a-z0-9_-`).
    pub job_kind: String,
    /// A dry run plans changes without writing to ConnectWise.
    pub dry_run: bool,
    /// When the run started.
    pub started_at: OffsetDateTime,
    /// How long the run and its log are kept after `started_at`.
    pub retention: Duration,
    /// How many log entries the run keeps (1..=1 000 000); later records are only counted.
    pub log_limit: u32,
    /// How many units of work (e.g. accounts) a fanned-out run was planned with, when known: the
    /// run is finished by whoever completes the last one.
    pub planned: Option<u64>,
    /// What to do once the run finishes (a job message to send, as its finisher reads it): a
    /// scheduled customer sync names the day's export, so the export starts after it.
    pub follow_up: Option<String>,
    /// What to do once the first stage's `planned` units are recorded instead of finishing (a job
    /// message, as its finisher reads it): the job that [`RunStore::extend`]s the run with the
    /// next stage. `None`: a run of one stage.
    pub continuation: Option<String>,
}

impl RunStart {
    /// A run start with the default retention (30 days) and log limit (10 000 entries).
    pub fn new(
        run_id: RunId,
        job_kind: impl Into<String>,
        dry_run: bool,
        started_at: OffsetDateTime,
    ) -> Self {
        RunStart {
            run_id,
            job_kind: job_kind.into(),
            dry_run,
            started_at,
            retention: DEFAULT_RETENTION,
            log_limit: DEFAULT_LOG_LIMIT,
            planned: None,
            follow_up: None,
            continuation: None,
        }
    }

    /// The same start, planned with `units` units of work.
    pub fn with_planned(mut self, units: u64) -> Self {
        self.planned = Some(units);
        self
    }

    /// The same start, with what its finisher does next (see [`RunStart::follow_up`]).
    pub fn with_follow_up(mut self, follow_up: Option<String>) -> Self {
        self.follow_up = follow_up;
        self
    }

    /// The same start, staged: its finisher sends `continuation` once the first stage's units are
    /// recorded (see [`RunStart::continuation`]).
    pub fn with_continuation(mut self, continuation: Option<String>) -> Self {
        self.continuation = continuation;
        self
    }
}

/// The next stage of a staged run ([`RunStore::extend`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunExtension {
    /// The stage this extension continues (1 for the first): it applies only while the run is in
    /// it, so a second call for the same stage adds nothing.
    pub from_stage: u32,
    /// The units of work the new stage adds to the run's planned units.
    pub units: u64,
    /// The new stage's own continuation, when it is not the last.
    pub continuation: Option<String>,
}

/// What [`RunStore::extend`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extended {
    /// The run after the call.
    pub run: Run,
    /// `true` when this call extended the run; `false` when the stage was continued before (a
    /// redelivered continuation: its units are already planned).
    pub applied: bool,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The tenant the run belongs to.
    pub tenant: TenantId,
    /// The run's id.
    pub run_id: RunId,
    /// Which job.
    pub job_kind: String,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// Running or how it finished.
    pub status: RunStatus,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it finished.
    pub ended_at: Option<OffsetDateTime>,
    /// Counts per entity (e.g. `company`) and outcome.
    pub counts: BTreeMap<String, Counts>,
    /// How many records were recorded (logged or only counted).
    pub records: u64,
    /// How many log entries the run keeps.
    pub log_limit: u32,
    /// Whether records beyond `log_limit` were only counted.
    pub log_truncated: bool,
    /// The units of work the run was planned with ([`RunStart::planned`]).
    pub planned: Option<u64>,
    /// What the run's finisher does next (see [`RunStart::follow_up`]).
    pub follow_up: Option<String>,
    /// The stage the run is in (1 for a run of one stage; see [`RunStore::extend`]).
    pub stage: u32,
    /// The continuation pending for the current stage (see [`RunStart::continuation`]): while it
    /// is set the run is not in its last stage and can't be finished.
    pub continuation: Option<String>,
    /// When the run and its log expire.
    pub expires_at: OffsetDateTime,
}

/// One record's line in a run's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLogEntry {
    /// Entity kind (`company`, `site`, `contact`, …; 1–32 of `a-z0-9_-`).
    pub entity: String,
    /// The record's id (billing or ConnectWise side, as the job reports it).
    pub record_id: String,
    /// What happened.
    pub outcome: Outcome,
    /// The changed fields, or the error text (cut at [`MAX_DETAIL_BYTES`]); never a secret.
    pub detail: String,
}

/// What [`RunStore::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordReceipt {
    /// The record's sequence number in the run (1-based).
    pub seq: u64,
    /// Whether the entry was logged (false beyond the run's log limit: only counted).
    pub logged: bool,
}

/// One page of a run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// Entries in sequence order.
    pub entries: Vec<RunLogEntry>,
    /// Pass back to [`RunStore::log_page`] for the next page; `None` on the last page. Opaque,
    /// and only valid for the same tenant and run.
    pub next_page_token: Option<String>,
}

/// The runs of every tenant.
#[async_trait::async_trait]
pub trait RunStore: Send + Sync + fmt::Debug {
    /// Starts a run. [`StoreError::Conflict`] if the run id was started before.
    async fn start(&self, tenant: &TenantId, start: RunStart) -> Result<Run, StoreError>;

    /// Counts one record's outcome (atomically, safe for concurrent workers) and logs it while
    /// the run is under its log limit. [`StoreError::NotFound`] if the run was never started.
    async fn record(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        entry: RunLogEntry,
    ) -> Result<RecordReceipt, StoreError>;

    /// Finishes a run with `status` (not [`RunStatus::Running`]). Finishing again with the same
    /// status returns the run unchanged; with another status it is a [`StoreError::Conflict`], and
    /// so is finishing a run whose continuation is pending (it has a stage to come).
    async fn finish(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        ended_at: OffsetDateTime,
        status: RunStatus,
    ) -> Result<Run, StoreError>;

    /// Moves a running run from stage `extension.from_stage` to the next: adds the new stage's
    /// units to its planned units and replaces its continuation with the new stage's (none for
    /// the last), in one conditional update. A run already past that stage is left alone and
    /// answered with `applied: false` (the continuation came again); a finished run or one in an
    /// earlier stage is a [`StoreError::Conflict`]; [`StoreError::NotFound`] if it was never
    /// started.
    async fn extend(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        extension: RunExtension,
    ) -> Result<Extended, StoreError>;

    /// One run, strongly consistent.
    async fn get(&self, tenant: &TenantId, run_id: &RunId) -> Result<Option<Run>, StoreError>;

    /// The tenant's newest runs first, at most `limit` (1..=1000).
    async fn list(&self, tenant: &TenantId, limit: usize) -> Result<Vec<Run>, StoreError> {
        self.list_before(tenant, None, limit).await
    }

    /// The tenant's runs older than `before` (all of them without it), newest first, at most
    /// `limit` (1..=1000): a page of the tenant's runs, the next page being the runs before the
    /// last run of this one. Fewer than `limit` runs means there are no older ones.
    async fn list_before(
        &self,
        tenant: &TenantId,
        before: Option<&RunId>,
        limit: usize,
    ) -> Result<Vec<Run>, StoreError>;

    /// A page of at most `limit` (1..=1000) log entries in sequence order, starting after
    /// `page_token` (from the previous page) or at the beginning. Entries being written while
    /// the run is still going may appear on a later read. [`StoreError::NotFound`] if the run
    /// doesn't exist; [`StoreError::Invalid`] for a token of another run or tenant.
    async fn log_page(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<LogPage, StoreError>;
}

/// `tenant acme run 20261122T100000Z-abc123`: how errors name a run.
pub(crate) fn run_name(tenant: &TenantId, run_id: &RunId) -> String {
    format!("tenant {tenant} run {run_id}")
}

pub(crate) fn not_found(tenant: &TenantId, run_id: &RunId) -> StoreError {
    StoreError::NotFound {
        item: run_name(tenant, run_id),
    }
}

pub(crate) fn already_started(tenant: &TenantId, run_id: &RunId) -> StoreError {
    StoreError::Conflict {
        item: run_name(tenant, run_id),
        reason: "a run with this id was already started".to_owned(),
    }
}

/// Checks a run start; returns the expiry.
pub(crate) fn check_start(start: &RunStart) -> Result<OffsetDateTime, StoreError> {
    validate_name("job_kind", &start.job_kind)?;
    if !(1..=1_000_000).contains(&start.log_limit) {
        return Err(StoreError::Invalid {
            field: "log_limit".to_owned(),
            reason: format!("must be 1..=1000000, got {}", start.log_limit),
        });
    }
    if start.retention <= Duration::ZERO {
        return Err(StoreError::Invalid {
            field: "retention".to_owned(),
            reason: format!("must be positive, got {}", start.retention),
        });
    }
    // Whole seconds: the TTL attribute is epoch seconds, and both stores must answer alike.
    start
        .started_at
        .checked_add(start.retention)
        .and_then(|at| OffsetDateTime::from_unix_timestamp(at.unix_timestamp()).ok())
        .ok_or_else(|| StoreError::Invalid {
            field: "retention".to_owned(),
            reason: "start plus retention is out of range".to_owned(),
        })
}

/// Checks an entry and cuts its detail to [`MAX_DETAIL_BYTES`].
pub(crate) fn check_entry(mut entry: RunLogEntry) -> Result<RunLogEntry, StoreError> {
    validate_name("entity", &entry.entity)?;
    if entry.record_id.is_empty() || entry.record_id.len() > MAX_RECORD_ID_BYTES {
        return Err(StoreError::Invalid {
            field: "record_id".to_owned(),
            reason: format!(
                "must be 1–{MAX_RECORD_ID_BYTES} bytes, got {} bytes",
                entry.record_id.len()
            ),
        });
    }
    if entry.detail.len() > MAX_DETAIL_BYTES {
        let mut end = MAX_DETAIL_BYTES - '…'.len_utf8();
        while !entry.detail.is_char_boundary(end) {
            end -= 1;
        }
        entry.detail.truncate(end);
        entry.detail.push('…');
    }
    Ok(entry)
}

pub(crate) fn check_limit(limit: usize) -> Result<(), StoreError> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "limit".to_owned(),
            reason: format!("must be 1..={MAX_PAGE}, got {limit}"),
        })
    }
}

pub(crate) fn check_finish_status(status: RunStatus) -> Result<(), StoreError> {
    if status == RunStatus::Running {
        Err(StoreError::Invalid {
            field: "status".to_owned(),
            reason: "a run can't finish as running".to_owned(),
        })
    } else {
        Ok(())
    }
}

/// What a finish that did not apply means, from the run as it is now.
pub(crate) fn diagnose_finish(
    tenant: &TenantId,
    run_id: &RunId,
    run: Option<Run>,
    status: RunStatus,
) -> Result<Run, StoreError> {
    match run {
        None => Err(not_found(tenant, run_id)),
        Some(run) if run.ended_at.is_none() && run.continuation.is_some() => {
            Err(StoreError::Conflict {
                item: run_name(tenant, run_id),
                reason: format!(
                    "stage {} has its continuation pending; refusing to finish the run before \
                     its last stage",
                    run.stage
                ),
            })
        }
        Some(run) if run.status == status => Ok(run),
        Some(run) => Err(StoreError::Conflict {
            item: run_name(tenant, run_id),
            reason: format!(
                "already finished as {} at {}; refusing to finish it again as {}",
                run.status.as_str(),
                run.ended_at
                    .map_or_else(|| "?".to_owned(), |at| at.to_string()),
                status.as_str()
            ),
        }),
    }
}

/// What an extension that did not apply means, from the run as it is now.
pub(crate) fn diagnose_extend(
    tenant: &TenantId,
    run_id: &RunId,
    run: Option<Run>,
    from_stage: u32,
) -> Result<Extended, StoreError> {
    let conflict = |reason: String| StoreError::Conflict {
        item: run_name(tenant, run_id),
        reason,
    };
    match run {
        None => Err(not_found(tenant, run_id)),
        Some(run) if run.stage > from_stage => Ok(Extended {
            run,
            applied: false,
        }),
        Some(run) if run.status != RunStatus::Running => Err(conflict(format!(
            "already finished as {}; refusing to continue its stage {from_stage}",
            run.status.as_str()
        ))),
        Some(run) => Err(conflict(format!(
            "in stage {}; refusing to continue stage {from_stage}",
            run.stage
        ))),
    }
}

pub(crate) fn check_extension(extension: &RunExtension) -> Result<(), StoreError> {
    if extension.from_stage == 0 {
        return Err(StoreError::Invalid {
            field: "from_stage".to_owned(),
            reason: "stages count from 1".to_owned(),
        });
    }
    Ok(())
}

/// The opaque token for "continue after `seq`": the sequence number and a hash that binds it to
/// the tenant and run, so a token can't be replayed against another run.
pub(crate) fn encode_page_token(tenant: &TenantId, run_id: &RunId, seq: u32) -> String {
    format!("{seq:08x}{}", token_check(tenant, run_id, seq))
}

/// The sequence number a page token continues after.
pub(crate) fn decode_page_token(
    tenant: &TenantId,
    run_id: &RunId,
    token: &str,
) -> Result<u32, StoreError> {
    let invalid = || StoreError::Invalid {
        field: "page_token".to_owned(),
        reason: format!(
            "not a page token of {} (from another run, or altered)",
            run_name(tenant, run_id)
        ),
    };
    if token.len() != 24 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let seq = u32::from_str_radix(&token[..8], 16).map_err(|_| invalid())?;
    if token[8..] == token_check(tenant, run_id, seq) {
        Ok(seq)
    } else {
        Err(invalid())
    }
}

fn token_check(tenant: &TenantId, run_id: &RunId, seq: u32) -> String {
    let digest = Sha256::new()
        .chain_update(b"cwsync run log page\0")
        .chain_update(tenant.as_str())
        .chain_update(b"\0")
        .chain_update(run_id.as_str())
        .chain_update(b"\0")
        .chain_update(seq.to_be_bytes())
        .finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Entity kinds and job kinds: our own constants, and they stand inside attribute names.
fn validate_name(field: &str, value: &str) -> Result<(), StoreError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_NAME_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: field.to_owned(),
            reason: format!("{value:?} must be 1–{MAX_NAME_CHARS} of a-z, 0-9, '_', '-'"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    #[test]
    fn run_ids_carry_the_utc_start_second_and_sort_by_it() {
        let earlier = RunId::new(datetime!(2026-11-22 09:59:59 UTC));
        let later = RunId::new(datetime!(2026-11-22 12:00:00 +02:00));
        assert!(
            earlier.as_str().starts_with("20261122T095959Z-"),
            "{earlier}"
        );
        assert!(later.as_str().starts_with("20261122T100000Z-"), "{later}");
        assert!(earlier < later);
        assert_eq!(RunId::parse(later.as_str()).unwrap(), later);
    }

    #[test]
    fn a_derived_run_id_is_the_same_for_one_key_and_time_and_differs_by_key() {
        let at = datetime!(2026-12-06 07:00:00 UTC);
        let day = RunId::derived(at, "scheduled-daily-export#2026-12-06");
        assert_eq!(day, RunId::derived(at, "scheduled-daily-export#2026-12-06"));
        assert_ne!(day, RunId::derived(at, "scheduled-daily-export#2026-12-07"));
        assert!(day.as_str().starts_with("20261206T070000Z-"), "{day}");
        assert_eq!(RunId::parse(day.as_str()).unwrap(), day);
    }

    #[test]
    fn a_companion_run_starts_with_its_run_and_is_named_alike_by_everyone() {
        let run = RunId::new(datetime!(2026-12-06 07:00:05 UTC));
        assert_eq!(run.started_at(), datetime!(2026-12-06 07:00:05 UTC));
        let invoices = run.companion("invoices");
        assert_eq!(invoices, run.companion("invoices"));
        assert_ne!(invoices, run.companion("orders"));
        assert_eq!(invoices.started_at(), run.started_at());
    }

    #[test]
    fn malformed_run_ids_are_refused_naming_the_field() {
        for bad in [
            "",
            "20261122T100000Z",
            "20261122T100000Z-ABCDEF",
            "20261340T100000Z-abcdef",
            "T#acme#RUN-00000000000",
        ] {
            let err = RunId::parse(bad).unwrap_err();
            assert!(
                matches!(err, StoreError::Invalid { ref field, .. } if field == "run_id"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_page_token_only_works_for_its_own_tenant_and_run() {
        let run = RunId::parse("20261122T100000Z-abcdef").unwrap();
        let other_run = RunId::parse("20261122T100000Z-abcdee").unwrap();
        let token = encode_page_token(&tenant("acme"), &run, 100);
        assert_eq!(
            decode_page_token(&tenant("acme"), &run, &token).unwrap(),
            100
        );
        assert!(decode_page_token(&tenant("other"), &run, &token).is_err());
        assert!(decode_page_token(&tenant("acme"), &other_run, &token).is_err());
        let forged = format!("{:08x}{}", 200, &token[8..]);
        assert!(decode_page_token(&tenant("acme"), &run, &forged).is_err());
    }

    #[test]
    fn a_long_detail_is_cut_on_a_character_boundary() {
        let entry = RunLogEntry {
            entity: "company".into(),
            record_id: "C-1".into(),
            outcome: Outcome::Failed,
            detail: "é".repeat(MAX_DETAIL_BYTES),
        };
        let entry = check_entry(entry).unwrap();
        assert!(entry.detail.len() <= MAX_DETAIL_BYTES);
        assert!(entry.detail.ends_with('…'));
    }

    #[test]
    fn counts_total_every_outcome() {
        let mut counts = Counts::default();
        for outcome in Outcome::ALL {
            *counts.get_mut(outcome) += 2;
        }
        assert_eq!(counts.total(), 12);
        assert_eq!(Outcome::from_name("linked"), Some(Outcome::Linked));
    }
}
