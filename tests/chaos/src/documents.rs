//! The billing documents' share of the chaos world (the daily export's `export-documents`):
//! an invoice of each ordinary account with one to three items of the world's products, paid in
//! two parts; between document rounds the billing users change a share of the invoices (one
//! more of the first item) and record another small payment on them. The invoices run is
//! planned; its follow-up, the payments run, is sent by the run that finishes it.
//!
//! What must hold once the clean runs have run: one ConnectWise invoice per billing invoice (by
//! number), on its account's company, with one product per item holding its quantity, and one
//! ConnectWise payment per paid invoice holding the sum of its billing payments.

use std::collections::BTreeMap;

use cwsync_billing::models::{Invoice, Payment};
use cwsync_billing_sim::BillingSim;
use cwsync_store::TenantId;
use cwsync_store::links::{LinkStore, SourceRef};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::storm::Tenant;
use crate::world::{self, Shape, TenantData};

/// The kind the storm plans (payments follow it).
pub const INVOICES: &str = "invoices";

/// The document settings every tenant stores (merged into its settings).
pub fn settings() -> Value {
    json!({"export": {"invoices": true, "payments": true}})
}

/// An invoice of each ordinary account, paid in two parts.
pub fn seed(billing: &BillingSim, data: &TenantData) {
    let invoices = cwsync_billing_sim::generate::invoices(
        &world::ordinary_accounts(data),
        1,
        &world::enabled_products(),
        world::T0,
    );
    billing.seed_payments(cwsync_billing_sim::generate::payments(
        &invoices,
        2,
        world::T0,
    ));
    billing.seed_invoices(invoices);
}

fn total(invoice: &Invoice) -> Decimal {
    invoice.items.iter().map(|i| i.quantity * i.price).sum()
}

/// Before a later document `round`: a share of the invoices get one more of their first item
/// and another payment of 1.00 (well within what the item added).
pub fn change(billing: &BillingSim, shape: &Shape, index: usize, round: usize) {
    let mut rng = StdRng::seed_from_u64(shape.seed ^ ((index as u64) << 36) ^ (round as u64));
    let mut invoices = billing.invoices();
    invoices.sort_by(|a, b| a.id.cmp(&b.id));
    for invoice in invoices {
        if !rng.random_bool(shape.change_rate.clamp(0.0, 1.0)) {
            continue;
        }
        billing.modify_invoice(&invoice.id, |i| {
            if let Some(item) = i.items.first_mut() {
                item.quantity += Decimal::ONE;
            }
            let paid = i.total - i.balance;
            i.total = total(i);
            i.balance = i.total - paid;
        });
        billing.seed_payments(vec![Payment {
            id: format!("PAY-{}-R{round}", invoice.id),
            account_id: invoice.account_id.clone(),
            invoice_id: invoice.id.clone(),
            payment_type: "Check".to_owned(),
            amount: Decimal::ONE,
            payment_date: time::macros::date!(2026 - 11 - 25),
            reference: None,
            updated_at: world::T0 + time::Duration::hours(round as i64),
        }]);
    }
}

fn decimal(value: &Value) -> Decimal {
    value.to_string().parse().unwrap_or_default()
}

/// What the checks found wrong in `tenant`'s documents (empty when everything holds) and how many
/// invoices they verified (see the module docs).
pub async fn check(tenant: &Tenant, links: &dyn LinkStore) -> anyhow::Result<(Vec<String>, u64)> {
    let name = &tenant.data.tenant;
    let id = TenantId::parse(name)?;
    let mut findings = Vec::new();
    let cw_invoices = tenant.cw.records("/finance/invoices");
    let products = tenant.cw.records("/procurement/products");
    let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
    for payment in tenant.billing.payments() {
        *paid.entry(payment.invoice_id).or_default() += payment.amount;
    }
    let mut verified = 0;
    for invoice in tenant.billing.invoices() {
        verified += 1;
        let found: Vec<&Value> = cw_invoices
            .iter()
            .filter(|i| i["invoiceNumber"] == invoice.number.as_str())
            .collect();
        let [cw] = found.as_slice() else {
            findings.push(format!(
                "{name}: invoice {} (number {}) has {} ConnectWise invoices",
                invoice.id,
                invoice.number,
                found.len()
            ));
            continue;
        };
        let cw_id = cw["id"].as_i64().unwrap_or_default();
        let company = links
            .get(&id, SourceRef::new("company", &invoice.account_id))
            .await?
            .and_then(|l| l.cw_id);
        if cw["company"]["id"].as_i64() != company {
            findings.push(format!(
                "{name}: ConnectWise invoice {cw_id} of invoice {} is company {}'s, account {}'s \
                 is {company:?}",
                invoice.id, cw["company"]["id"], invoice.account_id
            ));
        }
        let mut have: Vec<Decimal> = products
            .iter()
            .filter(|p| p["invoice"]["id"] == cw_id)
            .map(|p| decimal(&p["quantity"]))
            .collect();
        let mut want: Vec<Decimal> = invoice.items.iter().map(|i| i.quantity).collect();
        have.sort();
        want.sort();
        if have != want {
            findings.push(format!(
                "{name}: ConnectWise invoice {cw_id} of invoice {} has products of {have:?}, its \
                 items {want:?}",
                invoice.id
            ));
        }
        let payments = tenant
            .cw
            .records(&format!("/finance/invoices/{cw_id}/payments"));
        let sum = paid.get(&invoice.id).copied().unwrap_or_default();
        let amounts: Vec<Decimal> = payments.iter().map(|p| decimal(&p["amount"])).collect();
        let right = if sum.is_zero() {
            amounts.is_empty()
        } else {
            amounts == [sum]
        };
        if !right {
            findings.push(format!(
                "{name}: ConnectWise invoice {cw_id} of invoice {} has payments {amounts:?}, the \
                 billing payments sum to {sum}",
                invoice.id
            ));
        }
    }
    Ok((findings, verified))
}
