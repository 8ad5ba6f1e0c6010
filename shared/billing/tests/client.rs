//! The billing client against the billing simulator over real HTTP: paging, incremental reads,
//! `ids` batching under the URL limit, hostile ids, write-backs, every error kind, retries, and
//! the key never showing. Retry delays are a few milliseconds; no assertion depends on an upper
//! time bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use cwsync_billing::models::{Account, AccountUpdate, Address, ContactUpdate, SiteUpdate};
use cwsync_billing::{
    AccountQuery, BillingClient, BillingConfig, BillingError, BillingStats, RetryPolicy,
};
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, FaultKind, FaultRule, TEST_BILLING_API_KEY,
};
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

const LIST: &str = "/v1/accounts";
const ACCOUNT: &str = "/v1/accounts/{id}";
const SITE: &str = "/v1/accounts/{accountId}/sites/{siteId}";
const CONTACT: &str = "/v1/accounts/{accountId}/contacts/{contactId}";

/// A fixed instant: 2026-11-01T00:00:00Z plus `secs`.
fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_491_200 + secs).unwrap()
}

/// A small account with one site and one contact whose ids derive from the account's.
fn account(id: &str, updated_at: OffsetDateTime) -> Account {
    let mut value = json!({
        "id": id,
        "code": "CODE",
        "name": format!("Account {id}"),
        "status": "Active",
        "phone": "602-555-0100",
        "billingAddress": {"line1": "1 Main St", "city": "Phoenix", "state": "AZ", "country": "United States"},
        "sites": [{"id": format!("{id}/site"), "name": "Main Office", "address": {"city": "Tempe"}}],
        "contacts": [{"id": format!("{id}/contact"), "firstName": "Ana", "email": "ana@example.com"}],
    });
    value["updatedAt"] = json!(
        updated_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    serde_json::from_value(value).unwrap()
}

fn config(sim: &BillingSim) -> BillingConfig {
    let mut config = BillingConfig::new(sim.base_url(), SecretString::from(TEST_BILLING_API_KEY));
    config.timeout = Duration::from_secs(10);
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(20),
    };
    config
}

fn client(sim: &BillingSim) -> BillingClient {
    BillingClient::new(config(sim)).unwrap()
}

async fn sim_with(accounts: Vec<Account>) -> BillingSim {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    sim.seed_accounts(accounts);
    sim
}

/// `count` accounts `A-10000`, `A-10001`, … whose `updatedAt` repeats every 7 (ties by id).
fn many(count: usize) -> Vec<Account> {
    (0..count)
        .map(|i| account(&format!("A-{}", 10_000 + i), at((i % 7) as i64)))
        .collect()
}

fn ids(accounts: &[Account]) -> Vec<String> {
    accounts.iter().map(|a| a.id.clone()).collect()
}

/// The order the contract promises: `(updatedAt, id)`.
fn in_contract_order(mut accounts: Vec<Account>) -> Vec<String> {
    accounts.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    ids(&accounts)
}

// ---- reading -------------------------------------------------------------------------------

#[tokio::test]
async fn listing_1234_accounts_returns_every_record_once_in_updated_order() {
    let seeded = many(1234);
    let sim = sim_with(seeded.clone()).await;
    let client = client(&sim);
    let listed = client
        .list_accounts(&AccountQuery {
            page_size: Some(100),
            ..AccountQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&listed), in_contract_order(seeded));
    assert_eq!(
        sim.calls().count("GET", LIST),
        13,
        "1234 records in pages of 100"
    );
    assert_eq!(client.stats().requests, 13);
}

#[tokio::test]
async fn accounts_changed_while_paging_come_once_in_their_latest_version() {
    let sim = sim_with(many(30)).await;
    sim.set_clock(at(1000));
    let client = client(&sim);
    let query = AccountQuery {
        page_size: Some(10),
        ..AccountQuery::default()
    };
    let first = client.list_accounts_page(&query, None).await.unwrap();
    assert_eq!(first.items.len(), 10);
    // A user edits one record already read and one not yet read.
    let seen = first.items[3].id.clone();
    let unseen = in_contract_order(many(30)).pop().unwrap();
    assert!(!ids(&first.items).contains(&unseen));
    assert!(sim.modify_account(&seen, |a| a.name = "Edited while paging".into()));
    assert!(sim.modify_account(&unseen, |a| a.phone = Some("480-555-0199".into())));
    let mut all = first.items.clone();
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        let page = client.list_accounts_page(&query, Some(&c)).await.unwrap();
        all.extend(page.items);
        cursor = page.next_cursor;
    }
    // Unchanged records: exactly once each; the edited ones come again at the end.
    for id in ids(&many(30)) {
        let n = all.iter().filter(|a| a.id == id).count();
        let expected = if id == seen { 2 } else { 1 };
        assert_eq!(n, expected, "{id}");
    }
    let tail: Vec<&str> = all[all.len() - 2..].iter().map(|a| a.id.as_str()).collect();
    assert_eq!(tail, [seen.as_str(), unseen.as_str()]);

    let listed = client.list_accounts(&query).await.unwrap();
    assert_eq!(listed.len(), 30);
    let edited = listed.iter().find(|a| a.id == seen).unwrap();
    assert_eq!(edited.name, "Edited while paging");
    assert_eq!(edited.updated_at, at(1000));
}

#[tokio::test]
async fn updated_since_includes_accounts_changed_at_that_very_instant() {
    let sim = sim_with(vec![
        account("A-1", at(100)),
        account("A-2", at(200)),
        account("A-3", at(300)),
    ])
    .await;
    let listed = client(&sim)
        .list_accounts(&AccountQuery::changed_since(at(200)))
        .await
        .unwrap();
    assert_eq!(ids(&listed), ["A-2", "A-3"]);
}

#[tokio::test]
async fn ids_are_split_into_the_fewest_requests_that_keep_every_url_under_the_limit() {
    let seeded = many(1200);
    let sim = sim_with(seeded.clone()).await;
    let mut config = config(&sim);
    config.max_url_len = 600;
    let client = BillingClient::new(config).unwrap();
    let mut wanted = ids(&seeded);
    wanted.extend(["A-99990", "A-99991", "A-99992"].map(String::from)); // unknown: simply absent
    wanted.extend(ids(&seeded[..10])); // repeated: asked for once
    let listed = client
        .list_accounts(&AccountQuery::by_ids(wanted))
        .await
        .unwrap();
    assert_eq!(ids(&listed), in_contract_order(seeded));

    // Every id is 7 characters and the separator `,` is sent as `%2C`: n ids take 10n - 3.
    let prefix = format!("{}v1/accounts?limit=100&ids=", sim.base_url()).len();
    let per_request = (600 - prefix + 3) / 10;
    let expected = 1203_usize.div_ceil(per_request) as u64;
    let calls = sim.calls();
    assert_eq!(calls.count("GET", LIST), expected);
    assert_eq!(client.stats().requests, expected);
    let origin = sim.base_url().as_str().trim_end_matches('/').len();
    assert!(
        origin + calls.longest_target() <= 600,
        "a URL of {} characters was sent",
        origin + calls.longest_target()
    );
}

#[tokio::test]
async fn an_explicitly_empty_ids_list_sends_no_request() {
    let sim = sim_with(many(3)).await;
    let client = client(&sim);
    let listed = client
        .list_accounts(&AccountQuery::by_ids(Vec::<String>::new()))
        .await
        .unwrap();
    let page = client
        .list_accounts_page(&AccountQuery::by_ids(Vec::<String>::new()), None)
        .await
        .unwrap();
    assert!(listed.is_empty() && page.items.is_empty() && page.next_cursor.is_none());
    assert_eq!(sim.calls().total(), 0);
    assert_eq!(client.stats(), BillingStats::default());
}

#[tokio::test]
async fn hostile_ids_round_trip_through_paths_and_the_ids_filter() {
    let hostile = [
        r#"say "hi""#,
        "it's",
        "a/b/c",
        "with space",
        "ünïcødé-東京",
        "100%",
        "q?x=1&y=2#frag",
        r"back\slash",
        "plus+sign",
        "comma,inside",
        "..dots..",
    ];
    let seeded: Vec<Account> = hostile
        .iter()
        .enumerate()
        .map(|(i, id)| account(id, at(i as i64)))
        .collect();
    let sim = sim_with(seeded.clone()).await;
    let client = client(&sim);
    for id in hostile {
        let got = client.get_account(id).await.unwrap();
        assert_eq!(got.id, id);
        let site = client
            .update_site(
                id,
                &format!("{id}/site"),
                &SiteUpdate {
                    connect_wise_site_id: Some(7),
                    ..SiteUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(site.connect_wise_site_id, Some(7), "{id}");
        let contact = client
            .update_contact(
                id,
                &format!("{id}/contact"),
                &ContactUpdate {
                    connect_wise_contact_id: Some(8),
                    ..ContactUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(contact.connect_wise_contact_id, Some(8), "{id}");
    }
    let listed = client
        .list_accounts(&AccountQuery::by_ids(hostile))
        .await
        .unwrap();
    let mut found = ids(&listed);
    found.sort();
    let mut expected: Vec<String> = hostile.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
    // The comma-holding id cannot travel in `ids`: it is read on its own.
    assert_eq!(sim.calls().count("GET", ACCOUNT), hostile.len() as u64 + 1);
}

#[tokio::test]
async fn ids_no_url_path_can_carry_are_refused_without_a_request() {
    let sim = sim_with(Vec::new()).await;
    let client = client(&sim);
    for id in ["", ".", ".."] {
        let e = client.get_account(id).await.unwrap_err();
        assert!(matches!(e, BillingError::Invalid { .. }), "{id:?}: {e:?}");
    }
    assert_eq!(sim.calls().total(), 0);
}

#[tokio::test]
async fn a_page_size_outside_1_to_500_is_refused_without_a_request() {
    let sim = sim_with(many(3)).await;
    let client = client(&sim);
    for size in [0, 501] {
        let e = client
            .list_accounts(&AccountQuery {
                page_size: Some(size),
                ..AccountQuery::default()
            })
            .await
            .unwrap_err();
        let BillingError::Invalid { fields, .. } = &e else {
            panic!("expected Invalid, got {e:?}");
        };
        assert_eq!(fields[0].field, "limit");
    }
    assert_eq!(sim.calls().total(), 0);
}

// ---- writing -------------------------------------------------------------------------------

#[tokio::test]
async fn an_account_write_back_changes_only_the_fields_it_sets_and_stamps_updated_at() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.set_clock(at(5000));
    let before = sim.account("A-7").unwrap();
    let address = Address {
        line1: Some("2 Camelback Rd".into()),
        city: Some("Scottsdale".into()),
        state: Some("AZ".into()),
        ..Address::default()
    };
    let updated = client(&sim)
        .update_account(
            "A-7",
            &AccountUpdate {
                connect_wise_company_id: Some(250),
                billing_address: Some(address.clone()),
                ..AccountUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.connect_wise_company_id, Some(250));
    assert_eq!(updated.billing_address, Some(address), "replaced whole");
    assert_eq!(updated.updated_at, at(5000));
    assert_eq!(updated.name, before.name);
    assert_eq!(updated.phone, before.phone);
    assert_eq!(updated.sites, before.sites);
    assert_eq!(sim.account("A-7").unwrap(), updated);
    assert_eq!(sim.calls().count("PATCH", ACCOUNT), 1);
}

#[tokio::test]
async fn site_and_contact_write_backs_return_the_record_and_stamp_the_account() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.set_clock(at(60));
    let client = client(&sim);
    let site = client
        .update_site(
            "A-7",
            "A-7/site",
            &SiteUpdate {
                phone: Some("480-555-0111".into()),
                connect_wise_site_id: Some(31),
                ..SiteUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(site.name, "Main Office");
    assert_eq!(site.phone.as_deref(), Some("480-555-0111"));
    assert_eq!(site.connect_wise_site_id, Some(31));
    assert_eq!(sim.account("A-7").unwrap().updated_at, at(60));

    sim.set_clock(at(120));
    let contact = client
        .update_contact(
            "A-7",
            "A-7/contact",
            &ContactUpdate {
                email: Some("ana.new@example.com".into()),
                connect_wise_contact_id: Some(41),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(contact.first_name.as_deref(), Some("Ana"));
    assert_eq!(contact.email.as_deref(), Some("ana.new@example.com"));
    assert_eq!(contact.connect_wise_contact_id, Some(41));
    let stored = sim.account("A-7").unwrap();
    assert_eq!(stored.updated_at, at(120));
    assert_eq!(stored.sites[0], site);
    assert_eq!(stored.contacts[0], contact);
    assert_eq!(sim.calls().count("PATCH", SITE), 1);
    assert_eq!(sim.calls().count("PATCH", CONTACT), 1);
}

#[tokio::test]
async fn an_empty_update_reads_the_record_instead_of_writing() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    let client = client(&sim);
    let a = client
        .update_account("A-7", &AccountUpdate::default())
        .await
        .unwrap();
    let s = client
        .update_site("A-7", "A-7/site", &SiteUpdate::default())
        .await
        .unwrap();
    let c = client
        .update_contact("A-7", "A-7/contact", &ContactUpdate::default())
        .await
        .unwrap();
    assert_eq!(
        (a.id.as_str(), s.id.as_str(), c.id.as_str()),
        ("A-7", "A-7/site", "A-7/contact")
    );
    assert_eq!(sim.calls().writes(), 0);
}

// ---- errors --------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_not_retried() {
    let sim = sim_with(many(1)).await;
    let mut config = config(&sim);
    config.api_key = SecretString::from("not-the-key");
    let client = BillingClient::new(config).unwrap();
    let e = client.get_account("A-10000").await.unwrap_err();
    assert!(matches!(e, BillingError::Unauthorized { .. }), "{e:?}");
    assert!(!e.is_transient());
    assert_eq!(client.stats().requests, 1);
}

#[tokio::test]
async fn unknown_records_are_not_found_naming_the_record() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    let client = client(&sim);
    let e = client.get_account("A-404").await.unwrap_err();
    assert!(
        matches!(&e, BillingError::NotFound { what } if what == "account A-404"),
        "{e:?}"
    );
    let e = client
        .update_site(
            "A-7",
            "S-9",
            &SiteUpdate {
                name: Some("x".into()),
                ..SiteUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BillingError::NotFound { what } if what == "site S-9 of account A-7"),
        "{e:?}"
    );
    let e = client
        .update_contact(
            "A-404",
            "A-7/contact",
            &ContactUpdate {
                title: Some("x".into()),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "contact A-7/contact of account A-404 was not found in the billing system (404)"
    );
}

#[tokio::test]
async fn a_refused_write_back_is_invalid_with_its_field_problems() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    let e = client(&sim)
        .update_account(
            "A-7",
            &AccountUpdate {
                name: Some("   ".into()),
                ..AccountUpdate::default()
            },
        )
        .await
        .unwrap_err();
    let BillingError::Invalid {
        fields, operation, ..
    } = &e
    else {
        panic!("expected Invalid, got {e:?}");
    };
    assert_eq!(operation, "update account A-7");
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].field, "name");
    assert_eq!(sim.account("A-7").unwrap().name, "Account A-7", "unchanged");
}

#[tokio::test]
async fn a_403_is_forbidden_naming_the_operation() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(FaultRule::new(FaultKind::Status(403)).on("PATCH", ACCOUNT));
    let e = client(&sim)
        .update_account(
            "A-7",
            &AccountUpdate {
                phone: Some("1".into()),
                ..AccountUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BillingError::Forbidden { operation } if operation == "update account A-7"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(
        FaultRule::new(FaultKind::Throttle {
            retry_after_secs: 1,
        })
        .on("GET", ACCOUNT)
        .nth(1),
    );
    let client = client(&sim);
    let started = Instant::now();
    let got = client.get_account("A-7").await.unwrap();
    assert_eq!(got.id, "A-7");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(
        client.stats(),
        BillingStats {
            requests: 2,
            retries: 1,
            throttled: 1
        }
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_budget_gives_up_throttled_at_once() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(FaultRule::new(FaultKind::Throttle {
        retry_after_secs: 600,
    }));
    let client = client(&sim);
    let e = client.get_account("A-7").await.unwrap_err();
    assert!(
        matches!(e, BillingError::Throttled { retry_after: Some(d) } if d == Duration::from_secs(600)),
        "{e:?}"
    );
    assert!(e.is_transient());
    assert_eq!(client.stats().requests, 1);
}

#[tokio::test]
async fn the_simulators_rate_limit_is_ridden_out_by_retries() {
    let sim = sim_with(many(5)).await;
    sim.set_rate_limit(Some((2, Duration::from_millis(500), 0)));
    let mut config = config(&sim);
    config.retry.max_attempts = 100;
    config.retry.base_delay = Duration::from_millis(20);
    config.retry.max_delay = Duration::from_millis(50);
    let patient = BillingClient::new(config).unwrap();
    for id in ids(&many(5)) {
        assert_eq!(patient.get_account(&id).await.unwrap().id, id);
    }
    let stats = patient.stats();
    assert!(stats.throttled >= 1, "{stats:?}");
    assert_eq!(stats.requests, 5 + stats.retries);
}

#[tokio::test]
async fn gateway_errors_are_retried_until_the_call_succeeds() {
    let sim = sim_with(many(3)).await;
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("GET", LIST)
            .next(1),
    );
    sim.inject(
        FaultRule::new(FaultKind::Status(502))
            .on("GET", LIST)
            .next(1),
    );
    let client = client(&sim);
    let listed = client
        .list_accounts(&AccountQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(client.stats().retries, 2);
    assert_eq!(sim.calls().count("GET", LIST), 3);
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(
        FaultRule::new(FaultKind::Delay(Duration::from_secs(30)))
            .on("GET", ACCOUNT)
            .nth(1),
    );
    let mut config = config(&sim);
    config.timeout = Duration::from_millis(500);
    let client = BillingClient::new(config).unwrap();
    let got = client.get_account("A-7").await.unwrap();
    assert_eq!(got.id, "A-7");
    assert_eq!(client.stats().requests, 2);
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(FaultRule::new(FaultKind::Drop).on("PATCH", ACCOUNT).nth(1));
    let client = client(&sim);
    let updated = client
        .update_account(
            "A-7",
            &AccountUpdate {
                connect_wise_company_id: Some(9),
                ..AccountUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.connect_wise_company_id, Some(9));
    assert_eq!(sim.calls().count("PATCH", ACCOUNT), 2);
}

#[tokio::test]
async fn a_write_that_landed_before_the_connection_dropped_is_repeated_harmlessly() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.set_clock(at(10));
    sim.inject(
        FaultRule::new(FaultKind::Drop)
            .on("PATCH", ACCOUNT)
            .nth(1)
            .after_processing(),
    );
    let updated = client(&sim)
        .update_account(
            "A-7",
            &AccountUpdate {
                connect_wise_company_id: Some(9),
                ..AccountUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.connect_wise_company_id, Some(9));
    assert_eq!(updated.updated_at, at(10));
    assert_eq!(sim.calls().count("PATCH", ACCOUNT), 2);
}

#[tokio::test]
async fn exhausted_retries_end_in_a_transient_error() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(FaultRule::new(FaultKind::Status(503)));
    let client = client(&sim);
    let e = client.get_account("A-7").await.unwrap_err();
    let BillingError::Transient { operation, reason } = &e else {
        panic!("expected Transient, got {e:?}");
    };
    assert_eq!(operation, "get account A-7");
    assert!(reason.contains("503"), "{reason}");
    assert!(e.is_transient());
    assert_eq!(client.stats().requests, 4, "max_attempts");
    assert_eq!(client.stats().retries, 3);
}

#[tokio::test]
async fn exhausted_retries_after_dropped_connections_end_in_a_transient_error() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(FaultRule::new(FaultKind::Drop));
    let client = client(&sim);
    let e = client.get_account("A-7").await.unwrap_err();
    assert!(matches!(e, BillingError::Transient { .. }), "{e:?}");
    assert_eq!(sim.calls().count("GET", ACCOUNT), 4);
}

#[tokio::test]
async fn a_500_is_transient_for_the_caller_but_not_retried_at_once() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(FaultRule::new(FaultKind::Status(500)).nth(1));
    let client = client(&sim);
    let e = client.get_account("A-7").await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(client.stats().requests, 1);
}

#[tokio::test]
async fn an_undefined_status_is_unexpected_with_a_short_excerpt() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    sim.inject(FaultRule::new(FaultKind::Status(418)));
    let e = client(&sim).get_account("A-7").await.unwrap_err();
    let BillingError::Unexpected {
        status, excerpt, ..
    } = &e
    else {
        panic!("expected Unexpected, got {e:?}");
    };
    assert_eq!(*status, 418);
    assert!(excerpt.chars().count() <= 200);
}

#[tokio::test]
async fn a_malformed_body_is_a_decode_error_not_a_panic() {
    let sim = sim_with(many(3)).await;
    sim.inject(FaultRule::new(FaultKind::MalformedJson));
    let client = client(&sim);
    let e = client
        .list_accounts(&AccountQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BillingError::Decode { operation, .. } if operation == "list accounts"),
        "{e:?}"
    );
    let e = client.get_account("A-10000").await.unwrap_err();
    assert!(matches!(e, BillingError::Decode { .. }), "{e:?}");
    assert!(!e.is_transient());
}

#[tokio::test]
async fn the_key_never_appears_in_debug_output_or_errors() {
    let sim = sim_with(vec![account("A-7", at(0))]).await;
    let secret = TEST_BILLING_API_KEY;
    let mut texts = Vec::new();
    let config = config(&sim);
    texts.push(format!("{config:?}"));
    let client = BillingClient::new(config.clone()).unwrap();
    texts.push(format!("{client:?}"));

    let mut errors = Vec::new();
    sim.inject(FaultRule::new(FaultKind::Status(503)).nth(1));
    sim.inject(FaultRule::new(FaultKind::Drop).nth(2));
    let mut quick = config.clone();
    quick.retry.max_attempts = 1;
    quick.timeout = Duration::from_millis(300);
    let quick = BillingClient::new(quick).unwrap();
    errors.push(quick.get_account("A-7").await.unwrap_err());
    errors.push(quick.get_account("A-7").await.unwrap_err());
    sim.clear_faults();
    sim.inject(FaultRule::new(FaultKind::Delay(Duration::from_secs(30))).nth(1));
    errors.push(quick.get_account("A-7").await.unwrap_err());
    sim.clear_faults();
    sim.inject(FaultRule::new(FaultKind::MalformedJson));
    errors.push(quick.get_account("A-7").await.unwrap_err());
    sim.clear_faults();
    errors.push(quick.get_account("A-404").await.unwrap_err());
    let mut wrong = config;
    wrong.api_key = SecretString::from("wrong-key-also-secret");
    errors.push(
        BillingClient::new(wrong)
            .unwrap()
            .get_account("A-7")
            .await
            .unwrap_err(),
    );
    let kinds: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            BillingError::Transient { .. } => "transient",
            BillingError::Decode { .. } => "decode",
            BillingError::NotFound { .. } => "not found",
            BillingError::Unauthorized { .. } => "unauthorized",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "transient",
            "transient",
            "transient",
            "decode",
            "not found",
            "unauthorized"
        ]
    );
    for e in &errors {
        texts.push(format!("{e:?}"));
        texts.push(e.to_string());
    }
    for text in &texts {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("wrong-key-also-secret"), "{text}");
    }
}

#[tokio::test]
async fn a_malformed_record_is_named_with_its_field_and_the_rest_of_the_listing_is_returned() {
    let sim = sim_with(vec![
        account("A-1", at(1)),
        account("A-2", at(2)),
        account("A-3", at(3)),
    ])
    .await;
    sim.corrupt_account("A-2", "billingAddress", json!({"state": 42}));
    sim.corrupt_account("A-3", "code", json!(null));
    let client = client(&sim);

    let listing = client
        .list_accounts_checked(&AccountQuery::default())
        .await
        .unwrap();

    assert_eq!(ids(&listing.accounts), ["A-1"]);
    let bad: Vec<String> = listing.malformed.iter().map(ToString::to_string).collect();
    assert_eq!(listing.malformed.len(), 2, "{bad:?}");
    assert_eq!(listing.malformed[0].id.as_deref(), Some("A-2"));
    assert_eq!(
        listing.malformed[0].field.as_deref(),
        Some("billingAddress.state")
    );
    assert!(
        !bad[0].contains("42"),
        "the bad value is not quoted: {}",
        bad[0]
    );
    assert!(
        bad[1].contains("A-3") && bad[1].contains("code"),
        "{}",
        bad[1]
    );
    // The strict listing refuses as a whole, naming the record.
    let strict = client
        .list_accounts(&AccountQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&strict, BillingError::Decode { reason, .. } if reason.contains("A-2")),
        "{strict}"
    );
}
