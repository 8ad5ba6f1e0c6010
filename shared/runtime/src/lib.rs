//! What every cwsync Lambda function shares:
//!
//! - [`config`]: `Config::from_env()`, naming any missing or malformed variable;
//! - [`secrets`]: tenant ConnectWise credentials from Secrets Manager, cached with a TTL;
//! - [`telemetry`]: `tracing` set-up (JSON in Lambda) and the invocation and job spans;
//! - [`metrics`]: CloudWatch Embedded Metric Format counters, flushed once per invocation;
//! - [`deps`]: the dependencies built once per cold start; [`lambda::serve`] runs a handler with them;
//! - [`events`]: parsing of the events a user or a schedule sends, and their errors.
//!
//! This crate must never log or return a secret: credentials are `SecretString`s whose `Debug`
//! redacts them, errors name a secret and a field but never a value, and malformed events are
//! reported by their shape only.

pub mod clock;
pub mod config;
pub mod deps;
pub mod events;
pub mod lambda;
pub mod metrics;
pub mod secrets;
pub mod telemetry;

pub use config::{Config, ConfigError, Queue};
pub use deps::{AwsClients, Deps, Queues, Stores};
pub use events::{EventError, HealthReport, dispatch, parse_event};
pub use lambda::serve;
pub use metrics::{Counter, JobMetrics, Metrics};
pub use secrets::{
    BillingCredentials, SecretsError, SecretsManagerTenantSecrets, StaticTenantSecrets,
    TenantCredentials, TenantSecrets,
};
