//! The one place that decides whether a failed HTTP attempt is retried, and how long to wait.
//!
//! Rules: every request the client sends may be repeated — GETs, JSON merge patches (one or a
//! batch), a service-call create (idempotent on its external reference: a repeat is 409 naming
//! the call), an update (guarded by its `If-Match` version) and a hold (repeatable). Retried: 429 (its `Retry-After` is a minimum delay), 502, 503, 504,
//! timeouts, and connection failures (refused, reset, closed without a response, body cut off).
//! Any other status is final and mapped to a typed error by [`crate::error::from_status`].
//!
//! Delays come from `backon`'s exponential backoff with jitter. Attempts stop at `max_attempts`
//! or when the next attempt would start after `max_elapsed`. This module must not perform I/O or
//! read the clock except through its inputs.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::{BillingError, from_status, server_code, server_message};
pub(crate) use cwsync_http::{parse_retry_after, transport_detail};

/// What to do after one attempt failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Try again after at least `min_delay`; `error` is returned if no attempt is left.
    Retry {
        error: BillingError,
        min_delay: Option<Duration>,
    },
    /// Give up with this error.
    Fatal(BillingError),
}

/// Classifies a complete response with a non-success status.
pub(crate) fn classify_status(
    operation: &str,
    what: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Failure {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    match status {
        429 => Failure::Retry {
            error: BillingError::Throttled { retry_after },
            min_delay: retry_after,
        },
        502..=504 => {
            let code = server_code(body);
            let code = if code.is_empty() {
                String::new()
            } else {
                format!(" ({code})")
            };
            Failure::Retry {
                error: BillingError::Transient {
                    operation: operation.to_owned(),
                    reason: format!(
                        "the billing system answered {status}{code}: {}",
                        server_message(body)
                    ),
                },
                min_delay: retry_after,
            }
        }
        _ => Failure::Fatal(from_status(operation, what, status, body)),
    }
}

/// Classifies a transport error (no complete response). `timeout` is the per-attempt limit.
pub(crate) fn classify_transport(
    operation: &str,
    error: &reqwest::Error,
    timeout: Duration,
) -> Failure {
    let reason = transport_detail(error, timeout);
    if error.is_builder() {
        return Failure::Fatal(BillingError::Config {
            message: format!("cannot build the request to {operation}: {reason}"),
        });
    }
    Failure::Retry {
        error: BillingError::Transient {
            operation: operation.to_owned(),
            reason,
        },
        min_delay: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = retry_after {
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn retried(status: u16) -> bool {
        matches!(
            classify_status(
                "get account A-1",
                "account A-1",
                status,
                &headers(None),
                b""
            ),
            Failure::Retry { .. }
        )
    }

    #[test]
    fn throttling_and_gateway_errors_are_retried_and_the_rest_is_final() {
        for status in [429, 502, 503, 504] {
            assert!(retried(status), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 500] {
            assert!(!retried(status), "{status}");
        }
    }

    #[test]
    fn a_throttled_response_carries_its_retry_after_as_the_minimum_delay() {
        let f = classify_status("list accounts", "", 429, &headers(Some("3")), b"");
        let Failure::Retry {
            error: BillingError::Throttled { retry_after },
            min_delay,
        } = f
        else {
            panic!("expected a throttled retry, got {f:?}");
        };
        assert_eq!(retry_after, Some(Duration::from_secs(3)));
        assert_eq!(min_delay, Some(Duration::from_secs(3)));
    }
}
