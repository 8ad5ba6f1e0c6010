//! The write-back bodies: validation of a JSON merge patch against `AccountUpdate`, `SiteUpdate`
//! or `ContactUpdate` with one problem per field, and applying it to the stored record.
//!
//! Every problem is collected before anything changes, so a refused patch leaves the record as
//! it was. Only the fields present change; `null` removes an optional value; an address is
//! replaced whole, never merged. This module never panics on input.

use cwsync_billing::FieldProblem;
use cwsync_billing::models::{Account, Address, Contact, Site};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// What a field of an update body accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A non-empty string; `null` is refused (the record needs it).
    RequiredText,
    /// A string or `null`.
    Text,
    /// A whole number that fits in 64 bits, or `null`.
    Integer,
    /// An address object (each part a string or `null`), or `null`.
    Address,
}

const ACCOUNT_FIELDS: &[(&str, Shape)] = &[
    ("name", Shape::RequiredText),
    ("status", Shape::Text),
    ("type", Shape::Text),
    ("phone", Shape::Text),
    ("fax", Shape::Text),
    ("website", Shape::Text),
    ("billingAddress", Shape::Address),
    ("connectWiseCompanyId", Shape::Integer),
];

const SITE_FIELDS: &[(&str, Shape)] = &[
    ("name", Shape::RequiredText),
    ("address", Shape::Address),
    ("phone", Shape::Text),
    ("fax", Shape::Text),
    ("connectWiseSiteId", Shape::Integer),
];

const CONTACT_FIELDS: &[(&str, Shape)] = &[
    ("firstName", Shape::Text),
    ("lastName", Shape::Text),
    ("title", Shape::Text),
    ("phone", Shape::Text),
    ("email", Shape::Text),
    ("mobile", Shape::Text),
    ("fax", Shape::Text),
    ("connectWiseContactId", Shape::Integer),
];

const ADDRESS_FIELDS: &[&str] = &["line1", "line2", "city", "state", "postalCode", "country"];

/// A validated value of one field.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Text(Option<String>),
    Integer(Option<i64>),
    Address(Option<Address>),
}

/// A validated patch: the fields present, in body order.
#[derive(Debug)]
pub(crate) struct Patch(Vec<(String, Change)>);

/// Parses a request body as a JSON object.
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_fields(format!("the body is not JSON: {e}"), Vec::new()))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::invalid_fields(
            format!(
                "the body must be a JSON object (a merge patch), not {}",
                describe(&other)
            ),
            Vec::new(),
        )),
    }
}

/// The body of `PATCH /v1/accounts/{id}`.
pub(crate) fn account_patch(body: &[u8]) -> Result<Patch, ApiError> {
    validate(&parse_object(body)?, RecordKind::Account)
}

/// The body of `PATCH /v1/accounts/{accountId}/sites/{siteId}`.
pub(crate) fn site_patch(body: &[u8]) -> Result<Patch, ApiError> {
    validate(&parse_object(body)?, RecordKind::Site)
}

/// The body of `PATCH /v1/accounts/{accountId}/contacts/{contactId}`.
pub(crate) fn contact_patch(body: &[u8]) -> Result<Patch, ApiError> {
    validate(&parse_object(body)?, RecordKind::Contact)
}

/// The records a write-back changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Account,
    Site,
    Contact,
}

/// One checked item of `POST /v1/write-backs`.
#[derive(Debug)]
pub(crate) struct WriteBackItem {
    pub(crate) kind: RecordKind,
    /// The account's id (for an account, its own).
    pub(crate) account_id: String,
    /// The site's or contact's id (for an account, its own).
    pub(crate) id: String,
    pub(crate) patch: Patch,
}

/// Checks one item of a batch write-back: `{kind, id, accountId (sites and contacts only),
/// patch}`, the patch by the rules of the single-record PATCH of its kind. Every problem of the
/// item (its own fields, then its patch's) is reported at once.
pub(crate) fn write_back_item(item: &Value) -> Result<WriteBackItem, ApiError> {
    let Value::Object(map) = item else {
        return Err(ApiError::invalid_fields(
            format!("an item must be a JSON object, not {}", describe(item)),
            Vec::new(),
        ));
    };
    let mut problems = Vec::new();
    for name in map.keys() {
        if !matches!(name.as_str(), "kind" | "accountId" | "id" | "patch") {
            problems.push(problem(
                name,
                "unknown field; an item has only kind, accountId, id and patch".to_owned(),
            ));
        }
    }
    let kind = match map.get("kind") {
        Some(Value::String(k)) if k == "account" => Some(RecordKind::Account),
        Some(Value::String(k)) if k == "site" => Some(RecordKind::Site),
        Some(Value::String(k)) if k == "contact" => Some(RecordKind::Contact),
        _ => {
            problems.push(problem(
                "kind",
                "must be account, site or contact".to_owned(),
            ));
            None
        }
    };
    let text = |name: &str, problems: &mut Vec<FieldProblem>| match map.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => {
            problems.push(problem(name, "must be a non-empty string".to_owned()));
            None
        }
    };
    let id = text("id", &mut problems);
    let account_id = match kind {
        Some(RecordKind::Account) => {
            if map.contains_key("accountId") {
                problems.push(problem(
                    "accountId",
                    "is only for sites and contacts; an account is named by id".to_owned(),
                ));
            }
            id.clone()
        }
        Some(_) => text("accountId", &mut problems),
        None => None,
    };
    let patch = match (kind, map.get("patch")) {
        (Some(kind), Some(Value::Object(patch))) => match validate(patch, kind) {
            Ok(patch) => Some(patch),
            Err(refused) => {
                problems.extend(refused.fields);
                None
            }
        },
        (_, Some(Value::Object(_))) => None,
        (_, other) => {
            let found = other.map_or("nothing", describe);
            problems.push(problem(
                "patch",
                format!("must be a JSON object (a merge patch), not {found}"),
            ));
            None
        }
    };
    match (kind, account_id, id, patch) {
        (Some(kind), Some(account_id), Some(id), Some(patch)) if problems.is_empty() => {
            Ok(WriteBackItem {
                kind,
                account_id,
                id,
                patch,
            })
        }
        _ => Err(refusal("write-back item", problems)),
    }
}

fn validate(map: &Map<String, Value>, kind: RecordKind) -> Result<Patch, ApiError> {
    let (schema, spec) = match kind {
        RecordKind::Account => ("AccountUpdate", ACCOUNT_FIELDS),
        RecordKind::Site => ("SiteUpdate", SITE_FIELDS),
        RecordKind::Contact => ("ContactUpdate", CONTACT_FIELDS),
    };
    let mut problems = Vec::new();
    let mut changes = Vec::new();
    for (name, value) in map {
        let Some((_, shape)) = spec.iter().find(|(n, _)| n == name) else {
            let known: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
            problems.push(problem(
                name,
                format!("unknown field; {schema} has only {}", known.join(", ")),
            ));
            continue;
        };
        if let Some(change) = check(name, *shape, value, &mut problems) {
            changes.push((name.clone(), change));
        }
    }
    if problems.is_empty() {
        return Ok(Patch(changes));
    }
    Err(refusal(schema, problems))
}

/// A 400 listing every problem.
fn refusal(what: &str, problems: Vec<FieldProblem>) -> ApiError {
    let message = format!(
        "the {what} is invalid: {}",
        problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ")
    );
    ApiError::invalid_fields(message, problems)
}

fn check(
    name: &str,
    shape: Shape,
    value: &Value,
    problems: &mut Vec<FieldProblem>,
) -> Option<Change> {
    match (shape, value) {
        (Shape::RequiredText, Value::String(s)) if s.trim().is_empty() => {
            problems.push(problem(name, "must not be empty".to_owned()));
            None
        }
        (Shape::RequiredText | Shape::Text, Value::String(s)) => {
            Some(Change::Text(Some(s.clone())))
        }
        (Shape::RequiredText, Value::Null) => {
            problems.push(problem(
                name,
                "is required and cannot be removed".to_owned(),
            ));
            None
        }
        (Shape::RequiredText, other) => {
            problems.push(problem(
                name,
                format!("must be a string, not {}", describe(other)),
            ));
            None
        }
        (Shape::Text, Value::Null) => Some(Change::Text(None)),
        (Shape::Text, other) => {
            problems.push(problem(
                name,
                format!("must be a string or null, not {}", describe(other)),
            ));
            None
        }
        (Shape::Integer, Value::Null) => Some(Change::Integer(None)),
        (Shape::Integer, Value::Number(n)) if n.as_i64().is_some() => {
            Some(Change::Integer(n.as_i64()))
        }
        (Shape::Integer, other) => {
            problems.push(problem(
                name,
                format!(
                    "must be a whole number (64-bit) or null, not {}",
                    describe(other)
                ),
            ));
            None
        }
        (Shape::Address, Value::Null) => Some(Change::Address(None)),
        (Shape::Address, Value::Object(parts)) => {
            address(name, parts, problems).map(|a| Change::Address(Some(a)))
        }
        (Shape::Address, other) => {
            problems.push(problem(
                name,
                format!("must be an address object or null, not {}", describe(other)),
            ));
            None
        }
    }
}

fn address(
    name: &str,
    parts: &Map<String, Value>,
    problems: &mut Vec<FieldProblem>,
) -> Option<Address> {
    let mut address = Address::default();
    let before = problems.len();
    for (part, value) in parts {
        let field = format!("{name}.{part}");
        let text = match value {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                problems.push(problem(
                    &field,
                    format!("must be a string or null, not {}", describe(other)),
                ));
                continue;
            }
        };
        match part.as_str() {
            "line1" => address.line1 = text,
            "line2" => address.line2 = text,
            "city" => address.city = text,
            "state" => address.state = text,
            "postalCode" => address.postal_code = text,
            "country" => address.country = text,
            _ => problems.push(problem(
                &field,
                format!(
                    "unknown field; an address has only {}",
                    ADDRESS_FIELDS.join(", ")
                ),
            )),
        }
    }
    (problems.len() == before).then_some(address)
}

fn problem(field: &str, message: String) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message,
    }
}

/// `a string`, `a number`, … for messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(n) if n.is_i64() => "a whole number",
        Value::Number(n) if n.is_u64() => "a whole number beyond the 64-bit range",
        Value::Number(_) => "a number with a fraction",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Sets `slot` to `value`; whether it changed.
fn set<T: PartialEq>(slot: &mut T, value: T) -> bool {
    let changed = *slot != value;
    *slot = value;
    changed
}

impl Patch {
    /// Applies the patch to an account; whether any value changed.
    pub(crate) fn apply_to_account(&self, account: &mut Account) -> bool {
        let mut changed = false;
        for (name, change) in &self.0 {
            changed |= match (name.as_str(), change.clone()) {
                ("name", Change::Text(Some(v))) => set(&mut account.name, v),
                ("status", Change::Text(v)) => set(&mut account.status, v),
                ("type", Change::Text(v)) => set(&mut account.account_type, v),
                ("phone", Change::Text(v)) => set(&mut account.phone, v),
                ("fax", Change::Text(v)) => set(&mut account.fax, v),
                ("website", Change::Text(v)) => set(&mut account.website, v),
                ("billingAddress", Change::Address(v)) => set(&mut account.billing_address, v),
                ("connectWiseCompanyId", Change::Integer(v)) => {
                    set(&mut account.connect_wise_company_id, v)
                }
                _ => false,
            };
        }
        changed
    }

    /// Applies the patch to a site; whether any value changed.
    pub(crate) fn apply_to_site(&self, site: &mut Site) -> bool {
        let mut changed = false;
        for (name, change) in &self.0 {
            changed |= match (name.as_str(), change.clone()) {
                ("name", Change::Text(Some(v))) => set(&mut site.name, v),
                ("address", Change::Address(v)) => set(&mut site.address, v.unwrap_or_default()),
                ("phone", Change::Text(v)) => set(&mut site.phone, v),
                ("fax", Change::Text(v)) => set(&mut site.fax, v),
                ("connectWiseSiteId", Change::Integer(v)) => set(&mut site.connect_wise_site_id, v),
                _ => false,
            };
        }
        changed
    }

    /// Applies the patch to a contact; whether any value changed.
    pub(crate) fn apply_to_contact(&self, contact: &mut Contact) -> bool {
        let mut changed = false;
        for (name, change) in &self.0 {
            changed |= match (name.as_str(), change.clone()) {
                ("firstName", Change::Text(v)) => set(&mut contact.first_name, v),
                ("lastName", Change::Text(v)) => set(&mut contact.last_name, v),
                ("title", Change::Text(v)) => set(&mut contact.title, v),
                ("phone", Change::Text(v)) => set(&mut contact.phone, v),
                ("email", Change::Text(v)) => set(&mut contact.email, v),
                ("mobile", Change::Text(v)) => set(&mut contact.mobile, v),
                ("fax", Change::Text(v)) => set(&mut contact.fax, v),
                ("connectWiseContactId", Change::Integer(v)) => {
                    set(&mut contact.connect_wise_contact_id, v)
                }
                _ => false,
            };
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(body: &str) -> Vec<(String, String)> {
        match account_patch(body.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(e) => e.fields.into_iter().map(|p| (p.field, p.message)).collect(),
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let found = problems(
            r#"{"nickname":"x","connectWiseCompanyId":"12","phone":5,"billingAddress":{"state":7,"county":"Maricopa"}}"#,
        );
        let mut fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "billingAddress.county",
                "billingAddress.state",
                "connectWiseCompanyId",
                "nickname",
                "phone"
            ]
        );
    }

    #[test]
    fn fractions_and_huge_numbers_are_not_ids() {
        assert_eq!(problems(r#"{"connectWiseCompanyId":12.5}"#).len(), 1);
        assert_eq!(
            problems(r#"{"connectWiseCompanyId":18446744073709551615}"#).len(),
            1
        );
        assert!(problems(r#"{"connectWiseCompanyId":250}"#).is_empty());
        assert!(problems(r#"{"connectWiseCompanyId":null}"#).is_empty());
    }

    #[test]
    fn the_name_cannot_be_removed_or_emptied() {
        assert_eq!(problems(r#"{"name":null}"#).len(), 1);
        assert_eq!(problems(r#"{"name":"  "}"#).len(), 1);
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_without_fields() {
        for body in ["", "[1]", "nope", "\"x\""] {
            let e = account_patch(body.as_bytes()).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert!(e.fields.is_empty(), "{body}");
        }
    }

    #[test]
    fn a_site_address_of_null_becomes_an_empty_address() {
        let mut site = Site {
            id: "S-1".into(),
            name: "Main".into(),
            address: Address {
                city: Some("Tempe".into()),
                ..Address::default()
            },
            phone: None,
            fax: None,
            connect_wise_site_id: None,
        };
        let patch = site_patch(br#"{"address":null}"#).unwrap();
        assert!(patch.apply_to_site(&mut site));
        assert_eq!(site.address, Address::default());
        assert!(
            !patch.apply_to_site(&mut site),
            "applying again changes nothing"
        );
    }
}
