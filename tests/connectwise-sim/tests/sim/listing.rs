//! Lists, single records, counts and the query parameters (conditions, orderBy, fields).
//! Condition, orderBy and fields behaviour comes from the query module.
use serde_json::{Value, json};

use crate::common::{Api, empty_sim, seed_companies, sim};

fn ids(body: &Value) -> Vec<i64> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_list_is_ordered_by_id_and_omits_nulls() {
    let sim = empty_sim().await;
    sim.seed("/company/companies", vec![
        json!({"id": 7, "identifier": "B", "name": "Beta", "city": "Tampa", "phoneNumber": null}),
        json!({"id": 3, "identifier": "A", "name": "Alpha", "city": "Tampa"}),
    ])
    .unwrap();
    let (status, body) = Api::new(&sim).get_json("/company/companies").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), vec![3, 7]);
    assert!(body[1].get("phoneNumber").is_none());
    assert_eq!(body[0]["_info"]["updatedBy"], "cwsyncapi");
}

#[tokio::test]
async fn conditions_filter_the_list() {
    let sim = empty_sim().await;
    seed_companies(&sim, 5);
    let (status, body) = Api::new(&sim)
        .get_json("/company/companies?conditions=identifier%3D%22C0002%22")
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), vec![2]);
}

#[tokio::test]
async fn malformed_conditions_get_400_invalid_condition() {
    let sim = empty_sim().await;
    let (status, body) = Api::new(&sim)
        .get_json("/company/companies?conditions=name%3D%28%28")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "InvalidCondition");
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn order_by_sorts_the_list() {
    let sim = empty_sim().await;
    seed_companies(&sim, 3);
    let (_, body) = Api::new(&sim)
        .get_json("/company/companies?orderBy=name%20desc")
        .await;
    assert_eq!(ids(&body), vec![3, 2, 1]);
}

#[tokio::test]
async fn fields_trim_records_to_the_requested_paths() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (status, _) = api
        .send_json(
            reqwest::Method::POST,
            "/company/companies",
            &crate::common::company("ACME", "Acme"),
        )
        .await;
    assert_eq!(status, 201);
    let (_, body) = api
        .get_json("/company/companies?fields=id,status/name")
        .await;
    assert_eq!(body[0], json!({"id": 1, "status": {"name": "Active"}}));
    let (_, one) = api.get_json("/company/companies/1?fields=identifier").await;
    assert_eq!(one, json!({"identifier": "ACME"}));
}

#[tokio::test]
async fn count_returns_the_number_of_matching_records() {
    let sim = empty_sim().await;
    seed_companies(&sim, 12);
    let api = Api::new(&sim);
    assert_eq!(
        api.get_json("/company/companies/count").await,
        (200, json!({"count": 12}))
    );
    let (_, filtered) = api
        .get_json("/company/companies/count?conditions=id%3E10")
        .await;
    assert_eq!(filtered, json!({"count": 2}));
}

#[tokio::test]
async fn a_single_record_is_found_by_id_and_a_missing_one_is_404() {
    let sim = empty_sim().await;
    seed_companies(&sim, 2);
    let api = Api::new(&sim);
    let (status, body) = api.get_json("/company/companies/2").await;
    assert_eq!(status, 200);
    assert_eq!(body["identifier"], "C0002");
    let (status, body) = api.get_json("/company/companies/99").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "NotFound");
    assert!(body["message"].as_str().unwrap().contains("99"));
}

#[tokio::test]
async fn literal_path_segments_win_over_ids() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (status, types) = api.get_json("/company/companies/types").await;
    assert_eq!(status, 200);
    assert!(
        types
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "Client")
    );
    let (status, statuses) = api.get_json("/company/companies/statuses/1").await;
    assert_eq!(status, 200);
    assert_eq!(statuses["name"], "Active");
}

#[tokio::test]
async fn a_trailing_slash_path_is_served_with_and_without_the_slash() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (a, with) = api.get_json("/procurement/subcategories/").await;
    let (b, without) = api.get_json("/procurement/subcategories").await;
    assert_eq!((a, b), (200, 200));
    assert_eq!(with, without);
    assert_eq!(with[1]["category"]["name"], "Software");
}

#[tokio::test]
async fn members_are_found_by_identifier_too() {
    let sim = sim().await;
    let (status, body) = Api::new(&sim).get_json("/system/members/jdoe").await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], 2);
}

#[tokio::test]
async fn child_collections_list_only_their_parents_records() {
    let sim = empty_sim().await;
    seed_companies(&sim, 2);
    sim.seed(
        "/company/companies/1/sites",
        vec![json!({"name": "Main"}), json!({"name": "Annex"})],
    )
    .unwrap();
    sim.seed("/company/companies/2/sites", vec![json!({"name": "HQ"})])
        .unwrap();
    let api = Api::new(&sim);
    let (_, sites) = api.get_json("/company/companies/2/sites").await;
    assert_eq!(sites.as_array().unwrap().len(), 1);
    assert_eq!(sites[0]["name"], "HQ");
    assert_eq!(
        sites[0]["company"]["identifier"], "C0002",
        "a site carries its company reference"
    );
    let (status, _) = api.get_json("/company/companies/99/sites").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn custom_field_conditions_match_an_entry_of_custom_fields() {
    let sim = empty_sim().await;
    sim.seed("/company/companies", vec![
        json!({"identifier": "A", "name": "A", "city": "x", "customFields": [{"id": 1, "caption": "Tier", "value": "Gold"}]}),
        json!({"identifier": "B", "name": "B", "city": "x", "customFields": [{"id": 1, "caption": "Tier", "value": "Silver"}]}),
    ])
    .unwrap();
    let (status, body) =
        Api::new(&sim).get_json("/company/companies?customFieldConditions=caption%3D%22Tier%22%20and%20value%3D%22Gold%22").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), vec![1]);
}
