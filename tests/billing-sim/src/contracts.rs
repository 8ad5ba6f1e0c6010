//! The contract writes of the agreement-invoice sync: a contract made for a ConnectWise
//! agreement (created exactly once per external reference, 409 `Duplicate` naming it), and
//! updates of its billable flag, period, lines and custom fields under its version (`If-Match`;
//! 412 when stale, 428 without it). Every body is checked field by field before anything
//! changes, under one lock. Custom fields are the names [`CONTRACT_CUSTOM_FIELDS`] defines: a
//! billing system refuses a field it does not have, so the simulator does too.

use cwsync_billing::FieldProblem;
use cwsync_billing::models::{Contract, ContractLine, ContractUpdate, NewContract};
use std::collections::BTreeMap;
use time::Date;

use crate::error::ApiError;
use crate::service_calls::{
    check_item_line, check_reference, parse_strict, planned_version, problem, refuse, same_version,
};
use crate::state::Inner;

/// The custom fields contracts have in the simulated billing system.
pub const CONTRACT_CUSTOM_FIELDS: [&str; 3] = ["CW Invoice Number", "PO Number", "Remarks"];
/// The most characters of a custom field's value.
const MAX_CUSTOM_VALUE_LEN: usize = 100;

const NEW_FIELDS: &[&str] = &[
    "externalReference",
    "accountId",
    "templateId",
    "name",
    "startDate",
    "endDate",
    "billable",
    "periodStart",
    "periodEnd",
    "lines",
    "customFields",
];
const UPDATE_FIELDS: &[&str] = &[
    "billable",
    "periodStart",
    "periodEnd",
    "lines",
    "customFields",
];
const LINE_FIELDS: &[&str] = &["itemId", "quantity", "amount", "detail"];

/// The contract of an external reference.
pub(crate) fn by_reference<'a>(inner: &'a Inner, reference: &str) -> Option<&'a Contract> {
    inner
        .contracts
        .values()
        .find(|c| c.external_reference.as_deref() == Some(reference))
}

/// `POST /v1/contracts`: the new contract (version 1, status `Active`), or the refusal.
pub(crate) fn create(inner: &mut Inner, body: &[u8]) -> Result<Contract, ApiError> {
    let new: NewContract = parse_strict(
        "the new contract",
        body,
        NEW_FIELDS,
        &[("lines", LINE_FIELDS)],
    )?;
    let what = format!("the contract of {}", new.external_reference);
    let mut problems = check_reference("externalReference", &new.external_reference);
    if !inner.accounts.contains_key(&new.account_id) {
        problems.push(problem(
            "accountId",
            format!("no account {}", new.account_id),
        ));
    }
    match inner.contract_templates.get(&new.template_id) {
        None => problems.push(problem(
            "templateId",
            format!("no contract template {}", new.template_id),
        )),
        Some(t) if !t.active => problems.push(problem(
            "templateId",
            format!("contract template {} is inactive", t.id),
        )),
        Some(_) => {}
    }
    problems.extend(check_dates(
        ("startDate", new.start_date),
        ("endDate", new.end_date),
    ));
    problems.extend(check_body(
        inner,
        (new.period_start, new.period_end),
        &new.lines,
        &new.custom_fields,
    ));
    refuse(&what, problems)?;
    if let Some(existing) = by_reference(inner, &new.external_reference) {
        return Err(ApiError::duplicate(
            "externalReference",
            "contract",
            &existing.id,
            format!(
                "contract {} has externalReference {} already",
                existing.id, new.external_reference
            ),
        ));
    }
    let mut number = 9001_u64;
    while inner.contracts.contains_key(&format!("C-{number}")) {
        number += 1;
    }
    let contract = Contract {
        id: format!("C-{number}"),
        account_id: new.account_id,
        number: format!("CW-{number}"),
        name: new.name,
        status: "Active".to_owned(),
        start_date: new.start_date,
        end_date: new.end_date,
        external_reference: Some(new.external_reference),
        template_id: Some(new.template_id),
        billable: new.billable,
        period_start: new.period_start,
        period_end: new.period_end,
        lines: new.lines,
        custom_fields: new.custom_fields,
        version: 1,
        updated_at: inner.knobs.now(),
    };
    inner
        .contracts
        .insert(contract.id.clone(), contract.clone());
    Ok(contract)
}

/// `PUT /v1/contracts/{id}` with the `If-Match` header's value: the contract after the update
/// (its version moved only when something changed).
pub(crate) fn update(
    inner: &mut Inner,
    id: &str,
    if_match: Option<&str>,
    body: &[u8],
) -> Result<Contract, ApiError> {
    let what = format!("contract {id}");
    let current = inner
        .contracts
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("{what} not found")))?;
    let version = planned_version(if_match, current.version)?;
    same_version(&what, version, current.version)?;
    let update: ContractUpdate =
        parse_strict(&what, body, UPDATE_FIELDS, &[("lines", LINE_FIELDS)])?;
    let problems = check_body(
        inner,
        (update.period_start, update.period_end),
        &update.lines,
        &update.custom_fields,
    );
    refuse(&what, problems)?;
    let mut contract = current.clone();
    contract.billable = update.billable;
    contract.period_start = update.period_start;
    contract.period_end = update.period_end;
    contract.lines = update.lines;
    contract.custom_fields.extend(update.custom_fields);
    if contract == current {
        return Ok(current);
    }
    contract.version = current.version.saturating_add(1);
    contract.updated_at = inner.knobs.now();
    inner
        .contracts
        .insert(contract.id.clone(), contract.clone());
    Ok(contract)
}

fn check_dates(
    (first_name, first): (&str, Option<Date>),
    (last_name, last): (&str, Option<Date>),
) -> Vec<FieldProblem> {
    match (first, last) {
        (Some(first), Some(last)) if last < first => {
            vec![problem(
                last_name,
                format!("must not be before {first_name}"),
            )]
        }
        _ => Vec::new(),
    }
}

/// What create and update both check: the period, the lines and the custom fields.
fn check_body(
    inner: &Inner,
    period: (Option<Date>, Option<Date>),
    lines: &[ContractLine],
    custom_fields: &BTreeMap<String, String>,
) -> Vec<FieldProblem> {
    let mut problems = check_dates(("periodStart", period.0), ("periodEnd", period.1));
    for (i, line) in lines.iter().enumerate() {
        problems.extend(check_item_line(
            inner,
            &format!("lines[{i}]"),
            &line.item_id,
            line.quantity,
        ));
    }
    for (name, value) in custom_fields {
        let field = format!("customFields.{name}");
        if !CONTRACT_CUSTOM_FIELDS.contains(&name.as_str()) {
            problems.push(problem(
                &field,
                format!(
                    "contracts have no such custom field; they have {}",
                    CONTRACT_CUSTOM_FIELDS.join(", ")
                ),
            ));
        } else if value.chars().count() > MAX_CUSTOM_VALUE_LEN {
            problems.push(problem(
                &field,
                format!("must be at most {MAX_CUSTOM_VALUE_LEN} characters"),
            ));
        }
    }
    problems
}
