//! Existing companies are matched, never duplicated; sites and contacts too.

use crate::support::*;
use serde_json::json;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_is_linked_to_the_company_with_its_code_as_identifier_in_any_case() {
    let world = World::start().await;
    let existing = seed_company(&world, "acme", None);
    world
        .billing
        .seed_accounts(vec![account("A-1", " ACME ", "Acme Inc")]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "linked", "{}", report.0);
    assert!(
        report
            .detail("company", "A-1")
            .contains(&format!("company {existing}")),
        "{}",
        report.0
    );
    assert_eq!(world.companies().len(), 1, "nothing created");
    // Linked, then brought to the account's values (name differed).
    assert_eq!(world.company("acme")["name"], "Acme Inc");
    assert_eq!(
        world
            .billing
            .account("A-1")
            .unwrap()
            .connect_wise_company_id,
        Some(existing)
    );
    let again = world.sync(false).await;
    assert_eq!(again.outcome("company", "A-1"), "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_is_linked_to_the_company_whose_account_number_is_its_code() {
    let world = World::start().await;
    let existing = seed_company(&world, "LEGACY-7", Some("ACME"));
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme Inc")]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "linked", "{}", report.0);
    assert!(
        report
            .detail("company", "A-1")
            .contains(&format!("company {existing}")),
        "{}",
        report.0
    );
    assert_eq!(world.companies().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_candidate_companies_create_nothing_and_report_the_ambiguity_with_suggestions() {
    let world = World::start().await;
    let a = seed_company(&world, "ACME", None);
    let b = seed_company(&world, "ACME-OLD", Some("ACME"));
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Existing ACME")]);

    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "failed");
    let detail = report.detail("company", "A-1");
    assert!(
        detail.contains("ambiguous")
            && detail.contains(&a.to_string())
            && detail.contains(&b.to_string()),
        "{detail}"
    );
    assert_eq!(world.companies().len(), 2, "nothing created");
    assert_eq!(report.status(), "partially_failed");
    let suggestions = report.0["suggestions"].as_array().unwrap();
    let candidates = suggestions[0]["candidates"].as_array().unwrap();
    assert_eq!(
        candidates[0]["companyId"], a,
        "the exact name ranks first: {candidates:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_and_a_contact_that_already_exist_are_linked_not_created_again() {
    let world = World::start().await;
    let company = seed_company(&world, "ACME", None);
    world
        .cw
        .seed(
            &format!("/company/companies/{company}/sites"),
            vec![json!({
                "name": "warehouse", "addressLine1": "9 DOCK RD", "city": "Tempe", "zip": "85281",
                "stateReference": {"id": 2}, "country": {"id": 1}
            })],
        )
        .unwrap();
    world
        .cw
        .seed("/company/contacts", vec![json!({
            "firstName": "Ann", "lastName": "O'Brien", "company": {"id": company},
            "communicationItems": [{"type": {"name": "Email"}, "communicationType": "Email", "value": "ANN@acme.example", "defaultFlag": true}]
        })])
        .unwrap();
    let mut account = account("A-1", "ACME", "Existing ACME");
    account.sites = vec![site("S-1", "Warehouse", "9 Dock Rd")];
    account.contacts = vec![contact("C-1", "Ann", "O'Brien", "ann@acme.example")];
    world.billing.seed_accounts(vec![account]);
    let sites_before = world
        .cw
        .records(&format!("/company/companies/{company}/sites"))
        .len();

    let report = world.sync(false).await;

    assert_eq!(report.outcome("site", "S-1"), "linked", "{}", report.0);
    assert_eq!(report.outcome("contact", "C-1"), "linked", "{}", report.0);
    assert_eq!(
        world
            .cw
            .records(&format!("/company/companies/{company}/sites"))
            .len(),
        sites_before
    );
    assert_eq!(world.contacts().len(), 1);
    let again = world.sync(false).await;
    assert_eq!(again.outcome("site", "S-1"), "unchanged", "{}", again.0);
    assert_eq!(again.outcome("contact", "C-1"), "unchanged", "{}", again.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_rank_companies_for_unlinked_accounts_by_name() {
    let world = World::start().await;
    let close = world
        .cw
        .seed(
            "/company/companies",
            vec![
                json!({"identifier": "ZZ1", "name": "Globex Corporation", "city": "Phoenix"}),
                json!({"identifier": "ZZ2", "name": "Initech", "city": "Phoenix"}),
            ],
        )
        .unwrap()[0];
    world
        .billing
        .seed_accounts(vec![account("A-9", "GLOBEX", "Globex Corp.")]);

    let answer = world
        .ok(json!({"action": "suggest", "tenant": TENANT}))
        .await;

    let first = &answer["suggestions"][0];
    assert_eq!(first["accountId"], "A-9");
    assert_eq!(first["candidates"][0]["companyId"], close, "{answer}");
    assert!(first["candidates"][0]["score"].as_f64().unwrap() > 0.8);
    assert!(
        first["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["companyId"] != close + 1 || c["score"].as_f64().unwrap() < 0.8)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_company_deleted_in_connectwise_is_reported_not_updated_or_recreated() {
    let world = World::start().await;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);
    world.sync(false).await;
    let id = world.company("ACME")["id"].as_i64().unwrap();
    cw_client(&world)
        .await
        .delete(&format!("/company/companies/{id}"))
        .await
        .unwrap();
    world
        .billing
        .modify_account("A-1", |a| a.name = "Acme Renamed".to_owned());

    let before = world.cw.calls();
    let report = world.sync(false).await;

    assert_eq!(report.outcome("company", "A-1"), "failed", "{}", report.0);
    assert!(
        report.detail("company", "A-1").contains("unlink"),
        "{}",
        report.0
    );
    assert_eq!(
        world.cw.calls().writes(),
        before.writes(),
        "nothing written"
    );
}
