//! What a function's handlers share, built once per cold start (in `main`, before
//! `lambda_runtime::run`) and handed to every invocation behind an `Arc`.
//!
//! Building it makes no network call: SDK clients come from `aws_config` (which reads the
//! environment and profile, and resolves credentials lazily on the first request), and tenant
//! credentials are read from Secrets Manager on first use. So a cold start costs no AWS round
//! trip, and a health check works without any AWS access.
//!
//! The stores and queues are built by their own crates' constructors (`cwsync_store`,
//! `cwsync_queue`); this module only chooses DynamoDB/SQS or memory.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use cwsync_queue::{JobQueue, MemoryJobQueue, SqsJobQueue};
use cwsync_store::dynamo::Table;
use cwsync_store::idempotency::{DynamoIdempotencyStore, IdempotencyStore, MemoryIdempotencyStore};
use cwsync_store::ledger::{DynamoErrorLedger, ErrorLedger, MemoryErrorLedger};
use cwsync_store::links::{DEFAULT_STALE_AFTER, DynamoLinkStore, LinkStore, MemoryLinkStore};
use cwsync_store::rate_gate::{DynamoRequestWindows, MemoryRequestWindows, RequestWindows};
use cwsync_store::replay::{DynamoReplayGuard, MemoryReplayGuard, ReplayGuard};
use cwsync_store::runs::{DynamoRunStore, MemoryRunStore, RunStore};
use cwsync_store::settings::{DynamoSettingsStore, MemorySettingsStore, SettingsStore};
use cwsync_store::watermarks::{DynamoWatermarkStore, MemoryWatermarkStore, WatermarkStore};

use crate::config::{Config, ConfigError, Queue};
use crate::metrics::Metrics;
use crate::secrets::{SecretsManagerTenantSecrets, StaticTenantSecrets, TenantSecrets};

/// AWS SDK clients, all built from one `SdkConfig` (one credentials cache, one HTTP client).
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// DynamoDB (the state table).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS (the job queues).
    pub sqs: aws_sdk_sqs::Client,
    /// Secrets Manager (tenant credentials).
    pub secretsmanager: aws_sdk_secretsmanager::Client,
}

impl AwsClients {
    /// Clients for `sdk_config`.
    pub fn new(sdk_config: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk_config),
            sqs: aws_sdk_sqs::Client::new(sdk_config),
            secretsmanager: aws_sdk_secretsmanager::Client::new(sdk_config),
        }
    }
}

/// The state stores, one per concern (see `cwsync_store`).
#[derive(Debug, Clone)]
pub struct Stores {
    /// Billing record ↔ ConnectWise record links.
    pub links: Arc<dyn LinkStore>,
    /// Job runs and their per-record logs.
    pub runs: Arc<dyn RunStore>,
    /// The error ledger.
    pub ledger: Arc<dyn ErrorLedger>,
    /// Watermarks of incremental reads.
    pub watermarks: Arc<dyn WatermarkStore>,
    /// Idempotency records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Tenant settings.
    pub settings: Arc<dyn SettingsStore>,
    /// Each tenant's ConnectWise request windows, shared by all its workers (the rate gate).
    pub request_windows: Arc<dyn RequestWindows>,
    /// The first arrival of each webhook request (ConnectWise callbacks), so replays are refused.
    pub replays: Arc<dyn ReplayGuard>,
}

impl Stores {
    /// Every store in the DynamoDB `table`, with the store's default policies. Makes no call.
    pub fn dynamo(table: Table) -> Self {
        Self::dynamo_with_stale_after(table, DEFAULT_STALE_AFTER)
    }

    /// [`Stores::dynamo`] whose pending link claims go stale after `stale_after` instead of the
    /// default (tests that kill workers let their claims expire in seconds, not minutes).
    pub fn dynamo_with_stale_after(table: Table, stale_after: time::Duration) -> Self {
        Self {
            links: Arc::new(DynamoLinkStore::new(table.clone(), stale_after)),
            runs: Arc::new(DynamoRunStore::new(table.clone())),
            ledger: Arc::new(DynamoErrorLedger::new(table.clone())),
            watermarks: Arc::new(DynamoWatermarkStore::new(table.clone())),
            idempotency: Arc::new(DynamoIdempotencyStore::new(table.clone())),
            settings: Arc::new(DynamoSettingsStore::new(table.clone())),
            request_windows: Arc::new(DynamoRequestWindows::new(table.clone())),
            replays: Arc::new(DynamoReplayGuard::new(table)),
        }
    }

    /// Every store in memory, empty.
    pub fn memory() -> Self {
        Self {
            links: Arc::new(MemoryLinkStore::default()),
            runs: Arc::new(MemoryRunStore::new()),
            ledger: Arc::new(MemoryErrorLedger::default()),
            watermarks: Arc::new(MemoryWatermarkStore::new()),
            idempotency: Arc::new(MemoryIdempotencyStore::new()),
            settings: Arc::new(MemorySettingsStore::new()),
            request_windows: Arc::new(MemoryRequestWindows::new()),
            replays: Arc::new(MemoryReplayGuard::new()),
        }
    }
}

/// The job queues a function may send to; `None` where its URL is not configured.
#[derive(Debug, Clone, Default)]
pub struct Queues {
    /// Per-account export jobs.
    pub export: Option<Arc<dyn JobQueue>>,
    /// Customer-sync jobs.
    pub customer: Option<Arc<dyn JobQueue>>,
    /// Ticket-import jobs.
    pub ticket: Option<Arc<dyn JobQueue>>,
}

impl Queues {
    /// An SQS queue for every queue URL in `config`. Makes no call.
    pub fn sqs(client: &aws_sdk_sqs::Client, config: &Config) -> Self {
        let queue = |url: &Option<String>| {
            url.as_ref().map(|url| {
                Arc::new(SqsJobQueue::new(client.clone(), url.clone())) as Arc<dyn JobQueue>
            })
        };
        Self {
            export: queue(&config.export_queue_url),
            customer: queue(&config.customer_queue_url),
            ticket: queue(&config.ticket_queue_url),
        }
    }

    /// An empty in-memory queue for each of the three. The local runner replaces them with
    /// queues it keeps a handle on, to drain them.
    pub fn memory() -> Self {
        let queue = || Some(Arc::new(MemoryJobQueue::new()) as Arc<dyn JobQueue>);
        Self {
            export: queue(),
            customer: queue(),
            ticket: queue(),
        }
    }

    /// The queue `queue`, or an error naming the variable of its URL.
    pub fn get(&self, queue: Queue) -> Result<&Arc<dyn JobQueue>, ConfigError> {
        let found = match queue {
            Queue::Export => &self.export,
            Queue::Customer => &self.customer,
            Queue::Ticket => &self.ticket,
        };
        found.as_ref().ok_or(ConfigError::Missing {
            variable: queue.variable(),
        })
    }
}

/// A function's dependencies.
#[derive(Debug, Clone)]
pub struct Deps {
    /// The function's name (`daily-export`, …), as deployed and as reported in metrics.
    pub function: &'static str,
    /// Its configuration.
    pub config: Config,
    /// AWS clients; `None` in local runs and handler tests, where nothing reaches AWS.
    pub aws: Option<AwsClients>,
    /// State.
    pub stores: Stores,
    /// Job queues.
    pub queues: Queues,
    /// Tenant credentials.
    pub secrets: Arc<dyn TenantSecrets>,
    /// EMF counters, flushed after each invocation.
    pub metrics: Metrics,
}

impl Deps {
    /// Production dependencies over `sdk_config`: the stores in the configured table, an SQS
    /// queue per configured URL, Secrets Manager credentials with the configured prefix and TTL,
    /// metrics in the configured namespace.
    pub fn new(function: &'static str, config: Config, sdk_config: &SdkConfig) -> Self {
        let aws = AwsClients::new(sdk_config);
        let stores = Stores::dynamo(Table::new(aws.dynamodb.clone(), config.table_name.clone()));
        let queues = Queues::sqs(&aws.sqs, &config);
        let secrets = Arc::new(SecretsManagerTenantSecrets::from_config(
            aws.secretsmanager.clone(),
            &config,
        ));
        let metrics = Metrics::new(config.metrics_namespace.clone(), function);
        Self {
            function,
            config,
            aws: Some(aws),
            stores,
            queues,
            secrets,
            metrics,
        }
    }

    /// [`Deps::new`] over the SDK configuration of the environment (`AWS_REGION`,
    /// `AWS_ENDPOINT_URL`, the function's role). Reads the environment only: no AWS call. Outside
    /// Lambda, set `AWS_REGION`, or the region look-up falls back to the instance metadata service.
    pub async fn from_environment(function: &'static str, config: Config) -> Self {
        let sdk_config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::new(function, config, &sdk_config)
    }

    /// Dependencies with no AWS at all: in-memory stores and queues, the given tenant
    /// credentials, metrics in the configured namespace. For the local runner (which may swap in
    /// queues or stores it keeps a handle on: the fields are public).
    pub fn local(function: &'static str, config: Config, secrets: StaticTenantSecrets) -> Self {
        let metrics = Metrics::new(config.metrics_namespace.clone(), function);
        Self {
            function,
            config,
            aws: None,
            stores: Stores::memory(),
            queues: Queues::memory(),
            secrets: Arc::new(secrets),
            metrics,
        }
    }

    /// [`Deps::local`] with [`Config::local`] and no tenants: for handler tests.
    pub fn for_tests(function: &'static str) -> Self {
        Self::local(function, Config::local(), StaticTenantSecrets::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretsError;

    #[tokio::test]
    async fn test_deps_reach_no_aws_and_know_no_tenant() {
        let deps = Deps::for_tests("daily-export");
        assert!(deps.aws.is_none());
        assert!(deps.queues.get(Queue::Export).is_ok());
        assert_eq!(deps.metrics.namespace(), "cwsync");
        assert!(matches!(
            deps.secrets.credentials("acme").await,
            Err(SecretsError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn production_deps_are_built_without_calling_aws() {
        // An endpoint nothing listens on: building must not touch it, or this would fail or hang.
        let sdk_config = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .load()
            .await;
        let mut config = Config::local();
        config.metrics_namespace = "cwsync-prod".into();
        config.ticket_queue_url = Some("http://127.0.0.1:9/000000000000/tickets".into());
        let deps = Deps::new("ticket-import", config, &sdk_config);
        assert!(deps.aws.is_some());
        assert!(deps.queues.get(Queue::Ticket).is_ok());
        assert_eq!(
            deps.queues.get(Queue::Export).unwrap_err(),
            ConfigError::Missing {
                variable: "EXPORT_QUEUE_URL"
            }
        );
        assert_eq!(deps.metrics.namespace(), "cwsync-prod");
        assert!(format!("{:?}", deps.secrets).contains("cwsync/tenants/"));
    }
}
