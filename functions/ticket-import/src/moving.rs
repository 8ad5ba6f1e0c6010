//! Moving tickets (seeds 000 "Moving Tickets", ID912): the tenant's billing service calls flagged
//! for ConnectWise become ConnectWise tickets, and each call goes on hold with a note naming its
//! ticket. On the schedule ([`cwsync_queue::JobKind::TicketMoveTenant`], sent by the tick with the
//! import's planning) and from the console (`move-calls`, answering the run's lines).
//!
//! One run per tenant and tick, recorded as job kind [`MOVE_JOB_KIND`] with one line per call:
//!
//! 1. The calls waiting to move (`flaggedForConnectWise=true`: flagged, open, not on hold, not
//!    linked to a ticket) are listed; each one's hints are mapped to ConnectWise names by
//!    `ticketImport.moving` (pure: `cwsync_mapping::tickets::moving`), and only the boards those
//!    name are read (with their statuses and types) and the priorities, once per run.
//! 2. Per call, never a duplicate: a call already linked to a ticket (an earlier attempt created
//!    it and stopped before the hold) only finishes its hold; otherwise the ticket is created
//!    under a claim on the call's link (`cwsync_sync::claim`), and a create whose answer was lost,
//!    or a claim taken over from a worker that died, is settled by the ticket's natural key
//!    (`externalXRef` = the call's id) instead of creating again.
//! 3. Then the call goes on hold (`POST /v1/service-calls/{id}/hold`, repeatable) with a reason
//!    and a note naming the ticket, and the ticket's reference (`cw:ticket:<id>`): the ticket
//!    import finds the call by that link and reference when the ticket is finished with time, and
//!    completes that call instead of making another.
//!
//! A call another worker is moving right now, or whose lost create is not visible yet, is
//! skipped (its line says so) and moves on the next run; the other calls go on.
//!
//! A call that can't move (a hint not mapped, a name ConnectWise lacks, an account without a
//! company, ConnectWise refusing the ticket) is its run's `failed` line and on the error ledger,
//! and is **not** put on hold (seeds: a failed move that held the call hid the failure); it is
//! tried again by every run until it moves. A dry run reads and maps, and writes nothing.

use std::collections::BTreeSet;

use cwsync_billing::models::ServiceCall;
use cwsync_billing::{BillingClient, ServiceCallQuery};
use cwsync_connectwise::models::{Board, BoardStatus, BoardType, Priority, Resource, Ticket};
use cwsync_connectwise::{Client, Condition, Direction, Query};
use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::fingerprint;
use cwsync_mapping::tickets::entity;
use cwsync_mapping::tickets::moving::{
    self, BoardNames, MoveProblem, Named, ServiceNames, TargetNames,
};
use cwsync_store::links::{LinkState, LinkStore, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_store::{RunId, TenantId};
use cwsync_sync::claim::linked_to_other;
use cwsync_sync::writes::billing_job_level;
use cwsync_sync::{
    Created, Creation, Origin, RecordResult, Recorder, RunBook, SyncError, UnitResult,
    create_claimed,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::TicketImport;

/// The job kind of move runs (their reports and the `report` action's `moves`).
pub const MOVE_JOB_KIND: &str = "ticket-move";

/// What a move run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MovedRun {
    /// The run.
    pub run_id: String,
    /// Whether it only planned.
    pub dry_run: bool,
    /// Calls waiting to move.
    pub calls: u64,
    /// Of those, calls now on hold with their ticket (or that would be, in a dry run).
    pub moved: u64,
    /// Of those, calls that failed (not on hold).
    pub failed: u64,
    /// One line per call.
    pub records: Vec<RecordResult>,
}

/// What one call's move touches.
struct MoveScope<'a> {
    tenant: &'a TenantId,
    dry_run: bool,
    cw: &'a Client,
    billing: &'a BillingClient,
    links: &'a dyn LinkStore,
    now: OffsetDateTime,
}

impl TicketImport {
    /// Where move runs are recorded: one unit per call.
    pub fn move_book(&self) -> RunBook {
        RunBook::new(
            std::sync::Arc::clone(&self.deps),
            MOVE_JOB_KIND,
            entity::SERVICE_CALL,
        )
    }

    /// Moves the tenant's flagged calls in run `run_id` (see the module docs) and records the
    /// run. [`SyncError::NotConfigured`] when the tenant has no `ticketImport.moving`.
    ///
    /// The lines are recorded once every call is done, so a job retried after a failure half way
    /// records the calls it finds then (those moved before are no longer listed: nothing is moved
    /// twice); a redelivered job that had recorded its run records nothing again.
    pub async fn move_calls(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        dry_run: bool,
    ) -> Result<MovedRun, SyncError> {
        let deps = &*self.deps;
        let settings = cwsync_sync::tenant::settings(deps, tenant).await?;
        let Some(moving) = settings.ticket_import.moving.as_ref() else {
            return Err(SyncError::NotConfigured {
                tenant: tenant.to_string(),
                job: MOVE_JOB_KIND,
                reason: "ticketImport.moving is not set: no call is moved to ConnectWise"
                    .to_owned(),
            });
        };
        let clients = self.clients(tenant).await?;
        let listed = clients
            .billing
            .list_service_calls(&ServiceCallQuery::flagged_for_connect_wise())
            .await
            .map_err(|e| SyncError::billing("listing the calls flagged for ConnectWise", e))?;
        let mut records = Vec::new();
        for bad in &listed.malformed {
            let Some(id) = bad.id.as_deref() else {
                tracing::warn!(%tenant, record = %bad, "a flagged call without an id can't be moved");
                continue;
            };
            let recorder = Recorder::new(entity::SERVICE_CALL, id, fingerprint(&bad.to_string()));
            records.push(recorder.failed(format!("can't be read, so it is not moved: {bad}")));
        }

        // Every call's ConnectWise names first, so only the boards they need are read.
        let names: Vec<Result<TargetNames, Vec<MoveProblem>>> = listed
            .records
            .iter()
            .map(|call| moving::target_names(call, moving))
            .collect();
        let boards: BTreeSet<String> = names
            .iter()
            .filter_map(|n| n.as_ref().ok().map(|n| n.board.to_lowercase()))
            .collect();
        let priorities = names
            .iter()
            .any(|n| n.as_ref().is_ok_and(|n| n.priority.is_some()));
        let service = if boards.is_empty() {
            ServiceNames::default()
        } else {
            read_service_names(&clients.cw, &boards, priorities).await?
        };

        let scope = MoveScope {
            tenant,
            dry_run,
            cw: &clients.cw,
            billing: &clients.billing,
            links: deps.stores.links.as_ref(),
            now: self.now(),
        };
        for (call, names) in listed.records.iter().zip(names) {
            let line = match Box::pin(move_call(&scope, call, names, &service)).await {
                Ok(line) => line,
                // This call only: another worker is moving it, or a lost create is not
                // visible yet (its claim is kept, so the next run settles it). The others go on.
                Err(error @ (SyncError::Busy { .. } | SyncError::Unsettled { .. })) => {
                    Recorder::new(entity::SERVICE_CALL, &call.id, String::new()).with_detail(
                        Outcome::Skipped,
                        format!("{error}; it moves on the next run"),
                    )
                }
                Err(error) => return Err(error),
            };
            records.push(line);
        }

        let book = self.move_book();
        let units: Vec<UnitResult> = records.iter().cloned().map(UnitResult::single).collect();
        if book
            .start(tenant, run_id, dry_run, units.len() as u64)
            .await?
        {
            book.record(tenant, run_id, dry_run, &units).await?;
        }
        book.finish_if_done(tenant, run_id).await?;
        let failed = records
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .count() as u64;
        let moved = records
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Created | Outcome::Linked))
            .count() as u64;
        tracing::info!(%tenant, %run_id, calls = records.len(), moved, failed, dry_run, "flagged calls moved");
        Ok(MovedRun {
            run_id: run_id.to_string(),
            dry_run,
            calls: records.len() as u64,
            moved,
            failed,
            records,
        })
    }
}

/// Reads the boards named `boards` (lower case) with their statuses and types, and the
/// priorities when `priorities`: one read of the boards, two per board needed, one of the
/// priorities.
async fn read_service_names(
    cw: &Client,
    boards: &BTreeSet<String>,
    priorities: bool,
) -> Result<ServiceNames, SyncError> {
    let page = |fields: &[&'static str]| {
        Query::new()
            .fields(fields.iter().copied())
            .order_by("id", Direction::Asc)
            .page_size(1000)
    };
    let listed: Vec<Board> = cw
        .list_all(Board::PATH, &page(&["id", "name", "inactiveFlag"]))
        .await
        .map_err(|e| SyncError::connectwise("reading the service boards", e))?;
    let mut names = ServiceNames::default();
    for board in listed {
        let (Some(id), Some(name)) = (board.id, board.name) else {
            continue;
        };
        if !boards.contains(&name.trim().to_lowercase()) {
            continue;
        }
        let statuses: Vec<BoardStatus> = cw
            .list_all(&BoardStatus::path(id), &page(&["id", "name", "inactive"]))
            .await
            .map_err(|e| {
                SyncError::connectwise(format!("reading the statuses of board {id}"), e)
            })?;
        let types: Vec<BoardType> = cw
            .list_all(&BoardType::path(id), &page(&["id", "name", "inactiveFlag"]))
            .await
            .map_err(|e| SyncError::connectwise(format!("reading the types of board {id}"), e))?;
        names.boards.push(BoardNames {
            board: Named {
                id,
                name,
                inactive: board.inactive_flag.unwrap_or(false),
            },
            statuses: statuses
                .into_iter()
                .filter_map(|s| named(s.id, s.name, s.inactive))
                .collect(),
            types: types
                .into_iter()
                .filter_map(|t| named(t.id, t.name, t.inactive_flag))
                .collect(),
        });
    }
    if priorities {
        let listed: Vec<Priority> = cw
            .list_all(Priority::PATH, &page(&["id", "name"]))
            .await
            .map_err(|e| SyncError::connectwise("reading the priorities", e))?;
        names.priorities = listed
            .into_iter()
            .filter_map(|p| named(p.id, p.name, None))
            .collect();
    }
    Ok(names)
}

fn named(id: Option<i64>, name: Option<String>, inactive: Option<bool>) -> Option<Named> {
    Some(Named {
        id: id?,
        name: name?,
        inactive: inactive.unwrap_or(false),
    })
}

/// Moves one call (see the module docs): its line.
async fn move_call(
    scope: &MoveScope<'_>,
    call: &ServiceCall,
    names: Result<TargetNames, Vec<MoveProblem>>,
    service: &ServiceNames,
) -> Result<RecordResult, SyncError> {
    let recorder = Recorder::new(
        entity::SERVICE_CALL,
        &call.id,
        moving::source_fingerprint(call),
    );
    let source = SourceRef::new(entity::SERVICE_CALL, &call.id);

    // Created by an earlier attempt that stopped before the hold: only the hold is left.
    if let Some(link) = scope.links.get(scope.tenant, source).await?
        && link.state == LinkState::Linked
        && let Some(ticket) = link.cw_id
    {
        let how = format!("ConnectWise ticket {ticket} was made by an earlier attempt");
        return hold(scope, &recorder, call, ticket, None, Outcome::Linked, how).await;
    }

    let mut problems = moving::call_problems(call);
    let names = names.map_err(|found| problems.extend(found)).ok();
    let company = scope
        .links
        .get(
            scope.tenant,
            SourceRef::new(customer::COMPANY, &call.account_id),
        )
        .await?
        .filter(|l| l.state == LinkState::Linked)
        .and_then(|l| l.cw_id);
    if company.is_none() {
        problems.push(MoveProblem {
            call: call.id.clone(),
            field: "accountId".to_owned(),
            message: format!(
                "account {} has no ConnectWise company: link it by the customer sync \
                 (sync-account or link) and the call moves on the next run",
                call.account_id
            ),
        });
    }
    let (Some(names), Some(company)) = (names, company) else {
        return Ok(recorder.problems(&problems));
    };
    let ids = match moving::resolve_names(&call.id, &names, service) {
        Ok(ids) if problems.is_empty() => ids,
        Ok(_) => return Ok(recorder.problems(&problems)),
        Err(found) => {
            problems.extend(found);
            return Ok(recorder.problems(&problems));
        }
    };
    let ticket = moving::ticket_of(call, company, &ids);
    let link_fingerprint = moving::ticket_fingerprint(&ticket);
    let what = format!("ConnectWise ticket of service call {}", call.id);
    let natural_key = format!("externalXRef {:?}", moving::natural_key(&call.id));
    let creation = Creation {
        tenant: scope.tenant,
        links: scope.links,
        source,
        cw_kind: entity::TICKET_OF_CALL,
        what: &what,
        natural_key: &natural_key,
        fingerprint: &link_fingerprint,
        now: scope.now,
        dry_run: scope.dry_run,
        defer_taken: false,
    };
    let mut lines = Vec::new();
    let created = create_claimed(
        &creation,
        &recorder,
        &mut lines,
        |t: &Ticket| t.id,
        || find_ticket(scope.cw, &call.id),
        || scope.cw.create::<_, Ticket>(Ticket::PATH, &ticket),
    )
    .await?;
    let board = Some(names.board.as_str());
    match created {
        Created::Linked {
            link,
            origin,
            record,
        } => {
            let id = link.cw_id.or(record.id).unwrap_or_default();
            let (outcome, how) = match origin {
                Origin::Answered => (
                    Outcome::Created,
                    format!("created ConnectWise ticket {id} on board {}", names.board),
                ),
                Origin::Settled => (
                    Outcome::Linked,
                    format!(
                        "found ConnectWise ticket {id} by its externalXRef after its create \
                         went unanswered"
                    ),
                ),
                Origin::Healed => (
                    Outcome::Linked,
                    format!(
                        "found ConnectWise ticket {id} created by an interrupted earlier attempt"
                    ),
                ),
            };
            hold(scope, &recorder, call, id, board, outcome, how).await
        }
        Created::AlreadyLinked(link) => {
            let id = link.cw_id.unwrap_or_default();
            let how = format!("ConnectWise ticket {id} was made by a concurrent move");
            hold(scope, &recorder, call, id, board, Outcome::Linked, how).await
        }
        Created::LinkedToOther { cw_id, holder } => {
            Ok(recorder.failed(linked_to_other(entity::TICKET_OF_CALL, cw_id, &holder)))
        }
        Created::Planned => Ok(recorder.with_detail(
            Outcome::Created,
            format!(
                "would create a ConnectWise ticket on board {} for company {company} and put \
                 the call on hold naming it",
                names.board
            ),
        )),
        Created::Refused => Ok(lines.pop().map_or_else(
            || recorder.failed("ConnectWise refused the ticket"),
            |line| {
                let detail = format!(
                    "ConnectWise refused the ticket, so the call is not put on hold: {}",
                    line.detail
                );
                recorder.failed(detail)
            },
        )),
    }
}

/// The ticket whose `externalXRef` is call `call_id` (the lowest id when several are: one
/// made by this sync is never made twice, so more means a copy by hand).
async fn find_ticket(cw: &Client, call_id: &str) -> Result<Option<Ticket>, SyncError> {
    let query = Query::new()
        .filter(Condition::field("externalXRef").eq(moving::natural_key(call_id)))
        .fields(["id", "externalXRef"])
        .order_by("id", Direction::Asc)
        .page_size(25);
    let found: Vec<Ticket> = cw.list_all(Ticket::PATH, &query).await.map_err(|e| {
        SyncError::connectwise(
            format!("looking up the ticket of service call {call_id}"),
            e,
        )
    })?;
    Ok(found.into_iter().find(|t| t.id.is_some()))
}

/// Puts the call on hold naming ticket `ticket` (on `board`, when known): the line `outcome` /
/// `how` when it is, the call's failure when the billing system refuses, the job's error when
/// it fails every call alike (the retry only holds: the link names the ticket).
async fn hold(
    scope: &MoveScope<'_>,
    recorder: &Recorder,
    call: &ServiceCall,
    ticket: i64,
    board: Option<&str>,
    outcome: Outcome,
    how: String,
) -> Result<RecordResult, SyncError> {
    if scope.dry_run {
        return Ok(recorder
            .with_detail(
                outcome,
                format!("{how}; would put the call on hold naming it"),
            )
            .with_id(ticket));
    }
    let request = moving::hold_request(ticket, board);
    match scope.billing.hold_service_call(&call.id, &request).await {
        Ok(_) => Ok(recorder
            .with_detail(outcome, format!("{how}; the call is on hold naming it"))
            .with_id(ticket)),
        Err(error) if billing_job_level(&error) => Err(SyncError::billing(
            format!("putting service call {} on hold", call.id),
            error,
        )),
        Err(error) => Ok(recorder
            .failed(format!(
                "{how}, but putting the call on hold failed: {error}; it is tried again on the \
                 next run"
            ))
            .with_id(ticket)),
    }
}
