//! Never a duplicate, never a loss: lost answers, a run cut off half way, the user list, and a
//! unit with no mapping.

use cwsync_billing_sim::{fixture_products, fixture_subscriptions, fixture_users};
use cwsync_connectwise_sim::{FaultKind, FaultRule};
use cwsync_queue::JobQueue;
use serde_json::{Value, json};

use crate::support::World;

async fn fixture_world() -> World {
    let world = World::start().await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    world
}

#[tokio::test]
async fn creates_whose_answers_were_lost_are_settled_not_made_twice() {
    let world = fixture_world().await;
    // ConnectWise applies each first create, then the connection drops before the answer.
    for path in [
        "/procurement/catalog",
        "/finance/agreements",
        "/finance/agreements/{parentId}/additions",
    ] {
        world.cw.inject(
            FaultRule::new(FaultKind::Drop)
                .on("POST", path)
                .nth(1)
                .after_processing(),
        );
    }
    world.export_now(json!({})).await;
    assert_eq!(world.records("/procurement/catalog").len(), 6);
    assert_eq!(world.records("/finance/agreements").len(), 2);
    assert_eq!(world.additions().len(), 3);
    // And the next run finds everything linked.
    let writes = world.cw_writes();
    world.export_now(json!({})).await;
    assert_eq!(world.cw_writes(), writes);
}

#[tokio::test]
async fn a_run_cut_off_half_way_is_finished_by_the_next_without_duplicates() {
    let world = fixture_world().await;
    let planned = world
        .ok(json!({"action": "export-now", "tenant": crate::support::TENANT}))
        .await;
    // Half the account jobs run; the rest are lost with the worker (their run never finishes).
    let jobs = world.export_queue.drain();
    let half = jobs.len() / 2;
    world.export_queue.send_batch(&jobs[..half]).await.unwrap();
    world.deliver().await;
    let cut = world.report(planned["runId"].as_str().unwrap()).await;
    assert_eq!(cut.status(), "running");
    // The next export does the rest, and nothing twice.
    let (_, report) = world.export_now(json!({})).await;
    assert_ne!(report.status(), "running");
    assert_eq!(world.records("/finance/agreements").len(), 2);
    assert_eq!(world.additions().len(), 3);
    let writes = world.cw_writes();
    world.export_now(json!({})).await;
    assert_eq!(world.cw_writes(), writes, "then nothing is left to write");
}

#[tokio::test]
async fn a_worker_stopped_between_linking_an_addition_and_recording_its_place_makes_no_duplicate() {
    let world = fixture_world().await;
    world.export_now(json!({})).await;
    let additions = world.additions().len();
    assert!(additions > 0);
    // What a worker stopped right after linking its new addition leaves: the link, without the
    // place (agreement, quantity) recorded next.
    let tenant = cwsync_store::TenantId::parse(crate::support::TENANT).unwrap();
    let links = &world.export.deps.stores.links;
    let mut stripped = Vec::new();
    for subscription in world.billing.subscriptions() {
        let source = cwsync_store::links::SourceRef::new("addition", &subscription.id);
        let Some(link) = links.get(&tenant, source).await.unwrap() else {
            continue;
        };
        let cw_id = link.cw_id.unwrap();
        links.unlink(&tenant, source).await.unwrap();
        let now = time::OffsetDateTime::now_utc();
        links
            .link_existing(&tenant, source, &link.cw_kind, cw_id, "stale", now)
            .await
            .unwrap();
        stripped.push((subscription.id.clone(), cw_id));
    }
    assert!(!stripped.is_empty());
    // And the billing system changes their quantities, so the next export works on them.
    for (subscription, _) in &stripped {
        world.billing.modify_subscription(subscription, |s| {
            s.quantity += rust_decimal::Decimal::ONE;
        });
    }

    let (_, report) = world.export_now(json!({})).await;

    assert_ne!(report.status(), "running", "{}", report.0);
    assert_eq!(world.additions().len(), additions, "no addition made again");
    for (subscription, cw_id) in stripped {
        let source = cwsync_store::links::SourceRef::new("addition", &subscription);
        let link = links.get(&tenant, source).await.unwrap().unwrap();
        assert_eq!(link.cw_id, Some(cw_id), "{subscription} keeps its addition");
        assert!(
            cwsync_daily_export::account::AdditionPlace::of(&link).is_some(),
            "{subscription}: its place is recorded again"
        );
    }
    let writes = world.cw_writes();
    world.export_now(json!({})).await;
    assert_eq!(world.cw_writes(), writes, "then nothing is left to write");
}

#[tokio::test]
async fn an_addition_an_interrupted_create_left_is_found_and_given_the_quantity_of_now() {
    let world = fixture_world().await;
    world.export_now(json!({})).await;
    let additions = world.additions().len();
    // What a worker killed right after its create landed leaves, an export ago: the addition in
    // ConnectWise with the quantity of then, and a pending claim on the subscription's link that
    // has gone stale since.
    let tenant = cwsync_store::TenantId::parse(crate::support::TENANT).unwrap();
    let links = &world.export.deps.stores.links;
    let mut found = None;
    for subscription in world.billing.subscriptions() {
        let source = cwsync_store::links::SourceRef::new("addition", &subscription.id);
        if let Some(link) = links.get(&tenant, source).await.unwrap() {
            found = Some((subscription.id.clone(), link.cw_id.unwrap()));
            break;
        }
    }
    let (subscription, cw_id) = found.expect("an exported subscription");
    let source = cwsync_store::links::SourceRef::new("addition", &subscription);
    links.unlink(&tenant, source).await.unwrap();
    let then = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    links
        .claim(&tenant, source, "addition", then)
        .await
        .unwrap();
    // Meanwhile the billing user changes its quantity.
    world.billing.modify_subscription(&subscription, |s| {
        s.quantity += rust_decimal::Decimal::from(3);
    });
    let quantity = world.billing.subscription(&subscription).unwrap().quantity;

    let (_, report) = world.export_now(json!({})).await;

    assert_eq!(world.additions().len(), additions, "no addition made again");
    let link = links.get(&tenant, source).await.unwrap().unwrap();
    assert_eq!(
        link.cw_id,
        Some(cw_id),
        "the addition found is linked again"
    );
    let addition = world
        .additions()
        .into_iter()
        .find(|a| a["id"] == cw_id)
        .unwrap();
    assert_eq!(
        addition["quantity"].to_string(),
        quantity.normalize().to_string(),
        "the addition found holds the quantity of now, not of the attempt that made it"
    );
    let detail = report.detail("addition", &subscription);
    assert!(
        detail.contains("interrupted earlier attempt") && detail.contains("quantity"),
        "{detail}"
    );
    let writes = world.cw_writes();
    world.export_now(json!({})).await;
    assert_eq!(world.cw_writes(), writes, "then nothing is left to write");
}

fn documents(world: &World) -> Vec<Value> {
    world.records("/system/documents")
}

#[tokio::test]
async fn the_user_list_is_attached_once_and_replaced_when_it_changes() {
    let world = fixture_world().await;
    world
        .put_settings(json!({"export": {"userList": true}}))
        .await;
    world.export_now(json!({})).await;
    // A-1001 and A-1003 have users and an agreement: one list each.
    assert_eq!(documents(&world).len(), 2, "{:?}", documents(&world));
    let writes = world.cw_writes();
    world.export_now(json!({})).await;
    assert_eq!(
        world.cw_writes(),
        writes,
        "an unchanged list is not uploaded again"
    );

    world
        .billing
        .advance_clock(std::time::Duration::from_secs(3600));
    world
        .billing
        .modify_user("U-7001", |u| u.services.push("Teams Phone".to_owned()));
    let (_, report) = world.export_now(json!({})).await;
    assert_eq!(report.outcome("user-list", "A-1001"), "updated");
    assert_eq!(report.outcome("export-account", "A-1001"), "updated");
    let docs = documents(&world);
    assert_eq!(docs.len(), 2, "today's list replaces yesterday's: {docs:?}");
}

#[tokio::test]
async fn a_unit_with_no_mapping_names_the_value_and_the_setting() {
    let world = fixture_world().await;
    world
        .billing
        .modify_product("P-BACKUP-TB", |p| p.unit = Some("Rack".to_owned()));
    let (_, report) = world.export_now(json!({})).await;
    let detail = report.detail("catalog-item", "P-BACKUP-TB");
    assert!(
        detail.contains("\"Rack\"") && detail.contains("mappings.unitsOfMeasure"),
        "{detail}"
    );
    // The others are exported.
    assert_eq!(report.outcome("catalog-item", "P-M365-BP"), "created");
}

#[tokio::test]
async fn a_live_subscription_to_a_disabled_product_fails_without_a_connectwise_call() {
    let world = fixture_world().await;
    // SUB-5001's product is disabled in the billing system; the subscription still runs.
    world
        .billing
        .modify_product("P-M365-BP", |p| p.enabled = false);
    let posts = world
        .cw
        .calls()
        .count("POST", "/finance/agreements/{parentId}/additions");
    let (_, report) = world.export_now(json!({})).await;
    let detail = report.detail("addition", "SUB-5001");
    assert!(
        detail.contains("disabled") && detail.contains("productId"),
        "{detail}"
    );
    // The other two additions are created, and none for the disabled product.
    let created = world
        .cw
        .calls()
        .count("POST", "/finance/agreements/{parentId}/additions")
        - posts;
    assert_eq!(created, 2);
    assert!(
        world
            .additions()
            .iter()
            .all(|a| a["product"]["identifier"] != "M365-BP")
    );
}
