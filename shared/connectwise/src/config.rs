//! Connection settings of one ConnectWise tenant: where the server is, the API keys, and the
//! retry and rate-limit policies.
//!
//! Keys are `secrecy::SecretString`, so `Debug` shows `[REDACTED]`; nothing in this module may
//! print, log or embed a key in an error.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::error::CwError;
use crate::gate::RequestGate;

/// Codebase alias every ConnectWise server accepts; used when the lookup fails.
pub const DEFAULT_CODEBASE: &str = "v4_6_release/";

/// The API host of a ConnectWise site, as a base URL ending in `/`.
///
/// Parses a cloud region (`na`, `eu`, `au`, `aus`, `za`), a cloud UI host
/// (`na.myconnectwise.net` → `https://api-na.myconnectwise.net/`), `staging` or
/// `staging.connectwisedev.com` (→ `https://api-staging.connectwisedev.com/`), any other host
/// (→ `https://<host>/`), or a full `http(s)://host[:port][/prefix]` URL, which is kept as is
/// (self-hosted servers, simulators in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site(Url);

const REGIONS: [&str; 5] = ["na", "eu", "au", "aus", "za"];

impl Site {
    /// Parses a site, region or URL (see the type docs).
    pub fn parse(input: &str) -> Result<Self, CwError> {
        let raw = input.trim();
        let bad = |why: &str| CwError::Config {
            message: format!("site {raw:?} is not a ConnectWise region, host or URL: {why}"),
        };
        if raw.is_empty() {
            return Err(bad("it is empty"));
        }
        if raw.contains("://") {
            let mut url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad("only http and https are supported"));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(bad("it has no host"));
            }
            // Credentials never belong in a URL: they would leak into logs and errors.
            if !url.username().is_empty() || url.password().is_some() {
                return Err(bad("it must not contain a user name or password"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(bad("it must not have a query or fragment"));
            }
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            return Ok(Self(url));
        }
        let lower = raw.trim_end_matches('/').to_ascii_lowercase();
        let host = if REGIONS.contains(&lower.as_str()) {
            format!("api-{lower}.myconnectwise.net")
        } else if let Some(region) = lower
            .strip_suffix(".myconnectwise.net")
            .filter(|r| REGIONS.contains(r))
        {
            format!("api-{region}.myconnectwise.net")
        } else if lower == "staging" || lower == "staging.connectwisedev.com" {
            "api-staging.connectwisedev.com".to_owned()
        } else {
            lower
        };
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        {
            return Err(bad(
                "a host may hold only letters, digits, '.', '-' and a ':port'",
            ));
        }
        let url = Url::parse(&format!("https://{host}/")).map_err(|e| bad(&e.to_string()))?;
        Ok(Self(url))
    }

    /// The site's base URL, ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.0
    }
}

impl FromStr for Site {
    type Err = CwError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// How failed requests are retried (see the crate docs for which ones are); the same policy
/// type as the billing client's.
pub use cwsync_http::RetryPolicy;

/// The client's default retry policy: 5 attempts, 500 ms doubling to at most 30 s, none started
/// after 2 minutes.
pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    base_delay: Duration::from_millis(500),
    max_delay: Duration::from_secs(30),
    max_elapsed: Duration::from_secs(120),
};

/// Request-rate limits of one [`crate::Client`], shared by all its clones and tasks (one
/// process); a [`crate::RequestGate`] limits all the processes of a tenant together.
///
/// ConnectWise's real limits are not published; the defaults are deliberately modest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second (every HTTP attempt counts, retries included).
    pub per_second: NonZeroU32,
    /// Requests that may start at once after a quiet period.
    pub burst: NonZeroU32,
    /// Requests in flight at the same time.
    pub max_in_flight: usize,
}

impl RateLimit {
    /// `per_second` requests a second, paced evenly: a burst of a tenth of a second's requests
    /// (at least one), at most 8 in flight.
    ///
    /// A burst of a whole second's requests lets a client that was idle send up to twice its rate
    /// within one second that straddles two of the server's windows, and a server counting its
    /// own windows refuses the excess (each refusal then waits for `Retry-After`). In the scale
    /// bench's first sync of 5,000 accounts at exactly the server's limit, a burst of the rate
    /// drew 1,058 refusals (ratio to the rate-limit floor 1.40), a tenth of it 107 (1.08), in
    /// two single runs of different commits: docs/BENCHMARKS.md, "Scale".
    pub fn paced(per_second: NonZeroU32) -> Self {
        Self {
            per_second,
            burst: NonZeroU32::new(per_second.get() / 10).unwrap_or(NonZeroU32::MIN),
            max_in_flight: 8,
        }
    }
}

impl Default for RateLimit {
    /// 10 requests a second ([`RateLimit::paced`]: a burst of one).
    fn default() -> Self {
        Self::paced(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN))
    }
}

/// Everything needed to talk to one ConnectWise tenant.
///
/// `Debug` redacts the keys.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where the server is.
    pub site: Site,
    /// The login company id (the part before `+` in the Basic credentials).
    pub company_id: String,
    /// API member public key.
    pub public_key: SecretString,
    /// API member private key.
    pub private_key: SecretString,
    /// The integration's `clientId` (a GUID from the ConnectWise developer portal).
    pub client_id: String,
    /// Response model version sent in `Accept`.
    pub api_version: String,
    /// Codebase such as `v2025_1/`; when set, [`crate::Client::connect`] skips the lookup.
    pub codebase: Option<String>,
    /// Timeout of one HTTP attempt, response body included.
    pub timeout: Duration,
    /// Longest request URL the client sends (see [`crate::Client::list_by_ids`]).
    pub max_url_len: usize,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Rate limits of this client (all its clones).
    pub rate: RateLimit,
    /// A limit shared with the tenant's other clients, asked before every attempt after `rate`
    /// (see [`crate::RequestGate`]); none by default.
    pub gate: Option<Arc<dyn RequestGate>>,
    /// The HTTP client to send through, shared with other tenants' clients (one connection pool
    /// and TLS configuration: `cwsync_http::http_client` with `Redirects::Follow`); `None`
    /// builds one for this client. Timeout, user agent and credentials are this client's, per
    /// request.
    pub http: Option<reqwest::Client>,
}

impl ClientConfig {
    /// A configuration with the default API version `2026.4`, a 30 s timeout, a 2000-character
    /// URL limit and the default retry and rate policies.
    pub fn new(
        site: Site,
        company_id: impl Into<String>,
        public_key: SecretString,
        private_key: SecretString,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            site,
            company_id: company_id.into(),
            public_key,
            private_key,
            client_id: client_id.into(),
            api_version: "2026.4".to_owned(),
            codebase: None,
            timeout: Duration::from_secs(30),
            max_url_len: 2000,
            retry: DEFAULT_RETRY,
            rate: RateLimit::default(),
            gate: None,
            http: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(s: &str) -> String {
        Site::parse(s).unwrap().to_string()
    }

    #[test]
    fn a_paced_limit_bursts_a_tenth_of_a_second_and_the_default_is_paced() {
        let burst = |rate: u32| RateLimit::paced(NonZeroU32::new(rate).unwrap()).burst.get();
        assert_eq!(
            [
                burst(1),
                burst(9),
                burst(10),
                burst(25),
                burst(100),
                burst(1000)
            ],
            [1, 1, 1, 2, 10, 100]
        );
        let default = RateLimit::default();
        assert_eq!((default.per_second.get(), default.burst.get()), (10, 1));
        assert_eq!(default.max_in_flight, 8);
    }

    #[test]
    fn regions_and_ui_hosts_map_to_api_hosts() {
        for r in ["na", "eu", "au", "aus", "za"] {
            let expected = format!("https://api-{r}.myconnectwise.net/");
            assert_eq!(site(r), expected);
            assert_eq!(site(&r.to_uppercase()), expected);
            assert_eq!(site(&format!("{r}.myconnectwise.net")), expected);
        }
    }

    #[test]
    fn staging_maps_to_the_staging_api_host() {
        assert_eq!(site("staging"), "https://api-staging.connectwisedev.com/");
        assert_eq!(
            site("staging.connectwisedev.com"),
            "https://api-staging.connectwisedev.com/"
        );
    }

    #[test]
    fn other_hosts_and_full_urls_are_kept() {
        assert_eq!(site("cw.example.com"), "https://cw.example.com/");
        assert_eq!(
            site("api-na.myconnectwise.net"),
            "https://api-na.myconnectwise.net/"
        );
        assert_eq!(site("http://127.0.0.1:8080"), "http://127.0.0.1:8080/");
        assert_eq!(site("https://cw.local/prefix"), "https://cw.local/prefix/");
    }

    #[test]
    fn unusable_sites_are_rejected() {
        for bad in [
            "",
            "ftp://x.example",
            "https://user:pw@x.example",
            "https://x.example/?a=1",
            "bad host/with path",
        ] {
            assert!(Site::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn debug_output_redacts_both_keys() {
        let cfg = ClientConfig::new(
            Site::parse("na").unwrap(),
            "acme",
            SecretString::from("PUBLIC-KEY-1234"),
            SecretString::from("PRIVATE-KEY-5678"),
            "client-guid",
        );
        let debug = format!("{cfg:?}");
        assert!(!debug.contains("PRIVATE-KEY-5678"), "{debug}");
        assert!(!debug.contains("PUBLIC-KEY-1234"), "{debug}");
        assert!(debug.contains("client-guid"));
    }
}
