//! What the functions' end-to-end tests share: their state on moto (or in memory outside CI),
//! a tenant secret pointing at the simulators (and deps holding it, [`sim_deps`]), client options with short retries, a ConnectWise
//! client of the simulator's test member (what a user's hand edits go through), settings
//! documents built from the defaults, a reader of run reports, and a Function URL in front of a
//! handler ([`function_url`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod binary_stack;
pub mod function_url;

use std::time::Duration;

use cwsync_billing_sim::{BillingSim, TEST_BILLING_API_KEY};
use cwsync_connectwise::RetryPolicy;
use cwsync_connectwise_sim::{
    Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use cwsync_runtime::Stores;
use cwsync_sync::tenant::ConnectOptions;
use serde_json::{Value, json};

/// Stores on moto when it is there (always under CI), else in memory; a table of its own.
pub async fn stores(prefix: &str) -> Stores {
    match cwsync_aws_harness::moto() {
        Some(moto) => {
            let config = moto.sdk_config().await;
            let client = aws_sdk_dynamodb::Client::new(&config);
            let name = cwsync_aws_harness::unique_name(prefix);
            let table = cwsync_store::dynamo::create_table(&client, &name)
                .await
                .unwrap();
            Stores::dynamo(table)
        }
        None => Stores::memory(),
    }
}

/// Client options for tests: short retries and timeouts.
pub fn fast_options() -> ConnectOptions {
    // The same policy type serves both clients.
    let retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(5),
    };
    ConnectOptions {
        cw_retry: Some(retry),
        billing_retry: Some(retry),
        timeout: Some(Duration::from_secs(5)),
        cache_ttl: None,
        cw_rate: None,
        gate_window: None,
    }
}

/// A ConnectWise client of the simulator's test member.
pub async fn cw_client(cw: &Simulator) -> cwsync_connectwise::Client {
    let config = cwsync_connectwise::ClientConfig::new(
        cwsync_connectwise::Site::parse(&cw.base_url()).unwrap(),
        TEST_COMPANY_ID,
        secrecy::SecretString::from(TEST_PUBLIC_KEY),
        secrecy::SecretString::from(TEST_PRIVATE_KEY),
        TEST_CLIENT_ID,
    );
    cwsync_connectwise::Client::connect(config).await.unwrap()
}

/// The deps of `function` (with `config`) for `tenant`, whose secret points at these
/// simulators, in memory ([`Deps::local`](cwsync_runtime::Deps::local): stores, secrets), with
/// the customer queue in memory (also returned, to deliver its jobs). Add the function's own
/// queue and stores before sharing them.
pub fn sim_deps(
    function: &'static str,
    config: cwsync_runtime::Config,
    tenant: &str,
    cw: &Simulator,
    billing: &BillingSim,
) -> (
    cwsync_runtime::Deps,
    std::sync::Arc<cwsync_queue::MemoryJobQueue>,
) {
    let secrets = cwsync_runtime::StaticTenantSecrets::new()
        .with_secret_json(tenant, &secret(cw, billing).to_string())
        .unwrap();
    let mut deps = cwsync_runtime::Deps::local(function, config, secrets);
    let customer_queue = std::sync::Arc::new(cwsync_queue::MemoryJobQueue::new());
    deps.queues.customer = Some(customer_queue.clone());
    (deps, customer_queue)
}

/// The ConnectWise company the customer sync made for billing account `account_id` (the
/// company whose identifier is the account's code).
pub fn company_of(cw: &Simulator, billing: &BillingSim, account_id: &str) -> i64 {
    let code = billing
        .account(account_id)
        .unwrap_or_else(|| panic!("no account {account_id}"))
        .code;
    cw.records("/company/companies")
        .iter()
        .find(|c| c["identifier"] == code.as_str())
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_else(|| panic!("no company for {account_id}"))
}

/// A tenant secret pointing at these simulators with their test keys.
pub fn secret(cw: &Simulator, billing: &BillingSim) -> Value {
    secret_at(&cw.base_url(), billing.base_url().as_str())
}

/// A tenant secret pointing at simulators at these base URLs (e.g. in another process) with
/// their test keys.
pub fn secret_at(cw_url: &str, billing_url: &str) -> Value {
    json!({
        "site": cw_url,
        "companyId": TEST_COMPANY_ID,
        "publicKey": TEST_PUBLIC_KEY,
        "privateKey": TEST_PRIVATE_KEY,
        "clientId": TEST_CLIENT_ID,
        "billingUrl": billing_url,
        "billingApiKey": TEST_BILLING_API_KEY,
    })
}

/// `from` merged into `into`: objects key by key, anything else replaced.
pub fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (into, from) => *into = from,
    }
}

/// The customer sync's `put-settings` event that merges `settings` into the tenant's stored
/// settings, from its `get-settings` answer `stored` (the defaults when none are stored yet),
/// conditional on the version read.
pub fn put_settings_event(tenant: &str, stored: &Value, settings: Value) -> Value {
    let version = stored["version"].as_u64();
    let mut document = match version {
        Some(_) => stored["settings"].clone(),
        None => serde_json::to_value(cwsync_mapping::settings::TenantSettings::default()).unwrap(),
    };
    merge(&mut document, settings);
    let mut event = json!({"action": "put-settings", "tenant": tenant, "settings": document});
    if let Some(version) = version {
        event["expectedVersion"] = json!(version);
    }
    event
}

/// Delivers every job in `queue` twice, as SQS may, with `deliver` (which delivers a queue's
/// jobs and those they send back to `queue`), until no job is left; the deliveries made.
pub async fn deliver_twice<F, Fut>(queue: &cwsync_queue::MemoryJobQueue, deliver: F) -> u64
where
    F: Fn(cwsync_queue::MemoryJobQueue) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    use cwsync_queue::JobQueue;
    let mut deliveries = 0;
    loop {
        let jobs = queue.drain();
        if jobs.is_empty() {
            return deliveries;
        }
        let twice = cwsync_queue::MemoryJobQueue::new();
        for _ in 0..2 {
            twice.send_batch(&jobs).await.unwrap();
        }
        deliveries += deliver(twice).await;
    }
}

/// What a console event answered, or a panic naming the event and the diagnostic.
pub fn answer(event: &Value, result: Result<Value, lambda_runtime::Diagnostic>) -> Value {
    match result {
        Ok(answer) => answer,
        Err(d) => panic!("{event}: {}: {}", d.error_type, d.error_message),
    }
}

/// Delivers every job in `queue` with `handle` as SQS delivers it (up to 5 receives each, the
/// jobs they send to `queue` too), asserting none is left for the dead-letter queue; the
/// deliveries made.
pub async fn deliver_checked<H, Fut>(queue: &cwsync_queue::MemoryJobQueue, handle: H) -> u64
where
    H: Fn(aws_lambda_events::event::sqs::SqsEvent, time::OffsetDateTime) -> Fut,
    Fut: std::future::Future<Output = aws_lambda_events::event::sqs::SqsBatchResponse>,
{
    let delivery = cwsync_sync::deliver::deliver_all(queue, 5, handle, |_| {}).await;
    assert!(delivery.dead_letters.is_empty(), "{delivery:?}");
    delivery.deliveries
}

/// The console test events of `function` in `infra/events/` (`{action}-{function}.json`, the
/// SQS and Function URL samples aside), by file name, in name order.
pub fn console_events(function: &str) -> Vec<(String, Value)> {
    let suffix = format!("-{function}.json");
    let mut events = Vec::new();
    for entry in std::fs::read_dir(events_folder()).expect("infra/events is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // `sqs-` files are queue samples and `url-` files Function URL requests, not actions.
        if name.ends_with(&suffix) && !name.starts_with("sqs-") && !name.starts_with("url-") {
            events.push((name, read_event(&path)));
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0));
    events
}

/// `infra/events/`.
pub fn events_folder() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/events")
}

/// One JSON file of `infra/events/` (a path, or a name in that folder).
pub fn read_event(path: &std::path::Path) -> Value {
    let path = events_folder().join(path);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A run's report (the `report` action's answer), with helpers to read it.
#[derive(Debug, Clone)]
pub struct Report(pub Value);

impl Report {
    /// Records of `entity` with `outcome` in the run's counts.
    pub fn count(&self, entity: &str, outcome: &str) -> u64 {
        self.0["run"]["counts"][entity][outcome]
            .as_u64()
            .unwrap_or(0)
    }

    /// The run's status.
    pub fn status(&self) -> &str {
        self.0["run"]["status"].as_str().unwrap_or_default()
    }

    /// The record `id` of `entity` (panics when absent).
    pub fn record(&self, entity: &str, id: &str) -> Value {
        self.0["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["entity"] == entity && r["recordId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {entity} {id} in {}", self.0))
    }

    /// Its outcome.
    pub fn outcome(&self, entity: &str, id: &str) -> String {
        self.record(entity, id)["outcome"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Its detail.
    pub fn detail(&self, entity: &str, id: &str) -> String {
        self.record(entity, id)["detail"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}
