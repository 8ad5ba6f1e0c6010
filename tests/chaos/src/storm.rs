//! The chaos world and its storm: tenants with their own simulators and keys, the real
//! `customer-sync` function on DynamoDB (moto, behind the throttling proxy), its jobs delivered
//! from an in-memory queue the way SQS misbehaves, and workers killed mid-flight.
//!
//! **Delivery.** Jobs are taken in waves of two concurrent invocations (two Lambda instances) of
//! up to ten messages each. Each wave's ready messages are shuffled (out of order); a message is
//! sometimes queued twice, sometimes held back (late), and sometimes also put in the other
//! invocation of the same wave (two workers on one job at once). A message the batch answer
//! names as failed comes back after a visibility delay with its receive count raised, and is
//! dead-lettered after [`MAX_RECEIVES`].
//!
//! **Kills.** When a simulator holds a request ([`FaultKind::Freeze`]), the invocations in flight
//! are dropped at their await points, as a crashed instance stops. What they had written is what
//! the simulators and DynamoDB hold; their messages come back after the invocation's deadline
//! (SQS's visibility timeout outlives the function's timeout), their idempotency locks expire at
//! that deadline and their pending link claims go stale after [`STALE_AFTER`] — the production
//! rules, with the durations shortened. A killed instance's memory dies with it: the function is
//! built anew (a cold start) after every kill.
//!
//! [`FaultKind::Freeze`]: cwsync_connectwise_sim::FaultKind::Freeze

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise_sim::{ApiMember, SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID};
use cwsync_customer_sync::{CustomerSync, FUNCTION};
use cwsync_daily_export::DailyExport;
use cwsync_queue::{Job, MemoryJobQueue};
use cwsync_runtime::{Config, Deps, StaticTenantSecrets, Stores};
use cwsync_store::dynamo::Table;
use cwsync_sync::deliver::{message_index, sqs_event};
use cwsync_sync::tenant::ConnectOptions;
use cwsync_test_support::function_url::FunctionUrl;
use cwsync_ticket_import::TicketImport;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::capture::{self, Sink};
use crate::dynamo_proxy::DynamoProxy;
use crate::faults::{self, CLIENT_TIMEOUT, Tally, kind};
use crate::world::{self, Shape, TenantData};
use crate::{documents, tickets};

/// Receives before a message goes to the dead-letter queue: production's `maxReceiveCount` (the
/// function's `MAX_RECEIVE_COUNT`, whose last delivery records why a job gives up).
pub const MAX_RECEIVES: u32 = cwsync_runtime::config::DEFAULT_MAX_RECEIVE_COUNT;
/// How long an invocation's idempotency locks last (its "deadline").
pub const INVOCATION: Duration = Duration::from_secs(4);
/// The tenants' `connectWise.requestsPerSecond` (see `set_up_jobs`).
const CHAOS_REQUESTS_PER_SECOND: u32 = 50;
/// When a failed message is delivered again: never before the invocation's deadline, as in
/// production (the template keeps each queue's visibility timeout at six times its function's
/// timeout), so a retry never meets the lock of the delivery it retries.
pub const VISIBILITY: Duration = INVOCATION;
/// When a killed worker's pending claim may be taken over: after any invocation's deadline, as in
/// production (claims go stale after five minutes, no function runs longer), so a live worker's
/// claim is never taken over.
pub const STALE_AFTER: Duration = Duration::from_millis(4_500);
/// How late a late message is.
const LATE: Duration = Duration::from_millis(150);
/// The share of DynamoDB requests throttled in the storm.
const DYNAMO_THROTTLE_RATE: f64 = 0.05;
/// Of the callbacks the users' work triggers before each ticket round, the first this many are
/// lost (the schedule must catch them) …
const CALLBACKS_LOST: usize = 3;
/// … and the next this many sent twice.
const CALLBACKS_TWICE: usize = 5;

/// One tenant: its data, simulators and keys.
#[derive(Debug)]
pub struct Tenant {
    /// What was generated for it.
    pub data: TenantData,
    /// Its ConnectWise.
    pub cw: Simulator,
    /// Its billing system.
    pub billing: BillingSim,
    /// Its secret values by name (for the leak scan).
    pub secrets: Vec<(String, String)>,
    /// Its ConnectWise member's public and private keys.
    pub keys: (String, String),
}

/// How one storm or clean delivery went.
#[derive(Debug, Default, Clone)]
pub struct Delivered {
    /// Invocations made (each up to ten messages).
    pub invocations: u64,
    /// Messages delivered (a redelivery counts again).
    pub messages: u64,
    /// Invocations killed.
    pub killed: u64,
    /// Invocations stopped at their deadline (counted in `killed` too).
    pub timed_out: u64,
    /// Job keys dead-lettered, each with why: killed on its last delivery (its failure unknown:
    /// the worker died), or answered as failed on it (another worker held the job's lock, or
    /// its failure could not be recorded).
    pub dead_letters: Vec<(Job, &'static str)>,
}

/// A dead letter whose last delivery was killed.
pub const KILLED_ON_LAST: &str = "killed on its last delivery";
/// A dead letter whose last delivery answered failed.
pub const FAILED_ON_LAST: &str = "failed on its last delivery";

/// The callbacks the tenants' ConnectWise sent to the ticket import's Function URL.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Callbacks {
    /// Deliveries sent (a callback sent twice counts twice).
    pub sent: u64,
    /// Of them, the receiver took (2xx, after ConnectWise's own retries).
    pub taken: u64,
    /// POSTs made for them (ConnectWise retries a non-2xx answer).
    pub posts: u64,
    /// Callbacks lost on purpose (never sent: the schedule must catch their tickets).
    pub lost: u64,
    /// Deliveries that repeated an earlier one, byte for byte.
    pub twice: u64,
}

/// The ticket import as deployed (with its callback receiver).
fn realtime_import(deps: &Arc<Deps>) -> anyhow::Result<TicketImport> {
    TicketImport::with_realtime(deps.clone(), options())
        .map_err(|e| anyhow::anyhow!("the ticket import's callback part: {e}"))
}

/// Which function an invocation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `customer-sync`.
    Customers,
    /// `daily-export`.
    Export,
    /// `ticket-import`.
    Tickets,
    /// `daily-export`'s billing documents (`export-documents`: invoices, then their payments).
    Documents,
}

impl Which {
    /// The console event asking for the report of run `run` of `tenant`.
    pub fn report(self, tenant: &str, run: &str) -> Value {
        match self {
            Which::Documents => json!({"action": "documents-report", "tenant": tenant,
                                       "document": documents::INVOICES, "runId": run}),
            _ => json!({"action": "report", "tenant": tenant, "runId": run}),
        }
    }
}

/// The world.
#[derive(Debug)]
pub struct Chaos {
    /// Its shape.
    pub shape: Shape,
    /// The tenants.
    pub tenants: Vec<Tenant>,
    /// The deps every instance of the function shares (stores, secrets, the queue).
    pub deps: Arc<Deps>,
    /// The customer sync's current instance (built anew after a kill).
    pub service: Arc<CustomerSync>,
    /// The daily export's current instance (built anew after a kill).
    pub export: Arc<DailyExport>,
    /// The ticket import's current instance (built anew after a kill), as deployed: it answers
    /// the ConnectWise callbacks its Function URL receives too.
    pub import: Arc<TicketImport>,
    /// The instance the Function URL hands callbacks to (the current one). Callback invocations
    /// are not killed: they verify a request and send one job.
    front: Arc<std::sync::Mutex<Arc<TicketImport>>>,
    /// The customer-sync queue.
    pub queue: Arc<MemoryJobQueue>,
    /// The export queue.
    pub export_queue: Arc<MemoryJobQueue>,
    /// The ticket queue.
    pub ticket_queue: Arc<MemoryJobQueue>,
    /// The DynamoDB proxy.
    pub proxy: DynamoProxy,
    /// Faults injected so far, by kind.
    pub tally: Tally,
    /// Every error the function answered (console refusals), for the leak scan.
    pub errors: Sink,
    /// Every run report and error ledger read, for the leak scan.
    pub reports: Sink,
    /// Every metric line written, for the leak scan.
    pub metrics: Sink,
    /// The runs started: (function, tenant, run id).
    pub runs: Vec<(Which, String, String)>,
    kill: watch::Sender<u64>,
    rng: StdRng,
}

/// The tests' short retries, with the storm's client timeout (a held request times out fast).
fn options() -> ConnectOptions {
    ConnectOptions {
        timeout: Some(CLIENT_TIMEOUT),
        ..cwsync_test_support::fast_options()
    }
}

fn key(rng: &mut StdRng, prefix: &str) -> String {
    let digits: String = (0..24)
        .map(|_| char::from(b"abcdefghijkmnpqrstuvwxyz23456789"[rng.random_range(0..32)]))
        .collect();
    format!("{prefix}{digits}")
}

impl Chaos {
    /// The world for `shape`: `None` when moto is not available outside CI (the harness says
    /// so loudly; under `CI=true` it panics instead).
    pub async fn start(shape: Shape) -> anyhow::Result<Option<Chaos>> {
        let Some(moto) = cwsync_aws_harness::moto() else {
            return Ok(None);
        };
        let errors = Sink::default();
        // Install the log capture before anything logs.
        let _ = capture::logs();
        let proxy = DynamoProxy::start(moto.endpoint(), DYNAMO_THROTTLE_RATE, shape.seed).await?;
        let sdk = moto.sdk_config().await;
        let retry = aws_sdk_dynamodb::config::retry::RetryConfig::standard()
            .with_max_attempts(5)
            .with_initial_backoff(Duration::from_millis(5))
            .with_max_backoff(Duration::from_millis(40));
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .endpoint_url(proxy.endpoint())
                .retry_config(retry)
                .build(),
        );
        let table_name = cwsync_aws_harness::unique_name("chaos");
        cwsync_store::dynamo::create_table(&client, &table_name).await?;
        let table = Table::new(client, table_name);

        let mut rng = StdRng::seed_from_u64(shape.seed);
        let front = FunctionUrl::bind().await;
        let mut tenants = Vec::new();
        let mut secrets = StaticTenantSecrets::new();
        for index in 0..shape.tenants {
            let data = world::tenant(&shape, index);
            let public = key(&mut rng, "pub");
            let private = key(&mut rng, "priv");
            let billing_key = key(&mut rng, "bill");
            let callback_secret = key(&mut rng, "cb");
            let member = ApiMember {
                public_key: public.clone(),
                private_key: private.clone(),
                ..ApiMember::test_member()
            };
            let cw = Simulator::start(SimOptions {
                members: vec![member],
                ..SimOptions::default()
            })
            .await?;
            let billing = BillingSim::start(BillingSimOptions {
                api_key: billing_key.clone(),
                ..BillingSimOptions::default()
            })
            .await?;
            billing.set_clock(world::T0);
            billing.seed_accounts(data.accounts.clone());
            cw.seed("/company/companies", data.existing_companies.clone())?;
            let secret = json!({
                "site": cw.base_url(),
                "companyId": TEST_COMPANY_ID,
                "publicKey": public,
                "privateKey": private,
                "clientId": TEST_CLIENT_ID,
                "billingUrl": billing.base_url().to_string(),
                "billingApiKey": billing_key,
                "callbackSecret": callback_secret,
            });
            secrets = secrets.with_secret_json(&data.tenant, &secret.to_string())?;
            let secret_values = vec![
                (
                    format!("{} ConnectWise private key", data.tenant),
                    private.clone(),
                ),
                (
                    format!("{} ConnectWise public key", data.tenant),
                    public.clone(),
                ),
                (format!("{} billing API key", data.tenant), billing_key),
                (format!("{} callback secret", data.tenant), callback_secret),
                (
                    format!("{} ConnectWise Basic authorization", data.tenant),
                    capture::basic_auth(TEST_COMPANY_ID, &public, &private),
                ),
            ];
            tenants.push(Tenant {
                data,
                cw,
                billing,
                secrets: secret_values,
                keys: (public, private),
            });
        }
        let queue = Arc::new(MemoryJobQueue::new());
        let mut config = Config::local();
        config.callback_url = Some(front.url().to_owned());
        let mut deps = Deps::local(FUNCTION, config, secrets);
        deps.stores =
            Stores::dynamo_with_stale_after(table, time::Duration::try_from(STALE_AFTER)?);
        deps.queues.customer = Some(queue.clone());
        let export_queue = Arc::new(MemoryJobQueue::new());
        deps.queues.export = Some(export_queue.clone());
        let ticket_queue = Arc::new(MemoryJobQueue::new());
        deps.queues.ticket = Some(ticket_queue.clone());
        let deps = Arc::new(deps);

        // One killer: any held request drops every invocation in flight.
        let (kill, _) = watch::channel(0u64);
        for tenant in &tenants {
            for frozen in [tenant.cw.frozen(), tenant.billing.frozen()] {
                let kill = kill.clone();
                tokio::spawn(async move {
                    loop {
                        frozen.notified().await;
                        kill.send_modify(|generation| *generation += 1);
                    }
                });
            }
        }
        let import = Arc::new(realtime_import(&deps)?);
        let target = Arc::new(std::sync::Mutex::new(import.clone()));
        let said = errors.clone();
        front.serve({
            let target = target.clone();
            move |payload| {
                let import = target
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let said = said.clone();
                async move {
                    let deadline = OffsetDateTime::now_utc() + INVOCATION;
                    let answer = match import.handle(payload, deadline).await {
                        Ok(answer) => answer,
                        Err(d) => json!({"statusCode": 500, "body": d.error_message}),
                    };
                    said.push(&answer.to_string());
                    answer
                }
            }
        });
        let mut chaos = Chaos {
            shape,
            service: Arc::new(CustomerSync::new(deps.clone(), options())),
            export: Arc::new(DailyExport::new(deps.clone(), options())),
            import,
            front: target,
            deps,
            tenants,
            queue,
            export_queue,
            ticket_queue,
            proxy,
            tally: Tally::default(),
            errors,
            reports: Sink::default(),
            metrics: Sink::default(),
            runs: Vec::new(),
            kill,
            rng: StdRng::seed_from_u64(shape.seed.rotate_left(17)),
        };
        chaos.set_up_jobs().await?;
        Ok(Some(chaos))
    }

    /// Each tenant's products, subscriptions, billing reference data for tickets, and its export
    /// and ticket-import settings (before any fault).
    async fn set_up_jobs(&mut self) -> anyhow::Result<()> {
        let mut settings =
            serde_json::to_value(cwsync_mapping::settings::TenantSettings::default())?;
        cwsync_test_support::merge(&mut settings, cwsync_billing_sim::fixture_export_settings());
        cwsync_test_support::merge(&mut settings, tickets::settings());
        cwsync_test_support::merge(&mut settings, documents::settings());
        // The storm is about convergence, not politeness: at the default 10 requests/s, paced
        // (`RateLimit::paced`: a burst of one), the clean customer runs failed to be planned
        // within `INVOCATION` in a CI run. The tenants' clients are paced as in production, at 50/s.
        cwsync_test_support::merge(
            &mut settings,
            json!({"connectWise": {"requestsPerSecond": CHAOS_REQUESTS_PER_SECOND}}),
        );
        for index in 0..self.tenants.len() {
            let tenant = &self.tenants[index];
            tickets::seed_billing(&tenant.billing);
            documents::seed(&tenant.billing, &tenant.data);
            tenant.billing.seed_products(world::products());
            tenant
                .billing
                .seed_subscriptions(world::subscriptions(&tenant.data));
            let name = tenant.data.tenant.clone();
            let event = json!({"action": "put-settings", "tenant": name, "settings": settings});
            self.console(Which::Customers, event)
                .await
                .map_err(|e| anyhow::anyhow!("storing the export settings: {e}"))?;
            self.console(
                Which::Tickets,
                json!({"action": "register-callbacks", "tenant": name}),
            )
            .await
            .map_err(|e| anyhow::anyhow!("registering the callbacks: {e}"))?;
            // ConnectWise's keys for signing them are secrets too.
            let tenant = &mut self.tenants[index];
            for callback in tenant.cw.records("/system/callbacks") {
                if let Some(id) = callback["id"].as_i64() {
                    tenant.secrets.push((
                        format!("{} callback signing key {id}", tenant.data.tenant),
                        tenant.cw.callback_signing_key(id),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A fresh instance of the function (a cold start after a crash).
    fn restart(&mut self) {
        self.service = Arc::new(CustomerSync::new(self.deps.clone(), options()));
        self.export = Arc::new(DailyExport::new(self.deps.clone(), options()));
        // The same build succeeded at the start; it fails only when the HTTP client's TLS can't
        // be set up, which does not change between cold starts.
        if let Ok(import) = realtime_import(&self.deps) {
            self.import = Arc::new(import);
            *self
                .front
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = self.import.clone();
        }
    }

    /// The queue of `which`.
    fn queue_of(&self, which: Which) -> Arc<MemoryJobQueue> {
        match which {
            Which::Customers => self.queue.clone(),
            Which::Export | Which::Documents => self.export_queue.clone(),
            Which::Tickets => self.ticket_queue.clone(),
        }
    }

    /// One invocation of `which` with `payload` (an SQS batch or a console event).
    fn invoke(
        &self,
        which: Which,
        payload: Value,
        deadline: OffsetDateTime,
    ) -> impl std::future::Future<Output = Result<Value, lambda_runtime::Diagnostic>> + 'static
    {
        let customers = self.service.clone();
        let export = self.export.clone();
        let import = self.import.clone();
        async move {
            match which {
                Which::Customers => Box::pin(customers.handle(payload, deadline)).await,
                Which::Export | Which::Documents => {
                    Box::pin(export.handle(payload, deadline)).await
                }
                Which::Tickets => Box::pin(import.handle(payload, deadline)).await,
            }
        }
    }

    /// Every secret value of every tenant, by name.
    pub fn secrets(&self) -> Vec<(String, String)> {
        self.tenants
            .iter()
            .flat_map(|t| t.secrets.iter().cloned())
            .collect()
    }

    /// The storm: `shape.rounds` rounds of changes, tenant-wide syncs and chaotic delivery
    /// under every fault, for the customer sync, then the daily export, then the ticket import;
    /// what it delivered.
    pub async fn storm(&mut self) -> anyhow::Result<Delivered> {
        let mut total = Delivered::default();
        self.proxy.storm(true);
        let throttled_before = self.proxy.throttled();
        // The customer sync's rounds, then the daily export's and the ticket import's (on the
        // companies the storm made).
        let per_job = self.shape.rounds;
        let rounds = [
            Which::Customers,
            Which::Export,
            Which::Documents,
            Which::Tickets,
        ]
        .into_iter()
        .flat_map(|which| (0..per_job).map(move |r| (which, r)));
        for (which, round) in rounds {
            match which {
                Which::Customers if round > 0 => self.change(round),
                Which::Export if round > 0 => self.change_quantities(round),
                Which::Documents if round > 0 => {
                    for (index, tenant) in self.tenants.iter().enumerate() {
                        documents::change(&tenant.billing, &self.shape, index, round);
                    }
                }
                Which::Tickets => self.work_on_tickets(round).await?,
                _ => {}
            }
            let injected: Vec<faults::Injected> = self
                .tenants
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    faults::inject(
                        &t.cw,
                        &t.billing,
                        self.shape.seed
                            ^ ((round as u64) << 40)
                            ^ ((i as u64) << 20)
                            ^ (which as u64) << 50,
                    )
                })
                .collect();
            for index in 0..self.tenants.len() {
                self.plan(which, index, 8).await;
            }
            let delivered = self.deliver_chaotically(which).await;
            total.invocations += delivered.invocations;
            total.messages += delivered.messages;
            total.killed += delivered.killed;
            total.timed_out += delivered.timed_out;
            total.dead_letters.extend(delivered.dead_letters);
            for (tenant, injected) in self.tenants.iter().zip(&injected) {
                let fired = faults::collect(injected, &tenant.cw, &tenant.billing);
                self.tally.merge(&fired);
            }
        }
        self.proxy.storm(false);
        self.tally.add(
            kind::DYNAMO_THROTTLE,
            self.proxy.throttled() - throttled_before,
        );
        let callbacks = self.callbacks();
        self.tally.add(kind::CALLBACK_LOST, callbacks.lost);
        self.tally.add(kind::CALLBACK_TWICE, callbacks.twice);
        Ok(total)
    }

    /// What ConnectWise users do to the tickets before ticket `round` (round 0 opens them).
    /// Of the callbacks that work triggers, the first [`CALLBACKS_LOST`] are lost and the next
    /// [`CALLBACKS_TWICE`] sent twice.
    async fn work_on_tickets(&mut self, round: usize) -> anyhow::Result<()> {
        for (index, tenant) in self.tenants.iter().enumerate() {
            tenant.cw.drop_next_callbacks(CALLBACKS_LOST);
            tenant.cw.duplicate_next_callbacks(CALLBACKS_TWICE);
            let desk = tickets::Desk::open(tenant).await?;
            if round == 0 {
                desk.open_tickets(&self.shape, index).await?;
            } else {
                desk.work(&self.shape, index, round).await?;
            }
            tenant.cw.drop_next_callbacks(0);
            tenant.cw.duplicate_next_callbacks(0);
        }
        Ok(())
    }

    /// The callbacks the tenants' ConnectWise sent (see [`Callbacks`]).
    pub fn callbacks(&self) -> Callbacks {
        let mut callbacks = Callbacks::default();
        for tenant in &self.tenants {
            let log = tenant.cw.callback_deliveries();
            let mut bodies = std::collections::HashSet::new();
            for delivery in &log {
                if delivery.dropped {
                    callbacks.lost += 1;
                    continue;
                }
                callbacks.sent += 1;
                if !bodies.insert(delivery.body.clone()) {
                    callbacks.twice += 1;
                }
                if delivery.delivered() {
                    callbacks.taken += 1;
                }
                callbacks.posts += u64::from(delivery.attempts);
            }
        }
        callbacks
    }

    /// The subscription quantities the billing users change before export `round`.
    fn change_quantities(&mut self, round: usize) {
        for (index, tenant) in self.tenants.iter().enumerate() {
            let ids: Vec<String> = world::subscriptions(&tenant.data)
                .into_iter()
                .map(|s| s.id)
                .collect();
            for (id, quantity) in world::quantity_changes(&self.shape, index, round, &ids) {
                tenant.billing.modify_subscription(&id, |s| {
                    s.quantity = rust_decimal::Decimal::from(quantity);
                });
            }
        }
    }

    /// The billing users' changes before `round`.
    fn change(&mut self, round: usize) {
        for (index, tenant) in self.tenants.iter().enumerate() {
            let ids: Vec<String> = tenant.data.accounts.iter().map(|a| a.id.clone()).collect();
            for (id, change) in world::changes(&self.shape, index, round, &ids) {
                tenant
                    .billing
                    .modify_account(&id, |a| world::apply(a, change, round, index));
            }
        }
    }

    /// Runs a console event as one invocation that may be killed; its answer, or why not.
    async fn console(&mut self, which: Which, event: Value) -> Result<Value, String> {
        let mut killed = self.kill.subscribe();
        let deadline = OffsetDateTime::now_utc() + INVOCATION;
        let invocation = self.invoke(which, event, deadline);
        let timeout = tokio::time::Instant::now() + INVOCATION;
        let answer = tokio::select! {
            biased;
            _ = killed.changed() => None,
            () = tokio::time::sleep_until(timeout) => None,
            answer = invocation => Some(answer),
        };
        self.flush_metrics();
        match answer {
            None => {
                self.restart();
                Err("killed".to_owned())
            }
            Some(Ok(answer)) => Ok(answer),
            Some(Err(d)) => {
                let text = format!("{}: {}", d.error_type, d.error_message);
                self.errors.push(&text);
                Err(text)
            }
        }
    }

    /// Plans a run of `which` for tenant `index` (a tenant-wide sync, or an export now), retried
    /// as EventBridge and a user would (`attempts` times); the run id when it was planned.
    pub async fn plan(&mut self, which: Which, index: usize, attempts: usize) -> Option<String> {
        let tenant = self.tenants[index].data.tenant.clone();
        let event = match which {
            Which::Customers => json!({"action": "sync-tenant", "tenant": tenant}),
            Which::Export => json!({"action": "export-now", "tenant": tenant}),
            Which::Tickets => json!({"action": "import-now", "tenant": tenant}),
            Which::Documents => json!({"action": "export-documents", "tenant": tenant,
                                       "document": documents::INVOICES}),
        };
        for _ in 0..attempts {
            let event = event.clone();
            if let Ok(answer) = self.console(which, event).await
                && let Some(run) = answer["runId"].as_str()
            {
                self.runs.push((which, tenant.clone(), run.to_owned()));
                return Some(run.to_owned());
            }
        }
        None
    }

    fn flush_metrics(&self) {
        let mut sink = self.metrics.clone();
        // A metrics failure is no finding of the chaos suite; the scan covers what was written.
        let _ = self
            .deps
            .metrics
            .flush_to(&mut sink, Some("chaos"), SystemTime::now());
    }

    /// Delivers the queue as SQS misbehaves, killing invocations whose requests are held,
    /// until no message is left (done or dead-lettered).
    async fn deliver_chaotically(&mut self, which: Which) -> Delivered {
        let queue = self.queue_of(which);
        struct Pending {
            job: Job,
            receives: u32,
            ready: Instant,
        }
        let mut delivered = Delivered::default();
        let mut pending: Vec<Pending> = Vec::new();
        loop {
            let now = Instant::now();
            for job in queue.drain() {
                let late = self.rng.random_bool(0.1);
                if late {
                    self.tally.add(kind::SQS_LATE, 1);
                }
                let ready = if late { now + LATE } else { now };
                if self.rng.random_bool(0.1) {
                    self.tally.add(kind::SQS_TWICE, 1);
                    pending.push(Pending {
                        job: job.clone(),
                        receives: 1,
                        ready: now + LATE / 2,
                    });
                }
                pending.push(Pending {
                    job,
                    receives: 1,
                    ready,
                });
            }
            if pending.is_empty() {
                return delivered;
            }
            let (mut ready, waiting): (Vec<Pending>, Vec<Pending>) =
                pending.into_iter().partition(|p| p.ready <= now);
            pending = waiting;
            if ready.is_empty() {
                let next = pending.iter().map(|p| p.ready).min().unwrap_or(now);
                tokio::time::sleep_until(next.into()).await;
                continue;
            }
            if ready.len() > 1 {
                ready.shuffle(&mut self.rng);
                self.tally.add(kind::SQS_REORDERED, 1);
            }
            // Mostly one instance at a time; sometimes two at once (a kill drops both).
            let width = if self.rng.random_bool(0.35) { 20 } else { 10 };
            let rest = ready.split_off(ready.len().min(width));
            pending.extend(rest);
            let second = ready.split_off(ready.len().min(10));
            let mut batches: Vec<Vec<(Job, u32)>> = vec![
                ready.into_iter().map(|p| (p.job, p.receives)).collect(),
                second.into_iter().map(|p| (p.job, p.receives)).collect(),
            ];
            // Two workers on one job: a message of the first invocation also in the second.
            let twins: Vec<(Job, u32)> = batches[0]
                .iter()
                .filter(|_| self.rng.random_bool(0.05))
                .cloned()
                .collect();
            for twin in twins {
                if batches[1].len() < 10 {
                    self.tally.add(kind::TWO_WORKERS, 1);
                    batches[1].push(twin);
                }
            }
            batches.retain(|b| !b.is_empty());
            let deadline = OffsetDateTime::now_utc() + INVOCATION;
            let mut killed = self.kill.subscribe();
            let invocations: Vec<_> = batches
                .iter()
                .map(|batch| {
                    let event = sqs_event(batch);
                    let ids = message_ids(&event);
                    let payload = serde_json::to_value(event).unwrap_or_default();
                    let invocation = self.invoke(which, payload, deadline);
                    async move { batch_response(invocation.await, ids) }
                })
                .collect();
            // Lambda stops an invocation at its deadline: a timed-out invocation is a killed one.
            let timeout = tokio::time::Instant::now() + INVOCATION;
            let answers: Option<Vec<SqsBatchResponse>> = tokio::select! {
                biased;
                _ = killed.changed() => None,
                () = tokio::time::sleep_until(timeout) => {
                    delivered.timed_out += 1;
                    None
                }
                answers = futures::future::join_all(invocations) => Some(answers),
            };
            self.flush_metrics();
            if answers.is_none() {
                delivered.killed += 1;
            }
            delivered.invocations += batches.len() as u64;
            delivered.messages += batches.iter().map(|b| b.len() as u64).sum::<u64>();
            let after = Instant::now();
            let mut again =
                |job: Job, receives: u32, ready: Instant, why, pending: &mut Vec<Pending>| {
                    if receives >= MAX_RECEIVES {
                        delivered.dead_letters.push((job, why));
                    } else {
                        pending.push(Pending {
                            job,
                            receives: receives + 1,
                            ready,
                        });
                    }
                };
            match answers {
                None => {
                    // Every message comes back once the invocation's deadline (and its locks)
                    // has passed, as SQS's visibility timeout outlives the function's.
                    let back = after + INVOCATION + Duration::from_millis(10);
                    for batch in batches {
                        for (job, receives) in batch {
                            again(job, receives, back, KILLED_ON_LAST, &mut pending);
                        }
                    }
                    self.restart();
                }
                Some(answers) => {
                    for (batch, answer) in batches.into_iter().zip(answers) {
                        for failure in answer.batch_item_failures {
                            let index = message_index(&failure.item_identifier);
                            if let Some((job, receives)) = index.and_then(|i| batch.get(i)) {
                                again(
                                    job.clone(),
                                    *receives,
                                    after + VISIBILITY,
                                    FAILED_ON_LAST,
                                    &mut pending,
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Plans every tenant's run of `which` and delivers it plainly (no fault, no disorder), as
    /// after the storm.
    pub async fn clean_run(
        &mut self,
        which: Which,
    ) -> (Vec<Option<String>>, cwsync_sync::deliver::Delivery) {
        let mut runs = Vec::new();
        for index in 0..self.tenants.len() {
            runs.push(self.plan(which, index, 1).await);
        }
        let queue = self.queue_of(which);
        let delivery = cwsync_sync::deliver::deliver_all(
            &queue,
            MAX_RECEIVES,
            |event, deadline| {
                let ids = message_ids(&event);
                let payload = serde_json::to_value(event).unwrap_or_default();
                let invocation = self.invoke(which, payload, deadline);
                async move { batch_response(invocation.await, ids) }
            },
            |_| {},
        )
        .await;
        self.flush_metrics();
        (runs, delivery)
    }

    /// Whether `job` is the ticket import's.
    pub fn is_ticket_job(&self, job: &Job) -> bool {
        matches!(
            job.kind(),
            cwsync_queue::JobKind::TicketImportTicket
                | cwsync_queue::JobKind::TicketImportTenant
                | cwsync_queue::JobKind::TicketMoveTenant
        )
    }

    /// Whether `job` imports one ticket that is on its tenant's error report: the report the
    /// ticket import's planning reads (`errorAttempts` the default here).
    pub async fn ledger_remembers_ticket(&self, job: &Job) -> anyhow::Result<bool> {
        if job.kind() != cwsync_queue::JobKind::TicketImportTicket {
            return Ok(false);
        }
        let Some(ticket) = job.payload()["ticketId"].as_i64() else {
            return Ok(false);
        };
        let tenant = cwsync_store::TenantId::parse(job.tenant())?;
        let report = self
            .deps
            .stores
            .ledger
            .report(
                &tenant,
                cwsync_mapping::settings::DEFAULT_ERROR_ATTEMPTS,
                time::OffsetDateTime::now_utc(),
            )
            .await?;
        let id = ticket.to_string();
        Ok(report
            .iter()
            .any(|e| e.kind == cwsync_mapping::tickets::entity::TICKET && e.record_id == id))
    }

    /// Waits until every claim a killed worker left has gone stale.
    pub async fn let_leases_expire(&self) {
        tokio::time::sleep(STALE_AFTER + Duration::from_millis(100)).await;
    }

    /// A console action's answer (outside the storm), recorded for the leak scan.
    pub async fn ask(&mut self, which: Which, event: Value) -> Result<Value, String> {
        let answer = self.console(which, event).await;
        if let Ok(answer) = &answer {
            self.reports.push(&answer.to_string());
        }
        answer
    }
}

/// The batch answer of an SQS invocation (`batchItemFailures`); an error answer fails the whole
/// batch, as Lambda treats a failed invocation.
fn batch_response(
    answer: Result<Value, lambda_runtime::Diagnostic>,
    ids: Vec<String>,
) -> SqsBatchResponse {
    answer
        .ok()
        .and_then(|value| serde_json::from_value(value).ok())
        .unwrap_or_else(|| {
            let mut all = SqsBatchResponse::default();
            for id in ids {
                all.add_failure(id);
            }
            all
        })
}

/// The message ids of `event`.
fn message_ids(event: &SqsEvent) -> Vec<String> {
    event
        .records
        .iter()
        .filter_map(|r| r.message_id.clone())
        .collect()
}
