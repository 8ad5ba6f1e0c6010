//! A billing order → a ConnectWise sales order (`/sales/orders`), its items → the order's
//! products ([`super::lines`]); seed 003's Order entity.
//!
//! - company: the account's (the customer sync's link); bill-to company: the bill-to account's;
//!   contact: the contact's link;
//! - status: the order's stage through `documents.orders.statuses`, else the ConnectWise order
//!   status of the same name (any case); neither is the order's failure naming the stage;
//! - sales rep: the member whose identifier or e-mail is the order's `salesRep`, else the
//!   tenant's `documents.orders.salesRep`; neither is the order's failure;
//! - description: the billing order number (what a lost create is found by, with the company);
//!   PO number: the customer's PO; order and due dates.

use cwsync_billing::models::Order as BillingOrder;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{Member, Order, OrderStatus, Reference};
use serde_json::json;
use time::{OffsetDateTime, Time};

use super::DocumentSettings;
use crate::fields::plan_patch;
use crate::fingerprint;

fn reference(id: i64) -> Reference {
    Reference {
        id: Some(id),
        ..Reference::default()
    }
}

fn midnight(date: Option<time::Date>) -> Option<OffsetDateTime> {
    date.map(|d| d.with_time(Time::MIDNIGHT).assume_utc())
}

/// The member whose identifier or e-mail (office or primary) is `key`, any case.
pub fn member_id(members: &[Member], key: &str) -> Option<i64> {
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    members
        .iter()
        .filter(|m| m.inactive_flag != Some(true))
        .find(|m| {
            [&m.identifier, &m.office_email, &m.primary_email]
                .into_iter()
                .flatten()
                .any(|v| v.trim().eq_ignore_ascii_case(key))
        })
        .and_then(|m| m.id)
}

/// The ids an order refers to, resolved by the caller from its links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRefs {
    /// The account's company.
    pub company: i64,
    /// The bill-to account's company, when another.
    pub bill_to: Option<i64>,
    /// The contact.
    pub contact: Option<i64>,
}

/// The ConnectWise sales order `order` should be; `Err` names the field that can't be resolved.
pub fn desired_order(
    order: &BillingOrder,
    refs: OrderRefs,
    statuses: &[OrderStatus],
    members: &[Member],
    settings: &DocumentSettings,
) -> Result<Order, String> {
    let orders = &settings.orders;
    let stage = order.stage.trim();
    let wanted = orders
        .statuses
        .iter()
        .find(|(name, _)| name.trim().eq_ignore_ascii_case(stage))
        .map_or(stage, |(_, cw)| cw.as_str());
    let status = statuses
        .iter()
        .find(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
        })
        .and_then(|s| s.id)
        .ok_or_else(|| {
            format!(
                "stage: no ConnectWise order status for the stage {stage:?} (map it in \
                 documents.orders.statuses, or name a status after it)"
            )
        })?;
    let rep = order
        .sales_rep
        .as_deref()
        .and_then(|key| member_id(members, key))
        .or_else(|| {
            orders
                .sales_rep
                .as_deref()
                .and_then(|key| member_id(members, key))
        })
        .ok_or_else(|| match &order.sales_rep {
            Some(rep) => format!(
                "salesRep: no active ConnectWise member has the identifier or e-mail {rep:?}, \
                 and documents.orders.salesRep names none either"
            ),
            None => "salesRep: the order names no sales rep and documents.orders.salesRep is not \
                     set"
            .to_owned(),
        })?;
    Ok(Order {
        company: Some(reference(refs.company)),
        bill_to_company: refs.bill_to.map(reference),
        contact: refs.contact.map(reference),
        status: Some(reference(status)),
        sales_rep: Some(reference(rep)),
        order_date: midnight(Some(order.order_date)),
        due_date: midnight(order.due_date),
        po_number: order.customer_po.clone(),
        description: Some(order.number.trim().to_owned()),
        ..Order::default()
    })
}

/// The fields of `current` that differ from `desired` (`never`: the tenant's
/// `neverOverwrite.orders`); the company is never moved.
pub fn order_changes(current: &Order, desired: &Order, never: &[String]) -> Vec<PatchOp> {
    plan_patch(current, desired, &[never], &["company"], &[])
}

/// The stamp of what exporting `order` writes (its values but `updatedAt`, its links, the
/// settings that shape it).
pub fn order_stamp(
    order: &BillingOrder,
    refs: Option<OrderRefs>,
    settings: &DocumentSettings,
    never: &[String],
) -> String {
    let mut values = serde_json::to_value(order).unwrap_or_default();
    if let Some(object) = values.as_object_mut() {
        object.remove("updatedAt");
    }
    fingerprint(&json!({
        "order": values,
        "refs": refs.map(|r| [Some(r.company), r.bill_to, r.contact]),
        "settings": &settings.orders,
        "never": never,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn order() -> BillingOrder {
        serde_json::from_value(json!({
            "id": "ORD-1", "number": "SO-1", "accountId": "A-1", "stage": "Open",
            "orderDate": "2026-11-03", "salesRep": "JDoe@Example.com", "customerPo": "PO-9",
            "items": [], "updatedAt": "2026-11-03T12:00:00Z"
        }))
        .unwrap()
    }

    fn statuses() -> Vec<OrderStatus> {
        ["New", "Shipped"]
            .into_iter()
            .zip(1..)
            .map(|(name, id)| OrderStatus {
                id: Some(id),
                name: Some(name.to_owned()),
                ..OrderStatus::default()
            })
            .collect()
    }

    fn members() -> Vec<Member> {
        vec![Member {
            id: Some(7),
            identifier: Some("jdoe".to_owned()),
            primary_email: Some("jdoe@example.com".to_owned()),
            ..Member::default()
        }]
    }

    const REFS: OrderRefs = OrderRefs {
        company: 3,
        bill_to: None,
        contact: Some(4),
    };

    #[test]
    fn an_order_maps_its_stage_rep_and_number() {
        let mut settings = DocumentSettings::default();
        settings
            .orders
            .statuses
            .insert("open".to_owned(), "New".to_owned());
        let desired = desired_order(&order(), REFS, &statuses(), &members(), &settings).unwrap();
        assert_eq!(desired.status.and_then(|s| s.id), Some(1));
        assert_eq!(desired.sales_rep.and_then(|s| s.id), Some(7));
        assert_eq!(desired.description.as_deref(), Some("SO-1"));
        assert_eq!(desired.po_number.as_deref(), Some("PO-9"));
        assert_eq!(desired.order_date, Some(datetime!(2026-11-03 0:00 UTC)));
    }

    #[test]
    fn an_unmapped_stage_or_rep_names_the_field() {
        let settings = DocumentSettings::default();
        let error = desired_order(&order(), REFS, &statuses(), &members(), &settings).unwrap_err();
        assert!(
            error.starts_with("stage:") && error.contains("Open"),
            "{error}"
        );
        let mut shipped = order();
        shipped.stage = "shipped".to_owned();
        shipped.sales_rep = Some("nobody".to_owned());
        let error = desired_order(&shipped, REFS, &statuses(), &members(), &settings).unwrap_err();
        assert!(
            error.starts_with("salesRep:") && error.contains("nobody"),
            "{error}"
        );
        let mut settings = settings;
        settings.orders.sales_rep = Some("JDOE".to_owned());
        let desired = desired_order(&shipped, REFS, &statuses(), &members(), &settings).unwrap();
        assert_eq!(desired.sales_rep.and_then(|s| s.id), Some(7));
        assert_eq!(desired.status.and_then(|s| s.id), Some(2));
    }

    #[test]
    fn the_stamp_ignores_updated_at_only() {
        let settings = DocumentSettings::default();
        let base = order_stamp(&order(), Some(REFS), &settings, &[]);
        let mut touched = order();
        touched.updated_at = datetime!(2026-12-01 0:00 UTC);
        assert_eq!(order_stamp(&touched, Some(REFS), &settings, &[]), base);
        touched.stage = "Shipped".to_owned();
        assert_ne!(order_stamp(&touched, Some(REFS), &settings, &[]), base);
    }
}
