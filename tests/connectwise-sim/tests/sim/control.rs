//! The `/__sim` HTTP control endpoints and the binary.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::{Api, empty_sim};

#[tokio::test]
async fn control_endpoints_seed_inspect_inject_and_reset() {
    let sim = empty_sim().await;
    let http = reqwest::Client::new();
    let ctl = format!("{}/__sim", sim.base_url());
    let resp = http
        .post(format!("{ctl}/seed/company/companies"))
        .json(&json!([{"identifier": "A", "name": "A", "city": "x"}, {"id": 10, "identifier": "B", "name": "B", "city": "x"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"ids": [1, 10]}));
    let records: Value = http
        .get(format!("{ctl}/records/company/companies"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(records.as_array().unwrap().len(), 2);

    let fault = json!({"method": "GET", "path": "/company/companies", "trigger": {"nth": 1}, "kind": {"status": 502}});
    assert_eq!(
        http.post(format!("{ctl}/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let api = Api::new(&sim);
    assert_eq!(api.get("/company/companies").await.status(), 502);
    assert_eq!(api.get("/company/companies").await.status(), 200);

    let rate = json!({"max_requests": 1, "window_ms": 60000, "retry_after_secs": 7});
    assert_eq!(
        http.put(format!("{ctl}/rate-limit"))
            .json(&rate)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(api.get("/company/companies").await.status(), 200);
    let limited = api.get("/company/companies").await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "7");
    http.put(format!("{ctl}/rate-limit"))
        .json(&Value::Null)
        .send()
        .await
        .unwrap();

    let calls: Value = http
        .get(format!("{ctl}/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls["by_endpoint"]["GET /company/companies"], 4);

    http.put(format!("{ctl}/clock"))
        .json(&json!({"now": "2030-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    let clock: Value = http
        .get(format!("{ctl}/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["now"], "2030-01-01T00:00:00Z");

    assert_eq!(
        http.post(format!("{ctl}/reset"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(sim.records("/company/companies").is_empty());
    assert_eq!(sim.calls().total(), 0);
}

#[tokio::test]
async fn an_unknown_seed_collection_is_refused() {
    let sim = empty_sim().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/__sim/seed/no/such/thing", sim.base_url()))
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(sim.seed("/company/nothing", vec![]).is_err());
}

/// Kills the child when the test ends, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_its_url_and_serves_the_api() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_connectwise-sim"))
            .args(["--port", "0", "--no-reference-data"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        (0..8)
            .map(|_| {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                line
            })
            .collect::<Vec<String>>()
    })
    .await
    .unwrap();
    let first = &lines[0];
    // It says its rate limit, and how to set one.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("rate limit:  none") && l.contains("--rate-limit")),
        "{lines:?}"
    );
    let url = first.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let info: Value = reqwest::get(format!("{url}/login/companyinfo/cwsync"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["Codebase"], "v2026_4/");
}

#[tokio::test]
async fn with_tls_the_same_port_serves_https_signed_by_the_test_ca_and_plain_http() {
    use cwsync_connectwise_sim::{SimOptions, Simulator};
    let sim = Simulator::start(SimOptions {
        tls: true,
        ..SimOptions::empty()
    })
    .await
    .unwrap();
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    crate::common::seed_companies(&sim, 30);
    let ca = reqwest::Certificate::from_pem(sim.tls_ca_pem().unwrap().as_bytes()).unwrap();
    let https = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let api = crate::common::Api::with_client(&sim, https);
    let resp = api.get("/company/companies?pageSize=10").await;
    assert_eq!(resp.status(), 200);
    let next = crate::common::link(&crate::common::links(&resp), "next")
        .unwrap()
        .to_string();
    assert!(
        next.starts_with("https://"),
        "links keep the scheme: {next}"
    );
    let info: Value = reqwest::get(format!("http://{}/login/companyinfo/cwsync", sim.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["CompanyID"], "cwsync",
        "plain HTTP still works on the same port"
    );
    let untrusted = reqwest::Client::new()
        .get(format!("{}/login/companyinfo/cwsync", sim.base_url()))
        .send()
        .await;
    assert!(untrusted.is_err(), "the test CA is not trusted by default");
}
