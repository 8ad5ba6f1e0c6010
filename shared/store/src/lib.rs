//! cwsync's state, one trait per concern, each with a DynamoDB implementation (production, tested
//! against moto_server) and an in-memory one (unit tests and the local run):
//!
//! - [`links`]: billing record ↔ ConnectWise record, both directions, claim-before-create.
//! - [`runs`]: one item per job run with its counts, plus a bounded, paged per-record log.
//! - [`ledger`]: the error ledger: failing records, attempts, drop-off after N attempts.
//! - [`watermarks`]: where incremental reads resume, with an overlap window.
//! - [`idempotency`]: the Powertools idempotency design (lock, in-progress expiry, stored result).
//! - [`settings`]: tenant settings, validated and versioned.
//! - [`rate_gate`]: each tenant's ConnectWise request budget in fixed windows, leased in chunks by
//!   every worker, so the tenant's rate limit holds across all of them.
//! - [`replay`]: the first arrival of each webhook request, so a replayed one is refused.
//!
//! Every key starts with the tenant ([`TenantId`]), so one tenant can never read or write another's
//! items. The single-table key design is written down in `shared/store/KEYS.md`.
//! This crate must never hold or log a secret: credentials live in Secrets Manager, not here.

pub mod dynamo;
mod error;
pub mod idempotency;
pub mod keys;
pub mod ledger;
pub mod links;
pub mod rate_gate;
pub mod replay;
pub mod runs;
pub mod settings;
mod tenant;
pub mod watermarks;

pub use error::StoreError;
pub use links::{DynamoLinkStore, LinkStore, MemoryLinkStore};
pub use runs::{DynamoRunStore, MemoryRunStore, RunId, RunStore};
pub use tenant::{InvalidTenantId, TenantId};
