//! Companies and what hangs off them: sites, contacts, types, statuses, states and countries.
//!
//! Plain data shaped like the API (see `models` for the conventions); no I/O and no validation.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Resource,
    common::{CustomFieldValue, Info, RedactedString, Reference},
    datetime, money,
};

/// A customer, vendor or other organisation (`/company/companies`).
/// Required on create: `identifier` and `name`, plus at least one address field. `types` is accepted
/// only on create; change types later through [`CompanyTypeAssociation`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    pub id: Option<i64>,
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub status: Option<Reference>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<Reference>,
    pub phone_number: Option<String>,
    pub fax_number: Option<String>,
    pub website: Option<String>,
    pub territory: Option<Reference>,
    pub market: Option<Reference>,
    pub account_number: Option<String>,
    pub default_contact: Option<Reference>,
    #[serde(default, with = "datetime::opt")]
    pub date_acquired: Option<OffsetDateTime>,
    pub sic_code: Option<Reference>,
    pub parent_company: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub annual_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub credit_limit: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub additional_debt: Option<Decimal>,
    pub number_of_employees: Option<i64>,
    pub year_established: Option<i64>,
    pub revenue_year: Option<i64>,
    pub ownership_type: Option<Reference>,
    pub time_zone_setup: Option<Reference>,
    pub lead_source: Option<String>,
    pub lead_flag: Option<bool>,
    pub unsubscribe_flag: Option<bool>,
    pub calendar: Option<Reference>,
    pub user_defined_field1: Option<String>,
    pub user_defined_field2: Option<String>,
    pub user_defined_field3: Option<String>,
    pub user_defined_field4: Option<String>,
    pub user_defined_field5: Option<String>,
    pub user_defined_field6: Option<String>,
    pub user_defined_field7: Option<String>,
    pub user_defined_field8: Option<String>,
    pub user_defined_field9: Option<String>,
    pub user_defined_field10: Option<String>,
    pub vendor_identifier: Option<String>,
    pub tax_identifier: Option<String>,
    pub tax_code: Option<Reference>,
    pub billing_terms: Option<Reference>,
    pub invoice_template: Option<Reference>,
    pub pricing_schedule: Option<Reference>,
    pub company_entity_type: Option<Reference>,
    pub bill_to_company: Option<Reference>,
    pub billing_site: Option<Reference>,
    pub billing_contact: Option<Reference>,
    pub invoice_delivery_method: Option<Reference>,
    pub email_template: Option<Reference>,
    pub invoice_to_email_address: Option<String>,
    #[serde(rename = "invoiceCCEmailAddress")]
    pub invoice_cc_email_address: Option<String>,
    pub deleted_flag: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub date_deleted: Option<OffsetDateTime>,
    pub deleted_by: Option<String>,
    pub mobile_guid: Option<String>,
    pub facebook_url: Option<String>,
    pub twitter_url: Option<String>,
    pub linked_in_url: Option<String>,
    pub currency: Option<Reference>,
    pub territory_manager: Option<Reference>,
    pub reseller_identifier: Option<String>,
    pub is_vendor_flag: Option<bool>,
    pub types: Option<Vec<Reference>>,
    pub site: Option<Reference>,
    pub integrator_tags: Option<Vec<String>>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Company {
    const PATH: &'static str = "/company/companies";
}

/// An address of a company (`/company/companies/{id}/sites`). Required on create: `name`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanySite {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state_reference: Option<Reference>,
    pub zip: Option<String>,
    pub country: Option<Reference>,
    pub address_format: Option<String>,
    pub phone_number: Option<String>,
    pub phone_number_ext: Option<String>,
    pub fax_number: Option<String>,
    pub tax_code: Option<Reference>,
    pub entity_type: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub expense_reimbursement: Option<Decimal>,
    pub primary_address_flag: Option<bool>,
    pub default_shipping_flag: Option<bool>,
    pub default_billing_flag: Option<bool>,
    pub default_mailing_flag: Option<bool>,
    pub inactive_flag: Option<bool>,
    pub bill_separate_flag: Option<bool>,
    pub mobile_guid: Option<String>,
    pub calendar: Option<Reference>,
    pub time_zone: Option<Reference>,
    pub company: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub territory: Option<Reference>,
    pub invoice_template: Option<Reference>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl CompanySite {
    /// The collection of sites of one company.
    pub fn path(company_id: i64) -> String {
        format!("/company/companies/{company_id}/sites")
    }
}

/// A person at a company (`/company/contacts`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: Option<i64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<Reference>,
    pub site: Option<Reference>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<Reference>,
    pub relationship: Option<Reference>,
    pub relationship_override: Option<String>,
    pub department: Option<Reference>,
    pub inactive_flag: Option<bool>,
    pub default_merge_contact_id: Option<i64>,
    pub security_identifier: Option<String>,
    pub manager_contact: Option<Reference>,
    pub assistant_contact: Option<Reference>,
    pub title: Option<String>,
    pub school: Option<String>,
    pub nick_name: Option<String>,
    pub married_flag: Option<bool>,
    pub children_flag: Option<bool>,
    pub children: Option<String>,
    pub significant_other: Option<String>,
    pub portal_password: Option<RedactedString>,
    pub portal_security_level: Option<i64>,
    pub disable_portal_login_flag: Option<bool>,
    pub unsubscribe_flag: Option<bool>,
    /// One of: Female, Male.
    pub gender: Option<String>,
    pub birth_day: Option<String>,
    pub anniversary: Option<String>,
    /// One of: NoAgent, Online, DoNotDisturb, Away, Offline.
    pub presence: Option<String>,
    pub mobile_guid: Option<String>,
    pub facebook_url: Option<String>,
    pub twitter_url: Option<String>,
    pub linked_in_url: Option<String>,
    pub default_phone_type: Option<String>,
    pub default_phone_nbr: Option<String>,
    pub default_phone_extension: Option<String>,
    pub default_billing_flag: Option<bool>,
    pub default_flag: Option<bool>,
    pub user_defined_field1: Option<String>,
    pub user_defined_field2: Option<String>,
    pub user_defined_field3: Option<String>,
    pub user_defined_field4: Option<String>,
    pub user_defined_field5: Option<String>,
    pub user_defined_field6: Option<String>,
    pub user_defined_field7: Option<String>,
    pub user_defined_field8: Option<String>,
    pub user_defined_field9: Option<String>,
    pub user_defined_field10: Option<String>,
    pub company_location: Option<Reference>,
    pub communication_items: Option<Vec<ContactCommunicationItem>>,
    pub types: Option<Vec<Reference>>,
    pub integrator_tags: Option<Vec<String>>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
    pub photo: Option<Reference>,
    pub ignore_duplicates: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub type_ids: Option<Vec<i64>>,
}

impl Resource for Contact {
    const PATH: &'static str = "/company/contacts";
}

/// One phone number, fax number or e-mail address of a contact (`communicationItems[]`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCommunicationItem {
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    pub value: Option<String>,
    pub extension: Option<String>,
    pub default_flag: Option<bool>,
    pub domain: Option<String>,
    /// One of: Email, Fax, Phone.
    pub communication_type: Option<String>,
}

/// A communication type of the instance's setup table (`/company/communicationTypes`): Direct,
/// Mobile, Fax, Email… Each tenant edits its own table, so ids differ between instances; what a
/// type holds (a phone number, a fax number, an e-mail address) is in its flags, and its name
/// is its `description`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationType {
    pub id: Option<i64>,
    pub description: Option<String>,
    pub phone_flag: Option<bool>,
    pub fax_flag: Option<bool>,
    pub email_flag: Option<bool>,
    pub default_flag: Option<bool>,
    pub exchange_xref: Option<String>,
    pub android_xref: Option<String>,
    pub iphone_xref: Option<String>,
    pub google_xref: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for CommunicationType {
    const PATH: &'static str = "/company/communicationTypes";
}

/// A company type such as Client or Partner (`/company/companies/types`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyType {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub default_flag: Option<bool>,
    pub vendor_flag: Option<bool>,
    pub service_alert_flag: Option<bool>,
    pub service_alert_message: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub connect_wise_id: Option<String>,
}

impl Resource for CompanyType {
    const PATH: &'static str = "/company/companies/types";
}

/// A company status such as Active (`/company/companies/statuses`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyStatus {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub default_flag: Option<bool>,
    pub inactive_flag: Option<bool>,
    pub notify_flag: Option<bool>,
    pub disallow_saving_flag: Option<bool>,
    pub notification_message: Option<String>,
    pub custom_note_flag: Option<bool>,
    pub cancel_open_tracks_flag: Option<bool>,
    pub track: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub connect_wise_id: Option<String>,
}

impl Resource for CompanyStatus {
    const PATH: &'static str = "/company/companies/statuses";
}

/// Links a company to one company type (`/company/companyTypeAssociations`, or per company
/// under `/company/companies/{id}/typeAssociations`). Required on create: `company` and `type`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyTypeAssociation {
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    pub company: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for CompanyTypeAssociation {
    const PATH: &'static str = "/company/companyTypeAssociations";
}

impl CompanyTypeAssociation {
    /// The type associations of one company.
    pub fn path_for_company(company_id: i64) -> String {
        format!("/company/companies/{company_id}/typeAssociations")
    }
}

/// A state or province (`/company/states`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub id: Option<i64>,
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub country: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for State {
    const PATH: &'static str = "/company/states";
}

/// A country (`/company/countries`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Country {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub default_flag: Option<bool>,
    pub currency: Option<Reference>,
    pub city_caption: Option<String>,
    pub state_caption: Option<String>,
    pub zip_caption: Option<String>,
    pub zip_minimum_length: Option<i64>,
    pub dialing_prefix: Option<String>,
    pub address_format: Option<Reference>,
    pub country_code: Option<String>,
    pub core_entity_country_code: Option<String>,
    pub localization_caption_one: Option<String>,
    pub localization_value_one: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for Country {
    const PATH: &'static str = "/company/countries";
}
