//! Field rules of companies, sites and contacts: ConnectWise's address and phone limits, the
//! billing address → ConnectWise address resolution, and phone numbers compared by their digits.
//! The rules every entity shares (values, one-line text, problems, PATCH planning) are in
//! `crate::fields`, re-exported here for the customer modules.

use cwsync_billing::models::Address;
use cwsync_connectwise::models::{Country, State};

use super::CustomerReference;
use super::phones::split_extension;
pub(super) use crate::fields::{Problems, listed, owned, plan_patch, present, same_optional_name};

/// Longest `addressLine1` / `addressLine2` ConnectWise accepts on a company or a site (facts:
/// `Company`, `CompanySite`).
pub(super) const MAX_ADDRESS_LINE_CHARS: usize = 50;
/// Longest `city` (facts: `Company`, `CompanySite`).
pub(super) const MAX_CITY_CHARS: usize = 50;
/// Longest `zip` (facts: `Company`, `CompanySite`).
pub(super) const MAX_ZIP_CHARS: usize = 12;
/// Longest `phoneNumber` / `faxNumber` (facts: `Company`, `CompanySite`).
pub(super) const MAX_PHONE_CHARS: usize = 30;

impl Problems {
    /// A phone or fax number for a record without an extension field (a company, a site: named
    /// by `record`): the number, and a note when an extension was dropped from it.
    pub(super) fn number_only(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
        record: &str,
    ) -> Option<String> {
        let phone = split_extension(present(value)?);
        if let Some(extension) = phone.extension {
            self.note(
                field,
                format!(
                    "extension {extension} dropped: ConnectWise has no extension field on a {record}"
                ),
            );
        }
        self.text(field, Some(phone.number), max)
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
        line1: problems.line(
            &field("line1"),
            address.line1.as_deref(),
            MAX_ADDRESS_LINE_CHARS,
        ),
        line2: problems.line(
            &field("line2"),
            address.line2.as_deref(),
            MAX_ADDRESS_LINE_CHARS,
        ),
        city: problems.line(&field("city"), address.city.as_deref(), MAX_CITY_CHARS),
        zip: problems.text(
            &field("postalCode"),
            address.postal_code.as_deref(),
            MAX_ZIP_CHARS,
        ),
        state,
        country,
    }
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

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
    fn an_extension_is_dropped_from_a_number_without_an_extension_field_and_noted() {
        let mut problems = Problems::new("company", "A-1");
        assert_eq!(
            problems.number_only("phone", Some("+1 (555) 010-0199 x23"), 30, "company"),
            Some("+1 (555) 010-0199".to_owned())
        );
        assert_eq!(
            problems.number_only("fax", Some(" 555-0100 "), 30, "company"),
            Some("555-0100".to_owned())
        );
        let noted = problems.finish_noted(()).unwrap();
        assert_eq!(
            noted.notes,
            ["phone: extension 23 dropped: ConnectWise has no extension field on a company"]
        );
    }
}
