//! A billing project (as Jetbuilt keeps them, seeds 002), option or change order → a ConnectWise
//! opportunity (`/sales/opportunities`), its items → the opportunity's products
//! ([`super::lines`]).
//!
//! - The owner is the **primary sales rep**: the one active member whose office or primary
//!   e-mail is the owner's e-mail, else whose identifier is the owner's sign-in name
//!   ([`find_member`]); none is the project's failure naming the owner.
//! - The client is the **company** (the customer sync's link), the primary contact the
//!   **contact** and the office location the **site** (their links).
//! - An option or change order is an opportunity of its own whose notes name its project's
//!   opportunity ([`opportunity_notes`]).
//! - The status follows the project's: open, won or lost, by the tenant's status names
//!   ([`super::OpportunitySettings`]); the type is the tenant's.
//! - The notes begin with the project's **natural key** (`[billing project PRJ-7301]`), which a
//!   create whose outcome is unknown is looked up by (`notes contains …`).

use cwsync_billing::models::{Project, ProjectKind, ProjectStatus};
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{Member, Opportunity, Reference};
use serde_json::json;
use time::Time;

use super::{DocumentSettings, OpportunitySettings};
use crate::fields::plan_patch;
use crate::fingerprint;

/// Most characters of an opportunity's name (ConnectWise's limit).
pub const MAX_NAME_CHARS: usize = 100;

/// The text an opportunity created for `project_id` carries in its notes, to be found by.
pub fn natural_key(project_id: &str) -> String {
    format!("[billing project {}]", project_id.trim())
}

/// The ConnectWise records a project's opportunity points at, as far as links know them: what
/// its stamp depends on beyond the project itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectLinks {
    /// The account's company.
    pub company: Option<i64>,
    /// The primary contact's contact.
    pub contact: Option<i64>,
    /// The office location's site.
    pub site: Option<i64>,
    /// The opportunity of the project an option or change order belongs to.
    pub parent: Option<i64>,
}

/// The stamp of what exporting `project` writes: its values (not `updatedAt`), the linked
/// records, and the settings that shape it.
pub fn project_stamp(
    project: &Project,
    links: ProjectLinks,
    settings: &DocumentSettings,
    never: &[String],
) -> String {
    fingerprint(&json!({
        "project": {
            "name": project.name,
            "number": project.number,
            "kind": project.kind,
            "parent": project.parent_project_id,
            "status": project.status,
            "ownerEmail": project.owner_email,
            "ownerIdentifier": project.owner_identifier,
            "account": project.account_id,
            "contact": project.primary_contact_id,
            "site": project.site_id,
            "close": project.close_date.map(|d| d.to_string()),
            "items": project.items,
        },
        "links": [links.company, links.contact, links.site, links.parent],
        "settings": settings.opportunities,
        "never": never,
    }))
}

/// The tenant's status name for a project in `status`.
pub fn status_name(status: ProjectStatus, settings: &OpportunitySettings) -> &str {
    match status {
        ProjectStatus::Open => &settings.open_status,
        ProjectStatus::Won => &settings.won_status,
        ProjectStatus::Lost => &settings.lost_status,
    }
}

fn same(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim()))
}

/// The primary sales rep of `project` among `members`: the one active member with the owner's
/// e-mail (office, then primary), else the one with the owner's identifier; else why none.
pub fn find_member<'a>(members: &'a [Member], project: &Project) -> Result<&'a Member, String> {
    let active = || members.iter().filter(|m| m.inactive_flag != Some(true));
    let email = project
        .owner_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let identifier = project
        .owner_identifier
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty());
    let pick = |found: Vec<&'a Member>, by: &str| -> Option<Result<&'a Member, String>> {
        match found.as_slice() {
            [] => None,
            [one] => Some(Ok(*one)),
            many => {
                let ids: Vec<String> = many
                    .iter()
                    .map(|m| m.identifier.clone().unwrap_or_default())
                    .collect();
                Some(Err(format!(
                    "owner: {by} matches several ConnectWise members ({}): give the owner a \
                     unique e-mail",
                    ids.join(", ")
                )))
            }
        }
    };
    if let Some(email) = email {
        let by_office: Vec<&Member> = active()
            .filter(|m| same(m.office_email.as_deref(), email))
            .collect();
        if let Some(found) = pick(by_office, &format!("e-mail {email}")) {
            return found;
        }
        let by_primary: Vec<&Member> = active()
            .filter(|m| same(m.primary_email.as_deref(), email))
            .collect();
        if let Some(found) = pick(by_primary, &format!("e-mail {email}")) {
            return found;
        }
    }
    if let Some(identifier) = identifier {
        let by_identifier: Vec<&Member> = active()
            .filter(|m| same(m.identifier.as_deref(), identifier))
            .collect();
        if let Some(found) = pick(by_identifier, &format!("identifier {identifier}")) {
            return found;
        }
    }
    Err(match (email, identifier) {
        (None, None) => "ownerEmail: the project has no owner (e-mail or identifier) to find its \
                         primary sales rep by"
            .to_owned(),
        _ => format!(
            "ownerEmail: the owner ({}) matches no active ConnectWise member by e-mail or \
             identifier: add the member, or give the owner the member's e-mail",
            [email, identifier]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The notes of `project`'s opportunity: its natural key, its number, and for an option or
/// change order its project's opportunity (`parent`: that opportunity's id).
pub fn opportunity_notes(project: &Project, parent: Option<i64>) -> String {
    let mut notes = natural_key(&project.id);
    if let Some(number) = project.number.as_deref().filter(|n| !n.trim().is_empty()) {
        notes.push_str(&format!(" project number {}", number.trim()));
    }
    let of = match project.kind {
        ProjectKind::Project => None,
        ProjectKind::Option => Some("Option"),
        ProjectKind::ChangeOrder => Some("Change order"),
    };
    if let Some(of) = of {
        let parent_project = project.parent_project_id.as_deref().unwrap_or("?");
        match parent {
            Some(id) => notes.push_str(&format!(
                "\n{of} of opportunity {id} (billing project {parent_project})"
            )),
            None => notes.push_str(&format!("\n{of} of billing project {parent_project}")),
        }
    }
    notes
}

/// The ConnectWise ids an opportunity is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpportunityRefs {
    /// The company.
    pub company: i64,
    /// The contact.
    pub contact: i64,
    /// The site, when the project names an office location.
    pub site: Option<i64>,
    /// The primary sales rep (a member).
    pub sales_rep: i64,
    /// The opportunity type.
    pub kind: i64,
    /// The status.
    pub status: i64,
    /// The opportunity of the project an option or change order belongs to.
    pub parent: Option<i64>,
}

fn reference(id: i64) -> Option<Reference> {
    Some(Reference {
        id: Some(id),
        ..Reference::default()
    })
}

/// The opportunity `project` should be.
pub fn desired_opportunity(project: &Project, refs: OpportunityRefs) -> Opportunity {
    Opportunity {
        name: Some(project.name.trim().chars().take(MAX_NAME_CHARS).collect()),
        expected_close_date: project
            .close_date
            .map(|d| d.with_time(Time::MIDNIGHT).assume_utc()),
        kind: reference(refs.kind),
        status: reference(refs.status),
        notes: Some(opportunity_notes(project, refs.parent)),
        primary_sales_rep: reference(refs.sales_rep),
        company: reference(refs.company),
        contact: reference(refs.contact),
        site: refs.site.and_then(reference),
        ..Opportunity::default()
    }
}

/// The fields of `current` that differ from `desired` (`never`: the tenant's
/// `neverOverwrite.opportunities`).
pub fn opportunity_changes(
    current: &Opportunity,
    desired: &Opportunity,
    never: &[String],
) -> Vec<PatchOp> {
    plan_patch(current, desired, &[never], &[], &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn project(kind: ProjectKind) -> Project {
        Project {
            id: "PRJ-1".to_owned(),
            number: Some("J-1".to_owned()),
            name: "Boardroom AV".to_owned(),
            kind,
            parent_project_id: (kind != ProjectKind::Project).then(|| "PRJ-0".to_owned()),
            status: ProjectStatus::Open,
            owner_email: Some("JDoe@Example.com".to_owned()),
            owner_identifier: Some("jdoe".to_owned()),
            account_id: "A-1".to_owned(),
            primary_contact_id: Some("C-1".to_owned()),
            site_id: None,
            close_date: Some(date!(2026 - 12 - 15)),
            items: Vec::new(),
            updated_at: datetime!(2026-11-04 09:00 UTC),
        }
    }

    fn member(id: i64, identifier: &str, email: Option<&str>, inactive: bool) -> Member {
        Member {
            id: Some(id),
            identifier: Some(identifier.to_owned()),
            office_email: email.map(str::to_owned),
            inactive_flag: Some(inactive),
            ..Member::default()
        }
    }

    fn refs() -> OpportunityRefs {
        OpportunityRefs {
            company: 7,
            contact: 8,
            site: None,
            sales_rep: 3,
            kind: 4,
            status: 1,
            parent: None,
        }
    }

    #[test]
    fn the_owner_is_found_by_email_then_identifier_and_never_inactive() {
        let members = vec![
            member(1, "old", Some("jdoe@example.com"), true),
            member(2, "jdoe2", Some("jdoe@example.com"), false),
            member(3, "jdoe", None, false),
        ];
        assert_eq!(
            find_member(&members, &project(ProjectKind::Project))
                .unwrap()
                .id,
            Some(2)
        );
        let mut by_identifier = project(ProjectKind::Project);
        by_identifier.owner_email = Some("nobody@example.com".to_owned());
        assert_eq!(find_member(&members, &by_identifier).unwrap().id, Some(3));
        by_identifier.owner_identifier = Some("ghost".to_owned());
        let reason = find_member(&members, &by_identifier).unwrap_err();
        assert!(
            reason.starts_with("ownerEmail:") && reason.contains("nobody@example.com, ghost"),
            "{reason}"
        );
    }

    #[test]
    fn an_option_names_its_projects_opportunity_in_its_notes() {
        let option = project(ProjectKind::Option);
        let mut with_parent = refs();
        with_parent.parent = Some(42);
        let desired = desired_opportunity(&option, with_parent);
        let notes = desired.notes.unwrap();
        assert!(notes.starts_with("[billing project PRJ-1]"), "{notes}");
        assert!(
            notes.contains("Option of opportunity 42 (billing project PRJ-0)"),
            "{notes}"
        );
        assert_eq!(desired.primary_sales_rep.unwrap().id, Some(3));
        assert_eq!(
            desired.expected_close_date,
            Some(datetime!(2026-12-15 0:00 UTC))
        );
        let plain = desired_opportunity(&project(ProjectKind::Project), refs());
        assert!(!plain.notes.unwrap().contains("of opportunity"));
    }

    #[test]
    fn a_status_change_is_one_patch_and_the_stamp_follows_it() {
        let settings = DocumentSettings::default();
        let open = project(ProjectKind::Project);
        let mut won = open.clone();
        won.status = ProjectStatus::Won;
        assert_eq!(status_name(won.status, &settings.opportunities), "Won");
        let links = ProjectLinks::default();
        assert_ne!(
            project_stamp(&open, links, &settings, &[]),
            project_stamp(&won, links, &settings, &[])
        );
        let mut touched = open.clone();
        touched.updated_at = datetime!(2026-11-05 09:00 UTC);
        assert_eq!(
            project_stamp(&open, links, &settings, &[]),
            project_stamp(&touched, links, &settings, &[])
        );
        let current = desired_opportunity(&open, refs());
        let mut won_refs = refs();
        won_refs.status = 2;
        let ops = opportunity_changes(&current, &desired_opportunity(&won, won_refs), &[]);
        assert_eq!(ops.len(), 1, "{ops:?}");
        assert_eq!(ops[0].path, "/status");
        assert!(opportunity_changes(&current, &desired_opportunity(&open, refs()), &[]).is_empty());
    }
}
