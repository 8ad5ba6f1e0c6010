//! What cwsync's HTTP clients share, so the ConnectWise client and the billing client retry the
//! same way: the [`RetryPolicy`], its [`backoff`](RetryPolicy::backoff) delays (exponential,
//! with jitter), [`parse_retry_after`], and [`transport_detail`], a description of a failed
//! connection that never holds the URL (which may carry credentials or record ids); and
//! [`amount`], how both read and write decimal amounts (a JSON number or a numeric string in,
//! a JSON number out, never through a binary float on the way in); and [`excerpt`], what of a
//! response body an error message quotes, and [`http_client`], the HTTP client the
//! clients send through.
//!
//! Which statuses and errors are retried is each client's decision (a ConnectWise POST is never
//! retried blindly; a billing merge patch may be): this crate holds no such rule, performs no I/O
//! (building an HTTP client loads the TLS configuration) and reads no clock.

pub mod amount;

use std::error::Error as _;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};

/// How failed requests are retried (each client documents which ones are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles each time, with jitter.
    pub base_delay: Duration,
    /// Cap of one backoff delay (a longer `Retry-After` is still honoured).
    pub max_delay: Duration,
    /// No retry starts when it would begin later than this after the first attempt.
    pub max_elapsed: Duration,
}

impl RetryPolicy {
    /// The backoff delays of one request: exponential from `base_delay`, capped at `max_delay`,
    /// with jitter, one per retry (`max_attempts - 1` of them).
    pub fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        // backon is built without its `std` feature, which would give every client the same
        // jitter sequence; seed it from the process's random hasher keys instead.
        let seed = RandomState::new().hash_one(0_u8);
        ExponentialBuilder::new()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay.max(self.base_delay))
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .with_jitter()
            .with_jitter_seed(seed)
            .build()
    }
}

/// The most of a response body an error message quotes, in characters.
pub const EXCERPT_CHARS: usize = 200;

/// At most [`EXCERPT_CHARS`] characters of a response `body`, for error messages (a gateway's
/// HTML page can be megabytes), saying so when it was cut.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut quoted: String = text.chars().take(EXCERPT_CHARS).collect();
    if quoted.len() < text.len() {
        quoted.push_str(&format!("… (cut: {} bytes in all)", body.len()));
    }
    quoted
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (a date in the past means no wait).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether an [`http_client`] follows redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// reqwest's default policy (up to 10; credentials are dropped on a move to another host).
    Follow,
    /// Never: a redirect is answered as it came (it could carry a key to another place).
    Never,
}

/// An HTTP client without timeout, user agent or credentials: each request carries its own
/// (reqwest's per-request `timeout` bounds the connection, the request and the whole body, as a
/// client-wide one would). So one such client can serve every tenant of a function: one
/// connection pool and one TLS configuration with its root certificates, instead of one per
/// tenant, which a warm instance serving many tenants would hold for each (docs/BENCHMARKS.md
/// "Memory"). A pooled connection is reused only for the same scheme,
/// host and port, and every request carries its own tenant's `Authorization`, so sharing the
/// pool shares no credentials.
pub fn http_client(redirects: Redirects) -> Result<reqwest::Client, String> {
    let policy = match redirects {
        Redirects::Follow => reqwest::redirect::Policy::default(),
        Redirects::Never => reqwest::redirect::Policy::none(),
    };
    reqwest::Client::builder()
        .redirect(policy)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A short description of a transport error and its causes. reqwest's own message names the URL,
/// so only the causes below it are used.
pub fn transport_detail(error: &reqwest::Error, timeout: Duration) -> String {
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

#[cfg(test)]
mod tests {
    #[test]
    fn an_excerpt_is_cut_and_says_so_and_a_short_body_is_whole() {
        let page = "é".repeat(300);
        let quoted = super::excerpt(page.as_bytes());
        assert_eq!(
            quoted,
            format!("{}… (cut: 600 bytes in all)", "é".repeat(200))
        );
        assert_eq!(super::excerpt(b"short"), "short");
    }

    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT.
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
    fn backoff_grows_stays_within_jitter_bounds_and_stops_after_max_attempts() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(25),
            max_elapsed: Duration::from_secs(1),
        };
        let delays: Vec<Duration> = policy.backoff().collect();
        assert_eq!(delays.len(), 3);
        let bounds = [(10, 20), (20, 40), (25, 50)];
        for (d, (lo, hi)) in delays.iter().zip(bounds) {
            assert!(
                *d >= Duration::from_millis(lo) && *d <= Duration::from_millis(hi),
                "{d:?} not in [{lo}, {hi}] ms"
            );
        }
    }

    #[test]
    fn one_attempt_means_no_retry() {
        let policy = RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(25),
            max_elapsed: Duration::from_secs(1),
        };
        assert_eq!(policy.backoff().count(), 0);
    }
}
