//! Records the export's tests share: a ConnectWise's reference data, a product, a subscription.

use cwsync_billing::models::{Price, Product, Subscription};
use cwsync_connectwise::models::{
    AgreementType, Category, ProductType, Reference, SubCategory, UnitOfMeasure,
};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::macros::{date, datetime};

use super::ExportReference;

fn named(id: i64, identifier: Option<&str>, name: &str) -> Reference {
    Reference {
        id: Some(id),
        identifier: identifier.map(str::to_owned),
        name: Some(name.to_owned()),
        ..Reference::default()
    }
}

/// A ConnectWise's reference data: the names the default settings use, plus traps (an inactive
/// category, two units called "Seat", "Subscriptions" under two categories).
pub(super) fn reference() -> ExportReference {
    let category = |id, name: &str, inactive| Category {
        id: Some(id),
        name: Some(name.into()),
        inactive_flag: Some(inactive),
        ..Category::default()
    };
    let subcategory = |id, name: &str, category: i64| SubCategory {
        id: Some(id),
        name: Some(name.into()),
        inactive_flag: Some(false),
        category: Some(named(category, None, "category")),
        ..SubCategory::default()
    };
    let unit = |id, name: &str| UnitOfMeasure {
        id: Some(id),
        name: Some(name.into()),
        inactive_flag: Some(false),
        ..UnitOfMeasure::default()
    };
    let agreement_type = |id, name: &str| AgreementType {
        id: Some(id),
        name: Some(name.into()),
        inactive_flag: Some(false),
        ..AgreementType::default()
    };
    ExportReference {
        categories: vec![
            category(1, "Cloud", false),
            category(2, "Services", false),
            category(3, "Legacy", true),
        ],
        subcategories: vec![
            subcategory(10, "Subscriptions", 1),
            subcategory(11, "Licences", 1),
            subcategory(20, "Subscriptions", 2),
        ],
        product_types: vec![
            ProductType {
                id: Some(5),
                name: Some("Cloud Service".into()),
                inactive_flag: Some(false),
                ..ProductType::default()
            },
            ProductType {
                id: Some(6),
                name: Some("Licence".into()),
                inactive_flag: Some(false),
                ..ProductType::default()
            },
        ],
        units_of_measure: vec![
            unit(1, "Each"),
            unit(2, "Month"),
            unit(3, "Year"),
            unit(4, "Seat"),
            unit(5, "Seat"),
        ],
        agreement_types: vec![
            agreement_type(10, "Managed Services"),
            agreement_type(11, "Microsoft NCE"),
        ],
        billing_cycles: vec![
            named(1, Some("MO"), "Monthly"),
            named(2, Some("QT"), "Quarterly"),
            named(3, Some("YR"), "Yearly"),
        ],
        locations: vec![named(2, None, "Head Office")],
        departments: vec![named(4, Some("SVC"), "Services")],
    }
}

fn updated() -> OffsetDateTime {
    datetime!(2026-11-02 10:00 UTC)
}

/// A product with a retail price per month and per year and a partner price per month.
pub(super) fn product() -> Product {
    Product {
        id: "P-1".into(),
        sku: "M365-BP".into(),
        name: "Microsoft 365 Business Premium".into(),
        description: Some("Productivity suite with advanced security.".into()),
        enabled: true,
        unit: Some("licence".into()),
        product_type: Some("License".into()),
        taxable: true,
        cost: Some(Decimal::new(1800, 2)),
        prices: vec![
            Price {
                price_list: "Retail".into(),
                unit: "Month".into(),
                price: Decimal::new(2200, 2),
                cost: Some(Decimal::new(1850, 2)),
            },
            Price {
                price_list: "Retail".into(),
                unit: "Year".into(),
                price: Decimal::new(26400, 2),
                cost: None,
            },
            Price {
                price_list: "Partner".into(),
                unit: "Month".into(),
                price: Decimal::new(2000, 2),
                cost: None,
            },
        ],
        updated_at: updated(),
    }
}

/// A live monthly subscription of 12 licences to [`product`].
pub(super) fn subscription() -> Subscription {
    Subscription {
        id: "S-1".into(),
        account_id: "A-1".into(),
        product_id: "P-1".into(),
        quantity: Decimal::from(12),
        unit_cost: None,
        unit_price: None,
        unit: Some("Licence".into()),
        billing_frequency: Some("monthly".into()),
        agreement_type: Some("CSP".into()),
        start_date: Some(date!(2026 - 11 - 01)),
        end_date: None,
        cancelled_at: None,
        updated_at: updated(),
    }
}

/// Settings that price from the Retail list and map the fixtures' billing values.
pub(super) fn settings() -> crate::settings::TenantSettings {
    use crate::settings::{CwRef, TenantSettings};
    let mut settings = TenantSettings::default();
    settings.pricing.price_list_priority = vec!["Retail".into()];
    settings.pricing.unit_priority = vec!["Month".into(), "Year".into()];
    let mappings = &mut settings.mappings;
    mappings
        .units_of_measure
        .insert("Licence".into(), CwRef::name("Each"));
    mappings
        .billing_frequencies
        .insert("Monthly".into(), CwRef::name("Monthly"));
    mappings
        .billing_frequencies
        .insert("Annual".into(), CwRef::Id(3));
    mappings
        .agreement_types
        .insert("CSP".into(), CwRef::name("Microsoft NCE"));
    settings.agreement_defaults.agreement_type = Some(CwRef::name("Managed Services"));
    settings
}

/// `value` as ConnectWise returns it after a create: with an id, references carrying names and
/// `_info`, and an `_info` of its own.
pub(super) fn echo<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T, id: i64) -> T {
    let mut json = serde_json::to_value(value).unwrap_or_default();
    if let Some(fields) = json.as_object_mut() {
        fields.insert("id".into(), id.into());
        fields.insert(
            "_info".into(),
            serde_json::json!({"lastUpdated": "2026-11-02T10:00:00Z", "updatedBy": "api"}),
        );
        for field in fields.values_mut() {
            if let Some(reference) = field.as_object_mut()
                && reference.contains_key("id")
            {
                reference.insert("name".into(), "as named in ConnectWise".into());
                reference.insert("_info".into(), serde_json::json!({"x_href": "https://cw"}));
            }
        }
    }
    serde_json::from_value(json).unwrap_or_else(|_| panic!("echo of a model reads back"))
}
