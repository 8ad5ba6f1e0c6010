//! Billing invoices with their items → ConnectWise invoices with their products
//! (`cwsync_mapping::documents::invoices`).
//!
//! **Planning** lists the tenant's invoices (500 a page) and the accounts' company links, and
//! stamps each invoice with what its export would write; an invoice whose link holds that stamp
//! is not sent.
//!
//! **A page** reads in batches: its invoices from the billing system by id, the SKUs of items
//! that came without one, the ConnectWise invoices by id (linked) and by `invoiceNumber` (not
//! yet linked), their products by `invoice/id`, and the catalog items by `identifier`. Then, per
//! invoice:
//! - no company link for its account: failed, naming the account (the customer sync links it);
//! - an item whose SKU names no catalog item: failed, naming the item;
//! - found and **posted** (`glBatch`): never changed; when the billing invoice differs, the line
//!   fails saying what changed, so it stays on the error report (a credit memo fixes it);
//! - found (linked, or by number for the same company): changed fields patched, products changed
//!   in place, created or removed; an invoice number held by another company's invoice fails;
//! - else created, claimed first (never two invoices for one billing invoice: a create whose
//!   outcome is unknown is settled by its number), then its products.
//!
//! The stamp is recorded once all of it is written, so a crash half way is finished by the retry
//! (the products are re-read and matched by position: none is created twice).

use std::collections::HashMap;

use cwsync_billing::models::{DocumentItem, Invoice as BillingInvoice};
use cwsync_billing::{DocumentQuery, ReferenceQuery};
use cwsync_connectwise::models::{CatalogItem, Invoice, ProductItem, Reference, Resource};
use cwsync_connectwise::{Condition, Query};
use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::documents::invoices::{
    desired_invoice, invoice_changes, invoice_stamp, is_posted,
};
use cwsync_mapping::documents::lines::{
    ProductLine, ProductPlan, product_lines, product_plan, sku_of,
};
use cwsync_store::links::{LinkState, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_sync::record::describe_change;
use cwsync_sync::writes::{fields_of, record_level};
use cwsync_sync::{Created, RecordResult, Recorder, SyncError, create_claimed};

use super::{Candidate, Candidates, DocContext, Document};

/// The ConnectWise kind an invoice is linked as.
const CW_KIND: &str = "invoice";
/// Billing invoices per listing page.
const LISTING_PAGE: u32 = 500;

/// The account → ConnectWise company links of `accounts`.
pub async fn company_ids(
    ctx: &DocContext<'_>,
    accounts: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, i64>, SyncError> {
    let mut accounts: Vec<String> = accounts.into_iter().collect();
    accounts.sort();
    accounts.dedup();
    Ok(ctx
        .links
        .get_many(ctx.tenant, customer::COMPANY, &accounts)
        .await?
        .into_iter()
        .filter(|(_, l)| l.state == LinkState::Linked)
        .filter_map(|(id, l)| Some((id, l.cw_id?)))
        .collect())
}

/// The stamp of `invoice` in `ctx` (its company from `companies`).
fn stamp(
    ctx: &DocContext<'_>,
    invoice: &BillingInvoice,
    companies: &HashMap<String, i64>,
) -> String {
    invoice_stamp(
        invoice,
        companies.get(&invoice.account_id).copied(),
        &ctx.settings.documents,
        &ctx.settings.never_overwrite.invoices,
    )
}

/// The failed line of each malformed record of a listing.
pub fn malformed_lines(
    entity: &'static str,
    malformed: &[cwsync_billing::MalformedRecord],
) -> Vec<RecordResult> {
    malformed
        .iter()
        .map(|bad| {
            let id = bad.id.as_deref().unwrap_or("(no id)");
            Recorder::new(entity, id, String::new()).failed(bad.to_string())
        })
        .collect()
}

/// Every invoice (or those of `ids`) with its stamp.
pub async fn candidates(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<Candidates, SyncError> {
    let query = DocumentQuery {
        ids: ids.map(<[String]>::to_vec),
        page_size: Some(LISTING_PAGE),
        ..DocumentQuery::default()
    };
    let listed = ctx
        .clients
        .billing
        .list_invoices(&query)
        .await
        .map_err(|e| SyncError::billing("listing the invoices", e))?;
    let companies = company_ids(ctx, listed.records.iter().map(|i| i.account_id.clone())).await?;
    Ok(Candidates {
        records: listed
            .records
            .iter()
            .map(|invoice| Candidate {
                id: invoice.id.clone(),
                stamp: stamp(ctx, invoice, &companies),
            })
            .collect(),
        lines: malformed_lines(Document::Invoices.entity(), &listed.malformed),
        advance: None,
    })
}

/// What a page read of ConnectWise.
struct CwSide {
    /// Invoices by id.
    by_id: HashMap<i64, Invoice>,
    /// Invoices by upper-cased number.
    by_number: HashMap<String, Invoice>,
    /// Products by invoice id.
    products: HashMap<i64, Vec<ProductItem>>,
    /// Catalog item ids by upper-cased identifier.
    catalog: HashMap<String, i64>,
}

/// Syncs the invoices `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::Invoices.entity();
    let billing = &ctx.clients.billing;
    let cw = &ctx.clients.cw;
    let listed = billing
        .list_invoices(&DocumentQuery {
            ids: Some(ids.to_vec()),
            ..DocumentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("reading the page's invoices", e))?;
    let mut records = malformed_lines(entity, &listed.malformed);
    let found: HashMap<String, &BillingInvoice> =
        listed.records.iter().map(|i| (i.id.clone(), i)).collect();
    let (invoices, missing) = super::in_order(ids, &found);
    records.extend(missing_lines(entity, missing, &listed.malformed));
    let companies = company_ids(ctx, invoices.iter().map(|i| i.account_id.clone())).await?;
    let links = ctx
        .links
        .get_many(
            ctx.tenant,
            entity,
            &invoices.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        )
        .await?;
    let linked_id = |invoice: &BillingInvoice| {
        links
            .get(&invoice.id)
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id)
    };

    let skus = missing_skus(ctx, invoices.iter().flat_map(|i| &i.items), "invoice").await?;

    // ConnectWise, in batched reads.
    let linked: Vec<i64> = invoices.iter().filter_map(|i| linked_id(i)).collect();
    let mut side = CwSide {
        by_id: HashMap::new(),
        by_number: HashMap::new(),
        products: HashMap::new(),
        catalog: HashMap::new(),
    };
    for invoice in read_invoices(cw, "id", linked).await? {
        if let Some(id) = invoice.id {
            side.by_id.insert(id, invoice);
        }
    }
    let numbers: Vec<String> = invoices
        .iter()
        .filter(|i| linked_id(i).is_none_or(|id| !side.by_id.contains_key(&id)))
        .map(|i| i.number.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    for invoice in read_invoices(cw, "invoiceNumber", numbers).await? {
        if let Some(number) = &invoice.invoice_number {
            side.by_number.insert(number.trim().to_uppercase(), invoice);
        }
    }
    let known: Vec<i64> = side
        .by_id
        .keys()
        .chain(side.by_number.values().filter_map(|i| i.id.as_ref()))
        .copied()
        .collect();
    side.products = products_of(ctx, "invoice", known).await?;
    side.catalog = catalog_ids(
        ctx,
        invoices.iter().flat_map(|i| &i.items),
        &skus,
        "invoice",
    )
    .await?;

    for invoice in invoices {
        let stamp = stamp(ctx, invoice, &companies);
        let recorder = Recorder::new(entity, &invoice.id, stamp.clone());
        let line = Box::pin(sync_invoice(
            ctx,
            invoice,
            &recorder,
            &stamp,
            companies.get(&invoice.account_id).copied(),
            linked_id(invoice),
            &skus,
            &side,
        ))
        .await?;
        records.push(line);
    }
    Ok(records)
}

/// The ConnectWise invoices whose `field` is one of `values`.
async fn read_invoices<V: Into<cwsync_connectwise::Value>>(
    cw: &cwsync_connectwise::Client,
    field: &'static str,
    values: Vec<V>,
) -> Result<Vec<Invoice>, SyncError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    cw.list_by_ids(Invoice::PATH, field, values, &Query::new().page_size(1000))
        .await
        .map_err(|e| SyncError::connectwise(format!("reading invoices by {field}"), e))
}

/// Exports one invoice; its line.
#[allow(clippy::too_many_arguments)]
async fn sync_invoice(
    ctx: &DocContext<'_>,
    invoice: &BillingInvoice,
    recorder: &Recorder,
    stamp: &str,
    company: Option<i64>,
    linked: Option<i64>,
    skus: &HashMap<String, String>,
    side: &CwSide,
) -> Result<RecordResult, SyncError> {
    let Some(company) = company else {
        return Ok(recorder.failed(format!(
            "accountId: account {} has no ConnectWise company yet (the customer sync links it): \
             the invoice waits for it",
            invoice.account_id
        )));
    };
    let lines = match product_lines(&invoice.items, skus, &side.catalog) {
        Ok(lines) => lines,
        Err(unmatched) => {
            let named: Vec<String> = unmatched.iter().map(ToString::to_string).collect();
            return Ok(recorder.failed(named.join("; ")));
        }
    };
    let settings = &ctx.settings.documents;
    let never = &ctx.settings.never_overwrite.invoices;
    let desired = desired_invoice(invoice, company, settings);
    let number = invoice.number.trim().to_uppercase();
    let current = linked
        .and_then(|id| side.by_id.get(&id))
        .or_else(|| side.by_number.get(&number));
    let source = SourceRef::new(Document::Invoices.entity(), &invoice.id);

    if let Some(current) = current {
        let Some(cw_id) = current.id else {
            return Ok(recorder.failed("ConnectWise answered an invoice without an id"));
        };
        let its_company = current.company.as_ref().and_then(|c| c.id);
        if its_company != Some(company) {
            return Ok(recorder.failed(format!(
                "number: ConnectWise invoice {cw_id} has the number {:?} but belongs to company \
                 {} (the account's is {company}): not changed",
                invoice.number.trim(),
                its_company.map_or_else(|| "(none)".to_owned(), |c| c.to_string())
            )));
        }
        let ops = invoice_changes(current, &desired, never);
        let products = side.products.get(&cw_id).map(Vec::as_slice).unwrap_or(&[]);
        let plan = product_plan(products, &lines, &ctx.settings.never_overwrite.invoices);
        if is_posted(current) {
            if ops.is_empty() && plan.is_empty() {
                ctx.record_synced(source, CW_KIND, cw_id, stamp).await?;
                return Ok(recorder
                    .with_detail(
                        Outcome::Unchanged,
                        "posted to accounting; as billed".to_owned(),
                    )
                    .with_id(cw_id));
            }
            let mut changed = fields_of(&ops);
            if !plan.is_empty() {
                changed.push(plan.describe());
            }
            return Ok(recorder
                .failed(format!(
                    "ConnectWise invoice {cw_id} is posted to accounting and is never changed; \
                     the billing invoice differs in {}: issue a credit memo or correct it by hand",
                    changed.join(", ")
                ))
                .with_id(cw_id));
        }
        if !ctx.dry_run && !ops.is_empty() {
            let path = format!("{}/{cw_id}", Invoice::PATH);
            if let Err(error) = ctx.clients.cw.patch::<Invoice>(&path, &ops).await {
                return refused(recorder, error, &format!("updating invoice {cw_id}"));
            }
        }
        if let Err(reason) = write_products(ctx, cw_id, &plan).await? {
            return Ok(recorder.failed(reason).with_id(cw_id));
        }
        ctx.record_synced(source, CW_KIND, cw_id, stamp).await?;
        let mut changed = fields_of(&ops);
        if !plan.is_empty() {
            changed.push(plan.describe());
        }
        let how = if linked == Some(cw_id) {
            String::new()
        } else {
            format!("matched by number {:?}; ", invoice.number.trim())
        };
        let outcome = if changed.is_empty() {
            if how.is_empty() {
                Outcome::Unchanged
            } else {
                Outcome::Linked
            }
        } else {
            Outcome::Updated
        };
        let detail = format!("{how}{}", describe_change(&changed, ctx.dry_run));
        return Ok(recorder.with_detail(outcome, detail).with_id(cw_id));
    }

    // Not in ConnectWise: created, claimed first. A link to an invoice deleted in ConnectWise
    // is let go first.
    if linked.is_some() && !ctx.dry_run {
        ctx.links.unlink(ctx.tenant, source).await?;
    }
    let what = format!("invoice {}", invoice.id);
    let natural_key = format!("invoiceNumber {:?}", invoice.number.trim());
    let creation = ctx.creation(source, CW_KIND, &what, &natural_key, stamp);
    let mut lines_out = Vec::new();
    let number_query = invoice.number.trim().to_owned();
    let cw = &ctx.clients.cw;
    let created = create_claimed(
        &creation,
        recorder,
        &mut lines_out,
        |i: &Invoice| i.id,
        || {
            let number = number_query.clone();
            async move {
                let found: Vec<Invoice> = cw
                    .list_all(
                        Invoice::PATH,
                        &Query::new().filter(Condition::field("invoiceNumber").eq(number)),
                    )
                    .await
                    .map_err(|e| SyncError::connectwise("finding an invoice by number", e))?;
                Ok(found
                    .into_iter()
                    .find(|i| i.company.as_ref().and_then(|c| c.id) == Some(company)))
            }
        },
        || cw.create::<Invoice, Invoice>(Invoice::PATH, &desired),
    )
    .await?;
    let cw_id = match created {
        Created::Linked { record, .. } => record.id,
        Created::AlreadyLinked(link) => link.cw_id,
        Created::LinkedToOther { cw_id, holder } => {
            return Ok(
                recorder.failed(cwsync_sync::claim::linked_to_other(CW_KIND, cw_id, &holder))
            );
        }
        Created::Planned => {
            let plan = product_plan(&[], &lines, &[]);
            return Ok(recorder.with_detail(
                Outcome::Created,
                format!(
                    "would create the invoice with {} products",
                    plan.creates.len()
                ),
            ));
        }
        Created::Refused => {
            return Ok(lines_out
                .pop()
                .unwrap_or_else(|| recorder.failed("refused")));
        }
    };
    let Some(cw_id) = cw_id else {
        return Ok(recorder.failed("ConnectWise answered the created invoice without an id"));
    };
    let created = lines_out.pop();
    finish_created(
        ctx,
        "invoice",
        cw_id,
        &lines,
        (source, CW_KIND, stamp),
        recorder,
        created,
    )
    .await
}

/// The lines of the records of a page its read did not return (`missing`): skipped, no longer
/// in the billing system, unless `malformed` (they have their failed line already).
pub fn missing_lines(
    entity: &'static str,
    missing: Vec<&str>,
    malformed: &[cwsync_billing::MalformedRecord],
) -> Vec<RecordResult> {
    missing
        .into_iter()
        .filter(|id| !malformed.iter().any(|b| b.id.as_deref() == Some(*id)))
        .map(|id| {
            Recorder::new(entity, id, String::new()).with_detail(
                Outcome::Skipped,
                "no longer in the billing system: nothing exported".to_owned(),
            )
        })
        .collect()
}

/// The SKUs (by billing item id) of the `items` of `document`s that came without one, in one
/// billing read (none when every item has its SKU).
pub async fn missing_skus<'a>(
    ctx: &DocContext<'_>,
    items: impl IntoIterator<Item = &'a DocumentItem>,
    document: &str,
) -> Result<HashMap<String, String>, SyncError> {
    let no_sku: Vec<String> = items
        .into_iter()
        .filter(|item| item.sku.as_deref().is_none_or(|s| s.trim().is_empty()))
        .map(|item| item.item_id.clone())
        .collect();
    if no_sku.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ctx
        .clients
        .billing
        .list_items(&ReferenceQuery::by_ids(no_sku))
        .await
        .map_err(|e| SyncError::billing(format!("reading the {document} items' SKUs"), e))?
        .records
        .into_iter()
        .map(|item| (item.id, item.sku))
        .collect())
}

/// The catalog items of `items` (SKUs from `skus` for those without one): upper-cased
/// identifier → id, in batched `identifier in (...)` reads.
pub async fn catalog_ids<'a>(
    ctx: &DocContext<'_>,
    items: impl IntoIterator<Item = &'a DocumentItem>,
    skus: &HashMap<String, String>,
    document: &str,
) -> Result<HashMap<String, i64>, SyncError> {
    let wanted: Vec<String> = items
        .into_iter()
        .map(|item| sku_of(item, skus).to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let mut catalog = HashMap::new();
    if wanted.is_empty() {
        return Ok(catalog);
    }
    let items: Vec<CatalogItem> = ctx
        .clients
        .cw
        .list_by_ids(
            CatalogItem::PATH,
            "identifier",
            wanted,
            &Query::new().page_size(1000).fields(["id", "identifier"]),
        )
        .await
        .map_err(|e| {
            SyncError::connectwise(format!("reading the {document}s' catalog items"), e)
        })?;
    for item in items {
        if let (Some(id), Some(identifier)) = (item.id, item.identifier) {
            catalog.insert(identifier.trim().to_uppercase(), id);
        }
    }
    Ok(catalog)
}

/// The products of the ConnectWise documents `parents`, by document, for documents whose
/// products point at them through `field` (`invoice`, `salesOrder`, `opportunity`); batched.
pub async fn products_of(
    ctx: &DocContext<'_>,
    field: &'static str,
    parents: Vec<i64>,
) -> Result<HashMap<i64, Vec<ProductItem>>, SyncError> {
    let mut by_parent: HashMap<i64, Vec<ProductItem>> = HashMap::new();
    if parents.is_empty() {
        return Ok(by_parent);
    }
    let path = match field {
        "invoice" => "invoice/id",
        "salesOrder" => "salesOrder/id",
        _ => "opportunity/id",
    };
    let products: Vec<ProductItem> = ctx
        .clients
        .cw
        .list_by_ids(
            ProductItem::PATH,
            path,
            parents,
            &Query::new().page_size(1000),
        )
        .await
        .map_err(|e| SyncError::connectwise(format!("reading the {field}s' products"), e))?;
    for product in products {
        let parent = match field {
            "invoice" => product.invoice.as_ref(),
            "salesOrder" => product.sales_order.as_ref(),
            _ => product.opportunity.as_ref(),
        };
        if let Some(parent) = parent.and_then(|r| r.id) {
            by_parent.entry(parent).or_default().push(product);
        }
    }
    Ok(by_parent)
}

/// After a claimed create of document `cw_id` (its products point at it through `field`): its
/// products written — read again first, so those an earlier attempt made are not made twice —
/// and then its stamp recorded on `link` (source, ConnectWise kind, stamp). The line: the
/// create's (`created`) with what the products needed.
pub async fn finish_created(
    ctx: &DocContext<'_>,
    field: &'static str,
    cw_id: i64,
    lines: &[ProductLine],
    link: (SourceRef<'_>, &str, &str),
    recorder: &Recorder,
    created: Option<RecordResult>,
) -> Result<RecordResult, SyncError> {
    let (source, cw_kind, stamp) = link;
    let existing = products_of(ctx, field, vec![cw_id])
        .await?
        .remove(&cw_id)
        .unwrap_or_default();
    let plan = product_plan(&existing, lines, &[]);
    if let Err(reason) = write_products_of(ctx, field, cw_id, &plan).await? {
        return Ok(recorder.failed(reason).with_id(cw_id));
    }
    ctx.record_synced(source, cw_kind, cw_id, stamp).await?;
    let mut line = created.unwrap_or_else(|| recorder.with_detail(Outcome::Created, String::new()));
    if !plan.is_empty() {
        line.detail = format!("{}; {}", line.detail, plan.describe())
            .trim_start_matches("; ")
            .to_owned();
    }
    Ok(line.with_id(cw_id))
}

/// A ConnectWise refusal of this record as its failed line; anything else stops the job.
fn refused(
    recorder: &Recorder,
    error: cwsync_connectwise::CwError,
    what: &str,
) -> Result<RecordResult, SyncError> {
    match record_level(error) {
        Ok(reason) => Ok(recorder.failed(reason)),
        Err(error) => Err(SyncError::connectwise(what.to_owned(), error)),
    }
}

/// Writes `plan` to the products of document `parent` (nothing in a dry run). `Ok(Err(reason))`:
/// ConnectWise refused one of them.
pub async fn write_products(
    ctx: &DocContext<'_>,
    parent: i64,
    plan: &ProductPlan,
) -> Result<Result<(), String>, SyncError> {
    write_products_of(ctx, "invoice", parent, plan).await
}

/// [`write_products`] for a document whose products point at it through `field` (`invoice`,
/// `salesOrder`, `opportunity`).
pub async fn write_products_of(
    ctx: &DocContext<'_>,
    field: &str,
    parent: i64,
    plan: &ProductPlan,
) -> Result<Result<(), String>, SyncError> {
    if ctx.dry_run {
        return Ok(Ok(()));
    }
    let cw = &ctx.clients.cw;
    for (id, ops) in &plan.updates {
        let path = format!("{}/{id}", ProductItem::PATH);
        if let Err(error) = cw.patch::<ProductItem>(&path, ops).await {
            return settle(error, format!("updating product {id} of {field} {parent}"));
        }
    }
    for create in &plan.creates {
        let mut product = create.clone();
        let parent_ref = Some(Reference {
            id: Some(parent),
            ..Reference::default()
        });
        match field {
            "invoice" => product.invoice = parent_ref,
            "salesOrder" => product.sales_order = parent_ref,
            _ => product.opportunity = parent_ref,
        }
        if let Err(error) = cw
            .create::<ProductItem, ProductItem>(ProductItem::PATH, &product)
            .await
        {
            return settle(error, format!("adding a product to {field} {parent}"));
        }
    }
    for id in &plan.deletes {
        if let Err(error) = cw.delete(&format!("{}/{id}", ProductItem::PATH)).await {
            return settle(error, format!("removing product {id} of {field} {parent}"));
        }
    }
    Ok(Ok(()))
}

fn settle(
    error: cwsync_connectwise::CwError,
    what: String,
) -> Result<Result<(), String>, SyncError> {
    match record_level(error) {
        Ok(reason) => Ok(Err(format!("{what}: {reason}"))),
        Err(error) => Err(SyncError::connectwise(what, error)),
    }
}
