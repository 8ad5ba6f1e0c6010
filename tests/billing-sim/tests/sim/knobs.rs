//! Knobs: faults, rate limit, latency, counters, clock, seeding and reset.

use std::time::{Duration, Instant};

use cwsync_billing_sim::{BillingSim, BillingSimOptions, FaultKind, FaultRule};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, account, at, sim_with};

async fn status_of(api: &Api, path: &str) -> u16 {
    api.req(Method::GET, path)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn status_faults_answer_with_the_contract_error_body() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    for (status, code) in [
        (500, "Internal"),
        (502, "Unavailable"),
        (503, "Unavailable"),
        (504, "Unavailable"),
    ] {
        sim.clear_faults();
        sim.inject(FaultRule::new(FaultKind::Status(status)).next(1));
        let (got, body) = api.get("/v1/accounts/A-1").await;
        assert_eq!(got, status);
        assert_eq!(body["error"]["code"], code);
        assert_eq!(
            status_of(&api, "/v1/accounts/A-1").await,
            200,
            "only the next call"
        );
    }
}

#[tokio::test]
async fn a_throttle_fault_and_the_rate_limit_answer_429_with_retry_after() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    sim.inject(
        FaultRule::new(FaultKind::Throttle {
            retry_after_secs: 7,
        })
        .nth(1),
    );
    let resp = api.req(Method::GET, "/v1/accounts").send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RateLimited");

    sim.set_rate_limit(Some((2, Duration::from_millis(300), 3)));
    assert_eq!(status_of(&api, "/v1/accounts").await, 200);
    assert_eq!(status_of(&api, "/v1/accounts").await, 200);
    let resp = api.req(Method::GET, "/v1/accounts").send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(status_of(&api, "/v1/accounts").await, 200, "a new window");
    sim.set_rate_limit(None);
    for _ in 0..5 {
        assert_eq!(status_of(&api, "/v1/accounts").await, 200);
    }
}

#[tokio::test]
async fn a_drop_fault_closes_the_connection_without_a_response() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    sim.inject(
        FaultRule::new(FaultKind::Drop)
            .on("GET", "/v1/accounts/{id}")
            .nth(1),
    );
    let err = api
        .req(Method::GET, "/v1/accounts/A-1")
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(status_of(&api, "/v1/accounts/A-1").await, 200);
}

#[tokio::test]
async fn a_malformed_json_fault_cuts_the_body_after_the_write_landed() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    sim.inject(FaultRule::new(FaultKind::MalformedJson).on("PATCH", "/v1/accounts/{id}"));
    let resp = api
        .req(Method::PATCH, "/v1/accounts/A-1")
        .header("content-type", "application/merge-patch+json")
        .body(json!({"connectWiseCompanyId": 5}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(!text.is_empty());
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert_eq!(sim.account("A-1").unwrap().connect_wise_company_id, Some(5));
}

#[tokio::test]
async fn a_status_fault_after_processing_fails_a_write_that_landed() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    sim.inject(
        FaultRule::new(FaultKind::Status(502))
            .on("PATCH", "/v1/accounts/{id}")
            .after_processing(),
    );
    let (status, _) = api
        .patch("/v1/accounts/A-1", &json!({"connectWiseCompanyId": 6}))
        .await;
    assert_eq!(status, 502);
    assert_eq!(sim.account("A-1").unwrap().connect_wise_company_id, Some(6));
}

#[tokio::test]
async fn delay_faults_and_latency_hold_the_answer_back() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    sim.inject(FaultRule::new(FaultKind::Delay(Duration::from_millis(300))).nth(1));
    let started = Instant::now();
    assert_eq!(status_of(&api, "/v1/accounts/A-1").await, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    sim.clear_faults();
    sim.set_latency(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(status_of(&api, "/v1/accounts/A-1").await, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_fault_limited_to_a_method_and_route_spares_the_others() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    sim.inject(FaultRule::new(FaultKind::Status(503)).on("PATCH", "/v1/accounts/{id}"));
    assert_eq!(status_of(&api, "/v1/accounts/A-1").await, 200);
    assert_eq!(status_of(&api, "/v1/accounts").await, 200);
    let (status, _) = api
        .patch("/v1/accounts/A-1/sites/S-A-1", &json!({"phone": "2"}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = api.patch("/v1/accounts/A-1", &json!({"phone": "2"})).await;
    assert_eq!(status, 503);
    // A wildcard over concrete paths.
    sim.clear_faults();
    sim.inject(FaultRule::new(FaultKind::Status(500)).on("GET", "/v1/accounts/A-*"));
    assert_eq!(status_of(&api, "/v1/accounts/A-1").await, 500);
    assert_eq!(status_of(&api, "/v1/accounts").await, 200);
}

#[tokio::test]
async fn seeded_rate_faults_fire_on_the_same_calls_every_run() {
    async fn pattern() -> Vec<u16> {
        let sim = sim_with(vec![account("A-1", at(0))]).await;
        sim.inject(FaultRule::new(FaultKind::Status(503)).rate(0.4, 7));
        let api = Api::new(&sim);
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(status_of(&api, "/v1/accounts/A-1").await);
        }
        statuses
    }
    let first = pattern().await;
    assert_eq!(first, pattern().await);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
}

#[tokio::test]
async fn calls_are_counted_by_route_template() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    api.get("/v1/accounts?limit=5").await;
    api.get("/v1/accounts/A-1").await;
    api.get("/v1/accounts/A-2").await;
    api.patch("/v1/accounts/A-1", &json!({"phone": "3"})).await;
    api.patch("/v1/accounts/A-1/sites/S-A-1", &json!({"phone": "3"}))
        .await;
    api.patch("/v1/accounts/A-1/contacts/C-A-1", &json!({"title": "x"}))
        .await;
    api.get("/v1/nothing").await;
    let unauthenticated = api
        .http
        .get(format!("{}/v1/accounts", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let calls = sim.calls();
    assert_eq!(calls.total(), 8);
    assert_eq!(calls.writes(), 3);
    assert_eq!(calls.count("GET", "/v1/accounts"), 2);
    assert_eq!(calls.count("get", "/v1/accounts/{id}"), 2);
    assert_eq!(calls.count("PATCH", "/v1/accounts/{id}"), 1);
    assert_eq!(
        calls.count("PATCH", "/v1/accounts/{accountId}/sites/{siteId}"),
        1
    );
    assert_eq!(
        calls.count("PATCH", "/v1/accounts/{accountId}/contacts/{contactId}"),
        1
    );
    assert_eq!(calls.count("GET", "<unmatched>"), 1);
    assert_eq!(
        calls.longest_target(),
        "/v1/accounts/A-1/contacts/C-A-1".len()
    );
}

#[tokio::test]
async fn modifying_an_account_stamps_it_with_the_simulated_clock() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    sim.set_clock(at(1000));
    sim.advance_clock(Duration::from_secs(60));
    assert_eq!(sim.now(), at(1060));
    assert!(sim.modify_account("A-1", |a| a.name = "Renamed by a user".into()));
    assert!(!sim.modify_account("A-404", |a| a.name = "never".into()));
    let changed = sim.account("A-1").unwrap();
    assert_eq!(changed.name, "Renamed by a user");
    assert_eq!(changed.updated_at, at(1060));
    let (_, body) = Api::new(&sim).get("/v1/accounts/A-1").await;
    assert_eq!(body["name"], "Renamed by a user");
}

#[tokio::test]
async fn a_removed_account_is_gone_from_reads() {
    let sim = sim_with(vec![account("A-1", at(0)), account("A-2", at(0))]).await;
    assert_eq!(sim.remove_account("A-1").map(|a| a.id), Some("A-1".into()));
    assert!(sim.remove_account("A-1").is_none());
    let api = Api::new(&sim);
    assert_eq!(status_of(&api, "/v1/accounts/A-1").await, 404);
    let ids: Vec<String> = sim.accounts().into_iter().map(|a| a.id).collect();
    assert_eq!(ids, ["A-2"]);
}

#[tokio::test]
async fn reset_returns_to_the_options_fixture_counters_and_knobs() {
    let sim = BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap();
    assert_eq!(sim.accounts().len(), 6);
    let api = Api::new(&sim);
    sim.seed_accounts(vec![account("A-1", at(0))]);
    assert!(sim.remove_account("A-1001").is_some());
    sim.inject(FaultRule::new(FaultKind::Status(503)));
    sim.set_rate_limit(Some((1, Duration::from_secs(60), 1)));
    sim.set_clock(at(5));
    assert_eq!(status_of(&api, "/v1/accounts").await, 503);
    sim.reset();
    assert_eq!(sim.calls().total(), 0);
    let ids: Vec<String> = sim.accounts().into_iter().map(|a| a.id).collect();
    assert_eq!(
        ids,
        ["A-1001", "A-1002", "A-1003", "A-1004", "A-1005", "A-1006"]
    );
    for _ in 0..3 {
        assert_eq!(status_of(&api, "/v1/accounts").await, 200);
    }
    assert_ne!(sim.now(), at(5), "the real clock again");

    let empty = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    assert!(empty.accounts().is_empty());
}

#[tokio::test]
async fn a_custom_api_key_replaces_the_test_key() {
    let sim = BillingSim::start(BillingSimOptions {
        api_key: "tenant-key-123".into(),
        ..BillingSimOptions::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    assert_eq!(status_of(&api, "/v1/accounts").await, 401);
    let resp = api
        .http
        .get(format!("{}/v1/accounts", api.base))
        .bearer_auth("tenant-key-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!format!("{:?}", BillingSimOptions::default()).contains("cwsync-test"));
}
