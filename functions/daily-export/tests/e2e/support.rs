//! One world per test: both simulators, the customer sync and the daily export over them, their
//! shared stores, and in-memory queues delivered like SQS.

use std::sync::Arc;

use cwsync_billing::models::{AccountUser, Product, Subscription};
use cwsync_billing_sim::{
    BillingSim, BillingSimOptions, fixture_accounts, fixture_export_settings,
};
use cwsync_connectwise_sim::{SimOptions, Simulator};
use cwsync_customer_sync::CustomerSync;
use cwsync_daily_export::{DailyExport, FUNCTION};
use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::{Job, JobKind, JobQueue, MemoryJobQueue};
use cwsync_runtime::Config;
use cwsync_sync::deliver::deliver_all;
use cwsync_test_support::{Report, answer, fast_options, merge, sim_deps, stores};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const TENANT: &str = "acme";
pub const T0: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);

pub struct World {
    pub cw: Simulator,
    pub billing: BillingSim,
    pub customers: Arc<CustomerSync>,
    pub export: Arc<DailyExport>,
    pub customer_queue: Arc<MemoryJobQueue>,
    pub export_queue: Arc<MemoryJobQueue>,
}

impl World {
    /// Simulators with the billing fixture's accounts, products, subscriptions and users; the
    /// export settings stored; the customer sync run once (so the accounts have companies).
    pub async fn start() -> World {
        World::start_paged(cwsync_daily_export::CATALOG_PAGE_SIZE).await
    }

    /// [`World::start`] with catalog page jobs of `page_size` products.
    pub async fn start_paged(page_size: usize) -> World {
        World::start_configured(|export| export.catalog_page_size = page_size).await
    }

    /// [`World::start`] with the export's page sizes set by `configure`.
    pub async fn start_configured(configure: impl FnOnce(&mut DailyExport)) -> World {
        let cw = Simulator::start(SimOptions::default()).await.unwrap();
        let billing = BillingSim::start(BillingSimOptions::default())
            .await
            .unwrap();
        billing.set_clock(T0);
        billing.seed_accounts(fixture_accounts());
        let (mut deps, customer_queue) = sim_deps(FUNCTION, Config::local(), TENANT, &cw, &billing);
        deps.stores = stores("daily-export").await;
        let export_queue = Arc::new(MemoryJobQueue::new());
        deps.queues.export = Some(export_queue.clone());
        let deps = Arc::new(deps);
        let mut export = DailyExport::new(Arc::clone(&deps), fast_options());
        configure(&mut export);
        let world = World {
            cw,
            billing,
            customers: Arc::new(CustomerSync::new(deps, fast_options())),
            export: Arc::new(export),
            customer_queue,
            export_queue,
        };
        world.put_settings(fixture_export_settings()).await;
        world.sync_customers().await;
        world
    }

    /// Runs the customer sync of the tenant to the end.
    pub async fn sync_customers(&self) {
        let customers = &self.customers;
        customers
            .sync_tenant_to_end(TENANT, &self.customer_queue, 5)
            .await
            .unwrap();
    }

    pub async fn event(&self, event: Value) -> Result<Value, Diagnostic> {
        self.export.handle(event, deadline()).await
    }

    pub async fn ok(&self, event: Value) -> Value {
        answer(&event, self.event(event.clone()).await)
    }

    /// Delivers every queued export job (as SQS would, up to `receives` times each).
    pub async fn deliver(&self) {
        self.deliver_from(&self.export_queue).await;
    }

    /// Delivers every job in `queue` to the export (and the jobs they send to the export
    /// queue, when that is `queue`), asserting none is left for the DLQ.
    pub async fn deliver_from(&self, queue: &MemoryJobQueue) -> u64 {
        let delivery = deliver_all(
            queue,
            5,
            |event, deadline| {
                let export = Arc::clone(&self.export);
                async move { export.handle_jobs(event, deadline).await }
            },
            |_| {},
        )
        .await;
        assert!(delivery.dead_letters.is_empty(), "{delivery:?}");
        delivery.deliveries
    }

    /// Delivers every queued export job twice, as SQS may, and the jobs they send twice too,
    /// until no job is left.
    pub async fn deliver_twice(&self) -> u64 {
        let mut deliveries = 0;
        loop {
            let jobs = self.export_queue.drain();
            if jobs.is_empty() {
                return deliveries;
            }
            let twice = MemoryJobQueue::new();
            for _ in 0..2 {
                twice.send_batch(&jobs).await.unwrap();
            }
            deliveries += self.deliver_from(&twice).await;
        }
    }

    /// The queued export jobs of `kind` (left in the queue).
    pub async fn queued(&self, kind: JobKind) -> Vec<Job> {
        let jobs = self.export_queue.drain();
        self.export_queue.send_batch(&jobs).await.unwrap();
        jobs.into_iter().filter(|j| j.kind() == kind).collect()
    }

    /// An export of the tenant now (`extra` merged into the event), delivered to the end; the
    /// planning's answer and the run's report.
    pub async fn export_now(&self, extra: Value) -> (Value, Report) {
        let mut event = json!({"action": "export-now", "tenant": TENANT});
        merge(&mut event, extra);
        let planned = self.ok(event).await;
        self.deliver().await;
        let run_id = planned["runId"].as_str().unwrap().to_owned();
        (planned, self.report(&run_id).await)
    }

    pub async fn report(&self, run_id: &str) -> Report {
        Report(
            self.ok(json!({"action": "report", "tenant": TENANT, "runId": run_id}))
                .await,
        )
    }

    /// Links a billing account to an existing ConnectWise company, as a user does with the
    /// customer sync's `link` action.
    pub async fn link(&self, account_id: &str, company_id: i64) -> Value {
        self.customers
            .handle(
                json!({"action": "link", "tenant": TENANT, "accountId": account_id,
                       "companyId": company_id}),
                deadline(),
            )
            .await
            .unwrap()
    }

    /// The ConnectWise company the customer sync made for `account`.
    pub async fn company_of(&self, account: &str) -> i64 {
        let tenant = cwsync_store::TenantId::parse(TENANT).unwrap();
        let source = cwsync_store::links::SourceRef::new("company", account);
        let link = self.export.deps.stores.links.get(&tenant, source).await;
        link.unwrap().and_then(|l| l.cw_id).unwrap()
    }

    /// Merges `settings` into the tenant's stored settings (the defaults at first).
    pub async fn put_settings(&self, settings: Value) {
        let stored = self
            .customers
            .handle(
                json!({"action": "get-settings", "tenant": TENANT}),
                deadline(),
            )
            .await
            .unwrap();
        let version = stored["version"].as_u64();
        let mut document = match version {
            Some(_) => stored["settings"].clone(),
            None => serde_json::to_value(TenantSettings::default()).unwrap(),
        };
        merge(&mut document, settings);
        let mut event = json!({"action": "put-settings", "tenant": TENANT, "settings": document});
        if let Some(version) = version {
            event["expectedVersion"] = json!(version);
        }
        self.customers.handle(event, deadline()).await.unwrap();
    }

    /// Seeds products, subscriptions and users in the billing simulator.
    pub fn seed(
        &self,
        products: Vec<Product>,
        subscriptions: Vec<Subscription>,
        users: Vec<AccountUser>,
    ) {
        self.billing.seed_products(products);
        self.billing.seed_subscriptions(subscriptions);
        self.billing.seed_users(users);
    }

    pub fn records(&self, path: &str) -> Vec<Value> {
        self.cw.records(path)
    }

    /// Every addition of every agreement.
    pub fn additions(&self) -> Vec<Value> {
        self.records("/finance/agreements")
            .iter()
            .filter_map(|a| a["id"].as_i64())
            .flat_map(|id| self.records(&format!("/finance/agreements/{id}/additions")))
            .collect()
    }

    pub fn cw_writes(&self) -> u64 {
        self.cw.calls().writes()
    }
}

fn deadline() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(5)
}

impl World {
    /// A document run of `document` now (`extra` merged into the `export-documents` event),
    /// delivered to the end: the planning's answer and the run's report.
    pub async fn documents(&self, document: &str, extra: Value) -> (Value, Report) {
        let mut event =
            json!({"action": "export-documents", "tenant": TENANT, "document": document});
        merge(&mut event, extra);
        let planned = self.ok(event).await;
        self.deliver().await;
        let run_id = planned["runId"].as_str().unwrap().to_owned();
        (planned, self.documents_report(document, &run_id).await)
    }

    /// The log of document run `run_id`.
    pub async fn documents_report(&self, document: &str, run_id: &str) -> Report {
        Report(
            self.ok(json!({"action": "documents-report", "tenant": TENANT,
                           "document": document, "runId": run_id}))
                .await,
        )
    }
}
