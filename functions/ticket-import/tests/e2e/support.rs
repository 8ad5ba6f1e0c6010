//! One world per test: both simulators (the billing one with its fixture: accounts, technicians,
//! contracts, items, product types), the customer sync run once so the accounts have companies,
//! the ticket import over their shared stores, and the ticket queue delivered like SQS.
//!
//! Tickets, time entries, catalog items and products are made through the ConnectWise
//! simulator's API as a ConnectWise user makes them.

use std::sync::Arc;

use cwsync_billing::models::ServiceCall;
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise::Client;
use cwsync_connectwise_sim::{SimOptions, Simulator};
use cwsync_customer_sync::CustomerSync;
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::Config;
use cwsync_test_support::{
    Report, answer, cw_client, deliver_checked, deliver_twice, fast_options, put_settings_event,
    sim_deps, stores,
};
use cwsync_ticket_import::{FUNCTION, TicketImport};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const TENANT: &str = "acme";
pub const T0: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);
/// The import status of these tests (the simulator's board has New, In Progress and Closed).
pub const FINISHED: &str = "Closed";
/// A SKU the billing fixture has (item `I-TONER-BK`).
pub const TONER: &str = "TONER-DXC5850-BK";
/// A SKU the billing fixture lacks.
pub const MYSTERY: &str = "MYSTERY-PART-9";

pub struct World {
    pub cw: Simulator,
    pub billing: BillingSim,
    pub customers: Arc<CustomerSync>,
    pub import: Arc<TicketImport>,
    pub customer_queue: Arc<MemoryJobQueue>,
    pub ticket_queue: Arc<MemoryJobQueue>,
    /// A ConnectWise user's client (what hand edits go through).
    pub user: Client,
}

impl World {
    /// Simulators with the billing fixture, the customer sync run once, the ticket-import
    /// settings stored (statuses `Closed`; ConnectWise `Non-Inventory` products are `Hardware`).
    pub async fn start() -> World {
        World::start_with(Config::local(), false).await
    }

    /// The same with `config`, and `realtime`: the import as deployed, answering ConnectWise
    /// callbacks ([`TicketImport::with_realtime`]).
    pub async fn start_with(config: Config, realtime: bool) -> World {
        let cw = Simulator::start(SimOptions::default()).await.unwrap();
        cw.set_clock(T0);
        let billing = BillingSim::start(BillingSimOptions::with_fixture())
            .await
            .unwrap();
        billing.set_clock(T0);
        let (mut deps, customer_queue) = sim_deps(FUNCTION, config, TENANT, &cw, &billing);
        deps.stores = stores("ticket-import").await;
        let ticket_queue = Arc::new(MemoryJobQueue::new());
        deps.queues.ticket = Some(ticket_queue.clone());
        let deps = Arc::new(deps);
        let user = cw_client(&cw).await;
        let world = World {
            customers: Arc::new(CustomerSync::new(Arc::clone(&deps), fast_options())),
            import: Arc::new(if realtime {
                TicketImport::with_realtime(deps, fast_options()).unwrap()
            } else {
                TicketImport::new(deps, fast_options())
            }),
            cw,
            billing,
            customer_queue,
            ticket_queue,
            user,
        };
        world
            .put_settings(json!({
                "ticketImport": {
                    "statuses": [FINISHED],
                    "productTypes": {"Non-Inventory": "Hardware"},
                },
            }))
            .await;
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
        self.import.handle(event, deadline()).await
    }

    pub async fn ok(&self, event: Value) -> Value {
        answer(&event, self.event(event.clone()).await)
    }

    /// Delivers every job in `queue` to the import, asserting none is left for the DLQ.
    pub async fn deliver_from(&self, queue: &MemoryJobQueue) -> u64 {
        deliver_checked(queue, |event, deadline| {
            let import = Arc::clone(&self.import);
            async move { import.handle_jobs(event, deadline).await }
        })
        .await
    }

    /// Delivers every queued ticket job.
    pub async fn deliver(&self) -> u64 {
        self.deliver_from(&self.ticket_queue).await
    }

    /// Delivers every queued job twice, as SQS may, until no job is left.
    pub async fn deliver_twice(&self) -> u64 {
        deliver_twice(&self.ticket_queue, |twice| async move {
            self.deliver_from(&twice).await
        })
        .await
    }

    /// An import of the tenant now, delivered to the end: the planning's answer and the run's
    /// report.
    pub async fn import_now(&self) -> (Value, Report) {
        let planned = self
            .ok(json!({"action": "import-now", "tenant": TENANT}))
            .await;
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

    /// The tenant's error report.
    pub async fn errors(&self) -> Vec<Value> {
        self.ok(json!({"action": "errors", "tenant": TENANT})).await["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The error report's entry of ticket `ticket` (panics naming the report when it is not on
    /// it).
    pub async fn error_of(&self, ticket: i64) -> Value {
        let id = ticket.to_string();
        let errors = self.errors().await;
        errors
            .iter()
            .find(|e| e["recordId"].as_str() == Some(id.as_str()))
            .cloned()
            .unwrap_or_else(|| panic!("ticket {id} is not on the error report: {errors:?}"))
    }

    /// The tickets on the error report (the customer sync's fixture leaves an account there).
    pub async fn tickets_on_report(&self) -> Vec<Value> {
        let mut errors = self.errors().await;
        errors.retain(|e| e["entity"] == "ticket");
        errors
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
        let event = put_settings_event(TENANT, &stored, settings);
        self.customers.handle(event, deadline()).await.unwrap();
    }

    /// The ConnectWise company the customer sync made for billing account `account_id`.
    pub fn company_of(&self, account_id: &str) -> i64 {
        cwsync_test_support::company_of(&self.cw, &self.billing, account_id)
    }

    /// A ConnectWise member `identifier` with office e-mail `email`.
    pub fn member(&self, identifier: &str, email: &str) {
        self.cw
            .seed(
                "/system/members",
                vec![json!({"identifier": identifier, "firstName": identifier,
                            "lastName": "Member", "officeEmail": email, "inactiveFlag": false,
                            "defaultEmail": "Office", "defaultPhone": "Office",
                            "hireDate": "2024-01-01T00:00:00Z", "licenseClass": "F",
                            "securityRole": {"id": 2}})],
            )
            .unwrap();
    }

    /// A ticket of `company` in `status`, made by a ConnectWise user.
    pub async fn ticket(&self, company: i64, summary: &str, status: &str) -> i64 {
        let created: Value = self
            .user
            .create(
                "/service/tickets",
                &json!({"summary": summary, "company": {"id": company},
                        "board": {"id": 1}, "status": {"name": status}}),
            )
            .await
            .unwrap();
        created["id"].as_i64().unwrap()
    }

    /// A finished ticket of billing account `account_id`'s company with an hour of `jdoe`'s time.
    pub async fn finished(&self, account_id: &str, summary: &str) -> i64 {
        let ticket = self
            .ticket(self.company_of(account_id), summary, FINISHED)
            .await;
        self.time(ticket, "jdoe", 1, None).await;
        ticket
    }

    /// Moves ticket `id` to `status` (as a user finishing it does).
    pub async fn set_status(&self, id: i64, status: &str) {
        let _: Value = self
            .user
            .patch(
                &format!("/service/tickets/{id}"),
                &[cwsync_connectwise::PatchOp::replace(
                    "status",
                    json!({"name": status}),
                )],
            )
            .await
            .unwrap();
    }

    /// Changes ticket `id`'s company.
    pub async fn set_company(&self, id: i64, company: i64) {
        let _: Value = self
            .user
            .patch(
                &format!("/service/tickets/{id}"),
                &[cwsync_connectwise::PatchOp::replace(
                    "company",
                    json!({"id": company}),
                )],
            )
            .await
            .unwrap();
    }

    /// `hours` of time on ticket `ticket` by `member` (optionally on `agreement`).
    pub async fn time(&self, ticket: i64, member: &str, hours: i64, agreement: Option<i64>) -> i64 {
        let start = self.cw.now();
        let mut body = json!({
            "chargeToType": "ServiceTicket", "chargeToId": ticket,
            "member": {"identifier": member},
            "timeStart": rfc3339(start),
            "timeEnd": rfc3339(start + time::Duration::hours(hours)),
            "notes": format!("{hours} hours of work"),
        });
        if let Some(agreement) = agreement {
            body["agreement"] = json!({"id": agreement});
        }
        let created: Value = self.user.create("/time/entries", &body).await.unwrap();
        created["id"].as_i64().unwrap()
    }

    /// A catalog item with `sku` of ConnectWise product type Non-Inventory.
    pub async fn catalog_item(&self, sku: &str) -> i64 {
        let subcategory = self.cw.records("/procurement/subcategories")[0].clone();
        let created: Value = self
            .user
            .create(
                "/procurement/catalog",
                &json!({"identifier": sku, "description": format!("{sku} description"),
                        "customerDescription": sku,
                        "subcategory": {"id": subcategory["id"]},
                        "category": subcategory["category"],
                        "type": {"name": "Non-Inventory"}}),
            )
            .await
            .unwrap();
        created["id"].as_i64().unwrap()
    }

    /// `quantity` of catalog item `item` sold on ticket `ticket`.
    pub async fn product(&self, ticket: i64, item: i64, quantity: i64) -> i64 {
        self.product_on(ticket, item, quantity, None).await
    }

    /// [`World::product`] on `agreement`.
    pub async fn product_on(
        &self,
        ticket: i64,
        item: i64,
        quantity: i64,
        agreement: Option<i64>,
    ) -> i64 {
        let mut body = json!({"catalogItem": {"id": item}, "quantity": quantity,
                              "ticket": {"id": ticket}, "description": "part used",
                              "billableOption": "Billable"});
        if let Some(agreement) = agreement {
            body["agreement"] = json!({"id": agreement});
        }
        let created: Value = self
            .user
            .create("/procurement/products", &body)
            .await
            .unwrap();
        created["id"].as_i64().unwrap()
    }

    /// The billing service call of ticket `id`, if any.
    pub fn call_of(&self, id: i64) -> Option<ServiceCall> {
        let reference = format!("cw:ticket:{id}");
        self.billing
            .service_calls()
            .into_iter()
            .find(|c| c.external_reference.as_deref() == Some(reference.as_str()))
    }

    /// The billing calls made from tickets.
    pub fn imported_calls(&self) -> Vec<ServiceCall> {
        self.billing
            .service_calls()
            .into_iter()
            .filter(|c| {
                c.external_reference
                    .as_deref()
                    .is_some_and(|r| r.starts_with("cw:ticket:"))
            })
            .collect()
    }

    /// Service-call writes the billing simulator received (creates, updates, holds).
    pub fn billing_call_writes(&self) -> u64 {
        self.billing
            .calls()
            .by_route
            .iter()
            .filter(|(route, _)| {
                (route.starts_with("POST ") || route.starts_with("PUT "))
                    && route.contains("service-calls")
            })
            .map(|(_, n)| n)
            .sum()
    }
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

pub fn deadline() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(5)
}
