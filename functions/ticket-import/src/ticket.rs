//! One ticket's import: read it afresh (a job names a ticket, never its values), resolve its
//! company and agreements through the links, map it (`cwsync_mapping::tickets`) and create or
//! update its billing service call.
//!
//! Never a duplicate, never a loss:
//! - the call is created with the ticket's reference (`cw:ticket:<id>`), on which the billing
//!   system creates at most one call: a create that was made before (a lost answer, a crash
//!   before the link, a second worker) is answered with the existing call, which is then
//!   compared and, when it differs, updated like any imported call;
//! - the ticket ↔ call link (source: the call; ConnectWise side: the ticket) holds the mapped
//!   call's fingerprint and, as its stamp, the company the call was made for. It is written after
//!   the call, so a crash in between is healed by the next attempt's create finding the call;
//! - a later run with the same fingerprint writes nothing; a changed ticket updates its call under
//!   the version it read (`If-Match`; a concurrent change is read again and planned once more);
//! - an invoiced call is never changed: the difference is reported; a ticket whose company
//!   changed after its import is reported and nothing is written (the company is locked).
//!
//! A project ticket ([`TicketKind::Project`]) is read from `/project/tickets` with its project and
//! phase, mapped by the same rules, and then billed as its project says
//! (`cwsync_mapping::tickets::project`): one waiting for its project to close is skipped naming
//! it; a fixed-fee project's fee item is claimed once per project (a link from the ticket to the
//! project, made before the call, so two of its tickets imported at once never both bill it); a
//! down payment is a skipped line of its own.
//!
//! Every failure of the ticket alone is its `failed` line with the ticket's source fingerprint,
//! so it is on the error ledger until fixed (at most `errorAttempts` reports while the ticket is
//! unchanged); anything no ticket explains stops the job as a [`SyncError`].

use std::collections::{BTreeSet, HashMap};

use cwsync_billing::models::{ServiceCall, ServiceCallUpdate};
use cwsync_billing::{BillingClient, BillingError, ContractQuery};
use cwsync_connectwise::models::{
    CatalogItem, ProductItem, Project, ProjectPhase, ProjectTicket, Resource, Ticket, TimeEntry,
};
use cwsync_connectwise::{Condition, CwError, Direction, Query};
use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::tickets::project::{FeeHolder, ProjectSide, apply_project};
use cwsync_mapping::tickets::{
    MappedCall, Resolved, TicketKind, TicketReference, TicketSide, entity, map_ticket,
    match_contract,
};
use cwsync_store::links::{Link, LinkState, LinkStore, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_store::{RunId, StoreError, TenantId};
use cwsync_sync::record::would;
use cwsync_sync::writes::billing_job_level;
use cwsync_sync::{RecordResult, Recorder, SyncError, UnitResult};
use time::OffsetDateTime;

use crate::TicketImport;
use crate::plan::TicketJob;

/// The prefix of a call link's stamp: the company the call was made for.
const COMPANY_STAMP: &str = "company:";

/// A ticket as ConnectWise holds it now: the ticket, its time entries, its products and their
/// catalog items.
#[derive(Debug, Clone, Default)]
pub struct TicketRecords {
    /// The ticket.
    pub ticket: Ticket,
    /// Its time entries.
    pub time_entries: Vec<TimeEntry>,
    /// Its products.
    pub products: Vec<ProductItem>,
    /// The products' catalog items by id.
    pub catalog: HashMap<i64, CatalogItem>,
    /// A service or a project ticket.
    pub kind: TicketKind,
    /// A project ticket's project (`None` for a service ticket, or a project that is gone).
    pub project: Option<Project>,
    /// A project ticket's phase.
    pub phase: Option<ProjectPhase>,
}

impl TicketRecords {
    /// The records as the mapping reads them.
    pub fn side(&self) -> TicketSide<'_> {
        TicketSide {
            ticket: &self.ticket,
            time_entries: &self.time_entries,
            products: &self.products,
            catalog: &self.catalog,
        }
    }

    /// A project ticket's project and phase, when it has a project.
    pub fn project_side(&self) -> Option<ProjectSide<'_>> {
        Some(ProjectSide {
            project: self.project.as_ref()?,
            phase: self.phase.as_ref(),
        })
    }

    /// The error ledger's fingerprint of what ConnectWise holds: the ticket's, its time's and
    /// products' stamps, and its project's and phase's (a project closing brings a ticket back).
    pub fn source_fingerprint(&self) -> String {
        let base = self.side().source_fingerprint();
        match self.project_side() {
            Some(project) => {
                cwsync_mapping::fingerprint(&serde_json::json!([base, project.stamp()]))
            }
            None => base,
        }
    }
}

/// The tickets of one SQS batch's jobs (one tenant, run and dry-run flag), read together just
/// before the jobs run ([`read_tickets`] per kind): each job takes its ticket from here instead of
/// reading it alone. A ticket not found under its job's kind is not here: its job looks for it
/// on its own (as the other kind too).
#[derive(Debug, Clone, Default)]
pub struct TicketBatch {
    records: HashMap<(TicketKind, i64), TicketRecords>,
}

impl TicketBatch {
    /// Reads the tickets `jobs` name, one [`read_tickets`] per kind.
    pub async fn read(
        cw: &cwsync_connectwise::Client,
        jobs: &[TicketJob],
    ) -> Result<TicketBatch, SyncError> {
        let mut records = HashMap::new();
        for kind in [TicketKind::Service, TicketKind::Project] {
            let mut ids: Vec<i64> = jobs
                .iter()
                .filter(|j| j.kind == kind)
                .map(|j| j.ticket_id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            for (id, read) in read_tickets(cw, kind, &ids).await? {
                records.insert((kind, id), read);
            }
        }
        Ok(TicketBatch { records })
    }

    /// Ticket `id` of `kind`, as read.
    pub fn get(&self, kind: TicketKind, id: i64) -> Option<&TicketRecords> {
        self.records.get(&(kind, id))
    }
}

/// Reads service ticket `id` with its time entries, products and catalog items (four reads);
/// `None` when the ticket is gone.
pub async fn read_ticket(
    cw: &cwsync_connectwise::Client,
    id: i64,
) -> Result<Option<TicketRecords>, SyncError> {
    read_ticket_of(cw, TicketKind::Service, id).await
}

/// Reads ticket `id` of `kind` with its time entries, products and catalog items (and a project
/// ticket's project and phase); `None` when there is no such ticket of that kind.
pub async fn read_ticket_of(
    cw: &cwsync_connectwise::Client,
    kind: TicketKind,
    id: i64,
) -> Result<Option<TicketRecords>, SyncError> {
    Ok(read_tickets(cw, kind, &[id]).await?.remove(&id))
}

/// Reads tickets `ids` of `kind` together: the tickets (`id in (...)`), all their time entries
/// (`chargeToId in (...)`), all their products (`ticket/id in (...)`) and those products' catalog
/// items (`id in (...)`), one read each (more only when a list's URL or its answer needs more
/// requests), and a project ticket's project and phase once per phase. The tickets ConnectWise
/// has of that kind, by id; an id it has not is absent.
pub async fn read_tickets(
    cw: &cwsync_connectwise::Client,
    kind: TicketKind,
    ids: &[i64],
) -> Result<HashMap<i64, TicketRecords>, SyncError> {
    let what = || match ids {
        [id] => format!("ticket {id}"),
        _ => format!("{} tickets", ids.len()),
    };
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let by_id = || Query::new().order_by("id", Direction::Asc).page_size(1000);
    let tickets = match kind {
        TicketKind::Service => cw
            .list_by_ids::<Ticket, i64>(kind.path(), "id", ids.iter().copied(), &by_id())
            .await
            .map(|tickets| tickets.into_iter().map(|t| (t, None, None)).collect()),
        TicketKind::Project => cw
            .list_by_ids::<ProjectTicket, i64>(kind.path(), "id", ids.iter().copied(), &by_id())
            .await
            .map(|tickets| {
                tickets
                    .into_iter()
                    .map(|t| (t.ticket, t.project, t.phase))
                    .collect::<Vec<_>>()
            }),
    }
    .map_err(|e| SyncError::connectwise(format!("reading {}", what()), e))?;
    let found: Vec<i64> = tickets.iter().filter_map(|(t, _, _)| t.id).collect();
    if found.is_empty() {
        return Ok(HashMap::new());
    }
    let entries = by_id().filter(Condition::field("chargeToType").eq(kind.charge_to_type()));
    let products = by_id();
    let (time_entries, products) = tokio::try_join!(
        cw.list_by_ids::<TimeEntry, i64>(
            TimeEntry::PATH,
            "chargeToId",
            found.iter().copied(),
            &entries
        ),
        cw.list_by_ids::<ProductItem, i64>(
            ProductItem::PATH,
            "ticket/id",
            found.iter().copied(),
            &products
        ),
    )
    .map_err(|e| {
        SyncError::connectwise(format!("reading the time and products of {}", what()), e)
    })?;
    let catalog_ids: BTreeSet<i64> = products
        .iter()
        .filter_map(|p| p.catalog_item.as_ref().and_then(|c| c.id))
        .collect();
    let catalog: HashMap<i64, CatalogItem> = cw
        .list_by_ids::<CatalogItem, i64>(
            CatalogItem::PATH,
            "id",
            catalog_ids,
            &Query::new()
                .fields(["id", "identifier", "description", "type"])
                .page_size(1000),
        )
        .await
        .map_err(|e| SyncError::connectwise(format!("reading the catalog items of {}", what()), e))?
        .into_iter()
        .filter_map(|item| Some((item.id?, item)))
        .collect();
    let mut entries_of: HashMap<i64, Vec<TimeEntry>> = HashMap::new();
    for entry in time_entries {
        if let Some(ticket) = entry.charge_to_id {
            entries_of.entry(ticket).or_default().push(entry);
        }
    }
    let mut products_of: HashMap<i64, Vec<ProductItem>> = HashMap::new();
    for product in products {
        if let Some(ticket) = product.ticket.as_ref().and_then(|t| t.id) {
            products_of.entry(ticket).or_default().push(product);
        }
    }
    let mut projects: HashMap<(i64, Option<i64>), ProjectRead> = HashMap::new();
    let mut read = HashMap::with_capacity(tickets.len());
    for (ticket, project_ref, phase_ref) in tickets {
        let Some(id) = ticket.id else { continue };
        let (project, phase) = match project_ref.and_then(|p| p.id) {
            Some(project_id) => {
                let phase_id = phase_ref.and_then(|p| p.id);
                match projects.get(&(project_id, phase_id)) {
                    Some(read) => read.clone(),
                    None => {
                        let read = read_project(cw, project_id, phase_id).await?;
                        projects.insert((project_id, phase_id), read.clone());
                        read
                    }
                }
            }
            None => (None, None),
        };
        let products = products_of.remove(&id).unwrap_or_default();
        let catalog = products
            .iter()
            .filter_map(|p| p.catalog_item.as_ref().and_then(|c| c.id))
            .filter_map(|c| Some((c, catalog.get(&c)?.clone())))
            .collect();
        read.insert(
            id,
            TicketRecords {
                ticket,
                time_entries: entries_of.remove(&id).unwrap_or_default(),
                products,
                catalog,
                kind,
                project,
                phase,
            },
        );
    }
    Ok(read)
}

/// A project and one of its phases, as read (each `None` when gone).
type ProjectRead = (Option<Project>, Option<ProjectPhase>);

/// A project and one of its phases (each `None` when gone).
async fn read_project(
    cw: &cwsync_connectwise::Client,
    project_id: i64,
    phase_id: Option<i64>,
) -> Result<ProjectRead, SyncError> {
    fn gone<T>(project_id: i64) -> impl Fn(CwError) -> Result<Option<T>, SyncError> {
        move |e| match e {
            CwError::NotFound { .. } => Ok(None),
            e => Err(SyncError::connectwise(
                format!("reading project {project_id}"),
                e,
            )),
        }
    }
    let project = cw
        .get::<Project>(&format!("/project/projects/{project_id}"))
        .await
        .map(Some)
        .or_else(gone(project_id))?;
    let phase = match phase_id {
        Some(phase) if project.is_some() => cw
            .get::<ProjectPhase>(&format!("{}/{phase}", ProjectPhase::path(project_id)))
            .await
            .map(Some)
            .or_else(gone(project_id))?,
        _ => None,
    };
    Ok((project, phase))
}

/// What one ticket's import touches.
#[derive(Debug, Clone, Copy)]
pub struct TicketScope<'a> {
    /// The tenant.
    pub tenant: &'a TenantId,
    /// Plan and report only; write nothing.
    pub dry_run: bool,
    /// The tenant's settings.
    pub settings: &'a cwsync_mapping::settings::TenantSettings,
    /// The billing side's names.
    pub reference: &'a TicketReference,
    /// The billing system.
    pub billing: &'a BillingClient,
    /// The links.
    pub links: &'a dyn LinkStore,
    /// When the import runs.
    pub now: OffsetDateTime,
    /// A ticket not finished yet is skipped, not failed ([`TicketJob::when_finished`]).
    pub when_finished: bool,
}

impl TicketImport {
    /// Imports ticket `ticket_id` inside run `run_id` (started with one unit when it does not
    /// exist: a console import of one ticket) and records its line.
    pub async fn import_ticket_in_run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        ticket_id: i64,
    ) -> Result<UnitResult, SyncError> {
        Box::pin(self.import_ticket_of_kind_in_run(
            tenant,
            run_id,
            dry_run,
            TicketJob::new(ticket_id, TicketKind::Service),
            None,
        ))
        .await
    }

    /// [`TicketImport::import_ticket_in_run`] of the ticket a job names, of its kind (looked
    /// for as the other kind too when there is none of this one: the kinds share one id space).
    /// `read`: the ticket as its batch read it just now ([`TicketBatch`]); `None`: read it here.
    pub async fn import_ticket_of_kind_in_run(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        job: TicketJob,
        read: Option<&TicketRecords>,
    ) -> Result<UnitResult, SyncError> {
        let book = self.run_book();
        let single = book.ensure_single(tenant, run_id, dry_run).await?;
        let result =
            Box::pin(self.import_ticket_unit(tenant, run_id, dry_run, job, single, read)).await?;
        book.record_and_finish(tenant, run_id, dry_run, std::slice::from_ref(&result))
            .await?;
        Ok(result)
    }

    /// Imports the ticket a job names (see the module docs): its line, and a project's
    /// down-payment line. `read`: the ticket as its batch read it ([`TicketBatch`]).
    pub async fn import_ticket_unit(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
        job: TicketJob,
        single: bool,
        read: Option<&TicketRecords>,
    ) -> Result<UnitResult, SyncError> {
        let TicketJob {
            ticket_id, kind, ..
        } = job;
        let deps = &*self.deps;
        let id_text = ticket_id.to_string();
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        if settings.ticket_import.is_excluded(ticket_id) {
            return Ok(UnitResult::single(
                Recorder::new(entity::TICKET, &id_text, String::new())
                    .with_detail(
                        Outcome::Skipped,
                        "excluded from the import (ticketImport.excluded)".to_owned(),
                    )
                    .with_id(ticket_id),
            ));
        }
        let clients = self.clients(tenant).await?;
        let mut records = match read {
            Some(read) => Some(read.clone()),
            None => read_ticket_of(&clients.cw, kind, ticket_id).await?,
        };
        if records.is_none() {
            records = read_ticket_of(&clients.cw, kind.other(), ticket_id).await?;
        }
        let Some(records) = records else {
            return Ok(UnitResult::single(
                Recorder::new(entity::TICKET, &id_text, String::new()).with_detail(
                    Outcome::Skipped,
                    "no longer in ConnectWise: nothing imported".to_owned(),
                ),
            ));
        };
        let reference = self.reference(tenant, run_id, single, &clients).await?;
        let scope = TicketScope {
            tenant,
            dry_run,
            settings: &settings,
            reference: &reference,
            billing: &clients.billing,
            links: deps.stores.links.as_ref(),
            now: self.now(),
            when_finished: job.when_finished,
        };
        let line = Box::pin(import_records(&scope, &records)).await?;
        let mut unit = UnitResult::single(line.with_id(ticket_id));
        if let Some(project) = records.project_side()
            && let Some(note) = project.down_payment_note()
        {
            let id = project.id();
            unit.records.push(
                Recorder::new(entity::DOWN_PAYMENT, &id.to_string(), String::new())
                    .with_detail(Outcome::Skipped, note)
                    .with_id(id),
            );
        }
        Ok(unit)
    }
}

/// Imports a ticket read as `records` (see the module docs): its line.
pub async fn import_records(
    scope: &TicketScope<'_>,
    records: &TicketRecords,
) -> Result<RecordResult, SyncError> {
    let side = records.side();
    let ticket_id = side.id();
    let id_text = ticket_id.to_string();
    let recorder = Recorder::new(entity::TICKET, &id_text, records.source_fingerprint());
    let project = match records.kind {
        TicketKind::Service => None,
        TicketKind::Project => match records.project_side() {
            Some(project) => Some(project),
            None => {
                return Ok(recorder.failed(
                    "project: the project ticket names no project ConnectWise still has; \
                     nothing imported",
                ));
            }
        },
    };
    if let Some(reason) = project.as_ref().and_then(ProjectSide::waits) {
        return Ok(recorder.with_detail(Outcome::Skipped, reason));
    }
    if scope.when_finished
        && let Some(reason) = not_finished(&side, scope.settings)
    {
        return Ok(recorder.with_detail(Outcome::Skipped, reason));
    }
    let link = scope
        .links
        .get_by_cw(scope.tenant, entity::TICKET_OF_CALL, ticket_id)
        .await?
        .filter(|l| l.kind == entity::SERVICE_CALL && l.state == LinkState::Linked);
    let company = records.ticket.company.as_ref().and_then(|c| c.id);

    // The company is locked once the ticket imported.
    if let Some(link) = &link
        && let Some(locked) = locked_company(link)
        && Some(locked) != company
    {
        return Ok(recorder.failed(format!(
            "company: the ticket's company changed to {} after it was imported with company \
             {locked} (service call {}): the company of an imported ticket is locked; change it \
             back, or correct the call by hand",
            company.map_or_else(|| "none".to_owned(), |c| c.to_string()),
            link.source_id
        )));
    }

    let resolved = resolve(scope, records, company).await?;
    let unreadable = |problems: &[cwsync_mapping::tickets::TicketProblem]| {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let malformed = [
            &scope.reference.malformed_technicians,
            &scope.reference.malformed_parts,
        ];
        recorder.failed(format!(
            "{}{}",
            reasons.join("; "),
            unreadable_records(malformed.into_iter().flatten())
        ))
    };
    let mut mapped = match map_ticket(&side, &resolved, scope.reference, scope.settings) {
        Ok(mapped) => mapped,
        Err(problems) => return Ok(unreadable(&problems)),
    };
    // A placeholder stands in for a part whose SKU has no item: not while an item or product
    // type the billing system lists can't be read, as it may be that part's. Checked before the
    // project's terms: `map_ticket`'s only holds are its placeholders (a fixed fee's hold, added
    // below, needs no item).
    if mapped.hold_reason.is_some() && !scope.reference.malformed_parts.is_empty() {
        return Ok(recorder.failed(format!(
            "catalogItem: a placeholder would stand in for a part whose SKU has no billing item, \
             but the billing system lists items or product types the import could not read, \
             and one may be that part's; nothing imported until they are corrected{}",
            unreadable_records(&scope.reference.malformed_parts)
        )));
    }
    if let Some(project) = &project {
        let fee = fee_holder(scope, project, ticket_id).await?;
        mapped = match apply_project(mapped, project, fee, scope.reference, scope.settings) {
            Ok(mapped) => mapped,
            Err(problems) => return Ok(unreadable(&problems)),
        };
    }
    let fingerprint = mapped.fingerprint();
    let recorder = recorder.with_notes(mapped.notes.clone());
    if let Some(link) = &link
        && link.fingerprint.as_deref() == Some(fingerprint.as_str())
    {
        return Ok(recorder.with_detail(
            Outcome::Unchanged,
            format!(
                "unchanged since its import to service call {}",
                link.source_id
            ),
        ));
    }
    let existing = match &link {
        Some(link) => scope
            .billing
            .get_service_call(&link.source_id)
            .await
            .map(Some)
            .or_else(|e| match e {
                BillingError::NotFound { .. } => Ok(None),
                e => Err(e),
            }),
        // A dry run looks the call up by the ticket's reference to say what it would do; a real
        // run need not: the create is idempotent on that reference and answers with the call an
        // earlier attempt (or another worker) made, which is then compared like a linked one.
        None if scope.dry_run => {
            scope
                .billing
                .find_service_call(&cwsync_mapping::tickets::ticket_reference(ticket_id))
                .await
        }
        None => Ok(None),
    };
    let existing = match existing {
        Ok(existing) => existing,
        Err(e) => {
            return billing_failure(
                &recorder,
                format!("reading the call of ticket {ticket_id}"),
                e,
            );
        }
    };
    match existing {
        None => {
            if let Some(gone) = &link
                && !scope.dry_run
            {
                // The linked call is gone from the billing system: the ticket imports afresh.
                scope
                    .links
                    .unlink(scope.tenant, SourceRef::new(&gone.kind, &gone.source_id))
                    .await?;
            }
            create(scope, &recorder, &mapped, &fingerprint, company).await
        }
        Some(call) => {
            let found = link.is_none();
            update(
                scope,
                &recorder,
                &mapped,
                &fingerprint,
                company,
                call,
                found,
            )
            .await
        }
    }
}

/// Which call bills a fixed-fee project's fee item: the ticket that holds the project's fee link,
/// claimed here by this ticket when none does (never in a dry run). `ThisCall` when the fee is
/// not added as an item.
async fn fee_holder(
    scope: &TicketScope<'_>,
    project: &ProjectSide<'_>,
    ticket_id: i64,
) -> Result<FeeHolder, SyncError> {
    if project.fee_as_item(scope.settings).is_none() {
        return Ok(FeeHolder::ThisCall);
    }
    let holder = || async {
        let link = scope
            .links
            .get_by_cw(scope.tenant, entity::FIXED_FEE_PROJECT, project.id())
            .await?
            .filter(|l| l.kind == entity::FEE_TICKET && l.state == LinkState::Linked);
        Ok::<_, SyncError>(link.and_then(|l| l.source_id.parse::<i64>().ok()))
    };
    let holder = match holder().await? {
        Some(holder) => Some(holder),
        None if scope.dry_run => None,
        None => {
            let ticket = ticket_id.to_string();
            match scope
                .links
                .link_existing(
                    scope.tenant,
                    SourceRef::new(entity::FEE_TICKET, &ticket),
                    entity::FIXED_FEE_PROJECT,
                    project.id(),
                    "fixed-fee",
                    scope.now,
                )
                .await
            {
                Ok(_) => Some(ticket_id),
                // Another of the project's tickets claimed it meanwhile.
                Err(StoreError::Conflict { .. }) => {
                    Some(holder().await?.ok_or_else(|| SyncError::Unsettled {
                        record: format!("the fixed fee of project {}", project.id()),
                        detail: "its claim conflicted, but no ticket holds it: retried".to_owned(),
                    })?)
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok(match holder {
        Some(other) if other != ticket_id => FeeHolder::Ticket(other),
        _ => FeeHolder::ThisCall,
    })
}

/// The company a call link says its call was made for.
fn locked_company(link: &Link) -> Option<i64> {
    link.sync_stamp
        .as_deref()
        .and_then(|s| s.strip_prefix(COMPANY_STAMP))
        .and_then(|s| s.parse().ok())
}

/// The account of the ticket's company and the contracts of its time entries' agreements.
async fn resolve(
    scope: &TicketScope<'_>,
    records: &TicketRecords,
    company: Option<i64>,
) -> Result<Resolved, SyncError> {
    let mut resolved = Resolved::default();
    if let Some(company) = company {
        resolved.account_id = scope
            .links
            .get_by_cw(scope.tenant, customer::COMPANY, company)
            .await?
            .filter(|l| l.kind == customer::COMPANY && l.state == LinkState::Linked)
            .map(|l| l.source_id);
    }
    let mut agreements: Vec<(i64, String)> = records
        .time_entries
        .iter()
        .filter_map(|e| e.agreement.as_ref())
        .filter_map(|a| Some((a.id?, a.name.clone().unwrap_or_default())))
        .filter(|(id, _)| {
            !scope
                .settings
                .ticket_import
                .agreements
                .contains_key(&id.to_string())
        })
        .collect();
    agreements.sort();
    agreements.dedup_by_key(|(id, _)| *id);
    let mut contracts = None;
    for (agreement, name) in agreements {
        if let Some(link) = scope
            .links
            .get_by_cw(scope.tenant, entity::AGREEMENT_OF_CONTRACT, agreement)
            .await?
            .filter(|l| l.kind == entity::CONTRACT && l.state == LinkState::Linked)
        {
            resolved.contracts.insert(agreement, link.source_id);
            continue;
        }
        let Some(account) = resolved.account_id.as_deref() else {
            continue;
        };
        if contracts.is_none() {
            let listed = scope
                .billing
                .list_contracts(&ContractQuery {
                    account_ids: Some(vec![account.to_owned()]),
                    ..ContractQuery::default()
                })
                .await
                .map_err(|e| {
                    SyncError::billing(format!("listing the contracts of {account}"), e)
                })?;
            contracts = Some(listed.records);
        }
        let Some(contract) =
            match_contract(&name, account, contracts.as_deref().unwrap_or_default())
        else {
            continue;
        };
        if !scope.dry_run {
            let linked = scope
                .links
                .link_existing(
                    scope.tenant,
                    SourceRef::new(entity::CONTRACT, &contract.id),
                    entity::AGREEMENT_OF_CONTRACT,
                    agreement,
                    "matched",
                    scope.now,
                )
                .await;
            match linked {
                Ok(_) => {}
                // The contract is linked to another agreement (or this one to another
                // contract): the name match is not trusted; the ticket says what to map.
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        resolved.contracts.insert(agreement, contract.id.clone());
    }
    Ok(resolved)
}

/// Creates the ticket's call (or settles on the one its reference already has) and links it.
async fn create(
    scope: &TicketScope<'_>,
    recorder: &Recorder,
    mapped: &MappedCall,
    fingerprint: &str,
    company: Option<i64>,
) -> Result<RecordResult, SyncError> {
    let held = hold_note(mapped);
    if scope.dry_run {
        return Ok(recorder.with_detail(
            Outcome::Created,
            format!("would create the service call{held}"),
        ));
    }
    let created = match scope.billing.create_service_call(&mapped.new_call()).await {
        Ok(created) => created,
        Err(e) => {
            return billing_failure(
                recorder,
                format!("creating the call of ticket {}", mapped.ticket_id),
                e,
            );
        }
    };
    if !created.created {
        // An earlier attempt (or another worker) made it: bring it to what the ticket maps to.
        return update(
            scope,
            recorder,
            mapped,
            fingerprint,
            company,
            created.call,
            true,
        )
        .await;
    }
    let call = created.call;
    link_call(scope, &call, mapped.ticket_id, fingerprint, company).await?;
    Ok(recorder.with_detail(
        Outcome::Created,
        format!("created service call {} ({}){held}", call.number, call.id),
    ))
}

/// Brings an existing call to what the ticket maps to: nothing when it is already that, never
/// when it is invoiced (the difference is reported), else a versioned update (read again and
/// planned once more when it changed meanwhile). `found`: the call had no link yet (an earlier
/// attempt made it and stopped before linking, or another worker did).
async fn update(
    scope: &TicketScope<'_>,
    recorder: &Recorder,
    mapped: &MappedCall,
    fingerprint: &str,
    company: Option<i64>,
    mut call: ServiceCall,
    found: bool,
) -> Result<RecordResult, SyncError> {
    for attempt in 0..2 {
        // A call moved to ConnectWise keeps the contract its billing user gave it.
        let kept = cwsync_mapping::tickets::moving::for_moved_call(mapped, &call);
        let mapped = kept.as_ref().unwrap_or(mapped);
        if call.account_id != mapped.account_id {
            return Ok(recorder.failed(format!(
                "company: service call {} ({}) is for account {}, but the ticket's company now \
                 maps to account {}: the account of a call never changes; correct it by hand",
                call.number, call.id, call.account_id, mapped.account_id
            )));
        }
        let changed = mapped.differences(&call);
        if changed.is_empty() {
            if !scope.dry_run {
                link_call(scope, &call, mapped.ticket_id, fingerprint, company).await?;
            }
            let (outcome, how) = if found {
                (
                    Outcome::Linked,
                    "found made by an earlier attempt, and linked",
                )
            } else {
                (Outcome::Unchanged, "already matches the ticket")
            };
            return Ok(recorder.with_detail(
                outcome,
                format!("service call {} ({}) {how}", call.number, call.id),
            ));
        }
        if !call.is_changeable() {
            return Ok(invoiced(recorder, &call, &changed));
        }
        if scope.dry_run {
            return Ok(recorder.with_detail(
                Outcome::Updated,
                format!(
                    "{} service call {} ({}): {}",
                    would(true, "updated", "would update"),
                    call.number,
                    call.id,
                    changed.join(", ")
                ),
            ));
        }
        let update: ServiceCallUpdate = mapped.update();
        match scope
            .billing
            .update_service_call(&call.id, call.version, &update)
            .await
        {
            Ok(updated) => {
                link_call(scope, &updated, mapped.ticket_id, fingerprint, company).await?;
                return Ok(recorder.with_detail(
                    Outcome::Updated,
                    format!(
                        "updated service call {} ({}): {}{}",
                        updated.number,
                        updated.id,
                        changed.join(", "),
                        hold_note(mapped)
                    ),
                ));
            }
            // Changed meanwhile (a new version, or invoiced): read it again and plan once more
            // (an invoiced call's difference is then reported).
            Err(BillingError::VersionConflict { .. } | BillingError::Conflict { .. })
                if attempt == 0 =>
            {
                call = match scope.billing.get_service_call(&call.id).await {
                    Ok(call) => call,
                    Err(e) => {
                        return billing_failure(
                            recorder,
                            format!("reading service call {}", call.id),
                            e,
                        );
                    }
                };
            }
            Err(e) => {
                return billing_failure(recorder, format!("updating service call {}", call.id), e);
            }
        }
    }
    Err(SyncError::Unsettled {
        record: format!("the service call of ticket {}", mapped.ticket_id),
        detail: "the call changed twice while it was being updated: retried".to_owned(),
    })
}

/// The line of a ticket whose invoiced call differs from it.
fn invoiced(recorder: &Recorder, call: &ServiceCall, changed: &[String]) -> RecordResult {
    recorder.failed(format!(
        "service call {} ({}) is invoiced and never changed again, but the ticket changed since \
         its import: {}; bill the difference by hand",
        call.number,
        call.id,
        changed.join(", ")
    ))
}

/// `; on hold: <reason>` when the call goes on hold.
fn hold_note(mapped: &MappedCall) -> String {
    mapped
        .hold_reason
        .as_ref()
        .map(|r| format!("; on hold: {r}"))
        .unwrap_or_default()
}

/// Records the ticket ↔ call link with the mapped call's fingerprint and the company used.
async fn link_call(
    scope: &TicketScope<'_>,
    call: &ServiceCall,
    ticket_id: i64,
    fingerprint: &str,
    company: Option<i64>,
) -> Result<(), SyncError> {
    let source = SourceRef::new(entity::SERVICE_CALL, &call.id);
    scope
        .links
        .link_existing(
            scope.tenant,
            source,
            entity::TICKET_OF_CALL,
            ticket_id,
            fingerprint,
            scope.now,
        )
        .await?;
    let stamp = format!(
        "{COMPANY_STAMP}{}",
        company.map_or_else(String::new, |c| c.to_string())
    );
    scope
        .links
        .record_stamp(scope.tenant, source, &stamp, scope.now)
        .await?;
    Ok(())
}

/// How many unreadable billing records a ticket's line names at most.
const UNREADABLE_NAMED: usize = 3;

/// `; the billing system lists records the import could not read: …` naming `malformed` (each
/// with its id and field, at most [`UNREADABLE_NAMED`]), or nothing when there are none.
fn unreadable_records<'a>(malformed: impl IntoIterator<Item = &'a String>) -> String {
    let all: Vec<&String> = malformed.into_iter().collect();
    if all.is_empty() {
        return String::new();
    }
    let named: Vec<&str> = all
        .iter()
        .take(UNREADABLE_NAMED)
        .map(|m| m.as_str())
        .collect();
    let more = all.len().saturating_sub(UNREADABLE_NAMED);
    format!(
        "; the billing system lists records the import could not read: {}{}",
        named.join("; "),
        if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        }
    )
}

/// A billing error while `doing`: the job's when it fails every call alike (retried), else the
/// ticket's failed line.
fn billing_failure(
    recorder: &Recorder,
    doing: String,
    error: BillingError,
) -> Result<RecordResult, SyncError> {
    if billing_job_level(&error) {
        Err(SyncError::billing(doing, error))
    } else {
        Ok(recorder.failed(format!("{doing}: {error}")))
    }
}

/// Why a ticket is not finished yet — not in one of the tenant's import statuses, or no time
/// logged on it — or `None` when it is finished.
fn not_finished(
    side: &TicketSide<'_>,
    settings: &cwsync_mapping::settings::TenantSettings,
) -> Option<String> {
    let status = side
        .ticket
        .status
        .as_ref()
        .and_then(|s| s.name.as_deref())
        .unwrap_or_default();
    if !settings.ticket_import.imports_status(status) {
        return Some(format!(
            "not finished: status {status:?} is not imported (ticketImport.statuses); imported \
             once it is"
        ));
    }
    side.time_entries
        .is_empty()
        .then(|| "not finished: no time logged on it yet; imported once there is".to_owned())
}
