//! The service-call routes as any HTTP client sees them: `If-Match` required (428) and strict
//! (400), the version as `ETag`, 201 on create, 409 `Duplicate` with `existingId`, unknown
//! properties named, the methods each route allows, and `flaggedForConnectWise` checked.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, error_fields, item_ids};
use cwsync_billing_sim::{BillingSim, BillingSimOptions};

fn new_call(reference: &str) -> Value {
    json!({
        "externalReference": reference, "accountId": "A-1003", "description": "Scanner offline",
        "status": "Open",
        "labor": [{"technicianId": "T-101", "hours": 0.75, "billable": false}]
    })
}

async fn send(
    api: &Api,
    method: Method,
    path: &str,
    body: &Value,
    if_match: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut req = api
        .req(method, path)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, etag, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_create_is_201_with_its_version_as_etag_and_a_repeat_is_409_naming_the_call() {
    let sim = BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap();
    let api = Api::new(&sim);
    let (status, etag, call) = send(
        &api,
        Method::POST,
        "/v1/service-calls",
        &new_call("cw:ticket:9"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{call}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(call["id"], "SC-9001");
    let (status, _, error) = send(
        &api,
        Method::POST,
        "/v1/service-calls",
        &new_call("cw:ticket:9"),
        None,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(error["error"]["code"], "Duplicate");
    assert_eq!(error["error"]["existingId"], "SC-9001");
    assert_eq!(error_fields(&error), ["externalReference"]);
    let (status, body) = api
        .get("/v1/service-calls/by-reference/cw%3Aticket%3A9")
        .await;
    assert_eq!((status, body["id"].clone()), (200, json!("SC-9001")));
    assert_eq!(sim.calls().records_written(), 2);
}

#[tokio::test]
async fn an_update_needs_a_quoted_if_match_and_names_the_current_version_when_stale() {
    let sim = BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap();
    let api = Api::new(&sim);
    let update = json!({"description": "Tray 2 jams", "status": "Open"});
    let path = "/v1/service-calls/SC-8001";
    let (status, _, body) = send(&api, Method::PUT, path, &update, None).await;
    assert_eq!(status, 428);
    assert_eq!(error_fields(&body), ["If-Match"]);
    let (status, _, body) = send(&api, Method::PUT, path, &update, Some("1")).await;
    assert_eq!(status, 400);
    assert_eq!(error_fields(&body), ["If-Match"]);
    let (status, _, body) = send(&api, Method::PUT, path, &update, Some("\"7\"")).await;
    assert_eq!(status, 412);
    assert_eq!(body["error"]["currentVersion"], 1);
    let (status, etag, body) = send(&api, Method::PUT, path, &update, Some("\"1\"")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    // A flagged call keeps its request; the update changed only what it carries.
    assert_eq!(body["connectWise"]["board"], "Service Desk");
    let bad = json!({"description": "x", "status": "Invoiced", "color": 1,
        "parts": [{"itemId": "I-DRUM", "quantity": 1, "sku": "D"}]});
    let (status, _, body) = send(&api, Method::PUT, path, &bad, Some("\"2\"")).await;
    assert_eq!(status, 400);
    assert_eq!(error_fields(&body), ["color", "parts[0].sku"]);
    let (status, _, body) = send(
        &api,
        Method::PUT,
        "/v1/service-calls/SC-8004",
        &update,
        Some("\"4\""),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("Invoiced"))
    );
}

#[tokio::test]
async fn routes_allow_their_methods_and_the_flag_filter_takes_only_true_or_false() {
    let sim = BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap();
    let api = Api::new(&sim);
    for (method, path, allow) in [
        (Method::DELETE, "/v1/service-calls/SC-8001", "GET, PUT"),
        (Method::PUT, "/v1/service-calls", "GET, POST"),
        (Method::GET, "/v1/service-calls/SC-8001/hold", "POST"),
        (Method::POST, "/v1/items", "GET"),
    ] {
        let resp = api.req(method, path).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{path}");
        assert_eq!(resp.headers()["allow"], allow, "{path}");
    }
    let (status, body) = api.get("/v1/service-calls?flaggedForConnectWise=yes").await;
    assert_eq!(
        (status, error_fields(&body)),
        (400, vec!["flaggedForConnectWise".to_owned()])
    );
    let (status, body) = api.get("/v1/items?flaggedForConnectWise=true").await;
    assert_eq!(status, 400, "only service calls take the flag");
    let (_, body2) = api
        .get("/v1/service-calls?flaggedForConnectWise=true&accountIds=A-1004")
        .await;
    assert_eq!(item_ids(&body2), ["SC-8003"]);
    let _ = body;
}
