//! Knobs: rate limit, injected faults, latency, counters, clock.
use std::time::{Duration, Instant};

use cwsync_connectwise_sim::{FaultKind, FaultRule, RateLimit};
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, company, empty_sim, seed_companies, sim};

#[tokio::test]
async fn beyond_the_rate_limit_calls_get_429_with_retry_after_until_the_window_ends() {
    let sim = empty_sim().await;
    sim.set_rate_limit(Some(
        RateLimit::new(2, Duration::from_millis(1000)).retry_after(1),
    ));
    let api = Api::new(&sim);
    assert_eq!(api.get("/company/companies").await.status(), 200);
    assert_eq!(api.get("/company/companies").await.status(), 200);
    let resp = api.get("/company/companies").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "TooManyRequests");
    assert_eq!(
        sim.calls().throttled,
        1,
        "the refused call is counted as throttled"
    );
    assert_eq!(sim.calls().total, 3, "and as a call");
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(api.get("/company/companies").await.status(), 200);
    sim.set_rate_limit(None);
    for _ in 0..5 {
        assert_eq!(api.get("/company/companies").await.status(), 200);
    }
}

#[tokio::test]
async fn a_status_fault_fires_on_the_nth_matching_call_only() {
    let sim = empty_sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("GET", "/company/companies")
            .nth(2),
    );
    let api = Api::new(&sim);
    assert_eq!(api.get("/company/companies").await.status(), 200);
    assert_eq!(
        api.get("/company/companies/count").await.status(),
        200,
        "other endpoints do not count"
    );
    let resp = api.get("/company/companies").await;
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["code"].is_string() && body["message"].is_string());
    assert_eq!(api.get("/company/companies").await.status(), 200);
}

#[tokio::test]
async fn each_gateway_status_can_be_injected_for_the_next_calls() {
    let sim = empty_sim().await;
    let api = Api::new(&sim);
    for code in [500u16, 502, 503, 504] {
        sim.clear_faults();
        sim.inject(
            FaultRule::new(FaultKind::Status(code))
                .on("GET", "/company/companies/*")
                .next(2),
        );
        assert_eq!(api.get("/company/companies/1").await.status(), code);
        assert_eq!(api.get("/company/companies/2").await.status(), code);
        assert_eq!(
            api.get("/company/companies/3").await.status(),
            404,
            "after N faults the real answer comes back"
        );
    }
}

#[tokio::test]
async fn a_timeout_flavoured_500_mentions_timeout() {
    let sim = empty_sim().await;
    sim.inject(FaultRule::new(FaultKind::TimeoutError));
    let resp = Api::new(&sim).get("/company/companies").await;
    assert_eq!(resp.status(), 500);
    assert!(
        resp.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("timeout")
    );
}

#[tokio::test]
async fn a_hang_makes_a_client_with_a_short_timeout_give_up() {
    let sim = empty_sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Hang { millis: 2_000 })
            .on("GET", "/company/companies")
            .nth(1),
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let api = Api::with_client(&sim, http);
    let err = api
        .req(Method::GET, "/company/companies")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(api.get("/company/companies").await.status(), 200);
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_for_the_client() {
    let sim = empty_sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Drop)
            .on("GET", "/company/companies")
            .nth(1),
    );
    let api = Api::new(&sim);
    let err = api
        .req(Method::GET, "/company/companies")
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert_eq!(
        api.get("/company/companies").await.status(),
        200,
        "the next call is served"
    );
}

#[tokio::test]
async fn a_fault_after_processing_commits_the_write_the_client_never_hears_about() {
    let sim = sim().await;
    sim.inject(
        FaultRule::new(FaultKind::Drop)
            .on("POST", "/company/companies")
            .after_processing(),
    );
    let api = Api::new(&sim);
    let result = api
        .req(Method::POST, "/company/companies")
        .json(&company("ACME", "Acme"))
        .send()
        .await;
    assert!(result.is_err());
    assert_eq!(sim.records("/company/companies").len(), 1);
}

#[tokio::test]
async fn faults_at_a_rate_are_reproducible_with_the_same_seed() {
    async fn pattern() -> Vec<u16> {
        let sim = empty_sim().await;
        sim.inject(FaultRule::new(FaultKind::Status(502)).rate(0.3, 7));
        let api = Api::new(&sim);
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(api.get("/company/companies").await.status().as_u16());
        }
        out
    }
    let a = pattern().await;
    assert_eq!(a, pattern().await);
    assert!(a.contains(&502) && a.contains(&200), "{a:?}");
}

#[tokio::test]
async fn call_counters_count_api_calls_by_endpoint_and_writes() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.get("/company/companies").await;
    api.get("/company/companies").await;
    api.get("/company/companies/5").await;
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    api.send_json(
        Method::PATCH,
        "/company/companies/1",
        &json!([{"op": "replace", "path": "name", "value": "B"}]),
    )
    .await;
    reqwest::get(format!("{}/__sim/health", sim.base_url()))
        .await
        .unwrap();
    let calls = sim.calls();
    assert_eq!(calls.count("GET", "/company/companies"), 2);
    assert_eq!(calls.count("GET", "/company/companies/{id}"), 1);
    assert_eq!(calls.count("PATCH", "/company/companies/{id}"), 1);
    assert_eq!(calls.writes(), 2);
    assert_eq!(calls.total(), 5, "control endpoints are not counted");
}

#[tokio::test]
async fn latency_delays_every_call() {
    let sim = empty_sim().await;
    sim.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(Api::new(&sim).get("/company/companies").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn seeded_records_use_the_simulated_clock() {
    let sim = empty_sim().await;
    sim.set_clock(time::macros::datetime!(2024-01-02 03:04:05 UTC));
    seed_companies(&sim, 1);
    sim.advance_clock(Duration::from_secs(60));
    assert_eq!(
        sim.records("/company/companies")[0]["_info"]["lastUpdated"],
        "2024-01-02T03:04:05Z"
    );
    assert_eq!(sim.now(), time::macros::datetime!(2024-01-02 03:05:05 UTC));
}

#[tokio::test]
async fn reset_clears_records_counters_and_faults_and_reseeds_reference_data() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    sim.inject(FaultRule::new(FaultKind::Status(500)));
    sim.reset().unwrap();
    assert!(sim.records("/company/companies").is_empty());
    assert_eq!(sim.calls().total(), 0);
    assert!(!sim.records("/company/states").is_empty());
    assert_eq!(api.get("/company/companies").await.status(), 200);
}
