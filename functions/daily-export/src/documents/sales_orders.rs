//! ConnectWise sales orders → billing orders (`cwsync_mapping::documents::sales_orders`; seeds
//! 000, Sales Order Sync).
//!
//! **Planning** lists the sales orders in the tenant's statuses (`status/name`) from the
//! `sales-orders` watermark plus those on the error ledger ([`super::pull`]), reads their
//! products (`salesOrder/id in (...)`), and stamps each order that has at least one (an order
//! without products is not pulled until it has one, and one the orders export made from a
//! billing order never is).
//!
//! **A page** reads its orders again by id, their products, the catalog identifiers a product
//! reference lacks and the billing items; per order: its company (and bill-to company) must be
//! linked to billing accounts; each product → the active billing item whose SKU is the catalog
//! item's identifier, else the tenant's error item with the order on hold, the reason naming
//! the product. The billing order is found by its reference `cw:sales-order:<id>`, else created
//! (idempotent on that reference: a replay or a second worker gets the one order). An order made
//! already with the same lines is nothing to do; with other lines it fails saying so (the billing
//! system has no order update: it is changed there by hand). The stamp is recorded once the order
//! exists as wanted, so an unchanged re-run sends no job.

use cwsync_billing::models::Order as BillingOrder;
use cwsync_connectwise::models::{Order, Resource};
use cwsync_connectwise::{Condition, Query};
use cwsync_mapping::documents::SalesOrderPull;
use cwsync_mapping::documents::sales_orders::{
    new_order, order_differences, order_lines, order_reference, sales_order_stamp,
};
use cwsync_store::links::SourceRef;
use cwsync_store::runs::Outcome;
use cwsync_sync::writes::billing_record_level;
use cwsync_sync::{RecordResult, Recorder, SyncError};

use super::products::{Parent, read_products};
use super::pull::{self, LISTING_PAGE};
use super::{Candidates, DocContext, Document};

/// The watermark stream of the pull.
pub const STREAM: &str = "sales-orders";
/// The ConnectWise kind a pulled order is linked as (to itself: its link holds the stamp).
const CW_KIND: &str = "pulled-sales-order";
/// The ConnectWise kind the orders export links the sales orders it makes as.
const EXPORTED_KIND: &str = "sales-order";

fn settings(ctx: &DocContext<'_>) -> SalesOrderPull {
    ctx.settings
        .documents
        .sales_orders
        .clone()
        .unwrap_or_default()
}

/// The tenant's filter: orders in its statuses (all when it names none).
fn filter(pull: &SalesOrderPull) -> Condition {
    if pull.statuses.is_empty() {
        Condition::always()
    } else {
        Condition::field("status/name").in_(pull.statuses.iter())
    }
}

/// The orders changed since the watermark (or `ids`) and those on the error ledger that have a
/// product, stamped.
pub async fn candidates(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<Candidates, SyncError> {
    let pull = settings(ctx);
    let entity = Document::SalesOrders.entity();
    let mut listed = pull::stamped(
        ctx,
        (STREAM, entity),
        filter(&pull),
        ids,
        Parent::SalesOrder,
        |order: &Order, products| {
            (!products.is_empty()).then(|| sales_order_stamp(order, products, &pull))
        },
    )
    .await?;
    let mut records = Vec::with_capacity(listed.records.len());
    for candidate in listed.records {
        let id = candidate.id.parse().unwrap_or_default();
        if exported_from(ctx, id).await?.is_none() {
            records.push(candidate);
        }
    }
    listed.records = records;
    Ok(listed)
}

/// The billing order the orders export made sales order `id` from, when it did: such an order
/// is never pulled back (it would be a second billing order of one sale).
async fn exported_from(ctx: &DocContext<'_>, id: i64) -> Result<Option<String>, SyncError> {
    Ok(ctx
        .links
        .get_by_cw(ctx.tenant, EXPORTED_KIND, id)
        .await?
        .filter(|l| l.kind == Document::Orders.entity())
        .map(|l| l.source_id))
}

/// Syncs the orders `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::SalesOrders.entity();
    let pull = settings(ctx);
    let (wanted, mut records) = pull::parse_ids(entity, ids);
    let query = Query::new().filter(filter(&pull)).page_size(LISTING_PAGE);
    let mut orders: Vec<Order> = ctx
        .clients
        .cw
        .list_by_ids(Order::PATH, "id", wanted.iter().copied(), &query)
        .await
        .map_err(|e| SyncError::connectwise("reading the page's sales orders", e))?;
    orders.sort_by_key(|o| o.id);
    for id in &wanted {
        if !orders.iter().any(|o| o.id == Some(*id)) {
            let statuses = if pull.statuses.is_empty() {
                "any status".to_owned()
            } else {
                format!("statuses {}", pull.statuses.join(", "))
            };
            records.push(pull::gone(entity, *id, &statuses));
        }
    }
    if orders.is_empty() {
        return Ok(records);
    }
    let products = read_products(
        ctx,
        Parent::SalesOrder,
        orders.iter().filter_map(|o| o.id).collect(),
    )
    .await?;
    let identifiers = pull::catalog_identifiers(ctx, products.values().flatten()).await?;
    let items = pull::billing_items(ctx).await?;
    let error_item = match pull.error_item.as_deref() {
        None => Ok(None),
        Some(name) => items
            .named(name)
            .map(|i| Some(i.id.clone()))
            .ok_or_else(|| {
                format!(
                    "documents.salesOrders.errorItem: no active billing item has the id or SKU \
                     {name:?}"
                )
            }),
    };
    for order in &orders {
        let Some(id) = order.id else { continue };
        let products = products.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let stamp = sales_order_stamp(order, products, &pull);
        let recorder = Recorder::new(entity, &id.to_string(), stamp.clone());
        let line = if let Some(billing) = exported_from(ctx, id).await? {
            recorder.with_detail(
                Outcome::Skipped,
                format!(
                    "made by the orders export from billing order {billing}: never pulled back"
                ),
            )
        } else if products.is_empty() {
            recorder.with_detail(
                Outcome::Skipped,
                format!("sales order {id} has no product: pulled once it has one"),
            )
        } else {
            Box::pin(sync_order(
                ctx,
                order,
                products,
                &identifiers,
                &items,
                error_item.as_ref().map(Option::as_deref),
                &recorder,
                &stamp,
            ))
            .await?
        };
        records.push(line);
    }
    Ok(records)
}

/// Pulls one order; its line.
#[allow(clippy::too_many_arguments)]
async fn sync_order(
    ctx: &DocContext<'_>,
    order: &Order,
    products: &[cwsync_connectwise::models::ProductItem],
    identifiers: &std::collections::HashMap<i64, String>,
    items: &pull::BillingItems,
    error_item: Result<Option<&str>, &String>,
    recorder: &Recorder,
    stamp: &str,
) -> Result<RecordResult, SyncError> {
    let id = order.id.unwrap_or_default();
    let what = format!("sales order {id}");
    let company = order.company.as_ref().and_then(|c| c.id);
    let bill_to = order.bill_to_company.as_ref().and_then(|c| c.id);
    let (account, bill_to) = match pull::accounts_of(ctx, &what, company, bill_to).await? {
        Ok(accounts) => accounts,
        Err(reason) => return Ok(recorder.failed(reason)),
    };
    let lines = match order_lines(
        products,
        identifiers,
        &items.by_sku,
        error_item.unwrap_or(None),
    ) {
        Ok(lines) => lines,
        Err(problems) => return Ok(recorder.failed(problems.join("; "))),
    };
    if !lines.holds.is_empty()
        && let Err(reason) = error_item
    {
        return Ok(recorder.failed(reason.clone()));
    }
    let new = match new_order(order, &account, Some(&bill_to), lines) {
        Ok(new) => new,
        Err(reason) => return Ok(recorder.failed(reason)),
    };
    let reference = order_reference(id);
    let billing = &ctx.clients.billing;
    let existing = match billing.find_order(&reference).await {
        Ok(found) => found,
        Err(e) => {
            return Ok(recorder.failed(billing_record_level(
                &format!("finding the billing order of {reference}"),
                e,
            )?));
        }
    };
    let held = new
        .hold_reason
        .as_deref()
        .map(|r| format!(" on hold ({r})"))
        .unwrap_or_default();
    let source_id = id.to_string();
    let source = SourceRef::new(Document::SalesOrders.entity(), &source_id);
    if let Some(existing) = existing {
        return made_already(ctx, recorder, source, id, stamp, &existing, &new).await;
    }
    if ctx.dry_run {
        return Ok(recorder.with_detail(
            Outcome::Created,
            format!(
                "would create the billing order with {} lines{held}",
                new.items.len()
            ),
        ));
    }
    let made = match billing.create_order(&new).await {
        Ok(made) => made,
        Err(e) => {
            return Ok(recorder.failed(billing_record_level(
                &format!("creating the billing order of {reference}"),
                e,
            )?));
        }
    };
    if !made.created {
        return made_already(ctx, recorder, source, id, stamp, &made.record, &new).await;
    }
    ctx.record_synced(source, CW_KIND, id, stamp).await?;
    Ok(recorder
        .with_detail(
            Outcome::Created,
            format!(
                "billing order {} created with {} lines{held}",
                made.record.id,
                new.items.len()
            ),
        )
        .with_id(id))
}

/// The line of an order whose billing order exists already: unchanged when it holds the same
/// lines (then the stamp is recorded), else failed naming what differs.
async fn made_already(
    ctx: &DocContext<'_>,
    recorder: &Recorder,
    source: SourceRef<'_>,
    id: i64,
    stamp: &str,
    existing: &BillingOrder,
    new: &cwsync_billing::models::NewOrder,
) -> Result<RecordResult, SyncError> {
    let differences = order_differences(existing, new);
    if differences.is_empty() {
        ctx.record_synced(source, CW_KIND, id, stamp).await?;
        return Ok(recorder
            .with_detail(
                Outcome::Unchanged,
                format!("billing order {} made already", existing.id),
            )
            .with_id(id));
    }
    Ok(recorder
        .failed(format!(
            "{}: sales order {id} changed after billing order {} was made from it; the sync \
             does not change billing orders: change {} by hand",
            differences.join(", "),
            existing.id,
            existing.id
        ))
        .with_id(id))
}
