//! Products → ConnectWise catalog items (issue 9 §3): each product's catalog item is found through
//! its link, else by identifier (the SKU, trimmed, any case), else created (claimed first, so never
//! two for one SKU); the fields the export keeps current (descriptions, price, cost, taxable,
//! inactive) are patched only when they differ. Reads are batched: the linked items by `id in
//! (...)`, the unlinked products' candidates by `identifier in (...)`, 1,000 a page.

use std::collections::HashMap;

use cwsync_billing::models::Product;
use cwsync_connectwise::models::{CatalogItem, Resource};
use cwsync_connectwise::{Condition, Query};
use cwsync_mapping::export::{
    catalog_item_changes, desired_catalog_item_noted, entity, match_catalog_item,
};
use cwsync_mapping::fingerprint;
use cwsync_mapping::settings::TenantSettings;
use cwsync_store::links::{Link, LinkState, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_sync::{Created, RecordResult, Recorder, SyncError, create_claimed};

use crate::Scope;

/// The ConnectWise kind catalog items are linked as.
pub const CW_KIND: &str = "catalog-item";
/// The unit entity of a catalog page job's own line in a run.
pub const PAGE: &str = "catalog-page";

/// What the catalog export came to: a line per product, and the catalog item of every product
/// that has one (linked, matched or created), for the additions.
#[derive(Debug, Default)]
pub struct CatalogOutcome {
    /// One line per product.
    pub records: Vec<RecordResult>,
    /// Product id → catalog item id.
    pub items: HashMap<String, i64>,
}

/// What a product's catalog item depends on, with the item's ConnectWise stamps: recorded on the
/// product's link after each export, compared by the planner to skip unchanged products.
pub fn stamp(product: &Product, settings: &TenantSettings, item: &CatalogItem) -> String {
    let info = item.info.as_ref();
    fingerprint(&serde_json::json!({
        "product": product,
        "export": settings.export,
        "productDefaults": settings.product_defaults,
        "units": settings.mappings.units_of_measure,
        "pricing": settings.pricing,
        "neverOverwrite": settings.never_overwrite.products,
        "item": item.id,
        "lastUpdated": info.and_then(|i| i.last_updated).map(|t| t.unix_timestamp_nanos().to_string()),
        "updatedBy": info.and_then(|i| i.updated_by.as_deref()),
    }))
}

/// Records the stamp of `product`'s item as it is after this export (not in a dry run).
async fn record_stamp(
    scope: &Scope<'_>,
    product: &Product,
    item: &CatalogItem,
) -> Result<(), SyncError> {
    if scope.dry_run {
        return Ok(());
    }
    let stamp = stamp(product, scope.settings, item);
    scope
        .links
        .record_stamp(
            scope.tenant,
            SourceRef::new(entity::CATALOG_ITEM, &product.id),
            &stamp,
            scope.now,
        )
        .await?;
    Ok(())
}

/// Exports `products` (each once) to the catalog. A product's problem is its failed line; the
/// others go on. Errors no product explains stop the job.
pub async fn export_products(
    scope: &Scope<'_>,
    products: &[&Product],
) -> Result<CatalogOutcome, SyncError> {
    let mut outcome = CatalogOutcome::default();
    if products.is_empty() {
        return Ok(outcome);
    }
    let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
    let links = scope
        .links
        .get_many(scope.tenant, entity::CATALOG_ITEM, &ids)
        .await?;
    let linked: Vec<i64> = links
        .values()
        .filter(|l| l.state == LinkState::Linked)
        .filter_map(|l| l.cw_id)
        .collect();
    let by_id: HashMap<i64, CatalogItem> = read_items(scope, "id", linked)
        .await?
        .into_iter()
        .filter_map(|item| Some((item.id?, item)))
        .collect();
    // Candidates for every product without a live linked item: one `identifier in (...)` read.
    let unlinked_skus: Vec<String> = products
        .iter()
        .filter(|p| {
            links
                .get(&p.id)
                .and_then(|l| l.cw_id)
                .is_none_or(|id| !by_id.contains_key(&id))
        })
        .map(|p| p.sku.trim().to_owned())
        .filter(|sku| !sku.is_empty())
        .collect();
    let candidates = read_items(scope, "identifier", unlinked_skus).await?;
    for product in products {
        let link = links.get(&product.id);
        let current = link.and_then(|l| l.cw_id).and_then(|id| by_id.get(&id));
        Box::pin(export_product(
            scope,
            product,
            link,
            current,
            &candidates,
            &mut outcome,
        ))
        .await?;
    }
    Ok(outcome)
}

/// The catalog items whose `field` is one of `values`, 1,000 a page.
async fn read_items<V: Into<cwsync_connectwise::Value>>(
    scope: &Scope<'_>,
    field: &'static str,
    values: Vec<V>,
) -> Result<Vec<CatalogItem>, SyncError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    scope
        .cw
        .list_by_ids::<CatalogItem, V>(
            CatalogItem::PATH,
            field,
            values,
            &Query::new().page_size(1000),
        )
        .await
        .map_err(|e| SyncError::connectwise(format!("reading catalog items by {field}"), e))
}

async fn export_product(
    scope: &Scope<'_>,
    product: &Product,
    link: Option<&Link>,
    current: Option<&CatalogItem>,
    candidates: &[CatalogItem],
    outcome: &mut CatalogOutcome,
) -> Result<(), SyncError> {
    let source_fingerprint = fingerprint(product);
    let recorder = Recorder::new(entity::CATALOG_ITEM, &product.id, source_fingerprint);
    let desired = match desired_catalog_item_noted(product, scope.settings, scope.reference) {
        Ok(noted) => noted,
        Err(problems) => {
            outcome.records.push(recorder.problems(&problems));
            return Ok(());
        }
    };
    let recorder = recorder.with_notes(desired.notes.clone());
    let desired = desired.value;
    let values = fingerprint(&desired);
    let source = SourceRef::new(entity::CATALOG_ITEM, &product.id);

    if let Some(current) = current {
        let id = current.id.unwrap_or_default();
        outcome.items.insert(product.id.clone(), id);
        return update(
            scope, &recorder, product, &desired, current, &values, outcome,
        )
        .await;
    }
    if let Some(stale) = link.filter(|l| l.state == LinkState::Linked) {
        // Linked to an item that is gone (deleted in ConnectWise): the link no longer holds.
        tracing::info!(product = %product.id, cw_id = ?stale.cw_id, "linked catalog item is gone");
        if !scope.dry_run {
            scope.links.unlink(scope.tenant, source).await?;
        }
    }
    match match_catalog_item(product, candidates) {
        Err(problem) => {
            outcome.records.push(recorder.problems(&[problem]));
            Ok(())
        }
        Ok(Some(id)) => {
            let Some(current) = candidates.iter().find(|c| c.id == Some(id)) else {
                return Ok(());
            };
            if !scope.dry_run {
                scope
                    .links
                    .link_existing(scope.tenant, source, CW_KIND, id, &values, scope.now)
                    .await?;
            }
            outcome.items.insert(product.id.clone(), id);
            update(
                scope, &recorder, product, &desired, current, &values, outcome,
            )
            .await
        }
        Ok(None) => {
            create(
                scope, &recorder, source, product, &desired, &values, outcome,
            )
            .await
        }
    }
}

async fn update(
    scope: &Scope<'_>,
    recorder: &Recorder,
    product: &Product,
    desired: &CatalogItem,
    current: &CatalogItem,
    values: &str,
    outcome: &mut CatalogOutcome,
) -> Result<(), SyncError> {
    let id = current.id.unwrap_or_default();
    let ops = catalog_item_changes(desired, current, scope.settings);
    let path = format!("{}/{id}", CatalogItem::PATH);
    let source = SourceRef::new(entity::CATALOG_ITEM, &product.id);
    let line = match cwsync_sync::writes::patch::<CatalogItem>(scope.cw, &path, &ops, scope.dry_run)
        .await
    {
        Ok((changed, updated)) => {
            if !changed.is_empty() && !scope.dry_run {
                scope
                    .links
                    .record_sync(scope.tenant, source, values, scope.now)
                    .await?;
            }
            record_stamp(scope, product, updated.as_ref().unwrap_or(current)).await?;
            recorder.changed(Outcome::Updated, changed, scope.dry_run)
        }
        Err(Ok(reason)) => recorder.failed(format!("catalog item {id}: {reason}")),
        Err(Err(error)) => return Err(error),
    };
    outcome.records.push(line.with_id(id));
    Ok(())
}

async fn create(
    scope: &Scope<'_>,
    recorder: &Recorder,
    source: SourceRef<'_>,
    product: &Product,
    desired: &CatalogItem,
    values: &str,
    outcome: &mut CatalogOutcome,
) -> Result<(), SyncError> {
    let what = format!("catalog item of product {}", product.id);
    let sku = product.sku.trim().to_owned();
    let natural_key = format!("identifier {sku:?}");
    let creation = scope.creation(source, CW_KIND, &what, &natural_key, values);
    let find = || async {
        let found = scope
            .cw
            .list_all::<CatalogItem>(
                CatalogItem::PATH,
                &Query::new().filter(Condition::field("identifier").eq(sku.clone())),
            )
            .await
            .map_err(|e| SyncError::connectwise(format!("looking up {natural_key}"), e))?;
        Ok(match_catalog_item(product, &found)
            .ok()
            .flatten()
            .and_then(|id| found.into_iter().find(|item| item.id == Some(id))))
    };
    let create = || {
        scope
            .cw
            .create::<_, CatalogItem>(CatalogItem::PATH, desired)
    };
    let created = Box::pin(create_claimed(
        &creation,
        recorder,
        &mut outcome.records,
        |item: &CatalogItem| item.id,
        find,
        create,
    ))
    .await?;
    match created {
        Created::Linked { record, origin, .. } => {
            let id = record.id.unwrap_or_default();
            if let Some(id) = record.id {
                outcome.items.insert(product.id.clone(), id);
            }
            let path = format!("{}/{id}", CatalogItem::PATH);
            let found = cwsync_sync::writes::update_found(
                scope.cw,
                &path,
                origin,
                record,
                |found| catalog_item_changes(desired, found, scope.settings),
                scope.dry_run,
                &mut outcome.records,
            );
            let Some(record) = found.await? else {
                return Ok(());
            };
            record_stamp(scope, product, &record).await?;
        }
        Created::AlreadyLinked(link) => {
            if let Some(id) = link.cw_id {
                outcome.items.insert(product.id.clone(), id);
            }
        }
        Created::LinkedToOther { cw_id, holder } => {
            outcome.records.push(recorder.failed(format!(
                "catalog item {cw_id} with {natural_key} is linked to product {}: two products \
                 share the SKU; give one another SKU",
                holder.source_id
            )));
        }
        Created::Planned | Created::Refused => {}
    }
    Ok(())
}
