//! The billing-system contract's records (`shared/billing/openapi.yaml` is the same contract in
//! OpenAPI form): accounts with their billing address, sites (location accounts) and contacts, and
//! the write-back bodies for the fields ConnectWise owns; and what the daily export reads
//! (products, subscriptions, account users: [`Product`], [`Subscription`], [`AccountUser`]); and
//! what the ticket import reads and writes (technicians, contracts, items, product types:
//! [`Technician`], [`Contract`], [`Item`], [`ProductType`]; service calls: [`ServiceCall`]); and
//! the billing documents (invoices, payments, orders, projects, contract templates: [`Invoice`],
//! [`Payment`], [`Order`], [`Project`], [`ContractTemplate`]).
//!
//! Plain data shaped like the wire (camelCase JSON); unknown fields are tolerated so a vendor can
//! send more than the contract asks for. Validation of values against ConnectWise's rules is the
//! mapping crate's job, not this one's.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod documents;
mod export;
mod service;
mod service_calls;
pub use documents::{
    BillableOption, ContractTemplate, DocumentItem, Invoice, NewOrder, Order, Payment, Project,
    ProjectKind, ProjectStatus,
};
pub use export::{AccountUser, Price, Product, Subscription};
pub use service::{
    Contract, ContractLine, ContractUpdate, Item, NewContract, ProductType, Technician,
};
pub use service_calls::{
    CallNote, ConnectWiseTicketRequest, HoldRequest, LaborLine, NewServiceCall, Part, ServiceCall,
    ServiceCallStatus, ServiceCallUpdate,
};

/// A postal address. Every part is optional: billing systems hold partial addresses, and the
/// mapping reports what ConnectWise would refuse.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// First street line.
    pub line1: Option<String>,
    /// Second street line.
    pub line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or province: a two-letter code (`AZ`) or a full name (`Arizona`).
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country name (`United States`).
    pub country: Option<String>,
}

/// A customer account: becomes a ConnectWise company.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The billing system's immutable id of the account (the link key).
    pub id: String,
    /// The account code users see; becomes the company identifier and account number.
    pub code: String,
    /// The account's name.
    pub name: String,
    /// Status name (`Active`, `Inactive`, …) → a ConnectWise company status of the same name.
    pub status: Option<String>,
    /// Account type name → a ConnectWise company type of the same name.
    #[serde(rename = "type")]
    pub account_type: Option<String>,
    /// Id of the parent account (→ the company's parent company).
    pub parent_account_id: Option<String>,
    /// Id of the account invoices go to (→ the company's bill-to company).
    pub bill_to_account_id: Option<String>,
    /// ISO 4217 currency code (`USD`).
    pub currency: Option<String>,
    /// Main phone number.
    pub phone: Option<String>,
    /// Fax number.
    pub fax: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// The billing address: the only address ConnectWise's company holds.
    pub billing_address: Option<Address>,
    /// Customer type, for the tenant's customer filter.
    pub customer_type: Option<String>,
    /// Contract type, for the tenant's customer filter.
    pub contract_type: Option<String>,
    /// Branch, for the tenant's customer filter.
    pub branch: Option<String>,
    /// The per-account "sync to ConnectWise" flag; `false` opts the account out.
    #[serde(default = "yes")]
    pub sync_to_connect_wise: bool,
    /// Whether the account is on credit hold (absent: not): mirrored to a tenant-named
    /// ConnectWise company custom field.
    #[serde(default)]
    pub on_hold: bool,
    /// The linked ConnectWise company's id, written back by cwsync (like e-automate's custom
    /// property holding the Company RecID).
    pub connect_wise_company_id: Option<i64>,
    /// Location accounts: become the company's sites.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// The account's people: become the company's contacts.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// When the account (or one of its sites or contacts) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn yes() -> bool {
    true
}

/// A location account of an account: becomes a site of its company.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    /// The billing system's id of the site (unique within the billing system).
    pub id: String,
    /// The site's name (`Main Office`).
    pub name: String,
    /// Where it is.
    #[serde(default)]
    pub address: Address,
    /// Phone number.
    pub phone: Option<String>,
    /// Fax number.
    pub fax: Option<String>,
    /// The linked ConnectWise site's id, written back by cwsync.
    pub connect_wise_site_id: Option<i64>,
}

/// A person at an account: becomes a contact of its company.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// The billing system's id of the contact (unique within the billing system).
    pub id: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Office phone.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Mobile phone.
    pub mobile: Option<String>,
    /// Fax number.
    pub fax: Option<String>,
    /// The linked ConnectWise contact's id, written back by cwsync.
    pub connect_wise_contact_id: Option<i64>,
}

/// One page of a listing: the records and the cursor of the next page (absent on the last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; `None` on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Write-back of an account (JSON merge patch, `PATCH /v1/accounts/{id}`): only the fields that
/// are present change. Carries the fields a tenant marks as owned by ConnectWise, and the link.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountUpdate {
    /// New name.
    pub name: Option<String>,
    /// New status name.
    pub status: Option<String>,
    /// New account type name (of several ConnectWise company types, the first).
    #[serde(rename = "type")]
    pub account_type: Option<String>,
    /// New phone.
    pub phone: Option<String>,
    /// New fax.
    pub fax: Option<String>,
    /// New web site.
    pub website: Option<String>,
    /// New billing address (the ConnectWise company's address), replacing the whole address.
    pub billing_address: Option<Address>,
    /// The linked ConnectWise company id.
    pub connect_wise_company_id: Option<i64>,
}

impl AccountUpdate {
    /// Whether the update changes nothing (no request needs to be sent).
    pub fn is_empty(&self) -> bool {
        *self == AccountUpdate::default()
    }
}

/// Write-back of a site (`PATCH /v1/accounts/{accountId}/sites/{siteId}`), merge-patch semantics.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteUpdate {
    /// New name.
    pub name: Option<String>,
    /// New address, replacing the whole address.
    pub address: Option<Address>,
    /// New phone.
    pub phone: Option<String>,
    /// New fax.
    pub fax: Option<String>,
    /// The linked ConnectWise site id.
    pub connect_wise_site_id: Option<i64>,
}

impl SiteUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == SiteUpdate::default()
    }
}

/// Write-back of a contact (`PATCH /v1/accounts/{accountId}/contacts/{contactId}`), merge-patch
/// semantics.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactUpdate {
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New phone.
    pub phone: Option<String>,
    /// New e-mail address.
    pub email: Option<String>,
    /// New mobile phone.
    pub mobile: Option<String>,
    /// New fax.
    pub fax: Option<String>,
    /// The linked ConnectWise contact id.
    pub connect_wise_contact_id: Option<i64>,
}

impl ContactUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == ContactUpdate::default()
    }
}

/// The most items one `POST /v1/write-backs` may carry (the contract's `maxItems`);
/// [`crate::BillingClient::write_back`] splits longer lists.
pub const MAX_WRITE_BACK_BATCH: usize = 100;

/// One write-back of the batch form (`POST /v1/write-backs`): which record, and its merge patch
/// with the same semantics as the single-record PATCH of that kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum WriteBack {
    /// `PATCH /v1/accounts/{id}`.
    Account {
        /// The account id.
        id: String,
        /// What changes.
        patch: AccountUpdate,
    },
    /// `PATCH /v1/accounts/{accountId}/sites/{siteId}`.
    Site {
        /// The site's account.
        account_id: String,
        /// The site id.
        id: String,
        /// What changes.
        patch: SiteUpdate,
    },
    /// `PATCH /v1/accounts/{accountId}/contacts/{contactId}`.
    Contact {
        /// The contact's account.
        account_id: String,
        /// The contact id.
        id: String,
        /// What changes.
        patch: ContactUpdate,
    },
}

impl WriteBack {
    /// Whether the patch changes nothing (the item needs no request).
    pub fn is_empty(&self) -> bool {
        match self {
            WriteBack::Account { patch, .. } => patch.is_empty(),
            WriteBack::Site { patch, .. } => patch.is_empty(),
            WriteBack::Contact { patch, .. } => patch.is_empty(),
        }
    }

    /// The record in words, as errors name it: `account A-7`, `site S-1 of account A-7`.
    pub fn describe(&self) -> String {
        match self {
            WriteBack::Account { id, .. } => format!("account {id}"),
            WriteBack::Site { account_id, id, .. } => format!("site {id} of account {account_id}"),
            WriteBack::Contact { account_id, id, .. } => {
                format!("contact {id} of account {account_id}")
            }
        }
    }
}

/// The body of `POST /v1/write-backs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteBackBatch {
    /// The write-backs, applied in this order; 1 to [`MAX_WRITE_BACK_BATCH`].
    pub items: Vec<WriteBack>,
}

/// The answer of `POST /v1/write-backs`: one result per item, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteBackResults {
    /// One per item.
    pub results: Vec<WriteBackResult>,
}

/// What became of one item of a batch write-back.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteBackResult {
    /// The status the single-record PATCH would have answered.
    pub status: u16,
    /// The whole record after the change (with 200).
    #[serde(default)]
    pub record: Option<serde_json::Value>,
    /// Why the item was refused (without 200): the contract's `Error.error`.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}
