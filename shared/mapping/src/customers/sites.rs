//! Billing sites ↔ company sites.
//!
//! A site is matched by name and address, never by name alone when both sides hold an address:
//! ConnectWise creates a site "Main" holding the company's address with every new company, and a
//! billing site called "Main" somewhere else must not take it over.

use cwsync_billing::models::Site;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{CompanySite, Reference};

use super::fields::{
    MAX_PHONE_CHARS, Problems, keep_same_phone, plan_patch, present, resolve_address,
    same_optional_name,
};
use super::{CustomerReference, Noted, RecordProblem, entity};
use crate::settings::{TenantSettings, same_name};

/// Longest site name: `CompanySite.name` `maxLength` in the schema facts (2026.4 spec; 50 in
/// 2025.1).
pub const MAX_SITE_NAME_CHARS: usize = 156;

/// The company site `site` should be (a POST body).
pub fn desired_site(
    site: &Site,
    reference: &CustomerReference,
) -> Result<CompanySite, Vec<RecordProblem>> {
    desired_site_noted(site, reference).map(|noted| noted.value)
}

/// [`desired_site`] with the notes on what was made of the billing values (a name made one
/// line, an extension dropped from a number), for the site's report line.
pub fn desired_site_noted(
    site: &Site,
    reference: &CustomerReference,
) -> Result<Noted<CompanySite>, Vec<RecordProblem>> {
    let mut problems = Problems::new(entity::SITE, &site.id);
    let name = problems.required_line(
        "name",
        Some(&site.name),
        "ConnectWise refuses a site without a name",
    );
    let name = problems.limited("name", name, MAX_SITE_NAME_CHARS);
    let address = resolve_address(Some(&site.address), "address", reference, &mut problems);
    let cw_site = CompanySite {
        name,
        address_line1: address.line1,
        address_line2: address.line2,
        city: address.city,
        state_reference: address.state.and_then(|s| s.id).map(Reference::id),
        zip: address.zip,
        country: address.country.and_then(|c| c.id).map(Reference::id),
        phone_number: problems.number_only(
            "phone",
            site.phone.as_deref(),
            MAX_PHONE_CHARS,
            entity::SITE,
        ),
        fax_number: problems.number_only("fax", site.fax.as_deref(), MAX_PHONE_CHARS, entity::SITE),
        ..CompanySite::default()
    };
    problems.finish_noted(cw_site)
}

/// The parts of a site's address that identify it: first line, city, postal code.
fn address_key(site: &CompanySite) -> [Option<&str>; 3] {
    [
        present(site.address_line1.as_deref()),
        present(site.city.as_deref()),
        present(site.zip.as_deref()),
    ]
}

/// Same address: each part equal (trimmed, any case), a missing part only matching a missing one.
fn same_address(a: &CompanySite, b: &CompanySite) -> bool {
    address_key(a)
        .into_iter()
        .zip(address_key(b))
        .all(|(a, b)| same_optional_name(a, b))
}

/// The existing site of the company that is `desired`: same name and same address (trimmed,
/// any case), or same name when `existing` holds exactly one site of that name without an
/// address. `None`: create.
pub fn match_site(desired: &CompanySite, existing: &[CompanySite]) -> Option<i64> {
    let name = present(desired.name.as_deref())?;
    let named: Vec<&CompanySite> = existing
        .iter()
        .filter(|site| site.id.is_some())
        .filter(|site| present(site.name.as_deref()).is_some_and(|n| same_name(n, name)))
        .collect();
    if let Some(site) = named
        .iter()
        .filter(|site| same_address(site, desired))
        .min_by_key(|site| site.id)
    {
        return site.id;
    }
    match named
        .iter()
        .filter(|site| address_key(site).iter().all(Option::is_none))
        .collect::<Vec<_>>()
        .as_slice()
    {
        [only] => only.id,
        _ => None,
    }
}

/// The PATCH from `current` to `desired`, leaving alone `neverOverwrite.sites` and
/// `ownedByConnectWise.sites`.
pub fn plan_site_update(
    current: &CompanySite,
    desired: &CompanySite,
    settings: &TenantSettings,
) -> Vec<PatchOp> {
    let owned = super::pull::whole_address(
        &settings.owned_by_connectwise.sites,
        &super::pull::SITE_ADDRESS_FIELDS,
    );
    let lists: [&[String]; 2] = [&settings.never_overwrite.sites, &owned];
    let mut desired = desired.clone();
    keep_same_phone(current.phone_number.as_ref(), &mut desired.phone_number);
    keep_same_phone(current.fax_number.as_ref(), &mut desired.fax_number);
    plan_patch(
        current,
        &desired,
        &lists,
        &[],
        &[("stateReference", &["state"])],
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use cwsync_connectwise::PatchOp;
    use serde_json::json;

    use super::super::fixtures::{echo_site, reference, site};
    use super::*;

    fn desired(site: &Site) -> CompanySite {
        desired_site(site, &reference()).expect("valid")
    }

    fn existing(
        id: i64,
        name: &str,
        line1: Option<&str>,
        city: Option<&str>,
        zip: Option<&str>,
    ) -> CompanySite {
        CompanySite {
            id: Some(id),
            name: Some(name.into()),
            address_line1: line1.map(str::to_owned),
            city: city.map(str::to_owned),
            zip: zip.map(str::to_owned),
            ..CompanySite::default()
        }
    }

    #[test]
    fn a_billing_site_becomes_the_site_post_body() {
        assert_eq!(
            serde_json::to_value(desired(&site())).unwrap(),
            json!({
                "name": "Warehouse",
                "addressLine1": "7 Dock Rd",
                "city": "Tampa",
                "stateReference": {"id": 5},
                "zip": "33602",
                "country": {"id": 1},
                "phoneNumber": "8135550100",
            })
        );
    }

    #[test]
    fn a_site_without_a_name_is_a_problem() {
        let mut site = site();
        site.name = " ".into();
        let problems = desired_site(&site, &reference()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].entity, "site");
        assert_eq!(problems[0].record_id, "site-1");
        assert_eq!(problems[0].field, "name");
    }

    #[test]
    fn an_unknown_state_and_over_long_values_are_reported_on_the_sites_fields() {
        let mut site = site();
        site.name = "N".repeat(MAX_SITE_NAME_CHARS + 1);
        site.address.state = Some("Narnia".into());
        site.address.city = Some("c".repeat(51));
        site.fax = Some("9".repeat(31));
        let problems = desired_site(&site, &reference()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "address.state", "address.city", "fax"]);
        assert_eq!(
            problems[1].message,
            "unknown state \"Narnia\": not a ConnectWise state code or name"
        );
    }

    #[test]
    fn a_site_without_an_address_is_fine() {
        let mut site = site();
        site.address = Default::default();
        let cw = desired(&site);
        assert_eq!(cw.name.as_deref(), Some("Warehouse"));
        assert_eq!(cw.state_reference, None);
    }

    #[test]
    fn the_site_with_the_same_name_and_address_matches_in_any_case() {
        let sites = [
            existing(
                1,
                "Main",
                Some("100 Main St"),
                Some("Phoenix"),
                Some("85001"),
            ),
            existing(
                2,
                " warehouse ",
                Some("7 DOCK RD"),
                Some("tampa"),
                Some("33602"),
            ),
        ];
        assert_eq!(match_site(&desired(&site()), &sites), Some(2));
    }

    #[test]
    fn a_site_with_the_same_name_elsewhere_does_not_match() {
        let sites = [existing(
            2,
            "Warehouse",
            Some("1 Other Rd"),
            Some("Tampa"),
            Some("33602"),
        )];
        assert_eq!(match_site(&desired(&site()), &sites), None);
    }

    #[test]
    fn a_missing_address_part_matches_only_a_missing_part() {
        let mut site = site();
        site.address.postal_code = None;
        let with_zip = [existing(
            2,
            "Warehouse",
            Some("7 Dock Rd"),
            Some("Tampa"),
            Some("33602"),
        )];
        assert_eq!(match_site(&desired(&site), &with_zip), None);
        let without_zip = [existing(
            3,
            "Warehouse",
            Some("7 Dock Rd"),
            Some("Tampa"),
            None,
        )];
        assert_eq!(match_site(&desired(&site), &without_zip), Some(3));
    }

    #[test]
    fn the_only_site_of_that_name_without_an_address_matches() {
        let sites = [
            existing(4, "Warehouse", None, None, None),
            existing(5, "Main", Some("100 Main St"), None, None),
        ];
        assert_eq!(match_site(&desired(&site()), &sites), Some(4));
    }

    #[test]
    fn two_sites_of_that_name_without_an_address_are_not_guessed_between() {
        let sites = [
            existing(4, "Warehouse", None, None, None),
            existing(6, "warehouse", None, None, None),
        ];
        assert_eq!(match_site(&desired(&site()), &sites), None);
    }

    #[test]
    fn the_main_site_connectwise_creates_is_matched_only_by_a_billing_main_site_at_its_address() {
        // ConnectWise's own "Main" site, holding the company's (billing) address.
        let main = existing(
            10,
            "Main",
            Some("100 Main St"),
            Some("Phoenix"),
            Some("85001"),
        );
        let mut billing_main = site();
        billing_main.name = "Main".into();
        assert_eq!(
            match_site(&desired(&billing_main), std::slice::from_ref(&main)),
            None
        );
        billing_main.address.line1 = Some("100 Main St".into());
        billing_main.address.city = Some("Phoenix".into());
        billing_main.address.postal_code = Some("85001".into());
        assert_eq!(match_site(&desired(&billing_main), &[main]), Some(10));
    }

    #[test]
    fn sites_without_an_id_are_never_matched() {
        let mut site = existing(
            1,
            "Warehouse",
            Some("7 Dock Rd"),
            Some("Tampa"),
            Some("33602"),
        );
        site.id = None;
        assert_eq!(
            match_site(&desired(&super::super::fixtures::site()), &[site]),
            None
        );
    }

    #[test]
    fn of_several_equal_sites_the_oldest_matches() {
        let sites = [
            existing(
                9,
                "Warehouse",
                Some("7 Dock Rd"),
                Some("Tampa"),
                Some("33602"),
            ),
            existing(
                3,
                "Warehouse",
                Some("7 Dock Rd"),
                Some("Tampa"),
                Some("33602"),
            ),
        ];
        assert_eq!(match_site(&desired(&site()), &sites), Some(3));
    }

    #[test]
    fn an_unchanged_site_as_connectwise_returns_it_needs_no_write() {
        let desired = desired(&site());
        let current = echo_site(&desired, 28);
        assert!(plan_site_update(&current, &desired, &TenantSettings::default()).is_empty());
    }

    #[test]
    fn a_changed_site_patches_only_what_changed() {
        let desired = desired(&site());
        let mut current = echo_site(&desired, 28);
        current.phone_number = Some("000".into());
        current.state_reference = Some(Reference {
            identifier: Some("AZ".into()),
            ..Reference::id(2)
        });
        assert_eq!(
            plan_site_update(&current, &desired, &TenantSettings::default()),
            [
                PatchOp::replace("phoneNumber", "8135550100"),
                PatchOp::replace("stateReference", json!({"id": 5})),
            ]
        );
    }

    #[test]
    fn protected_site_fields_are_left_alone_and_state_names_the_state_reference() {
        let desired = desired(&site());
        let mut current = echo_site(&desired, 28);
        current.phone_number = Some("000".into());
        current.state_reference = Some(Reference::id(2));
        current.name = Some("Old name".into());
        let mut settings = TenantSettings::default();
        settings.never_overwrite.sites = vec!["state".into()];
        settings.owned_by_connectwise.sites = vec!["PhoneNumber".into()];
        assert_eq!(
            plan_site_update(&current, &desired, &settings),
            [PatchOp::replace("name", "Warehouse")]
        );
    }
}
