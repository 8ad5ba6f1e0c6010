//! Typed errors of the billing client and the mapping from the contract's error responses to them.
//!
//! Every error names the operation (`update account A-7`) or the record (`account A-7`) and says
//! whether trying again later can help ([`BillingError::is_transient`]). Errors must never carry
//! a header value, the API key or a full URL: the key travels only in a header, and operations are
//! described in words, not URLs.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One per-field problem reported by the billing system (`error.fields[]` of the contract).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FieldProblem {
    /// The field, as a dotted path in the contract's names (`billingAddress.state`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

fn list(fields: &[FieldProblem]) -> String {
    if fields.is_empty() {
        return String::new();
    }
    let items: Vec<String> = fields.iter().map(ToString::to_string).collect();
    format!(" [{}]", items.join("; "))
}

fn existing(id: &Option<String>) -> String {
    id.as_ref()
        .map(|id| format!(" (the existing record is {id})"))
        .unwrap_or_default()
}

fn current(version: &Option<u64>) -> String {
    version
        .map(|v| format!(" (its version is now {v})"))
        .unwrap_or_default()
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; retry after {} ms", d.as_millis()))
        .unwrap_or_default()
}

/// Everything that can go wrong talking to the billing system.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BillingError {
    /// 401: the API key is missing, wrong or revoked.
    #[error(
        "the billing system rejected the API key (401): {message}; check the tenant's billing API key"
    )]
    Unauthorized {
        /// The billing system's message.
        message: String,
    },
    /// 403: the API key may not perform this operation.
    #[error(
        "{operation} is forbidden (403); give the billing API key permission for this operation"
    )]
    Forbidden {
        /// What was attempted, e.g. `update account A-7`.
        operation: String,
    },
    /// 404: the record (or its account) does not exist.
    #[error("{what} was not found in the billing system (404)")]
    NotFound {
        /// The missing record, e.g. `account A-7` or `site S-1 of account A-7`.
        what: String,
    },
    /// 400: the request was refused as invalid, with the billing system's per-field problems; or
    /// the client refused to send it (an id no URL can carry, a page size out of range).
    #[error("{operation} was rejected as invalid: {message}{}", list(.fields))]
    Invalid {
        /// What was attempted.
        operation: String,
        /// The billing system's (or the client's) message.
        message: String,
        /// Per-field problems; may be empty.
        fields: Vec<FieldProblem>,
    },
    /// 409 `Duplicate`: a record with the same unique key exists — a service call with the same
    /// external reference, created by an earlier try or another worker. Names the existing one.
    #[error("{operation} was refused: {message}{}", existing(.existing_id))]
    Duplicate {
        /// What was attempted.
        operation: String,
        /// The billing system's message.
        message: String,
        /// The id of the record that holds the key already.
        existing_id: Option<String>,
    },
    /// 409 for any other reason: the record's state refuses the change (code `Invoiced`: an
    /// invoiced service call is never changed).
    #[error("{operation} was refused ({code}): {message}")]
    Conflict {
        /// What was attempted.
        operation: String,
        /// The contract's error code (`Invoiced`).
        code: String,
        /// The billing system's message.
        message: String,
    },
    /// 412: the record changed since the version the update was planned on (another worker, or a
    /// user, got there first). Read it again and plan again.
    #[error("{operation} was refused: {message}{}", current(.current_version))]
    VersionConflict {
        /// What was attempted.
        operation: String,
        /// The billing system's message.
        message: String,
        /// The record's version now.
        current_version: Option<u64>,
    },
    /// 429 still returned after every allowed retry.
    #[error("the billing system is throttling requests (429){}", retry_hint(.retry_after))]
    Throttled {
        /// What the billing system asked for in `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// A failure that may pass on a later try: 5xx, timeout, connection refused or reset.
    #[error("{operation} failed transiently: {reason}")]
    Transient {
        /// What was attempted.
        operation: String,
        /// What happened (status or transport failure), without the URL.
        reason: String,
    },
    /// A response with a status the contract does not define.
    #[error("{operation} got an unexpected response ({status}): {excerpt:?}")]
    Unexpected {
        /// What was attempted.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body, at most 200 characters.
        excerpt: String,
    },
    /// A successful response whose body is not the contract's JSON.
    #[error("the response to {operation} is not the expected JSON: {reason}")]
    Decode {
        /// What was attempted.
        operation: String,
        /// The deserializer's message (names the field and position).
        reason: String,
    },
    /// The client configuration is unusable (bad base URL, zero attempts, …).
    #[error("invalid billing client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

impl BillingError {
    /// Whether trying the same call again later can succeed: throttling and transient failures.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BillingError::Throttled { .. } | BillingError::Transient { .. }
        )
    }

    /// The HTTP status the billing system answered with, when one is known.
    pub fn status(&self) -> Option<u16> {
        match self {
            BillingError::Unauthorized { .. } => Some(401),
            BillingError::Forbidden { .. } => Some(403),
            BillingError::NotFound { .. } => Some(404),
            BillingError::Duplicate { .. } | BillingError::Conflict { .. } => Some(409),
            BillingError::VersionConflict { .. } => Some(412),
            BillingError::Throttled { .. } => Some(429),
            BillingError::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The contract's error body: `{"error": {"code", "message", "fields"?}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorEnvelope {
    error: ErrorDetail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ErrorDetail {
    code: String,
    message: String,
    fields: Vec<FieldProblem>,
    /// With 409 `Duplicate`: the record that holds the key.
    existing_id: Option<String>,
    /// With 412: the record's version now.
    current_version: Option<u64>,
}

pub(crate) use cwsync_http::excerpt;

/// The error body's message, or an excerpt of the body when it is not the contract's JSON.
pub(crate) fn server_message(body: &[u8]) -> String {
    parse_body(body)
        .map(|d| d.message)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| excerpt(body))
}

fn parse_body(body: &[u8]) -> Option<ErrorDetail> {
    serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|e| e.error)
}

/// The error code of a contract error body (`Unavailable`), empty when there is none.
pub(crate) fn server_code(body: &[u8]) -> String {
    parse_body(body).map(|d| d.code).unwrap_or_default()
}

/// Maps a final non-success response to a typed error. `what` names the record for a 404.
pub(crate) fn from_status(operation: &str, what: &str, status: u16, body: &[u8]) -> BillingError {
    let operation = operation.to_owned();
    match status {
        401 => BillingError::Unauthorized {
            message: server_message(body),
        },
        403 => BillingError::Forbidden { operation },
        404 => BillingError::NotFound {
            what: what.to_owned(),
        },
        400 | 422 | 428 => {
            let detail = parse_body(body).unwrap_or_default();
            let message = if detail.message.is_empty() {
                excerpt(body)
            } else {
                detail.message
            };
            BillingError::Invalid {
                operation,
                message,
                fields: detail.fields,
            }
        }
        409 => {
            let detail = parse_body(body).unwrap_or_default();
            let message = if detail.message.is_empty() {
                excerpt(body)
            } else {
                detail.message
            };
            if detail.code == "Duplicate" {
                BillingError::Duplicate {
                    operation,
                    message,
                    existing_id: detail.existing_id,
                }
            } else {
                BillingError::Conflict {
                    operation,
                    code: detail.code,
                    message,
                }
            }
        }
        412 => {
            let detail = parse_body(body).unwrap_or_default();
            BillingError::VersionConflict {
                operation,
                message: if detail.message.is_empty() {
                    excerpt(body)
                } else {
                    detail.message
                },
                current_version: detail.current_version,
            }
        }
        429 => BillingError::Throttled { retry_after: None },
        // 501 Not Implemented: the server does not serve this operation, now or later.
        501 => BillingError::Unexpected {
            operation,
            status,
            excerpt: excerpt(body),
        },
        500..=599 => BillingError::Transient {
            operation,
            reason: format!(
                "the billing system answered {status}: {}",
                server_message(body)
            ),
        },
        _ => BillingError::Unexpected {
            operation,
            status,
            excerpt: excerpt(body),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_400_carries_the_per_field_problems() {
        let body = br#"{"error":{"code":"InvalidRequest","message":"the update is invalid","fields":[{"field":"billingAddress.state","message":"must be a string"}]}}"#;
        let e = from_status("update account A-7", "account A-7", 400, body);
        let BillingError::Invalid { fields, .. } = &e else {
            panic!("expected Invalid, got {e:?}");
        };
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field, "billingAddress.state");
        assert!(
            e.to_string()
                .contains("billingAddress.state: must be a string")
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn conflicts_name_the_existing_record_the_state_or_the_current_version() {
        let body = br#"{"error":{"code":"Duplicate","message":"a service call with externalReference CW-7 exists","existingId":"SC-1001"}}"#;
        let e = from_status("create service call", "service call", 409, body);
        assert!(
            matches!(&e, BillingError::Duplicate { existing_id: Some(id), .. } if id == "SC-1001"),
            "{e:?}"
        );
        assert!(e.to_string().contains("SC-1001"));
        let body = br#"{"error":{"code":"Invoiced","message":"service call SC-1 is invoiced"}}"#;
        let e = from_status("update service call SC-1", "service call SC-1", 409, body);
        assert!(
            matches!(&e, BillingError::Conflict { code, .. } if code == "Invoiced"),
            "{e:?}"
        );
        let body = br#"{"error":{"code":"VersionConflict","message":"stale","currentVersion":4}}"#;
        let e = from_status("update service call SC-1", "service call SC-1", 412, body);
        assert!(
            matches!(
                &e,
                BillingError::VersionConflict {
                    current_version: Some(4),
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.status(), Some(412));
        assert!(!e.is_transient());
    }

    #[test]
    fn a_404_names_the_record() {
        let e = from_status("get account A-7", "account A-7", 404, b"");
        assert_eq!(
            e.to_string(),
            "account A-7 was not found in the billing system (404)"
        );
    }

    #[test]
    fn odd_statuses_become_short_excerpts_and_5xx_is_transient() {
        let long = "<html>".repeat(100);
        let e = from_status("get account A-7", "account A-7", 418, long.as_bytes());
        let BillingError::Unexpected { excerpt, .. } = &e else {
            panic!("expected Unexpected, got {e:?}");
        };
        assert!(excerpt.starts_with(&long[..200]), "{excerpt}");
        assert!(excerpt.ends_with("… (cut: 600 bytes in all)"), "{excerpt}");
        assert!(from_status("x", "y", 500, b"oops").is_transient());
        // Not Implemented will not pass on a later try; callers fall back on it.
        let e = from_status("x", "y", 501, b"");
        assert!(!e.is_transient());
        assert_eq!(e.status(), Some(501));
    }
}
