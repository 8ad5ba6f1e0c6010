//! The ticket import's rules (seeds 000 "Service Sync", ID965): a finished ConnectWise service
//! ticket with its time entries and products → the billing service call that bills it, or the
//! problems that stop it, each naming the ticket, the field, the value and the setting to add.
//!
//! - The ticket's company is the call's account (the customer sync's link, resolved by the
//!   caller): unmapped → a problem.
//! - Each time entry becomes a labor line ([`people`]: its member → a technician by
//!   `ticketImport.members`, else by e-mail, else by identifier; an inactive technician is a
//!   problem, never picked). Its agreement → the billing contract (`ticketImport.agreements`, else
//!   the contract link the caller resolved): an agreement with no contract is a problem.
//! - Products become parts ([`parts`]) exactly as the seeds say: only when a time entry on the
//!   ticket has the product's agreement (or none, for a product with none); a product whose SKU
//!   the billing system lacks becomes its product type's placeholder item and the call goes on
//!   hold with a reason naming the product.
//! - Project tickets map the same way, then their project says how they bill ([`project`]: by
//!   phase, on completion, fixed fee on hold for review, down payments never imported).
//! - [`MappedCall::fingerprint`] digests the mapped call, so an unchanged ticket writes nothing.
//!
//! Pure: no I/O, no clock. The function reads the records, resolves the links and writes.

pub mod moving;
pub mod parts;
pub mod people;
pub mod project;

pub use project::{PROJECT_TICKET, TicketKind};

use std::collections::{BTreeSet, HashMap};

use cwsync_billing::models::{
    Contract, Item, LaborLine, NewServiceCall, Part, ProductType, ServiceCall, ServiceCallStatus,
    ServiceCallUpdate, Technician,
};
use cwsync_connectwise::models::{CatalogItem, Member, ProductItem, Ticket, TimeEntry};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use crate::fingerprint;
use crate::settings::{TenantSettings, same_name};

/// Entity names used in run logs, links and the error ledger.
pub mod entity {
    /// A ConnectWise service ticket ↔ its billing service call (record id: the ticket's id).
    pub const TICKET: &str = "ticket";
    /// A billing service call linked to its ticket (link source: the call's id; ConnectWise
    /// kind [`TICKET_OF_CALL`]).
    pub const SERVICE_CALL: &str = "service-call";
    /// The ConnectWise kind a call's link names its ticket as.
    pub const TICKET_OF_CALL: &str = "ticket";
    /// A billing contract linked to the ConnectWise agreement its calls are billed under (link
    /// source: the contract's id; ConnectWise kind [`AGREEMENT_OF_CONTRACT`]).
    pub const CONTRACT: &str = "contract";
    /// The ConnectWise kind a contract's link names its agreement as (not the daily export's
    /// `agreement` kind: one agreement has both links).
    pub const AGREEMENT_OF_CONTRACT: &str = "contract-agreement";
    /// A project's down payment, never imported: its skipped line in a run (record id: the
    /// ConnectWise project's id).
    pub const DOWN_PAYMENT: &str = "down-payment";
    /// The project ticket whose call bills a fixed-fee project's fee (link source: the ticket's
    /// id; ConnectWise kind [`FIXED_FEE_PROJECT`]): one per project, claimed before the call.
    pub const FEE_TICKET: &str = "project-fee-ticket";
    /// The ConnectWise kind a fee link names its project as.
    pub const FIXED_FEE_PROJECT: &str = "fixed-fee-project";
}

/// The ConnectWise `recordType` of a service ticket.
pub const SERVICE_TICKET: &str = "ServiceTicket";

/// The reference a ticket's call carries (`cw:ticket:<id>`): the billing system creates one call
/// per reference.
pub fn ticket_reference(ticket_id: i64) -> String {
    format!("cw:ticket:{ticket_id}")
}

/// The reference of a labor line made from time entry `id`.
pub fn time_entry_reference(id: i64) -> String {
    format!("cw:time:{id}")
}

/// The reference of a part made from ticket product `id`.
pub fn product_reference(id: i64) -> String {
    format!("cw:product:{id}")
}

/// What stops a ticket from importing: the ticket, the field (`company`,
/// `timeEntries[id=5].member`), and what is wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("ticket {ticket}: {field}: {message}")]
pub struct TicketProblem {
    /// The ConnectWise ticket.
    pub ticket: i64,
    /// The field.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl TicketProblem {
    fn new(ticket: i64, field: impl Into<String>, message: impl Into<String>) -> Self {
        TicketProblem {
            ticket,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The ConnectWise side of one ticket, read afresh by the job.
#[derive(Debug, Clone, Copy)]
pub struct TicketSide<'a> {
    /// The ticket.
    pub ticket: &'a Ticket,
    /// Its time entries.
    pub time_entries: &'a [TimeEntry],
    /// Its products.
    pub products: &'a [ProductItem],
    /// The catalog items of its products, by id (their SKU and product type).
    pub catalog: &'a HashMap<i64, CatalogItem>,
}

impl TicketSide<'_> {
    /// The ticket's id (0 when ConnectWise sent none, which it never does).
    pub fn id(&self) -> i64 {
        self.ticket.id.unwrap_or_default()
    }

    /// A digest of what ConnectWise holds for the ticket (its, its time entries' and its
    /// products' `lastUpdated`): the error ledger's fingerprint, so a failing ticket comes back
    /// on the report when it changes.
    pub fn source_fingerprint(&self) -> String {
        let stamp = |id: Option<i64>, info: Option<&cwsync_connectwise::models::Info>| {
            json!([
                id,
                info.and_then(|i| i.last_updated.map(|t| t.unix_timestamp()))
            ])
        };
        let mut entries: Vec<_> = self
            .time_entries
            .iter()
            .map(|e| stamp(e.id, e.info.as_ref()))
            .collect();
        entries.sort_by_key(|v| v.to_string());
        let mut products: Vec<_> = self
            .products
            .iter()
            .map(|p| stamp(p.id, p.info.as_ref()))
            .collect();
        products.sort_by_key(|v| v.to_string());
        fingerprint(&json!({
            "ticket": stamp(self.ticket.id, self.ticket.info.as_ref()),
            "timeEntries": entries,
            "products": products,
        }))
    }
}

/// The billing side a run resolves names against, read once per run.
#[derive(Debug, Clone, Default)]
pub struct TicketReference {
    /// Billing technicians (inactive ones included: matching one is a problem, not a miss).
    pub technicians: Vec<Technician>,
    /// ConnectWise members (their e-mail and identifier).
    pub members: Vec<Member>,
    /// Billing items (by SKU).
    pub items: Vec<Item>,
    /// Billing product types (their placeholder items).
    pub product_types: Vec<ProductType>,
    /// The billing technicians listed but not valid, each said with its id and field (left
    /// out: a ticket whose member matches no technician names them).
    pub malformed_technicians: Vec<String>,
    /// The billing items and product types listed but not valid, the same way (a ticket whose
    /// part would take a placeholder names them instead).
    pub malformed_parts: Vec<String>,
}

/// What the job resolved through the links before mapping.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// The account of the ticket's company (the customer sync's link); `None`: unmapped.
    pub account_id: Option<String>,
    /// The contract of each agreement the ticket's time entries are on, as far as linked or
    /// matched ([`match_contract`]).
    pub contracts: HashMap<i64, String>,
}

/// The service call a ticket maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappedCall {
    /// The ticket.
    pub ticket_id: i64,
    /// The account.
    pub account_id: String,
    /// The contract of the time entries' agreement, when any.
    pub contract_id: Option<String>,
    /// The ticket's summary.
    pub description: String,
    /// `Completed`: the ticket is finished.
    pub status: ServiceCallStatus,
    /// Why the call goes on hold (a placeholder part), when it does.
    pub hold_reason: Option<String>,
    /// One line per time entry.
    pub labor: Vec<LaborLine>,
    /// One part per imported product.
    pub parts: Vec<Part>,
    /// What was left out and why (products the parts rule skips), for the run report.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl MappedCall {
    /// The create of the call.
    pub fn new_call(&self) -> NewServiceCall {
        NewServiceCall {
            external_reference: ticket_reference(self.ticket_id),
            account_id: self.account_id.clone(),
            contract_id: self.contract_id.clone(),
            description: self.description.clone(),
            status: self.status,
            on_hold: self.hold_reason.is_some(),
            hold_reason: self.hold_reason.clone(),
            notes: vec![format!(
                "Imported from ConnectWise ticket #{}",
                self.ticket_id
            )],
            labor: self.labor.clone(),
            parts: self.parts.clone(),
        }
    }

    /// The update of an existing call to this.
    pub fn update(&self) -> ServiceCallUpdate {
        ServiceCallUpdate {
            contract_id: self.contract_id.clone(),
            description: self.description.clone(),
            status: self.status,
            on_hold: self.hold_reason.is_some(),
            hold_reason: self.hold_reason.clone(),
            add_notes: Vec::new(),
            labor: self.labor.clone(),
            parts: self.parts.clone(),
        }
    }

    /// A digest of the call (notes aside): equal while the ticket maps to the same call.
    pub fn fingerprint(&self) -> String {
        fingerprint(self)
    }

    /// The fields in which `call` differs from this (`contract`, `labor`, `parts`, …): what an
    /// update would change, or what an invoiced call can no longer take.
    pub fn differences(&self, call: &ServiceCall) -> Vec<String> {
        let mut changed = Vec::new();
        if call.contract_id != self.contract_id {
            changed.push("contract".to_owned());
        }
        if call.description != self.description {
            changed.push("description".to_owned());
        }
        if call.on_hold != self.hold_reason.is_some()
            || (self.hold_reason.is_some() && call.hold_reason != self.hold_reason)
        {
            changed.push("hold".to_owned());
        }
        if call.labor != self.labor {
            changed.push("labor".to_owned());
        }
        if call.parts != self.parts {
            changed.push("parts".to_owned());
        }
        changed
    }
}

/// Maps one ticket to its call, or every problem that stops it (all of them at once, so one
/// round of fixes suffices).
pub fn map_ticket(
    side: &TicketSide<'_>,
    resolved: &Resolved,
    reference: &TicketReference,
    settings: &TenantSettings,
) -> Result<MappedCall, Vec<TicketProblem>> {
    let id = side.id();
    let mut problems = Vec::new();
    let status = side
        .ticket
        .status
        .as_ref()
        .and_then(|s| s.name.as_deref())
        .unwrap_or_default();
    if !settings.ticket_import.imports_status(status) {
        problems.push(TicketProblem::new(
            id,
            "status",
            format!(
                "status {status:?} is not imported (ticketImport.statuses: {})",
                settings.ticket_import.statuses.join(", ")
            ),
        ));
    }
    if side.time_entries.is_empty() {
        problems.push(TicketProblem::new(
            id,
            "timeEntries",
            "the ticket has no time entries: a ticket is imported once time is logged on it",
        ));
    }
    let company = side.ticket.company.as_ref();
    if resolved.account_id.is_none() {
        let named = company
            .map(|c| {
                format!(
                    "company {} ({})",
                    c.id.unwrap_or_default(),
                    c.identifier.as_deref().or(c.name.as_deref()).unwrap_or("?")
                )
            })
            .unwrap_or_else(|| "no company".to_owned());
        problems.push(TicketProblem::new(
            id,
            "company",
            format!(
                "{named} is not mapped to a billing account: link it by the customer sync \
                 (the account's connectWiseCompanyId)"
            ),
        ));
    }

    let mut labor = Vec::new();
    let mut contracts: BTreeSet<(i64, String)> = BTreeSet::new();
    for entry in side.time_entries {
        match people::labor_line(id, entry, reference, settings) {
            Ok(line) => labor.push(line),
            Err(mut found) => problems.append(&mut found),
        }
        if let Some(agreement) = entry.agreement.as_ref().and_then(|a| a.id) {
            match contract_of(agreement, resolved, settings) {
                Some(contract) => {
                    contracts.insert((agreement, contract));
                }
                None => problems.push(TicketProblem::new(
                    id,
                    format!("timeEntries[id={}].agreement", entry.id.unwrap_or_default()),
                    format!(
                        "agreement {agreement} ({}) has no billing contract: add \
                         ticketImport.agreements[\"{agreement}\"] = the contract's id, or give \
                         the account's contract the agreement's name",
                        entry
                            .agreement
                            .as_ref()
                            .and_then(|a| a.name.as_deref())
                            .unwrap_or("?")
                    ),
                )),
            }
        }
    }
    let distinct: BTreeSet<&String> = contracts.iter().map(|(_, c)| c).collect();
    if distinct.len() > 1 {
        let named: Vec<String> = contracts
            .iter()
            .map(|(a, c)| format!("agreement {a} (contract {c})"))
            .collect();
        problems.push(TicketProblem::new(
            id,
            "timeEntries",
            format!(
                "the time entries are on {}: a call has one contract; move the entries to one \
                 agreement",
                named.join(" and ")
            ),
        ));
    }
    let planned = parts::plan_parts(side, reference, settings);
    problems.extend(planned.problems);

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(MappedCall {
        ticket_id: id,
        account_id: resolved.account_id.clone().unwrap_or_default(),
        contract_id: distinct.into_iter().next().cloned(),
        description: side
            .ticket
            .summary
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("ConnectWise ticket #{id}")),
        status: ServiceCallStatus::Completed,
        hold_reason: (!planned.holds.is_empty()).then(|| planned.holds.join("; ")),
        labor,
        parts: planned.parts,
        notes: planned.notes,
    })
}

/// The contract of agreement `agreement`: the tenant's mapping, else the link or match.
fn contract_of(agreement: i64, resolved: &Resolved, settings: &TenantSettings) -> Option<String> {
    settings
        .ticket_import
        .agreements
        .get(&agreement.to_string())
        .cloned()
        .or_else(|| resolved.contracts.get(&agreement).cloned())
}

/// The one active contract of `account_id` whose number or name is the agreement's name: how an
/// agreement finds its contract when no link or mapping names one (`None` when none or several
/// match).
pub fn match_contract<'c>(
    agreement_name: &str,
    account_id: &str,
    contracts: &'c [Contract],
) -> Option<&'c Contract> {
    let mut found = contracts.iter().filter(|c| {
        c.account_id == account_id
            && same_name(&c.status, "Active")
            && (same_name(&c.number, agreement_name)
                || c.name
                    .as_deref()
                    .is_some_and(|n| same_name(n, agreement_name)))
    });
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// Hours of a time entry: `actualHours`, else its start to its end.
fn hours_of(entry: &TimeEntry) -> Option<Decimal> {
    entry.actual_hours.or_else(|| {
        let (start, end) = (entry.time_start?, entry.time_end?);
        let minutes = (end - start).whole_minutes();
        Some((Decimal::from(minutes) / Decimal::from(60)).round_dp(2))
    })
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn a_finished_ticket_maps_to_a_completed_call_with_labor_and_parts() {
        let world = World::new();
        let call = world.map().unwrap();
        assert_eq!(call.account_id, "A-1");
        assert_eq!(call.contract_id, None);
        assert_eq!(call.status, ServiceCallStatus::Completed);
        assert_eq!(call.description, "Printer jams");
        assert_eq!(call.labor.len(), 1);
        assert_eq!(call.labor[0].technician_id, "T-100");
        assert_eq!(call.labor[0].hours, Decimal::new(15, 1));
        assert!(call.labor[0].billable);
        assert_eq!(call.parts.len(), 1);
        assert_eq!(call.parts[0].item_id, "I-TONER");
        assert_eq!(call.hold_reason, None);
        let new = call.new_call();
        assert_eq!(new.external_reference, "cw:ticket:500");
        assert!(!new.on_hold);
        assert_eq!(
            new.labor[0].external_reference.as_deref(),
            Some("cw:time:70")
        );
    }

    #[test]
    fn an_unmapped_company_names_the_company_and_how_to_map_it() {
        let mut world = World::new();
        world.resolved.account_id = None;
        let problems = world.map().unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "company");
        assert!(
            problems[0].message.contains("company 9 (ACME)"),
            "{problems:?}"
        );
        assert!(
            problems[0].to_string().starts_with("ticket 500: company:"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_ticket_on_a_status_not_imported_or_without_time_is_refused_naming_why() {
        let mut world = World::new();
        world.ticket.status = Some(named("In Progress"));
        world.entries.clear();
        world.products.clear();
        let problems = world.map().unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["status", "timeEntries"]);
        assert!(problems[0].message.contains("\"In Progress\""));
        assert!(
            problems[0]
                .message
                .contains("ticketImport.statuses: Completed")
        );
    }

    #[test]
    fn an_agreement_without_a_contract_is_a_problem_and_a_mapping_or_link_resolves_it() {
        let mut world = World::new();
        world.entries[0].agreement = Some(reference(42, "Managed Print"));
        let problems = world.map().unwrap_err();
        assert_eq!(problems[0].field, "timeEntries[id=70].agreement");
        assert!(
            problems[0]
                .message
                .contains("ticketImport.agreements[\"42\"]"),
            "{problems:?}"
        );
        world.resolved.contracts.insert(42, "C-LINKED".into());
        assert_eq!(
            world.map().unwrap().contract_id.as_deref(),
            Some("C-LINKED")
        );
        world
            .settings
            .ticket_import
            .agreements
            .insert("42".into(), "C-MAPPED".into());
        assert_eq!(
            world.map().unwrap().contract_id.as_deref(),
            Some("C-MAPPED")
        );
    }

    #[test]
    fn time_on_two_agreements_with_two_contracts_is_refused() {
        let mut world = World::new();
        world.entries[0].agreement = Some(reference(42, "Managed Print"));
        let mut second = world.entries[0].clone();
        second.id = Some(71);
        second.agreement = Some(reference(43, "Block Time"));
        world.entries.push(second);
        world.resolved.contracts.insert(42, "C-1".into());
        world.resolved.contracts.insert(43, "C-2".into());
        let problems = world.map().unwrap_err();
        assert_eq!(problems[0].field, "timeEntries");
        assert!(problems[0].message.contains("agreement 42 (contract C-1)"));
    }

    #[test]
    fn the_fingerprint_moves_with_the_call_and_the_differences_name_the_fields() {
        let world = World::new();
        let call = world.map().unwrap();
        assert_eq!(call.fingerprint(), world.map().unwrap().fingerprint());
        let mut more = World::new();
        let mut second = more.entries[0].clone();
        second.id = Some(71);
        more.entries.push(second);
        let bigger = more.map().unwrap();
        assert_ne!(call.fingerprint(), bigger.fingerprint());

        let existing = ServiceCall {
            id: "SC-1".into(),
            number: "1".into(),
            account_id: "A-1".into(),
            contract_id: None,
            external_reference: Some(ticket_reference(500)),
            description: "Printer jams".into(),
            status: ServiceCallStatus::Invoiced,
            on_hold: false,
            hold_reason: None,
            notes: Vec::new(),
            labor: call.labor.clone(),
            parts: call.parts.clone(),
            connect_wise: None,
            version: 3,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        assert!(call.differences(&existing).is_empty());
        assert_eq!(bigger.differences(&existing), ["labor"]);
    }

    #[test]
    fn the_source_fingerprint_moves_when_the_ticket_or_its_time_changes() {
        let world = World::new();
        let before = world.side().source_fingerprint();
        assert_eq!(before, world.side().source_fingerprint());
        let mut later = World::new();
        later.entries[0].info = Some(info_at(2_000_000_000));
        assert_ne!(before, later.side().source_fingerprint());
    }

    #[test]
    fn a_contract_matches_by_number_or_name_only_when_one_active_one_does() {
        let contracts = vec![
            contract("C-1", "A-1", "MP-ACME", Some("Managed Print"), "Active"),
            contract("C-2", "A-1", "OLD", Some("Block Time"), "Expired"),
            contract("C-3", "A-2", "MP-OTHER", Some("Managed Print"), "Active"),
        ];
        let found = match_contract("managed print", "A-1", &contracts).map(|c| c.id.as_str());
        assert_eq!(found, Some("C-1"));
        assert_eq!(
            match_contract("MP-ACME", "A-1", &contracts).map(|c| c.id.as_str()),
            Some("C-1")
        );
        assert!(match_contract("Block Time", "A-1", &contracts).is_none());
        let twice = vec![contracts[0].clone(), {
            let mut c = contracts[0].clone();
            c.id = "C-9".into();
            c
        }];
        assert!(match_contract("Managed Print", "A-1", &twice).is_none());
    }
}
