//! `cwsync-local --tenant-secret FILE` against simulators the test starts, as a user would run it
//! against their sandbox: a dry run writes nothing, `--write` writes, a second `--write` run with
//! `--state` is incremental (no write at all), and no key ever shows in the output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise_sim::{
    SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use serde_json::json;

const BILLING_KEY: &str = "tenant-billing-key-9f8e7d";

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_cwsync-local"))
            .args(&args)
            .env_remove("CWSYNC_CW_RATE")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_then_a_write_then_an_incremental_run_against_a_tenant_secret() {
    let cw = Simulator::start(SimOptions::default()).await.unwrap();
    let billing = BillingSim::start(BillingSimOptions {
        api_key: BILLING_KEY.to_owned(),
        ..BillingSimOptions::with_fixture()
    })
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("cwsync-local-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("tenant.json");
    std::fs::write(
        &secret,
        json!({
            "site": cw.base_url(), "companyId": TEST_COMPANY_ID, "publicKey": TEST_PUBLIC_KEY,
            "privateKey": TEST_PRIVATE_KEY, "clientId": TEST_CLIENT_ID,
            "billingUrl": billing.base_url().to_string(), "billingApiKey": BILLING_KEY,
        })
        .to_string(),
    )
    .unwrap();
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let base = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "--tenant-secret".to_owned(),
            secret.display().to_string(),
            "--state".to_owned(),
            state.display().to_string(),
            "--cw-rate".to_owned(),
            "500".to_owned(),
            "--progress-every-ms".to_owned(),
            "0".to_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    let keys_hidden = |output: &Output| {
        let all = text(output);
        assert!(!all.contains(TEST_PRIVATE_KEY), "{all}");
        assert!(!all.contains(BILLING_KEY), "{all}");
    };

    let companies = cw.records("/company/companies").len();
    let contacts = cw.records("/company/contacts").len();
    // A dry run: test-connection, the plan, and nothing written anywhere.
    let dry = run(base(&[])).await;
    keys_hidden(&dry);
    assert!(dry.status.success(), "{}", text(&dry));
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        out.contains("test-connection: ConnectWise connected"),
        "{out}"
    );
    assert!(out.contains("dry run: nothing is written"), "{out}");
    assert!(
        out.contains("ConnectWise rate limit: 500 requests/s"),
        "{out}"
    );
    // test-connection probes each write with a body ConnectWise must refuse (the simulator
    // counts those attempts); nothing else reaches ConnectWise, and nothing changed there.
    let probes = cw.calls().writes();
    assert_eq!(cw.records("/company/companies").len(), companies);
    assert_eq!(cw.records("/company/contacts").len(), contacts);
    assert_eq!(billing.calls().writes(), 0);
    assert!(!state.exists(), "a dry run saves no state");

    // --write applies, and shows progress.
    let write = run(base(&["--write", "--json"])).await;
    keys_hidden(&write);
    assert!(write.status.success(), "{}", text(&write));
    let report: serde_json::Value = serde_json::from_slice(&write.stdout).unwrap();
    assert_eq!(report["testConnection"]["ok"], true, "{report}");
    assert_eq!(report["runs"][0]["status"], "partially_failed", "{report}");
    let stderr = String::from_utf8_lossy(&write.stderr);
    let last = stderr.lines().rfind(|l| l.starts_with("synced ")).unwrap();
    let (done, total) = last
        .trim_start_matches("synced ")
        .trim_end_matches(" accounts")
        .split_once('/')
        .unwrap();
    assert_eq!(done, total, "{stderr}");
    let cw_writes = cw.calls().writes();
    let billing_writes = billing.calls().writes();
    assert!(cw_writes > 2 * probes, "{}", text(&write));
    assert!(cw.records("/company/companies").len() > companies);
    assert!(billing_writes > 0);
    assert!(state.exists());

    // A second run on the same state is incremental: nothing to write on either side.
    let again = run(base(&["--write"])).await;
    keys_hidden(&again);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(cw.calls().writes(), cw_writes + probes, "{}", text(&again));
    assert_eq!(billing.calls().writes(), billing_writes, "{}", text(&again));

    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_malformed_secret_is_named_by_its_field_not_its_value() {
    let dir = std::env::temp_dir().join(format!("cwsync-local-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("tenant.json");
    std::fs::write(
        &secret,
        json!({"site": "na", "companyId": "acme", "publicKey": "pub",
               "privateKey": 12345, "clientId": "c",
               "billingUrl": "https://billing.example.com/", "billingApiKey": "bk-secret-777"})
        .to_string(),
    )
    .unwrap();
    let output = run(vec![
        "--tenant-secret".to_owned(),
        secret.display().to_string(),
    ])
    .await;
    assert!(!output.status.success());
    let all = text(&output);
    assert!(all.contains("privateKey"), "{all}");
    assert!(!all.contains("bk-secret-777"), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}
