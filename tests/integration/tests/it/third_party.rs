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
    // The daily export's records, through pyconnectwise's own models.
    let export = &found["export"];
    assert_eq!(export["item"]["category"], "Software", "{export}");
    assert!(
        export["item"]["product_class"]
            .as_str()
            .is_some_and(|c| c.contains("NonInventory")),
        "{export}"
    );
    assert_eq!(export["duplicate_item"], "ObjectExistsError");
    assert!(
        export["agreement_status"]
            .as_str()
            .is_some_and(|s| s.contains("Active")),
        "{export}"
    );
    assert_eq!(export["addition"]["product"], "PY-M365");
    assert_eq!(export["addition"]["ext_price"], 264.0);
    assert_eq!(export["addition"]["uom"], "User");
    assert_eq!(export["missing_agreement"], "NotFoundException");
    let item_id = export["item"]["id"].as_i64().unwrap();
    let agreement_id = export["addition"]["agreement_id"].as_i64().unwrap();
    let stored = sim.records(&format!("/finance/agreements/{agreement_id}/additions"));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["product"]["id"], item_id);
    assert_eq!(stored[0]["quantity"], 12);
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
