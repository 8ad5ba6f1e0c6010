//! Tenant isolation of jobs (issue 12 §3): two tenants in ONE DynamoDB table on moto (as
//! deployed) with both secrets in Secrets Manager on moto, each with its own simulators (its own
//! ConnectWise keys and billing key). Tenant B is seeded with links, runs, ledger entries and
//! settings; then jobs and console events for tenant A, crafted to name B's keys (B's tenant id
//! and key fragments in payload fields, `#` and `/` in ids, B's run ids, B's secret name), go
//! through each function's batch handler and console.
//!
//! Asserted: every item of B in the table is byte-for-byte unchanged (a scan before and after),
//! B's secret was never asked for (every credentials request is counted by tenant, in front of
//! the cache), B's simulators got no request at all, and each crafted input ends in a clear error
//! or acts on A only. The key layer (`cwsync_store::keys`) builds every key from a validated
//! `TenantId` first and puts record ids last, which is what makes this hold.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use cwsync_bad_input::{FINISHED, T0, deadline, failures, sqs_event, sqs_record};
use cwsync_billing_sim::{BillingSim, BillingSimOptions, fixture_export_settings};
use cwsync_connectwise_sim::{ApiMember, SimOptions, Simulator};
use cwsync_customer_sync::CustomerSync;
use cwsync_daily_export::DailyExport;
use cwsync_queue::{Job, JobKind, MemoryJobQueue};
use cwsync_runtime::secrets::{
    SecretsError, SecretsManagerTenantSecrets, TenantCredentials, TenantSecrets,
};
use cwsync_runtime::{Config, Deps, Stores};
use cwsync_test_support::put_settings_event;
use cwsync_ticket_import::TicketImport;
use serde_json::{Value, json};

const A: &str = "acme";
const B: &str = "globex";

/// Every credentials request, by tenant, in front of Secrets Manager's cache.
#[derive(Debug)]
struct CountedSecrets {
    inner: SecretsManagerTenantSecrets,
    asked: Mutex<HashMap<String, u64>>,
}

impl CountedSecrets {
    fn asked(&self, tenant: &str) -> u64 {
        self.asked.lock().unwrap().get(tenant).copied().unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl TenantSecrets for CountedSecrets {
    async fn credentials(&self, tenant: &str) -> Result<TenantCredentials, SecretsError> {
        *self
            .asked
            .lock()
            .unwrap()
            .entry(tenant.to_owned())
            .or_default() += 1;
        self.inner.credentials(tenant).await
    }

    async fn invalidate(&self, tenant: &str) {
        self.inner.invalidate(tenant).await;
    }
}

/// One tenant's simulators (its own keys) and its functions' queues.
struct Tenant {
    cw: Simulator,
    billing: BillingSim,
    secret: Value,
}

async fn tenant(n: u8) -> Tenant {
    let member = ApiMember {
        company_id: format!("company{n}"),
        public_key: format!("PUBLIC-{n}-9f2c"),
        private_key: format!("PRIVATE-{n}-51ab"),
        ..ApiMember::test_member()
    };
    let cw = Simulator::start(SimOptions {
        members: vec![member.clone()],
        ..SimOptions::default()
    })
    .await
    .unwrap();
    cw.set_clock(T0);
    let billing = BillingSim::start(BillingSimOptions {
        api_key: format!("BILLING-{n}-77d0"),
        ..BillingSimOptions::with_fixture()
    })
    .await
    .unwrap();
    billing.set_clock(T0);
    let secret = json!({
        "site": cw.base_url(),
        "companyId": member.company_id,
        "publicKey": member.public_key,
        "privateKey": member.private_key,
        "clientId": cwsync_connectwise_sim::TEST_CLIENT_ID,
        "billingUrl": billing.base_url().to_string(),
        "billingApiKey": billing.api_key(),
    });
    Tenant {
        cw,
        billing,
        secret,
    }
}

struct World {
    a: Tenant,
    b: Tenant,
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    secrets: Arc<CountedSecrets>,
    customers: Arc<CustomerSync>,
    export: Arc<DailyExport>,
    import: Arc<TicketImport>,
    customer_queue: Arc<MemoryJobQueue>,
    export_queue: Arc<MemoryJobQueue>,
    ticket_queue: Arc<MemoryJobQueue>,
}

impl World {
    async fn start() -> Option<World> {
        let moto = cwsync_aws_harness::moto()?;
        let sdk = moto.sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let table = cwsync_aws_harness::unique_name("isolation");
        let stores = Stores::dynamo(
            cwsync_store::dynamo::create_table(&dynamo, &table)
                .await
                .unwrap(),
        );
        let (a, b) = (tenant(1).await, tenant(2).await);
        let prefix = format!("{}/", cwsync_aws_harness::unique_name("cwsync-tenants"));
        let admin = aws_sdk_secretsmanager::Client::new(&sdk);
        for (id, t) in [(A, &a), (B, &b)] {
            admin
                .create_secret()
                .name(format!("{prefix}{id}"))
                .secret_string(t.secret.to_string())
                .send()
                .await
                .unwrap();
        }
        let secrets = Arc::new(CountedSecrets {
            inner: SecretsManagerTenantSecrets::new(
                admin,
                prefix,
                std::time::Duration::from_secs(300),
            ),
            asked: Mutex::new(HashMap::new()),
        });
        let mut deps = Deps::local(
            cwsync_customer_sync::FUNCTION,
            Config::local(),
            cwsync_runtime::StaticTenantSecrets::new(),
        );
        deps.secrets = secrets.clone();
        deps.stores = stores;
        let customer_queue = Arc::new(MemoryJobQueue::new());
        let export_queue = Arc::new(MemoryJobQueue::new());
        let ticket_queue = Arc::new(MemoryJobQueue::new());
        deps.queues.customer = Some(customer_queue.clone());
        deps.queues.export = Some(export_queue.clone());
        deps.queues.ticket = Some(ticket_queue.clone());
        let deps = Arc::new(deps);
        Some(World {
            a,
            b,
            dynamo,
            table,
            secrets,
            customers: Arc::new(CustomerSync::new(
                Arc::clone(&deps),
                cwsync_bad_input::options(),
            )),
            export: Arc::new(DailyExport::new(
                Arc::clone(&deps),
                cwsync_bad_input::options(),
            )),
            import: Arc::new(TicketImport::new(deps, cwsync_bad_input::options())),
            customer_queue,
            export_queue,
            ticket_queue,
        })
    }

    async fn call(
        &self,
        function: &str,
        payload: Value,
    ) -> Result<Value, lambda_runtime::Diagnostic> {
        match function {
            "customer-sync" => self.customers.handle(payload, deadline()).await,
            "daily-export" => self.export.handle(payload, deadline()).await,
            _ => self.import.handle(payload, deadline()).await,
        }
    }

    async fn ok(&self, function: &str, payload: Value) -> Value {
        cwsync_test_support::answer(&payload, self.call(function, payload.clone()).await)
    }

    async fn deliver(&self, function: &str) {
        let queue = match function {
            "customer-sync" => &self.customer_queue,
            "daily-export" => &self.export_queue,
            _ => &self.ticket_queue,
        };
        let delivery = cwsync_sync::deliver::deliver_all(
            queue,
            5,
            |event, _| {
                let payload = serde_json::to_value(event).unwrap();
                async move {
                    let answer = self.call(function, payload).await.unwrap();
                    serde_json::from_value(answer).unwrap()
                }
            },
            |_| {},
        )
        .await;
        assert!(delivery.dead_letters.is_empty(), "{delivery:?}");
    }

    /// The tenant's settings with the fixture's export settings and the ticket statuses.
    async fn settle(&self, tenant: &str) {
        let stored = self
            .ok(
                "customer-sync",
                json!({"action": "get-settings", "tenant": tenant}),
            )
            .await;
        let mut settings = fixture_export_settings();
        cwsync_test_support::merge(
            &mut settings,
            json!({"ticketImport": {"statuses": [FINISHED]}}),
        );
        self.ok(
            "customer-sync",
            put_settings_event(tenant, &stored, settings),
        )
        .await;
    }

    /// A run of `function` for `tenant`, delivered to the end; its run id.
    async fn run(&self, function: &str, tenant: &str) -> String {
        let event = match function {
            "customer-sync" => json!({"action": "sync-tenant", "tenant": tenant}),
            "daily-export" => json!({"action": "export-now", "tenant": tenant}),
            _ => json!({"action": "import-now", "tenant": tenant}),
        };
        let planned = self.ok(function, event).await;
        self.deliver(function).await;
        planned["runId"].as_str().unwrap().to_owned()
    }

    /// Every item of the table whose keys belong to tenant `id` (its partitions, and its entry
    /// in the tenant registry), by key, as DynamoDB holds it.
    async fn items_of(&self, id: &str) -> BTreeMap<String, String> {
        let mut items = BTreeMap::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .dynamo
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .unwrap();
            for item in page.items() {
                let pk = item
                    .get("pk")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                let sk = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                let own = format!("T#{id}");
                let mine = pk == own || pk.starts_with(&format!("{own}#")) || sk == own;
                if mine {
                    let sorted: BTreeMap<_, _> = item
                        .iter()
                        .map(|(k, v)| (k.clone(), format!("{v:?}")))
                        .collect();
                    items.insert(format!("{pk} | {sk}"), format!("{sorted:?}"));
                }
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return items,
            }
        }
    }
}

/// What only B's secret holds: its simulators' addresses and its keys.
fn b_markers(b: &Tenant) -> Vec<String> {
    [
        "site",
        "billingUrl",
        "publicKey",
        "privateKey",
        "billingApiKey",
    ]
    .iter()
    .map(|field| {
        b.secret[field]
            .as_str()
            .unwrap()
            .trim_end_matches('/')
            .to_owned()
    })
    .collect()
}

/// The crafted SQS bodies: jobs for A whose fields name B's keys, and jobs that try to be B's
/// through a tenant id holding a key fragment.
fn crafted_jobs(kind: JobKind, b_run: &str, b_account: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let payloads: Vec<Value> = match kind {
        JobKind::CustomerSyncAccount | JobKind::DailyExportAccount => [
            b_account.to_owned(),
            format!("T#{B}#LINK#company"),
            format!("SRC#{b_account}"),
            format!("../{B}/{b_account}"),
            format!("{B}#{b_account}"),
            "cwsync/tenants/globex".to_owned(),
        ]
        .into_iter()
        .map(|id| json!({"accountId": id}))
        .collect(),
        _ => vec![
            json!({"ticketId": 1, "kind": "service"}),
            json!({"ticketId": 2, "kind": "project"}),
        ],
    };
    for payload in payloads {
        for run_id in [b_run.to_owned(), format!("{b_run}-x")] {
            if let Ok(job) = Job::new(kind, A, run_id, false, payload.clone()) {
                bodies.push(job.to_body().unwrap());
            }
        }
    }
    // A tenant field that smuggles B's key fragments: refused as bodies (never a job).
    for tenant in [
        format!("{A}#T#{B}"),
        format!("{A}/../{B}"),
        format!("T#{B}"),
        format!("{B}#"),
    ] {
        bodies.push(
            json!({"version": 1, "kind": kind.as_str(), "tenant": tenant, "runId": b_run,
                   "dryRun": false, "payload": payloads_first(kind, b_account)})
            .to_string(),
        );
    }
    bodies
}

fn payloads_first(kind: JobKind, b_account: &str) -> Value {
    match kind {
        JobKind::TicketImportTicket => json!({"ticketId": 1, "kind": "service"}),
        _ => json!({"accountId": b_account}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_for_one_tenant_crafted_to_name_anothers_keys_never_touch_the_other() {
    let Some(world) = World::start().await else {
        eprintln!("moto is not available: tenant isolation not tested");
        return;
    };
    // B: settings, links (a customer sync), runs of every function, a ledger entry (an account
    // its billing system serves malformed), an export.
    for id in [A, B] {
        world.settle(id).await;
    }
    world.b.billing.corrupt_account("A-1004", "name", json!(42));
    let b_run = world.run("customer-sync", B).await;
    world.run("daily-export", B).await;
    world.run("ticket-import", B).await;
    world.run("customer-sync", A).await;
    let b_before = world.items_of(B).await;
    for part in ["#LINK#", "#RUN", "#RUNLOG#", "#ERR", "SETTINGS"] {
        assert!(
            b_before.keys().any(|k| k.contains(part)),
            "B has no {part} item to protect: {:?}",
            b_before.keys().collect::<Vec<_>>()
        );
    }
    let b_cw_calls = world.b.cw.calls().total();
    let b_billing_calls = world.b.billing.calls().total();
    let b_secret_reads = world.secrets.asked(B);

    // Crafted SQS bodies, each in a batch of its function.
    let b_account = "A-1004";
    let mut n = 0;
    for (function, kinds) in [
        (
            "customer-sync",
            vec![JobKind::CustomerSyncAccount, JobKind::CustomerSyncTenant],
        ),
        (
            "daily-export",
            vec![JobKind::DailyExportAccount, JobKind::DailyExportPlan],
        ),
        (
            "ticket-import",
            vec![JobKind::TicketImportTicket, JobKind::TicketImportTenant],
        ),
    ] {
        for kind in kinds {
            for body in crafted_jobs(kind, &b_run, b_account) {
                n += 1;
                let id = format!("crafted-{n}");
                let answer = world
                    .call(
                        function,
                        sqs_event(vec![sqs_record(&id, Some(body.clone()))]),
                    )
                    .await
                    .unwrap_or_else(|d| panic!("{function} {body}: {}", d.error_message));
                // Either refused (reported: a bad body) or done for A; never B.
                let _ = failures(&answer);
            }
        }
        // What the crafted jobs fanned out runs too (A's work only).
        world.deliver(function).await;
    }

    // Crafted console events for A naming B's keys.
    let crafted_events = [
        (
            "customer-sync",
            json!({"action": "report", "tenant": A, "runId": b_run}),
        ),
        (
            "customer-sync",
            json!({"action": "sync-account", "tenant": A, "accountId": format!("T#{B}#LINK#company")}),
        ),
        (
            "customer-sync",
            json!({"action": "unlink", "tenant": A, "accountId": format!("SRC#{b_account}")}),
        ),
        (
            "customer-sync",
            json!({"action": "link", "tenant": A, "accountId": format!("../{B}/{b_account}"), "companyId": 2}),
        ),
        (
            "customer-sync",
            json!({"action": "errors", "tenant": format!("{A}#T#{B}")}),
        ),
        (
            "customer-sync",
            json!({"action": "get-settings", "tenant": format!("{A}/../{B}")}),
        ),
        (
            "customer-sync",
            json!({"action": "put-settings", "tenant": format!("T#{B}"), "settings": {}}),
        ),
        (
            "customer-sync",
            json!({"action": "test-connection", "tenant": "cwsync/tenants/globex"}),
        ),
        (
            "daily-export",
            json!({"action": "report", "tenant": A, "runId": b_run}),
        ),
        (
            "daily-export",
            json!({"action": "export-now", "tenant": A, "accountIds": [format!("T#{B}#LINK#company"), b_account]}),
        ),
        (
            "daily-export",
            json!({"action": "documents-report", "tenant": A, "document": "invoices", "runId": b_run}),
        ),
        (
            "daily-export",
            json!({"action": "disable", "tenant": format!("{B}#")}),
        ),
        (
            "ticket-import",
            json!({"action": "report", "tenant": A, "runId": b_run}),
        ),
        (
            "ticket-import",
            json!({"action": "exclude-ticket", "tenant": format!("{A}#{B}"), "ticketId": 1}),
        ),
        (
            "ticket-import",
            json!({"action": "errors", "tenant": A, "pageToken": format!("T#{B}#ERR")}),
        ),
    ];
    for (function, event) in crafted_events {
        match world.call(function, event.clone()).await {
            Err(d) => assert!(!d.error_message.is_empty(), "{event}"),
            Ok(answer) => {
                // An answer is A's (a crafted id may come back as A's own record id): it never
                // holds B's endpoints or keys, and a run it reports is A's.
                let text = answer.to_string();
                for secret in b_markers(&world.b) {
                    assert!(
                        !text.contains(&secret),
                        "{event} answered with B's {secret}"
                    );
                }
                if let Some(tenant) = answer["run"]["tenant"].as_str() {
                    assert_eq!(tenant, A, "{event}");
                }
            }
        }
        world.deliver(function).await;
    }

    let b_after = world.items_of(B).await;
    assert_eq!(b_before.len(), b_after.len(), "B's items changed in number");
    for (key, item) in &b_before {
        assert_eq!(Some(item), b_after.get(key), "B's item {key} changed");
    }
    assert_eq!(
        world.secrets.asked(B),
        b_secret_reads,
        "A's jobs asked for B's secret"
    );
    assert_eq!(
        world.b.cw.calls().total(),
        b_cw_calls,
        "B's ConnectWise got requests"
    );
    assert_eq!(
        world.b.billing.calls().total(),
        b_billing_calls,
        "B's billing system got requests"
    );
    assert_eq!(n, 64, "crafted bodies");
    // A's simulators never saw B's keys: B's secret was never read after the seeding, and A's
    // own runs still work with A's keys.
    assert!(world.secrets.asked(A) > 0);
    assert!(world.a.cw.calls().total() > 0 && world.a.billing.calls().total() > 0);
}
