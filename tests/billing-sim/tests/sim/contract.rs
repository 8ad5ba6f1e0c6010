//! The contract itself: auth, listing and paging, parameters, reads, merge-patch write-backs and
//! their validation, 404/405/415.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, account, at, error_fields, item_ids, rfc3339, sim_with};

const ROUTES: [(&str, &str); 5] = [
    ("GET", "/v1/accounts"),
    ("GET", "/v1/accounts/A-1"),
    ("PATCH", "/v1/accounts/A-1"),
    ("PATCH", "/v1/accounts/A-1/sites/S-A-1"),
    ("PATCH", "/v1/accounts/A-1/contacts/C-A-1"),
];

#[tokio::test]
async fn every_route_refuses_a_missing_wrong_or_non_bearer_key_with_401() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    for (method, path) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}{path}", api.base);
        let attempts = [
            api.http.request(method.clone(), &url),
            api.http
                .request(method.clone(), &url)
                .bearer_auth("not-the-key"),
            api.http
                .request(method.clone(), &url)
                .basic_auth("user", Some(cwsync_billing_sim::TEST_BILLING_API_KEY)),
        ];
        for request in attempts {
            let resp = request.body("{}").send().await.unwrap();
            assert_eq!(resp.status(), 401, "{method} {path}");
            assert!(resp.headers().contains_key("www-authenticate"));
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "Unauthorized", "{method} {path}");
            assert!(body["error"]["message"].is_string());
        }
    }
    assert_eq!(
        sim.account("A-1").unwrap(),
        account("A-1", at(0)),
        "nothing changed"
    );
}

#[tokio::test]
async fn pages_follow_updated_at_then_id_and_the_last_page_has_no_cursor() {
    let sim = sim_with(vec![
        account("A-3", at(10)),
        account("A-1", at(20)),
        account("A-2", at(10)),
        account("A-0", at(30)),
        account("B-9", at(5)),
    ])
    .await;
    let api = Api::new(&sim);
    let mut seen = Vec::new();
    let mut path = "/v1/accounts?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 200);
        pages += 1;
        seen.extend(item_ids(&body));
        match body.get("nextCursor") {
            None => break,
            Some(cursor) => {
                let cursor = cursor.as_str().unwrap();
                assert!(
                    cursor
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                    "cursors are URL-safe: {cursor}"
                );
                path = format!("/v1/accounts?limit=2&cursor={cursor}");
            }
        }
    }
    assert_eq!(seen, ["B-9", "A-2", "A-3", "A-1", "A-0"]);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn the_default_page_holds_100_accounts() {
    let sim = sim_with(
        (0..150)
            .map(|i| account(&format!("A-{i:03}"), at(i)))
            .collect(),
    )
    .await;
    let (status, body) = Api::new(&sim).get("/v1/accounts").await;
    assert_eq!(status, 200);
    assert_eq!(item_ids(&body).len(), 100);
    assert!(body["nextCursor"].is_string());
}

#[tokio::test]
async fn paging_neither_skips_nor_repeats_unchanged_records_when_others_change_between_pages() {
    let sim = sim_with(
        (0..20)
            .map(|i| account(&format!("A-{i:02}"), at(i % 4)))
            .collect(),
    )
    .await;
    sim.set_clock(at(100));
    let api = Api::new(&sim);
    let (_, first) = api.get("/v1/accounts?limit=5").await;
    let first_ids = item_ids(&first);
    // Between pages: one record already read changes, one not yet read changes, one is
    // removed, one is added behind the cursor and one ahead of it.
    assert!(sim.modify_account(&first_ids[0], |a| a.name = "changed".into()));
    assert!(sim.modify_account("A-19", |a| a.phone = None));
    assert!(sim.remove_account("A-18").is_some());
    sim.seed_accounts(vec![account("A-000", at(0)), account("A-50", at(1))]);
    let mut seen = first_ids.clone();
    let mut cursor = first["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let (status, body) = api.get(&format!("/v1/accounts?limit=5&cursor={c}")).await;
        assert_eq!(status, 200);
        seen.extend(item_ids(&body));
        cursor = body["nextCursor"].as_str().map(str::to_owned);
    }
    let count = |id: &str| seen.iter().filter(|s| *s == id).count();
    for i in 0..18 {
        let id = format!("A-{i:02}");
        let expected = if id == first_ids[0] { 2 } else { 1 };
        assert_eq!(count(&id), expected, "{id}");
    }
    assert_eq!(count("A-18"), 0, "removed");
    assert_eq!(count("A-50"), 1, "added ahead of the cursor");
    assert_eq!(
        count("A-000"),
        0,
        "added behind the cursor: the next incremental read has it"
    );
    // The changed ones come last (their new updatedAt), by id at the same instant.
    assert_eq!(&seen[seen.len() - 2..], [first_ids[0].as_str(), "A-19"]);
}

#[tokio::test]
async fn updated_since_is_inclusive_and_ids_restrict_the_listing() {
    let sim = sim_with(vec![
        account("A-1", at(100)),
        account("A-2", at(200)),
        account("A-3", at(300)),
        account("A 4/x", at(400)),
    ])
    .await;
    let api = Api::new(&sim);
    let since = rfc3339(at(200));
    let (_, body) = api.get(&format!("/v1/accounts?updatedSince={since}")).await;
    assert_eq!(item_ids(&body), ["A-2", "A-3", "A 4/x"]);
    let (_, body) = api.get("/v1/accounts?ids=A-3,A-1,NOPE,A+4%2Fx").await;
    assert_eq!(item_ids(&body), ["A-1", "A-3", "A 4/x"]);
    let (_, body) = api
        .get(&format!("/v1/accounts?ids=A-3,A-1&updatedSince={since}"))
        .await;
    assert_eq!(item_ids(&body), ["A-3"]);
    // An offset other than Z means the same instant.
    let (_, body) = api
        .get("/v1/accounts?updatedSince=2026-10-31T19:03:20-05:00")
        .await;
    assert_eq!(item_ids(&body), ["A-2", "A-3", "A 4/x"]);
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("updatedSince=yesterday", "updatedSince"),
        ("updatedSince=2026-11-01", "updatedSince"),
        ("cursor=bm90LW91cnM", "cursor"),
        ("ids=", "ids"),
        ("ids=A-1,,A-2", "ids"),
        ("page=2", "page"),
        ("limit=5&limit=6", "limit"),
    ] {
        let (status, body) = api.get(&format!("/v1/accounts?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["code"], "InvalidRequest", "{query}");
        assert_eq!(error_fields(&body), [field], "{query}");
    }
    let (status, body) = api.get("/v1/accounts?limit=500").await;
    assert_eq!((status, item_ids(&body).len()), (200, 1));
}

#[tokio::test]
async fn an_account_is_read_with_its_sites_and_contacts_and_an_unknown_one_is_404() {
    let sim = sim_with(vec![account("A/1 é", at(0))]).await;
    let api = Api::new(&sim);
    let (status, body) = api.get("/v1/accounts/A%2F1%20%C3%A9").await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "A/1 é");
    assert_eq!(body["sites"][0]["id"], "S-A/1 é");
    assert_eq!(body["contacts"][0]["email"], "ana@example.com");
    assert_eq!(body["syncToConnectWise"], true);
    assert_eq!(body["updatedAt"], rfc3339(at(0)));
    let (status, body) = api.get("/v1/accounts/A-404").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NotFound");
    assert!(body["error"]["message"].as_str().unwrap().contains("A-404"));
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_present_and_stamps_updated_at() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    sim.set_clock(at(900));
    let api = Api::new(&sim);
    let (status, body) = api
        .patch(
            "/v1/accounts/A-1",
            &json!({
                "connectWiseCompanyId": 250,
                "phone": null,
                "billingAddress": {"city": "Scottsdale", "state": "AZ"},
            }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["connectWiseCompanyId"], 250);
    assert!(body.get("phone").is_none(), "null removes the value");
    assert_eq!(
        body["billingAddress"],
        json!({"city": "Scottsdale", "state": "AZ"}),
        "the address is replaced whole, line1 is gone"
    );
    assert_eq!(body["name"], "Account A-1");
    assert_eq!(body["sites"][0]["id"], "S-A-1");
    assert_eq!(body["updatedAt"], rfc3339(at(900)));
    let stored = sim.account("A-1").unwrap();
    assert_eq!(stored.connect_wise_company_id, Some(250));
    assert_eq!(stored.updated_at, at(900));
}

#[tokio::test]
async fn a_patch_that_changes_nothing_keeps_updated_at() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    sim.set_clock(at(900));
    let api = Api::new(&sim);
    let (status, body) = api
        .patch("/v1/accounts/A-1", &json!({"name": "Account A-1"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["updatedAt"], rfc3339(at(0)));
    let (status, _) = api.patch("/v1/accounts/A-1", &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(sim.account("A-1").unwrap().updated_at, at(0));
}

#[tokio::test]
async fn an_invalid_patch_is_refused_field_by_field_and_changes_nothing() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    sim.set_clock(at(900));
    let api = Api::new(&sim);
    let (status, body) = api
        .patch(
            "/v1/accounts/A-1",
            &json!({
                "code": "NEWCODE",
                "connectWiseCompanyId": "250",
                "name": 7,
                "website": "https://ok.example",
                "billingAddress": {"state": 5, "county": "Maricopa"},
            }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "InvalidRequest");
    assert_eq!(
        error_fields(&body),
        [
            "billingAddress.county",
            "billingAddress.state",
            "code",
            "connectWiseCompanyId",
            "name"
        ]
    );
    assert_eq!(sim.account("A-1").unwrap(), account("A-1", at(0)));

    for (path, body, field) in [
        (
            "/v1/accounts/A-1/sites/S-A-1",
            json!({"connectWiseSiteId": 1.5}),
            "connectWiseSiteId",
        ),
        (
            "/v1/accounts/A-1/sites/S-A-1",
            json!({"address": "1 Main St"}),
            "address",
        ),
        (
            "/v1/accounts/A-1/contacts/C-A-1",
            json!({"email": ["a@b.c"]}),
            "email",
        ),
        (
            "/v1/accounts/A-1/contacts/C-A-1",
            json!({"id": "C-2"}),
            "id",
        ),
    ] {
        let (status, resp) = api.patch(path, &body).await;
        assert_eq!(status, 400, "{path} {body}");
        assert_eq!(error_fields(&resp), [field], "{path} {body}");
    }
    assert_eq!(sim.account("A-1").unwrap(), account("A-1", at(0)));
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_400_and_a_foreign_media_type_415() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    for body in ["not json", "[]", "\"name\""] {
        let resp = api
            .req(Method::PATCH, "/v1/accounts/A-1")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"]["code"], "InvalidRequest");
    }
    let resp = api
        .req(Method::PATCH, "/v1/accounts/A-1")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
}

#[tokio::test]
async fn patching_a_site_or_contact_returns_it_and_stamps_its_account() {
    let sim = sim_with(vec![account("A-1", at(0)), account("A-2", at(0))]).await;
    let api = Api::new(&sim);
    sim.set_clock(at(10));
    let (status, site) = api
        .patch(
            "/v1/accounts/A-1/sites/S-A-1",
            &json!({"connectWiseSiteId": 31, "address": {"city": "Mesa"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        site,
        json!({"id": "S-A-1", "name": "Main Office", "address": {"city": "Mesa"}, "phone": "1", "connectWiseSiteId": 31})
    );
    assert_eq!(sim.account("A-1").unwrap().updated_at, at(10));
    sim.set_clock(at(20));
    let (status, contact) = api
        .patch(
            "/v1/accounts/A-1/contacts/C-A-1",
            &json!({"connectWiseContactId": 41, "firstName": null}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        contact,
        json!({"id": "C-A-1", "email": "ana@example.com", "connectWiseContactId": 41})
    );
    assert_eq!(sim.account("A-1").unwrap().updated_at, at(20));
    assert_eq!(
        sim.account("A-2").unwrap().updated_at,
        at(0),
        "others untouched"
    );
}

#[tokio::test]
async fn unknown_accounts_sites_and_contacts_are_404_naming_them() {
    let sim = sim_with(vec![account("A-1", at(0)), account("A-2", at(0))]).await;
    let api = Api::new(&sim);
    for (path, named) in [
        ("/v1/accounts/A-9", "account A-9"),
        ("/v1/accounts/A-9/sites/S-A-1", "account A-9"),
        ("/v1/accounts/A-1/sites/S-9", "site S-9 of account A-1"),
        // A site of another account is not this account's site.
        ("/v1/accounts/A-1/sites/S-A-2", "site S-A-2 of account A-1"),
        (
            "/v1/accounts/A-1/contacts/C-9",
            "contact C-9 of account A-1",
        ),
    ] {
        let (status, body) = api.patch(path, &json!({"name": "x"})).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "NotFound");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(named),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn other_routes_are_404_and_other_methods_405_with_allow() {
    let sim = sim_with(vec![account("A-1", at(0))]).await;
    let api = Api::new(&sim);
    for path in [
        "/v1/credit-notes",
        "/v1/accounts/",
        "/v1/products/",
        "/v1/subscriptions/SUB-1/notes",
        "/",
        "/v1/accounts/A-1/notes/N-1",
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "NotFound");
    }
    for (method, path, allow) in [
        (Method::POST, "/v1/accounts", "GET"),
        (Method::DELETE, "/v1/accounts/A-1", "GET, PATCH"),
        (Method::GET, "/v1/accounts/A-1/sites/S-A-1", "PATCH"),
        (Method::PATCH, "/v1/products/P-1", "GET"),
        (Method::DELETE, "/v1/subscriptions/SUB-1", "GET"),
        (Method::POST, "/v1/users", "GET"),
    ] {
        let resp = api.req(method.clone(), path).send().await.unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow);
    }
    assert!(sim.account("A-1").is_some());
    // The server survived everything above.
    let (status, _) = tokio::time::timeout(Duration::from_secs(10), api.get("/v1/accounts"))
        .await
        .unwrap();
    assert_eq!(status, 200);
}
