//! The bad-input corpus (issue 12 §2): malformed and hostile input fed to every function through
//! its real code path, over real HTTP against the simulators, with the state on moto (in memory
//! when moto is not installed, outside CI).
//!
//! Every case is a file under `corpus/<category>/` (see the crate's README for the format); this
//! library reads them ([`cases`]), builds the world they run in ([`World`]: both simulators, the
//! three functions over one set of stores and in-memory queues delivered like SQS) and holds the
//! helpers the category tests share. The tests in `tests/` run the cases and assert each one's
//! expectation; the corpus' claimed counts (`corpus/counts.json`) are asserted too, so a lost file
//! fails the suite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use cwsync_billing_sim::{BillingSim, BillingSimOptions, fixture_export_settings};
use cwsync_connectwise_sim::{
    FinishedTickets, SimOptions, Simulator, TicketFixtureLinks, seed_finished_tickets,
};
use cwsync_customer_sync::CustomerSync;
use cwsync_daily_export::DailyExport;
use cwsync_queue::{JobQueue, MemoryJobQueue};
use cwsync_runtime::Config;
use cwsync_test_support::{Report, fast_options, put_settings_event, sim_deps, stores};
use cwsync_ticket_import::TicketImport;
use futures::FutureExt;
use lambda_runtime::Diagnostic;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// The tenant every world holds (its secret points at the world's simulators).
pub const TENANT: &str = "acme";
/// The simulators' clock.
pub const T0: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);
/// The functions the corpus feeds.
pub const FUNCTIONS: [&str; 3] = ["customer-sync", "daily-export", "ticket-import"];

/// `corpus/`.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// One case file: its name (relative to `corpus/`), the directory it lives in (for its raw
/// siblings) and its JSON.
#[derive(Debug, Clone)]
pub struct Case {
    /// `category/file.json`.
    pub name: String,
    /// Its folder.
    pub dir: PathBuf,
    /// The parsed file.
    pub json: Value,
}

impl Case {
    /// The case as the category's own shape; a malformed case file is the corpus' bug.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.json.clone())
            .unwrap_or_else(|e| panic!("{}: not a valid case file: {e}", self.name))
    }

    /// The bytes of a raw sibling file named in the case.
    pub fn raw(&self, file: &str) -> Vec<u8> {
        let path = self.dir.join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {}: {e}", self.name, path.display()))
    }
}

/// Every case of `category` (the `.json` files of `corpus/<category>/`, recursively), in name
/// order.
pub fn cases(category: &str) -> Vec<Case> {
    let mut found = Vec::new();
    collect(&corpus_dir().join(category), category, &mut found);
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<Case>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            collect(&path, &format!("{prefix}/{file}"), out);
        } else if file.ends_with(".json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{prefix}/{file}: not JSON: {e}"));
            out.push(Case {
                name: format!("{prefix}/{file}"),
                dir: dir.to_owned(),
                json,
            });
        }
    }
}

/// The counts each category claims (`corpus/counts.json`).
pub fn claimed_counts() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(corpus_dir().join("counts.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A large value made at test time from a small spec (so the corpus commits no megabytes):
/// `prefix`, then `repeat` `times` times, then `suffix`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// Where it goes: a JSON pointer into the case's input (for JSON input); absent for a raw
    /// body.
    #[serde(default)]
    pub at: Option<String>,
    /// Text before the repetition.
    #[serde(default)]
    pub prefix: String,
    /// The repeated text.
    pub repeat: String,
    /// How many times.
    pub times: usize,
    /// Text after the repetition.
    #[serde(default)]
    pub suffix: String,
}

impl Generate {
    /// The generated text.
    pub fn text(&self) -> String {
        format!(
            "{}{}{}",
            self.prefix,
            self.repeat.repeat(self.times),
            self.suffix
        )
    }

    /// Sets the generated string at `at` in `input` (a raw spec without `at` is left alone).
    pub fn apply(&self, input: &mut Value) {
        let Some(at) = &self.at else {
            return;
        };
        let slot = input
            .pointer_mut(at)
            .unwrap_or_else(|| panic!("generate: no {at} in the input"));
        *slot = Value::String(self.text());
    }
}

/// What a case expects of a console call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectError {
    /// The diagnostic's type, when it matters.
    #[serde(default)]
    pub error_type: Option<String>,
    /// Words the message must hold (each case-sensitive): the field, the record.
    pub contains: Vec<String>,
}

/// Checks `result` against `expect`: an error of the type holding every word; a panic or a
/// success is a failure. `None` when it holds, else what went wrong.
pub fn check_error(result: &Result<Value, Diagnostic>, expect: &ExpectError) -> Option<String> {
    match result {
        Ok(answer) => Some(format!(
            "expected an error, got {}",
            short(&answer.to_string())
        )),
        Err(d) => {
            if let Some(kind) = &expect.error_type
                && &d.error_type != kind
            {
                return Some(format!(
                    "error type {} (expected {kind}): {}",
                    d.error_type,
                    short(&d.error_message)
                ));
            }
            let missing: Vec<&String> = expect
                .contains
                .iter()
                .filter(|w| !d.error_message.contains(w.as_str()))
                .collect();
            if !missing.is_empty() {
                return Some(format!(
                    "message lacks {missing:?}: {}",
                    short(&d.error_message)
                ));
            }
            if d.error_message.len() > 4096 {
                return Some(format!(
                    "message of {} bytes echoes the input: {}",
                    d.error_message.len(),
                    short(&d.error_message)
                ));
            }
            None
        }
    }
}

/// At most 300 characters of `text`, for failure messages.
pub fn short(text: &str) -> String {
    if text.chars().count() <= 300 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(300).collect::<String>())
    }
}

/// Runs `future`, turning a panic into an `Err` naming it (so one case's panic fails that case
/// and the suite names it, rather than aborting the rest).
pub async fn no_panic<T>(future: impl std::future::Future<Output = T>) -> Result<T, String> {
    std::panic::AssertUnwindSafe(future)
        .catch_unwind()
        .await
        .map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned())
        })
}

/// Both simulators (the billing one with its fixture), the three functions over one set of
/// stores, and their queues in memory, delivered like SQS. The tenant's settings hold the
/// fixture's export settings and the ticket import's statuses; the customer sync has run once.
#[allow(missing_debug_implementations)] // the simulators and functions print nothing useful
pub struct World {
    /// ConnectWise.
    pub cw: Simulator,
    /// The billing system.
    pub billing: BillingSim,
    /// The customer sync.
    pub customers: Arc<CustomerSync>,
    /// The daily export.
    pub export: Arc<DailyExport>,
    /// The ticket import.
    pub import: Arc<TicketImport>,
    /// The customer sync's queue.
    pub customer_queue: Arc<MemoryJobQueue>,
    /// The export's queue.
    pub export_queue: Arc<MemoryJobQueue>,
    /// The ticket import's queue.
    pub ticket_queue: Arc<MemoryJobQueue>,
}

/// The ticket status the world's import takes as finished.
pub const FINISHED: &str = "Closed";
/// Where every import run of the corpus reads from (before anything the simulators hold), so a
/// run re-plans every finished ticket, as an export run (`full`) exports every account.
pub const SINCE: &str = "2026-01-01T00:00:00Z";
/// The accounts whose companies hold the finished-tickets fixture ([`World::seed_tickets`]).
pub const TICKET_ACCOUNTS: [&str; 2] = ["A-1001", "A-1003"];

impl World {
    /// A world as described on [`World`].
    pub async fn start() -> World {
        World::start_with(BillingSimOptions::with_fixture()).await
    }

    /// The same with the billing simulator's `options`.
    pub async fn start_with(billing_options: BillingSimOptions) -> World {
        let cw = Simulator::start(SimOptions::default()).await.unwrap();
        cw.set_clock(T0);
        let billing = BillingSim::start(billing_options).await.unwrap();
        billing.set_clock(T0);
        let (mut deps, customer_queue) = sim_deps(
            cwsync_customer_sync::FUNCTION,
            Config::local(),
            TENANT,
            &cw,
            &billing,
        );
        deps.stores = stores("bad-input").await;
        let export_queue = Arc::new(MemoryJobQueue::new());
        let ticket_queue = Arc::new(MemoryJobQueue::new());
        deps.queues.export = Some(export_queue.clone());
        deps.queues.ticket = Some(ticket_queue.clone());
        let deps = Arc::new(deps);
        let world = World {
            customers: Arc::new(CustomerSync::new(Arc::clone(&deps), options())),
            export: Arc::new(DailyExport::new(Arc::clone(&deps), options())),
            import: Arc::new(TicketImport::new(deps, options())),
            cw,
            billing,
            customer_queue,
            export_queue,
            ticket_queue,
        };
        let mut settings = fixture_export_settings();
        cwsync_test_support::merge(
            &mut settings,
            json!({"ticketImport": {"statuses": [FINISHED],
                                    "productTypes": {"Non-Inventory": "Hardware"}}}),
        );
        world.put_settings(settings).await;
        world
    }

    /// Merges `settings` into the tenant's stored settings.
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

    /// Gets the world ready for runs of `function` over the corpus: the export also exports the
    /// user lists; the import gets the simulator's finished-tickets fixture on the companies of
    /// [`TICKET_ACCOUNTS`], its statuses and product types, and one import (so the tickets' calls
    /// exist). What the case files' `{name}` placeholders stand for (`{ready}`: a ticket id,
    /// `{readyCall}`: its service call's, `{projectId}` and `{phaseId}`: the fixed-fee
    /// project's).
    pub async fn prepare(&self, function: &str) -> BTreeMap<String, String> {
        let mut names = BTreeMap::new();
        match function {
            "daily-export" => {
                self.put_settings(json!({"export": {"userList": true}}))
                    .await;
            }
            "ticket-import" => {
                let tickets = self.seed_tickets().await;
                for (name, id) in [
                    ("ready", tickets.ticket_ready),
                    ("second", tickets.ticket_second_company),
                    ("project", tickets.project_ticket),
                    ("unmappedTechnician", tickets.ticket_unmapped_technician),
                    ("unmappedCompany", tickets.ticket_unmapped_company),
                    ("projectId", tickets.project),
                    ("phaseId", tickets.phase),
                ] {
                    names.insert(format!("{{{name}}}"), id.to_string());
                }
                self.run_to_end(function).await.unwrap();
                // The calls the import made for them (`{readyCall}`).
                for (name, id) in [
                    ("ready", tickets.ticket_ready),
                    ("second", tickets.ticket_second_company),
                ] {
                    let reference = cwsync_mapping::tickets::ticket_reference(id);
                    if let Some(call) = self
                        .billing
                        .service_calls()
                        .into_iter()
                        .find(|c| c.external_reference.as_deref() == Some(reference.as_str()))
                    {
                        names.insert(format!("{{{name}Call}}"), call.id);
                    }
                }
            }
            _ => {}
        }
        names
    }

    /// Changes service ticket `id`'s summary as a ConnectWise user does (`n` makes it new), so
    /// its next import maps it anew and reads its call.
    pub async fn touch_ticket(&self, id: &str, n: usize) {
        let user = cwsync_test_support::cw_client(&self.cw).await;
        let _: Value = user
            .patch(
                &format!("/service/tickets/{id}"),
                &[cwsync_connectwise::PatchOp::replace(
                    "summary",
                    json!(format!("Changed after its import ({n})")),
                )],
            )
            .await
            .unwrap();
    }

    /// The simulator's finished-tickets fixture on the companies of [`TICKET_ACCOUNTS`], with
    /// the import's settings for it (its statuses; `Inventory` items are billing `Supplies`).
    pub async fn seed_tickets(&self) -> FinishedTickets {
        let [first, second] = TICKET_ACCOUNTS.map(|account| self.company_of(account));
        let links = TicketFixtureLinks {
            company: first,
            second_company: second,
            agreement: None,
        };
        let tickets = seed_finished_tickets(&self.cw, &links).unwrap();
        self.put_settings(json!({"ticketImport": {
            "statuses": ["Completed", FINISHED],
            "productTypes": {"Non-Inventory": "Hardware", "Inventory": "Supplies"},
        }}))
        .await;
        tickets
    }

    /// The ConnectWise company the customer sync made for billing account `account_id`.
    pub fn company_of(&self, account_id: &str) -> i64 {
        cwsync_test_support::company_of(&self.cw, &self.billing, account_id)
    }

    /// Runs the customer sync of the tenant to the end.
    pub async fn sync_customers(&self) {
        self.customers
            .sync_tenant_to_end(TENANT, &self.customer_queue, 5)
            .await
            .unwrap();
    }

    /// Calls `function`'s entry with `payload` (a console event or an SQS batch).
    pub async fn call(&self, function: &str, payload: Value) -> Result<Value, Diagnostic> {
        match function {
            "customer-sync" => self.customers.handle(payload, deadline()).await,
            "daily-export" => self.export.handle(payload, deadline()).await,
            "ticket-import" => self.import.handle(payload, deadline()).await,
            other => panic!("no function {other}"),
        }
    }

    /// `function`'s queue.
    pub fn queue(&self, function: &str) -> &MemoryJobQueue {
        match function {
            "customer-sync" => &self.customer_queue,
            "daily-export" => &self.export_queue,
            "ticket-import" => &self.ticket_queue,
            other => panic!("no function {other}"),
        }
    }

    /// Delivers every job of `function`'s queue to the end (as SQS does, 5 receives each);
    /// the keys of the jobs left for the DLQ.
    pub async fn deliver(&self, function: &str) -> Vec<String> {
        let queue = self.queue(function);
        let delivery = match function {
            "customer-sync" => self.customers.deliver_all(queue, 5).await,
            "daily-export" => {
                cwsync_sync::deliver::deliver_all(
                    queue,
                    5,
                    |event, deadline| {
                        let export = Arc::clone(&self.export);
                        async move { export.handle_jobs(event, deadline).await }
                    },
                    |_| {},
                )
                .await
            }
            _ => {
                cwsync_sync::deliver::deliver_all(
                    queue,
                    5,
                    |event, deadline| {
                        let import = Arc::clone(&self.import);
                        async move { import.handle_jobs(event, deadline).await }
                    },
                    |_| {},
                )
                .await
            }
        };
        delivery.dead_letters
    }

    /// The report of `function`'s run `run_id`.
    pub async fn report(&self, function: &str, run_id: &str) -> Report {
        let event = json!({"action": "report", "tenant": TENANT, "runId": run_id});
        Report(cwsync_test_support::answer(
            &event,
            self.call(function, event.clone()).await,
        ))
    }

    /// Plans a run of `function` with its console (`sync-tenant`, `export-now` or
    /// `import-now`); its run id and the jobs it queued (taken off the queue).
    pub async fn plan(&self, function: &str) -> (String, Vec<cwsync_queue::Job>) {
        let event = match function {
            "customer-sync" => json!({"action": "sync-tenant", "tenant": TENANT}),
            "daily-export" => json!({"action": "export-now", "tenant": TENANT, "full": true}),
            // Every ticket changed since the simulators' fixtures were made, watermark or not.
            _ => json!({"action": "import-now", "tenant": TENANT, "since": SINCE}),
        };
        let planned = cwsync_test_support::answer(&event, self.call(function, event.clone()).await);
        let run_id = planned["runId"]
            .as_str()
            .unwrap_or_else(|| panic!("no runId in {planned}"))
            .to_owned();
        (run_id, self.queue(function).drain())
    }

    /// A run of `function` planned and delivered to the end; its report, or the keys of the jobs
    /// left for the DLQ.
    pub async fn run_to_end(&self, function: &str) -> Result<Report, String> {
        let (run_id, jobs) = self.plan(function).await;
        self.requeue(function, &jobs).await;
        let dead = self.deliver(function).await;
        if !dead.is_empty() {
            return Err(format!("jobs left for the DLQ: {dead:?}"));
        }
        Ok(self.report(function, &run_id).await)
    }

    /// Puts `jobs` back on `function`'s queue.
    pub async fn requeue(&self, function: &str, jobs: &[cwsync_queue::Job]) {
        self.queue(function).send_batch(jobs).await.unwrap();
    }
}

/// `text` with each of `names`' placeholders (`{ready}`) replaced by what it stands for.
pub fn resolve(text: &str, names: &BTreeMap<String, String>) -> String {
    names.iter().fold(text.to_owned(), |text, (name, value)| {
        text.replace(name, value)
    })
}

/// The lines of a run's report.
pub fn lines(report: &Report) -> Vec<Value> {
    report.0["records"].as_array().cloned().unwrap_or_default()
}

/// The `entity/recordId` of the failed lines of a run's report.
pub fn failing(report: &Report) -> Vec<String> {
    lines(report)
        .iter()
        .filter(|l| l["outcome"] == "failed")
        .map(line_name)
        .collect()
}

/// A report line's `entity/recordId`.
pub fn line_name(line: &Value) -> String {
    format!(
        "{}/{}",
        line["entity"].as_str().unwrap_or_default(),
        line["recordId"].as_str().unwrap_or_default()
    )
}

/// An SQS record with `body` and message id `id`, first delivery.
pub fn sqs_record(id: &str, body: Option<String>) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(id.to_owned());
    record.body = body;
    record
        .attributes
        .insert("ApproximateReceiveCount".to_owned(), "1".to_owned());
    record
}

/// An SQS event of `records`, as JSON (what the Lambda entry gets).
pub fn sqs_event(records: Vec<SqsMessage>) -> Value {
    let mut event = SqsEvent::default();
    event.records = records;
    serde_json::to_value(event).unwrap()
}

/// The message ids an invocation's answer names in `batchItemFailures`.
pub fn failures(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["itemIdentifier"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Client options of the corpus: the tests' short retries, and no client-side rate limit (the
/// default paces ConnectWise calls at 10 a second, which here would only make the suite slow).
pub fn options() -> cwsync_sync::tenant::ConnectOptions {
    let unlimited = std::num::NonZeroU32::new(10_000).unwrap_or(std::num::NonZeroU32::MIN);
    cwsync_sync::tenant::ConnectOptions {
        cw_rate: Some(cwsync_connectwise::RateLimit {
            per_second: unlimited,
            burst: unlimited,
            max_in_flight: 8,
        }),
        ..fast_options()
    }
}

/// Five minutes from now: the invocation's deadline in tests.
pub fn deadline() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(5)
}
