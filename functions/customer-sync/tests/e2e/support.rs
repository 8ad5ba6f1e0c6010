//! One world per test: both simulators on ephemeral ports, the function over them, its stores on
//! moto (memory without moto outside CI) and an in-memory customer queue delivered like SQS.

use std::sync::Arc;

use cwsync_billing::models::{Account, Address, Contact, Site};
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise_sim::{ApiMember, SimOptions, Simulator};
use cwsync_customer_sync::{CustomerSync, FUNCTION};
use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::Config;
pub use cwsync_test_support::{Report, fast_options, merge, secret, sim_deps, stores};
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
        let (mut deps, queue) = sim_deps(FUNCTION, Config::local(), TENANT, &cw, &billing);
        deps.stores = stores("customer-sync").await;
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

/// A ConnectWise client of the simulator's test member: what a ConnectWise user's edits go
/// through in tests.
pub async fn cw_client(world: &World) -> cwsync_connectwise::Client {
    cwsync_test_support::cw_client(&world.cw).await
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

/// Both simulators on ephemeral ports, billing with `n` accounts `A-1`… (codes `CO1`…, names
/// `Company 1`…).
pub async fn simulators_with_accounts(n: usize) -> (Simulator, BillingSim) {
    let cw = Simulator::start(SimOptions::default()).await.unwrap();
    let billing = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    billing.seed_accounts(
        (1..=n)
            .map(|i| {
                account(
                    &format!("A-{i}"),
                    &format!("CO{i}"),
                    &format!("Company {i}"),
                )
            })
            .collect(),
    );
    (cw, billing)
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
        on_hold: false,
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
