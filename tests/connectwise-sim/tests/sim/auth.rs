//! Authentication, permissions, codebases and the unauthenticated endpoints.
use cwsync_connectwise_sim::{
    ApiMember, SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PUBLIC_KEY,
};
use reqwest::Method;
use serde_json::json;

use crate::common::{Api, sim};

#[tokio::test]
async fn a_call_without_credentials_gets_401_with_the_connectwise_error_shape() {
    let sim = sim().await;
    let resp = reqwest::Client::new()
        .get(format!("{}/company/companies", sim.api_base()))
        .header("clientId", TEST_CLIENT_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "Unauthorized");
    assert!(body["message"].as_str().unwrap().len() > 5);
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "no errors member when there are none: {body}"
    );
}

#[tokio::test]
async fn a_wrong_private_key_is_refused() {
    let sim = sim().await;
    let resp = reqwest::Client::new()
        .get(format!("{}/company/companies", sim.api_base()))
        .basic_auth(
            format!("{TEST_COMPANY_ID}+{TEST_PUBLIC_KEY}"),
            Some("wrong"),
        )
        .header("clientId", TEST_CLIENT_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn a_call_without_client_id_is_refused() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let resp = api
        .http
        .get(format!("{}/company/companies", sim.api_base()))
        .basic_auth(
            format!("{TEST_COMPANY_ID}+{TEST_PUBLIC_KEY}"),
            Some(cwsync_connectwise_sim::TEST_PRIVATE_KEY),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("clientId"));
}

#[tokio::test]
async fn responses_carry_connectwise_headers() {
    let sim = sim().await;
    let resp = Api::new(&sim).get("/company/companies").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(resp.headers()["api-current-version"], "2026.4");
    assert!(resp.headers().contains_key("x-cw-request-id"));
}

#[tokio::test]
async fn company_info_names_the_codebase_for_a_known_company_and_is_null_otherwise() {
    let sim = sim().await;
    let http = reqwest::Client::new();
    let known: serde_json::Value = http
        .get(format!(
            "{}/login/companyinfo/{TEST_COMPANY_ID}",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(known["Codebase"], "v2026_4/");
    assert_eq!(known["CompanyID"], TEST_COMPANY_ID);
    assert_eq!(known["IsCloud"], true);
    assert_eq!(known["VersionCode"], "v2026.4");
    let resp = http
        .get(format!(
            "{}/login/companyinfo/nosuchcompany",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "null");
    assert_eq!(sim.calls().total(), 0, "companyinfo is not an API call");
}

#[tokio::test]
async fn the_release_alias_codebase_works_and_other_codebases_are_404() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let alias = format!(
        "{}/v4_6_release/apis/3.0/company/companies/types",
        sim.base_url()
    );
    assert_eq!(api.get(&alias).await.status(), 200);
    let other = format!(
        "{}/v2019_1/apis/3.0/company/companies/types",
        sim.base_url()
    );
    let resp = api.get(&other).await;
    assert_eq!(resp.status(), 404);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "NotFound");
}

#[tokio::test]
async fn a_member_without_permission_gets_403_naming_the_operation() {
    let member = ApiMember::test_member().deny(Method::POST, "/company/companies");
    let sim = Simulator::start(SimOptions {
        members: vec![member],
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    let (status, body) = api
        .send_json(
            Method::POST,
            "/company/companies",
            &crate::common::company("A", "A"),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"code": "Forbidden", "message": "You do not have access to POST /company/companies"})
    );
    assert_eq!(
        api.get("/company/companies").await.status(),
        200,
        "only the denied operation is refused"
    );
    assert!(sim.records("/company/companies").is_empty());
}

#[tokio::test]
async fn system_info_reports_a_cloud_server() {
    let sim = sim().await;
    let (status, body) = Api::new(&sim).get_json("/system/info").await;
    assert_eq!(status, 200);
    assert!(body["version"].as_str().unwrap().starts_with("v2026.4"));
    assert_eq!(body["isCloud"], true);
    assert_eq!(body["cloudRegion"], "NA");
}

#[tokio::test]
async fn an_unsupported_method_gets_405_with_the_error_shape() {
    let sim = sim().await;
    let resp = Api::new(&sim)
        .req(Method::DELETE, "/system/members/1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "MethodNotAllowed");
}
