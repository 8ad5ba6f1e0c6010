//! Test fixtures: ConnectWise reference data shaped like the simulator's
//! (`tests/connectwise-sim/fixtures/reference-data.json`), billing records, and records "as
//! ConnectWise echoes them back" (ids, `_info`, references expanded with names and hrefs, empty
//! strings for unset text), which an unchanged re-run must find equal.

use std::collections::BTreeMap;

use cwsync_billing::models::{Account, Address, Contact as BillingContact, Site};
use cwsync_connectwise::models::{
    CommunicationType, Company, CompanySite, CompanyStatus, CompanyType, Contact, Country,
    Currency, Info, Reference, State,
};
use serde_json::json;
use time::OffsetDateTime;

use super::CustomerReference;

fn country(id: i64, name: &str, code: &str, default: bool) -> Country {
    Country {
        id: Some(id),
        name: Some(name.into()),
        country_code: Some(code.into()),
        default_flag: Some(default),
        ..Country::default()
    }
}

fn state(id: i64, identifier: &str, name: &str, country: i64) -> State {
    State {
        id: Some(id),
        identifier: Some(identifier.into()),
        name: Some(name.into()),
        country: Some(Reference::id(country)),
        ..State::default()
    }
}

/// States, countries, types, statuses and currencies like the simulator's; `WA` exists in the
/// United States (default country) and in Australia.
pub(super) fn reference() -> CustomerReference {
    CustomerReference {
        states: vec![
            state(2, "AZ", "Arizona", 1),
            state(3, "CA", "California", 1),
            state(5, "FL", "Florida", 1),
            state(9, "NY", "New York", 1),
            state(14, "WA", "Washington", 1),
            state(18, "ON", "Ontario", 2),
            state(19, "QC", "Quebec", 2),
            state(30, "WA", "Western Australia", 4),
            state(31, "NSW", "New South Wales", 4),
        ],
        countries: vec![
            country(1, "United States", "US", true),
            country(2, "Canada", "CA", false),
            country(3, "United Kingdom", "GB", false),
            country(4, "Australia", "AU", false),
        ],
        company_types: ["Client", "Prospect", "Vendor", "Partner"]
            .iter()
            .zip(1..)
            .map(|(name, id)| CompanyType {
                id: Some(id),
                name: Some((*name).into()),
                ..CompanyType::default()
            })
            .collect(),
        company_statuses: ["Active", "Inactive", "Credit Hold"]
            .iter()
            .zip(1..)
            .map(|(name, id)| CompanyStatus {
                id: Some(id),
                name: Some((*name).into()),
                ..CompanyStatus::default()
            })
            .collect(),
        currencies: ["USD", "CAD", "GBP", "AUD"]
            .iter()
            .zip(1..)
            .map(|(code, id)| Currency {
                id: Some(id),
                currency_code: Some((*code).into()),
                currency_identifier: Some((*code).into()),
                ..Currency::default()
            })
            .collect(),
        communication_types: communication_types(),
    }
}

/// A tenant's communication types: Email 1, Direct 2, Fax 3, Cell 4 (the ids of a default
/// install, so the expected JSON in the tests reads naturally), then a home phone and a pager.
pub(super) fn communication_types() -> Vec<CommunicationType> {
    let kind = |id: i64, name: &str, phone: bool, fax: bool, email: bool| CommunicationType {
        id: Some(id),
        description: Some(name.into()),
        phone_flag: Some(phone),
        fax_flag: Some(fax),
        email_flag: Some(email),
        default_flag: Some(matches!(name, "Email" | "Direct" | "Fax")),
        ..CommunicationType::default()
    };
    vec![
        kind(1, "Email", false, false, true),
        kind(2, "Direct", true, false, false),
        kind(3, "Fax", false, true, false),
        kind(4, "Cell", true, false, false),
        kind(5, "Home", true, false, false),
        kind(6, "Pager", true, false, false),
    ]
}

/// A complete, valid billing address in Arizona.
pub(super) fn address() -> Address {
    Address {
        line1: Some("100 Main St".into()),
        line2: Some("Suite 5".into()),
        city: Some("Phoenix".into()),
        state: Some("AZ".into()),
        postal_code: Some("85001".into()),
        country: Some("United States".into()),
    }
}

/// A complete, valid account.
pub(super) fn account() -> Account {
    Account {
        id: "acc-1".into(),
        code: "ACME".into(),
        name: "Acme Corporation".into(),
        status: Some("Active".into()),
        account_type: Some("Client".into()),
        parent_account_id: None,
        bill_to_account_id: None,
        currency: Some("USD".into()),
        phone: Some("6025550100".into()),
        fax: Some("6025550101".into()),
        website: Some("https://acme.example".into()),
        billing_address: Some(address()),
        customer_type: None,
        contract_type: None,
        branch: None,
        sync_to_connect_wise: true,
        on_hold: false,
        connect_wise_company_id: None,
        sites: Vec::new(),
        contacts: Vec::new(),
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

/// A valid billing site.
pub(super) fn site() -> Site {
    Site {
        id: "site-1".into(),
        name: "Warehouse".into(),
        address: Address {
            line1: Some("7 Dock Rd".into()),
            line2: None,
            city: Some("Tampa".into()),
            state: Some("Florida".into()),
            postal_code: Some("33602".into()),
            country: Some("United States".into()),
        },
        phone: Some("8135550100".into()),
        fax: None,
        connect_wise_site_id: None,
    }
}

/// A valid billing contact with all four communication values.
pub(super) fn contact() -> BillingContact {
    BillingContact {
        id: "con-1".into(),
        first_name: Some("Arnie".into()),
        last_name: Some("Bellini".into()),
        title: Some("CPA".into()),
        phone: Some("8139357100".into()),
        email: Some("arnie@yourcompany.example".into()),
        mobile: Some("8135550199".into()),
        fax: Some("8135550198".into()),
        connect_wise_contact_id: None,
    }
}

/// `_info` as ConnectWise stamps records.
pub(super) fn info() -> Info {
    Info {
        updated_by: Some("cwsync".into()),
        entered_by: Some("cwsync".into()),
        other: BTreeMap::from([("company_href".to_owned(), json!("https://cw.example/x"))]),
        ..Info::default()
    }
}

/// A reference as ConnectWise returns it: name and an href beside the id.
pub(super) fn expanded(reference: &Reference, name: &str, kind: &str) -> Reference {
    Reference {
        id: reference.id,
        identifier: None,
        name: Some(name.into()),
        summary: None,
        info: Some(BTreeMap::from([(
            format!("{kind}_href"),
            json!(format!(
                "https://cw.example/{kind}/{}",
                reference.id.unwrap_or(0)
            )),
        )])),
        ..Reference::default()
    }
}

fn expand(reference: &Option<Reference>, kind: &str) -> Option<Reference> {
    reference
        .as_ref()
        .map(|r| expanded(r, &format!("{kind} {}", r.id.unwrap_or(0)), kind))
}

fn or_empty(value: &Option<String>) -> Option<String> {
    Some(value.clone().unwrap_or_default())
}

/// `desired` as ConnectWise returns it after the POST.
pub(super) fn echo_company(desired: &Company, id: i64) -> Company {
    Company {
        id: Some(id),
        status: expand(&desired.status, "status"),
        country: expand(&desired.country, "country"),
        currency: expand(&desired.currency, "currency"),
        parent_company: expand(&desired.parent_company, "company"),
        bill_to_company: expand(&desired.bill_to_company, "company"),
        types: desired.types.as_ref().map(|types| {
            types
                .iter()
                .map(|t| expanded(t, "Client", "type"))
                .collect()
        }),
        fax_number: or_empty(&desired.fax_number),
        website: or_empty(&desired.website),
        deleted_flag: Some(false),
        lead_flag: Some(false),
        site: Some(expanded(&Reference::id(id * 10), "Main", "site")),
        mobile_guid: Some("4d48fc9e-2e9a-43a6-a85d-f1996723459f".into()),
        info: Some(info()),
        ..desired.clone()
    }
}

/// `desired` as ConnectWise returns it after the POST.
pub(super) fn echo_site(desired: &CompanySite, id: i64) -> CompanySite {
    CompanySite {
        id: Some(id),
        state_reference: expand(&desired.state_reference, "state"),
        country: expand(&desired.country, "country"),
        fax_number: or_empty(&desired.fax_number),
        primary_address_flag: Some(false),
        inactive_flag: Some(false),
        company: Some(expanded(&Reference::id(2), "Acme", "company")),
        info: Some(info()),
        ..desired.clone()
    }
}

/// `desired` as ConnectWise returns it after the POST: items get ids, a `defaultFlag`, the
/// type's name, and e-mail items their `domain`.
pub(super) fn echo_contact(desired: &Contact, id: i64) -> Contact {
    let items = desired.communication_items.as_ref().map(|items| {
        items
            .iter()
            .zip(1..)
            .map(|(item, n)| {
                let mut item = item.clone();
                item.id = item.id.or(Some(id * 100 + n));
                item.default_flag = item.default_flag.or(Some(false));
                item.kind = item.kind.as_ref().map(|t| {
                    let name = match t.id {
                        Some(1) => "Email",
                        Some(2) => "Direct",
                        Some(3) => "Fax",
                        Some(4) => "Cell",
                        _ => "Other",
                    };
                    expanded(t, name, "type")
                });
                if item.communication_type.as_deref() == Some("Email") {
                    item.domain = item
                        .value
                        .as_deref()
                        .and_then(|v| v.split_once('@'))
                        .map(|(_, d)| format!("@{d}"));
                }
                item
            })
            .collect()
    });
    Contact {
        id: Some(id),
        company: expand(&desired.company, "company"),
        site: Some(expanded(&Reference::id(28), "Main", "site")),
        inactive_flag: Some(false),
        default_flag: Some(true),
        communication_items: items,
        types: Some(Vec::new()),
        info: Some(info()),
        ..desired.clone()
    }
}
