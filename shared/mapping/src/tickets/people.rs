//! Who did the work: a time entry's ConnectWise member → the billing technician its labor line
//! names, and the labor line itself.
//!
//! The tenant's `ticketImport.members` mapping wins; else the one technician whose e-mail is the
//! member's (office, then primary e-mail; case-insensitive), else the one whose identifier is the
//! member's identifier. An inactive technician is never picked: finding one is a problem naming
//! it, as is finding none or two.

use cwsync_billing::models::{LaborLine, Technician};
use cwsync_connectwise::models::{Member, TimeEntry};
use rust_decimal::Decimal;

use super::{TicketProblem, TicketReference, hours_of, time_entry_reference};
use crate::settings::{TenantSettings, same_name};

/// Most hours one labor line may hold (the billing contract's limit).
const MAX_HOURS: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

/// The technician of ConnectWise member `identifier` (`member`: the member's record, when the
/// run read it), or why there is none.
pub fn technician_for<'r>(
    identifier: &str,
    member: Option<&Member>,
    reference: &'r TicketReference,
    settings: &TenantSettings,
) -> Result<&'r Technician, String> {
    let active = |t: &'r Technician, how: String| {
        if t.active {
            Ok(t)
        } else {
            Err(format!(
                "member {identifier} is technician {} ({}) {how}, who is inactive: reactivate \
                 the technician or map the member in ticketImport.members",
                t.id, t.name
            ))
        }
    };
    if let Some(id) = settings
        .ticket_import
        .members
        .iter()
        .find(|(m, _)| same_name(m, identifier))
        .map(|(_, t)| t)
    {
        return match reference.technicians.iter().find(|t| &t.id == id) {
            Some(t) => active(t, "by ticketImport.members".to_owned()),
            None => Err(format!(
                "ticketImport.members maps member {identifier} to technician {id}, which the \
                 billing system does not have"
            )),
        };
    }
    let emails: Vec<&str> = member
        .into_iter()
        .flat_map(|m| [m.office_email.as_deref(), m.primary_email.as_deref()])
        .flatten()
        .filter(|e| !e.trim().is_empty())
        .collect();
    for email in emails {
        let matched: Vec<&Technician> = reference
            .technicians
            .iter()
            .filter(|t| t.email.as_deref().is_some_and(|e| same_name(e, email)))
            .collect();
        match matched.as_slice() {
            [one] => return active(one, format!("by e-mail {email}")),
            [] => {}
            many => {
                return Err(ambiguous(identifier, &format!("e-mail {email}"), many));
            }
        }
    }
    let matched: Vec<&Technician> = reference
        .technicians
        .iter()
        .filter(|t| {
            t.identifier
                .as_deref()
                .is_some_and(|i| same_name(i, identifier))
        })
        .collect();
    match matched.as_slice() {
        [one] => active(one, "by identifier".to_owned()),
        [] => Err(format!(
            "member {identifier} matches no billing technician by e-mail or identifier: add \
             ticketImport.members[\"{identifier}\"] = the technician's id"
        )),
        many => Err(ambiguous(identifier, "identifier", many)),
    }
}

fn ambiguous(identifier: &str, by: &str, many: &[&Technician]) -> String {
    let ids: Vec<&str> = many.iter().map(|t| t.id.as_str()).collect();
    format!(
        "member {identifier} matches technicians {} by {by}: map it in \
         ticketImport.members[\"{identifier}\"]",
        ids.join(", ")
    )
}

/// The labor line of time entry `entry` on ticket `ticket`, or its problems.
pub fn labor_line(
    ticket: i64,
    entry: &TimeEntry,
    reference: &TicketReference,
    settings: &TenantSettings,
) -> Result<LaborLine, Vec<TicketProblem>> {
    let entry_id = entry.id.unwrap_or_default();
    let field = |name: &str| format!("timeEntries[id={entry_id}].{name}");
    let mut problems = Vec::new();
    let member = entry.member.as_ref();
    let identifier = member.and_then(|m| m.identifier.as_deref());
    let technician = match identifier {
        None => Err("the time entry names no member".to_owned()),
        Some(identifier) => {
            let record = member
                .and_then(|m| m.id)
                .and_then(|id| reference.members.iter().find(|m| m.id == Some(id)));
            technician_for(identifier, record, reference, settings).map(|t| t.id.clone())
        }
    };
    let technician = technician.unwrap_or_else(|reason| {
        problems.push(TicketProblem::new(ticket, field("member"), reason));
        String::new()
    });
    let hours = hours_of(entry);
    match hours {
        Some(h) if h > Decimal::ZERO && h <= MAX_HOURS => {}
        other => problems.push(TicketProblem::new(
            ticket,
            field("actualHours"),
            format!(
                "{} hours: a labor line holds more than 0 and at most 24 hours; correct the \
                 time entry",
                other.map_or_else(|| "no".to_owned(), |h| h.to_string())
            ),
        )),
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let work_type = entry
        .work_type
        .as_ref()
        .and_then(|w| w.name.clone())
        .or_else(|| settings.ticket_import.default_work_type.clone());
    Ok(LaborLine {
        external_reference: Some(time_entry_reference(entry_id)),
        technician_id: technician,
        hours: hours.unwrap_or_default(),
        billable: entry.billable_option.as_deref() == Some("Billable"),
        work_type,
        notes: entry.notes.clone().filter(|n| !n.trim().is_empty()),
        started_at: entry.time_start,
        ended_at: entry
            .time_end
            .filter(|end| entry.time_start.is_none_or(|s| *end >= s)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn a_member_is_found_by_mapping_then_email_then_identifier() {
        let world = World::new();
        let by_email = technician_for(
            "jdoe",
            Some(&world.reference.members[0]),
            &world.reference,
            &world.settings,
        );
        assert_eq!(by_email.unwrap().id, "T-100");
        // srivera has no e-mail match; their identifier names T-101.
        let by_identifier = technician_for("srivera", None, &world.reference, &world.settings);
        assert_eq!(by_identifier.unwrap().id, "T-101");
        let mut mapped = world.settings.clone();
        mapped
            .ticket_import
            .members
            .insert("srivera".into(), "T-100".into());
        let by_mapping = technician_for("SRivera", None, &world.reference, &mapped);
        assert_eq!(by_mapping.unwrap().id, "T-100");
    }

    #[test]
    fn an_unmatched_inactive_or_missing_technician_is_named_with_the_setting_to_add() {
        let world = World::new();
        let none = technician_for("ghost", None, &world.reference, &world.settings).unwrap_err();
        assert!(none.contains("ticketImport.members[\"ghost\"]"), "{none}");
        let inactive = technician_for("old", None, &world.reference, &world.settings).unwrap_err();
        assert!(
            inactive.contains("T-102") && inactive.contains("inactive"),
            "{inactive}"
        );
        let mut mapped = world.settings.clone();
        mapped
            .ticket_import
            .members
            .insert("jdoe".into(), "T-999".into());
        let missing = technician_for("jdoe", None, &world.reference, &mapped).unwrap_err();
        assert!(missing.contains("T-999"), "{missing}");
    }

    #[test]
    fn a_time_entry_becomes_a_labor_line_with_its_hours_billing_work_type_and_dates() {
        let mut world = World::new();
        world.entries[0].billable_option = Some("DoNotBill".into());
        world.entries[0].work_type = None;
        world.settings.ticket_import.default_work_type = Some("Onsite".into());
        let line = labor_line(500, &world.entries[0], &world.reference, &world.settings).unwrap();
        assert!(!line.billable);
        assert_eq!(line.work_type.as_deref(), Some("Onsite"));
        assert_eq!(line.notes.as_deref(), Some("Cleared the jam"));
        assert!(line.started_at.is_some() && line.ended_at.is_some());
        // Without actualHours, the hours are its start to its end.
        world.entries[0].actual_hours = None;
        let line = labor_line(500, &world.entries[0], &world.reference, &world.settings).unwrap();
        assert_eq!(line.hours, Decimal::new(15, 1));
    }

    #[test]
    fn an_unmapped_member_and_impossible_hours_are_both_named_on_the_entry() {
        let mut world = World::new();
        world.entries[0].member = Some(member_ref(8, "ghost"));
        world.entries[0].actual_hours = Some(Decimal::from(30));
        let problems =
            labor_line(500, &world.entries[0], &world.reference, &world.settings).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "timeEntries[id=70].member",
                "timeEntries[id=70].actualHours"
            ]
        );
    }
}
