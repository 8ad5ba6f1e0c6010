//! Errors of every store. Each says which item (tenant, kind, id) and whether it is worth a retry.

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: someone else holds the claim, lock or newer version.
    #[error("conflict on {item}: {reason}")]
    Conflict {
        /// Which item, e.g. `tenant acme link company/C-42`.
        item: String,
        /// What the condition protected.
        reason: String,
    },
    /// The item does not exist.
    #[error("{item} not found")]
    NotFound {
        /// Which item.
        item: String,
    },
    /// A stored item could not be read back (corrupt or from an incompatible version).
    #[error("{item} is malformed: {detail}")]
    Malformed {
        /// Which item.
        item: String,
        /// What was wrong (field and reason).
        detail: String,
    },
    /// An input was refused before reaching the store (names the field).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field that is wrong.
        field: String,
        /// Why.
        reason: String,
    },
    /// DynamoDB failed or throttled; the operation may succeed if retried.
    #[error("DynamoDB {operation} failed: {detail}")]
    Backend {
        /// The DynamoDB operation, e.g. `PutItem`.
        operation: &'static str,
        /// The SDK's error text (never item values).
        detail: String,
        /// Throttling, timeouts and 5xx: worth retrying.
        transient: bool,
    },
}

impl StoreError {
    /// Whether retrying the same operation later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Backend {
                transient: true,
                ..
            }
        )
    }
}
