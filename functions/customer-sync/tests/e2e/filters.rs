//! The tenant's filters and the per-account opt-out.

use crate::support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_opted_out_is_skipped_and_never_reaches_connectwise() {
    let world = World::start().await;
    let mut opted_out = account("A-2", "OPTOUT", "Opted Out Ltd");
    opted_out.sync_to_connect_wise = false;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme"), opted_out]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-2"), "skipped");
    assert!(report.detail("company", "A-2").contains("opted out"));
    assert_eq!(report.outcome("company", "A-1"), "created");
    assert!(
        world
            .companies()
            .iter()
            .all(|c| c["identifier"] != "OPTOUT")
    );
    assert_eq!(
        world.queue.received().len(),
        1,
        "no job for the skipped account"
    );
    assert_eq!(report.status(), "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_leaves_out_the_accounts_it_names() {
    let world = World::start().await;
    world
        .put_settings(json!({"customerFilter": {
            "customerTypes": {"include": ["managed"]},
            "contractTypes": {"exclude": ["Prepaid"]},
            "branches": {"include": ["Phoenix", "Tucson"]}
        }}))
        .await;
    let mut by_type = account("A-2", "BYTYPE", "By Type");
    by_type.customer_type = Some("Break-fix".to_owned());
    let mut by_contract = account("A-3", "BYCONTRACT", "By Contract");
    by_contract.contract_type = Some(" prepaid ".to_owned());
    let mut by_branch = account("A-4", "BYBRANCH", "By Branch");
    by_branch.branch = Some("Denver".to_owned());
    world.billing.seed_accounts(vec![
        account("A-1", "ACME", "Acme"),
        by_type,
        by_contract,
        by_branch,
    ]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "created");
    for (id, what) in [
        ("A-2", "customer type"),
        ("A-3", "contract type"),
        ("A-4", "branch"),
    ] {
        assert_eq!(report.outcome("company", id), "skipped", "{id}");
        assert!(
            report.detail("company", id).contains(what),
            "{id}: {}",
            report.detail("company", id)
        );
    }
    assert_eq!(
        world
            .companies()
            .iter()
            .filter(|c| c["identifier"]
                .as_str()
                .is_some_and(|i| i.starts_with("BY")))
            .count(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_overwrite_field_is_set_on_create_and_left_alone_afterwards() {
    let world = World::start().await;
    world
        .put_settings(json!({"neverOverwrite": {"companies": ["name"]}}))
        .await;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);
    world.sync(false).await;
    assert_eq!(world.company("ACME")["name"], "Acme");
    world.billing.modify_account("A-1", |a| {
        a.name = "Acme Renamed".to_owned();
        a.phone = Some("602-555-0142".to_owned());
    });

    let report = world.sync(false).await;

    assert_eq!(report.detail("company", "A-1"), "changed: phoneNumber");
    assert_eq!(world.company("ACME")["name"], "Acme");
}
