//! Billing payments → the one payment ConnectWise keeps per invoice
//! (`/finance/invoices/{id}/payments`, seed 003).
//!
//! All payments and refunds (negative amounts) of one billing invoice are summed into that one
//! payment: created when the invoice has none, its amount and date changed when another payment
//! arrives or one is refunded, removed when the refunds bring the sum to zero. Never two payments
//! for one invoice.

use std::collections::BTreeMap;

use cwsync_billing::models::Payment;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{InvoicePayment, Reference};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use time::{Date, OffsetDateTime, Time};

use crate::fingerprint;

/// What a billing invoice's payments add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTotal {
    /// The billing invoice.
    pub invoice_id: String,
    /// The sum of its payments less its refunds.
    pub amount: Decimal,
    /// The latest payment's date.
    pub date: Date,
    /// The payments and refunds summed (their ids, in order).
    pub payment_ids: Vec<String>,
}

impl PaymentTotal {
    /// The stamp of what syncing it writes.
    pub fn stamp(&self) -> String {
        fingerprint(
            &json!({"amount": self.amount.normalize(), "date": self.date.to_string(),
                            "invoice": self.invoice_id}),
        )
    }

    /// The payment ConnectWise should hold: `None` when the sum is zero or less (fully
    /// refunded).
    pub fn desired(&self, invoice: i64) -> Option<InvoicePayment> {
        (self.amount > Decimal::ZERO).then(|| InvoicePayment {
            invoice: Some(Reference {
                id: Some(invoice),
                ..Reference::default()
            }),
            amount: Some(self.amount),
            payment_date: Some(self.date.with_time(Time::MIDNIGHT).assume_utc()),
            ..InvoicePayment::default()
        })
    }
}

/// The payments of each invoice, summed (refunds subtract).
pub fn totals(payments: &[Payment]) -> BTreeMap<String, PaymentTotal> {
    let mut out: BTreeMap<String, PaymentTotal> = BTreeMap::new();
    for payment in payments {
        let total = out
            .entry(payment.invoice_id.clone())
            .or_insert_with(|| PaymentTotal {
                invoice_id: payment.invoice_id.clone(),
                amount: Decimal::ZERO,
                date: payment.payment_date,
                payment_ids: Vec::new(),
            });
        total.amount += payment.amount;
        total.date = total.date.max(payment.payment_date);
        total.payment_ids.push(payment.id.clone());
    }
    out
}

/// What the invoice's ConnectWise payment needs.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentAction {
    /// It is as it should be.
    Keep,
    /// Create it.
    Create(Box<InvoicePayment>),
    /// Change it: its id and the fields that differ.
    Update(i64, Vec<PatchOp>),
    /// Remove it (the payments were refunded).
    Delete(i64),
}

fn same_day(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> bool {
    a.map(OffsetDateTime::date) == b.map(OffsetDateTime::date)
}

/// What makes ConnectWise invoice `invoice`'s payment (`current`) show `total`.
pub fn payment_action(
    total: &PaymentTotal,
    invoice: i64,
    current: Option<&InvoicePayment>,
) -> PaymentAction {
    match (total.desired(invoice), current) {
        (None, None) => PaymentAction::Keep,
        (None, Some(current)) => current
            .id
            .map_or(PaymentAction::Keep, PaymentAction::Delete),
        (Some(desired), None) => PaymentAction::Create(Box::new(desired)),
        (Some(desired), Some(current)) => {
            let mut ops = Vec::new();
            if current.amount.map(|a| a.normalize()) != desired.amount.map(|a| a.normalize()) {
                ops.push(PatchOp::replace("amount", json!(desired.amount)));
            }
            if !same_day(current.payment_date, desired.payment_date) {
                let date = desired.payment_date.map(|d| d.date().to_string());
                ops.push(PatchOp::replace(
                    "paymentDate",
                    json!(date.map(|d| format!("{d}T00:00:00Z"))),
                ));
            }
            match current.id {
                Some(id) if !ops.is_empty() => PaymentAction::Update(id, ops),
                _ => PaymentAction::Keep,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn payment(id: &str, invoice: &str, amount: i64, date: Date) -> Payment {
        Payment {
            id: id.to_owned(),
            account_id: "A-1".to_owned(),
            invoice_id: invoice.to_owned(),
            payment_type: "Check".to_owned(),
            amount: Decimal::from(amount),
            payment_date: date,
            reference: None,
            updated_at: datetime!(2026-11-05 10:00 UTC),
        }
    }

    #[test]
    fn payments_and_refunds_of_an_invoice_are_summed_into_one() {
        let totals = totals(&[
            payment("P-1", "I-1", 200, date!(2026 - 11 - 05)),
            payment("P-2", "I-1", 110, date!(2026 - 11 - 06)),
            payment("P-3", "I-1", -20, date!(2026 - 11 - 07)),
            payment("P-4", "I-2", 100, date!(2026 - 11 - 08)),
        ]);
        let one = &totals["I-1"];
        assert_eq!(one.amount, Decimal::from(290));
        assert_eq!(one.date, date!(2026 - 11 - 07));
        assert_eq!(one.payment_ids, ["P-1", "P-2", "P-3"]);
        assert_eq!(totals["I-2"].amount, Decimal::from(100));
    }

    #[test]
    fn the_one_payment_is_created_changed_kept_or_removed() {
        let mut total = totals(&[payment("P-1", "I-1", 200, date!(2026 - 11 - 05))])["I-1"].clone();
        let PaymentAction::Create(created) = payment_action(&total, 7, None) else {
            panic!("a first payment is created");
        };
        assert_eq!(created.amount, Some(Decimal::from(200)));
        let mut current = created.clone();
        current.id = Some(3);
        assert_eq!(
            payment_action(&total, 7, Some(&current)),
            PaymentAction::Keep
        );
        // Another payment arrives: the one payment's amount and date change.
        total.amount += Decimal::from(50);
        total.date = date!(2026 - 11 - 09);
        let PaymentAction::Update(3, ops) = payment_action(&total, 7, Some(&current)) else {
            panic!("a later payment changes the one payment");
        };
        let fields: Vec<&str> = ops.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(fields, ["/amount", "/paymentDate"]);
        // Everything refunded: the payment goes.
        total.amount = Decimal::ZERO;
        assert_eq!(
            payment_action(&total, 7, Some(&current)),
            PaymentAction::Delete(3)
        );
        assert_eq!(payment_action(&total, 7, None), PaymentAction::Keep);
    }

    #[test]
    fn the_stamp_follows_the_sum_not_how_it_was_reached() {
        let a = totals(&[payment("P-1", "I-1", 300, date!(2026 - 11 - 05))]);
        let b = totals(&[
            payment("P-1", "I-1", 200, date!(2026 - 11 - 05)),
            payment("P-2", "I-1", 100, date!(2026 - 11 - 05)),
        ]);
        assert_eq!(a["I-1"].stamp(), b["I-1"].stamp());
        let c = totals(&[payment("P-1", "I-1", 301, date!(2026 - 11 - 05))]);
        assert_ne!(a["I-1"].stamp(), c["I-1"].stamp());
    }
}
