//! The records the daily export reads: products (with their prices per price list and unit),
//! subscriptions of accounts to products, and the users of an account with their enabled
//! services. They become ConnectWise catalog items, agreement additions and the user-list
//! document of an agreement.
//!
//! Amounts are decimals: the contract sends them as JSON numbers or decimal strings (`"12.50"`),
//! and reading accepts both, never through a binary float on the way in.

use cwsync_http::amount;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// A product (a SKU) the billing system sells: becomes a ConnectWise catalog item.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// The billing system's immutable id of the product (the link key).
    pub id: String,
    /// The SKU: becomes the catalog item's identifier (ConnectWise: at most 50 characters).
    pub sku: String,
    /// The product's name: the catalog item's `description` (ConnectWise: at most 60
    /// characters).
    pub name: String,
    /// A longer description: the catalog item's `customerDescription` (the name when absent).
    pub description: Option<String>,
    /// Whether the product is sold; `false` makes the catalog item inactive.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The product's default unit name (`Each`, `License`, `Month`): → a ConnectWise unit of
    /// measure through the tenant's `mappings.unitsOfMeasure`.
    pub unit: Option<String>,
    /// The product type name (`License`, `Service`, `Hardware`): → a ConnectWise product type
    /// through the tenant's product defaults.
    pub product_type: Option<String>,
    /// Whether the product is taxable.
    #[serde(default)]
    pub taxable: bool,
    /// The vendor's cost of one unit in the default unit (what the tenant pays).
    #[serde(default, with = "amount::opt")]
    pub cost: Option<Decimal>,
    /// Prices per price list and unit; the tenant's `pricing` priority picks one.
    #[serde(default)]
    pub prices: Vec<Price>,
    /// When the product (or one of its prices) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One price of a product: on a price list, for a unit.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// The price list's name (`Retail`, `Partner`).
    pub price_list: String,
    /// The unit the price is for (`Month`, `Year`, `Each`).
    pub unit: String,
    /// The price the customer pays for one unit.
    #[serde(with = "amount")]
    pub price: Decimal,
    /// The cost of one unit on this price list, when the billing system keeps one per list.
    #[serde(default, with = "amount::opt")]
    pub cost: Option<Decimal>,
}

/// A subscription of an account to a product: becomes one addition on the account's agreement.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The billing system's immutable id of the subscription (the link key of its addition).
    pub id: String,
    /// The account subscribed (its company and agreement come from the customer sync's links).
    pub account_id: String,
    /// The product subscribed (its catalog item comes from the product link, else its SKU).
    pub product_id: String,
    /// How many units (a decimal: some units are fractional).
    #[serde(with = "amount")]
    pub quantity: Decimal,
    /// The cost of one unit for this subscription, when it differs from the product's.
    #[serde(default, with = "amount::opt")]
    pub unit_cost: Option<Decimal>,
    /// The price of one unit for this subscription, when it differs from the product's.
    #[serde(default, with = "amount::opt")]
    pub unit_price: Option<Decimal>,
    /// The unit the quantity counts (`License`, `Month`): → a unit of measure by mapping.
    pub unit: Option<String>,
    /// How often it bills (`Monthly`, `Annual`): → a ConnectWise billing cycle by the tenant's
    /// `mappings.billingFrequencies`.
    pub billing_frequency: Option<String>,
    /// The agreement type the subscription belongs under (`Managed Services`): → a ConnectWise
    /// agreement type by `mappings.agreementTypes`; the tenant's default when absent.
    pub agreement_type: Option<String>,
    /// The first day it bills (`2026-11-01`).
    #[serde(default, with = "date::option")]
    pub start_date: Option<Date>,
    /// The last day it bills, when it ends.
    #[serde(default, with = "date::option")]
    pub end_date: Option<Date>,
    /// When it was cancelled: its addition gets a cancel date, never a delete.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    /// When the subscription last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A user of an account, with the services enabled for them: one row of the account's user list.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountUser {
    /// The billing system's id of the user.
    pub id: String,
    /// The user's account.
    pub account_id: String,
    /// Display name.
    pub name: String,
    /// Sign-in or e-mail address.
    pub email: Option<String>,
    /// Whether the user is enabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The names of the services enabled for the user (`Exchange Online`, `Teams`).
    #[serde(default)]
    pub services: Vec<String>,
    /// When the user (or their services) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn yes() -> bool {
    true
}

// A calendar date as the contract writes it: `2026-11-01` (`date::option` for an optional one).
time::serde::format_description!(pub(crate) date, Date, "[year]-[month]-[day]");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_read_from_strings_and_numbers_and_dates_as_calendar_days() {
        let subscription: Subscription = serde_json::from_value(json!({
            "id": "S-1", "accountId": "A-1", "productId": "P-1", "quantity": 3,
            "unitPrice": "12.50", "startDate": "2026-11-01",
            "updatedAt": "2026-11-02T10:00:00Z"
        }))
        .unwrap();
        assert_eq!(subscription.quantity, Decimal::from(3));
        assert_eq!(subscription.unit_price, Some(Decimal::new(1250, 2)));
        assert_eq!(
            subscription.start_date,
            Some(time::macros::date!(2026 - 11 - 01))
        );
        let back = serde_json::to_value(&subscription).unwrap();
        assert_eq!(back["startDate"], "2026-11-01");
        assert_eq!(back["unitPrice"], 12.5);
    }

    #[test]
    fn a_quantity_that_is_not_a_number_is_refused_naming_the_field() {
        let error = serde_path_to_error::deserialize::<_, Subscription>(json!({
            "id": "S-1", "accountId": "A-1", "productId": "P-1", "quantity": "abc",
            "updatedAt": "2026-11-02T10:00:00Z"
        }))
        .unwrap_err();
        assert_eq!(error.path().to_string(), "quantity");
    }
}
