//! ConnectWise Manage REST client for cwsync.
//!
//! - [`ClientConfig`] / [`Site`]: where the tenant's server is (region, host or URL) and its keys,
//!   held as `SecretString` and never printed.
//! - [`Client`]: codebase lookup, Basic auth `company+public:private`, `clientId`, versioned
//!   `Accept`; typed get/create/update/patch/delete; paging ([`Client::list_all`],
//!   [`Client::list_forward_only`], [`Client::list_page`], [`Client::count`]); `in (...)` look-ups
//!   batched under a URL length limit ([`Client::list_by_ids`]); documents.
//! - [`Condition`] and [`Query`]: a typed builder for `conditions`, `orderBy`, `fields` — callers
//!   never concatenate condition strings.
//! - [`diff`] / [`patch_models`]: PATCH bodies with only the fields that changed.
//! - [`CwError`]: typed errors (auth, permission, validation with field errors, exists, not found,
//!   throttled, transient, ambiguous).
//!
//! # Retries
//! 429 is retried for every method. GET, PUT, PATCH and DELETE are also retried on 502, 503, 504,
//! a 500 that mentions "timeout", timeouts and connection errors. A POST is retried only when it
//! certainly did not reach the application (429, 503 with `Retry-After`, connection refused);
//! otherwise it fails with [`CwError::Ambiguous`] and the caller looks the record up by its natural
//! key. Delays grow exponentially with jitter, honour `Retry-After` as a minimum, and stop at
//! [`RetryPolicy::max_attempts`] or [`RetryPolicy::max_elapsed`].
//!
//! # Rate limits
//! Each [`Client`] (with all its clones) has a requests-per-second limiter and an in-flight cap;
//! every HTTP attempt, retries included, waits for both, and then for the optional
//! [`RequestGate`] of [`ClientConfig::gate`], a limit shared with the tenant's clients in other
//! processes (see the [`gate`](RequestGate) docs for how it waits without holding a slot).
//! [`Client::stats`] counts requests, retries, 429s and waits for the gate.
//!
//! ```no_run
//! # async fn example() -> Result<(), cwsync_connectwise::CwError> {
//! use cwsync_connectwise::{Client, ClientConfig, Condition, Query, Site};
//! use secrecy::SecretString;
//!
//! let config = ClientConfig::new(
//!     Site::parse("na")?,
//!     "mycompany",
//!     SecretString::from("public"),
//!     SecretString::from("private"),
//!     "00000000-0000-0000-0000-000000000000",
//! );
//! let client = Client::connect(config).await?;
//! let query = Query::new().filter(Condition::field("identifier").eq("ACME"));
//! let companies: Vec<serde_json::Value> = client.list_all("/company/companies", &query).await?;
//! # Ok(()) }
//! ```

mod client;
pub mod conditions;
mod config;
mod documents;
mod error;
mod gate;
pub mod models;
mod paging;
pub mod patch;
pub mod query;
mod retry;

pub use client::{Client, ClientStats};
pub use conditions::{CompareOp, Condition, FieldCondition, FieldPath, InvalidFieldPath, Value};
pub use config::{ClientConfig, DEFAULT_CODEBASE, DEFAULT_RETRY, RateLimit, RetryPolicy, Site};
pub use cwsync_http::parse_retry_after;
pub use documents::{Download, UploadDocument, disposition_file_name};
pub use error::{CwError, CwResult, FieldError};
pub use gate::{Admission, GateError, RequestGate};
pub use paging::Page;
pub use patch::{
    DiffOptions, PatchKind, PatchOp, diff, diff_with, patch_models, patch_models_with,
};
pub use query::{Direction, MAX_PAGE_SIZE, Query};
