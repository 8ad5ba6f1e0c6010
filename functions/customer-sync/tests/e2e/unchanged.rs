//! A full run sends jobs only for the accounts that changed on either side since their last sync
//! (or still fail); the others are recorded unchanged without a job, from two paged ConnectWise
//! reads and the billing listing.

use crate::support::*;
use cwsync_connectwise::PatchOp;
use serde_json::{Value, json};

/// Plans a full run (or a dry run) and delivers its jobs: the jobs sent and the run's report.
async fn run(world: &World, dry_run: bool) -> (u64, Report) {
    let planned = world
        .ok(json!({"action": "sync-tenant", "tenant": TENANT, "dryRun": dry_run}))
        .await;
    let delivery = world.service.deliver_all(&world.queue, 5).await;
    assert!(delivery.dead_letters.is_empty(), "{delivery:?}");
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    (planned["jobsSent"].as_u64().unwrap(), report)
}

/// Accounts A-1.. with one site and two contacts each.
fn accounts(n: usize) -> Vec<cwsync_billing::models::Account> {
    (1..=n)
        .map(|i| {
            let mut a = account(
                &format!("A-{i}"),
                &format!("CODE{i}"),
                &format!("Customer {i}"),
            );
            a.sites = vec![site(
                &format!("S-{i}"),
                "Warehouse",
                &format!("{i} Dock Rd"),
            )];
            a.contacts = (1..=2)
                .map(|c| {
                    contact(
                        &format!("C-{i}-{c}"),
                        &format!("First{c}"),
                        &format!("Last{i}"),
                        &format!("p{c}@c{i}.example"),
                    )
                })
                .collect();
            a
        })
        .collect()
}

/// A ConnectWise user's edit, a second after the sync wrote (see `pull.rs`).
async fn cw_edit(world: &World, path: &str, field: &str, value: Value) {
    world.cw.advance_clock(std::time::Duration::from_secs(1));
    let client = cw_client(world).await;
    let _: Value = client
        .patch(path, &[PatchOp::replace(field, value)])
        .await
        .unwrap();
}

fn contact_id(world: &World, email: &str) -> i64 {
    world
        .contacts()
        .into_iter()
        .find(|c| {
            c["communicationItems"]
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["value"] == email))
        })
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_else(|| panic!("no contact with e-mail {email}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_rerun_sends_no_job_and_writes_nothing_in_two_connectwise_reads() {
    let world = World::start().await;
    world.billing.seed_accounts(accounts(4));
    let (sent, first) = run(&world, false).await;
    assert_eq!(sent, 4);
    assert_eq!(first.count("company", "created"), 4, "{}", first.0);

    let (cw_before, billing_before) = (world.cw.calls(), world.billing.calls());
    let (sent, rerun) = run(&world, false).await;
    assert_eq!(sent, 0, "{}", rerun.0);
    assert_eq!(
        rerun.status(),
        "succeeded",
        "the run finishes without a job"
    );
    for (entity, n) in [("company", 4), ("site", 4), ("contact", 8)] {
        assert_eq!(rerun.count(entity, "unchanged"), n, "{entity}: {}", rerun.0);
    }
    assert!(
        rerun
            .detail("company", "A-1")
            .contains("unchanged on both sides")
    );
    let cw_after = world.cw.calls();
    assert_eq!(cw_after.writes() - cw_before.writes(), 0);
    assert_eq!(
        cw_after.total() - cw_before.total(),
        2,
        "the companies' and the contacts' stamps, one page each"
    );
    assert_eq!(
        calls_since(&world, &cw_before, "GET", "/company/companies"),
        1
    );
    assert_eq!(
        calls_since(&world, &cw_before, "GET", "/company/contacts"),
        1
    );
    let billing_after = world.billing.calls();
    assert_eq!(billing_after.writes() - billing_before.writes(), 0);
    assert_eq!(
        billing_after.total() - billing_before.total(),
        1,
        "the account listing only"
    );

    // A dry run plans the same: nothing to send, everything unchanged.
    let (sent, dry) = run(&world, true).await;
    assert_eq!(sent, 0);
    assert_eq!(dry.count("contact", "unchanged"), 8, "{}", dry.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_either_side_syncs_exactly_that_account() {
    let world = World::start().await;
    world.billing.seed_accounts(accounts(6));
    run(&world, false).await;

    // Each change, then the account it must sync and the record that changes.
    let company_1 = world.company("CODE1")["id"].as_i64().unwrap();
    cw_edit(
        &world,
        &format!("/company/companies/{company_1}"),
        "name",
        json!("Renamed in ConnectWise"),
    )
    .await;
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 1, "{}", report.0);
    assert_eq!(report.outcome("company", "A-1"), "updated", "{}", report.0);
    assert_eq!(report.count("company", "unchanged"), 5);

    let ann = contact_id(&world, "p1@c2.example");
    cw_edit(
        &world,
        &format!("/company/contacts/{ann}"),
        "title",
        json!("Edited in ConnectWise"),
    )
    .await;
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 1, "{}", report.0);
    assert_eq!(
        report.outcome("contact", "C-2-1"),
        "updated",
        "{}",
        report.0
    );
    assert_eq!(report.outcome("company", "A-2"), "unchanged");
    assert_eq!(report.count("company", "unchanged"), 6);

    world.billing.modify_account("A-3", |a| {
        a.phone = Some("602-555-0199".to_owned());
    });
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 1, "{}", report.0);
    assert_eq!(report.outcome("company", "A-3"), "updated", "{}", report.0);

    world.billing.modify_account("A-4", |a| {
        a.sites[0].address.line1 = Some("99 New Dock Rd".to_owned());
    });
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 1, "{}", report.0);
    assert_eq!(report.outcome("site", "S-4"), "updated", "{}", report.0);

    world.billing.modify_account("A-5", |a| {
        a.contacts[1].title = Some("Owner".to_owned());
    });
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 1, "{}", report.0);
    assert_eq!(
        report.outcome("contact", "C-5-2"),
        "updated",
        "{}",
        report.0
    );

    // A contact added in ConnectWise to a synced company: that account is looked at again.
    world.cw.advance_clock(std::time::Duration::from_secs(1));
    let company_6 = world.company("CODE6")["id"].as_i64().unwrap();
    let client = cw_client(&world).await;
    let _: Value = client
        .create(
            "/company/contacts",
            &json!({"firstName": "Added", "lastName": "ByHand", "company": {"id": company_6}}),
        )
        .await
        .unwrap();
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 1, "{}", report.0);
    assert_eq!(report.count("company", "unchanged"), 6, "{}", report.0);

    // A linked contact deleted in ConnectWise: its account is synced and reports it, and stays
    // on the error ledger (sent every run) until it is fixed.
    let gone = contact_id(&world, "p2@c6.example");
    client
        .delete(&format!("/company/contacts/{gone}"))
        .await
        .unwrap();
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 1, "{}", report.0);
    assert_eq!(report.outcome("contact", "C-6-2"), "failed", "{}", report.0);
    let (sent, _) = run(&world, false).await;
    assert_eq!(sent, 1, "a failing account is always sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_whose_sites_flow_back_or_whose_link_has_no_stamp_are_always_synced() {
    let world = World::start().await;
    let mut without_sites = account("A-9", "CODE9", "No sites");
    without_sites.contacts = vec![contact("C-9", "Ann", "Lee", "ann@c9.example")];
    let mut seeded = accounts(2);
    seeded.push(without_sites);
    world.billing.seed_accounts(seeded);
    // Site fields owned by ConnectWise are learned only by reading each company's sites.
    world
        .put_settings(json!({"ownedByConnectWise": {"sites": ["phoneNumber"]}}))
        .await;
    run(&world, false).await;
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 2, "the two accounts with sites: {}", report.0);
    assert_eq!(report.outcome("company", "A-9"), "unchanged");

    // A link made by hand (the console's link action) has no stamp yet: the account is synced,
    // and then stamped.
    let company_9 = world.company("CODE9")["id"].as_i64().unwrap();
    world
        .ok(json!({"action": "unlink", "tenant": TENANT, "accountId": "A-9"}))
        .await;
    world
        .ok(json!({"action": "link", "tenant": TENANT, "accountId": "A-9", "companyId": company_9}))
        .await;
    let (sent, _) = run(&world, false).await;
    assert_eq!(sent, 3);
    let (sent, report) = run(&world, false).await;
    assert_eq!(sent, 2, "{}", report.0);
    assert_eq!(report.outcome("company", "A-9"), "unchanged");
}
