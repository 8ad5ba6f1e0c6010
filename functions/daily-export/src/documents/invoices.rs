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
use cwsync_connectwise::models::Invoice;
use cwsync_mapping::documents::invoices::{
    desired_invoice, invoice_changes, invoice_stamp, is_posted,
};
use cwsync_mapping::documents::lines::product_lines;
use cwsync_store::links::LinkState;
use cwsync_sync::{RecordResult, Recorder, SyncError};

use super::products::{Parent, read_catalog};
use super::pushed::{CwDocument, Kind, Push, push, read_side};
use super::{
    Candidate, Candidates, DocContext, Document, company_ids, listed_in_order, malformed_lines,
};

/// Billing invoices per listing page.
const LISTING_PAGE: u32 = 500;

/// How invoices are pushed.
const KIND: Kind = Kind {
    parent: Parent::Invoice,
    cw_kind: "invoice",
    key_field: "invoiceNumber",
    noun: "invoice",
    entity: "invoice",
};

impl CwDocument for Invoice {
    fn id(&self) -> Option<i64> {
        self.id
    }
    fn company_id(&self) -> Option<i64> {
        self.company.as_ref().and_then(|c| c.id)
    }
    fn key(&self) -> Option<&str> {
        self.invoice_number.as_deref()
    }
    fn locked(&self) -> Option<String> {
        is_posted(self).then(|| "posted to accounting".to_owned())
    }
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
        bill_to(invoice, companies),
        &ctx.settings.documents,
        &ctx.settings.never_overwrite.invoices,
    )
}

/// The company of `invoice`'s bill-to account, when it names one with a company.
fn bill_to(invoice: &BillingInvoice, companies: &HashMap<String, i64>) -> Option<i64> {
    invoice
        .bill_to_account_id
        .as_ref()
        .and_then(|account| companies.get(account).copied())
}

/// The accounts `invoices` refer to: their own and their bill-to accounts.
fn accounts<'a>(invoices: impl Iterator<Item = &'a BillingInvoice>) -> Vec<String> {
    invoices
        .flat_map(|i| std::iter::once(i.account_id.clone()).chain(i.bill_to_account_id.clone()))
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
    let companies = company_ids(ctx, accounts(listed.records.iter())).await?;
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

/// Syncs the invoices `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::Invoices.entity();
    let listed = ctx
        .clients
        .billing
        .list_invoices(&DocumentQuery {
            ids: Some(ids.to_vec()),
            ..DocumentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("reading the page's invoices", e))?;
    let (invoices, mut records) = listed_in_order(entity, ids, &listed, |i| &i.id);
    let companies = company_ids(ctx, accounts(invoices.iter().copied())).await?;
    let invoice_ids: Vec<String> = invoices.iter().map(|i| i.id.clone()).collect();
    let links = ctx.links.get_many(ctx.tenant, entity, &invoice_ids).await?;
    let linked_id = |invoice: &BillingInvoice| {
        links
            .get(&invoice.id)
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id)
    };
    let wanted: Vec<(Option<i64>, String)> = invoices
        .iter()
        .map(|i| (linked_id(i), i.number.clone()))
        .collect();
    let side = read_side::<Invoice>(ctx, &KIND, &wanted).await?;
    let catalog = read_catalog(ctx, invoices.iter().flat_map(|i| &i.items)).await?;
    let never = &ctx.settings.never_overwrite.invoices;
    for invoice in invoices {
        let stamp = stamp(ctx, invoice, &companies);
        let recorder = Recorder::new(entity, &invoice.id, stamp.clone());
        let Some(&company) = companies.get(&invoice.account_id) else {
            records.push(recorder.failed(format!(
                "accountId: account {} has no ConnectWise company yet (the customer sync links \
                 it): the invoice waits for it",
                invoice.account_id
            )));
            continue;
        };
        let lines = match product_lines(&invoice.items, &catalog.skus, &catalog.items) {
            Ok(lines) => lines,
            Err(unmatched) => {
                let named: Vec<String> = unmatched.iter().map(ToString::to_string).collect();
                records.push(recorder.failed(named.join("; ")));
                continue;
            }
        };
        let doc = Push {
            source_id: &invoice.id,
            recorder: &recorder,
            stamp: &stamp,
            company,
            linked: linked_id(invoice),
            key: &invoice.number,
            desired: desired_invoice(
                invoice,
                company,
                bill_to(invoice, &companies),
                &ctx.settings.documents,
            ),
            lines,
            never,
        };
        let line = Box::pin(push(ctx, &KIND, &side, doc, |current, desired| {
            invoice_changes(current, desired, never)
        }))
        .await?;
        records.push(line);
    }
    Ok(records)
}
