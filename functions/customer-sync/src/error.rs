//! Why a customer-sync job could not finish. Problems of one record are not errors: they are
//! reported as that record's `failed` outcome and the run goes on. A `SyncError` stops the job:
//! transient ones are retried (SQS redelivers); a permanent one of an account job is recorded as
//! that account's failure in its run (`jobs`), so the run finishes rather than wait on the DLQ.

use cwsync_billing::BillingError;
use cwsync_connectwise::CwError;
use cwsync_queue::QueueError;
use cwsync_runtime::SecretsError;
use cwsync_store::StoreError;

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
    #[error("tenant {tenant} is not configured for the customer sync: {reason}")]
    NotConfigured {
        /// The tenant.
        tenant: String,
        /// What is missing.
        reason: String,
    },
    /// Another worker holds a fresh claim on a record this job must create: retry later.
    #[error("{record} is being created by another worker right now; retry after {stale_at}")]
    Busy {
        /// The record (`company A-1001`).
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
        }
    }
}
