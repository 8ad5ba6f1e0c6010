//! Why a job could not finish. Problems of one record are not errors: they are reported as that
//! record's `failed` outcome and the run goes on. A `SyncError` stops the job: transient ones are
//! retried (SQS redelivers); a permanent one of a unit's job is recorded as that unit's failure in
//! its run ([`crate::runs::RunBook::record_job_failure`]), so the run finishes rather than wait on
//! the DLQ. A `SyncError` never holds a key: the clients' errors name a path and a status only.

use cwsync_billing::BillingError;
use cwsync_connectwise::CwError;
use cwsync_queue::{JobFailure, QueueError};
use cwsync_runtime::SecretsError;
use cwsync_store::StoreError;
use lambda_runtime::Diagnostic;

/// A job-level failure.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// ConnectWise failed in a way no single record explains (throttled, down, keys refused).
    #[error("{context}: {source}")]
    ConnectWise {
        /// What the job was doing.
        context: String,
        /// The client's error.
        source: Box<CwError>,
    },
    /// The billing system failed.
    #[error("{context}: {source}")]
    Billing {
        /// What the job was doing.
        context: String,
        /// The client's error.
        source: Box<BillingError>,
    },
    /// The job queue refused or failed a send.
    #[error("{context}: {source}")]
    Queue {
        /// What the job was doing.
        context: String,
        /// The queue's error.
        source: Box<QueueError>,
    },
    /// The state table failed.
    #[error("state store: {0}")]
    Store(StoreError),
    /// The tenant's secret is missing or malformed.
    #[error("tenant credentials: {0}")]
    Secrets(SecretsError),
    /// The tenant is not set up for this job.
    #[error("tenant {tenant} is not configured for {job}: {reason}")]
    NotConfigured {
        /// The tenant.
        tenant: String,
        /// The job kind (`customer-sync`, `daily-export`, …).
        job: &'static str,
        /// What is missing.
        reason: String,
    },
    /// Another worker holds a fresh claim on a record this job must create: retry later.
    #[error("{record} is being created by another worker right now; retry after {stale_at}")]
    Busy {
        /// The record (`company of account A-1001`).
        record: String,
        /// When the other worker's claim goes stale.
        stale_at: String,
    },
    /// A create may or may not have reached ConnectWise and the record can't be found yet.
    #[error("{record}: {detail}")]
    Unsettled {
        /// The record.
        record: String,
        /// What happened.
        detail: String,
    },
    /// A transient failure on the job's last delivery: SQS would move it to the dead-letter
    /// queue next, so it is final for this run (the next run tries again).
    #[error(
        "gave up after {deliveries} deliveries (the last before the dead-letter queue; the next run tries again): {source}"
    )]
    GaveUp {
        /// Deliveries made.
        deliveries: u32,
        /// The last delivery's failure.
        source: Box<SyncError>,
    },
}

impl SyncError {
    /// A ConnectWise error while doing `context`.
    pub fn connectwise(context: impl Into<String>, source: CwError) -> Self {
        SyncError::ConnectWise {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// A billing-system error while doing `context`.
    pub fn billing(context: impl Into<String>, source: BillingError) -> Self {
        SyncError::Billing {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// Whether retrying the job later can help.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::ConnectWise { source, .. } => {
                source.is_transient() || matches!(**source, CwError::Ambiguous { .. })
            }
            SyncError::Billing { source, .. } => source.is_transient(),
            SyncError::Store(error) => error.is_transient(),
            SyncError::Queue { source, .. } => source.is_transient(),
            SyncError::Secrets(error) => error.is_transient(),
            SyncError::NotConfigured { .. } => false,
            SyncError::Busy { .. } | SyncError::Unsettled { .. } => true,
            SyncError::GaveUp { .. } => false,
        }
    }

    /// Whether the tenant's keys were refused, so its cached clients must go.
    pub fn keys_refused(&self) -> bool {
        match self {
            SyncError::ConnectWise { source, .. } => {
                matches!(**source, CwError::Unauthorized { .. })
            }
            SyncError::Billing { source, .. } => {
                matches!(**source, BillingError::Unauthorized { .. })
            }
            _ => false,
        }
    }
}

impl From<SecretsError> for SyncError {
    fn from(error: SecretsError) -> Self {
        SyncError::Secrets(error)
    }
}

impl From<StoreError> for SyncError {
    fn from(error: StoreError) -> Self {
        SyncError::Store(error)
    }
}

/// A job that stopped on `error`: retried when the error is transient, else permanent.
impl From<SyncError> for JobFailure {
    fn from(error: SyncError) -> Self {
        if error.is_transient() {
            JobFailure::transient(error)
        } else {
            JobFailure::permanent(error)
        }
    }
}

/// A console action that stopped on `error`: `SyncRetryLater` when retrying may help, else
/// `SyncFailed`; the message is the error's text (long quoted values cut, see
/// [`crate::report::diagnostic`]).
impl From<SyncError> for Diagnostic {
    fn from(error: SyncError) -> Self {
        let error_type = if error.is_transient() {
            "SyncRetryLater"
        } else {
            "SyncFailed"
        };
        crate::report::diagnostic(error_type, error)
    }
}
