//! Billing payments, summed per invoice → the invoice's one ConnectWise payment
//! (`cwsync_mapping::documents::payments`). Runs after the invoices (their run's follow-up), so
//! an invoice exported today has its payment today.
//!
//! **Planning** lists the tenant's payments (500 a page), sums them per invoice and stamps each
//! invoice's sum; an invoice whose payment link holds that stamp is not sent.
//!
//! **A page** (its records are billing invoice ids) reads the invoices' payments from the billing
//! system in one read, their ConnectWise invoices by `id in (...)` in one read, and only for an
//! invoice whose ConnectWise `payments` figure differs from the sum, that invoice's payment. Then
//! it creates, changes or removes the one payment. A create refused because the invoice has a
//! payment already (a second worker got there first) is settled by changing that payment: never
//! two payments for one invoice.

use std::collections::HashMap;

use cwsync_billing::PaymentQuery;
use cwsync_connectwise::Query;
use cwsync_connectwise::models::{Invoice, InvoicePayment, Resource};
use cwsync_mapping::documents::payments::{PaymentAction, PaymentTotal, payment_action, totals};
use cwsync_store::links::{LinkState, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_sync::writes::cw_record_level;
use cwsync_sync::writes::fields_of;
use cwsync_sync::{RecordResult, Recorder, SyncError};
use rust_decimal::Decimal;

use super::{Candidate, Candidates, DocContext, Document, malformed_lines};

/// The kind a payment link holds its ConnectWise invoice as (one invoice, one payment link; the
/// invoice's own link is of kind `invoice`).
const CW_KIND: &str = "invoice-payment";
/// Billing payments per listing page.
const LISTING_PAGE: u32 = 500;

/// Every invoice with payments (or the invoices `ids`), stamped with their sum.
pub async fn candidates(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<Candidates, SyncError> {
    let listed = ctx
        .clients
        .billing
        .list_payments(&PaymentQuery {
            invoice_ids: ids.map(<[String]>::to_vec),
            page_size: Some(LISTING_PAGE),
            ..PaymentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("listing the payments", e))?;
    Ok(Candidates {
        records: totals(&listed.records)
            .into_values()
            .map(|total| Candidate {
                stamp: total.stamp(),
                id: total.invoice_id,
            })
            .collect(),
        lines: malformed_lines(Document::Payments.entity(), &listed.malformed),
        advance: None,
    })
}

/// Syncs the payments of the billing invoices `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::Payments.entity();
    let listed = ctx
        .clients
        .billing
        .list_payments(&PaymentQuery {
            invoice_ids: Some(ids.to_vec()),
            ..PaymentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("reading the page's payments", e))?;
    let mut records = malformed_lines(entity, &listed.malformed);
    let sums = totals(&listed.records);
    let invoice_links = ctx
        .links
        .get_many(ctx.tenant, Document::Invoices.entity(), ids)
        .await?;
    let cw_invoice = |id: &str| {
        invoice_links
            .get(id)
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id)
    };
    let linked: Vec<i64> = ids.iter().filter_map(|id| cw_invoice(id)).collect();
    let invoices: HashMap<i64, Invoice> = if linked.is_empty() {
        HashMap::new()
    } else {
        ctx.clients
            .cw
            .list_by_ids::<Invoice, i64>(
                Invoice::PATH,
                "id",
                linked,
                &Query::new()
                    .page_size(1000)
                    .fields(["id", "invoiceNumber", "total", "payments"]),
            )
            .await
            .map_err(|e| SyncError::connectwise("reading the payments' invoices", e))?
            .into_iter()
            .filter_map(|i| Some((i.id?, i)))
            .collect()
    };
    for id in ids {
        let Some(total) = sums.get(id) else {
            if !listed.malformed.iter().any(|b| b.id.as_deref() == Some(id)) {
                records.push(
                    Recorder::new(entity, id, String::new()).with_detail(
                        Outcome::Skipped,
                        "the invoice has no payments in the billing system: nothing exported"
                            .to_owned(),
                    ),
                );
            }
            continue;
        };
        let stamp = total.stamp();
        let recorder = Recorder::new(entity, id, stamp.clone());
        let Some(invoice) = cw_invoice(id).and_then(|cw| invoices.get(&cw)) else {
            records.push(recorder.failed(format!(
                "invoiceId: invoice {id} is not in ConnectWise yet (the invoices export creates \
                 it; its payments follow)"
            )));
            continue;
        };
        let line = Box::pin(sync_payment(ctx, total, invoice, &recorder, &stamp)).await?;
        records.push(line);
    }
    Ok(records)
}

/// Brings the one payment of ConnectWise `invoice` to `total`; its line.
async fn sync_payment(
    ctx: &DocContext<'_>,
    total: &PaymentTotal,
    invoice: &Invoice,
    recorder: &Recorder,
    stamp: &str,
) -> Result<RecordResult, SyncError> {
    let Some(cw_id) = invoice.id else {
        return Ok(recorder.failed("ConnectWise answered an invoice without an id"));
    };
    let source = SourceRef::new(Document::Payments.entity(), &total.invoice_id);
    let shown = invoice.payments.unwrap_or(Decimal::ZERO).max(Decimal::ZERO);
    if shown.normalize() == total.amount.max(Decimal::ZERO).normalize() {
        ctx.record_synced(source, CW_KIND, cw_id, stamp).await?;
        return Ok(recorder
            .with_detail(
                Outcome::Unchanged,
                format!("payments of {} as billed", total.amount),
            )
            .with_id(cw_id));
    }
    let cw = &ctx.clients.cw;
    let path = InvoicePayment::path(cw_id);
    // An invoice showing no payments has none (a payment's amount is above 0): no read.
    let current = if shown.is_zero() {
        None
    } else {
        read_payment(ctx, cw_id).await?
    };
    let action = payment_action(total, cw_id, current.as_ref());
    let described = match &action {
        PaymentAction::Keep => None,
        PaymentAction::Create(_) => {
            Some((Outcome::Created, format!("payment of {}", total.amount)))
        }
        PaymentAction::Update(_, ops) => Some((
            Outcome::Updated,
            format!(
                "payment now {} ({})",
                total.amount,
                fields_of(ops).join(", ")
            ),
        )),
        PaymentAction::Delete(_) => Some((
            Outcome::Updated,
            "payment removed: the invoice's payments were refunded".to_owned(),
        )),
    };
    let count = total.payment_ids.len();
    let Some((outcome, what)) = described else {
        ctx.record_synced(source, CW_KIND, cw_id, stamp).await?;
        return Ok(recorder
            .with_detail(Outcome::Unchanged, format!("{count} payments, as billed"))
            .with_id(cw_id));
    };
    if ctx.dry_run {
        return Ok(recorder
            .with_detail(outcome, format!("would write the {what}"))
            .with_id(cw_id));
    }
    let written = match action {
        PaymentAction::Keep => Ok(()),
        PaymentAction::Create(desired) => {
            match cw
                .create::<InvoicePayment, InvoicePayment>(&path, &desired)
                .await
            {
                Ok(_) => Ok(()),
                Err(error) => {
                    // A concurrent worker created it: change that one instead.
                    match read_payment(ctx, cw_id).await? {
                        Some(existing) => match payment_action(total, cw_id, Some(&existing)) {
                            PaymentAction::Update(id, ops) => cw
                                .patch::<InvoicePayment>(&format!("{path}/{id}"), &ops)
                                .await
                                .map(|_| ()),
                            _ => Ok(()),
                        },
                        None => Err(error),
                    }
                }
            }
        }
        PaymentAction::Update(id, ops) => cw
            .patch::<InvoicePayment>(&format!("{path}/{id}"), &ops)
            .await
            .map(|_| ()),
        PaymentAction::Delete(id) => cw.delete(&format!("{path}/{id}")).await,
    };
    if let Err(error) = written {
        let reason = cw_record_level(format!("writing the payment of invoice {cw_id}"), error)?;
        return Ok(recorder.failed(reason).with_id(cw_id));
    }
    ctx.record_synced(source, CW_KIND, cw_id, stamp).await?;
    Ok(recorder
        .with_detail(
            outcome,
            format!("{what}, the sum of {count} payments and refunds"),
        )
        .with_id(cw_id))
}

/// The one payment of ConnectWise invoice `cw_id`, if it has one.
async fn read_payment(
    ctx: &DocContext<'_>,
    cw_id: i64,
) -> Result<Option<InvoicePayment>, SyncError> {
    let payments: Vec<InvoicePayment> = ctx
        .clients
        .cw
        .list_all(&InvoicePayment::path(cw_id), &Query::new())
        .await
        .map_err(|e| SyncError::connectwise(format!("reading invoice {cw_id}'s payment"), e))?;
    Ok(payments.into_iter().next())
}
