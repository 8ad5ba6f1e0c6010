//! The keys ConnectWise signs its callbacks with (API-BEHAVIOUR §8): a callback names where its
//! key is (`Metadata.key_url`), and `GET key_url` answers `{"signing_key": "…"}`.
//!
//! Because the URL comes from the request, fetching it blindly would let anyone make the function
//! call any host (SSRF). So a key is fetched only when `key_url`'s scheme, host and port are the
//! tenant's own ConnectWise ([`tenant_hosts`]: the API host of its secret's `site`, and for a
//! ConnectWise cloud region the UI host next to it); anything else is refused before any request.
//! The fetch follows no redirect (a redirect could leave the tenant's host), sends no credentials,
//! and reads at most [`MAX_KEY_RESPONSE_BYTES`].
//!
//! Keys are cached per `key_url` in the warm container for a TTL ([`SigningKeys::with_ttl`]), so
//! a storm of callbacks costs one fetch. A signature that fails under a cached key gets one more
//! try under a key fetched again ([`SigningKeys::refreshed_key`], at most every
//! [`MIN_REFRESH_INTERVAL`]), so a rotated key does not refuse good callbacks until the TTL ends. A key is a secret: it is held as a `SecretString`, never
//! logged, and no error holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cwsync_connectwise::Site;
use cwsync_runtime::clock::{Clock, SystemClock};
use secrecy::SecretString;
use url::Url;

/// How long a fetched key is reused unless told otherwise.
pub const DEFAULT_KEY_TTL: Duration = Duration::from_secs(600);
/// Timeout of one key fetch: the callback is answered after it, and ConnectWise waits.
pub const DEFAULT_KEY_TIMEOUT: Duration = Duration::from_secs(5);
/// A cached key that fails a signature is fetched again (ConnectWise may have rotated it), but
/// not before it is this old: forged requests can't make the function hammer the key server.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// The most of a key response read: `{"signing_key": "…"}` is tiny.
pub const MAX_KEY_RESPONSE_BYTES: usize = 16 * 1024;

/// Why no key could be had. Never holds the key, and names the URL by its host only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// `key_url` is not a URL.
    #[error("Metadata.key_url is not a URL")]
    NotAUrl,
    /// `key_url` is not on the tenant's ConnectWise: nothing was fetched.
    #[error(
        "Metadata.key_url points at {found}, not at the tenant's ConnectWise ({expected}): not fetched"
    )]
    ForeignHost {
        /// `scheme://host:port` of the key URL.
        found: String,
        /// The tenant's ConnectWise origins.
        expected: String,
    },
    /// The key server answered, but not with a key (or with a 4xx).
    #[error("the signing key at {host} could not be read: {reason}")]
    Unreadable {
        /// The key URL's host.
        host: String,
        /// What was wrong.
        reason: String,
    },
    /// The key server could not be reached, timed out or failed (5xx): worth a retry.
    #[error("the signing key at {host} is unavailable (transient): {reason}")]
    Unavailable {
        /// The key URL's host.
        host: String,
        /// What happened.
        reason: String,
    },
}

impl KeyError {
    /// Whether the same fetch may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self, KeyError::Unavailable { .. })
    }
}

/// `scheme://host:port` of `url`, the form origins are compared in.
fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// The origins (`scheme://host:port`) that are the tenant's ConnectWise: its site's API origin,
/// and for a ConnectWise cloud host (`api-na.myconnectwise.net`, `api-staging.connectwisedev.com`)
/// the UI host beside it (`na.myconnectwise.net`), which §1 pairs with it.
pub fn tenant_hosts(site: &Site) -> Vec<String> {
    let base = site.base_url();
    let mut origins = vec![origin(base)];
    let host = base.host_str().unwrap_or_default().to_ascii_lowercase();
    if let Some(ui) = host.strip_prefix("api-")
        && (ui.ends_with(".myconnectwise.net") || ui.ends_with(".connectwisedev.com"))
    {
        let mut ui_url = base.clone();
        if ui_url.set_host(Some(ui)).is_ok() {
            origins.push(origin(&ui_url));
        }
    }
    origins
}

/// Checks that `key_url` is on the tenant's ConnectWise (see [`tenant_hosts`]) and parses it.
/// A URL with a user name or password is refused too.
pub fn check_key_url(key_url: &str, site: &Site) -> Result<Url, KeyError> {
    let url = Url::parse(key_url.trim()).map_err(|_| KeyError::NotAUrl)?;
    let allowed = tenant_hosts(site);
    let found = origin(&url);
    let plain = url.username().is_empty() && url.password().is_none();
    if !matches!(url.scheme(), "http" | "https") || !plain || !allowed.contains(&found) {
        return Err(KeyError::ForeignHost {
            found: if plain {
                found
            } else {
                "a URL with credentials".to_owned()
            },
            expected: allowed.join(", "),
        });
    }
    Ok(url)
}

/// A fetched key (its `Debug` is the `SecretString`'s: redacted).
#[derive(Debug, Clone)]
struct CachedKey {
    key: Arc<SecretString>,
    at: Instant,
}

/// Signing keys, fetched from the tenant's ConnectWise and cached per `key_url`.
#[derive(Debug)]
pub struct SigningKeys {
    http: reqwest::Client,
    timeout: Duration,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, CachedKey>>,
    fetches: std::sync::atomic::AtomicU64,
}

impl SigningKeys {
    /// Keys fetched with `timeout` per fetch, kept [`DEFAULT_KEY_TTL`] on the system clock.
    pub fn new(timeout: Duration) -> Result<Self, KeyError> {
        // A redirect could lead off the tenant's host: never follow one.
        let http = cwsync_http::http_client(cwsync_http::Redirects::Never).map_err(|reason| {
            KeyError::Unavailable {
                host: "-".to_owned(),
                reason,
            }
        })?;
        Ok(SigningKeys {
            http,
            timeout,
            ttl: DEFAULT_KEY_TTL,
            clock: Arc::new(SystemClock),
            cache: Mutex::new(HashMap::new()),
            fetches: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The same, keeping keys `ttl` on `clock` (tests advance a manual clock).
    pub fn with_ttl(mut self, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        self.ttl = ttl;
        self.clock = clock;
        self
    }

    /// How many keys were fetched over HTTP so far (cache misses).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The key at `key_url` for a tenant whose ConnectWise is `site`: cached, or fetched when
    /// `key_url` is on the tenant's ConnectWise (otherwise refused without a request).
    pub async fn key(&self, key_url: &str, site: &Site) -> Result<Arc<SecretString>, KeyError> {
        let url = check_key_url(key_url, site)?;
        let cache_key = url.as_str().to_owned();
        let now = self.clock.now();
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&cache_key)
            .filter(|c| now.saturating_duration_since(c.at) < self.ttl)
        {
            return Ok(Arc::clone(&hit.key));
        }
        self.fetch_and_cache(&url).await
    }

    /// The key at `key_url` fetched again, when the cached one is at least
    /// [`MIN_REFRESH_INTERVAL`] old (or gone); `None` when it is younger (it was just fetched).
    /// For a signature that failed under the cached key: the key may have been rotated.
    pub async fn refreshed_key(
        &self,
        key_url: &str,
        site: &Site,
    ) -> Result<Option<Arc<SecretString>>, KeyError> {
        let url = check_key_url(key_url, site)?;
        let now = self.clock.now();
        let young = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url.as_str())
            .is_some_and(|c| now.saturating_duration_since(c.at) < MIN_REFRESH_INTERVAL);
        if young {
            return Ok(None);
        }
        self.fetch_and_cache(&url).await.map(Some)
    }

    async fn fetch_and_cache(&self, url: &Url) -> Result<Arc<SecretString>, KeyError> {
        let key = Arc::new(self.fetch(url).await?);
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                url.as_str().to_owned(),
                CachedKey {
                    key: Arc::clone(&key),
                    at: self.clock.now(),
                },
            );
        Ok(key)
    }

    async fn fetch(&self, url: &Url) -> Result<SecretString, KeyError> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let host = url.host_str().unwrap_or_default().to_owned();
        let unavailable = |reason: String| KeyError::Unavailable {
            host: host.clone(),
            reason,
        };
        let unreadable = |reason: String| KeyError::Unreadable {
            host: host.clone(),
            reason,
        };
        let mut response = self
            .http
            .get(url.clone())
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(cwsync_http::transport_detail(&e, self.timeout)))?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(unavailable(format!("it answered {status}")));
        }
        if !status.is_success() {
            return Err(unreadable(format!("it answered {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(cwsync_http::transport_detail(&e, self.timeout)))?
        {
            if body.len() + chunk.len() > MAX_KEY_RESPONSE_BYTES {
                return Err(unreadable(format!(
                    "the answer is longer than {MAX_KEY_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        #[derive(serde::Deserialize)]
        struct KeyBody {
            signing_key: Option<String>,
        }
        // serde_json's message could quote the key: only say what is wrong.
        let parsed: KeyBody = serde_json::from_slice(&body)
            .map_err(|_| unreadable("the answer is not a JSON object".to_owned()))?;
        match parsed.signing_key {
            Some(key) if !key.is_empty() => Ok(SecretString::from(key)),
            _ => Err(unreadable("the answer has no signing_key".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(text: &str) -> Site {
        Site::parse(text).unwrap()
    }

    #[test]
    fn a_key_url_on_the_tenants_api_host_is_accepted() {
        let na = site("na");
        assert!(check_key_url("https://api-na.myconnectwise.net/v4_6_release/key/1", &na).is_ok());
        // The cloud UI host beside the API host is the same ConnectWise.
        assert!(check_key_url("https://na.myconnectwise.net/callback/key", &na).is_ok());
        let own = site("http://127.0.0.1:8080");
        assert!(check_key_url("http://127.0.0.1:8080/__sim/callbacks/signing-key", &own).is_ok());
    }

    #[test]
    fn a_key_url_anywhere_else_is_refused_naming_its_origin() {
        let na = site("na");
        for (url, found) in [
            (
                "https://evil.example.com/key",
                "https://evil.example.com:443",
            ),
            (
                "https://eu.myconnectwise.net/key",
                "https://eu.myconnectwise.net:443",
            ),
            (
                "http://api-na.myconnectwise.net/key",
                "http://api-na.myconnectwise.net:80",
            ),
            (
                "https://api-na.myconnectwise.net:8443/key",
                "https://api-na.myconnectwise.net:8443",
            ),
            (
                "https://169.254.169.254/latest/meta-data",
                "https://169.254.169.254:443",
            ),
            ("file:///etc/passwd", "file://:0"),
        ] {
            match check_key_url(url, &na) {
                Err(KeyError::ForeignHost { found: f, expected }) => {
                    assert_eq!(f, found, "{url}");
                    assert!(
                        expected.contains("https://api-na.myconnectwise.net:443"),
                        "{expected}"
                    );
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        let refused =
            check_key_url("https://user:pw@api-na.myconnectwise.net/key", &na).unwrap_err();
        assert!(!refused.to_string().contains("pw"), "{refused}");
        assert_eq!(
            check_key_url("not a url", &na).unwrap_err(),
            KeyError::NotAUrl
        );
    }

    #[test]
    fn a_self_hosted_server_has_only_its_own_host() {
        let own = site("cw.example.com");
        assert_eq!(
            tenant_hosts(&own),
            vec!["https://cw.example.com:443".to_owned()]
        );
        assert!(check_key_url("https://api-cw.example.com/key", &own).is_err());
    }

    #[tokio::test]
    async fn a_foreign_key_url_is_refused_without_any_request() {
        let keys = SigningKeys::new(Duration::from_secs(1)).unwrap();
        let error = keys
            .key("http://127.0.0.1:9/key", &site("na"))
            .await
            .unwrap_err();
        assert!(matches!(error, KeyError::ForeignHost { .. }), "{error:?}");
        assert_eq!(keys.fetches(), 0);
    }
}
