//! POST, PUT, PATCH and DELETE: validation, references, uniqueness, `_info`, child collections.
use reqwest::Method;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::{Api, company, sim};

#[tokio::test]
async fn a_created_company_is_returned_with_201_id_info_and_expanded_references() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-02-03 04:05:06 UTC));
    let api = Api::new(&sim);
    let mut body = company("ACME", "Acme Ltd");
    body["country"] = json!({"id": 1});
    body["types"] = json!([{"id": 1}]);
    body["notAField"] = json!("ignored");
    body["phoneNumber"] = Value::Null;
    let (status, created) = api
        .send_json(Method::POST, "/company/companies", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], 1);
    assert_eq!(created["_info"]["lastUpdated"], "2025-02-03T04:05:06Z");
    assert_eq!(created["_info"]["updatedBy"], "cwsyncapi");
    assert_eq!(created["status"]["name"], "Active");
    assert_eq!(
        created["status"]["_info"]["status_href"],
        format!("{}/company/companies/statuses/1", sim.api_base())
    );
    assert_eq!(created["country"]["name"], "United States");
    assert_eq!(created["types"][0]["name"], "Client");
    assert!(
        created.get("notAField").is_none(),
        "unknown fields are ignored"
    );
    assert!(created.get("phoneNumber").is_none(), "nulls are omitted");
    let (_, fetched) = api.get_json("/company/companies/1").await;
    assert_eq!(fetched, created);
    let (_, assoc) = api.get_json("/company/companies/1/typeAssociations").await;
    assert_eq!(
        assoc[0]["type"]["id"], 1,
        "types given on POST become type associations"
    );
}

#[tokio::test]
async fn a_missing_required_field_gets_400_invalid_object_naming_the_field() {
    let sim = sim().await;
    let (status, body) = Api::new(&sim)
        .send_json(
            Method::POST,
            "/company/companies",
            &json!({"identifier": "X", "city": "Tampa", "site": {"name": "Main"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({
            "code": "InvalidObject",
            "message": "company object is invalid",
            "errors": [{"code": "MissingRequiredField", "message": "The field name is required.", "resource": "company", "field": "name"}]
        })
    );
    assert!(sim.records("/company/companies").is_empty());
}

#[tokio::test]
async fn a_company_needs_at_least_one_address_field() {
    let sim = sim().await;
    let (status, body) = Api::new(&sim)
        .send_json(
            Method::POST,
            "/company/companies",
            &json!({"identifier": "X", "name": "X"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "MissingRequiredField");
}

#[tokio::test]
async fn wrong_types_and_over_long_strings_are_invalid_fields() {
    let sim = sim().await;
    let mut body = company("X", "X");
    body["yearEstablished"] = json!("nineteen");
    body["zip"] = json!("1234567890123");
    let (status, resp) = Api::new(&sim)
        .send_json(Method::POST, "/company/companies", &body)
        .await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = resp["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"yearEstablished") && fields.contains(&"zip"),
        "{resp}"
    );
    assert!(
        resp["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "InvalidField")
    );
}

#[tokio::test]
async fn a_duplicate_identifier_gets_object_exists() {
    let sim = sim().await;
    let api = Api::new(&sim);
    assert_eq!(
        api.send_json(Method::POST, "/company/companies", &company("ACME", "One"))
            .await
            .0,
        201
    );
    let (status, body) = api
        .send_json(Method::POST, "/company/companies", &company("acme", "Two"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "InvalidObject");
    assert_eq!(body["errors"][0]["code"], "ObjectExists");
    assert_eq!(body["errors"][0]["field"], "identifier");
}

#[tokio::test]
async fn a_reference_to_a_missing_record_is_an_invalid_field() {
    let sim = sim().await;
    let mut body = company("X", "X");
    body["status"] = json!({"id": 99});
    let (status, resp) = Api::new(&sim)
        .send_json(Method::POST, "/company/companies", &body)
        .await;
    assert_eq!(status, 400);
    assert_eq!(resp["errors"][0]["field"], "status");
    assert_eq!(resp["errors"][0]["code"], "InvalidField");
}

#[tokio::test]
async fn malformed_bodies_get_400() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let resp = api
        .req(Method::POST, "/company/companies")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let (status, _) = api
        .send_json(Method::POST, "/company/companies", &json!([1, 2]))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!({"op": "replace"}),
        )
        .await;
    assert!(status == 400 || status == 404);
}

#[tokio::test]
async fn put_replaces_the_record_and_keeps_its_id() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut body = company("ACME", "Acme");
    body["phoneNumber"] = json!("555");
    api.send_json(Method::POST, "/company/companies", &body)
        .await;
    sim.set_clock(datetime!(2025-06-01 00:00:00 UTC));
    let (status, replaced) = api
        .send_json(
            Method::PUT,
            "/company/companies/1",
            &json!({"identifier": "ACME", "name": "Acme 2", "zip": "33602"}),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["id"], 1);
    assert_eq!(replaced["name"], "Acme 2");
    assert!(
        replaced.get("phoneNumber").is_none(),
        "PUT replaces the whole record"
    );
    assert_eq!(replaced["_info"]["lastUpdated"], "2025-06-01T00:00:00Z");
}

#[tokio::test]
async fn patch_accepts_slash_and_bare_paths_and_reference_ids() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let ops = json!([
        {"op": "replace", "path": "/name", "value": "Acme Renamed"},
        {"op": "replace", "path": "phoneNumber", "value": "8135550100"},
        {"op": "replace", "path": "/status/id", "value": 2},
        {"op": "add", "path": "/country", "value": {"id": 2}},
        {"op": "remove", "path": "/state"}
    ]);
    let (status, patched) = api
        .send_json(Method::PATCH, "/company/companies/1", &ops)
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Acme Renamed");
    assert_eq!(patched["phoneNumber"], "8135550100");
    assert_eq!(patched["status"]["name"], "Inactive");
    assert_eq!(patched["country"]["name"], "Canada");
    assert!(patched.get("state").is_none());
}

#[tokio::test]
async fn patch_results_are_validated_like_a_create() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let (status, body) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "remove", "path": "/name"}]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["field"], "name");
    let (status, body) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "replace", "path": "/status/id", "value": 99}]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["field"], "status");
    let (status, _) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "move", "path": "/name", "value": "x"}]),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn company_types_can_only_be_set_on_create() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let (status, body) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "replace", "path": "/types", "value": [{"id": 2}]}]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["field"], "types");
    // A type association changes them instead.
    let (status, _) = api
        .send_json(
            Method::POST,
            "/company/companies/1/typeAssociations",
            &json!({"type": {"id": 2}, "company": {"id": 1}}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, company) = api.get_json("/company/companies/1").await;
    assert_eq!(company["types"][0]["name"], "Prospect");
}

#[tokio::test]
async fn delete_returns_204_then_the_record_is_gone() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let resp = api
        .req(Method::DELETE, "/company/companies/1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.text().await.unwrap().is_empty());
    assert_eq!(api.get("/company/companies/1").await.status(), 404);
    assert_eq!(
        api.req(Method::DELETE, "/company/companies/1")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn child_records_point_at_their_parent() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let (status, site) = api
        .send_json(
            Method::POST,
            "/company/companies/1/sites",
            &json!({"name": "Main", "stateReference": {"id": 5}}),
        )
        .await;
    assert_eq!(status, 201, "{site}");
    assert_eq!(site["company"]["id"], 1);
    assert_eq!(site["company"]["identifier"], "ACME");
    assert_eq!(site["stateReference"]["identifier"], "FL");
    let (status, _) = api
        .send_json(
            Method::POST,
            "/company/companies/42/sites",
            &json!({"name": "Main"}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn agreement_additions_carry_the_agreement_id_and_a_product_reference() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let (s, contact) = api
        .send_json(
            Method::POST,
            "/company/contacts",
            &json!({"firstName": "Ann", "lastName": "Lee", "company": {"id": 1}}),
        )
        .await;
    assert_eq!(s, 201, "{contact}");
    assert_eq!(contact["company"]["name"], "Acme");
    let (s, agreement) = api
        .send_json(
            Method::POST,
            "/finance/agreements",
            &json!({"name": "MSA", "type": {"id": 1}, "company": {"id": 1}, "contact": {"id": 1}}),
        )
        .await;
    assert_eq!(s, 201, "{agreement}");
    assert_eq!(agreement["contact"]["name"], "Ann Lee");
    let (s, item) = api
        .send_json(
            Method::POST,
            "/procurement/catalog",
            &json!({"identifier": "M365", "description": "M365", "customerDescription": "M365", "subcategory": {"id": 2}, "type": {"id": 2}}),
        )
        .await;
    assert_eq!(s, 201, "{item}");
    let (s, addition) = api
        .send_json(
            Method::POST,
            "/finance/agreements/1/additions",
            &json!({"product": {"id": item["id"]}, "billCustomer": "billable", "quantity": "3"}),
        )
        .await;
    assert_eq!(s, 201, "{addition}");
    assert_eq!(addition["agreementId"], 1);
    assert_eq!(addition["product"]["identifier"], "M365");
    assert_eq!(
        addition["billCustomer"], "Billable",
        "enum values are normalised"
    );
    assert_eq!(addition["quantity"], 3.0, "numeric strings are coerced");
}

#[tokio::test]
async fn deleting_a_parent_removes_its_children() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    api.send_json(
        Method::POST,
        "/company/companies/1/sites",
        &json!({"name": "Main"}),
    )
    .await;
    api.req(Method::DELETE, "/company/companies/1")
        .send()
        .await
        .unwrap();
    assert!(sim.records("/company/companies/1/sites").is_empty());
}

#[tokio::test]
async fn a_new_company_gets_a_main_site_with_its_address() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut body = company("ACME", "Acme");
    body["addressLine1"] = json!("100 Example Ave");
    body["zip"] = json!("33602");
    body["country"] = json!({"id": 1});
    let (_, created) = api
        .send_json(Method::POST, "/company/companies", &body)
        .await;
    assert_eq!(created["site"]["name"], "Main");
    let (_, sites) = api.get_json("/company/companies/1/sites").await;
    assert_eq!(sites.as_array().unwrap().len(), 1);
    let site = &sites[0];
    assert_eq!(site["id"], created["site"]["id"]);
    assert_eq!(site["addressLine1"], "100 Example Ave");
    assert_eq!(site["stateReference"]["identifier"], "FL");
    assert_eq!(site["country"]["name"], "United States");
    assert_eq!(site["primaryAddressFlag"], true);
    api.send_json(
        Method::PATCH,
        "/company/companies/1",
        &json!([{"op": "replace", "path": "city", "value": "Orlando"}]),
    )
    .await;
    let (_, site) = api
        .get_json(&format!(
            "/company/companies/1/sites/{}",
            created["site"]["id"]
        ))
        .await;
    assert_eq!(
        site["city"], "Orlando",
        "the primary site follows the company's address"
    );
}

#[tokio::test]
async fn a_seeded_company_without_an_address_can_still_be_patched() {
    let sim = sim().await;
    sim.seed(
        "/company/companies",
        vec![json!({"identifier": "S", "name": "Seeded"})],
    )
    .unwrap();
    let (status, body) = Api::new(&sim)
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "replace", "path": "name", "value": "Renamed"}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
