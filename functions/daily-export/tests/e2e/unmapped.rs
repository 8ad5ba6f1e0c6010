//! An account without a ConnectWise company (issue 9 §2): reported unmapped with candidate
//! companies, never exported into a guessed or new company, and exported once linked.

use cwsync_billing_sim::{
    fixture_accounts, fixture_products, fixture_subscriptions, fixture_users,
};
use serde_json::{Value, json};

use crate::support::{TENANT, World};

const ACCOUNT: &str = "A-2001";
const SUBSCRIPTION: &str = "SUB-9001";

/// The suggestions an answer holds for `account`.
fn suggestions_for<'a>(answer: &'a Value, account: &str) -> Option<&'a Value> {
    answer["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["accountId"] == account)
}

/// The agreements of company `id`.
fn agreements_of(world: &World, id: i64) -> Vec<Value> {
    world
        .records("/finance/agreements")
        .into_iter()
        .filter(|a| a["company"]["id"] == id)
        .collect()
}

#[tokio::test]
async fn an_unmapped_account_is_suggested_its_company_gets_nothing_and_exports_once_linked() {
    let world = World::start().await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    // A company of a similar name exists in ConnectWise (with a contact, as an agreement needs),
    // and one that is not similar.
    let seeded = world
        .cw
        .seed(
            "/company/companies",
            vec![
                json!({"identifier": "HARBOURFL", "name": "Harbour Freight Lines Ltd", "city": "Tacoma"}),
                json!({"identifier": "GLOBEX9", "name": "Globex Corporation", "city": "Phoenix"}),
            ],
        )
        .unwrap();
    let harbour = seeded[0];
    world
        .cw
        .seed(
            "/company/contacts",
            vec![json!({"firstName": "Nora", "lastName": "Quay", "company": {"id": harbour}})],
        )
        .unwrap();
    // A billing account the customer sync has not linked, with one subscription.
    let mut account = fixture_accounts()[0].clone();
    account.id = ACCOUNT.to_owned();
    account.code = "HFL-2001".to_owned();
    account.name = "Harbor Freight Lines".to_owned();
    account.connect_wise_company_id = None;
    account.sites.clear();
    account.contacts.clear();
    world.billing.seed_accounts(vec![account]);
    let mut subscription = fixture_subscriptions()[0].clone();
    subscription.id = SUBSCRIPTION.to_owned();
    subscription.account_id = ACCOUNT.to_owned();
    world.billing.seed_subscriptions(vec![subscription]);

    let companies_before = world.records("/company/companies").len();
    let (planned, report) = world.export_now(json!({})).await;
    assert_eq!(report.outcome("export-account", ACCOUNT), "skipped");
    let detail = report.detail("export-account", ACCOUNT);
    assert!(detail.starts_with("unmapped"), "{detail}");
    // Nothing written for it: no agreement on the similar company, no company guessed or made,
    // no line for its subscription.
    assert!(agreements_of(&world, harbour).is_empty());
    assert_eq!(world.records("/company/companies").len(), companies_before);
    assert!(
        !report.0["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["recordId"] == SUBSCRIPTION),
        "{}",
        report.0
    );

    // The report names the similar company first, and not the unrelated one.
    let suggested = suggestions_for(&report.0, ACCOUNT).unwrap_or_else(|| panic!("{}", report.0));
    assert_eq!(suggested["name"], "Harbor Freight Lines");
    let candidates = suggested["candidates"].as_array().unwrap();
    assert_eq!(candidates[0]["companyId"], harbour, "{suggested}");
    assert_eq!(candidates[0]["identifier"], "HARBOURFL");
    assert!(
        candidates[0]["score"].as_f64().unwrap() > 0.8,
        "{suggested}"
    );
    assert!(
        candidates.iter().all(|c| c["companyId"] != seeded[1]),
        "{suggested}"
    );
    // What it costs: one read of the companies (fewer than 1,000: one page), nothing written.
    let calls = world.cw.calls();
    let again = world
        .ok(json!({"action": "report", "tenant": TENANT, "runId": planned["runId"]}))
        .await;
    let after = world.cw.calls();
    assert_eq!(
        after.count("GET", "/company/companies") - calls.count("GET", "/company/companies"),
        1
    );
    assert_eq!(after.total() - calls.total(), 1);
    assert_eq!(suggestions_for(&again, ACCOUNT), Some(suggested));

    // The error report (the unmapped account is skipped, not failed) names it with the same
    // candidates.
    let errors = world
        .ok(json!({"action": "errors", "tenant": TENANT}))
        .await;
    assert_eq!(
        suggestions_for(&errors, ACCOUNT),
        Some(suggested),
        "{errors}"
    );

    // Linked by hand to the suggested company, it is exported there on the next run, and no
    // longer suggested.
    let linked = world.link(ACCOUNT, harbour).await;
    assert_eq!(linked["linked"], true, "{linked}");
    let (_, report) = world.export_now(json!({})).await;
    assert_eq!(
        report.outcome("addition", SUBSCRIPTION),
        "created",
        "{}",
        report.0
    );
    let agreements = agreements_of(&world, harbour);
    assert_eq!(agreements.len(), 1, "{agreements:?}");
    let additions = world.records(&format!(
        "/finance/agreements/{}/additions",
        agreements[0]["id"]
    ));
    assert_eq!(additions.len(), 1, "{additions:?}");
    assert!(
        suggestions_for(&report.0, ACCOUNT).is_none(),
        "{}",
        report.0
    );
    let errors = world
        .ok(json!({"action": "errors", "tenant": TENANT}))
        .await;
    assert!(suggestions_for(&errors, ACCOUNT).is_none(), "{errors}");
}
