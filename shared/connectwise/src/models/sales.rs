//! Sales orders with their statuses and line items, opportunities with their types and statuses,
//! and opportunity forecasts.
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

/// A sales order (`/sales/orders`). Required on create: `company`, `salesRep` and `status`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: Option<i64>,
    pub company: Option<Reference>,
    pub contact: Option<Reference>,
    pub phone: Option<String>,
    pub phone_ext: Option<String>,
    pub email: Option<String>,
    pub site: Option<Reference>,
    pub status: Option<Reference>,
    pub opportunity: Option<Reference>,
    #[serde(default, with = "datetime::opt")]
    pub order_date: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub due_date: Option<OffsetDateTime>,
    pub billing_terms: Option<Reference>,
    pub tax_code: Option<Reference>,
    pub po_number: Option<String>,
    pub location: Option<Reference>,
    pub department: Option<Reference>,
    pub sales_rep: Option<Reference>,
    pub notes: Option<String>,
    pub bill_closed_flag: Option<bool>,
    pub bill_shipped_flag: Option<bool>,
    pub restrict_downpayment_flag: Option<bool>,
    pub description: Option<String>,
    pub top_comment_flag: Option<bool>,
    pub bottom_comment_flag: Option<bool>,
    pub ship_to_company: Option<Reference>,
    pub ship_to_contact: Option<Reference>,
    pub ship_to_site: Option<Reference>,
    pub bill_to_company: Option<Reference>,
    pub bill_to_contact: Option<Reference>,
    pub bill_to_site: Option<Reference>,
    pub product_ids: Option<Vec<i64>>,
    pub document_ids: Option<Vec<i64>>,
    pub invoice_ids: Option<Vec<i64>>,
    pub config_ids: Option<Vec<i64>>,
    #[serde(default, with = "money::opt")]
    pub total: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub tax_total: Option<Decimal>,
    pub currency: Option<Reference>,
    pub company_location: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub sub_total: Option<Decimal>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Order {
    const PATH: &'static str = "/sales/orders";
}

/// A line of a sales order (`/sales/orders/{id}/lineitems/`). The spec's line item carries only
/// quantities and billing state; the order's products are `ProductItem`s whose `salesOrder` is
/// the order (the order's `productIds`). Required on create: `salesOrder` (filled from the path).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesOrderLineItem {
    pub id: Option<i64>,
    pub sales_order: Option<Reference>,
    pub quantity: Option<i64>,
    pub quantity_cancelled: Option<i64>,
    pub bill_status: Option<String>,
    pub purchase_order_number: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl SalesOrderLineItem {
    /// The line items of one order. The spec's path ends in a slash, and so does this one.
    pub fn path(order_id: i64) -> String {
        format!("/sales/orders/{order_id}/lineitems/")
    }
}

/// A sales order status (`/sales/orders/statuses`). Required on create: `name`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatus {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub default_flag: Option<bool>,
    pub inactive_flag: Option<bool>,
    pub sort_order: Option<i64>,
    pub email_template: Option<Reference>,
    pub closed_flag: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for OrderStatus {
    const PATH: &'static str = "/sales/orders/statuses";
}

/// An opportunity type (`/sales/opportunities/types`). Required on create: `description`
/// (the type's name; unique).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityType {
    pub id: Option<i64>,
    pub description: Option<String>,
    pub inactive_flag: Option<bool>,
    pub connect_wise_id: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for OpportunityType {
    const PATH: &'static str = "/sales/opportunities/types";
}

/// An opportunity status (`/sales/opportunities/statuses`). Required on create: `name`. A won
/// or lost status (`wonFlag`, `lostFlag`) closes the opportunity it is set on.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpportunityStatus {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub won_flag: Option<bool>,
    pub lost_flag: Option<bool>,
    pub closed_flag: Option<bool>,
    pub inactive_flag: Option<bool>,
    pub default_flag: Option<bool>,
    pub entered_by: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub date_entered: Option<OffsetDateTime>,
    pub connect_wise_id: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for OpportunityStatus {
    const PATH: &'static str = "/sales/opportunities/statuses";
}

/// A sales opportunity (`/sales/opportunities`).
/// Required on create: `name`, `company`, `contact` and `primarySalesRep`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: Option<i64>,
    pub name: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub expected_close_date: Option<OffsetDateTime>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    pub stage: Option<Reference>,
    pub status: Option<Reference>,
    pub priority: Option<Reference>,
    pub notes: Option<String>,
    pub probability: Option<Reference>,
    pub source: Option<String>,
    pub rating: Option<Reference>,
    pub campaign: Option<Reference>,
    pub primary_sales_rep: Option<Reference>,
    pub secondary_sales_rep: Option<Reference>,
    pub location_id: Option<i64>,
    pub business_unit_id: Option<i64>,
    pub company: Option<Reference>,
    pub contact: Option<Reference>,
    pub site: Option<Reference>,
    #[serde(rename = "customerPO")]
    pub customer_po: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub pipeline_change_date: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub date_became_lead: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub closed_date: Option<OffsetDateTime>,
    pub closed_by: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub total_sales_tax: Option<Decimal>,
    pub ship_to_company: Option<Reference>,
    pub ship_to_contact: Option<Reference>,
    pub ship_to_site: Option<Reference>,
    pub bill_to_company: Option<Reference>,
    pub bill_to_contact: Option<Reference>,
    pub bill_to_site: Option<Reference>,
    pub billing_terms: Option<Reference>,
    pub tax_code: Option<Reference>,
    pub currency: Option<Reference>,
    pub company_location_id: Option<i64>,
    pub technical_contact: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Opportunity {
    const PATH: &'static str = "/sales/opportunities";
}

/// The forecast of an opportunity with its items and revenue totals
/// (`GET /sales/opportunities/{id}/forecast` lists these).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    pub id: Option<i64>,
    pub forecast_items: Option<Vec<ForecastItem>>,
    pub product_revenue: Option<RevenueSummary>,
    pub service_revenue: Option<RevenueSummary>,
    pub agreement_revenue: Option<RevenueSummary>,
    pub time_revenue: Option<RevenueSummary>,
    pub expense_revenue: Option<RevenueSummary>,
    pub forecast_revenue_totals: Option<RevenueSummary>,
    pub inclusive_revenue_totals: Option<RevenueSummary>,
    #[serde(default, with = "money::opt")]
    pub recurring_total: Option<Decimal>,
    pub won_revenue: Option<RevenueSummary>,
    pub lost_revenue: Option<RevenueSummary>,
    pub open_revenue: Option<RevenueSummary>,
    pub other_revenue1: Option<RevenueSummary>,
    pub other_revenue2: Option<RevenueSummary>,
    #[serde(default, with = "money::opt")]
    pub sales_tax_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub forecast_total_with_taxes: Option<Decimal>,
    pub expected_probability: Option<i64>,
    pub tax_code: Option<Reference>,
    pub billing_terms: Option<Reference>,
    pub currency: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Forecast {
    /// The forecast collection of one opportunity; `{path}/{id}` addresses one [`ForecastItem`].
    pub fn path(opportunity_id: i64) -> String {
        format!("/sales/opportunities/{opportunity_id}/forecast")
    }
}

/// One line of an opportunity forecast (`/sales/opportunities/{id}/forecast/{itemId}`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForecastItem {
    pub id: Option<i64>,
    pub forecast_description: Option<String>,
    pub opportunity: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub quantity: Option<Decimal>,
    pub bill: Option<String>,
    #[serde(default, with = "money::opt")]
    pub quantity_cancelled: Option<Decimal>,
    #[serde(rename = "teStatusID")]
    pub te_status_id: Option<i64>,
    #[serde(rename = "billingLogRecID")]
    pub billing_log_rec_id: Option<i64>,
    #[serde(rename = "convertedRecID")]
    pub converted_rec_id: Option<i64>,
    #[serde(rename = "convertedAGRDetailRecID")]
    pub converted_agr_detail_rec_id: Option<i64>,
    pub status: Option<Reference>,
    pub catalog_item: Option<Reference>,
    pub product_description: Option<String>,
    pub product_class: Option<String>,
    #[serde(default, with = "money::opt")]
    pub revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub margin: Option<Decimal>,
    pub percentage: Option<i64>,
    pub include_flag: Option<bool>,
    pub quote_werks_doc_no: Option<String>,
    pub quote_werks_doc_name: Option<String>,
    pub quote_werks_quantity: Option<i64>,
    /// One of: Other1, Other2, Agreement, Product, Service.
    pub forecast_type: Option<String>,
    pub link_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub recurring_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub recurring_cost: Option<Decimal>,
    #[serde(default, with = "datetime::opt")]
    pub recurring_date_start: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub recurring_date_end: Option<OffsetDateTime>,
    pub bill_cycle: Option<Reference>,
    pub cycle_basis: Option<String>,
    pub cycles: Option<i64>,
    pub recurring_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub sequence_number: Option<Decimal>,
    pub sub_number: Option<i64>,
    pub taxable_flag: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

/// A revenue total of a [`Forecast`] (product, service, agreement, won, lost, ... revenue).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueSummary {
    pub id: Option<i64>,
    #[serde(default, with = "money::opt")]
    pub revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub margin: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub percentage: Option<Decimal>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}
