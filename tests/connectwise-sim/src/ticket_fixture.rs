//! The finished-tickets fixture: what the ticket import reads, on top of the companies and
//! agreements the customer sync and the daily export made (tickets point at companies and
//! agreements by id, so the fixture takes those ids).
//!
//! Every record is created through the API's own write path ([`Simulator::create`]), so defaults,
//! derived values (`actualHours`, `closedFlag`, a time entry's ticket and company…) and callbacks
//! are those a client would see. Reference data that already exists (a member, a catalog item the
//! daily export made) is found by its key and reused, so the fixture can be loaded after an export.
//! It matches the billing simulator's fixtures: technician `T-100` is `jdoe@example.com` (member
//! `jdoe`), `T-101` is `SRivera@Example.com` (member `srivera`, matched by e-mail whatever its
//! case); member `mchen` matches no technician. The billing items hold the SKUs
//! `TONER-DXC5850-BK` and `DRUM-DXC5850`, not `CABLE-USB-3M`.
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::state::SimState;
use crate::{SimError, Simulator};

/// Ids the fixture needs from earlier runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketFixtureLinks {
    /// A company linked to a billing account (its tickets import).
    pub company: i64,
    /// A second linked company (a clean ticket by another technician, and the fixed-fee project).
    pub second_company: i64,
    /// An agreement of `company` linked to a billing contract; one time entry carries it.
    pub agreement: Option<i64>,
}

/// What the fixture made (ids), for tests to assert on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishedTickets {
    /// The "Field Service" board and its statuses.
    pub board: i64,
    pub status_new: i64,
    pub status_in_progress: i64,
    pub status_completed: i64,
    pub status_closed: i64,
    /// The board's types: `Break/Fix` (default) and `Maintenance`.
    pub type_break_fix: i64,
    pub type_maintenance: i64,
    /// Members: `jdoe` (T-100), `srivera` (T-101), `mchen` (no technician).
    pub member_jdoe: i64,
    pub member_srivera: i64,
    pub member_mchen: i64,
    /// A company no billing account is linked to (created by the fixture, identifier `WALKIN`).
    pub unlinked_company: i64,
    /// An agreement of `company` made by the fixture, linked to no contract; only a product has it.
    pub unlinked_agreement: i64,
    /// Completed, on `company`: jdoe 1.50 h Onsite (billable, with `links.agreement`), jdoe 0.50 h
    /// Admin (not billable, no agreement); products: toner ×2 (billing has the SKU, no agreement:
    /// imported), USB cable (billing lacks the SKU: placeholder, call on hold), drum with
    /// `unlinked_agreement` (no time entry has it: not imported).
    pub ticket_ready: i64,
    pub product_in_billing: i64,
    pub product_placeholder: i64,
    pub product_other_agreement: i64,
    /// Closed, on `second_company`: srivera 2.00 h Onsite, billable. Imports cleanly.
    pub ticket_second_company: i64,
    /// Closed, on `company`: mchen 1.00 h Remote Support — unmapped technician.
    pub ticket_unmapped_technician: i64,
    /// Completed, on the unlinked company: jdoe 0.75 h — unmapped company.
    pub ticket_unmapped_company: i64,
    /// Completed, on `company`, without time entries: not imported.
    pub ticket_without_time: i64,
    /// In Progress (not an import status), on `company`, with jdoe 1.00 h: not imported.
    pub ticket_not_finished: i64,
    /// A fixed-fee project (4,800.00, board Projects) on `second_company` with its phase
    /// (`Installation`, fixed fee, bill time) and a Completed project ticket with jdoe 3.00 h.
    pub project: i64,
    pub phase: i64,
    pub project_ticket: i64,
}

fn find(sim: &SimState, path: &str, key: &str, value: &str) -> Option<i64> {
    crate::records(sim, path)
        .into_iter()
        .find(|r| {
            r.get(key)
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(value))
        })
        .and_then(|r| r.get("id").and_then(Value::as_i64))
}

fn id_of(record: &Value, path: &str) -> Result<i64, SimError> {
    record
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| SimError::InvalidFixture(format!("{path}: the created record has no id")))
}

fn create(sim: &SimState, path: &str, body: Value) -> Result<i64, SimError> {
    let record = crate::create_record(sim, path, body)?;
    id_of(&record, path)
}

fn find_or_create(sim: &SimState, path: &str, key: &str, body: Value) -> Result<i64, SimError> {
    let value = body.get(key).and_then(Value::as_str).unwrap_or_default();
    match find(sim, path, key, value) {
        Some(id) => Ok(id),
        None => create(sim, path, body),
    }
}

fn member(
    sim: &SimState,
    identifier: &str,
    first: &str,
    last: &str,
    email: &str,
) -> Result<i64, SimError> {
    find_or_create(
        sim,
        "/system/members",
        "identifier",
        json!({"identifier": identifier, "firstName": first, "lastName": last,
               "primaryEmail": email, "officeEmail": email, "defaultEmail": "Office",
               "defaultPhone": "Office", "hireDate": "2024-03-01T00:00:00Z", "licenseClass": "F",
               "securityRole": {"id": 2}, "inactiveFlag": false}),
    )
}

fn catalog_item(
    sim: &SimState,
    sku: &str,
    description: &str,
    subcategory: i64,
    price: f64,
) -> Result<i64, SimError> {
    find_or_create(
        sim,
        "/procurement/catalog",
        "identifier",
        json!({"identifier": sku, "description": description, "customerDescription": description,
               "subcategory": {"id": subcategory}, "type": {"name": "Inventory"}, "price": price}),
    )
}

struct Ticket<'a> {
    summary: &'a str,
    company: i64,
    status: i64,
}

/// Seeds the finished tickets into a simulator that holds the reference data (work types, boards,
/// agreement types…) and the companies/agreement named by `links`. Not idempotent for tickets:
/// load it once per simulator (members and catalog items are reused when present).
pub fn seed_finished_tickets(
    sim: &Simulator,
    links: &TicketFixtureLinks,
) -> Result<FinishedTickets, SimError> {
    seed(sim.state(), links)
}

/// [`seed_finished_tickets`] on the simulator's state (also behind `POST /__sim/fixtures/finished-tickets`).
pub(crate) fn seed(
    sim: &SimState,
    links: &TicketFixtureLinks,
) -> Result<FinishedTickets, SimError> {
    // Check the links before anything is made, so a refused fixture leaves nothing behind.
    let exists = |collection: &str, id: i64| sim.lock().store.get(collection, id).is_some();
    for (name, id) in [
        ("company", links.company),
        ("secondCompany", links.second_company),
    ] {
        if !exists("/company/companies", id) {
            return Err(SimError::InvalidFixture(format!(
                "{name}: there is no company {id}"
            )));
        }
    }
    if let Some(id) = links
        .agreement
        .filter(|id| !exists("/finance/agreements", *id))
    {
        return Err(SimError::InvalidFixture(format!(
            "agreement: there is no agreement {id}"
        )));
    }
    let board = find_or_create(
        sim,
        "/service/boards",
        "name",
        json!({"name": "Field Service", "location": {"id": 1}, "department": {"id": 1},
               "billTime": "Billable", "workType": {"name": "Onsite"}, "projectFlag": false}),
    )?;
    let statuses = format!("/service/boards/{board}/statuses");
    let status = |name: &str, order: i64, closed: bool, default: bool| {
        create(
            sim,
            &statuses,
            json!({"name": name, "sortOrder": order, "closedStatus": closed, "defaultFlag": default}),
        )
    };
    let status_new = status("New", 0, false, true)?;
    let status_in_progress = status("In Progress", 1, false, false)?;
    let status_completed = status("Completed", 2, false, false)?;
    let status_closed = status("Closed", 3, true, false)?;
    let types = format!("/service/boards/{board}/types");
    let type_break_fix = create(
        sim,
        &types,
        json!({"name": "Break/Fix", "defaultFlag": true, "category": "Reactive"}),
    )?;
    let type_maintenance = create(
        sim,
        &types,
        json!({"name": "Maintenance", "category": "Proactive"}),
    )?;

    let member_jdoe = member(sim, "jdoe", "Jane", "Doe", "jdoe@example.com")?;
    let member_srivera = member(sim, "srivera", "Sam", "Rivera", "srivera@example.com")?;
    let member_mchen = member(sim, "mchen", "Morgan", "Chen", "mchen@example.com")?;

    let toner = catalog_item(
        sim,
        "TONER-DXC5850-BK",
        "Toner cartridge, black (DX C5850)",
        1,
        89.5,
    )?;
    let drum = catalog_item(sim, "DRUM-DXC5850", "Drum unit (DX C5850)", 1, 240.0)?;
    let cable = catalog_item(sim, "CABLE-USB-3M", "USB cable, 3 m", 5, 12.0)?;

    let unlinked_company = find_or_create(
        sim,
        "/company/companies",
        "identifier",
        json!({"identifier": "WALKIN", "name": "Walk-in Customer", "city": "Tampa", "state": "FL",
               "site": {"name": "Main"}}),
    )?;
    let contact = create(
        sim,
        "/company/contacts",
        json!({"firstName": "Fixture", "lastName": "Contact", "company": {"id": links.company}}),
    )?;
    let unlinked_agreement = create(
        sim,
        "/finance/agreements",
        json!({"name": "Print supplies (not in billing)", "type": {"name": "Managed Services"},
               "company": {"id": links.company}, "contact": {"id": contact}}),
    )?;

    let ticket = |t: Ticket<'_>, type_id: i64| {
        create(
            sim,
            "/service/tickets",
            json!({"summary": t.summary, "company": {"id": t.company}, "board": {"id": board},
                   "status": {"id": t.status}, "type": {"id": type_id}, "priority": {"id": 3}}),
        )
    };
    let time = |charge_type: &str,
                ticket: i64,
                member: i64,
                start: &str,
                end: &str,
                work_type: &str,
                agreement: Option<i64>,
                notes: &str| {
        let mut body = json!({"chargeToType": charge_type, "chargeToId": ticket, "member": {"id": member},
                              "timeStart": start, "timeEnd": end, "workType": {"name": work_type},
                              "notes": notes});
        if let (Some(a), Value::Object(map)) = (agreement, &mut body) {
            map.insert("agreement".into(), json!({"id": a}));
        }
        create(sim, "/time/entries", body)
    };
    let product = |ticket: i64, item: i64, quantity: f64, agreement: Option<i64>| {
        let mut body = json!({"catalogItem": {"id": item}, "ticket": {"id": ticket},
                              "quantity": quantity, "billableOption": "Billable"});
        if let (Some(a), Value::Object(map)) = (agreement, &mut body) {
            map.insert("agreement".into(), json!({"id": a}));
        }
        create(sim, "/procurement/products", body)
    };

    let ticket_ready = ticket(
        Ticket {
            summary: "Copier jams on tray 2",
            company: links.company,
            status: status_completed,
        },
        type_break_fix,
    )?;
    time(
        "ServiceTicket",
        ticket_ready,
        member_jdoe,
        "2026-12-01T14:00:00Z",
        "2026-12-01T15:30:00Z",
        "Onsite",
        links.agreement,
        "Replaced the tray 2 pickup roller",
    )?;
    time(
        "ServiceTicket",
        ticket_ready,
        member_jdoe,
        "2026-12-01T15:30:00Z",
        "2026-12-01T16:00:00Z",
        "Admin",
        None,
        "Parts order and write-up",
    )?;
    let product_in_billing = product(ticket_ready, toner, 2.0, None)?;
    let product_placeholder = product(ticket_ready, cable, 1.0, None)?;
    let product_other_agreement = product(ticket_ready, drum, 1.0, Some(unlinked_agreement))?;

    let ticket_second_company = ticket(
        Ticket {
            summary: "Quarterly maintenance",
            company: links.second_company,
            status: status_closed,
        },
        type_maintenance,
    )?;
    time(
        "ServiceTicket",
        ticket_second_company,
        member_srivera,
        "2026-12-02T09:00:00Z",
        "2026-12-02T11:00:00Z",
        "Onsite",
        None,
        "Cleaned and calibrated",
    )?;

    let ticket_unmapped_technician = ticket(
        Ticket {
            summary: "Scan to e-mail fails",
            company: links.company,
            status: status_closed,
        },
        type_break_fix,
    )?;
    time(
        "ServiceTicket",
        ticket_unmapped_technician,
        member_mchen,
        "2026-12-02T13:00:00Z",
        "2026-12-02T14:00:00Z",
        "Remote Support",
        None,
        "Reset SMTP settings",
    )?;

    let ticket_unmapped_company = ticket(
        Ticket {
            summary: "Walk-in toner swap",
            company: unlinked_company,
            status: status_completed,
        },
        type_break_fix,
    )?;
    time(
        "ServiceTicket",
        ticket_unmapped_company,
        member_jdoe,
        "2026-12-03T10:00:00Z",
        "2026-12-03T10:45:00Z",
        "Onsite",
        None,
        "Swapped toner",
    )?;

    let ticket_without_time = ticket(
        Ticket {
            summary: "Duplicate of copier jam",
            company: links.company,
            status: status_completed,
        },
        type_break_fix,
    )?;
    let ticket_not_finished = ticket(
        Ticket {
            summary: "Fuser noise",
            company: links.company,
            status: status_in_progress,
        },
        type_break_fix,
    )?;
    time(
        "ServiceTicket",
        ticket_not_finished,
        member_jdoe,
        "2026-12-03T13:00:00Z",
        "2026-12-03T14:00:00Z",
        "Onsite",
        None,
        "Diagnosed; fuser on order",
    )?;

    let project = create(
        sim,
        "/project/projects",
        json!({"name": "Print fleet installation", "company": {"id": links.second_company},
               "board": {"name": "Projects"}, "billingMethod": "FixedFee", "billingAmount": 4800.0,
               "estimatedStart": "2026-11-15T00:00:00Z", "estimatedEnd": "2026-12-15T00:00:00Z"}),
    )?;
    let phase = create(
        sim,
        &format!("/project/projects/{project}/phases"),
        json!({"description": "Installation", "billingMethod": "FixedFee", "billTime": "Billable",
               "billProducts": "Billable"}),
    )?;
    let projects_board = find(sim, "/service/boards", "name", "Projects").ok_or_else(|| {
        SimError::InvalidFixture("the reference data's Projects board is missing".into())
    })?;
    let project_completed = find(
        sim,
        &format!("/service/boards/{projects_board}/statuses"),
        "name",
        "Completed",
    )
    .ok_or_else(|| SimError::InvalidFixture("the Projects board has no Completed status".into()))?;
    let project_ticket = create(
        sim,
        "/project/tickets",
        json!({"summary": "Install and network three MFPs", "project": {"id": project},
               "phase": {"id": phase}, "company": {"id": links.second_company},
               "board": {"id": projects_board}, "status": {"id": project_completed}}),
    )?;
    time(
        "ProjectTicket",
        project_ticket,
        member_jdoe,
        "2026-12-04T08:00:00Z",
        "2026-12-04T11:00:00Z",
        "Onsite",
        None,
        "Installed and tested",
    )?;

    Ok(FinishedTickets {
        board,
        status_new,
        status_in_progress,
        status_completed,
        status_closed,
        type_break_fix,
        type_maintenance,
        member_jdoe,
        member_srivera,
        member_mchen,
        unlinked_company,
        unlinked_agreement,
        ticket_ready,
        product_in_billing,
        product_placeholder,
        product_other_agreement,
        ticket_second_company,
        ticket_unmapped_technician,
        ticket_unmapped_company,
        ticket_without_time,
        ticket_not_finished,
        project,
        phase,
        project_ticket,
    })
}
