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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_contact: Option<Reference>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub date_acquired: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sic_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub annual_revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub credit_limit: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub additional_debt: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_employees: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_established: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_year: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone_setup: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field3: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field7: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field8: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field9: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field10: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_terms: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_template: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_schedule: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_entity_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_delivery_method: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_template: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_to_email_address: Option<String>,
    #[serde(
        rename = "invoiceCCEmailAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invoice_cc_email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_flag: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub date_deleted: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_guid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facebook_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twitter_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_in_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory_manager: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseller_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_vendor_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<Reference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrator_tags: Option<Vec<String>>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Company {
    const PATH: &'static str = "/company/companies";
}

/// An address of a company (`/company/companies/{id}/sites`). Required on create: `name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanySite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reference: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_ext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub expense_reimbursement: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_address_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_shipping_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_billing_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mailing_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_separate_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_guid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_template: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl CompanySite {
    /// The collection of sites of one company.
    pub fn path(company_id: i64) -> String {
        format!("/company/companies/{company_id}/sites")
    }
}

/// A person at a company (`/company/contacts`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship_override: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_merge_contact_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assistant_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub married_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significant_other: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_password: Option<RedactedString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_security_level: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_portal_login_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_flag: Option<bool>,
    /// One of: Female, Male.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anniversary: Option<String>,
    /// One of: NoAgent, Online, DoNotDisturb, Away, Offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_guid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facebook_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twitter_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_in_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_phone_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_phone_nbr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_phone_extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_billing_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field3: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field7: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field8: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field9: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_defined_field10: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communication_items: Option<Vec<ContactCommunicationItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<Reference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrator_tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_duplicates: Option<bool>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_ids: Option<Vec<i64>>,
}

impl Resource for Contact {
    const PATH: &'static str = "/company/contacts";
}

/// One phone number, fax number or e-mail address of a contact (`communicationItems[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCommunicationItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// One of: Email, Fax, Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communication_type: Option<String>,
}

/// A company type such as Client or Partner (`/company/companies/types`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyType {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_alert_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_alert_message: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_wise_id: Option<String>,
}

impl Resource for CompanyType {
    const PATH: &'static str = "/company/companies/types";
}

/// A company status such as Active (`/company/companies/statuses`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disallow_saving_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_note_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_open_tracks_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_wise_id: Option<String>,
}

impl Resource for CompanyStatus {
    const PATH: &'static str = "/company/companies/statuses";
}

/// Links a company to one company type (`/company/companyTypeAssociations`, or per company
/// under `/company/companies/{id}/typeAssociations`). Required on create: `company` and `type`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyTypeAssociation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Resource for State {
    const PATH: &'static str = "/company/states";
}

/// A country (`/company/countries`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Country {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_minimum_length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialing_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_format: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_entity_country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localization_caption_one: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localization_value_one: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Resource for Country {
    const PATH: &'static str = "/company/countries";
}
