//! The pull direction: fields a tenant marks as owned by ConnectWise are read back and written to
//! the billing system (the company's address as the billing address; of several company types,
//! the first).
//!
//! Only values that differ are written, and only values ConnectWise has: a field ConnectWise
//! leaves empty never blanks the billing system's value (the write-backs are merge patches, where
//! absent means "unchanged"). Names of reference data (status, type, state, country) compare the
//! way ConnectWise resolves them, so `Arizona` in the billing system already equals `AZ`.

use cwsync_billing::models::{
    Account, AccountUpdate, Address, Contact as BillingContact, ContactUpdate, Site, SiteUpdate,
};
use cwsync_connectwise::models::{Company, CompanySite, Contact, Reference};

use super::CustomerReference;
use super::contacts::{ItemKind, slot};
use super::fields::{listed, owned, present, same_optional_name, same_phone};
use crate::settings::{TenantSettings, same_name};

/// ConnectWise's address fields on a company; any of them owned means the whole address is.
pub(super) const COMPANY_ADDRESS_FIELDS: [&str; 6] = [
    "addressLine1",
    "addressLine2",
    "city",
    "state",
    "zip",
    "country",
];

/// `fields` with every address field added when any of them is listed: ConnectWise owning part
/// of an address owns all of it (it is read back whole, so it must not be pushed in part).
pub(super) fn whole_address(fields: &[String], address: &[&str]) -> Vec<String> {
    let mut fields = fields.to_vec();
    if fields
        .iter()
        .any(|f| address.iter().any(|a| same_name(f, a)))
    {
        fields.extend(address.iter().map(|a| (*a).to_owned()));
    }
    fields
}

/// The same on a site, whose state is `stateReference`.
pub(super) const SITE_ADDRESS_FIELDS: [&str; 7] = [
    "addressLine1",
    "addressLine2",
    "city",
    "state",
    "stateReference",
    "zip",
    "country",
];

/// `theirs` when it has a value the billing system doesn't hold yet (compared trimmed, exactly).
/// `theirs` when it is another number than `ours` (formatting doesn't matter).
fn changed_phone(ours: Option<&str>, theirs: Option<&str>) -> Option<String> {
    let theirs = present(theirs)?;
    (!same_phone(ours, Some(theirs))).then(|| theirs.to_owned())
}

fn changed_text(ours: Option<&str>, theirs: Option<&str>) -> Option<String> {
    let theirs = present(theirs)?;
    (present(ours) != Some(theirs)).then(|| theirs.to_owned())
}

/// `theirs` when it names something else than `ours` (case and surrounding spaces don't matter).
fn changed_name(ours: Option<&str>, theirs: Option<&str>) -> Option<String> {
    let theirs = present(theirs)?;
    (!same_optional_name(ours, Some(theirs))).then(|| theirs.to_owned())
}

/// The name of a referenced record: the reference's own, else the reference data's.
fn reference_name<'a>(
    reference: Option<&'a Reference>,
    lookup: impl FnOnce(i64) -> Option<&'a str>,
) -> Option<&'a str> {
    let reference = reference?;
    present(reference.name.as_deref()).or_else(|| reference.id.and_then(lookup))
}

/// A ConnectWise address as a billing address: state as its identifier, country as its name.
/// `None` when ConnectWise holds no address at all.
fn billing_address(
    line1: Option<&str>,
    line2: Option<&str>,
    city: Option<&str>,
    state: Option<String>,
    zip: Option<&str>,
    country: Option<&Reference>,
    reference: &CustomerReference,
) -> Option<Address> {
    let country = reference_name(country, |id| {
        reference
            .country_by_id(id)
            .and_then(|c| present(c.name.as_deref()))
    });
    let address = Address {
        line1: owned(line1),
        line2: owned(line2),
        city: owned(city),
        state: owned(state.as_deref()),
        postal_code: owned(zip),
        country: owned(country),
    };
    (address != Address::default()).then_some(address)
}

/// Whether two states name the same ConnectWise state (or, unresolved, the same text).
fn same_state(ours: Option<&str>, theirs: Option<&str>, reference: &CustomerReference) -> bool {
    match (present(ours), present(theirs)) {
        (Some(a), Some(b)) => {
            let resolved = |text| reference.resolve_state(text, None).and_then(|s| s.id);
            same_name(a, b) || resolved(a).is_some_and(|id| resolved(b) == Some(id))
        }
        (a, b) => a == b,
    }
}

/// Whether the billing address already is ConnectWise's: street, city and postal code as
/// written, state and country as ConnectWise resolves them.
fn same_address(ours: Option<&Address>, theirs: &Address, reference: &CustomerReference) -> bool {
    let empty = Address::default();
    let ours = ours.unwrap_or(&empty);
    let text =
        |a: &Option<String>, b: &Option<String>| present(a.as_deref()) == present(b.as_deref());
    text(&ours.line1, &theirs.line1)
        && text(&ours.line2, &theirs.line2)
        && text(&ours.city, &theirs.city)
        && text(&ours.postal_code, &theirs.postal_code)
        && same_state(ours.state.as_deref(), theirs.state.as_deref(), reference)
        && same_optional_name(ours.country.as_deref(), theirs.country.as_deref())
}

/// The write-back that brings `account` to `company`'s values of the fields in
/// `ownedByConnectWise.companies`; empty when they already agree.
pub fn plan_account_pull(
    account: &Account,
    company: &Company,
    reference: &CustomerReference,
    settings: &TenantSettings,
) -> AccountUpdate {
    let lists: [&[String]; 1] = [&settings.owned_by_connectwise.companies];
    let owns = |field: &str, aliases: &[&str]| listed(&lists, field, aliases);
    let mut update = AccountUpdate::default();

    if owns("name", &[]) {
        update.name = changed_text(Some(&account.name), company.name.as_deref());
    }
    if owns("phoneNumber", &[]) {
        update.phone = changed_phone(account.phone.as_deref(), company.phone_number.as_deref());
    }
    if owns("faxNumber", &[]) {
        update.fax = changed_phone(account.fax.as_deref(), company.fax_number.as_deref());
    }
    if owns("website", &[]) {
        update.website = changed_text(account.website.as_deref(), company.website.as_deref());
    }
    if owns("status", &[]) {
        let status = reference_name(company.status.as_ref(), |id| {
            reference
                .company_statuses
                .iter()
                .find(|s| s.id == Some(id))
                .and_then(|s| present(s.name.as_deref()))
        });
        update.status = changed_name(account.status.as_deref(), status);
    }
    if owns("types", &["type"]) {
        // The billing system holds one type: of several, the first.
        let first = company.types.as_deref().and_then(|types| types.first());
        let company_type = reference_name(first, |id| {
            reference
                .company_types
                .iter()
                .find(|t| t.id == Some(id))
                .and_then(|t| present(t.name.as_deref()))
        });
        update.account_type = changed_name(account.account_type.as_deref(), company_type);
    }
    if COMPANY_ADDRESS_FIELDS.iter().any(|field| owns(field, &[])) {
        let state = present(company.state.as_deref()).map(|text| {
            reference
                .resolve_state(text, None)
                .and_then(|s| s.identifier.clone())
                .unwrap_or_else(|| text.to_owned())
        });
        update.billing_address = billing_address(
            company.address_line1.as_deref(),
            company.address_line2.as_deref(),
            company.city.as_deref(),
            state,
            company.zip.as_deref(),
            company.country.as_ref(),
            reference,
        )
        .filter(|theirs| !same_address(account.billing_address.as_ref(), theirs, reference));
    }
    update
}

/// The same for a site (`ownedByConnectWise.sites`).
pub fn plan_site_pull(
    site: &Site,
    cw_site: &CompanySite,
    reference: &CustomerReference,
    settings: &TenantSettings,
) -> SiteUpdate {
    let lists: [&[String]; 1] = [&settings.owned_by_connectwise.sites];
    let owns = |field: &str| listed(&lists, field, &[]);
    let mut update = SiteUpdate::default();

    if owns("name") {
        update.name = changed_text(Some(&site.name), cw_site.name.as_deref());
    }
    if owns("phoneNumber") {
        update.phone = changed_phone(site.phone.as_deref(), cw_site.phone_number.as_deref());
    }
    if owns("faxNumber") {
        update.fax = changed_phone(site.fax.as_deref(), cw_site.fax_number.as_deref());
    }
    if SITE_ADDRESS_FIELDS.iter().any(|field| owns(field)) {
        let state = cw_site.state_reference.as_ref().and_then(|r| {
            present(r.identifier.as_deref())
                .map(str::to_owned)
                .or_else(|| {
                    r.id.and_then(|id| reference.state_by_id(id))
                        .and_then(|s| s.identifier.clone())
                })
                .or_else(|| owned(r.name.as_deref()))
        });
        update.address = billing_address(
            cw_site.address_line1.as_deref(),
            cw_site.address_line2.as_deref(),
            cw_site.city.as_deref(),
            state,
            cw_site.zip.as_deref(),
            cw_site.country.as_ref(),
            reference,
        )
        .filter(|theirs| !same_address(Some(&site.address), theirs, reference));
    }
    update
}

/// The same for a contact (`ownedByConnectWise.contacts`).
pub fn plan_contact_pull(
    contact: &BillingContact,
    cw_contact: &Contact,
    settings: &TenantSettings,
) -> ContactUpdate {
    let lists: [&[String]; 1] = [&settings.owned_by_connectwise.contacts];
    let owns = |field: &str| listed(&lists, field, &[]);
    let mut update = ContactUpdate::default();

    if owns("firstName") {
        update.first_name = changed_text(
            contact.first_name.as_deref(),
            cw_contact.first_name.as_deref(),
        );
    }
    if owns("lastName") {
        update.last_name = changed_text(
            contact.last_name.as_deref(),
            cw_contact.last_name.as_deref(),
        );
    }
    if owns("title") {
        update.title = changed_text(contact.title.as_deref(), cw_contact.title.as_deref());
    }
    if owns("communicationItems") {
        let items = cw_contact.communication_items.as_deref().unwrap_or(&[]);
        let value_of = |kind| {
            slot(items, kind)
                .and_then(|i| items.get(i))
                .and_then(|item| item.value.as_deref())
        };
        update.phone = changed_phone(contact.phone.as_deref(), value_of(ItemKind::Phone));
        update.email = changed_name(contact.email.as_deref(), value_of(ItemKind::Email));
        update.mobile = changed_phone(contact.mobile.as_deref(), value_of(ItemKind::Mobile));
        update.fax = changed_phone(contact.fax.as_deref(), value_of(ItemKind::Fax));
    }
    update
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use cwsync_connectwise::models::ContactCommunicationItem;
    use proptest::prelude::*;

    use super::super::fixtures::{account, contact, reference, site};
    use super::*;

    fn owning(companies: &[&str], sites: &[&str], contacts: &[&str]) -> TenantSettings {
        let mut settings = TenantSettings::default();
        let list = |fields: &[&str]| fields.iter().map(|f| (*f).to_owned()).collect();
        settings.owned_by_connectwise.companies = list(companies);
        settings.owned_by_connectwise.sites = list(sites);
        settings.owned_by_connectwise.contacts = list(contacts);
        settings
    }

    /// The company that `account()` is, as ConnectWise holds it.
    fn company() -> Company {
        Company {
            id: Some(250),
            identifier: Some("ACME".into()),
            name: Some("Acme Corporation".into()),
            status: Some(Reference {
                name: Some("Active".into()),
                ..Reference::id(1)
            }),
            types: Some(vec![Reference {
                name: Some("Client".into()),
                ..Reference::id(1)
            }]),
            address_line1: Some("100 Main St".into()),
            address_line2: Some("Suite 5".into()),
            city: Some("Phoenix".into()),
            state: Some("AZ".into()),
            zip: Some("85001".into()),
            country: Some(Reference {
                name: Some("United States".into()),
                ..Reference::id(1)
            }),
            phone_number: Some("6025550100".into()),
            fax_number: Some("6025550101".into()),
            website: Some("https://acme.example".into()),
            ..Company::default()
        }
    }

    const ALL_COMPANY_FIELDS: [&str; 8] = [
        "name",
        "phoneNumber",
        "faxNumber",
        "website",
        "status/name",
        "types",
        "addressLine1",
        "state",
    ];

    #[test]
    fn nothing_is_pulled_when_the_tenant_owns_no_fields() {
        let mut company = company();
        company.name = Some("Renamed".into());
        let update = plan_account_pull(
            &account(),
            &company,
            &reference(),
            &TenantSettings::default(),
        );
        assert!(update.is_empty());
    }

    #[test]
    fn nothing_is_pulled_when_the_owned_fields_already_agree() {
        let settings = owning(&ALL_COMPANY_FIELDS, &[], &[]);
        assert!(plan_account_pull(&account(), &company(), &reference(), &settings).is_empty());
    }

    #[test]
    fn only_the_owned_fields_that_differ_are_pulled() {
        let mut company = company();
        company.name = Some("Acme Holdings".into());
        company.website = Some("https://acme.example/new".into());
        company.phone_number = Some("6020000000".into());
        let settings = owning(&["Name", "website"], &[], &[]);
        let update = plan_account_pull(&account(), &company, &reference(), &settings);
        assert_eq!(
            update,
            AccountUpdate {
                name: Some("Acme Holdings".into()),
                website: Some("https://acme.example/new".into()),
                ..AccountUpdate::default()
            }
        );
    }

    #[test]
    fn status_and_the_first_of_several_types_are_pulled_by_name() {
        let mut company = company();
        company.status = Some(Reference::id(3));
        company.types = Some(vec![Reference::id(4), Reference::id(1)]);
        let settings = owning(&["status.name", "type"], &[], &[]);
        let update = plan_account_pull(&account(), &company, &reference(), &settings);
        assert_eq!(update.status.as_deref(), Some("Credit Hold"));
        assert_eq!(update.account_type.as_deref(), Some("Partner"));
    }

    #[test]
    fn a_status_differing_only_in_case_is_not_pulled() {
        let mut account = account();
        account.status = Some("active".into());
        let settings = owning(&["status"], &[], &[]);
        assert!(plan_account_pull(&account, &company(), &reference(), &settings).is_empty());
    }

    #[test]
    fn any_owned_address_field_replaces_the_whole_billing_address() {
        let mut company = company();
        company.address_line1 = Some("1 New Rd".into());
        company.address_line2 = None;
        company.city = Some("Toronto".into());
        company.state = Some("on".into());
        company.zip = Some("M5H 2N2".into());
        company.country = Some(Reference::id(2));
        let settings = owning(&["zip"], &[], &[]);
        let update = plan_account_pull(&account(), &company, &reference(), &settings);
        assert_eq!(
            update,
            AccountUpdate {
                billing_address: Some(Address {
                    line1: Some("1 New Rd".into()),
                    line2: None,
                    city: Some("Toronto".into()),
                    state: Some("ON".into()),
                    postal_code: Some("M5H 2N2".into()),
                    country: Some("Canada".into()),
                }),
                ..AccountUpdate::default()
            }
        );
    }

    #[test]
    fn a_billing_state_given_by_full_name_already_equals_its_code() {
        let mut account = account();
        let billing = account.billing_address.as_mut().unwrap();
        billing.state = Some("Arizona".into());
        billing.country = Some("united states".into());
        let settings = owning(&["state"], &[], &[]);
        assert!(plan_account_pull(&account, &company(), &reference(), &settings).is_empty());
    }

    #[test]
    fn a_company_without_values_never_blanks_the_account() {
        let company = Company {
            id: Some(250),
            ..Company::default()
        };
        let settings = owning(&ALL_COMPANY_FIELDS, &[], &[]);
        assert!(plan_account_pull(&account(), &company, &reference(), &settings).is_empty());
    }

    /// The ConnectWise site that `site()` is.
    fn cw_site() -> CompanySite {
        CompanySite {
            id: Some(28),
            name: Some("Warehouse".into()),
            address_line1: Some("7 Dock Rd".into()),
            city: Some("Tampa".into()),
            state_reference: Some(Reference {
                identifier: Some("FL".into()),
                name: Some("Florida".into()),
                ..Reference::id(5)
            }),
            zip: Some("33602".into()),
            country: Some(Reference::id(1)),
            phone_number: Some("8135550100".into()),
            fax_number: Some(String::new()),
            ..CompanySite::default()
        }
    }

    #[test]
    fn an_agreeing_site_pulls_nothing() {
        let settings = owning(
            &[],
            &["name", "stateReference", "phoneNumber", "faxNumber"],
            &[],
        );
        assert!(plan_site_pull(&site(), &cw_site(), &reference(), &settings).is_empty());
    }

    #[test]
    fn a_site_pulls_its_owned_fields_and_its_whole_address() {
        let mut cw = cw_site();
        cw.name = Some("Warehouse North".into());
        cw.fax_number = Some("8135550111".into());
        cw.state_reference = Some(Reference::id(2));
        cw.city = Some("Phoenix".into());
        let settings = owning(&[], &["name", "faxNumber", "city"], &[]);
        let update = plan_site_pull(&site(), &cw, &reference(), &settings);
        assert_eq!(
            update,
            SiteUpdate {
                name: Some("Warehouse North".into()),
                fax: Some("8135550111".into()),
                address: Some(Address {
                    line1: Some("7 Dock Rd".into()),
                    line2: None,
                    city: Some("Phoenix".into()),
                    state: Some("AZ".into()),
                    postal_code: Some("33602".into()),
                    country: Some("United States".into()),
                }),
                ..SiteUpdate::default()
            }
        );
    }

    fn item(
        id: i64,
        type_id: i64,
        type_name: &str,
        ctype: &str,
        value: &str,
    ) -> ContactCommunicationItem {
        ContactCommunicationItem {
            id: Some(id),
            kind: Some(Reference {
                name: Some(type_name.into()),
                ..Reference::id(type_id)
            }),
            value: Some(value.into()),
            communication_type: Some(ctype.into()),
            ..ContactCommunicationItem::default()
        }
    }

    fn cw_contact() -> Contact {
        Contact {
            id: Some(2),
            first_name: Some("Arnie".into()),
            last_name: Some("Bellini".into()),
            title: Some("CPA".into()),
            communication_items: Some(vec![
                item(1, 2, "Direct", "Phone", "8139357100"),
                item(2, 1, "Email", "Email", "Arnie@YourCompany.example"),
                item(3, 4, "Cell", "Phone", "8135550199"),
                item(4, 3, "Fax", "Fax", "8135550198"),
                item(5, 9, "Pager", "Pager", "555"),
            ]),
            ..Contact::default()
        }
    }

    #[test]
    fn an_agreeing_contact_pulls_nothing() {
        let settings = owning(
            &[],
            &[],
            &["firstName", "lastName", "title", "communicationItems"],
        );
        assert!(plan_contact_pull(&contact(), &cw_contact(), &settings).is_empty());
    }

    #[test]
    fn communication_items_are_pulled_by_kind() {
        let mut cw = cw_contact();
        let items = cw.communication_items.as_mut().unwrap();
        items[0].value = Some("8130000000".into());
        items[1].value = Some("arnie@new.example".into());
        items[2].value = Some("8130000001".into());
        items[3].value = Some("8130000002".into());
        cw.title = Some("Partner".into());
        let settings = owning(&[], &[], &["communicationItems"]);
        let update = plan_contact_pull(&contact(), &cw, &settings);
        assert_eq!(
            update,
            ContactUpdate {
                phone: Some("8130000000".into()),
                email: Some("arnie@new.example".into()),
                mobile: Some("8130000001".into()),
                fax: Some("8130000002".into()),
                ..ContactUpdate::default()
            }
        );
    }

    #[test]
    fn owned_contact_names_and_title_are_pulled() {
        let mut cw = cw_contact();
        cw.first_name = Some("Arnold".into());
        cw.title = Some("Partner".into());
        let settings = owning(&[], &[], &["firstName", "title"]);
        let update = plan_contact_pull(&contact(), &cw, &settings);
        assert_eq!(update.first_name.as_deref(), Some("Arnold"));
        assert_eq!(update.title.as_deref(), Some("Partner"));
        assert_eq!(update.last_name, None);
    }

    proptest! {
        #[test]
        fn pulling_a_company_into_the_account_it_produced_is_then_empty(
            name in "[A-Za-z][A-Za-z .]{0,30}",
            state in prop::sample::select(vec!["AZ", "ny", "Ontario", "Quebec"]),
            city in proptest::option::of("[A-Za-z][A-Za-z ]{0,20}"),
            country in prop::sample::select(vec![1i64, 2, 3]),
        ) {
            let mut company = company();
            company.name = Some(name.trim().to_owned());
            company.state = Some(state.to_owned());
            company.city = city.map(|c| c.trim().to_owned());
            company.country = Some(Reference::id(country));
            let settings = owning(&ALL_COMPANY_FIELDS, &[], &[]);
            let mut account = account();
            let update = plan_account_pull(&account, &company, &reference(), &settings);
            if let Some(name) = update.name { account.name = name; }
            if let Some(address) = update.billing_address { account.billing_address = Some(address); }
            prop_assert!(plan_account_pull(&account, &company, &reference(), &settings).is_empty());
            // And what was pulled is what the push sends back: no ping-pong.
            let pushed = super::super::desired_company(&account, &reference(), &Default::default());
            prop_assert!(pushed.is_ok(), "{:?}", pushed);
            let pushed = pushed.unwrap_or_default();
            prop_assert_eq!(pushed.country, Some(Reference::id(country)));
            prop_assert_eq!(
                pushed.state.map(|s| s.to_lowercase()),
                reference().resolve_state(state, None).and_then(|s| s.identifier.clone()).map(|s| s.to_lowercase())
            );
        }
    }
}
