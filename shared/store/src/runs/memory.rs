//! In-memory runs for unit tests and the local run: the same keys, bounds and answers as
//! DynamoDB, each operation atomic under one mutex. Nothing expires here.

use super::{
    Extended, LogPage, RecordReceipt, Run, RunExtension, RunId, RunLogEntry, RunStart, RunStatus,
    RunStore, already_started, check_entry, check_extension, check_finish_status, check_limit,
    check_start, decode_page_token, diagnose_extend, diagnose_finish, encode_page_token, not_found,
};
use crate::{StoreError, TenantId, keys};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;

/// Runs held in process memory, keyed exactly as in DynamoDB.
#[derive(Debug, Default)]
pub struct MemoryRunStore {
    runs: Mutex<BTreeMap<(String, String), StoredRun>>,
}

#[derive(Debug)]
struct StoredRun {
    run: Run,
    log: Vec<RunLogEntry>,
}

impl MemoryRunStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryRunStore::default()
    }

    fn runs(&self) -> MutexGuard<'_, BTreeMap<(String, String), StoredRun>> {
        // Every write below leaves whole values behind, so a poisoned lock's data is consistent.
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl RunStore for MemoryRunStore {
    async fn start(&self, tenant: &TenantId, start: RunStart) -> Result<Run, StoreError> {
        let expires_at = check_start(&start)?;
        let key = keys::run(tenant, start.run_id.as_str());
        let mut runs = self.runs();
        if runs.contains_key(&key) {
            return Err(already_started(tenant, &start.run_id));
        }
        let run = Run {
            tenant: tenant.clone(),
            run_id: start.run_id,
            job_kind: start.job_kind,
            dry_run: start.dry_run,
            status: RunStatus::Running,
            started_at: start.started_at,
            ended_at: None,
            counts: BTreeMap::new(),
            records: 0,
            log_limit: start.log_limit,
            log_truncated: false,
            planned: start.planned,
            follow_up: start.follow_up,
            stage: 1,
            continuation: start.continuation,
            expires_at,
        };
        runs.insert(
            key,
            StoredRun {
                run: run.clone(),
                log: Vec::new(),
            },
        );
        Ok(run)
    }

    async fn record(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        entry: RunLogEntry,
    ) -> Result<RecordReceipt, StoreError> {
        let entry = check_entry(entry)?;
        let mut runs = self.runs();
        let stored = runs
            .get_mut(&keys::run(tenant, run_id.as_str()))
            .ok_or_else(|| not_found(tenant, run_id))?;
        let run = &mut stored.run;
        *run.counts
            .entry(entry.entity.clone())
            .or_default()
            .get_mut(entry.outcome) += 1;
        run.records += 1;
        let seq = run.records;
        let logged = seq <= u64::from(run.log_limit);
        run.log_truncated = run.records > u64::from(run.log_limit);
        if logged {
            stored.log.push(entry);
        }
        Ok(RecordReceipt { seq, logged })
    }

    async fn finish(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        ended_at: OffsetDateTime,
        status: RunStatus,
    ) -> Result<Run, StoreError> {
        check_finish_status(status)?;
        let mut runs = self.runs();
        let Some(stored) = runs.get_mut(&keys::run(tenant, run_id.as_str())) else {
            return Err(not_found(tenant, run_id));
        };
        if stored.run.ended_at.is_some() || stored.run.continuation.is_some() {
            return diagnose_finish(tenant, run_id, Some(stored.run.clone()), status);
        }
        stored.run.status = status;
        stored.run.ended_at = Some(ended_at);
        Ok(stored.run.clone())
    }

    async fn extend(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        extension: RunExtension,
    ) -> Result<Extended, StoreError> {
        check_extension(&extension)?;
        let mut runs = self.runs();
        let Some(stored) = runs.get_mut(&keys::run(tenant, run_id.as_str())) else {
            return Err(not_found(tenant, run_id));
        };
        let run = &mut stored.run;
        if run.status != RunStatus::Running || run.stage != extension.from_stage {
            return diagnose_extend(tenant, run_id, Some(run.clone()), extension.from_stage);
        }
        run.stage = run.stage.saturating_add(1);
        run.planned = Some(run.planned.unwrap_or(0) + extension.units);
        run.continuation = extension.continuation;
        Ok(Extended {
            run: run.clone(),
            applied: true,
        })
    }

    async fn get(&self, tenant: &TenantId, run_id: &RunId) -> Result<Option<Run>, StoreError> {
        Ok(self
            .runs()
            .get(&keys::run(tenant, run_id.as_str()))
            .map(|stored| stored.run.clone()))
    }

    async fn list_before(
        &self,
        tenant: &TenantId,
        before: Option<&RunId>,
        limit: usize,
    ) -> Result<Vec<Run>, StoreError> {
        check_limit(limit)?;
        let partition = keys::runs_partition(tenant);
        Ok(self
            .runs()
            .iter()
            .rev()
            .filter(|((pk, sk), _)| {
                *pk == partition && before.is_none_or(|before| sk.as_str() < before.as_str())
            })
            .take(limit)
            .map(|(_, stored)| stored.run.clone())
            .collect())
    }

    async fn log_page(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<LogPage, StoreError> {
        check_limit(limit)?;
        let after = match page_token {
            Some(token) => decode_page_token(tenant, run_id, token)?,
            None => 0,
        };
        let runs = self.runs();
        let stored = runs
            .get(&keys::run(tenant, run_id.as_str()))
            .ok_or_else(|| not_found(tenant, run_id))?;
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        let rest = stored.log.get(start..).unwrap_or_default();
        let entries: Vec<RunLogEntry> = rest.iter().take(limit).cloned().collect();
        let next_page_token = (rest.len() > limit).then(|| {
            let last = u32::try_from(start + limit).unwrap_or(u32::MAX);
            encode_page_token(tenant, run_id, last)
        });
        Ok(LogPage {
            entries,
            next_page_token,
        })
    }
}
