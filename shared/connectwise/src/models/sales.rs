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
