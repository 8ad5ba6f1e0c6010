//! The batch write-back, `POST /v1/write-backs`: many records per call with per-record results
//! and the single-record PATCH's semantics; the knob that serves only the single form.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, account, at, sim_with};

async fn post(api: &Api, body: &Value) -> (u16, Value) {
    let resp = api
        .req(Method::POST, "/v1/write-backs")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_batch_applies_every_kind_and_answers_one_result_per_item_in_order() {
    let sim = sim_with(vec![account("A-1", at(0)), account("A-2", at(0))]).await;
    sim.set_clock(at(100));
    let api = Api::new(&sim);
    let (status, body) = post(
        &api,
        &json!({"items": [
            {"kind": "account", "id": "A-1", "patch": {"connectWiseCompanyId": 250, "phone": null}},
            {"kind": "site", "accountId": "A-1", "id": "S-A-1", "patch": {"connectWiseSiteId": 31}},
            {"kind": "contact", "accountId": "A-2", "id": "C-A-2", "patch": {"connectWiseContactId": 41}},
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r["status"] == 200), "{body}");
    assert_eq!(results[0]["record"]["connectWiseCompanyId"], 250);
    assert_eq!(results[1]["record"]["id"], "S-A-1");
    assert_eq!(results[2]["record"]["connectWiseContactId"], 41);
    let a1 = sim.account("A-1").unwrap();
    assert_eq!(a1.connect_wise_company_id, Some(250));
    assert_eq!(a1.phone, None);
    assert_eq!(a1.sites[0].connect_wise_site_id, Some(31));
    assert_eq!(a1.updated_at, at(100));
    let a2 = sim.account("A-2").unwrap();
    assert_eq!(a2.contacts[0].connect_wise_contact_id, Some(41));
    assert_eq!(a2.updated_at, at(100));
    let calls = sim.calls();
    assert_eq!(calls.count("POST", "/v1/write-backs"), 1);
    assert_eq!(calls.writes(), 1);
    assert_eq!(calls.records_written(), 3);

    // The same batch again changes nothing, so no account is stamped again (idempotent).
    sim.set_clock(at(200));
    let (status, _) = post(
        &api,
        &json!({"items": [{"kind": "account", "id": "A-1", "patch": {"connectWiseCompanyId": 250}}]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sim.account("A-1").unwrap().updated_at, at(100));
}

#[tokio::test]
async fn a_refused_item_is_that_items_result_named_with_its_field_and_the_rest_is_applied() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    let (status, body) = post(
        &api,
        &json!({"items": [
            {"kind": "contact", "accountId": "A-1", "id": "C-A-1", "patch": {"connectWiseContactId": "x"}},
            {"kind": "site", "accountId": "A-1", "id": "S-404", "patch": {"connectWiseSiteId": 1}},
            {"kind": "account", "id": "A-404", "patch": {"connectWiseCompanyId": 1}},
            {"kind": "planet", "id": "P-1", "patch": {}},
            {"kind": "site", "id": "S-A-1", "patch": {}},
            {"kind": "account", "accountId": "A-1", "id": "A-1", "patch": {}, "extra": 1},
            "not an object",
            {"kind": "account", "id": "A-1", "patch": {"billingAddress": {"state": 4}}},
            {"kind": "site", "accountId": "A-1", "id": "S-A-1", "patch": {"connectWiseSiteId": 31}},
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 9);
    let fields = |i: usize| -> Vec<String> {
        results[i]["error"]["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(results[0]["status"], 400);
    assert_eq!(fields(0), ["connectWiseContactId"]);
    assert_eq!(results[1]["status"], 404);
    assert!(
        results[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("site S-404 of account A-1"),
        "{body}"
    );
    assert_eq!(results[2]["status"], 404);
    assert_eq!(results[3]["status"], 400);
    assert_eq!(fields(3), ["kind"]);
    assert_eq!(fields(4), ["accountId"]);
    assert_eq!(fields(5), ["extra", "accountId"]);
    assert_eq!(results[6]["status"], 400);
    assert_eq!(fields(7), ["billingAddress.state"]);
    assert_eq!(results[8]["status"], 200);
    let a1 = sim.account("A-1").unwrap();
    assert_eq!(a1.sites[0].connect_wise_site_id, Some(31));
    assert_eq!(a1.contacts[0].connect_wise_contact_id, None);
    assert_eq!(a1.billing_address.unwrap().state.as_deref(), Some("AZ"));
}

#[tokio::test]
async fn an_invalid_envelope_refuses_the_whole_call_and_changes_nothing() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    let item = json!({"kind": "account", "id": "A-1", "patch": {"connectWiseCompanyId": 9}});
    let too_many: Vec<Value> = (0..101).map(|_| item.clone()).collect();
    for (body, field) in [
        (json!([item]), "items"),
        (json!({}), "items"),
        (json!({"items": []}), "items"),
        (json!({"items": too_many}), "items"),
        (json!({"items": [item], "dryRun": true}), "dryRun"),
    ] {
        let (status, answer) = post(&api, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"]["fields"][0]["field"], field, "{answer}");
    }
    assert_eq!(sim.account("A-1").unwrap().connect_wise_company_id, None);
}

#[tokio::test]
async fn with_the_single_form_only_knob_the_batch_route_does_not_exist() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    sim.set_single_write_backs_only(true);
    let api = Api::new(&sim);
    let item = json!({"kind": "account", "id": "A-1", "patch": {"connectWiseCompanyId": 9}});
    let (status, body) = post(&api, &json!({ "items": [item] })).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NotFound");
    assert_eq!(sim.account("A-1").unwrap().connect_wise_company_id, None);
    let (status, _) = api
        .patch("/v1/accounts/A-1", &json!({"connectWiseCompanyId": 9}))
        .await;
    assert_eq!(status, 200);
    sim.set_single_write_backs_only(false);
    let (status, _) = post(&api, &json!({ "items": [item] })).await;
    assert_eq!(status, 200);
}
