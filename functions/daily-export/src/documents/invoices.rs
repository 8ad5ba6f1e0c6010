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

use cwsync_billing::DocumentQuery;
use cwsync_billing::models::Invoice as BillingInvoice;
use cwsync_connectwise::models::{Invoice, ProductItem, Resource};
use cwsync_connectwise::{Condition, Query};
use cwsync_mapping::documents::invoices::{
    desired_invoice, invoice_changes, invoice_stamp, is_posted,
};
use cwsync_mapping::documents::lines::{product_lines, product_plan};
use cwsync_store::links::{LinkState, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_sync::record::describe_change;
use cwsync_sync::writes::{fields_of, record_level};
use cwsync_sync::{Created, RecordResult, Recorder, SyncError, create_claimed};

use super::products::{Catalog, Parent, read_catalog, read_products, write_products};
use super::{
    Candidate, Candidates, DocContext, Document, company_ids, listed_in_order, malformed_lines,
};

/// The ConnectWise kind an invoice is linked as.
const CW_KIND: &str = "invoice";
/// Billing invoices per listing page.
const LISTING_PAGE: u32 = 500;

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
    let (invoices, mut records) = listed_in_order(entity, ids, &listed, |i| &i.id);
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

    // ConnectWise, in batched reads.
    let linked: Vec<i64> = invoices.iter().filter_map(|i| linked_id(i)).collect();
    let mut side = CwSide {
        by_id: HashMap::new(),
        by_number: HashMap::new(),
        products: HashMap::new(),
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
    side.products = read_products(ctx, Parent::Invoice, known).await?;
    let catalog = read_catalog(ctx, invoices.iter().flat_map(|i| &i.items)).await?;

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
            &catalog,
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
    catalog: &Catalog,
    side: &CwSide,
) -> Result<RecordResult, SyncError> {
    let Some(company) = company else {
        return Ok(recorder.failed(format!(
            "accountId: account {} has no ConnectWise company yet (the customer sync links it): \
             the invoice waits for it",
            invoice.account_id
        )));
    };
    let lines = match product_lines(&invoice.items, &catalog.skus, &catalog.items) {
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
        if let Err(reason) = write_products(ctx, Parent::Invoice, cw_id, &plan).await? {
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
    // Products of an invoice created by an earlier attempt are read again (never two).
    let existing: Vec<ProductItem> = cw
        .list_all(
            ProductItem::PATH,
            &Query::new().filter(Condition::field("invoice/id").eq(cw_id)),
        )
        .await
        .map_err(|e| SyncError::connectwise(format!("reading invoice {cw_id}'s products"), e))?;
    let plan = product_plan(&existing, &lines, &[]);
    if let Err(reason) = write_products(ctx, Parent::Invoice, cw_id, &plan).await? {
        return Ok(recorder.failed(reason).with_id(cw_id));
    }
    ctx.record_synced(source, CW_KIND, cw_id, stamp).await?;
    let mut line = lines_out
        .pop()
        .unwrap_or_else(|| recorder.with_detail(Outcome::Created, String::new()));
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
