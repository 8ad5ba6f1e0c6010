//! States and countries resolved the way users type them; a bad record fails alone, with its
//! field named, stays on the error report until fixed, and syncs once fixed.

use crate::support::*;
use serde_json::json;

/// Account A-2, whose billing address is in a state ConnectWise doesn't know.
fn in_narnia() -> cwsync_billing::models::Account {
    let mut bad = account("A-2", "NARNIA", "Narnia Trading");
    bad.billing_address = Some(address(
        "1 Wardrobe Way",
        "Cair",
        "Narnia",
        "00000",
        "United States",
    ));
    bad
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn states_are_resolved_by_code_or_full_name_in_any_case_and_with_spaces() {
    let world = World::start().await;
    let mut accounts = Vec::new();
    for (i, state) in ["AZ", "az", " Arizona ", "ARIZONA", "arizona"]
        .into_iter()
        .enumerate()
    {
        let mut a = account(&format!("A-{i}"), &format!("ST{i}"), &format!("State {i}"));
        a.billing_address = Some(address(
            "1 Main St",
            "Phoenix",
            state,
            "85001",
            " united states ",
        ));
        accounts.push(a);
    }
    world.billing.seed_accounts(accounts);

    let report = world.sync(false).await;

    for i in 0..5 {
        assert_eq!(
            report.outcome("company", &format!("A-{i}")),
            "created",
            "{}",
            report.0
        );
        let company = world.company(&format!("ST{i}"));
        assert_eq!(company["state"], "AZ");
        assert_eq!(company["country"]["id"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_state_fails_that_account_alone_naming_the_field_and_the_rest_goes_on() {
    let world = World::start().await;
    let bad = in_narnia();
    let mut bad_country = account("A-3", "ATLANTIS", "Atlantis Ltd");
    bad_country.billing_address = Some(address("1 Sea Rd", "Deep", "AZ", "00000", "Atlantis"));
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme"), bad, bad_country]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "created");
    assert_eq!(report.outcome("company", "A-2"), "failed");
    let detail = report.detail("company", "A-2");
    assert!(
        detail.contains("billingAddress.state") && detail.contains("Narnia"),
        "{detail}"
    );
    let detail = report.detail("company", "A-3");
    assert!(
        detail.contains("billingAddress.country") && detail.contains("Atlantis"),
        "{detail}"
    );
    assert_eq!(report.status(), "partially_failed");
    assert_eq!(
        world
            .companies()
            .iter()
            .filter(|c| c["identifier"] == "NARNIA")
            .count(),
        0
    );
    let errors = report.0["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["recordId"] == "A-2" && e["attempts"] == 1),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_record_leaves_the_error_report_after_the_tenants_attempts_and_clears_once_fixed()
{
    let world = World::start().await;
    world.put_settings(json!({"errorAttempts": 2})).await;
    let bad = in_narnia();
    world.billing.seed_accounts(vec![bad]);

    world.sync(false).await;
    world.sync(false).await;
    let errors = world
        .ok(json!({"action": "errors", "tenant": TENANT}))
        .await;
    assert_eq!(errors["errors"][0]["attempts"], 2, "{errors}");
    world.sync(false).await;
    let errors = world
        .ok(json!({"action": "errors", "tenant": TENANT}))
        .await;
    assert_eq!(
        errors["errors"].as_array().unwrap().len(),
        0,
        "dropped off after 2 attempts: {errors}"
    );

    // Fixed in the billing system: it syncs, and it is gone from the ledger.
    world.billing.modify_account("A-2", |a| {
        a.billing_address = Some(address(
            "1 Wardrobe Way",
            "Phoenix",
            "Arizona",
            "85001",
            "United States",
        ));
    });
    let report = world.sync(false).await;
    assert_eq!(report.outcome("company", "A-2"), "created", "{}", report.0);
    assert_eq!(report.status(), "succeeded");
    let errors = world
        .ok(json!({"action": "errors", "tenant": TENANT}))
        .await;
    assert_eq!(errors["errors"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_contact_email_fails_the_contact_only() {
    let world = World::start().await;
    let mut a = account("A-1", "ACME", "Acme");
    a.contacts = vec![
        contact("C-1", "Ann", "Lee", "not-an-email"),
        contact("C-2", "Bob", "Stone", "bob@acme.example"),
    ];
    world.billing.seed_accounts(vec![a]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "created");
    assert_eq!(report.outcome("contact", "C-1"), "failed");
    assert!(
        report.detail("contact", "C-1").contains("email"),
        "{}",
        report.detail("contact", "C-1")
    );
    assert_eq!(report.outcome("contact", "C-2"), "created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectwise_outages_are_retried_and_the_run_still_completes_without_duplicates() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("A-1", "ACME", "Acme"),
        account("A-2", "GLOBEX", "Globex"),
    ]);
    world.cw.inject(
        cwsync_connectwise_sim::FaultRule::new(cwsync_connectwise_sim::FaultKind::Status(503))
            .next(6),
    );

    let report = world.sync(false).await;

    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.count("company", "created"), 2);
    assert_eq!(world.companies().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_reads_only_changed_accounts_and_retries_the_failing_ones() {
    let world = World::start().await;
    let bad = in_narnia();
    world.billing.seed_accounts(vec![
        account("A-1", "ACME", "Acme"),
        bad,
        account("A-3", "GLOBEX", "Globex"),
    ]);
    world.sync(false).await;
    // A day later one account changes, and an incremental run moves the watermark past it (the
    // run still reads the others: they were written back within the overlap window).
    let day = std::time::Duration::from_secs(86_400);
    world.billing.advance_clock(day);
    world
        .billing
        .modify_account("A-3", |a| a.phone = Some("602-555-0142".to_owned()));
    world
        .ok(json!({"action": "sync-tenant", "tenant": TENANT, "incremental": true}))
        .await;
    world.service.deliver_all(&world.queue, 5).await;
    // Another day later it changes again.
    world.billing.advance_clock(day);
    world
        .billing
        .modify_account("A-3", |a| a.phone = Some("602-555-0143".to_owned()));

    let planned = world
        .ok(json!({"action": "sync-tenant", "tenant": TENANT, "incremental": true}))
        .await;
    world.service.deliver_all(&world.queue, 5).await;
    let report = world.report(planned["runId"].as_str().unwrap()).await;

    assert_eq!(
        planned["accounts"], 2,
        "the changed account and the failing one: {planned}"
    );
    assert_eq!(report.outcome("company", "A-3"), "updated");
    assert_eq!(report.outcome("company", "A-2"), "failed");
    assert_eq!(report.status(), "partially_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_the_problems_of_the_contacts_a_new_company_would_get() {
    let world = World::start().await;
    let mut a = account("A-1", "ACME", "Acme");
    a.contacts = vec![contact("C-1", "Ann", "Lee", "not-an-email")];
    world.billing.seed_accounts(vec![a]);

    let report = world.sync(true).await;

    assert_eq!(report.outcome("company", "A-1"), "created");
    assert_eq!(report.outcome("contact", "C-1"), "failed");
    assert!(
        report.detail("contact", "C-1").contains("email"),
        "{}",
        report.0
    );
    assert_eq!(world.cw_writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn currencies_are_set_through_the_tenants_mapping_and_an_unmapped_one_is_reported() {
    let world = World::start().await;
    world
        .put_settings(json!({"mappings": {"currencies": {"USD": 1, "CAD": 2}}}))
        .await;
    let mut canadian = account("A-1", "MAPLE", "Maple Leaf");
    canadian.currency = Some(" cad ".to_owned());
    let mut euro = account("A-2", "EURO", "Euro GmbH");
    euro.currency = Some("EUR".to_owned());
    world.billing.seed_accounts(vec![canadian, euro]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "created", "{}", report.0);
    assert_eq!(world.company("MAPLE")["currency"]["id"], 2);
    assert_eq!(report.outcome("company", "A-2"), "failed");
    assert!(
        report.detail("company", "A-2").contains("currency"),
        "{}",
        report.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_billing_record_fails_alone_naming_its_field_and_syncs_once_fixed() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("A-1", "ACME", "Acme"),
        account("A-2", "GLOBEX", "Globex"),
    ]);
    world
        .billing
        .corrupt_account("A-2", "billingAddress", json!({"state": 42}));

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "created", "{}", report.0);
    assert_eq!(report.outcome("company", "A-2"), "failed");
    let detail = report.detail("company", "A-2");
    assert!(detail.contains("billingAddress.state"), "{detail}");
    assert_eq!(report.status(), "partially_failed");
    let errors = world
        .ok(json!({"action": "errors", "tenant": TENANT}))
        .await;
    assert_eq!(errors["errors"][0]["recordId"], "A-2", "{errors}");

    // A single-account sync of the bad record reports it too, and is not retried forever.
    let answer = world
        .ok(json!({"action": "sync-account", "tenant": TENANT, "accountId": "A-2"}))
        .await;
    assert_eq!(
        answer["result"]["records"][0]["outcome"], "failed",
        "{answer}"
    );

    world.billing.clear_corruptions();
    let fixed = world.sync(false).await;
    assert_eq!(fixed.outcome("company", "A-2"), "created", "{}", fixed.0);
    assert_eq!(fixed.status(), "succeeded");
}
