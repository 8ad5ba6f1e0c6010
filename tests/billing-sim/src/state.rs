//! Shared simulator state: the options, the records (accounts, products, subscriptions, users;
//! technicians, contracts, items, product types, service calls; invoices, payments, orders,
//! projects, contract templates),
//! the call counters and the knobs behind one mutex, which is never held across an await.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use cwsync_billing::models::{
    Account, AccountUser, Contract, ContractTemplate, Invoice, Item, Order, Payment, Product,
    ProductType, Project, ServiceCall, Subscription, Technician,
};
use cwsync_billing::{Listed, RecordKind};
use serde::Serialize;
use time::OffsetDateTime;

use crate::BillingSimOptions;
use crate::cursor::Cursors;
use crate::fixtures::Fixtures;
use crate::knobs::{BillingCallStats, Knobs, RateLimit};

/// The number of the first service call the simulator makes (`SC-9001`).
pub(crate) const FIRST_CALL_NUMBER: u64 = 9001;

/// Mutable simulator state.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Accounts by id.
    pub(crate) accounts: BTreeMap<String, Account>,
    /// Products by id.
    pub(crate) products: BTreeMap<String, Product>,
    /// Subscriptions by id (cancelled ones stay: the contract never deletes one).
    pub(crate) subscriptions: BTreeMap<String, Subscription>,
    /// Users of accounts by id.
    pub(crate) users: BTreeMap<String, AccountUser>,
    /// Technicians by id.
    pub(crate) technicians: BTreeMap<String, Technician>,
    /// Contracts by id.
    pub(crate) contracts: BTreeMap<String, Contract>,
    /// Items by id.
    pub(crate) items: BTreeMap<String, Item>,
    /// Product types by id.
    pub(crate) product_types: BTreeMap<String, ProductType>,
    /// Service calls by id (never deleted).
    pub(crate) service_calls: BTreeMap<String, ServiceCall>,
    /// Invoices by id.
    pub(crate) invoices: BTreeMap<String, Invoice>,
    /// Payments and refunds by id (never deleted).
    pub(crate) payments: BTreeMap<String, Payment>,
    /// Orders by id.
    pub(crate) orders: BTreeMap<String, Order>,
    /// Projects, options and change orders by id.
    pub(crate) projects: BTreeMap<String, Project>,
    /// Contract templates by id.
    pub(crate) contract_templates: BTreeMap<String, ContractTemplate>,
    /// The number of the last service call made (ids `SC-<n>`, numbers `<n>`).
    pub(crate) last_call_number: u64,
    pub(crate) calls: BillingCallStats,
    pub(crate) knobs: Knobs,
    /// The keys of cursors too long to hold them.
    pub(crate) cursors: Cursors,
    /// Fields served in place of a record's own (`BillingSim::corrupt_record`), by kind and id.
    pub(crate) corruptions:
        BTreeMap<(RecordKind, String), serde_json::Map<String, serde_json::Value>>,
    /// Fields left out of a record as served (`BillingSim::omit`), by kind and id.
    pub(crate) omissions: BTreeMap<(RecordKind, String), std::collections::BTreeSet<String>>,
}

impl Inner {
    /// A record as served: its JSON with any corruption applied.
    pub(crate) fn served<T: Listed>(&self, record: &T) -> serde_json::Value {
        let mut value = serde_json::to_value(record).unwrap_or(serde_json::Value::Null);
        if let (Some(fields), Some(object)) = (
            self.corruptions.get(&(T::KIND, record.id().to_owned())),
            value.as_object_mut(),
        ) {
            for (field, bad) in fields {
                object.insert(field.clone(), bad.clone());
            }
        }
        if let (Some(fields), Some(object)) = (
            self.omissions.get(&(T::KIND, record.id().to_owned())),
            value.as_object_mut(),
        ) {
            for field in fields {
                object.remove(field);
            }
        }
        value
    }
}

/// A kind of record the simulator stores: where its table is.
pub(crate) trait Table: Listed + Serialize {
    fn rows(inner: &Inner) -> &BTreeMap<String, Self>;
    fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self>;
    /// Sets `updatedAt`.
    fn stamp(&mut self, at: OffsetDateTime);
}

impl Table for Account {
    fn rows(inner: &Inner) -> &BTreeMap<String, Self> {
        &inner.accounts
    }
    fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self> {
        &mut inner.accounts
    }
    fn stamp(&mut self, at: OffsetDateTime) {
        self.updated_at = at;
    }
}

impl Table for Product {
    fn rows(inner: &Inner) -> &BTreeMap<String, Self> {
        &inner.products
    }
    fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self> {
        &mut inner.products
    }
    fn stamp(&mut self, at: OffsetDateTime) {
        self.updated_at = at;
    }
}

impl Table for Subscription {
    fn rows(inner: &Inner) -> &BTreeMap<String, Self> {
        &inner.subscriptions
    }
    fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self> {
        &mut inner.subscriptions
    }
    fn stamp(&mut self, at: OffsetDateTime) {
        self.updated_at = at;
    }
}

impl Table for AccountUser {
    fn rows(inner: &Inner) -> &BTreeMap<String, Self> {
        &inner.users
    }
    fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self> {
        &mut inner.users
    }
    fn stamp(&mut self, at: OffsetDateTime) {
        self.updated_at = at;
    }
}

/// A table of records that only change by `modify`: `updatedAt` is their whole stamp.
macro_rules! stamped_by_updated_at {
    ($($record:ty => $rows:ident),* $(,)?) => {$(
        impl Table for $record {
            fn rows(inner: &Inner) -> &BTreeMap<String, Self> {
                &inner.$rows
            }
            fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self> {
                &mut inner.$rows
            }
            fn stamp(&mut self, at: OffsetDateTime) {
                self.updated_at = at;
            }
        }
    )*};
}

stamped_by_updated_at!(
    Technician => technicians,
    Item => items,
    ProductType => product_types,
    Invoice => invoices,
    Payment => payments,
    Order => orders,
    Project => projects,
    ContractTemplate => contract_templates,
);

impl Table for Contract {
    fn rows(inner: &Inner) -> &BTreeMap<String, Self> {
        &inner.contracts
    }
    fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self> {
        &mut inner.contracts
    }
    /// A contract's every change moves its version too.
    fn stamp(&mut self, at: OffsetDateTime) {
        self.updated_at = at;
        self.version = self.version.saturating_add(1);
    }
}

impl Table for ServiceCall {
    fn rows(inner: &Inner) -> &BTreeMap<String, Self> {
        &inner.service_calls
    }
    fn rows_mut(inner: &mut Inner) -> &mut BTreeMap<String, Self> {
        &mut inner.service_calls
    }
    /// A call's every change moves its version too.
    fn stamp(&mut self, at: OffsetDateTime) {
        self.updated_at = at;
        self.version = self.version.saturating_add(1);
    }
}

/// Stores `records` as given (their `updatedAt` included), replacing any with the same id.
pub(crate) fn seed<T: Table>(inner: &mut Inner, records: impl IntoIterator<Item = T>) {
    let rows = T::rows_mut(inner);
    for record in records {
        rows.insert(record.id().to_owned(), record);
    }
    // New calls are numbered after every seeded one.
    let highest = inner
        .service_calls
        .keys()
        .filter_map(|id| id.strip_prefix("SC-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    inner.last_call_number = inner.last_call_number.max(highest);
}

/// Changes a stored record as a user of the billing system would and stamps it with the
/// simulated clock; `false` when there is no such record. Changing the id moves the record.
pub(crate) fn modify<T: Table>(inner: &mut Inner, id: &str, change: impl FnOnce(&mut T)) -> bool {
    let now = inner.knobs.now();
    // A copy is changed, so a closure that panics leaves the stored record as it was.
    let Some(mut record) = T::rows(inner).get(id).cloned() else {
        return false;
    };
    change(&mut record);
    record.stamp(now);
    let rows = T::rows_mut(inner);
    rows.remove(id);
    rows.insert(record.id().to_owned(), record);
    true
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) options: BillingSimOptions,
    /// The fixtures parsed once at start, for seeding and resets.
    fixtures: Fixtures,
    inner: Mutex<Inner>,
}

impl SimState {
    pub(crate) fn new(options: BillingSimOptions, fixtures: Fixtures) -> Self {
        let state = Self {
            options,
            fixtures,
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

    /// Back to the state at start: the options' knobs, and the fixtures when they ask for them.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        *inner = Inner {
            last_call_number: FIRST_CALL_NUMBER - 1,
            ..Inner::default()
        };
        inner.knobs.latency = self.options.latency;
        inner.knobs.clock = self.options.clock;
        inner.knobs.single_write_backs_only = self.options.single_write_backs_only;
        inner
            .knobs
            .set_rate_limit(self.options.rate_limit.map(rate_limit));
        if self.options.seed_fixture {
            let f = &self.fixtures;
            seed(&mut inner, f.accounts.iter().cloned());
            seed(&mut inner, f.products.iter().cloned());
            seed(&mut inner, f.subscriptions.iter().cloned());
            seed(&mut inner, f.users.iter().cloned());
            seed(&mut inner, f.technicians.iter().cloned());
            seed(&mut inner, f.contracts.iter().cloned());
            seed(&mut inner, f.items.iter().cloned());
            seed(&mut inner, f.product_types.iter().cloned());
            seed(&mut inner, f.service_calls.iter().cloned());
            seed(&mut inner, f.invoices.iter().cloned());
            seed(&mut inner, f.payments.iter().cloned());
            seed(&mut inner, f.orders.iter().cloned());
            seed(&mut inner, f.projects.iter().cloned());
            seed(&mut inner, f.contract_templates.iter().cloned());
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
