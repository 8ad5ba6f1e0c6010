//! One way to sync, shared by every cwsync job (the customer sync, the daily export, the ticket
//! import): what a job does around its own mapping, for any record kind and any job kind. Nothing
//! here but [`suggest`] knows companies, catalog items or tickets.
//!
//! - [`claim`]: claim before create — a record is created only after a won claim on its link, a
//!   create whose outcome is unknown is settled by looking the record up by its natural key (never
//!   by creating again), a stale claim is healed the same way, a dry run writes nothing.
//! - [`record`]: the line each record's sync comes to ([`RecordResult`]), gathered per unit of
//!   work ([`UnitResult`]) and built by a [`Recorder`] so every job words them alike.
//! - [`function`]: what every function holds across invocations ([`FunctionCore`]: its deps,
//!   clients, job idempotency and batch concurrency).
//! - [`tenant`]: a tenant's settings, its clients cached across invocations, the reference data
//!   of a run (any type a job resolves names against), ConnectWise calls counted into metrics.
//! - [`writes`]: ConnectWise writes that only report in a dry run, and which errors are a record's
//!   own failure rather than the job's.
//! - [`runs`]: starting a run, recording units' lines and the error ledger, recording a job's
//!   permanent failure as its unit's, finishing the run by whoever records the last unit.
//! - [`report`]: a run's report and the error report for any job kind (a report without a run id
//!   is of the job kind's latest run), and the helpers every console answers with.
//! - [`jobs`]: idempotent SQS job handling — at most once per job key, replays that change
//!   nothing, partial batch failures, reads shared by the jobs of one group.
//! - [`suggest`]: candidate companies for billing accounts without one (the one module that knows
//!   companies: every job that meets such an account offers the same suggestions).
//! - [`members`]: the ConnectWise members jobs match people against, read alike.
//! - [`deliver`]: SQS-like delivery from an in-memory queue, for local runs and tests.
//!
//! Never a duplicate, never a loss: a problem of one record is that record's `failed` line naming
//! the record and the field, and the other records go on; a problem no record explains stops the
//! job as a [`SyncError`], transient ones to be retried.

pub mod claim;
pub mod deliver;
mod error;
pub mod function;
pub mod jobs;
pub mod members;
pub mod record;
pub mod report;
pub mod runs;
pub mod suggest;
pub mod tenant;
pub mod writes;

pub use claim::{Created, Creation, Origin, create_claimed};
pub use error::SyncError;
pub use function::FunctionCore;
pub use jobs::GroupKey;
pub use record::{RecordResult, Recorder, UnitResult};
pub use runs::{FollowUp, RunBook};
pub use tenant::{ConnectOptions, Connections, ReferenceCache, TenantClients};
