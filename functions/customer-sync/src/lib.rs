//! `customer-sync`: billing accounts, sites and contacts ↔ ConnectWise companies, sites and
//! contacts.
//!
//! One function, three ways in: console events ([`console::Event`]: sync a tenant or an account,
//! dry runs, suggestions, link/unlink, test the connection, reports, settings), SQS job batches
//! from the customer queue ([`jobs`]: one job per account, fanned out by a tenant-wide run), and
//! the same handlers called directly by tests and the local runner. The sync itself is in
//! [`engine`]; the pure mapping it applies is `cwsync_mapping::customers`; what every job shares
//! (claim before create, record results, runs and the ledger, idempotent jobs, per-tenant clients
//! and caches) is `cwsync_sync`.

pub mod console;
pub mod engine;
pub mod jobs;
pub mod local;
pub mod reference;
pub mod unchanged;

use std::sync::Arc;

use cwsync_mapping::customers::CustomerReference;
use cwsync_runtime::Deps;
use cwsync_sync::FunctionCore;
use cwsync_sync::jobs::{Invocation, batch_answer, deadline_of};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use time::OffsetDateTime;

pub use console::Event;
pub use cwsync_sync::SyncError;
pub use cwsync_sync::tenant::{ConnectOptions, Connections, TenantClients};

/// The function's name, as deployed and as reported.
pub const FUNCTION: &str = "customer-sync";
/// The job kind of its runs.
pub const JOB_KIND: &str = "customer-sync";
/// Account jobs of one SQS batch handled at once.
pub use cwsync_sync::function::DEFAULT_CONCURRENCY;

/// The function's state across invocations: its dependencies and the per-tenant caches (all of
/// it the core every function has; read through it: `self.deps`, `self.now()`, …).
#[derive(Debug)]
pub struct CustomerSync {
    /// Deps, clients and reference data, job idempotency, batch concurrency.
    pub core: FunctionCore<CustomerReference>,
}

impl std::ops::Deref for CustomerSync {
    type Target = FunctionCore<CustomerReference>;
    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl CustomerSync {
    /// The function over `deps`, its clients built with `options`.
    pub fn new(deps: Arc<Deps>, options: ConnectOptions) -> Self {
        CustomerSync {
            core: FunctionCore::new(JOB_KIND, deps, options),
        }
    }

    /// Handles one raw payload: an SQS batch (it has `Records`) or a console event. `deadline`
    /// is when the invocation must end (the idempotency lock of a job expires then).
    pub async fn handle(
        &self,
        payload: Value,
        deadline: OffsetDateTime,
    ) -> Result<Value, Diagnostic> {
        match Invocation::<Event>::parse(FUNCTION, payload)? {
            Invocation::Jobs(event) => batch_answer(&self.handle_jobs(event, deadline).await),
            Invocation::Event(event) => self.handle_event(event).await,
        }
    }

    /// The Lambda entry.
    pub async fn handle_lambda(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let deadline = deadline_of(&event.context);
        self.handle(event.payload, deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> CustomerSync {
        CustomerSync::new(
            Arc::new(Deps::for_tests(FUNCTION)),
            ConnectOptions::default(),
        )
    }

    #[tokio::test]
    async fn a_health_event_reports_the_function_as_ok() {
        let answer = service()
            .handle(
                serde_json::json!({"action": "health"}),
                OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        assert_eq!(answer["function"], FUNCTION);
        assert_eq!(answer["status"], "ok");
    }

    #[tokio::test]
    async fn a_malformed_event_is_refused_with_its_reason() {
        let diagnostic = service()
            .handle(
                serde_json::json!({"act": "health"}),
                OffsetDateTime::now_utc(),
            )
            .await
            .unwrap_err();
        assert_eq!(diagnostic.error_type, "InvalidEvent");
        assert!(
            diagnostic.error_message.contains("action"),
            "{}",
            diagnostic.error_message
        );
    }

    #[tokio::test]
    async fn an_event_for_an_unknown_tenant_names_the_tenant_and_its_secret() {
        let diagnostic = service()
            .handle(
                serde_json::json!({"action": "sync-account", "tenant": "acme", "accountId": "A-1"}),
                OffsetDateTime::now_utc(),
            )
            .await
            .unwrap_err();
        assert!(
            diagnostic.error_message.contains("acme"),
            "{}",
            diagnostic.error_message
        );
    }

    #[tokio::test]
    async fn a_tenant_id_that_could_reach_another_tenants_keys_is_refused() {
        let diagnostic = service()
            .handle(
                serde_json::json!({"action": "errors", "tenant": "../other"}),
                OffsetDateTime::now_utc(),
            )
            .await
            .unwrap_err();
        assert_eq!(diagnostic.error_type, "InvalidEvent");
    }

    #[test]
    fn every_console_test_event_in_infra_parses_as_an_event_of_this_function() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/events");
        let mut seen = 0;
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with("-customer-sync.json") || name.starts_with("sqs-") {
                continue;
            }
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let event: Event = cwsync_runtime::parse_event(FUNCTION, json)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            if let Event::PutSettings { settings, .. } = event {
                cwsync_mapping::settings::TenantSettings::parse(&settings.to_string())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            seen += 1;
        }
        assert!(
            seen >= 10,
            "only {seen} events found in {}",
            folder.display()
        );
    }

    #[tokio::test]
    async fn the_sample_sqs_event_is_handled_and_its_permanent_failure_recorded_in_its_run() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../infra/events/sqs-customer-sync.json");
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        // No tenant `acme` in the test dependencies: the job fails permanently. That is the
        // account's failure in its run, which finishes; the message is not left to the DLQ.
        let service = service();
        let answer = service
            .handle(
                event,
                OffsetDateTime::now_utc() + time::Duration::minutes(5),
            )
            .await
            .unwrap();
        assert_eq!(
            answer["batchItemFailures"],
            serde_json::json!([]),
            "{answer}"
        );
        let tenant = cwsync_store::TenantId::parse("acme").unwrap();
        let run_id = cwsync_store::RunId::parse("20261122T020000Z-a1b2c3").unwrap();
        let run = service
            .deps
            .stores
            .runs
            .get(&tenant, &run_id)
            .await
            .unwrap()
            .expect("the run");
        assert_eq!(run.status, cwsync_store::runs::RunStatus::PartiallyFailed);
        let log = service
            .deps
            .stores
            .runs
            .log_page(&tenant, &run_id, None, 10)
            .await
            .unwrap();
        assert_eq!(log.entries.len(), 1);
        assert_eq!(log.entries[0].record_id, "C-1001");
        assert!(
            log.entries[0].detail.contains("tenant credentials"),
            "{}",
            log.entries[0].detail
        );
    }
}
