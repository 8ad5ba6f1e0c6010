//! What the daily export reads, over plain HTTP: products, subscriptions and users of accounts
//! served with the accounts' rules (auth, `(updatedAt, id)` paging, inclusive `updatedSince`,
//! `ids`, and `accountIds` where records belong to an account), cancelled subscriptions kept,
//! records changed as a user would, bad records served on demand, knobs on the new routes, and
//! the bench's scale.

use std::collections::HashSet;

use cwsync_billing::RecordKind;
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, FaultKind, FaultRule, fixture_products, fixture_subscriptions,
    fixture_users, generate,
};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::common::{Api, at, error_fields, item_ids, rfc3339};

async fn fixture_sim() -> BillingSim {
    BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap()
}

/// Every id a listing returns, following `nextCursor`, with the number of pages.
async fn all_ids(api: &Api, route: &str, filters: &str) -> (Vec<String>, usize) {
    ids_from(api, route, filters, None).await
}

/// Every id a listing returns from `cursor` on, with the number of pages.
async fn ids_from(
    api: &Api,
    route: &str,
    filters: &str,
    cursor: Option<String>,
) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut cursor = cursor;
    loop {
        let mut path = format!("{route}?{filters}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        pages += 1;
        ids.extend(item_ids(&body));
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (ids, pages),
        }
    }
}

#[tokio::test]
async fn the_new_routes_refuse_a_missing_or_wrong_key_with_401() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    for path in [
        "/v1/products",
        "/v1/products/P-M365-BP",
        "/v1/subscriptions",
        "/v1/subscriptions/SUB-5001",
        "/v1/users",
        "/v1/users/U-7001",
    ] {
        let url = format!("{}{path}", api.base);
        for request in [
            api.http.get(&url),
            api.http.get(&url).bearer_auth("not-the-key"),
        ] {
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{path}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "Unauthorized", "{path}");
        }
    }
}

#[tokio::test]
async fn the_fixture_is_served_with_every_kind_and_read_alone_alike() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    for (route, expected) in [
        ("/v1/products", fixture_products().len()),
        ("/v1/subscriptions", fixture_subscriptions().len()),
        ("/v1/users", fixture_users().len()),
    ] {
        let (ids, pages) = all_ids(&api, route, "limit=2").await;
        assert_eq!(ids.len(), expected, "{route}");
        assert_eq!(pages, expected.div_ceil(2), "{route}");
        for id in ids {
            let (status, one) = api.get(&format!("{route}/{id}")).await;
            assert_eq!((status, one["id"].as_str()), (200, Some(id.as_str())));
        }
    }
    // Amounts travel as numbers (the simulator writes what it stores).
    let (_, product) = api.get("/v1/products/P-M365-BP").await;
    assert_eq!(product["prices"][2]["price"], json!(19.8));
}

#[tokio::test]
async fn account_ids_and_updated_since_narrow_the_subscriptions_together() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let (status, body) = api
        .get("/v1/subscriptions?accountIds=A-1001,A-1003,A-9999")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        item_ids(&body),
        ["SUB-5004", "SUB-5001", "SUB-5002", "SUB-5003"],
        "the cancelled one (updated first) is listed"
    );
    let since = "2026-11-02T15:11:00Z";
    let (_, body) = api
        .get(&format!(
            "/v1/subscriptions?accountIds=A-1001,A-1003&updatedSince={since}"
        ))
        .await;
    assert_eq!(item_ids(&body), ["SUB-5002", "SUB-5003"], "inclusive");
    let (_, body) = api.get("/v1/users?accountIds=A-1003").await;
    assert_eq!(item_ids(&body), ["U-7004", "U-7005"]);
    let (_, body) = api.get("/v1/products?ids=P-LEGACY-AV,P-404").await;
    assert_eq!(item_ids(&body), ["P-LEGACY-AV"]);
    assert_eq!(body["items"][0]["enabled"], false);
}

#[tokio::test]
async fn listing_parameters_a_kind_does_not_take_or_cannot_read_are_refused_by_name() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    for (path, field) in [
        ("/v1/products?accountIds=A-1001", "accountIds"),
        ("/v1/subscriptions?accountIds=A-1001,,A-1002", "accountIds"),
        ("/v1/users?accountIds=A-1&accountIds=A-2", "accountIds"),
        ("/v1/subscriptions?ids=", "ids"),
        ("/v1/users?limit=501", "limit"),
        ("/v1/products?updatedSince=last+week", "updatedSince"),
        ("/v1/subscriptions?cursor=abc", "cursor"),
        ("/v1/subscriptions?status=cancelled", "status"),
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(error_fields(&body), [field], "{path}: {body}");
    }
    let (_, body) = api.get("/v1/subscriptions?page=2").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("updatedSince, ids, accountIds, cursor and limit"),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_records_are_404_naming_them() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    for (path, named) in [
        ("/v1/products/P-404", "product P-404"),
        ("/v1/subscriptions/SUB%2F404", "subscription SUB/404"),
        ("/v1/users/U-404", "user U-404"),
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 404, "{path}");
        let message = body["error"]["message"].as_str().unwrap();
        assert_eq!(message, format!("{named} not found"));
    }
}

#[tokio::test]
async fn a_changed_subscription_moves_to_the_end_and_unchanged_ones_come_once() {
    let sim = fixture_sim().await;
    sim.set_clock(at(90 * 86_400));
    let api = Api::new(&sim);
    let (status, first) = api.get("/v1/subscriptions?limit=3").await;
    assert_eq!(status, 200);
    let seen = item_ids(&first);
    // A user cancels one already read and changes the quantity of one not yet read.
    assert!(sim.modify_subscription(&seen[1], |s| s.cancelled_at = Some(at(90 * 86_400))));
    assert!(sim.modify_subscription("SUB-5007", |s| s.quantity = Decimal::from(9)));
    let cursor = first["nextCursor"].as_str().map(str::to_owned);
    let (rest, _) = ids_from(&api, "/v1/subscriptions", "limit=3", cursor).await;
    let mut all = seen.clone();
    all.extend(rest);
    for id in fixture_subscriptions().iter().map(|s| &s.id) {
        let expected = if *id == seen[1] { 2 } else { 1 };
        assert_eq!(all.iter().filter(|x| *x == id).count(), expected, "{id}");
    }
    let tail = &all[all.len() - 2..];
    assert_eq!(tail, [seen[1].clone(), "SUB-5007".to_owned()]);
    let stored = sim.subscription("SUB-5007").unwrap();
    assert_eq!(stored.updated_at, at(90 * 86_400));
}

#[tokio::test]
async fn ids_too_long_for_a_cursor_still_page_with_short_cursors() {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    let products = generate::products(1, at(0));
    let accounts: Vec<String> = (0..5).map(|i| format!("A-{i}")).collect();
    let mut subscriptions = generate::subscriptions(&accounts, 1, &products, at(10));
    for (i, s) in subscriptions.iter_mut().enumerate() {
        s.id = format!("{i}-{}", "x".repeat(300));
        s.updated_at = at(10);
    }
    sim.seed_subscriptions(subscriptions);
    let api = Api::new(&sim);
    let mut cursors = Vec::new();
    let mut ids = Vec::new();
    let mut path = "/v1/subscriptions?limit=2".to_owned();
    loop {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 200);
        ids.extend(item_ids(&body));
        let Some(cursor) = body["nextCursor"].as_str() else {
            break;
        };
        cursors.push(cursor.to_owned());
        path = format!("/v1/subscriptions?limit=2&cursor={cursor}");
    }
    assert_eq!(ids.len(), 5);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5);
    assert_eq!(cursors.len(), 2);
    assert!(cursors.iter().all(|c| c.len() <= 200), "{cursors:?}");
}

#[tokio::test]
async fn a_corrupted_record_is_served_bad_in_listings_and_reads_until_cleared() {
    let sim = fixture_sim().await;
    sim.corrupt(
        RecordKind::Subscription,
        "SUB-5001",
        "quantity",
        json!("abc"),
    );
    sim.corrupt(RecordKind::Product, "P-M365-BP", "sku", Value::Null);
    let api = Api::new(&sim);
    let (_, listed) = api.get("/v1/subscriptions?ids=SUB-5001").await;
    assert_eq!(listed["items"][0]["quantity"], "abc");
    let (_, read) = api.get("/v1/products/P-M365-BP").await;
    assert_eq!(read["sku"], Value::Null);
    assert_eq!(
        sim.subscription("SUB-5001").unwrap().quantity,
        Decimal::from(25),
        "stored as it was"
    );
    sim.clear_corruptions();
    let (_, read) = api.get("/v1/subscriptions/SUB-5001").await;
    assert_eq!(read["quantity"], 25);
}

#[tokio::test]
async fn knobs_apply_to_the_new_routes_and_calls_are_counted_by_their_templates() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("GET", "/v1/subscriptions")
            .nth(1),
    );
    sim.inject(
        FaultRule::new(FaultKind::Throttle {
            retry_after_secs: 3,
        })
        .on("GET", "/v1/users/{id}")
        .nth(1),
    );
    let (status, body) = api.get("/v1/subscriptions").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("Unavailable"))
    );
    assert_eq!(api.get("/v1/subscriptions").await.0, 200);
    let resp = api
        .req(Method::GET, "/v1/users/U-7001")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(api.get("/v1/users/U-7001").await.0, 200);
    assert_eq!(api.get("/v1/products/P-M365-E3").await.0, 200);
    let calls = sim.calls();
    assert_eq!(calls.count("GET", "/v1/subscriptions"), 2);
    assert_eq!(calls.count("GET", "/v1/users/{id}"), 2);
    assert_eq!(calls.count("GET", "/v1/products/{id}"), 1);
    assert_eq!(calls.writes(), 0);
}

#[tokio::test]
async fn reset_brings_back_every_fixture_kind_as_it_was() {
    let sim = fixture_sim().await;
    assert!(sim.modify_product("P-M365-BP", |p| p.enabled = false));
    assert!(sim.modify_subscription("SUB-5001", |s| s.quantity = Decimal::ONE));
    assert!(sim.remove_user("U-7001").is_some());
    assert!(!sim.modify_subscription("SUB-404", |s| s.quantity = Decimal::ONE));
    sim.reset();
    assert_eq!(sim.products(), {
        let mut p = fixture_products();
        p.sort_by(|a, b| a.id.cmp(&b.id));
        p
    });
    assert_eq!(
        sim.subscription("SUB-5001").unwrap().quantity,
        Decimal::from(25)
    );
    assert_eq!(sim.users().len(), fixture_users().len());
}

#[tokio::test]
async fn the_benchs_scale_loads_and_pages_every_record_once() {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    let accounts: Vec<String> = (0..500).map(|i| format!("A-{i:05}")).collect();
    let products = generate::products(200, at(0));
    let subscriptions = generate::subscriptions(&accounts, 10, &products, at(1_000));
    let users = generate::users(&accounts, 3, at(2_000));
    sim.seed_products(products);
    sim.seed_subscriptions(subscriptions);
    sim.seed_users(users);
    let api = Api::new(&sim);
    let (ids, pages) = all_ids(&api, "/v1/subscriptions", "limit=500").await;
    assert_eq!((ids.len(), pages), (5_000, 10));
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5_000);
    let (ids, pages) = all_ids(&api, "/v1/products", "limit=500").await;
    assert_eq!((ids.len(), pages), (200, 1));
    let since = rfc3339(at(2_000) + time::Duration::milliseconds(1_499));
    let (ids, _) = all_ids(
        &api,
        "/v1/users",
        &format!("limit=500&updatedSince={since}"),
    )
    .await;
    assert_eq!(
        ids.len(),
        1,
        "the last of 1500 users, one millisecond apart"
    );
    let (ids, _) = all_ids(&api, "/v1/subscriptions", "accountIds=A-00042").await;
    assert_eq!(ids.len(), 10);
}
