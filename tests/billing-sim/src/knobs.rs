//! Test knobs: latency, a fixed-window rate limit, injected faults, the simulated clock and the
//! per-route call counters. Everything here is deterministic given its settings (faults "at a
//! rate" draw from a seeded RNG). Knobs never look at record data.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::OffsetDateTime;

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer with this status (500, 502, 503, 504, …) and the contract's error body.
    Status(u16),
    /// Answer 429 with `Retry-After: <retry_after_secs>` and the contract's error body.
    Throttle {
        /// Seconds sent in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Wait this long, then handle the request normally (lets a client's timeout fire first).
    Delay(Duration),
    /// Close the TCP connection without sending any response.
    Drop,
    /// Handle the request (a write lands), then send its status with a body cut in half, which
    /// is not JSON.
    MalformedJson,
    /// Never answer: the request is held open (after it was handled, with `after_processing`)
    /// and [`crate::BillingSim::frozen`] is notified, so a test can kill the worker waiting on
    /// it at exactly that point.
    Freeze,
}

/// When a fault fires, counted over the calls that match the rule.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultTrigger {
    /// Every matching call.
    Always,
    /// Only the Nth matching call (1-based).
    Nth(u64),
    /// The next N matching calls.
    NextN(u64),
    /// Each matching call with this probability, drawn from an RNG seeded with `seed`.
    Rate {
        /// Chance of firing, from 0.0 to 1.0.
        probability: f64,
        /// Seed of the RNG: the same seed fires on the same calls.
        seed: u64,
    },
}

/// A fault injection rule: which calls it matches, when it fires and what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// HTTP method to match (case-insensitive); `None` matches any.
    pub method: Option<String>,
    /// A route template (`/v1/accounts/{id}`) or a concrete path (`/v1/accounts/A-1001`), either
    /// with `*` wildcards; `None` matches any route.
    pub route: Option<String>,
    /// When it fires.
    pub trigger: FaultTrigger,
    /// What it does.
    pub kind: FaultKind,
    /// Handle the request (commit the write) first, then fail: "the PATCH landed but the client
    /// never heard". [`FaultKind::MalformedJson`] always does.
    pub after_processing: bool,
}

impl FaultRule {
    /// A rule that fires on every call; narrow it with `on`, `nth`, `next`, `rate`.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            method: None,
            route: None,
            trigger: FaultTrigger::Always,
            kind,
            after_processing: false,
        }
    }

    /// Only calls of `method` on `route` (a template such as `/v1/accounts/{id}`).
    pub fn on(mut self, method: &str, route: &str) -> Self {
        self.method = Some(method.to_owned());
        self.route = Some(route.to_owned());
        self
    }

    /// Only the Nth matching call (1-based).
    pub fn nth(mut self, n: u64) -> Self {
        self.trigger = FaultTrigger::Nth(n);
        self
    }

    /// The next `n` matching calls.
    pub fn next(mut self, n: u64) -> Self {
        self.trigger = FaultTrigger::NextN(n);
        self
    }

    /// Each matching call with `probability`, reproducibly for one `seed`.
    pub fn rate(mut self, probability: f64, seed: u64) -> Self {
        self.trigger = FaultTrigger::Rate { probability, seed };
        self
    }

    /// Fails after the request was handled.
    pub fn after_processing(mut self) -> Self {
        self.after_processing = true;
        self
    }

    fn matches(&self, method: &str, template: &str, path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        match &self.route {
            None => true,
            Some(p) => glob_match(p, template) || glob_match(p, path),
        }
    }
}

/// `*` matches any run of characters (including `/`); otherwise the texts must be equal.
fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    let text = text.trim_end_matches('/');
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(pos) => rest = &rest[pos + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[derive(Debug)]
struct FaultState {
    rule: FaultRule,
    seen: u64,
    fired: u64,
    rng: Option<StdRng>,
}

/// Calls the simulator received, by route. Keys are `"METHOD /template"`, e.g.
/// `"GET /v1/accounts/{id}"`; requests on no route count as `"METHOD <unmatched>"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingCallStats {
    /// Every call, refused ones (401, 429, faults) included.
    pub total: u64,
    /// Write calls: PATCHes and batch write-backs (`POST /v1/write-backs`), one per call.
    pub writes: u64,
    /// Records sent to be written: one per PATCH, one per item of a batch write-back (counted
    /// when the body is read; refused items included).
    pub records_written: u64,
    /// Calls per `"METHOD /template"`.
    pub by_route: BTreeMap<String, u64>,
    /// The longest request target (path and query, as sent) seen, in characters.
    pub longest_target: usize,
}

impl BillingCallStats {
    /// Every call.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Write calls (PATCHes and batch write-backs).
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Records sent to be written, in either form.
    pub fn records_written(&self) -> u64 {
        self.records_written
    }

    /// Calls of one route: `count("GET", "/v1/accounts/{id}")`.
    pub fn count(&self, method: &str, route_template: &str) -> u64 {
        let key = format!("{} {}", method.to_ascii_uppercase(), route_template);
        self.by_route.get(&key).copied().unwrap_or(0)
    }

    /// The longest request target seen (path and query); add the origin's length for the URL.
    pub fn longest_target(&self) -> usize {
        self.longest_target
    }

    pub(crate) fn record(&mut self, method: &str, template: &str, target_len: usize) {
        self.total += 1;
        if method == "PATCH" || (method == "POST" && template == "/v1/write-backs") {
            self.writes += 1;
        }
        *self
            .by_route
            .entry(format!("{method} {template}"))
            .or_insert(0) += 1;
        self.longest_target = self.longest_target.max(target_len);
    }
}

/// A fixed-window rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub(crate) max_requests: u32,
    pub(crate) window: Duration,
    pub(crate) retry_after_secs: u64,
}

/// All knob settings and their running state.
#[derive(Debug, Default)]
pub(crate) struct Knobs {
    pub(crate) latency: Duration,
    rate_limit: Option<RateLimit>,
    window_start: Option<Instant>,
    window_count: u32,
    faults: Vec<FaultState>,
    /// Fixed simulated time; `None` = real UTC now.
    pub(crate) clock: Option<OffsetDateTime>,
    /// Serve only the single-record write-backs: `POST /v1/write-backs` is an unknown route
    /// (404), as on a billing system that implements the contract without the batch form.
    pub(crate) single_write_backs_only: bool,
    /// Notified once per request a [`FaultKind::Freeze`] holds.
    pub(crate) frozen: std::sync::Arc<tokio::sync::Notify>,
}

impl Knobs {
    pub(crate) fn set_rate_limit(&mut self, limit: Option<RateLimit>) {
        self.rate_limit = limit;
        self.window_start = None;
        self.window_count = 0;
    }

    /// Counts a call against the rate limit; `Some(retry-after seconds)` when it is refused.
    pub(crate) fn check_rate_limit(&mut self, now: Instant) -> Option<u64> {
        let limit = self.rate_limit?;
        let start = match self.window_start {
            Some(s) if now.duration_since(s) < limit.window => s,
            _ => {
                self.window_count = 0;
                now
            }
        };
        self.window_start = Some(start);
        if self.window_count < limit.max_requests {
            self.window_count += 1;
            return None;
        }
        Some(limit.retry_after_secs)
    }

    pub(crate) fn add_fault(&mut self, rule: FaultRule) {
        let rng = match rule.trigger {
            FaultTrigger::Rate { seed, .. } => Some(StdRng::seed_from_u64(seed)),
            _ => None,
        };
        self.faults.push(FaultState {
            rule,
            seen: 0,
            fired: 0,
            rng,
        });
    }

    /// Each rule with the number of times it fired.
    pub(crate) fn fault_counts(&self) -> Vec<(FaultRule, u64)> {
        self.faults
            .iter()
            .map(|f| (f.rule.clone(), f.fired))
            .collect()
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The fault to apply to this call, if any: the first rule that fires wins, and every
    /// matching rule counts the call.
    pub(crate) fn take_fault(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
    ) -> Option<FaultRule> {
        let mut chosen = None;
        for f in &mut self.faults {
            if !f.rule.matches(method, template, path) {
                continue;
            }
            f.seen += 1;
            let fire = match &f.rule.trigger {
                FaultTrigger::Always => true,
                FaultTrigger::Nth(n) => f.seen == *n,
                FaultTrigger::NextN(n) => f.fired < *n,
                FaultTrigger::Rate { probability, .. } => f
                    .rng
                    .as_mut()
                    .is_some_and(|rng| rng.random::<f64>() < *probability),
            };
            if fire && chosen.is_none() {
                f.fired += 1;
                chosen = Some(f.rule.clone());
            }
        }
        chosen
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.unwrap_or_else(OffsetDateTime::now_utc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_nth_fault_fires_once_on_the_nth_matching_call() {
        let mut k = Knobs::default();
        k.add_fault(
            FaultRule::new(FaultKind::Status(503))
                .on("GET", "/v1/accounts")
                .nth(2),
        );
        assert!(
            k.take_fault("GET", "/v1/accounts", "/v1/accounts")
                .is_none()
        );
        assert!(
            k.take_fault("GET", "/v1/accounts/{id}", "/v1/accounts/A-1")
                .is_none()
        );
        assert!(
            k.take_fault("GET", "/v1/accounts", "/v1/accounts")
                .is_some()
        );
        assert!(
            k.take_fault("GET", "/v1/accounts", "/v1/accounts")
                .is_none()
        );
    }

    #[test]
    fn next_n_faults_fire_on_that_many_calls_then_stop() {
        let mut k = Knobs::default();
        k.add_fault(FaultRule::new(FaultKind::Drop).next(2));
        let fired: Vec<bool> = (0..4)
            .map(|_| {
                k.take_fault("PATCH", "/v1/accounts/{id}", "/v1/accounts/x")
                    .is_some()
            })
            .collect();
        assert_eq!(fired, [true, true, false, false]);
    }

    #[test]
    fn wildcard_routes_match_templates_and_concrete_paths() {
        assert!(glob_match("/v1/accounts/*", "/v1/accounts/A-1/sites/S-1"));
        assert!(glob_match(
            "*/sites/*",
            "/v1/accounts/{accountId}/sites/{siteId}"
        ));
        assert!(glob_match("/v1/accounts/{id}", "/v1/accounts/{id}"));
        assert!(!glob_match("/v1/accounts", "/v1/accounts/{id}"));
    }

    #[test]
    fn the_rate_limit_refuses_calls_beyond_the_window_quota() {
        let mut k = Knobs::default();
        k.set_rate_limit(Some(RateLimit {
            max_requests: 2,
            window: Duration::from_secs(1),
            retry_after_secs: 7,
        }));
        let now = Instant::now();
        assert_eq!(k.check_rate_limit(now), None);
        assert_eq!(k.check_rate_limit(now), None);
        assert_eq!(k.check_rate_limit(now), Some(7));
        assert_eq!(k.check_rate_limit(now + Duration::from_millis(1001)), None);
    }

    #[test]
    fn seeded_rate_faults_are_reproducible() {
        let run = || {
            let mut k = Knobs::default();
            k.add_fault(FaultRule::new(FaultKind::Status(500)).rate(0.5, 42));
            (0..20)
                .map(|_| k.take_fault("GET", "/a", "/a").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert!(run().iter().any(|b| *b) && run().iter().any(|b| !*b));
    }
}
