//! The embedded fixtures: six US and Canadian accounts, and what the daily export reads for them
//! — six products (several price lists and units each, one disabled), seven subscriptions (one
//! cancelled, one billed at a frequency no tenant maps: `Biennial`, amounts as numbers and as
//! strings) and six users with their enabled services (one disabled). Compiled in and checked by
//! this crate's tests, so they always parse.

use cwsync_billing::models::{Account, AccountUser, Product, Subscription};
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
}

impl Fixtures {
    pub(crate) fn parse() -> Result<Fixtures, SimError> {
        Ok(Fixtures {
            accounts: parse("accounts", FIXTURE_ACCOUNTS_JSON)?,
            products: parse("products", FIXTURE_PRODUCTS_JSON)?,
            subscriptions: parse("subscriptions", FIXTURE_SUBSCRIPTIONS_JSON)?,
            users: parse("users", FIXTURE_USERS_JSON)?,
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
