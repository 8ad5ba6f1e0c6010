//! Tenant ids: the first part of every key, so they must be safe inside one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A tenant (one ConnectWise instance): 1–64 characters of `A-Za-z0-9._-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

/// A tenant id that is empty, too long or has a character that could break a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tenant id {value:?}: {reason}")]
pub struct InvalidTenantId {
    /// The refused value (tenant ids are not secret), cut to 80 characters: a refused id may be
    /// a megabyte long, and this error goes into logs and console answers.
    pub value: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl TenantId {
    /// Parses and validates a tenant id.
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidTenantId> {
        let value = value.into();
        let reason = if value.is_empty() {
            Some("it is empty")
        } else if value.len() > 64 {
            Some("it is longer than 64 characters")
        } else if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            Some("only letters, digits, '.', '_' and '-' are allowed")
        } else if value.chars().all(|c| c == '.') {
            // `.` and `..` break no key, but name no real tenant and are how a path is climbed:
            // refused here as the secrets' names refuse them, so no store ever holds one.
            Some("it is only dots")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidTenantId {
                value: crate::error::cut(&value),
                reason,
            }),
            None => Ok(TenantId(value)),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = InvalidTenantId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TenantId::parse(value)
    }
}

impl From<TenantId> for String {
    fn from(id: TenantId) -> Self {
        id.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_id_with_a_key_separator_is_refused() {
        assert!(TenantId::parse("acme#other").is_err());
        assert!(TenantId::parse("").is_err());
        assert!(TenantId::parse("a".repeat(65)).is_err());
        assert_eq!(
            TenantId::parse("acme-eu_1.prod").unwrap().as_str(),
            "acme-eu_1.prod"
        );
    }
}
