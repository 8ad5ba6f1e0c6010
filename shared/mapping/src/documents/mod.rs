//! Billing documents both ways (issue 11): invoices, payments, orders and projects exported to
//! ConnectWise invoices, payments, sales orders and opportunities; a billing account's credit
//! hold to a company custom field; and ConnectWise agreement invoices and sales orders pulled
//! back as billing contracts and orders.
//!
//! [`DocumentSettings`] is the tenant's `documents` section: what each document kind needs beyond
//! the export's toggles (`export.invoices`, `export.payments`, `export.orders`,
//! `export.projects`). The kinds that have no export toggle (the credit hold and the two pulls)
//! are on when their section is present. The pure mappings live in the submodules.

pub mod contracts;
pub mod credit_hold;
pub mod invoices;
pub mod lines;
pub mod opportunities;
pub mod orders;
pub mod payments;
pub mod sales_orders;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::settings::{FieldPath, SettingsError};

/// The tenant's `documents` settings section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentSettings {
    /// How billing invoices become ConnectWise invoices.
    pub invoices: InvoiceSettings,
    /// How billing orders become ConnectWise sales orders.
    pub orders: OrderSettings,
    /// How billing projects become ConnectWise opportunities.
    pub opportunities: OpportunitySettings,
    /// An account's credit hold → a ConnectWise company custom field (off when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_hold: Option<CreditHold>,
    /// ConnectWise agreement invoices → billing contracts (off when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_invoices: Option<AgreementInvoicePull>,
    /// ConnectWise sales orders → billing orders (off when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_orders: Option<SalesOrderPull>,
}

impl DocumentSettings {
    /// Whether the section holds nothing but defaults (then a settings document leaves it out,
    /// so documents written before it existed read, and fingerprint, as before).
    pub fn is_default(&self) -> bool {
        *self == DocumentSettings::default()
    }

    /// Checks what the types can't, each problem under `path`.
    pub(crate) fn check(&self, path: &FieldPath, problems: &mut Vec<SettingsError>) {
        let invoices = path.field("invoices");
        if self.invoices.default_type.trim().is_empty() {
            problems.push(SettingsError::at(
                &invoices.field("defaultType"),
                "must name a ConnectWise invoice type (Standard, CreditMemo, …)",
            ));
        }
        if let Some(hold) = &self.credit_hold
            && hold.custom_field.trim().is_empty()
        {
            problems.push(SettingsError::at(
                &path.field("creditHold").field("customField"),
                "must name the ConnectWise company custom field (its caption)",
            ));
        }
        let opportunities = path.field("opportunities");
        for (field, value) in self.opportunities.named() {
            if value.trim().is_empty() {
                problems.push(SettingsError::at(
                    &opportunities.field(field),
                    "must name a ConnectWise record (it is created when missing, statuses excepted)",
                ));
            }
        }
        let blank = |value: &Option<String>| value.as_deref().is_some_and(|v| v.trim().is_empty());
        if let Some(pull) = &self.agreement_invoices {
            let at = path.field("agreementInvoices");
            for (name, value) in [
                ("defaultTemplate", &pull.default_template),
                ("invoiceNumberField", &pull.invoice_number_field),
            ] {
                if blank(value) {
                    problems.push(SettingsError::at(
                        &at.field(name),
                        "must not be empty (leave it out instead)",
                    ));
                }
            }
        }
        if let Some(pull) = &self.sales_orders
            && blank(&pull.error_item)
        {
            problems.push(SettingsError::at(
                &path.field("salesOrders").field("errorItem"),
                "must name a billing item (its id or SKU), or be left out",
            ));
        }
    }
}

/// How billing invoices become ConnectWise invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceSettings {
    /// The ConnectWise invoice type of a billing invoice without one of [`InvoiceSettings::types`].
    pub default_type: String,
    /// Billing invoice type → ConnectWise invoice type (`Standard`, `CreditMemo`, `DownPayment`,
    /// `Miscellaneous`, `Progress`), compared without case, spaces or hyphens. A billing type
    /// not here that names a ConnectWise type (`Credit Memo`) is that type.
    pub types: BTreeMap<String, String>,
}

impl Default for InvoiceSettings {
    fn default() -> Self {
        InvoiceSettings {
            default_type: "Standard".to_owned(),
            types: BTreeMap::from([("credit-note".to_owned(), "CreditMemo".to_owned())]),
        }
    }
}

/// How billing orders become ConnectWise sales orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderSettings {
    /// Billing order stage → ConnectWise order status name (any case). A stage not here is the
    /// ConnectWise status of the same name; neither is the order's failure, naming the stage.
    pub statuses: BTreeMap<String, String>,
    /// The sales rep (a ConnectWise member's identifier or e-mail) of orders whose own sales rep
    /// matches no member (seed 003: the `SalesRepId` server variable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_rep: Option<String>,
}

/// How billing projects become ConnectWise opportunities (seeds 002): the names of the records
/// an opportunity and its products need. The type, category and subcategory are created when
/// ConnectWise has none of that name (as Jetbuilt does); the product type and the statuses must
/// exist (a missing one is the project's failure naming it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct OpportunitySettings {
    /// The opportunity type of every exported project (`/sales/opportunities/types`).
    pub opportunity_type: String,
    /// The product category of the catalog items cwsync creates for project items.
    pub category: String,
    /// The subcategory (of [`OpportunitySettings::category`]) of those catalog items.
    pub subcategory: String,
    /// The product type of those catalog items.
    pub product_type: String,
    /// The status of an open project's opportunity.
    pub open_status: String,
    /// The status of a won project's opportunity (a status with `wonFlag`).
    pub won_status: String,
    /// The status of a lost project's opportunity (a status with `lostFlag`).
    pub lost_status: String,
}

impl OpportunitySettings {
    /// Each name with its settings field.
    fn named(&self) -> [(&'static str, &str); 7] {
        [
            ("opportunityType", &self.opportunity_type),
            ("category", &self.category),
            ("subcategory", &self.subcategory),
            ("productType", &self.product_type),
            ("openStatus", &self.open_status),
            ("wonStatus", &self.won_status),
            ("lostStatus", &self.lost_status),
        ]
    }
}

impl Default for OpportunitySettings {
    fn default() -> Self {
        OpportunitySettings {
            opportunity_type: "Project".to_owned(),
            category: "Projects".to_owned(),
            subcategory: "Project Items".to_owned(),
            product_type: "Non-Inventory".to_owned(),
            open_status: "Open".to_owned(),
            won_status: "Won".to_owned(),
            lost_status: "Lost".to_owned(),
        }
    }
}

/// An account's credit hold → a ConnectWise company custom field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditHold {
    /// The custom field's caption, as ConnectWise shows it on the company.
    pub custom_field: String,
    /// The value of a field that is not a checkbox while the account is on hold (a checkbox is
    /// `true`).
    #[serde(default = "on_hold_text")]
    pub on_value: String,
    /// The value of such a field while the account is not on hold (empty: cleared; a checkbox is
    /// `false`).
    #[serde(default)]
    pub off_value: String,
}

fn on_hold_text() -> String {
    "On Hold".to_owned()
}

/// ConnectWise agreement invoices → billing contracts (seeds 000, Agreement Sync).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AgreementInvoicePull {
    /// The invoice statuses pulled (all when empty).
    pub statuses: Vec<String>,
    /// The agreement types pulled (all when empty).
    pub agreement_types: Vec<String>,
    /// The contract template (its name or id) used when none is named exactly like the agreement
    /// type; absent: the billing system's default template.
    pub default_template: Option<String>,
    /// The contract custom field the invoice number is written to.
    pub invoice_number_field: Option<String>,
}

/// ConnectWise sales orders → billing orders (seeds 000, Sales Order Sync).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SalesOrderPull {
    /// The ConnectWise order statuses pulled (all when empty).
    pub statuses: Vec<String>,
    /// The billing item (its id or SKU) an order line gets when its product maps to none (the
    /// order is put on hold with the reason); absent: such an order fails, naming the product.
    pub error_item: Option<String>,
}

#[cfg(test)]
mod tests {
    use crate::settings::TenantSettings;

    #[test]
    fn the_pulls_refuse_blank_names_and_say_where() {
        let mut settings = TenantSettings::default();
        settings.documents.agreement_invoices = Some(super::AgreementInvoicePull {
            default_template: Some(" ".to_owned()),
            invoice_number_field: Some("CW Invoice Number".to_owned()),
            ..super::AgreementInvoicePull::default()
        });
        settings.documents.sales_orders = Some(super::SalesOrderPull {
            error_item: Some(String::new()),
            ..super::SalesOrderPull::default()
        });
        let problems = settings.validate().unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text[0].contains("documents.agreementInvoices.defaultTemplate"),
            "{text:?}"
        );
        assert!(
            text[1].contains("documents.salesOrders.errorItem"),
            "{text:?}"
        );
        settings.documents.agreement_invoices = Some(super::AgreementInvoicePull::default());
        settings.documents.sales_orders = None;
        assert!(settings.validate().is_ok());
    }
}
