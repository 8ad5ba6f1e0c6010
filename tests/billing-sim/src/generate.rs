//! Generated data at any scale, for tests and benches that need more than the fixtures: products
//! with prices on two price lists, subscriptions of given accounts to them, and users of given
//! accounts. Deterministic (the same arguments give the same records), and every record's
//! `updatedAt` is distinct, one millisecond apart from `since` on, in the order returned.

use cwsync_billing::models::{AccountUser, Price, Product, Subscription};
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
    let mut out = Vec::with_capacity(account_ids.len() * per_account);
    for account_id in account_ids {
        for _ in 0..per_account {
            let i = out.len();
            let product = &products[i % products.len()];
            out.push(Subscription {
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
            });
        }
    }
    out
}

/// `per_account` users of each account (`U-000000`, … in account order), with one to four
/// services; every fifth user disabled.
pub fn users(
    account_ids: &[String],
    per_account: usize,
    since: OffsetDateTime,
) -> Vec<AccountUser> {
    let mut out = Vec::with_capacity(account_ids.len() * per_account);
    for account_id in account_ids {
        for _ in 0..per_account {
            let i = out.len();
            let services = SERVICES[..1 + i % SERVICES.len()]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            out.push(AccountUser {
                id: format!("U-{i:06}"),
                account_id: account_id.clone(),
                name: format!("User {i}"),
                email: Some(format!("user{i}@example.com")),
                enabled: i % 5 != 4,
                services,
                updated_at: nth(since, i),
            });
        }
    }
    out
}
