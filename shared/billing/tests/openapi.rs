//! `openapi.yaml` describes exactly the records of `models.rs`: every schema lists the same
//! camelCase properties the Rust types read and write. A field added on one side only fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use cwsync_billing::models::{
    Account, AccountUpdate, Address, Contact, ContactUpdate, Page, Site, SiteUpdate, WriteBack,
    WriteBackBatch, WriteBackResult, WriteBackResults,
};
use serde::Serialize;
use time::OffsetDateTime;

const OPENAPI: &str = include_str!("../openapi.yaml");

/// Property names per schema under `components.schemas`, read from the file's fixed layout
/// (schemas at 4 spaces, `properties:` at 6, property names at 8).
fn schema_properties() -> BTreeMap<String, BTreeSet<String>> {
    let mut schemas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut in_schemas = false;
    let mut current: Option<String> = None;
    let mut in_properties = false;
    for line in OPENAPI.lines() {
        if line == "  schemas:" {
            in_schemas = true;
            continue;
        }
        if !in_schemas || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let key = line.trim().strip_suffix(':').map(str::to_owned);
        match indent {
            0..=3 => break,
            4 => {
                current = key;
                in_properties = false;
                if let Some(name) = &current {
                    schemas.entry(name.clone()).or_default();
                }
            }
            6 => in_properties = line.trim() == "properties:",
            8 if in_properties => {
                let name = line.trim().split(':').next().unwrap().to_owned();
                schemas
                    .get_mut(current.as_ref().unwrap())
                    .unwrap()
                    .insert(name);
            }
            _ => {}
        }
    }
    schemas
}

/// The JSON property names of a value with every optional field set.
fn keys<T: Serialize>(value: &T) -> BTreeSet<String> {
    serde_json::to_value(value)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

fn full_address() -> Address {
    Address {
        line1: s("1"),
        line2: s("2"),
        city: s("c"),
        state: s("AZ"),
        postal_code: s("85016"),
        country: s("United States"),
    }
}

fn full_site() -> Site {
    Site {
        id: "S".into(),
        name: "n".into(),
        address: full_address(),
        phone: s("p"),
        fax: s("f"),
        connect_wise_site_id: Some(1),
    }
}

fn full_contact() -> Contact {
    Contact {
        id: "C".into(),
        first_name: s("f"),
        last_name: s("l"),
        title: s("t"),
        phone: s("p"),
        email: s("e"),
        mobile: s("m"),
        fax: s("x"),
        connect_wise_contact_id: Some(1),
    }
}

fn full_account() -> Account {
    Account {
        id: "A".into(),
        code: "C".into(),
        name: "n".into(),
        status: s("Active"),
        account_type: s("Client"),
        parent_account_id: s("P"),
        bill_to_account_id: s("B"),
        currency: s("USD"),
        phone: s("p"),
        fax: s("f"),
        website: s("w"),
        billing_address: Some(full_address()),
        customer_type: s("ct"),
        contract_type: s("k"),
        branch: s("b"),
        sync_to_connect_wise: true,
        connect_wise_company_id: Some(1),
        sites: vec![full_site()],
        contacts: vec![full_contact()],
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn every_record_schema_lists_exactly_the_models_properties() {
    let schemas = schema_properties();
    let expected: [(&str, BTreeSet<String>); 8] = [
        ("Address", keys(&full_address())),
        ("Site", keys(&full_site())),
        ("Contact", keys(&full_contact())),
        ("Account", keys(&full_account())),
        (
            "AccountPage",
            keys(&Page {
                items: vec![full_account()],
                next_cursor: s("c"),
            }),
        ),
        (
            "AccountUpdate",
            keys(&AccountUpdate {
                name: s("n"),
                status: s("s"),
                account_type: s("t"),
                phone: s("p"),
                fax: s("f"),
                website: s("w"),
                billing_address: Some(full_address()),
                connect_wise_company_id: Some(1),
            }),
        ),
        (
            "SiteUpdate",
            keys(&SiteUpdate {
                name: s("n"),
                address: Some(full_address()),
                phone: s("p"),
                fax: s("f"),
                connect_wise_site_id: Some(1),
            }),
        ),
        (
            "ContactUpdate",
            keys(&ContactUpdate {
                first_name: s("f"),
                last_name: s("l"),
                title: s("t"),
                phone: s("p"),
                email: s("e"),
                mobile: s("m"),
                fax: s("x"),
                connect_wise_contact_id: Some(1),
            }),
        ),
    ];
    let site_item = WriteBack::Site {
        account_id: "A".into(),
        id: "S".into(),
        patch: SiteUpdate::default(),
    };
    let result = WriteBackResult {
        status: 200,
        record: Some(serde_json::json!({})),
        error: Some(serde_json::json!({})),
    };
    let batch_schemas = [
        ("WriteBackItem", keys(&site_item)),
        (
            "WriteBackBatch",
            keys(&WriteBackBatch {
                items: vec![site_item.clone()],
            }),
        ),
        ("WriteBackResult", keys(&result)),
        (
            "WriteBackResults",
            keys(&WriteBackResults {
                results: vec![result.clone()],
            }),
        ),
    ];
    for (schema, properties) in expected.into_iter().chain(batch_schemas) {
        assert_eq!(
            schemas.get(schema),
            Some(&properties),
            "components.schemas.{schema} in openapi.yaml"
        );
    }
}

#[test]
fn the_contract_defines_the_routes_the_client_calls() {
    for route in [
        "  /v1/accounts:",
        "  /v1/accounts/{id}:",
        "  /v1/accounts/{accountId}/sites/{siteId}:",
        "  /v1/accounts/{accountId}/contacts/{contactId}:",
        "  /v1/write-backs:",
    ] {
        assert!(OPENAPI.lines().any(|l| l == route), "{route}");
    }
    for code in [
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "InvalidRequest",
        "RateLimited",
        "Internal",
        "Unavailable",
    ] {
        assert!(
            OPENAPI.contains(&format!("                - {code}\n")),
            "error code {code} is in the enum"
        );
    }
}
