//! Ticket products → parts, by the seeds' rule (000 "Service Sync" Q5):
//!
//! - a product is imported only when a time entry on the ticket has the product's agreement, or,
//!   for a product with no agreement, when some time entry has none (a skipped product is a note
//!   on the ticket's line, not a problem); a cancelled product is never imported;
//! - its item is the active billing item whose SKU is the product's catalog identifier;
//! - without one, the placeholder item of its product type (the ConnectWise type through
//!   `ticketImport.productTypes`, else the billing type of the same name) stands in, and the call
//!   goes on hold with a reason naming the product; a type without a placeholder is a problem.

use std::collections::BTreeSet;

use cwsync_billing::models::{Item, Part};
use cwsync_connectwise::models::ProductItem;
use rust_decimal::Decimal;

use super::{TicketProblem, TicketReference, TicketSide, product_reference};
use crate::settings::{TenantSettings, same_name};

/// What a ticket's products come to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedParts {
    /// The parts.
    pub parts: Vec<Part>,
    /// Why the call goes on hold (one reason per placeholder part).
    pub holds: Vec<String>,
    /// Products left out, and why.
    pub notes: Vec<String>,
    /// Products that can't be imported.
    pub problems: Vec<TicketProblem>,
}

/// The parts of `side`'s products (see the module docs).
pub fn plan_parts(
    side: &TicketSide<'_>,
    reference: &TicketReference,
    settings: &TenantSettings,
) -> PlannedParts {
    let ticket = side.id();
    let agreements: BTreeSet<Option<i64>> = side
        .time_entries
        .iter()
        .map(|e| e.agreement.as_ref().and_then(|a| a.id))
        .collect();
    let mut planned = PlannedParts::default();
    for product in side.products {
        let id = product.id.unwrap_or_default();
        if product.cancelled_flag == Some(true) {
            planned
                .notes
                .push(format!("product {id} not imported: cancelled"));
            continue;
        }
        let agreement = product.agreement.as_ref().and_then(|a| a.id);
        if !agreements.contains(&agreement) {
            planned.notes.push(match agreement {
                Some(a) => format!(
                    "product {id} not imported: no time entry on the ticket is on its \
                     agreement {a}"
                ),
                None => format!(
                    "product {id} not imported: it has no agreement and every time entry has one"
                ),
            });
            continue;
        }
        match part_of(ticket, product, side, reference, settings) {
            Ok((part, hold)) => {
                planned.parts.push(part);
                planned.holds.extend(hold);
            }
            Err(problem) => planned.problems.push(problem),
        }
    }
    planned
}

/// The part of one product, and the hold reason when a placeholder stands in.
fn part_of(
    ticket: i64,
    product: &ProductItem,
    side: &TicketSide<'_>,
    reference: &TicketReference,
    settings: &TenantSettings,
) -> Result<(Part, Option<String>), TicketProblem> {
    let id = product.id.unwrap_or_default();
    let field = |name: &str| format!("products[id={id}].{name}");
    let catalog = product
        .catalog_item
        .as_ref()
        .and_then(|c| c.id)
        .and_then(|c| side.catalog.get(&c));
    let sku = product
        .catalog_item
        .as_ref()
        .and_then(|c| c.identifier.clone())
        .or_else(|| catalog.and_then(|c| c.identifier.clone()))
        .ok_or_else(|| {
            TicketProblem::new(
                ticket,
                field("catalogItem"),
                "the product names no catalog item, so it has no SKU",
            )
        })?;
    let quantity = product
        .quantity
        .filter(|q| *q > Decimal::ZERO)
        .ok_or_else(|| {
            TicketProblem::new(
                ticket,
                field("quantity"),
                format!(
                    "{}: a part's quantity is above 0",
                    product
                        .quantity
                        .map_or_else(|| "none".to_owned(), |q| q.to_string())
                ),
            )
        })?;
    let description = product
        .description
        .clone()
        .or_else(|| catalog.and_then(|c| c.description.clone()));
    let item = reference
        .items
        .iter()
        .find(|i: &&Item| i.active && !i.placeholder && same_name(&i.sku, &sku));
    if let Some(item) = item {
        let part = Part {
            external_reference: Some(product_reference(id)),
            item_id: item.id.clone(),
            quantity,
            price: product.price,
            description,
        };
        return Ok((part, None));
    }
    let cw_type = catalog
        .and_then(|c| c.kind.as_ref())
        .and_then(|k| k.name.clone())
        .unwrap_or_default();
    let billing_type = settings
        .ticket_import
        .product_types
        .iter()
        .find(|(cw, _)| same_name(cw, &cw_type))
        .map_or(cw_type.as_str(), |(_, billing)| billing.as_str());
    let placeholder = reference
        .product_types
        .iter()
        .find(|t| t.active && same_name(&t.name, billing_type))
        .and_then(|t| t.placeholder_item_id.clone());
    let Some(placeholder) = placeholder else {
        return Err(TicketProblem::new(
            ticket,
            field("catalogItem"),
            format!(
                "the billing system has no item with SKU {sku}, and product type \
                 {billing_type:?} (ConnectWise type {cw_type:?}) has no placeholder item: add \
                 the item, or map the type in ticketImport.productTypes[{cw_type:?}]"
            ),
        ));
    };
    let part = Part {
        external_reference: Some(product_reference(id)),
        item_id: placeholder,
        quantity,
        price: product.price,
        description: Some(match description {
            Some(d) => format!("{sku}: {d}"),
            None => sku.clone(),
        }),
    };
    let hold = format!(
        "product {id} ({sku}) has no billing item with that SKU: placeholder item of type \
         {billing_type} added; replace it and take the call off hold"
    );
    Ok((part, Some(hold)))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    /// The references of the parts planned.
    fn imported(planned: &PlannedParts) -> Vec<&str> {
        planned
            .parts
            .iter()
            .map(|p| p.external_reference.as_deref().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_product_on_the_agreement_of_a_time_entry_is_imported_and_others_are_noted() {
        let mut world = World::new();
        world.entries[0].agreement = Some(reference(42, "Managed Print"));
        world.products[0].agreement = Some(reference(42, "Managed Print"));
        let mut other = world.products[0].clone();
        other.id = Some(91);
        other.agreement = Some(reference(43, "Block Time"));
        let mut bare = world.products[0].clone();
        bare.id = Some(92);
        bare.agreement = None;
        world.products.push(other);
        world.products.push(bare);
        let planned = plan_parts(&world.side(), &world.reference, &world.settings);
        assert_eq!(imported(&planned), ["cw:product:90"]);
        assert_eq!(planned.notes.len(), 2, "{:?}", planned.notes);
        assert!(planned.notes[0].contains("agreement 43"));
        assert!(planned.notes[1].contains("has no agreement"));

        // A product without an agreement goes with a time entry without one.
        world.entries[0].agreement = None;
        let planned = plan_parts(&world.side(), &world.reference, &world.settings);
        assert_eq!(imported(&planned), ["cw:product:92"]);
    }

    #[test]
    fn a_product_the_billing_system_lacks_becomes_its_types_placeholder_and_holds_the_call() {
        let mut world = World::new();
        world.products[0].catalog_item = Some(catalog_ref(300, "MYSTERY-1"));
        let call = world.map().unwrap();
        assert_eq!(call.parts[0].item_id, "I-PH-HW");
        assert_eq!(
            call.parts[0].description.as_deref(),
            Some("MYSTERY-1: Toner cartridge")
        );
        let reason = call.hold_reason.clone().unwrap();
        assert!(reason.contains("product 90 (MYSTERY-1)"), "{reason}");
        assert!(call.new_call().on_hold);
    }

    #[test]
    fn a_type_without_a_placeholder_is_a_problem_naming_the_mapping_to_add() {
        let mut world = World::new();
        world.products[0].catalog_item = Some(catalog_ref(300, "MYSTERY-1"));
        world.settings.ticket_import.product_types.clear();
        let problems = world.map().unwrap_err();
        assert_eq!(problems[0].field, "products[id=90].catalogItem");
        assert!(
            problems[0]
                .message
                .contains("ticketImport.productTypes[\"Non-Inventory\"]"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_cancelled_product_is_left_out_and_a_zero_quantity_is_a_problem() {
        let mut world = World::new();
        world.products[0].cancelled_flag = Some(true);
        let call = world.map().unwrap();
        assert!(call.parts.is_empty());
        assert!(call.notes[0].contains("cancelled"));
        let mut world = World::new();
        world.products[0].quantity = Some(Decimal::ZERO);
        let problems = world.map().unwrap_err();
        assert_eq!(problems[0].field, "products[id=90].quantity");
    }
}
