//! The HTTP client of the billing contract: construction, the bearer header, the retrying request
//! loop, account listings (cursor paging, `ids` split under the URL limit) and the write-backs.
//!
//! Every request goes through [`BillingClient::execute`], which applies the rules of
//! [`crate::retry`]. Ids travel as percent-encoded path segments or form-encoded query values,
//! never spliced into a URL by hand. Logs name the method, the route template (no id, no query),
//! the status and the attempt — never a header value or a body.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
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
use crate::models::{
    Account, AccountUpdate, Contact, ContactUpdate, MAX_WRITE_BACK_BATCH, Page, Site, SiteUpdate,
    WriteBack, WriteBackBatch, WriteBackResults,
};
use crate::retry::{self, Failure};

/// Records per page when the query does not say (the contract's default).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest `limit` the contract accepts.
pub const MAX_PAGE_SIZE: u32 = 500;

const LIST_ACCOUNTS: &str = "/v1/accounts";
const ACCOUNT: &str = "/v1/accounts/{id}";
const SITE: &str = "/v1/accounts/{accountId}/sites/{siteId}";
const CONTACT: &str = "/v1/accounts/{accountId}/contacts/{contactId}";
const WRITE_BACKS: &str = "/v1/write-backs";
const MERGE_PATCH: &str = "application/merge-patch+json";
const JSON: &str = "application/json";

/// Which accounts a listing returns. Every part is optional; together they narrow the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountQuery {
    /// Only accounts whose `updatedAt` is at or after this instant (inclusive).
    pub updated_since: Option<OffsetDateTime>,
    /// Only these account ids (unknown ids are simply absent). `Some(vec![])` matches nothing,
    /// and no request is sent for it.
    pub ids: Option<Vec<String>>,
    /// Records per page, 1 to 500; default 100.
    pub page_size: Option<u32>,
}

impl AccountQuery {
    /// Every account changed at or after `since`.
    pub fn changed_since(since: OffsetDateTime) -> Self {
        Self {
            updated_since: Some(since),
            ..Self::default()
        }
    }

    /// The accounts with these ids.
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
    /// The route template, for logs.
    template: &'static str,
    /// What is attempted, in words, for errors (`update account A-7`).
    operation: String,
    /// The record a 404 means is missing (`account A-7`).
    what: String,
    url: Url,
    body: Option<Vec<u8>>,
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
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("cwsync-billing/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the key to another place; the contract has none.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BillingError::Config {
                message: format!("cannot build the HTTP client: {e}"),
            })?;
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
        let listing = self.list_accounts_checked(query).await?;
        match listing.malformed.into_iter().next() {
            None => Ok(listing.accounts),
            Some(bad) => Err(BillingError::Decode {
                operation: "list accounts".to_owned(),
                reason: bad.to_string(),
            }),
        }
    }

    /// Like [`BillingClient::list_accounts`], but a listed record that is not a valid account
    /// (a missing or mistyped field) does not fail the listing: it is returned in
    /// [`AccountListing::malformed`], named by its id and the field, and the valid accounts are
    /// returned as usual. One bad record in a billing system must not stop the sync of the rest.
    pub async fn list_accounts_checked(
        &self,
        query: &AccountQuery,
    ) -> Result<AccountListing, BillingError> {
        let operation = "list accounts";
        let limit = page_limit(operation, query)?;
        let Some(ids) = &query.ids else {
            let (accounts, malformed) = self.collect_pages(query, None, limit).await?;
            return Ok(AccountListing {
                accounts: latest_once(accounts),
                malformed,
            });
        };
        let ids = distinct(ids);
        let (listable, singles): (Vec<&str>, Vec<&str>) =
            ids.into_iter().partition(|id| !id.contains(','));
        let (batches, too_long) = self.id_batches(query, &listable)?;
        let mut accounts = Vec::new();
        let mut malformed = Vec::new();
        for batch in &batches {
            // Room for every id plus one, so a batch is one page even on a server that sends a
            // cursor whenever a page is full.
            let batch_limit = limit
                .max(u32::try_from(batch.len() + 1).unwrap_or(MAX_PAGE_SIZE))
                .min(MAX_PAGE_SIZE);
            let (valid, invalid) = self.collect_pages(query, Some(batch), batch_limit).await?;
            accounts.extend(valid);
            malformed.extend(invalid);
        }
        for id in singles.into_iter().chain(too_long) {
            match self.get_account(id).await {
                Ok(account) if query.updated_since.is_none_or(|t| account.updated_at >= t) => {
                    accounts.push(account);
                }
                Ok(_) | Err(BillingError::NotFound { .. }) => {}
                Err(BillingError::Decode { reason, .. }) => malformed.push(MalformedAccount {
                    id: Some(id.to_owned()),
                    field: None,
                    reason,
                }),
                Err(e) => return Err(e),
            }
        }
        Ok(AccountListing {
            accounts: latest_once(accounts),
            malformed,
        })
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
        let operation = "list accounts";
        let limit = page_limit(operation, query)?;
        let ids = query.ids.as_deref().map(distinct);
        if let Some(ids) = &ids {
            if ids.is_empty() {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            if let Some(id) = ids.iter().find(|id| id.contains(',')) {
                return Err(invalid(
                    operation,
                    "ids",
                    format!(
                        "the id {id:?} holds a comma, which the ids list cannot carry; use list_accounts"
                    ),
                ));
            }
        }
        let page = self
            .fetch_page(query, ids.as_deref(), limit, cursor)
            .await?;
        let (items, malformed) = decode_accounts(page.items);
        match malformed.into_iter().next() {
            None => Ok(Page {
                items,
                next_cursor: page.next_cursor,
            }),
            Some(bad) => Err(BillingError::Decode {
                operation: "list accounts".to_owned(),
                reason: bad.to_string(),
            }),
        }
    }

    /// `GET /v1/accounts/{id}`: one account with its sites and contacts.
    pub async fn get_account(&self, id: &str) -> Result<Account, BillingError> {
        let operation = format!("get account {id}");
        let url = self.record_url(&operation, &[("id", "accounts", id)])?;
        let call = Call {
            method: Method::GET,
            template: ACCOUNT,
            what: format!("account {id}"),
            operation,
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

    /// Pages of one listing, following `nextCursor` until there is none.
    async fn collect_pages(
        &self,
        query: &AccountQuery,
        ids: Option<&[&str]>,
        limit: u32,
    ) -> Result<(Vec<Account>, Vec<MalformedAccount>), BillingError> {
        let mut all = Vec::new();
        let mut malformed = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .fetch_page(query, ids, limit, cursor.as_deref())
                .await?;
            let empty = page.items.is_empty();
            let (valid, invalid) = decode_accounts(page.items);
            all.extend(valid);
            malformed.extend(invalid);
            match page.next_cursor {
                None => return Ok((all, malformed)),
                // The contract sends an empty page only as the last one; never loop on it.
                Some(_) if empty => return Ok((all, malformed)),
                Some(next) if cursor.as_deref() == Some(next.as_str()) => {
                    return Err(BillingError::Unexpected {
                        operation: "list accounts".to_owned(),
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
        query: &AccountQuery,
        ids: Option<&[&str]>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<serde_json::Value>, BillingError> {
        let operation = "list accounts";
        let url = self.list_url(query, limit, ids, cursor)?;
        let length = url.as_str().len();
        let max = self.inner.max_url_len;
        if length > max {
            return Err(match cursor {
                Some(c) => BillingError::Unexpected {
                    operation: operation.to_owned(),
                    status: 200,
                    excerpt: format!(
                        "the server's nextCursor ({} characters) makes the next page's URL {length} characters long; max_url_len is {max}",
                        c.len()
                    ),
                },
                None => invalid(
                    operation,
                    "ids",
                    format!(
                        "the listing URL would be {length} characters long; max_url_len is {max} (list_accounts splits ids)"
                    ),
                ),
            });
        }
        let call = Call {
            method: Method::GET,
            template: LIST_ACCOUNTS,
            operation: operation.to_owned(),
            what: "the account listing (GET /v1/accounts; check the base URL)".to_owned(),
            url,
            body: None,
        };
        self.send(&call).await
    }

    /// `{base}v1/accounts?updatedSince=…&limit=…&ids=…&cursor=…`, form-encoded.
    fn list_url(
        &self,
        query: &AccountQuery,
        limit: u32,
        ids: Option<&[&str]>,
        cursor: Option<&str>,
    ) -> Result<Url, BillingError> {
        let mut url = self.path_url(&["accounts"])?;
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(since) = query.updated_since {
                pairs.append_pair("updatedSince", &rfc3339(since)?);
            }
            pairs.append_pair("limit", &limit.to_string());
            if let Some(ids) = ids {
                pairs.append_pair("ids", &ids.join(","));
            }
            if let Some(cursor) = cursor {
                pairs.append_pair("cursor", cursor);
            }
        }
        Ok(url)
    }

    /// Splits `ids` (none with a comma) into batches whose listing URLs fit in `max_url_len`,
    /// each with fewer ids than the largest page. Ids that fit in no listing URL are returned
    /// apart.
    fn id_batches<'a>(
        &self,
        query: &AccountQuery,
        ids: &[&'a str],
    ) -> Result<(Vec<Vec<&'a str>>, Vec<&'a str>), BillingError> {
        // The longest limit value (three digits) and `&ids=`; ids follow, joined by `%2C`.
        let prefix = self
            .list_url(query, MAX_PAGE_SIZE, None, None)?
            .as_str()
            .len()
            + 5;
        let max = self.inner.max_url_len;
        let max_ids = (MAX_PAGE_SIZE - 1) as usize;
        let mut batches: Vec<Vec<&str>> = Vec::new();
        let mut too_long = Vec::new();
        let mut current: Vec<&str> = Vec::new();
        let mut length = prefix;
        for id in ids {
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
        for (name, collection, id) in levels {
            if id.is_empty() || *id == "." || *id == ".." {
                return Err(invalid(
                    operation,
                    name,
                    format!("{id:?} cannot be an id in a URL path"),
                ));
            }
            segments.push(*collection);
            segments.push(*id);
        }
        let url = self.path_url(&segments)?;
        let length = url.as_str().len();
        let max = self.inner.max_url_len;
        if length > max {
            let name = levels.last().map_or("id", |l| l.0);
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
            .header(AUTHORIZATION, inner.authorization.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = &call.body {
            // The batch write-back (a POST) is a JSON list of merge patches, not a merge patch.
            let content_type = if call.method == Method::POST {
                JSON
            } else {
                MERGE_PATCH
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

/// The page size of `query`, refused when the contract would refuse it.
fn page_limit(operation: &str, query: &AccountQuery) -> Result<u32, BillingError> {
    match query.page_size {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(n) => Err(invalid(
            operation,
            "limit",
            format!("the page size must be from 1 to {MAX_PAGE_SIZE}, not {n}"),
        )),
    }
}

fn rfc3339(at: OffsetDateTime) -> Result<String, BillingError> {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| invalid("list accounts", "updatedSince", e.to_string()))
}

fn encode<B: Serialize>(operation: &str, body: &B) -> Result<Vec<u8>, BillingError> {
    serde_json::to_vec(body).map_err(|e| BillingError::Invalid {
        operation: operation.to_owned(),
        message: format!("the update cannot be serialized: {e}"),
        fields: Vec::new(),
    })
}

/// The non-empty ids, first occurrence kept, in their order. No account has an empty id.
fn distinct(ids: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    ids.iter()
        .map(String::as_str)
        .filter(|id| !id.is_empty() && seen.insert(*id))
        .collect()
}

/// Each account once — the version seen last, which is the newest: a record modified while the
/// listing ran comes again on a later page — sorted by `(updatedAt, id)`.
/// The accounts of a listing, and the records that were not valid accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountListing {
    /// The valid accounts, each once, in `(updatedAt, id)` order.
    pub accounts: Vec<Account>,
    /// The records that could not be read as accounts.
    pub malformed: Vec<MalformedAccount>,
}

/// A listed record that is not a valid account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedAccount {
    /// Its `id`, when it has a string one.
    pub id: Option<String>,
    /// The field that is wrong (`billingAddress.state`), when known.
    pub field: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for MalformedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "account {id} is not a valid account")?,
            None => write!(f, "a record without a valid id is not a valid account")?,
        }
        match &self.field {
            Some(field) => write!(f, ": {field}: {}", self.reason),
            None => write!(f, ": {}", self.reason),
        }
    }
}

/// Reads each listed record as an account on its own, so one bad record spoils only itself.
fn decode_accounts(items: Vec<serde_json::Value>) -> (Vec<Account>, Vec<MalformedAccount>) {
    let mut accounts = Vec::with_capacity(items.len());
    let mut malformed = Vec::new();
    for item in items {
        let id = item
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        match serde_path_to_error::deserialize::<_, Account>(&item) {
            Ok(account) => accounts.push(account),
            Err(error) => {
                let path = error.path().to_string();
                // serde's message may quote the bad value; the field and the expectation suffice.
                let reason = error.into_inner().to_string();
                let reason = reason
                    .split_once(", expected ")
                    .map_or(reason.clone(), |(_, expected)| {
                        format!("expected {expected}")
                    });
                malformed.push(MalformedAccount {
                    id,
                    field: (path != ".").then_some(path),
                    reason,
                });
            }
        }
    }
    (accounts, malformed)
}

fn latest_once(accounts: Vec<Account>) -> Vec<Account> {
    let mut last: HashMap<String, usize> = HashMap::with_capacity(accounts.len());
    for (i, a) in accounts.iter().enumerate() {
        last.insert(a.id.clone(), i);
    }
    let mut kept: Vec<Account> = accounts
        .into_iter()
        .enumerate()
        .filter(|(i, a)| last.get(&a.id) == Some(i))
        .map(|(_, a)| a)
        .collect();
    kept.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    kept
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
        let query = AccountQuery::default();
        let (batches, too_long) = c.id_batches(&query, &refs).unwrap();
        assert!(too_long.is_empty());
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 40);
        for batch in &batches {
            let url = c
                .list_url(&query, MAX_PAGE_SIZE, Some(batch), None)
                .unwrap();
            assert!(url.as_str().len() <= 120, "{url}");
        }
        // Every batch but the last is full: one more id would not fit.
        for batch in &batches[..batches.len() - 1] {
            let url = c
                .list_url(&query, MAX_PAGE_SIZE, Some(batch), None)
                .unwrap();
            assert!(url.as_str().len() + 3 + 6 > 120, "{url}");
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
            connect_wise_company_id: None,
            sites: Vec::new(),
            contacts: Vec::new(),
            updated_at: at(t),
        };
        let kept = latest_once(vec![
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
