//! A real third-party ConnectWise client, pyconnectwise, driven against the simulator by
//! `python/pyconnectwise_check.py`: if it works, the simulator behaves like ConnectWise where such
//! clients look, not only where our own client looks.
//!
//! The interpreter comes from `CWSYNC_PYTHON` (set by `.ci/test`, which installs pyconnectwise in
//! `.venv`). Without it the test fails under `CI=true` and is skipped loudly elsewhere.

use std::process::Command;
use std::time::Duration;

use cwsync_connectwise_sim::{TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY};
use serde_json::{Value, json};

use crate::support::sim;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/pyconnectwise_check.py");

/// The configured interpreter, if it can import pyconnectwise; otherwise why not.
fn python_with_pyconnectwise() -> Result<String, String> {
    let python = std::env::var("CWSYNC_PYTHON")
        .map_err(|_| "CWSYNC_PYTHON is not set (run `bash .ci/test`)".to_owned())?;
    let probe = Command::new(&python)
        .args(["-c", "import pyconnectwise"])
        .output()
        .map_err(|e| format!("CWSYNC_PYTHON={python} cannot be run: {e}"))?;
    if !probe.status.success() {
        return Err(format!(
            "CWSYNC_PYTHON={python} cannot import pyconnectwise: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }
    Ok(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyconnectwise_creates_pages_patches_and_reads_errors_against_the_simulator() {
    let python = match tokio::task::spawn_blocking(python_with_pyconnectwise)
        .await
        .unwrap()
    {
        Ok(python) => python,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("pyconnectwise is required in CI: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED: pyconnectwise_creates_pages_patches_and_reads_errors_against_the_simulator: {why}"
            );
            return;
        }
    };
    let sim = sim().await;
    let host = sim.addr().to_string();

    let run = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(SCRIPT)
            .args([
                host.as_str(),
                TEST_COMPANY_ID,
                TEST_PUBLIC_KEY,
                TEST_PRIVATE_KEY,
                TEST_CLIENT_ID,
            ])
            .output()
            .expect("the python script starts")
    });
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the script finishes within 120 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pyconnectwise_check.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );

    let found: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("the last line is the JSON findings ({e}):\n{stdout}"));
    assert_eq!(found["codebase"], cwsync_connectwise_sim::DEFAULT_CODEBASE);
    assert_eq!(found["created_ids"].as_array().map(Vec::len), Some(7));
    assert_eq!(
        found["not_deleted_ids"], found["created_ids"],
        "a real client's deletedFlag=false listing returns every company created by POST"
    );
    assert_eq!(found["primary_sites"], json!(vec!["Main"; 7]));
    assert_eq!(found["without_site"], "MalformedRequestException");
    assert_eq!(found["duplicate"], "ObjectExistsError");
    assert_eq!(found["paged"][0], "PyCheck6");
    assert_eq!(found["not_found"], "NotFoundException");
    assert_eq!(found["malformed"], "MalformedRequestException");
    assert_eq!(found["unauthorized"], "AuthenticationFailedException");
    // What pyconnectwise did is really in the simulator.
    let companies = sim.records("/company/companies");
    let py: Vec<&Value> = companies
        .iter()
        .filter(|c| {
            c["identifier"]
                .as_str()
                .is_some_and(|i| i.starts_with("PyCheck"))
        })
        .collect();
    assert_eq!(py.len(), 7);
    assert!(
        py.iter()
            .any(|c| c["identifier"] == "PyCheck0" && c["name"] == "Renamed")
    );
    assert_eq!(sim.schema_violations(), vec![]);
}
