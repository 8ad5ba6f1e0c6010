//! The service-call writes: create (idempotent on the external reference), update (guarded by
//! the call's version, refused once the call is invoiced) and hold (repeatable), each checked
//! field by field against the contract before anything changes.
//!
//! Every write runs under the state lock from its checks to its change, so two concurrent
//! creates with one reference make one call, and two updates planned on one version leave one
//! winner. Problems name the record and the field as a dotted path (`labor[1].technicianId`).
//! This module never panics on input.

use cwsync_billing::FieldProblem;
use cwsync_billing::models::{
    CallNote, HoldRequest, LaborLine, NewServiceCall, Part, ServiceCall, ServiceCallStatus,
    ServiceCallUpdate,
};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::state::Inner;

/// The most characters of an external reference.
const MAX_REFERENCE_LEN: usize = 100;
/// The most hours of one labor line.
const MAX_HOURS: i64 = 24;

const NEW_CALL_FIELDS: &[&str] = &[
    "externalReference",
    "accountId",
    "contractId",
    "description",
    "status",
    "onHold",
    "holdReason",
    "notes",
    "labor",
    "parts",
];
const UPDATE_FIELDS: &[&str] = &[
    "contractId",
    "description",
    "status",
    "onHold",
    "holdReason",
    "addNotes",
    "labor",
    "parts",
];
const HOLD_FIELDS: &[&str] = &["reason", "note", "externalReference"];
const LABOR_FIELDS: &[&str] = &[
    "externalReference",
    "technicianId",
    "hours",
    "billable",
    "workType",
    "notes",
    "startedAt",
    "endedAt",
];
const PART_FIELDS: &[&str] = &[
    "externalReference",
    "itemId",
    "quantity",
    "price",
    "description",
];

/// The call of an external reference.
pub(crate) fn by_reference<'a>(inner: &'a Inner, reference: &str) -> Option<&'a ServiceCall> {
    inner
        .service_calls
        .values()
        .find(|c| c.external_reference.as_deref() == Some(reference))
}

/// `POST /v1/service-calls`: the new call, or the refusal (409 `Duplicate` naming the call that
/// holds the reference).
pub(crate) fn create(inner: &mut Inner, body: &[u8]) -> Result<ServiceCall, ApiError> {
    let new: NewServiceCall = parse("the new service call", body, NEW_CALL_FIELDS)?;
    let what = format!("the service call of {}", new.external_reference);
    let mut problems = check_reference("externalReference", &new.external_reference);
    problems.extend(check_content(
        inner,
        &Content {
            account_id: &new.account_id,
            contract_id: new.contract_id.as_deref(),
            description: &new.description,
            status: new.status,
            on_hold: new.on_hold,
            hold_reason: new.hold_reason.as_deref(),
            labor: &new.labor,
            parts: &new.parts,
        },
    ));
    if !inner.accounts.contains_key(&new.account_id) {
        problems.insert(
            0,
            problem("accountId", format!("no account {}", new.account_id)),
        );
    }
    refuse(&what, problems)?;
    if let Some(existing) = by_reference(inner, &new.external_reference) {
        return Err(ApiError::duplicate(
            "externalReference",
            "service call",
            &existing.id,
            format!(
                "service call {} has externalReference {} already",
                existing.id, new.external_reference
            ),
        ));
    }
    let now = inner.knobs.now();
    inner.last_call_number += 1;
    let number = inner.last_call_number;
    let call = ServiceCall {
        id: format!("SC-{number}"),
        number: number.to_string(),
        account_id: new.account_id,
        contract_id: new.contract_id,
        external_reference: Some(new.external_reference),
        description: new.description,
        status: new.status,
        on_hold: new.on_hold,
        hold_reason: held_reason(new.on_hold, new.hold_reason),
        notes: new
            .notes
            .into_iter()
            .map(|text| CallNote {
                text,
                created_at: now,
            })
            .collect(),
        labor: new.labor,
        parts: new.parts,
        connect_wise: None,
        version: 1,
        updated_at: now,
    };
    inner.service_calls.insert(call.id.clone(), call.clone());
    Ok(call)
}

/// `PUT /v1/service-calls/{id}` with the `If-Match` header's value: the call after the update.
pub(crate) fn update(
    inner: &mut Inner,
    id: &str,
    if_match: Option<&str>,
    body: &[u8],
) -> Result<ServiceCall, ApiError> {
    let what = format!("service call {id}");
    let current = inner
        .service_calls
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("{what} not found")))?;
    let version = planned_version(if_match, current.version)?;
    refuse_invoiced(&current)?;
    same_version(&what, version, current.version)?;
    let update: ServiceCallUpdate = parse(&what, body, UPDATE_FIELDS)?;
    let problems = check_content(
        inner,
        &Content {
            account_id: &current.account_id,
            contract_id: update.contract_id.as_deref(),
            description: &update.description,
            status: update.status,
            on_hold: update.on_hold,
            hold_reason: update.hold_reason.as_deref(),
            labor: &update.labor,
            parts: &update.parts,
        },
    );
    refuse(&what, problems)?;
    let now = inner.knobs.now();
    let mut call = current.clone();
    call.contract_id = update.contract_id;
    call.description = update.description;
    call.status = update.status;
    call.on_hold = update.on_hold;
    call.hold_reason = held_reason(update.on_hold, update.hold_reason);
    call.labor = update.labor;
    call.parts = update.parts;
    for text in update.add_notes {
        add_note(&mut call, text, now);
    }
    Ok(store_if_changed(inner, current, call, now))
}

/// `POST /v1/service-calls/{id}/hold`: the call on hold with the note and the reference.
pub(crate) fn hold(inner: &mut Inner, id: &str, body: &[u8]) -> Result<ServiceCall, ApiError> {
    let what = format!("service call {id}");
    let current = inner
        .service_calls
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("{what} not found")))?;
    let hold: HoldRequest = parse(&what, body, HOLD_FIELDS)?;
    let mut problems = Vec::new();
    if hold.reason.trim().is_empty() {
        problems.push(problem("reason", "must not be empty"));
    }
    if let Some(reference) = &hold.external_reference {
        problems.extend(check_reference("externalReference", reference));
    }
    refuse(&what, problems)?;
    refuse_invoiced(&current)?;
    if let Some(reference) = &hold.external_reference {
        match &current.external_reference {
            Some(own) if own != reference => {
                return Err(ApiError::conflict(
                    "Conflict",
                    format!("{what} belongs to {own} already, not to {reference}"),
                ));
            }
            Some(_) => {}
            None => {
                if let Some(other) = by_reference(inner, reference) {
                    return Err(ApiError::duplicate(
                        "externalReference",
                        "service call",
                        &other.id,
                        format!(
                            "service call {} has externalReference {reference} already",
                            other.id
                        ),
                    ));
                }
            }
        }
    }
    let now = inner.knobs.now();
    let mut call = current.clone();
    call.on_hold = true;
    call.hold_reason = Some(hold.reason);
    if let Some(reference) = hold.external_reference {
        call.external_reference = Some(reference);
    }
    if let Some(note) = hold.note {
        add_note(&mut call, note, now);
    }
    Ok(store_if_changed(inner, current, call, now))
}

/// Stores `call` with a new version and `updatedAt` when it differs from `before`; an unchanged
/// call keeps both.
fn store_if_changed(
    inner: &mut Inner,
    before: ServiceCall,
    mut call: ServiceCall,
    now: OffsetDateTime,
) -> ServiceCall {
    if call == before {
        return before;
    }
    call.version = before.version.saturating_add(1);
    call.updated_at = now;
    inner.service_calls.insert(call.id.clone(), call.clone());
    call
}

/// Adds a note unless it is the call's last note already (so a repeated write adds it once).
fn add_note(call: &mut ServiceCall, text: String, now: OffsetDateTime) {
    if call.notes.last().is_some_and(|last| last.text == text) {
        return;
    }
    call.notes.push(CallNote {
        text,
        created_at: now,
    });
}

/// A call off hold keeps no reason.
fn held_reason(on_hold: bool, reason: Option<String>) -> Option<String> {
    if on_hold { reason } else { None }
}

fn refuse_invoiced(call: &ServiceCall) -> Result<(), ApiError> {
    if call.status == ServiceCallStatus::Invoiced {
        return Err(ApiError::conflict(
            "Invoiced",
            format!("service call {} is invoiced and cannot change", call.id),
        ));
    }
    Ok(())
}

/// The version an update names in `If-Match`: 428 without one (naming the current version),
/// 400 when it is not a quoted version.
pub(crate) fn planned_version(if_match: Option<&str>, current: u64) -> Result<u64, ApiError> {
    let Some(if_match) = if_match else {
        return Err(ApiError {
            status: axum::http::StatusCode::PRECONDITION_REQUIRED,
            ..ApiError::invalid(
                "If-Match",
                format!("is required: name the version the update was planned on (\"{current}\")"),
            )
        });
    };
    parse_version(if_match)
}

/// 412 `VersionConflict` naming the current version when the update was planned on another.
pub(crate) fn same_version(what: &str, planned: u64, current: u64) -> Result<(), ApiError> {
    if planned == current {
        return Ok(());
    }
    Err(ApiError::version_conflict(
        current,
        format!("{what} is at version {current}, not {planned}: read it again"),
    ))
}

/// `"3"` (a strong entity tag holding the version).
fn parse_version(if_match: &str) -> Result<u64, ApiError> {
    if_match
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::invalid(
                "If-Match",
                "must be the record's version as a quoted entity tag, such as \"3\"",
            )
        })
}

/// What create and update both check.
struct Content<'a> {
    account_id: &'a str,
    contract_id: Option<&'a str>,
    description: &'a str,
    status: ServiceCallStatus,
    on_hold: bool,
    hold_reason: Option<&'a str>,
    labor: &'a [LaborLine],
    parts: &'a [Part],
}

/// Every problem of a call's content, in field order.
fn check_content(inner: &Inner, content: &Content<'_>) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    if let Some(contract_id) = content.contract_id {
        match inner.contracts.get(contract_id) {
            None => problems.push(problem("contractId", format!("no contract {contract_id}"))),
            Some(contract) if contract.account_id != content.account_id => problems.push(problem(
                "contractId",
                format!(
                    "contract {contract_id} is account {}'s, not account {}'s",
                    contract.account_id, content.account_id
                ),
            )),
            Some(_) => {}
        }
    }
    if content.description.trim().is_empty() {
        problems.push(problem("description", "must not be empty"));
    }
    if content.status == ServiceCallStatus::Invoiced {
        problems.push(problem(
            "status",
            "must be Open or Completed: only the billing system invoices a call",
        ));
    }
    if content.on_hold && content.hold_reason.is_none_or(|r| r.trim().is_empty()) {
        problems.push(problem("holdReason", "is required when onHold is true"));
    }
    for (i, line) in content.labor.iter().enumerate() {
        let field = |name: &str| format!("labor[{i}].{name}");
        match inner.technicians.get(&line.technician_id) {
            None => problems.push(problem(
                &field("technicianId"),
                format!("no technician {}", line.technician_id),
            )),
            Some(t) if !t.active => problems.push(problem(
                &field("technicianId"),
                format!("technician {} is inactive", t.id),
            )),
            Some(_) => {}
        }
        if line.hours <= Decimal::ZERO || line.hours > Decimal::from(MAX_HOURS) {
            problems.push(problem(
                &field("hours"),
                format!("must be more than 0 and at most {MAX_HOURS}"),
            ));
        }
        if let (Some(start), Some(end)) = (line.started_at, line.ended_at)
            && end < start
        {
            problems.push(problem(&field("endedAt"), "must not be before startedAt"));
        }
    }
    for (i, part) in content.parts.iter().enumerate() {
        let field = |name: &str| format!("parts[{i}].{name}");
        problems.extend(check_item_line(
            inner,
            &format!("parts[{i}]"),
            &part.item_id,
            part.quantity,
        ));
        if part.price.is_some_and(|p| p < Decimal::ZERO) {
            problems.push(problem(&field("price"), "must not be negative"));
        }
    }
    problems
}

/// The problems of one line of items (a part, an order line, a contract line) named under
/// `line` (`parts[0]`): its item must exist and be active, its quantity be above 0.
pub(crate) fn check_item_line(
    inner: &Inner,
    line: &str,
    item_id: &str,
    quantity: Decimal,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    match inner.items.get(item_id) {
        None => problems.push(problem(
            &format!("{line}.itemId"),
            format!("no item {item_id}"),
        )),
        Some(item) if !item.active => problems.push(problem(
            &format!("{line}.itemId"),
            format!("item {} is inactive", item.id),
        )),
        Some(_) => {}
    }
    if quantity <= Decimal::ZERO {
        problems.push(problem(&format!("{line}.quantity"), "must be more than 0"));
    }
    problems
}

pub(crate) fn check_reference(field: &str, reference: &str) -> Vec<FieldProblem> {
    let length = reference.chars().count();
    if reference.trim().is_empty() {
        vec![problem(field, "must not be empty")]
    } else if length > MAX_REFERENCE_LEN {
        vec![problem(
            field,
            format!("must be at most {MAX_REFERENCE_LEN} characters, not {length}"),
        )]
    } else {
        Vec::new()
    }
}

/// 400 naming the record and every problem, when there is any.
pub(crate) fn refuse(what: &str, problems: Vec<FieldProblem>) -> Result<(), ApiError> {
    if problems.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect();
    Err(ApiError::invalid_fields(
        format!("{what} is invalid: {}", listed.join("; ")),
        problems,
    ))
}

pub(crate) fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The line lists of a service call's bodies and the fields of their lines.
const CALL_LINES: &[(&str, &[&str])] = &[("labor", LABOR_FIELDS), ("parts", PART_FIELDS)];

fn parse<T: DeserializeOwned>(what: &str, body: &[u8], fields: &[&str]) -> Result<T, ApiError> {
    parse_strict(what, body, fields, CALL_LINES)
}

/// Reads a write's body strictly: a JSON object with only `fields` (and only the line fields of
/// each list in `lines`, such as `labor[]` and `parts[]`), every value of its type. Unknown
/// properties are all named at once; a mistyped value is named by its path.
pub(crate) fn parse_strict<T: DeserializeOwned>(
    what: &str,
    body: &[u8],
    fields: &[&str],
    lines: &[(&str, &[&str])],
) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid("body", format!("is not JSON: {e}")))?;
    let Value::Object(object) = &value else {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    };
    let mut problems = unknown(object, fields, "");
    for &(list, allowed) in lines {
        if let Some(Value::Array(lines)) = object.get(list) {
            for (i, line) in lines.iter().enumerate() {
                if let Value::Object(line) = line {
                    problems.extend(unknown(line, allowed, &format!("{list}[{i}].")));
                }
            }
        }
    }
    refuse(what, problems)?;
    serde_path_to_error::deserialize::<_, T>(value).map_err(|error| {
        let path = error.path().to_string();
        let reason = error.into_inner().to_string();
        // serde's message may quote the bad value; the expectation suffices.
        let reason = reason
            .split_once(", expected ")
            .map_or(reason.clone(), |(_, expected)| {
                format!("expected {expected}")
            });
        // A missing property is named by itself (`billable`, `items[0].itemId`), not its parent.
        let missing = reason
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'));
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (_, Some(name)) => format!("{path}.{name}"),
            (_, None) => path,
        };
        ApiError::invalid_fields(
            format!("{what} is invalid: {field}: {reason}"),
            vec![problem(&field, reason)],
        )
    })
}

fn unknown(
    object: &serde_json::Map<String, Value>,
    allowed: &[&str],
    prefix: &str,
) -> Vec<FieldProblem> {
    object
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| {
            problem(
                &format!("{prefix}{k}"),
                format!("unknown field; this has only {}", allowed.join(", ")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_only_a_quoted_version() {
        assert_eq!(parse_version("\"3\"").unwrap(), 3);
        assert_eq!(parse_version(" \"12\" ").unwrap(), 12);
        for bad in ["3", "W/\"3\"", "\"x\"", "\"\"", "*"] {
            let e = parse_version(bad).unwrap_err();
            assert_eq!(e.fields[0].field, "If-Match", "{bad}");
        }
    }

    #[test]
    fn unknown_and_mistyped_fields_are_named_by_path() {
        let body = br#"{"reason": "x", "color": "red"}"#;
        let e = parse::<HoldRequest>("service call SC-1", body, HOLD_FIELDS).unwrap_err();
        assert_eq!(e.fields[0].field, "color");
        let body = br#"{"externalReference": "cw:1", "accountId": "A", "description": "d",
            "status": "Open", "labor": [{"technicianId": "T", "hours": "x", "billable": true,
            "rate": 1}]}"#;
        let e = parse::<NewServiceCall>("new", body, NEW_CALL_FIELDS).unwrap_err();
        assert_eq!(e.fields[0].field, "labor[0].rate");
        let body = br#"{"externalReference": "cw:1", "accountId": "A", "description": "d",
            "status": "Open", "labor": [{"technicianId": "T", "hours": true, "billable": true}]}"#;
        let e = parse::<NewServiceCall>("new", body, NEW_CALL_FIELDS).unwrap_err();
        assert_eq!(e.fields[0].field, "labor[0].hours");
        assert!(e.message.starts_with("new is invalid"), "{}", e.message);
        // A missing property is named by itself, at the top and in a line.
        let body = br#"{"externalReference": "cw:1", "accountId": "A", "status": "Open"}"#;
        let e = parse::<NewServiceCall>("new", body, NEW_CALL_FIELDS).unwrap_err();
        assert_eq!(e.fields[0].field, "description");
        let body = br#"{"externalReference": "cw:1", "accountId": "A", "description": "d",
            "status": "Open", "parts": [{"quantity": 1}]}"#;
        let e = parse::<NewServiceCall>("new", body, NEW_CALL_FIELDS).unwrap_err();
        assert_eq!(e.fields[0].field, "parts[0].itemId");
    }
}
