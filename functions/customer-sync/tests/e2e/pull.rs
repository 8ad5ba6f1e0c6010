//! Fields the tenant marks as owned by ConnectWise flow back to the billing system.

use crate::support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectwise_owned_fields_are_written_back_to_the_billing_account() {
    let world = World::start().await;
    world
        .put_settings(
            json!({"ownedByConnectWise": {"companies": ["phoneNumber", "addressLine1", "types"]}}),
        )
        .await;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);
    world.sync(false).await;
    let id = world.company("ACME")["id"].as_i64().unwrap();
    // A ConnectWise user edits the company.
    let client_update = json!([
        {"op": "replace", "path": "/phoneNumber", "value": "480-555-0000"},
        {"op": "replace", "path": "/addressLine1", "value": "77 New St"},
        {"op": "replace", "path": "/city", "value": "Tucson"}
    ]);
    patch_record(&world, &format!("/company/companies/{id}"), client_update).await;

    let before = world.cw.calls();
    let report = world.sync(false).await;

    let account = world.billing.account("A-1").unwrap();
    // ConnectWise spells the number as digits, and that is what flows back.
    assert_eq!(account.phone.as_deref(), Some("4805550000"), "{}", report.0);
    let address = account.billing_address.unwrap();
    assert_eq!(address.line1.as_deref(), Some("77 New St"));
    assert_eq!(address.city.as_deref(), Some("Tucson"));
    assert_eq!(address.state.as_deref(), Some("AZ"));
    assert_eq!(address.country.as_deref(), Some("United States"));
    assert_eq!(account.account_type.as_deref(), Some("Client"));
    assert_eq!(
        world.cw.calls().writes() - before.writes(),
        0,
        "owned fields are never pushed"
    );
    assert_eq!(report.outcome("billing-account", "A-1"), "updated");
    // Settled: the next run writes nothing anywhere.
    let billing_before = world.billing.calls().writes();
    world.sync(false).await;
    assert_eq!(world.billing.calls().writes(), billing_before);
}

/// A ConnectWise user's edit, a second after the sync: ConnectWise's `lastUpdated` has whole
/// seconds, and the planner tells a changed record by it (an edit within the sync's own second by
/// the sync's own API member is the documented limit of that check).
async fn patch_record(world: &World, path: &str, ops: serde_json::Value) {
    world.cw.advance_clock(std::time::Duration::from_secs(1));
    let client = cw_client(world).await;
    let ops: Vec<cwsync_connectwise::PatchOp> = ops
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            cwsync_connectwise::PatchOp::replace(
                op["path"].as_str().unwrap().trim_start_matches('/'),
                op["value"].clone(),
            )
        })
        .collect();
    let _: serde_json::Value = client.patch(path, &ops).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_field_owned_by_connectwise_flows_back_to_the_billing_contact() {
    let world = World::start().await;
    world
        .put_settings(json!({"ownedByConnectWise": {"contacts": ["title"]}}))
        .await;
    let mut a = account("A-1", "ACME", "Acme");
    a.contacts = vec![contact("C-1", "Ann", "Lee", "ann@acme.example")];
    world.billing.seed_accounts(vec![a]);
    world.sync(false).await;
    let ann = world.contacts()[0]["id"].as_i64().unwrap();
    patch_record(
        &world,
        &format!("/company/contacts/{ann}"),
        json!([{"op": "replace", "path": "/title", "value": "Director of Operations"}]),
    )
    .await;
    // The billing side changes the title too: ConnectWise owns it, so it is not pushed.
    world
        .billing
        .modify_account("A-1", |a| a.contacts[0].title = Some("Clerk".to_owned()));

    let before = world.cw.calls();
    world.sync(false).await;

    let billing_contact = &world.billing.account("A-1").unwrap().contacts[0];
    assert_eq!(
        billing_contact.title.as_deref(),
        Some("Director of Operations")
    );
    assert_eq!(world.contacts()[0]["title"], "Director of Operations");
    assert_eq!(world.cw.calls().writes(), before.writes(), "nothing pushed");
}
