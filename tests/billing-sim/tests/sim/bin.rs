//! The `billing-sim` binary: prints its base URL and key, and serves the fixture.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cwsync_billing_sim::TEST_BILLING_API_KEY;
use serde_json::Value;

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_its_url_and_key_and_serves_the_fixture() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_billing-sim"))
        .args(["--port", "0", "--fixture"])
        .env_remove("BILLING_SIM_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let lines = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .take(4)
            .map(Result::unwrap)
            .collect::<Vec<String>>()
    });
    let lines = tokio::time::timeout(Duration::from_secs(60), lines)
        .await
        .unwrap()
        .unwrap();
    let url = lines[0]
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    assert!(lines[1].contains(TEST_BILLING_API_KEY), "{lines:?}");
    // It says its rate limit, and how to set one.
    assert!(lines[2].starts_with("rate limit: none"), "{lines:?}");
    assert!(lines[2].contains("--rate-limit"), "{lines:?}");
    let body: Value = reqwest::Client::new()
        .get(format!("{url}v1/accounts"))
        .bearer_auth(TEST_BILLING_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 6);
    drop(running);
}
