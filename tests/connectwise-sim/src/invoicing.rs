//! What ConnectWise checks and computes on the billing documents issue 11 writes and reads:
//! invoices, their one payment, products placed on invoices, sales orders and opportunities,
//! and company custom fields.
//!
//! - An invoice gets the next invoice number when the create names none; an `Agreement` invoice
//!   must name an agreement of its own company. Its totals follow its products and its payment.
//! - ConnectWise keeps **one payment per invoice**: a second `POST …/payments` is refused and the
//!   payment is changed instead (seed 003). A payment needs a positive amount no larger than the
//!   invoice's total.
//! - An invoice posted to accounting (it has a `glBatch`) is never changed, nor are its products.
//! - A product's extended price, cost and margin follow its price, cost and quantity.
//! - An opportunity whose status is closed (won or lost) is stamped `closedDate`/`closedBy`.
//! - A company's `customFields` are the instance's company custom fields (seeded at
//!   `/system/userDefinedFields`): a write names fields by `id`, values keep their type, and the
//!   fields a write leaves out keep their values.
//!
//! The defaults (status, dates, bill-to company…) are rows of the `defaults` table; this module
//! holds the rules a table cannot say. Each rule and how sure it is is in the README ("Invoices,
//! payments, sales orders and opportunities").
use serde_json::{Map, Value};

use crate::agreements::{cents, id_of};
use crate::error::FieldError;
use crate::state::Inner;

/// Invoices.
pub const INVOICES: &str = "/finance/invoices";
/// The payments of an invoice (at most one).
pub const PAYMENTS: &str = "/finance/invoices/{parentId}/payments";
/// Products: on tickets, invoices, sales orders and opportunities.
pub const PRODUCTS: &str = "/procurement/products";
/// Opportunities.
pub const OPPORTUNITIES: &str = "/sales/opportunities";
const OPPORTUNITY_STATUSES: &str = "/sales/opportunities/statuses";
const AGREEMENTS: &str = "/finance/agreements";
const COMPANIES: &str = "/company/companies";
const MEMBERS: &str = "/system/members";
/// The instance's custom field definitions (seed-only: not in the API subset).
pub const CUSTOM_FIELDS: &str = "/system/userDefinedFields";
/// The message ConnectWise's restriction is known by (seed 003).
pub const ONE_PAYMENT: &str = "ConnectWise supports only one payment per invoice.";

fn number(value: &Value, field: &str) -> f64 {
    value.get(field).and_then(Value::as_f64).unwrap_or(0.0)
}

/// One write's context for [`check`].
pub struct Write<'a> {
    pub storage: &'a str,
    pub existing: Option<&'a Value>,
    pub record: &'a Map<String, Value>,
    pub resource: &'a str,
    /// The parent of a child record (the invoice of a payment).
    pub parent: Option<i64>,
}

/// The checks of one write, before anything is stored; every problem names its field.
pub fn check(inner: &Inner, w: &Write<'_>) -> Vec<FieldError> {
    let invalid =
        |field: &str, message: String| FieldError::new("InvalidField", message, w.resource, field);
    let mut errors = Vec::new();
    match w.storage {
        INVOICES => {
            if let Some(batch) = w.existing.and_then(posted_batch) {
                errors.push(invalid(
                    "glBatch",
                    format!("The invoice has been posted to accounting (batch {batch}) and cannot be changed."),
                ));
            }
            let is_agreement = w
                .record
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("Agreement"));
            match (is_agreement, id_of(w.record, "agreement")) {
                (true, None) => errors.push(FieldError::new(
                    "MissingRequiredField",
                    "An invoice of type Agreement requires an agreement.",
                    w.resource,
                    "agreement",
                )),
                (_, Some(agreement)) => {
                    let of = inner
                        .store
                        .get(AGREEMENTS, agreement)
                        .and_then(|a| a.value.get("company")?.get("id")?.as_i64());
                    let company = id_of(w.record, "company");
                    if of.is_some() && of != company {
                        errors.push(invalid(
                            "agreement",
                            format!(
                                "The field agreement refers to agreement {agreement}, which is not an agreement of company {}.",
                                company.unwrap_or_default()
                            ),
                        ));
                    }
                }
                (false, None) => {}
            }
        }
        PAYMENTS => {
            if w.existing.is_none()
                && let Some(invoice) = w.parent
                && !inner.store.list(PAYMENTS, Some(invoice)).is_empty()
            {
                errors.push(invalid(
                    "invoice",
                    format!(
                        "{ONE_PAYMENT} Invoice {invoice} already has a payment; update it instead."
                    ),
                ));
            }
            match w.record.get("amount").and_then(Value::as_f64) {
                None => errors.push(FieldError::new(
                    "MissingRequiredField",
                    "The field amount is required.",
                    w.resource,
                    "amount",
                )),
                Some(amount) if amount <= 0.0 => errors.push(invalid(
                    "amount",
                    format!("The field amount must be greater than 0; it is {amount}."),
                )),
                Some(amount) => {
                    let total = w
                        .parent
                        .and_then(|i| inner.store.get(INVOICES, i))
                        .and_then(|i| i.value.get("total").and_then(Value::as_f64));
                    if let Some(total) = total
                        && amount > total + 0.005
                    {
                        errors.push(invalid(
                            "amount",
                            format!("The payment amount {amount} is more than the invoice total {total}."),
                        ));
                    }
                }
            }
        }
        PRODUCTS => {
            // Neither the invoice a product is put on nor the one it leaves may be posted.
            let invoices = [
                id_of(w.record, "invoice"),
                w.existing
                    .and_then(Value::as_object)
                    .and_then(|e| id_of(e, "invoice")),
            ];
            for invoice in invoices.into_iter().flatten() {
                if let Some(batch) = inner
                    .store
                    .get(INVOICES, invoice)
                    .and_then(|row| posted_batch(&row.value))
                {
                    errors.push(invalid(
                        "invoice",
                        format!("Invoice {invoice} has been posted to accounting (batch {batch}); its products cannot be changed."),
                    ));
                    break;
                }
            }
        }
        COMPANIES => errors.extend(check_custom_fields(inner, w.record, w.resource)),
        _ => {}
    }
    errors
}

/// Why a record may not be deleted: a product on a posted invoice stays.
pub fn check_delete(inner: &Inner, storage: &str, record: &Value) -> Option<FieldError> {
    if storage != PRODUCTS {
        return None;
    }
    let invoice = record.get("invoice")?.get("id")?.as_i64()?;
    let batch = posted_batch(&inner.store.get(INVOICES, invoice)?.value)?;
    Some(FieldError::new(
        "InvalidField",
        format!(
            "Invoice {invoice} has been posted to accounting (batch {batch}); its products cannot be removed."
        ),
        "product",
        "invoice",
    ))
}

/// The accounting batch a stored invoice was posted in, if it was (`glBatch`).
fn posted_batch(invoice: &Value) -> Option<String> {
    let batch = invoice.get("glBatch")?;
    Some(match batch.get("id").and_then(Value::as_i64) {
        Some(id) => id.to_string(),
        None => batch.get("name")?.as_str()?.to_string(),
    })
}

/// The instance's custom fields of companies (none when none were seeded).
fn company_custom_fields(inner: &Inner) -> Vec<Map<String, Value>> {
    inner
        .store
        .list(CUSTOM_FIELDS, None)
        .into_iter()
        .filter(|(_, row)| row.value.get("screenId").and_then(Value::as_str) == Some("Company"))
        .filter_map(|(_, row)| row.value.as_object().cloned())
        .collect()
}

/// Whether `value` fits a custom field of `kind` (its `type`).
fn fits(kind: &str, value: &Value) -> bool {
    match kind {
        "Checkbox" => value.is_boolean(),
        "Number" | "Currency" | "Percent" => value.is_number(),
        "Date" => value
            .as_str()
            .is_some_and(|s| crate::validate::parse_datetime(s).is_some()),
        _ => value.is_string(),
    }
}

fn check_custom_fields(
    inner: &Inner,
    record: &Map<String, Value>,
    resource: &str,
) -> Vec<FieldError> {
    let definitions = company_custom_fields(inner);
    let Some(given) = record.get("customFields").and_then(Value::as_array) else {
        return Vec::new();
    };
    if definitions.is_empty() {
        return Vec::new();
    }
    let mut errors = Vec::new();
    for entry in given {
        let Some(id) = entry.get("id").and_then(Value::as_i64) else {
            errors.push(FieldError::new(
                "InvalidField",
                "Each custom field must name its id.",
                resource,
                "customFields",
            ));
            continue;
        };
        let Some(def) = definitions
            .iter()
            .find(|d| d.get("id").and_then(Value::as_i64) == Some(id))
        else {
            errors.push(FieldError::new(
                "InvalidField",
                format!("The custom field with id {id} is not a custom field of companies."),
                resource,
                "customFields",
            ));
            continue;
        };
        let kind = def.get("type").and_then(Value::as_str).unwrap_or("Text");
        match entry.get("value") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(value) if fits(kind, value) => {}
            Some(value) => errors.push(FieldError::new(
                "InvalidField",
                format!(
                    "The value {value} of custom field {id} ({}) is not a valid {kind} value.",
                    def.get("caption").and_then(Value::as_str).unwrap_or("")
                ),
                resource,
                "customFields",
            )),
        }
    }
    errors
}

/// A company's custom fields after a write: every defined field once, in the definitions'
/// order, carrying its definition's caption and type; a value the write gave wins, else the
/// stored one; an empty value has no `value` key.
fn merge_custom_fields(inner: &Inner, existing: Option<&Value>, record: &mut Map<String, Value>) {
    let definitions = company_custom_fields(inner);
    if definitions.is_empty() {
        return;
    }
    let value_in = |fields: Option<&Value>, id: i64| -> Option<Option<Value>> {
        fields?
            .as_array()?
            .iter()
            .find(|e| e.get("id").and_then(Value::as_i64) == Some(id))
            .map(|e| e.get("value").cloned())
    };
    let given = record.get("customFields").cloned();
    let stored = existing.and_then(|e| e.get("customFields")).cloned();
    let mut out = Vec::new();
    for def in definitions {
        let Some(id) = def.get("id").and_then(Value::as_i64) else {
            continue;
        };
        let value = match value_in(given.as_ref(), id) {
            Some(v) => v,
            None => value_in(stored.as_ref(), id).flatten(),
        };
        let mut entry = Map::new();
        entry.insert("id".into(), Value::from(id));
        for key in ["caption", "type", "entryMethod", "numberOfDecimals"] {
            if let Some(v) = def.get(key) {
                entry.insert(key.into(), v.clone());
            }
        }
        match value {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v) => {
                entry.insert("value".into(), v);
            }
        }
        out.push(Value::Object(entry));
    }
    record.insert("customFields".into(), Value::Array(out));
}

/// The member writing, as a reference (`closedBy`).
fn member_reference(inner: &Inner, identifier: &str) -> Option<Value> {
    inner
        .store
        .list(MEMBERS, None)
        .into_iter()
        .find(|(_, row)| {
            row.value
                .get("identifier")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case(identifier))
        })
        .map(|(id, row)| {
            let mut r = Map::new();
            r.insert("id".into(), Value::from(id));
            if let Some(i) = row.value.get("identifier") {
                r.insert("identifier".into(), i.clone());
            }
            if let Some(n) = row.value.get("name") {
                r.insert("name".into(), n.clone());
            }
            Value::Object(r)
        })
}

/// Whether an opportunity status closes the opportunity.
fn closes(inner: &Inner, status: Option<i64>) -> bool {
    status
        .and_then(|s| inner.store.get(OPPORTUNITY_STATUSES, s))
        .is_some_and(|row| {
            ["closedFlag", "wonFlag", "lostFlag"]
                .iter()
                .any(|f| row.value.get(*f).and_then(Value::as_bool) == Some(true))
        })
}

/// Values computed on every write, after the defaults.
pub fn compute(
    inner: &Inner,
    storage: &str,
    existing: Option<&Value>,
    record: &mut Map<String, Value>,
    actor: &str,
    now: &str,
) {
    match storage {
        PRODUCTS => {
            let q = record.get("quantity").and_then(Value::as_f64);
            let price = record.get("price").and_then(Value::as_f64);
            let cost = record.get("cost").and_then(Value::as_f64);
            if let Some(q) = q {
                let ext_price = price.unwrap_or(0.0) * q;
                let ext_cost = cost.unwrap_or(0.0) * q;
                record.insert("extPrice".into(), cents(ext_price));
                record.insert("extCost".into(), cents(ext_cost));
                record.insert("margin".into(), cents(ext_price - ext_cost));
            }
        }
        OPPORTUNITIES => {
            let now_closed = closes(inner, id_of(record, "status"));
            let was_closed = existing
                .and_then(Value::as_object)
                .is_some_and(|e| closes(inner, id_of(e, "status")));
            if now_closed {
                if !was_closed || record.get("closedDate").is_none() {
                    record.insert("closedDate".into(), Value::String(now.to_string()));
                }
                if (!was_closed || record.get("closedBy").is_none())
                    && let Some(member) = member_reference(inner, actor)
                {
                    record.insert("closedBy".into(), member);
                }
            } else {
                record.remove("closedDate");
                record.remove("closedBy");
            }
        }
        COMPANIES => merge_custom_fields(inner, existing, record),
        _ => {}
    }
}

/// The next free invoice number: ConnectWise numbers invoices from a counter (the sample's
/// `INV-1001` shape); numbers a client gave are skipped.
pub fn next_invoice_number(inner: &Inner) -> String {
    let taken: Vec<String> = inner
        .store
        .list(INVOICES, None)
        .into_iter()
        .filter_map(|(_, row)| {
            row.value
                .get("invoiceNumber")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase)
        })
        .collect();
    let mut n = 1000 + taken.len() + 1;
    loop {
        let candidate = format!("INV-{n}");
        if !taken.contains(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

/// The invoice a stored record of `storage` belongs to (a payment's parent, a product's
/// `invoice`), so its totals can follow.
pub fn invoice_of(storage: &str, parent: Option<i64>, record: &Value) -> Option<i64> {
    match storage {
        PAYMENTS => parent,
        PRODUCTS => record.get("invoice")?.get("id")?.as_i64(),
        INVOICES => record.get("id")?.as_i64(),
        _ => None,
    }
}

/// Recomputes an invoice's totals from its products and its payment: `productTotal` is the sum
/// of its products' `extPrice` (kept as stored while it has none), `subtotal` the sum of the
/// service, expense, product and agreement amounts, `total` adds `salesTax`, `payments` is the
/// payment's amount and `balance` what is left after payments and credits. The invoice's
/// `lastUpdated` does not move (the totals are derived).
pub fn follow_invoice(inner: &mut Inner, invoice: i64) {
    let products: Vec<f64> = inner
        .store
        .list(PRODUCTS, None)
        .into_iter()
        .filter(|(_, row)| {
            row.value
                .get("invoice")
                .and_then(|i| i.get("id"))
                .and_then(Value::as_i64)
                == Some(invoice)
        })
        .map(|(_, row)| number(&row.value, "extPrice"))
        .collect();
    let paid: f64 = inner
        .store
        .list(PAYMENTS, Some(invoice))
        .into_iter()
        .map(|(_, row)| number(&row.value, "amount"))
        .sum();
    let Some(row) = inner.store.get(INVOICES, invoice) else {
        return;
    };
    let parent = row.parent;
    let mut value = row.value.clone();
    let Some(map) = value.as_object_mut() else {
        return;
    };
    if !products.is_empty() {
        map.insert("productTotal".into(), cents(products.iter().sum()));
    }
    let v = Value::Object(map.clone());
    let parts = [
        "serviceTotal",
        "expenseTotal",
        "productTotal",
        "agreementAmount",
    ];
    // An invoice written with only its total (no parts) keeps that total.
    let total = if parts.iter().any(|f| v.get(*f).is_some()) {
        let subtotal = parts.iter().map(|f| number(&v, f)).sum::<f64>();
        map.insert("subtotal".into(), cents(subtotal));
        let total = subtotal + number(&v, "salesTax");
        map.insert("total".into(), cents(total));
        total
    } else {
        number(&v, "total")
    };
    map.insert("payments".into(), cents(paid));
    map.insert(
        "balance".into(),
        cents(total - paid - number(&v, "credits")),
    );
    inner.store.put(INVOICES, invoice, parent, value);
    // A payment shows the invoice's figures as they stand after it.
    let payments: Vec<(i64, Value)> = inner
        .store
        .list(PAYMENTS, Some(invoice))
        .into_iter()
        .map(|(id, row)| (id, row.value.clone()))
        .collect();
    for (id, mut payment) in payments {
        if let Some(p) = payment.as_object_mut() {
            p.insert("invoiceTotal".into(), cents(total));
            p.insert(
                "invoiceBalance".into(),
                cents(total - paid - number(&v, "credits")),
            );
        }
        inner.store.put(PAYMENTS, id, Some(invoice), payment);
    }
}
