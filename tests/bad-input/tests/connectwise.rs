//! The ConnectWise answers of `corpus/connectwise/<function>/`: the simulator answers one
//! record's calls with what a proxy, a gateway or a partial outage can send (an HTML error page,
//! truncated JSON, a record with mistyped fields, an empty 200, `[]` or `null` where an object is
//! expected, a 200 whose body is an error), through its `raw` fault kind; the function's run goes
//! to the end over real HTTP: the customer sync's (an account's company and sites), the daily
//! export's (an account's additions) and the ticket import's (a project ticket's project).
//!
//! Asserted: nothing panics; the run finishes with nothing left for the dead-letter queue; the
//! record whose call got the bad answer fails with a detail naming the call (under 4 KB, however
//! large the page), or, for a gateway's 5xx a retry gets past, syncs; another record of the same
//! run syncs; and once ConnectWise answers well again, everything syncs as mapped: a run heals
//! what the corpus left, and the run after it has nothing to change (and each account one
//! company).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use cwsync_bad_input::{
    Generate, World, cases, failing, line_name, lines, no_panic, resolve, short,
};
use cwsync_connectwise_sim::FaultRule;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConnectWiseCase {
    #[allow(dead_code)]
    about: String,
    function: String,
    /// The billing account whose sync or export gets the bad answer (the ticket import's
    /// cases name a ticket in `expect.recordId` instead).
    #[serde(default)]
    account: Option<String>,
    /// The fault; `{company}` and `{agreement}` in its path stand for the account's company and
    /// agreement, `{project}` and `{phase}` for the fixture's fixed-fee project and its phase.
    fault: Value,
    /// Large bodies made at test time (`at`: a JSON pointer into `fault`).
    #[serde(default)]
    generate: Vec<Generate>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expect {
    /// `failed`: the record fails with a detail naming the call; `recovered`: a bad answer
    /// that a retry gets past (a gateway's 5xx page) leaves the record synced.
    outcome: String,
    /// Words the failed line's detail must hold (the call).
    #[serde(default)]
    contains: Vec<String>,
    /// The entity of the line: `company` (the account's line) by default.
    #[serde(default = "company")]
    entity: String,
    /// The line's record (`{project}`: a ticket of the fixture); the account when absent (for
    /// the customer sync's `site` and `contact` lines: any failed line of that entity).
    #[serde(default)]
    record_id: Option<String>,
}

fn company() -> String {
    "company".to_owned()
}

/// What one function's cases share: the record changed in every run beside the case's (it must
/// sync whatever the bad answer), and what each run changes so the records are written.
struct Driver {
    /// The bystander's line (`entity/recordId`).
    bystander: &'static str,
    /// What the bystander's line may say.
    synced: &'static [&'static str],
}

impl Driver {
    fn of(function: &str) -> Driver {
        match function {
            "customer-sync" => Driver {
                bystander: "company/A-1001",
                synced: &["updated"],
            },
            "daily-export" => Driver {
                bystander: "addition/SUB-5003",
                synced: &["updated"],
            },
            // Its ticket is unchanged: imported before, it is found so.
            _ => Driver {
                bystander: "ticket/{second}",
                synced: &["unchanged", "updated"],
            },
        }
    }

    /// Changes what run `n` of `function` writes: the phone numbers of the account and the
    /// bystander (customer sync), their subscriptions' quantities (export); nothing for the
    /// import, whose runs re-plan every finished ticket.
    fn change(world: &World, function: &str, account: Option<&str>, n: usize) {
        match function {
            "customer-sync" => {
                for id in [account.unwrap(), "A-1001"] {
                    assert!(world.billing.modify_account(id, |a| {
                        a.phone = Some(format!("602-555-{:04}", 1000 + n));
                        for site in &mut a.sites {
                            site.phone = Some(format!("480-555-{:04}", 1000 + n));
                        }
                    }));
                }
            }
            "daily-export" => {
                for id in ["SUB-5001", "SUB-5003"] {
                    assert!(world.billing.modify_subscription(id, |s| {
                        s.quantity = (30 + n as i64).into();
                    }));
                }
            }
            _ => {}
        }
    }
}

/// The placeholders of the ConnectWise cases: each account's company and the first agreement
/// holding its additions (`{company:A-1001}`, `{agreement:A-1001}`).
fn placeholders(world: &World, names: &mut BTreeMap<String, String>) {
    for account in world.billing.accounts() {
        let Some(company) = world
            .cw
            .records("/company/companies")
            .into_iter()
            .find(|c| c["identifier"] == account.code.as_str())
            .and_then(|c| c["id"].as_i64())
        else {
            continue;
        };
        names.insert(format!("{{company:{}}}", account.id), company.to_string());
        // The first of its agreements the export added to (the ticket fixture makes one of its
        // own, without additions).
        if let Some(agreement) = world
            .cw
            .records("/finance/agreements")
            .into_iter()
            .filter(|a| a["company"]["id"] == company)
            .filter_map(|a| a["id"].as_i64())
            .filter(|id| {
                !world
                    .cw
                    .records(&format!("/finance/agreements/{id}/additions"))
                    .is_empty()
            })
            .min()
        {
            names.insert(
                format!("{{agreement:{}}}", account.id),
                agreement.to_string(),
            );
        }
    }
}

fn find(report: &cwsync_test_support::Report, name: &str) -> Option<Value> {
    lines(report).into_iter().find(|l| line_name(l) == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_connectwise_answer_fails_its_record_alone_naming_the_call() {
    let world = World::start().await;
    world.sync_customers().await;
    let all = cases("connectwise");
    assert!(!all.is_empty());
    let specs: Vec<ConnectWiseCase> = all.iter().map(|case| case.parse()).collect();
    let mut functions: Vec<String> = specs.iter().map(|s| s.function.clone()).collect();
    functions.dedup();
    let mut names = BTreeMap::new();
    let mut baseline = BTreeMap::new();
    for function in &functions {
        names.extend(world.prepare(function).await);
    }
    for function in &functions {
        let report = world.run_to_end(function).await.unwrap();
        baseline.insert(function.clone(), failing(&report));
    }
    placeholders(&world, &mut names);
    let mut failed = Vec::new();
    for (n, (case, spec)) in all.iter().zip(&specs).enumerate() {
        let driver = Driver::of(&spec.function);
        let account = spec.account.as_deref();
        Driver::change(&world, &spec.function, account, n);
        // The account's own placeholders first (`{company}` is `{company:<account>}`).
        let mut fault = spec.fault.clone();
        for generate in &spec.generate {
            generate.apply(&mut fault);
        }
        let mut fault = fault.to_string();
        if let Some(account) = account {
            fault = fault
                .replace("{company}", &format!("{{company:{account}}}"))
                .replace("{agreement}", &format!("{{agreement:{account}}}"));
        }
        let fault: FaultRule = serde_json::from_str(&resolve(&fault, &names))
            .unwrap_or_else(|e| panic!("{}: fault: {e}", case.name));
        world.cw.inject(fault);
        let result = no_panic(Box::pin(world.run_to_end(&spec.function))).await;
        world.cw.clear_faults();
        let report = match result {
            Err(panic) => {
                failed.push(format!("{}: PANIC {panic}", case.name));
                continue;
            }
            Ok(Err(e)) => {
                failed.push(format!("{}: {e}", case.name));
                continue;
            }
            Ok(Ok(report)) => report,
        };

        let record = spec
            .expect
            .record_id
            .as_deref()
            .map(|r| resolve(r, &names))
            .or_else(|| account.map(str::to_owned))
            .unwrap_or_default();
        // The customer sync's site and contact cases name any failed line of that entity.
        let any_of_entity = spec.function == "customer-sync" && spec.expect.entity != "company";
        let target = if any_of_entity {
            lines(&report)
                .into_iter()
                .find(|l| l["entity"] == spec.expect.entity.as_str() && l["outcome"] == "failed")
        } else {
            find(&report, &format!("{}/{record}", spec.expect.entity))
        };
        match (spec.expect.outcome.as_str(), target) {
            ("failed", Some(l)) if l["outcome"] == "failed" => {
                let detail = l["detail"].as_str().unwrap_or_default();
                if let Some(word) = spec
                    .expect
                    .contains
                    .iter()
                    .find(|w| !detail.contains(w.as_str()))
                {
                    failed.push(format!(
                        "{}: detail lacks {word:?}: {}",
                        case.name,
                        short(detail)
                    ));
                }
                if detail.len() > 4096 {
                    failed.push(format!(
                        "{}: a detail of {} bytes quotes the answer whole",
                        case.name,
                        detail.len()
                    ));
                }
            }
            // Synced, or unchanged when a redelivery found the first attempt's write landed.
            ("recovered", Some(l)) if l["outcome"] != "failed" => {
                if spec.function == "customer-sync" {
                    check_phone(&world, account.unwrap(), &mut failed, &case.name);
                }
            }
            (expected, other) => failed.push(format!(
                "{}: {record} not {expected}: {}; failed: {:?}",
                case.name,
                short(&other.map(|l| l.to_string()).unwrap_or_default()),
                lines(&report)
                    .iter()
                    .filter(|l| l["outcome"] == "failed")
                    .map(|l| short(&l.to_string()))
                    .collect::<Vec<_>>()
            )),
        }
        let bystander = resolve(driver.bystander, &names);
        match find(&report, &bystander) {
            Some(l) if driver.synced.iter().any(|o| l["outcome"] == *o) => {}
            other => failed.push(format!(
                "{}: the bystander {bystander} did not sync: {}",
                case.name,
                short(&other.map(|l| l.to_string()).unwrap_or_default())
            )),
        }
    }
    // ConnectWise answers well again: a run of each function heals what the corpus left (but
    // what failed before it), and the run after it has nothing left to write.
    for (function, before) in &baseline {
        for run in ["heals", "after"] {
            match world.run_to_end(function).await {
                Ok(report) => {
                    for line in lines(&report) {
                        let name = line_name(&line);
                        let outcome = line["outcome"].as_str().unwrap_or_default();
                        let known = before.contains(&name);
                        // A summary line (an account's, a catalog page's) is not a write.
                        let summary = ["export-account", "catalog-page"]
                            .iter()
                            .any(|e| line["entity"] == *e);
                        let writes = ["created", "updated", "linked"].contains(&outcome);
                        if !known && (outcome == "failed" || run == "after" && writes && !summary) {
                            failed.push(format!(
                                "{function}: the run that {run}: {name} {outcome}: {}",
                                short(line["detail"].as_str().unwrap_or_default())
                            ));
                        }
                    }
                }
                Err(e) => failed.push(format!("{function}: the run that {run}: {e}")),
            }
        }
    }
    for account in world
        .billing
        .accounts()
        .into_iter()
        .filter(|a| a.sync_to_connect_wise && a.id != "A-1005")
    {
        let companies: Vec<Value> = world
            .cw
            .records("/company/companies")
            .into_iter()
            .filter(|c| c["identifier"] == account.code.as_str())
            .collect();
        if companies.len() != 1 {
            failed.push(format!("{} companies {}", companies.len(), account.code));
        } else if functions.iter().any(|f| f == "customer-sync") {
            check_phone(&world, &account.id, &mut failed, "after the corpus");
        }
    }
    assert!(
        failed.is_empty(),
        "{} problems over {} ConnectWise cases:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
}

/// ConnectWise holds the billing phone number of `account` on its company.
fn check_phone(world: &World, account: &str, failed: &mut Vec<String>, case: &str) {
    let phone = world
        .billing
        .account(account)
        .unwrap()
        .phone
        .unwrap_or_default();
    let company = world.company_of(account);
    let held = world
        .cw
        .records("/company/companies")
        .iter()
        .find(|c| c["id"] == company)
        .map(|c| c["phoneNumber"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    if held.replace('-', "") != phone.replace('-', "") {
        failed.push(format!(
            "{case}: ConnectWise holds phone {held} for {account}, billing {phone}"
        ));
    }
}
