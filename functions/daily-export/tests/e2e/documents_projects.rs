//! Projects → opportunities and credit holds → a company custom field (issue 11 §1), through the
//! console's `export-documents` and `documents-report`, over both simulators.

use cwsync_billing::models::{Account, DocumentItem, Project, ProjectStatus};
use cwsync_billing_sim::{fixture_accounts, fixture_items, fixture_projects};
use cwsync_connectwise_sim::{FaultKind, FaultRule};
use cwsync_test_support::{Report, merge};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::documents::seed_members;
use crate::support::{TENANT, World};

const ENTITY: &str = "opportunity";
const HOLD: &str = "credit-hold";

/// A run of `document` (`extra` merged into the event), delivered to the end; the planning's
/// answer and the run's report.
async fn run(world: &World, document: &str, extra: Value) -> (Value, Report) {
    let mut event = json!({"action": "export-documents", "tenant": TENANT, "document": document});
    merge(&mut event, extra);
    let planned = world.ok(event).await;
    world.deliver().await;
    let report = world
        .ok(
            json!({"action": "documents-report", "tenant": TENANT, "document": document,
                   "runId": planned["runId"]}),
        )
        .await;
    (planned, Report(report))
}

/// The fixture's projects and items in billing, projects exported; ConnectWise has member jdoe
/// (reference data) and, with `srivera`, srivera.
async fn projects_world(srivera: bool) -> World {
    let world = World::start().await;
    world.billing.seed_items(fixture_items());
    world.billing.seed_projects(fixture_projects());
    if srivera {
        seed_members(&world);
    }
    world
        .put_settings(json!({"export": {"projects": true}}))
        .await;
    world
}

fn opportunity_of(world: &World, project: &str) -> Value {
    let key = format!("[billing project {project}]");
    let found: Vec<Value> = world
        .records("/sales/opportunities")
        .into_iter()
        .filter(|o| o["notes"].as_str().is_some_and(|n| n.starts_with(&key)))
        .collect();
    assert_eq!(found.len(), 1, "{project}: {found:?}");
    found[0].clone()
}

fn products_of(world: &World, opportunity: &Value) -> Vec<Value> {
    let mut products: Vec<Value> = world
        .records("/procurement/products")
        .into_iter()
        .filter(|p| p["opportunity"]["id"] == opportunity["id"])
        .collect();
    products.sort_by_key(|p| p["sequenceNumber"].as_f64().unwrap_or_default() as i64);
    products
}

fn project(id: &str) -> Project {
    fixture_projects().into_iter().find(|p| p.id == id).unwrap()
}

#[tokio::test]
async fn projects_options_and_change_orders_become_linked_opportunities_once() {
    let world = projects_world(true).await;
    let (planned, report) = run(&world, "projects", json!({})).await;
    assert_eq!(planned["toSync"], 3, "{planned}");
    for id in ["PRJ-7301", "PRJ-7302", "PRJ-7303"] {
        assert_eq!(report.outcome(ENTITY, id), "created", "{}", report.0);
    }
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(world.records("/sales/opportunities").len(), 3);

    let main = opportunity_of(&world, "PRJ-7301");
    assert_eq!(main["name"], "Boardroom AV refresh");
    assert_eq!(main["primarySalesRep"]["identifier"], "jdoe");
    assert_eq!(main["type"]["name"], "Project");
    assert_eq!(main["status"]["name"], "Open");
    assert!(
        main["contact"]["id"].is_i64() && main["site"]["id"].is_i64(),
        "{main}"
    );
    assert!(
        main["expectedCloseDate"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-15")
    );
    // The company is the customer sync's company of A-1001 (the one the contact belongs to).
    let contact = world
        .records("/company/contacts")
        .into_iter()
        .find(|c| c["id"] == main["contact"]["id"])
        .unwrap();
    assert_eq!(contact["company"]["id"], main["company"]["id"]);

    // The items are its products, in order, on catalog items created in the tenant's category.
    let products = products_of(&world, &main);
    let skus: Vec<&str> = products
        .iter()
        .map(|p| p["catalogItem"]["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["CANON-DXC5850I-LSE", "LABOR-ONSITE"], "{products:?}");
    assert_eq!(products[1]["quantity"], 8.0);
    let catalog = world.records("/procurement/catalog");
    assert_eq!(catalog.len(), 3, "{catalog:?}");
    assert!(
        catalog.iter().all(|c| c["category"]["name"] == "Projects"),
        "{catalog:?}"
    );
    assert_eq!(
        world
            .records("/sales/opportunities/types")
            .iter()
            .filter(|t| t["description"] == "Project")
            .count(),
        1
    );

    // The option and the change order are opportunities of their own naming the project's.
    let option = opportunity_of(&world, "PRJ-7302");
    let notes = option["notes"].as_str().unwrap();
    assert!(
        notes.contains(&format!("Option of opportunity {}", main["id"])),
        "{notes}"
    );
    let change = opportunity_of(&world, "PRJ-7303");
    let notes = change["notes"].as_str().unwrap();
    assert!(
        notes.contains(&format!("Change order of opportunity {}", main["id"])),
        "{notes}"
    );
    // Won, by identifier, with its project's contact.
    assert_eq!(change["status"]["name"], "Won");
    assert!(change["closedDate"].is_string(), "{change}");
    assert_eq!(change["primarySalesRep"]["identifier"], "srivera");
    assert_eq!(change["contact"]["id"], main["contact"]["id"]);

    // An unchanged re-run sends no page and writes nothing.
    let writes = world.cw_writes();
    let (planned, _) = run(&world, "projects", json!({})).await;
    assert_eq!(
        (planned["unchanged"].as_u64(), planned["pages"].as_u64()),
        (Some(3), Some(0)),
        "{planned}"
    );
    assert_eq!(world.cw_writes(), writes);

    // A full run delivered twice (every page job replayed) changes nothing either.
    let planned = world
        .ok(
            json!({"action": "export-documents", "tenant": TENANT, "document": "projects",
                   "full": true}),
        )
        .await;
    assert_eq!(planned["pages"], 1);
    world.deliver_twice().await;
    assert_eq!(world.cw_writes(), writes);
    assert_eq!(world.records("/sales/opportunities").len(), 3);
    assert_eq!(world.records("/procurement/products").len(), 4);
}

#[tokio::test]
async fn changed_items_replace_the_products_and_a_lost_project_moves_the_status() {
    let world = projects_world(true).await;
    run(&world, "projects", json!({})).await;
    let mut changed = project("PRJ-7301");
    changed.status = ProjectStatus::Lost;
    changed.items[1].quantity = Decimal::from(12);
    changed.items.push(DocumentItem {
        item_id: "I-DRUM".to_owned(),
        quantity: Decimal::from(2),
        price: Decimal::from(240),
        ..changed.items[0].clone()
    });
    world.billing.seed_projects(vec![changed.clone()]);

    let (planned, report) = run(&world, "projects", json!({})).await;
    assert_eq!(
        (planned["toSync"].as_u64(), planned["unchanged"].as_u64()),
        (Some(1), Some(2)),
        "{planned}"
    );
    assert_eq!(
        report.outcome(ENTITY, "PRJ-7301"),
        "updated",
        "{}",
        report.0
    );
    let main = opportunity_of(&world, "PRJ-7301");
    assert_eq!(main["status"]["name"], "Lost");
    assert!(main["closedDate"].is_string());
    let products = products_of(&world, &main);
    let lines: Vec<(&str, f64)> = products
        .iter()
        .map(|p| {
            (
                p["catalogItem"]["identifier"].as_str().unwrap(),
                p["quantity"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("CANON-DXC5850I-LSE", 1.0),
            ("LABOR-ONSITE", 12.0),
            ("DRUM-DXC5850", 2.0)
        ]
    );

    // Reopened: back to Open, the close stamps gone; nothing else written.
    let mut reopened = changed;
    reopened.status = ProjectStatus::Open;
    world.billing.seed_projects(vec![reopened]);
    let (_, report) = run(&world, "projects", json!({})).await;
    assert_eq!(report.outcome(ENTITY, "PRJ-7301"), "updated");
    let main = opportunity_of(&world, "PRJ-7301");
    assert_eq!(main["status"]["name"], "Open");
    assert!(main["closedDate"].is_null(), "{main}");
}

#[tokio::test]
async fn an_unmapped_owner_fails_naming_the_owner_and_the_project_syncs_once_fixed() {
    let world = projects_world(false).await;
    let (_, report) = run(&world, "projects", json!({})).await;
    assert_eq!(report.outcome(ENTITY, "PRJ-7303"), "failed");
    let detail = report.detail(ENTITY, "PRJ-7303");
    assert!(
        detail.contains("srivera") && detail.contains("no active ConnectWise member"),
        "{detail}"
    );
    assert_eq!(report.outcome(ENTITY, "PRJ-7301"), "created");
    assert_eq!(report.status(), "partially_failed");
    assert_eq!(world.records("/sales/opportunities").len(), 2);

    seed_members(&world);
    let (planned, report) = run(&world, "projects", json!({})).await;
    assert_eq!(planned["toSync"], 1, "{planned}");
    assert_eq!(
        report.outcome(ENTITY, "PRJ-7303"),
        "created",
        "{}",
        report.0
    );
    assert_eq!(world.records("/sales/opportunities").len(), 3);
}

#[tokio::test]
async fn a_dry_run_of_projects_writes_nothing_and_says_what_it_would_do() {
    let world = projects_world(true).await;
    let writes = world.cw_writes();
    let (planned, report) = run(&world, "projects", json!({"dryRun": true})).await;
    assert_eq!(planned["dryRun"], true);
    assert_eq!(world.cw_writes(), writes);
    assert!(world.records("/sales/opportunities").is_empty());
    assert!(
        report.detail(ENTITY, "PRJ-7301").starts_with("would"),
        "{}",
        report.0
    );
    // Nothing was recorded as synced: the real run still sends all three.
    let (planned, _) = run(&world, "projects", json!({})).await;
    assert_eq!(planned["toSync"], 3, "{planned}");
}

fn account(id: &str) -> Account {
    fixture_accounts().into_iter().find(|a| a.id == id).unwrap()
}

fn credit_hold_value(world: &World, company: &Value) -> Value {
    let company = world
        .records("/company/companies")
        .into_iter()
        .find(|c| c["id"] == company["id"])
        .unwrap();
    company["customFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["caption"] == "Credit Hold")
        .map(|f| f["value"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_credit_hold_on_and_off_writes_the_company_field_once_each() {
    let world = World::start().await;
    world
        .put_settings(json!({"documents": {"creditHold": {"customField": "Credit Hold"}}}))
        .await;
    // A-1005 (on hold) has no company yet: it fails naming the account, nothing written for it.
    let (_, report) = run(&world, "credit-hold", json!({})).await;
    assert_eq!(report.outcome(HOLD, "A-1005"), "failed", "{}", report.0);
    assert!(report.detail(HOLD, "A-1005").contains("account A-1005"));
    assert_eq!(report.count(HOLD, "updated"), 0, "{}", report.0);

    // Linked to a company: the field is set once.
    let company = world
        .cw
        .create(
            "/company/companies",
            json!({"identifier": "LANTERNWASTE", "name": "Lantern Waste Outfitters",
                   "addressLine1": "1 Lamp Post Way", "site": {"name": "Main"}}),
        )
        .unwrap();
    world.link("A-1005", company["id"].as_i64().unwrap()).await;
    let writes = world.cw_writes();
    let (planned, report) = run(&world, "credit-hold", json!({})).await;
    assert_eq!(planned["toSync"], 1, "{planned}");
    assert_eq!(report.outcome(HOLD, "A-1005"), "updated", "{}", report.0);
    assert_eq!(world.cw_writes(), writes + 1);
    assert_eq!(credit_hold_value(&world, &company), true);

    // Unchanged: no page, no write.
    let (planned, _) = run(&world, "credit-hold", json!({})).await;
    assert_eq!(planned["pages"], 0, "{planned}");
    assert_eq!(world.cw_writes(), writes + 1);

    // Off hold: cleared once; the replayed page job writes nothing more.
    let mut off = account("A-1005");
    off.on_hold = false;
    world.billing.seed_accounts(vec![off]);
    let planned = world
        .ok(json!({"action": "export-documents", "tenant": TENANT, "document": "credit-hold"}))
        .await;
    assert_eq!(planned["toSync"], 1, "{planned}");
    world.deliver_twice().await;
    assert_eq!(world.cw_writes(), writes + 2);
    assert_eq!(credit_hold_value(&world, &company), false);
}

#[tokio::test]
async fn a_credit_hold_field_that_does_not_exist_fails_naming_its_caption() {
    let world = World::start().await;
    world
        .put_settings(json!({"documents": {"creditHold": {"customField": "On Stop"}}}))
        .await;
    let mut held = account("A-1001");
    held.on_hold = true;
    world.billing.seed_accounts(vec![held]);
    let writes = world.cw_writes();
    let (_, report) = run(&world, "credit-hold", json!({})).await;
    let detail = report.detail(HOLD, "A-1001");
    assert_eq!(report.outcome(HOLD, "A-1001"), "failed");
    assert!(
        detail.contains("\"On Stop\"") && detail.contains("documents.creditHold.customField"),
        "{detail}"
    );
    assert_eq!(world.cw_writes(), writes);
    // A dry run with the right caption says what it would write, and writes nothing.
    world
        .put_settings(json!({"documents": {"creditHold": {"customField": "Credit Hold"}}}))
        .await;
    let (_, report) = run(&world, "credit-hold", json!({"dryRun": true})).await;
    assert_eq!(
        report.detail(HOLD, "A-1001"),
        "would set \"Credit Hold\" to on hold"
    );
    assert_eq!(world.cw_writes(), writes);
}

#[tokio::test]
async fn an_office_location_without_a_site_link_is_matched_by_name_on_the_company() {
    let world = projects_world(true).await;
    // A location added in billing after the customer sync ran, and a site of that name made by
    // hand in ConnectWise.
    let mut client = account("A-1001");
    let mut annex = client.sites[0].clone();
    annex.id = "S-2099".to_owned();
    annex.name = "Boardroom Annex".to_owned();
    client.sites.push(annex);
    world.billing.seed_accounts(vec![client]);
    run(&world, "projects", json!({"recordIds": ["PRJ-7301"]})).await;
    let company = opportunity_of(&world, "PRJ-7301")["company"]["id"]
        .as_i64()
        .unwrap();
    let site = world
        .cw
        .create(
            &format!("/company/companies/{company}/sites"),
            json!({"name": "boardroom annex", "addressLine1": "1 Annex Way", "city": "Scottsdale"}),
        )
        .unwrap();
    let mut moved = project("PRJ-7301");
    moved.site_id = Some("S-2099".to_owned());
    let mut lost = project("PRJ-7302");
    lost.site_id = Some("S-2098".to_owned());
    world.billing.seed_projects(vec![moved, lost]);

    let (_, report) = run(&world, "projects", json!({})).await;
    assert_eq!(
        report.outcome(ENTITY, "PRJ-7301"),
        "updated",
        "{}",
        report.0
    );
    assert_eq!(opportunity_of(&world, "PRJ-7301")["site"]["id"], site["id"]);
    let detail = report.detail(ENTITY, "PRJ-7302");
    assert!(
        detail.starts_with("siteId: office location S-2098"),
        "{detail}"
    );

    // Matched, not linked: the next run finds it unchanged and sends only the failed option.
    let writes = world.cw_writes();
    let (planned, _) = run(&world, "projects", json!({})).await;
    assert_eq!(planned["toSync"], 1, "{planned}");
    assert_eq!(world.cw_writes(), writes);
}

#[tokio::test]
async fn project_creates_whose_answers_were_lost_are_settled_not_made_twice() {
    let world = projects_world(true).await;
    // ConnectWise applies each first create, then the connection drops before the answer.
    for (path, nth) in [
        ("/sales/opportunities/types", 1),
        ("/procurement/catalog", 2),
        ("/sales/opportunities", 1),
        ("/sales/opportunities", 3),
        ("/procurement/products", 2),
    ] {
        world.cw.inject(
            FaultRule::new(FaultKind::Drop)
                .on("POST", path)
                .nth(nth)
                .after_processing(),
        );
    }
    let (_, report) = run(&world, "projects", json!({})).await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(world.records("/sales/opportunities").len(), 3);
    assert_eq!(world.records("/procurement/products").len(), 4);
    assert_eq!(world.records("/procurement/catalog").len(), 3);
    let types = world.records("/sales/opportunities/types");
    assert_eq!(
        types
            .iter()
            .filter(|t| t["description"] == "Project")
            .count(),
        1
    );
    let writes = world.cw_writes();
    let (planned, _) = run(&world, "projects", json!({})).await;
    assert_eq!(planned["pages"], 0, "{planned}");
    assert_eq!(world.cw_writes(), writes);
}

#[tokio::test]
async fn an_office_location_no_site_matches_is_created_once_as_the_customer_sync_would() {
    let world = projects_world(true).await;
    run(&world, "projects", json!({"recordIds": ["PRJ-7301"]})).await;
    let company = opportunity_of(&world, "PRJ-7301")["company"]["id"]
        .as_i64()
        .unwrap();
    // A location added in billing after the customer sync ran; ConnectWise has no site of
    // that name.
    let mut client = account("A-1001");
    let mut annex = client.sites[0].clone();
    annex.id = "S-2099".to_owned();
    annex.name = "Harbor Annex".to_owned();
    client.sites.push(annex);
    world.billing.seed_accounts(vec![client]);
    let mut moved = project("PRJ-7301");
    moved.site_id = Some("S-2099".to_owned());
    world.billing.seed_projects(vec![moved]);
    let sites_before = world
        .records(&format!("/company/companies/{company}/sites"))
        .len();

    let (_, report) = run(&world, "projects", json!({"recordIds": ["PRJ-7301"]})).await;
    assert_eq!(
        report.outcome(ENTITY, "PRJ-7301"),
        "updated",
        "{}",
        report.0
    );
    let sites = world.records(&format!("/company/companies/{company}/sites"));
    assert_eq!(sites.len(), sites_before + 1, "one site made: {sites:?}");
    let made = sites.iter().find(|s| s["name"] == "Harbor Annex").unwrap();
    assert_eq!(opportunity_of(&world, "PRJ-7301")["site"]["id"], made["id"]);

    // It is the customer sync's site now: its next run links nothing new and makes no second.
    world.sync_customers().await;
    run(&world, "projects", json!({"full": true})).await;
    let after = world.records(&format!("/company/companies/{company}/sites"));
    assert_eq!(
        after.len(),
        sites_before + 1,
        "never a second site: {after:?}"
    );
}
