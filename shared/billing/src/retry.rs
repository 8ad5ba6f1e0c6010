//! The one place that decides whether a failed HTTP attempt is retried, and how long to wait.
//!
//! Rules: the client sends only GET and PATCH, and a JSON merge patch is idempotent, so every
//! request may be repeated. Retried: 429 (its `Retry-After` is a minimum delay), 502, 503, 504,
//! timeouts, and connection failures (refused, reset, closed without a response, body cut off).
//! Any other status is final and mapped to a typed error by [`crate::error::from_status`].
//!
//! Delays come from `backon`'s exponential backoff with jitter. Attempts stop at `max_attempts`
//! or when the next attempt would start after `max_elapsed`. This module must not perform I/O or
//! read the clock except through its inputs.

use std::error::Error as _;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::config::RetryPolicy;
use crate::error::{BillingError, from_status, server_code, server_message};

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

/// A short description of a transport error and its causes. reqwest's own message names the
/// URL, so only the causes below it are used.
pub(crate) fn transport_detail(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no complete response within {} ms", timeout.as_millis());
    }
    let kind = if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the response body was cut off"
    } else {
        "the connection failed"
    };
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    causes.dedup();
    if causes.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {}", causes.join(": "))
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (a date in the past means no wait).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The backoff delays of one request: exponential from `base_delay`, capped at `max_delay`,
/// with jitter, one per retry.
pub(crate) fn backoff(policy: &RetryPolicy) -> impl Iterator<Item = Duration> + use<> {
    // backon is built without its `std` feature, which would give every client the same jitter
    // sequence; seed it from the process's random hasher keys instead.
    let seed = RandomState::new().hash_one(0_u8);
    ExponentialBuilder::new()
        .with_min_delay(policy.base_delay)
        .with_max_delay(policy.max_delay.max(policy.base_delay))
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
        .with_jitter()
        .with_jitter_seed(seed)
        .build()
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
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
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

    #[test]
    fn backoff_grows_within_jitter_bounds_and_stops_after_max_attempts() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(25),
            max_elapsed: Duration::from_secs(1),
        };
        let delays: Vec<Duration> = backoff(&policy).collect();
        assert_eq!(delays.len(), 3);
        let bounds = [(10, 20), (20, 40), (25, 50)];
        for (d, (lo, hi)) in delays.iter().zip(bounds) {
            assert!(
                *d >= Duration::from_millis(lo) && *d <= Duration::from_millis(hi),
                "{d:?} not in [{lo}, {hi}] ms"
            );
        }
    }
}
