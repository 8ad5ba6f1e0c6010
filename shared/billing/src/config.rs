//! Connection settings of one tenant's billing system: where the contract is served, the API key,
//! the timeout, the retry policy and the longest URL the client may send.
//!
//! The key is a `secrecy::SecretString`, so `Debug` shows `[REDACTED]`; nothing in this module may
//! print, log or embed the key (or a password in the base URL) in an error.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// The default longest request URL, in characters: what common proxies and gateways accept.
pub const DEFAULT_MAX_URL_LEN: usize = 2000;

/// How failed requests are retried (see the crate docs for which ones are); the same policy
/// type as the ConnectWise client's.
pub use cwsync_http::RetryPolicy;

/// The client's default retry policy: 4 attempts, 200 ms doubling to at most 5 s, none started
/// after 30 s.
pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    base_delay: Duration::from_millis(200),
    max_delay: Duration::from_secs(5),
    max_elapsed: Duration::from_secs(30),
};

/// Everything needed to talk to one tenant's billing system.
///
/// `Debug` redacts the API key and any password in the base URL.
#[derive(Clone)]
pub struct BillingConfig {
    /// Where the contract is served: `https://billing.example.com/` (the client appends `v1/…`;
    /// a path prefix such as `https://host/adapter/` is kept).
    pub base_url: Url,
    /// The API key, sent as `Authorization: Bearer <key>`.
    pub api_key: SecretString,
    /// Timeout of one HTTP attempt, response body included.
    pub timeout: Duration,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Longest request URL the client sends; listings by id are split to stay under it.
    pub max_url_len: usize,
    /// The HTTP client to send through, shared with other tenants' clients (one connection pool
    /// and TLS configuration); it must not follow redirects (`cwsync_http::http_client` with
    /// `Redirects::Never`: a redirect would carry the key to another place). `None` builds one
    /// for this client. Timeout, user agent and credentials are this client's, per request.
    pub http: Option<reqwest::Client>,
}

impl BillingConfig {
    /// A configuration with a 30 s timeout, the default [`RetryPolicy`] (4 attempts, 200 ms base
    /// delay, 5 s cap, 30 s in total) and a 2000-character URL limit.
    pub fn new(base_url: Url, api_key: SecretString) -> Self {
        Self {
            base_url,
            api_key,
            timeout: Duration::from_secs(30),
            retry: DEFAULT_RETRY,
            max_url_len: DEFAULT_MAX_URL_LEN,
            http: None,
        }
    }
}

impl fmt::Debug for BillingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillingConfig")
            .field("base_url", &redacted_url(&self.base_url))
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("max_url_len", &self.max_url_len)
            .finish()
    }
}

/// The URL as text with any user name and password replaced.
pub(crate) fn redacted_url(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.as_str().to_owned();
    }
    let mut shown = url.clone();
    // Both setters only fail for URLs that cannot have credentials, which then have none.
    let _ = shown.set_username("redacted");
    let _ = shown.set_password(None);
    shown.as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_policy() {
        let config = BillingConfig::new(
            Url::parse("https://billing.example.com/").unwrap(),
            SecretString::from("k"),
        );
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert_eq!(config.max_url_len, 2000);
        assert_eq!(config.retry.max_attempts, 4);
        assert_eq!(config.retry.base_delay, Duration::from_millis(200));
        assert_eq!(config.retry.max_delay, Duration::from_secs(5));
        assert_eq!(config.retry.max_elapsed, Duration::from_secs(30));
    }

    #[test]
    fn debug_output_hides_the_key_and_url_passwords() {
        let config = BillingConfig::new(
            Url::parse("https://user:url-password-77@billing.example.com/").unwrap(),
            SecretString::from("API-KEY-never-shown-1234"),
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("API-KEY-never-shown-1234"), "{debug}");
        assert!(!debug.contains("url-password-77"), "{debug}");
        assert!(debug.contains("billing.example.com"), "{debug}");
    }
}
