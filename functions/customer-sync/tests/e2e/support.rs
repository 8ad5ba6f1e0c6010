//! One world per test: both simulators on ephemeral ports, the function over them, its stores on
//! moto (memory without moto outside CI) and an in-memory customer queue delivered like SQS.

use std::sync::Arc;
use std::time::Duration;

use cwsync_billing::models::{Account, Address, Contact, Site};
use cwsync_billing_sim::{BillingSim, BillingSimOptions, TEST_BILLING_API_KEY};
use cwsync_connectwise::RetryPolicy;
use cwsync_connectwise_sim::{
    ApiMember, SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY,
    TEST_PUBLIC_KEY,
};
use cwsync_customer_sync::{ConnectOptions, CustomerSync, FUNCTION};
use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::{Config, Deps, StaticTenantSecrets, Stores};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const TENANT: &str = "acme";
pub const T0: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);

pub struct World {
    pub cw: Simulator,
    pub billing: BillingSim,
    pub service: Arc<CustomerSync>,
    pub queue: Arc<MemoryJobQueue>,
}

/// Stores on moto when it is there (always under CI), else in memory.
pub async fn stores() -> Stores {
    match cwsync_aws_harness::moto() {
        Some(moto) => {
            let config = moto.sdk_config().await;
            let client = aws_sdk_dynamodb::Client::new(&config);
            let name = cwsync_aws_harness::unique_name("customer-sync");
            let table = cwsync_store::dynamo::create_table(&client, &name)
                .await
                .unwrap();
            Stores::dynamo(table)
        }
        None => Stores::memory(),
    }
}

impl World {
    pub async fn start() -> World {
        World::start_with(ApiMember::test_member()).await
    }

    /// A world whose ConnectWise API member is `member` (to deny permissions).
    pub async fn start_with(member: ApiMember) -> World {
        let cw = Simulator::start(SimOptions {
            members: vec![member],
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let billing = BillingSim::start(BillingSimOptions::default())
            .await
            .unwrap();
        billing.set_clock(T0);
        let secrets = StaticTenantSecrets::new()
            .with_secret_json(TENANT, &secret(&cw, &billing).to_string())
            .unwrap();
        let mut deps = Deps::local(FUNCTION, Config::local(), secrets);
        deps.stores = stores().await;
        let queue = Arc::new(MemoryJobQueue::new());
        deps.queues.customer = Some(queue.clone());
        World {
            cw,
            billing,
            service: Arc::new(CustomerSync::new(Arc::new(deps), fast_options())),
            queue,
        }
    }

    pub async fn event(&self, event: Value) -> Result<Value, Diagnostic> {
        self.service
            .handle(
                event,
                OffsetDateTime::now_utc() + time::Duration::minutes(5),
            )
            .await
    }

    pub async fn ok(&self, event: Value) -> Value {
        match self.event(event.clone()).await {
            Ok(answer) => answer,
            Err(d) => panic!("{event}: {}: {}", d.error_type, d.error_message),
        }
    }

    /// A tenant-wide run, fanned out and delivered to the end; its report.
    pub async fn sync(&self, dry_run: bool) -> Report {
        let planned = self
            .ok(json!({"action": "sync-tenant", "tenant": TENANT, "dryRun": dry_run}))
            .await;
        let delivery = self.service.deliver_all(&self.queue, 5).await;
        assert!(delivery.dead_letters.is_empty(), "{delivery:?}");
        let run_id = planned["runId"].as_str().unwrap().to_owned();
        self.report(&run_id).await
    }

    pub async fn report(&self, run_id: &str) -> Report {
        Report(
            self.ok(json!({"action": "report", "tenant": TENANT, "runId": run_id}))
                .await,
        )
    }

    pub async fn put_settings(&self, settings: Value) {
        let mut document = serde_json::to_value(TenantSettings::default()).unwrap();
        merge(&mut document, settings);
        self.ok(json!({"action": "put-settings", "tenant": TENANT, "settings": document}))
            .await;
    }

    pub fn companies(&self) -> Vec<Value> {
        self.cw.records("/company/companies")
    }

    pub fn company(&self, identifier: &str) -> Value {
        let found: Vec<Value> = self
            .companies()
            .into_iter()
            .filter(|c| {
                c["identifier"]
                    .as_str()
                    .is_some_and(|i| i.eq_ignore_ascii_case(identifier))
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "companies with identifier {identifier}: {found:?}"
        );
        found.into_iter().next().unwrap()
    }

    pub fn contacts(&self) -> Vec<Value> {
        self.cw.records("/company/contacts")
    }

    pub fn cw_writes(&self) -> u64 {
        self.cw.calls().writes()
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
    }
}

/// A ConnectWise client of the simulator's test member: what a ConnectWise user's edits go
/// through in tests.
pub async fn cw_client(world: &World) -> cwsync_connectwise::Client {
    let config = cwsync_connectwise::ClientConfig::new(
        cwsync_connectwise::Site::parse(&world.cw.base_url()).unwrap(),
        TEST_COMPANY_ID,
        secrecy::SecretString::from(TEST_PUBLIC_KEY),
        secrecy::SecretString::from(TEST_PRIVATE_KEY),
        TEST_CLIENT_ID,
    );
    cwsync_connectwise::Client::connect(config).await.unwrap()
}

/// A tenant secret pointing at these simulators with their test keys.
pub fn secret(cw: &Simulator, billing: &BillingSim) -> Value {
    json!({
        "site": cw.base_url(),
        "companyId": TEST_COMPANY_ID,
        "publicKey": TEST_PUBLIC_KEY,
        "privateKey": TEST_PRIVATE_KEY,
        "clientId": TEST_CLIENT_ID,
        "billingUrl": billing.base_url().to_string(),
        "billingApiKey": TEST_BILLING_API_KEY,
    })
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (into, from) => *into = from,
    }
}

/// A run's report, with helpers to read it.
#[derive(Debug, Clone)]
pub struct Report(pub Value);

impl Report {
    pub fn count(&self, entity: &str, outcome: &str) -> u64 {
        self.0["run"]["counts"][entity][outcome]
            .as_u64()
            .unwrap_or(0)
    }

    pub fn status(&self) -> &str {
        self.0["run"]["status"].as_str().unwrap_or_default()
    }

    pub fn record(&self, entity: &str, id: &str) -> Value {
        self.0["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["entity"] == entity && r["recordId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {entity} {id} in {}", self.0))
    }

    pub fn outcome(&self, entity: &str, id: &str) -> String {
        self.record(entity, id)["outcome"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn detail(&self, entity: &str, id: &str) -> String {
        self.record(entity, id)["detail"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub fn address(line1: &str, city: &str, state: &str, zip: &str, country: &str) -> Address {
    Address {
        line1: Some(line1.to_owned()),
        line2: None,
        city: Some(city.to_owned()),
        state: Some(state.to_owned()),
        postal_code: Some(zip.to_owned()),
        country: Some(country.to_owned()),
    }
}

/// A plain account in Arizona, with no sites or contacts.
pub fn account(id: &str, code: &str, name: &str) -> Account {
    Account {
        id: id.to_owned(),
        code: code.to_owned(),
        name: name.to_owned(),
        status: Some("Active".to_owned()),
        account_type: Some("Client".to_owned()),
        parent_account_id: None,
        bill_to_account_id: None,
        currency: Some("USD".to_owned()),
        phone: Some("602-555-0100".to_owned()),
        fax: None,
        website: Some("https://example.com".to_owned()),
        billing_address: Some(address(
            "1 Main St",
            "Phoenix",
            "AZ",
            "85001",
            "United States",
        )),
        customer_type: Some("Managed".to_owned()),
        contract_type: Some("Monthly".to_owned()),
        branch: Some("Phoenix".to_owned()),
        sync_to_connect_wise: true,
        connect_wise_company_id: None,
        sites: Vec::new(),
        contacts: Vec::new(),
        updated_at: T0,
    }
}

pub fn site(id: &str, name: &str, line1: &str) -> Site {
    Site {
        id: id.to_owned(),
        name: name.to_owned(),
        address: address(line1, "Tempe", "AZ", "85281", "United States"),
        phone: Some("480-555-0100".to_owned()),
        fax: None,
        connect_wise_site_id: None,
    }
}

pub fn contact(id: &str, first: &str, last: &str, email: &str) -> Contact {
    Contact {
        id: id.to_owned(),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        title: Some("Office Manager".to_owned()),
        phone: Some("602-555-0110".to_owned()),
        email: Some(email.to_owned()),
        mobile: Some("602-555-0111".to_owned()),
        fax: None,
        connect_wise_contact_id: None,
    }
}

/// Counts of the simulator's calls by method and template since `before`.
pub fn calls_since(
    world: &World,
    before: &cwsync_connectwise_sim::CallStats,
    method: &str,
    template: &str,
) -> u64 {
    world.cw.calls().count(method, template) - before.count(method, template)
}
