//! The product catalog and what classifies it, and products sold on tickets and orders.
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

/// A product in the catalog (`/procurement/catalog`). Required on create: `identifier`,
/// `description`, `subcategory`, `type` and `customerDescription`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItem {
    pub id: Option<i64>,
    pub identifier: Option<String>,
    pub description: Option<String>,
    pub inactive_flag: Option<bool>,
    pub subcategory: Option<Reference>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    /// One of: Agreement, Bundle, Inventory, NonInventory, Service.
    pub product_class: Option<String>,
    pub serialized_flag: Option<bool>,
    pub serialized_cost_flag: Option<bool>,
    pub phase_product_flag: Option<bool>,
    pub unit_of_measure: Option<Reference>,
    pub min_stock_level: Option<i64>,
    #[serde(default, with = "money::opt")]
    pub price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub cost: Option<Decimal>,
    /// One of: FixedFee, NotToExceed, OverrideRate, TimeAndMaterials.
    pub price_attribute: Option<String>,
    pub taxable_flag: Option<bool>,
    pub drop_ship_flag: Option<bool>,
    pub special_order_flag: Option<bool>,
    pub customer_description: Option<String>,
    pub manufacturer: Option<Reference>,
    pub manufacturer_part_number: Option<String>,
    pub vendor: Option<Reference>,
    pub vendor_sku: Option<String>,
    pub notes: Option<String>,
    pub integration_x_ref: Option<String>,
    pub sla: Option<Reference>,
    pub entity_type: Option<Reference>,
    pub recurring_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub recurring_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub recurring_cost: Option<Decimal>,
    pub recurring_one_time_flag: Option<bool>,
    pub recurring_bill_cycle: Option<Reference>,
    /// One of: ContractYear, CalendarYear.
    pub recurring_cycle_type: Option<String>,
    pub calculated_price_flag: Option<bool>,
    pub calculated_cost_flag: Option<bool>,
    pub category: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub calculated_price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub calculated_cost: Option<Decimal>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub billable_option: Option<String>,
    #[serde(rename = "connectWiseID")]
    pub connect_wise_id: Option<String>,
    pub agreement_type: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub markup_percentage: Option<Decimal>,
    pub markup_flag: Option<bool>,
    pub auto_update_unit_cost_flag: Option<bool>,
    pub auto_update_unit_price_flag: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for CatalogItem {
    const PATH: &'static str = "/procurement/catalog";
}

/// A product sold on a ticket, project, opportunity or sales order (`/procurement/products`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductItem {
    pub id: Option<i64>,
    pub catalog_item: Option<Reference>,
    pub description: Option<String>,
    #[serde(default, with = "money::opt")]
    pub sequence_number: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub quantity: Option<Decimal>,
    pub unit_of_measure: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub ext_price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub ext_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub discount: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub margin: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub agreement_amount: Option<Decimal>,
    /// One of: FlatRateForRange, PercentMarkupFromCost, PercentMarkdownFromPrice, PricePerUnit.
    pub price_method: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge.
    pub billable_option: Option<String>,
    pub agreement: Option<Reference>,
    pub location_id: Option<i64>,
    pub location: Option<Reference>,
    pub business_unit_id: Option<i64>,
    pub business_unit: Option<Reference>,
    pub vendor: Option<Reference>,
    pub vendor_sku: Option<String>,
    pub taxable_flag: Option<bool>,
    pub dropship_flag: Option<bool>,
    pub special_order_flag: Option<bool>,
    pub phase_product_flag: Option<bool>,
    pub cancelled_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub quantity_cancelled: Option<Decimal>,
    pub cancelled_reason: Option<String>,
    pub customer_description: Option<String>,
    pub internal_notes: Option<String>,
    pub product_supplied_flag: Option<bool>,
    pub sub_contractor_ship_to_id: Option<i64>,
    #[serde(default, with = "money::opt")]
    pub sub_contractor_amount_limit: Option<Decimal>,
    pub recurring: Option<ProductRecurring>,
    pub sla: Option<Reference>,
    pub entity_type: Option<Reference>,
    pub ticket: Option<Reference>,
    pub project: Option<Reference>,
    pub phase: Option<Reference>,
    pub sales_order: Option<Reference>,
    pub opportunity: Option<Reference>,
    pub invoice: Option<Reference>,
    pub warehouse_id: Option<i64>,
    pub warehouse_id_object: Option<Reference>,
    pub warehouse_bin_id: Option<i64>,
    pub warehouse_bin_id_object: Option<Reference>,
    pub calculated_price_flag: Option<bool>,
    pub calculated_cost_flag: Option<bool>,
    pub forecast_detail_id: Option<i64>,
    pub cancelled_by: Option<i64>,
    #[serde(default, with = "datetime::opt")]
    pub cancelled_date: Option<OffsetDateTime>,
    pub warehouse: Option<String>,
    pub warehouse_bin: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub purchase_date: Option<OffsetDateTime>,
    pub tax_code: Option<Reference>,
    pub integration_x_ref: Option<String>,
    #[serde(default, with = "money::opt")]
    pub list_price: Option<Decimal>,
    pub serial_number_ids: Option<Vec<i64>>,
    pub serial_numbers: Option<Vec<String>>,
    pub company: Option<Reference>,
    pub forecast_status: Option<Reference>,
    /// One of: Agreement, Bundle, Inventory, NonInventory, Service.
    pub product_class: Option<String>,
    pub need_to_purchase_flag: Option<bool>,
    pub need_to_order_quantity: Option<i64>,
    pub minimum_stock_flag: Option<bool>,
    pub ship_set: Option<String>,
    #[serde(default, with = "money::opt")]
    pub calculated_price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub calculated_cost: Option<Decimal>,
    pub invoice_grouping: Option<Reference>,
    pub po_approved_flag: Option<bool>,
    pub uom: Option<String>,
    pub add_components_flag: Option<bool>,
    pub ignore_pricing_schedules_flag: Option<bool>,
    #[serde(rename = "asioSubscriptionsID")]
    pub asio_subscriptions_id: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub bypass_forecast_update: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub won_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub won_price: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub won_quantity: Option<Decimal>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for ProductItem {
    const PATH: &'static str = "/procurement/products";
}

/// The recurring billing terms of a [`ProductItem`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRecurring {
    #[serde(default, with = "money::opt")]
    pub recurring_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub recurring_cost: Option<Decimal>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub bill_cycle_id: Option<i64>,
    pub bill_cycle: Option<Reference>,
    pub cycles: Option<i64>,
    /// One of: ContractYear, CalendarYear.
    pub cycle_type: Option<String>,
    pub agreement_type: Option<Reference>,
}

/// A product type such as Non-Inventory (`/procurement/types`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductType {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub inactive_flag: Option<bool>,
    /// One of: InventoryPart, NonInventoryPart, OtherCharge, Service.
    pub type_xref: Option<String>,
    pub default_flag: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for ProductType {
    const PATH: &'static str = "/procurement/types";
}

/// A product category (`/procurement/categories`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub inactive_flag: Option<bool>,
    pub price_level_xref: Option<String>,
    pub integration_xref: Option<String>,
    pub location_ids: Option<Vec<i64>>,
    pub default_flag: Option<bool>,
    pub add_all_locations: Option<bool>,
    pub remove_all_locations: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for Category {
    const PATH: &'static str = "/procurement/categories";
}

/// A product subcategory (`/procurement/subcategories`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubCategory {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub inactive_flag: Option<bool>,
    pub integration_xref: Option<String>,
    pub default_flag: Option<bool>,
    pub category: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

// The reconstructed spec lists this collection as `/procurement/subcategories/` (trailing slash,
// from a generated client); every other path has none, and single records are
// `/procurement/subcategories/{id}`.
impl Resource for SubCategory {
    const PATH: &'static str = "/procurement/subcategories";
}

/// A unit of measure such as Each (`/procurement/unitOfMeasures`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitOfMeasure {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub inactive_flag: Option<bool>,
    pub default_flag: Option<bool>,
    pub uom_schedule_xref: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for UnitOfMeasure {
    const PATH: &'static str = "/procurement/unitOfMeasures";
}
