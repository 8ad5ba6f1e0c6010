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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub id: Option<i64>,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    pub company: Option<Reference>,
    pub contact: Option<Reference>,
    pub site: Option<Reference>,
    pub sub_contract_company: Option<Reference>,
    pub sub_contract_contact: Option<Reference>,
    pub parent_agreement: Option<Reference>,
    #[serde(rename = "customerPO")]
    pub customer_po: Option<String>,
    pub location: Option<Reference>,
    pub department: Option<Reference>,
    pub restrict_location_flag: Option<bool>,
    pub restrict_department_flag: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub start_date: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub end_date: Option<OffsetDateTime>,
    pub no_ending_date_flag: Option<bool>,
    pub opportunity: Option<Reference>,
    pub cancelled_flag: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub date_cancelled: Option<OffsetDateTime>,
    pub reason_cancelled: Option<String>,
    pub sla: Option<Reference>,
    pub work_order: Option<String>,
    pub internal_notes: Option<String>,
    /// One of: Amount, Hours, Incidents.
    pub application_units: Option<String>,
    #[serde(default, with = "money::opt")]
    pub application_limit: Option<Decimal>,
    /// One of: Contract2Weeks, Contract4Weeks, ContractYear, CalendarMonth, CalendarQuarter, CalendarWeek, ContractQuarter, CalendarYear.
    pub application_cycle: Option<String>,
    pub application_unlimited_flag: Option<bool>,
    pub one_time_flag: Option<bool>,
    pub cover_agreement_time: Option<bool>,
    pub cover_agreement_product: Option<bool>,
    pub cover_agreement_expense: Option<bool>,
    pub cover_sales_tax: Option<bool>,
    pub carry_over_unused: Option<bool>,
    pub allow_overruns: Option<bool>,
    pub expired_days: Option<i64>,
    pub limit: Option<i64>,
    pub expire_when_zero: Option<bool>,
    pub charge_to_firm: Option<bool>,
    /// One of: Actual, Hourly.
    pub employee_comp_rate: Option<String>,
    /// One of: Billing, Amount, Percent.
    pub employee_comp_not_exceed: Option<String>,
    #[serde(default, with = "money::opt")]
    pub comp_hourly_rate: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub comp_limit_amount: Option<Decimal>,
    pub billing_cycle: Option<Reference>,
    pub bill_one_time_flag: Option<bool>,
    pub billing_terms: Option<Reference>,
    /// One of: ContractYear, CalendarYear.
    pub invoicing_cycle: Option<String>,
    pub bill_to_company: Option<Reference>,
    pub bill_to_contact: Option<Reference>,
    pub bill_to_site: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub bill_amount: Option<Decimal>,
    pub taxable: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub prorate_first_bill: Option<Decimal>,
    #[serde(default, with = "datetime::opt")]
    pub bill_start_date: Option<OffsetDateTime>,
    pub tax_code: Option<Reference>,
    pub restrict_down_payment: Option<bool>,
    pub prorate_flag: Option<bool>,
    pub invoice_prorated_additions_flag: Option<bool>,
    pub invoice_description: Option<String>,
    pub top_comment: Option<bool>,
    pub bottom_comment: Option<bool>,
    pub work_role: Option<Reference>,
    pub work_type: Option<Reference>,
    pub project_type: Option<Reference>,
    pub invoice_template: Option<Reference>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_time: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_expenses: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_products: Option<String>,
    pub billable_time_invoice: Option<bool>,
    pub billable_expense_invoice: Option<bool>,
    pub billable_product_invoice: Option<bool>,
    pub currency: Option<Reference>,
    /// One of: Current, Future, Both, Undefined.
    pub period_type: Option<String>,
    pub auto_invoice_flag: Option<bool>,
    pub bill_zero_amount_flag: Option<bool>,
    pub next_invoice_date: Option<String>,
    pub company_location: Option<Reference>,
    pub ship_to_company: Option<Reference>,
    pub ship_to_contact: Option<Reference>,
    pub ship_to_site: Option<Reference>,
    /// One of: Active, Cancelled, Expired, Inactive.
    pub agreement_status: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Agreement {
    const PATH: &'static str = "/finance/agreements";
}

/// A template for agreements (`/finance/agreements/types`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementType {
    pub id: Option<i64>,
    pub name: Option<String>,
    /// One of: Prefix, Suffix.
    pub prefix_suffix_option: Option<String>,
    pub default_flag: Option<bool>,
    pub inactive_flag: Option<bool>,
    pub pre_payment_flag: Option<bool>,
    pub invoice_pre_suffix: Option<String>,
    pub location: Option<Reference>,
    pub department: Option<Reference>,
    pub restrict_location_flag: Option<bool>,
    pub restrict_department_flag: Option<bool>,
    pub sla: Option<Reference>,
    /// One of: Amount, Hours, Incidents.
    pub application_units: Option<String>,
    #[serde(default, with = "money::opt")]
    pub application_limit: Option<Decimal>,
    /// One of: Contract2Weeks, Contract4Weeks, ContractYear, CalendarMonth, CalendarQuarter, CalendarWeek, ContractQuarter, CalendarYear.
    pub application_cycle: Option<String>,
    pub application_unlimited_flag: Option<bool>,
    pub one_time_flag: Option<bool>,
    pub cover_agreement_time_flag: Option<bool>,
    pub cover_agreement_product_flag: Option<bool>,
    pub cover_agreement_expense_flag: Option<bool>,
    pub cover_sales_tax_flag: Option<bool>,
    pub carry_over_unused_flag: Option<bool>,
    pub allow_overruns_flag: Option<bool>,
    pub expired_days: Option<i64>,
    pub limit: Option<i64>,
    pub expire_when_zero: Option<bool>,
    pub charge_to_firm_flag: Option<bool>,
    /// One of: Actual, Hourly.
    pub employee_comp_rate: Option<String>,
    /// One of: Billing, Amount, Percent.
    pub employee_comp_not_exceed: Option<String>,
    #[serde(default, with = "money::opt")]
    pub comp_hourly_rate: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub comp_limit_amount: Option<Decimal>,
    pub billing_cycle: Option<Reference>,
    pub bill_one_time_flag: Option<bool>,
    pub billing_terms: Option<Reference>,
    /// One of: ContractYear, CalendarYear.
    pub invoicing_cycle: Option<String>,
    #[serde(default, with = "money::opt")]
    pub bill_amount: Option<Decimal>,
    pub taxable_flag: Option<bool>,
    pub restrict_down_payment_flag: Option<bool>,
    pub invoice_description: Option<String>,
    pub top_comment_flag: Option<bool>,
    pub bottom_comment_flag: Option<bool>,
    pub work_role: Option<Reference>,
    pub work_type: Option<Reference>,
    pub project_type: Option<Reference>,
    pub invoice_template: Option<Reference>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_time: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_expenses: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_products: Option<String>,
    pub billable_time_invoice_flag: Option<bool>,
    pub billable_expense_invoice_flag: Option<bool>,
    pub billable_product_invoice_flag: Option<bool>,
    pub copy_work_roles_flag: Option<bool>,
    pub copy_work_types_flag: Option<bool>,
    pub exclusion_work_role_ids: Option<Vec<i64>>,
    pub add_all_work_role_exclusions: Option<bool>,
    pub remove_all_work_role_exclusions: Option<bool>,
    pub exclusion_work_type_ids: Option<Vec<i64>>,
    pub add_all_work_type_exclusions: Option<bool>,
    pub remove_all_work_type_exclusions: Option<bool>,
    pub integration_x_ref: Option<String>,
    pub prorate_flag: Option<bool>,
    pub email_template: Option<Reference>,
    pub auto_invoice_flag: Option<bool>,
    pub bill_zero_amount_flag: Option<bool>,
    pub invoice_prorated_additions_flag: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub connect_wise_id: Option<String>,
}

impl Resource for AgreementType {
    const PATH: &'static str = "/finance/agreements/types";
}

/// A product billed on an agreement (`/finance/agreements/{id}/additions`).
/// Required on create: `product` and `billCustomer`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addition {
    pub id: Option<i64>,
    pub product: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub quantity: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub less_included: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub unit_price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub unit_cost: Option<Decimal>,
    /// One of: Billable, DoNotBill, NoCharge.
    pub bill_customer: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub effective_date: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub cancelled_date: Option<OffsetDateTime>,
    pub taxable_flag: Option<bool>,
    pub serial_number: Option<String>,
    pub invoice_description: Option<String>,
    pub purchase_item_flag: Option<bool>,
    pub special_order_flag: Option<bool>,
    pub agreement_id: Option<i64>,
    pub description: Option<String>,
    #[serde(default, with = "money::opt")]
    pub billed_quantity: Option<Decimal>,
    pub uom: Option<String>,
    #[serde(default, with = "money::opt")]
    pub ext_price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub ext_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub sequence_number: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub margin: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub prorate_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub prorate_price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub extended_prorate_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub extended_prorate_price: Option<Decimal>,
    pub prorate_current_period_flag: Option<bool>,
    pub opportunity: Option<Reference>,
    /// One of: Active, Cancelled, Expired, Inactive.
    pub agreement_status: Option<String>,
    pub invoice_grouping: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Addition {
    /// The collection of additions of one agreement.
    pub fn path(agreement_id: i64) -> String {
        format!("/finance/agreements/{agreement_id}/additions")
    }
}

/// An invoice (`/finance/invoices`). Required on create: `type` and `company`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: Option<i64>,
    pub invoice_number: Option<String>,
    /// One of: Agreement, CreditMemo, DownPayment, Miscellaneous, Progress, Standard, Consolidated.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<Reference>,
    pub company: Option<Reference>,
    pub bill_to_company: Option<Reference>,
    pub ship_to_company: Option<Reference>,
    pub account_number: Option<String>,
    /// One of: All, Agreement, Project, ProjectPhase, SalesOrder, Ticket.
    pub apply_to_type: Option<String>,
    pub apply_to_id: Option<i64>,
    pub attention: Option<String>,
    pub ship_to_attention: Option<String>,
    pub billing_site: Option<Reference>,
    pub billing_site_address_line1: Option<String>,
    pub billing_site_address_line2: Option<String>,
    pub billing_site_city: Option<String>,
    pub billing_site_state: Option<String>,
    pub billing_site_zip: Option<String>,
    pub billing_site_country: Option<String>,
    pub shipping_site: Option<Reference>,
    pub shipping_site_address_line1: Option<String>,
    pub shipping_site_address_line2: Option<String>,
    pub shipping_site_city: Option<String>,
    pub shipping_site_state: Option<String>,
    pub shipping_site_zip: Option<String>,
    pub shipping_site_country: Option<String>,
    pub billing_terms: Option<Reference>,
    pub reference: Option<String>,
    #[serde(rename = "customerPO")]
    pub customer_po: Option<String>,
    pub template_setup_id: Option<i64>,
    pub invoice_template: Option<Reference>,
    pub email_template_id: Option<i64>,
    pub add_to_batch_email_list: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub date: Option<OffsetDateTime>,
    pub restrict_downpayment_flag: Option<bool>,
    pub location_id: Option<i64>,
    pub location: Option<Reference>,
    pub department_id: Option<i64>,
    pub department: Option<Reference>,
    pub territory_id: Option<i64>,
    pub territory: Option<Reference>,
    pub top_comment: Option<String>,
    pub bottom_comment: Option<String>,
    pub taxable_flag: Option<bool>,
    pub tax_code: Option<Reference>,
    pub internal_notes: Option<String>,
    pub downpayment_previously_taxed_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub service_total: Option<Decimal>,
    pub override_down_payment_amount_flag: Option<bool>,
    pub currency: Option<Reference>,
    #[serde(default, with = "datetime::opt")]
    pub due_date: Option<OffsetDateTime>,
    #[serde(default, with = "money::opt")]
    pub expense_total: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub product_total: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub previous_progress_applied: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub service_adjustment_amount: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub agreement_amount: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub downpayment_applied: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub subtotal: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub total: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub remaining_downpayment: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub sales_tax: Option<Decimal>,
    pub adjustment_reason: Option<String>,
    pub adjusted_by: Option<String>,
    pub closed_by: Option<String>,
    #[serde(default, with = "money::opt")]
    pub payments: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub credits: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub balance: Option<Decimal>,
    pub special_invoice_flag: Option<bool>,
    pub billing_setup_reference: Option<Reference>,
    pub ticket: Option<Reference>,
    pub project: Option<Reference>,
    pub phase: Option<Reference>,
    pub sales_order: Option<Reference>,
    pub agreement: Option<Reference>,
    pub gl_batch: Option<Reference>,
    pub unbatched_batch: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoicePayment {
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub source: Option<String>,
    pub invoice: Option<Reference>,
    pub credit: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub amount: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub balance: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub invoice_balance: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub invoice_total: Option<Decimal>,
    #[serde(default, with = "datetime::opt")]
    pub payment_date: Option<OffsetDateTime>,
    pub applied_by: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub wise_pay_payment: Option<WisePayPayment>,
    pub payment_sync_status: Option<String>,
    #[serde(rename = "glBatchID")]
    pub gl_batch_id: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub payment_sync_date: Option<OffsetDateTime>,
    pub payment_account: Option<String>,
    pub a_r_payment_account: Option<String>,
}

impl InvoicePayment {
    /// The collection of payments of one invoice.
    pub fn path(invoice_id: i64) -> String {
        format!("/finance/invoices/{invoice_id}/payments")
    }
}

/// WisePay details of an invoice payment.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WisePayPayment {
    pub payment_date_utc: Option<String>,
    pub wise_pay_reference: Option<String>,
    pub batch_payment: Option<WisePayBatchPayment>,
    pub fee_invoice: Option<WisePayFeeInvoice>,
}

/// The WisePay batch a payment belongs to.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WisePayBatchPayment {
    #[serde(default, with = "money::opt")]
    pub amount: Option<Decimal>,
    pub wise_pay_href: Option<String>,
}

/// The WisePay fee invoice of a payment.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WisePayFeeInvoice {
    pub id: Option<i64>,
    pub invoice_number: Option<String>,
    #[serde(default, with = "money::opt")]
    pub amount: Option<Decimal>,
    pub invoice_href: Option<String>,
}

/// A currency (`/finance/currencies`), referenced by companies and agreements.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Currency {
    pub id: Option<i64>,
    /// ISO 4217 code, e.g. `USD`.
    pub currency_code: Option<String>,
    pub currency_identifier: Option<String>,
    pub name: Option<String>,
    pub symbol: Option<String>,
    pub number_of_decimals: Option<i64>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for Currency {
    const PATH: &'static str = "/finance/currencies";
}
