//! What both pulls (ConnectWise → billing: agreement invoices, sales orders) share: listing a
//! ConnectWise collection from its watermark plus the records on the error ledger, reading the
//! products of a page's documents and their catalog identifiers in batched reads, the billing
//! items by SKU, and the billing account of a ConnectWise company.
//!
//! **The listing.** A pull reads its collection with the tenant's filter and `lastUpdated >=
//! [watermark - overlap]` (everything on the first run), 1,000 a page, and adds the documents of
//! the products changed since (a product written to an invoice or an order does not move the
//! document's own `lastUpdated`) and the records on the error ledger under its entity (a failed
//! record is retried every run until it syncs, whether or not it changed), both read by
//! `id in (...)` with the same filter. The watermark moves to the latest `lastUpdated` listed
//! (documents and products) once the pages are sent (the framework does it); an unchanged re-run
//! lists the overlap again, and the stamps send none of it.

use std::collections::{BTreeSet, HashMap};

use cwsync_billing::ReferenceQuery;
use cwsync_billing::models::Item;
use cwsync_connectwise::models::{CatalogItem, Info, ProductItem, Resource};
use cwsync_connectwise::{Condition, Query};
use cwsync_mapping::customers::entity as customer;
use cwsync_store::links::LinkState;
use cwsync_store::runs::Outcome;
use cwsync_store::watermarks::read_from;
use cwsync_sync::{RecordResult, Recorder, SyncError};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::products::{Parent, read_products};
use super::{Candidate, Candidates, DocContext};

/// Records per ConnectWise listing page.
pub const LISTING_PAGE: u32 = 1000;
/// How far before its watermark a pull reads again (late commits of the same instant).
pub const OVERLAP: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// What a pull's listing found.
#[derive(Debug)]
pub struct Pulled<T> {
    /// The records, once each, in id order.
    pub records: Vec<T>,
    /// Failed lines of ids that are no ConnectWise ids.
    pub lines: Vec<RecordResult>,
    /// The watermark stream and the latest `lastUpdated` listed from it.
    pub advance: Option<(String, OffsetDateTime)>,
}

/// A ConnectWise record a pull lists.
pub trait PulledRecord: Resource + DeserializeOwned {
    /// Its id.
    fn id(&self) -> Option<i64>;
    /// Its `_info`.
    fn info(&self) -> Option<&Info>;
}

impl PulledRecord for cwsync_connectwise::models::Invoice {
    fn id(&self) -> Option<i64> {
        self.id
    }
    fn info(&self) -> Option<&Info> {
        self.info.as_ref()
    }
}

impl PulledRecord for cwsync_connectwise::models::Order {
    fn id(&self) -> Option<i64> {
        self.id
    }
    fn info(&self) -> Option<&Info> {
        self.info.as_ref()
    }
}

/// The ConnectWise ids of `ids`; a failed line for each that is none.
pub fn parse_ids(entity: &'static str, ids: &[String]) -> (Vec<i64>, Vec<RecordResult>) {
    let mut parsed = Vec::new();
    let mut lines = Vec::new();
    for id in ids {
        match id.trim().parse::<i64>() {
            Ok(n) if n > 0 => parsed.push(n),
            _ => lines.push(
                Recorder::new(entity, id, String::new())
                    .failed(format!("id: {id:?} is no ConnectWise id")),
            ),
        }
    }
    (parsed, lines)
}

/// The records of `T::PATH` matching `filter` that `ids` names (the console's `recordIds`), or
/// else those changed since the watermark of `stream`, those with a product (of `parent`'s kind)
/// changed since, and those on the error ledger under `entity` (see the module docs).
pub async fn list_pulled<T: PulledRecord>(
    ctx: &DocContext<'_>,
    (stream, entity): (&str, &'static str),
    filter: Condition,
    ids: Option<&[String]>,
    parent: Parent,
) -> Result<Pulled<T>, SyncError> {
    let cw = &ctx.clients.cw;
    let query = Query::new().filter(filter).page_size(LISTING_PAGE);
    let read = |what: &str, e| SyncError::connectwise(format!("listing {what}"), e);
    let mut records: Vec<T> = Vec::new();
    let mut lines = Vec::new();
    let mut advance = None;
    let wanted: Vec<i64> = match ids {
        Some(ids) => {
            let (parsed, bad) = parse_ids(entity, ids);
            lines = bad;
            parsed
        }
        None => {
            let deps = &ctx.function.deps;
            let watermark = deps.stores.watermarks.get(ctx.tenant, stream).await?;
            let since = watermark.as_ref().map(|wm| read_from(wm, OVERLAP));
            let changed = match since {
                Some(since) => query
                    .clone()
                    .and_filter(Condition::field("lastUpdated").ge(since)),
                None => query.clone(),
            };
            records = cw
                .list_all(T::PATH, &changed)
                .await
                .map_err(|e| read(stream, e))?;
            let mut latest = records
                .iter()
                .filter_map(|r| r.info().and_then(|i| i.last_updated))
                .max();
            // A product written to a document does not move the document's `lastUpdated`:
            // the documents of products changed since are listed too.
            let mut wanted = Vec::new();
            if let Some(since) = since {
                let path = parent_path(parent);
                let products: Vec<ProductItem> = cw
                    .list_all(
                        ProductItem::PATH,
                        &Query::new()
                            .filter(
                                Condition::field(path)
                                    .is_not_null()
                                    .and(Condition::field("lastUpdated").ge(since)),
                            )
                            .page_size(LISTING_PAGE),
                    )
                    .await
                    .map_err(|e| read(&format!("the products changed of {stream}"), e))?;
                for product in &products {
                    latest = latest.max(product.info.as_ref().and_then(|i| i.last_updated));
                    wanted.extend(parent_of(parent, product));
                }
            }
            advance = latest.map(|latest| (stream.to_owned(), latest));
            let max_attempts = ctx.settings.error_attempts;
            wanted.extend(
                deps.stores
                    .ledger
                    .report(ctx.tenant, max_attempts, ctx.function.now())
                    .await?
                    .into_iter()
                    .filter(|e| e.kind == entity)
                    .filter_map(|e| e.record_id.parse::<i64>().ok()),
            );
            wanted.sort_unstable();
            wanted.dedup();
            wanted
        }
    };
    let listed: BTreeSet<i64> = records.iter().filter_map(PulledRecord::id).collect();
    let more: Vec<i64> = wanted
        .into_iter()
        .filter(|id| !listed.contains(id))
        .collect();
    if !more.is_empty() {
        records.extend(
            cw.list_by_ids::<T, i64>(T::PATH, "id", more, &query)
                .await
                .map_err(|e| read(&format!("{stream} by id"), e))?,
        );
    }
    records.sort_by_key(PulledRecord::id);
    records.dedup_by_key(|r| r.id());
    Ok(Pulled {
        records,
        lines,
        advance,
    })
}

/// A pull's candidates: the records [`list_pulled`] lists, with their products (by
/// `parent`), each stamped by `stamp` (`None`: not a
/// candidate).
pub async fn stamped<T: PulledRecord>(
    ctx: &DocContext<'_>,
    (stream, entity): (&str, &'static str),
    filter: Condition,
    ids: Option<&[String]>,
    parent: Parent,
    stamp: impl Fn(&T, &[ProductItem]) -> Option<String>,
) -> Result<Candidates, SyncError> {
    let listed = list_pulled::<T>(ctx, (stream, entity), filter, ids, parent).await?;
    let ids = listed.records.iter().filter_map(PulledRecord::id).collect();
    let products = read_products(ctx, parent, ids).await?;
    Ok(Candidates {
        records: listed
            .records
            .iter()
            .filter_map(|record| {
                let id = record.id()?;
                let products = products.get(&id).map(Vec::as_slice).unwrap_or(&[]);
                Some(Candidate {
                    id: id.to_string(),
                    stamp: stamp(record, products)?,
                })
            })
            .collect(),
        lines: listed.lines,
        advance: listed.advance,
    })
}

/// The condition path of the documents of `parent`'s kind on a product.
fn parent_path(parent: Parent) -> &'static str {
    match parent {
        Parent::Invoice => "invoice/id",
        Parent::SalesOrder => "salesOrder/id",
        Parent::Opportunity => "opportunity/id",
    }
}

/// The document of `parent`'s kind `product` belongs to.
fn parent_of(parent: Parent, product: &ProductItem) -> Option<i64> {
    match parent {
        Parent::Invoice => product.invoice.as_ref(),
        Parent::SalesOrder => product.sales_order.as_ref(),
        Parent::Opportunity => product.opportunity.as_ref(),
    }
    .and_then(|r| r.id)
}

/// The identifiers of the catalog items of `products` whose reference came without one, by
/// catalog item id (one batched read; none when every reference carries its identifier).
pub async fn catalog_identifiers<'a>(
    ctx: &DocContext<'_>,
    products: impl IntoIterator<Item = &'a ProductItem>,
) -> Result<HashMap<i64, String>, SyncError> {
    let missing: Vec<i64> = products
        .into_iter()
        .filter_map(|p| p.catalog_item.as_ref())
        .filter(|c| c.identifier.as_deref().is_none_or(|i| i.trim().is_empty()))
        .filter_map(|c| c.id)
        .collect();
    if missing.is_empty() {
        return Ok(HashMap::new());
    }
    let items: Vec<CatalogItem> = ctx
        .clients
        .cw
        .list_by_ids(
            CatalogItem::PATH,
            "id",
            missing,
            &Query::new()
                .page_size(LISTING_PAGE)
                .fields(["id", "identifier"]),
        )
        .await
        .map_err(|e| SyncError::connectwise("reading the products' catalog items", e))?;
    Ok(items
        .into_iter()
        .filter_map(|i| Some((i.id?, i.identifier?)))
        .collect())
}

/// The billing items: active ones by upper-cased SKU (→ id), and every item.
#[derive(Debug)]
pub struct BillingItems {
    /// Upper-cased SKU → item id, active items only.
    pub by_sku: HashMap<String, String>,
    /// Every item.
    pub all: Vec<Item>,
}

impl BillingItems {
    /// The active item `name` names (its id, else its SKU in any case).
    pub fn named(&self, name: &str) -> Option<&Item> {
        let name = name.trim();
        self.all
            .iter()
            .filter(|i| i.active)
            .find(|i| i.id == name)
            .or_else(|| {
                self.all
                    .iter()
                    .filter(|i| i.active)
                    .find(|i| i.sku.trim().eq_ignore_ascii_case(name))
            })
    }
}

/// Every billing item (one paged listing).
pub async fn billing_items(ctx: &DocContext<'_>) -> Result<BillingItems, SyncError> {
    let all = ctx
        .clients
        .billing
        .list_items(&ReferenceQuery {
            page_size: Some(500),
            ..ReferenceQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("listing the billing items", e))?
        .records;
    let by_sku = all
        .iter()
        .filter(|i| i.active && !i.placeholder && !i.sku.trim().is_empty())
        .map(|i| (i.sku.trim().to_uppercase(), i.id.clone()))
        .collect();
    Ok(BillingItems { by_sku, all })
}

/// The billing account of ConnectWise company `company` (the customer sync's link), when linked.
pub async fn account_of(ctx: &DocContext<'_>, company: i64) -> Result<Option<String>, SyncError> {
    Ok(ctx
        .links
        .get_by_cw(ctx.tenant, customer::COMPANY, company)
        .await?
        .filter(|l| l.kind == customer::COMPANY && l.state == LinkState::Linked)
        .map(|l| l.source_id))
}

/// The accounts of a document's company and bill-to company; `Err` is the failed reason naming
/// the company that has none.
pub async fn accounts_of(
    ctx: &DocContext<'_>,
    what: &str,
    company: Option<i64>,
    bill_to: Option<i64>,
) -> Result<Result<(String, String), String>, SyncError> {
    let Some(company) = company else {
        return Ok(Err(format!("company: {what} has no company")));
    };
    let Some(account) = account_of(ctx, company).await? else {
        return Ok(Err(format!(
            "company: ConnectWise company {company} is linked to no billing account (the \
             customer sync links it, or link it by hand): {what} waits for it"
        )));
    };
    let bill_to_account = match bill_to {
        None => account.clone(),
        Some(id) if id == company => account.clone(),
        Some(id) => match account_of(ctx, id).await? {
            Some(a) => a,
            None => {
                return Ok(Err(format!(
                    "billToCompany: ConnectWise company {id} is linked to no billing account \
                     (the customer sync links it, or link it by hand): {what} waits for it"
                )));
            }
        },
    };
    Ok(Ok((account, bill_to_account)))
}

/// A record of the page ConnectWise no longer lists (deleted, or out of the tenant's filter).
pub fn gone(entity: &'static str, id: i64, filter: &str) -> RecordResult {
    Recorder::new(entity, &id.to_string(), String::new()).with_detail(
        Outcome::Skipped,
        format!("no longer listed by ConnectWise ({filter}): nothing pulled"),
    )
}
