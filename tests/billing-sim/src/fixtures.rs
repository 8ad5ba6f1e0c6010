//! The embedded fixtures: six US and Canadian accounts, and what the daily export reads for them
//! — six products (several price lists and units each, one disabled), seven subscriptions (one
//! cancelled, one billed at a frequency no tenant maps: `Biennial`, amounts as numbers and as
//! strings) and six users with their enabled services (one disabled); and what the ticket import
//! reads — four technicians (two matching the ConnectWise simulator's members by e-mail or
//! identifier, one inactive), four contracts of the fixture accounts (one expired), nine items
//! (SKUs matching the catalog, one inactive, a placeholder per product type but `License`) and
//! four service calls (two flagged for ConnectWise and waiting, one flagged but on hold, one
//! invoiced); and the billing documents — three invoices with items (one a credit memo), four
//! payments (three for one invoice, one of them a refund: a negative amount), an order with
//! items, a project with an option and a change order, four contract templates named like the
//! ConnectWise simulator's agreement types (`Managed Services` the default, `Legacy Hosting`
//! inactive) — and one account on credit hold (`A-1005`). Compiled in and checked by this
//! crate's tests, so they always parse.

use cwsync_billing::models::{
    Account, AccountUser, Contract, ContractTemplate, Invoice, Item, Order, Payment, Product,
    ProductType, Project, ServiceCall, Subscription, Technician,
};
use serde::de::DeserializeOwned;

use crate::SimError;

/// The accounts fixture (a JSON array of accounts).
pub const FIXTURE_ACCOUNTS_JSON: &str = include_str!("../fixtures/accounts.json");
/// The products fixture (a JSON array of products).
pub const FIXTURE_PRODUCTS_JSON: &str = include_str!("../fixtures/products.json");
/// The subscriptions fixture (a JSON array of subscriptions of the fixture's accounts).
pub const FIXTURE_SUBSCRIPTIONS_JSON: &str = include_str!("../fixtures/subscriptions.json");
/// The users fixture (a JSON array of users of the fixture's accounts).
pub const FIXTURE_USERS_JSON: &str = include_str!("../fixtures/users.json");
/// The technicians fixture.
pub const FIXTURE_TECHNICIANS_JSON: &str = include_str!("../fixtures/technicians.json");
/// The contracts fixture (contracts of the fixture's accounts).
pub const FIXTURE_CONTRACTS_JSON: &str = include_str!("../fixtures/contracts.json");
/// The items fixture (placeholder items included).
pub const FIXTURE_ITEMS_JSON: &str = include_str!("../fixtures/items.json");
/// The product types fixture.
pub const FIXTURE_PRODUCT_TYPES_JSON: &str = include_str!("../fixtures/product-types.json");
/// The service calls fixture.
pub const FIXTURE_SERVICE_CALLS_JSON: &str = include_str!("../fixtures/service-calls.json");
/// The invoices fixture (invoices of the fixture's accounts, with items).
pub const FIXTURE_INVOICES_JSON: &str = include_str!("../fixtures/invoices.json");
/// The payments fixture (payments and a refund of the fixture's invoices).
pub const FIXTURE_PAYMENTS_JSON: &str = include_str!("../fixtures/payments.json");
/// The orders fixture.
pub const FIXTURE_ORDERS_JSON: &str = include_str!("../fixtures/orders.json");
/// The projects fixture (a project, its option and its change order).
pub const FIXTURE_PROJECTS_JSON: &str = include_str!("../fixtures/projects.json");
/// The contract templates fixture.
pub const FIXTURE_CONTRACT_TEMPLATES_JSON: &str =
    include_str!("../fixtures/contract-templates.json");
/// The tenant settings the daily export needs for these fixtures against the ConnectWise
/// simulator: the fixture's units, billing frequencies and agreement types mapped to the
/// simulator's reference data, product and agreement defaults, and the price priority (a JSON
/// object of `TenantSettings` fields, without `schemaVersion`). Two values stay unmapped on
/// purpose (`Biennial`, `Equipment Lease`), so an export shows their per-record errors.
pub const FIXTURE_EXPORT_SETTINGS_JSON: &str = include_str!("../fixtures/export-settings.json");

/// Every embedded fixture, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fixtures {
    pub(crate) accounts: Vec<Account>,
    pub(crate) products: Vec<Product>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) users: Vec<AccountUser>,
    pub(crate) technicians: Vec<Technician>,
    pub(crate) contracts: Vec<Contract>,
    pub(crate) items: Vec<Item>,
    pub(crate) product_types: Vec<ProductType>,
    pub(crate) service_calls: Vec<ServiceCall>,
    pub(crate) invoices: Vec<Invoice>,
    pub(crate) payments: Vec<Payment>,
    pub(crate) orders: Vec<Order>,
    pub(crate) projects: Vec<Project>,
    pub(crate) contract_templates: Vec<ContractTemplate>,
}

impl Fixtures {
    pub(crate) fn parse() -> Result<Fixtures, SimError> {
        Ok(Fixtures {
            accounts: parse("accounts", FIXTURE_ACCOUNTS_JSON)?,
            products: parse("products", FIXTURE_PRODUCTS_JSON)?,
            subscriptions: parse("subscriptions", FIXTURE_SUBSCRIPTIONS_JSON)?,
            users: parse("users", FIXTURE_USERS_JSON)?,
            technicians: parse("technicians", FIXTURE_TECHNICIANS_JSON)?,
            contracts: parse("contracts", FIXTURE_CONTRACTS_JSON)?,
            items: parse("items", FIXTURE_ITEMS_JSON)?,
            product_types: parse("product types", FIXTURE_PRODUCT_TYPES_JSON)?,
            service_calls: parse("service calls", FIXTURE_SERVICE_CALLS_JSON)?,
            invoices: parse("invoices", FIXTURE_INVOICES_JSON)?,
            payments: parse("payments", FIXTURE_PAYMENTS_JSON)?,
            orders: parse("orders", FIXTURE_ORDERS_JSON)?,
            projects: parse("projects", FIXTURE_PROJECTS_JSON)?,
            contract_templates: parse("contract templates", FIXTURE_CONTRACT_TEMPLATES_JSON)?,
        })
    }
}

fn parse<T: DeserializeOwned>(name: &str, json: &str) -> Result<Vec<T>, SimError> {
    serde_json::from_str(json).map_err(|e| SimError::InvalidFixture(format!("{name}: {e}")))
}

/// The parsed fixtures; they are compile-time constants checked by the crate's tests.
fn embedded() -> Fixtures {
    #[allow(
        clippy::expect_used,
        reason = "the fixtures are compile-time constants checked by the crate's tests"
    )]
    Fixtures::parse().expect("the embedded fixtures parse")
}

/// The embedded accounts.
pub fn fixture_accounts() -> Vec<Account> {
    embedded().accounts
}

/// The embedded products.
pub fn fixture_products() -> Vec<Product> {
    embedded().products
}

/// The embedded subscriptions.
pub fn fixture_subscriptions() -> Vec<Subscription> {
    embedded().subscriptions
}

/// The embedded users of accounts.
pub fn fixture_users() -> Vec<AccountUser> {
    embedded().users
}

/// The embedded technicians.
pub fn fixture_technicians() -> Vec<Technician> {
    embedded().technicians
}

/// The embedded contracts.
pub fn fixture_contracts() -> Vec<Contract> {
    embedded().contracts
}

/// The embedded items.
pub fn fixture_items() -> Vec<Item> {
    embedded().items
}

/// The embedded product types.
pub fn fixture_product_types() -> Vec<ProductType> {
    embedded().product_types
}

/// The embedded service calls.
pub fn fixture_service_calls() -> Vec<ServiceCall> {
    embedded().service_calls
}

/// The embedded invoices.
pub fn fixture_invoices() -> Vec<Invoice> {
    embedded().invoices
}

/// The embedded payments and refunds.
pub fn fixture_payments() -> Vec<Payment> {
    embedded().payments
}

/// The embedded orders.
pub fn fixture_orders() -> Vec<Order> {
    embedded().orders
}

/// The embedded projects, options and change orders.
pub fn fixture_projects() -> Vec<Project> {
    embedded().projects
}

/// The embedded contract templates.
pub fn fixture_contract_templates() -> Vec<ContractTemplate> {
    embedded().contract_templates
}

/// The export settings of the fixtures ([`FIXTURE_EXPORT_SETTINGS_JSON`]), parsed.
pub fn fixture_export_settings() -> serde_json::Value {
    #[allow(
        clippy::expect_used,
        reason = "a compile-time constant checked by the crate's tests"
    )]
    serde_json::from_str(FIXTURE_EXPORT_SETTINGS_JSON).expect("the export settings parse")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_embedded_fixtures_parse_and_refer_to_each_other() {
        let f = Fixtures::parse().unwrap();
        assert_eq!(f.accounts.len(), 6);
        assert_eq!(fixture_accounts(), f.accounts);
        assert_eq!(
            (f.products.len(), f.subscriptions.len(), f.users.len()),
            (6, 7, 6)
        );
        let accounts: HashSet<&str> = f.accounts.iter().map(|a| a.id.as_str()).collect();
        let products: HashSet<&str> = f.products.iter().map(|p| p.id.as_str()).collect();
        for s in &f.subscriptions {
            assert!(accounts.contains(s.account_id.as_str()), "{}", s.id);
            assert!(products.contains(s.product_id.as_str()), "{}", s.id);
        }
        for u in &f.users {
            assert!(accounts.contains(u.account_id.as_str()), "{}", u.id);
        }
        assert_eq!(
            f.subscriptions
                .iter()
                .filter(|s| s.cancelled_at.is_some())
                .count(),
            1
        );
        assert!(f.products.iter().any(|p| !p.enabled));
        assert!(f.products.iter().all(|p| !p.prices.is_empty()));
        let on_several_lists = f
            .products
            .iter()
            .filter(|p| {
                p.prices
                    .iter()
                    .map(|x| &x.price_list)
                    .collect::<HashSet<_>>()
                    .len()
                    > 1
            })
            .count();
        assert!(on_several_lists >= 3, "{on_several_lists}");
        assert!(
            f.subscriptions
                .iter()
                .any(|s| s.billing_frequency.as_deref() == Some("Biennial"))
        );
    }

    #[test]
    fn the_ticket_import_fixtures_refer_to_each_other_and_to_the_accounts() {
        let f = Fixtures::parse().unwrap();
        let accounts: HashSet<&str> = f.accounts.iter().map(|a| a.id.as_str()).collect();
        let items: HashSet<&str> = f.items.iter().map(|i| i.id.as_str()).collect();
        let types: HashSet<&str> = f.product_types.iter().map(|t| t.id.as_str()).collect();
        let technicians: HashSet<&str> = f.technicians.iter().map(|t| t.id.as_str()).collect();
        let contracts: HashSet<&str> = f.contracts.iter().map(|c| c.id.as_str()).collect();
        for c in &f.contracts {
            assert!(accounts.contains(c.account_id.as_str()), "{}", c.id);
        }
        for i in &f.items {
            assert!(
                i.product_type_id
                    .as_deref()
                    .is_some_and(|t| types.contains(t)),
                "{}",
                i.id
            );
        }
        // Every placeholder is a placeholder item of its own type.
        for t in &f.product_types {
            if let Some(placeholder) = t.placeholder_item_id.as_deref() {
                let item = f.items.iter().find(|i| i.id == placeholder).unwrap();
                assert!(item.placeholder, "{placeholder}");
                assert_eq!(item.product_type_id.as_deref(), Some(t.id.as_str()));
            }
        }
        assert!(
            f.product_types
                .iter()
                .any(|t| t.placeholder_item_id.is_none())
        );
        assert!(f.items.iter().any(|i| !i.active));
        assert!(f.technicians.iter().any(|t| !t.active));
        for call in &f.service_calls {
            assert!(accounts.contains(call.account_id.as_str()), "{}", call.id);
            assert!(
                call.contract_id
                    .as_deref()
                    .is_none_or(|c| contracts.contains(c)),
                "{}",
                call.id
            );
            for line in &call.labor {
                assert!(
                    technicians.contains(line.technician_id.as_str()),
                    "{}",
                    call.id
                );
            }
            for part in &call.parts {
                assert!(items.contains(part.item_id.as_str()), "{}", call.id);
            }
        }
        let waiting = f
            .service_calls
            .iter()
            .filter(|c| c.awaits_connect_wise_ticket())
            .count();
        assert_eq!(waiting, 2);
        assert!(
            f.service_calls
                .iter()
                .any(|c| c.connect_wise.is_some() && c.on_hold)
        );
    }

    #[test]
    fn the_document_fixtures_refer_to_each_other_and_add_up() {
        use cwsync_billing::models::ProjectKind;
        use rust_decimal::Decimal;

        let f = Fixtures::parse().unwrap();
        let accounts: HashSet<&str> = f.accounts.iter().map(|a| a.id.as_str()).collect();
        let items: HashSet<&str> = f.items.iter().map(|i| i.id.as_str()).collect();
        let lines = f
            .invoices
            .iter()
            .flat_map(|i| &i.items)
            .chain(f.orders.iter().flat_map(|o| &o.items))
            .chain(f.projects.iter().flat_map(|p| &p.items));
        for line in lines {
            assert!(items.contains(line.item_id.as_str()), "{}", line.item_id);
        }
        for invoice in &f.invoices {
            assert!(
                accounts.contains(invoice.account_id.as_str()),
                "{}",
                invoice.id
            );
            let lines: Decimal = invoice.items.iter().map(|l| l.quantity * l.price).sum();
            assert_eq!(lines, invoice.total, "{}", invoice.id);
            let paid: Decimal = f
                .payments
                .iter()
                .filter(|p| p.invoice_id == invoice.id)
                .map(|p| p.amount)
                .sum();
            assert_eq!(invoice.total - paid, invoice.balance, "{}", invoice.id);
        }
        for payment in &f.payments {
            let invoice = f.invoices.iter().find(|i| i.id == payment.invoice_id);
            assert_eq!(
                invoice.map(|i| i.account_id.as_str()),
                Some(payment.account_id.as_str()),
                "{}",
                payment.id
            );
        }
        assert_eq!(f.payments.iter().filter(|p| p.is_refund()).count(), 1);
        for project in &f.projects {
            assert!(
                accounts.contains(project.account_id.as_str()),
                "{}",
                project.id
            );
            let parent = project.parent_project_id.as_deref();
            match project.kind {
                ProjectKind::Project => assert!(parent.is_none(), "{}", project.id),
                _ => assert!(
                    parent.is_some_and(|p| f.projects.iter().any(|x| x.id == p)),
                    "{}",
                    project.id
                ),
            }
        }
        for order in &f.orders {
            assert!(accounts.contains(order.account_id.as_str()), "{}", order.id);
        }
        assert_eq!(
            f.contract_templates.iter().filter(|t| t.is_default).count(),
            1
        );
        assert_eq!(f.accounts.iter().filter(|a| a.on_hold).count(), 1);
    }

    #[test]
    fn the_export_settings_map_every_fixture_value_but_the_two_left_unmapped_on_purpose() {
        let settings = fixture_export_settings();
        let mappings = &settings["mappings"];
        let f = Fixtures::parse().unwrap();
        let mapped = |table: &str, value: &str| mappings[table].get(value).is_some();
        for s in &f.subscriptions {
            if let Some(unit) = s.unit.as_deref() {
                assert!(mapped("unitsOfMeasure", unit), "{}: unit {unit}", s.id);
            }
            if let Some(frequency) = s.billing_frequency.as_deref() {
                assert_eq!(
                    mapped("billingFrequencies", frequency),
                    frequency != "Biennial",
                    "{}: {frequency}",
                    s.id
                );
            }
            if let Some(kind) = s.agreement_type.as_deref() {
                assert_eq!(
                    mapped("agreementTypes", kind),
                    kind != "Equipment Lease",
                    "{}: {kind}",
                    s.id
                );
            }
        }
        assert!(settings.get("schemaVersion").is_none());
    }
}
