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
