//! Product → catalog item: the values a catalog item should hold, the changes that keep a
//! matched item current, and finding the item that already holds a SKU (never two items for one
//! SKU).
//!
//! A new item gets the tenant's category, subcategory, type, product class and unit of measure;
//! afterwards only what the product decides is kept current: description, customer description,
//! price (`export.retailPrice`), cost (`export.cost`), taxable and inactive.

use cwsync_billing::models::Product;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{CatalogItem, Reference};

use super::lookup::{Lookup, resolve_setting};
use super::pricing::pick_price;
use super::{ExportReference, entity, wire};
use crate::fields::{Problems, plan_patch, present};
use crate::matching::{Candidate, KeyMatch, match_key};
use crate::record::{Noted, RecordProblem};
use crate::settings::TenantSettings;

/// Longest SKU cwsync sends as a catalog item identifier. The 2025.1 and 2026.4 specs allow 75;
/// the billing contract promises 50, and 50 keeps an item valid where ConnectWise's own
/// SKU-like fields (`vendorSku`, `manufacturerPartNumber`) stop: the stricter reading.
pub const MAX_CATALOG_IDENTIFIER_CHARS: usize = 50;
/// Longest catalog item `description` (facts: `CatalogItem.description`).
pub const MAX_CATALOG_DESCRIPTION_CHARS: usize = 60;
/// Longest catalog item `customerDescription` (facts: `CatalogItem.customerDescription`).
pub const MAX_CUSTOMER_DESCRIPTION_CHARS: usize = 6000;

/// The catalog item `product` should be, as a POST body (references as `{"id": N}`). Every
/// problem of the product is returned at once.
///
/// - `identifier` ← `sku`; `description` (ConnectWise's short, listed text, at most 60) ←
///   `name`; `customerDescription` (the invoice text, at most 6000) ← `description`, else `name`.
/// - `category`, `subcategory` (of that category), `type`, `productClass` ← `productDefaults`.
/// - `unitOfMeasure` ← `unit` through `mappings.unitsOfMeasure`, or `productDefaults.unitOfMeasure`
///   when the product has no unit.
/// - `price` ← the price the tenant's pricing priority picks, only with `export.retailPrice`;
///   `cost` ← that price's cost, else the product's, only with `export.cost`. Left out, ConnectWise
///   sets 0 on create.
/// - `taxableFlag` ← `taxable`; `inactiveFlag` ← not `enabled`.
pub fn desired_catalog_item(
    product: &Product,
    settings: &TenantSettings,
    reference: &ExportReference,
) -> Result<CatalogItem, Vec<RecordProblem>> {
    desired_catalog_item_noted(product, settings, reference).map(|noted| noted.value)
}

/// [`desired_catalog_item`] with the notes on what was made of the product's values.
pub fn desired_catalog_item_noted(
    product: &Product,
    settings: &TenantSettings,
    reference: &ExportReference,
) -> Result<Noted<CatalogItem>, Vec<RecordProblem>> {
    let mut problems = Problems::new(entity::CATALOG_ITEM, &product.id);
    let identifier = problems.required(
        "sku",
        Some(&product.sku),
        "it becomes the ConnectWise catalog item identifier",
    );
    let identifier = problems.limited("sku", identifier, MAX_CATALOG_IDENTIFIER_CHARS);
    let description = problems.required_line(
        "name",
        Some(&product.name),
        "it becomes the catalog item's description, which ConnectWise requires",
    );
    let description = problems.limited("name", description, MAX_CATALOG_DESCRIPTION_CHARS);
    let customer_description = present(product.description.as_deref())
        .map(str::to_owned)
        .or_else(|| description.clone());
    let customer_description = problems.limited(
        "description",
        customer_description,
        MAX_CUSTOMER_DESCRIPTION_CHARS,
    );

    let defaults = &settings.product_defaults;
    let category = resolve_setting(
        &mut problems,
        "category",
        "productDefaults.category",
        &defaults.category,
        |wanted| reference.category(wanted),
    );
    let subcategory = category.and_then(|category| {
        resolve_setting(
            &mut problems,
            "subcategory",
            "productDefaults.subcategory",
            &defaults.subcategory,
            |wanted| reference.subcategory(wanted, category.id),
        )
    });
    let product_type = resolve_setting(
        &mut problems,
        "productType",
        "productDefaults.type",
        &defaults.product_type,
        |wanted| reference.product_type(wanted),
    );
    let unit = unit_lookup(settings).resolve(product.unit.as_deref(), &mut problems, |wanted| {
        reference.unit_of_measure(wanted)
    });

    let export = &settings.export;
    let mut price = None;
    let mut cost = None;
    if export.retail_price || export.cost {
        match pick_price(&product.prices, &settings.pricing, product.unit.as_deref()) {
            Ok(picked) => {
                price = picked.map(|p| p.price).filter(|_| export.retail_price);
                cost = picked
                    .and_then(|p| p.cost)
                    .or(product.cost)
                    .filter(|_| export.cost);
            }
            Err(problem) => problems.push("prices", problem),
        }
    }

    let item = CatalogItem {
        identifier,
        description,
        customer_description,
        category: category.map(|c| Reference::id(c.id)),
        subcategory: subcategory.map(|s| Reference::id(s.id)),
        kind: product_type.map(|t| Reference::id(t.id)),
        product_class: wire(&defaults.product_class),
        unit_of_measure: unit.map(|u| Reference::id(u.id)),
        price,
        cost,
        taxable_flag: Some(product.taxable),
        inactive_flag: Some(!product.enabled),
        ..CatalogItem::default()
    };
    problems.finish_noted(item)
}

/// How a billing unit maps to a unit of measure (products and subscriptions alike).
pub(super) fn unit_lookup(settings: &TenantSettings) -> Lookup<'_> {
    Lookup {
        field: "unit",
        mapping_name: "unitsOfMeasure",
        mapping: &settings.mappings.units_of_measure,
        default: (
            "productDefaults.unitOfMeasure",
            Some(&settings.product_defaults.unit_of_measure),
        ),
    }
}

/// The changes that bring the matched catalog item `current` to `desired`: only the fields the
/// product keeps current (description, customer description, taxable, inactive, and price and
/// cost while their toggles are on), never a field of `neverOverwrite.products`, and nothing at
/// all while `export.products` is off. Classification (category, subcategory, type, class, unit
/// of measure) is set on create only, so a tenant's later changes in ConnectWise stand.
pub fn catalog_item_changes(
    desired: &CatalogItem,
    current: &CatalogItem,
    settings: &TenantSettings,
) -> Vec<PatchOp> {
    let export = &settings.export;
    if !export.products {
        return Vec::new();
    }
    let kept = CatalogItem {
        description: desired.description.clone(),
        customer_description: desired.customer_description.clone(),
        taxable_flag: desired.taxable_flag,
        inactive_flag: desired.inactive_flag,
        price: desired.price.filter(|_| export.retail_price),
        cost: desired.cost.filter(|_| export.cost),
        ..CatalogItem::default()
    };
    let lists: [&[String]; 1] = [&settings.never_overwrite.products];
    plan_patch(current, &kept, &lists, &[], &[])
}

/// The catalog item that holds `product`'s SKU among `candidates` (identifier trimmed, any case):
/// `Ok(Some(id))` for one, `Ok(None)` for none (the item is created), and a problem naming `sku`
/// when several do (nothing may be created or linked until one is left).
pub fn match_catalog_item(
    product: &Product,
    candidates: &[CatalogItem],
) -> Result<Option<i64>, RecordProblem> {
    let found = match_key(
        &product.sku,
        candidates.iter().map(|item| Candidate {
            id: item.id,
            deleted: false,
            keys: [item.identifier.as_deref()],
        }),
    );
    match found {
        KeyMatch::Unique(id) => Ok(Some(id)),
        KeyMatch::NoMatch => Ok(None),
        KeyMatch::Ambiguous(ids) => Err(RecordProblem {
            entity: entity::CATALOG_ITEM,
            record_id: product.id.clone(),
            field: "sku".to_owned(),
            message: format!(
                "{:?} is the identifier of several ConnectWise catalog items ({}): keep one",
                product.sku.trim(),
                ids.iter()
                    .map(|id| format!("#{id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}
