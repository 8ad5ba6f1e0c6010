//! The README's main command works as a newcomer runs it, and its reports tell the truth: the
//! customer sync's, then the daily export's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn total(run: &serde_json::Value, outcome: &str) -> u64 {
    run["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c[outcome].as_u64().unwrap())
        .sum()
}

/// `cwsync-local --json`: the runs of `job` (`customerSync`, `dailyExport` or `ticketImport`).
fn local_runs(job: &str) -> Vec<serde_json::Value> {
    local_output()[job].as_array().unwrap().clone()
}

#[test]
fn the_local_customer_sync_creates_then_writes_nothing_then_patches_one_change() {
    let runs = local_runs("customerSync");
    assert_eq!(runs.len(), 3);

    let first = &runs[0];
    assert!(total(first, "created") > 0, "{first}");
    assert_eq!(
        first["counts"]["company"]["linked"], 1,
        "the existing company is linked: {first}"
    );
    assert_eq!(
        first["counts"]["company"]["skipped"], 1,
        "the opted-out account: {first}"
    );
    assert_eq!(
        first["counts"]["company"]["failed"], 1,
        "the unknown state: {first}"
    );
    assert!(
        first["failures"][0]
            .as_str()
            .unwrap()
            .contains("billingAddress.state"),
        "{first}"
    );
    assert_eq!(first["status"], "partially_failed");

    let rerun = &runs[1];
    assert_eq!(
        rerun["connectwise_writes"], 0,
        "an unchanged re-run writes nothing: {rerun}"
    );
    assert_eq!(rerun["billing_writes"], 0, "{rerun}");
    assert_eq!(
        total(rerun, "created") + total(rerun, "updated"),
        0,
        "{rerun}"
    );

    let changed = &runs[2];
    assert_eq!(changed["connectwise_writes"], 1, "one PATCH: {changed}");
    assert_eq!(changed["counts"]["company"]["updated"], 1, "{changed}");
    for run in &runs {
        assert!(run["dead_letters"].as_array().unwrap().is_empty(), "{run}");
    }
}

fn texts(run: &serde_json::Value, field: &str) -> Vec<String> {
    run[field]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_local_export_creates_then_writes_nothing_then_patches_exactly_the_changed_additions() {
    let runs = local_runs("dailyExport");
    let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "first export",
            "unchanged re-run",
            "quantity + cancel",
            "confirmed"
        ]
    );

    // One write per record created, nothing else: 6 catalog items, 2 agreements, 3 additions.
    let first = &runs[0];
    assert_eq!(first["counts"]["catalog-item"]["created"], 6, "{first}");
    assert_eq!(first["counts"]["agreement"]["created"], 2, "{first}");
    assert_eq!(first["counts"]["addition"]["created"], 3, "{first}");
    assert_eq!(
        first["connectwise_writes"].as_u64().unwrap(),
        total(first, "created"),
        "{first}"
    );
    let failures = texts(first, "failures").join("\n");
    assert!(
        failures.contains("\"Biennial\"") && failures.contains("mappings.billingFrequencies"),
        "the unmapped frequency is named with its setting: {failures}"
    );
    assert!(
        texts(first, "skipped")
            .iter()
            .any(|s| s.starts_with("export-account A-1005: unmapped")),
        "the account without a company is reported unmapped: {first}"
    );
    assert!(
        texts(first, "suggestions")
            .iter()
            .any(|s| s.starts_with("A-1005: ")),
        "the unmapped account gets its suggestions: {first}"
    );

    let rerun = &runs[1];
    assert_eq!(
        rerun["connectwise_writes"], 0,
        "an unchanged re-run writes nothing: {rerun}"
    );
    assert_eq!(
        total(rerun, "created") + total(rerun, "updated"),
        0,
        "{rerun}"
    );
    assert_eq!(rerun["counts"]["catalog-item"]["unchanged"], 6, "{rerun}");

    // One of three live additions cancelled is over the default guard (20%): nothing written
    // until confirmed.
    let guarded = &runs[2];
    assert_eq!(guarded["dry_run"], true, "{guarded}");
    assert_eq!(guarded["connectwise_writes"], 0, "{guarded}");
    assert!(
        guarded["mass_change_guard"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{guarded}"
    );

    let confirmed = &runs[3];
    assert_eq!(confirmed["dry_run"], false, "{confirmed}");
    assert_eq!(
        confirmed["connectwise_writes"], 2,
        "exactly the two changed additions are patched: {confirmed}"
    );
    assert_eq!(confirmed["counts"]["addition"]["updated"], 2, "{confirmed}");
    let changed = texts(confirmed, "changed");
    assert_eq!(changed.len(), 2, "{confirmed}");
    for field in ["quantity", "cancelledDate"] {
        assert_eq!(
            changed
                .iter()
                .filter(|c| c.starts_with("addition ") && c.ends_with(&format!("changed: {field}")))
                .count(),
            1,
            "{field}: {changed:?}"
        );
    }
    for run in &runs {
        assert_eq!(
            run["billing_writes"], 0,
            "the export writes nothing back: {run}"
        );
        assert!(run["dead_letters"].as_array().unwrap().is_empty(), "{run}");
    }
}

/// `cwsync-local --json`, whole.
fn local_output() -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_cwsync-local"))
        .arg("--json")
        .env_remove("CWSYNC_CW_RATE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_local_ticket_import_creates_the_calls_the_fixture_allows_then_writes_nothing() {
    let output = local_output();
    let fixture = &output["ticketFixture"];
    let runs = output["ticketImport"].as_array().unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["first import", "unchanged re-run"]);
    let id = |field: &str| fixture[field].as_i64().unwrap();

    let first = &runs[0];
    // The calls are read back from the billing simulator: one per ticket created by the run,
    // each ticket once.
    let calls = first["imported"].as_array().unwrap();
    assert_eq!(
        calls.len() as u64,
        total(first, "created"),
        "every created ticket has its call, and no other call was made: {first}"
    );
    let mut tickets: Vec<i64> = calls
        .iter()
        .map(|c| c["ticket"].as_i64().unwrap())
        .collect();
    tickets.dedup();
    assert_eq!(tickets.len(), calls.len(), "one call per ticket: {calls:?}");
    // Each service call write is a create: one per call.
    assert_eq!(
        first["billing_writes"].as_u64().unwrap(),
        total(first, "created"),
        "{first}"
    );
    assert_eq!(first["connectwise_writes"], 0, "{first}");
    let call_of = |ticket: i64| {
        calls
            .iter()
            .find(|c| c["ticket"] == ticket)
            .unwrap_or_else(|| panic!("no call for ticket {ticket}: {calls:?}"))
    };

    // The ready ticket: both time entries are labor lines (the billing system's, against the
    // fixture's time entries in ConnectWise), toner and the placeholder cable are parts, the drum
    // (on an agreement no time entry has) is not; the placeholder holds the call.
    let ready = call_of(id("ticketReady"));
    assert_eq!(ready["labor"].as_array().unwrap().len(), 2, "{ready}");
    assert_eq!(ready["connectwiseTimeEntries"], 2, "{ready}");
    assert_eq!(ready["connectwiseProducts"], 3, "{ready}");
    let parts = texts(ready, "parts");
    assert_eq!(parts, ["I-TONER-BK x 2", "I-TPL-SUPPLIES x 1"], "{ready}");
    assert_eq!(ready["onHold"], true, "{ready}");
    let reason = ready["holdReason"].as_str().unwrap();
    assert!(
        reason.contains(&id("productPlaceholder").to_string()),
        "the hold names the product: {reason}"
    );
    assert_eq!(ready["accountId"], "A-1001", "{ready}");
    assert_eq!(
        ready["contractId"], "C-3001",
        "the mapped agreement: {ready}"
    );
    assert_eq!(
        ready["labor"][0].as_str().unwrap(),
        "T-100 1.5 h billable (Onsite)",
        "{ready}"
    );

    let second = call_of(id("ticketSecondCompany"));
    assert_eq!(second["onHold"], false, "{second}");
    assert_eq!(
        second["labor"].as_array().unwrap().len() as u64,
        second["connectwiseTimeEntries"].as_u64().unwrap(),
        "{second}"
    );
    assert!(
        texts(second, "labor")[0].starts_with("T-101 "),
        "srivera is T-101 by e-mail: {second}"
    );

    // What fails is named, with why; what is not finished or has no time gets no call.
    let failures = texts(first, "failures");
    assert_eq!(failures.len() as u64, total(first, "failed"), "{first}");
    let failed = |ticket: i64, what: &str| {
        assert!(
            failures
                .iter()
                .any(|f| f.starts_with(&format!("ticket {ticket}:")) && f.contains(what)),
            "ticket {ticket} fails naming {what}: {failures:?}"
        );
    };
    failed(id("ticketUnmappedTechnician"), "mchen");
    failed(id("ticketUnmappedCompany"), "company");
    for ticket in [
        id("ticketUnmappedTechnician"),
        id("ticketUnmappedCompany"),
        id("ticketWithoutTime"),
        id("ticketNotFinished"),
    ] {
        assert!(
            calls.iter().all(|c| c["ticket"] != ticket),
            "ticket {ticket} has no call: {calls:?}"
        );
    }
    assert!(
        texts(first, "not_imported")
            .iter()
            .any(|n| n.starts_with("1 ticket(s) in an import status without time entries")),
        "{first}"
    );

    // The unchanged re-run: nothing written to either side, no imported ticket planned again
    // (planned at that version already: the watermark's tail), the failing ones tried again
    // (still on the error report), the calls as they were.
    let rerun = &runs[1];
    assert_eq!(rerun["billing_writes"], 0, "{rerun}");
    assert_eq!(rerun["connectwise_writes"], 0, "{rerun}");
    assert_eq!(
        total(rerun, "created") + total(rerun, "updated"),
        0,
        "{rerun}"
    );
    assert_eq!(total(rerun, "unchanged"), 0, "{rerun}");
    assert_eq!(total(rerun, "failed"), total(first, "failed"), "{rerun}");
    assert_eq!(rerun["imported"], first["imported"], "{rerun}");
    for run in runs {
        assert!(run["dead_letters"].as_array().unwrap().is_empty(), "{run}");
    }
}

#[test]
fn the_local_documents_create_invoices_payments_and_orders_then_write_nothing() {
    let runs = local_runs("documents");
    let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "invoices",
            "payments",
            "orders",
            "agreement-invoices",
            "sales-orders",
            "invoices re-run",
            "payments re-run",
            "orders re-run",
            "agreement-invoices re-run",
            "sales-orders re-run",
            "projects",
            "credit-hold",
            "projects re-run",
            "credit-hold re-run"
        ]
    );
    let count = |run: &serde_json::Value, entity: &str, outcome: &str| {
        run["counts"][entity][outcome].as_u64().unwrap_or(0)
    };
    // Two of the fixture's three invoices and orders have catalog items for all their items;
    // the third of each fails naming its item, and that invoice's payment waits for it.
    assert_eq!(count(&runs[0], "invoice", "created"), 2, "{}", runs[0]);
    assert_eq!(count(&runs[0], "invoice", "failed"), 1, "{}", runs[0]);
    assert_eq!(
        count(&runs[1], "invoice-payment", "created"),
        1,
        "{}",
        runs[1]
    );
    assert_eq!(count(&runs[2], "sales-order", "created"), 2, "{}", runs[2]);
    let failures = texts(&runs[0], "failures").join("\n");
    assert!(failures.contains("LABOR-ONSITE"), "{failures}");
    // The re-run sends only the failing records again and writes nothing.
    assert!(
        runs[0]["connectwise_writes"].as_u64().unwrap() > 0,
        "{}",
        runs[0]
    );
    // The pulls back: two agreement invoices of one agreement and date applied to one contract,
    // the ConnectWise-made sales order made a billing order (the export's are not pulled back).
    assert_eq!(
        count(&runs[3], "agreement-invoice", "created"),
        2,
        "{}",
        runs[3]
    );
    assert_eq!(
        count(&runs[4], "billing-order", "created"),
        1,
        "{}",
        runs[4]
    );
    assert_eq!(total(&runs[4], "failed"), 0, "{}", runs[4]);
    assert_eq!(runs[5]["connectwise_writes"], 0, "{}", runs[5]);
    for run in &runs[5..10] {
        assert_eq!(total(run, "created") + total(run, "updated"), 0, "{run}");
    }
}

#[test]
fn the_local_projects_become_opportunities_and_the_credit_hold_fails_naming_its_account() {
    let runs = local_runs("documents");
    let by_label = |label: &str| {
        runs.iter()
            .find(|r| r["label"] == label)
            .unwrap_or_else(|| panic!("no {label} in {runs:?}"))
            .clone()
    };
    let projects = by_label("projects");
    assert_eq!(
        projects["counts"]["opportunity"]["created"], 3,
        "{projects}"
    );
    assert!(projects["connectwise_writes"].as_u64().unwrap() > 0);
    let rerun = by_label("projects re-run");
    assert_eq!(
        rerun["connectwise_writes"], 0,
        "an unchanged re-run writes nothing: {rerun}"
    );
    assert_eq!(
        total(&rerun, "created") + total(&rerun, "updated"),
        0,
        "{rerun}"
    );
    // A-1005 is on hold, but the customer sync refused its company (an unknown state).
    let holds = by_label("credit-hold");
    assert_eq!(holds["counts"]["credit-hold"]["failed"], 1, "{holds}");
    assert!(
        texts(&holds, "failures")
            .iter()
            .any(|f| f.contains("A-1005") && f.contains("no ConnectWise company")),
        "{holds}"
    );
}
