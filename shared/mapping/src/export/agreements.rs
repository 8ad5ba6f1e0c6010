//! Which agreement an account's subscriptions go on, and the agreement cwsync creates when there
//! is none.
//!
//! The order (issue 9 §3): the agreement linked to the account for that [`AgreementKind`] (the
//! caller's links); else the company's one agreement of that type whose name is the tenant's
//! name template filled in ([`match_agreement`]); else a new agreement with the tenant's
//! agreement defaults ([`desired_agreement`]).

use cwsync_connectwise::models::{Agreement, Reference};

use super::additions::AgreementKind;
use super::lookup::resolve_setting;
use super::{ExportReference, entity, wire};
use crate::fields::Problems;
use crate::matching::{Candidate, KeyMatch, match_key};
use crate::record::RecordProblem;
use crate::settings::TenantSettings;

/// Longest agreement `name` (facts: `Agreement.name`).
pub const MAX_AGREEMENT_NAME_CHARS: usize = 100;

/// The ConnectWise side an account's agreement is made for: its company (the customer sync's
/// link) and the contact ConnectWise requires on an agreement (the company's default contact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementParty {
    /// The billing account's id (problems name it).
    pub account_id: String,
    /// The ConnectWise company's id.
    pub company_id: i64,
    /// The ConnectWise company's name, for `{company}` in the name template.
    pub company_name: String,
    /// The company's default contact, if it has one.
    pub contact_id: Option<i64>,
}

/// The name of the account's agreement of `kind`: `agreementDefaults.nameTemplate` filled in.
pub fn agreement_name(
    party: &AgreementParty,
    kind: &AgreementKind,
    settings: &TenantSettings,
) -> String {
    settings.agreement_defaults.agreement_name(
        &party.company_name,
        &kind.agreement_type_name,
        &kind.billing_cycle_name,
    )
}

/// The agreement of `party`'s company that an unlinked account's additions of `kind` go on:
/// among `candidates`, those of the company and of the agreement type, not cancelled, whose name
/// is [`agreement_name`] (trimmed, any case). `Ok(None)`: none, so one is created; a problem
/// naming the agreement when several are (nothing is added until one is left).
pub fn match_agreement(
    party: &AgreementParty,
    kind: &AgreementKind,
    settings: &TenantSettings,
    candidates: &[Agreement],
) -> Result<Option<i64>, RecordProblem> {
    let name = agreement_name(party, kind, settings);
    let eligible = |agreement: &Agreement| {
        let id_of = |reference: &Option<Reference>| reference.as_ref().and_then(|r| r.id);
        id_of(&agreement.company) == Some(party.company_id)
            && id_of(&agreement.kind) == Some(kind.agreement_type)
            && agreement.cancelled_flag != Some(true)
            && agreement.agreement_status.as_deref() != Some("Cancelled")
    };
    let found = match_key(
        &name,
        candidates.iter().map(|agreement| Candidate {
            id: agreement.id,
            deleted: !eligible(agreement),
            keys: [agreement.name.as_deref()],
        }),
    );
    match found {
        KeyMatch::Unique(id) => Ok(Some(id)),
        KeyMatch::NoMatch => Ok(None),
        KeyMatch::Ambiguous(ids) => Err(RecordProblem {
            entity: entity::AGREEMENT,
            record_id: party.account_id.clone(),
            field: "agreement".to_owned(),
            message: format!(
                "the company has several {:?} agreements called {name:?} ({}): link the account \
                 to one, or rename the others",
                kind.agreement_type_name,
                ids.iter()
                    .map(|id| format!("#{id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The agreement to create for `party`'s additions of `kind`, as a POST body: the name from the
/// template, the kind's type and billing cycle, the company and its contact, and the tenant's
/// `agreementDefaults` (invoicing cycle, location, department, employee compensation rate and
/// not-to-exceed basis). Every problem is returned at once, on the account.
pub fn desired_agreement(
    party: &AgreementParty,
    kind: &AgreementKind,
    settings: &TenantSettings,
    reference: &ExportReference,
) -> Result<Agreement, Vec<RecordProblem>> {
    let mut problems = Problems::new(entity::AGREEMENT, &party.account_id);
    let name = agreement_name(party, kind, settings);
    let length = name.chars().count();
    if length > MAX_AGREEMENT_NAME_CHARS {
        problems.push(
            "name",
            format!(
                "{name:?} is {length} characters long; ConnectWise accepts at most \
                 {MAX_AGREEMENT_NAME_CHARS}: shorten agreementDefaults.nameTemplate"
            ),
        );
    }
    if party.contact_id.is_none() {
        problems.push(
            "contact",
            "ConnectWise requires a contact on an agreement, and the company has no default \
             contact: set one on the company in ConnectWise",
        );
    }
    let defaults = &settings.agreement_defaults;
    let location = defaults.location.as_ref().and_then(|wanted| {
        resolve_setting(
            &mut problems,
            "location",
            "agreementDefaults.location",
            wanted,
            |wanted| reference.location(wanted),
        )
    });
    let department = defaults.department.as_ref().and_then(|wanted| {
        resolve_setting(
            &mut problems,
            "department",
            "agreementDefaults.department",
            wanted,
            |wanted| reference.department(wanted),
        )
    });
    let agreement = Agreement {
        name: Some(name),
        kind: Some(Reference::id(kind.agreement_type)),
        company: Some(Reference::id(party.company_id)),
        contact: party.contact_id.map(Reference::id),
        billing_cycle: Some(Reference::id(kind.billing_cycle)),
        invoicing_cycle: wire(&defaults.invoicing_cycle),
        location: location.map(|l| Reference::id(l.id)),
        department: department.map(|d| Reference::id(d.id)),
        employee_comp_rate: wire(&defaults.employee_comp_rate),
        employee_comp_not_exceed: wire(&defaults.employee_comp_not_exceed),
        ..Agreement::default()
    };
    problems.finish_noted(agreement).map(|noted| noted.value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::super::fixtures::{reference, settings};
    use super::*;
    use crate::settings::CwRef;

    fn party() -> AgreementParty {
        AgreementParty {
            account_id: "A-1".into(),
            company_id: 250,
            company_name: "Acme Corporation".into(),
            contact_id: Some(77),
        }
    }

    fn kind() -> AgreementKind {
        AgreementKind {
            agreement_type: 11,
            agreement_type_name: "Microsoft NCE".into(),
            billing_cycle: 1,
            billing_cycle_name: "Monthly".into(),
        }
    }

    fn agreement(id: i64, name: &str, company: i64, agreement_type: i64) -> Agreement {
        Agreement {
            id: Some(id),
            name: Some(name.into()),
            company: Some(Reference::id(company)),
            kind: Some(Reference::id(agreement_type)),
            agreement_status: Some("Active".into()),
            ..Agreement::default()
        }
    }

    #[test]
    fn the_agreement_name_is_the_template_filled_in() {
        assert_eq!(
            agreement_name(&party(), &kind(), &settings()),
            "Microsoft NCE - Monthly"
        );
        let mut settings = settings();
        settings.agreement_defaults.name_template = "{company} cloud".into();
        assert_eq!(
            agreement_name(&party(), &kind(), &settings),
            "Acme Corporation cloud"
        );
    }

    #[test]
    fn the_companys_live_agreement_of_the_type_and_name_is_matched() {
        let mut cancelled = agreement(5, "Microsoft NCE - Monthly", 250, 11);
        cancelled.cancelled_flag = Some(true);
        let mut expired_status = agreement(6, "Microsoft NCE - Monthly", 250, 11);
        expired_status.agreement_status = Some("Cancelled".into());
        let candidates = [
            cancelled,
            expired_status,
            agreement(7, "Microsoft NCE - Monthly", 999, 11),
            agreement(8, "Microsoft NCE - Monthly", 250, 10),
            agreement(9, " microsoft nce - MONTHLY ", 250, 11),
        ];
        assert_eq!(
            match_agreement(&party(), &kind(), &settings(), &candidates),
            Ok(Some(9))
        );
        assert_eq!(
            match_agreement(&party(), &kind(), &settings(), &candidates[..4]),
            Ok(None)
        );
    }

    #[test]
    fn two_matching_agreements_are_a_problem_naming_both() {
        let candidates = [
            agreement(9, "Microsoft NCE - Monthly", 250, 11),
            agreement(4, "Microsoft NCE - Monthly", 250, 11),
        ];
        let problem = match_agreement(&party(), &kind(), &settings(), &candidates).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "agreement A-1: agreement: the company has several \"Microsoft NCE\" agreements \
             called \"Microsoft NCE - Monthly\" (#4, #9): link the account to one, or rename the \
             others"
        );
    }

    #[test]
    fn a_new_agreement_carries_the_kind_the_company_and_the_tenants_defaults() {
        let mut settings = settings();
        settings.agreement_defaults.location = Some(CwRef::name("head office"));
        settings.agreement_defaults.department = Some(CwRef::name("SVC"));
        let agreement = desired_agreement(&party(), &kind(), &settings, &reference()).unwrap();
        assert_eq!(
            serde_json::to_value(&agreement).unwrap(),
            json!({
                "name": "Microsoft NCE - Monthly",
                "type": {"id": 11},
                "company": {"id": 250},
                "contact": {"id": 77},
                "billingCycle": {"id": 1},
                "invoicingCycle": "ContractYear",
                "location": {"id": 2},
                "department": {"id": 4},
                "employeeCompRate": "Actual",
                "employeeCompNotExceed": "Billing",
            })
        );
    }

    #[test]
    fn no_contact_a_long_name_and_an_unknown_location_are_each_reported() {
        let mut party = party();
        party.contact_id = None;
        party.company_name = "A".repeat(95);
        let mut settings = settings();
        settings.agreement_defaults.name_template = "{company} - {agreementType}".into();
        settings.agreement_defaults.location = Some(CwRef::name("Mars"));
        let problems = desired_agreement(&party, &kind(), &settings, &reference()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "contact", "location"]);
        assert!(
            problems[0]
                .message
                .contains("shorten agreementDefaults.nameTemplate")
        );
        assert_eq!(
            problems[2].message,
            "agreementDefaults.location \"Mars\": there is no ConnectWise location called \"Mars\""
        );
        assert!(
            problems
                .iter()
                .all(|p| p.entity == "agreement" && p.record_id == "A-1")
        );
    }
}
