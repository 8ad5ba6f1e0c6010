//! ConnectWise reference data a customer sync resolves names against, read once per run:
//! states, countries, company types, company statuses, currencies and communication types.

use cwsync_connectwise::models::{
    CommunicationType, CompanyStatus, CompanyType, Country, Currency, State,
};

use crate::settings::same_name;

/// The reference data of one tenant's ConnectWise, as read at the start of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerReference {
    /// `/company/states`.
    pub states: Vec<State>,
    /// `/company/countries`.
    pub countries: Vec<Country>,
    /// `/company/companies/types`.
    pub company_types: Vec<CompanyType>,
    /// `/company/companies/statuses`.
    pub company_statuses: Vec<CompanyStatus>,
    /// `/finance/currencies`.
    pub currencies: Vec<Currency>,
    /// `/company/communicationTypes`: the types new contact items get (see
    /// [`super::communication_type_for`]).
    pub communication_types: Vec<CommunicationType>,
}

impl CustomerReference {
    /// The country called `name` (trimmed, any case), if any. A two-letter country code (`US`)
    /// is accepted too when no country has that name, since billing systems often hold codes.
    pub fn resolve_country(&self, name: &str) -> Option<&Country> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let by = |field: fn(&Country) -> Option<&str>| {
            self.countries
                .iter()
                .find(|country| field(country).is_some_and(|value| same_name(value, name)))
        };
        by(|c| c.name.as_deref()).or_else(|| by(|c| c.country_code.as_deref()))
    }

    /// The state `text` names: its two-letter identifier or its full name (trimmed, any case),
    /// preferring states of `country` when one is given.
    ///
    /// When several states match (`WA` is Washington and Western Australia), the order of
    /// preference is: a state of `country`, a state of ConnectWise's default country, the first.
    pub fn resolve_state(&self, text: &str, country: Option<&Country>) -> Option<&State> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let matching: Vec<&State> = self
            .states
            .iter()
            .filter(|state| {
                state
                    .identifier
                    .as_deref()
                    .is_some_and(|id| same_name(id, text))
                    || state
                        .name
                        .as_deref()
                        .is_some_and(|name| same_name(name, text))
            })
            .collect();
        let in_country = |country: &Country| {
            let id = country.id?;
            matching
                .iter()
                .copied()
                .find(|state| state.country.as_ref().and_then(|c| c.id) == Some(id))
        };
        let default_country = self
            .countries
            .iter()
            .find(|country| country.default_flag == Some(true));
        country
            .and_then(in_country)
            .or_else(|| default_country.and_then(in_country))
            .or_else(|| matching.first().copied())
    }

    /// The company type called `name` (trimmed, any case).
    pub fn company_type(&self, name: &str) -> Option<&CompanyType> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        self.company_types
            .iter()
            .find(|kind| kind.name.as_deref().is_some_and(|n| same_name(n, name)))
    }

    /// The company status called `name` (trimmed, any case).
    pub fn company_status(&self, name: &str) -> Option<&CompanyStatus> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        self.company_statuses
            .iter()
            .find(|status| status.name.as_deref().is_some_and(|n| same_name(n, name)))
    }

    /// The currency with ISO code `code` (trimmed, any case): its `currencyCode`, or its
    /// `currencyIdentifier` when no currency has that code.
    pub fn currency(&self, code: &str) -> Option<&Currency> {
        let code = code.trim();
        if code.is_empty() {
            return None;
        }
        self.currencies
            .iter()
            .find(|c| {
                c.currency_code
                    .as_deref()
                    .is_some_and(|v| same_name(v, code))
            })
            .or_else(|| {
                self.currencies.iter().find(|c| {
                    c.currency_identifier
                        .as_deref()
                        .is_some_and(|v| same_name(v, code))
                })
            })
    }

    /// The state with ConnectWise id `id`.
    pub fn state_by_id(&self, id: i64) -> Option<&State> {
        self.states.iter().find(|state| state.id == Some(id))
    }

    /// The country with ConnectWise id `id`.
    pub fn country_by_id(&self, id: i64) -> Option<&Country> {
        self.countries.iter().find(|country| country.id == Some(id))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::super::fixtures::reference;

    #[test]
    fn a_state_resolves_by_code_or_full_name_trimmed_in_any_case() {
        let reference = reference();
        for text in ["AZ", "az", " Az ", "Arizona", "ARIZONA", "  arizona\t"] {
            let state = reference.resolve_state(text, None).expect(text);
            assert_eq!(state.identifier.as_deref(), Some("AZ"), "{text:?}");
        }
    }

    #[test]
    fn a_state_of_the_given_country_is_preferred() {
        let reference = reference();
        let australia = reference.resolve_country("Australia");
        let state = reference.resolve_state("wa", australia).unwrap();
        assert_eq!(state.name.as_deref(), Some("Western Australia"));
    }

    #[test]
    fn without_a_country_a_state_of_the_default_country_is_preferred() {
        let reference = reference();
        assert_eq!(reference.resolve_state("WA", None).unwrap().id, Some(14));
        // Canada has no WA: the default country's state, not nothing.
        let canada = reference.resolve_country("Canada");
        assert_eq!(reference.resolve_state("WA", canada).unwrap().id, Some(14));
    }

    #[test]
    fn an_unknown_or_empty_state_resolves_to_nothing() {
        let reference = reference();
        assert!(reference.resolve_state("Narnia", None).is_none());
        assert!(reference.resolve_state("   ", None).is_none());
    }

    #[test]
    fn a_country_resolves_by_name_in_any_case_or_by_its_two_letter_code() {
        let reference = reference();
        assert_eq!(
            reference.resolve_country(" united states ").unwrap().id,
            Some(1)
        );
        assert_eq!(reference.resolve_country("ca").unwrap().id, Some(2));
        assert!(reference.resolve_country("Atlantis").is_none());
        assert!(reference.resolve_country("").is_none());
    }

    #[test]
    fn types_statuses_and_currencies_resolve_by_name_in_any_case() {
        let reference = reference();
        assert_eq!(reference.company_type(" partner ").unwrap().id, Some(4));
        assert_eq!(reference.company_status("credit hold").unwrap().id, Some(3));
        assert_eq!(reference.currency("cad").unwrap().id, Some(2));
        assert!(reference.company_type("Reseller").is_none());
        assert!(reference.company_status("").is_none());
        assert!(reference.currency("XYZ").is_none());
    }

    #[test]
    fn a_currency_is_found_by_its_identifier_when_no_code_matches() {
        let mut reference = reference();
        reference.currencies[0].currency_code = None;
        reference.currencies[0].currency_identifier = Some("USD".into());
        assert_eq!(reference.currency("usd").unwrap().id, Some(1));
    }

    #[test]
    fn records_are_found_by_id() {
        let reference = reference();
        assert_eq!(
            reference.state_by_id(18).unwrap().identifier.as_deref(),
            Some("ON")
        );
        assert_eq!(
            reference.country_by_id(3).unwrap().name.as_deref(),
            Some("United Kingdom")
        );
        assert!(reference.state_by_id(999).is_none());
    }
}
