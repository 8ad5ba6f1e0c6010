//! The batch write-back (`BillingClient::write_back`) against the billing simulator over real
//! HTTP: many records per call, chunked at the contract's limit, per-record failures, retries,
//! and the fallback to single-record PATCHes on a server without the batch form (remembered).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use cwsync_billing::models::{
    Account, AccountUpdate, Address, ContactUpdate, MAX_WRITE_BACK_BATCH, SiteUpdate, WriteBack,
};
use cwsync_billing::{BillingClient, BillingConfig, BillingError, RetryPolicy};
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, FaultKind, FaultRule, TEST_BILLING_API_KEY,
};
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

const BATCH: &str = "/v1/write-backs";
const ACCOUNT: &str = "/v1/accounts/{id}";
const SITE: &str = "/v1/accounts/{accountId}/sites/{siteId}";
const CONTACT: &str = "/v1/accounts/{accountId}/contacts/{contactId}";

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_491_200 + secs).unwrap()
}

fn account(id: &str) -> Account {
    serde_json::from_value(json!({
        "id": id,
        "code": "CODE",
        "name": format!("Account {id}"),
        "sites": [{"id": format!("{id}/site"), "name": "Main Office"}],
        "contacts": [{"id": format!("{id}/contact"), "firstName": "Ana"}],
        "updatedAt": "2026-11-01T00:00:00Z",
    }))
    .unwrap()
}

async fn sim_with(count: usize) -> BillingSim {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    sim.seed_accounts((0..count).map(|i| account(&format!("A-{i}"))).collect());
    sim
}

fn client(sim: &BillingSim) -> BillingClient {
    let mut config = BillingConfig::new(sim.base_url(), SecretString::from(TEST_BILLING_API_KEY));
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(20),
    };
    BillingClient::new(config).unwrap()
}

/// The account, its site and its contact, each given its ConnectWise id.
fn links_of(id: &str, n: i64) -> Vec<WriteBack> {
    vec![
        WriteBack::Account {
            id: id.to_owned(),
            patch: AccountUpdate {
                connect_wise_company_id: Some(n),
                ..AccountUpdate::default()
            },
        },
        WriteBack::Site {
            account_id: id.to_owned(),
            id: format!("{id}/site"),
            patch: SiteUpdate {
                connect_wise_site_id: Some(n),
                ..SiteUpdate::default()
            },
        },
        WriteBack::Contact {
            account_id: id.to_owned(),
            id: format!("{id}/contact"),
            patch: ContactUpdate {
                connect_wise_contact_id: Some(n),
                ..ContactUpdate::default()
            },
        },
    ]
}

fn assert_linked(sim: &BillingSim, id: &str, n: i64) {
    let a = sim.account(id).unwrap();
    assert_eq!(a.connect_wise_company_id, Some(n), "{id}");
    assert_eq!(a.sites[0].connect_wise_site_id, Some(n), "{id}");
    assert_eq!(a.contacts[0].connect_wise_contact_id, Some(n), "{id}");
}

#[tokio::test]
async fn many_records_go_in_as_few_calls_as_the_limit_allows() {
    let sim = sim_with(40).await;
    let client = client(&sim);
    let items: Vec<WriteBack> = (0..40)
        .flat_map(|i| links_of(&format!("A-{i}"), i + 1))
        .collect();
    assert_eq!(items.len(), 120);
    let results = client.write_back(&items).await.unwrap();
    assert_eq!(results.len(), 120);
    assert!(results.iter().all(Result::is_ok));
    for i in 0..40 {
        assert_linked(&sim, &format!("A-{i}"), i + 1);
    }
    let calls = sim.calls();
    assert_eq!(
        calls.count("POST", BATCH),
        120_u64.div_ceil(MAX_WRITE_BACK_BATCH as u64)
    );
    assert_eq!(calls.writes(), 2);
    assert_eq!(calls.records_written(), 120);
    assert_eq!(calls.count("PATCH", ACCOUNT), 0);
}

#[tokio::test]
async fn empty_patches_are_not_sent_and_nothing_to_write_sends_nothing() {
    let sim = sim_with(1).await;
    let client = client(&sim);
    let empty = WriteBack::Account {
        id: "A-0".into(),
        patch: AccountUpdate::default(),
    };
    let results = client
        .write_back(std::slice::from_ref(&empty))
        .await
        .unwrap();
    assert!(matches!(results.as_slice(), [Ok(())]));
    assert_eq!(sim.calls().total(), 0);
    let mut items = links_of("A-0", 5);
    items.insert(1, empty);
    let results = client.write_back(&items).await.unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(sim.calls().records_written(), 3);
}

#[tokio::test]
async fn a_refused_record_inside_a_batch_fails_alone_named_with_its_field() {
    let sim = sim_with(2).await;
    let client = client(&sim);
    let mut items = links_of("A-0", 7);
    items.push(WriteBack::Account {
        id: "A-1".into(),
        patch: AccountUpdate {
            // The contract refuses an empty name.
            name: Some(" ".into()),
            ..AccountUpdate::default()
        },
    });
    items.push(WriteBack::Site {
        account_id: "A-1".into(),
        id: "no-such-site".into(),
        patch: SiteUpdate {
            connect_wise_site_id: Some(1),
            ..SiteUpdate::default()
        },
    });
    items.extend(links_of("A-1", 8));
    let results = client.write_back(&items).await.unwrap();
    assert_eq!(results.len(), 8);
    for ok in [0, 1, 2, 5, 6, 7] {
        assert!(results[ok].is_ok(), "{ok}: {:?}", results[ok]);
    }
    let Err(BillingError::Invalid {
        operation, fields, ..
    }) = &results[3]
    else {
        panic!("expected Invalid, got {:?}", results[3]);
    };
    assert_eq!(operation, "update account A-1");
    assert_eq!(fields[0].field, "name");
    let Err(error @ BillingError::NotFound { .. }) = &results[4] else {
        panic!("expected NotFound, got {:?}", results[4]);
    };
    assert_eq!(
        error.to_string(),
        "site no-such-site of account A-1 was not found in the billing system (404)"
    );
    assert_linked(&sim, "A-0", 7);
    assert_linked(&sim, "A-1", 8);
    assert_eq!(sim.account("A-1").unwrap().name, "Account A-1");
    assert_eq!(sim.calls().count("POST", BATCH), 1);
}

#[tokio::test]
async fn a_batch_whose_answer_was_lost_is_sent_again_harmlessly() {
    let sim = sim_with(1).await;
    sim.set_clock(at(10));
    sim.inject(
        FaultRule::new(FaultKind::Status(503))
            .on("POST", BATCH)
            .nth(1)
            .after_processing(),
    );
    let client = client(&sim);
    let mut items = links_of("A-0", 3);
    items.push(WriteBack::Account {
        id: "A-0".into(),
        patch: AccountUpdate {
            billing_address: Some(Address {
                city: Some("Tempe".into()),
                ..Address::default()
            }),
            ..AccountUpdate::default()
        },
    });
    let results = client.write_back(&items).await.unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(sim.calls().count("POST", BATCH), 2);
    assert_linked(&sim, "A-0", 3);
    assert_eq!(sim.account("A-0").unwrap().updated_at, at(10));
}

#[tokio::test]
async fn a_server_without_the_batch_form_gets_single_patches_and_is_asked_only_once() {
    let sim = sim_with(3).await;
    sim.set_single_write_backs_only(true);
    let client = client(&sim);
    let results = client.write_back(&links_of("A-0", 1)).await.unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert_linked(&sim, "A-0", 1);
    // A clone shares what the client learnt.
    let clone = client.clone();
    let mut items = links_of("A-1", 2);
    items.push(WriteBack::Contact {
        account_id: "A-1".into(),
        id: "nobody".into(),
        patch: ContactUpdate {
            connect_wise_contact_id: Some(9),
            ..ContactUpdate::default()
        },
    });
    items.extend(links_of("A-2", 3));
    let results = clone.write_back(&items).await.unwrap();
    assert!(matches!(results[3], Err(BillingError::NotFound { .. })));
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 6);
    assert_linked(&sim, "A-1", 2);
    assert_linked(&sim, "A-2", 3);
    let calls = sim.calls();
    // The simulator has no such route then: the probe counts as an unmatched POST.
    assert_eq!(calls.count("POST", "<unmatched>"), 1, "probed once");
    assert_eq!(calls.count("PATCH", ACCOUNT), 3);
    assert_eq!(calls.count("PATCH", SITE), 3);
    assert_eq!(calls.count("PATCH", CONTACT), 4);
}

#[tokio::test]
async fn a_405_or_501_to_the_batch_also_falls_back_to_single_patches() {
    for status in [405, 501] {
        let sim = sim_with(1).await;
        sim.inject(FaultRule::new(FaultKind::Status(status)).on("POST", BATCH));
        let client = client(&sim);
        let results = client.write_back(&links_of("A-0", 4)).await.unwrap();
        assert!(results.iter().all(Result::is_ok), "{status}");
        assert_linked(&sim, "A-0", 4);
        assert_eq!(sim.calls().count("POST", BATCH), 1, "{status}");
        assert_eq!(sim.calls().count("PATCH", ACCOUNT), 1, "{status}");
    }
}

#[tokio::test]
async fn an_outage_or_a_refused_key_fails_the_whole_write_back() {
    let sim = sim_with(1).await;
    sim.inject(FaultRule::new(FaultKind::Status(503)).on("POST", BATCH));
    let error = client(&sim)
        .write_back(&links_of("A-0", 1))
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(sim.account("A-0").unwrap().connect_wise_company_id, None);

    // In the single form too: the first record's outage stops the rest.
    let sim = sim_with(1).await;
    sim.set_single_write_backs_only(true);
    sim.inject(FaultRule::new(FaultKind::Status(503)).on("PATCH", ACCOUNT));
    let error = client(&sim)
        .write_back(&links_of("A-0", 1))
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(sim.calls().count("PATCH", SITE), 0);

    let sim = sim_with(1).await;
    let mut config = BillingConfig::new(sim.base_url(), SecretString::from("wrong-key"));
    config.retry.max_attempts = 1;
    let error = BillingClient::new(config)
        .unwrap()
        .write_back(&links_of("A-0", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, BillingError::Unauthorized { .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("wrong-key"));
}
