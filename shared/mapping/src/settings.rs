//! Tenant settings (DESIGN §6): what a tenant exports, the defaults and mappings applied to the
//! records it sends, which customers and tickets it syncs, and when its jobs run. The options come
//! from the vendors' integrations in `seeds/` (export toggles, product and agreement defaults,
//! active statuses, line-description mode, value mappings, price-list and unit priority, customer
//! filters with a per-account opt-out, ticket statuses, errors that drop off after N attempts).
//!
//! A settings document is JSON (camelCase) with `schemaVersion: 1`. Unknown fields are refused, so
//! a typo never silently falls back to a default, and every error names the field path, e.g.
//! `schedules.dailyExport.time: expected HH:MM (24-hour clock), got "25:00"`.
//!
//! Values ConnectWise itself defines (product class, invoicing cycle, compensation options) keep
//! ConnectWise's spelling (`NonInventory`, `ContractYear`); our own choices are camelCase.
//!
//! Connection details (site, company id, API keys, client id) are NOT settings: they are secrets
//! and live in Secrets Manager. Nothing here may ever hold one.

use crate::documents::DocumentSettings;
use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::RangeInclusive;

/// The settings schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;
/// Failed attempts after which a record drops off the error report, unless a tenant says otherwise.
pub const DEFAULT_ERROR_ATTEMPTS: u32 = 3;
/// Allowed values of `errorAttempts`.
pub const ERROR_ATTEMPTS: RangeInclusive<u32> = 1..=100;
/// Allowed values of `schedules.ticketImport.intervalMinutes`: EventBridge's finest rate is one
/// minute, and a job less often than daily is what the daily export is for.
pub const TICKET_IMPORT_INTERVAL_MINUTES: RangeInclusive<u32> = 1..=1440;
/// ConnectWise requests a tenant's workers may send per second, all together, unless the tenant
/// says otherwise: ConnectWise publishes no limit, and one integration must leave room for the
/// instance's others.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 10;
/// Allowed values of `connectWise.requestsPerSecond`.
pub const REQUESTS_PER_SECOND: RangeInclusive<u32> = 1..=1000;
/// Longest ConnectWise name or billing value accepted in a list or mapping.
pub const MAX_NAME_CHARS: usize = 100;
/// Share of a tenant's additions a run may cancel or zero before the mass-change guard stops it,
/// unless the tenant says otherwise: 20%.
pub const DEFAULT_MASS_CHANGE_GUARD: Decimal = Decimal::from_parts(2, 0, 0, false, 1);
/// How a new agreement is named unless the tenant says otherwise (see
/// [`AgreementDefaults::name_template`]).
pub const DEFAULT_AGREEMENT_NAME_TEMPLATE: &str = "{agreementType} - {billingCycle}";
/// The placeholders an agreement name template may hold.
pub const AGREEMENT_NAME_PLACEHOLDERS: [&str; 3] = ["company", "agreementType", "billingCycle"];

/// A tenant's settings document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSettings {
    /// Always [`SCHEMA_VERSION`]; required, so every stored document says which schema it follows.
    pub schema_version: SchemaVersion,
    /// Which data the daily export sends to ConnectWise.
    #[serde(default)]
    pub export: ExportToggles,
    /// Category, subcategory, type (and more) of products created in ConnectWise.
    #[serde(default)]
    pub product_defaults: ProductDefaults,
    /// Values ConnectWise requires on a new agreement that the billing system has no word for.
    #[serde(default)]
    pub agreement_defaults: AgreementDefaults,
    /// Which ConnectWise statuses count as active, and which one new active records get.
    #[serde(default)]
    pub statuses: ActiveStatuses,
    /// How invoice lines are described in ConnectWise.
    #[serde(default)]
    pub line_description: LineDescriptionMode,
    /// Billing values → ConnectWise names or ids.
    #[serde(default)]
    pub mappings: Mappings,
    /// Which price list and unit a product's cost and price are taken from, in order.
    #[serde(default)]
    pub pricing: PricingPriority,
    /// ConnectWise fields cwsync fills on create but never overwrites afterwards, per entity.
    #[serde(default)]
    pub never_overwrite: PushedFields,
    /// Fields ConnectWise owns: read back into the billing system, never written to ConnectWise.
    #[serde(default, rename = "ownedByConnectWise")]
    pub owned_by_connectwise: PulledFields,
    /// Which customers are synced at all.
    #[serde(default)]
    pub customer_filter: CustomerFilter,
    /// Which ConnectWise tickets come back to the billing system.
    #[serde(default)]
    pub ticket_import: TicketImport,
    /// Failed attempts after which a record drops off the error report (it comes back when the
    /// record changes). In [`ERROR_ATTEMPTS`].
    #[serde(default = "default_error_attempts")]
    pub error_attempts: u32,
    /// When the scheduled jobs run, and whether they run at all.
    #[serde(default)]
    pub schedules: Schedules,
    /// How hard cwsync may use the tenant's ConnectWise. Left out of a document when it is the
    /// default, so documents (and the stamps computed from them) read as before it existed.
    #[serde(
        default,
        rename = "connectWise",
        skip_serializing_if = "ConnectWiseUsage::is_default"
    )]
    pub connect_wise: ConnectWiseUsage,
    /// Billing documents both ways: invoices, orders, credit holds, agreement invoices and sales
    /// orders (see [`crate::documents`]). Left out of a document when it is the default.
    #[serde(default, skip_serializing_if = "DocumentSettings::is_default")]
    pub documents: DocumentSettings,
}

/// How hard cwsync may use a tenant's ConnectWise instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectWiseUsage {
    /// Requests per second all of the tenant's workers together may send (every attempt,
    /// retries included), in [`REQUESTS_PER_SECOND`]; [`DEFAULT_REQUESTS_PER_SECOND`] by default.
    pub requests_per_second: u32,
}

impl ConnectWiseUsage {
    fn is_default(&self) -> bool {
        *self == ConnectWiseUsage::default()
    }
}

impl Default for ConnectWiseUsage {
    fn default() -> Self {
        ConnectWiseUsage {
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
        }
    }
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            schema_version: SchemaVersion::CURRENT,
            export: ExportToggles::default(),
            product_defaults: ProductDefaults::default(),
            agreement_defaults: AgreementDefaults::default(),
            statuses: ActiveStatuses::default(),
            line_description: LineDescriptionMode::default(),
            mappings: Mappings::default(),
            pricing: PricingPriority::default(),
            never_overwrite: PushedFields::default(),
            owned_by_connectwise: PulledFields::default(),
            customer_filter: CustomerFilter::default(),
            ticket_import: TicketImport::default(),
            error_attempts: DEFAULT_ERROR_ATTEMPTS,
            schedules: Schedules::default(),
            connect_wise: ConnectWiseUsage::default(),
            documents: DocumentSettings::default(),
        }
    }
}

fn default_error_attempts() -> u32 {
    DEFAULT_ERROR_ATTEMPTS
}

/// The schema version of a document; only [`SCHEMA_VERSION`] can be built or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct SchemaVersion(u32);

impl SchemaVersion {
    /// The version this build reads and writes.
    pub const CURRENT: SchemaVersion = SchemaVersion(SCHEMA_VERSION);

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for SchemaVersion {
    fn default() -> Self {
        SchemaVersion::CURRENT
    }
}

impl TryFrom<u32> for SchemaVersion {
    type Error = InvalidValue;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        if value == SCHEMA_VERSION {
            Ok(SchemaVersion(value))
        } else {
            Err(InvalidValue(format!(
                "unsupported schema version {value}: this build reads version {SCHEMA_VERSION}"
            )))
        }
    }
}

impl From<SchemaVersion> for u32 {
    fn from(version: SchemaVersion) -> Self {
        version.0
    }
}

/// Which data the daily export sends (the control panel's "choose data for export", plus the
/// record types the BSS and Dynamics integrations push).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportToggles {
    /// Whether the tenant's export runs at all (scheduled, from the console, or already queued).
    /// The console's `disable` turns it off and `enable` on again; turning it off deletes nothing
    /// in ConnectWise and keeps every link, so re-enabling carries on where it stopped.
    pub enabled: bool,
    /// Each resold SKU becomes a ConnectWise product, and agreement additions follow usage.
    pub products: bool,
    /// Addition quantities are updated (needs `products`).
    pub quantity: bool,
    /// Product and addition costs (what the partner pays) are updated (needs `products`).
    pub cost: bool,
    /// Addition prices (what the customer pays) are updated (needs `products`).
    pub retail_price: bool,
    /// A CSV of each account's users and enabled services is attached to its agreement.
    pub user_list: bool,
    /// Invoices and their items.
    pub invoices: bool,
    /// Payments against exported invoices (needs `invoices`).
    pub payments: bool,
    /// Sales orders and their items.
    pub orders: bool,
    /// Projects and quotes, as opportunities with their items.
    pub projects: bool,
    /// The mass-change guard: a run that would cancel or zero more than this share (0 to 1) of a
    /// tenant's additions writes nothing for the tenant and reports what it would have done,
    /// until confirmed from the console. `0.2` (20%) by default; `1` never trips.
    pub mass_change_guard: Decimal,
}

impl Default for ExportToggles {
    fn default() -> Self {
        ExportToggles {
            enabled: true,
            products: true,
            quantity: true,
            cost: true,
            retail_price: true,
            user_list: false,
            invoices: false,
            payments: false,
            orders: false,
            projects: false,
            mass_change_guard: DEFAULT_MASS_CHANGE_GUARD,
        }
    }
}

/// A ConnectWise record named by id or by name: `42` or `"Monthly"` in the document. Names are
/// looked up per tenant; ids skip the look-up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CwRef {
    /// The record id.
    Id(i64),
    /// The record's name (or identifier) as shown in ConnectWise.
    Name(String),
}

impl CwRef {
    /// A reference by name.
    pub fn name(name: impl Into<String>) -> Self {
        CwRef::Name(name.into())
    }
}

impl fmt::Display for CwRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CwRef::Id(id) => write!(f, "#{id}"),
            CwRef::Name(name) => write!(f, "{name:?}"),
        }
    }
}

impl Serialize for CwRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CwRef::Id(id) => serializer.serialize_i64(*id),
            CwRef::Name(name) => serializer.serialize_str(name),
        }
    }
}

impl<'de> Deserialize<'de> for CwRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CwRefVisitor;
        impl Visitor<'_> for CwRefVisitor {
            type Value = CwRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a ConnectWise id (a whole number) or name (text)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CwRef, E> {
                Ok(CwRef::Id(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CwRef, E> {
                i64::try_from(v)
                    .map(CwRef::Id)
                    .map_err(|_| E::custom(format!("ConnectWise id {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CwRef, E> {
                Ok(CwRef::Name(v.to_owned()))
            }
        }
        deserializer.deserialize_any(CwRefVisitor)
    }
}

/// What products created in ConnectWise get (Work 365's product category/sub-category/type,
/// Jetbuilt's types and categories, the BSS's class and unit of measure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductDefaults {
    /// Product category.
    pub category: CwRef,
    /// Product subcategory (of `category`).
    pub subcategory: CwRef,
    /// Product type.
    #[serde(rename = "type")]
    pub product_type: CwRef,
    /// ConnectWise product class.
    pub product_class: ProductClass,
    /// Unit of measure of a product or subscription that has no unit. A unit the billing record
    /// does name goes through `mappings.unitsOfMeasure`, and one with no entry there is reported,
    /// never replaced by this default.
    pub unit_of_measure: CwRef,
}

impl Default for ProductDefaults {
    fn default() -> Self {
        ProductDefaults {
            category: CwRef::name("Cloud"),
            subcategory: CwRef::name("Subscriptions"),
            product_type: CwRef::name("Cloud Service"),
            product_class: ProductClass::Service,
            unit_of_measure: CwRef::name("Each"),
        }
    }
}

/// ConnectWise's product classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs, reason = "ConnectWise's own values")]
pub enum ProductClass {
    Agreement,
    Bundle,
    Inventory,
    NonInventory,
    #[default]
    Service,
}

/// Values ConnectWise requires on a new agreement that mean nothing to the billing system (Work
/// 365: "required when creating an Agreement in ConnectWise but has no impact").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AgreementDefaults {
    /// Agreement type of a subscription that names none. A type the subscription does name goes
    /// through `mappings.agreementTypes`, and one with no entry there is reported. Without this
    /// default, a subscription without a type is reported too.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub agreement_type: Option<CwRef>,
    /// Billing cycle of a subscription that names no billing frequency. A frequency it does name
    /// goes through `mappings.billingFrequencies`, and one with no entry there is reported.
    pub billing_cycle: CwRef,
    /// Invoicing cycle.
    pub invoicing_cycle: InvoicingCycle,
    /// Location (ConnectWise's default location when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<CwRef>,
    /// Department (ConnectWise's default department when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<CwRef>,
    /// Employee compensation rate.
    pub employee_comp_rate: EmployeeCompRate,
    /// Employee compensation not-to-exceed basis.
    pub employee_comp_not_exceed: EmployeeCompNotExceed,
    /// The name of an agreement cwsync creates, and by which an unlinked agreement is found among
    /// the company's agreements of the same type: text with the placeholders `{company}` (the
    /// ConnectWise company's name), `{agreementType}` and `{billingCycle}` (ConnectWise's names).
    /// [`DEFAULT_AGREEMENT_NAME_TEMPLATE`] by default.
    pub name_template: String,
}

impl Default for AgreementDefaults {
    fn default() -> Self {
        AgreementDefaults {
            agreement_type: None,
            billing_cycle: CwRef::name("Monthly"),
            invoicing_cycle: InvoicingCycle::default(),
            location: None,
            department: None,
            employee_comp_rate: EmployeeCompRate::default(),
            employee_comp_not_exceed: EmployeeCompNotExceed::default(),
            name_template: DEFAULT_AGREEMENT_NAME_TEMPLATE.to_owned(),
        }
    }
}

impl AgreementDefaults {
    /// What is wrong with a name template, if anything: blank, a brace without its pair, or a
    /// placeholder other than [`AGREEMENT_NAME_PLACEHOLDERS`].
    fn check_name_template(template: &str) -> Result<(), String> {
        if template.trim().is_empty() {
            return Err("must not be empty".to_owned());
        }
        if template.chars().count() > MAX_NAME_CHARS {
            return Err(format!("is longer than {MAX_NAME_CHARS} characters"));
        }
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            let after = &rest[open + 1..];
            if rest[open..].starts_with('}') {
                return Err(format!("{template:?} has a '}}' without its '{{'"));
            }
            let Some(close) = after.find('}') else {
                return Err(format!("{template:?} has a '{{' without its '}}'"));
            };
            let name = &after[..close];
            if !AGREEMENT_NAME_PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "unknown placeholder {{{name}}}: use {}",
                    AGREEMENT_NAME_PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{p}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            rest = &after[close + 1..];
        }
        Ok(())
    }

    /// The name template with its placeholders filled in (`{company}`, `{agreementType}`,
    /// `{billingCycle}`); the template is valid (settings are validated when read).
    pub fn agreement_name(
        &self,
        company: &str,
        agreement_type: &str,
        billing_cycle: &str,
    ) -> String {
        // One pass, so a name that itself holds `{…}` is never filled in again.
        let mut name = String::with_capacity(self.name_template.len() + 40);
        let mut rest = self.name_template.as_str();
        while let Some(open) = rest.find('{') {
            name.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                break;
            };
            match &after[..close] {
                "company" => name.push_str(company.trim()),
                "agreementType" => name.push_str(agreement_type.trim()),
                "billingCycle" => name.push_str(billing_cycle.trim()),
                other => {
                    name.push('{');
                    name.push_str(other);
                    name.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        name.push_str(rest);
        name.trim().to_owned()
    }
}

/// ConnectWise's agreement invoicing cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs, reason = "ConnectWise's own values")]
pub enum InvoicingCycle {
    #[default]
    ContractYear,
    CalendarYear,
}

/// ConnectWise's agreement employee compensation rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs, reason = "ConnectWise's own values")]
pub enum EmployeeCompRate {
    #[default]
    Actual,
    Hourly,
}

/// ConnectWise's agreement employee compensation not-to-exceed options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs, reason = "ConnectWise's own values")]
pub enum EmployeeCompNotExceed {
    #[default]
    Billing,
    Amount,
    Percent,
}

/// Which ConnectWise statuses mean "active", and the one new active records get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ActiveStatuses {
    /// Statuses that count as active (at least one).
    pub active: Vec<String>,
    /// Status of records cwsync creates as active; one of `active`.
    pub default_active: String,
}

impl Default for ActiveStatuses {
    fn default() -> Self {
        ActiveStatuses {
            active: vec!["Active".to_owned()],
            default_active: "Active".to_owned(),
        }
    }
}

impl ActiveStatuses {
    /// Whether a ConnectWise status counts as active (names compare without regard to case).
    pub fn is_active(&self, status: &str) -> bool {
        self.active.iter().any(|s| same_name(s, status))
    }
}

/// How an invoice line is described in ConnectWise (Work 365's "PSA line description").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LineDescriptionMode {
    /// The line's description.
    #[default]
    Description,
    /// The line's first and second lines of text.
    LineOneAndTwo,
}

/// Billing values → ConnectWise names or ids. A billing value with no entry uses the default
/// (product or agreement defaults) where there is one, and is reported where there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Mappings {
    /// Billing payment terms → ConnectWise billing terms.
    pub payment_terms: BTreeMap<String, CwRef>,
    /// Billing agreement (contract) types → ConnectWise agreement types.
    pub agreement_types: BTreeMap<String, CwRef>,
    /// Billing units → ConnectWise units of measure.
    pub units_of_measure: BTreeMap<String, CwRef>,
    /// Billing frequencies → ConnectWise billing cycles.
    pub billing_frequencies: BTreeMap<String, CwRef>,
    /// Billing currency codes (`USD`) → ConnectWise currencies, by id: the API has no currency
    /// list to look names up in. Without an entry a company keeps ConnectWise's default currency.
    pub currencies: BTreeMap<String, CwRef>,
}

/// Which price list and unit a product's cost and price come from: the first in each list that
/// has a price wins (Work 365's ordered "units" and "pricelists").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PricingPriority {
    /// Billing price lists, most preferred first.
    pub price_list_priority: Vec<String>,
    /// Billing units, most preferred first.
    pub unit_priority: Vec<String>,
}

/// ConnectWise field names per entity cwsync writes (e.g. `name`, `addressLine1`, `status/name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "one list of field names per ConnectWise entity"
)]
pub struct PushedFields {
    pub companies: Vec<String>,
    pub sites: Vec<String>,
    pub contacts: Vec<String>,
    pub products: Vec<String>,
    pub agreements: Vec<String>,
    pub additions: Vec<String>,
    pub invoices: Vec<String>,
    pub orders: Vec<String>,
    pub opportunities: Vec<String>,
}

impl PushedFields {
    fn lists(&self) -> [(&'static str, &Vec<String>); 9] {
        [
            ("companies", &self.companies),
            ("sites", &self.sites),
            ("contacts", &self.contacts),
            ("products", &self.products),
            ("agreements", &self.agreements),
            ("additions", &self.additions),
            ("invoices", &self.invoices),
            ("orders", &self.orders),
            ("opportunities", &self.opportunities),
        ]
    }
}

/// ConnectWise field names per entity that is also read back (customer sync pulls companies,
/// sites and contacts; nothing else comes back field by field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "one list of field names per ConnectWise entity"
)]
pub struct PulledFields {
    pub companies: Vec<String>,
    pub sites: Vec<String>,
    pub contacts: Vec<String>,
}

impl PulledFields {
    fn lists(&self) -> [(&'static str, &Vec<String>); 3] {
        [
            ("companies", &self.companies),
            ("sites", &self.sites),
            ("contacts", &self.contacts),
        ]
    }
}

/// Which customers are synced (the e-automate sync's customer type, contract type and branch
/// filters, and its per-customer "sync to ConnectWise" flag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerFilter {
    /// Billing customer types.
    pub customer_types: ValueFilter,
    /// Billing contract types.
    pub contract_types: ValueFilter,
    /// Billing branches.
    pub branches: ValueFilter,
    /// Whether an account that opted out of the sync (its own flag in the billing system) is left
    /// alone.
    pub respect_opt_out: bool,
}

impl Default for CustomerFilter {
    fn default() -> Self {
        CustomerFilter {
            customer_types: ValueFilter::default(),
            contract_types: ValueFilter::default(),
            branches: ValueFilter::default(),
            respect_opt_out: true,
        }
    }
}

impl CustomerFilter {
    /// Whether a customer with these values is synced.
    pub fn allows(
        &self,
        customer_type: Option<&str>,
        contract_type: Option<&str>,
        branch: Option<&str>,
        opted_out: bool,
    ) -> bool {
        !(self.respect_opt_out && opted_out)
            && self.customer_types.allows(customer_type)
            && self.contract_types.allows(contract_type)
            && self.branches.allows(branch)
    }
}

/// An include/exclude list of values. An empty `include` lets every value in; `exclude` wins.
/// Values compare without regard to case or surrounding spaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValueFilter {
    /// Only these values (all when empty).
    pub include: Vec<String>,
    /// Never these values.
    pub exclude: Vec<String>,
}

impl ValueFilter {
    /// Whether a record with this value (or none) passes. A record without a value passes only
    /// when nothing is required.
    pub fn allows(&self, value: Option<&str>) -> bool {
        match value {
            None => self.include.is_empty(),
            Some(value) => {
                !self.exclude.iter().any(|e| same_name(e, value))
                    && (self.include.is_empty() || self.include.iter().any(|i| same_name(i, value)))
            }
        }
    }
}

/// Which ConnectWise tickets come back to the billing system, and how their people, agreements
/// and products are found there. Everything but `statuses` is left out of a document while it
/// is empty or the default, so documents read as before these settings existed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TicketImport {
    /// Ticket statuses that are imported (at least one while the ticket import is scheduled).
    pub statuses: Vec<String>,
    /// ConnectWise member identifier (`jdoe`) → billing technician id (`T-100`), for members
    /// whose e-mail and identifier match no technician (or the wrong one).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<String, String>,
    /// ConnectWise agreement id (`"42"`) → billing contract id, for agreements no contract of
    /// the account matches by number or name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub agreements: BTreeMap<String, String>,
    /// ConnectWise product type name (`Non-Inventory`) → billing product type name (`Hardware`),
    /// whose placeholder item stands in for a product the billing system lacks (else the type of
    /// the same name).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub product_types: BTreeMap<String, String>,
    /// The work type of a labor line whose time entry has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_work_type: Option<String>,
    /// Minutes before the watermark a run reads again (tickets saved in the same instant as the
    /// last one seen, or committed late): in [`TICKET_OVERLAP_MINUTES`].
    #[serde(skip_serializing_if = "is_default_overlap")]
    pub overlap_minutes: u32,
    /// Tickets removed from the import for good (the console's `exclude-ticket`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<i64>,
    /// How a fixed-fee project's fee reaches its call (seeds 000 "Project Tickets" Q1): as a
    /// billing item (`{"as": "item", "itemId": "I-FIXED-FEE"}`) or, by default, left for a
    /// miscellaneous charge added by hand (`{"as": "misc"}`). Either way the call is on hold.
    #[serde(skip_serializing_if = "FixedFee::is_default")]
    pub fixed_fee: FixedFee,
    /// Billing calls flagged for ConnectWise become tickets (seeds 000 "Moving Tickets"): how
    /// their hints map to ConnectWise names. Absent: no call is moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moving: Option<crate::tickets::moving::MovingSettings>,
}

/// How a fixed-fee project's fee is billed (`ticketImport.fixedFee`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "camelCase", deny_unknown_fields)]
pub enum FixedFee {
    /// Not added by the import: the call's hold reason names the amount, to be added by hand as
    /// a miscellaneous charge.
    Misc {},
    /// Added once per project as one part of this billing item, priced at the project's
    /// `billingAmount`.
    Item {
        /// The billing item (active, not a placeholder).
        #[serde(rename = "itemId")]
        item_id: String,
    },
}

impl Default for FixedFee {
    fn default() -> Self {
        FixedFee::Misc {}
    }
}

impl FixedFee {
    fn is_default(&self) -> bool {
        *self == FixedFee::Misc {}
    }
}

/// Allowed values of `ticketImport.overlapMinutes`.
pub const TICKET_OVERLAP_MINUTES: RangeInclusive<u32> = 0..=1440;
/// The default of `ticketImport.overlapMinutes`.
pub const DEFAULT_TICKET_OVERLAP_MINUTES: u32 = 10;

fn is_default_overlap(minutes: &u32) -> bool {
    *minutes == DEFAULT_TICKET_OVERLAP_MINUTES
}

impl TicketImport {
    /// Whether a ticket in status `status` is imported (names compare as ConnectWise compares
    /// them: case and surrounding spaces don't matter).
    pub fn imports_status(&self, status: &str) -> bool {
        self.statuses.iter().any(|s| same_name(s, status))
    }

    /// Whether ticket `id` was removed from the import for good.
    pub fn is_excluded(&self, id: i64) -> bool {
        self.excluded.contains(&id)
    }

    fn check(&self, root: &FieldPath, problems: &mut Vec<SettingsError>) {
        let path = root.field("ticketImport");
        let members = path.field("members");
        for (member, technician) in &self.members {
            if let Some(problem) = name_problem(member) {
                problems.push(SettingsError::at(&members.key(member), problem));
            } else if let Some(problem) = name_problem(technician) {
                problems.push(SettingsError::at(&members.key(member), problem));
            }
        }
        let agreements = path.field("agreements");
        for (agreement, contract) in &self.agreements {
            if !agreement.parse::<i64>().is_ok_and(|id| id > 0) {
                problems.push(SettingsError::at(
                    &agreements.key(agreement),
                    "keys are ConnectWise agreement ids (positive whole numbers)",
                ));
            } else if let Some(problem) = name_problem(contract) {
                problems.push(SettingsError::at(&agreements.key(agreement), problem));
            }
        }
        let types = path.field("productTypes");
        for (cw_type, billing_type) in &self.product_types {
            if let Some(problem) = name_problem(cw_type).or_else(|| name_problem(billing_type)) {
                problems.push(SettingsError::at(&types.key(cw_type), problem));
            }
        }
        if let Some(work_type) = &self.default_work_type
            && let Some(problem) = name_problem(work_type)
        {
            problems.push(SettingsError::at(&path.field("defaultWorkType"), problem));
        }
        if !TICKET_OVERLAP_MINUTES.contains(&self.overlap_minutes) {
            problems.push(SettingsError::at(
                &path.field("overlapMinutes"),
                format!(
                    "must be between {} and {}, got {}",
                    TICKET_OVERLAP_MINUTES.start(),
                    TICKET_OVERLAP_MINUTES.end(),
                    self.overlap_minutes
                ),
            ));
        }
        if let FixedFee::Item { item_id } = &self.fixed_fee
            && let Some(problem) = name_problem(item_id)
        {
            problems.push(SettingsError::at(
                &path.field("fixedFee").field("itemId"),
                problem,
            ));
        }
        let excluded = path.field("excluded");
        for (index, id) in self.excluded.iter().enumerate() {
            if *id <= 0 {
                problems.push(SettingsError::at(
                    &excluded.index(index),
                    format!("ConnectWise ticket ids are positive, got {id}"),
                ));
            }
        }
        if let Some(moving) = &self.moving {
            moving.check(&path.field("moving"), problems);
        }
    }
}

impl Default for TicketImport {
    fn default() -> Self {
        TicketImport {
            statuses: vec!["Completed".to_owned()],
            members: BTreeMap::new(),
            agreements: BTreeMap::new(),
            product_types: BTreeMap::new(),
            default_work_type: None,
            overlap_minutes: DEFAULT_TICKET_OVERLAP_MINUTES,
            excluded: Vec::new(),
            fixed_fee: FixedFee::Misc {},
            moving: None,
        }
    }
}

/// When the scheduled jobs run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Schedules {
    /// The daily export.
    pub daily_export: DailyExportSchedule,
    /// The periodic ticket import.
    pub ticket_import: TicketImportSchedule,
}

/// The daily export's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct DailyExportSchedule {
    /// Whether the export runs every day by itself (it can always be started by hand).
    pub enabled: bool,
    /// Local time of day it starts.
    pub time: DailyTime,
    /// Time zone of `time`.
    pub time_zone: TimeZoneName,
}

impl Default for DailyExportSchedule {
    fn default() -> Self {
        DailyExportSchedule {
            enabled: true,
            time: DailyTime { hour: 2, minute: 0 },
            time_zone: TimeZoneName("UTC".to_owned()),
        }
    }
}

/// The ticket import's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TicketImportSchedule {
    /// Whether tickets are imported periodically (callbacks and manual runs work regardless).
    pub enabled: bool,
    /// Minutes between runs, in [`TICKET_IMPORT_INTERVAL_MINUTES`].
    pub interval_minutes: u32,
}

impl Default for TicketImportSchedule {
    fn default() -> Self {
        TicketImportSchedule {
            enabled: true,
            interval_minutes: 15,
        }
    }
}

/// A time of day, `HH:MM` on a 24-hour clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DailyTime {
    hour: u8,
    minute: u8,
}

impl DailyTime {
    /// Parses `HH:MM` (two digits each, 00:00–23:59).
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let invalid = || InvalidValue(format!("expected HH:MM (24-hour clock), got {text:?}"));
        let (hour, minute) = text.split_once(':').ok_or_else(invalid)?;
        let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(hour) || !two_digits(minute) {
            return Err(invalid());
        }
        let hour: u8 = hour.parse().map_err(|_| invalid())?;
        let minute: u8 = minute.parse().map_err(|_| invalid())?;
        if hour > 23 || minute > 59 {
            return Err(invalid());
        }
        Ok(DailyTime { hour, minute })
    }

    /// The hour, 0–23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0–59.
    pub fn minute(self) -> u8 {
        self.minute
    }
}

impl fmt::Display for DailyTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl TryFrom<String> for DailyTime {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        DailyTime::parse(&value)
    }
}

impl From<DailyTime> for String {
    fn from(time: DailyTime) -> Self {
        time.to_string()
    }
}

/// An IANA time zone name (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`), checked for
/// shape only: the scheduler (EventBridge Scheduler) is the authority on which names exist, and a
/// pure crate carries no time zone database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Parses a name: `/`-separated parts of letters, digits, `_`, `+`, `-`, each starting with a
    /// letter; at most 64 characters. Offsets like `+02:00` are refused (they ignore DST).
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let part_ok = |part: &str| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
        };
        if text.len() <= 64 && text.split('/').all(part_ok) {
            Ok(TimeZoneName(text.to_owned()))
        } else {
            Err(InvalidValue(format!(
                "expected an IANA time zone name such as Europe/Berlin or UTC, got {text:?}"
            )))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TimeZoneName::parse(&value)
    }
}

impl From<TimeZoneName> for String {
    fn from(zone: TimeZoneName) -> Self {
        zone.0
    }
}

/// A value refused by a settings type's parser; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(String);

/// A problem with a settings document: the field path and what is wrong with it. Settings hold no
/// secrets, so quoting the offending value is safe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SettingsError {
    /// Where: `schedules.dailyExport.time`, `statuses.active[2]`,
    /// `mappings.paymentTerms["Net 30"]`, or `(document)` for the document as a whole.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl SettingsError {
    pub(crate) fn at(path: &FieldPath, message: impl Into<String>) -> Self {
        SettingsError {
            path: path.display(),
            message: message.into(),
        }
    }

    fn from_serde(error: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let mut path = FieldPath::root();
        for segment in error.path() {
            path = match segment {
                serde_path_to_error::Segment::Seq { index } => path.index(*index),
                serde_path_to_error::Segment::Map { key } => path.key(key),
                serde_path_to_error::Segment::Enum { variant } => path.key(variant),
                serde_path_to_error::Segment::Unknown => path.field("?"),
            };
        }
        let message = error.inner().to_string();
        // serde reports a missing field at its parent; name the field itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field)
        {
            path = path.field(field);
        }
        SettingsError::at(&path, message)
    }
}

/// A field path under construction, rendered like `a.b[0].c` with map keys that are not plain
/// names quoted: `mappings.paymentTerms["Net 30"]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldPath(String);

impl FieldPath {
    fn root() -> Self {
        FieldPath(String::new())
    }

    pub(crate) fn field(&self, name: &str) -> Self {
        if self.0.is_empty() {
            FieldPath(name.to_owned())
        } else {
            FieldPath(format!("{}.{name}", self.0))
        }
    }

    fn index(&self, index: usize) -> Self {
        FieldPath(format!("{}[{index}]", self.0))
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let plain = key.starts_with(|c: char| c.is_ascii_alphabetic())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            self.field(key)
        } else {
            let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"));
            FieldPath(format!("{}[{quoted}]", self.0))
        }
    }

    fn display(&self) -> String {
        if self.0.is_empty() {
            "(document)".to_owned()
        } else {
            self.0.clone()
        }
    }
}

impl TenantSettings {
    /// Reads a settings document and validates it; the error names the first wrong field.
    /// [`TenantSettings::validate`] lists every problem of a document that deserializes.
    pub fn parse(json: &str) -> Result<TenantSettings, SettingsError> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let settings: TenantSettings = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(SettingsError::from_serde)?;
        deserializer
            .end()
            .map_err(|e| SettingsError::at(&FieldPath::root(), e.to_string()))?;
        settings.validate().map_err(|problems| {
            problems
                .into_iter()
                .next()
                .unwrap_or_else(|| SettingsError::at(&FieldPath::root(), "invalid (no detail)"))
        })?;
        Ok(settings)
    }

    /// Checks what the types alone can't: ranges, names, duplicates, and fields that depend on
    /// each other. Returns every problem, each with its field path.
    pub fn validate(&self) -> Result<(), Vec<SettingsError>> {
        let mut problems = Vec::new();
        let root = FieldPath::root();
        self.validate_export(&root.field("export"), &mut problems);
        self.documents
            .check(&root.field("documents"), &mut problems);

        let defaults = root.field("productDefaults");
        check_ref(
            &defaults.field("category"),
            &self.product_defaults.category,
            &mut problems,
        );
        check_ref(
            &defaults.field("subcategory"),
            &self.product_defaults.subcategory,
            &mut problems,
        );
        check_ref(
            &defaults.field("type"),
            &self.product_defaults.product_type,
            &mut problems,
        );
        check_ref(
            &defaults.field("unitOfMeasure"),
            &self.product_defaults.unit_of_measure,
            &mut problems,
        );

        let agreement = root.field("agreementDefaults");
        let optional_refs = [
            ("type", &self.agreement_defaults.agreement_type),
            ("location", &self.agreement_defaults.location),
            ("department", &self.agreement_defaults.department),
        ];
        for (name, reference) in optional_refs {
            if let Some(reference) = reference {
                check_ref(&agreement.field(name), reference, &mut problems);
            }
        }
        check_ref(
            &agreement.field("billingCycle"),
            &self.agreement_defaults.billing_cycle,
            &mut problems,
        );
        if let Err(problem) =
            AgreementDefaults::check_name_template(&self.agreement_defaults.name_template)
        {
            problems.push(SettingsError::at(&agreement.field("nameTemplate"), problem));
        }

        self.validate_statuses(&root.field("statuses"), &mut problems);

        let mappings = root.field("mappings");
        for (name, map) in [
            ("paymentTerms", &self.mappings.payment_terms),
            ("agreementTypes", &self.mappings.agreement_types),
            ("unitsOfMeasure", &self.mappings.units_of_measure),
            ("billingFrequencies", &self.mappings.billing_frequencies),
            ("currencies", &self.mappings.currencies),
        ] {
            let path = mappings.field(name);
            for (billing_value, reference) in map {
                let entry = path.key(billing_value);
                if let Some(problem) = name_problem(billing_value) {
                    problems.push(SettingsError::at(
                        &entry,
                        format!("billing value {problem}"),
                    ));
                }
                check_ref(&entry, reference, &mut problems);
                if name == "currencies" && matches!(reference, CwRef::Name(_)) {
                    problems.push(SettingsError::at(
                        &entry,
                        "a currency is given by its ConnectWise id: the API has no currency list to look a name up in",
                    ));
                }
            }
        }

        let pricing = root.field("pricing");
        check_names(
            &pricing.field("priceListPriority"),
            &self.pricing.price_list_priority,
            &mut problems,
        );
        check_names(
            &pricing.field("unitPriority"),
            &self.pricing.unit_priority,
            &mut problems,
        );

        let never = root.field("neverOverwrite");
        for (entity, fields) in self.never_overwrite.lists() {
            check_field_names(&never.field(entity), fields, &mut problems);
        }
        let owned = root.field("ownedByConnectWise");
        for (entity, fields) in self.owned_by_connectwise.lists() {
            check_field_names(&owned.field(entity), fields, &mut problems);
        }

        let filter = root.field("customerFilter");
        for (name, values) in [
            ("customerTypes", &self.customer_filter.customer_types),
            ("contractTypes", &self.customer_filter.contract_types),
            ("branches", &self.customer_filter.branches),
        ] {
            check_value_filter(&filter.field(name), values, &mut problems);
        }

        let ticket_statuses = root.field("ticketImport").field("statuses");
        check_names(
            &ticket_statuses,
            &self.ticket_import.statuses,
            &mut problems,
        );
        if self.ticket_import.statuses.is_empty() && self.schedules.ticket_import.enabled {
            problems.push(SettingsError::at(
                &ticket_statuses,
                "at least one status is needed while schedules.ticketImport is enabled",
            ));
        }
        self.ticket_import.check(&root, &mut problems);

        if !ERROR_ATTEMPTS.contains(&self.error_attempts) {
            problems.push(SettingsError::at(
                &root.field("errorAttempts"),
                format!(
                    "must be between {} and {}, got {}",
                    ERROR_ATTEMPTS.start(),
                    ERROR_ATTEMPTS.end(),
                    self.error_attempts
                ),
            ));
        }

        let rate = self.connect_wise.requests_per_second;
        if !REQUESTS_PER_SECOND.contains(&rate) {
            problems.push(SettingsError::at(
                &root.field("connectWise").field("requestsPerSecond"),
                format!(
                    "must be between {} and {}, got {rate}",
                    REQUESTS_PER_SECOND.start(),
                    REQUESTS_PER_SECOND.end()
                ),
            ));
        }

        let interval = self.schedules.ticket_import.interval_minutes;
        if !TICKET_IMPORT_INTERVAL_MINUTES.contains(&interval) {
            problems.push(SettingsError::at(
                &root
                    .field("schedules")
                    .field("ticketImport")
                    .field("intervalMinutes"),
                format!(
                    "must be between {} and {} minutes, got {interval}",
                    TICKET_IMPORT_INTERVAL_MINUTES.start(),
                    TICKET_IMPORT_INTERVAL_MINUTES.end()
                ),
            ));
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn validate_export(&self, path: &FieldPath, problems: &mut Vec<SettingsError>) {
        let export = &self.export;
        // Quantities, costs and prices live on agreement additions, which refer to products.
        for (name, on) in [
            ("quantity", export.quantity),
            ("cost", export.cost),
            ("retailPrice", export.retail_price),
        ] {
            if on && !export.products {
                problems.push(SettingsError::at(
                    &path.field(name),
                    "needs export.products: additions refer to exported products",
                ));
            }
        }
        let guard = export.mass_change_guard;
        if guard < Decimal::ZERO || guard > Decimal::ONE {
            problems.push(SettingsError::at(
                &path.field("massChangeGuard"),
                format!("must be a share between 0 and 1 (0.2 is 20%), got {guard}"),
            ));
        }
        if export.payments && !export.invoices {
            problems.push(SettingsError::at(
                &path.field("payments"),
                "needs export.invoices: payments are applied to exported invoices",
            ));
        }
    }

    fn validate_statuses(&self, path: &FieldPath, problems: &mut Vec<SettingsError>) {
        let active = path.field("active");
        check_names(&active, &self.statuses.active, problems);
        if self.statuses.active.is_empty() {
            problems.push(SettingsError::at(
                &active,
                "at least one active status is needed",
            ));
        }
        let default = path.field("defaultActive");
        if let Some(problem) = name_problem(&self.statuses.default_active) {
            problems.push(SettingsError::at(&default, problem));
        } else if !self.statuses.is_active(&self.statuses.default_active) {
            problems.push(SettingsError::at(
                &default,
                format!(
                    "{:?} is not one of statuses.active",
                    self.statuses.default_active
                ),
            ));
        }
    }
}

/// Whether two names are the same to ConnectWise and billing users (case and surrounding spaces
/// don't matter).
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// What is wrong with a name, if anything.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("must not be empty".to_owned())
    } else if name.trim() != name {
        // Seed (e-automate FAQ): stray spaces are a classic cause of failed look-ups.
        Some(format!(
            "{name:?} has leading or trailing spaces, which would never match in ConnectWise"
        ))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(format!("is longer than {MAX_NAME_CHARS} characters"))
    } else {
        None
    }
}

fn check_ref(path: &FieldPath, reference: &CwRef, problems: &mut Vec<SettingsError>) {
    match reference {
        CwRef::Id(id) if *id <= 0 => problems.push(SettingsError::at(
            path,
            format!("ConnectWise ids are positive, got {id}"),
        )),
        CwRef::Id(_) => {}
        CwRef::Name(name) => {
            if let Some(problem) = name_problem(name) {
                problems.push(SettingsError::at(path, problem));
            }
        }
    }
}

/// Checks a list of names: each well-formed, none listed twice.
fn check_names(path: &FieldPath, names: &[String], problems: &mut Vec<SettingsError>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, name) in names.iter().enumerate() {
        let entry = path.index(index);
        if let Some(problem) = name_problem(name) {
            problems.push(SettingsError::at(&entry, problem));
            continue;
        }
        match seen.entry(name.to_lowercase()) {
            Entry::Occupied(first) => problems.push(SettingsError::at(
                &entry,
                format!("{name:?} is already listed at index {}", first.get()),
            )),
            Entry::Vacant(slot) => {
                slot.insert(index);
            }
        }
    }
}

/// Checks ConnectWise field names: `name`, `addressLine1`, `status/name` (the API's nested field
/// syntax) or `status.name`.
fn check_field_names(path: &FieldPath, fields: &[String], problems: &mut Vec<SettingsError>) {
    check_names(path, fields, problems);
    for (index, field) in fields.iter().enumerate() {
        let well_formed = !field.is_empty()
            && field.split(['/', '.']).all(|part| {
                part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !well_formed && name_problem(field).is_none() {
            problems.push(SettingsError::at(
                &path.index(index),
                format!(
                    "{field:?} is not a ConnectWise field name (letters, digits and '_', parts separated by '/')"
                ),
            ));
        }
    }
}

fn check_value_filter(path: &FieldPath, filter: &ValueFilter, problems: &mut Vec<SettingsError>) {
    check_names(&path.field("include"), &filter.include, problems);
    check_names(&path.field("exclude"), &filter.exclude, problems);
    for (index, excluded) in filter.exclude.iter().enumerate() {
        if filter.include.iter().any(|i| same_name(i, excluded)) {
            problems.push(SettingsError::at(
                &path.field("exclude").index(index),
                format!("{excluded:?} is also in include; a value can't be both"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{
      "schemaVersion": 1,
      "export": {"products": true, "quantity": true, "cost": false, "retailPrice": true,
                 "userList": true, "invoices": true, "payments": true, "orders": false, "projects": true,
                 "massChangeGuard": 0.35},
      "productDefaults": {"category": "Cloud", "subcategory": 12, "type": "Licence",
                          "productClass": "NonInventory", "unitOfMeasure": "Month"},
      "agreementDefaults": {"type": "Managed Cloud", "billingCycle": "Monthly",
                            "invoicingCycle": "CalendarYear", "location": 2, "department": "Sales",
                            "employeeCompRate": "Hourly", "employeeCompNotExceed": "Percent",
                            "nameTemplate": "{company} {agreementType}"},
      "statuses": {"active": ["Active", "Active - Trial"], "defaultActive": "Active"},
      "lineDescription": "lineOneAndTwo",
      "mappings": {"paymentTerms": {"Net 30": "Net 30 Days", "DUE": 3},
                   "agreementTypes": {"CSP": "Microsoft NCE"},
                   "unitsOfMeasure": {"licence": "Each"},
                   "billingFrequencies": {"monthly": "Monthly", "annual": "Yearly"}},
      "pricing": {"priceListPriority": ["Partner", "MSRP"], "unitPriority": ["Users", "Licences"]},
      "neverOverwrite": {"companies": ["name", "status/name"], "agreements": ["endDate"]},
      "ownedByConnectWise": {"companies": ["territory"], "contacts": ["title"]},
      "customerFilter": {"customerTypes": {"include": ["Client"], "exclude": []},
                         "branches": {"exclude": ["99"]}, "respectOptOut": false},
      "ticketImport": {"statuses": ["Completed", ">Closed"]},
      "errorAttempts": 5,
      "connectWise": {"requestsPerSecond": 25},
      "schedules": {"dailyExport": {"enabled": true, "time": "23:45", "timeZone": "America/Argentina/Buenos_Aires"},
                    "ticketImport": {"enabled": false, "intervalMinutes": 60}}
    }"#;

    fn parse_err(json: &str) -> SettingsError {
        TenantSettings::parse(json).unwrap_err()
    }

    #[test]
    fn the_defaults_are_valid_and_survive_a_round_trip() {
        let defaults = TenantSettings::default();
        assert_eq!(defaults.validate(), Ok(()));
        let json = serde_json::to_string(&defaults).unwrap();
        assert_eq!(TenantSettings::parse(&json).unwrap(), defaults);
    }

    #[test]
    fn a_document_with_only_the_schema_version_gets_every_default() {
        let settings = TenantSettings::parse(r#"{"schemaVersion": 1}"#).unwrap();
        assert_eq!(settings, TenantSettings::default());
        assert_eq!(settings.error_attempts, 3);
        assert!(settings.export.products && !settings.export.invoices);
        assert!(settings.customer_filter.respect_opt_out);
    }

    #[test]
    fn a_full_document_is_read_field_by_field_and_written_back_unchanged() {
        let settings = TenantSettings::parse(FULL).unwrap();
        assert!(settings.export.payments && !settings.export.cost);
        assert_eq!(settings.product_defaults.subcategory, CwRef::Id(12));
        assert_eq!(
            settings.product_defaults.product_class,
            ProductClass::NonInventory
        );
        assert_eq!(settings.agreement_defaults.location, Some(CwRef::Id(2)));
        assert_eq!(
            settings.agreement_defaults.name_template,
            "{company} {agreementType}"
        );
        assert_eq!(settings.export.mass_change_guard, Decimal::new(35, 2));
        assert_eq!(
            settings.line_description,
            LineDescriptionMode::LineOneAndTwo
        );
        assert_eq!(settings.mappings.payment_terms["DUE"], CwRef::Id(3));
        assert_eq!(settings.pricing.unit_priority, ["Users", "Licences"]);
        assert_eq!(settings.never_overwrite.companies, ["name", "status/name"]);
        assert_eq!(settings.schedules.daily_export.time.hour(), 23);
        assert_eq!(
            settings.schedules.daily_export.time_zone.as_str(),
            "America/Argentina/Buenos_Aires"
        );
        let again = serde_json::to_string(&settings).unwrap();
        assert_eq!(TenantSettings::parse(&again).unwrap(), settings);
    }

    #[test]
    fn a_misspelt_field_is_refused_with_its_path() {
        let e = parse_err(
            r#"{"schemaVersion": 1, "schedules": {"dailyExport": {"enabled": true, "tme": "02:00"}}}"#,
        );
        assert_eq!(e.path, "schedules.dailyExport.tme");
        assert!(e.message.starts_with("unknown field `tme`"), "{e}");
        let e = parse_err(r#"{"schemaVersion": 1, "exprot": {}}"#);
        assert_eq!(e.path, "exprot");
    }

    #[test]
    fn a_bad_time_of_day_is_refused_with_its_path() {
        let e =
            parse_err(r#"{"schemaVersion": 1, "schedules": {"dailyExport": {"time": "25:00"}}}"#);
        assert_eq!(e.path, "schedules.dailyExport.time");
        assert!(
            e.to_string()
                .starts_with("schedules.dailyExport.time: expected HH:MM"),
            "{e}"
        );
        for bad in ["2:00", "02:0", "0200", "02:60", "aa:bb", "02:00:00"] {
            assert!(DailyTime::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(DailyTime::parse("00:00").unwrap().to_string(), "00:00");
    }

    #[test]
    fn time_zones_are_checked_for_shape_only() {
        for good in [
            "UTC",
            "Europe/Berlin",
            "America/Port-au-Prince",
            "Etc/GMT+5",
        ] {
            assert!(TimeZoneName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "+02:00",
            "Europe//Berlin",
            "Europe/Berlin ",
            "europe berlin",
            "/UTC",
        ] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad:?}");
        }
        let e = parse_err(
            r#"{"schemaVersion": 1, "schedules": {"dailyExport": {"timeZone": "GMT+2:00"}}}"#,
        );
        assert_eq!(e.path, "schedules.dailyExport.timeZone");
    }

    #[test]
    fn a_wrong_type_is_refused_with_its_path() {
        let e = parse_err(r#"{"schemaVersion": 1, "export": {"products": "yes"}}"#);
        assert_eq!(e.path, "export.products");
        assert!(e.message.contains("expected a boolean"), "{e}");
        let e = parse_err(r#"{"schemaVersion": 1, "statuses": {"active": ["Active", 7]}}"#);
        assert_eq!(e.path, "statuses.active[1]");
        let e = parse_err(r#"{"schemaVersion": 1, "lineDescription": "lineOne"}"#);
        assert_eq!(e.path, "lineDescription");
        let e = parse_err(r#"{"schemaVersion": 1, "mappings": {"paymentTerms": {"Net 30": 1.5}}}"#);
        assert_eq!(e.path, r#"mappings.paymentTerms["Net 30"]"#);
        assert!(e.message.contains("ConnectWise id"), "{e}");
    }

    #[test]
    fn the_schema_version_is_required_and_must_be_one_this_build_reads() {
        let e = parse_err("{}");
        assert_eq!(e.path, "schemaVersion");
        assert!(e.message.starts_with("missing field"), "{e}");
        let e = parse_err(r#"{"schemaVersion": 2}"#);
        assert_eq!(e.path, "schemaVersion");
        assert!(e.message.contains("unsupported schema version 2"), "{e}");
    }

    #[test]
    fn text_that_is_not_one_json_document_is_refused() {
        assert_eq!(parse_err("not json").path, "(document)");
        assert_eq!(parse_err(r#"{"schemaVersion": 1} {}"#).path, "(document)");
        assert_eq!(parse_err("[]").path, "(document)");
    }

    #[test]
    fn the_connectwise_request_rate_is_ten_a_second_unless_set_within_one_to_a_thousand() {
        assert_eq!(
            TenantSettings::default().connect_wise.requests_per_second,
            10
        );
        assert_eq!(
            TenantSettings::parse(FULL)
                .unwrap()
                .connect_wise
                .requests_per_second,
            25
        );
        for bad in [0, 1001] {
            let e = parse_err(&format!(
                r#"{{"schemaVersion": 1, "connectWise": {{"requestsPerSecond": {bad}}}}}"#
            ));
            assert_eq!(e.path, "connectWise.requestsPerSecond");
            assert_eq!(
                e.to_string(),
                format!("connectWise.requestsPerSecond: must be between 1 and 1000, got {bad}")
            );
        }
        let typo = parse_err(r#"{"schemaVersion": 1, "connectWise": {"requestPerSecond": 5}}"#);
        assert!(typo.path.starts_with("connectWise"), "{typo}");
    }

    #[test]
    fn error_attempts_outside_one_to_a_hundred_are_refused() {
        assert_eq!(
            parse_err(r#"{"schemaVersion": 1, "errorAttempts": 0}"#).path,
            "errorAttempts"
        );
        let e = parse_err(r#"{"schemaVersion": 1, "errorAttempts": 101}"#);
        assert_eq!(
            e.to_string(),
            "errorAttempts: must be between 1 and 100, got 101"
        );
        assert!(TenantSettings::parse(r#"{"schemaVersion": 1, "errorAttempts": 100}"#).is_ok());
    }

    #[test]
    fn toggles_that_depend_on_another_name_the_dependent_field() {
        let e = parse_err(
            r#"{"schemaVersion": 1, "export": {"products": false, "quantity": true, "cost": false, "retailPrice": false}}"#,
        );
        assert_eq!(e.path, "export.quantity");
        let e = parse_err(r#"{"schemaVersion": 1, "export": {"payments": true}}"#);
        assert_eq!(e.path, "export.payments");
        assert!(e.message.contains("export.invoices"), "{e}");
    }

    #[test]
    fn the_default_active_status_must_be_one_of_the_active_ones() {
        let e = parse_err(
            r#"{"schemaVersion": 1, "statuses": {"active": ["Active"], "defaultActive": "Live"}}"#,
        );
        assert_eq!(e.path, "statuses.defaultActive");
        let e = parse_err(
            r#"{"schemaVersion": 1, "statuses": {"active": [], "defaultActive": "Active"}}"#,
        );
        assert_eq!(e.path, "statuses.active");
        // Names compare without case: "active" is the same status.
        assert!(
            TenantSettings::parse(
                r#"{"schemaVersion": 1, "statuses": {"active": ["Active"], "defaultActive": "active"}}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn blank_padded_duplicate_and_conflicting_names_are_each_pointed_at() {
        let mut settings = TenantSettings::default();
        settings.pricing.price_list_priority = vec!["MSRP".into(), "msrp".into()];
        settings.ticket_import.statuses = vec!["Completed ".into()];
        settings.customer_filter.branches.include = vec!["01".into()];
        settings.customer_filter.branches.exclude = vec!["01".into()];
        settings
            .mappings
            .payment_terms
            .insert(String::new(), CwRef::Id(0));
        settings.never_overwrite.sites = vec!["address line".into()];
        let paths: Vec<String> = settings
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            [
                r#"mappings.paymentTerms[""]"#,
                r#"mappings.paymentTerms[""]"#,
                "pricing.priceListPriority[1]",
                "neverOverwrite.sites[0]",
                "customerFilter.branches.exclude[0]",
                "ticketImport.statuses[0]",
            ]
        );
    }

    #[test]
    fn the_fixed_fee_setting_reads_item_or_misc_and_refuses_anything_else() {
        let item = TenantSettings::parse(
            r#"{"schemaVersion": 1, "ticketImport": {"statuses": ["Completed"],
                "fixedFee": {"as": "item", "itemId": "I-FEE"}}}"#,
        )
        .unwrap();
        assert_eq!(
            item.ticket_import.fixed_fee,
            FixedFee::Item {
                item_id: "I-FEE".into()
            }
        );
        let round = serde_json::to_value(&item).unwrap();
        assert_eq!(
            round["ticketImport"]["fixedFee"],
            serde_json::json!({"as": "item", "itemId": "I-FEE"})
        );
        let misc = TenantSettings::parse(
            r#"{"schemaVersion": 1, "ticketImport": {"statuses": ["Completed"],
                "fixedFee": {"as": "misc"}}}"#,
        )
        .unwrap();
        assert_eq!(misc.ticket_import.fixed_fee, FixedFee::Misc {});
        assert_eq!(TicketImport::default().fixed_fee, FixedFee::Misc {});
        for bad in [
            r#"{"as": "invoice"}"#,
            r#"{"as": "item"}"#,
            r#"{"as": "misc", "itemId": "I-FEE"}"#,
        ] {
            let text = format!(
                r#"{{"schemaVersion": 1, "ticketImport": {{"statuses": ["Completed"], "fixedFee": {bad}}}}}"#
            );
            assert!(TenantSettings::parse(&text).is_err(), "{bad} was accepted");
        }
        let mut blank = TenantSettings::default();
        blank.ticket_import.fixed_fee = FixedFee::Item {
            item_id: " ".into(),
        };
        let paths: Vec<String> = blank
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["ticketImport.fixedFee.itemId"]);
    }

    #[test]
    fn the_ticket_import_reads_its_mappings_and_points_at_each_bad_one() {
        let settings = TenantSettings::parse(
            r#"{"schemaVersion": 1, "ticketImport": {
                "statuses": ["Completed"],
                "members": {"jdoe": "T-100"},
                "agreements": {"42": "C-1"},
                "productTypes": {"Non-Inventory": "Hardware"},
                "defaultWorkType": "Remote Support",
                "overlapMinutes": 30,
                "excluded": [7]}}"#,
        )
        .unwrap();
        let tickets = &settings.ticket_import;
        assert_eq!(tickets.members["jdoe"], "T-100");
        assert_eq!(tickets.overlap_minutes, 30);
        assert!(tickets.imports_status(" completed"));
        assert!(!tickets.imports_status("Closed"));
        assert!(tickets.is_excluded(7) && !tickets.is_excluded(8));
        // A default document says nothing of them.
        let default = serde_json::to_value(TenantSettings::default()).unwrap();
        assert_eq!(
            default["ticketImport"],
            serde_json::json!({"statuses": ["Completed"]})
        );

        let mut bad = TenantSettings::default();
        bad.ticket_import
            .members
            .insert("jdoe".into(), " T-100".into());
        bad.ticket_import
            .agreements
            .insert("abc".into(), "C-1".into());
        bad.ticket_import
            .product_types
            .insert("Inventory".into(), String::new());
        bad.ticket_import.default_work_type = Some(String::new());
        bad.ticket_import.overlap_minutes = 5000;
        bad.ticket_import.excluded = vec![0];
        let paths: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            [
                "ticketImport.members.jdoe",
                "ticketImport.agreements.abc",
                "ticketImport.productTypes.Inventory",
                "ticketImport.defaultWorkType",
                "ticketImport.overlapMinutes",
                "ticketImport.excluded[0]",
            ]
        );
    }

    #[test]
    fn validate_lists_every_problem_at_once() {
        let mut settings = TenantSettings {
            error_attempts: 0,
            ..TenantSettings::default()
        };
        settings.schedules.ticket_import.interval_minutes = 0;
        settings.product_defaults.category = CwRef::Id(-4);
        settings.ticket_import.statuses.clear();
        let problems = settings.validate().unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "productDefaults.category",
                "ticketImport.statuses",
                "errorAttempts",
                "schedules.ticketImport.intervalMinutes",
            ]
        );
        // Without a scheduled ticket import, no status is needed.
        settings = TenantSettings::default();
        settings.ticket_import.statuses.clear();
        settings.schedules.ticket_import.enabled = false;
        assert_eq!(settings.validate(), Ok(()));
    }

    #[test]
    fn the_customer_filter_applies_include_exclude_and_the_opt_out() {
        let settings = TenantSettings::parse(FULL).unwrap();
        let filter = &settings.customer_filter;
        assert!(
            filter.allows(Some("client"), None, Some("01"), true),
            "opt-out ignored when told"
        );
        assert!(
            !filter.allows(Some("Prospect"), None, None, false),
            "not in include"
        );
        assert!(
            !filter.allows(Some("Client"), None, Some(" 99 "), false),
            "excluded branch"
        );
        assert!(
            !filter.allows(None, None, None, false),
            "no type while types are required"
        );
        let defaults = CustomerFilter::default();
        assert!(defaults.allows(None, None, None, false));
        assert!(
            !defaults.allows(None, None, None, true),
            "opt-out respected by default"
        );
    }

    #[test]
    fn currencies_are_mapped_by_connectwise_id_only() {
        let good = r#"{"schemaVersion": 1, "mappings": {"currencies": {"USD": 1, "CAD": 2}}}"#;
        let settings = TenantSettings::parse(good).unwrap();
        assert!(settings.validate().is_ok());
        assert_eq!(settings.mappings.currencies["CAD"], CwRef::Id(2));
        let by_name = r#"{"schemaVersion": 1, "mappings": {"currencies": {"USD": "US Dollar"}}}"#;
        let problem = TenantSettings::parse(by_name).unwrap_err();
        assert_eq!(problem.path, "mappings.currencies.USD");
        assert!(problem.message.contains("id"), "{problem}");
    }

    #[test]
    fn the_mass_change_guard_is_a_share_of_twenty_percent_by_default() {
        let defaults = TenantSettings::default();
        assert_eq!(defaults.export.mass_change_guard, Decimal::new(20, 2));
        let settings =
            TenantSettings::parse(r#"{"schemaVersion": 1, "export": {"massChangeGuard": 0.05}}"#)
                .unwrap();
        assert_eq!(settings.export.mass_change_guard, Decimal::new(5, 2));
        assert!(
            TenantSettings::parse(r#"{"schemaVersion": 1, "export": {"massChangeGuard": 1}}"#)
                .is_ok()
        );
        for bad in ["1.5", "-0.1"] {
            let e = parse_err(&format!(
                r#"{{"schemaVersion": 1, "export": {{"massChangeGuard": {bad}}}}}"#
            ));
            assert_eq!(e.path, "export.massChangeGuard");
            assert!(e.message.contains("between 0 and 1"), "{e}");
        }
        let e = parse_err(r#"{"schemaVersion": 1, "export": {"massChangeGuard": "lots"}}"#);
        assert_eq!(e.path, "export.massChangeGuard");
    }

    #[test]
    fn an_agreement_name_template_holds_only_known_placeholders() {
        for good in [
            "{agreementType} - {billingCycle}",
            "{company}",
            "Cloud services",
            "{company}: {agreementType} ({billingCycle})",
        ] {
            assert_eq!(
                AgreementDefaults::check_name_template(good),
                Ok(()),
                "{good}"
            );
        }
        for (bad, why) in [
            ("", "must not be empty"),
            ("  ", "must not be empty"),
            ("{customer} cloud", "unknown placeholder {customer}"),
            ("{company", "without its '}'"),
            ("company}", "without its '{'"),
            ("{}", "unknown placeholder {}"),
        ] {
            let problem = AgreementDefaults::check_name_template(bad).unwrap_err();
            assert!(problem.contains(why), "{bad:?}: {problem}");
        }
        let e = parse_err(
            r#"{"schemaVersion": 1, "agreementDefaults": {"nameTemplate": "{type} agreement"}}"#,
        );
        assert_eq!(e.path, "agreementDefaults.nameTemplate");
    }

    #[test]
    fn an_agreement_name_fills_each_placeholder_once() {
        let mut defaults = AgreementDefaults::default();
        assert_eq!(
            defaults.agreement_name("Acme", "Microsoft NCE", "Monthly"),
            "Microsoft NCE - Monthly"
        );
        defaults.name_template = "{company}: {agreementType} ({billingCycle})".into();
        assert_eq!(
            defaults.agreement_name(" Acme {billingCycle} ", "Cloud", "Yearly"),
            "Acme {billingCycle}: Cloud (Yearly)"
        );
    }
}
