//! The daily export, the pure part: products → ConnectWise catalog items, subscriptions →
//! additions on the right agreement, the account's user list as a CSV document, and the
//! mass-change guard that stops a run cancelling or zeroing too much at once.
//!
//! No I/O: the function reads the billing system and ConnectWise (the reference data in
//! [`ExportReference`], the candidates to match), hands the records here, and carries out what
//! comes back. Every problem names its record and field ([`RecordProblem`]); a billing value with
//! no mapping names the value and the setting to add.
//!
//! [`RecordProblem`]: crate::record::RecordProblem

mod additions;
mod agreements;
mod catalog;
#[cfg(test)]
mod fixtures;
mod guard;
mod lookup;
mod pricing;
mod reference;
mod user_list;

pub use additions::{
    AgreementKind, DesiredAddition, addition_changes, desired_addition, needs_new_addition,
};
pub use agreements::{
    AgreementParty, MAX_AGREEMENT_NAME_CHARS, agreement_name, desired_agreement, match_agreement,
};
pub use catalog::{
    MAX_CATALOG_DESCRIPTION_CHARS, MAX_CATALOG_IDENTIFIER_CHARS, MAX_CUSTOMER_DESCRIPTION_CHARS,
    catalog_item_changes, desired_catalog_item, desired_catalog_item_noted, match_catalog_item,
};
pub use guard::{GuardTrip, PlannedAddition, mass_change};
pub use reference::{ExportReference, Resolved};
pub use user_list::{USER_LIST_HEADER, UserListCsv, user_list_csv};

use serde::Serialize;

/// Entity names used in problems, run logs, links and the error ledger.
pub mod entity {
    /// A billing product ↔ a ConnectWise catalog item (record id: the product's).
    pub const CATALOG_ITEM: &str = "catalog-item";
    /// A billing subscription ↔ an agreement addition (record id: the subscription's).
    pub const ADDITION: &str = "addition";
    /// A billing account's agreement of one kind ↔ a ConnectWise agreement (record id: the
    /// account's).
    pub const AGREEMENT: &str = "agreement";
    /// A billing account's user list ↔ a document on its agreement (record id: the account's).
    pub const USER_LIST: &str = "user-list";
}

/// A settings enumeration as ConnectWise spells it (`NonInventory`, `ContractYear`).
fn wire<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
}
