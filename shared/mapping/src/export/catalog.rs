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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use rust_decimal::Decimal;
    use serde_json::json;

    use super::super::fixtures::{echo, product, reference, settings};
    use super::*;
    use crate::settings::CwRef;

    fn desired(product: &Product, settings: &TenantSettings) -> CatalogItem {
        desired_catalog_item(product, settings, &reference()).expect("valid")
    }

    fn problems(product: &Product, settings: &TenantSettings) -> Vec<(String, String)> {
        desired_catalog_item(product, settings, &reference())
            .expect_err("problems")
            .into_iter()
            .map(|p| {
                assert_eq!((p.entity, p.record_id.as_str()), ("catalog-item", "P-1"));
                (p.field, p.message)
            })
            .collect()
    }

    #[test]
    fn a_product_becomes_the_catalog_item_post_body() {
        let item = desired(&product(), &settings());
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({
                "identifier": "M365-BP",
                "description": "Microsoft 365 Business Premium",
                "customerDescription": "Productivity suite with advanced security.",
                "category": {"id": 1},
                "subcategory": {"id": 10},
                "type": {"id": 5},
                "productClass": "Service",
                "unitOfMeasure": {"id": 1},
                "price": 22,
                "cost": 18.5,
                "taxableFlag": true,
                "inactiveFlag": false,
            })
        );
    }

    #[test]
    fn a_disabled_product_is_an_inactive_item_and_the_name_stands_in_for_a_missing_description() {
        let mut product = product();
        product.enabled = false;
        product.description = Some("  ".into());
        let item = desired(&product, &settings());
        assert_eq!(item.inactive_flag, Some(true));
        assert_eq!(
            item.customer_description.as_deref(),
            Some("Microsoft 365 Business Premium")
        );
    }

    #[test]
    fn a_sku_over_fifty_characters_a_blank_sku_and_a_long_name_are_problems_on_their_fields() {
        let mut long = product();
        long.sku = "S".repeat(51);
        long.name = "N".repeat(61);
        assert_eq!(
            problems(&long, &settings()),
            [
                (
                    "sku".to_owned(),
                    "is 51 characters long; ConnectWise accepts at most 50".to_owned()
                ),
                (
                    "name".to_owned(),
                    "is 61 characters long; ConnectWise accepts at most 60".to_owned()
                ),
            ]
        );
        let mut blank = product();
        blank.sku = "  ".into();
        let found = problems(&blank, &settings());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "sku");
        assert!(found[0].1.starts_with("is required"), "{found:?}");
        let mut fifty = product();
        fifty.sku = format!(" {} ", "S".repeat(50));
        assert_eq!(
            desired(&fifty, &settings()).identifier.as_deref(),
            Some("S".repeat(50).as_str())
        );
    }

    #[test]
    fn an_unmapped_unit_is_a_problem_naming_the_value_and_the_mapping() {
        let mut product = product();
        product.unit = Some("Seats".into());
        assert_eq!(
            problems(&product, &settings()),
            [(
                "unit".to_owned(),
                "unit \"Seats\" has no mapping: add it to mappings.unitsOfMeasure".to_owned()
            )]
        );
    }

    #[test]
    fn a_product_without_a_unit_gets_the_default_unit_of_measure() {
        let mut product = product();
        product.unit = None;
        let mut settings = settings();
        settings.product_defaults.unit_of_measure = CwRef::name("month");
        assert_eq!(
            desired(&product, &settings).unit_of_measure,
            Some(Reference::id(2))
        );
    }

    #[test]
    fn a_mapping_or_default_naming_no_usable_record_is_a_problem_naming_the_setting() {
        let mut settings = settings();
        settings.product_defaults.category = CwRef::name("Hardware");
        settings.product_defaults.product_type = CwRef::Id(99);
        settings
            .mappings
            .units_of_measure
            .insert("Licence".into(), CwRef::name("Seat"));
        let found = problems(&product(), &settings);
        assert_eq!(
            found,
            [
                (
                    "category".to_owned(),
                    "productDefaults.category \"Hardware\": there is no ConnectWise product \
                     category called \"Hardware\""
                        .to_owned()
                ),
                (
                    "productType".to_owned(),
                    "productDefaults.type #99: there is no ConnectWise product type #99".to_owned()
                ),
                (
                    "unit".to_owned(),
                    "mappings.unitsOfMeasure[\"Licence\"] \"Seat\": \"Seat\" names several \
                     ConnectWise unit of measure records (#4, #5): name one by its id"
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn the_subcategory_is_the_one_of_the_default_category() {
        let mut settings = settings();
        settings.product_defaults.category = CwRef::name("Services");
        assert_eq!(
            desired(&product(), &settings).subcategory,
            Some(Reference::id(20))
        );
    }

    #[test]
    fn price_and_cost_follow_their_toggles_and_the_pricing_priority() {
        let mut settings = settings();
        settings.pricing.price_list_priority = vec!["Partner".into(), "Retail".into()];
        let item = desired(&product(), &settings);
        // Partner's monthly price has no cost of its own: the product's cost.
        assert_eq!(
            (item.price, item.cost),
            (Some(Decimal::new(20, 0)), Some(Decimal::new(18, 0)))
        );

        settings.export.retail_price = false;
        let item = desired(&product(), &settings);
        assert_eq!((item.price, item.cost), (None, Some(Decimal::new(18, 0))));

        settings.export.cost = false;
        let item = desired(&product(), &settings);
        assert_eq!((item.price, item.cost), (None, None));
        // With neither written, prices the priority can't choose from are no problem.
        settings.pricing.price_list_priority.clear();
        assert!(desired_catalog_item(&product(), &settings, &reference()).is_ok());
    }

    #[test]
    fn prices_the_priority_cannot_choose_from_are_a_problem_on_prices() {
        let mut settings = settings();
        settings.pricing.price_list_priority.clear();
        let found = problems(&product(), &settings);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "prices");
        assert!(
            found[0].1.contains("pricing.priceListPriority"),
            "{found:?}"
        );
    }

    #[test]
    fn an_unchanged_item_as_connectwise_returns_it_needs_no_write() {
        let desired = desired(&product(), &settings());
        let current = echo(&desired, 301);
        assert_eq!(catalog_item_changes(&desired, &current, &settings()), []);
    }

    #[test]
    fn only_the_fields_the_product_keeps_current_are_patched() {
        let desired = desired(&product(), &settings());
        let mut current = echo(&desired, 301);
        current.description = Some("Old name".into());
        current.price = Some(Decimal::new(19, 0));
        current.inactive_flag = Some(true);
        // Classification is set on create only: a tenant's recategorising stands.
        current.category = Some(Reference::id(2));
        current.unit_of_measure = Some(Reference::id(3));
        current.product_class = Some("NonInventory".into());
        assert_eq!(
            catalog_item_changes(&desired, &current, &settings()),
            [
                PatchOp::replace("description", "Microsoft 365 Business Premium"),
                PatchOp::replace("inactiveFlag", false),
                PatchOp::replace("price", 22),
            ]
        );
    }

    #[test]
    fn toggled_off_and_never_overwritten_fields_are_not_patched() {
        let desired = desired(&product(), &settings());
        let mut current = echo(&desired, 301);
        current.price = Some(Decimal::new(19, 0));
        current.cost = Some(Decimal::new(1, 0));
        current.taxable_flag = Some(false);
        let mut settings = settings();
        settings.export.retail_price = false;
        settings.never_overwrite.products = vec!["taxableFlag".into()];
        assert_eq!(
            catalog_item_changes(&desired, &current, &settings),
            [PatchOp::replace("cost", 18.5)]
        );
        settings.export.cost = false;
        assert_eq!(catalog_item_changes(&desired, &current, &settings), []);
        let mut off = super::super::fixtures::settings();
        off.export.products = false;
        off.export.quantity = false;
        off.export.cost = false;
        off.export.retail_price = false;
        current.description = Some("changed".into());
        assert_eq!(catalog_item_changes(&desired, &current, &off), []);
    }

    fn item(id: i64, identifier: &str) -> CatalogItem {
        CatalogItem {
            id: Some(id),
            identifier: Some(identifier.into()),
            ..CatalogItem::default()
        }
    }

    #[test]
    fn a_catalog_item_is_matched_by_its_identifier_trimmed_in_any_case() {
        let candidates = [item(1, "OTHER"), item(2, " m365-bp "), item(2, "M365-BP")];
        assert_eq!(match_catalog_item(&product(), &candidates), Ok(Some(2)));
        assert_eq!(match_catalog_item(&product(), &candidates[..1]), Ok(None));
    }

    #[test]
    fn two_items_holding_the_sku_are_a_problem_naming_both() {
        let candidates = [item(7, "M365-BP"), item(3, "m365-bp")];
        let problem = match_catalog_item(&product(), &candidates).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "catalog-item P-1: sku: \"M365-BP\" is the identifier of several ConnectWise catalog \
             items (#3, #7): keep one"
        );
    }

    proptest::proptest! {
        #[test]
        fn a_desired_item_echoed_back_by_connectwise_always_plans_nothing(
            sku in "[A-Za-z0-9_-]{1,50}",
            name in "[A-Za-z0-9][A-Za-z0-9 .,&()-]{0,58}[A-Za-z0-9]",
            description in proptest::option::of("[A-Za-z0-9 .,\n]{1,200}"),
            cents in 0i64..10_000_000,
            cost_cents in proptest::option::of(0i64..10_000_000),
            taxable in proptest::bool::ANY,
            enabled in proptest::bool::ANY,
        ) {
            let mut product = product();
            product.sku = sku;
            product.name = name;
            product.description = description;
            product.taxable = taxable;
            product.enabled = enabled;
            product.prices[0].price = Decimal::new(cents, 2);
            product.prices[0].cost = cost_cents.map(|c| Decimal::new(c, 2));
            let desired = desired_catalog_item(&product, &settings(), &reference());
            proptest::prop_assert!(desired.is_ok(), "{:?}", desired);
            let desired = desired.unwrap_or_default();
            let current = echo(&desired, 301);
            proptest::prop_assert_eq!(catalog_item_changes(&desired, &current, &settings()), vec![]);
        }
    }
}
