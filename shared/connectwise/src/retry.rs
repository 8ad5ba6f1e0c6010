//! The one place that decides whether a failed HTTP attempt is retried, and how long to wait.
//!
//! Rules:
//! - 429 is retried for every method: the edge rejected the request before the application saw it.
//! - GET, PUT, PATCH and DELETE (idempotent here) are also retried on 502, 503, 504, on a 500 whose
//!   body mentions "timeout", on timeouts, and on connection errors (refused, reset, closed).
//! - POST is retried only when the request certainly did not reach the application: 429, 503 with
//!   `Retry-After`, or a failure to connect. A POST that timed out, was reset, or got a 5xx returns
//!   [`CwError::Ambiguous`], so the caller looks the record up by its natural key before creating
//!   it again. A POST is never retried blindly.
//! - Any other status is final and mapped to a typed error.
//!
//! Delays come from `backon`'s exponential backoff with jitter; `Retry-After` (seconds or an HTTP
//! date) is a minimum. Attempts stop at `max_attempts` or when the next delay would pass
//! `max_elapsed`. This module must not perform I/O or read the clock except through its inputs.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::{CwError, excerpt, from_status};
pub(crate) use cwsync_http::{parse_retry_after, transport_detail};

/// What to do after one attempt failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Try again after at least `min_delay`; `error` is returned if no attempt is left.
    Retry {
        error: CwError,
        min_delay: Option<Duration>,
        /// The failed attempt may have been applied (matters for a DELETE that later 404s).
        maybe_applied: bool,
    },
    /// Give up with this error.
    Fatal(CwError),
}

/// Whether the method may be repeated without changing the outcome.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    *method != Method::POST
}

/// Classifies a complete response with a non-success status.
pub(crate) fn classify_status(
    method: &Method,
    path: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Failure {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let idempotent = is_idempotent(method);
    let transient = |detail: String| CwError::Transient {
        method: method.clone(),
        path: path.to_owned(),
        status: Some(status),
        detail,
    };
    let ambiguous = |detail: String| {
        Failure::Fatal(CwError::Ambiguous {
            method: method.clone(),
            path: path.to_owned(),
            detail,
        })
    };
    match status {
        429 => Failure::Retry {
            error: CwError::Throttled { retry_after },
            min_delay: retry_after,
            maybe_applied: false,
        },
        // An explicit Retry-After on 503 means "not now": the request was not processed.
        503 if idempotent || retry_after.is_some() => Failure::Retry {
            error: transient(format!("service unavailable: {}", excerpt(body))),
            min_delay: retry_after,
            maybe_applied: retry_after.is_none(),
        },
        502..=504 if idempotent => Failure::Retry {
            error: transient(format!("gateway error: {}", excerpt(body))),
            min_delay: retry_after,
            maybe_applied: true,
        },
        500 if idempotent && mentions_timeout(body) => Failure::Retry {
            error: transient(format!("server timeout: {}", excerpt(body))),
            min_delay: retry_after,
            maybe_applied: true,
        },
        500..=599 if !idempotent => ambiguous(format!(
            "the server answered {status} after receiving the request: {}",
            excerpt(body)
        )),
        _ => Failure::Fatal(from_status(method, path, status, body)),
    }
}

fn mentions_timeout(body: &[u8]) -> bool {
    String::from_utf8_lossy(body)
        .to_ascii_lowercase()
        .contains("timeout")
}

/// Classifies a transport error (no complete response). `timeout` is the per-attempt limit.
pub(crate) fn classify_transport(
    method: &Method,
    path: &str,
    error: &reqwest::Error,
    timeout: Duration,
) -> Failure {
    let detail = transport_detail(error, timeout);
    if error.is_builder() {
        return Failure::Fatal(CwError::Config {
            message: format!("cannot build a request to {path}: {detail}"),
        });
    }
    // A connect error means nothing was sent, so even a POST can be repeated.
    let not_sent = error.is_connect() && !error.is_timeout();
    if not_sent || is_idempotent(method) {
        return Failure::Retry {
            error: CwError::Transient {
                method: method.clone(),
                path: path.to_owned(),
                status: None,
                detail,
            },
            min_delay: None,
            maybe_applied: !not_sent,
        };
    }
    Failure::Fatal(CwError::Ambiguous {
        method: method.clone(),
        path: path.to_owned(),
        detail,
    })
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

    fn retried(method: Method, status: u16, retry_after: Option<&str>, body: &str) -> bool {
        matches!(
            classify_status(
                &method,
                "/x",
                status,
                &headers(retry_after),
                body.as_bytes()
            ),
            Failure::Retry { .. }
        )
    }

    #[test]
    fn idempotent_requests_retry_gateway_errors_and_timeouts_in_500s() {
        for status in [429, 502, 503, 504] {
            assert!(retried(Method::GET, status, None, ""), "{status}");
            assert!(retried(Method::PATCH, status, None, ""), "{status}");
        }
        assert!(retried(Method::GET, 500, None, "Execution Timeout Expired"));
        assert!(!retried(Method::GET, 500, None, "NullReferenceException"));
        assert!(!retried(Method::GET, 400, None, "{}"));
        assert!(!retried(Method::DELETE, 404, None, ""));
    }

    #[test]
    fn post_is_retried_only_when_it_certainly_was_not_processed() {
        assert!(retried(Method::POST, 429, None, ""));
        assert!(retried(Method::POST, 503, Some("1"), ""));
        for status in [500, 502, 503, 504] {
            let f = classify_status(&Method::POST, "/x", status, &headers(None), b"timeout");
            assert!(
                matches!(f, Failure::Fatal(CwError::Ambiguous { .. })),
                "{status}: {f:?}"
            );
        }
    }

    #[test]
    fn a_throttled_request_carries_its_retry_after() {
        let f = classify_status(&Method::GET, "/x", 429, &headers(Some("3")), b"");
        let Failure::Retry {
            error: CwError::Throttled { retry_after },
            min_delay,
            ..
        } = f
        else {
            panic!("expected a throttled retry, got {f:?}");
        };
        assert_eq!(retry_after, Some(Duration::from_secs(3)));
        assert_eq!(min_delay, Some(Duration::from_secs(3)));
    }
}
