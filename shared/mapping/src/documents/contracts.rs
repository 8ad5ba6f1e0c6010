//! ConnectWise agreement invoices → the billing contract of their agreement (seeds 000, Agreement
//! Sync).
//!
//! A contract bills one period at a time: the one of its agreement's latest invoice date. The
//! invoices of that date (two invoices of one agreement on one date are both applied, never one
//! skipped) make the contract's lines; an invoice of an older date finds its contract on a later
//! period and changes nothing. Each product becomes a line of the billing item whose SKU is the
//! product's catalog item identifier. A contract holds an item once, so the products of one item
//! are rolled up into one line: quantity 1, the amount their sum, the detail naming each. The
//! template is the one named exactly like the agreement type, else the tenant's default, and the
//! choice is said on the record's line.

use std::collections::{BTreeMap, HashMap};

use cwsync_billing::models::{Contract, ContractLine, ContractTemplate, ContractUpdate};
use cwsync_connectwise::models::{Invoice, ProductItem};
use rust_decimal::Decimal;
use serde_json::json;
use time::{Date, Month};

use super::AgreementInvoicePull;
use crate::fingerprint;

/// The ConnectWise invoice type pulled.
pub const AGREEMENT_TYPE: &str = "Agreement";

/// The external reference of an agreement's contract (`cw:agreement:42`).
pub fn contract_reference(agreement_id: i64) -> String {
    format!("cw:agreement:{agreement_id}")
}

/// The date an invoice bills (its `date`, in UTC).
pub fn invoice_date(invoice: &Invoice) -> Option<Date> {
    invoice.date.map(|d| d.date())
}

/// The invoice number, or its id when it has none.
pub fn invoice_label(invoice: &Invoice) -> String {
    invoice
        .invoice_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(
            || format!("#{}", invoice.id.unwrap_or_default()),
            str::to_owned,
        )
}

/// The period an invoice dated `date` bills: from `date` to the day before the same day of the
/// next month (the last day of that month when it has no such day).
pub fn period_of(date: Date) -> (Date, Date) {
    let (year, month) = match date.month() {
        Month::December => (date.year() + 1, Month::January),
        other => (date.year(), other.next()),
    };
    let last = month.length(year);
    let next = Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date);
    let end = next.previous_day().unwrap_or(next);
    (date, end.max(date))
}

/// The invoices a contract bills: those of the latest date among `invoices` (one agreement's),
/// ordered by id; with that date.
pub fn latest_period<'a>(invoices: &[&'a Invoice]) -> Option<(Date, Vec<&'a Invoice>)> {
    let latest = invoices.iter().filter_map(|i| invoice_date(i)).max()?;
    let mut group: Vec<&Invoice> = invoices
        .iter()
        .copied()
        .filter(|i| invoice_date(i) == Some(latest))
        .collect();
    group.sort_by_key(|i| i.id);
    Some((latest, group))
}

/// How a contract's template was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateChoice<'a> {
    /// The template.
    pub template: &'a ContractTemplate,
    /// Whether it is named like the agreement type (else it is the default).
    pub by_type: bool,
}

impl TemplateChoice<'_> {
    /// What a record's line says about it.
    pub fn describe(&self, agreement_type: Option<&str>) -> String {
        if self.by_type {
            format!(
                "template {} (named like the agreement type)",
                self.template.name
            )
        } else {
            format!(
                "default template {} (no active template is named {:?})",
                self.template.name,
                agreement_type.unwrap_or("")
            )
        }
    }
}

/// The template of a contract for an agreement of `agreement_type`: the active template named
/// exactly like it, else `default` (a template's name or id), else the billing system's default
/// template; `Err` says why there is none.
pub fn choose_template<'a>(
    agreement_type: Option<&str>,
    templates: &'a [ContractTemplate],
    default: Option<&str>,
) -> Result<TemplateChoice<'a>, String> {
    if let Some(kind) = agreement_type
        && let Some(template) = templates.iter().find(|t| t.active && t.name == kind)
    {
        return Ok(TemplateChoice {
            template,
            by_type: true,
        });
    }
    let fallback = match default {
        Some(default) => templates
            .iter()
            .find(|t| t.name == default || t.id == default),
        None => templates.iter().find(|t| t.is_default),
    };
    match fallback {
        Some(template) if template.active => Ok(TemplateChoice {
            template,
            by_type: false,
        }),
        Some(template) => Err(format!(
            "agreement/type: no active contract template is named {:?}, and the default \
             template {} is inactive",
            agreement_type.unwrap_or(""),
            template.name
        )),
        None => Err(format!(
            "agreement/type: no active contract template is named {:?}, and {}",
            agreement_type.unwrap_or(""),
            match default {
                Some(d) =>
                    format!("documents.agreementInvoices.defaultTemplate names no template ({d:?})"),
                None => "no default template is set (documents.agreementInvoices.defaultTemplate)"
                    .to_owned(),
            }
        )),
    }
}

/// The SKU of a product: its catalog item's identifier (from `identifiers`, catalog item id →
/// identifier, else the reference's own), trimmed.
pub fn product_sku(product: &ProductItem, identifiers: &HashMap<i64, String>) -> String {
    let catalog = product.catalog_item.as_ref();
    catalog
        .and_then(|c| c.id)
        .and_then(|id| identifiers.get(&id).cloned())
        .or_else(|| catalog.and_then(|c| c.identifier.clone()))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A product's whole amount: its extended price, else quantity × price.
pub fn product_amount(product: &ProductItem) -> Decimal {
    product.ext_price.unwrap_or_else(|| {
        product.quantity.unwrap_or(Decimal::ONE) * product.price.unwrap_or(Decimal::ZERO)
    })
}

/// The contract lines of `invoices` (each with its products), each product on the billing item
/// of its SKU (`items`: upper-cased SKU → item id), one line per item (see the module docs).
/// `Err`: the products no line can be made of, each named with its field.
pub fn contract_lines(
    invoices: &[(&Invoice, &[ProductItem])],
    identifiers: &HashMap<i64, String>,
    items: &HashMap<String, String>,
) -> Result<Vec<ContractLine>, Vec<String>> {
    // Item id → (quantity, amount, detail parts), in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut parts: HashMap<String, Vec<(Decimal, Decimal, String)>> = HashMap::new();
    let mut problems = Vec::new();
    for (invoice, products) in invoices {
        let number = invoice_label(invoice);
        let mut products: Vec<&ProductItem> = products.iter().collect();
        products.sort_by_key(|p| (p.sequence_number.unwrap_or(Decimal::MAX), p.id));
        for product in products {
            let id = product.id.unwrap_or_default();
            let sku = product_sku(product, identifiers);
            let Some(item) = items.get(&sku.to_uppercase()).filter(|_| !sku.is_empty()) else {
                problems.push(if sku.is_empty() {
                    format!(
                        "invoice {number} product {id}: catalogItem has no identifier to find \
                         the billing item by"
                    )
                } else {
                    format!(
                        "invoice {number} product {id}: catalogItem {sku:?} is no billing item's \
                         SKU (add the item to the billing system)"
                    )
                });
                continue;
            };
            let quantity = product.quantity.unwrap_or(Decimal::ONE);
            let amount = product_amount(product);
            let description = product
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .unwrap_or(sku.as_str());
            let detail = format!(
                "{number}: {} x {description} = {}",
                quantity.normalize(),
                amount.round_dp(2)
            );
            if !parts.contains_key(item) {
                order.push(item.clone());
            }
            parts
                .entry(item.clone())
                .or_default()
                .push((quantity, amount, detail));
        }
    }
    let mut lines = Vec::with_capacity(order.len());
    for item in order {
        let Some(item_parts) = parts.remove(&item) else {
            continue;
        };
        let detail = item_parts
            .iter()
            .map(|(_, _, d)| d.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let amount: Decimal = item_parts.iter().map(|(_, a, _)| *a).sum();
        let quantity = match item_parts.as_slice() {
            [(quantity, _, _)] => *quantity,
            _ => Decimal::ONE,
        };
        if quantity <= Decimal::ZERO {
            problems.push(format!(
                "{detail}: quantity must be above 0 for a contract line"
            ));
            continue;
        }
        lines.push(ContractLine {
            item_id: item,
            quantity,
            amount,
            detail: Some(detail),
        });
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems)
    }
}

/// What the contract should hold after the sync applied the period of `date` (billable again).
pub fn contract_update(
    date: Date,
    lines: Vec<ContractLine>,
    numbers: &[String],
    settings: &AgreementInvoicePull,
) -> ContractUpdate {
    let (period_start, period_end) = period_of(date);
    let mut custom_fields = BTreeMap::new();
    if let Some(field) = settings
        .invoice_number_field
        .as_deref()
        .filter(|f| !f.trim().is_empty())
    {
        custom_fields.insert(field.to_owned(), numbers.join(", "));
    }
    ContractUpdate {
        billable: true,
        period_start: Some(period_start),
        period_end: Some(period_end),
        lines,
        custom_fields,
    }
}

/// The fields of `current` that differ from `desired` (custom fields: only those `desired`
/// sets), by their wire names.
pub fn contract_changes(current: &Contract, desired: &ContractUpdate) -> Vec<String> {
    let mut changed = Vec::new();
    if current.period_start != desired.period_start {
        changed.push("periodStart".to_owned());
    }
    if current.period_end != desired.period_end {
        changed.push("periodEnd".to_owned());
    }
    if !same_lines(&current.lines, &desired.lines) {
        changed.push("lines".to_owned());
    }
    for (name, value) in &desired.custom_fields {
        if current.custom_fields.get(name) != Some(value) {
            changed.push(format!("customFields.{name}"));
        }
    }
    if current.billable != desired.billable {
        changed.push("billable".to_owned());
    }
    changed
}

/// Whether two line lists say the same (amounts compared as numbers, not as written).
fn same_lines(a: &[ContractLine], b: &[ContractLine]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.item_id == y.item_id
                && x.quantity.normalize() == y.quantity.normalize()
                && x.amount.normalize() == y.amount.normalize()
                && x.detail == y.detail
        })
}

/// What a pull reads of `products` (for a stamp), in id order.
pub fn products_digest(products: &[ProductItem]) -> Vec<serde_json::Value> {
    let mut digest: Vec<_> = products
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "catalogItem": p.catalog_item.as_ref().and_then(|c| c.id),
                "identifier": p.catalog_item.as_ref().and_then(|c| c.identifier.clone()),
                "description": p.description,
                "sequence": p.sequence_number,
                "quantity": p.quantity,
                "price": p.price,
                "extPrice": p.ext_price,
                "cost": p.cost,
                "taxable": p.taxable_flag,
            })
        })
        .collect();
    digest.sort_by_key(|p| p["id"].as_i64());
    digest
}

/// The stamp of an agreement invoice: what its sync reads of it and its products, and the
/// settings that shape the contract.
pub fn agreement_invoice_stamp(
    invoice: &Invoice,
    products: &[ProductItem],
    settings: &AgreementInvoicePull,
) -> String {
    fingerprint(&json!({
        "number": invoice.invoice_number,
        "date": invoice_date(invoice).map(|d| d.to_string()),
        "status": invoice.status.as_ref().and_then(|s| s.name.clone()),
        "company": invoice.company.as_ref().and_then(|c| c.id),
        "billTo": invoice.bill_to_company.as_ref().and_then(|c| c.id),
        "agreement": invoice.agreement.as_ref().and_then(|a| a.id),
        "agreementType": invoice.agreement.as_ref().and_then(|a| a.kind.clone()),
        "products": products_digest(products),
        "defaultTemplate": settings.default_template,
        "numberField": settings.invoice_number_field,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cwsync_connectwise::models::Reference;
    use time::macros::{date, datetime};

    fn invoice(id: i64, number: &str, on: Date) -> Invoice {
        Invoice {
            id: Some(id),
            invoice_number: Some(number.to_owned()),
            date: Some(on.midnight().assume_utc()),
            ..Invoice::default()
        }
    }

    fn product(id: i64, identifier: &str, quantity: i64, price: i64) -> ProductItem {
        ProductItem {
            id: Some(id),
            catalog_item: Some(Reference {
                id: Some(id * 100),
                identifier: Some(identifier.to_owned()),
                ..Reference::default()
            }),
            description: Some(format!("{identifier} line")),
            quantity: Some(Decimal::from(quantity)),
            price: Some(Decimal::from(price)),
            ..ProductItem::default()
        }
    }

    fn template(id: &str, name: &str, is_default: bool, active: bool) -> ContractTemplate {
        ContractTemplate {
            id: id.to_owned(),
            name: name.to_owned(),
            is_default,
            active,
            updated_at: datetime!(2026-11-01 00:00 UTC),
        }
    }

    #[test]
    fn a_period_runs_to_the_day_before_the_same_day_next_month() {
        assert_eq!(
            period_of(date!(2026 - 11 - 01)),
            (date!(2026 - 11 - 01), date!(2026 - 11 - 30))
        );
        assert_eq!(
            period_of(date!(2026 - 12 - 15)),
            (date!(2026 - 12 - 15), date!(2027 - 01 - 14))
        );
        assert_eq!(
            period_of(date!(2027 - 01 - 31)),
            (date!(2027 - 01 - 31), date!(2027 - 02 - 27))
        );
    }

    #[test]
    fn products_of_one_item_roll_up_into_one_line_with_their_detail_and_others_stay_as_they_are() {
        let a = invoice(1, "A-1", date!(2026 - 11 - 01));
        let b = invoice(2, "A-2", date!(2026 - 11 - 01));
        let items = HashMap::from([
            ("SEAT".to_owned(), "I-SEAT".to_owned()),
            ("BACKUP".to_owned(), "I-BACKUP".to_owned()),
        ]);
        let a_products = [product(1, "seat", 3, 50), product(2, "BACKUP", 2, 10)];
        let b_products = [product(3, "SEAT", 1, 50)];
        let lines = contract_lines(
            &[(&a, &a_products), (&b, &b_products)],
            &HashMap::new(),
            &items,
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].item_id, "I-SEAT");
        assert_eq!(lines[0].quantity, Decimal::ONE);
        assert_eq!(lines[0].amount, Decimal::from(200));
        let detail = lines[0].detail.as_deref().unwrap();
        assert!(detail.contains("A-1: 3 x seat line = 150") && detail.contains("A-2"));
        assert_eq!(lines[1].item_id, "I-BACKUP");
        assert_eq!(lines[1].quantity, Decimal::from(2));
        assert_eq!(lines[1].amount, Decimal::from(20));
    }

    #[test]
    fn a_product_of_no_billing_item_is_named() {
        let a = invoice(1, "A-1", date!(2026 - 11 - 01));
        let products = [product(7, "NOPE", 1, 5)];
        let problems =
            contract_lines(&[(&a, &products)], &HashMap::new(), &HashMap::new()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("product 7") && problems[0].contains("NOPE"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_template_is_the_one_named_exactly_like_the_type_else_the_default() {
        let templates = [
            template("T-1", "Managed Services", false, true),
            template("T-2", "Standard", true, true),
            template("T-3", "Print", false, false),
        ];
        let exact = choose_template(Some("Managed Services"), &templates, None).unwrap();
        assert!(exact.by_type);
        assert_eq!(exact.template.id, "T-1");
        // Not exactly: another case is not the same name.
        let other = choose_template(Some("managed services"), &templates, None).unwrap();
        assert!(!other.by_type);
        assert_eq!(other.template.id, "T-2");
        assert!(other.describe(Some("managed services")).contains("default"));
        // An inactive template of that name is not used; the tenant's default is found by name.
        let named = choose_template(Some("Print"), &templates, Some("Managed Services")).unwrap();
        assert_eq!(named.template.id, "T-1");
        assert!(!named.by_type);
        let none = choose_template(Some("Print"), &templates, Some("Nope")).unwrap_err();
        assert!(none.contains("defaultTemplate"), "{none}");
    }

    #[test]
    fn the_latest_date_makes_the_period_and_all_its_invoices_are_in_it() {
        let old = invoice(1, "A-1", date!(2026 - 10 - 01));
        let b = invoice(3, "A-3", date!(2026 - 11 - 01));
        let a = invoice(2, "A-2", date!(2026 - 11 - 01));
        let (date, group) = latest_period(&[&old, &b, &a]).unwrap();
        assert_eq!(date, date!(2026 - 11 - 01));
        assert_eq!(
            group.iter().map(|i| i.id).collect::<Vec<_>>(),
            [Some(2), Some(3)]
        );
    }

    #[test]
    fn an_applied_contract_shows_no_change_and_a_new_number_does() {
        let settings = AgreementInvoicePull {
            invoice_number_field: Some("CW Invoice Number".to_owned()),
            ..AgreementInvoicePull::default()
        };
        let line = ContractLine {
            item_id: "I-1".to_owned(),
            quantity: Decimal::ONE,
            amount: Decimal::new(1000, 1),
            detail: Some("x".to_owned()),
        };
        let desired = contract_update(
            date!(2026 - 11 - 01),
            vec![line.clone()],
            &["A-1".to_owned(), "A-2".to_owned()],
            &settings,
        );
        let mut current = Contract {
            id: "C-1".to_owned(),
            account_id: "A".to_owned(),
            number: "C".to_owned(),
            name: None,
            status: "Active".to_owned(),
            start_date: None,
            end_date: None,
            external_reference: None,
            template_id: None,
            billable: true,
            period_start: desired.period_start,
            period_end: desired.period_end,
            lines: vec![ContractLine {
                amount: Decimal::new(10000, 2),
                ..line
            }],
            custom_fields: BTreeMap::from([
                ("CW Invoice Number".to_owned(), "A-1, A-2".to_owned()),
                ("Remarks".to_owned(), "kept".to_owned()),
            ]),
            version: 3,
            updated_at: datetime!(2026-11-01 00:00 UTC),
        };
        assert!(contract_changes(&current, &desired).is_empty());
        current
            .custom_fields
            .insert("CW Invoice Number".to_owned(), "A-1".to_owned());
        current.billable = false;
        assert_eq!(
            contract_changes(&current, &desired),
            ["customFields.CW Invoice Number", "billable"]
        );
    }
}
