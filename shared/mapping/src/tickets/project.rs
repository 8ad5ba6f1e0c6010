//! Project tickets (seeds 000 "Project Tickets"): a ticket of a project's phase imports like a
//! service ticket (same company, technician, agreement, labor and parts rules: [`super::map_ticket`]),
//! and then its project says how it bills. The seeds say only that fixed-fee projects are
//! supported (the fee as an item or a miscellaneous charge, every such call on hold for review),
//! that down-payment invoices do not sync, and that billing by phase and on completion both work.
//! Our reading, the stricter one where the seeds are silent:
//!
//! - **One call per project ticket**, under the ticket's own reference (service and project tickets
//!   share one id space), its description naming the project and the phase (`Project / Phase:
//!   summary`), so a phase-billed project's calls read per phase.
//! - **By phase** (the default: a phase that bills on its own, `billPhaseClosedFlag` or
//!   `billSeparatelyFlag`, or no flag at all): a ticket imports as soon as it is finished with time,
//!   like a service ticket.
//! - **On completion** (the phase's `billProjectClosedFlag`): its tickets wait until the project is
//!   closed (`closedFlag`); until then the ticket's line is *skipped* naming the project. The
//!   planning also reads the projects closed since its watermark, so their waiting tickets import
//!   when the project closes (closing a project does not touch its tickets).
//! - **Fixed fee** (the project's or the phase's `billingMethod` is `FixedFee`): the call is created
//!   **on hold for review**; its labor lines are not billable (the fee bills the work); the fee is
//!   per `ticketImport.fixedFee`: `item` adds one part of that item priced at the project's
//!   `billingAmount` **once per project** (on the call of the ticket that claimed it first, see
//!   [`FeeHolder`]), `misc` (the default) names the amount in the hold reason to add by hand. A
//!   phase that is fixed fee in a project that is not has no amount in the API: its fee is left
//!   for a miscellaneous charge whatever the setting.
//! - **Down payments** (`downpayment` on the project or the phase) are never imported: the run
//!   report has a skipped line saying so ([`ProjectSide::down_payment_note`]).
//!
//! Pure: no I/O.

use cwsync_billing::models::Part;
use cwsync_connectwise::models::{Project, ProjectPhase, ProjectTicket, Resource, Ticket};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{MappedCall, TicketProblem, TicketReference};
use crate::settings::{FixedFee, TenantSettings, same_name};

/// The ConnectWise `chargeToType` of time on a project ticket.
pub const PROJECT_TICKET: &str = "ProjectTicket";

/// The `billingMethod` of a fixed-fee project or phase.
pub const FIXED_FEE: &str = "FixedFee";

/// Which kind of ConnectWise ticket: they share one id space, but are read from different paths
/// and their time is charged to different types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TicketKind {
    /// A service ticket (`/service/tickets`, time `chargeToType` `ServiceTicket`).
    #[default]
    Service,
    /// A project ticket (`/project/tickets`, time `chargeToType` `ProjectTicket`).
    Project,
}

impl TicketKind {
    /// Whether this is a service ticket (the default, left out of job payloads).
    pub fn is_service(&self) -> bool {
        *self == TicketKind::Service
    }

    /// Where ConnectWise serves this kind of ticket.
    pub fn path(self) -> &'static str {
        match self {
            TicketKind::Service => Ticket::PATH,
            TicketKind::Project => ProjectTicket::PATH,
        }
    }

    /// The `chargeToType` of time logged on this kind of ticket.
    pub fn charge_to_type(self) -> &'static str {
        match self {
            TicketKind::Service => super::SERVICE_TICKET,
            TicketKind::Project => PROJECT_TICKET,
        }
    }

    /// The other kind (where a ticket not found under this kind's path may be).
    pub fn other(self) -> TicketKind {
        match self {
            TicketKind::Service => TicketKind::Project,
            TicketKind::Project => TicketKind::Service,
        }
    }
}

/// The reference of the fixed-fee part of project `id` (one per project).
pub fn project_fee_reference(id: i64) -> String {
    format!("cw:project-fee:{id}")
}

/// Which call bills a fixed-fee project's fee (when it is added as an item): the first of its
/// tickets to claim it, so two tickets imported at once never both bill it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeHolder {
    /// This ticket's call carries the fee.
    ThisCall,
    /// The call of that ticket carries it.
    Ticket(i64),
}

/// A project ticket's project and phase, read afresh with it.
#[derive(Debug, Clone, Copy)]
pub struct ProjectSide<'a> {
    /// The project.
    pub project: &'a Project,
    /// The ticket's phase, when it names one that exists.
    pub phase: Option<&'a ProjectPhase>,
}

impl ProjectSide<'_> {
    /// The project's id.
    pub fn id(&self) -> i64 {
        self.project.id.unwrap_or_default()
    }

    fn named(&self) -> String {
        match &self.project.name {
            Some(name) => format!("project {} ({name})", self.id()),
            None => format!("project {}", self.id()),
        }
    }

    /// Whether the ticket bills when the project closes (its phase's `billProjectClosedFlag`).
    pub fn bills_on_completion(&self) -> bool {
        self.phase
            .is_some_and(|p| p.bill_project_closed_flag == Some(true))
    }

    /// Why the ticket is not imported yet: it bills on completion and the project is open.
    pub fn waits(&self) -> Option<String> {
        (self.bills_on_completion() && self.project.closed_flag != Some(true)).then(|| {
            format!(
                "waits for {} to close: phase {} bills when the project is complete \
                 (billProjectClosedFlag)",
                self.named(),
                self.phase_name()
            )
        })
    }

    fn phase_name(&self) -> String {
        self.phase
            .and_then(|p| p.description.clone())
            .unwrap_or_else(|| "?".to_owned())
    }

    fn project_fixed_fee(&self) -> bool {
        self.project
            .billing_method
            .as_deref()
            .is_some_and(|m| same_name(m, FIXED_FEE))
    }

    /// Whether the project (or the ticket's phase) bills a fixed fee.
    pub fn is_fixed_fee(&self) -> bool {
        self.project_fixed_fee()
            || self
                .phase
                .and_then(|p| p.billing_method.as_deref())
                .is_some_and(|m| same_name(m, FIXED_FEE))
    }

    /// The fee to add as a part under `settings`: the project's `billingAmount` when the project
    /// is fixed fee and `ticketImport.fixedFee` is an item.
    pub fn fee_as_item<'s>(&self, settings: &'s TenantSettings) -> Option<&'s str> {
        match &settings.ticket_import.fixed_fee {
            FixedFee::Item { item_id } if self.project_fixed_fee() => Some(item_id),
            _ => None,
        }
    }

    /// The line the run report gets for a down payment on the project or its phase: never
    /// imported (seeds: "Down payment invoices do not sync").
    pub fn down_payment_note(&self) -> Option<String> {
        let positive = |d: Option<Decimal>| d.filter(|d| *d > Decimal::ZERO);
        let (amount, whose) = match positive(self.project.downpayment) {
            Some(amount) => (amount, self.named()),
            None => (
                positive(self.phase.and_then(|p| p.downpayment))?,
                format!("phase {} of {}", self.phase_name(), self.named()),
            ),
        };
        Some(format!(
            "down payment of {} on {whose} not imported: down-payment invoices do not sync; \
             record an unapplied payment and apply it to the invoice of the project's calls",
            money(amount)
        ))
    }

    /// The project's and phase's ids and `lastUpdated`, for the ticket's source fingerprint (a
    /// failing ticket comes back on the report when its project changes, e.g. closes).
    pub fn stamp(&self) -> serde_json::Value {
        let at = |info: Option<&cwsync_connectwise::models::Info>| {
            info.and_then(|i| i.last_updated.map(|t| t.unix_timestamp()))
        };
        json!({
            "project": [self.project.id, at(self.project.info.as_ref())],
            "phase": self.phase.map(|p| json!([p.id, at(p.info.as_ref())])),
        })
    }
}

/// An amount as the billing system shows it: two decimals.
fn money(amount: Decimal) -> String {
    let mut amount = amount.round_dp(2);
    amount.rescale(2);
    amount.to_string()
}

/// Applies the project's billing to the call its ticket mapped to (see the module docs): the
/// description naming project and phase; for a fixed fee, labor not billable, the call on hold
/// for review and the fee per `ticketImport.fixedFee` (`fee`: which call carries an item fee).
pub fn apply_project(
    mut call: MappedCall,
    side: &ProjectSide<'_>,
    fee: FeeHolder,
    reference: &TicketReference,
    settings: &TenantSettings,
) -> Result<MappedCall, Vec<TicketProblem>> {
    let ticket = call.ticket_id;
    let project_name = side
        .project
        .name
        .clone()
        .unwrap_or_else(|| format!("Project {}", side.id()));
    call.description = match side.phase.and_then(|p| p.description.as_deref()) {
        Some(phase) => format!("{project_name} / {phase}: {}", call.description),
        None => format!("{project_name}: {}", call.description),
    };
    if !side.is_fixed_fee() {
        return Ok(call);
    }
    for line in &mut call.labor {
        line.billable = false;
    }
    let amount = side
        .project
        .billing_amount
        .filter(|a| *a > Decimal::ZERO && side.project_fixed_fee());
    let review = format!("fixed-fee {}: review", side.named());
    let hold = match (side.fee_as_item(settings), fee) {
        (Some(_), FeeHolder::Ticket(other)) => format!(
            "{review}; the fee is billed on the call of project ticket {other}, and release it"
        ),
        (Some(item_id), FeeHolder::ThisCall) => {
            let Some(amount) = amount else {
                return Err(vec![TicketProblem::new(
                    ticket,
                    "project.billingAmount",
                    format!(
                        "{} is fixed fee but has no billingAmount: set the fee in ConnectWise",
                        side.named()
                    ),
                )]);
            };
            if !reference
                .items
                .iter()
                .any(|i| i.active && !i.placeholder && i.id == item_id)
            {
                return Err(vec![TicketProblem::new(
                    ticket,
                    "project.billingMethod",
                    format!(
                        "ticketImport.fixedFee.itemId {item_id:?} is no active billing item: \
                         add the item or change the setting"
                    ),
                )]);
            }
            call.parts.push(Part {
                external_reference: Some(project_fee_reference(side.id())),
                item_id: item_id.to_owned(),
                quantity: Decimal::ONE,
                price: Some(amount.round_dp(2)),
                description: Some(format!("Fixed fee: {project_name}")),
            });
            format!(
                "{review} the fixed fee of {} added as item {item_id}, and release it",
                money(amount)
            )
        }
        (None, _) => match amount {
            Some(amount) => format!(
                "{review}, add the fixed fee of {} as a miscellaneous charge, and release it",
                money(amount)
            ),
            None => format!(
                "{review}, add phase {}'s fixed fee as a miscellaneous charge, and release it",
                side.phase_name()
            ),
        },
    };
    call.hold_reason = Some(match call.hold_reason.take() {
        Some(other) => format!("{hold}; {other}"),
        None => hold,
    });
    Ok(call)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use cwsync_billing::models::Item;

    fn project(method: &str, amount: Option<i64>) -> Project {
        Project {
            id: Some(30),
            name: Some("Fleet install".into()),
            billing_method: Some(method.into()),
            billing_amount: amount.map(Decimal::from),
            closed_flag: Some(false),
            ..Project::default()
        }
    }

    fn phase(on_completion: bool) -> ProjectPhase {
        ProjectPhase {
            id: Some(31),
            description: Some("Installation".into()),
            billing_method: Some("ActualRates".into()),
            bill_project_closed_flag: Some(on_completion),
            bill_phase_closed_flag: Some(!on_completion),
            ..ProjectPhase::default()
        }
    }

    /// The world's ticket mapped, then billed by `project` (no phase) with the fee on `fee`.
    fn billed(
        world: &World,
        project: &Project,
        fee: FeeHolder,
    ) -> Result<MappedCall, Vec<TicketProblem>> {
        let side = ProjectSide {
            project,
            phase: None,
        };
        apply_project(
            world.map().unwrap(),
            &side,
            fee,
            &world.reference,
            &world.settings,
        )
    }

    fn fee_item() -> Item {
        Item {
            id: "I-FEE".into(),
            sku: "FIXED-FEE".into(),
            name: "Fixed fee".into(),
            product_type_id: None,
            unit: None,
            price: None,
            active: true,
            placeholder: false,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_phase_billed_project_ticket_imports_like_a_service_ticket_naming_project_and_phase() {
        let world = World::new();
        let (project, phase) = (project("ActualRates", None), phase(false));
        let side = ProjectSide {
            project: &project,
            phase: Some(&phase),
        };
        assert_eq!(side.waits(), None);
        let call = world.map().unwrap();
        let applied = apply_project(
            call.clone(),
            &side,
            FeeHolder::ThisCall,
            &world.reference,
            &world.settings,
        )
        .unwrap();
        assert_eq!(
            applied.description,
            "Fleet install / Installation: Printer jams"
        );
        assert_eq!(applied.labor, call.labor, "labor billed as logged");
        assert_eq!(applied.parts, call.parts);
        assert_eq!(applied.hold_reason, None);
    }

    #[test]
    fn an_on_completion_ticket_waits_for_its_project_to_close() {
        let (mut project, phase) = (project("ActualRates", None), phase(true));
        let side = ProjectSide {
            project: &project,
            phase: Some(&phase),
        };
        let reason = side.waits().unwrap();
        assert!(reason.contains("project 30 (Fleet install)"), "{reason}");
        assert!(reason.contains("billProjectClosedFlag"), "{reason}");
        project.closed_flag = Some(true);
        let side = ProjectSide {
            project: &project,
            phase: Some(&phase),
        };
        assert_eq!(side.waits(), None);
    }

    #[test]
    fn a_fixed_fee_call_is_held_for_review_with_the_fee_as_misc_by_default() {
        let world = World::new();
        let project = project("FixedFee", Some(4800));
        let call = billed(&world, &project, FeeHolder::ThisCall).unwrap();
        let hold = call.hold_reason.clone().unwrap();
        assert!(hold.starts_with("fixed-fee project 30"), "{hold}");
        assert!(
            hold.contains("fixed fee of 4800.00 as a miscellaneous charge"),
            "{hold}"
        );
        assert!(
            call.labor.iter().all(|l| !l.billable),
            "the fee bills the work"
        );
        assert_eq!(call.parts.len(), 1, "only the ticket's own product");
        assert!(call.new_call().on_hold);
    }

    #[test]
    fn a_fixed_fee_as_item_is_one_part_on_the_call_holding_it_and_none_elsewhere() {
        let mut world = World::new();
        world.reference.items.push(fee_item());
        world.settings.ticket_import.fixed_fee = FixedFee::Item {
            item_id: "I-FEE".into(),
        };
        let project = project("FixedFee", Some(4800));
        let holder = billed(&world, &project, FeeHolder::ThisCall).unwrap();
        let fee = holder.parts.last().unwrap();
        assert_eq!(fee.item_id, "I-FEE");
        assert_eq!(fee.price, Some(Decimal::from(4800)));
        assert_eq!(fee.quantity, Decimal::ONE);
        assert_eq!(fee.external_reference.as_deref(), Some("cw:project-fee:30"));
        assert!(holder.hold_reason.unwrap().contains("added as item I-FEE"));

        let other = billed(&world, &project, FeeHolder::Ticket(77)).unwrap();
        assert!(other.parts.iter().all(|p| p.item_id != "I-FEE"));
        assert!(other.hold_reason.unwrap().contains("project ticket 77"));
    }

    #[test]
    fn a_fee_item_missing_or_an_amount_missing_is_a_problem_naming_the_field() {
        let mut world = World::new();
        world.settings.ticket_import.fixed_fee = FixedFee::Item {
            item_id: "I-FEE".into(),
        };
        let project_with_fee = project("FixedFee", Some(4800));
        let problems = billed(&world, &project_with_fee, FeeHolder::ThisCall).unwrap_err();
        assert!(
            problems[0]
                .message
                .contains("\"I-FEE\" is no active billing item")
        );
        world.reference.items.push(fee_item());
        let no_amount = project("FixedFee", None);
        let problems = billed(&world, &no_amount, FeeHolder::ThisCall).unwrap_err();
        assert_eq!(problems[0].field, "project.billingAmount");
    }

    #[test]
    fn a_down_payment_is_noted_never_billed() {
        let mut project = project("ActualRates", None);
        let mut phase = phase(false);
        let side = ProjectSide {
            project: &project,
            phase: Some(&phase),
        };
        assert_eq!(side.down_payment_note(), None);
        phase.downpayment = Some(Decimal::from(250));
        let side = ProjectSide {
            project: &project,
            phase: Some(&phase),
        };
        assert!(
            side.down_payment_note()
                .unwrap()
                .contains("250.00 on phase Installation")
        );
        project.downpayment = Some(Decimal::new(100_000, 2));
        let side = ProjectSide {
            project: &project,
            phase: Some(&phase),
        };
        let note = side.down_payment_note().unwrap();
        assert!(
            note.starts_with("down payment of 1000.00 on project 30"),
            "{note}"
        );
        assert!(note.contains("not imported"), "{note}");
    }

    #[test]
    fn old_job_payloads_read_as_service_tickets() {
        assert_eq!(TicketKind::default(), TicketKind::Service);
        assert_eq!(TicketKind::Project.charge_to_type(), "ProjectTicket");
        assert_eq!(TicketKind::Project.path(), "/project/tickets");
        assert_eq!(TicketKind::Service.other(), TicketKind::Project);
    }
}
