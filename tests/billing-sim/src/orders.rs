//! The billing-order writes: an order made from a ConnectWise sales order, created exactly once
//! per external reference (a repeat is refused with 409 `Duplicate` naming the order), checked
//! field by field against the contract before anything changes, and found again by its
//! reference. Like the service-call writes, the check and the change run under one lock, so two
//! concurrent creates with one reference make one order. This module never panics on input.

use cwsync_billing::FieldProblem;
use cwsync_billing::models::{DocumentItem, NewOrder, Order};
use rust_decimal::Decimal;

use crate::error::ApiError;
use crate::service_calls::{check_item_line, check_reference, parse_strict, problem, refuse};
use crate::state::Inner;

/// The number of the first order the simulator makes (`ORD-9001`).
const FIRST_ORDER_NUMBER: u64 = 9001;

const NEW_ORDER_FIELDS: &[&str] = &[
    "externalReference",
    "accountId",
    "contactId",
    "billToAccountId",
    "customerPo",
    "stage",
    "orderDate",
    "dueDate",
    "currency",
    "salesRep",
    "items",
    "onHold",
    "holdReason",
];
const ITEM_FIELDS: &[&str] = &[
    "id",
    "itemId",
    "sku",
    "description",
    "quantity",
    "price",
    "cost",
    "taxable",
    "billableOption",
];

/// The order of an external reference.
pub(crate) fn by_reference<'a>(inner: &'a Inner, reference: &str) -> Option<&'a Order> {
    inner
        .orders
        .values()
        .find(|o| o.external_reference.as_deref() == Some(reference))
}

/// `POST /v1/orders`: the new order, or the refusal.
pub(crate) fn create(inner: &mut Inner, body: &[u8]) -> Result<Order, ApiError> {
    let new: NewOrder = parse_strict(
        "the new order",
        body,
        NEW_ORDER_FIELDS,
        &[("items", ITEM_FIELDS)],
    )?;
    let what = format!("the order of {}", new.external_reference);
    let mut problems = check_reference("externalReference", &new.external_reference);
    problems.extend(check(inner, &new));
    refuse(&what, problems)?;
    if let Some(existing) = by_reference(inner, &new.external_reference) {
        return Err(ApiError::duplicate(
            "externalReference",
            "order",
            &existing.id,
            format!(
                "order {} has externalReference {} already",
                existing.id, new.external_reference
            ),
        ));
    }
    let mut number = FIRST_ORDER_NUMBER;
    while inner.orders.contains_key(&format!("ORD-{number}")) {
        number += 1;
    }
    let order = Order {
        id: format!("ORD-{number}"),
        number: format!("SO-{number}"),
        account_id: new.account_id,
        contact_id: new.contact_id,
        bill_to_account_id: new.bill_to_account_id,
        customer_po: new.customer_po,
        stage: new.stage,
        order_date: new.order_date,
        due_date: new.due_date,
        currency: new.currency,
        sales_rep: new.sales_rep,
        items: new.items,
        external_reference: Some(new.external_reference),
        hold_reason: if new.on_hold { new.hold_reason } else { None },
        on_hold: new.on_hold,
        updated_at: inner.knobs.now(),
    };
    inner.orders.insert(order.id.clone(), order.clone());
    Ok(order)
}

/// Every problem of a new order, in field order.
fn check(inner: &Inner, new: &NewOrder) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    match inner.accounts.get(&new.account_id) {
        None => problems.push(problem(
            "accountId",
            format!("no account {}", new.account_id),
        )),
        Some(account) => {
            if let Some(contact) = &new.contact_id
                && !account.contacts.iter().any(|c| &c.id == contact)
            {
                problems.push(problem(
                    "contactId",
                    format!("account {} has no contact {contact}", account.id),
                ));
            }
        }
    }
    if let Some(bill_to) = &new.bill_to_account_id
        && !inner.accounts.contains_key(bill_to)
    {
        problems.push(problem("billToAccountId", format!("no account {bill_to}")));
    }
    if new.stage.trim().is_empty() {
        problems.push(problem("stage", "must not be empty"));
    }
    if new.due_date.is_some_and(|due| due < new.order_date) {
        problems.push(problem("dueDate", "must not be before orderDate"));
    }
    if new.items.is_empty() {
        problems.push(problem("items", "must hold at least one line"));
    }
    problems.extend(check_items(inner, &new.items));
    if new.on_hold
        && new
            .hold_reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        problems.push(problem("holdReason", "is required when onHold is true"));
    }
    problems
}

fn check_items(inner: &Inner, items: &[DocumentItem]) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for (i, line) in items.iter().enumerate() {
        let name = format!("items[{i}]");
        problems.extend(check_item_line(inner, &name, &line.item_id, line.quantity));
        if line.price < Decimal::ZERO {
            problems.push(problem(&format!("{name}.price"), "must not be negative"));
        }
    }
    problems
}
