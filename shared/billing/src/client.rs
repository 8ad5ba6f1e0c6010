//! The HTTP client of the billing contract: construction, the bearer header, the retrying request
//! loop, the listings of every kind (one generic listing: cursor paging, `ids` and `accountIds`
//! split under the URL limit, malformed records named) and the write-backs.
//!
//! Every request goes through [`BillingClient::execute`], which applies the rules of
//! [`crate::retry`]. Ids travel as percent-encoded path segments or form-encoded query values,
//! never spliced into a URL by hand. Logs name the method, the route template (no id, no query),
//! the status and the attempt — never a header value or a body.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, IF_MATCH, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use url::Url;
use url::form_urlencoded::byte_serialize;

use crate::config::{BillingConfig, RetryPolicy, redacted_url};
use crate::error::{BillingError, FieldProblem};
use crate::listing::{
    self, AccountListing, AccountQuery, ContractQuery, DocumentQuery, Filters, Listed, Listing,
    MalformedRecord, Narrow, PaymentQuery, ProductQuery, RecordKind, ReferenceQuery,
    ServiceCallQuery, SubscriptionQuery, UserQuery,
};
use crate::models::{
    Account, AccountUpdate, AccountUser, Contact, ContactUpdate, Contract, ContractTemplate,
    ContractUpdate, HoldRequest, Invoice, Item, MAX_WRITE_BACK_BATCH, NewContract, NewOrder,
    NewServiceCall, Order, Page, Payment, Product, ProductType, Project, ServiceCall,
    ServiceCallUpdate, Site, SiteUpdate, Subscription, Technician, WriteBack, WriteBackBatch,
    WriteBackResults,
};
use crate::retry::{self, Failure};

/// Records per page when the query does not say (the contract's default).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest `limit` the contract accepts.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The longest `nextCursor` the contract allows a server to send.
pub const MAX_CURSOR_LEN: usize = 200;

const ACCOUNT: &str = "/v1/accounts/{id}";
const SITE: &str = "/v1/accounts/{accountId}/sites/{siteId}";
const CONTACT: &str = "/v1/accounts/{accountId}/contacts/{contactId}";
const WRITE_BACKS: &str = "/v1/write-backs";
const SERVICE_CALL_HOLD: &str = "/v1/service-calls/{id}/hold";
const MERGE_PATCH: &str = "application/merge-patch+json";
const JSON: &str = "application/json";

/// Counters of one client (all clones together) since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BillingStats {
    /// HTTP attempts sent, retries included.
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// 429 responses received.
    pub throttled: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

/// A client of one tenant's billing system, speaking the contract in `openapi.yaml`.
///
/// Cheap to clone: clones share one connection pool and one set of counters. `Debug` shows the
/// base URL and the counters, never the key.
#[derive(Clone)]
pub struct BillingClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The base URL, ending in `/`.
    base: Url,
    authorization: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    max_url_len: usize,
    counters: Counters,
    /// Set once the server answered the batch write-back 404, 405 or 501: it serves only the
    /// single-record PATCHes, so later write-backs go there without asking again.
    single_write_backs_only: AtomicBool,
}

impl fmt::Debug for BillingClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Deliberately leaves out the Authorization value.
        f.debug_struct("BillingClient")
            .field("base_url", &redacted_url(&self.inner.base))
            .field("max_url_len", &self.inner.max_url_len)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// One logical request (retried as a whole).
struct Call {
    method: Method,
    /// `If-Match: "<version>"`: the version an update was planned on.
    if_match: Option<u64>,
    /// The route template, for logs.
    template: &'static str,
    /// What is attempted, in words, for errors (`update account A-7`).
    operation: String,
    /// The record a 404 means is missing (`account A-7`).
    what: String,
    url: Url,
    body: Option<Vec<u8>>,
}

/// What [`BillingClient::create_service_call`] returns: the ticket's call, and whether this
/// call made it (`false`: it existed already, made by an earlier try or another worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedServiceCall {
    /// The call as the billing system holds it now.
    pub call: ServiceCall,
    /// Whether this create made it.
    pub created: bool,
}

/// What an idempotent create returns ([`BillingClient::create_order`]): the record of the
/// reference, and whether this create made it (`false`: it existed already, made by an earlier
/// try or another worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// The record as the billing system holds it now.
    pub record: T,
    /// Whether this create made it.
    pub created: bool,
}

/// A successful response.
struct Response {
    status: StatusCode,
    body: bytes::Bytes,
}

impl BillingClient {
    /// Builds a client; sends no request.
    ///
    /// Fails with [`BillingError::Config`] when the base URL is not `http(s)://host/…` without
    /// credentials, query or fragment, when the key cannot be a header value, or when
    /// `retry.max_attempts` is 0.
    pub fn new(config: BillingConfig) -> Result<Self, BillingError> {
        let base = normalize_base(config.base_url)?;
        if config.retry.max_attempts == 0 {
            return Err(config_error("retry.max_attempts must be at least 1"));
        }
        let key = config.api_key.expose_secret();
        if key.trim().is_empty() {
            return Err(config_error("the API key is empty"));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| config_error("the API key contains characters a header cannot hold"))?;
        // Keeps the value out of reqwest/hyper debug output.
        authorization.set_sensitive(true);
        // A redirect would carry the key to another place; the contract has none.
        let http = match config.http {
            Some(http) => http,
            None => cwsync_http::http_client(cwsync_http::Redirects::Never)
                .map_err(|message| BillingError::Config { message })?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                authorization,
                timeout: config.timeout,
                retry: config.retry,
                max_url_len: config.max_url_len,
                counters: Counters::default(),
                single_write_backs_only: AtomicBool::new(false),
            }),
        })
    }

    /// Counters since creation, over all clones.
    pub fn stats(&self) -> BillingStats {
        let c = &self.inner.counters;
        BillingStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
        }
    }

    /// Every account matching `query`, each once (its latest version), in `(updatedAt, id)` order.
    ///
    /// Follows every `nextCursor`. With `ids`, the ids are split into as few requests as keep
    /// every URL within `max_url_len`; an id holding a comma (which the `ids` list cannot carry)
    /// or too long for any listing URL is read on its own with `GET /v1/accounts/{id}`. An empty
    /// `ids` list sends no request. A listed record that is not a valid account fails the whole
    /// listing with [`BillingError::Decode`] naming it; [`BillingClient::list_accounts_checked`]
    /// returns the valid ones and names the others instead.
    pub async fn list_accounts(&self, query: &AccountQuery) -> Result<Vec<Account>, BillingError> {
        strict(self.list_checked::<Account>(query.filters()).await?)
    }

    /// Like [`BillingClient::list_accounts`], but a listed record that is not a valid account
    /// (a missing or mistyped field) does not fail the listing: it is returned in
    /// [`AccountListing::malformed`], named by its id and the field, and the valid accounts are
    /// returned as usual. One bad record in a billing system must not stop the sync of the rest.
    pub async fn list_accounts_checked(
        &self,
        query: &AccountQuery,
    ) -> Result<AccountListing, BillingError> {
        Ok(self.list_checked::<Account>(query.filters()).await?.into())
    }

    /// One page of accounts matching `query`, starting at `cursor` (`None` for the first page).
    ///
    /// Sends exactly one request (none for an empty `ids` list). Ids are sent as given, so an id
    /// with a comma, or more ids than fit in `max_url_len`, is refused with
    /// [`BillingError::Invalid`]; [`BillingClient::list_accounts`] handles both.
    pub async fn list_accounts_page(
        &self,
        query: &AccountQuery,
        cursor: Option<&str>,
    ) -> Result<Page<Account>, BillingError> {
        self.list_page(query.filters(), cursor).await
    }

    /// Every product matching `query` (`GET /v1/products`), each once in its latest version, in
    /// `(updatedAt, id)` order, with the listed records that are not valid products named by id
    /// and field in [`Listing::malformed`]. Paging and `ids` as in
    /// [`BillingClient::list_accounts`].
    pub async fn list_products(
        &self,
        query: &ProductQuery,
    ) -> Result<Listing<Product>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every subscription matching `query` (`GET /v1/subscriptions`), cancelled ones included,
    /// each once in its latest version, in `(updatedAt, id)` order, with the listed records that
    /// are not valid subscriptions named by id and field in [`Listing::malformed`].
    ///
    /// `account_ids` is split over requests like `ids`; an account id holding a comma (or too
    /// long for any URL) cannot travel in `accountIds`, so the subscriptions of such accounts are
    /// read from one listing without the account filter and kept by their `accountId`. With both
    /// `ids` and `account_ids`, only `ids` is sent and the account filter is applied here.
    pub async fn list_subscriptions(
        &self,
        query: &SubscriptionQuery,
    ) -> Result<Listing<Subscription>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every user of accounts matching `query` (`GET /v1/users`), with their enabled services,
    /// each once in its latest version, in `(updatedAt, id)` order, with the listed records that
    /// are not valid users named by id and field in [`Listing::malformed`]. Filters as in
    /// [`BillingClient::list_subscriptions`]. A user removed from an account is no longer
    /// listed: an account's whole current list is read with `account_ids` and no
    /// `updated_since`.
    pub async fn list_users(
        &self,
        query: &UserQuery,
    ) -> Result<Listing<AccountUser>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// `GET /v1/accounts/{id}`: one account with its sites and contacts.
    pub async fn get_account(&self, id: &str) -> Result<Account, BillingError> {
        self.get_record(id).await
    }

    /// `GET /v1/products/{id}`: one product with its prices.
    pub async fn get_product(&self, id: &str) -> Result<Product, BillingError> {
        self.get_record(id).await
    }

    /// `GET /v1/subscriptions/{id}`: one subscription (also when cancelled).
    pub async fn get_subscription(&self, id: &str) -> Result<Subscription, BillingError> {
        self.get_record(id).await
    }

    /// `GET /v1/users/{id}`: one user of an account with their enabled services.
    pub async fn get_user(&self, id: &str) -> Result<AccountUser, BillingError> {
        self.get_record(id).await
    }

    /// Every technician matching `query` (`GET /v1/technicians`), inactive ones included, with
    /// the malformed ones named; paging and `ids` as in [`BillingClient::list_accounts`].
    pub async fn list_technicians(
        &self,
        query: &ReferenceQuery,
    ) -> Result<Listing<Technician>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every contract matching `query` (`GET /v1/contracts`); `account_ids` as in
    /// [`BillingClient::list_subscriptions`].
    pub async fn list_contracts(
        &self,
        query: &ContractQuery,
    ) -> Result<Listing<Contract>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every item matching `query` (`GET /v1/items`), inactive and placeholder items included.
    pub async fn list_items(&self, query: &ReferenceQuery) -> Result<Listing<Item>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every product type matching `query` (`GET /v1/product-types`) with its placeholder item.
    pub async fn list_product_types(
        &self,
        query: &ReferenceQuery,
    ) -> Result<Listing<ProductType>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every service call matching `query` (`GET /v1/service-calls`), each once in its latest
    /// version, with the malformed ones named. With
    /// [`ServiceCallQuery::flagged_for_connect_wise`], only the calls waiting to become
    /// ConnectWise tickets.
    pub async fn list_service_calls(
        &self,
        query: &ServiceCallQuery,
    ) -> Result<Listing<ServiceCall>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every invoice matching `query` (`GET /v1/invoices`) with its items; `account_ids` as in
    /// [`BillingClient::list_subscriptions`].
    pub async fn list_invoices(
        &self,
        query: &DocumentQuery,
    ) -> Result<Listing<Invoice>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every payment and refund (a payment with a negative amount) matching `query`
    /// (`GET /v1/payments`). `invoice_ids` travels as `invoiceIds`, split like `account_ids`;
    /// with `ids` or `account_ids` it is applied here. An invoice id holding a comma makes one
    /// listing without the invoice filter, kept by `invoiceId`.
    pub async fn list_payments(
        &self,
        query: &PaymentQuery,
    ) -> Result<Listing<Payment>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every order matching `query` (`GET /v1/orders`) with its items.
    pub async fn list_orders(&self, query: &DocumentQuery) -> Result<Listing<Order>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every project, option and change order matching `query` (`GET /v1/projects`) with its
    /// items.
    pub async fn list_projects(
        &self,
        query: &DocumentQuery,
    ) -> Result<Listing<Project>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// Every contract template matching `query` (`GET /v1/contract-templates`), inactive ones
    /// included.
    pub async fn list_contract_templates(
        &self,
        query: &ReferenceQuery,
    ) -> Result<Listing<ContractTemplate>, BillingError> {
        self.list_checked(query.filters()).await
    }

    /// `GET /v1/<collection>/{id}` of any listed kind (`client.get::<Technician>("T-1")`).
    pub async fn get<T: Listed>(&self, id: &str) -> Result<T, BillingError> {
        self.get_record(id).await
    }

    /// `GET /v1/service-calls/{id}`: one call with its lines, notes and version.
    pub async fn get_service_call(&self, id: &str) -> Result<ServiceCall, BillingError> {
        self.get_record(id).await
    }

    /// `GET /v1/service-calls/by-reference/{externalReference}`: the call of a ConnectWise
    /// ticket, or `None` when there is none.
    pub async fn find_service_call(
        &self,
        external_reference: &str,
    ) -> Result<Option<ServiceCall>, BillingError> {
        self.find_by_reference(external_reference).await
    }

    /// `GET /v1/<collection>/by-reference/{externalReference}` of a kind cwsync creates
    /// idempotently: its record of that reference, or `None` when there is none.
    async fn find_by_reference<T: Listed>(
        &self,
        external_reference: &str,
    ) -> Result<Option<T>, BillingError> {
        let kind = T::KIND;
        let operation = format!("get the {kind} of {external_reference}");
        let template = kind
            .by_reference_route()
            .ok_or_else(|| BillingError::Config {
                message: format!("the contract finds no {kind} by reference"),
            })?;
        let url = self.checked_url(
            &operation,
            &[("externalReference", external_reference)],
            &[kind.collection(), "by-reference", external_reference],
        )?;
        let call = Call {
            method: Method::GET,
            if_match: None,
            template,
            what: format!("the {kind} of {external_reference}"),
            operation,
            url,
            body: None,
        };
        match self.send(&call).await {
            Ok(found) => Ok(Some(found)),
            Err(BillingError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/<collection>` of a kind created idempotently on its external reference: the
    /// record made, or (on 409 `Duplicate` naming it) the one that exists already.
    async fn create_by_reference<T: Listed>(
        &self,
        external_reference: &str,
        body: &impl Serialize,
    ) -> Result<Created<T>, BillingError> {
        let kind = T::KIND;
        let operation = format!("create the {kind} of {external_reference}");
        let call = Call {
            method: Method::POST,
            if_match: None,
            template: kind.list_route(),
            what: format!(
                "the {kind} collection (POST {}; check the base URL)",
                kind.list_route()
            ),
            body: Some(encode(&operation, body)?),
            url: self.path_url(&[kind.collection()])?,
            operation,
        };
        match self.send(&call).await {
            Ok(record) => Ok(Created {
                record,
                created: true,
            }),
            Err(BillingError::Duplicate {
                existing_id: Some(existing),
                ..
            }) => Ok(Created {
                record: self.get_record(&existing).await?,
                created: false,
            }),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/orders`: creates the billing order of a ConnectWise sales order, exactly once
    /// (idempotent on [`NewOrder::external_reference`] like
    /// [`BillingClient::create_service_call`]): an order that exists already is returned with
    /// `created: false`. Refused with [`BillingError::Invalid`] naming each bad field (an
    /// unknown or inactive item, no items, a hold without a reason).
    pub async fn create_order(&self, new: &NewOrder) -> Result<Created<Order>, BillingError> {
        self.create_by_reference(&new.external_reference, new).await
    }

    /// `GET /v1/orders/by-reference/{externalReference}`: the order made from a ConnectWise
    /// sales order, or `None`.
    pub async fn find_order(
        &self,
        external_reference: &str,
    ) -> Result<Option<Order>, BillingError> {
        self.find_by_reference(external_reference).await
    }

    /// `POST /v1/service-calls`: creates the call of a ConnectWise ticket, exactly once.
    ///
    /// The create is idempotent on [`NewServiceCall::external_reference`]: when a call with that
    /// reference exists already (made by an earlier try whose answer was lost, or by another
    /// worker), the billing system answers 409 naming it, and this returns that call with
    /// `created: false` — it never makes a second one. Transient failures are retried like any
    /// other call, which is safe for the same reason.
    pub async fn create_service_call(
        &self,
        new: &NewServiceCall,
    ) -> Result<CreatedServiceCall, BillingError> {
        let made = self
            .create_by_reference::<ServiceCall>(&new.external_reference, new)
            .await?;
        Ok(CreatedServiceCall {
            call: made.record,
            created: made.created,
        })
    }

    /// `PUT /v1/service-calls/{id}` with `If-Match: "<version>"`: replaces the call's contract,
    /// description, status, hold, labor and parts and adds its notes; returns the call with its
    /// new version.
    ///
    /// [`BillingError::VersionConflict`] when the call changed since `version` (read it again
    /// and plan again: a retry whose first try did apply also lands here, and planning again
    /// finds nothing to change); [`BillingError::Conflict`] with code `Invoiced` when the call
    /// is invoiced and so refuses every change.
    pub async fn update_service_call(
        &self,
        id: &str,
        version: u64,
        update: &ServiceCallUpdate,
    ) -> Result<ServiceCall, BillingError> {
        self.update_versioned::<ServiceCall>(id, version, update)
            .await
    }

    /// `PUT /v1/<collection>/{id}` with `If-Match: "<version>"`: the record after the update.
    async fn update_versioned<T: Listed>(
        &self,
        id: &str,
        version: u64,
        update: &impl Serialize,
    ) -> Result<T, BillingError> {
        let kind = T::KIND;
        let operation = format!("update {kind} {id}");
        let url = self.record_url(&operation, &[("id", kind.collection(), id)])?;
        let call = Call {
            method: Method::PUT,
            if_match: Some(version),
            template: kind.record_route(),
            what: format!("{kind} {id}"),
            body: Some(encode(&operation, update)?),
            operation,
            url,
        };
        self.send(&call).await
    }

    /// `POST /v1/contracts`: creates the contract of a ConnectWise agreement, exactly once
    /// (idempotent on [`NewContract::external_reference`]; an existing one is returned with
    /// `created: false`). Refused with [`BillingError::Invalid`] naming each bad field (an
    /// unknown account, template or item, an inactive template, an unknown custom field).
    pub async fn create_contract(
        &self,
        new: &NewContract,
    ) -> Result<Created<Contract>, BillingError> {
        self.create_by_reference(&new.external_reference, new).await
    }

    /// `PUT /v1/contracts/{id}` with `If-Match: "<version>"`: replaces the contract's billable
    /// flag, period and lines and sets the custom fields given; returns it with its new
    /// version (unchanged when nothing changed). [`BillingError::VersionConflict`] when it
    /// changed since `version`: read it again and plan again.
    pub async fn update_contract(
        &self,
        id: &str,
        version: u64,
        update: &ContractUpdate,
    ) -> Result<Contract, BillingError> {
        self.update_versioned(id, version, update).await
    }

    /// `GET /v1/contracts/by-reference/{externalReference}`: the contract made for a
    /// ConnectWise agreement, or `None`.
    pub async fn find_contract(
        &self,
        external_reference: &str,
    ) -> Result<Option<Contract>, BillingError> {
        self.find_by_reference(external_reference).await
    }

    /// `POST /v1/service-calls/{id}/hold`: puts the call on hold with the reason, adds the note
    /// and links the ConnectWise ticket's reference; repeating it changes nothing. Refused
    /// with [`BillingError::Duplicate`] when another call holds the reference, and with
    /// [`BillingError::Conflict`] when the call is invoiced or linked to another ticket.
    pub async fn hold_service_call(
        &self,
        id: &str,
        hold: &HoldRequest,
    ) -> Result<ServiceCall, BillingError> {
        let operation = format!("put service call {id} on hold");
        let url = self.checked_url(&operation, &[("id", id)], &["service-calls", id, "hold"])?;
        let call = Call {
            method: Method::POST,
            if_match: None,
            template: SERVICE_CALL_HOLD,
            what: format!("service call {id}"),
            body: Some(encode(&operation, hold)?),
            operation,
            url,
        };
        self.send(&call).await
    }

    /// `GET /v1/<collection>/{id}`, read as a `T`; a record that is not a valid `T` is
    /// [`BillingError::Decode`] naming the field.
    async fn get_record<T: Listed>(&self, id: &str) -> Result<T, BillingError> {
        let kind = T::KIND;
        let operation = format!("get {kind} {id}");
        let value = self.get_value(kind, id, &operation).await?;
        listing::decode_one(&value).map_err(|bad| BillingError::Decode {
            operation,
            reason: match bad.field {
                Some(field) => format!("{field}: {}", bad.reason),
                None => bad.reason,
            },
        })
    }

    /// `GET /v1/<collection>/{id}` as JSON.
    async fn get_value(
        &self,
        kind: RecordKind,
        id: &str,
        operation: &str,
    ) -> Result<serde_json::Value, BillingError> {
        let url = self.record_url(operation, &[("id", kind.collection(), id)])?;
        let call = Call {
            method: Method::GET,
            if_match: None,
            template: kind.record_route(),
            what: format!("{kind} {id}"),
            operation: operation.to_owned(),
            url,
            body: None,
        };
        self.send(&call).await
    }

    /// `PATCH /v1/accounts/{id}` with only the fields `update` sets; returns the whole account.
    ///
    /// An empty update sends no PATCH: the account is read with a GET instead.
    pub async fn update_account(
        &self,
        id: &str,
        update: &AccountUpdate,
    ) -> Result<Account, BillingError> {
        if update.is_empty() {
            return self.get_account(id).await;
        }
        let operation = format!("update account {id}");
        let url = self.record_url(&operation, &[("id", "accounts", id)])?;
        let call = Call {
            method: Method::PATCH,
            if_match: None,
            template: ACCOUNT,
            what: format!("account {id}"),
            body: Some(encode(&operation, update)?),
            operation,
            url,
        };
        self.send(&call).await
    }

    /// `PATCH /v1/accounts/{accountId}/sites/{siteId}`; returns the whole site.
    ///
    /// An empty update sends no PATCH: the site is read from its account instead.
    pub async fn update_site(
        &self,
        account_id: &str,
        site_id: &str,
        update: &SiteUpdate,
    ) -> Result<Site, BillingError> {
        let what = format!("site {site_id} of account {account_id}");
        if update.is_empty() {
            let account = self.get_account(account_id).await?;
            return account
                .sites
                .into_iter()
                .find(|s| s.id == site_id)
                .ok_or(BillingError::NotFound { what });
        }
        let operation = format!("update {what}");
        let url = self.record_url(
            &operation,
            &[
                ("accountId", "accounts", account_id),
                ("siteId", "sites", site_id),
            ],
        )?;
        let call = Call {
            method: Method::PATCH,
            if_match: None,
            template: SITE,
            what,
            body: Some(encode(&operation, update)?),
            operation,
            url,
        };
        self.send(&call).await
    }

    /// `PATCH /v1/accounts/{accountId}/contacts/{contactId}`; returns the whole contact.
    ///
    /// An empty update sends no PATCH: the contact is read from its account instead.
    pub async fn update_contact(
        &self,
        account_id: &str,
        contact_id: &str,
        update: &ContactUpdate,
    ) -> Result<Contact, BillingError> {
        let what = format!("contact {contact_id} of account {account_id}");
        if update.is_empty() {
            let account = self.get_account(account_id).await?;
            return account
                .contacts
                .into_iter()
                .find(|c| c.id == contact_id)
                .ok_or(BillingError::NotFound { what });
        }
        let operation = format!("update {what}");
        let url = self.record_url(
            &operation,
            &[
                ("accountId", "accounts", account_id),
                ("contactId", "contacts", contact_id),
            ],
        )?;
        let call = Call {
            method: Method::PATCH,
            if_match: None,
            template: CONTACT,
            what,
            body: Some(encode(&operation, update)?),
            operation,
            url,
        };
        self.send(&call).await
    }

    /// Writes back `items` (accounts, sites, contacts, in any mix) and returns one result per
    /// item, in order: `Ok(())` when it was applied (or its patch is empty: nothing is sent for
    /// it), else that item's own error ([`BillingError::NotFound`], [`BillingError::Invalid`]
    /// with its fields, …), which never affects the other items.
    ///
    /// Sends `POST /v1/write-backs` with up to [`MAX_WRITE_BACK_BATCH`] items per call. A server
    /// that answers it 404, 405 or 501 does not serve the batch form: the items go out as
    /// single-record PATCHes instead, and so do all later write-backs of this client (and its
    /// clones). The outer `Err` is a failure of the calls themselves (a refused key, throttling
    /// or an outage after every retry, an answer that is not the contract's), after which the
    /// items' outcomes are unknown; applying them again is harmless (merge patches).
    pub async fn write_back(
        &self,
        items: &[WriteBack],
    ) -> Result<Vec<Result<(), BillingError>>, BillingError> {
        let mut results: Vec<Result<(), BillingError>> = items.iter().map(|_| Ok(())).collect();
        let pending: Vec<usize> = (0..items.len()).filter(|&i| !items[i].is_empty()).collect();
        for chunk in pending.chunks(MAX_WRITE_BACK_BATCH) {
            if !self.inner.single_write_backs_only.load(Ordering::Relaxed) {
                match self.write_back_batch(items, chunk).await {
                    Ok(outcomes) => {
                        for (&i, outcome) in chunk.iter().zip(outcomes) {
                            results[i] = outcome;
                        }
                        continue;
                    }
                    Err(error) if matches!(error.status(), Some(404 | 405 | 501)) => {
                        tracing::info!(
                            status = error.status(),
                            "the billing system does not serve batch write-backs; using single-record PATCHes"
                        );
                        self.inner
                            .single_write_backs_only
                            .store(true, Ordering::Relaxed);
                    }
                    Err(error) => return Err(error),
                }
            }
            for &i in chunk {
                let outcome = match &items[i] {
                    WriteBack::Account { id, patch } => {
                        self.update_account(id, patch).await.map(drop)
                    }
                    WriteBack::Site {
                        account_id,
                        id,
                        patch,
                    } => self.update_site(account_id, id, patch).await.map(drop),
                    WriteBack::Contact {
                        account_id,
                        id,
                        patch,
                    } => self.update_contact(account_id, id, patch).await.map(drop),
                };
                // What would fail the next call too fails the whole write-back, as a failed
                // batch call does.
                match outcome {
                    Err(error)
                        if error.is_transient()
                            || matches!(error, BillingError::Unauthorized { .. }) =>
                    {
                        return Err(error);
                    }
                    outcome => results[i] = outcome,
                }
            }
        }
        Ok(results)
    }

    /// One `POST /v1/write-backs` of `items[i]` for each `i` in `chunk`.
    async fn write_back_batch(
        &self,
        items: &[WriteBack],
        chunk: &[usize],
    ) -> Result<Vec<Result<(), BillingError>>, BillingError> {
        let operation = format!("write back {} records", chunk.len());
        let batch = WriteBackBatch {
            items: chunk.iter().map(|&i| items[i].clone()).collect(),
        };
        let call = Call {
            method: Method::POST,
            if_match: None,
            template: WRITE_BACKS,
            what: "the batch write-back (POST /v1/write-backs)".to_owned(),
            body: Some(encode(&operation, &batch)?),
            url: self.path_url(&["write-backs"])?,
            operation,
        };
        let answer: WriteBackResults = self.send(&call).await?;
        if answer.results.len() != chunk.len() {
            return Err(BillingError::Unexpected {
                operation: call.operation,
                status: 200,
                excerpt: format!("{} results for {} items", answer.results.len(), chunk.len()),
            });
        }
        Ok(batch
            .items
            .iter()
            .zip(answer.results)
            .map(|(item, result)| {
                if (200..300).contains(&result.status) {
                    return Ok(());
                }
                let what = item.describe();
                let body = serde_json::json!({ "error": result.error }).to_string();
                Err(crate::error::from_status(
                    &format!("update {what}"),
                    &what,
                    result.status,
                    body.as_bytes(),
                ))
            })
            .collect())
    }

    /// The generic listing: every record of kind `T` matching `filters`, each once in its latest
    /// version, and the malformed ones named.
    ///
    /// One list filter travels per request: `ids` when given (then `accountIds` is applied
    /// here), else `accountIds`. Either is split into as few requests as keep every URL within
    /// `max_url_len`. An id the list cannot carry (a comma, or too long for any URL) is read on
    /// its own with `GET /v1/<collection>/{id}`; an account id the list cannot carry makes one
    /// listing without the account filter, kept by `accountId`.
    async fn list_checked<T: Listed>(
        &self,
        filters: Filters<'_>,
    ) -> Result<Listing<T>, BillingError> {
        let kind = T::KIND;
        let operation = list_operation(kind);
        let limit = page_limit(&operation, filters.page_size)?;
        let accounts: Option<HashSet<&str>> = filters
            .account_ids
            .map(|ids| distinct(ids).into_iter().collect());
        let mut records = Vec::new();
        let mut malformed = Vec::new();
        if let Some(ids) = filters.ids {
            let ids = distinct(ids);
            if ids.is_empty() || accounts.as_ref().is_some_and(HashSet::is_empty) {
                return Ok(Listing::default());
            }
            let singles = self
                .collect_split(
                    &filters,
                    "ids",
                    &ids,
                    limit,
                    accounts.as_ref(),
                    &mut records,
                    &mut malformed,
                )
                .await?;
            for id in singles {
                let what = format!("get {kind} {id}");
                let value = match self.get_value(kind, id, &what).await {
                    Ok(value) => value,
                    Err(BillingError::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                };
                if !belongs(&value, accounts.as_ref()) {
                    continue;
                }
                match listing::decode_one::<T>(&value) {
                    Ok(record)
                        if filters
                            .updated_since
                            .is_none_or(|t| record.updated_at() >= t)
                            && (!filters.flagged_for_connect_wise
                                || record.awaits_connect_wise_ticket()) =>
                    {
                        records.push(record);
                    }
                    Ok(_) => {}
                    Err(bad) => malformed.push(bad),
                }
            }
        } else if filters.account_ids.is_none()
            && let Some(invoice_ids) = filters.invoice_ids
        {
            let invoice_ids = distinct(invoice_ids);
            if invoice_ids.is_empty() {
                return Ok(Listing::default());
            }
            let leftover = self
                .collect_split(
                    &filters,
                    "invoiceIds",
                    &invoice_ids,
                    limit,
                    None,
                    &mut records,
                    &mut malformed,
                )
                .await?;
            if !leftover.is_empty() {
                let (valid, invalid) = self
                    .collect_pages::<T>(filters.narrow(), None, limit, None)
                    .await?;
                records.extend(valid);
                malformed.extend(invalid);
            }
        } else if filters.account_ids.is_some() {
            let account_ids: Vec<&str> = filters.account_ids.map(distinct).unwrap_or_default();
            if account_ids.is_empty() {
                return Ok(Listing::default());
            }
            let leftover = self
                .collect_split(
                    &filters,
                    "accountIds",
                    &account_ids,
                    limit,
                    None,
                    &mut records,
                    &mut malformed,
                )
                .await?;
            if !leftover.is_empty() {
                let leftover: HashSet<&str> = leftover.into_iter().collect();
                let (valid, invalid) = self
                    .collect_pages::<T>(filters.narrow(), None, limit, Some(&leftover))
                    .await?;
                records.extend(valid);
                malformed.extend(invalid);
            }
        } else {
            let (valid, invalid) = self
                .collect_pages::<T>(filters.narrow(), None, limit, None)
                .await?;
            records = valid;
            malformed = invalid;
        }
        if let Some(invoice_ids) = filters.invoice_ids {
            // Whichever list filter travelled, only the payments of these invoices are kept.
            let invoices: HashSet<&str> = distinct(invoice_ids).into_iter().collect();
            records.retain(|r| r.invoice_id().is_some_and(|i| invoices.contains(i)));
        }
        Ok(Listing {
            records: listing::latest_once(records),
            malformed: listing::malformed_once(malformed),
        })
    }

    /// Lists with `name` (`ids` or `accountIds`) split over requests; returns the values the
    /// list cannot carry (a comma, or too long for any URL) for the caller to read otherwise.
    #[allow(
        clippy::too_many_arguments,
        reason = "one private step of list_checked"
    )]
    async fn collect_split<'v, T: Listed>(
        &self,
        filters: &Filters<'_>,
        name: &'static str,
        values: &[&'v str],
        limit: u32,
        accounts: Option<&HashSet<&str>>,
        records: &mut Vec<T>,
        malformed: &mut Vec<MalformedRecord>,
    ) -> Result<Vec<&'v str>, BillingError> {
        let (listable, mut leftover): (Vec<&str>, Vec<&str>) =
            values.iter().partition(|v| !v.contains(','));
        // A batch of ids is one page; a batch of accounts may take several, so its URL keeps
        // room for the longest cursor.
        let reserve = if name == "ids" {
            0
        } else {
            "&cursor=".len() + MAX_CURSOR_LEN
        };
        let (batches, too_long) =
            self.id_batches(T::KIND, filters.narrow(), name, &listable, reserve)?;
        leftover.extend(too_long);
        for batch in &batches {
            // Room for every id plus one, so a batch of ids is one page even on a server that
            // sends a cursor whenever a page is full.
            let batch_limit = if name == "ids" {
                limit
                    .max(u32::try_from(batch.len() + 1).unwrap_or(MAX_PAGE_SIZE))
                    .min(MAX_PAGE_SIZE)
            } else {
                limit
            };
            let (valid, invalid) = self
                .collect_pages::<T>(filters.narrow(), Some((name, batch)), batch_limit, accounts)
                .await?;
            records.extend(valid);
            malformed.extend(invalid);
        }
        Ok(leftover)
    }

    /// One page of records of kind `T` matching `filters`; see
    /// [`BillingClient::list_accounts_page`].
    async fn list_page<T: Listed>(
        &self,
        filters: Filters<'_>,
        cursor: Option<&str>,
    ) -> Result<Page<T>, BillingError> {
        let operation = list_operation(T::KIND);
        let limit = page_limit(&operation, filters.page_size)?;
        let ids = filters.ids.map(distinct);
        let account_ids = filters.account_ids.map(distinct);
        let accounts: Option<HashSet<&str>> =
            account_ids.as_ref().map(|a| a.iter().copied().collect());
        let list = match (&ids, &account_ids) {
            (Some(ids), _) => Some(("ids", ids)),
            (None, Some(account_ids)) => Some(("accountIds", account_ids)),
            (None, None) => None,
        };
        if ids.as_ref().is_some_and(Vec::is_empty)
            || account_ids.as_ref().is_some_and(Vec::is_empty)
        {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        if let Some((name, values)) = list
            && let Some(id) = values.iter().find(|id| id.contains(','))
        {
            return Err(invalid(
                &operation,
                name,
                format!(
                    "{id:?} holds a comma, which the {name} list cannot carry; list all pages with the listing instead"
                ),
            ));
        }
        let page = self
            .fetch_page(
                T::KIND,
                filters.narrow(),
                list.map(|(n, v)| (n, v.as_slice())),
                limit,
                cursor,
            )
            .await?;
        let kept = page
            .items
            .into_iter()
            .filter(|item| ids.is_none() || belongs(item, accounts.as_ref()))
            .collect();
        let (items, malformed) = listing::decode_all::<T>(kept);
        match malformed.into_iter().next() {
            None => Ok(Page {
                items,
                next_cursor: page.next_cursor,
            }),
            Some(bad) => Err(BillingError::Decode {
                operation,
                reason: bad.to_string(),
            }),
        }
    }

    /// Pages of one listing, following `nextCursor` until there is none. With `accounts`, a
    /// listed record whose `accountId` is another account's is left out before it is read.
    async fn collect_pages<T: Listed>(
        &self,
        narrow: Narrow,
        list: Option<(&str, &[&str])>,
        limit: u32,
        accounts: Option<&HashSet<&str>>,
    ) -> Result<(Vec<T>, Vec<MalformedRecord>), BillingError> {
        let mut all = Vec::new();
        let mut malformed = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .fetch_page(T::KIND, narrow, list, limit, cursor.as_deref())
                .await?;
            let empty = page.items.is_empty();
            let kept = page
                .items
                .into_iter()
                .filter(|item| belongs(item, accounts))
                .collect();
            let (valid, invalid) = listing::decode_all::<T>(kept);
            all.extend(valid);
            malformed.extend(invalid);
            match page.next_cursor {
                None => return Ok((all, malformed)),
                // The contract sends an empty page only as the last one; never loop on it.
                Some(_) if empty => return Ok((all, malformed)),
                Some(next) if cursor.as_deref() == Some(next.as_str()) => {
                    return Err(BillingError::Unexpected {
                        operation: list_operation(T::KIND),
                        status: 200,
                        excerpt: "nextCursor repeats the cursor of the request".to_owned(),
                    });
                }
                Some(next) => cursor = Some(next),
            }
        }
    }

    async fn fetch_page(
        &self,
        kind: RecordKind,
        narrow: Narrow,
        list: Option<(&str, &[&str])>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<serde_json::Value>, BillingError> {
        let operation = list_operation(kind);
        let url = self.list_url(kind, narrow, limit, list, cursor)?;
        let length = url.as_str().len();
        let max = self.inner.max_url_len;
        if length > max {
            return Err(match cursor {
                Some(c) => BillingError::Unexpected {
                    operation,
                    status: 200,
                    excerpt: format!(
                        "the server's nextCursor ({} characters) makes the next page's URL {length} characters long; max_url_len is {max}",
                        c.len()
                    ),
                },
                None => {
                    let name = list.map_or("ids", |(name, _)| name);
                    invalid(
                        &operation,
                        name,
                        format!(
                            "the listing URL would be {length} characters long; max_url_len is {max} (the full listing splits {name})"
                        ),
                    )
                }
            });
        }
        let call = Call {
            method: Method::GET,
            if_match: None,
            template: kind.list_route(),
            what: format!(
                "the {kind} listing (GET {}; check the base URL)",
                kind.list_route()
            ),
            operation,
            url,
            body: None,
        };
        self.send(&call).await
    }

    /// `{base}v1/<collection>?updatedSince=…&limit=…&<list>=…&cursor=…`, form-encoded.
    fn list_url(
        &self,
        kind: RecordKind,
        narrow: Narrow,
        limit: u32,
        list: Option<(&str, &[&str])>,
        cursor: Option<&str>,
    ) -> Result<Url, BillingError> {
        let mut url = self.path_url(&[kind.collection()])?;
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(since) = narrow.updated_since {
                pairs.append_pair("updatedSince", &rfc3339(kind, since)?);
            }
            if narrow.flagged_for_connect_wise {
                pairs.append_pair("flaggedForConnectWise", "true");
            }
            pairs.append_pair("limit", &limit.to_string());
            if let Some((name, values)) = list {
                pairs.append_pair(name, &values.join(","));
            }
            if let Some(cursor) = cursor {
                pairs.append_pair("cursor", cursor);
            }
        }
        Ok(url)
    }

    /// Splits `values` (none with a comma) of the list parameter `name` into batches whose
    /// listing URLs fit in `max_url_len` with `reserve` characters to spare, each with fewer
    /// values than the largest page. Values that fit in no listing URL are returned apart.
    fn id_batches<'a>(
        &self,
        kind: RecordKind,
        narrow: Narrow,
        name: &str,
        values: &[&'a str],
        reserve: usize,
    ) -> Result<(Vec<Vec<&'a str>>, Vec<&'a str>), BillingError> {
        // The longest limit value (three digits) and `&<name>=`; values follow, joined by `%2C`.
        let prefix = self
            .list_url(kind, narrow, MAX_PAGE_SIZE, None, None)?
            .as_str()
            .len()
            + name.len()
            + 2
            + reserve;
        let max = self.inner.max_url_len;
        let max_ids = (MAX_PAGE_SIZE - 1) as usize;
        let mut batches: Vec<Vec<&str>> = Vec::new();
        let mut too_long = Vec::new();
        let mut current: Vec<&str> = Vec::new();
        let mut length = prefix;
        for id in values {
            let encoded: usize = byte_serialize(id.as_bytes()).map(str::len).sum();
            if prefix + encoded > max {
                too_long.push(*id);
                continue;
            }
            let added = if current.is_empty() {
                encoded
            } else {
                encoded + 3
            };
            if length + added > max || current.len() >= max_ids {
                batches.push(std::mem::take(&mut current));
                length = prefix + encoded;
            } else {
                length += added;
            }
            current.push(id);
        }
        if !current.is_empty() {
            batches.push(current);
        }
        Ok((batches, too_long))
    }

    /// `{base}v1/{segments…}` with each segment percent-encoded by the URL library.
    fn path_url(&self, segments: &[&str]) -> Result<Url, BillingError> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|()| config_error("the base URL cannot take a path"))?
            .pop_if_empty()
            .push("v1")
            .extend(segments);
        Ok(url)
    }

    /// The URL of one record: `(parameter name, collection, id)` per level. Refuses ids no URL
    /// path can carry (empty, `.`, `..`) and URLs longer than `max_url_len`.
    fn record_url(
        &self,
        operation: &str,
        levels: &[(&str, &str, &str)],
    ) -> Result<Url, BillingError> {
        let mut segments = Vec::with_capacity(levels.len() * 2);
        let mut ids = Vec::with_capacity(levels.len());
        for (name, collection, id) in levels {
            segments.push(*collection);
            segments.push(*id);
            ids.push((*name, *id));
        }
        self.checked_url(operation, &ids, &segments)
    }

    /// `{base}v1/{segments…}`, where the `(parameter name, id)` pairs are ids among the segments:
    /// refuses ids no URL path can carry (empty, `.`, `..`) and URLs longer than `max_url_len`.
    fn checked_url(
        &self,
        operation: &str,
        ids: &[(&str, &str)],
        segments: &[&str],
    ) -> Result<Url, BillingError> {
        for (name, id) in ids {
            if id.is_empty() || *id == "." || *id == ".." {
                return Err(invalid(
                    operation,
                    name,
                    format!("{id:?} cannot be an id in a URL path"),
                ));
            }
        }
        let url = self.path_url(segments)?;
        let length = url.as_str().len();
        let max = self.inner.max_url_len;
        if length > max {
            let name = ids.last().map_or("id", |l| l.0);
            return Err(invalid(
                operation,
                name,
                format!("the id makes the URL {length} characters long; max_url_len is {max}"),
            ));
        }
        Ok(url)
    }

    /// Sends `call` and decodes the JSON body of its success.
    async fn send<T: DeserializeOwned>(&self, call: &Call) -> Result<T, BillingError> {
        let response = self.execute(call).await?;
        serde_json::from_slice(&response.body).map_err(|e| BillingError::Decode {
            operation: call.operation.clone(),
            reason: format!("{e} (status {})", response.status.as_u16()),
        })
    }

    /// Sends `call`, retrying per [`crate::retry`], and returns the successful response.
    async fn execute(&self, call: &Call) -> Result<Response, BillingError> {
        let policy = &self.inner.retry;
        let started = Instant::now();
        let mut delays = policy.backoff();
        let mut attempt: u32 = 1;
        loop {
            let (error, min_delay) = match self.attempt(call, attempt).await {
                Ok(response) => return Ok(response),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry { error, min_delay }) => (error, min_delay),
            };
            let Some(backoff) = delays.next() else {
                return Err(error);
            };
            let delay = min_delay.map_or(backoff, |min| min.max(backoff));
            if started.elapsed() + delay > policy.max_elapsed {
                return Err(error);
            }
            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                method = %call.method,
                path = call.template,
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying billing request"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One HTTP attempt.
    async fn attempt(&self, call: &Call, attempt: u32) -> Result<Response, Failure> {
        let inner = &self.inner;
        inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut request = inner
            .http
            .request(call.method.clone(), call.url.clone())
            .timeout(inner.timeout)
            .header(
                USER_AGENT,
                HeaderValue::from_static(concat!("cwsync-billing/", env!("CARGO_PKG_VERSION"))),
            )
            .header(AUTHORIZATION, inner.authorization.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(version) = call.if_match {
            request = request.header(IF_MATCH, format!("\"{version}\""));
        }
        if let Some(body) = &call.body {
            // Only a PATCH is a merge patch; the batch write-back and the service-call writes are
            // plain JSON.
            let content_type = if call.method == Method::PATCH {
                MERGE_PATCH
            } else {
                JSON
            };
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
                .body(body.clone());
        }
        let elapsed_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(
                    method = %call.method,
                    path = call.template,
                    attempt,
                    elapsed_ms = elapsed_ms(),
                    error = %retry::transport_detail(&error, inner.timeout),
                    "billing request failed"
                );
                return Err(retry::classify_transport(
                    &call.operation,
                    &error,
                    inner.timeout,
                ));
            }
        };
        let status = response.status();
        let headers: HeaderMap = response.headers().clone();
        if status == StatusCode::TOO_MANY_REQUESTS {
            inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
        }
        let body = response.bytes().await;
        tracing::debug!(
            method = %call.method,
            path = call.template,
            attempt,
            status = status.as_u16(),
            elapsed_ms = elapsed_ms(),
            "billing request"
        );
        match body {
            Ok(body) if status.is_success() => Ok(Response { status, body }),
            Ok(body) => Err(retry::classify_status(
                &call.operation,
                &call.what,
                status.as_u16(),
                &headers,
                &body,
            )),
            // The body was cut off: for a success, only the answer got lost (the PATCH is
            // idempotent); otherwise the status still says what happened.
            Err(error) if status.is_success() => Err(retry::classify_transport(
                &call.operation,
                &error,
                inner.timeout,
            )),
            Err(_) => Err(retry::classify_status(
                &call.operation,
                &call.what,
                status.as_u16(),
                &headers,
                b"",
            )),
        }
    }
}

/// Checks and completes a base URL: http(s), a host, no credentials, query or fragment, and a
/// path ending in `/`.
fn normalize_base(mut url: Url) -> Result<Url, BillingError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(config_error("the base URL must be http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(config_error("the base URL has no host"));
    }
    // Credentials never belong in a URL: they would leak into logs and errors.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config_error(
            "the base URL must not contain a user name or password; the API key goes in api_key",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(config_error(
            "the base URL must not have a query or fragment",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn config_error(message: &str) -> BillingError {
    BillingError::Config {
        message: message.to_owned(),
    }
}

fn invalid(operation: &str, field: &str, message: String) -> BillingError {
    BillingError::Invalid {
        operation: operation.to_owned(),
        message: message.clone(),
        fields: vec![FieldProblem {
            field: field.to_owned(),
            message,
        }],
    }
}

/// The page size asked for, refused when the contract would refuse it.
fn page_limit(operation: &str, page_size: Option<u32>) -> Result<u32, BillingError> {
    match page_size {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(n) => Err(invalid(
            operation,
            "limit",
            format!("the page size must be from 1 to {MAX_PAGE_SIZE}, not {n}"),
        )),
    }
}

/// `list subscriptions`: a listing in words, for errors.
fn list_operation(kind: RecordKind) -> String {
    format!("list {}", kind.collection())
}

fn rfc3339(kind: RecordKind, at: OffsetDateTime) -> Result<String, BillingError> {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| invalid(&list_operation(kind), "updatedSince", e.to_string()))
}

fn encode<B: Serialize>(operation: &str, body: &B) -> Result<Vec<u8>, BillingError> {
    serde_json::to_vec(body).map_err(|e| BillingError::Invalid {
        operation: operation.to_owned(),
        message: format!("the update cannot be serialized: {e}"),
        fields: Vec::new(),
    })
}

/// The non-empty ids, first occurrence kept, in their order. No record has an empty id.
fn distinct(ids: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    ids.iter()
        .map(String::as_str)
        .filter(|id| !id.is_empty() && seen.insert(*id))
        .collect()
}

/// Whether a listed record (still JSON) belongs to one of `accounts`: always without an account
/// filter, and also when its `accountId` cannot be read (it is then reported as malformed rather
/// than dropped unseen).
fn belongs(item: &serde_json::Value, accounts: Option<&HashSet<&str>>) -> bool {
    let Some(accounts) = accounts else {
        return true;
    };
    match item.get("accountId").and_then(serde_json::Value::as_str) {
        Some(account) => accounts.contains(account),
        None => true,
    }
}

/// The records of a listing, or the first malformed one as [`BillingError::Decode`].
fn strict<T: Listed>(listing: Listing<T>) -> Result<Vec<T>, BillingError> {
    match listing.malformed.into_iter().next() {
        None => Ok(listing.records),
        Some(bad) => Err(BillingError::Decode {
            operation: list_operation(T::KIND),
            reason: bad.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn client(base: &str, max_url_len: usize) -> BillingClient {
        let mut config = BillingConfig::new(
            Url::parse(base).unwrap(),
            SecretString::from("TOP-SECRET-KEY"),
        );
        config.max_url_len = max_url_len;
        BillingClient::new(config).unwrap()
    }

    #[test]
    fn paths_percent_encode_hostile_ids_and_keep_a_base_prefix() {
        let c = client("https://billing.example.com/adapter", 2000);
        let url = c
            .record_url("x", &[("id", "accounts", "a/b c?\"d\"#é\\")])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://billing.example.com/adapter/v1/accounts/a%2Fb%20c%3F%22d%22%23%C3%A9%5C"
        );
    }

    #[test]
    fn ids_that_no_url_path_can_carry_are_refused() {
        let c = client("https://billing.example.com/", 2000);
        for id in ["", ".", ".."] {
            let e = c.record_url("get account", &[("id", "accounts", id)]);
            assert!(matches!(e, Err(BillingError::Invalid { .. })), "{id:?}");
        }
    }

    #[test]
    fn unusable_base_urls_are_refused() {
        for base in [
            "ftp://billing.example.com/",
            "https://user:pw@billing.example.com/",
            "https://billing.example.com/?a=1",
        ] {
            let config = BillingConfig::new(Url::parse(base).unwrap(), SecretString::from("k"));
            assert!(
                matches!(BillingClient::new(config), Err(BillingError::Config { .. })),
                "{base}"
            );
        }
    }

    #[test]
    fn id_batches_fill_each_url_up_to_the_limit() {
        let c = client("http://127.0.0.1:9/", 120);
        let ids: Vec<String> = (0..40).map(|i| format!("A-{i:04}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let kind = RecordKind::Account;
        let (batches, too_long) = c
            .id_batches(kind, Narrow::default(), "ids", &refs, 0)
            .unwrap();
        assert!(too_long.is_empty());
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 40);
        for batch in &batches {
            let url = c
                .list_url(
                    kind,
                    Narrow::default(),
                    MAX_PAGE_SIZE,
                    Some(("ids", batch)),
                    None,
                )
                .unwrap();
            assert!(url.as_str().len() <= 120, "{url}");
        }
        // Every batch but the last is full: one more id would not fit.
        for batch in &batches[..batches.len() - 1] {
            let url = c
                .list_url(
                    kind,
                    Narrow::default(),
                    MAX_PAGE_SIZE,
                    Some(("ids", batch)),
                    None,
                )
                .unwrap();
            assert!(url.as_str().len() + 3 + 6 > 120, "{url}");
        }
    }

    #[test]
    fn account_id_batches_keep_room_for_the_longest_cursor() {
        let c = client("http://127.0.0.1:9/", 600);
        let ids: Vec<String> = (0..200).map(|i| format!("A-{i:04}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let kind = RecordKind::Subscription;
        let reserve = "&cursor=".len() + MAX_CURSOR_LEN;
        let (batches, too_long) = c
            .id_batches(kind, Narrow::default(), "accountIds", &refs, reserve)
            .unwrap();
        assert!(too_long.is_empty());
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 200);
        let longest_cursor = "x".repeat(MAX_CURSOR_LEN);
        for batch in &batches {
            let url = c
                .list_url(
                    kind,
                    Narrow::default(),
                    MAX_PAGE_SIZE,
                    Some(("accountIds", batch)),
                    Some(&longest_cursor),
                )
                .unwrap();
            assert!(url.as_str().len() <= 600, "{url}");
        }
    }

    #[test]
    fn the_latest_version_of_a_repeated_account_is_kept_once_in_order() {
        let at = |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap();
        let account = |id: &str, t: i64, name: &str| Account {
            id: id.into(),
            code: id.into(),
            name: name.into(),
            status: None,
            account_type: None,
            parent_account_id: None,
            bill_to_account_id: None,
            currency: None,
            phone: None,
            fax: None,
            website: None,
            billing_address: None,
            customer_type: None,
            contract_type: None,
            branch: None,
            sync_to_connect_wise: true,
            on_hold: false,
            connect_wise_company_id: None,
            sites: Vec::new(),
            contacts: Vec::new(),
            updated_at: at(t),
        };
        let kept = listing::latest_once(vec![
            account("B", 1, "old"),
            account("A", 2, "a"),
            account("B", 3, "new"),
        ]);
        let names: Vec<&str> = kept.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a", "new"]);
    }

    #[test]
    fn client_debug_shows_no_key() {
        let c = client("https://billing.example.com/", 2000);
        let debug = format!("{c:?}");
        assert!(!debug.contains("TOP-SECRET-KEY"), "{debug}");
        assert!(debug.contains("billing.example.com"), "{debug}");
    }
}
