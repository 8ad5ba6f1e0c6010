//! Each tenant's ConnectWise request budget, shared by every worker of the tenant wherever it runs
//! (issue 9 §6: "the per-tenant rate limit holds across all concurrent workers").
//!
//! Time is cut into fixed windows (1 s by default, aligned on the epoch so every process agrees
//! on them). Each window of a tenant is one counter item ([`RequestWindows`]); a worker leases
//! tokens from it with one conditional `ADD leased :n` whose condition is that the window's limit
//! is not passed, so however many workers lease at once, the tokens leased in a window never
//! exceed its limit. A worker's [`RateGate`] leases in small chunks, so a DynamoDB write buys
//! several requests:
//!
//! - the first lease of a window asks for [`GatePolicy::first_chunk`] tokens; each further lease
//!   of the same window (the last chunk is spent, so the worker is busy) asks for twice as many,
//!   up to [`GatePolicy::max_chunk`] (a quarter of the limit), so a slow worker holds few tokens
//!   it may not use and a busy one pays few writes;
//! - near the limit the chunk shrinks to what the window has left (the lost condition returns the
//!   counter, and the lease is repeated for the rest);
//! - a lease is good only in its window: tokens left when it ends are dropped, and a lease whose
//!   answer came back after its window ended is not used;
//! - a lease learns what the window has left, so the next chunk asks for no more than that, and
//!   a worker that took the last token knows the window is spent without asking again; once a
//!   window is spent, the worker's requests wait for the next one without asking the store.
//!
//! Counter items expire by TTL ([`WINDOW_TTL`] after their window ends). The clock is injected
//! ([`WallClock`]) so tests step through windows instead of racing the wall clock.
//!
//! Fixed windows allow up to twice the limit in a window-long span that straddles two windows;
//! ConnectWise does not publish how it counts, so the limit is set with that margin in mind.
//! This module never holds a key or secret: counters are all it stores.

mod dynamo;
mod memory;

pub use dynamo::DynamoRequestWindows;
pub use memory::MemoryRequestWindows;

use crate::{StoreError, TenantId};
use std::fmt::Debug;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The window length unless a deployment says otherwise.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(1);
/// How long a window's counter item is kept after the window ends (then DynamoDB's TTL deletes
/// it): long enough to see what happened, short enough that a busy tenant's items don't pile up.
pub const WINDOW_TTL: Duration = Duration::from_secs(3600);

/// One fixed window: `[start_ms, start_ms + length_ms)` in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// Start, epoch milliseconds (a multiple of `length_ms`).
    pub start_ms: u64,
    /// Length in milliseconds (at least 1).
    pub length_ms: u64,
}

impl Window {
    /// The window of `length_ms` (at least 1) that holds the instant `now_ms`.
    pub fn containing(now_ms: u64, length_ms: u64) -> Window {
        let length_ms = length_ms.max(1);
        Window {
            start_ms: now_ms - now_ms % length_ms,
            length_ms,
        }
    }

    /// The first millisecond after the window.
    pub fn end_ms(&self) -> u64 {
        self.start_ms.saturating_add(self.length_ms)
    }

    /// When its counter item may be deleted, epoch seconds.
    fn expires_at_s(&self) -> u64 {
        let ttl_ms = u64::try_from(WINDOW_TTL.as_millis()).unwrap_or(u64::MAX);
        self.end_ms().saturating_add(ttl_ms) / 1000
    }
}

/// What one window's counter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowUsage {
    /// The window.
    pub window: Window,
    /// The limit the last lease was checked against.
    pub limit: u32,
    /// Tokens leased in the window, by every worker together.
    pub leased: u32,
}

/// What one lease got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// Tokens granted: what was asked, fewer when the window had fewer left, 0 when it is spent.
    pub granted: u32,
    /// Tokens the window had left right after this lease (others may take them since).
    pub left: u32,
}

/// The request windows of every tenant: one counter per tenant and window.
#[async_trait::async_trait]
pub trait RequestWindows: Send + Sync + Debug {
    /// Leases up to `want` of the `limit` tokens of the tenant's `window`: `want`, fewer when the
    /// window has fewer left, none when it is spent. However many workers lease at once, a
    /// window's leases never add up to more than `limit`.
    async fn lease(
        &self,
        tenant: &TenantId,
        window: Window,
        want: u32,
        limit: u32,
    ) -> Result<Lease, StoreError>;

    /// The tenant's windows of `length_ms` that start in `[from_ms, to_ms)`, oldest first (for
    /// tests and for looking at what a tenant spent).
    async fn usage(
        &self,
        tenant: &TenantId,
        length_ms: u64,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<WindowUsage>, StoreError>;
}

/// Refuses a lease no store could grant sensibly.
fn check_lease(window: Window, want: u32, limit: u32) -> Result<(), StoreError> {
    let invalid = |field: &str, reason: &str| {
        Err(StoreError::Invalid {
            field: field.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if window.length_ms == 0 || !window.start_ms.is_multiple_of(window.length_ms) {
        return invalid(
            "window",
            "must be at least 1 ms long and start on a multiple of it",
        );
    }
    if want == 0 {
        return invalid("want", "a lease asks for at least one token");
    }
    if limit == 0 {
        return invalid("limit", "a window allows at least one request");
    }
    Ok(())
}

/// Wall-clock time in epoch milliseconds: windows are aligned on it so every process agrees.
pub trait WallClock: Send + Sync + Debug {
    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemWallClock;

impl WallClock for SystemWallClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A wall clock that follows tokio's clock from a given epoch instant: under paused tokio time
/// (`start_paused`), sleeping until the next window moves it there at once, so tests step through
/// windows deterministically.
#[derive(Debug, Clone, Copy)]
pub struct TokioWallClock {
    epoch_ms: u64,
    start: tokio::time::Instant,
}

impl TokioWallClock {
    /// A clock that reads `epoch_ms` now and moves with tokio's clock.
    pub fn starting_at(epoch_ms: u64) -> Self {
        TokioWallClock {
            epoch_ms,
            start: tokio::time::Instant::now(),
        }
    }
}

impl WallClock for TokioWallClock {
    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.epoch_ms.saturating_add(elapsed)
    }
}

/// How one worker's [`RateGate`] leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatePolicy {
    /// Requests a window allows, every worker together.
    pub limit: u32,
    /// The window length.
    pub window: Duration,
    /// Tokens the first lease of a window asks for.
    pub first_chunk: u32,
    /// Most tokens one lease asks for.
    pub max_chunk: u32,
}

impl GatePolicy {
    /// `per_second` requests a second in windows of `window` (at least 1 ms): a window allows
    /// `per_second × window` requests (at least 1); leases start at 2 tokens and grow to a quarter
    /// of the limit.
    pub fn new(per_second: NonZeroU32, window: Duration) -> Self {
        let window = window.max(Duration::from_millis(1));
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let per_window = (u64::from(per_second.get()).saturating_mul(window_ms) + 500) / 1000;
        let limit = u32::try_from(per_window).unwrap_or(u32::MAX).max(1);
        let max_chunk = limit.div_ceil(4).max(1);
        GatePolicy {
            limit,
            window,
            first_chunk: max_chunk.min(2),
            max_chunk,
        }
    }

    fn window_ms(&self) -> u64 {
        u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// What [`RateGate::admit`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateDecision {
    /// Send the request now.
    Admitted,
    /// The window is spent: ask again after this long (the start of the next window).
    WaitFor(Duration),
}

/// What one [`RateGate`] did since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateStats {
    /// Requests admitted.
    pub admitted: u64,
    /// Leases that got tokens.
    pub leases: u64,
    /// Tokens those leases got (admitted plus those dropped when their window ended).
    pub tokens_leased: u64,
    /// Times a request was told to wait for the next window.
    pub waits: u64,
}

/// A lease's leftovers in the current window.
#[derive(Debug, Default)]
struct LeaseState {
    window: Option<Window>,
    left: u32,
    next_chunk: u32,
    spent: bool,
}

/// Leases a store's request windows failed to come back from within their window this many times
/// in a row before the gate reports the store too slow for the window length.
const MAX_LATE_LEASES: u32 = 3;

/// One worker's gate on one tenant's request budget: admits a request when the worker holds a
/// token of the current window, leasing a chunk from the shared [`RequestWindows`] when it holds
/// none, and says how long to wait when the window is spent. Cheap to share (`Arc`); tasks of the
/// worker lease one at a time, so a chunk serves them all.
#[derive(Debug)]
pub struct RateGate {
    windows: Arc<dyn RequestWindows>,
    tenant: TenantId,
    policy: GatePolicy,
    clock: Arc<dyn WallClock>,
    state: tokio::sync::Mutex<LeaseState>,
    admitted: AtomicU64,
    leases: AtomicU64,
    tokens_leased: AtomicU64,
    waits: AtomicU64,
}

impl RateGate {
    /// A gate on `tenant`'s windows in `windows`, leasing by `policy`, on `clock`.
    pub fn new(
        windows: Arc<dyn RequestWindows>,
        tenant: TenantId,
        policy: GatePolicy,
        clock: Arc<dyn WallClock>,
    ) -> Self {
        RateGate {
            windows,
            tenant,
            policy,
            clock,
            state: tokio::sync::Mutex::new(LeaseState::default()),
            admitted: AtomicU64::new(0),
            leases: AtomicU64::new(0),
            tokens_leased: AtomicU64::new(0),
            waits: AtomicU64::new(0),
        }
    }

    /// The tenant it gates.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Its policy.
    pub fn policy(&self) -> GatePolicy {
        self.policy
    }

    /// Counters since it was built.
    pub fn stats(&self) -> GateStats {
        GateStats {
            admitted: self.admitted.load(Ordering::Relaxed),
            leases: self.leases.load(Ordering::Relaxed),
            tokens_leased: self.tokens_leased.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
        }
    }

    /// Admits one request now, or says how long to wait for the next window. A store failure is
    /// returned as is ([`StoreError::is_transient`] says whether to ask again).
    pub async fn admit(&self) -> Result<GateDecision, StoreError> {
        let length_ms = self.policy.window_ms();
        let mut state = self.state.lock().await;
        let mut late = 0;
        loop {
            let now = self.clock.now_ms();
            let window = Window::containing(now, length_ms);
            if state.window != Some(window) {
                *state = LeaseState {
                    window: Some(window),
                    left: 0,
                    next_chunk: self
                        .policy
                        .first_chunk
                        .clamp(1, self.policy.max_chunk.max(1)),
                    spent: false,
                };
            }
            if state.left > 0 {
                state.left -= 1;
                self.admitted.fetch_add(1, Ordering::Relaxed);
                return Ok(GateDecision::Admitted);
            }
            if state.spent {
                self.waits.fetch_add(1, Ordering::Relaxed);
                let wait = window.end_ms().saturating_sub(now).max(1);
                return Ok(GateDecision::WaitFor(Duration::from_millis(wait)));
            }
            let want = state.next_chunk;
            let Lease { granted, left } = self
                .windows
                .lease(&self.tenant, window, want, self.policy.limit)
                .await?;
            if granted > 0 {
                self.leases.fetch_add(1, Ordering::Relaxed);
                self.tokens_leased
                    .fetch_add(u64::from(granted), Ordering::Relaxed);
            }
            if self.clock.now_ms() >= window.end_ms() {
                // The answer came after its window: its tokens counted there, so none is used now.
                late += 1;
                if late >= MAX_LATE_LEASES {
                    return Err(StoreError::Backend {
                        operation: "UpdateItem",
                        detail: format!(
                            "tenant {} request windows: {late} leases in a row answered after their {length_ms} ms window ended",
                            self.tenant
                        ),
                        transient: true,
                    });
                }
                continue;
            }
            if granted == 0 {
                state.spent = true;
                continue;
            }
            state.left = granted;
            // What the window had left bounds the next chunk; nothing left: no lease to find out.
            state.spent = left == 0;
            state.next_chunk = want
                .saturating_mul(2)
                .min(self.policy.max_chunk)
                .min(left)
                .max(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000_000;

    #[test]
    fn windows_are_aligned_on_the_epoch() {
        let w = Window::containing(T0 + 1_234, 1_000);
        assert_eq!(w.start_ms, T0 + 1_000);
        assert_eq!(w.end_ms(), T0 + 2_000);
        assert_eq!(Window::containing(T0 + 1_999, 1_000), w);
        assert_ne!(Window::containing(T0 + 2_000, 1_000), w);
    }

    #[test]
    fn a_policy_spreads_the_per_second_limit_over_its_window_and_chunks_a_quarter() {
        let ten = NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN);
        let p = GatePolicy::new(ten, DEFAULT_WINDOW);
        assert_eq!((p.limit, p.first_chunk, p.max_chunk), (10, 2, 3));
        let p = GatePolicy::new(ten, Duration::from_millis(200));
        assert_eq!((p.limit, p.first_chunk, p.max_chunk), (2, 1, 1));
        let p = GatePolicy::new(NonZeroU32::MIN, Duration::from_millis(10));
        assert_eq!(p.limit, 1, "a window allows at least one request");
        let big = NonZeroU32::new(10_000).unwrap_or(NonZeroU32::MIN);
        assert_eq!(GatePolicy::new(big, DEFAULT_WINDOW).max_chunk, 2_500);
    }
}
