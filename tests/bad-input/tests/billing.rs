//! The billing records of `corpus/billing/<function>/`: the billing simulator serves one record
//! with one field replaced (`BillingSim::corrupt`: a mistyped, huge or control-character value, a
//! null where an object is expected) or left out (`BillingSim::omit`), and the function's run goes
//! to the end over real HTTP: the customer sync's, the daily export's (`full`: every account) and
//! the ticket import's (every finished ticket of the simulator's fixture). The run must report
//! the line that needs the record as failed, naming the record and the field; no other line that
//! did not fail before fails; once the record is served as stored again, everything syncs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use cwsync_bad_input::{
    Generate, World, cases, failing, line_name, lines, no_panic, resolve, short,
};
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
    /// What the field is served as (absent with `missing`).
    #[serde(default)]
    value: Value,
    /// The field is left out of the record as served.
    #[serde(default)]
    missing: bool,
    #[serde(default)]
    generate: Vec<Generate>,
    /// A ticket changed in ConnectWise before the run (`{ready}`), so its import reads its call.
    #[serde(default)]
    touch: Option<String>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expect {
    entity: String,
    /// The failed line's record (`{ready}`: a ticket of the fixture, see `World::prepare`).
    record_id: String,
    contains: Vec<String>,
    /// Other lines that need the record too and may fail with it (`entity/recordId`, as
    /// `addition/SUB-5002` or `ticket/{project}`), each with the words its detail must hold (the
    /// record it failed for, the field).
    #[serde(default)]
    also_failing: BTreeMap<String, Vec<String>>,
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
        "product-type" => RecordKind::ProductType,
        "service-call" => RecordKind::ServiceCall,
        other => panic!("no record kind {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_billing_record_fails_alone_naming_its_field() {
    let world = World::start().await;
    world.sync_customers().await;
    let all = cases("billing");
    assert!(!all.is_empty());
    let specs: Vec<BillingCase> = all.iter().map(|case| case.parse()).collect();
    let mut functions: Vec<String> = specs.iter().map(|s| s.function.clone()).collect();
    functions.dedup();
    // Each function's world (its placeholders), then what fails before any corruption (the
    // fixture's account in "Narnia" does, on purpose, and the tickets of an unmapped technician
    // and company).
    let mut names = BTreeMap::new();
    for function in &functions {
        names.extend(world.prepare(function).await);
    }
    let mut baseline = BTreeMap::new();
    for function in &functions {
        let report = world.run_to_end(function).await.unwrap();
        baseline.insert(function.clone(), failing(&report));
    }
    let mut failed = Vec::new();
    for (n, (case, spec)) in all.iter().zip(&specs).enumerate() {
        if let Some(ticket) = &spec.touch {
            world.touch_ticket(&resolve(ticket, &names), n).await;
        }
        let id = resolve(&spec.id, &names);
        let mut value = spec.value.clone();
        for generate in &spec.generate {
            generate.apply(&mut value);
        }
        let kind = record_kind(&spec.kind);
        if spec.missing {
            world.billing.omit(kind, &id, &spec.field);
        } else {
            world.billing.corrupt(kind, &id, &spec.field, value);
        }
        let record_id = resolve(&spec.expect.record_id, &names);
        let also: BTreeMap<String, &Vec<String>> = spec
            .expect
            .also_failing
            .iter()
            .map(|(l, words)| (resolve(l, &names), words))
            .collect();
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
            l["entity"] == spec.expect.entity.as_str() && l["recordId"] == record_id.as_str()
        });
        match line {
            None => failed.push(format!(
                "{}: no {} line {} in {:?}",
                case.name,
                spec.expect.entity,
                record_id,
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
                    .map(|w| resolve(w, &names))
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
            let name = line_name(other);
            let same = other["entity"] == spec.expect.entity.as_str()
                && other["recordId"] == record_id.as_str();
            let of_the_record = other["recordId"]
                .as_str()
                .is_some_and(|other| other.starts_with(&id) || other.starts_with("(record"));
            if let Some(words) = also.get(&name)
                && other["outcome"] == "failed"
            {
                let detail = other["detail"].as_str().unwrap_or_default();
                if let Some(word) = words.iter().find(|w| !detail.contains(w.as_str())) {
                    failed.push(format!(
                        "{}: {name}'s detail lacks {word:?}: {}",
                        case.name,
                        short(detail)
                    ));
                }
                continue;
            }
            let known = baseline
                .get(&spec.function)
                .is_some_and(|b| b.contains(&name));
            if !same && !of_the_record && !known && other["outcome"] == "failed" {
                failed.push(format!(
                    "{}: another record failed too: {name}: {}",
                    case.name,
                    short(other["detail"].as_str().unwrap_or_default())
                ));
            }
        }
    }
    // Served as stored again, every record syncs.
    for (function, before) in &baseline {
        let report = world.run_to_end(function).await.unwrap();
        for line in failing(&report) {
            if !before.contains(&line) {
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
