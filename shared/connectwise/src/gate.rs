//! The request gate: a limit the client asks before every HTTP attempt, shared beyond this
//! process (cwsync's is per tenant, in DynamoDB: `cwsync_store::rate_gate`).
//!
//! The client's own limiter ([`crate::RateLimit`]) only bounds one process: N Lambda workers of a
//! tenant would send N times its rate. A [`RequestGate`] is what bounds them together. The client
//! asks it once per attempt, retries included, after its local limiter and while it holds an
//! in-flight slot, and sends the request as soon as it is admitted, so an admission is spent in
//! the window it was granted for.
//!
//! When the gate answers [`Admission::WaitFor`] (its window is spent), the client gives its
//! in-flight slot back before sleeping and takes one again afterwards: a worker waiting for the
//! next window never keeps another request of the same client (one the gate may still admit,
//! e.g. after a window rolled) from being sent. The slot is held only while the gate decides (a
//! store round trip at most) and while the request runs.
//!
//! A failing gate never sends a request unchecked: a transient failure is retried like a
//! transient HTTP failure (same backoff, same budget; nothing was sent, so even a POST may be
//! repeated) and, once the budget is spent, fails the call as transient, so the job is tried
//! again later; a permanent failure fails the call.

use std::fmt::Debug;
use std::time::Duration;

/// What a [`RequestGate`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send the request now.
    Admitted,
    /// Nothing may be sent until this much time has passed (the gate's window is spent); then
    /// ask again.
    WaitFor(Duration),
}

/// A gate that could not decide.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct GateError {
    /// What failed (never a key or a secret).
    pub detail: String,
    /// Whether asking again later may succeed (store throttling, timeouts).
    pub transient: bool,
}

/// A limit shared by every client of a tenant, wherever it runs. Object safe: a
/// [`crate::ClientConfig`] holds one as `Arc<dyn RequestGate>`. Its `Debug` must not show a
/// secret.
#[async_trait::async_trait]
pub trait RequestGate: Send + Sync + Debug {
    /// Admits one request, or says how long to wait before asking again.
    async fn admit(&self) -> Result<Admission, GateError>;
}
