//! Create, re-run, update: what a user sees on their first runs.

use crate::support::*;
use serde_json::json;

fn full_account() -> cwsync_billing::models::Account {
    let mut account = account("A-1", "ACME", "Acme & Sons, Inc.");
    account.sites = vec![site("S-1", "Warehouse", "9 Dock Rd")];
    account.contacts = vec![
        contact("C-1", "Ann", "O'Brien", "ann@acme.example"),
        contact("C-2", "Bob", "Stone", "bob@acme.example"),
    ];
    account
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_account_becomes_a_company_with_its_site_and_contacts_and_the_link_flows_back() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account()]);

    let report = world.sync(false).await;

    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.outcome("company", "A-1"), "created");
    assert_eq!(report.outcome("site", "S-1"), "created");
    assert_eq!(report.outcome("contact", "C-1"), "created");
    assert_eq!(report.outcome("contact", "C-2"), "created");
    let company = world.company("ACME");
    assert_eq!(company["name"], "Acme & Sons, Inc.");
    assert_eq!(company["accountNumber"], "ACME");
    assert_eq!(company["state"], "AZ");
    assert_eq!(
        company["phoneNumber"], "6025550100",
        "ConnectWise keeps digits"
    );
    let company_id = company["id"].as_i64().unwrap();
    let sites = world
        .cw
        .records(&format!("/company/companies/{company_id}/sites"));
    assert!(sites.iter().any(|s| s["name"] == "Warehouse"), "{sites:?}");
    let contacts = world.contacts();
    assert_eq!(contacts.len(), 2);
    let ann = contacts.iter().find(|c| c["firstName"] == "Ann").unwrap();
    assert_eq!(ann["company"]["id"], company_id);
    let items = ann["communicationItems"].as_array().unwrap();
    assert!(
        items.iter().any(|i| i["value"] == "ann@acme.example"),
        "{items:?}"
    );
    // The billing system learns the ConnectWise ids.
    let account = world.billing.account("A-1").unwrap();
    assert_eq!(account.connect_wise_company_id, Some(company_id));
    assert!(
        account
            .contacts
            .iter()
            .all(|c| c.connect_wise_contact_id.is_some())
    );
    assert!(account.sites[0].connect_wise_site_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_re_run_makes_no_connectwise_write_and_reports_everything_unchanged() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account()]);
    world.sync(false).await;

    let before = world.cw.calls();
    let billing_before = world.billing.calls().writes();
    let report = world.sync(false).await;

    assert_eq!(world.cw_writes() - before.writes(), 0, "{}", report.0);
    assert_eq!(
        calls_since(
            &world,
            &before,
            "GET",
            "/company/companies/{parentId}/sites"
        ),
        0,
        "unchanged linked sites are not even read"
    );
    assert_eq!(world.billing.calls().writes() - billing_before, 0);
    assert_eq!(report.count("company", "unchanged"), 1, "{}", report.0);
    assert_eq!(report.count("site", "unchanged"), 1);
    assert_eq!(report.count("contact", "unchanged"), 2);
    assert_eq!(
        world
            .companies()
            .iter()
            .filter(|c| c["identifier"] == "ACME")
            .count(),
        1
    );
    assert_eq!(world.contacts().len(), 2, "contacts are never duplicated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_field_is_one_patch_carrying_only_that_field() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account()]);
    world.sync(false).await;
    world
        .billing
        .modify_account("A-1", |a| a.phone = Some("602-555-0199".to_owned()));

    let before = world.cw.calls();
    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "updated");
    assert_eq!(report.detail("company", "A-1"), "changed: phoneNumber");
    assert_eq!(
        calls_since(&world, &before, "PATCH", "/company/companies/{id}"),
        1
    );
    assert_eq!(
        world.cw.calls().writes() - before.writes(),
        1,
        "only the one PATCH"
    );
    assert_eq!(world.company("ACME")["phoneNumber"], "6025550199");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_contact_phone_is_edited_in_place_never_added_twice() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account()]);
    world.sync(false).await;
    let ann_before = world
        .contacts()
        .into_iter()
        .find(|c| c["firstName"] == "Ann")
        .unwrap();
    world.billing.modify_account("A-1", |a| {
        a.contacts[0].phone = Some("602-555-0177".to_owned())
    });

    let report = world.sync(false).await;

    assert_eq!(report.outcome("contact", "C-1"), "updated", "{}", report.0);
    let ann = world
        .contacts()
        .into_iter()
        .find(|c| c["firstName"] == "Ann")
        .unwrap();
    let before_items = ann_before["communicationItems"].as_array().unwrap();
    let items = ann["communicationItems"].as_array().unwrap();
    assert_eq!(items.len(), before_items.len(), "{items:?}");
    assert!(items.iter().any(|i| i["value"] == "6025550177"));
    assert!(!items.iter().any(|i| i["value"] == "6025550110"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_plans_and_reports_everything_and_writes_nothing_anywhere() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account()]);

    let billing_before = world.billing.calls().writes();
    let report = world.sync(true).await;

    assert_eq!(world.cw_writes(), 0);
    assert_eq!(world.billing.calls().writes(), billing_before);
    assert!(world.companies().iter().all(|c| c["identifier"] != "ACME"));
    assert_eq!(report.0["run"]["dryRun"], true);
    assert_eq!(report.outcome("company", "A-1"), "created");
    assert_eq!(report.detail("company", "A-1"), "would create the company");
    assert_eq!(report.outcome("site", "S-1"), "created");
    assert_eq!(
        report.detail("contact", "C-2"),
        "would create the contact with its company"
    );
    // Nothing was linked: the real run still creates.
    let real = world.sync(false).await;
    assert_eq!(real.outcome("company", "A-1"), "created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_account_sync_answers_with_its_records() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account()]);
    let answer = world
        .ok(json!({"action": "sync-account", "tenant": TENANT, "accountId": "A-1"}))
        .await;
    let records = answer["result"]["records"].as_array().unwrap();
    assert!(
        records
            .iter()
            .any(|r| r["entity"] == "company" && r["outcome"] == "created"),
        "{answer}"
    );
    let report = world.report(answer["runId"].as_str().unwrap()).await;
    assert_eq!(report.status(), "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_account_jobs_reads_its_companies_and_contacts_once_for_all() {
    let world = World::start().await;
    let accounts = (1..=10)
        .map(|i| {
            let mut a = account(
                &format!("A-{i}"),
                &format!("CO{i}"),
                &format!("Company {i}"),
            );
            a.contacts = vec![contact(
                &format!("C-{i}"),
                "Ann",
                &format!("Lee{i}"),
                &format!("ann{i}@example.com"),
            )];
            a
        })
        .collect();
    world.billing.seed_accounts(accounts);
    world.sync(false).await;

    let before = world.cw.calls();
    let billing_before = world.billing.calls();
    let report = world.sync(false).await;

    assert_eq!(report.count("company", "unchanged"), 10, "{}", report.0);
    assert_eq!(report.count("contact", "unchanged"), 10);
    // The ten jobs arrive as one SQS batch: one look-up of their companies, one of their contacts.
    assert_eq!(calls_since(&world, &before, "GET", "/company/companies"), 1);
    assert_eq!(calls_since(&world, &before, "GET", "/company/contacts"), 1);
    assert_eq!(world.cw.calls().writes(), before.writes());
    let account_reads = world.billing.calls().count("GET", "/v1/accounts/{id}")
        - billing_before.count("GET", "/v1/accounts/{id}");
    assert_eq!(
        account_reads, 0,
        "the batch's accounts come from one listing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_site_is_read_and_patched_with_only_its_changed_field() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![full_account()]);
    world.sync(false).await;
    world.billing.modify_account("A-1", |a| {
        a.sites[0].address.line1 = Some("11 Dock Rd".to_owned());
    });

    let before = world.cw.calls();
    let report = world.sync(false).await;

    assert_eq!(report.outcome("site", "S-1"), "updated", "{}", report.0);
    assert_eq!(report.detail("site", "S-1"), "changed: addressLine1");
    assert_eq!(
        calls_since(
            &world,
            &before,
            "GET",
            "/company/companies/{parentId}/sites"
        ),
        1
    );
    assert_eq!(world.cw.calls().writes() - before.writes(), 1);
    let id = world.company("ACME")["id"].as_i64().unwrap();
    let sites = world.cw.records(&format!("/company/companies/{id}/sites"));
    assert!(
        sites.iter().any(|s| s["addressLine1"] == "11 Dock Rd"),
        "{sites:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_data_is_read_once_per_run_and_shared_by_single_account_syncs() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("A-1", "ACME", "Acme"),
        account("A-2", "GLOBEX", "Globex"),
    ]);
    let states = |world: &World| world.cw.calls().count("GET", "/company/states");

    world.sync(false).await;
    // A change, so the second run has a job to run (an unchanged run reads no reference data).
    world.billing.modify_account("A-1", |a| {
        a.phone = Some("602-555-0199".to_owned());
    });
    world.sync(false).await;
    assert_eq!(
        states(&world),
        2,
        "each tenant-wide run reads it once, whatever its size"
    );

    for id in ["A-1", "A-2", "A-1"] {
        world
            .ok(json!({"action": "sync-account", "tenant": TENANT, "accountId": id}))
            .await;
    }
    assert_eq!(
        states(&world),
        2,
        "single-account runs reuse the last run's read within the cache TTL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_company_is_created_with_its_primary_site_and_its_sites_are_not_read_back() {
    let world = World::start().await;
    let mut account = full_account();
    let main = cwsync_billing::models::Site {
        id: "S-0".to_owned(),
        name: "Main".to_owned(),
        address: account.billing_address.clone().unwrap(),
        phone: account.phone.clone(),
        fax: None,
        connect_wise_site_id: None,
    };
    account.sites.insert(0, main);
    world.billing.seed_accounts(vec![account]);
    let before = world.cw.calls();

    let report = world.sync(false).await;

    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(
        calls_since(
            &world,
            &before,
            "GET",
            "/company/companies/{parentId}/sites"
        ),
        0,
        "the create's answer named the primary site"
    );
    let company_id = world.company("ACME")["id"].as_i64().unwrap();
    let sites = world
        .cw
        .records(&format!("/company/companies/{company_id}/sites"));
    let names: Vec<&str> = sites.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["Main", "Warehouse"], "no second Main: {sites:?}");
    assert_eq!(report.outcome("site", "S-0"), "linked", "{}", report.0);
    assert_eq!(report.outcome("site", "S-1"), "created");
    let account = world.billing.account("A-1").unwrap();
    assert_eq!(
        account.sites[0].connect_wise_site_id,
        sites[0]["id"].as_i64()
    );
    let writes = world.cw_writes();
    let again = world.sync(false).await;
    assert_eq!(again.outcome("site", "S-0"), "unchanged", "{}", again.0);
    assert_eq!(world.cw_writes(), writes, "nothing to change on the re-run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_a_mobile_communication_type_fails_the_contact_naming_the_field() {
    let world = World::start().await;
    let cw = cw_client(&world).await;
    let types: Vec<serde_json::Value> = cw
        .list_all(
            "/company/communicationTypes",
            &cwsync_connectwise::Query::new(),
        )
        .await
        .unwrap();
    for mobile in types.iter().filter(|t| t["description"] == "Mobile") {
        cw.delete(&format!("/company/communicationTypes/{}", mobile["id"]))
            .await
            .unwrap();
    }
    let mut account = account("A-1", "ACME", "Acme");
    account.contacts = vec![contact("C-1", "Ann", "O'Brien", "ann@acme.example")];
    world.billing.seed_accounts(vec![account]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "created", "{}", report.0);
    assert_eq!(report.outcome("contact", "C-1"), "failed", "{}", report.0);
    let detail = report.detail("contact", "C-1");
    assert!(
        detail.contains("mobile") && detail.contains("no communication type"),
        "{detail}"
    );
    assert!(
        world.contacts().is_empty(),
        "never written with a wrong type"
    );
}
