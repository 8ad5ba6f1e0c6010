//! What the contract lists, and how a listing reads: the kinds of listed records
//! ([`RecordKind`], [`Listed`]), the queries that narrow a listing ([`RecordQuery`] for accounts
//! and products, [`AccountRecordQuery`] for the subscriptions and users of accounts), and what a
//! listing returns ([`Listing`]: the valid records, each once in its latest version, and the
//! records that do not match their schema, each named by its id and the wrong field as a
//! [`MalformedRecord`]).
//!
//! Every kind is listed the same way (`GET /v1/<collection>`, keyset cursor paging in
//! `(updatedAt, id)` order, inclusive `updatedSince`, an `ids` filter); the HTTP side is
//! [`crate::BillingClient`]'s generic listing.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::models::{
    Account, AccountUser, Contract, ContractTemplate, Invoice, Item, Order, Payment, Product,
    ProductType, Project, ServiceCall, Subscription, Technician,
};

/// The kinds of records the contract lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// `/v1/accounts`: [`Account`].
    Account,
    /// `/v1/products`: [`Product`].
    Product,
    /// `/v1/subscriptions`: [`Subscription`].
    Subscription,
    /// `/v1/users`: [`AccountUser`].
    User,
    /// `/v1/technicians`: [`Technician`].
    Technician,
    /// `/v1/contracts`: [`Contract`].
    Contract,
    /// `/v1/items`: [`Item`].
    Item,
    /// `/v1/product-types`: [`ProductType`].
    ProductType,
    /// `/v1/service-calls`: [`ServiceCall`].
    ServiceCall,
    /// `/v1/invoices`: [`Invoice`].
    Invoice,
    /// `/v1/payments`: [`Payment`].
    Payment,
    /// `/v1/orders`: [`Order`].
    Order,
    /// `/v1/projects`: [`Project`].
    Project,
    /// `/v1/contract-templates`: [`ContractTemplate`].
    ContractTemplate,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 14] = [
        RecordKind::Account,
        RecordKind::Product,
        RecordKind::Subscription,
        RecordKind::User,
        RecordKind::Technician,
        RecordKind::Contract,
        RecordKind::Item,
        RecordKind::ProductType,
        RecordKind::ServiceCall,
        RecordKind::Invoice,
        RecordKind::Payment,
        RecordKind::Order,
        RecordKind::Project,
        RecordKind::ContractTemplate,
    ];

    /// The record in words (`subscription`), as errors name it.
    pub fn noun(self) -> &'static str {
        match self {
            RecordKind::Account => "account",
            RecordKind::Product => "product",
            RecordKind::Subscription => "subscription",
            RecordKind::User => "user",
            RecordKind::Technician => "technician",
            RecordKind::Contract => "contract",
            RecordKind::Item => "item",
            RecordKind::ProductType => "product type",
            RecordKind::ServiceCall => "service call",
            RecordKind::Invoice => "invoice",
            RecordKind::Payment => "payment",
            RecordKind::Order => "order",
            RecordKind::Project => "project",
            RecordKind::ContractTemplate => "contract template",
        }
    }

    /// The path segment of the collection (`subscriptions`).
    pub fn collection(self) -> &'static str {
        match self {
            RecordKind::Account => "accounts",
            RecordKind::Product => "products",
            RecordKind::Subscription => "subscriptions",
            RecordKind::User => "users",
            RecordKind::Technician => "technicians",
            RecordKind::Contract => "contracts",
            RecordKind::Item => "items",
            RecordKind::ProductType => "product-types",
            RecordKind::ServiceCall => "service-calls",
            RecordKind::Invoice => "invoices",
            RecordKind::Payment => "payments",
            RecordKind::Order => "orders",
            RecordKind::Project => "projects",
            RecordKind::ContractTemplate => "contract-templates",
        }
    }

    /// The listing's route (`/v1/subscriptions`), as logs and call counters name it.
    pub fn list_route(self) -> &'static str {
        match self {
            RecordKind::Account => "/v1/accounts",
            RecordKind::Product => "/v1/products",
            RecordKind::Subscription => "/v1/subscriptions",
            RecordKind::User => "/v1/users",
            RecordKind::Technician => "/v1/technicians",
            RecordKind::Contract => "/v1/contracts",
            RecordKind::Item => "/v1/items",
            RecordKind::ProductType => "/v1/product-types",
            RecordKind::ServiceCall => "/v1/service-calls",
            RecordKind::Invoice => "/v1/invoices",
            RecordKind::Payment => "/v1/payments",
            RecordKind::Order => "/v1/orders",
            RecordKind::Project => "/v1/projects",
            RecordKind::ContractTemplate => "/v1/contract-templates",
        }
    }

    /// The route of one record (`/v1/subscriptions/{id}`).
    pub fn record_route(self) -> &'static str {
        match self {
            RecordKind::Account => "/v1/accounts/{id}",
            RecordKind::Product => "/v1/products/{id}",
            RecordKind::Subscription => "/v1/subscriptions/{id}",
            RecordKind::User => "/v1/users/{id}",
            RecordKind::Technician => "/v1/technicians/{id}",
            RecordKind::Contract => "/v1/contracts/{id}",
            RecordKind::Item => "/v1/items/{id}",
            RecordKind::ProductType => "/v1/product-types/{id}",
            RecordKind::ServiceCall => "/v1/service-calls/{id}",
            RecordKind::Invoice => "/v1/invoices/{id}",
            RecordKind::Payment => "/v1/payments/{id}",
            RecordKind::Order => "/v1/orders/{id}",
            RecordKind::Project => "/v1/projects/{id}",
            RecordKind::ContractTemplate => "/v1/contract-templates/{id}",
        }
    }

    /// The route that finds a record by its external reference, for the kinds cwsync creates
    /// idempotently (service calls, orders).
    pub fn by_reference_route(self) -> Option<&'static str> {
        match self {
            RecordKind::ServiceCall => Some("/v1/service-calls/by-reference/{externalReference}"),
            RecordKind::Order => Some("/v1/orders/by-reference/{externalReference}"),
            RecordKind::Contract => Some("/v1/contracts/by-reference/{externalReference}"),
            _ => None,
        }
    }

    /// Whether records of this kind belong to an account, so their listing takes `accountIds`.
    pub fn belongs_to_account(self) -> bool {
        matches!(
            self,
            RecordKind::Subscription
                | RecordKind::User
                | RecordKind::Contract
                | RecordKind::ServiceCall
                | RecordKind::Invoice
                | RecordKind::Payment
                | RecordKind::Order
                | RecordKind::Project
        )
    }

    /// The query parameters the listing takes, in the order the contract lists them.
    pub fn list_parameters(self) -> &'static [&'static str] {
        if self == RecordKind::ServiceCall {
            &[
                "updatedSince",
                "ids",
                "accountIds",
                "flaggedForConnectWise",
                "cursor",
                "limit",
            ]
        } else if self == RecordKind::Payment {
            &[
                "updatedSince",
                "ids",
                "accountIds",
                "invoiceIds",
                "cursor",
                "limit",
            ]
        } else if self.belongs_to_account() {
            &["updatedSince", "ids", "accountIds", "cursor", "limit"]
        } else {
            &["updatedSince", "ids", "cursor", "limit"]
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// A record the contract lists: read one page at a time in `(updatedAt, id)` order.
pub trait Listed: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// What it is.
    const KIND: RecordKind;
    /// Its id, unique within its kind.
    fn id(&self) -> &str;
    /// When it last changed: the listing's order and `updatedSince`.
    fn updated_at(&self) -> OffsetDateTime;
    /// The account it belongs to, for the kinds that belong to one.
    fn account_id(&self) -> Option<&str> {
        None
    }
    /// Whether `flaggedForConnectWise=true` lists it (service calls waiting to become
    /// ConnectWise tickets; nothing else).
    fn awaits_connect_wise_ticket(&self) -> bool {
        false
    }
    /// The invoice it belongs to (payments; nothing else), for `invoiceIds`.
    fn invoice_id(&self) -> Option<&str> {
        None
    }
}

impl Listed for Account {
    const KIND: RecordKind = RecordKind::Account;
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

impl Listed for Product {
    const KIND: RecordKind = RecordKind::Product;
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

impl Listed for Subscription {
    const KIND: RecordKind = RecordKind::Subscription;
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
    fn account_id(&self) -> Option<&str> {
        Some(&self.account_id)
    }
}

impl Listed for AccountUser {
    const KIND: RecordKind = RecordKind::User;
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
    fn account_id(&self) -> Option<&str> {
        Some(&self.account_id)
    }
}

/// `Listed` for records identified by `id` and stamped by `updated_at` (with `account` when they
/// belong to one through `account_id`).
macro_rules! listed {
    ($($record:ident => $kind:ident $(, $account:ident)?);* $(;)?) => {$(
        impl Listed for $record {
            const KIND: RecordKind = RecordKind::$kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn updated_at(&self) -> OffsetDateTime {
                self.updated_at
            }
            $(
            fn $account(&self) -> Option<&str> {
                Some(&self.account_id)
            }
            )?
        }
    )*};
}

listed! {
    Technician => Technician;
    Contract => Contract, account_id;
    Item => Item;
    ProductType => ProductType;
    Invoice => Invoice, account_id;
    Order => Order, account_id;
    Project => Project, account_id;
    ContractTemplate => ContractTemplate;
}

impl Listed for Payment {
    const KIND: RecordKind = RecordKind::Payment;
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
    fn account_id(&self) -> Option<&str> {
        Some(&self.account_id)
    }
    fn invoice_id(&self) -> Option<&str> {
        Some(&self.invoice_id)
    }
}

impl Listed for ServiceCall {
    const KIND: RecordKind = RecordKind::ServiceCall;
    fn id(&self) -> &str {
        &self.id
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
    fn account_id(&self) -> Option<&str> {
        Some(&self.account_id)
    }
    fn awaits_connect_wise_ticket(&self) -> bool {
        ServiceCall::awaits_connect_wise_ticket(self)
    }
}

/// Which accounts or products a listing returns. Every part is optional; together they narrow
/// the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordQuery {
    /// Only records whose `updatedAt` is at or after this instant (inclusive).
    pub updated_since: Option<OffsetDateTime>,
    /// Only these ids (unknown ids are simply absent). `Some(vec![])` matches nothing, and no
    /// request is sent for it.
    pub ids: Option<Vec<String>>,
    /// Records per page, 1 to 500; default 100.
    pub page_size: Option<u32>,
}

/// Which accounts a listing returns.
pub type AccountQuery = RecordQuery;
/// Which products a listing returns.
pub type ProductQuery = RecordQuery;
/// Which technicians, items or product types a listing returns.
pub type ReferenceQuery = RecordQuery;

impl RecordQuery {
    /// Every record changed at or after `since`.
    pub fn changed_since(since: OffsetDateTime) -> Self {
        Self {
            updated_since: Some(since),
            ..Self::default()
        }
    }

    /// The records with these ids.
    pub fn by_ids<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            ids: Some(ids.into_iter().map(Into::into).collect()),
            ..Self::default()
        }
    }
}

/// Which subscriptions or users (records that belong to an account) a listing returns. Every
/// part is optional; together they narrow the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRecordQuery {
    /// Only records whose `updatedAt` is at or after this instant (inclusive).
    pub updated_since: Option<OffsetDateTime>,
    /// Only these ids (unknown ids are simply absent). `Some(vec![])` matches nothing, and no
    /// request is sent for it.
    pub ids: Option<Vec<String>>,
    /// Only the records of these accounts. `Some(vec![])` matches nothing, and no request is
    /// sent for it.
    pub account_ids: Option<Vec<String>>,
    /// Records per page, 1 to 500; default 100.
    pub page_size: Option<u32>,
}

/// Which subscriptions a listing returns.
pub type SubscriptionQuery = AccountRecordQuery;
/// Which users of accounts a listing returns.
pub type UserQuery = AccountRecordQuery;
/// Which contracts a listing returns.
pub type ContractQuery = AccountRecordQuery;
/// Which invoices, orders or projects (documents of accounts) a listing returns.
pub type DocumentQuery = AccountRecordQuery;

/// Which payments a listing returns. Every part is optional; together they narrow the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentQuery {
    /// Only payments whose `updatedAt` is at or after this instant (inclusive).
    pub updated_since: Option<OffsetDateTime>,
    /// Only these ids. `Some(vec![])` matches nothing, and no request is sent for it.
    pub ids: Option<Vec<String>>,
    /// Only the payments of these accounts. `Some(vec![])` matches nothing.
    pub account_ids: Option<Vec<String>>,
    /// Only the payments (and refunds) of these invoices. `Some(vec![])` matches nothing.
    pub invoice_ids: Option<Vec<String>>,
    /// Records per page, 1 to 500; default 100.
    pub page_size: Option<u32>,
}

impl PaymentQuery {
    /// Every payment changed at or after `since`.
    pub fn changed_since(since: OffsetDateTime) -> Self {
        Self {
            updated_since: Some(since),
            ..Self::default()
        }
    }

    /// Every payment and refund of these invoices.
    pub fn of_invoices<I, S>(invoice_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            invoice_ids: Some(invoice_ids.into_iter().map(Into::into).collect()),
            ..Self::default()
        }
    }

    pub(crate) fn filters(&self) -> Filters<'_> {
        Filters {
            updated_since: self.updated_since,
            ids: self.ids.as_deref(),
            account_ids: self.account_ids.as_deref(),
            invoice_ids: self.invoice_ids.as_deref(),
            flagged_for_connect_wise: false,
            page_size: self.page_size,
        }
    }
}

/// Which service calls a listing returns. Every part is optional; together they narrow the
/// result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceCallQuery {
    /// Only calls whose `updatedAt` is at or after this instant (inclusive).
    pub updated_since: Option<OffsetDateTime>,
    /// Only these ids. `Some(vec![])` matches nothing, and no request is sent for it.
    pub ids: Option<Vec<String>>,
    /// Only the calls of these accounts. `Some(vec![])` matches nothing.
    pub account_ids: Option<Vec<String>>,
    /// Only the calls waiting to become ConnectWise tickets (flagged, open, not on hold, not
    /// yet linked to a ticket: [`ServiceCall::awaits_connect_wise_ticket`]).
    pub flagged_for_connect_wise: bool,
    /// Records per page, 1 to 500; default 100.
    pub page_size: Option<u32>,
}

impl ServiceCallQuery {
    /// Every call changed at or after `since`.
    pub fn changed_since(since: OffsetDateTime) -> Self {
        Self {
            updated_since: Some(since),
            ..Self::default()
        }
    }

    /// The calls with these ids.
    pub fn by_ids<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            ids: Some(ids.into_iter().map(Into::into).collect()),
            ..Self::default()
        }
    }

    /// The calls waiting to become ConnectWise tickets.
    pub fn flagged_for_connect_wise() -> Self {
        Self {
            flagged_for_connect_wise: true,
            ..Self::default()
        }
    }

    pub(crate) fn filters(&self) -> Filters<'_> {
        Filters {
            updated_since: self.updated_since,
            ids: self.ids.as_deref(),
            account_ids: self.account_ids.as_deref(),
            invoice_ids: None,
            flagged_for_connect_wise: self.flagged_for_connect_wise,
            page_size: self.page_size,
        }
    }
}

impl AccountRecordQuery {
    /// Every record changed at or after `since`.
    pub fn changed_since(since: OffsetDateTime) -> Self {
        RecordQuery::changed_since(since).into()
    }

    /// The records with these ids.
    pub fn by_ids<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RecordQuery::by_ids(ids).into()
    }

    /// Every record of these accounts.
    pub fn of_accounts<I, S>(account_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            account_ids: Some(account_ids.into_iter().map(Into::into).collect()),
            ..Self::default()
        }
    }
}

impl From<RecordQuery> for AccountRecordQuery {
    fn from(query: RecordQuery) -> Self {
        Self {
            updated_since: query.updated_since,
            ids: query.ids,
            account_ids: None,
            page_size: query.page_size,
        }
    }
}

/// A query's filters, whatever its kind.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Filters<'a> {
    pub(crate) updated_since: Option<OffsetDateTime>,
    pub(crate) ids: Option<&'a [String]>,
    pub(crate) account_ids: Option<&'a [String]>,
    /// `invoiceIds` (payments only).
    pub(crate) invoice_ids: Option<&'a [String]>,
    /// `flaggedForConnectWise=true` (service calls only).
    pub(crate) flagged_for_connect_wise: bool,
    pub(crate) page_size: Option<u32>,
}

impl RecordQuery {
    pub(crate) fn filters(&self) -> Filters<'_> {
        Filters {
            updated_since: self.updated_since,
            ids: self.ids.as_deref(),
            account_ids: None,
            invoice_ids: None,
            flagged_for_connect_wise: false,
            page_size: self.page_size,
        }
    }
}

impl AccountRecordQuery {
    pub(crate) fn filters(&self) -> Filters<'_> {
        Filters {
            updated_since: self.updated_since,
            ids: self.ids.as_deref(),
            account_ids: self.account_ids.as_deref(),
            invoice_ids: None,
            flagged_for_connect_wise: false,
            page_size: self.page_size,
        }
    }
}

impl Filters<'_> {
    /// What every request of the listing sends besides its list filter.
    pub(crate) fn narrow(&self) -> Narrow {
        Narrow {
            updated_since: self.updated_since,
            flagged_for_connect_wise: self.flagged_for_connect_wise,
        }
    }
}

/// The filters every request of one listing repeats (its list filter, `ids` or `accountIds`,
/// is split over the requests).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Narrow {
    pub(crate) updated_since: Option<OffsetDateTime>,
    pub(crate) flagged_for_connect_wise: bool,
}

/// The records of a listing, and the listed records that did not match their schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    /// The valid records, each once (its latest version), in `(updatedAt, id)` order.
    pub records: Vec<T>,
    /// The records that could not be read, each named by its id and the wrong field.
    pub malformed: Vec<MalformedRecord>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            malformed: Vec::new(),
        }
    }
}

/// A listed record that does not match its schema (a missing or mistyped field): named by its
/// kind, its id and the field, so it can fail alone while the others go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedRecord {
    /// What it was listed as.
    pub kind: RecordKind,
    /// Its `id`, when it has a string one.
    pub id: Option<String>,
    /// The field that is wrong, as a dotted path (`prices[1].price`), when known.
    pub field: Option<String>,
    /// What is wrong with it (what was expected; never the value itself).
    pub reason: String,
}

impl fmt::Display for MalformedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.noun();
        match &self.id {
            Some(id) => write!(f, "{kind} {id} is not a valid {kind}")?,
            None => write!(f, "a record without a valid id is not a valid {kind}")?,
        }
        match &self.field {
            Some(field) => write!(f, ": {field}: {}", self.reason),
            None => write!(f, ": {}", self.reason),
        }
    }
}

/// The accounts of a listing, and the records that were not valid accounts
/// ([`crate::BillingClient::list_accounts_checked`]; a [`Listing`] of accounts by another name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountListing {
    /// The valid accounts, each once, in `(updatedAt, id)` order.
    pub accounts: Vec<Account>,
    /// The records that could not be read as accounts.
    pub malformed: Vec<MalformedAccount>,
}

impl From<Listing<Account>> for AccountListing {
    fn from(listing: Listing<Account>) -> Self {
        Self {
            accounts: listing.records,
            malformed: listing.malformed.into_iter().map(Into::into).collect(),
        }
    }
}

/// A listed record that is not a valid account: a [`MalformedRecord`] of
/// [`RecordKind::Account`], in the shape the customer sync reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedAccount {
    /// Its `id`, when it has a string one.
    pub id: Option<String>,
    /// The field that is wrong (`billingAddress.state`), when known.
    pub field: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl From<MalformedRecord> for MalformedAccount {
    fn from(bad: MalformedRecord) -> Self {
        Self {
            id: bad.id,
            field: bad.field,
            reason: bad.reason,
        }
    }
}

impl From<MalformedAccount> for MalformedRecord {
    fn from(bad: MalformedAccount) -> Self {
        Self {
            kind: RecordKind::Account,
            id: bad.id,
            field: bad.field,
            reason: bad.reason,
        }
    }
}

impl fmt::Display for MalformedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        MalformedRecord::from(self.clone()).fmt(f)
    }
}

/// Reads one listed record as a `T`, or names what is wrong with it (its id when it has a string
/// one, the field as a dotted path, what was expected; never the value). Every listing reads its
/// records with it; public for the property tests of the bad-input suite.
pub fn decode_one<T: Listed>(item: &serde_json::Value) -> Result<T, MalformedRecord> {
    serde_path_to_error::deserialize::<_, T>(item).map_err(|error| {
        let id = item
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let path = error.path().to_string();
        // serde's message may quote the bad value; the field and the expectation suffice.
        let reason = error.into_inner().to_string();
        let reason = reason
            .split_once(", expected ")
            .map_or(reason.clone(), |(_, expected)| {
                format!("expected {expected}")
            });
        MalformedRecord {
            kind: T::KIND,
            id,
            field: (path != ".").then_some(path),
            reason,
        }
    })
}

/// Reads each listed record on its own, so one bad record spoils only itself.
pub(crate) fn decode_all<T: Listed>(
    items: Vec<serde_json::Value>,
) -> (Vec<T>, Vec<MalformedRecord>) {
    let mut records = Vec::with_capacity(items.len());
    let mut malformed = Vec::new();
    for item in items {
        match decode_one(&item) {
            Ok(record) => records.push(record),
            Err(bad) => malformed.push(bad),
        }
    }
    (records, malformed)
}

/// Each record once — the version seen last, which is the newest: a record modified while the
/// listing ran comes again on a later page — sorted by `(updatedAt, id)`.
pub(crate) fn latest_once<T: Listed>(records: Vec<T>) -> Vec<T> {
    let mut last: HashMap<String, usize> = HashMap::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        last.insert(r.id().to_owned(), i);
    }
    let mut kept: Vec<T> = records
        .into_iter()
        .enumerate()
        .filter(|(i, r)| last.get(r.id()) == Some(i))
        .map(|(_, r)| r)
        .collect();
    kept.sort_by(|a, b| (a.updated_at(), a.id()).cmp(&(b.updated_at(), b.id())));
    kept
}

/// A malformed record seen several times (on two pages, or read again by id) is named once.
pub(crate) fn malformed_once(malformed: Vec<MalformedRecord>) -> Vec<MalformedRecord> {
    let mut seen = std::collections::HashSet::new();
    malformed
        .into_iter()
        .filter(|bad| bad.id.is_none() || seen.insert(bad.id.clone()))
        .collect()
}
