//! Generated data at any scale, for tests and benches that need more than the fixtures: products
//! with prices on two price lists, subscriptions of given accounts to them, users of given
//! accounts, and billing documents of given accounts (invoices with items, their payments,
//! orders with items, projects with items and options). Deterministic (the same arguments give the same records), and every record's
//! `updatedAt` is distinct, one millisecond apart from `since` on, in the order returned.

use cwsync_billing::models::{
    Account, AccountUser, DocumentItem, Invoice, Order, Payment, Price, Product, Project,
    ProjectKind, ProjectStatus, Subscription,
};
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

const UNITS: [(&str, &str); 3] = [
    ("License", "License"),
    ("Device", "Service"),
    ("Each", "Hardware"),
];
const FREQUENCIES: [&str; 3] = ["Monthly", "Monthly", "Annual"];
const SERVICES: [&str; 4] = ["Exchange Online", "Microsoft Teams", "OneDrive", "Intune"];

fn nth(since: OffsetDateTime, n: usize) -> OffsetDateTime {
    since + Duration::milliseconds(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `per_account` records of each account in account order, `make` given each record's index
/// (across all accounts) and its account.
fn per_account_of<T>(
    account_ids: &[String],
    per_account: usize,
    mut make: impl FnMut(usize, &String) -> T,
) -> Vec<T> {
    account_ids
        .iter()
        .flat_map(|account_id| std::iter::repeat_n(account_id, per_account))
        .enumerate()
        .map(|(i, account_id)| make(i, account_id))
        .collect()
}

fn cents(value: usize) -> Decimal {
    Decimal::new(i64::try_from(value).unwrap_or(i64::MAX), 2)
}

/// `count` products `P-00000`, `P-00001`, … (SKU `SKU-00000`, …), each with a monthly and a
/// yearly price on `Retail` and a monthly one on `Partner`, and a cost; every tenth disabled.
pub fn products(count: usize, since: OffsetDateTime) -> Vec<Product> {
    (0..count)
        .map(|i| {
            let (unit, product_type) = UNITS[i % UNITS.len()];
            let monthly = 500 + (i % 97) * 125;
            Product {
                id: format!("P-{i:05}"),
                sku: format!("SKU-{i:05}"),
                name: format!("Generated product {i}"),
                description: Some(format!("Generated product {i}, sold per {unit}")),
                enabled: i % 10 != 9,
                unit: Some(unit.to_owned()),
                product_type: Some(product_type.to_owned()),
                taxable: i % 2 == 0,
                cost: Some(cents(monthly * 7 / 10)),
                prices: vec![
                    Price {
                        price_list: "Retail".to_owned(),
                        unit: "Month".to_owned(),
                        price: cents(monthly),
                        cost: None,
                    },
                    Price {
                        price_list: "Retail".to_owned(),
                        unit: "Year".to_owned(),
                        price: cents(monthly * 11),
                        cost: None,
                    },
                    Price {
                        price_list: "Partner".to_owned(),
                        unit: "Month".to_owned(),
                        price: cents(monthly * 9 / 10),
                        cost: None,
                    },
                ],
                updated_at: nth(since, i),
            }
        })
        .collect()
}

/// `per_account` subscriptions of each account (`SUB-000000`, … in account order) to
/// `products` in turn, with quantities 1 to 50, monthly or annual, none cancelled. Empty when
/// there are no products.
pub fn subscriptions(
    account_ids: &[String],
    per_account: usize,
    products: &[Product],
    since: OffsetDateTime,
) -> Vec<Subscription> {
    if products.is_empty() {
        return Vec::new();
    }
    per_account_of(account_ids, per_account, |i, account_id| {
        let product = &products[i % products.len()];
        Subscription {
            id: format!("SUB-{i:06}"),
            account_id: account_id.clone(),
            product_id: product.id.clone(),
            quantity: Decimal::from(1 + i % 50),
            unit_cost: product.cost,
            unit_price: product.prices.first().map(|p| p.price),
            unit: product.unit.clone(),
            billing_frequency: Some(FREQUENCIES[i % FREQUENCIES.len()].to_owned()),
            agreement_type: Some("Managed Services".to_owned()),
            start_date: Some(time::macros::date!(2026 - 01 - 01)),
            end_date: None,
            cancelled_at: None,
            updated_at: nth(since, i),
        }
    })
}

/// `per_account` users of each account (`U-000000`, … in account order), with one to four
/// services; every fifth user disabled.
pub fn users(
    account_ids: &[String],
    per_account: usize,
    since: OffsetDateTime,
) -> Vec<AccountUser> {
    per_account_of(account_ids, per_account, |i, account_id| {
        let services = SERVICES[..1 + i % SERVICES.len()]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        AccountUser {
            id: format!("U-{i:06}"),
            account_id: account_id.clone(),
            name: format!("User {i}"),
            email: Some(format!("user{i}@example.com")),
            enabled: i % 5 != 4,
            services,
            updated_at: nth(since, i),
        }
    })
}

/// The lines of the `i`th generated document: one to three of `products` in turn.
fn document_items(i: usize, products: &[Product]) -> Vec<DocumentItem> {
    (0..1 + i % 3)
        .map(|n| {
            let product = &products[(i + n) % products.len()];
            DocumentItem {
                id: None,
                item_id: product.id.clone(),
                sku: Some(product.sku.clone()),
                description: Some(product.name.clone()),
                quantity: Decimal::from(1 + (i + n) % 5),
                price: product.prices.first().map_or(Decimal::ONE, |p| p.price),
                cost: product.cost,
                taxable: product.taxable,
                billable_option: None,
            }
        })
        .collect()
}

/// `per_account` invoices of each account (`INV-000000`, … in account order, numbers
/// `200000`, …), each with one to three items of `products` in turn; the total is the items'
/// sum and the balance the total (nothing paid yet). Empty when there are no products.
pub fn invoices(
    account_ids: &[String],
    per_account: usize,
    products: &[Product],
    since: OffsetDateTime,
) -> Vec<Invoice> {
    if products.is_empty() {
        return Vec::new();
    }
    per_account_of(account_ids, per_account, |i, account_id| {
        let items = document_items(i, products);
        let total: Decimal = items.iter().map(|l| l.quantity * l.price).sum();
        Invoice {
            id: format!("INV-{i:06}"),
            number: format!("{}", 200_000 + i),
            invoice_type: Some("Standard".to_owned()),
            status: "Open".to_owned(),
            account_id: account_id.clone(),
            bill_to_account_id: None,
            currency: Some("USD".to_owned()),
            invoice_date: Some(time::macros::date!(2026 - 11 - 01)),
            due_date: Some(time::macros::date!(2026 - 12 - 01)),
            total,
            balance: total,
            items,
            updated_at: nth(since, i),
        }
    })
}

/// `per_invoice` payments of each invoice (`PAY-000000`, …), splitting its total evenly (the
/// last one takes the rest, so they sum to the total). Their `updatedAt` follow one another
/// from `since` on.
pub fn payments(invoices: &[Invoice], per_invoice: usize, since: OffsetDateTime) -> Vec<Payment> {
    let mut out = Vec::with_capacity(invoices.len() * per_invoice);
    let parts = Decimal::from(per_invoice);
    for invoice in invoices {
        let share = if per_invoice == 0 {
            Decimal::ZERO
        } else {
            (invoice.total / parts).round_dp(2)
        };
        for n in 0..per_invoice {
            let i = out.len();
            let amount = if n + 1 == per_invoice {
                invoice.total - share * Decimal::from(n)
            } else {
                share
            };
            out.push(Payment {
                id: format!("PAY-{i:06}"),
                account_id: invoice.account_id.clone(),
                invoice_id: invoice.id.clone(),
                payment_type: if n % 2 == 0 { "Check" } else { "Credit Card" }.to_owned(),
                amount,
                payment_date: time::macros::date!(2026 - 11 - 10),
                reference: None,
                updated_at: nth(since, i),
            });
        }
    }
    out
}

/// `per_account` orders of each account (`ORD-000000`, …, numbers `SO-000000`, …), each with
/// one to three items of `products` in turn. Empty when there are no products.
pub fn orders(
    account_ids: &[String],
    per_account: usize,
    products: &[Product],
    since: OffsetDateTime,
) -> Vec<Order> {
    if products.is_empty() {
        return Vec::new();
    }
    per_account_of(account_ids, per_account, |i, account_id| Order {
        id: format!("ORD-{i:06}"),
        number: format!("SO-{i:06}"),
        account_id: account_id.clone(),
        contact_id: None,
        bill_to_account_id: None,
        customer_po: None,
        stage: "Open".to_owned(),
        order_date: time::macros::date!(2026 - 11 - 01),
        due_date: None,
        currency: Some("USD".to_owned()),
        sales_rep: None,
        items: document_items(i, products),
        external_reference: None,
        on_hold: false,
        hold_reason: None,
        updated_at: nth(since, i),
    })
}

/// One project of each of `accounts` (`PRJ-000000`, …), and an option of it for every other
/// account (`PRJ-000001`, …, after its project), each with one to three items of `products` in
/// turn, owned by `owner_email`, with the account's first contact and first site. Every third
/// project is won. Empty when there are no products.
pub fn projects(
    accounts: &[Account],
    products: &[Product],
    owner_email: &str,
    since: OffsetDateTime,
) -> Vec<Project> {
    if products.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(accounts.len() * 3 / 2);
    for (n, account) in accounts.iter().enumerate() {
        let parent = format!("PRJ-{:06}", out.len());
        let kinds: &[ProjectKind] = if n % 2 == 0 {
            &[ProjectKind::Project, ProjectKind::Option]
        } else {
            &[ProjectKind::Project]
        };
        for &kind in kinds {
            let i = out.len();
            let option = kind == ProjectKind::Option;
            out.push(Project {
                id: format!("PRJ-{i:06}"),
                number: (!option).then(|| format!("J-{i:06}")),
                name: if option {
                    format!("Generated project {n} - option")
                } else {
                    format!("Generated project {n}")
                },
                kind,
                parent_project_id: option.then(|| parent.clone()),
                status: if n % 3 == 2 && !option {
                    ProjectStatus::Won
                } else {
                    ProjectStatus::Open
                },
                owner_email: Some(owner_email.to_owned()),
                owner_identifier: None,
                account_id: account.id.clone(),
                primary_contact_id: account.contacts.first().map(|c| c.id.clone()),
                site_id: account.sites.first().map(|s| s.id.clone()),
                close_date: Some(time::macros::date!(2026 - 12 - 15)),
                items: document_items(i, products),
                updated_at: nth(since, i),
            });
        }
    }
    out
}
