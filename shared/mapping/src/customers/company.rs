//! Account → company: the values a company should hold, and the changes that bring a linked
//! company there.

use cwsync_billing::models::Account;
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{Company, Reference};

use super::fields::{
    MAX_PHONE_CHARS, Problems, keep_same_phone, listed, plan_patch, present, resolve_address,
};
use super::{CustomerReference, Noted, RecordProblem, entity};
use crate::settings::{TenantSettings, same_name};

/// Longest company identifier: `Company.identifier` `maxLength` in the simulator's schema facts
/// (2026.4 spec). Older servers accept less (25 in 2022.1, 30 in 2025.1).
pub const MAX_IDENTIFIER_CHARS: usize = 156;
/// Longest company name: `Company.name` `maxLength` in the schema facts (2026.4 spec; 50 in 2025.1).
pub const MAX_COMPANY_NAME_CHARS: usize = 156;
/// Longest `website` (facts: `Company.website`).
pub const MAX_WEBSITE_CHARS: usize = 255;

/// The ConnectWise ids of the companies an account points at (its parent and bill-to accounts),
/// resolved through the links by the caller; `None` when not linked (yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelatedCompanies {
    /// The parent account's company.
    pub parent: Option<i64>,
    /// The bill-to account's company.
    pub bill_to: Option<i64>,
}

/// The company `account` should be, as a POST body (references as `{"id": N}`, `types` set for
/// the create). Every problem of the account is returned at once.
pub fn desired_company(
    account: &Account,
    reference: &CustomerReference,
    related: &RelatedCompanies,
) -> Result<Company, Vec<RecordProblem>> {
    desired_company_noted(account, reference, related).map(|noted| noted.value)
}

/// [`desired_company`] with the notes on what was made of the billing values (a name made one
/// line, an extension dropped from a number), for the company's report line.
pub fn desired_company_noted(
    account: &Account,
    reference: &CustomerReference,
    related: &RelatedCompanies,
) -> Result<Noted<Company>, Vec<RecordProblem>> {
    let mut problems = Problems::new(entity::COMPANY, &account.id);

    let identifier = problems.required(
        "code",
        Some(&account.code),
        "it becomes the ConnectWise company identifier",
    );
    if let Some(code) = &identifier
        && code.chars().any(char::is_whitespace)
    {
        problems.push(
            "code",
            format!("{code:?} contains spaces, which a ConnectWise company identifier can't hold"),
        );
    } else if let Some(code) = &identifier
        && code.chars().any(char::is_control)
    {
        // Unlike a name, an identifier is not cleaned up: it is the company's natural key (what
        // matching and conditions look for), so a changed one would be another company.
        problems.push(
            "code",
            "contains control characters, which a ConnectWise company identifier can't hold"
                .to_owned(),
        );
    }
    let identifier = problems.limited("code", identifier, MAX_IDENTIFIER_CHARS);
    let name = problems.required_line(
        "name",
        Some(&account.name),
        "ConnectWise refuses a company without a name",
    );
    let name = problems.limited("name", name, MAX_COMPANY_NAME_CHARS);

    let address = resolve_address(
        account.billing_address.as_ref(),
        "billingAddress",
        reference,
        &mut problems,
    );
    if account_has_no_address(account) {
        problems.push(
            "billingAddress",
            "ConnectWise requires at least one address field on a company (line, city, state, \
             postal code or country)",
        );
    }

    let status = present(account.status.as_deref()).and_then(|name| {
        let found = reference.company_status(name).and_then(|s| s.id);
        if found.is_none() {
            problems.push(
                "status",
                format!("unknown status {name:?}: not a ConnectWise company status"),
            );
        }
        found
    });
    let company_type = present(account.account_type.as_deref()).and_then(|name| {
        let found = reference.company_type(name).and_then(|t| t.id);
        if found.is_none() {
            problems.push(
                "type",
                format!("unknown type {name:?}: not a ConnectWise company type"),
            );
        }
        found
    });
    // Without currencies to resolve against (the API subset has no currency endpoint, so the
    // caller may know none), the company keeps ConnectWise's default currency.
    let currency = present(account.currency.as_deref())
        .filter(|_| !reference.currencies.is_empty())
        .and_then(|code| {
            let found = reference.currency(code).and_then(|c| c.id);
            if found.is_none() {
                problems.push(
                    "currency",
                    format!("unknown currency {code:?}: not a ConnectWise currency code"),
                );
            }
            found
        });

    let company = Company {
        account_number: identifier.clone(),
        identifier,
        name,
        address_line1: address.line1,
        address_line2: address.line2,
        city: address.city,
        state: address
            .state
            .and_then(|state| state.identifier.clone().or_else(|| state.name.clone())),
        zip: address.zip,
        country: address.country.and_then(|c| c.id).map(Reference::id),
        phone_number: problems.number_only(
            "phone",
            account.phone.as_deref(),
            MAX_PHONE_CHARS,
            entity::COMPANY,
        ),
        fax_number: problems.number_only(
            "fax",
            account.fax.as_deref(),
            MAX_PHONE_CHARS,
            entity::COMPANY,
        ),
        website: problems.text("website", account.website.as_deref(), MAX_WEBSITE_CHARS),
        status: status.map(Reference::id),
        types: company_type.map(|id| vec![Reference::id(id)]),
        parent_company: related.parent.map(Reference::id),
        bill_to_company: related.bill_to.map(Reference::id),
        currency: currency.map(Reference::id),
        ..Company::default()
    };
    problems.finish_noted(company)
}

/// The problem of an account whose parent chain leads back to itself: its own parent, or a cycle
/// (A → B → A). ConnectWise can't hold a company that is its own ancestor, so the account's
/// company is not written at all (not even without its parent: the user must fix the parent in the
/// billing system, and a company synced without it would look settled).
///
/// `ancestors` is the chain above the account as far as the caller knows it: its parent, the
/// parent's parent, …, from billing's `parentAccountId`s, stopping at the first id seen twice.
/// Every member of a cycle reaches itself this way, so each of them gets the problem, whichever
/// job syncs it and whatever was linked before: no member is written with a parent that closes
/// the cycle.
pub fn parent_cycle(account: &Account, ancestors: &[String]) -> Option<RecordProblem> {
    let field = "parentAccountId";
    let problem = |message: String| RecordProblem {
        entity: entity::COMPANY,
        record_id: account.id.clone(),
        field: field.to_owned(),
        message,
    };
    let parent = present(account.parent_account_id.as_deref())?;
    if parent == account.id {
        return Some(problem(
            "the account is its own parent; ConnectWise can't hold a company that is its own \
             parent: fix the parent in the billing system"
                .to_owned(),
        ));
    }
    let back = ancestors.iter().position(|id| *id == account.id)?;
    let mut chain = vec![account.id.as_str()];
    chain.extend(ancestors[..=back].iter().map(String::as_str));
    Some(problem(format!(
        "parent accounts form a cycle ({}); ConnectWise can't hold a company that is its own \
         ancestor: fix the parent in the billing system",
        chain.join(" → ")
    )))
}

/// Whether the account holds no address part at all (as opposed to parts that failed to resolve,
/// which are reported on their own field).
fn account_has_no_address(account: &Account) -> bool {
    account.billing_address.as_ref().is_none_or(|a| {
        [
            &a.line1,
            &a.line2,
            &a.city,
            &a.state,
            &a.postal_code,
            &a.country,
        ]
        .iter()
        .all(|part| present(part.as_deref()).is_none())
    })
}

/// What bringing a linked company to its desired values takes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanyPlan {
    /// One PATCH with only the changed fields (empty: nothing to patch).
    pub patch: Vec<PatchOp>,
    /// A company type to associate (`POST /company/companies/{id}/typeAssociations`): the
    /// desired type when the company does not have it yet (types can't be patched).
    pub add_type: Option<i64>,
}

impl CompanyPlan {
    /// Whether nothing needs writing.
    pub fn is_empty(&self) -> bool {
        self.patch.is_empty() && self.add_type.is_none()
    }
}

/// The changes from `current` to `desired`, leaving alone the fields the tenant marks "never
/// overwrite" (`neverOverwrite.companies`) or "owned by ConnectWise"
/// (`ownedByConnectWise.companies`).
pub fn plan_company_update(
    current: &Company,
    desired: &Company,
    settings: &TenantSettings,
) -> CompanyPlan {
    let owned = super::pull::whole_address(
        &settings.owned_by_connectwise.companies,
        &super::pull::COMPANY_ADDRESS_FIELDS,
    );
    let lists: [&[String]; 2] = [&settings.never_overwrite.companies, &owned];
    let mut desired = desired.clone();
    // State identifiers are codes: `az` in ConnectWise is already `AZ`.
    if let (Some(now), Some(wanted)) = (&current.state, &desired.state)
        && same_name(now, wanted)
    {
        desired.state = Some(now.clone());
    }
    keep_same_phone(current.phone_number.as_ref(), &mut desired.phone_number);
    keep_same_phone(current.fax_number.as_ref(), &mut desired.fax_number);
    // Types are changed through type associations, never by PATCH.
    let patch = plan_patch(current, &desired, &lists, &["types"], &[]);
    let types_protected = listed(&lists, "types", &["type"]);
    let add_type = desired
        .types
        .as_deref()
        .and_then(|types| types.first())
        .and_then(|wanted| wanted.id)
        .filter(|id| {
            !types_protected
                && !current
                    .types
                    .iter()
                    .flatten()
                    .any(|have| have.id == Some(*id))
        });
    CompanyPlan { patch, add_type }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use cwsync_billing::models::Address;
    use cwsync_connectwise::PatchOp;
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::fixtures::{account, echo_company, reference};
    use super::*;

    fn problems(account: &Account) -> Vec<(String, String)> {
        desired_company(account, &reference(), &RelatedCompanies::default())
            .expect_err("problems")
            .into_iter()
            .map(|p| {
                assert_eq!(p.entity, "company");
                assert_eq!(p.record_id, account.id);
                (p.field, p.message)
            })
            .collect()
    }

    fn desired(account: &Account) -> Company {
        desired_company(account, &reference(), &RelatedCompanies::default()).expect("valid")
    }

    fn settings() -> TenantSettings {
        TenantSettings::default()
    }

    #[test]
    fn a_complete_account_becomes_the_company_post_body() {
        let related = RelatedCompanies {
            parent: Some(70),
            bill_to: Some(71),
        };
        let company = desired_company(&account(), &reference(), &related).unwrap();
        assert_eq!(
            serde_json::to_value(&company).unwrap(),
            json!({
                "identifier": "ACME",
                "accountNumber": "ACME",
                "name": "Acme Corporation",
                "addressLine1": "100 Main St",
                "addressLine2": "Suite 5",
                "city": "Phoenix",
                "state": "AZ",
                "zip": "85001",
                "country": {"id": 1},
                "phoneNumber": "6025550100",
                "faxNumber": "6025550101",
                "website": "https://acme.example",
                "status": {"id": 1},
                "types": [{"id": 1}],
                "parentCompany": {"id": 70},
                "billToCompany": {"id": 71},
                "currency": {"id": 1},
            })
        );
    }

    #[test]
    fn a_state_given_by_full_name_is_sent_as_its_identifier() {
        let mut account = account();
        account.billing_address.as_mut().unwrap().state = Some(" new york ".into());
        assert_eq!(desired(&account).state.as_deref(), Some("NY"));
    }

    #[test]
    fn a_state_is_resolved_in_the_addresss_country() {
        let mut account = account();
        let address = account.billing_address.as_mut().unwrap();
        address.state = Some("WA".into());
        address.country = Some("Australia".into());
        let company = desired(&account);
        assert_eq!(company.state.as_deref(), Some("WA"));
        assert_eq!(company.country, Some(Reference::id(4)));
    }

    #[test]
    fn an_unknown_state_is_reported_on_the_billing_address_field() {
        let mut account = account();
        account.billing_address.as_mut().unwrap().state = Some("Narnia".into());
        assert_eq!(
            problems(&account),
            [(
                "billingAddress.state".to_owned(),
                "unknown state \"Narnia\": not a ConnectWise state code or name".to_owned()
            )]
        );
    }

    #[test]
    fn an_unknown_country_is_reported_and_the_state_still_resolves_without_it() {
        let mut account = account();
        account.billing_address.as_mut().unwrap().country = Some("Atlantis".into());
        assert_eq!(
            problems(&account),
            [(
                "billingAddress.country".to_owned(),
                "unknown country \"Atlantis\": not a ConnectWise country name".to_owned()
            )]
        );
    }

    #[test]
    fn unknown_type_status_and_currency_are_reported_on_their_fields() {
        let mut account = account();
        account.account_type = Some("Reseller".into());
        account.status = Some("Dormant".into());
        account.currency = Some("XYZ".into());
        let fields: Vec<String> = problems(&account).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["status", "type", "currency"]);
    }

    #[test]
    fn every_problem_of_the_account_is_returned_at_once() {
        let mut account = account();
        account.code = "AC ME".into();
        account.name = "  ".into();
        account.website = Some("w".repeat(256));
        account.phone = Some("1".repeat(31));
        let address = account.billing_address.as_mut().unwrap();
        address.line1 = Some("x".repeat(51));
        address.postal_code = Some("1234567890123".into());
        address.state = Some("Narnia".into());
        let found = problems(&account);
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "code",
                "name",
                "billingAddress.state",
                "billingAddress.line1",
                "billingAddress.postalCode",
                "phone",
                "website",
            ]
        );
        assert_eq!(
            found[0].1,
            "\"AC ME\" contains spaces, which a ConnectWise company identifier can't hold"
        );
        assert_eq!(
            found[1].1,
            "is required: ConnectWise refuses a company without a name"
        );
        assert_eq!(
            found[3].1,
            "is 51 characters long; ConnectWise accepts at most 50"
        );
    }

    #[test]
    fn a_missing_code_is_reported() {
        let mut account = account();
        account.code = String::new();
        assert_eq!(
            problems(&account),
            [(
                "code".to_owned(),
                "is required: it becomes the ConnectWise company identifier".to_owned()
            )]
        );
    }

    #[test]
    fn an_identifier_with_control_characters_is_reported_not_sent() {
        let mut account = account();
        account.code = "OB\u{0}\u{7}\u{1b}RIEN".into();
        assert_eq!(
            problems(&account),
            [(
                "code".to_owned(),
                "contains control characters, which a ConnectWise company identifier can't hold"
                    .to_owned()
            )]
        );
    }

    #[test]
    fn an_identifier_longer_than_connectwise_accepts_is_reported() {
        let mut account = account();
        account.code = "A".repeat(MAX_IDENTIFIER_CHARS + 1);
        assert_eq!(
            problems(&account),
            [(
                "code".to_owned(),
                format!(
                    "is {} characters long; ConnectWise accepts at most {MAX_IDENTIFIER_CHARS}",
                    MAX_IDENTIFIER_CHARS + 1
                )
            )]
        );
        account.code = "A".repeat(MAX_IDENTIFIER_CHARS);
        assert!(desired_company(&account, &reference(), &RelatedCompanies::default()).is_ok());
    }

    #[test]
    fn an_account_without_any_address_is_a_problem() {
        let mut account = account();
        account.billing_address = None;
        assert_eq!(problems(&account)[0].0, "billingAddress");
        account.billing_address = Some(Address {
            line1: Some(" ".into()),
            ..Address::default()
        });
        assert_eq!(problems(&account)[0].0, "billingAddress");
    }

    #[test]
    fn one_address_field_is_enough() {
        let mut account = account();
        account.billing_address = Some(Address {
            city: Some("Phoenix".into()),
            ..Address::default()
        });
        let company = desired(&account);
        assert_eq!(company.city.as_deref(), Some("Phoenix"));
        assert_eq!(company.address_line1, None);
    }

    #[test]
    fn empty_strings_count_as_absent() {
        let mut account = account();
        account.status = Some(String::new());
        account.account_type = Some("  ".into());
        account.currency = Some(String::new());
        account.fax = Some(String::new());
        account.billing_address.as_mut().unwrap().line2 = Some(String::new());
        let company = desired(&account);
        assert_eq!(company.status, None);
        assert_eq!(company.types, None);
        assert_eq!(company.currency, None);
        assert_eq!(company.fax_number, None);
        assert_eq!(company.address_line2, None);
    }

    #[test]
    fn without_a_status_or_type_connectwise_keeps_its_defaults() {
        let mut account = account();
        account.status = None;
        account.account_type = None;
        let body = serde_json::to_value(desired(&account)).unwrap();
        assert!(body.get("status").is_none());
        assert!(body.get("types").is_none());
    }

    #[test]
    fn values_are_sent_trimmed() {
        let mut account = account();
        account.code = "  ACME ".into();
        account.name = " Acme Corporation  ".into();
        account.phone = Some(" 6025550100 ".into());
        let company = desired(&account);
        assert_eq!(company.identifier.as_deref(), Some("ACME"));
        assert_eq!(company.account_number.as_deref(), Some("ACME"));
        assert_eq!(company.name.as_deref(), Some("Acme Corporation"));
        assert_eq!(company.phone_number.as_deref(), Some("6025550100"));
    }

    fn noted(account: &Account) -> Noted<Company> {
        desired_company_noted(account, &reference(), &RelatedCompanies::default()).expect("valid")
    }

    #[test]
    fn a_name_with_control_characters_is_sent_as_one_trimmed_line_and_noted() {
        let mut account = account();
        account.name = " Acme\tCorporation\r\nHoldings ".into();
        account.billing_address.as_mut().unwrap().line1 = Some("100 Main St\n".into());
        account.billing_address.as_mut().unwrap().city = Some("  Phoenix".into());
        let noted = noted(&account);
        assert_eq!(
            noted.value.name.as_deref(),
            Some("Acme Corporation Holdings")
        );
        assert_eq!(noted.value.address_line1.as_deref(), Some("100 Main St"));
        assert_eq!(noted.value.city.as_deref(), Some("Phoenix"));
        assert_eq!(
            noted.notes,
            [
                "name: control characters replaced, spaces trimmed",
                "billingAddress.line1: control characters replaced, spaces trimmed",
                "billingAddress.city: spaces trimmed",
            ]
        );
        // The same account maps to the same company every time: its fingerprint is stable.
        assert_eq!(
            super::super::fingerprint(&noted.value),
            super::super::fingerprint(&desired(&account))
        );
    }

    #[test]
    fn a_clean_account_has_no_notes() {
        assert!(noted(&account()).notes.is_empty());
    }

    #[test]
    fn a_phone_extension_is_dropped_from_the_company_and_noted() {
        let mut account = account();
        account.phone = Some("+1 (555) 010-0199 x23".into());
        account.fax = Some("555-010-0198 ext. 4".into());
        let noted = noted(&account);
        assert_eq!(
            noted.value.phone_number.as_deref(),
            Some("+1 (555) 010-0199")
        );
        assert_eq!(noted.value.fax_number.as_deref(), Some("555-010-0198"));
        assert_eq!(
            noted.notes,
            [
                "phone: extension 23 dropped: ConnectWise has no extension field on a company",
                "fax: extension 4 dropped: ConnectWise has no extension field on a company",
            ]
        );
        // A company holding the number without the extension needs no write.
        let current = echo_company(&noted.value, 250);
        assert!(plan_company_update(&current, &noted.value, &settings()).is_empty());
    }

    #[test]
    fn an_account_that_is_its_own_parent_is_a_problem_on_its_parent() {
        let mut account = account();
        account.parent_account_id = Some(account.id.clone());
        let problem = parent_cycle(&account, &[]).expect("problem");
        assert_eq!(problem.field, "parentAccountId");
        assert_eq!(problem.record_id, account.id);
        assert!(problem.message.contains("its own parent"), "{problem}");
    }

    #[test]
    fn a_parent_chain_leading_back_to_the_account_is_a_cycle_naming_its_members() {
        let mut account = account();
        account.id = "A".into();
        account.parent_account_id = Some("B".into());
        let problem = parent_cycle(&account, &["B".into(), "A".into()]).expect("problem");
        assert_eq!(
            problem.to_string(),
            "company A: parentAccountId: parent accounts form a cycle (A → B → A); ConnectWise \
             can't hold a company that is its own ancestor: fix the parent in the billing system"
        );
        let longer = parent_cycle(&account, &["B".into(), "C".into(), "A".into(), "B".into()]);
        assert!(longer.unwrap().message.contains("(A → B → C → A)"));
    }

    #[test]
    fn a_chain_without_the_account_is_no_problem_of_it() {
        let mut account = account();
        account.id = "A".into();
        account.parent_account_id = Some("B".into());
        assert_eq!(parent_cycle(&account, &["B".into()]), None);
        // B and C cycle above A: their problem, not A's.
        assert_eq!(
            parent_cycle(&account, &["B".into(), "C".into(), "B".into()]),
            None
        );
        account.parent_account_id = None;
        assert_eq!(parent_cycle(&account, &[]), None);
    }

    #[test]
    fn an_unchanged_company_as_connectwise_returns_it_needs_no_write() {
        let desired = desired(&account());
        let current = echo_company(&desired, 250);
        assert_eq!(
            plan_company_update(&current, &desired, &settings()),
            CompanyPlan::default()
        );
    }

    #[test]
    fn the_real_sample_company_with_the_same_values_needs_no_write() {
        let current: Company =
            serde_json::from_value(json!({
                "id": 2, "identifier": "YourCompany", "name": "TestCompany",
                "status": {"id": 1, "name": "Active", "defaultFlag": true},
                "types": [{"id": 4, "name": "Partner", "_info": {"lastUpdated": "2015-08-21T20:22:06Z"}}],
                "addressLine1": null, "city": "Phoenix", "state": "az",
                "phoneNumber": "1450994900", "faxNumber": "", "website": "www.YourCompany.com",
                "accountNumber": "YourCompany",
                "_info": {"lastUpdated": "2015-12-24T22:08:22Z", "updatedBy": "omnicorp"}
            }))
            .unwrap();
        let mut account = account();
        account.code = "YourCompany".into();
        account.name = "TestCompany".into();
        account.account_type = Some("partner".into());
        account.currency = None;
        account.phone = Some("1450994900".into());
        account.fax = None;
        account.website = Some("www.YourCompany.com".into());
        account.billing_address = Some(Address {
            city: Some("Phoenix".into()),
            state: Some("Arizona".into()),
            ..Address::default()
        });
        let desired = desired(&account);
        assert!(plan_company_update(&current, &desired, &settings()).is_empty());
    }

    #[test]
    fn only_the_changed_fields_are_patched() {
        let desired = desired(&account());
        let mut current = echo_company(&desired, 250);
        current.name = Some("Acme Corp (old)".into());
        current.status = Some(Reference {
            name: Some("Inactive".into()),
            ..Reference::id(2)
        });
        let plan = plan_company_update(&current, &desired, &settings());
        assert_eq!(
            plan.patch,
            [
                PatchOp::replace("name", "Acme Corporation"),
                PatchOp::replace("status", json!({"id": 1})),
            ]
        );
        assert_eq!(plan.add_type, None);
    }

    #[test]
    fn a_state_differing_only_in_case_is_not_patched() {
        let desired = desired(&account());
        let mut current = echo_company(&desired, 250);
        current.state = Some("az".into());
        assert!(plan_company_update(&current, &desired, &settings()).is_empty());
    }

    #[test]
    fn fields_the_account_has_no_value_for_are_not_cleared() {
        let mut account = account();
        account.website = None;
        account.fax = None;
        let desired = desired(&account);
        let mut current = echo_company(&desired, 250);
        current.website = Some("https://kept.example".into());
        current.fax_number = Some("555".into());
        assert!(plan_company_update(&current, &desired, &settings()).is_empty());
    }

    #[test]
    fn never_overwrite_and_owned_by_connectwise_fields_are_left_alone() {
        let desired = desired(&account());
        let mut current = echo_company(&desired, 250);
        current.name = Some("Renamed in ConnectWise".into());
        current.address_line1 = Some("1 Other Rd".into());
        current.status = Some(Reference::id(3));
        current.website = Some("https://old.example".into());
        let mut settings = settings();
        settings.never_overwrite.companies = vec!["Name".into(), "status/name".into()];
        settings.owned_by_connectwise.companies = vec!["addressLine1".into()];
        let plan = plan_company_update(&current, &desired, &settings);
        assert_eq!(
            plan.patch,
            [PatchOp::replace("website", "https://acme.example")]
        );
    }

    #[test]
    fn types_are_never_patched_but_a_missing_type_is_added() {
        let desired = desired(&account());
        let mut current = echo_company(&desired, 250);
        current.types = Some(vec![Reference {
            name: Some("Partner".into()),
            ..Reference::id(4)
        }]);
        let plan = plan_company_update(&current, &desired, &settings());
        assert!(plan.patch.is_empty());
        assert_eq!(plan.add_type, Some(1));
        current.types = None;
        assert_eq!(
            plan_company_update(&current, &desired, &settings()).add_type,
            Some(1)
        );
    }

    #[test]
    fn a_type_the_company_has_among_several_is_not_added_again() {
        let desired = desired(&account());
        let mut current = echo_company(&desired, 250);
        current.types = Some(vec![Reference::id(4), Reference::id(1)]);
        assert!(plan_company_update(&current, &desired, &settings()).is_empty());
    }

    #[test]
    fn a_protected_type_is_not_added() {
        let desired = desired(&account());
        let mut current = echo_company(&desired, 250);
        current.types = Some(vec![Reference::id(4)]);
        let mut settings = settings();
        settings.owned_by_connectwise.companies = vec!["type".into()];
        assert!(plan_company_update(&current, &desired, &settings).is_empty());
    }

    #[test]
    fn read_only_fields_are_never_patched() {
        let desired = desired(&account());
        let mut current = echo_company(&desired, 250);
        let mut changed = desired.clone();
        changed.id = Some(999);
        current.info = None;
        assert!(plan_company_update(&current, &changed, &settings()).is_empty());
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Za-z0-9][A-Za-z0-9 .,&'-]{{0,{}}}", max - 1))
            .expect("regex")
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty", |s| !s.is_empty())
    }

    fn optional(max: usize) -> impl Strategy<Value = Option<String>> {
        proptest::option::of(text(max))
    }

    prop_compose! {
        fn any_account()(
            code in "[A-Za-z0-9_-]{1,30}",
            name in text(156),
            status in proptest::option::of(prop::sample::select(vec!["Active", "inactive", " Credit Hold "])),
            kind in proptest::option::of(prop::sample::select(vec!["Client", "PROSPECT", "Vendor"])),
            currency in proptest::option::of(prop::sample::select(vec!["USD", "cad", "GBP"])),
            phone in optional(30),
            fax in optional(30),
            website in optional(255),
            line1 in text(50),
            line2 in optional(50),
            city in optional(50),
            zip in optional(12),
            place in proptest::option::of(prop::sample::select(vec![
                (Some("AZ"), Some("United States")),
                (Some("arizona"), None),
                (Some("WA"), Some("australia")),
                (Some("Ontario"), Some("Canada")),
                (None, Some("United Kingdom")),
            ])),
            parent in proptest::option::of(1i64..10_000),
        ) -> Account {
            let (state, country) = place.unwrap_or((None, None));
            Account {
                code,
                name,
                status: status.map(str::to_owned),
                account_type: kind.map(str::to_owned),
                currency: currency.map(str::to_owned),
                phone,
                fax,
                website,
                parent_account_id: parent.map(|p| p.to_string()),
                billing_address: Some(Address {
                    line1: Some(line1),
                    line2,
                    city,
                    state: state.map(str::to_owned),
                    postal_code: zip,
                    country: country.map(str::to_owned),
                }),
                ..account()
            }
        }
    }

    proptest! {
        #[test]
        fn a_desired_company_echoed_back_by_connectwise_always_plans_nothing(
            account in any_account(),
            parent in proptest::option::of(1i64..10_000),
            id in 1i64..1_000_000,
        ) {
            let related = RelatedCompanies { parent, bill_to: parent };
            let desired = desired_company(&account, &reference(), &related);
            prop_assert!(desired.is_ok(), "{:?}", desired);
            let desired = desired.unwrap_or_default();
            let current = echo_company(&desired, id);
            prop_assert_eq!(
                plan_company_update(&current, &desired, &TenantSettings::default()),
                CompanyPlan::default()
            );
        }

        #[test]
        fn the_patch_never_holds_read_only_or_protected_fields(
            account in any_account(),
            protected in proptest::sample::subsequence(
                vec!["name", "phoneNumber", "status/name", "addressLine1", "city", "website"], 0..6),
        ) {
            let desired = desired_company(&account, &reference(), &RelatedCompanies::default())
                .unwrap_or_default();
            // A company that differs everywhere.
            let current = Company {
                id: Some(1),
                identifier: Some("OTHER".into()),
                name: Some("Other".into()),
                status: Some(Reference::id(99)),
                address_line1: Some("x".into()),
                city: Some("y".into()),
                phone_number: Some("0".into()),
                website: Some("z".into()),
                types: Some(vec![Reference::id(99)]),
                ..Company::default()
            };
            let mut settings = TenantSettings::default();
            settings.never_overwrite.companies = protected.iter().map(|f| (*f).to_owned()).collect();
            let plan = plan_company_update(&current, &desired, &settings);
            for op in &plan.patch {
                let field = op.path.trim_start_matches('/');
                prop_assert!(!["id", "_info", "types"].contains(&field), "{}", field);
                prop_assert!(
                    !protected.iter().any(|p| p.split('/').next() == Some(field)),
                    "{} is protected", field
                );
            }
        }
    }
}
