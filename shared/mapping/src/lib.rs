//! cwsync's pure domain: the types and rules that decide what to change on each side, given
//! billing records, ConnectWise records and a tenant's settings.
//!
//! This crate does no I/O: no HTTP, no AWS, no clock, no environment. Everything it needs comes
//! in as arguments and everything it decides goes out as values, so it is tested with plain
//! fixtures and property tests. Adapters (`connectwise`, `store`, `queue`) and the functions do
//! the talking.
//!
//! - [`settings`]: a tenant's settings document (toggles, defaults, mappings, filters, schedules),
//!   parsed and validated so a bad document is refused with the field that is wrong.
//! - [`customers`]: accounts, sites and contacts → companies, sites and contacts; matching,
//!   changed fields, suggestions, and the fields that flow back.
//! - [`export`]: the daily export: products → catalog items, subscriptions → agreement additions
//!   on the right agreement, user lists, and the mass-change guard.
//! - [`tickets`]: the ticket import: a finished ConnectWise ticket, its time entries and
//!   products → the billing service call that bills it, or the problems naming what to fix.
//! - [`documents`]: billing documents both ways: invoices, payments, orders and projects →
//!   ConnectWise invoices, payments, sales orders and opportunities; credit holds → a company
//!   custom field; agreement invoices and sales orders → billing contracts and orders.
//! - [`record`]: what every entity reports about a record (problems, notes); [`fingerprint()`]:
//!   stable digests of synced values; [`KeyMatch`]: matching by a natural key.

pub mod customers;
pub mod documents;
pub mod export;
mod fields;
mod fingerprint;
mod matching;
pub mod record;
pub mod settings;
pub mod tickets;

pub use fingerprint::{content_fingerprint, fingerprint};
pub use matching::KeyMatch;
