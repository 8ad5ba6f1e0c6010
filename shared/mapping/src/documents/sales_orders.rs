//! ConnectWise sales orders → billing orders (seeds 000, Sales Order Sync).
//!
//! An order in the tenant's statuses with at least one product becomes one billing order, made
//! once (idempotent on its external reference `cw:sales-order:<id>`). Each product becomes a line
//! of the billing item whose SKU is the product's catalog item identifier; a product no active
//! item matches becomes a line of the tenant's error item, and the order is made on hold with a
//! reason naming each such product. The billing system has no order update, so an order made
//! already is compared, not changed: the same lines are nothing to do, other lines are reported.

use std::collections::HashMap;

use cwsync_billing::models::{DocumentItem, NewOrder, Order as BillingOrder};
use cwsync_connectwise::models::{Order, ProductItem};
use rust_decimal::Decimal;
use serde_json::json;

use super::SalesOrderPull;
use super::contracts::{product_sku, products_digest};
use crate::fingerprint;

/// The external reference of a sales order's billing order (`cw:sales-order:42`).
pub fn order_reference(order_id: i64) -> String {
    format!("cw:sales-order:{order_id}")
}

/// An order's lines and, when a product stood in as the error item, why it goes on hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLines {
    /// The lines, in the products' order.
    pub items: Vec<DocumentItem>,
    /// One reason per product that became the error item.
    pub holds: Vec<String>,
}

impl OrderLines {
    /// The order's hold reason, when any product became the error item.
    pub fn hold_reason(&self) -> Option<String> {
        (!self.holds.is_empty()).then(|| self.holds.join("; "))
    }
}

/// The lines of an order of `products`: each on the item of its SKU (`items`: upper-cased SKU →
/// item id, active items only), else on `error_item` (an item id) with a hold reason. `Err`: the
/// products no line can be made of, each named with its field.
pub fn order_lines(
    products: &[ProductItem],
    identifiers: &HashMap<i64, String>,
    items: &HashMap<String, String>,
    error_item: Option<&str>,
) -> Result<OrderLines, Vec<String>> {
    let mut products: Vec<&ProductItem> = products.iter().collect();
    products.sort_by_key(|p| (p.sequence_number.unwrap_or(Decimal::MAX), p.id));
    let mut lines = OrderLines {
        items: Vec::new(),
        holds: Vec::new(),
    };
    let mut problems = Vec::new();
    for product in products {
        let id = product.id.unwrap_or_default();
        let sku = product_sku(product, identifiers);
        let quantity = product.quantity.unwrap_or(Decimal::ONE);
        if quantity <= Decimal::ZERO {
            problems.push(format!(
                "product {id} ({sku}): quantity {quantity} must be above 0 on a billing order"
            ));
            continue;
        }
        let found = items.get(&sku.to_uppercase()).filter(|_| !sku.is_empty());
        let item_id = match (found, error_item) {
            (Some(item), _) => item.clone(),
            (None, Some(error_item)) => {
                lines.holds.push(if sku.is_empty() {
                    format!("product {id}: its catalog item has no identifier (error item used)")
                } else {
                    format!("product {id}: no billing item has the SKU {sku:?} (error item used)")
                });
                error_item.to_owned()
            }
            (None, None) => {
                problems.push(format!(
                    "product {id}: catalogItem {sku:?} is no billing item's SKU, and \
                     documents.salesOrders.errorItem is not set"
                ));
                continue;
            }
        };
        lines.items.push(DocumentItem {
            id: Some(id.to_string()),
            item_id,
            sku: (!sku.is_empty()).then_some(sku.clone()),
            description: product
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            quantity,
            price: product.price.unwrap_or(Decimal::ZERO),
            cost: product.cost,
            taxable: product.taxable_flag.unwrap_or(false),
            billable_option: None,
        });
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems)
    }
}

/// The billing order of `order` for the account `account_id` (and `bill_to`, when another);
/// `Err` names the field that makes none.
pub fn new_order(
    order: &Order,
    account_id: &str,
    bill_to: Option<&str>,
    lines: OrderLines,
) -> Result<NewOrder, String> {
    let id = order.id.unwrap_or_default();
    let Some(order_date) = order.order_date.map(|d| d.date()) else {
        return Err(format!("orderDate: sales order {id} has no order date"));
    };
    let stage = order
        .status
        .as_ref()
        .and_then(|s| s.name.clone())
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("status: sales order {id} has no status name"))?;
    let hold_reason = lines.hold_reason();
    Ok(NewOrder {
        external_reference: order_reference(id),
        account_id: account_id.to_owned(),
        contact_id: None,
        bill_to_account_id: bill_to.filter(|b| *b != account_id).map(str::to_owned),
        customer_po: order.po_number.clone().filter(|p| !p.trim().is_empty()),
        stage,
        order_date,
        due_date: order
            .due_date
            .map(|d| d.date())
            .filter(|due| *due >= order_date),
        currency: None,
        sales_rep: order.sales_rep.as_ref().and_then(|r| r.identifier.clone()),
        items: lines.items,
        on_hold: hold_reason.is_some(),
        hold_reason,
    })
}

/// What differs between a billing order made already and the one `new` describes (its account
/// and lines; the stage and hold are the billing system's to move), by field.
pub fn order_differences(existing: &BillingOrder, new: &NewOrder) -> Vec<String> {
    let mut changed = Vec::new();
    if existing.account_id != new.account_id {
        changed.push("accountId".to_owned());
    }
    let same_items = existing.items.len() == new.items.len()
        && existing.items.iter().zip(&new.items).all(|(a, b)| {
            a.item_id == b.item_id
                && a.quantity.normalize() == b.quantity.normalize()
                && a.price.normalize() == b.price.normalize()
                && a.description == b.description
        });
    if !same_items {
        changed.push("items".to_owned());
    }
    changed
}

/// The stamp of a sales order: what its sync reads of it and its products, and the error item.
pub fn sales_order_stamp(
    order: &Order,
    products: &[ProductItem],
    settings: &SalesOrderPull,
) -> String {
    fingerprint(&json!({
        "company": order.company.as_ref().and_then(|c| c.id),
        "billTo": order.bill_to_company.as_ref().and_then(|c| c.id),
        "status": order.status.as_ref().and_then(|s| s.name.clone()),
        "orderDate": order.order_date.map(|d| d.date().to_string()),
        "dueDate": order.due_date.map(|d| d.date().to_string()),
        "po": order.po_number,
        "salesRep": order.sales_rep.as_ref().and_then(|r| r.identifier.clone()),
        "products": products_digest(products),
        "errorItem": settings.error_item,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cwsync_connectwise::models::Reference;
    use time::macros::datetime;

    fn product(id: i64, identifier: &str, quantity: i64) -> ProductItem {
        ProductItem {
            id: Some(id),
            catalog_item: Some(Reference {
                id: Some(id * 10),
                identifier: Some(identifier.to_owned()),
                ..Reference::default()
            }),
            quantity: Some(Decimal::from(quantity)),
            price: Some(Decimal::from(25)),
            sequence_number: Some(Decimal::from(id)),
            ..ProductItem::default()
        }
    }

    fn order() -> Order {
        Order {
            id: Some(42),
            status: Some(Reference {
                name: Some("Ready".to_owned()),
                ..Reference::default()
            }),
            order_date: Some(datetime!(2026-11-10 00:00 UTC)),
            due_date: Some(datetime!(2026-11-01 00:00 UTC)),
            po_number: Some("PO-7".to_owned()),
            ..Order::default()
        }
    }

    #[test]
    fn products_find_their_items_by_sku_and_an_unknown_one_becomes_the_error_item_on_hold() {
        let items = HashMap::from([("TONER".to_owned(), "I-TONER".to_owned())]);
        let products = [product(2, "MYSTERY", 1), product(1, "toner", 3)];
        let lines = order_lines(&products, &HashMap::new(), &items, Some("I-ERR")).unwrap();
        assert_eq!(
            lines
                .items
                .iter()
                .map(|i| i.item_id.as_str())
                .collect::<Vec<_>>(),
            ["I-TONER", "I-ERR"]
        );
        let reason = lines.hold_reason().unwrap();
        assert!(
            reason.contains("product 2") && reason.contains("MYSTERY"),
            "{reason}"
        );
        let new = new_order(&order(), "A-1", Some("A-1"), lines).unwrap();
        assert!(new.on_hold);
        assert_eq!(new.external_reference, "cw:sales-order:42");
        assert_eq!(new.stage, "Ready");
        assert_eq!(new.bill_to_account_id, None);
        // A due date before the order date is left out (the billing system refuses it).
        assert_eq!(new.due_date, None);
    }

    #[test]
    fn without_an_error_item_the_unknown_product_fails_naming_it() {
        let problems = order_lines(
            &[product(5, "NOPE", 1)],
            &HashMap::new(),
            &HashMap::new(),
            None,
        )
        .unwrap_err();
        assert!(
            problems[0].contains("product 5") && problems[0].contains("errorItem"),
            "{problems:?}"
        );
        let zero = order_lines(
            &[product(6, "TONER", 0)],
            &HashMap::new(),
            &HashMap::from([("TONER".to_owned(), "I".to_owned())]),
            None,
        )
        .unwrap_err();
        assert!(zero[0].contains("quantity"), "{zero:?}");
    }

    #[test]
    fn an_order_made_from_the_same_lines_shows_no_difference() {
        let items = HashMap::from([("TONER".to_owned(), "I-TONER".to_owned())]);
        let lines = order_lines(&[product(1, "TONER", 3)], &HashMap::new(), &items, None).unwrap();
        let new = new_order(&order(), "A-1", None, lines).unwrap();
        let mut existing = BillingOrder {
            id: "ORD-1".to_owned(),
            number: "SO-1".to_owned(),
            account_id: "A-1".to_owned(),
            contact_id: None,
            bill_to_account_id: None,
            customer_po: None,
            stage: "Shipped".to_owned(),
            order_date: new.order_date,
            due_date: None,
            currency: None,
            sales_rep: None,
            items: new.items.clone(),
            external_reference: Some(new.external_reference.clone()),
            on_hold: false,
            hold_reason: None,
            updated_at: datetime!(2026-11-10 00:00 UTC),
        };
        assert!(order_differences(&existing, &new).is_empty());
        existing.items[0].quantity = Decimal::from(4);
        assert_eq!(order_differences(&existing, &new), ["items"]);
    }
}
