//! The README's main command works as a newcomer runs it, and its report tells the truth.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn the_local_run_creates_then_makes_no_writes_then_patches_one_change() {
    let output = Command::new(env!("CARGO_BIN_EXE_cwsync-local"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = reports.as_array().unwrap();
    assert_eq!(runs.len(), 3);

    let first = &runs[0];
    assert_eq!(first["created"], 5);
    assert_eq!(first["connectwise_writes"], 5);
    assert_eq!(first["connectwise_reads"], 1, "one batched look-up per run");

    let rerun = &runs[1];
    assert_eq!(rerun["unchanged"], 5);
    assert_eq!(
        rerun["connectwise_writes"], 0,
        "an unchanged re-run writes nothing"
    );

    let changed = &runs[2];
    assert_eq!(changed["updated"], 1);
    assert_eq!(changed["unchanged"], 4);
    assert_eq!(changed["connectwise_writes"], 1);
    for run in runs {
        assert_eq!(run["failures"].as_array().unwrap().len(), 0, "{run}");
    }
}
