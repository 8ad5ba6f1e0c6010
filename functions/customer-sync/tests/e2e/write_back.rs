//! What flows back to the billing system goes in as few calls as it allows: the ConnectWise ids
//! of an account, its sites and its contacts in one batch write-back; one PATCH per record on a
//! billing system without the batch form; a record refused inside a batch fails alone.

use crate::support::*;
use cwsync_billing::models::Account;

const BATCH: &str = "/v1/write-backs";

/// An account with two sites and two contacts, all ids derived from `n`.
fn full_account(n: u32) -> Account {
    let mut a = account(
        &format!("A-{n}"),
        &format!("CODE{n}"),
        &format!("Company {n}"),
    );
    a.sites = vec![
        site(&format!("S-{n}a"), "Warehouse", "2 Dock Rd"),
        site(&format!("S-{n}b"), "Shop", "3 Shop Rd"),
    ];
    a.contacts = vec![
        contact(
            &format!("C-{n}a"),
            "Ana",
            "Lee",
            &format!("ana{n}@example.com"),
        ),
        contact(
            &format!("C-{n}b"),
            "Bo",
            "Ray",
            &format!("bo{n}@example.com"),
        ),
    ];
    a
}

fn assert_all_linked(world: &World, ids: &[u32]) {
    for n in ids {
        let a = world.billing.account(&format!("A-{n}")).unwrap();
        assert!(a.connect_wise_company_id.is_some(), "A-{n}");
        assert!(
            a.sites.iter().all(|s| s.connect_wise_site_id.is_some()),
            "A-{n}"
        );
        assert!(
            a.contacts
                .iter()
                .all(|c| c.connect_wise_contact_id.is_some()),
            "A-{n}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_writes_back_each_account_with_its_sites_and_contacts_in_one_call() {
    let world = World::start().await;
    world
        .billing
        .seed_accounts((1..=3).map(full_account).collect());
    let report = world.sync(false).await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_all_linked(&world, &[1, 2, 3]);
    let calls = world.billing.calls();
    assert_eq!(calls.count("POST", BATCH), 3, "{calls:?}");
    assert_eq!(
        calls.writes(),
        3,
        "one call per account, not one per record"
    );
    assert_eq!(calls.records_written(), 15);

    let before = world.billing.calls().writes();
    world.sync(false).await;
    assert_eq!(
        world.billing.calls().writes(),
        before,
        "settled: nothing more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billing_system_without_the_batch_form_gets_one_patch_per_record() {
    let world = World::start().await;
    world.billing.set_single_write_backs_only(true);
    world
        .billing
        .seed_accounts((1..=2).map(full_account).collect());
    let report = world.sync(false).await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_all_linked(&world, &[1, 2]);
    let calls = world.billing.calls();
    assert_eq!(calls.count("PATCH", "/v1/accounts/{id}"), 2);
    assert_eq!(
        calls.count("PATCH", "/v1/accounts/{accountId}/sites/{siteId}"),
        4
    );
    assert_eq!(
        calls.count("PATCH", "/v1/accounts/{accountId}/contacts/{contactId}"),
        4
    );
    // The batch form was asked for once per billing client, not once per account.
    assert_eq!(calls.count("POST", "<unmatched>"), 1, "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_refused_inside_a_batch_is_that_records_failure_and_the_rest_is_written() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account(1)]);
    // The billing system lists a contact it then does not know when it is written back.
    let mut served = full_account(1).contacts;
    served.push(contact("C-ghost", "Gus", "Host", "gus@example.com"));
    world
        .billing
        .corrupt_account("A-1", "contacts", serde_json::to_value(&served).unwrap());
    let report = world.sync(false).await;
    assert_eq!(report.status(), "partially_failed", "{}", report.0);
    assert_eq!(report.outcome("billing-account", "A-1"), "failed");
    let detail = report.detail("billing-account", "A-1");
    assert!(
        detail.contains("contact C-ghost of account A-1 was not found"),
        "{detail}"
    );
    assert_eq!(report.count("billing-account", "failed"), 1, "{}", report.0);
    world.billing.clear_corruptions();
    assert_all_linked(&world, &[1]);
    assert_eq!(world.billing.calls().count("POST", BATCH), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_back_refused_as_a_whole_fails_its_records_and_the_run_finishes() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account(1)]);
    world.billing.inject(
        cwsync_billing_sim::FaultRule::new(cwsync_billing_sim::FaultKind::Status(403))
            .on("POST", BATCH),
    );
    let report = world.sync(false).await;
    assert_eq!(report.status(), "partially_failed", "{}", report.0);
    assert_eq!(report.count("billing-account", "failed"), 5, "{}", report.0);
    assert!(
        report
            .detail("billing-account", "A-1")
            .contains("forbidden (403)"),
        "{}",
        report.0
    );
}
