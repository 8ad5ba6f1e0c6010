//! The console actions: link, unlink, test-connection, settings, report.

use crate::support::*;
use cwsync_connectwise_sim::ApiMember;
use http::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_links_an_account_to_a_chosen_company_and_the_sync_uses_it() {
    let world = World::start().await;
    let chosen = world
        .cw
        .seed(
            "/company/companies",
            vec![json!({"identifier": "OTHER", "name": "Acme (old)", "city": "Phoenix"})],
        )
        .unwrap()[0];
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);

    let answer = world
        .ok(json!({"action": "link", "tenant": TENANT, "accountId": "A-1", "companyId": chosen}))
        .await;
    assert_eq!(answer["companyId"], chosen);

    let report = world.sync(false).await;
    assert_eq!(report.outcome("company", "A-1"), "updated", "{}", report.0);
    assert_eq!(world.companies().len(), 1, "linked, not created");
    assert_eq!(
        world
            .billing
            .account("A-1")
            .unwrap()
            .connect_wise_company_id,
        Some(chosen)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_a_company_already_linked_to_another_account_is_refused_naming_both() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("A-1", "ACME", "Acme"),
        account("A-2", "GLOBEX", "Globex"),
    ]);
    world.sync(false).await;
    let acme = world.company("ACME")["id"].as_i64().unwrap();

    let refused = world
        .event(json!({"action": "link", "tenant": TENANT, "accountId": "A-2", "companyId": acme}))
        .await
        .unwrap_err();
    assert_eq!(
        refused.error_type, "LinkConflict",
        "{}",
        refused.error_message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_unlink_the_account_is_matched_again_instead_of_duplicated() {
    let world = World::start().await;
    let mut a = account("A-1", "ACME", "Acme");
    a.contacts = vec![contact("C-1", "Ann", "Lee", "ann@acme.example")];
    world.billing.seed_accounts(vec![a]);
    world.sync(false).await;

    let answer = world
        .ok(json!({"action": "unlink", "tenant": TENANT, "accountId": "A-1"}))
        .await;
    assert_eq!(answer["unlinked"].as_array().unwrap().len(), 2, "{answer}");

    let report = world.sync(false).await;
    assert_eq!(report.outcome("company", "A-1"), "linked", "{}", report.0);
    assert_eq!(report.outcome("contact", "C-1"), "linked");
    assert_eq!(world.companies().len(), 1);
    assert_eq!(world.contacts().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_names_each_missing_permission_of_the_api_member() {
    let member = ApiMember::test_member()
        .deny(Method::POST, "/company/contacts")
        .deny(Method::GET, "/company/states")
        .deny(Method::GET, "/service/tickets");
    let world = World::start_with(member).await;

    let report = world
        .ok(json!({"action": "test-connection", "tenant": TENANT}))
        .await;

    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["connectWise"], "connected");
    assert_eq!(report["billing"], "connected");
    let denied: Vec<&str> = report["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["granted"] == false)
        .map(|p| p["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        denied,
        [
            "GET /company/states",
            "GET /service/tickets",
            "POST /company/contacts"
        ],
        "{report}"
    );
    let tickets = report["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["operation"] == "GET /service/tickets")
        .unwrap();
    assert_eq!(tickets["usedBy"], "ticket-import");
    assert!(tickets["fix"].as_str().unwrap().contains("security role"));
    for collection in [
        "/company/companies",
        "/company/contacts",
        "/finance/agreements",
        "/finance/invoices",
        "/procurement/catalog",
        "/service/tickets",
        "/time/entries",
    ] {
        assert!(
            world.cw.records(collection).is_empty(),
            "probing created a record in {collection}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_of_a_healthy_tenant_is_ok_and_never_shows_a_key() {
    let world = World::start().await;
    let report = world
        .ok(json!({"action": "test-connection", "tenant": TENANT}))
        .await;
    assert_eq!(report["ok"], true, "{report}");
    let text = report.to_string();
    for key in [
        cwsync_connectwise_sim::TEST_PRIVATE_KEY,
        cwsync_connectwise_sim::TEST_PUBLIC_KEY,
        cwsync_billing_sim::TEST_BILLING_API_KEY,
    ] {
        assert!(!text.contains(key));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_settings_document_is_refused_naming_the_field() {
    let world = World::start().await;
    let refused = world
        .event(json!({"action": "put-settings", "tenant": TENANT, "settings": {"schemaVersion": 1, "errorAttempts": 0}}))
        .await
        .unwrap_err();
    assert_eq!(refused.error_type, "InvalidSettings");
    assert!(
        refused.error_message.contains("errorAttempts"),
        "{}",
        refused.error_message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_without_a_run_id_is_of_the_latest_customer_sync_not_another_jobs_run() {
    use cwsync_store::runs::RunStart;
    use cwsync_store::{RunId, TenantId};

    let world = World::start().await;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);
    let synced = world.sync(false).await;
    // Another job's run of the same tenant, newer than the sync: it shares the runs partition.
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let export = RunId::new(later);
    world
        .service
        .deps
        .stores
        .runs
        .start(
            &TenantId::parse(TENANT).unwrap(),
            RunStart::new(export.clone(), "daily-export", false, later),
        )
        .await
        .unwrap();

    let latest = world
        .ok(json!({"action": "report", "tenant": TENANT}))
        .await;
    assert_eq!(latest["run"]["runId"], synced.0["run"]["runId"], "{latest}");
    assert_eq!(latest["run"]["jobKind"], "customer-sync");
    assert_eq!(latest["records"], synced.0["records"]);

    let refused = world
        .event(json!({"action": "report", "tenant": TENANT, "runId": export.as_str()}))
        .await
        .unwrap_err();
    assert_eq!(refused.error_type, "NotFound");
    assert!(
        refused.error_message.contains("daily-export"),
        "{}",
        refused.error_message
    );
}
