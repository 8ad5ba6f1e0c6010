//! The daily export's reads against the billing simulator over real HTTP: products,
//! subscriptions and users of accounts through the one generic listing — paging over many pages,
//! `ids` and `accountIds` split under the URL limit, the inclusive `updatedSince` boundary,
//! malformed records named by id and field while the rest is returned, cancelled subscriptions
//! still listed, removed users gone, single reads, and retries on 429 and 503.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use cwsync_billing::models::{AccountUser, Subscription};
use cwsync_billing::{
    BillingClient, BillingConfig, BillingError, Listed, ProductQuery, RecordKind, RetryPolicy,
    SubscriptionQuery, UserQuery,
};
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, FaultKind, FaultRule, TEST_BILLING_API_KEY, generate,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

const PRODUCTS: &str = "/v1/products";
const SUBSCRIPTIONS: &str = "/v1/subscriptions";
const USERS: &str = "/v1/users";

/// 2026-11-01T00:00:00Z plus `secs`.
fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_491_200 + secs).unwrap()
}

/// After every fixture record: 2027-01-01T00:00:00Z plus `secs`.
fn later(secs: i64) -> OffsetDateTime {
    at(61 * 86_400 + secs)
}

fn client_with(sim: &BillingSim, max_url_len: usize) -> BillingClient {
    let mut config = BillingConfig::new(sim.base_url(), SecretString::from(TEST_BILLING_API_KEY));
    config.timeout = Duration::from_secs(10);
    config.max_url_len = max_url_len;
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(20),
    };
    BillingClient::new(config).unwrap()
}

fn client(sim: &BillingSim) -> BillingClient {
    client_with(sim, 2000)
}

async fn empty_sim() -> BillingSim {
    BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap()
}

async fn fixture_sim() -> BillingSim {
    BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap()
}

fn account_ids(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("A-{:05}", 10_000 + i)).collect()
}

/// The bench's scale: `accounts` accounts × 10 subscriptions to 200 products, 3 users each.
fn seed_scale(sim: &BillingSim, accounts: usize) -> Vec<Subscription> {
    let products = generate::products(200, at(0));
    let ids = account_ids(accounts);
    let subscriptions = generate::subscriptions(&ids, 10, &products, at(100));
    sim.seed_products(products);
    sim.seed_subscriptions(subscriptions.clone());
    sim.seed_users(generate::users(&ids, 3, at(200)));
    subscriptions
}

fn ids<T: Listed>(records: &[T]) -> Vec<String> {
    records.iter().map(|r| r.id().to_owned()).collect()
}

/// The order the contract promises: `(updatedAt, id)`.
fn in_contract_order<T: Listed>(mut records: Vec<T>) -> Vec<String> {
    records.sort_by(|a, b| (a.updated_at(), a.id()).cmp(&(b.updated_at(), b.id())));
    ids(&records)
}

// ---- paging and filters --------------------------------------------------------------------

#[tokio::test]
async fn five_thousand_subscriptions_come_once_each_in_order_over_ten_pages() {
    let sim = empty_sim().await;
    let seeded = seed_scale(&sim, 500);
    let client = client(&sim);
    let listing = client
        .list_subscriptions(&SubscriptionQuery {
            page_size: Some(500),
            ..SubscriptionQuery::default()
        })
        .await
        .unwrap();
    assert!(listing.malformed.is_empty());
    assert_eq!(ids(&listing.records), in_contract_order(seeded.clone()));
    assert_eq!(listing.records, {
        let mut s = seeded;
        s.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
        s
    });
    assert_eq!(sim.calls().count("GET", SUBSCRIPTIONS), 10);
    assert_eq!(client.stats().requests, 10);
}

#[tokio::test]
async fn product_ids_are_split_into_the_fewest_requests_under_the_url_limit() {
    let sim = empty_sim().await;
    seed_scale(&sim, 1);
    let client = client_with(&sim, 600);
    let mut wanted: Vec<String> = sim.products().iter().map(|p| p.id.clone()).collect();
    wanted.extend(["P-99998", "P-99999"].map(String::from)); // unknown: simply absent
    let listing = client
        .list_products(&ProductQuery::by_ids(wanted))
        .await
        .unwrap();
    assert_eq!(ids(&listing.records), in_contract_order(sim.products()));

    // Every id is 7 characters and `,` travels as `%2C`: n ids take 10n - 3.
    let prefix = format!("{}v1/products?limit=100&ids=", sim.base_url()).len();
    let per_request = (600 - prefix + 3) / 10;
    let expected = 202_usize.div_ceil(per_request) as u64;
    let calls = sim.calls();
    assert_eq!(calls.count("GET", PRODUCTS), expected);
    let origin = sim.base_url().as_str().trim_end_matches('/').len();
    assert!(origin + calls.longest_target() <= 600);
}

#[tokio::test]
async fn account_ids_are_split_under_the_url_limit_and_every_subscription_of_them_comes_once() {
    let sim = empty_sim().await;
    let seeded = seed_scale(&sim, 120);
    let client = client_with(&sim, 500);
    let wanted: Vec<String> = account_ids(120).into_iter().step_by(2).collect();
    let listing = client
        .list_subscriptions(&SubscriptionQuery::of_accounts(wanted.clone()))
        .await
        .unwrap();
    let expected: Vec<Subscription> = seeded
        .into_iter()
        .filter(|s| wanted.contains(&s.account_id))
        .collect();
    assert_eq!(listing.records.len(), 600);
    assert_eq!(ids(&listing.records), in_contract_order(expected));
    let calls = sim.calls();
    assert!(calls.count("GET", SUBSCRIPTIONS) > 1, "split over requests");
    let origin = sim.base_url().as_str().trim_end_matches('/').len();
    assert!(origin + calls.longest_target() <= 500);
}

#[tokio::test]
async fn updated_since_includes_the_subscription_changed_at_that_very_instant() {
    let sim = fixture_sim().await;
    sim.set_clock(later(500));
    assert!(sim.modify_subscription("SUB-5002", |s| s.quantity = Decimal::new(35, 1)));
    sim.set_clock(later(600));
    assert!(sim.modify_subscription("SUB-5006", |s| s.quantity = Decimal::from(4)));
    let listing = client(&sim)
        .list_subscriptions(&SubscriptionQuery::changed_since(later(500)))
        .await
        .unwrap();
    assert_eq!(ids(&listing.records), ["SUB-5002", "SUB-5006"]);
    assert_eq!(listing.records[0].quantity, Decimal::new(35, 1));
    assert_eq!(listing.records[1].updated_at, later(600));
}

#[tokio::test]
async fn a_cancelled_subscription_stays_listed_with_its_cancellation() {
    let sim = fixture_sim().await;
    let listing = client(&sim)
        .list_subscriptions(&SubscriptionQuery::of_accounts(["A-1003"]))
        .await
        .unwrap();
    assert_eq!(ids(&listing.records), ["SUB-5004", "SUB-5003"]);
    let cancelled = &listing.records[0];
    assert!(cancelled.cancelled_at.is_some());
    assert_eq!(
        cancelled.end_date,
        Some(time::macros::date!(2026 - 10 - 31))
    );
    // Cancelling another one moves it to the end of an incremental read.
    sim.set_clock(later(900));
    assert!(sim.modify_subscription("SUB-5003", |s| s.cancelled_at = Some(later(900))));
    let changed = client(&sim)
        .list_subscriptions(&SubscriptionQuery::changed_since(later(900)))
        .await
        .unwrap();
    assert_eq!(ids(&changed.records), ["SUB-5003"]);
    assert_eq!(changed.records[0].cancelled_at, Some(later(900)));
}

#[tokio::test]
async fn a_subscription_moved_to_another_account_leaves_the_old_accounts_listing() {
    let sim = fixture_sim().await;
    assert!(sim.modify_subscription("SUB-5007", |s| s.account_id = "A-1001".into()));
    let client = client(&sim);
    let of = |account: &str| SubscriptionQuery::of_accounts([account]);
    let old = client.list_subscriptions(&of("A-1005")).await.unwrap();
    let new = client.list_subscriptions(&of("A-1001")).await.unwrap();
    assert!(old.records.is_empty());
    assert_eq!(ids(&new.records), ["SUB-5001", "SUB-5002", "SUB-5007"]);
}

#[tokio::test]
async fn ids_and_account_ids_together_return_only_records_matching_both() {
    let sim = fixture_sim().await;
    let listing = client(&sim)
        .list_subscriptions(&SubscriptionQuery {
            ids: Some(vec![
                "SUB-5001".into(),
                "SUB-5003".into(),
                "SUB-5006".into(),
            ]),
            account_ids: Some(vec!["A-1001".into(), "A-1004".into()]),
            ..SubscriptionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&listing.records), ["SUB-5001", "SUB-5006"]);
    // One request: the ids; the account filter is applied to what came back.
    assert_eq!(sim.calls().count("GET", SUBSCRIPTIONS), 1);
}

#[tokio::test]
async fn the_records_of_an_account_whose_id_holds_a_comma_are_read_without_losing_any() {
    let sim = empty_sim().await;
    let products = generate::products(3, at(0));
    let accounts = ["Acme, Inc.".to_owned(), "A-2".to_owned(), "A-3".to_owned()];
    sim.seed_products(products.clone());
    sim.seed_subscriptions(generate::subscriptions(&accounts, 2, &products, at(10)));
    let client = client(&sim);
    let listing = client
        .list_subscriptions(&SubscriptionQuery::of_accounts(["Acme, Inc.", "A-2"]))
        .await
        .unwrap();
    let owners: Vec<&str> = listing
        .records
        .iter()
        .map(|s| s.account_id.as_str())
        .collect();
    assert_eq!(owners, ["Acme, Inc.", "Acme, Inc.", "A-2", "A-2"]);
    // One request for A-2 by accountIds, one unfiltered listing kept by accountId.
    assert_eq!(sim.calls().count("GET", SUBSCRIPTIONS), 2);
}

#[tokio::test]
async fn empty_id_lists_send_no_request() {
    let sim = fixture_sim().await;
    let client = client(&sim);
    let none: Vec<String> = Vec::new();
    assert!(
        client
            .list_products(&ProductQuery::by_ids(none.clone()))
            .await
            .unwrap()
            .records
            .is_empty()
    );
    assert!(
        client
            .list_users(&UserQuery::of_accounts(none.clone()))
            .await
            .unwrap()
            .records
            .is_empty()
    );
    assert!(
        client
            .list_subscriptions(&SubscriptionQuery {
                ids: Some(vec!["SUB-5001".into()]),
                account_ids: Some(none),
                ..SubscriptionQuery::default()
            })
            .await
            .unwrap()
            .records
            .is_empty()
    );
    assert_eq!(sim.calls().total(), 0);
}

// ---- products and users --------------------------------------------------------------------

#[tokio::test]
async fn products_come_with_every_price_and_amounts_read_from_numbers_and_strings() {
    let sim = fixture_sim().await;
    let listing = client(&sim)
        .list_products(&ProductQuery::default())
        .await
        .unwrap();
    assert_eq!(listing.records.len(), 6);
    let premium = listing.records.iter().find(|p| p.sku == "M365-BP").unwrap();
    let prices: Vec<(&str, &str, Decimal)> = premium
        .prices
        .iter()
        .map(|p| (p.price_list.as_str(), p.unit.as_str(), p.price))
        .collect();
    assert_eq!(
        prices,
        [
            ("Retail", "Month", Decimal::new(2200, 2)),
            ("Retail", "Year", Decimal::new(26400, 2)),
            ("Partner", "Month", Decimal::new(1980, 2)),
            ("Partner", "Year", Decimal::new(23760, 2)),
        ]
    );
    assert_eq!(premium.cost, Some(Decimal::new(1800, 2)));
    let retired = listing
        .records
        .iter()
        .find(|p| p.id == "P-LEGACY-AV")
        .unwrap();
    assert!(
        !retired.enabled,
        "a product no longer sold is listed, disabled"
    );
}

#[tokio::test]
async fn the_users_of_an_account_are_its_current_list_with_their_services() {
    let sim = fixture_sim().await;
    let client = client(&sim);
    let of_acme = UserQuery::of_accounts(["A-1001"]);
    let users = client.list_users(&of_acme).await.unwrap().records;
    let rows: Vec<(&str, bool, usize)> = users
        .iter()
        .map(|u| (u.name.as_str(), u.enabled, u.services.len()))
        .collect();
    assert_eq!(
        rows,
        [
            ("Dana Whitfield", true, 3),
            ("Luis Ortega", true, 2),
            ("Priya Raman", false, 0)
        ]
    );
    sim.set_clock(later(1000));
    assert!(sim.modify_user("U-7002", |u| u.services.push("Intune".into())));
    assert!(sim.remove_user("U-7003").is_some());
    let users: Vec<AccountUser> = client.list_users(&of_acme).await.unwrap().records;
    assert_eq!(ids(&users), ["U-7001", "U-7002"]);
    assert_eq!(users[1].services.last().map(String::as_str), Some("Intune"));
    let changed = client
        .list_users(&UserQuery::changed_since(later(1000)))
        .await
        .unwrap();
    assert_eq!(ids(&changed.records), ["U-7002"]);
}

#[tokio::test]
async fn single_reads_return_the_record_or_name_the_missing_one() {
    let sim = fixture_sim().await;
    let client = client(&sim);
    assert_eq!(
        client.get_product("P-M365-E3").await.unwrap().sku,
        "M365-E3"
    );
    let cancelled = client.get_subscription("SUB-5004").await.unwrap();
    assert!(cancelled.cancelled_at.is_some());
    assert_eq!(
        client.get_user("U-7006").await.unwrap().account_id,
        "A-1004"
    );
    for (e, what) in [
        (
            client.get_product("P-404").await.unwrap_err(),
            "product P-404",
        ),
        (
            client.get_subscription("SUB-404").await.unwrap_err(),
            "subscription SUB-404",
        ),
        (client.get_user("U-404").await.unwrap_err(), "user U-404"),
    ] {
        assert!(
            matches!(&e, BillingError::NotFound { what: w } if w == what),
            "{e:?}"
        );
    }
}

// ---- malformed records ---------------------------------------------------------------------

#[tokio::test]
async fn a_malformed_subscription_is_named_with_its_field_and_the_rest_of_the_page_is_returned() {
    let sim = fixture_sim().await;
    sim.corrupt(
        RecordKind::Subscription,
        "SUB-5002",
        "quantity",
        json!("abc"),
    );
    sim.corrupt(
        RecordKind::Subscription,
        "SUB-5005",
        "startDate",
        json!("June 1st"),
    );
    let client = client(&sim);
    let listing = client
        .list_subscriptions(&SubscriptionQuery::default())
        .await
        .unwrap();
    assert_eq!(listing.records.len(), 5);
    assert!(!ids(&listing.records).contains(&"SUB-5002".to_owned()));
    let named: Vec<(Option<&str>, Option<&str>)> = listing
        .malformed
        .iter()
        .map(|m| (m.id.as_deref(), m.field.as_deref()))
        .collect();
    assert_eq!(
        named,
        [
            (Some("SUB-5002"), Some("quantity")),
            (Some("SUB-5005"), Some("startDate"))
        ]
    );
    assert!(
        listing
            .malformed
            .iter()
            .all(|m| m.kind == RecordKind::Subscription)
    );
    let text = listing.malformed[0].to_string();
    assert!(
        text.starts_with("subscription SUB-5002 is not a valid subscription: quantity: "),
        "{text}"
    );
    // Read alone, the same record is a decode error naming the field.
    let e = client.get_subscription("SUB-5002").await.unwrap_err();
    assert!(
        matches!(&e, BillingError::Decode { reason, .. } if reason.starts_with("quantity: ")),
        "{e:?}"
    );
    sim.clear_corruptions();
    let fixed = client
        .list_subscriptions(&SubscriptionQuery::default())
        .await
        .unwrap();
    assert_eq!((fixed.records.len(), fixed.malformed.len()), (7, 0));
}

#[tokio::test]
async fn a_product_without_a_sku_or_with_a_bad_price_is_named_and_the_others_are_listed() {
    let sim = fixture_sim().await;
    sim.corrupt(RecordKind::Product, "P-M365-E3", "sku", json!(null));
    sim.corrupt(
        RecordKind::Product,
        "P-BACKUP-TB",
        "prices",
        json!([{"priceList": "Retail", "unit": "TB", "price": 45}, {"priceList": "Partner", "unit": "TB", "price": "n/a"}]),
    );
    let listing = client(&sim)
        .list_products(&ProductQuery::default())
        .await
        .unwrap();
    assert_eq!(listing.records.len(), 4);
    let named: Vec<(Option<&str>, Option<&str>)> = listing
        .malformed
        .iter()
        .map(|m| (m.id.as_deref(), m.field.as_deref()))
        .collect();
    assert_eq!(
        named,
        [
            (Some("P-M365-E3"), Some("sku")),
            (Some("P-BACKUP-TB"), Some("prices[1].price"))
        ]
    );
}

#[tokio::test]
async fn a_malformed_user_listed_by_account_is_named_even_without_a_readable_account() {
    let sim = fixture_sim().await;
    sim.corrupt(RecordKind::User, "U-7002", "accountId", json!(7));
    sim.corrupt(RecordKind::User, "U-7001", "services", json!("Teams"));
    let listing = client(&sim)
        .list_users(&UserQuery {
            ids: Some(vec!["U-7001".into(), "U-7002".into(), "U-7004".into()]),
            account_ids: Some(vec!["A-1001".into()]),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert!(listing.records.is_empty(), "U-7004 is another account's");
    let named: Vec<(Option<&str>, Option<&str>)> = listing
        .malformed
        .iter()
        .map(|m| (m.id.as_deref(), m.field.as_deref()))
        .collect();
    assert_eq!(
        named,
        [
            (Some("U-7001"), Some("services")),
            (Some("U-7002"), Some("accountId"))
        ]
    );
}

// ---- retries -------------------------------------------------------------------------------

#[tokio::test]
async fn throttled_and_unavailable_pages_are_retried_and_nothing_is_lost() {
    let sim = empty_sim().await;
    let seeded = seed_scale(&sim, 30);
    sim.inject(
        FaultRule::new(FaultKind::Throttle {
            retry_after_secs: 0,
        })
        .on("GET", SUBSCRIPTIONS)
        .nth(2),
    );
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("GET", SUBSCRIPTIONS)
            .nth(3),
    );
    sim.inject(FaultRule::new(FaultKind::Drop).on("GET", USERS).nth(1));
    let client = client(&sim);
    let listing = client
        .list_subscriptions(&SubscriptionQuery {
            page_size: Some(100),
            ..SubscriptionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&listing.records), in_contract_order(seeded));
    let users = client.list_users(&UserQuery::default()).await.unwrap();
    assert_eq!(users.records.len(), 90);
    let stats = client.stats();
    assert_eq!((stats.retries, stats.throttled), (3, 1));
    // 300 subscriptions in pages of 100 (3) + 2 retried; users: 1 page + 1 retried.
    assert_eq!(sim.calls().count("GET", SUBSCRIPTIONS), 5);
    assert_eq!(sim.calls().count("GET", USERS), 2);
}

#[tokio::test]
async fn a_listing_parameter_the_contract_refuses_is_refused_before_any_request() {
    let sim = fixture_sim().await;
    let e = client(&sim)
        .list_users(&UserQuery {
            page_size: Some(501),
            ..UserQuery::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BillingError::Invalid { operation, fields, .. }
            if operation == "list users" && fields[0].field == "limit"),
        "{e:?}"
    );
    assert_eq!(sim.calls().total(), 0);
}
