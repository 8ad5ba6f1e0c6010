//! A billing invoice → a ConnectWise invoice (`/finance/invoices`), its items → the invoice's
//! products ([`super::lines`]).
//!
//! The invoice is found through its link, else by its number (ConnectWise invoice numbers are
//! unique). Its type comes from [`super::InvoiceSettings`]; its company is the account's
//! (the customer sync's link). What cwsync writes: number, type, company, date, due date and
//! the products; ConnectWise computes the totals, and an invoice posted to accounting
//! (`glBatch`) is never changed.

use cwsync_billing::models::Invoice as BillingInvoice;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{Invoice, Reference};
use serde_json::json;
use time::{OffsetDateTime, Time};

use super::DocumentSettings;
use crate::fields::plan_patch;
use crate::fingerprint;

/// ConnectWise's invoice types, as written.
pub const INVOICE_TYPES: [&str; 7] = [
    "Agreement",
    "CreditMemo",
    "DownPayment",
    "Miscellaneous",
    "Progress",
    "Standard",
    "Consolidated",
];

/// A type name compared without case, spaces, hyphens or underscores (`Credit Memo` is
/// `credit-memo` is `CreditMemo`).
fn type_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The ConnectWise invoice type of `invoice`: the tenant's mapping of its billing type, else the
/// ConnectWise type it names (`Credit Memo` → `CreditMemo`), else the tenant's default.
pub fn invoice_type(invoice: &BillingInvoice, settings: &DocumentSettings) -> String {
    let invoices = &settings.invoices;
    let Some(billing) = invoice.invoice_type.as_deref().map(type_key) else {
        return invoices.default_type.clone();
    };
    invoices
        .types
        .iter()
        .find(|(name, _)| type_key(name) == billing)
        .map(|(_, cw)| cw.clone())
        .or_else(|| {
            INVOICE_TYPES
                .iter()
                .find(|t| type_key(t) == billing)
                .map(|t| (*t).to_owned())
        })
        .unwrap_or_else(|| invoices.default_type.clone())
}

fn midnight(date: Option<time::Date>) -> Option<OffsetDateTime> {
    date.map(|d| d.with_time(Time::MIDNIGHT).assume_utc())
}

/// The ConnectWise invoice `invoice` should be, for the company `company_id` (billed to
/// `bill_to`, the bill-to account's company, when that is another one: seed 003's
/// `BillingAccount` → Bill To Company).
pub fn desired_invoice(
    invoice: &BillingInvoice,
    company_id: i64,
    bill_to: Option<i64>,
    settings: &DocumentSettings,
) -> Invoice {
    Invoice {
        bill_to_company: bill_to.filter(|&b| b != company_id).map(|id| Reference {
            id: Some(id),
            ..Reference::default()
        }),
        invoice_number: Some(invoice.number.trim().to_owned()),
        kind: Some(invoice_type(invoice, settings)),
        company: Some(Reference {
            id: Some(company_id),
            ..Reference::default()
        }),
        date: midnight(invoice.invoice_date),
        due_date: midnight(invoice.due_date),
        ..Invoice::default()
    }
}

/// The fields of `current` that differ from `desired` (`never`: the tenant's
/// `neverOverwrite.invoices`). The company is never moved: an invoice of another company is
/// reported by the caller instead.
pub fn invoice_changes(current: &Invoice, desired: &Invoice, never: &[String]) -> Vec<PatchOp> {
    plan_patch(current, desired, &[never], &["company"], &[])
}

/// The stamp of what exporting `invoice` writes: its values (not its balance, status or
/// `updatedAt`, which ConnectWise does not take), the company, the catalog items its lines found
/// (`catalog`, in order), and the settings that shape it.
pub fn invoice_stamp(
    invoice: &BillingInvoice,
    company_id: Option<i64>,
    bill_to: Option<i64>,
    settings: &DocumentSettings,
    never: &[String],
) -> String {
    fingerprint(&json!({
        "number": invoice.number,
        "type": invoice_type(invoice, settings),
        "accountId": invoice.account_id,
        "date": invoice.invoice_date.map(|d| d.to_string()),
        "due": invoice.due_date.map(|d| d.to_string()),
        "items": invoice.items,
        "company": company_id,
        "billTo": bill_to.filter(|&b| Some(b) != company_id),
        "never": never,
    }))
}

/// Whether ConnectWise's invoice is posted to accounting (then it is never changed).
pub fn is_posted(invoice: &Invoice) -> bool {
    invoice
        .gl_batch
        .as_ref()
        .is_some_and(|b| b.id.is_some() || b.identifier.is_some() || b.name.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use time::macros::{date, datetime};

    fn invoice() -> BillingInvoice {
        BillingInvoice {
            id: "INV-B-1".to_owned(),
            number: " 10042 ".to_owned(),
            invoice_type: Some("credit-note".to_owned()),
            status: "Open".to_owned(),
            account_id: "A-1".to_owned(),
            bill_to_account_id: None,
            currency: None,
            invoice_date: Some(date!(2026 - 12 - 01)),
            due_date: Some(date!(2026 - 12 - 31)),
            total: Decimal::from(100),
            balance: Decimal::from(100),
            items: Vec::new(),
            updated_at: datetime!(2026-12-01 10:00 UTC),
        }
    }

    #[test]
    fn an_invoice_takes_its_type_from_the_settings_and_its_dates_at_midnight() {
        let settings = DocumentSettings::default();
        let desired = desired_invoice(&invoice(), 7, None, &settings);
        assert_eq!(desired.kind.as_deref(), Some("CreditMemo"));
        assert_eq!(desired.invoice_number.as_deref(), Some("10042"));
        assert_eq!(desired.date, Some(datetime!(2026-12-01 0:00 UTC)));
        let mut plain = invoice();
        plain.invoice_type = None;
        assert_eq!(invoice_type(&plain, &settings), "Standard");
        plain.invoice_type = Some("Credit Memo".to_owned());
        assert_eq!(invoice_type(&plain, &settings), "CreditMemo");
        plain.invoice_type = Some("down_payment".to_owned());
        assert_eq!(invoice_type(&plain, &settings), "DownPayment");
        plain.invoice_type = Some("Rental".to_owned());
        assert_eq!(invoice_type(&plain, &settings), "Standard");
    }

    #[test]
    fn the_stamp_ignores_the_balance_but_follows_the_items_and_the_company() {
        let settings = DocumentSettings::default();
        let base = invoice_stamp(&invoice(), Some(7), None, &settings, &[]);
        let mut paid = invoice();
        paid.balance = Decimal::ZERO;
        paid.status = "Paid".to_owned();
        paid.updated_at = datetime!(2026-12-02 10:00 UTC);
        assert_eq!(invoice_stamp(&paid, Some(7), None, &settings, &[]), base);
        assert_ne!(
            invoice_stamp(&invoice(), Some(8), None, &settings, &[]),
            base
        );
        assert_ne!(
            invoice_stamp(&invoice(), Some(7), Some(9), &settings, &[]),
            base
        );
        let billed = desired_invoice(&invoice(), 7, Some(9), &settings);
        assert_eq!(billed.bill_to_company.and_then(|c| c.id), Some(9));
        assert!(
            desired_invoice(&invoice(), 7, Some(7), &settings)
                .bill_to_company
                .is_none()
        );
        let mut changed = invoice();
        changed.due_date = Some(date!(2027 - 01 - 15));
        assert_ne!(invoice_stamp(&changed, Some(7), None, &settings, &[]), base);
    }

    #[test]
    fn only_changed_fields_are_patched_and_the_company_never() {
        let settings = DocumentSettings::default();
        let desired = desired_invoice(&invoice(), 7, None, &settings);
        let mut current = desired.clone();
        current.id = Some(5);
        current.company = Some(Reference {
            id: Some(9),
            ..Reference::default()
        });
        assert!(invoice_changes(&current, &desired, &[]).is_empty());
        current.due_date = Some(datetime!(2026-12-20 0:00 UTC));
        let ops = invoice_changes(&current, &desired, &[]);
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].path, "/dueDate");
        assert!(invoice_changes(&current, &desired, &["dueDate".to_owned()]).is_empty());
    }
}
