//! The client against small fake ConnectWise endpoints over real HTTP: headers, codebase lookup,
//! retries and POST ambiguity, typed errors, paging, URL-length batching, documents, rate limits,
//! the shared request gate.
//! Every delay is a few milliseconds; no assertion depends on an upper time bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Multipart, Query as QueryParams, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use bytes::Bytes;
use cwsync_connectwise::{
    Admission, Client, ClientConfig, Condition, CwError, GateError, PatchOp, Query, RateLimit,
    RequestGate, RetryPolicy, Site, UploadDocument,
};
use secrecy::SecretString;
use serde_json::{Value, json};

const PRIVATE_KEY: &str = "PRIVATE-KEY-never-shown-9f8e";
const API: &str = "/v4_6_release/apis/3.0";

/// What the fake server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Path and query exactly as sent.
    uri: String,
    headers: HeaderMap,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A multipart field as received: name, file name, content.
type Part = (String, Option<String>, Bytes);

async fn record(State(log): State<Log>, request: Request, next: Next) -> Response {
    log.lock().unwrap().push(Seen {
        method: request.method().to_string(),
        uri: request.uri().to_string(),
        headers: request.headers().clone(),
    });
    next.run(request).await
}

/// Serves `router` on a free local port; returns the base URL and the request log.
async fn serve(router: Router) -> (String, Log) {
    let log: Log = Arc::default();
    let app = router.layer(middleware::from_fn_with_state(log.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

fn config(base: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        Site::parse(base).unwrap(),
        "acme",
        SecretString::from("PUBLICKEY"),
        SecretString::from(PRIVATE_KEY),
        "7c4e1d3a-0000-4000-8000-000000000042",
    );
    config.codebase = Some("v4_6_release/".to_owned());
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(5),
    };
    config.rate = RateLimit {
        per_second: NonZeroU32::new(10_000).unwrap(),
        burst: NonZeroU32::new(10_000).unwrap(),
        max_in_flight: 16,
    };
    config
}

fn client(base: &str) -> Client {
    Client::new(config(base)).unwrap()
}

/// No error text may reveal the private key (or the Basic credentials built from it).
fn assert_no_secret(error: &CwError) {
    use base64::Engine as _;
    let text = format!("{error} {error:?}");
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("acme+PUBLICKEY:{PRIVATE_KEY}"));
    assert!(!text.contains(PRIVATE_KEY), "{text}");
    assert!(!text.contains(&basic), "{text}");
}

fn count_method(log: &Log, method: &str) -> usize {
    log.lock()
        .unwrap()
        .iter()
        .filter(|s| s.method == method)
        .count()
}

/// Answers with the given statuses in turn, then `last` forever; counts calls.
fn sequence(statuses: Vec<Response>, last: fn() -> Response) -> (Router, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let queue = Arc::new(Mutex::new(statuses.into_iter()));
    let counter = calls.clone();
    let handler = move || {
        let queue = queue.clone();
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let next = queue.lock().unwrap().next();
            next.unwrap_or_else(last)
        }
    };
    let router = Router::new()
        .route(&format!("{API}/company/companies"), any(handler.clone()))
        .route(&format!("{API}/company/companies/{{id}}"), any(handler));
    (router, calls)
}

fn ok_company() -> Response {
    Json(json!({"id": 1, "identifier": "ACME", "name": "Acme"})).into_response()
}

fn created_company() -> Response {
    (
        StatusCode::CREATED,
        Json(json!({"id": 1, "identifier": "ACME"})),
    )
        .into_response()
}

fn status(code: u16) -> Response {
    StatusCode::from_u16(code).unwrap().into_response()
}

fn with_retry_after(code: u16, secs: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        [(header::RETRY_AFTER, secs.to_owned())],
    )
        .into_response()
}

#[tokio::test]
async fn every_call_sends_basic_auth_client_id_and_the_versioned_accept_header() {
    let (router, _) = sequence(vec![], ok_company);
    let (base, log) = serve(router).await;
    let company: Value = client(&base).get("/company/companies/1").await.unwrap();
    assert_eq!(company["identifier"], "ACME");

    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.uri, format!("{API}/company/companies/1"));
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("acme+PUBLICKEY:{PRIVATE_KEY}"))
    );
    assert_eq!(seen.headers["authorization"], expected.as_str());
    assert_eq!(
        seen.headers["clientid"],
        "7c4e1d3a-0000-4000-8000-000000000042"
    );
    assert_eq!(
        seen.headers["accept"],
        "application/vnd.connectwise.com+json; version=2026.4"
    );
}

#[tokio::test]
async fn connect_looks_up_the_codebase_without_credentials() {
    let router = Router::new()
        .route(
            "/login/companyinfo/{company}",
            get(|| async {
                Json(
                    json!({"CompanyName": "Acme", "Codebase": "v2025_1/", "VersionCode": "v2025.1",
                            "VersionNumber": "v4.6.1", "CompanyID": "acme", "IsCloud": false}),
                )
            }),
        )
        .route(
            "/v2025_1/apis/3.0/system/info",
            get(|| async { Json(json!({"version": "v2025.1"})) }),
        );
    let (base, log) = serve(router).await;
    let mut cfg = config(&base);
    cfg.codebase = None;
    let client = Client::connect(cfg).await.unwrap();
    assert_eq!(client.codebase(), "v2025_1/");
    let info: Value = client.get("/system/info").await.unwrap();
    assert_eq!(info["version"], "v2025.1");

    let log = log.lock().unwrap();
    assert_eq!(log[0].uri, "/login/companyinfo/acme");
    assert!(log[0].headers.get("authorization").is_none());
    assert_eq!(log[1].uri, "/v2025_1/apis/3.0/system/info");
}

#[tokio::test]
async fn an_unknown_company_falls_back_to_the_release_alias() {
    let router = Router::new().route(
        "/login/companyinfo/{company}",
        get(|| async { Json(Value::Null) }),
    );
    let (base, _) = serve(router).await;
    let mut cfg = config(&base);
    cfg.codebase = None;
    let client = Client::connect(cfg).await.unwrap();
    assert_eq!(client.codebase(), "v4_6_release/");
}

#[tokio::test]
async fn a_failed_lookup_falls_back_to_the_release_alias() {
    let (base, _) = serve(Router::new()).await; // every route is 404
    let mut cfg = config(&base);
    cfg.codebase = None;
    let client = Client::connect(cfg).await.unwrap();
    assert_eq!(client.codebase(), "v4_6_release/");
}

#[tokio::test]
async fn a_throttled_get_is_retried_and_counted() {
    let (router, calls) = sequence(vec![with_retry_after(429, "0")], ok_company);
    let (base, _) = serve(router).await;
    let client = client(&base);
    let company: Value = client.get("/company/companies/1").await.unwrap();
    assert_eq!(company["id"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries, stats.throttled), (2, 1, 1));
}

#[tokio::test]
async fn a_retry_after_longer_than_the_budget_gives_up_at_once_with_the_wait() {
    let (router, calls) = sequence(vec![], || with_retry_after(429, "30"));
    let (base, _) = serve(router).await;
    let mut cfg = config(&base);
    cfg.retry.max_elapsed = Duration::from_millis(200);
    let started = Instant::now();
    let error = Client::new(cfg)
        .unwrap()
        .get::<Value>("/company/companies/1")
        .await
        .unwrap_err();
    assert!(
        matches!(error, CwError::Throttled { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_no_secret(&error);
}

#[tokio::test]
async fn service_unavailable_is_retried_until_the_server_recovers() {
    let (router, calls) = sequence(vec![status(503), status(504)], ok_company);
    let (base, _) = serve(router).await;
    let company: Value = client(&base).get("/company/companies/1").await.unwrap();
    assert_eq!(company["name"], "Acme");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retries_stop_after_max_attempts_with_a_transient_error() {
    let (router, calls) = sequence(vec![], || status(502));
    let (base, _) = serve(router).await;
    let error = client(&base)
        .get::<Value>("/company/companies/1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CwError::Transient {
                status: Some(502),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_no_secret(&error);
}

#[tokio::test]
async fn a_plain_500_is_not_retried_but_a_timeout_500_is() {
    let (router, calls) = sequence(
        vec![
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Execution Timeout Expired",
            )
                .into_response(),
        ],
        || (StatusCode::INTERNAL_SERVER_ERROR, "NullReferenceException").into_response(),
    );
    let (base, _) = serve(router).await;
    let error = client(&base)
        .get::<Value>("/company/companies/1")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CwError::Transient { status: Some(500), detail, .. } if detail.contains("NullReference")),
        "{error:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A handler that sleeps `first` on its first call and answers at once afterwards.
fn slow_then_fast(first: Duration, answer: fn() -> Response) -> (Router, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let handler = move || {
        let counter = counter.clone();
        async move {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                tokio::time::sleep(first).await;
            }
            answer()
        }
    };
    let router = Router::new()
        .route(&format!("{API}/company/companies"), any(handler.clone()))
        .route(&format!("{API}/company/companies/{{id}}"), any(handler));
    (router, calls)
}

fn fast_timeout(base: &str) -> Client {
    let mut cfg = config(base);
    cfg.timeout = Duration::from_millis(100);
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn a_get_that_times_out_is_retried() {
    let (router, calls) = slow_then_fast(Duration::from_millis(500), ok_company);
    let (base, _) = serve(router).await;
    let company: Value = fast_timeout(&base)
        .get("/company/companies/1")
        .await
        .unwrap();
    assert_eq!(company["id"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_post_that_times_out_is_ambiguous_and_reaches_the_server_once() {
    let (router, _) = slow_then_fast(Duration::from_millis(500), created_company);
    let (base, log) = serve(router).await;
    let error = fast_timeout(&base)
        .create::<_, Value>("/company/companies", &json!({"identifier": "ACME"}))
        .await
        .unwrap_err();
    assert!(matches!(error, CwError::Ambiguous { .. }), "{error:?}");
    assert!(!error.is_transient());
    assert!(error.to_string().contains("natural key"));
    assert_no_secret(&error);
    assert_eq!(count_method(&log, "POST"), 1);
}

#[tokio::test]
async fn a_post_that_gets_a_gateway_error_is_ambiguous_and_not_repeated() {
    let (router, calls) = sequence(vec![], || status(504));
    let (base, _) = serve(router).await;
    let error = client(&base)
        .create::<_, Value>("/company/companies", &json!({"identifier": "ACME"}))
        .await
        .unwrap_err();
    assert!(matches!(error, CwError::Ambiguous { .. }), "{error:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_throttled_post_is_retried_because_it_was_never_processed() {
    let (router, calls) = sequence(
        vec![with_retry_after(429, "0"), with_retry_after(503, "0")],
        created_company,
    );
    let (base, _) = serve(router).await;
    let created: Value = client(&base)
        .create("/company/companies", &json!({"identifier": "ACME"}))
        .await
        .unwrap();
    assert_eq!(created["id"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_post() {
    // Bind and drop a listener to get a port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client(&format!("http://127.0.0.1:{port}"));
    let error = client
        .create::<_, Value>("/company/companies", &json!({"identifier": "ACME"}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CwError::Transient { status: None, .. }),
        "{error:?}"
    );
    assert_eq!(client.stats().requests, 3);
    assert!(error.to_string().contains("could not connect"), "{error}");
    assert!(!error.to_string().contains("127.0.0.1"), "{error}");
    assert_no_secret(&error);
}

#[tokio::test]
async fn a_delete_whose_first_attempt_timed_out_and_then_finds_nothing_succeeds() {
    let (router, calls) = slow_then_fast(Duration::from_millis(500), || status(404));
    let (base, _) = serve(router).await;
    fast_timeout(&base)
        .delete("/company/companies/1")
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn error_bodies_become_typed_errors() {
    let responses = vec![
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "InvalidObject", "message": "company object is invalid",
                "errors": [{"code": "ObjectExists", "message": "The identifier ACME is already in use.",
                            "resource": "company", "field": "identifier"}]})),
        )
            .into_response(),
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "InvalidObject", "message": "company object is invalid",
                "errors": [{"code": "MissingRequiredField", "message": "name is required",
                            "resource": "company", "field": "name"}]})),
        )
            .into_response(),
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "InvalidCondition", "message": "Expected a value at position 9"})),
        )
            .into_response(),
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": "Unauthorized", "message": "Authentication failed"})),
        )
            .into_response(),
        (
            StatusCode::FORBIDDEN,
            Json(json!({"code": "Forbidden", "message": "You do not have access to Company Maintenance"})),
        )
            .into_response(),
        (
            StatusCode::NOT_FOUND,
            Json(json!({"code": "NotFound", "message": "Company not found"})),
        )
            .into_response(),
    ];
    let (router, calls) = sequence(responses, ok_company);
    let (base, _) = serve(router).await;
    let client = client(&base);
    let body = json!({"identifier": "ACME"});
    let mut errors = Vec::new();
    for _ in 0..6 {
        errors.push(
            client
                .create::<_, Value>("/company/companies", &body)
                .await
                .unwrap_err(),
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 6, "no 4xx is retried");
    assert!(
        matches!(&errors[0], CwError::AlreadyExists { errors, .. } if errors[0].field == "identifier")
    );
    assert!(
        matches!(&errors[1], CwError::Validation { errors, .. } if errors[0].code == "MissingRequiredField")
    );
    assert!(matches!(&errors[2], CwError::BadRequest { code, .. } if code == "InvalidCondition"));
    assert!(matches!(&errors[3], CwError::Unauthorized { .. }));
    assert!(matches!(&errors[4], CwError::Forbidden { .. }));
    assert!(errors[4].to_string().contains("Company Maintenance"));
    assert!(matches!(&errors[5], CwError::NotFound { path, .. } if path == "/company/companies"));
    for error in &errors {
        assert_no_secret(error);
    }
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_a_decode_error_and_html_is_unexpected() {
    let (router, _) = sequence(
        vec![
            Json(json!({"id": "not a number"})).into_response(),
            (StatusCode::OK, "<html>maintenance</html>").into_response(),
        ],
        ok_company,
    );
    let (base, _) = serve(router).await;
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Company {
        id: i64,
    }
    let client = client(&base);
    let shape = client
        .get::<Company>("/company/companies/1")
        .await
        .unwrap_err();
    assert!(
        matches!(&shape, CwError::Decode { path, detail } if path == "/company/companies/1" && detail.contains("invalid type")),
        "{shape:?}"
    );
    let html = client
        .get::<Company>("/company/companies/1")
        .await
        .unwrap_err();
    assert!(
        matches!(&html, CwError::Unexpected { status: 200, excerpt, .. } if excerpt.contains("maintenance")),
        "{html:?}"
    );
}

fn companies(n: i64) -> Vec<Value> {
    (1..=n)
        .map(|id| json!({"id": id, "identifier": format!("C{id}")}))
        .collect()
}

/// Navigable paging over `rows`, with absolute links on a host the client cannot reach.
async fn navigable(
    QueryParams(params): QueryParams<HashMap<String, String>>,
    with_links: bool,
    rows: Vec<Value>,
) -> Response {
    let page: usize = params.get("page").map_or(1, |p| p.parse().unwrap());
    let size: usize = params.get("pageSize").map_or(25, |p| p.parse().unwrap());
    let last = rows.len().div_ceil(size).max(1);
    let items: Vec<Value> = rows
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    let link = |p: usize, rel: &str| {
        format!(
            "<https://internal-node-7{API}/company/companies?pageSize={size}&page={p}>; rel=\"{rel}\""
        )
    };
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
    }
    links.push(link(last, "last"));
    if with_links {
        ([(header::LINK, links.join(", "))], Json(items)).into_response()
    } else {
        Json(items).into_response()
    }
}

#[tokio::test]
async fn list_all_follows_link_next_across_every_page() {
    let router = Router::new().route(
        &format!("{API}/company/companies"),
        get(|q| navigable(q, true, companies(5))),
    );
    let (base, log) = serve(router).await;
    let client = client(&base);
    let rows: Vec<Value> = client
        .list_all("/company/companies", &Query::new().page_size(2))
        .await
        .unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    let uris: Vec<String> = log.lock().unwrap().iter().map(|s| s.uri.clone()).collect();
    assert_eq!(
        uris,
        [1, 2, 3]
            .map(|p| format!("{API}/company/companies?page={p}&pageSize=2"))
            .to_vec()
    );

    let page = client
        .list_page::<Value>("/company/companies", &Query::new().page_size(2), 1)
        .await
        .unwrap();
    assert_eq!((page.next_page, page.last_page), (Some(2), Some(3)));
}

#[tokio::test]
async fn list_all_without_link_headers_stops_at_a_short_page() {
    let router = Router::new().route(
        &format!("{API}/company/companies"),
        get(|q| navigable(q, false, companies(4))),
    );
    let (base, log) = serve(router).await;
    let rows: Vec<Value> = client(&base)
        .list_all("/company/companies", &Query::new().page_size(2))
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    // Pages 1 and 2 are full, page 3 is empty and ends the listing.
    assert_eq!(log.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn list_forward_only_follows_page_ids_until_no_link() {
    async fn keyset(
        headers: HeaderMap,
        QueryParams(params): QueryParams<HashMap<String, String>>,
    ) -> Response {
        assert_eq!(headers["pagination-type"], "forward-only");
        assert!(!params.contains_key("page"));
        let after: i64 = params.get("pageId").map_or(0, |p| p.parse().unwrap());
        let size: usize = params["pageSize"].parse().unwrap();
        let rows: Vec<Value> = companies(7)
            .into_iter()
            .filter(|r| r["id"].as_i64().unwrap() > after)
            .collect();
        let page: Vec<Value> = rows.iter().take(size).cloned().collect();
        if rows.len() > size {
            let last = page.last().unwrap()["id"].as_i64().unwrap();
            let link = format!(
                "<https://internal-node-7{API}/company/companies?pageSize={size}&pageId={last}>; rel=\"next\""
            );
            ([(header::LINK, link)], Json(page)).into_response()
        } else {
            Json(page).into_response()
        }
    }
    let router = Router::new().route(&format!("{API}/company/companies"), get(keyset));
    let (base, log) = serve(router).await;
    let rows: Vec<Value> = client(&base)
        .list_forward_only("/company/companies", &Query::new().page_size(3))
        .await
        .unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7]);
    let uris: Vec<String> = log.lock().unwrap().iter().map(|s| s.uri.clone()).collect();
    assert_eq!(
        uris,
        [
            format!("{API}/company/companies?pageSize=3"),
            format!("{API}/company/companies?pageId=3&pageSize=3"),
            format!("{API}/company/companies?pageId=6&pageSize=3"),
        ]
    );
}

#[tokio::test]
async fn hostile_condition_text_reaches_the_server_unchanged() {
    let router = Router::new().route(
        &format!("{API}/company/companies/count"),
        get(
            |QueryParams(params): QueryParams<HashMap<String, String>>| async move {
                Json(json!({"count": params["conditions"].len()}))
            },
        ),
    );
    let (base, log) = serve(router).await;
    let hostile = "Müller & Söhne +1 100% #2 \"q\" 'a' \\ /?=";
    let condition = Condition::field("name").eq(hostile);
    let expected = condition.to_string();
    let count = client(&base)
        .count("/company/companies", &Query::new().filter(condition))
        .await
        .unwrap();
    assert_eq!(count, expected.len() as u64);
    let uri = log.lock().unwrap()[0].uri.clone();
    let query = uri.split_once('?').unwrap().1;
    let decoded = percent_encoding::percent_decode_str(query.strip_prefix("conditions=").unwrap())
        .decode_utf8()
        .unwrap();
    assert_eq!(decoded, expected);
}

#[tokio::test]
async fn list_by_ids_splits_the_in_list_so_every_url_fits() {
    async fn by_ids(QueryParams(params): QueryParams<HashMap<String, String>>) -> Json<Vec<Value>> {
        let conditions = &params["conditions"];
        let list = conditions
            .split_once("id in (")
            .unwrap()
            .1
            .split_once(')')
            .unwrap()
            .0;
        Json(
            list.split(',')
                .map(|id| json!({"id": id.parse::<i64>().unwrap()}))
                .collect(),
        )
    }
    let router = Router::new().route(&format!("{API}/company/companies"), get(by_ids));
    let (base, log) = serve(router).await;
    let mut cfg = config(&base);
    cfg.max_url_len = 300;
    let client = Client::new(cfg).unwrap();
    let wanted: Vec<i64> = (100_000..100_400).collect();
    let rows: Vec<Value> = client
        .list_by_ids(
            "/company/companies",
            "id",
            wanted.clone(),
            &Query::new().filter(Condition::field("deletedFlag").eq(false)),
        )
        .await
        .unwrap();
    let got: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(got, wanted);
    {
        let log = log.lock().unwrap();
        assert!(log.len() > 10, "expected many batches, got {}", log.len());
        for seen in log.iter() {
            let url_len = base.len() + seen.uri.len();
            assert!(url_len <= 300, "URL of {url_len} characters: {}", seen.uri);
            assert!(seen.uri.contains("deletedFlag"));
        }
    }

    let none: Vec<Value> = client
        .list_by_ids("/company/companies", "id", Vec::<i64>::new(), &Query::new())
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn patch_sends_the_operations_as_a_json_array() {
    let received: Arc<Mutex<Option<(Value, String)>>> = Arc::default();
    let sink = received.clone();
    let router = Router::new().route(
        &format!("{API}/company/companies/{{id}}"),
        axum::routing::patch(move |headers: HeaderMap, Json(body): Json<Value>| {
            let sink = sink.clone();
            async move {
                let content_type = headers[header::CONTENT_TYPE].to_str().unwrap().to_owned();
                *sink.lock().unwrap() = Some((body, content_type));
                Json(json!({"id": 7, "name": "Acme Corp"}))
            }
        }),
    );
    let (base, _) = serve(router).await;
    let old = json!({"id": 7, "name": "Acme", "status": {"id": 1, "name": "Active"}});
    let new = json!({"id": 7, "name": "Acme Corp", "status": {"id": 1}});
    let ops = cwsync_connectwise::diff(&old, &new);
    let updated: Value = client(&base)
        .patch("/company/companies/7", &ops)
        .await
        .unwrap();
    assert_eq!(updated["name"], "Acme Corp");
    let (body, content_type) = received.lock().unwrap().clone().unwrap();
    assert_eq!(
        body,
        json!([{"op": "replace", "path": "/name", "value": "Acme Corp"}])
    );
    assert_eq!(content_type, "application/json");
    assert_eq!(ops, vec![PatchOp::replace("name", "Acme Corp")]);
}

#[tokio::test]
async fn delete_accepts_no_content() {
    let router = Router::new().route(
        &format!("{API}/company/companies/{{id}}"),
        axum::routing::delete(|| async { StatusCode::NO_CONTENT }),
    );
    let (base, log) = serve(router).await;
    client(&base).delete("/company/companies/9").await.unwrap();
    assert_eq!(count_method(&log, "DELETE"), 1);
}

#[tokio::test]
async fn documents_upload_as_multipart_list_by_record_and_download_with_their_name() {
    let fields: Arc<Mutex<Vec<Part>>> = Arc::default();
    let sink = fields.clone();
    let router = Router::new()
        .route(
            &format!("{API}/system/documents"),
            post(move |mut multipart: Multipart| {
                let sink = sink.clone();
                async move {
                    while let Some(field) = multipart.next_field().await.unwrap() {
                        let name = field.name().unwrap().to_owned();
                        let file = field.file_name().map(str::to_owned);
                        let data = field.bytes().await.unwrap();
                        sink.lock().unwrap().push((name, file, data));
                    }
                    (
                        StatusCode::CREATED,
                        Json(json!({"id": 31, "title": "Invoice"})),
                    )
                }
            })
            .get(
                |QueryParams(params): QueryParams<HashMap<String, String>>| async move {
                    assert_eq!(params["recordType"], "Ticket");
                    assert_eq!(params["recordId"], "12");
                    Json(json!([{"id": 31, "title": "Invoice"}]))
                },
            ),
        )
        .route(
            &format!("{API}/system/documents/{{id}}/download"),
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "application/pdf"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"Invoice 12.pdf\"",
                        ),
                    ],
                    Bytes::from_static(b"%PDF-1.7"),
                )
            }),
        );
    let (base, _) = serve(router).await;
    let client = client(&base);
    let info: Value = client
        .upload_document(&UploadDocument {
            record_type: "Ticket".into(),
            record_id: 12,
            title: "Invoice".into(),
            file_name: "Invoice 12.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: Bytes::from_static(b"%PDF-1.7"),
            private_flag: true,
            read_only_flag: false,
        })
        .await
        .unwrap();
    assert_eq!(info["id"], 31);
    let fields = fields.lock().unwrap().clone();
    let text = |name: &str| {
        let (_, _, data) = fields.iter().find(|(n, _, _)| n == name).unwrap();
        String::from_utf8(data.to_vec()).unwrap()
    };
    assert_eq!(text("recordType"), "Ticket");
    assert_eq!(text("recordId"), "12");
    assert_eq!(text("title"), "Invoice");
    assert_eq!(text("privateFlag"), "true");
    assert_eq!(text("readOnlyFlay"), "false");
    assert_eq!(text("isAvatar"), "false");
    let file = fields.iter().find(|(n, _, _)| n == "file").unwrap();
    assert_eq!(file.1.as_deref(), Some("Invoice 12.pdf"));
    assert_eq!(&file.2[..], b"%PDF-1.7");

    let listed: Vec<Value> = client.list_documents("Ticket", 12).await.unwrap();
    assert_eq!(listed.len(), 1);

    let download = client.download_document(31).await.unwrap();
    assert_eq!(download.file_name.as_deref(), Some("Invoice 12.pdf"));
    assert_eq!(download.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(&download.bytes[..], b"%PDF-1.7");
}

#[tokio::test]
async fn the_in_flight_cap_is_shared_by_all_clones() {
    let current = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (cur, top) = (current.clone(), peak.clone());
    let router = Router::new().route(
        &format!("{API}/company/companies/{{id}}"),
        get(move || {
            let (cur, top) = (cur.clone(), top.clone());
            async move {
                let now = cur.fetch_add(1, Ordering::SeqCst) + 1;
                top.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                cur.fetch_sub(1, Ordering::SeqCst);
                ok_company()
            }
        }),
    );
    let (base, _) = serve(router).await;
    let mut cfg = config(&base);
    cfg.rate.max_in_flight = 2;
    let client = Client::new(cfg).unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .get::<Value>(&format!("/company/companies/{i}"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        peak.load(Ordering::SeqCst) <= 2,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
    assert_eq!(client.stats().requests, 8);
}

#[tokio::test]
async fn the_rate_limiter_spaces_requests_after_the_burst() {
    let (router, calls) = sequence(vec![], ok_company);
    let (base, _) = serve(router).await;
    let mut cfg = config(&base);
    cfg.rate.per_second = NonZeroU32::new(50).unwrap(); // one every 20 ms
    cfg.rate.burst = NonZeroU32::new(1).unwrap();
    let client = Client::new(cfg).unwrap();
    let started = Instant::now();
    for _ in 0..6 {
        client.get::<Value>("/company/companies/1").await.unwrap();
    }
    // Five waits of 20 ms after the first request.
    assert!(
        started.elapsed() >= Duration::from_millis(95),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}

/// A gate that gives the scripted answers in turn, then admits; counts what it was asked.
#[derive(Debug, Default)]
struct ScriptedGate {
    script: Mutex<std::collections::VecDeque<Result<Admission, GateError>>>,
    asked: AtomicUsize,
    admitted: AtomicUsize,
}

impl ScriptedGate {
    fn new(script: Vec<Result<Admission, GateError>>) -> Arc<Self> {
        Arc::new(ScriptedGate {
            script: Mutex::new(script.into()),
            ..ScriptedGate::default()
        })
    }
}

#[async_trait::async_trait]
impl RequestGate for ScriptedGate {
    async fn admit(&self) -> Result<Admission, GateError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(Admission::Admitted));
        if answer == Ok(Admission::Admitted) {
            self.admitted.fetch_add(1, Ordering::SeqCst);
        }
        answer
    }
}

fn gated(base: &str, gate: &Arc<ScriptedGate>) -> Client {
    let mut cfg = config(base);
    cfg.gate = Some(gate.clone());
    Client::new(cfg).unwrap()
}

fn gate_error(transient: bool) -> Result<Admission, GateError> {
    Err(GateError {
        detail: "DynamoDB UpdateItem failed: ThrottlingException".to_owned(),
        transient,
    })
}

#[tokio::test]
async fn the_gate_admits_every_attempt_retries_included() {
    let (router, calls) = sequence(vec![with_retry_after(429, "0"), status(503)], ok_company);
    let (base, _) = serve(router).await;
    let gate = ScriptedGate::new(vec![]);
    let client = gated(&base, &gate);
    let company: Value = client.get("/company/companies/1").await.unwrap();
    assert_eq!(company["id"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(gate.admitted.load(Ordering::SeqCst), 3);
    assert_eq!(client.stats().requests, 3);
}

#[tokio::test]
async fn a_request_the_gate_defers_is_sent_once_admitted() {
    let (router, calls) = sequence(vec![], created_company);
    let (base, _) = serve(router).await;
    let wait = Ok(Admission::WaitFor(Duration::from_millis(5)));
    let gate = ScriptedGate::new(vec![wait.clone(), wait]);
    let client = gated(&base, &gate);
    let created: Value = client
        .create("/company/companies", &json!({"identifier": "ACME"}))
        .await
        .unwrap();
    assert_eq!(created["id"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a POST is sent once");
    assert_eq!(gate.asked.load(Ordering::SeqCst), 3);
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries, stats.gate_waits), (1, 0, 2));
}

#[tokio::test]
async fn a_transient_gate_failure_is_retried_and_loses_no_request_not_even_a_post() {
    let (router, calls) = sequence(vec![], created_company);
    let (base, _) = serve(router).await;
    let gate = ScriptedGate::new(vec![gate_error(true)]);
    let client = gated(&base, &gate);
    let created: Value = client
        .create("/company/companies", &json!({"identifier": "ACME"}))
        .await
        .unwrap();
    assert_eq!(created["id"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(gate.asked.load(Ordering::SeqCst), 2);
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn a_gate_that_keeps_failing_sends_nothing_and_fails_transiently() {
    let (router, calls) = sequence(vec![], ok_company);
    let (base, _) = serve(router).await;
    let gate = ScriptedGate::new(vec![gate_error(true); 10]);
    let error = gated(&base, &gate)
        .get::<Value>("/company/companies/1")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CwError::Gate { transient: true, path, .. } if path == "/company/companies/1"),
        "{error:?}"
    );
    assert!(error.is_transient(), "the job is tried again later");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing unchecked is sent");
    assert_eq!(gate.asked.load(Ordering::SeqCst), 3, "max_attempts");
    assert!(error.to_string().contains("ThrottlingException"), "{error}");
    assert_no_secret(&error);
}

#[tokio::test]
async fn a_permanent_gate_failure_fails_the_call_without_sending_it() {
    let (router, calls) = sequence(vec![], ok_company);
    let (base, _) = serve(router).await;
    let gate = ScriptedGate::new(vec![gate_error(false)]);
    let error = gated(&base, &gate)
        .get::<Value>("/company/companies/1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CwError::Gate {
                transient: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(gate.asked.load(Ordering::SeqCst), 1);
}
