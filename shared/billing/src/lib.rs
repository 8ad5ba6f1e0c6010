//! The billing-system client: the contract cwsync defines for billing systems (accounts with
//! sites and contacts, incremental reads, cursor paging, write-back), spoken over HTTP JSON.
//!
//! The contract itself is `shared/billing/openapi.yaml`; a vendor implements it (or an adapter) in
//! front of their system, and `tests/billing-sim` simulates it.
//!
//! - [`BillingConfig`]: base URL, API key (a `SecretString`, never printed), timeout, retry
//!   policy and the longest URL to send.
//! - [`BillingClient`]: `Authorization: Bearer <key>`; [`BillingClient::list_accounts`] follows
//!   every cursor and splits `ids` so each URL stays within the limit;
//!   [`BillingClient::get_account`]; the daily export's reads, listed the same way by one
//!   generic listing ([`BillingClient::list_products`], [`BillingClient::list_subscriptions`],
//!   [`BillingClient::list_users`], each a [`Listing`]: the valid records and the malformed ones
//!   named by id and field as [`MalformedRecord`]s); merge-patch write-backs of accounts, sites and contacts, one
//!   at a time or many per call ([`BillingClient::write_back`]: `POST /v1/write-backs`, chunked,
//!   per-record results, falling back to single-record PATCHes on a server without it).
//! - The ticket import's records, listed the same way ([`BillingClient::list_technicians`],
//!   [`BillingClient::list_contracts`], [`BillingClient::list_items`],
//!   [`BillingClient::list_product_types`], [`BillingClient::list_service_calls`]), and the
//!   service-call writes: [`BillingClient::create_service_call`] (exactly once per ConnectWise
//!   ticket: idempotent on its external reference), [`BillingClient::update_service_call`]
//!   (guarded by the call's version; an invoiced call refuses) and
//!   [`BillingClient::hold_service_call`]; [`BillingClient::find_service_call`] reads a call by
//!   its ticket's reference.
//! - The billing documents, listed the same way ([`BillingClient::list_invoices`],
//!   [`BillingClient::list_payments`] (also by invoice), [`BillingClient::list_orders`],
//!   [`BillingClient::list_projects`], [`BillingClient::list_contract_templates`]).
//! - [`BillingError`]: typed errors (unauthorized, forbidden, not found naming the record, invalid
//!   with per-field problems, throttled, transient, unexpected, decode).
//!
//! # Retries
//! Every request the client sends may be repeated: GETs, JSON merge patches (one at a time or
//! many), a service-call create (idempotent on its external reference), an update (guarded by
//! the version it was planned on) and a hold (repeating it changes nothing). So all are retried on
//! 429 (`Retry-After` is a minimum delay), 502, 503, 504, timeouts and connection failures.
//! Delays grow exponentially with jitter and stop at [`RetryPolicy::max_attempts`] or
//! [`RetryPolicy::max_elapsed`]. [`BillingClient::stats`] counts attempts, retries and 429s.
//!
//! ```no_run
//! # async fn example() -> Result<(), cwsync_billing::BillingError> {
//! use cwsync_billing::{AccountQuery, BillingClient, BillingConfig};
//! use secrecy::SecretString;
//! use url::Url;
//!
//! let base = Url::parse("https://billing.example.com/").map_err(|e| {
//!     cwsync_billing::BillingError::Config { message: e.to_string() }
//! })?;
//! let client = BillingClient::new(BillingConfig::new(base, SecretString::from("key")))?;
//! let accounts = client.list_accounts(&AccountQuery::default()).await?;
//! # let _ = accounts;
//! # Ok(()) }
//! ```

mod client;
mod config;
mod error;
mod listing;
pub mod models;
mod retry;

pub use client::{
    BillingClient, BillingStats, Created, CreatedServiceCall, DEFAULT_PAGE_SIZE, MAX_CURSOR_LEN,
    MAX_PAGE_SIZE,
};
pub use config::{BillingConfig, DEFAULT_MAX_URL_LEN, DEFAULT_RETRY, RetryPolicy};
pub use error::{BillingError, FieldProblem};
pub use listing::{
    AccountListing, AccountQuery, AccountRecordQuery, ContractQuery, DocumentQuery, Listed,
    Listing, MalformedAccount, MalformedRecord, PaymentQuery, ProductQuery, RecordKind,
    RecordQuery, ReferenceQuery, ServiceCallQuery, SubscriptionQuery, UserQuery, decode_one,
};
