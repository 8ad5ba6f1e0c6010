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

/// At most the first 80 characters of a refused value, with the count of the rest: errors name
/// what they refuse, and what they refuse (a tenant id, a run id from an event) may be a
/// megabyte long.
pub fn cut(value: &str) -> String {
    const KEEP: usize = 80;
    let count = value.chars().count();
    if count <= KEEP {
        value.to_owned()
    } else {
        format!(
            "{}… ({count} characters)",
            value.chars().take(KEEP).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_refused_value_is_cut_and_counted_a_short_one_kept() {
        assert_eq!(cut("acme"), "acme");
        let long = "é".repeat(1 << 20);
        let text = cut(&long);
        assert!(text.starts_with(&"é".repeat(80)));
        assert!(
            text.ends_with("… (1048576 characters)"),
            "{}",
            &text[text.len() - 40..]
        );
    }

    #[test]
    fn refused_tenant_and_run_ids_never_come_back_whole() {
        let huge = "a".repeat(1 << 20);
        let tenant = crate::TenantId::parse(huge.clone())
            .unwrap_err()
            .to_string();
        assert!(tenant.len() < 300, "{} bytes", tenant.len());
        let run = crate::RunId::parse(huge).unwrap_err().to_string();
        assert!(run.len() < 300, "{} bytes", run.len());
    }
}
