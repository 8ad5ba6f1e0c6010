//! The README's main command works as a newcomer runs it, and its report tells the truth.
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

#[test]
fn the_local_customer_sync_creates_then_writes_nothing_then_patches_one_change() {
    let output = Command::new(env!("CARGO_BIN_EXE_cwsync-local"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = runs.as_array().unwrap();
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
    for run in runs {
        assert!(run["dead_letters"].as_array().unwrap().is_empty(), "{run}");
    }
}
