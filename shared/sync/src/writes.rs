//! Writes to ConnectWise, and the one place a dry run is told apart: [`patch`] sends nothing when
//! there is nothing to change or the run only plans, and reports the same changed fields either
//! way; [`record_level`] sorts a ConnectWise error into "this record's failure" and "stop the job",
//! [`billing_job_level`] does the same for a billing-system error.

use cwsync_billing::BillingError;
use cwsync_connectwise::{Client, CwError, PatchOp};

use cwsync_store::runs::Outcome;

use crate::SyncError;
use crate::record::{RecordResult, join_details};

/// A ConnectWise error that concerns this record only (ConnectWise refused its values or the
/// API member may not do this to it): `Ok(reason)`. Anything else stops the job: `Err`.
pub fn record_level(error: CwError) -> Result<String, CwError> {
    match error {
        CwError::Validation { .. }
        | CwError::AlreadyExists { .. }
        | CwError::BadRequest { .. }
        | CwError::Forbidden { .. }
        | CwError::NotFound { .. }
        | CwError::UrlTooLong { .. }
        | CwError::Encode { .. } => Ok(error.to_string()),
        other => Err(other),
    }
}

/// A billing-system error that fails every call alike (throttled, down, keys refused), so the job
/// is retried rather than a record failed.
pub fn billing_job_level(error: &BillingError) -> bool {
    error.is_transient() || matches!(error, BillingError::Unauthorized { .. })
}

/// A billing-system error while `doing` something to one record: `Ok(reason)` when it concerns
/// that record only (refused, conflicting, not found), naming what was done; `Err` when the job
/// must stop and be retried ([`billing_job_level`]).
pub fn billing_record_level(doing: &str, error: BillingError) -> Result<String, SyncError> {
    if billing_job_level(&error) {
        Err(SyncError::billing(doing.to_owned(), error))
    } else {
        Ok(format!("{doing}: {error}"))
    }
}

/// [`record_level`] for a ConnectWise write `doing` something: `Ok(reason)` when ConnectWise
/// refused this record (its failed line says why), else the job's error naming what it was doing.
pub fn cw_record_level(doing: impl Into<String>, error: CwError) -> Result<String, SyncError> {
    record_level(error).map_err(|e| SyncError::connectwise(doing, e))
}

/// The fields `ops` change, without the leading `/`.
pub fn fields_of(ops: &[PatchOp]) -> Vec<String> {
    ops.iter()
        .map(|op| op.path.trim_start_matches('/').to_owned())
        .collect()
}

/// Sends `ops` to `path` (nothing when empty or in a dry run); the changed fields and the updated
/// record. `Err(Ok(reason))`: ConnectWise refused this record; `Err(Err(..))`: the job must stop.
pub async fn patch<T: serde::de::DeserializeOwned>(
    cw: &Client,
    path: &str,
    ops: &[PatchOp],
    dry_run: bool,
) -> Result<(Vec<String>, Option<T>), Result<String, SyncError>> {
    let changed = fields_of(ops);
    if ops.is_empty() || dry_run {
        return Ok((changed, None));
    }
    match cw.patch::<T>(path, ops).await {
        Ok(updated) => Ok((changed, Some(updated))),
        Err(error) => Err(cw_record_level(format!("updating {path}"), error)),
    }
}

/// The record a claimed create came to (`record`, its line the last of `records`): when it was
/// found rather than made by the create ([`crate::Origin::found`]) it holds the values of the
/// attempt that made it, so `changes` (from it to the values wanted) are sent to `path` and its
/// line also says what changed — or, when ConnectWise refuses them, fails with the reason, and
/// `None` is returned. The record as it now is, else.
pub async fn update_found<T: serde::de::DeserializeOwned>(
    cw: &Client,
    path: &str,
    origin: crate::Origin,
    record: T,
    changes: impl FnOnce(&T) -> Vec<PatchOp>,
    dry_run: bool,
    records: &mut [RecordResult],
) -> Result<Option<T>, SyncError> {
    if !origin.found() {
        return Ok(Some(record));
    }
    let ops = changes(&record);
    let line = records.last_mut();
    match patch::<T>(cw, path, &ops, dry_run).await {
        Ok((changed, updated)) => {
            if let Some(line) = line {
                line.detail = join_details(std::mem::take(&mut line.detail), &changed, dry_run);
            }
            Ok(Some(updated.unwrap_or(record)))
        }
        Err(Ok(reason)) => {
            if let Some(line) = line {
                line.outcome = Outcome::Failed;
                line.detail = format!("{}; bringing it up to date failed: {reason}", line.detail);
            }
            Ok(None)
        }
        Err(Err(error)) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_errors_every_call_shares_stop_the_job_and_a_records_own_do_not() {
        let stop = [
            BillingError::Unauthorized {
                message: "key revoked".to_owned(),
            },
            BillingError::Throttled { retry_after: None },
            BillingError::Transient {
                operation: "write back".to_owned(),
                reason: "503".to_owned(),
            },
        ];
        for error in &stop {
            assert!(billing_job_level(error), "{error}");
        }
        let own = [
            BillingError::Forbidden {
                operation: "update account A-7".to_owned(),
            },
            BillingError::NotFound {
                what: "account A-7".to_owned(),
            },
            BillingError::Invalid {
                operation: "update account A-7".to_owned(),
                message: "bad email".to_owned(),
                fields: Vec::new(),
            },
        ];
        for error in &own {
            assert!(!billing_job_level(error), "{error}");
        }
    }
}
