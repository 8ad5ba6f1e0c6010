//! What every document with products (invoices, sales orders, opportunities) reads and writes
//! around its own fields: the items' catalog items (one billing read for the SKUs items came
//! without, one ConnectWise `identifier in (...)` read), the documents' products (one
//! `<parent>/id in (...)` read), and the product writes a [`ProductPlan`] asks for.

use std::collections::HashMap;

use cwsync_billing::ReferenceQuery;
use cwsync_billing::models::DocumentItem;
use cwsync_connectwise::Query;
use cwsync_connectwise::models::{CatalogItem, ProductItem, Reference, Resource};
use cwsync_mapping::documents::lines::{ProductPlan, sku_of};
use cwsync_sync::SyncError;
use cwsync_sync::writes::cw_record_level;

use super::DocContext;

/// The ConnectWise document a product belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// `/finance/invoices`.
    Invoice,
    /// `/sales/orders`.
    SalesOrder,
    /// `/sales/opportunities`.
    Opportunity,
}

impl Parent {
    /// The product field that points at it.
    pub fn field(self) -> &'static str {
        match self {
            Parent::Invoice => "invoice",
            Parent::SalesOrder => "salesOrder",
            Parent::Opportunity => "opportunity",
        }
    }

    fn filter(self) -> &'static str {
        match self {
            Parent::Invoice => "invoice/id",
            Parent::SalesOrder => "salesOrder/id",
            Parent::Opportunity => "opportunity/id",
        }
    }

    fn of(self, product: &ProductItem) -> Option<i64> {
        match self {
            Parent::Invoice => product.invoice.as_ref(),
            Parent::SalesOrder => product.sales_order.as_ref(),
            Parent::Opportunity => product.opportunity.as_ref(),
        }
        .and_then(|r| r.id)
    }

    fn set(self, product: &mut ProductItem, id: i64) {
        let parent = Some(Reference {
            id: Some(id),
            ..Reference::default()
        });
        match self {
            Parent::Invoice => product.invoice = parent,
            Parent::SalesOrder => product.sales_order = parent,
            Parent::Opportunity => product.opportunity = parent,
        }
    }
}

/// The catalog side of a page's items.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Billing item id → SKU, for items that came without one.
    pub skus: HashMap<String, String>,
    /// Upper-cased identifier → catalog item id.
    pub items: HashMap<String, i64>,
}

/// Reads the catalog items of `items` (see the module docs).
pub async fn read_catalog<'a>(
    ctx: &DocContext<'_>,
    items: impl Iterator<Item = &'a DocumentItem> + Clone,
) -> Result<Catalog, SyncError> {
    let mut catalog = Catalog::default();
    let no_sku: Vec<String> = items
        .clone()
        .filter(|item| item.sku.as_deref().is_none_or(|s| s.trim().is_empty()))
        .map(|item| item.item_id.clone())
        .collect();
    if !no_sku.is_empty() {
        catalog.skus = ctx
            .clients
            .billing
            .list_items(&ReferenceQuery::by_ids(no_sku))
            .await
            .map_err(|e| SyncError::billing("reading the items' SKUs", e))?
            .records
            .into_iter()
            .map(|item| (item.id, item.sku))
            .collect();
    }
    let wanted: Vec<String> = items
        .map(|item| sku_of(item, &catalog.skus).to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if !wanted.is_empty() {
        let found: Vec<CatalogItem> = ctx
            .clients
            .cw
            .list_by_ids(
                CatalogItem::PATH,
                "identifier",
                wanted,
                &Query::new().page_size(1000).fields(["id", "identifier"]),
            )
            .await
            .map_err(|e| SyncError::connectwise("reading the items' catalog items", e))?;
        for item in found {
            if let (Some(id), Some(identifier)) = (item.id, item.identifier) {
                catalog.items.insert(identifier.trim().to_uppercase(), id);
            }
        }
    }
    Ok(catalog)
}

/// The products of the `parent` documents `ids`, by document.
pub async fn read_products(
    ctx: &DocContext<'_>,
    parent: Parent,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Vec<ProductItem>>, SyncError> {
    let mut out: HashMap<i64, Vec<ProductItem>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let products: Vec<ProductItem> = ctx
        .clients
        .cw
        .list_by_ids(
            ProductItem::PATH,
            parent.filter(),
            ids,
            &Query::new().page_size(1000),
        )
        .await
        .map_err(|e| {
            SyncError::connectwise(format!("reading the {}s' products", parent.field()), e)
        })?;
    for product in products {
        if let Some(id) = parent.of(&product) {
            out.entry(id).or_default().push(product);
        }
    }
    Ok(out)
}

/// Writes `plan` to the products of `parent` document `id` (nothing in a dry run).
/// `Ok(Err(reason))`: ConnectWise refused one of them.
pub async fn write_products(
    ctx: &DocContext<'_>,
    parent: Parent,
    id: i64,
    plan: &ProductPlan,
) -> Result<Result<(), String>, SyncError> {
    if ctx.dry_run {
        return Ok(Ok(()));
    }
    let cw = &ctx.clients.cw;
    let field = parent.field();
    for (product, ops) in &plan.updates {
        let path = format!("{}/{product}", ProductItem::PATH);
        if let Err(error) = cw.patch::<ProductItem>(&path, ops).await {
            return refusal(format!("updating product {product} of {field} {id}"), error);
        }
    }
    for create in &plan.creates {
        let mut product = create.clone();
        parent.set(&mut product, id);
        if let Err(error) = cw
            .create::<ProductItem, ProductItem>(ProductItem::PATH, &product)
            .await
        {
            return refusal(format!("adding a product to {field} {id}"), error);
        }
    }
    for product in &plan.deletes {
        if let Err(error) = cw.delete(&format!("{}/{product}", ProductItem::PATH)).await {
            return refusal(format!("removing product {product} of {field} {id}"), error);
        }
    }
    Ok(Ok(()))
}

/// ConnectWise refusing a product write `what`: the document's failed reason naming the write;
/// anything else stops the job.
fn refusal(
    what: String,
    error: cwsync_connectwise::CwError,
) -> Result<Result<(), String>, SyncError> {
    let reason = cw_record_level(what.clone(), error)?;
    Ok(Err(format!("{what}: {reason}")))
}
