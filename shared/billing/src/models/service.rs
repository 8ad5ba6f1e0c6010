//! What the ticket import reads to turn a ConnectWise ticket into a billing service call: the
//! technicians ConnectWise members map to, the contracts ConnectWise agreements link to, the
//! items ticket products become, and the product types whose placeholder (template) item stands
//! in for a product the billing system lacks.
//!
//! Plain data shaped like the wire (camelCase JSON), listed like every other kind (see
//! [`crate::Listing`]). Nothing here decides a mapping: that is the import's job.

use std::collections::BTreeMap;

use cwsync_http::amount;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::export::date;

/// A person who does service work in the billing system: the ticket import maps each
/// ConnectWise member who logs time to one (by a tenant mapping, else by e-mail or identifier).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Technician {
    /// The billing system's immutable id of the technician.
    pub id: String,
    /// Display name (`Jane Doe`).
    pub name: String,
    /// E-mail address; matched case-insensitively against the member's office e-mail.
    pub email: Option<String>,
    /// The short sign-in name (`jdoe`); matched against the ConnectWise member identifier.
    pub identifier: Option<String>,
    /// Whether the technician may still be given work; an inactive one is never picked.
    #[serde(default = "yes")]
    pub active: bool,
    /// When the technician last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A service contract of an account: a ConnectWise agreement links to one, and the labor and
/// parts billed against that agreement go on calls under it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contract {
    /// The billing system's immutable id of the contract.
    pub id: String,
    /// The account the contract covers.
    pub account_id: String,
    /// The contract number users see (`C-2026-014`).
    pub number: String,
    /// A name for it (`Managed Print – Acme`).
    pub name: Option<String>,
    /// Status name; `Active` is the one calls are written against (free text otherwise:
    /// `Expired`, `Cancelled`, whatever the billing system calls them).
    pub status: String,
    /// The first day it covers.
    #[serde(default, with = "date::option")]
    pub start_date: Option<Date>,
    /// The last day it covers, when it ends.
    #[serde(default, with = "date::option")]
    pub end_date: Option<Date>,
    /// The ConnectWise agreement it was made from (unique among contracts), when cwsync made it.
    pub external_reference: Option<String>,
    /// The [`super::ContractTemplate`] it was made from.
    pub template_id: Option<String>,
    /// Whether the billing system may invoice it now; the agreement-invoice sync clears it while
    /// it updates the contract for a period, and sets it again after. Absent: billable.
    #[serde(default = "yes")]
    pub billable: bool,
    /// The first day of the period the lines bill.
    #[serde(default, with = "date::option")]
    pub period_start: Option<Date>,
    /// The last day of that period.
    #[serde(default, with = "date::option")]
    pub period_end: Option<Date>,
    /// What the contract bills for the period.
    #[serde(default)]
    pub lines: Vec<ContractLine>,
    /// The contract's custom fields by name (`CW Invoice Number`), among the names the billing
    /// system defines for contracts.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    /// Moves on every change; an update names the version it was planned on (`If-Match`).
    /// Absent: 1.
    #[serde(default = "first_version")]
    pub version: u64,
    /// When the contract last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One line a contract bills: an item, how many, for how much, and what it was made of.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractLine {
    /// The item billed.
    pub item_id: String,
    /// How many (more than 0).
    #[serde(with = "amount")]
    pub quantity: Decimal,
    /// The line's whole amount (not per unit).
    #[serde(with = "amount")]
    pub amount: Decimal,
    /// What the line stands for (the ConnectWise lines rolled up into it).
    pub detail: Option<String>,
}

/// The body of `POST /v1/contracts`: a contract made for a ConnectWise agreement, idempotent on
/// its reference (a second create is refused with 409 `Duplicate` naming the contract).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewContract {
    /// The ConnectWise agreement's reference (`cw:agreement:42`).
    pub external_reference: String,
    /// The account it covers.
    pub account_id: String,
    /// The template it is made from (an active one).
    pub template_id: String,
    /// A name for it.
    pub name: Option<String>,
    /// The first day it covers.
    #[serde(default, with = "date::option")]
    pub start_date: Option<Date>,
    /// The last day it covers (not before the first).
    #[serde(default, with = "date::option")]
    pub end_date: Option<Date>,
    /// Whether it may be invoiced at once (`false` while the sync fills it).
    pub billable: bool,
    /// The first day of the period the lines bill.
    #[serde(default, with = "date::option")]
    pub period_start: Option<Date>,
    /// The last day of that period (not before the first).
    #[serde(default, with = "date::option")]
    pub period_end: Option<Date>,
    /// The lines.
    #[serde(default)]
    pub lines: Vec<ContractLine>,
    /// Custom fields to set, by name.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

/// The body of `PUT /v1/contracts/{id}` (sent with `If-Match: "<version>"`): the billable flag,
/// period and lines replace the old ones, and the custom fields given are set (others stay).
/// The account, template and external reference never change.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractUpdate {
    /// Whether it may be invoiced.
    pub billable: bool,
    /// The first day of the period the lines bill.
    #[serde(default, with = "date::option")]
    pub period_start: Option<Date>,
    /// The last day of that period.
    #[serde(default, with = "date::option")]
    pub period_end: Option<Date>,
    /// All lines.
    #[serde(default)]
    pub lines: Vec<ContractLine>,
    /// Custom fields to set, by name.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

fn first_version() -> u64 {
    1
}

/// A sellable item (part, supply, service) of the billing system: a ConnectWise ticket product
/// becomes a part of the call with the item of the same SKU.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// The billing system's immutable id of the item.
    pub id: String,
    /// The SKU (item code), matched against the ConnectWise catalog item's identifier.
    pub sku: String,
    /// The item's name.
    pub name: String,
    /// The id of the item's [`ProductType`].
    pub product_type_id: Option<String>,
    /// The unit it is sold in (`Each`, `Hour`).
    pub unit: Option<String>,
    /// The default price of one unit.
    #[serde(default, with = "amount::opt")]
    pub price: Option<Decimal>,
    /// Whether it may still be sold; an inactive item is never put on a call.
    #[serde(default = "yes")]
    pub active: bool,
    /// Whether this is a product type's placeholder (template) item: it stands in for a product
    /// the billing system lacks, and a call holding it goes on hold.
    #[serde(default)]
    pub placeholder: bool,
    /// When the item last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A product type (`Hardware`, `Supplies`, `Service`) with its placeholder (template) item.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductType {
    /// The billing system's immutable id of the product type.
    pub id: String,
    /// Its name; matched (through the tenant's mapping, else by name) against the ConnectWise
    /// product's type.
    pub name: String,
    /// The item that stands in for a product of this type the billing system lacks; absent
    /// when the type has none (such a product cannot be imported, and the call says so).
    pub placeholder_item_id: Option<String>,
    /// Whether the type is still in use.
    #[serde(default = "yes")]
    pub active: bool,
    /// When the product type last changed.
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
    fn defaults_fill_what_a_vendor_leaves_out_and_prices_read_from_strings() {
        let item: Item = serde_json::from_value(json!({
            "id": "I-1", "sku": "TONER-BK", "name": "Toner", "price": "89.50",
            "updatedAt": "2026-11-02T10:00:00Z"
        }))
        .unwrap();
        assert!(item.active);
        assert!(!item.placeholder);
        assert_eq!(item.price, Some(Decimal::new(8950, 2)));
        let contract: Contract = serde_json::from_value(json!({
            "id": "C-1", "accountId": "A-1", "number": "C-1", "status": "Active",
            "startDate": "2026-01-01", "updatedAt": "2026-11-02T10:00:00Z"
        }))
        .unwrap();
        assert_eq!(
            contract.start_date,
            Some(time::macros::date!(2026 - 01 - 01))
        );
        assert_eq!(
            serde_json::to_value(&contract).unwrap()["startDate"],
            "2026-01-01"
        );
    }
}
