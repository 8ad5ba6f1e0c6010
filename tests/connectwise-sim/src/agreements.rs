//! What ConnectWise checks and computes on catalog items, agreements and agreement additions, the
//! records the daily export writes: a catalog item's category follows its subcategory and its
//! class its product type; an agreement's contact and site belong to its company, its end date
//! follows its start, and its status comes from its dates and its cancelled flag; an addition's
//! product may not be a bundle or inactive, its cancel date follows its effective date, and its
//! extended price, cost, margin, billed quantity, sequence number and agreement status are
//! computed. The defaults taken from the agreement type, the company and the product are in the
//! `defaults` table; this module holds the rules a table cannot say. Each rule and how sure it is
//! is in the README ("Catalog items, agreements and additions").
use serde_json::{Map, Value};

use crate::error::FieldError;
use crate::state::{Inner, SimState};
use crate::writes::{reference_of, referenced, today};

/// The product catalog.
pub const CATALOG: &str = "/procurement/catalog";
/// Agreements.
pub const AGREEMENTS: &str = "/finance/agreements";
/// The additions of an agreement.
pub const ADDITIONS: &str = "/finance/agreements/{parentId}/additions";
const SUBCATEGORIES: &str = "/procurement/subcategories";
const CATEGORIES: &str = "/procurement/categories";
const CONTACTS: &str = "/company/contacts";
const SITES: &str = "/company/companies/{parentId}/sites";

/// The id a reference field of `record` points at.
pub(crate) fn id_of(record: &Map<String, Value>, field: &str) -> Option<i64> {
    record.get(field)?.get("id")?.as_i64()
}

fn number(record: &Map<String, Value>, field: &str) -> Option<f64> {
    record.get(field).and_then(Value::as_f64)
}

/// The `YYYY-MM-DD` part of a stored timestamp.
fn day(record: &Map<String, Value>, field: &str) -> Option<String> {
    record
        .get(field)
        .and_then(Value::as_str)
        .and_then(|t| t.get(..10))
        .map(str::to_string)
}

/// Money and quantities as ConnectWise shows them: two decimals.
pub(crate) fn cents(value: f64) -> Value {
    Value::from((value * 100.0).round() / 100.0)
}

/// The checks of one write, before anything is stored; every problem names its field.
pub fn check(
    state: &SimState,
    inner: &Inner,
    storage: &str,
    existing: Option<&Value>,
    record: &Map<String, Value>,
    resource: &str,
    now: &str,
) -> Vec<FieldError> {
    let invalid =
        |field: &str, message: String| FieldError::new("InvalidField", message, resource, field);
    let mut errors = Vec::new();
    match storage {
        CATALOG => {
            let given = id_of(record, "category");
            let unchanged = given.is_some()
                && existing
                    .and_then(|e| e.get("category"))
                    .and_then(|c| c.get("id"))
                    .and_then(Value::as_i64)
                    == given;
            let belongs = subcategory_category(inner, record);
            if let (Some(given), Some(belongs), false) = (given, belongs, unchanged)
                && given != belongs
            {
                errors.push(invalid(
                    "subcategory",
                    format!(
                        "The field subcategory must be a subcategory of category {given}; subcategory {} belongs to category {belongs}.",
                        id_of(record, "subcategory").unwrap_or_default()
                    ),
                ));
            }
        }
        AGREEMENTS => {
            let company = id_of(record, "company");
            if let (Some(company), Some(contact)) = (company, id_of(record, "contact")) {
                let of = inner
                    .store
                    .get(CONTACTS, contact)
                    .and_then(|c| c.value.get("company")?.get("id")?.as_i64());
                if of != Some(company) {
                    errors.push(invalid(
                        "contact",
                        format!("The field contact refers to contact {contact}, who is not a contact of company {company}."),
                    ));
                }
            }
            if let (Some(company), Some(site)) = (company, id_of(record, "site")) {
                let of = inner.store.get(SITES, site).and_then(|s| s.parent);
                if of != Some(company) {
                    errors.push(invalid(
                        "site",
                        format!("The field site refers to site {site}, which is not a site of company {company}."),
                    ));
                }
            }
            let start = day(record, "startDate").unwrap_or_else(|| today(now));
            if let Some(end) = day(record, "endDate")
                && end.as_str() < start.get(..10).unwrap_or(&start)
            {
                errors.push(invalid(
                    "endDate",
                    format!("The field endDate ({end}) must not be before startDate."),
                ));
            }
        }
        ADDITIONS => {
            let changed_product = existing
                .and_then(|e| e.get("product"))
                .and_then(|p| p.get("id"))
                .and_then(Value::as_i64)
                != id_of(record, "product");
            let product = referenced(state, inner, "Addition", "product", record);
            if let (true, Some(product)) = (changed_product, product) {
                let identifier = product
                    .get("identifier")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if product.get("productClass").and_then(Value::as_str) == Some("Bundle") {
                    errors.push(invalid(
                        "product",
                        format!("The field product refers to {identifier}, a bundle: bundle products cannot be agreement additions."),
                    ));
                }
                if product.get("inactiveFlag").and_then(Value::as_bool) == Some(true) {
                    errors.push(invalid(
                        "product",
                        format!("The field product refers to {identifier}, which is inactive."),
                    ));
                }
            }
            let effective = day(record, "effectiveDate").unwrap_or_else(|| today(now));
            if let Some(cancelled) = day(record, "cancelledDate")
                && cancelled.as_str() < effective.get(..10).unwrap_or(&effective)
            {
                errors.push(invalid(
                    "cancelledDate",
                    format!(
                        "The field cancelledDate ({cancelled}) must not be before effectiveDate."
                    ),
                ));
            }
        }
        _ => {}
    }
    errors
}

/// The category of the subcategory a catalog item names.
fn subcategory_category(inner: &Inner, record: &Map<String, Value>) -> Option<i64> {
    let sub = inner
        .store
        .get(SUBCATEGORIES, id_of(record, "subcategory")?)?;
    sub.value.get("category")?.get("id")?.as_i64()
}

/// The values ConnectWise computes, on every write once the defaults are in.
pub fn compute(
    state: &SimState,
    inner: &Inner,
    storage: &str,
    record: &mut Map<String, Value>,
    now: &str,
) {
    match storage {
        CATALOG => {
            if let Some(category) = subcategory_category(inner, record)
                && let Some(reference) = reference_of(
                    state,
                    inner,
                    "ProductCategoryReference",
                    CATEGORIES,
                    category,
                )
            {
                record.insert("category".into(), reference);
            }
            if !record.contains_key("productClass") {
                let class = referenced(state, inner, "CatalogItem", "type", record)
                    .and_then(|t| {
                        t.get("typeXref")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .map(|xref| match xref.as_str() {
                        "InventoryPart" => "Inventory",
                        "Service" => "Service",
                        _ => "NonInventory",
                    })
                    .unwrap_or("NonInventory");
                record.insert("productClass".into(), Value::String(class.into()));
            }
            for (flag, from, to) in [
                ("calculatedPriceFlag", "price", "calculatedPrice"),
                ("calculatedCostFlag", "cost", "calculatedCost"),
            ] {
                if record.get(flag).and_then(Value::as_bool) != Some(true)
                    && let Some(value) = record.get(from).cloned()
                {
                    record.insert(to.into(), value);
                }
            }
        }
        AGREEMENTS => {
            let cancelled = record.get("cancelledFlag").and_then(Value::as_bool) == Some(true);
            if cancelled {
                record
                    .entry("dateCancelled")
                    .or_insert_with(|| Value::String(now.to_string()));
            } else {
                record.remove("dateCancelled");
            }
            record.insert(
                "noEndingDateFlag".into(),
                Value::Bool(!record.contains_key("endDate")),
            );
            let status = agreement_status(record, now);
            record.insert("agreementStatus".into(), Value::String(status.into()));
        }
        ADDITIONS => {
            let quantity = number(record, "quantity").unwrap_or(0.0);
            let included = number(record, "lessIncluded").unwrap_or(0.0);
            let price = number(record, "unitPrice").unwrap_or(0.0);
            let cost = number(record, "unitCost").unwrap_or(0.0);
            let ext_price = (price * quantity * 100.0).round() / 100.0;
            let ext_cost = (cost * quantity * 100.0).round() / 100.0;
            record.insert("billedQuantity".into(), cents(quantity - included));
            record.insert("extPrice".into(), cents(ext_price));
            record.insert("extCost".into(), cents(ext_cost));
            record.insert("margin".into(), cents(ext_price - ext_cost));
            let agreement = record.get("agreementId").and_then(Value::as_i64);
            if let Some(status) = agreement
                .and_then(|a| inner.store.get(AGREEMENTS, a))
                .and_then(|a| a.value.get("agreementStatus").cloned())
            {
                record.insert("agreementStatus".into(), status);
            }
            if !record.contains_key("sequenceNumber") {
                let last = inner
                    .store
                    .list(ADDITIONS, agreement)
                    .into_iter()
                    .filter_map(|(_, row)| row.value.get("sequenceNumber").and_then(Value::as_f64))
                    .fold(0.0, f64::max);
                record.insert("sequenceNumber".into(), Value::from(last.floor() + 1.0));
            }
        }
        _ => {}
    }
}

/// Cancelled when cancelled; Expired once the end date has passed; Inactive before the start
/// date; otherwise Active.
fn agreement_status(record: &Map<String, Value>, now: &str) -> &'static str {
    let today = now.get(..10).unwrap_or(now);
    if record.get("cancelledFlag").and_then(Value::as_bool) == Some(true) {
        "Cancelled"
    } else if day(record, "endDate").is_some_and(|end| end.as_str() < today) {
        "Expired"
    } else if day(record, "startDate").is_some_and(|start| start.as_str() > today) {
        "Inactive"
    } else {
        "Active"
    }
}

/// After an agreement changes, its additions show its new status (a display value: their
/// `_info.lastUpdated` does not move).
pub fn follow_agreement(inner: &mut Inner, agreement: i64) {
    let Some(status) = inner
        .store
        .get(AGREEMENTS, agreement)
        .and_then(|a| a.value.get("agreementStatus").cloned())
    else {
        return;
    };
    let rows: Vec<(i64, Value)> = inner
        .store
        .list(ADDITIONS, Some(agreement))
        .into_iter()
        .map(|(id, row)| (id, row.value.clone()))
        .collect();
    for (id, mut value) in rows {
        if let Value::Object(map) = &mut value {
            map.insert("agreementStatus".into(), status.clone());
        }
        inner.store.put(ADDITIONS, id, Some(agreement), value);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_agreement_status_follows_its_dates_and_cancel_flag() {
        let now = "2025-06-15T10:00:00Z";
        let status = |v: Value| agreement_status(&map(v), now);
        assert_eq!(
            status(json!({"startDate": "2025-01-01T00:00:00Z"})),
            "Active"
        );
        assert_eq!(
            status(json!({"startDate": "2025-06-15T00:00:00Z"})),
            "Active"
        );
        assert_eq!(
            status(json!({"startDate": "2025-07-01T00:00:00Z"})),
            "Inactive"
        );
        assert_eq!(
            status(json!({"startDate": "2024-01-01T00:00:00Z", "endDate": "2025-06-14T00:00:00Z"})),
            "Expired"
        );
        assert_eq!(
            status(json!({"startDate": "2024-01-01T00:00:00Z", "endDate": "2025-06-15T00:00:00Z"})),
            "Active"
        );
        assert_eq!(
            status(json!({"startDate": "2025-01-01T00:00:00Z", "cancelledFlag": true})),
            "Cancelled"
        );
    }

    #[test]
    fn money_is_kept_to_cents() {
        assert_eq!(cents(0.1 + 0.2), json!(0.3));
        assert_eq!(cents(264.0), json!(264.0));
    }
}
