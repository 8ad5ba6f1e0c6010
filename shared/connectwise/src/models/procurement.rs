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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<Reference>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    /// One of: Agreement, Bundle, Inventory, NonInventory, Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialized_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialized_cost_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_product_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_stock_level: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub cost: Option<Decimal>,
    /// One of: FixedFee, NotToExceed, OverrideRate, TimeAndMaterials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_ship_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_order_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_part_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_x_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub recurring_revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub recurring_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_one_time_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_bill_cycle: Option<Reference>,
    /// One of: ContractYear, CalendarYear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_cycle_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_price_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_cost_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub calculated_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub calculated_cost: Option<Decimal>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_option: Option<String>,
    #[serde(
        rename = "connectWiseID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub connect_wise_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub markup_percentage: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markup_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_update_unit_cost_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_update_unit_price_flag: Option<bool>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for CatalogItem {
    const PATH: &'static str = "/procurement/catalog";
}

/// A product sold on a ticket, project, opportunity or sales order (`/procurement/products`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_item: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sequence_number: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub ext_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub ext_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub discount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub margin: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub agreement_amount: Option<Decimal>,
    /// One of: FlatRateForRange, PercentMarkupFromCost, PercentMarkdownFromPrice, PricePerUnit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_method: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_option: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_unit_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_unit: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropship_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_order_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_product_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub quantity_cancelled: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_supplied_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_contractor_ship_to_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sub_contractor_amount_limit: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring: Option<ProductRecurring>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_order: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id_object: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_bin_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_bin_id_object: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_price_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_cost_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_detail_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub cancelled_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_bin: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub purchase_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_x_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub list_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_numbers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_status: Option<Reference>,
    /// One of: Agreement, Bundle, Inventory, NonInventory, Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_to_purchase_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_to_order_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_stock_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_set: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub calculated_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub calculated_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_grouping: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_approved_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_components_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_pricing_schedules_flag: Option<bool>,
    #[serde(
        rename = "asioSubscriptionsID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub asio_subscriptions_id: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass_forecast_update: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub won_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub won_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub won_quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for ProductItem {
    const PATH: &'static str = "/procurement/products";
}

/// The recurring billing terms of a [`ProductItem`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRecurring {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub recurring_revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub recurring_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_cycle_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_cycle: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycles: Option<i64>,
    /// One of: ContractYear, CalendarYear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_type: Option<Reference>,
}

/// A product type such as Non-Inventory (`/procurement/types`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductType {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    /// One of: InventoryPart, NonInventoryPart, OtherCharge, Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_xref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Resource for ProductType {
    const PATH: &'static str = "/procurement/types";
}

/// A product category (`/procurement/categories`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_level_xref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_xref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_all_locations: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_all_locations: Option<bool>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Resource for Category {
    const PATH: &'static str = "/procurement/categories";
}

/// A product subcategory (`/procurement/subcategories`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubCategory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_xref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

// The reconstructed spec lists this collection as `/procurement/subcategories/` (trailing slash,
// from a generated client); every other path has none, and single records are
// `/procurement/subcategories/{id}`.
impl Resource for SubCategory {
    const PATH: &'static str = "/procurement/subcategories";
}

/// A unit of measure such as Each (`/procurement/unitOfMeasures`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitOfMeasure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom_schedule_xref: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Resource for UnitOfMeasure {
    const PATH: &'static str = "/procurement/unitOfMeasures";
}
