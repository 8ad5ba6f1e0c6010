//! Errors and retries over real HTTP: 403, 404, malformed conditions, 429 with `Retry-After`,
//! 5xx, hangs past the client timeout, dropped connections, and POSTs that must never be
//! repeated blindly.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use cwsync_connectwise::models::Company;
use cwsync_connectwise::{ClientConfig, Condition, CwError, Query, RetryPolicy};
use cwsync_connectwise_sim::{ApiMember, FaultKind, FaultRule, RateLimit, SimOptions};
use reqwest::Method;
use serde_json::Value;

use crate::support::{
    client, config, config_at, connect, new_company, seed_companies, sim, sim_with,
};

const ONE: &str = "/company/companies/{id}";

fn first_company(sim: &cwsync_connectwise_sim::Simulator) -> String {
    format!("/company/companies/{}", seed_companies(sim, 1)[0])
}

#[tokio::test]
async fn an_operation_the_members_role_lacks_is_forbidden_and_names_the_operation() {
    let member = ApiMember::test_member().deny(Method::DELETE, ONE);
    let sim = sim_with(SimOptions {
        members: vec![member],
        ..SimOptions::default()
    })
    .await;
    let path = first_company(&sim);
    let client = client(&sim).await;

    let err = client.delete(&path).await.unwrap_err();

    let CwError::Forbidden {
        method,
        path: p,
        message,
    } = &err
    else {
        panic!("expected Forbidden, got {err:?}");
    };
    assert_eq!(*method, Method::DELETE);
    assert_eq!(*p, path);
    assert!(message.contains("DELETE"), "{message}");
    assert!(err.to_string().contains("security role"), "{err}");
    assert_eq!(
        sim.records("/company/companies").len(),
        1,
        "nothing was deleted"
    );
    assert!(
        client.get::<Company>(&path).await.is_ok(),
        "other operations stay allowed"
    );
    assert_eq!(
        sim.calls().count("DELETE", ONE),
        1,
        "a 403 is never retried"
    );
}

#[tokio::test]
async fn an_unknown_record_is_not_found() {
    let sim = sim().await;
    let client = client(&sim).await;

    let err = client
        .get::<Company>("/company/companies/424242")
        .await
        .unwrap_err();

    assert!(
        matches!(&err, CwError::NotFound { method, path } if *method == Method::GET && path == "/company/companies/424242"),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(404));
    assert_eq!(sim.calls().count("GET", ONE), 1, "a 404 is never retried");
}

#[tokio::test]
async fn a_malformed_condition_is_a_bad_request_carrying_the_servers_message() {
    let sim = sim().await;
    let client = client(&sim).await;
    // The builder only writes valid syntax; a run-time field path spelled like a keyword is the
    // one way to send the server a condition it cannot parse.
    let condition = Condition::try_field("in").unwrap().eq("x");
    let server_says = cwsync_connectwise_sim::query::conditions::parse(&condition.to_string())
        .unwrap_err()
        .message;

    let err = client
        .list_all::<Value>("/company/companies", &Query::new().filter(condition))
        .await
        .unwrap_err();

    let CwError::BadRequest { code, message, .. } = &err else {
        panic!("expected BadRequest, got {err:?}");
    };
    assert_eq!(code, "InvalidCondition");
    assert_eq!(*message, format!("conditions: {server_says}"));
    assert!(message.contains("position"), "{message}");
}

fn retrying(sim: &cwsync_connectwise_sim::Simulator, policy: RetryPolicy) -> ClientConfig {
    let mut config = config(sim);
    config.retry = policy;
    config
}

/// Polls until the simulator has seen `n` calls of `GET /company/companies/{id}` (a bound, not a
/// race: the test only goes on once the client provably reached that point).
async fn until_gets(sim: &cwsync_connectwise_sim::Simulator, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.calls().count("GET", ONE) < n {
        assert!(Instant::now() < deadline, "the client never made {n} calls");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn throttled_requests_are_retried_until_the_server_lets_them_through() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = connect(retrying(
        &sim,
        RetryPolicy {
            max_attempts: 20,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(30),
        },
    ))
    .await;
    // One call per minute, Retry-After: 0: only the client's own backoff spaces its retries.
    sim.set_rate_limit(Some(
        RateLimit::new(1, Duration::from_secs(60)).retry_after(0),
    ));
    client.get::<Company>(&path).await.unwrap();

    let second = tokio::spawn({
        let client = client.clone();
        async move { client.get::<Company>(&path).await }
    });
    until_gets(&sim, 4).await;
    sim.set_rate_limit(None);
    let company = second.await.unwrap().unwrap();

    assert!(company.id.is_some());
    let stats = client.stats();
    assert!(stats.throttled >= 3, "{stats:?}");
    assert_eq!(stats.retries, stats.throttled, "{stats:?}");
    assert_eq!(sim.calls().count("GET", ONE), 2 + stats.throttled);
}

#[tokio::test]
async fn a_throttled_request_waits_at_least_the_retry_after_the_server_asked_for() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = client(&sim).await;
    sim.set_rate_limit(Some(
        RateLimit::new(1, Duration::from_secs(60)).retry_after(1),
    ));
    client.get::<Company>(&path).await.unwrap();

    let second = tokio::spawn({
        let client = client.clone();
        async move {
            let started = Instant::now();
            client
                .get::<Company>(&path)
                .await
                .map(|_| started.elapsed())
        }
    });
    until_gets(&sim, 2).await;
    sim.set_rate_limit(None);
    let elapsed = second.await.unwrap().unwrap();

    assert!(
        elapsed >= Duration::from_secs(1),
        "Retry-After: 1 was honoured ({elapsed:?})"
    );
    let throttled = client.stats().throttled;
    assert!(throttled >= 1);
    assert_eq!(sim.calls().count("GET", ONE), 2 + throttled);
}

#[tokio::test]
async fn a_request_still_throttled_when_the_policy_gives_up_is_reported_as_throttled() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = connect(retrying(
        &sim,
        RetryPolicy {
            max_attempts: 3,
            ..crate::support::fast_retry()
        },
    ))
    .await;
    sim.set_rate_limit(Some(
        RateLimit::new(0, Duration::from_secs(60)).retry_after(0),
    ));

    let err = client.get::<Company>(&path).await.unwrap_err();

    assert!(
        matches!(err, CwError::Throttled { retry_after: Some(d) } if d.is_zero()),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(sim.calls().count("GET", ONE), 3, "max_attempts in total");
}

#[tokio::test]
async fn a_throttled_post_is_retried_because_it_never_reached_the_application() {
    let sim = sim().await;
    let client = client(&sim).await;
    sim.inject(
        FaultRule::new(FaultKind::Status(429))
            .on("POST", "/company/companies")
            .nth(1),
    );

    let created: Company = client
        .create("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap();

    assert!(created.id.is_some());
    assert_eq!(sim.calls().count("POST", "/company/companies"), 2);
    assert_eq!(sim.records("/company/companies").len(), 1, "created once");
}

#[tokio::test]
async fn service_unavailable_twice_then_success_is_retried_to_success() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = client(&sim).await;
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("GET", ONE)
            .next(2),
    );

    let company: Company = client.get(&path).await.unwrap();

    assert!(company.id.is_some());
    assert_eq!(sim.calls().count("GET", ONE), 3);
    assert_eq!(client.stats().retries, 2);
}

#[tokio::test]
async fn gateway_errors_and_timeout_500s_are_retried_for_reads_and_updates() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = client(&sim).await;
    sim.inject(FaultRule::new(FaultKind::Status(502)).on("GET", ONE).nth(1));
    sim.inject(
        FaultRule::new(FaultKind::Status(504))
            .on("PATCH", ONE)
            .nth(1),
    );
    sim.inject(
        FaultRule::new(FaultKind::TimeoutError)
            .on("GET", "/company/companies")
            .nth(1),
    );

    let company: Company = client.get(&path).await.unwrap();
    let ops = vec![cwsync_connectwise::PatchOp::replace("name", "Patched")];
    let patched: Company = client.patch(&path, &ops).await.unwrap();
    let all: Vec<Company> = client
        .list_all("/company/companies", &Query::new())
        .await
        .unwrap();

    assert_eq!(company.id, patched.id);
    assert_eq!(patched.name.as_deref(), Some("Patched"));
    assert_eq!(all.len(), 1);
    assert_eq!(client.stats().retries, 3);
}

#[tokio::test]
async fn a_plain_500_is_returned_at_once_as_a_transient_error() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = client(&sim).await;
    sim.inject(FaultRule::new(FaultKind::Status(500)).on("GET", ONE));

    let err = client.get::<Company>(&path).await.unwrap_err();

    assert!(
        matches!(
            err,
            CwError::Transient {
                status: Some(500),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        sim.calls().count("GET", ONE),
        1,
        "only a 500 that mentions a timeout is retried"
    );
}

#[tokio::test]
async fn a_read_that_hangs_past_the_client_timeout_is_retried_and_succeeds() {
    let sim = sim().await;
    let path = first_company(&sim);
    let mut config = config(&sim);
    config.timeout = Duration::from_millis(400);
    let client = connect(config).await;
    sim.inject(
        FaultRule::new(FaultKind::Hang { millis: 3_000 })
            .on("GET", ONE)
            .nth(1),
    );

    let started = Instant::now();
    let company: Company = client.get(&path).await.unwrap();

    assert!(company.id.is_some());
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "the first attempt waited for the timeout"
    );
    assert!(sim.calls().count("GET", ONE) >= 2);
    assert!(client.stats().retries >= 1);
}

#[tokio::test]
async fn a_post_that_times_out_is_ambiguous_sent_once_and_found_by_its_natural_key() {
    let sim = sim().await;
    let mut config = config(&sim);
    config.timeout = Duration::from_millis(400);
    let client = connect(config).await;
    // The simulator stores the company, then holds the answer past the client's timeout.
    sim.inject(
        FaultRule::new(FaultKind::Hang { millis: 3_000 })
            .on("POST", "/company/companies")
            .after_processing(),
    );

    let err = client
        .create::<_, Company>("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap_err();

    assert!(matches!(err, CwError::Ambiguous { .. }), "{err:?}");
    assert!(!err.is_transient(), "the caller must reconcile, not retry");
    assert_eq!(
        sim.calls().count("POST", "/company/companies"),
        1,
        "exactly one POST reached the server"
    );
    sim.clear_faults();
    let found: Vec<Company> = client
        .list_all(
            "/company/companies",
            &Query::new().filter(Condition::field("identifier").eq("ACME")),
        )
        .await
        .unwrap();
    assert_eq!(
        found.len(),
        1,
        "the caller's natural-key lookup finds the record"
    );
    assert_eq!(found[0].name.as_deref(), Some("Acme"));
}

#[tokio::test]
async fn a_post_answered_with_a_server_error_is_ambiguous_and_not_repeated() {
    let sim = sim().await;
    let client = client(&sim).await;
    sim.inject(FaultRule::new(FaultKind::Status(503)).on("POST", "/company/companies"));

    let err = client
        .create::<_, Company>("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap_err();

    assert!(matches!(err, CwError::Ambiguous { .. }), "{err:?}");
    assert_eq!(sim.calls().count("POST", "/company/companies"), 1);
}

#[tokio::test]
async fn a_read_whose_connection_is_dropped_is_retried_and_succeeds() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = client(&sim).await;
    sim.inject(FaultRule::new(FaultKind::Drop).on("GET", ONE).nth(1));

    let company: Company = client.get(&path).await.unwrap();

    assert!(company.id.is_some());
    assert_eq!(sim.calls().count("GET", ONE), 2);
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn a_post_whose_connection_is_dropped_after_the_write_is_ambiguous_and_sent_once() {
    let sim = sim().await;
    let client = client(&sim).await;
    sim.inject(
        FaultRule::new(FaultKind::Drop)
            .on("POST", "/company/companies")
            .after_processing(),
    );

    let err = client
        .create::<_, Company>("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap_err();

    assert!(matches!(err, CwError::Ambiguous { .. }), "{err:?}");
    assert_eq!(sim.calls().count("POST", "/company/companies"), 1);
    assert_eq!(
        sim.records("/company/companies").len(),
        1,
        "the write landed"
    );
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_counts_as_done_when_the_retry_finds_nothing() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = client(&sim).await;
    sim.inject(
        FaultRule::new(FaultKind::Drop)
            .on("DELETE", ONE)
            .nth(1)
            .after_processing(),
    );

    client.delete(&path).await.unwrap();

    assert_eq!(sim.calls().count("DELETE", ONE), 2);
    assert!(sim.records("/company/companies").is_empty());
}

/// A server that answers every request with an HTML page, like a proxy or a maintenance page.
async fn html_server(status: StatusCode) -> String {
    let page = format!(
        "<html><head><title>Maintenance</title></head><body>{}</body></html>",
        "We'll be back soon. ".repeat(50)
    );
    let app = axum::Router::new().fallback(move || {
        let page = page.clone();
        async move {
            (
                status,
                [(axum::http::header::CONTENT_TYPE, "text/html")],
                page,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_html_page_instead_of_json_is_unexpected_with_a_short_excerpt() {
    for status in [StatusCode::OK, StatusCode::IM_A_TEAPOT] {
        let base = html_server(status).await;
        let mut config = config_at(&base);
        config.codebase = Some("v2026_4/".to_owned());
        let client = connect(config).await;

        let err = client
            .get::<Company>("/company/companies/1")
            .await
            .unwrap_err();

        let CwError::Unexpected {
            status: got,
            excerpt,
            ..
        } = &err
        else {
            panic!("expected Unexpected, got {err:?}");
        };
        assert_eq!(*got, status.as_u16());
        assert!(
            excerpt.starts_with("<html><head><title>Maintenance"),
            "{excerpt}"
        );
        // At most 200 characters of the page, and a note that it was cut, with its size.
        let (quoted, note) = excerpt
            .split_once("… (cut: ")
            .unwrap_or_else(|| panic!("the excerpt says it was cut: {excerpt}"));
        assert!(
            quoted.chars().count() <= 200,
            "{} characters",
            quoted.chars().count()
        );
        assert!(note.ends_with(" bytes in all)"), "{excerpt}");
    }
}

#[tokio::test]
async fn a_pdf_read_as_json_is_unexpected_with_the_start_of_the_file() {
    let sim = sim().await;
    let ids = sim
        .seed(
            "/finance/invoices",
            vec![serde_json::json!({"invoiceNumber": "INV-1", "type": "Standard", "company": {"id": 1}})],
        )
        .unwrap();
    let client = client(&sim).await;

    let err = client
        .get::<Value>(&format!("/finance/invoices/{}/pdf", ids[0]))
        .await
        .unwrap_err();

    assert!(
        matches!(&err, CwError::Unexpected { status: 200, excerpt, .. } if excerpt.starts_with("%PDF")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_policy_allows_fails_at_once_as_throttled() {
    let sim = sim().await;
    let path = first_company(&sim);
    let client = connect(retrying(
        &sim,
        RetryPolicy {
            max_elapsed: Duration::from_millis(500),
            ..crate::support::fast_retry()
        },
    ))
    .await;
    sim.set_rate_limit(Some(
        RateLimit::new(1, Duration::from_secs(60)).retry_after(30),
    ));
    client.get::<Company>(&path).await.unwrap();

    let err = client.get::<Company>(&path).await.unwrap_err();

    assert!(
        matches!(err, CwError::Throttled { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{err:?}"
    );
    assert_eq!(
        sim.calls().count("GET", ONE),
        2,
        "no retry was started that could not finish within max_elapsed"
    );
}

#[tokio::test]
async fn a_post_to_a_server_that_refuses_connections_is_retried_and_never_ambiguous() {
    // A port that was just free: nothing listens, so every connection is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut config = config_at(&base);
    config.codebase = Some("v2026_4/".to_owned());
    let client = connect(config).await;

    let err = client
        .create::<_, Company>("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap_err();

    assert!(
        matches!(err, CwError::Transient { status: None, .. }),
        "a refused connection sent nothing, so it is safe to retry: {err:?}"
    );
    assert_eq!(
        client.stats().requests,
        4,
        "every attempt of the policy was made"
    );
}
