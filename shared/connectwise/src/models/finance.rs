//! Agreements, their types and additions, invoices and invoice payments.
//!
//! Plain data shaped like the API (see `models` for the conventions); no I/O and no validation.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Resource,
    common::{CustomFieldValue, Info, Reference},
    datetime, money,
};

/// A service agreement with a company (`/finance/agreements`).
/// Required on create: `name`, `type`, `company` and `contact`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_contract_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_contract_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_agreement: Option<Reference>,
    #[serde(
        rename = "customerPO",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_po: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_location_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_department_flag: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub start_date: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub end_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_ending_date_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_flag: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub date_cancelled: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_cancelled: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    /// One of: Amount, Hours, Incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_units: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub application_limit: Option<Decimal>,
    /// One of: Contract2Weeks, Contract4Weeks, ContractYear, CalendarMonth, CalendarQuarter, CalendarWeek, ContractQuarter, CalendarYear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_cycle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_unlimited_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_agreement_time: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_agreement_product: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_agreement_expense: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_sales_tax: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carry_over_unused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_overruns: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_when_zero: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_to_firm: Option<bool>,
    /// One of: Actual, Hourly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_comp_rate: Option<String>,
    /// One of: Billing, Amount, Percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_comp_not_exceed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub comp_hourly_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub comp_limit_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_one_time_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_terms: Option<Reference>,
    /// One of: ContractYear, CalendarYear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoicing_cycle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub bill_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub prorate_first_bill: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub bill_start_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_down_payment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prorate_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_prorated_additions_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_comment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottom_comment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_role: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_template: Option<Reference>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_time: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_expenses: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_products: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_time_invoice: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_expense_invoice: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_product_invoice: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    /// One of: Current, Future, Both, Undefined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_invoice_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_zero_amount_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_invoice_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_site: Option<Reference>,
    /// One of: Active, Cancelled, Expired, Inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_status: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Agreement {
    const PATH: &'static str = "/finance/agreements";
}

/// A template for agreements (`/finance/agreements/types`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementType {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// One of: Prefix, Suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_suffix_option: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_payment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_pre_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_location_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_department_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<Reference>,
    /// One of: Amount, Hours, Incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_units: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub application_limit: Option<Decimal>,
    /// One of: Contract2Weeks, Contract4Weeks, ContractYear, CalendarMonth, CalendarQuarter, CalendarWeek, ContractQuarter, CalendarYear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_cycle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_unlimited_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_agreement_time_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_agreement_product_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_agreement_expense_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_sales_tax_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carry_over_unused_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_overruns_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_when_zero: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_to_firm_flag: Option<bool>,
    /// One of: Actual, Hourly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_comp_rate: Option<String>,
    /// One of: Billing, Amount, Percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_comp_not_exceed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub comp_hourly_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub comp_limit_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_one_time_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_terms: Option<Reference>,
    /// One of: ContractYear, CalendarYear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoicing_cycle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub bill_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_down_payment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_comment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottom_comment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_role: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_template: Option<Reference>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_time: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_expenses: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_products: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_time_invoice_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_expense_invoice_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_product_invoice_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_work_roles_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_work_types_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion_work_role_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_all_work_role_exclusions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_all_work_role_exclusions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion_work_type_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_all_work_type_exclusions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_all_work_type_exclusions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_x_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prorate_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_template: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_invoice_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_zero_amount_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_prorated_additions_flag: Option<bool>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_wise_id: Option<String>,
}

impl Resource for AgreementType {
    const PATH: &'static str = "/finance/agreements/types";
}

/// A product billed on an agreement (`/finance/agreements/{id}/additions`).
/// Required on create: `product` and `billCustomer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub less_included: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub unit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub unit_cost: Option<Decimal>,
    /// One of: Billable, DoNotBill, NoCharge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_customer: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub effective_date: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub cancelled_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_item_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_order_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub billed_quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub ext_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub ext_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sequence_number: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub margin: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub prorate_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub prorate_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub extended_prorate_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub extended_prorate_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prorate_current_period_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<Reference>,
    /// One of: Active, Cancelled, Expired, Inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_grouping: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Addition {
    /// The collection of additions of one agreement.
    pub fn path(agreement_id: i64) -> String {
        format!("/finance/agreements/{agreement_id}/additions")
    }
}

/// An invoice (`/finance/invoices`). Required on create: `type` and `company`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// One of: Agreement, CreditMemo, DownPayment, Miscellaneous, Progress, Standard, Consolidated.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    /// One of: All, Agreement, Project, ProjectPhase, SalesOrder, Ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_to_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_to_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_attention: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site_address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site_address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site_city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site_zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_site_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_site_address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_site_address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_site_city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_site_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_site_zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_site_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_terms: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(
        rename = "customerPO",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_po: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_setup_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_template: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_template_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_batch_email_list: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_downpayment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottom_comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downpayment_previously_taxed_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub service_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_down_payment_amount_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub due_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub expense_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub product_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub previous_progress_applied: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub service_adjustment_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub agreement_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub downpayment_applied: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub subtotal: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub remaining_downpayment: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sales_tax: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjusted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub payments: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub credits: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub balance: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_invoice_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_setup_reference: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_order: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gl_batch: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbatched_batch: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Invoice {
    const PATH: &'static str = "/finance/invoices";
}

impl Invoice {
    /// The PDF rendering of one invoice (`application/pdf`, not JSON).
    pub fn pdf_path(invoice_id: i64) -> String {
        format!("/finance/invoices/{invoice_id}/pdf")
    }
}

/// A payment applied to an invoice (`/finance/invoices/{id}/payments`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoicePayment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub balance: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub invoice_balance: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub invoice_total: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub payment_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_by: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wise_pay_payment: Option<WisePayPayment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_sync_status: Option<String>,
    #[serde(rename = "glBatchID", default, skip_serializing_if = "Option::is_none")]
    pub gl_batch_id: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub payment_sync_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_r_payment_account: Option<String>,
}

impl InvoicePayment {
    /// The collection of payments of one invoice.
    pub fn path(invoice_id: i64) -> String {
        format!("/finance/invoices/{invoice_id}/payments")
    }
}

/// WisePay details of an invoice payment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WisePayPayment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_date_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wise_pay_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_payment: Option<WisePayBatchPayment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_invoice: Option<WisePayFeeInvoice>,
}

/// The WisePay batch a payment belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WisePayBatchPayment {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wise_pay_href: Option<String>,
}

/// The WisePay fee invoice of a payment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WisePayFeeInvoice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_href: Option<String>,
}
