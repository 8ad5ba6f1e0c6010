//! The embedded fixture: the shapes and oddities the local run relies on, and agreement with the
//! ConnectWise simulator's reference data (states, countries, types, statuses, currencies).

use std::collections::HashSet;

use cwsync_billing::models::Account;
use cwsync_billing_sim::{BillingSim, BillingSimOptions, FIXTURE_ACCOUNTS_JSON, fixture_accounts};
use serde_json::Value;

use crate::common::{Api, item_ids};

const CW_REFERENCE_DATA: &str =
    include_str!("../../../connectwise-sim/fixtures/reference-data.json");

/// The `field` of every record of a ConnectWise reference collection.
fn reference(collection: &str, field: &str) -> HashSet<String> {
    let data: Value = serde_json::from_str(CW_REFERENCE_DATA).unwrap();
    data[collection]
        .as_array()
        .unwrap_or_else(|| panic!("{collection} in the reference data"))
        .iter()
        .filter_map(|r| r[field].as_str().map(str::to_owned))
        .collect()
}

fn by_id<'a>(accounts: &'a [Account], id: &str) -> &'a Account {
    accounts.iter().find(|a| a.id == id).unwrap()
}

#[test]
fn the_fixture_holds_six_accounts_with_contract_shaped_ids_and_codes() {
    let accounts = fixture_accounts();
    assert_eq!(accounts.len(), 6);
    let raw: Value = serde_json::from_str(FIXTURE_ACCOUNTS_JSON).unwrap();
    assert_eq!(raw.as_array().unwrap().len(), 6);
    let mut codes = HashSet::new();
    for a in &accounts {
        assert!(a.id.starts_with("A-10"), "{}", a.id);
        assert!(a.code.len() <= 25 && !a.code.contains(' '), "{}", a.code);
        assert!(codes.insert(a.code.clone()), "codes are unique");
        assert!(
            a.customer_type.is_some() && a.contract_type.is_some() && a.branch.is_some(),
            "{} has the customer-filter fields",
            a.id
        );
        assert!((1..=3).contains(&a.contacts.len()), "{}", a.id);
        assert!(a.sites.len() <= 2, "{}", a.id);
    }
    assert!(accounts.iter().any(|a| a.sites.len() == 1));
    assert!(accounts.iter().any(|a| a.sites.len() == 2));
    let contacts: Vec<_> = accounts.iter().flat_map(|a| &a.contacts).collect();
    assert!(contacts.iter().any(|c| c.phone.is_some()));
    assert!(contacts.iter().any(|c| c.email.is_some()));
    assert!(contacts.iter().any(|c| c.mobile.is_some()));
    assert!(contacts.iter().any(|c| c.fax.is_some()));
    let site_ids: HashSet<_> = accounts
        .iter()
        .flat_map(|a| &a.sites)
        .map(|s| &s.id)
        .collect();
    let contact_ids: HashSet<_> = contacts.iter().map(|c| &c.id).collect();
    assert_eq!(
        site_ids.len(),
        accounts.iter().map(|a| a.sites.len()).sum::<usize>()
    );
    assert_eq!(contact_ids.len(), contacts.len());
}

#[test]
fn the_fixture_carries_the_cases_the_local_run_shows() {
    let accounts = fixture_accounts();
    let states: Vec<&str> = accounts
        .iter()
        .filter_map(|a| a.billing_address.as_ref()?.state.as_deref())
        .collect();
    assert!(
        states.contains(&" arizona "),
        "a full name with odd case and spaces"
    );
    assert!(states.iter().any(|s| s.len() == 2), "a state as a code");
    assert!(states.contains(&"Narnia"), "an unknown state");
    let child = accounts
        .iter()
        .find(|a| a.parent_account_id.is_some())
        .unwrap();
    let parent = child.parent_account_id.as_deref().unwrap();
    assert!(accounts.iter().any(|a| a.id == parent));
    assert_eq!(child.bill_to_account_id.as_deref(), Some(parent));
    let opted_out: Vec<&str> = accounts
        .iter()
        .filter(|a| !a.sync_to_connect_wise)
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(opted_out.len(), 1);
    assert!(accounts.iter().any(|a| a.name.contains('\'')));
    assert!(accounts.iter().any(|a| a.name.contains('&')));
    assert_eq!(
        by_id(&accounts, "A-1001")
            .billing_address
            .as_ref()
            .unwrap()
            .state
            .as_deref(),
        Some(" arizona ")
    );
}

#[test]
fn the_fixture_speaks_the_connectwise_simulators_reference_data() {
    let accounts = fixture_accounts();
    let state_codes = reference("/company/states", "identifier");
    let state_names: HashSet<String> = reference("/company/states", "name")
        .into_iter()
        .map(|n| n.to_lowercase())
        .collect();
    let countries = reference("/company/countries", "name");
    let types = reference("/company/companies/types", "name");
    let statuses = reference("/company/companies/statuses", "name");
    let currencies = reference("/finance/currencies", "currencyCode");
    let mut addresses = Vec::new();
    for a in &accounts {
        assert!(
            types.contains(a.account_type.as_deref().unwrap()),
            "{}",
            a.id
        );
        assert!(statuses.contains(a.status.as_deref().unwrap()), "{}", a.id);
        assert!(
            currencies.contains(a.currency.as_deref().unwrap()),
            "{}",
            a.id
        );
        addresses.extend(
            a.billing_address
                .iter()
                .map(|ad| (a.id.clone(), ad.clone())),
        );
        addresses.extend(a.sites.iter().map(|s| (s.id.clone(), s.address.clone())));
    }
    for (owner, address) in addresses {
        let country = address.country.as_deref().unwrap();
        assert!(
            country == "United States" || country == "Canada",
            "{owner}: {country}"
        );
        assert!(countries.contains(country));
        let state = address.state.as_deref().unwrap();
        if state == "Narnia" {
            continue;
        }
        let known =
            state_codes.contains(state) || state_names.contains(&state.trim().to_lowercase());
        assert!(
            known,
            "{owner}: {state:?} is in the ConnectWise reference data"
        );
    }
    let used: HashSet<&str> = accounts
        .iter()
        .filter_map(|a| a.currency.as_deref())
        .collect();
    assert_eq!(used, HashSet::from(["USD", "CAD"]));
}

#[tokio::test]
async fn a_simulator_started_with_the_fixture_serves_it() {
    let sim = BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap();
    let (status, body) = Api::new(&sim).get("/v1/accounts").await;
    assert_eq!(status, 200);
    assert_eq!(
        item_ids(&body),
        ["A-1001", "A-1002", "A-1003", "A-1004", "A-1005", "A-1006"]
    );
    assert!(body.get("nextCursor").is_none());
}
