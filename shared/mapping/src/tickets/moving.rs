//! Moving tickets (seeds 000 "Moving Tickets", ID912): a billing service call flagged for
//! ConnectWise becomes a ConnectWise service ticket, and the call goes on hold naming it.
//!
//! - The call's hints (board, status, type, priority: [`ConnectWiseTicketRequest`]) are the
//!   billing system's words; the tenant's `ticketImport.moving` maps each to a ConnectWise name
//!   ([`MovingSettings`]), and a hint with no entry is the call's problem, naming the value and
//!   the setting to add. A call without a hint takes the setting's default (a board is required;
//!   without a status, type or priority ConnectWise applies the board's and the instance's
//!   defaults).
//! - The names are then resolved against the tenant's boards, their statuses and types and the
//!   priorities ([`ServiceNames`], read once per run): a name ConnectWise lacks is a problem too.
//! - The ticket's company is the call's account's (the customer sync's link, resolved by the
//!   caller); its summary the call's description (ConnectWise keeps 100 characters); its initial
//!   description the call's notes; its `externalXRef` the call's id, the natural key a lost
//!   create is settled by ([`natural_key`]).
//! - Once created, the call is held with [`hold_request`]: its reason and note name the ticket,
//!   and its external reference is the ticket's reference (`cw:ticket:<id>`), the one the ticket
//!   import finds the call by when the ticket comes back finished.
//!
//! Pure: no I/O, no clock. The function lists the calls, resolves the links and writes.

use std::collections::BTreeMap;

use cwsync_billing::models::{ConnectWiseTicketRequest, HoldRequest, ServiceCall};
use cwsync_connectwise::models::{Reference, Ticket};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{MappedCall, ticket_reference};
use crate::fingerprint;
use crate::settings::{FieldPath, SettingsError, name_problem, same_name};

/// The longest ticket summary ConnectWise keeps.
pub const MAX_SUMMARY_CHARS: usize = 100;
/// The longest `externalXRef` ConnectWise keeps.
pub const MAX_XREF_CHARS: usize = 100;
/// The hold reason of a moved call (before the ticket's number).
pub const HOLD_REASON: &str = "moved to ConnectWise";

/// `ticketImport.moving`: how a flagged call's hints map to ConnectWise names. Maps are keyed by
/// the billing system's word (`"Field"`) and hold the ConnectWise name (`"Field Service"`);
/// keys compare as ConnectWise compares names (case and surrounding spaces aside).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct MovingSettings {
    /// Billing board hint → ConnectWise board name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub boards: BTreeMap<String, String>,
    /// Billing status hint → ConnectWise status name (on the ticket's board).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<String, String>,
    /// Billing type hint → ConnectWise ticket type name (on the ticket's board).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, String>,
    /// Billing priority hint → ConnectWise priority name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub priorities: BTreeMap<String, String>,
    /// The ConnectWise board of a call that names none (without it such a call is refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_board: Option<String>,
    /// The ConnectWise status of a call that names none (else the board's default status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_status: Option<String>,
    /// The ConnectWise type of a call that names none (else no type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_type: Option<String>,
    /// The ConnectWise priority of a call that names none (else the instance's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_priority: Option<String>,
}

impl MovingSettings {
    /// Every map of the settings with its field name.
    fn maps(&self) -> [(&'static str, &BTreeMap<String, String>); 4] {
        [
            ("boards", &self.boards),
            ("statuses", &self.statuses),
            ("types", &self.types),
            ("priorities", &self.priorities),
        ]
    }

    /// The names' problems, each at its field under `path` (`ticketImport.moving`).
    pub(crate) fn check(&self, path: &FieldPath, problems: &mut Vec<SettingsError>) {
        for (name, map) in self.maps() {
            let field = path.field(name);
            let mut seen: Vec<&str> = Vec::new();
            for (hint, cw_name) in map {
                let at = field.key(hint);
                if let Some(problem) = name_problem(hint).or_else(|| name_problem(cw_name)) {
                    problems.push(SettingsError::at(&at, problem));
                } else if seen.iter().any(|s| same_name(s, hint)) {
                    problems.push(SettingsError::at(
                        &at,
                        format!("{hint:?} is mapped twice (names compare without case)"),
                    ));
                }
                seen.push(hint);
            }
        }
        for (name, value) in [
            ("defaultBoard", &self.default_board),
            ("defaultStatus", &self.default_status),
            ("defaultType", &self.default_type),
            ("defaultPriority", &self.default_priority),
        ] {
            if let Some(problem) = value.as_deref().and_then(name_problem) {
                problems.push(SettingsError::at(&path.field(name), problem));
            }
        }
    }
}

/// What stops a call from moving: the call, the field (`connectWise.board`, `accountId`) and
/// what is wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("service call {call}: {field}: {message}")]
pub struct MoveProblem {
    /// The billing call's id.
    pub call: String,
    /// The field.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl MoveProblem {
    fn new(call: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        MoveProblem {
            call: call.to_owned(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The ConnectWise names a call's ticket asks for, after the tenant's mappings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetNames {
    /// The board.
    pub board: String,
    /// The status on the board, when one is asked for.
    pub status: Option<String>,
    /// The type on the board, when one is asked for.
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    /// The priority, when one is asked for.
    pub priority: Option<String>,
}

/// The ConnectWise names of the call's hints (see the module docs), or every problem at once.
pub fn target_names(
    call: &ServiceCall,
    settings: &MovingSettings,
) -> Result<TargetNames, Vec<MoveProblem>> {
    let hints = call.connect_wise.clone().unwrap_or_default();
    let mut problems = Vec::new();
    let mut pick = |field: &str,
                    map_name: &str,
                    hint: Option<&String>,
                    map: &BTreeMap<String, String>,
                    default: Option<&String>| {
        match hint.filter(|h| !h.trim().is_empty()) {
            Some(hint) => {
                let found = map
                    .iter()
                    .find(|(key, _)| same_name(key, hint))
                    .map(|(_, cw)| cw.clone());
                if found.is_none() {
                    problems.push(MoveProblem::new(
                        &call.id,
                        format!("connectWise.{field}"),
                        format!(
                            "{field} {hint:?} is not mapped to a ConnectWise {field}: add \
                             ticketImport.moving.{map_name}[{}]",
                            serde_json::to_string(hint).unwrap_or_default()
                        ),
                    ));
                }
                found
            }
            None => default.cloned(),
        }
    };
    let [board, status, ticket_type, priority] = [
        (
            "board",
            "boards",
            &hints.board,
            &settings.boards,
            &settings.default_board,
        ),
        (
            "status",
            "statuses",
            &hints.status,
            &settings.statuses,
            &settings.default_status,
        ),
        (
            "type",
            "types",
            &hints.ticket_type,
            &settings.types,
            &settings.default_type,
        ),
        (
            "priority",
            "priorities",
            &hints.priority,
            &settings.priorities,
            &settings.default_priority,
        ),
    ]
    .map(|(field, map_name, hint, map, default)| {
        pick(field, map_name, hint.as_ref(), map, default.as_ref())
    });
    let board = match board {
        Some(board) => board,
        None => {
            if hints.board.as_ref().is_none_or(|h| h.trim().is_empty()) {
                problems.push(MoveProblem::new(
                    &call.id,
                    "connectWise.board",
                    "the call names no board: name one on the call, or set \
                     ticketImport.moving.defaultBoard",
                ));
            }
            String::new()
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(TargetNames {
        board,
        status,
        ticket_type,
        priority,
    })
}

/// A ConnectWise record of the reference data: its id and name, and whether it is inactive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Inactive: never picked.
    pub inactive: bool,
}

/// A board with its statuses and types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardNames {
    /// The board.
    pub board: Named,
    /// Its statuses.
    pub statuses: Vec<Named>,
    /// Its ticket types.
    pub types: Vec<Named>,
}

/// The ConnectWise names a run resolves tickets against: the boards it needs (with their statuses
/// and types) and the priorities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceNames {
    /// Boards, with their statuses and types.
    pub boards: Vec<BoardNames>,
    /// Priorities.
    pub priorities: Vec<Named>,
}

/// The one active record of `records` named `name`.
fn find_named<'a>(records: &'a [Named], name: &str) -> Option<&'a Named> {
    records
        .iter()
        .find(|r| !r.inactive && same_name(&r.name, name))
}

/// The ids a ticket's names stand for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetIds {
    /// The board.
    pub board: i64,
    /// The status.
    pub status: Option<i64>,
    /// The type.
    pub ticket_type: Option<i64>,
    /// The priority.
    pub priority: Option<i64>,
}

/// Resolves `names` against ConnectWise's (`names` of call `call`): the ids, or every problem.
pub fn resolve_names(
    call: &str,
    names: &TargetNames,
    service: &ServiceNames,
) -> Result<TargetIds, Vec<MoveProblem>> {
    let Some(board) = service
        .boards
        .iter()
        .find(|b| !b.board.inactive && same_name(&b.board.name, &names.board))
    else {
        return Err(vec![MoveProblem::new(
            call,
            "connectWise.board",
            format!(
                "ConnectWise has no active board {:?}: correct ticketImport.moving (boards or \
                 defaultBoard)",
                names.board
            ),
        )]);
    };
    let mut problems = Vec::new();
    let mut on_board = |field: &str, map_name: &str, name: Option<&String>, list: &[Named]| {
        let name = name?;
        let found = find_named(list, name).map(|n| n.id);
        if found.is_none() {
            problems.push(MoveProblem::new(
                call,
                format!("connectWise.{field}"),
                format!(
                    "board {:?} has no active {field} {name:?}: correct \
                     ticketImport.moving.{map_name}",
                    board.board.name
                ),
            ));
        }
        found
    };
    let status = on_board("status", "statuses", names.status.as_ref(), &board.statuses);
    let ticket_type = on_board("type", "types", names.ticket_type.as_ref(), &board.types);
    let priority = names.priority.as_ref().and_then(|name| {
        let found = find_named(&service.priorities, name).map(|n| n.id);
        if found.is_none() {
            problems.push(MoveProblem::new(
                call,
                "connectWise.priority",
                format!(
                    "ConnectWise has no priority {name:?}: correct ticketImport.moving.priorities"
                ),
            ));
        }
        found
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(TargetIds {
        board: board.board.id,
        status,
        ticket_type,
        priority,
    })
}

/// The natural key of a call's ticket: its `externalXRef`, the call's id.
pub fn natural_key(call_id: &str) -> String {
    call_id.to_owned()
}

/// The ticket a call becomes: company, board, status, type and priority as resolved, the call's
/// description as summary (cut to [`MAX_SUMMARY_CHARS`]), its notes as the initial description,
/// and its id as `externalXRef`.
pub fn ticket_of(call: &ServiceCall, company_id: i64, ids: &TargetIds) -> Ticket {
    let summary = cut(call.description.trim(), MAX_SUMMARY_CHARS);
    let mut description = vec![format!(
        "Moved from billing service call {} ({}).",
        call.number, call.id
    )];
    description.extend(call.notes.iter().map(|n| n.text.clone()));
    if call.description.trim().chars().count() > MAX_SUMMARY_CHARS {
        description.insert(1, call.description.trim().to_owned());
    }
    Ticket {
        summary: Some(summary),
        company: Some(Reference::id(company_id)),
        board: Some(Reference::id(ids.board)),
        status: ids.status.map(Reference::id),
        kind: ids.ticket_type.map(Reference::id),
        priority: ids.priority.map(Reference::id),
        initial_description: Some(description.join("\n\n")),
        external_x_ref: Some(natural_key(&call.id)),
        ..Ticket::default()
    }
}

/// The problems of a call that no mapping can fix: an id ConnectWise can't keep as
/// `externalXRef`, or no description to sum the ticket up with.
pub fn call_problems(call: &ServiceCall) -> Vec<MoveProblem> {
    let mut problems = Vec::new();
    if call.id.chars().count() > MAX_XREF_CHARS {
        problems.push(MoveProblem::new(
            &call.id,
            "id",
            format!(
                "the call's id is longer than the {MAX_XREF_CHARS} characters ConnectWise keeps \
                 as a ticket's externalXRef"
            ),
        ));
    }
    if call.description.trim().is_empty() {
        problems.push(MoveProblem::new(
            &call.id,
            "description",
            "the call has no description to be the ticket's summary: add one",
        ));
    }
    problems
}

/// The hold that ends a call's move: on hold naming ticket `ticket_id` (on `board`, when
/// known), with a note, linked to the ticket's reference (the one the ticket import finds the
/// call by).
pub fn hold_request(ticket_id: i64, board: Option<&str>) -> HoldRequest {
    let on_board = board.map(|b| format!(" (board {b})")).unwrap_or_default();
    HoldRequest {
        reason: format!("{HOLD_REASON} ticket #{ticket_id}"),
        note: Some(format!(
            "ConnectWise ticket #{ticket_id}{on_board} was made from this call; it completes \
             when the ticket is finished with time"
        )),
        external_reference: Some(ticket_reference(ticket_id)),
    }
}

/// A digest of what the call asks for (its version moves with every change): the error
/// ledger's fingerprint, so a failing call comes back on the report when it changes.
pub fn source_fingerprint(call: &ServiceCall) -> String {
    fingerprint(&json!({
        "id": call.id,
        "version": call.version,
        "connectWise": call.connect_wise.as_ref().unwrap_or(&ConnectWiseTicketRequest::default()),
    }))
}

/// A digest of a created ticket's body: the move's link fingerprint (never equal to an import's,
/// so the import still brings the call to its finished ticket).
pub fn ticket_fingerprint(ticket: &Ticket) -> String {
    format!("moved:{}", fingerprint(ticket))
}

/// What the import brings a moved call to when its ticket is finished: the ticket's mapping
/// (`mapped`), but keeping the contract the billing user gave the call while the ticket's time
/// names no agreement (a moved call still carries its `connectWise` request). `None`: `mapped`
/// as it is.
pub fn for_moved_call(mapped: &MappedCall, call: &ServiceCall) -> Option<MappedCall> {
    (call.connect_wise.is_some() && mapped.contract_id.is_none() && call.contract_id.is_some())
        .then(|| MappedCall {
            contract_id: call.contract_id.clone(),
            ..mapped.clone()
        })
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::TenantSettings;
    use cwsync_billing::models::{CallNote, ServiceCallStatus};
    use time::OffsetDateTime;

    fn call(hints: ConnectWiseTicketRequest) -> ServiceCall {
        ServiceCall {
            id: "SC-1".into(),
            number: "1001".into(),
            account_id: "A-1".into(),
            contract_id: None,
            external_reference: None,
            description: "Copier jams".into(),
            status: ServiceCallStatus::Open,
            on_hold: false,
            hold_reason: None,
            notes: vec![CallNote {
                text: "Tray 2 again".into(),
                created_at: OffsetDateTime::UNIX_EPOCH,
            }],
            labor: Vec::new(),
            parts: Vec::new(),
            connect_wise: Some(hints),
            version: 2,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn hints(board: &str, status: &str, kind: &str, priority: &str) -> ConnectWiseTicketRequest {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        ConnectWiseTicketRequest {
            board: some(board),
            status: some(status),
            ticket_type: some(kind),
            priority: some(priority),
        }
    }

    fn settings() -> MovingSettings {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        MovingSettings {
            boards: map(&[("Field", "Service Desk")]),
            statuses: map(&[("New", "New")]),
            types: map(&[("Incident", "Incident")]),
            priorities: map(&[("High", "Priority 2 - High")]),
            default_board: None,
            default_status: None,
            default_type: None,
            default_priority: None,
        }
    }

    fn named(id: i64, name: &str) -> Named {
        Named {
            id,
            name: name.into(),
            inactive: false,
        }
    }

    fn service() -> ServiceNames {
        ServiceNames {
            boards: vec![BoardNames {
                board: named(1, "Service Desk"),
                statuses: vec![named(11, "New"), named(12, "Closed")],
                types: vec![named(21, "Incident")],
            }],
            priorities: vec![named(2, "Priority 2 - High"), named(3, "Priority 3")],
        }
    }

    #[test]
    fn a_call_maps_to_a_ticket_with_every_reference_by_id_and_its_id_as_external_xref() {
        let call = call(hints("field", "New", "Incident", "High"));
        let names = target_names(&call, &settings()).unwrap();
        assert_eq!(names.board, "Service Desk");
        let ids = resolve_names(&call.id, &names, &service()).unwrap();
        let ticket = ticket_of(&call, 250, &ids);
        let body = serde_json::to_value(&ticket).unwrap();
        assert_eq!(
            body,
            json!({
                "summary": "Copier jams",
                "company": {"id": 250},
                "board": {"id": 1},
                "status": {"id": 11},
                "type": {"id": 21},
                "priority": {"id": 2},
                "externalXRef": "SC-1",
                "initialDescription": "Moved from billing service call 1001 (SC-1).\n\nTray 2 again",
            })
        );
    }

    #[test]
    fn an_unmapped_hint_names_the_value_and_the_setting_to_add_all_at_once() {
        let call = call(hints("Help Desk", "Waiting", "Incident", ""));
        let problems = target_names(&call, &settings()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["connectWise.board", "connectWise.status"]);
        assert!(
            problems[0]
                .message
                .contains("add ticketImport.moving.boards[\"Help Desk\"]"),
            "{}",
            problems[0]
        );
        assert!(
            problems[0]
                .to_string()
                .starts_with("service call SC-1: connectWise.board: board \"Help Desk\""),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_call_without_hints_takes_the_defaults_and_without_a_default_board_is_refused() {
        let bare = call(ConnectWiseTicketRequest::default());
        let problems = target_names(&bare, &settings()).unwrap_err();
        assert_eq!(problems[0].field, "connectWise.board");
        assert!(problems[0].message.contains("defaultBoard"));
        let mut with_defaults = settings();
        with_defaults.default_board = Some("Service Desk".into());
        with_defaults.default_priority = Some("Priority 3".into());
        let names = target_names(&bare, &with_defaults).unwrap();
        assert_eq!(names.status, None);
        let ids = resolve_names("SC-1", &names, &service()).unwrap();
        assert_eq!(
            ids,
            TargetIds {
                board: 1,
                status: None,
                ticket_type: None,
                priority: Some(3)
            }
        );
        let body = serde_json::to_value(ticket_of(&bare, 7, &ids)).unwrap();
        assert!(body.get("status").is_none(), "ConnectWise picks: {body}");
    }

    #[test]
    fn names_connectwise_lacks_are_refused_naming_the_board() {
        let names = TargetNames {
            board: "Service Desk".into(),
            status: Some("Waiting".into()),
            ticket_type: Some("Incident".into()),
            priority: Some("Urgent".into()),
        };
        let problems = resolve_names("SC-1", &names, &service()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["connectWise.status", "connectWise.priority"]);
        assert!(problems[0].message.contains("board \"Service Desk\""));
        let mut gone = service();
        gone.boards[0].board.inactive = true;
        let problems = resolve_names("SC-1", &names, &gone).unwrap_err();
        assert!(problems[0].message.contains("no active board"));
    }

    #[test]
    fn a_long_description_is_cut_for_the_summary_and_kept_whole_in_the_description() {
        let mut long = call(hints("Field", "", "", ""));
        long.description = "x".repeat(130);
        let ticket = ticket_of(&long, 1, &TargetIds::default());
        assert_eq!(ticket.summary.unwrap().chars().count(), MAX_SUMMARY_CHARS);
        assert!(
            ticket
                .initial_description
                .unwrap()
                .contains(&"x".repeat(130))
        );
        long.description = " ".into();
        long.id = "S".repeat(101);
        let fields: Vec<String> = call_problems(&long).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["id", "description"]);
    }

    #[test]
    fn the_hold_names_the_ticket_and_links_its_reference() {
        let hold = hold_request(42, Some("Service Desk"));
        assert_eq!(hold.reason, "moved to ConnectWise ticket #42");
        assert_eq!(hold.external_reference.as_deref(), Some("cw:ticket:42"));
        assert!(hold.note.unwrap().contains("#42 (board Service Desk)"));
    }

    #[test]
    fn a_moved_call_keeps_its_contract_when_the_tickets_time_names_no_agreement() {
        let mut moved = call(hints("Field", "", "", ""));
        moved.contract_id = Some("C-1".into());
        let mapped = MappedCall {
            ticket_id: 9,
            account_id: "A-1".into(),
            contract_id: None,
            description: "Copier jams".into(),
            status: ServiceCallStatus::Completed,
            hold_reason: None,
            labor: Vec::new(),
            parts: Vec::new(),
            notes: Vec::new(),
        };
        let kept = for_moved_call(&mapped, &moved).unwrap();
        assert_eq!(kept.contract_id.as_deref(), Some("C-1"));
        assert!(kept.differences(&moved).iter().all(|f| f != "contract"));
        let with_agreement = MappedCall {
            contract_id: Some("C-2".into()),
            ..mapped.clone()
        };
        assert_eq!(for_moved_call(&with_agreement, &moved), None);
        moved.connect_wise = None;
        assert_eq!(for_moved_call(&mapped, &moved), None, "not a moved call");
    }

    #[test]
    fn the_source_fingerprint_moves_with_the_call_version() {
        let a = call(hints("Field", "", "", ""));
        let mut b = a.clone();
        assert_eq!(source_fingerprint(&a), source_fingerprint(&b));
        b.version = 3;
        assert_ne!(source_fingerprint(&a), source_fingerprint(&b));
    }

    #[test]
    fn the_settings_read_from_a_document_and_each_bad_name_is_pointed_at() {
        let settings = TenantSettings::parse(
            r#"{"schemaVersion": 1, "ticketImport": {"statuses": ["Closed"], "moving": {
                "boards": {"Field": "Service Desk"}, "defaultBoard": "Service Desk",
                "priorities": {"High": "Priority 2 - High"}}}}"#,
        )
        .unwrap();
        let moving = settings.ticket_import.moving.clone().unwrap();
        assert_eq!(moving.boards["Field"], "Service Desk");
        assert_eq!(moving.default_board.as_deref(), Some("Service Desk"));
        let mut bad = settings;
        let moving = bad.ticket_import.moving.as_mut().unwrap();
        moving.boards.insert("field".into(), "Other".into());
        moving.types.insert("Help Desk".into(), " Incident".into());
        moving.default_status = Some(String::new());
        let paths: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            [
                "ticketImport.moving.boards.field",
                "ticketImport.moving.types[\"Help Desk\"]",
                "ticketImport.moving.defaultStatus",
            ]
        );
        let unknown = TenantSettings::parse(
            r#"{"schemaVersion": 1, "ticketImport": {"moving": {"board": {}}}}"#,
        )
        .unwrap_err();
        assert!(unknown.path.starts_with("ticketImport.moving"), "{unknown}");
    }
}
