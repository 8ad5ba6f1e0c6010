//! The ConnectWise answers of `corpus/connectwise/<function>/`: the simulator answers one call
//! with what a proxy, a gateway or a partial outage can send (an HTML error page, truncated JSON,
//! a record with mistyped fields, an empty 200, `[]` where an object is expected), through its
//! `raw` fault kind; the function's run goes to the end over real HTTP.
//!
//! Asserted: nothing panics; the run finishes with nothing left for the dead-letter queue; the
//! record whose call got the bad answer fails with a detail naming the call; another record of
//! the same run, changed too, syncs; and once ConnectWise answers well again, the failed record
//! syncs with no duplicate company made (one clean run after the corpus, for all of them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_bad_input::{World, cases, no_panic, short};
use cwsync_connectwise_sim::FaultRule;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConnectWiseCase {
    #[allow(dead_code)]
    about: String,
    function: String,
    /// The billing account whose sync gets the bad answer.
    account: String,
    /// The fault; `{company}` in its path stands for the account's company id.
    fault: Value,
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
    /// The entity of the failed line: `company` (the account's line), or `site`/`contact`
    /// (any line of that entity in the run).
    #[serde(default = "company")]
    entity: String,
}

fn company() -> String {
    "company".to_owned()
}

/// Another account, changed in every run, that must sync whatever the bad answer.
const BYSTANDER: &str = "A-1001";

fn line(report: &cwsync_test_support::Report, id: &str) -> Option<Value> {
    report.0["records"]
        .as_array()?
        .iter()
        .find(|l| l["entity"] == "company" && l["recordId"] == id)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_connectwise_answer_fails_its_record_alone_naming_the_call() {
    let world = World::start().await;
    world.sync_customers().await;
    let all = cases("connectwise");
    assert!(!all.is_empty());
    let mut failed = Vec::new();
    for (n, case) in all.iter().enumerate() {
        let spec: ConnectWiseCase = case.parse();
        assert_eq!(spec.function, "customer-sync", "{}", case.name);
        let code = world.billing.account(&spec.account).unwrap().code;
        let company = world
            .cw
            .records("/company/companies")
            .iter()
            .find(|c| c["identifier"] == code.as_str())
            .and_then(|c| c["id"].as_i64())
            .unwrap();
        // Both accounts and their sites changed, so all are read and written.
        for id in [spec.account.as_str(), BYSTANDER] {
            assert!(world.billing.modify_account(id, |a| {
                a.phone = Some(format!("602-555-{:04}", 1000 + n));
                for site in &mut a.sites {
                    site.phone = Some(format!("480-555-{:04}", 1000 + n));
                }
            }));
        }
        let fault: FaultRule = serde_json::from_str(
            &spec
                .fault
                .to_string()
                .replace("{company}", &company.to_string()),
        )
        .unwrap_or_else(|e| panic!("{}: fault: {e}", case.name));
        world.cw.inject(fault);
        let result = no_panic(Box::pin(world.run_to_end("customer-sync"))).await;
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

        let target = if spec.expect.entity == "company" {
            line(&report, &spec.account)
        } else {
            report.0["records"].as_array().and_then(|lines| {
                lines
                    .iter()
                    .find(|l| {
                        l["entity"] == spec.expect.entity.as_str() && l["outcome"] == "failed"
                    })
                    .cloned()
            })
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
            }
            // Updated, or unchanged when a redelivery found the first attempt's write landed:
            // either way ConnectWise now holds the new phone number.
            ("recovered", Some(l)) if l["outcome"] == "updated" || l["outcome"] == "unchanged" => {
                let phone = world
                    .billing
                    .account(&spec.account)
                    .unwrap()
                    .phone
                    .unwrap_or_default();
                let held = world
                    .cw
                    .records("/company/companies")
                    .iter()
                    .find(|c| c["id"] == company)
                    .map(|c| c["phoneNumber"].as_str().unwrap_or_default().to_owned())
                    .unwrap_or_default();
                if held.replace('-', "") != phone.replace('-', "") {
                    failed.push(format!(
                        "{}: ConnectWise holds phone {held}, billing {phone}",
                        case.name
                    ));
                }
            }
            (expected, other) => failed.push(format!(
                "{}: {} not {expected}: {}",
                case.name,
                spec.account,
                short(&other.map(|l| l.to_string()).unwrap_or_default())
            )),
        }
        match line(&report, BYSTANDER) {
            Some(l) if l["outcome"] == "updated" => {}
            other => failed.push(format!(
                "{}: the bystander {BYSTANDER} did not sync: {}",
                case.name,
                short(&other.map(|l| l.to_string()).unwrap_or_default())
            )),
        }
    }
    // ConnectWise answers well again: every record syncs (but the fixture's own failure), each
    // account has one company, holding the billing phone number.
    match world.run_to_end("customer-sync").await {
        Ok(report) => {
            for l in report.0["records"].as_array().into_iter().flatten() {
                if l["outcome"] == "failed" && l["recordId"] != "A-1005" {
                    failed.push(format!("still failing once ConnectWise answered well: {l}"));
                }
            }
        }
        Err(e) => failed.push(format!("the clean run: {e}")),
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
        } else if let Some(phone) = &account.phone
            && companies[0]["phoneNumber"]
                .as_str()
                .unwrap_or_default()
                .replace('-', "")
                != phone.replace('-', "")
        {
            failed.push(format!(
                "{}: ConnectWise holds {} for {phone}",
                account.id, companies[0]["phoneNumber"]
            ));
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
