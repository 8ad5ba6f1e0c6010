//! Billing documents (issue 11): what the billing system holds that becomes ConnectWise finance
//! and sales records — invoices with their items, payments, orders with their items, projects
//! with their options and change orders — and the contract templates an agreement invoice's
//! contract is made from.
//!
//! Read like every other kind ([`crate::Listing`]: `updatedSince` keyset paging, `ids`,
//! `accountIds`; payments also `invoiceIds`). Status and type names stay free text where billing
//! systems name them as they like (an invoice's status, an order's stage), and are closed enums
//! where the sync decides on them (a project's kind and status, a line's billable option), so an
//! unknown value fails that one record by name instead of being guessed.
//!
//! # Refunds
//! A refund is its own [`Payment`] record with a negative amount (never a flag on the payment it
//! refunds): the money received for an invoice is the plain sum of its payments' amounts, and a
//! refund arriving later is one more record in the incremental read, not a change to an old one.

use cwsync_http::amount;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::export::date;

/// How ConnectWise bills a line (its `billableOption`), named as ConnectWise names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BillableOption {
    /// Charged to the customer.
    Billable,
    /// Not charged, and not shown as charged.
    DoNotBill,
    /// Shown on the document at no charge.
    NoCharge,
    /// ConnectWise decides from its defaults.
    NoDefault,
}

/// One line of an invoice, an order or a project: an item, how many, at what price.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentItem {
    /// The line's id within its document, when the billing system has one.
    pub id: Option<String>,
    /// The item sold (an [`super::Item`]'s id); its SKU matches the ConnectWise catalog item.
    pub item_id: String,
    /// The item's SKU as the document shows it, when the billing system sends it along.
    pub sku: Option<String>,
    /// What the line says (the item's name unless changed on the document).
    pub description: Option<String>,
    /// How many (negative on a credit).
    #[serde(with = "amount")]
    pub quantity: Decimal,
    /// The final price of one unit, after discounts.
    #[serde(with = "amount")]
    pub price: Decimal,
    /// The cost of one unit, when known.
    #[serde(default, with = "amount::opt")]
    pub cost: Option<Decimal>,
    /// Whether the line is taxed.
    #[serde(default)]
    pub taxable: bool,
    /// How ConnectWise should bill it; absent: the tenant's default.
    pub billable_option: Option<BillableOption>,
}

/// An invoice of the billing system with its items: becomes a ConnectWise invoice.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// The billing system's immutable id of the invoice (the link key).
    pub id: String,
    /// The invoice number users see; matched against the ConnectWise invoice number when there
    /// is no link yet.
    pub number: String,
    /// The invoice type (`Standard`, `Credit Memo`), free text.
    #[serde(rename = "type")]
    pub invoice_type: Option<String>,
    /// The stage or status (`Draft`, `Open`, `Paid`, `Void`), free text.
    pub status: String,
    /// The account invoiced.
    pub account_id: String,
    /// The account that pays it, when another than `accountId`.
    pub bill_to_account_id: Option<String>,
    /// ISO 4217 currency code (`USD`).
    pub currency: Option<String>,
    /// The invoice's date.
    #[serde(default, with = "date::option")]
    pub invoice_date: Option<Date>,
    /// When it is due.
    #[serde(default, with = "date::option")]
    pub due_date: Option<Date>,
    /// The total, taxes included.
    #[serde(with = "amount")]
    pub total: Decimal,
    /// What is still owed.
    #[serde(with = "amount")]
    pub balance: Decimal,
    /// The lines.
    #[serde(default)]
    pub items: Vec<DocumentItem>,
    /// When the invoice (or one of its items) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A payment received for an invoice, or a refund of one (a negative amount). ConnectWise keeps
/// one payment per invoice: the sum of all of an invoice's payments.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// The billing system's immutable id of the payment.
    pub id: String,
    /// The account that paid.
    pub account_id: String,
    /// The invoice paid.
    pub invoice_id: String,
    /// The payment type's name (`Check`, `Credit Card`, `ACH`), free text.
    #[serde(rename = "type")]
    pub payment_type: String,
    /// The amount: positive for a payment, negative for a refund, never 0.
    #[serde(with = "amount")]
    pub amount: Decimal,
    /// When it was paid (or refunded).
    #[serde(with = "date")]
    pub payment_date: Date,
    /// A check number or transaction reference.
    pub reference: Option<String>,
    /// When the payment last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Payment {
    /// Whether this record is a refund (a negative amount).
    pub fn is_refund(&self) -> bool {
        self.amount < Decimal::ZERO
    }
}

/// An order of the billing system with its items: becomes a ConnectWise sales order.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The billing system's immutable id of the order.
    pub id: String,
    /// The order number users see.
    pub number: String,
    /// The account ordering.
    pub account_id: String,
    /// The contact ordering (a contact of the account).
    pub contact_id: Option<String>,
    /// The account that pays, when another than `accountId`.
    pub bill_to_account_id: Option<String>,
    /// The customer's own reference (purchase order number).
    pub customer_po: Option<String>,
    /// The stage (`Open`, `Shipped`, `Closed`), free text; → a ConnectWise order status through
    /// the tenant's mapping.
    pub stage: String,
    /// When it was ordered.
    #[serde(with = "date")]
    pub order_date: Date,
    /// When it is due.
    #[serde(default, with = "date::option")]
    pub due_date: Option<Date>,
    /// ISO 4217 currency code.
    pub currency: Option<String>,
    /// The sales rep's e-mail or identifier (→ a ConnectWise member).
    pub sales_rep: Option<String>,
    /// The lines.
    #[serde(default)]
    pub items: Vec<DocumentItem>,
    /// The ConnectWise sales order it was made from (unique among orders) when cwsync made it;
    /// such an order is never sent back to ConnectWise.
    pub external_reference: Option<String>,
    /// Whether the order is on hold (an item stood in for a product the billing system lacks).
    #[serde(default)]
    pub on_hold: bool,
    /// Why it is on hold.
    pub hold_reason: Option<String>,
    /// When the order (or one of its items) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The body of `POST /v1/orders`: a billing order made from a ConnectWise sales order. The
/// create is idempotent on the external reference: a second create with it is refused (409
/// `Duplicate`) naming the existing order.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    /// The ConnectWise sales order's reference (`cw:order:123`).
    pub external_reference: String,
    /// The account ordering (from the order's company through the customer links).
    pub account_id: String,
    /// The contact ordering (a contact of the account).
    pub contact_id: Option<String>,
    /// The account that pays, when another.
    pub bill_to_account_id: Option<String>,
    /// The customer's purchase order number.
    pub customer_po: Option<String>,
    /// The stage to create it in (`Open`).
    pub stage: String,
    /// When it was ordered.
    #[serde(with = "date")]
    pub order_date: Date,
    /// When it is due (not before the order date).
    #[serde(default, with = "date::option")]
    pub due_date: Option<Date>,
    /// ISO 4217 currency code.
    pub currency: Option<String>,
    /// The sales rep's e-mail or identifier.
    pub sales_rep: Option<String>,
    /// The lines: at least one, each an active item with a quantity above 0.
    pub items: Vec<DocumentItem>,
    /// Put on hold at once (a product became the tenant's error item).
    #[serde(default)]
    pub on_hold: bool,
    /// Why it is on hold; required when `on_hold`.
    pub hold_reason: Option<String>,
}

/// What a project record is: a project, or an option or change order of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProjectKind {
    /// A project.
    Project,
    /// An alternative offered within a project.
    Option,
    /// A change to a project after it was won.
    ChangeOrder,
}

/// Where a project stands; a won or lost project moves its opportunity's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProjectStatus {
    /// Still being sold.
    Open,
    /// Sold.
    Won,
    /// Not sold.
    Lost,
}

/// A project (as Jetbuilt keeps them), or an option or change order of one: becomes a
/// ConnectWise opportunity with the items as its products.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// The billing system's immutable id.
    pub id: String,
    /// The project number users see, when any.
    pub number: Option<String>,
    /// Its name.
    pub name: String,
    /// Project, option or change order.
    pub kind: ProjectKind,
    /// The project an option or change order belongs to (required for those; absent on a
    /// project).
    pub parent_project_id: Option<String>,
    /// Open, won or lost.
    pub status: ProjectStatus,
    /// The owner's e-mail (→ the opportunity's primary sales rep).
    pub owner_email: Option<String>,
    /// The owner's sign-in name, matched when the e-mail does not.
    pub owner_identifier: Option<String>,
    /// The client account (→ the company).
    pub account_id: String,
    /// The client's primary contact (a contact of the account).
    pub primary_contact_id: Option<String>,
    /// The office location: a site of the account (→ the company site).
    pub site_id: Option<String>,
    /// When the sale is expected to close.
    #[serde(default, with = "date::option")]
    pub close_date: Option<Date>,
    /// The items (→ products on the opportunity).
    #[serde(default)]
    pub items: Vec<DocumentItem>,
    /// When the project (or one of its items) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A contract template: a ConnectWise agreement invoice's contract is made from the template
/// named exactly like the agreement's type, else from the default one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractTemplate {
    /// The billing system's immutable id.
    pub id: String,
    /// Its name, matched exactly against the ConnectWise agreement type's name.
    pub name: String,
    /// Whether it is the template used when no name matches (at most one is).
    #[serde(default)]
    pub is_default: bool,
    /// Whether contracts may still be made from it.
    #[serde(default = "yes")]
    pub active: bool,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_invoice_reads_its_items_with_amounts_as_strings_or_numbers() {
        let invoice: Invoice = serde_json::from_value(json!({
            "id": "INV-1", "number": "10001", "status": "Open", "accountId": "A-1",
            "dueDate": "2026-12-01", "total": "107.50", "balance": 0,
            "updatedAt": "2026-11-02T10:00:00Z",
            "items": [{"itemId": "I-1", "quantity": 2, "price": "50.00",
                       "taxable": true, "billableOption": "NoCharge"}]
        }))
        .unwrap();
        assert_eq!(invoice.total, Decimal::new(10750, 2));
        assert_eq!(invoice.items[0].quantity, Decimal::from(2));
        assert_eq!(
            invoice.items[0].billable_option,
            Some(BillableOption::NoCharge)
        );
        let back = serde_json::to_value(&invoice).unwrap();
        assert_eq!(back["dueDate"], "2026-12-01");
        assert!(back.get("invoiceDate").is_none());
    }

    #[test]
    fn a_refund_is_a_negative_payment_and_a_date_is_required() {
        let refund: Payment = serde_json::from_value(json!({
            "id": "PAY-3", "accountId": "A-1", "invoiceId": "INV-1", "type": "Check",
            "amount": "-20.00", "paymentDate": "2026-11-03", "updatedAt": "2026-11-03T10:00:00Z"
        }))
        .unwrap();
        assert!(refund.is_refund());
        let error = serde_path_to_error::deserialize::<_, Payment>(json!({
            "id": "PAY-3", "accountId": "A-1", "invoiceId": "INV-1", "type": "Check",
            "amount": "5", "updatedAt": "2026-11-03T10:00:00Z"
        }))
        .unwrap_err();
        assert!(error.to_string().contains("paymentDate"), "{error}");
    }

    #[test]
    fn an_unknown_project_kind_is_refused_naming_the_field() {
        let error = serde_path_to_error::deserialize::<_, Project>(json!({
            "id": "PRJ-1", "name": "AV", "kind": "Addendum", "status": "Open",
            "accountId": "A-1", "updatedAt": "2026-11-02T10:00:00Z"
        }))
        .unwrap_err();
        assert_eq!(error.path().to_string(), "kind");
    }
}
