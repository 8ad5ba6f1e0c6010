//! Sales orders, opportunities and opportunity forecasts.
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_ext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<Reference>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub order_date: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub due_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_terms: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_rep: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_closed_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_shipped_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_downpayment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_comment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottom_comment_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub tax_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sub_total: Option<Decimal>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Order {
    const PATH: &'static str = "/sales/orders";
}

/// A sales opportunity (`/sales/opportunities`).
/// Required on create: `name`, `company`, `contact` and `primarySalesRep`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub expected_close_date: Option<OffsetDateTime>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_sales_rep: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_sales_rep: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_unit_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(
        rename = "customerPO",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_po: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub pipeline_change_date: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub date_became_lead: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub closed_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub total_sales_tax: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to_site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_terms: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_location_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_contact: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Opportunity {
    const PATH: &'static str = "/sales/opportunities";
}

/// The forecast of an opportunity with its items and revenue totals
/// (`GET /sales/opportunities/{id}/forecast` lists these).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_items: Option<Vec<ForecastItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expense_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_revenue_totals: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusive_revenue_totals: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub recurring_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub won_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_revenue: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_revenue1: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_revenue2: Option<RevenueSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sales_tax_revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub forecast_total_with_taxes: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_probability: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_terms: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Forecast {
    /// The forecast collection of one opportunity; `{path}/{id}` addresses one [`ForecastItem`].
    pub fn path(opportunity_id: i64) -> String {
        format!("/sales/opportunities/{opportunity_id}/forecast")
    }
}

/// One line of an opportunity forecast (`/sales/opportunities/{id}/forecast/{itemId}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForecastItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub quantity_cancelled: Option<Decimal>,
    #[serde(
        rename = "teStatusID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub te_status_id: Option<i64>,
    #[serde(
        rename = "billingLogRecID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_log_rec_id: Option<i64>,
    #[serde(
        rename = "convertedRecID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub converted_rec_id: Option<i64>,
    #[serde(
        rename = "convertedAGRDetailRecID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub converted_agr_detail_rec_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_item: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub margin: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_werks_doc_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_werks_doc_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_werks_quantity: Option<i64>,
    /// One of: Other1, Other2, Agreement, Product, Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub recurring_revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub recurring_cost: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub recurring_date_start: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub recurring_date_end: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_cycle: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_basis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycles: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sequence_number: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable_flag: Option<bool>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

/// A revenue total of a [`Forecast`] (product, service, agreement, won, lost, ... revenue).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub margin: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub percentage: Option<Decimal>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}
