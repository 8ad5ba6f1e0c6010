//! What every job's console answers about its runs: a run's report (the run, a page of its
//! records, the error report) and the error report alone, plus the small helpers every console
//! uses to parse a tenant and answer in JSON or with a [`Diagnostic`].
//!
//! A tenant's runs partition holds the runs of every job kind, so a report is always of one job
//! kind: without a run id it is that kind's latest run, and a run id of another kind is refused.
//! The error ledger is kept per tenant, not per job, so the error report is the whole tenant's
//! (entities tell the jobs' records apart).
//!
//! Every console reads its events alike ([`console_event!`](crate::console_event)): the
//! `action` names the event in kebab-case, its fields are camelCase, an unknown field is refused.
//! The `report` and `errors` actions every job answers are read here ([`ReportEvent`],
//! [`ErrorsEvent`]), so they are worded and refused the same in every function.

use cwsync_runtime::Deps;
use cwsync_store::ledger::LedgerEntry;
use cwsync_store::runs::{Counts, Outcome, Run, RunLogEntry, RunStatus, RunStore};
use cwsync_store::{RunId, StoreError, TenantId};
use lambda_runtime::Diagnostic;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;

use crate::SyncError;

/// Log entries per report page.
pub const REPORT_PAGE: usize = 500;
/// Runs read at once while looking for a job kind's latest run.
const RUNS_PAGE: usize = 100;

/// A refused or failed console action, as Lambda reports it.
pub fn diagnostic(error_type: &str, message: impl std::fmt::Display) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_owned(),
        // What an error quotes came from the event, which may hold a megabyte where an id
        // belongs: cut, as the console and the log have no use for it whole.
        error_message: cwsync_runtime::events::shorten(&message.to_string()),
    }
}

/// The tenant an event names, or an `InvalidEvent` saying why it is not one.
pub fn tenant_id(tenant: &str) -> Result<TenantId, Diagnostic> {
    TenantId::parse(tenant).map_err(|e| diagnostic("InvalidEvent", e))
}

/// A console answer as JSON (an `InternalError` if it can't be one).
pub fn to_json<T: Serialize>(value: &T) -> Result<Value, Diagnostic> {
    serde_json::to_value(value).map_err(|e| diagnostic("InternalError", e))
}

/// Declares the console event enum of a function, read the way every cwsync console reads its
/// events: `{"action": "<variant in kebab-case>", <fields in camelCase>}`, an unknown field
/// refused. Derives `Debug`, `Clone`, `PartialEq` and `Deserialize` (add `Eq` where it holds).
/// The crate using it depends on `serde`.
#[macro_export]
macro_rules! console_event {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variants:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, ::serde::Deserialize)]
        #[serde(
            tag = "action",
            rename_all = "kebab-case",
            rename_all_fields = "camelCase",
            deny_unknown_fields
        )]
        $vis enum $name { $($variants)* }
    };
}

/// The `report` action: the report of a tenant's run (its latest run of the function's job kind
/// without `runId`), a page of records at a time.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportEvent {
    /// The tenant.
    pub tenant: String,
    /// The run.
    #[serde(default)]
    pub run_id: Option<String>,
    /// The next page of records, from the previous answer.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// The `errors` action: the tenant's error report, records that keep failing until fixed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorsEvent {
    /// The tenant.
    pub tenant: String,
}

/// What a console's `errors` action answers when it adds nothing of its own:
/// `{"errors": [...]}`, the tenant's error report with its own `errorAttempts`.
pub async fn errors_answer(
    deps: &Deps,
    event: &ErrorsEvent,
    now: OffsetDateTime,
) -> Result<Value, Diagnostic> {
    let tenant = tenant_id(&event.tenant)?;
    let errors = tenant_errors_report(deps, &tenant, now).await?;
    to_json(&json!({ "errors": errors }))
}

/// A run's report: the run, one page of its records and the tenant's error report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// The run.
    pub run: RunSummary,
    /// One page of its records, in the order they were recorded.
    pub records: Vec<ReportRecord>,
    /// Pass back as `pageToken` for the next page; `None` on the last one.
    pub next_page_token: Option<String>,
    /// The tenant's error report (every job's records, see [`errors_report`]).
    pub errors: Vec<ReportError>,
}

/// The report of `tenant`'s run `run_id` of `job_kind` (its latest run of that kind without
/// one), from `page_token` (the previous answer's `nextPageToken`) or its first record; the error
/// report holds the records failing at most `error_attempts` times as of `now`.
///
/// `InvalidEvent` for a malformed run id, `NotFound` for a run that doesn't exist, is of another
/// job kind, or when the tenant has no run of `job_kind` yet.
pub async fn run_report(
    deps: &Deps,
    tenant: &TenantId,
    job_kind: &str,
    run_id: Option<String>,
    page_token: Option<String>,
    error_attempts: u32,
    now: OffsetDateTime,
) -> Result<RunReport, Diagnostic> {
    let runs = &*deps.stores.runs;
    let store = |e: StoreError| Diagnostic::from(SyncError::from(e));
    let run = match run_id {
        Some(id) => {
            let id = RunId::parse(id).map_err(|e| refused("runId", e))?;
            let run = runs.get(tenant, &id).await.map_err(store)?.ok_or_else(|| {
                diagnostic("NotFound", format!("tenant {tenant} has no run {id}"))
            })?;
            if run.job_kind != job_kind {
                return Err(diagnostic(
                    "NotFound",
                    format!(
                        "tenant {tenant} has no {job_kind} run {id}: it is a {} run",
                        run.job_kind
                    ),
                ));
            }
            run
        }
        None => latest_run(runs, tenant, job_kind)
            .await
            .map_err(store)?
            .ok_or_else(|| {
                diagnostic(
                    "NotFound",
                    format!("tenant {tenant} has no {job_kind} runs yet"),
                )
            })?,
    };
    let page = runs
        .log_page(tenant, &run.run_id, page_token.as_deref(), REPORT_PAGE)
        .await
        .map_err(|e| refused("pageToken", e))?;
    let errors = errors_report(deps, tenant, error_attempts, now).await?;
    Ok(RunReport {
        run: RunSummary::from(&run),
        records: page.entries.into_iter().map(ReportRecord::from).collect(),
        next_page_token: page.next_page_token,
        errors,
    })
}

/// A store's error over a field of a console event: its refusal names the field as the event
/// does (`runId`, not the store's `run_id`); anything else is the store's error.
fn refused(event_field: &str, error: StoreError) -> Diagnostic {
    match error {
        StoreError::Invalid { reason, .. } => {
            diagnostic("InvalidEvent", format!("{event_field}: {reason}"))
        }
        other => Diagnostic::from(SyncError::from(other)),
    }
}

/// [`run_report`] with the tenant's own `errorAttempts`: what a console's `report` action
/// answers.
pub async fn tenant_run_report(
    deps: &Deps,
    tenant: &TenantId,
    job_kind: &str,
    run_id: Option<String>,
    page_token: Option<String>,
    now: OffsetDateTime,
) -> Result<RunReport, Diagnostic> {
    let settings = crate::tenant::settings(deps, tenant).await?;
    run_report(
        deps,
        tenant,
        job_kind,
        run_id,
        page_token,
        settings.error_attempts,
        now,
    )
    .await
}

/// [`errors_report`] with the tenant's own `errorAttempts`: what a console's `errors` action
/// answers.
pub async fn tenant_errors_report(
    deps: &Deps,
    tenant: &TenantId,
    now: OffsetDateTime,
) -> Result<Vec<ReportError>, SyncError> {
    let settings = crate::tenant::settings(deps, tenant).await?;
    errors_report(deps, tenant, settings.error_attempts, now).await
}

/// What a schedule's tick did: the tenants it considered, the runs it started (`S` says what a
/// started run reports), and the tenants it could not consider and why (the others went on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TickReport<S> {
    /// Tenants considered.
    pub tenants: u64,
    /// Runs started.
    pub started: Vec<S>,
    /// Tenants that could not be considered, and why.
    pub problems: Vec<String>,
}

impl<S> Default for TickReport<S> {
    fn default() -> Self {
        TickReport {
            tenants: 0,
            started: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// A schedule's tick over every tenant the settings store knows: `tick` each (in order), what it
/// started and what went wrong gathered in one report; one tenant's failure never stops the
/// others.
pub async fn tick_tenants<S, F, Fut>(deps: &Deps, tick: F) -> TickReport<S>
where
    F: Fn(TenantId) -> Fut,
    Fut: std::future::Future<Output = Result<Option<S>, SyncError>>,
{
    let mut report = TickReport::default();
    let tenants = match deps.stores.settings.tenants().await {
        Ok(tenants) => tenants,
        Err(error) => {
            report
                .problems
                .push(format!("listing the tenants: {error}"));
            return report;
        }
    };
    report.tenants = tenants.len() as u64;
    for tenant in tenants {
        let name = tenant.to_string();
        match tick(tenant).await {
            Ok(Some(started)) => report.started.push(started),
            Ok(None) => {}
            Err(error) => report.problems.push(format!("tenant {name}: {error}")),
        }
    }
    report
}

/// The tenant's newest run of `job_kind`, read a page of runs at a time (the runs of other job
/// kinds in between are skipped).
/// The summary of `tenant`'s latest run of `job_kind` (`None` before its first).
pub async fn latest_summary(
    deps: &Deps,
    tenant: &TenantId,
    job_kind: &str,
) -> Result<Option<RunSummary>, Diagnostic> {
    let run = latest_run(&*deps.stores.runs, tenant, job_kind)
        .await
        .map_err(|e| Diagnostic::from(SyncError::from(e)))?;
    Ok(run.as_ref().map(RunSummary::from))
}

pub(crate) async fn latest_run(
    runs: &dyn RunStore,
    tenant: &TenantId,
    job_kind: &str,
) -> Result<Option<Run>, StoreError> {
    let mut before: Option<RunId> = None;
    loop {
        let page = runs.list_before(tenant, before.as_ref(), RUNS_PAGE).await?;
        let last = page.last().map(|run| run.run_id.clone());
        let full = page.len() >= RUNS_PAGE;
        if let Some(run) = page.into_iter().find(|run| run.job_kind == job_kind) {
            return Ok(Some(run));
        }
        match last {
            Some(last) if full => before = Some(last),
            _ => return Ok(None),
        }
    }
}

/// The tenant's error report: records that failed at most `error_attempts` times, still failing
/// as of `now`, ordered by entity and record id. The ledger is the tenant's, not one job's: the
/// report holds every job's failing records, told apart by their entity.
pub async fn errors_report(
    deps: &Deps,
    tenant: &TenantId,
    error_attempts: u32,
    now: OffsetDateTime,
) -> Result<Vec<ReportError>, SyncError> {
    let entries = deps
        .stores
        .ledger
        .report(tenant, error_attempts, now)
        .await?;
    Ok(entries.into_iter().map(ReportError::from).collect())
}

/// One record of a run, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRecord {
    /// The record's entity (`company`, `contact`, …).
    pub entity: String,
    /// The record's id, as its job reports it.
    pub record_id: String,
    /// What happened to it.
    pub outcome: Outcome,
    /// The changed fields, or why it failed.
    pub detail: String,
}

impl From<RunLogEntry> for ReportRecord {
    fn from(entry: RunLogEntry) -> Self {
        ReportRecord {
            entity: entry.entity,
            record_id: entry.record_id,
            outcome: entry.outcome,
            detail: entry.detail,
        }
    }
}

/// A record that keeps failing, as the error report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportError {
    /// The record's entity.
    pub entity: String,
    /// The record's id.
    pub record_id: String,
    /// How many times it failed.
    pub attempts: u32,
    /// When it first failed.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    /// When it last failed.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Why it last failed.
    pub last_error: String,
}

impl From<LedgerEntry> for ReportError {
    fn from(entry: LedgerEntry) -> Self {
        ReportError {
            entity: entry.kind,
            record_id: entry.record_id,
            attempts: entry.attempts,
            first_seen: entry.first_seen,
            last_seen: entry.last_seen,
            last_error: entry.last_error,
        }
    }
}

/// A run, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    run_id: String,
    job_kind: String,
    dry_run: bool,
    status: RunStatus,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    ended_at: Option<OffsetDateTime>,
    planned: Option<u64>,
    records: u64,
    log_truncated: bool,
    counts: BTreeMap<String, Counts>,
}

impl RunSummary {
    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run's job kind.
    pub fn job_kind(&self) -> &str {
        &self.job_kind
    }
}

impl From<&Run> for RunSummary {
    fn from(run: &Run) -> Self {
        RunSummary {
            run_id: run.run_id.to_string(),
            job_kind: run.job_kind.clone(),
            dry_run: run.dry_run,
            status: run.status,
            started_at: run.started_at,
            ended_at: run.ended_at,
            planned: run.planned,
            records: run.records,
            log_truncated: run.log_truncated,
            counts: run.counts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    console_event! {
        /// A console with the shared actions and one of its own.
        #[derive(Eq)]
        enum Event {
            Report(ReportEvent),
            Errors(ErrorsEvent),
            OwnAction { tenant: String, dry_run: bool },
        }
    }

    fn parse(value: Value) -> Result<Event, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn a_console_event_is_named_by_its_action_with_camel_case_fields() {
        let report =
            parse(json!({"action": "report", "tenant": "t", "runId": "r", "pageToken": "p"}));
        assert_eq!(
            report,
            Ok(Event::Report(ReportEvent {
                tenant: "t".to_owned(),
                run_id: Some("r".to_owned()),
                page_token: Some("p".to_owned()),
            }))
        );
        let own = parse(json!({"action": "own-action", "tenant": "t", "dryRun": true}));
        assert_eq!(
            own,
            Ok(Event::OwnAction {
                tenant: "t".to_owned(),
                dry_run: true
            })
        );
        assert_eq!(
            parse(json!({"action": "errors", "tenant": "t"})),
            Ok(Event::Errors(ErrorsEvent {
                tenant: "t".to_owned()
            }))
        );
    }

    #[test]
    fn a_console_event_refuses_unknown_fields_and_actions() {
        for (event, says) in [
            (
                json!({"action": "report", "tenant": "t", "run": "r"}),
                "unknown field `run`",
            ),
            (
                json!({"action": "errors", "tenant": "t", "x": 1}),
                "unknown field `x`",
            ),
            (
                json!({"action": "own-action", "tenant": "t", "dry_run": true}),
                "unknown field `dry_run`",
            ),
            (json!({"action": "errors"}), "missing field `tenant`"),
            (json!({"action": "nothing"}), "unknown variant `nothing`"),
        ] {
            let error = parse(event.clone()).expect_err("refused");
            assert!(error.contains(says), "{event}: {error}");
        }
    }
}
