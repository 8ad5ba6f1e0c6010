//! The storm's faults: seeded rules injected into each tenant's simulators for a round, and the
//! tally of what fired, by kind.
//!
//! Every rule fires at a seeded rate, so the same seed injects the same faults on the same calls
//! (the order in which concurrent workers make their calls still varies). Kinds:
//! - ConnectWise and billing answers: 429 with and without `Retry-After`, 500/502/503/504,
//!   timeouts (a read held past the client's timeout), connections dropped before an answer;
//! - lost answers: a write applied, then its connection dropped or held past the timeout;
//! - kills ([`FaultKind::Freeze`](cwsync_connectwise_sim::FaultKind::Freeze)): the request is
//!   held and the invocation waiting on it is dropped — right after a ConnectWise create landed
//!   (before its link is written), right before the billing write-back (after the links were
//!   written), right after a billing service call was written (before the ticket job is done),
//!   or at a read in the middle of a batch.
//!
//! DynamoDB throttling is the proxy's ([`crate::dynamo_proxy`]); the delivery's disorder
//! (twice, late, out of order, two workers at once) and ConnectWise callbacks lost or sent twice
//! the storm's ([`crate::storm`]).

use std::collections::BTreeMap;
use std::time::Duration;

use cwsync_billing_sim::{BillingSim, FaultKind as BillingFault, FaultRule as BillingRule};
use cwsync_connectwise_sim::{FaultKind as CwFault, FaultRule as CwRule, Simulator};

/// How long a timed-out request is held: well past [`CLIENT_TIMEOUT`].
pub const HELD: Duration = Duration::from_millis(1_000);
/// The clients' request timeout in the storm.
pub const CLIENT_TIMEOUT: Duration = Duration::from_millis(300);

/// Fault kinds as the figures name them.
pub mod kind {
    pub const CW_429: &str = "ConnectWise 429 without Retry-After";
    pub const CW_429_RETRY_AFTER: &str = "ConnectWise 429 with Retry-After";
    pub const CW_5XX: &str = "ConnectWise 500/502/503/504";
    pub const CW_TIMEOUT: &str = "ConnectWise timeout";
    pub const CW_DROPPED: &str = "ConnectWise connection dropped";
    pub const CW_LOST_ANSWER: &str = "ConnectWise write applied, answer lost";
    pub const BILLING_429: &str = "billing 429 with Retry-After";
    pub const BILLING_5XX: &str = "billing 500/502/503";
    pub const BILLING_TIMEOUT: &str = "billing timeout";
    pub const BILLING_DROPPED: &str = "billing connection dropped";
    pub const BILLING_LOST_ANSWER: &str = "billing write applied, answer lost";
    pub const KILL_AFTER_CREATE: &str = "worker killed after a ConnectWise create landed";
    pub const KILL_BEFORE_WRITE_BACK: &str = "worker killed between link write and write-back";
    pub const KILL_MID_BATCH: &str = "worker killed mid-batch";
    pub const KILL_AFTER_BILLING_WRITE: &str = "worker killed after a billing call write landed";
    pub const DYNAMO_THROTTLE: &str = "DynamoDB throttled";
    pub const SQS_TWICE: &str = "SQS message delivered twice";
    pub const SQS_LATE: &str = "SQS message delivered late";
    pub const SQS_REORDERED: &str = "SQS batch out of order";
    pub const TWO_WORKERS: &str = "two workers on one job at once";
    pub const CALLBACK_LOST: &str = "ConnectWise callback lost";
    pub const CALLBACK_TWICE: &str = "ConnectWise callback delivered twice";
}

/// Injected faults by kind, summed over tenants and rounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(pub BTreeMap<&'static str, u64>);

impl Tally {
    /// Adds `n` faults of `kind`.
    pub fn add(&mut self, kind: &'static str, n: u64) {
        if n > 0 {
            *self.0.entry(kind).or_insert(0) += n;
        }
    }

    /// Every fault counted.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Faults of `kind`.
    pub fn get(&self, kind: &str) -> u64 {
        self.0.get(kind).copied().unwrap_or(0)
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Tally) {
        for (kind, n) in &other.0 {
            self.add(kind, *n);
        }
    }
}

/// One tenant's rules for one round, with the kind each is counted as.
#[derive(Debug)]
pub struct Injected {
    cw: Vec<&'static str>,
    billing: Vec<&'static str>,
}

/// Injects this round's rules into one tenant's simulators; `seed` varies by tenant and round.
pub fn inject(cw: &Simulator, billing: &BillingSim, seed: u64) -> Injected {
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        seed.wrapping_mul(1_000_003).wrapping_add(n)
    };
    let held = u64::try_from(HELD.as_millis()).unwrap_or(u64::MAX);
    let cw_rules: Vec<(&'static str, CwRule)> = vec![
        // Kills first: a rule that fires wins over the ones after it.
        (
            kind::KILL_AFTER_CREATE,
            CwRule::new(CwFault::Freeze)
                .on("POST", "*")
                .after_processing()
                .rate(0.02, next()),
        ),
        (
            kind::KILL_MID_BATCH,
            CwRule::new(CwFault::Freeze)
                .on("GET", "*")
                .rate(0.003, next()),
        ),
        (
            kind::CW_LOST_ANSWER,
            CwRule::new(CwFault::Drop)
                .on("POST", "*")
                .after_processing()
                .rate(0.09, next()),
        ),
        (
            kind::CW_LOST_ANSWER,
            CwRule::new(CwFault::Drop)
                .on("PATCH", "*")
                .after_processing()
                .rate(0.075, next()),
        ),
        (
            kind::CW_LOST_ANSWER,
            CwRule::new(CwFault::Hang { millis: held })
                .on("POST", "*")
                .after_processing()
                .rate(0.03, next()),
        ),
        (
            kind::CW_TIMEOUT,
            CwRule::new(CwFault::Hang { millis: held })
                .on("GET", "*")
                .rate(0.015, next()),
        ),
        (
            kind::CW_429,
            CwRule::new(CwFault::Status(429)).rate(0.0375, next()),
        ),
        (
            kind::CW_429_RETRY_AFTER,
            CwRule::new(CwFault::Throttle {
                retry_after_secs: 0,
            })
            .rate(0.0375, next()),
        ),
        (
            kind::CW_5XX,
            CwRule::new(CwFault::Status(500)).rate(0.03, next()),
        ),
        (
            kind::CW_5XX,
            CwRule::new(CwFault::Status(502)).rate(0.0225, next()),
        ),
        (
            kind::CW_5XX,
            CwRule::new(CwFault::Status(503)).rate(0.0225, next()),
        ),
        (
            kind::CW_5XX,
            CwRule::new(CwFault::Status(504)).rate(0.0225, next()),
        ),
        (
            kind::CW_DROPPED,
            CwRule::new(CwFault::Drop).rate(0.0225, next()),
        ),
    ];
    let billing_rules: Vec<(&'static str, BillingRule)> = vec![
        (
            kind::KILL_BEFORE_WRITE_BACK,
            BillingRule::new(BillingFault::Freeze)
                .on("POST", "/v1/write-backs")
                .rate(0.04, next()),
        ),
        (
            kind::KILL_AFTER_BILLING_WRITE,
            BillingRule::new(BillingFault::Freeze)
                .on("POST", "/v1/service-calls*")
                .after_processing()
                .rate(0.03, next()),
        ),
        (
            kind::KILL_AFTER_BILLING_WRITE,
            BillingRule::new(BillingFault::Freeze)
                .on("PUT", "/v1/service-calls*")
                .after_processing()
                .rate(0.03, next()),
        ),
        (
            kind::KILL_MID_BATCH,
            BillingRule::new(BillingFault::Freeze)
                .on("GET", "*")
                .rate(0.003, next()),
        ),
        (
            kind::BILLING_LOST_ANSWER,
            BillingRule::new(BillingFault::Drop)
                .on("POST", "/v1/write-backs")
                .after_processing()
                .rate(0.12, next()),
        ),
        (
            kind::BILLING_LOST_ANSWER,
            BillingRule::new(BillingFault::Drop)
                .on("POST", "/v1/service-calls*")
                .after_processing()
                .rate(0.08, next()),
        ),
        (
            kind::BILLING_LOST_ANSWER,
            BillingRule::new(BillingFault::Drop)
                .on("PUT", "/v1/service-calls*")
                .after_processing()
                .rate(0.08, next()),
        ),
        (
            kind::BILLING_TIMEOUT,
            BillingRule::new(BillingFault::Delay(HELD))
                .on("GET", "*")
                .rate(0.015, next()),
        ),
        (
            kind::BILLING_429,
            BillingRule::new(BillingFault::Throttle {
                retry_after_secs: 0,
            })
            .rate(0.045, next()),
        ),
        (
            kind::BILLING_5XX,
            BillingRule::new(BillingFault::Status(500)).rate(0.03, next()),
        ),
        (
            kind::BILLING_5XX,
            BillingRule::new(BillingFault::Status(502)).rate(0.0225, next()),
        ),
        (
            kind::BILLING_5XX,
            BillingRule::new(BillingFault::Status(503)).rate(0.0225, next()),
        ),
        (
            kind::BILLING_DROPPED,
            BillingRule::new(BillingFault::Drop).rate(0.0225, next()),
        ),
    ];
    let mut injected = Injected {
        cw: Vec::new(),
        billing: Vec::new(),
    };
    for (label, rule) in cw_rules {
        cw.inject(rule);
        injected.cw.push(label);
    }
    for (label, rule) in billing_rules {
        billing.inject(rule);
        injected.billing.push(label);
    }
    injected
}

/// Counts what fired of `injected` and removes every rule.
pub fn collect(injected: &Injected, cw: &Simulator, billing: &BillingSim) -> Tally {
    let mut tally = Tally::default();
    for (label, (_, fired)) in injected.cw.iter().zip(cw.fault_counts()) {
        tally.add(label, fired);
    }
    for (label, (_, fired)) in injected.billing.iter().zip(billing.fault_counts()) {
        tally.add(label, fired);
    }
    cw.clear_faults();
    billing.clear_faults();
    tally
}
