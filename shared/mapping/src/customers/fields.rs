//! Field rules shared by companies, sites and contacts: what counts as a value, ConnectWise's
//! length limits, collecting every problem of a record, the billing address → ConnectWise address
//! resolution, and the tenant's "never overwrite" / "owned by ConnectWise" field lists applied to a
//! PATCH.
//!
//! Nothing here knows a particular entity; each entity module says which fields and limits apply.

use cwsync_billing::models::Address;
use cwsync_connectwise::models::{Country, State};
use cwsync_connectwise::{DiffOptions, PatchOp, diff_with};
use serde::Serialize;
use serde_json::Value;

use super::{CustomerReference, RecordProblem};
use crate::settings::same_name;

/// Longest `addressLine1` / `addressLine2` ConnectWise accepts on a company or a site (facts:
/// `Company`, `CompanySite`).
pub(super) const MAX_ADDRESS_LINE_CHARS: usize = 50;
/// Longest `city` (facts: `Company`, `CompanySite`).
pub(super) const MAX_CITY_CHARS: usize = 50;
/// Longest `zip` (facts: `Company`, `CompanySite`).
pub(super) const MAX_ZIP_CHARS: usize = 12;
/// Longest `phoneNumber` / `faxNumber` (facts: `Company`, `CompanySite`).
pub(super) const MAX_PHONE_CHARS: usize = 30;

/// The value of an optional text field: trimmed, and `None` when empty (an empty string is
/// "no value" on both sides).
pub(super) fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// [`present`] as an owned string, the form the models hold.
pub(super) fn owned(value: Option<&str>) -> Option<String> {
    present(value).map(str::to_owned)
}

/// Whether two optional values are the same to a user: both absent, or both present and equal
/// ignoring case and surrounding spaces.
pub(super) fn same_optional_name(a: Option<&str>, b: Option<&str>) -> bool {
    match (present(a), present(b)) {
        (None, None) => true,
        (Some(a), Some(b)) => same_name(a, b),
        _ => false,
    }
}

/// The problems of one billing record, collected so all of them are reported at once.
#[derive(Debug)]
pub(super) struct Problems {
    entity: &'static str,
    record_id: String,
    found: Vec<RecordProblem>,
}

impl Problems {
    pub(super) fn new(entity: &'static str, record_id: &str) -> Self {
        Self {
            entity,
            record_id: record_id.to_owned(),
            found: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, field: &str, message: impl Into<String>) {
        self.found.push(RecordProblem {
            entity: self.entity,
            record_id: self.record_id.clone(),
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// The trimmed value of a field ConnectWise requires; a problem when it is absent.
    pub(super) fn required(
        &mut self,
        field: &str,
        value: Option<&str>,
        why: &str,
    ) -> Option<String> {
        let value = owned(value);
        if value.is_none() {
            self.push(field, format!("is required: {why}"));
        }
        value
    }

    /// `value`, reporting it when it is longer than ConnectWise accepts.
    pub(super) fn limited(
        &mut self,
        field: &str,
        value: Option<String>,
        max: usize,
    ) -> Option<String> {
        if let Some(text) = &value {
            let chars = text.chars().count();
            if chars > max {
                self.push(
                    field,
                    format!("is {chars} characters long; ConnectWise accepts at most {max}"),
                );
            }
        }
        value
    }

    /// The optional text field `value`, trimmed, checked against `max`.
    pub(super) fn text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        self.limited(field, owned(value), max)
    }

    /// `value` when no problem was found, else every problem.
    pub(super) fn finish<T>(self, value: T) -> Result<T, Vec<RecordProblem>> {
        if self.found.is_empty() {
            Ok(value)
        } else {
            Err(self.found)
        }
    }
}

/// A billing address checked and resolved against ConnectWise's reference data.
#[derive(Debug, Default)]
pub(super) struct ResolvedAddress<'r> {
    pub(super) line1: Option<String>,
    pub(super) line2: Option<String>,
    pub(super) city: Option<String>,
    pub(super) zip: Option<String>,
    pub(super) state: Option<&'r State>,
    pub(super) country: Option<&'r Country>,
}

/// Checks and resolves `address`, reporting problems on `{prefix}.line1`, `{prefix}.state`, …
/// A state or country that doesn't resolve is a problem (ConnectWise only takes its own).
pub(super) fn resolve_address<'r>(
    address: Option<&Address>,
    prefix: &str,
    reference: &'r CustomerReference,
    problems: &mut Problems,
) -> ResolvedAddress<'r> {
    let Some(address) = address else {
        return ResolvedAddress::default();
    };
    let field = |name: &str| format!("{prefix}.{name}");
    let country = present(address.country.as_deref()).and_then(|name| {
        let found = reference.resolve_country(name);
        if found.is_none() {
            problems.push(
                &field("country"),
                format!("unknown country {name:?}: not a ConnectWise country name"),
            );
        }
        found
    });
    let state = present(address.state.as_deref()).and_then(|text| {
        let found = reference.resolve_state(text, country);
        if found.is_none() {
            problems.push(
                &field("state"),
                format!("unknown state {text:?}: not a ConnectWise state code or name"),
            );
        }
        found
    });
    ResolvedAddress {
        line1: problems.text(
            &field("line1"),
            address.line1.as_deref(),
            MAX_ADDRESS_LINE_CHARS,
        ),
        line2: problems.text(
            &field("line2"),
            address.line2.as_deref(),
            MAX_ADDRESS_LINE_CHARS,
        ),
        city: problems.text(&field("city"), address.city.as_deref(), MAX_CITY_CHARS),
        zip: problems.text(
            &field("postalCode"),
            address.postal_code.as_deref(),
            MAX_ZIP_CHARS,
        ),
        state,
        country,
    }
}

/// The top-level field a settings entry names: `status/name` and `status.name` name `status`.
pub(super) fn top_level(entry: &str) -> &str {
    let entry = entry.trim();
    entry.split(['/', '.']).next().unwrap_or(entry)
}

/// Whether `field` (a ConnectWise JSON key) or one of its `aliases` is in one of `lists`.
pub(super) fn listed(lists: &[&[String]], field: &str, aliases: &[&str]) -> bool {
    lists.iter().flat_map(|list| list.iter()).any(|entry| {
        let named = top_level(entry);
        same_name(named, field) || aliases.iter().any(|alias| same_name(named, alias))
    })
}

/// The PATCH from `current` to `desired` (both the same model), changed fields only, leaving
/// alone `always_ignore` and every field named in `lists`. `aliases` maps a JSON key to the other
/// names a tenant may use for it (`stateReference` ← `state`).
///
/// The models serialise infallibly in practice (plain strings, numbers and references); should one
/// ever fail, it reads as `{}`, so a failed `desired` patches nothing rather than clearing fields.
/// Whether two phone or fax numbers are the same number: ConnectWise keeps them as digits only
/// (`602-555-0100` reads back as `6025550100`), so only the digits count. Numbers without any
/// digit compare as text.
pub(super) fn same_phone(a: Option<&str>, b: Option<&str>) -> bool {
    let digits = |text: &str| {
        text.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    };
    match (present(a), present(b)) {
        (Some(a), Some(b)) => {
            let (da, db) = (digits(a), digits(b));
            if da.is_empty() && db.is_empty() {
                a == b
            } else {
                da == db
            }
        }
        (a, b) => a == b,
    }
}

/// `desired`'s number, or `current`'s where both are the same number (so no PATCH rewrites a
/// number ConnectWise merely reformatted).
pub(super) fn keep_same_phone(current: Option<&String>, desired: &mut Option<String>) {
    if let Some(now) = current
        && same_phone(Some(now), desired.as_deref())
    {
        *desired = Some(now.clone());
    }
}

pub(super) fn plan_patch<M: Serialize>(
    current: &M,
    desired: &M,
    lists: &[&[String]],
    always_ignore: &[&str],
    aliases: &[(&str, &[&str])],
) -> Vec<PatchOp> {
    let current = serde_json::to_value(current).unwrap_or(Value::Null);
    let desired = serde_json::to_value(desired).unwrap_or(Value::Null);
    let mut ignore: Vec<&str> = always_ignore.to_vec();
    if let Some(fields) = desired.as_object() {
        for key in fields.keys() {
            let other_names = aliases
                .iter()
                .find(|(field, _)| field == key)
                .map(|(_, names)| *names)
                .unwrap_or(&[]);
            if listed(lists, key, other_names) {
                ignore.push(key);
            }
        }
    }
    diff_with(
        &current,
        &desired,
        DiffOptions {
            clear_missing: false,
            ignore: &ignore,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_the_same_when_their_digits_are() {
        assert!(same_phone(Some("602-555-0100"), Some("6025550100")));
        assert!(same_phone(Some("(602) 555 0100"), Some("602.555.0100")));
        assert!(!same_phone(Some("602-555-0100"), Some("602-555-0101")));
        assert!(!same_phone(Some("602-555-0100"), None));
        assert!(same_phone(None, Some("  ")));
        assert!(!same_phone(Some("n/a"), Some("none")));
    }

    #[test]
    fn empty_and_blank_strings_are_no_value() {
        assert_eq!(present(Some("")), None);
        assert_eq!(present(Some("   ")), None);
        assert_eq!(present(Some(" a ")), Some("a"));
        assert_eq!(present(None), None);
    }

    #[test]
    fn a_nested_settings_path_names_its_top_level_field() {
        assert_eq!(top_level("status/name"), "status");
        assert_eq!(top_level("status.name"), "status");
        assert_eq!(top_level(" name "), "name");
    }

    #[test]
    fn listed_fields_match_case_insensitively_and_through_aliases() {
        let list = vec!["AddressLine1".to_owned(), "state/name".to_owned()];
        let lists: [&[String]; 1] = [&list];
        assert!(listed(&lists, "addressLine1", &[]));
        assert!(listed(&lists, "stateReference", &["state"]));
        assert!(!listed(&lists, "city", &[]));
    }
}
