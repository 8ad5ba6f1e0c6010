//! The HTTP client: construction (codebase lookup), authentication headers, the retrying request
//! loop, rate limiting, and the single-record operations (get, create, update, patch, delete).
//!
//! Every request goes through [`Client::execute`], which holds an in-flight slot and a rate-limit
//! token for each attempt, is admitted by the shared gate when there is one (see [`crate::gate`]),
//! and applies the rules of [`crate::retry`]. Logs name the method, the API
//! path (no query), the status and the attempt — never a header value.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{ClientConfig, DEFAULT_CODEBASE, RetryPolicy};
use crate::documents::UploadDocument;
use crate::error::{CwError, CwResult, excerpt};
use crate::gate::{Admission, GateError, RequestGate};
use crate::patch::PatchOp;
use crate::query::{Query, encode_params};
use crate::retry::{self, Failure};

/// Name of the header that carries the integration's client id.
const CLIENT_ID: HeaderName = HeaderName::from_static("clientid");
/// Request header that selects keyset ("forward-only") paging.
pub(crate) const PAGINATION_TYPE: HeaderName = HeaderName::from_static("pagination-type");

/// A ConnectWise Manage API client for one tenant.
///
/// Cheap to clone: clones share one connection pool, one rate limiter and one set of counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_base: Url,
    codebase: String,
    company_id: String,
    authorization: HeaderValue,
    client_id: HeaderValue,
    accept: HeaderValue,
    timeout: Duration,
    max_url_len: usize,
    retry: RetryPolicy,
    limiter: DefaultDirectRateLimiter,
    in_flight: Semaphore,
    gate: Option<Arc<dyn RequestGate>>,
    counters: Counters,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Deliberately leaves out the Authorization value.
        f.debug_struct("Client")
            .field("api_base", &self.inner.api_base.as_str())
            .field("company_id", &self.inner.company_id)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    gate_waits: AtomicU64,
}

/// Counters of one client (all clones together) since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP attempts sent, retries included.
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// 429 responses received.
    pub throttled: u64,
    /// Times an attempt waited for the shared gate's next window.
    pub gate_waits: u64,
}

/// What a request sends as its body.
#[derive(Debug)]
pub(crate) enum Body<'a> {
    Empty,
    Json(Bytes),
    Multipart(&'a UploadDocument),
}

/// One logical request (retried as a whole).
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// API path without query, for errors and logs.
    pub(crate) path: &'a str,
    pub(crate) url: Url,
    pub(crate) body: Body<'a>,
    pub(crate) forward_only: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, path: &'a str, url: Url) -> Self {
        Self {
            method,
            path,
            url,
            body: Body::Empty,
            forward_only: false,
        }
    }
}

/// A complete response.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Client {
    /// Looks up the tenant's codebase (unless `config.codebase` is set) and builds a client.
    ///
    /// The lookup is `GET {site}/login/companyinfo/{company_id}` without credentials. If it fails
    /// or the company is unknown, the client logs a warning and uses the `v4_6_release/` alias,
    /// which every server accepts.
    pub async fn connect(mut config: ClientConfig) -> CwResult<Client> {
        let http = build_http(&config)?;
        if config.codebase.is_none() {
            config.codebase = Some(lookup_codebase(&http, &config).await);
        }
        Self::build(config, http)
    }

    /// Builds a client without any request: uses `config.codebase`, else `v4_6_release/`.
    pub fn new(config: ClientConfig) -> CwResult<Client> {
        let http = build_http(&config)?;
        Self::build(config, http)
    }

    fn build(config: ClientConfig, http: reqwest::Client) -> CwResult<Client> {
        let raw_codebase = config.codebase.as_deref().unwrap_or(DEFAULT_CODEBASE);
        let codebase = normalize_codebase(raw_codebase).ok_or_else(|| CwError::Config {
            message: format!(
                "codebase {raw_codebase:?} is not like \"v2025_1/\" (letters, digits, _ . - and a trailing /)"
            ),
        })?;
        let api_base = config
            .site
            .base_url()
            .join(&codebase)
            .and_then(|u| u.join("apis/3.0/"))
            .map_err(|e| CwError::Config {
                message: format!("cannot build the API base URL: {e}"),
            })?;
        let credentials = format!(
            "{}+{}:{}",
            config.company_id,
            config.public_key.expose_secret(),
            config.private_key.expose_secret()
        );
        let mut authorization =
            HeaderValue::from_str(&format!("Basic {}", BASE64.encode(credentials))).map_err(
                |_| CwError::Config {
                    message: "the Basic credentials do not form a valid header".to_owned(),
                },
            )?;
        // Keeps the value out of reqwest/hyper debug output.
        authorization.set_sensitive(true);
        let client_id = HeaderValue::from_str(&config.client_id).map_err(|_| CwError::Config {
            message: "clientId contains characters that are not allowed in an HTTP header"
                .to_owned(),
        })?;
        let accept = HeaderValue::from_str(&format!(
            "application/vnd.connectwise.com+json; version={}",
            config.api_version
        ))
        .map_err(|_| CwError::Config {
            message: format!(
                "api_version {:?} is not a valid header value",
                config.api_version
            ),
        })?;
        if config.retry.max_attempts == 0 {
            return Err(CwError::Config {
                message: "retry.max_attempts must be at least 1".to_owned(),
            });
        }
        let quota = Quota::per_second(config.rate.per_second).allow_burst(config.rate.burst);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                api_base,
                codebase,
                company_id: config.company_id,
                authorization,
                client_id,
                accept,
                timeout: config.timeout,
                max_url_len: config.max_url_len,
                retry: config.retry,
                limiter: RateLimiter::direct(quota),
                in_flight: Semaphore::new(config.rate.max_in_flight.max(1)),
                gate: config.gate,
                counters: Counters::default(),
            }),
        })
    }

    /// The API base URL, e.g. `https://api-na.myconnectwise.net/v2025_1/apis/3.0/`.
    pub fn api_base(&self) -> &Url {
        &self.inner.api_base
    }

    /// The codebase in use, e.g. `v2025_1/`.
    pub fn codebase(&self) -> &str {
        &self.inner.codebase
    }

    /// The longest URL this client sends.
    pub fn max_url_len(&self) -> usize {
        self.inner.max_url_len
    }

    /// Counters since creation, over all clones.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            gate_waits: c.gate_waits.load(Ordering::Relaxed),
        }
    }

    /// The full URL of an API path (`/company/companies`) with percent-encoded parameters.
    pub(crate) fn url<N: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        params: &[(N, V)],
    ) -> CwResult<Url> {
        if path.contains(['?', '#']) {
            return Err(CwError::Config {
                message: format!(
                    "API path {:?} must not carry a query; pass a Query instead",
                    crate::error::strip_query(path)
                ),
            });
        }
        let mut url = self
            .inner
            .api_base
            .join(path.trim_start_matches('/'))
            .map_err(|e| CwError::Config {
                message: format!("invalid API path {path:?}: {e}"),
            })?;
        if !params.is_empty() {
            url.set_query(Some(&encode_params(params)));
        }
        Ok(url)
    }

    /// Sends `call`, retrying per [`crate::retry`], and returns the successful response.
    pub(crate) async fn execute(&self, call: &Call<'_>) -> CwResult<Response> {
        let policy = &self.inner.retry;
        let started = Instant::now();
        let mut delays = policy.backoff();
        let mut attempt: u32 = 1;
        let mut maybe_applied = false;
        loop {
            let failure = match self.attempt(call, attempt).await {
                Ok(response) if response.status.is_success() => return Ok(response),
                Ok(response) => retry::classify_status(
                    &call.method,
                    call.path,
                    response.status.as_u16(),
                    &response.headers,
                    &response.body,
                ),
                Err(failure) => failure,
            };
            let (error, min_delay) = match failure {
                // An earlier attempt that timed out may have deleted the record already.
                Failure::Fatal(CwError::NotFound { .. })
                    if call.method == Method::DELETE && maybe_applied =>
                {
                    tracing::debug!(
                        path = call.path,
                        "DELETE found nothing after an attempt that may have applied it"
                    );
                    return Ok(Response {
                        status: StatusCode::NO_CONTENT,
                        headers: HeaderMap::new(),
                        body: Bytes::new(),
                    });
                }
                Failure::Fatal(error) => return Err(error),
                Failure::Retry {
                    error,
                    min_delay,
                    maybe_applied: applied,
                } => {
                    maybe_applied |= applied;
                    (error, min_delay)
                }
            };
            let Some(backoff) = delays.next() else {
                return Err(error);
            };
            let delay = min_delay.map_or(backoff, |min| min.max(backoff));
            if started.elapsed() + delay > policy.max_elapsed {
                return Err(error);
            }
            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                method = %call.method,
                path = call.path,
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "retrying ConnectWise request"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One HTTP attempt, holding an in-flight slot, a rate-limit token and the gate's admission.
    async fn attempt(&self, call: &Call<'_>, attempt: u32) -> Result<Response, Failure> {
        let inner = &self.inner;
        let _slot = loop {
            // The semaphore is never closed, so `acquire` cannot fail.
            let slot = inner.in_flight.acquire().await.ok();
            inner.limiter.until_ready().await;
            let Some(gate) = &inner.gate else {
                break slot;
            };
            match gate.admit().await {
                // Sent at once: an admission is good in the window it was granted for.
                Ok(Admission::Admitted) => break slot,
                Ok(Admission::WaitFor(wait)) => {
                    // The slot goes back while we wait for the next window (see `crate::gate`).
                    drop(slot);
                    inner.counters.gate_waits.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        method = %call.method,
                        path = call.path,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "waiting for the shared ConnectWise request limit"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(error) => return Err(gate_failure(call, error)),
            }
        };
        inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut request = inner
            .http
            .request(call.method.clone(), call.url.clone())
            .timeout(inner.timeout)
            .header(USER_AGENT, HeaderValue::from_static(AGENT))
            .header(AUTHORIZATION, inner.authorization.clone())
            .header(CLIENT_ID, inner.client_id.clone())
            .header(ACCEPT, inner.accept.clone());
        if call.forward_only {
            request = request.header(PAGINATION_TYPE, HeaderValue::from_static("forward-only"));
        }
        request = match &call.body {
            Body::Empty => request,
            Body::Json(bytes) => request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(bytes.clone()),
            Body::Multipart(document) => {
                request.multipart(document.form().map_err(Failure::Fatal)?)
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let failure =
                    retry::classify_transport(&call.method, call.path, &error, inner.timeout);
                tracing::debug!(
                    method = %call.method,
                    path = call.path,
                    attempt,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    error = %retry::transport_detail(&error, inner.timeout),
                    "ConnectWise request failed"
                );
                return Err(failure);
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        if status == StatusCode::TOO_MANY_REQUESTS {
            inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
        }
        let body = response.bytes().await;
        tracing::debug!(
            method = %call.method,
            path = call.path,
            attempt,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ConnectWise request"
        );
        match body {
            Ok(body) => Ok(Response {
                status,
                headers,
                body,
            }),
            Err(error) if status.is_success() => {
                // The server did the work; only the answer got lost.
                Err(retry::classify_transport(
                    &call.method,
                    call.path,
                    &error,
                    inner.timeout,
                ))
            }
            Err(_) => Err(retry::classify_status(
                &call.method,
                call.path,
                status.as_u16(),
                &headers,
                b"",
            )),
        }
    }

    /// Serializes a JSON body.
    fn json_body<B: Serialize + ?Sized>(path: &str, body: &B) -> CwResult<Body<'static>> {
        serde_json::to_vec(body)
            .map(|v| Body::Json(Bytes::from(v)))
            .map_err(|e| CwError::Encode {
                path: path.to_owned(),
                detail: e.to_string(),
            })
    }

    /// `GET {path}`: one record.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> CwResult<T> {
        self.get_with(path, &Query::new()).await
    }

    /// `GET {path}` with query options (typically `fields`).
    pub async fn get_with<T: DeserializeOwned>(&self, path: &str, query: &Query) -> CwResult<T> {
        let url = self.url(path, &query.shape_params())?;
        let call = Call::new(Method::GET, path, url);
        let response = self.execute(&call).await?;
        decode(&call, &response)
    }

    /// `POST {path}` (expects 201) and returns the created record.
    ///
    /// Not retried once the request may have reached the server: on a timeout, a reset or a 5xx
    /// the error is [`CwError::Ambiguous`]; look the record up by its natural key before trying
    /// again.
    pub async fn create<B, T>(&self, path: &str, body: &B) -> CwResult<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_json(Method::POST, path, body).await
    }

    /// `PUT {path}`: replaces the whole record (expects 200) and returns it.
    pub async fn update<B, T>(&self, path: &str, body: &B) -> CwResult<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_json(Method::PUT, path, body).await
    }

    /// `PATCH {path}` with `operations` (expects 200) and returns the record.
    ///
    /// An empty list sends no PATCH: the record is read with a GET instead, so callers can pass
    /// the result of [`crate::diff`] without checking it.
    pub async fn patch<T: DeserializeOwned>(
        &self,
        path: &str,
        operations: &[PatchOp],
    ) -> CwResult<T> {
        if operations.is_empty() {
            return self.get(path).await;
        }
        self.send_json(Method::PATCH, path, operations).await
    }

    /// `DELETE {path}` (expects 204).
    ///
    /// A 404 after an earlier attempt timed out counts as success: that attempt deleted it.
    pub async fn delete(&self, path: &str) -> CwResult<()> {
        let url = self.url::<&str, &str>(path, &[])?;
        let call = Call::new(Method::DELETE, path, url);
        self.execute(&call).await.map(|_| ())
    }

    async fn send_json<B, T>(&self, method: Method, path: &str, body: &B) -> CwResult<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let url = self.url::<&str, &str>(path, &[])?;
        let mut call = Call::new(method, path, url);
        call.body = Self::json_body(path, body)?;
        let response = self.execute(&call).await?;
        decode(&call, &response)
    }
}

/// A gate that could not decide: retried like a transient HTTP failure when it may pass later
/// (nothing was sent, so even a POST may be repeated), else the call's final error.
fn gate_failure(call: &Call<'_>, error: GateError) -> Failure {
    let transient = error.transient;
    let error = CwError::Gate {
        method: call.method.clone(),
        path: call.path.to_owned(),
        detail: error.detail,
        transient,
    };
    if transient {
        Failure::Retry {
            error,
            min_delay: None,
            maybe_applied: false,
        }
    } else {
        Failure::Fatal(error)
    }
}

/// Decodes a JSON body into `T`: malformed JSON is [`CwError::Unexpected`], JSON of the wrong
/// shape is [`CwError::Decode`], and so is ConnectWise's error object (`code`, `message`, no
/// `id`) in a success, which a record of all-optional fields would otherwise read as an empty
/// record: [`CwError::Unexpected`] quoting its code and message.
pub(crate) fn decode<T: DeserializeOwned>(call: &Call<'_>, response: &Response) -> CwResult<T> {
    if let Some(error) = crate::error::error_in_success(&response.body) {
        return Err(CwError::Unexpected {
            method: call.method.clone(),
            path: call.path.to_owned(),
            status: response.status.as_u16(),
            excerpt: error,
        });
    }
    serde_json::from_slice(&response.body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => CwError::Decode {
            path: call.path.to_owned(),
            detail: e.to_string(),
        },
        _ => CwError::Unexpected {
            method: call.method.clone(),
            path: call.path.to_owned(),
            status: response.status.as_u16(),
            excerpt: excerpt(&response.body),
        },
    })
}

/// The `User-Agent` of every request.
const AGENT: &str = concat!("cwsync-connectwise/", env!("CARGO_PKG_VERSION"));

/// The configuration's shared HTTP client, else one of this client's own.
fn build_http(config: &ClientConfig) -> CwResult<reqwest::Client> {
    match &config.http {
        Some(http) => Ok(http.clone()),
        None => cwsync_http::http_client(cwsync_http::Redirects::Follow)
            .map_err(|message| CwError::Config { message }),
    }
}

/// `v2025_1` / `/v2025_1/` → `v2025_1/`; `None` when it could not be a codebase.
fn normalize_codebase(raw: &str) -> Option<String> {
    let name = raw.trim().trim_matches('/');
    let valid = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    valid.then(|| format!("{name}/"))
}

/// The `Codebase` field of `/login/companyinfo/{company}`.
#[derive(serde::Deserialize)]
struct CompanyInfo {
    #[serde(rename = "Codebase")]
    codebase: String,
}

async fn lookup_codebase(http: &reqwest::Client, config: &ClientConfig) -> String {
    let company = config.company_id.as_str();
    match fetch_codebase(http, config).await {
        Ok(codebase) => {
            tracing::debug!(company, codebase = %codebase, "ConnectWise codebase found");
            codebase
        }
        Err(reason) => {
            tracing::warn!(
                company,
                reason = %reason,
                "ConnectWise codebase lookup failed; using {DEFAULT_CODEBASE}"
            );
            DEFAULT_CODEBASE.to_owned()
        }
    }
}

async fn fetch_codebase(http: &reqwest::Client, config: &ClientConfig) -> Result<String, String> {
    let mut url = config
        .site
        .base_url()
        .join("login/companyinfo/")
        .map_err(|e| e.to_string())?;
    url.path_segments_mut()
        .map_err(|()| "the site URL cannot take a path".to_owned())?
        .pop_if_empty()
        .push(&config.company_id);
    let response = http
        .get(url)
        .timeout(config.timeout)
        .header(USER_AGENT, HeaderValue::from_static(AGENT))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| retry::transport_detail(&e, config.timeout))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("companyinfo answered {status}"));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| retry::transport_detail(&e, config.timeout))?;
    let info: Option<CompanyInfo> = serde_json::from_slice(&body)
        .map_err(|e| format!("companyinfo body is not the expected JSON: {e}"))?;
    let info = info.ok_or_else(|| "the company id is unknown to this server".to_owned())?;
    normalize_codebase(&info.codebase).ok_or_else(|| {
        format!(
            "companyinfo returned an unusable codebase {:?}",
            info.codebase
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Site;
    use secrecy::SecretString;

    pub(crate) fn config(site: &str) -> ClientConfig {
        ClientConfig::new(
            Site::parse(site).unwrap(),
            "acme",
            SecretString::from("pub"),
            SecretString::from("TOP-SECRET-PRIVATE"),
            "0d6c0b3a-3a3b-4b6e-9d3e-000000000001",
        )
    }

    #[test]
    fn codebases_are_normalised_to_one_trailing_slash() {
        assert_eq!(normalize_codebase("v2025_1").as_deref(), Some("v2025_1/"));
        assert_eq!(
            normalize_codebase("/v4_6_release/").as_deref(),
            Some("v4_6_release/")
        );
        assert_eq!(normalize_codebase("../"), None);
        assert_eq!(normalize_codebase("a/b"), None);
        assert_eq!(normalize_codebase(""), None);
    }

    #[test]
    fn the_api_base_joins_site_codebase_and_version() {
        let mut cfg = config("na");
        cfg.codebase = Some("v2025_1/".into());
        let client = Client::new(cfg).unwrap();
        assert_eq!(
            client.api_base().as_str(),
            "https://api-na.myconnectwise.net/v2025_1/apis/3.0/"
        );
        let url = client
            .url("/company/companies/5", &[("fields", "id")])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://api-na.myconnectwise.net/v2025_1/apis/3.0/company/companies/5?fields=id"
        );
    }

    #[test]
    fn without_a_codebase_the_release_alias_is_used() {
        let client = Client::new(config("http://127.0.0.1:9")).unwrap();
        assert_eq!(client.codebase(), "v4_6_release/");
    }

    #[test]
    fn a_path_with_a_query_string_is_refused() {
        let client = Client::new(config("na")).unwrap();
        assert!(matches!(
            client.url::<&str, &str>("/company/companies?conditions=x", &[]),
            Err(CwError::Config { .. })
        ));
    }

    /// A gate that defers its first answer by a minute and admits the rest; says when asked.
    #[derive(Debug, Default)]
    struct DefersTheFirst {
        asked: AtomicU64,
        notify: tokio::sync::Notify,
    }

    #[async_trait::async_trait]
    impl RequestGate for DefersTheFirst {
        async fn admit(&self) -> Result<Admission, GateError> {
            let asked = self.asked.fetch_add(1, Ordering::SeqCst);
            self.notify.notify_one();
            Ok(if asked == 0 {
                Admission::WaitFor(Duration::from_secs(60))
            } else {
                Admission::Admitted
            })
        }
    }

    // One thread and paused time: the deferred request runs from the gate's answer to its sleep
    // in one poll, before this test goes on; nothing here depends on how long anything takes.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_request_waiting_for_the_gate_gives_its_in_flight_slot_back() {
        let gate = Arc::new(DefersTheFirst::default());
        let mut cfg = config("http://127.0.0.1:9");
        cfg.rate.max_in_flight = 1;
        cfg.gate = Some(gate.clone());
        let client = Client::new(cfg).unwrap();
        let deferred = tokio::spawn({
            let client = client.clone();
            async move { client.get::<serde_json::Value>("/system/info").await }
        });
        gate.notify.notified().await;
        tokio::task::yield_now().await;
        assert_eq!(gate.asked.load(Ordering::SeqCst), 1);
        assert_eq!(
            client.inner.in_flight.available_permits(),
            1,
            "the only slot is free while its request waits for the next window"
        );
        let stats = client.stats();
        assert_eq!((stats.requests, stats.gate_waits), (0, 1));
        deferred.abort();
    }

    #[test]
    fn client_debug_shows_no_credentials() {
        let client = Client::new(config("na")).unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("TOP-SECRET-PRIVATE"), "{debug}");
        let encoded = BASE64.encode("acme+pub:TOP-SECRET-PRIVATE");
        assert!(!debug.contains(&encoded), "{debug}");
    }
}
