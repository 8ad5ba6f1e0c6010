//! Shared simulator state: the options, the accounts, the call counters and the knobs behind one
//! mutex, which is never held across an await.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use cwsync_billing::models::Account;

use crate::BillingSimOptions;
use crate::knobs::{BillingCallStats, Knobs, RateLimit};

/// Mutable simulator state.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Accounts by id.
    pub(crate) accounts: BTreeMap<String, Account>,
    pub(crate) calls: BillingCallStats,
    pub(crate) knobs: Knobs,
    /// Fields served in place of an account's own (`BillingSim::corrupt_account`), by id.
    pub(crate) corruptions: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl Inner {
    /// An account as served: its JSON with any corruption applied.
    pub(crate) fn served(&self, account: &Account) -> serde_json::Value {
        let mut value = serde_json::to_value(account).unwrap_or(serde_json::Value::Null);
        if let (Some(fields), Some(object)) =
            (self.corruptions.get(&account.id), value.as_object_mut())
        {
            for (field, bad) in fields {
                object.insert(field.clone(), bad.clone());
            }
        }
        value
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) options: BillingSimOptions,
    /// The fixture parsed once at start, for seeding and resets.
    fixture: Vec<Account>,
    inner: Mutex<Inner>,
}

impl SimState {
    pub(crate) fn new(options: BillingSimOptions, fixture: Vec<Account>) -> Self {
        let state = Self {
            options,
            fixture,
            inner: Mutex::new(Inner::default()),
        };
        state.reset();
        state
    }

    /// The state; a panic in another holder (a test's `modify_account` closure) does not make
    /// it unusable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Back to the state at start: the options' knobs, and the fixture when they ask for it.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        *inner = Inner::default();
        inner.knobs.latency = self.options.latency;
        inner.knobs.clock = self.options.clock;
        inner.knobs.single_write_backs_only = self.options.single_write_backs_only;
        inner
            .knobs
            .set_rate_limit(self.options.rate_limit.map(rate_limit));
        if self.options.seed_fixture {
            for account in &self.fixture {
                inner.accounts.insert(account.id.clone(), account.clone());
            }
        }
    }
}

/// `(max_requests, window, retry_after_secs)` as a knob.
pub(crate) fn rate_limit(
    (max_requests, window, retry_after_secs): (u32, std::time::Duration, u64),
) -> RateLimit {
    RateLimit {
        max_requests,
        window,
        retry_after_secs,
    }
}
