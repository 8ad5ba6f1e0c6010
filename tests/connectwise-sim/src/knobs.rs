//! Test knobs: latency, a fixed-window rate limit, injected faults, the simulated clock and the per-endpoint
//! call counters. Everything here is deterministic given its settings (faults "at a rate" use a seeded RNG).
//! Knobs never look at record data.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Rate limit: at most `max_requests` API calls per `window`; the rest get 429 with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub max_requests: u32,
    /// Window length in milliseconds.
    pub window_ms: u64,
    /// Value of `Retry-After` in whole seconds; None = the rest of the window, rounded up (at least 1).
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
}

impl RateLimit {
    pub fn new(max_requests: u32, window: Duration) -> RateLimit {
        RateLimit {
            max_requests,
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            retry_after_secs: None,
        }
    }

    pub fn retry_after(mut self, secs: u64) -> RateLimit {
        self.retry_after_secs = Some(secs);
        self
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Respond with this status (500, 502, 503, 504…) and a ConnectWise-like error body.
    Status(u16),
    /// A 500 whose message says the operation timed out (the only 500 pyconnectwise retries).
    TimeoutError,
    /// Sleep this long, then handle the request normally (lets a client's timeout fire first).
    Hang { millis: u64 },
    /// Close the TCP connection without sending any response.
    Drop,
    /// Answer 429 with `Retry-After: <retry_after_secs>` (the rate limit's answer, one call at a
    /// time; `Status(429)` is a 429 without the header).
    Throttle { retry_after_secs: u64 },
    /// Never answer: the request is held open (after it was handled, with `after_processing`)
    /// and [`crate::Simulator::frozen`] is notified, so a test can kill the worker waiting on it
    /// at exactly that point: a crash between a write landing and its caller recording it.
    Freeze,
    /// Answer exactly this status, `Content-Type` and body, whatever the request (an HTML error
    /// page from a proxy, a truncated or mistyped JSON body, an empty 200, `[]` where an object
    /// is expected): what a client must survive from a real server or whatever sits in front
    /// of it. Bad input for clients; the simulator's own answers stay well-formed.
    Raw {
        status: u16,
        content_type: String,
        body: String,
    },
}

/// When a fault fires, counted over the calls that match the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTrigger {
    /// Every matching call.
    Always,
    /// Only the Nth matching call (1-based).
    Nth(u64),
    /// The next N matching calls.
    NextN(u64),
    /// Each matching call with this probability, drawn from an RNG seeded with `seed`.
    Rate { probability: f64, seed: u64 },
}

/// A fault injection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method to match (case-insensitive); None = any.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern: a route template (`/company/companies/{id}`), a concrete path relative to `/apis/3.0`
    /// (`/company/companies/5`), or either with `*` wildcards; None = any path.
    #[serde(default)]
    pub path: Option<String>,
    pub trigger: FaultTrigger,
    pub kind: FaultKind,
    /// Handle the request (commit the write) first, then fail: "the POST landed but the client never heard".
    #[serde(default)]
    pub after_processing: bool,
}

impl FaultRule {
    /// A rule that fires on every call; narrow it with `on`, `nth`, `next`, `rate`.
    pub fn new(kind: FaultKind) -> FaultRule {
        FaultRule {
            method: None,
            path: None,
            trigger: FaultTrigger::Always,
            kind,
            after_processing: false,
        }
    }

    pub fn on(mut self, method: &str, path: &str) -> FaultRule {
        self.method = Some(method.to_string());
        self.path = Some(path.to_string());
        self
    }

    pub fn nth(mut self, n: u64) -> FaultRule {
        self.trigger = FaultTrigger::Nth(n);
        self
    }

    pub fn next(mut self, n: u64) -> FaultRule {
        self.trigger = FaultTrigger::NextN(n);
        self
    }

    pub fn rate(mut self, probability: f64, seed: u64) -> FaultRule {
        self.trigger = FaultTrigger::Rate { probability, seed };
        self
    }

    pub fn after_processing(mut self) -> FaultRule {
        self.after_processing = true;
        self
    }

    fn matches(&self, method: &str, template: &str, concrete: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        match &self.path {
            None => true,
            Some(p) => {
                let p = crate::facts::normalize_template(p);
                glob_match(&p, template) || glob_match(&p, concrete)
            }
        }
    }
}

/// `*` matches any run of characters (including `/`).
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern.eq_ignore_ascii_case(text);
    }
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    for (i, part) in parts.iter().enumerate() {
        let part = part.to_ascii_lowercase();
        if i == 0 {
            match rest.strip_prefix(part.as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part.as_str());
        } else {
            match rest.find(part.as_str()) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[derive(Debug)]
struct FaultState {
    rule: FaultRule,
    seen: u64,
    fired: u64,
    rng: Option<StdRng>,
}

/// Per-endpoint call counts. Keys are `"METHOD /template"`, e.g. `"GET /company/companies"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallStats {
    pub total: u64,
    pub writes: u64,
    pub by_endpoint: BTreeMap<String, u64>,
    /// Calls refused by the rate limit (429); they are counted in the other fields too.
    pub throttled: u64,
}

impl CallStats {
    pub fn total(&self) -> u64 {
        self.total
    }

    /// POST, PUT, PATCH and DELETE calls.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Calls of one endpoint: `count("GET", "/company/companies/{id}")` (trailing slash ignored).
    pub fn count(&self, method: &str, template: &str) -> u64 {
        let key = format!(
            "{} {}",
            method.to_ascii_uppercase(),
            crate::facts::normalize_template(template)
        );
        self.by_endpoint.get(&key).copied().unwrap_or(0)
    }

    pub(crate) fn record(&mut self, method: &str, template: &str) {
        self.total += 1;
        if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") {
            self.writes += 1;
        }
        *self
            .by_endpoint
            .entry(format!("{method} {template}"))
            .or_insert(0) += 1;
    }
}

/// All knob settings and their running state.
#[derive(Debug, Default)]
pub struct Knobs {
    pub latency: Duration,
    rate_limit: Option<RateLimit>,
    window_start: Option<Instant>,
    window_count: u32,
    faults: Vec<FaultState>,
    /// Fixed simulated time; None = real UTC now.
    pub clock: Option<OffsetDateTime>,
    /// Notified once per request a [`FaultKind::Freeze`] holds.
    pub frozen: std::sync::Arc<tokio::sync::Notify>,
    pub callbacks_disabled: bool,
    /// The next this many callback deliveries are lost (logged as dropped, never sent).
    pub callbacks_to_drop: usize,
    /// The next this many callback deliveries are sent twice (a storm).
    pub callbacks_to_duplicate: usize,
}

impl Knobs {
    pub fn set_rate_limit(&mut self, limit: Option<RateLimit>) {
        self.rate_limit = limit;
        self.window_start = None;
        self.window_count = 0;
    }

    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }

    /// Counts a call against the rate limit; Some(retry-after seconds) when it must be refused.
    pub fn check_rate_limit(&mut self, now: Instant) -> Option<u64> {
        let limit = self.rate_limit.as_ref()?;
        let window = Duration::from_millis(limit.window_ms);
        let start = match self.window_start {
            Some(s) if now.duration_since(s) < window => s,
            _ => {
                self.window_start = Some(now);
                self.window_count = 0;
                now
            }
        };
        if self.window_count < limit.max_requests {
            self.window_count += 1;
            return None;
        }
        let retry = limit.retry_after_secs.unwrap_or_else(|| {
            let left = window.saturating_sub(now.duration_since(start));
            left.as_millis()
                .div_ceil(1000)
                .max(1)
                .try_into()
                .unwrap_or(u64::MAX)
        });
        Some(retry)
    }

    pub fn add_fault(&mut self, rule: FaultRule) {
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
    pub fn fault_counts(&self) -> Vec<(FaultRule, u64)> {
        self.faults
            .iter()
            .map(|f| (f.rule.clone(), f.fired))
            .collect()
    }

    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    pub fn fault_rules(&self) -> Vec<FaultRule> {
        self.faults.iter().map(|f| f.rule.clone()).collect()
    }

    /// The fault to apply to this call, if any (the first rule that fires wins; every matching rule counts
    /// the call).
    pub fn take_fault(
        &mut self,
        method: &str,
        template: &str,
        concrete: &str,
    ) -> Option<FaultRule> {
        let mut chosen = None;
        for f in &mut self.faults {
            if !f.rule.matches(method, template, concrete) {
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

    pub fn now(&self) -> OffsetDateTime {
        self.clock.unwrap_or_else(OffsetDateTime::now_utc)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn nth_fault_fires_once_on_the_nth_matching_call() {
        let mut k = Knobs::default();
        k.add_fault(
            FaultRule::new(FaultKind::Status(503))
                .on("GET", "/company/companies")
                .nth(2),
        );
        assert!(
            k.take_fault("GET", "/company/companies", "/company/companies")
                .is_none()
        );
        assert!(
            k.take_fault("POST", "/company/companies", "/company/companies")
                .is_none()
        );
        assert!(
            k.take_fault("GET", "/company/companies", "/company/companies")
                .is_some()
        );
        assert!(
            k.take_fault("GET", "/company/companies", "/company/companies")
                .is_none()
        );
    }

    #[test]
    fn wildcard_paths_match_concrete_paths() {
        assert!(glob_match("/company/*", "/company/companies/5"));
        assert!(glob_match("*/sites", "/company/companies/5/sites"));
        assert!(!glob_match("/finance/*", "/company/companies"));
    }

    #[test]
    fn rate_limit_refuses_calls_beyond_the_window_quota() {
        let mut k = Knobs::default();
        k.set_rate_limit(Some(
            RateLimit::new(2, Duration::from_secs(1)).retry_after(1),
        ));
        let now = Instant::now();
        assert_eq!(k.check_rate_limit(now), None);
        assert_eq!(k.check_rate_limit(now), None);
        assert_eq!(k.check_rate_limit(now), Some(1));
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
