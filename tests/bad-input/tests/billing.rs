//! The billing records of `corpus/billing/<function>/`: the billing simulator serves one record
//! with one field replaced (`BillingSim::corrupt`: a mistyped, missing, huge or control-character
//! value, a null where an object is expected), and the function's run goes to the end over real
//! HTTP. The run must report that record's line as failed, naming the field; every other record
//! of the run must not fail; once the record is served as stored again it syncs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_bad_input::{Generate, World, cases, no_panic, short};
use cwsync_billing::RecordKind;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BillingCase {
    #[allow(dead_code)]
    about: String,
    function: String,
    kind: String,
    id: String,
    field: String,
    value: Value,
    #[serde(default)]
    generate: Vec<Generate>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expect {
    entity: String,
    record_id: String,
    contains: Vec<String>,
}

/// The record kind a case names (`account`, `product`, …).
fn record_kind(name: &str) -> RecordKind {
    match name {
        "account" => RecordKind::Account,
        "product" => RecordKind::Product,
        "subscription" => RecordKind::Subscription,
        "user" => RecordKind::User,
        "technician" => RecordKind::Technician,
        "contract" => RecordKind::Contract,
        "item" => RecordKind::Item,
        other => panic!("no record kind {other}"),
    }
}

fn lines(report: &cwsync_test_support::Report) -> Vec<Value> {
    report.0["records"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_billing_record_fails_alone_naming_its_field() {
    let world = World::start().await;
    world.sync_customers().await;
    // What fails before any corruption (the fixture's account in "Narnia" does, on purpose).
    let mut baseline = std::collections::BTreeMap::new();
    for function in ["customer-sync"] {
        let failing: Vec<String> = lines(&world.run_to_end(function).await.unwrap())
            .iter()
            .filter(|l| l["outcome"] == "failed")
            .map(|l| format!("{}/{}", l["entity"], l["recordId"]))
            .collect();
        baseline.insert(function, failing);
    }
    let all = cases("billing");
    assert!(!all.is_empty());
    let mut failed = Vec::new();
    for case in &all {
        let spec: BillingCase = case.parse();
        let mut value = spec.value.clone();
        for generate in &spec.generate {
            generate.apply(&mut value);
        }
        world
            .billing
            .corrupt(record_kind(&spec.kind), &spec.id, &spec.field, value);
        let report = match no_panic(Box::pin(world.run_to_end(&spec.function))).await {
            Err(panic) => {
                failed.push(format!("{}: PANIC {panic}", case.name));
                world.billing.clear_corruptions();
                continue;
            }
            Ok(Err(e)) => {
                failed.push(format!("{}: {e}", case.name));
                world.billing.clear_corruptions();
                continue;
            }
            Ok(Ok(report)) => report,
        };
        world.billing.clear_corruptions();
        let all_lines = lines(&report);
        let line = all_lines.iter().find(|l| {
            l["entity"] == spec.expect.entity.as_str()
                && l["recordId"] == spec.expect.record_id.as_str()
        });
        match line {
            None => failed.push(format!(
                "{}: no {} line {} in {:?}",
                case.name,
                spec.expect.entity,
                spec.expect.record_id,
                all_lines
                    .iter()
                    .filter(|l| l["outcome"] != "unchanged")
                    .map(|l| short(&l.to_string()))
                    .collect::<Vec<_>>()
            )),
            Some(line) => {
                let detail = line["detail"].as_str().unwrap_or_default();
                if line["outcome"] != "failed" {
                    let related: Vec<String> = all_lines
                        .iter()
                        .filter(|l| l["outcome"] != "unchanged")
                        .map(|l| short(&l.to_string()))
                        .collect();
                    failed.push(format!(
                        "{}: outcome {} ({}); lines: {related:?}",
                        case.name,
                        line["outcome"],
                        short(detail)
                    ));
                } else if let Some(word) = spec
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
                        "{}: a detail of {} bytes echoes the value",
                        case.name,
                        detail.len()
                    ));
                }
            }
        }
        // Nothing else in the run failed.
        for other in &all_lines {
            let same = other["entity"] == spec.expect.entity.as_str()
                && other["recordId"] == spec.expect.record_id.as_str();
            let of_the_record = other["recordId"]
                .as_str()
                .is_some_and(|id| id.starts_with(&spec.id) || id.starts_with("(record"));
            let known = baseline
                .get(spec.function.as_str())
                .is_some_and(|b| b.contains(&format!("{}/{}", other["entity"], other["recordId"])));
            if !same && !of_the_record && !known && other["outcome"] == "failed" {
                failed.push(format!(
                    "{}: another record failed too: {}",
                    case.name,
                    short(&other.to_string())
                ));
            }
        }
    }
    // Served as stored again, every record syncs.
    for (function, failing) in &baseline {
        let report = world.run_to_end(function).await.unwrap();
        for line in lines(&report) {
            let known = failing.contains(&format!("{}/{}", line["entity"], line["recordId"]));
            if line["outcome"] == "failed" && !known {
                failed.push(format!(
                    "{function}: after the corpus, still failing: {line}"
                ));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} problems over {} billing cases:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
}
