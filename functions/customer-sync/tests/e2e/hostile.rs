//! Hostile billing data: accounts that are their own parent or form a parent cycle, two accounts
//! with the same code, phone numbers with extensions, names with control characters and stray
//! spaces; and a job that fails permanently for any reason still leaves its account in the
//! report and lets the run finish.

use crate::support::*;
use cwsync_connectwise_sim::{FaultKind, FaultRule};
use serde_json::{Value, json};

/// The `parentCompany` id of the company with `identifier`, if any.
fn parent_of(world: &World, identifier: &str) -> Option<i64> {
    world.company(identifier)["parentCompany"]["id"].as_i64()
}

async fn errors(world: &World) -> Vec<Value> {
    world
        .ok(json!({"action": "errors", "tenant": TENANT}))
        .await["errors"]
        .as_array()
        .unwrap()
        .clone()
}

/// The run's records about `id` (any entity).
fn records_of(report: &Report, entity: &str, id: &str) -> usize {
    report.0["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity"] == entity && r["recordId"] == id)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_is_its_own_parent_fails_with_the_reason_and_is_never_written_so() {
    let world = World::start().await;
    let mut own = account("H-1", "SELFPARENT", "Self Parent Ltd");
    own.parent_account_id = Some("H-1".to_owned());
    world
        .billing
        .seed_accounts(vec![own, account("H-2", "PLAIN", "Plain Ltd")]);

    for run in ["first", "second"] {
        let report = world.sync(false).await;
        assert_eq!(
            report.outcome("company", "H-1"),
            "failed",
            "{run}: {}",
            report.0
        );
        let detail = report.detail("company", "H-1");
        assert!(
            detail.contains("parentAccountId") && detail.contains("its own parent"),
            "{run}: {detail}"
        );
        assert_ne!(report.outcome("company", "H-2"), "failed");
        assert_eq!(report.status(), "partially_failed");
    }
    assert!(
        world
            .companies()
            .iter()
            .all(|c| c["identifier"] != "SELFPARENT"),
        "never written"
    );
    assert!(errors(&world).await.iter().any(|e| e["recordId"] == "H-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_cycle_is_never_written_whichever_job_syncs_its_members() {
    let world = World::start().await;
    // Both exist and are linked first; then the billing system points each at the other.
    world.billing.seed_accounts(vec![
        account("H-10", "CYCLEA", "Cycle A"),
        account("H-11", "CYCLEB", "Cycle B"),
        account("H-12", "CHILD", "Child of A"),
    ]);
    world.sync(false).await;
    world
        .billing
        .modify_account("H-10", |a| a.parent_account_id = Some("H-11".to_owned()));
    world
        .billing
        .modify_account("H-11", |a| a.parent_account_id = Some("H-10".to_owned()));
    world
        .billing
        .modify_account("H-12", |a| a.parent_account_id = Some("H-10".to_owned()));

    for _ in 0..2 {
        let report = world.sync(false).await;
        for id in ["H-10", "H-11"] {
            assert_eq!(report.outcome("company", id), "failed", "{}", report.0);
            let detail = report.detail("company", id);
            assert!(detail.contains("parent accounts form a cycle"), "{detail}");
        }
        assert!(
            report
                .detail("company", "H-10")
                .contains("(H-10 → H-11 → H-10)")
        );
        // An account below the cycle is not part of it: it syncs, with its parent.
        assert_ne!(report.outcome("company", "H-12"), "failed", "{}", report.0);
    }
    // Each member alone (a job of its own, its partner linked) is refused too.
    for id in ["H-10", "H-11"] {
        let answer = world
            .ok(json!({"action": "sync-account", "tenant": TENANT, "accountId": id}))
            .await;
        assert_eq!(
            answer["result"]["records"][0]["outcome"], "failed",
            "{answer}"
        );
    }
    assert_eq!(parent_of(&world, "CYCLEA"), None);
    assert_eq!(parent_of(&world, "CYCLEB"), None);
    assert_eq!(
        parent_of(&world, "CHILD"),
        world.company("CYCLEA")["id"].as_i64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_with_one_code_fail_the_second_once_with_the_real_reason_and_the_run_finishes()
{
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("H-0005", "DUPCODE", "Dup One"),
        account("H-0006", "dupcode", "Dup Two"),
    ]);

    // `sync` also checks that no job went to the dead-letter queue.
    let first = world.sync(false).await;
    assert_eq!(first.status(), "partially_failed", "{}", first.0);
    let company = world.company("DUPCODE");
    let company_id = company["id"].as_i64().unwrap();
    // The two jobs run at once: either may win the identifier; the other is the failure.
    let (winner, loser, loser_code) = if first.outcome("company", "H-0005") == "created" {
        ("H-0005", "H-0006", "dupcode")
    } else {
        ("H-0006", "H-0005", "DUPCODE")
    };
    assert_eq!(first.outcome("company", winner), "created", "{}", first.0);
    let reason = format!(
        "code {loser_code} is also account {winner}'s, linked to company {company_id}: link this \
         account by hand or change its code"
    );
    assert_eq!(first.outcome("company", loser), "failed");
    assert_eq!(first.detail("company", loser), reason);
    assert_eq!(records_of(&first, "company", loser), 1, "{}", first.0);
    let suggestions = first.0["suggestions"].as_array().unwrap();
    assert!(
        suggestions.iter().any(|s| s["accountId"] == loser),
        "{suggestions:?}"
    );
    let ledger = errors(&world).await;
    assert!(
        ledger
            .iter()
            .any(|e| e["recordId"] == loser && e["lastError"].as_str() == Some(reason.as_str())),
        "{ledger:?}"
    );

    // The re-run reports the same cause, not a claim left behind.
    let second = world.sync(false).await;
    assert_eq!(
        second.outcome("company", winner),
        "unchanged",
        "{}",
        second.0
    );
    assert_eq!(second.outcome("company", loser), "failed");
    assert_eq!(second.detail("company", loser), reason);
    assert_eq!(second.status(), "partially_failed");
    assert_eq!(world.companies().len(), 1, "never a duplicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_extension_goes_to_the_contacts_item_and_is_dropped_and_reported_elsewhere() {
    let world = World::start().await;
    let mut a = account("H-20", "EXTN", "Extension Ltd");
    a.phone = Some("+1 (555) 010-0199 x23".to_owned());
    let mut warehouse = site("S-20", "Warehouse", "9 Dock Rd");
    warehouse.phone = Some("480-555-0100 ext. 5".to_owned());
    a.sites = vec![warehouse];
    let mut ann = contact("C-20", "Ann", "Lee", "ann@extn.example");
    ann.phone = Some("+1 (555) 010-0199 x23".to_owned());
    ann.mobile = Some("602-555-0111;ext=9".to_owned());
    a.contacts = vec![ann];
    world.billing.seed_accounts(vec![a]);

    let report = world.sync(false).await;

    assert_eq!(report.status(), "succeeded", "{}", report.0);
    let company = world.company("EXTN");
    assert_eq!(company["phoneNumber"], "15550100199", "never 1555010019923");
    assert!(
        report.detail("company", "H-20").contains(
            "phone: extension 23 dropped: ConnectWise has no extension field on a company"
        ),
        "{}",
        report.0
    );
    let company_id = company["id"].as_i64().unwrap();
    let sites = world
        .cw
        .records(&format!("/company/companies/{company_id}/sites"));
    let site = sites.iter().find(|s| s["name"] == "Warehouse").unwrap();
    assert_eq!(site["phoneNumber"], "4805550100");
    assert!(
        report
            .detail("site", "S-20")
            .contains("phone: extension 5 dropped: ConnectWise has no extension field on a site"),
        "{}",
        report.0
    );
    let contacts = world.contacts();
    let items = contacts[0]["communicationItems"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["value"] == "15550100199" && i["extension"] == "23"),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i["value"] == "6025550111" && i["extension"] == "9"),
        "{items:?}"
    );

    let writes = world.cw_writes();
    let again = world.sync(false).await;
    assert_eq!(world.cw_writes(), writes, "unchanged re-run: {}", again.0);
    assert_eq!(again.outcome("company", "H-20"), "unchanged");
    assert_eq!(again.outcome("contact", "C-20"), "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_control_characters_and_stray_spaces_are_written_as_one_trimmed_line() {
    let world = World::start().await;
    let mut a = account("H-30", "CTRL", " Acme\tTrading\r\nCo ");
    a.billing_address = Some(address(
        "1 Main St\n",
        "Phoenix ",
        "AZ",
        "85001",
        "United States",
    ));
    a.sites = vec![site("S-30", "Ware\thouse", "9 Dock Rd")];
    a.contacts = vec![contact("C-30", "\tAnn", "Lee ", "ann@ctrl.example")];
    world.billing.seed_accounts(vec![a]);

    let report = world.sync(false).await;

    assert_eq!(report.status(), "succeeded", "{}", report.0);
    let company = world.company("CTRL");
    assert_eq!(company["name"], "Acme Trading Co");
    assert_eq!(company["addressLine1"], "1 Main St");
    assert_eq!(company["city"], "Phoenix");
    let detail = report.detail("company", "H-30");
    for note in [
        "name: control characters replaced, spaces trimmed",
        "billingAddress.line1: control characters replaced, spaces trimmed",
        "billingAddress.city: spaces trimmed",
    ] {
        assert!(detail.contains(note), "{note:?} in {detail:?}");
    }
    let company_id = company["id"].as_i64().unwrap();
    let sites = world
        .cw
        .records(&format!("/company/companies/{company_id}/sites"));
    assert!(sites.iter().any(|s| s["name"] == "Ware house"), "{sites:?}");
    assert!(
        report
            .detail("site", "S-30")
            .contains("name: control characters replaced"),
        "{}",
        report.0
    );
    let contact = &world.contacts()[0];
    assert_eq!(contact["firstName"], "Ann");
    assert_eq!(contact["lastName"], "Lee");
    let detail = report.detail("contact", "C-30");
    assert!(
        detail.contains("firstName: control characters replaced, spaces trimmed")
            && detail.contains("lastName: spaces trimmed"),
        "{detail}"
    );

    let writes = world.cw_writes();
    let again = world.sync(false).await;
    assert_eq!(world.cw_writes(), writes, "unchanged re-run: {}", again.0);
    assert_eq!(again.outcome("company", "H-30"), "unchanged");
    assert_eq!(again.outcome("site", "S-30"), "unchanged");
    assert_eq!(again.outcome("contact", "C-30"), "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_failing_permanently_reports_its_account_and_the_run_finishes_without_the_dlq() {
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("H-40", "PERMA", "Perma One"),
        account("H-41", "PERMB", "Perma Two"),
    ]);
    // ConnectWise refuses the API member's keys on every company create: permanent, no record
    // explains it.
    world
        .cw
        .inject(FaultRule::new(FaultKind::Status(401)).on("POST", "/company/companies"));

    // `sync` checks that no job went to the dead-letter queue.
    let report = world.sync(false).await;

    assert_eq!(report.status(), "partially_failed", "{}", report.0);
    for id in ["H-40", "H-41"] {
        assert_eq!(report.outcome("company", id), "failed", "{}", report.0);
        let detail = report.detail("company", id);
        assert!(
            detail.contains(&format!("creating the company of account {id}")),
            "{detail}"
        );
        assert_eq!(records_of(&report, "company", id), 1);
    }
    let ledger = errors(&world).await;
    assert_eq!(ledger.len(), 2, "{ledger:?}");

    // Its claims were given back: once the keys work, the next run creates both at once.
    world.cw.clear_faults();
    let fixed = world.sync(false).await;
    assert_eq!(fixed.status(), "succeeded", "{}", fixed.0);
    assert_eq!(fixed.count("company", "created"), 2);
    assert!(errors(&world).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_failing_transiently_on_every_delivery_records_why_on_its_last_and_the_run_finishes()
{
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("H-50", "DOWNA", "Down One"),
        account("H-51", "DOWNB", "Down Two"),
    ]);
    // Looking companies up and creating them always meets a 503: transient on each delivery,
    // for good on the last one SQS makes before the dead-letter queue (5, `MAX_RECEIVE_COUNT`'s
    // default).
    world
        .cw
        .inject(FaultRule::new(FaultKind::Status(503)).on("POST", "/company/companies"));
    world
        .cw
        .inject(FaultRule::new(FaultKind::Status(503)).on("GET", "/company/companies"));

    // `sync` delivers each job up to 5 times and checks that none reached the dead-letter queue.
    let report = world.sync(false).await;

    assert_eq!(report.status(), "partially_failed", "{}", report.0);
    for id in ["H-50", "H-51"] {
        assert_eq!(report.outcome("company", id), "failed", "{}", report.0);
        let detail = report.detail("company", id);
        assert!(
            detail.starts_with("gave up after 5 deliveries") && detail.contains("503"),
            "{detail}"
        );
        assert_eq!(records_of(&report, "company", id), 1, "{}", report.0);
    }

    // ConnectWise back: the next run syncs both.
    world.cw.clear_faults();
    let fixed = world.sync(false).await;
    assert_eq!(fixed.status(), "succeeded", "{}", fixed.0);
    assert_eq!(fixed.count("company", "created"), 2, "{}", fixed.0);
    assert_eq!(world.companies().len(), 2);
}
