//! A first sync reads no candidate company per batch: the tenant-wide planner lists the tenant's
//! companies once (1,000 a page) and tells each job whether a candidate exists for its account.
//! Never a duplicate: an existing company is still linked, and one created after planning is
//! refused as a second identifier and linked on the next delivery, which ignores the hint.

use crate::support::*;
use serde_json::json;

fn accounts(n: usize) -> Vec<cwsync_billing::models::Account> {
    (1..=n)
        .map(|i| {
            account(
                &format!("A-{i}"),
                &format!("CODE{i}"),
                &format!("Customer {i}"),
            )
        })
        .collect()
}

fn seed_company(world: &World, identifier: &str, account_number: Option<&str>) -> i64 {
    let mut company = json!({
        "identifier": identifier, "name": format!("Existing {identifier}"),
        "addressLine1": "1 Main St", "city": "Phoenix", "state": "AZ", "zip": "85001",
        "country": {"id": 1}, "status": {"id": 1}, "types": [{"id": 1}],
    });
    if let Some(number) = account_number {
        company["accountNumber"] = json!(number);
    }
    world.cw.seed("/company/companies", vec![company]).unwrap()[0]
}

/// Companies whose identifier is `identifier` in any case (as ConnectWise compares them).
fn companies_with_identifier(world: &World, identifier: &str) -> usize {
    world
        .companies()
        .iter()
        .filter(|c| {
            c["identifier"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(identifier))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_lists_the_companies_once_and_looks_up_no_candidate_per_batch() {
    let world = World::start().await;
    world.billing.seed_accounts(accounts(25));
    let before = world.cw.calls();

    let report = world.sync(false).await;

    assert_eq!(report.count("company", "created"), 25, "{}", report.0);
    assert_eq!(
        calls_since(&world, &before, "GET", "/company/companies"),
        1,
        "one page of the planner's listing; no `identifier in` / `accountNumber in` look-up in \
         any of the three batches"
    );
    assert_eq!(world.companies().len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_that_exists_is_still_linked_and_only_its_batch_looks_it_up() {
    let world = World::start().await;
    let by_identifier = seed_company(&world, "code3", None);
    let by_number = seed_company(&world, "LEGACY-7", Some("code7"));
    world.billing.seed_accounts(accounts(12));
    let before = world.cw.calls();

    let report = world.sync(false).await;

    for (account, existing) in [("A-3", by_identifier), ("A-7", by_number)] {
        assert_eq!(report.outcome("company", account), "linked", "{}", report.0);
        assert_eq!(
            world
                .billing
                .account(account)
                .unwrap()
                .connect_wise_company_id,
            Some(existing)
        );
    }
    assert_eq!(report.count("company", "created"), 10, "{}", report.0);
    assert_eq!(world.companies().len(), 12, "nothing duplicated");
    assert!(
        calls_since(&world, &before, "GET", "/company/companies") <= 3,
        "the listing, and the two look-ups of the one batch with a candidate at most"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_created_after_planning_is_linked_on_the_next_delivery_never_duplicated() {
    let world = World::start().await;
    world.billing.seed_accounts(accounts(3));
    let planned = world
        .ok(json!({"action": "sync-tenant", "tenant": TENANT, "dryRun": false}))
        .await;
    assert_eq!(planned["jobsSent"], 3);
    // A ConnectWise user creates A-2's company while the jobs wait in the queue: their hint
    // ("no candidate at plan time") is now wrong for A-2.
    // ConnectWise compares identifiers in any case: "code2" is refused as "CODE2" is.
    let created_meanwhile = seed_company(&world, "code2", None);

    let delivery = world.service.deliver_all(&world.queue, 5).await;

    assert!(delivery.dead_letters.is_empty(), "{delivery:?}");
    assert!(
        delivery.deliveries > 3,
        "A-2's create was refused and its job delivered again: {delivery:?}"
    );
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_eq!(report.outcome("company", "A-2"), "linked", "{}", report.0);
    assert_eq!(
        world
            .billing
            .account("A-2")
            .unwrap()
            .connect_wise_company_id,
        Some(created_meanwhile)
    );
    assert_eq!(companies_with_identifier(&world, "CODE2"), 1);
    assert_eq!(world.companies().len(), 3, "nothing duplicated");
    assert_eq!(report.status(), "succeeded", "{}", report.0);
}
