//! The items of a billing document as the products of a ConnectWise document (an invoice, a sales
//! order, an opportunity): what to create, change and remove so ConnectWise shows the document's
//! items, line for line, in order.
//!
//! Lines are matched by position (`sequenceNumber`, then id): the billing document's n-th item is
//! the ConnectWise document's n-th product. A product whose values differ is changed in place
//! (one PATCH of the fields that differ), items beyond the products are created, products beyond
//! the items are removed. An unchanged document writes nothing.

use std::collections::HashMap;

use cwsync_billing::models::{BillableOption, DocumentItem};
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{ProductItem, Reference};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::fields::plan_patch;

/// One item of a billing document, resolved to its ConnectWise catalog item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductLine {
    /// The catalog item's id.
    pub catalog_item: i64,
    /// What the line says.
    pub description: String,
    /// How many.
    pub quantity: Decimal,
    /// The price of one.
    pub price: Decimal,
    /// The cost of one, when known.
    pub cost: Option<Decimal>,
    /// Whether it is taxed.
    pub taxable: bool,
    /// `Billable`, `DoNotBill` or `NoCharge` (ConnectWise requires one: `Billable` unless the
    /// item says otherwise).
    pub billable_option: &'static str,
}

/// Why an item has no line: its SKU names no catalog item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedItem {
    /// The item's position (from 1).
    pub line: usize,
    /// The billing item id.
    pub item_id: String,
    /// The SKU looked for (empty when the item has none).
    pub sku: String,
}

impl std::fmt::Display for UnmatchedItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.sku.is_empty() {
            write!(
                f,
                "items[{}] (item {}): the item has no SKU to find its ConnectWise catalog item by",
                self.line, self.item_id
            )
        } else {
            write!(
                f,
                "items[{}] (item {}): no ConnectWise catalog item has the identifier {:?} (export the product first)",
                self.line, self.item_id, self.sku
            )
        }
    }
}

/// The ConnectWise word for a billing item's billable option (`Billable` when it has none:
/// ConnectWise requires one on every product).
pub fn billable_option(option: Option<BillableOption>) -> &'static str {
    match option {
        Some(BillableOption::DoNotBill) => "DoNotBill",
        Some(BillableOption::NoCharge) => "NoCharge",
        Some(BillableOption::Billable | BillableOption::NoDefault) | None => "Billable",
    }
}

/// The SKU `item` is found by: its own, else its billing item's from `skus` (trimmed; the
/// catalog matches identifiers in any case).
pub fn sku_of<'a>(item: &'a DocumentItem, skus: &'a HashMap<String, String>) -> &'a str {
    item.sku
        .as_deref()
        .or_else(|| skus.get(&item.item_id).map(String::as_str))
        .unwrap_or("")
        .trim()
}

/// The document's items as lines, each with its catalog item from `catalog` (upper-cased SKU →
/// catalog item id); the items no catalog item matches, naming them.
pub fn product_lines(
    items: &[DocumentItem],
    skus: &HashMap<String, String>,
    catalog: &HashMap<String, i64>,
) -> Result<Vec<ProductLine>, Vec<UnmatchedItem>> {
    let mut lines = Vec::with_capacity(items.len());
    let mut unmatched = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let sku = sku_of(item, skus);
        match catalog.get(&sku.to_uppercase()) {
            Some(&catalog_item) if !sku.is_empty() => lines.push(ProductLine {
                catalog_item,
                description: item.description.clone().unwrap_or_else(|| sku.to_owned()),
                quantity: item.quantity,
                price: item.price,
                cost: item.cost,
                taxable: item.taxable,
                billable_option: billable_option(item.billable_option),
            }),
            _ => unmatched.push(UnmatchedItem {
                line: index + 1,
                item_id: item.item_id.clone(),
                sku: sku.to_owned(),
            }),
        }
    }
    if unmatched.is_empty() {
        Ok(lines)
    } else {
        Err(unmatched)
    }
}

/// What the products of one ConnectWise document need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductPlan {
    /// Products to create (the document's reference still to be set by the caller).
    pub creates: Vec<ProductItem>,
    /// Products to change: their id and the fields that differ.
    pub updates: Vec<(i64, Vec<PatchOp>)>,
    /// Products to remove.
    pub deletes: Vec<i64>,
}

impl ProductPlan {
    /// Whether nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty() && self.updates.is_empty() && self.deletes.is_empty()
    }

    /// What it would write, for a record's line (`2 created, 1 changed`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (count, word) in [
            (self.creates.len(), "created"),
            (self.updates.len(), "changed"),
            (self.deletes.len(), "removed"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {word}"));
            }
        }
        format!("products {}", parts.join(", "))
    }
}

/// The product `line` as created at position `sequence` (from 1).
pub fn new_product(line: &ProductLine, sequence: usize) -> ProductItem {
    ProductItem {
        catalog_item: Some(Reference {
            id: Some(line.catalog_item),
            ..Reference::default()
        }),
        description: Some(line.description.clone()),
        sequence_number: Some(Decimal::from(sequence as u64)),
        quantity: Some(line.quantity),
        price: Some(line.price),
        cost: line.cost,
        taxable_flag: Some(line.taxable),
        billable_option: Some(line.billable_option.to_owned()),
        ..ProductItem::default()
    }
}

/// The fields of `current` that differ from `line`, as PATCH operations (`never`: fields the
/// tenant fills on create only).
fn line_changes(current: &ProductItem, line: &ProductLine, never: &[String]) -> Vec<PatchOp> {
    let mut desired = new_product(line, 0);
    desired.sequence_number = None;
    plan_patch(current, &desired, &[never], &[], &[])
}

/// What makes `current` (a document's products, any order) show `lines` (see the module docs).
pub fn product_plan(
    current: &[ProductItem],
    lines: &[ProductLine],
    never: &[String],
) -> ProductPlan {
    let mut current: Vec<&ProductItem> = current.iter().collect();
    current.sort_by_key(|p| (p.sequence_number.unwrap_or(Decimal::MAX), p.id));
    let mut plan = ProductPlan::default();
    for (index, line) in lines.iter().enumerate() {
        match current.get(index) {
            Some(product) => {
                let ops = line_changes(product, line, never);
                if let Some(id) = product.id
                    && !ops.is_empty()
                {
                    plan.updates.push((id, ops));
                }
            }
            None => plan.creates.push(new_product(line, index + 1)),
        }
    }
    plan.deletes = current
        .iter()
        .skip(lines.len())
        .filter_map(|p| p.id)
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(item_id: &str, sku: Option<&str>, quantity: i64, price: i64) -> DocumentItem {
        DocumentItem {
            id: None,
            item_id: item_id.to_owned(),
            sku: sku.map(str::to_owned),
            description: Some(format!("{item_id} line")),
            quantity: Decimal::from(quantity),
            price: Decimal::from(price),
            cost: None,
            taxable: false,
            billable_option: None,
        }
    }

    fn catalog() -> HashMap<String, i64> {
        HashMap::from([("SKU-A".to_owned(), 10), ("SKU-B".to_owned(), 11)])
    }

    #[test]
    fn items_find_their_catalog_items_by_sku_in_any_case_and_unmatched_ones_are_named() {
        let skus = HashMap::from([("I-2".to_owned(), "sku-b".to_owned())]);
        let items = [item("I-1", Some(" sku-a "), 1, 5), item("I-2", None, 2, 7)];
        let lines = product_lines(&items, &skus, &catalog()).unwrap();
        assert_eq!(
            lines.iter().map(|l| l.catalog_item).collect::<Vec<_>>(),
            [10, 11]
        );
        let bad = [
            item("I-1", Some("SKU-A"), 1, 5),
            item("I-9", Some("NOPE"), 1, 1),
        ];
        let unmatched = product_lines(&bad, &skus, &catalog()).unwrap_err();
        assert_eq!(unmatched.len(), 1);
        let text = unmatched[0].to_string();
        assert!(
            text.contains("items[2]") && text.contains("I-9") && text.contains("NOPE"),
            "{text}"
        );
    }

    #[test]
    fn products_are_matched_by_position_changed_in_place_created_and_removed() {
        let lines = product_lines(
            &[
                item("I-1", Some("SKU-A"), 1, 5),
                item("I-2", Some("SKU-B"), 3, 7),
            ],
            &HashMap::new(),
            &catalog(),
        )
        .unwrap();
        // Nothing there yet: both created, in order.
        let plan = product_plan(&[], &lines, &[]);
        assert_eq!(plan.creates.len(), 2);
        assert_eq!(plan.creates[1].sequence_number, Some(Decimal::from(2)));
        // As created: nothing to write.
        let mut current: Vec<ProductItem> = plan
            .creates
            .iter()
            .cloned()
            .zip(1..)
            .map(|(mut p, id)| {
                p.id = Some(id);
                p
            })
            .collect();
        assert!(product_plan(&current, &lines, &[]).is_empty());
        // A changed quantity is one PATCH of that field; an extra product is removed.
        current[1].quantity = Some(Decimal::from(4));
        let mut extra = current[0].clone();
        extra.id = Some(9);
        extra.sequence_number = Some(Decimal::from(3));
        current.push(extra);
        let plan = product_plan(&current, &lines, &[]);
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].0, 2);
        let fields: Vec<&str> = plan.updates[0]
            .1
            .iter()
            .map(|op| op.path.as_str())
            .collect();
        assert_eq!(fields, ["/quantity"]);
        assert_eq!(plan.deletes, vec![9]);
        assert_eq!(plan.describe(), "products 1 changed, 1 removed");
    }
}
