//! How frugal a tenant's ticket import is, end to end (issue 10 §7): the real `ticket-import`
//! function over real HTTP against both in-process simulators (no added latency, the ConnectWise
//! simulator's response-schema check off), on in-memory stores and an in-memory ticket queue
//! delivered as SQS would (batches of ten, each batch's jobs handled `DEFAULT_CONCURRENCY` at a
//! time, as deployed). Every round starts on fresh simulators and fresh function state: 100
//! accounts synced to companies by the customer sync, then 2,000 finished service tickets on
//! those companies, each with 3 time entries (by two members who match billing technicians by
//! e-mail) and 1 product (a catalog item whose SKU the billing system has), seeded through the
//! simulator's own write path (`Simulator::create`: defaults and derived values as for a client,
//! not counted as API calls). None of that is measured. Three scenarios, in order:
//! - the first import (asserted: every ticket's call exists exactly once in the billing system,
//!   with its 3 labor lines and its part; measured: the calls by endpoint against the lower bound:
//!   the planning's reads, the reads of each SQS batch of ticket jobs, one billing create each),
//! - the unchanged re-run within the overlap window (the window's tickets listed again, none
//!   planned again: the watermark's tail; asserted: 0 jobs, 0 billing writes; measured: its reads),
//! - an unchanged full re-run (`import-now` with `since` before the first: every ticket listed and
//!   its job run; asserted: every ticket unchanged, 0 billing writes).
//!
//! Every run must succeed with no failed ticket and no job left for the DLQ.
//!
//! Run: `cargo bench -p cwsync-benches --bench ticket_import`. Prints one line per scenario:
//! wall time of the run (planning, fan-out and every job delivered; median of the rounds), jobs,
//! the calls each simulator received; then the lower bounds and the ratios, the calls by endpoint
//! of one round and the process's peak RSS at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cwsync_benches::{
    T0, TENANT, TICKET_FINISHED, TICKET_MEMBERS, assert_run_succeeded, bench_options, bench_world,
    delta, median, median_count, peak_rss_mib, print_calls_by_endpoint, print_round_times,
    seed_finished_ticket, seed_ticket_members, set_up_tenant, spread,
};
use cwsync_billing_sim::{BillingSim, fixture_items, fixture_product_types, fixture_technicians};
use cwsync_connectwise_sim::Simulator;
use cwsync_queue::MemoryJobQueue;
use cwsync_test_support::deliver_checked;
use cwsync_ticket_import::{DEFAULT_CONCURRENCY, Event, FUNCTION, TIME_ENTRY_BATCH, TicketImport};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;

const ACCOUNTS: usize = 100;
const TICKETS: usize = 2000;
const ENTRIES_PER_TICKET: usize = 3;
const PRODUCTS_PER_TICKET: usize = 1;
/// Records one ConnectWise read lists (`pageSize=1000`).
const PAGE: usize = 1000;
const ROUNDS: usize = 3;
/// A SKU the billing items have (`I-TONER-BK`).
const SKU: &str = "TONER-DXC5850-BK";
const FIRST: &str = "first import, 2,000 tickets x (3 time entries, 1 product)";
const UNCHANGED: &str = "unchanged re-run (from the watermark)";
const FULL: &str = "unchanged full re-run (since before the first)";
const SCENARIOS: [&str; 3] = [FIRST, UNCHANGED, FULL];
/// Between two tickets' last changes: 2,000 tickets finished over about 8 hours, a busy
/// service desk's day.
const TICKET_SPACING: Duration = Duration::from_secs(15);

/// Both simulators, the ticket import over them, as deployed except for the ConnectWise rate
/// limit (see `bench_options`).
struct World {
    cw: Simulator,
    billing: BillingSim,
    import: Arc<TicketImport>,
    ticket_queue: Arc<MemoryJobQueue>,
    tickets: Vec<i64>,
}

/// A fresh world: the accounts synced to companies, the tenant's ticket-import settings stored,
/// the members, the catalog item and the finished tickets seeded (none of it measured).
async fn world() -> World {
    let mut base = bench_world(FUNCTION, ACCOUNTS).await;
    base.cw.set_clock(T0);
    base.billing.seed_technicians(fixture_technicians());
    base.billing.seed_items(fixture_items());
    base.billing.seed_product_types(fixture_product_types());
    let ticket_queue = Arc::new(MemoryJobQueue::new());
    base.deps.queues.ticket = Some(ticket_queue.clone());
    let settings = json!({"ticketImport": {"statuses": [TICKET_FINISHED]}});
    let deps = set_up_tenant(base.deps, &base.customer_queue, TENANT, settings).await;
    let (cw, billing) = (base.cw, base.billing);
    let import = TicketImport::new(deps, bench_options());
    // `import.concurrency` stays the deployed default.
    assert_eq!(import.concurrency, DEFAULT_CONCURRENCY);
    let companies: Vec<i64> = cw
        .records("/company/companies")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(companies.len(), ACCOUNTS);

    let seeding = Instant::now();
    let tickets = seed_tickets(&cw, &companies);
    eprintln!(
        "seeded {TICKETS} tickets, {} time entries and {} products in {} (not measured)",
        TICKETS * ENTRIES_PER_TICKET,
        TICKETS * PRODUCTS_PER_TICKET,
        ms(seeding.elapsed())
    );
    World {
        cw,
        billing,
        import: Arc::new(import),
        ticket_queue,
        tickets,
    }
}

/// The members, the catalog item, and `TICKETS` finished tickets on `companies` (round robin),
/// each with its time entries and product; through the simulator's write path, as a ConnectWise
/// user's POSTs (not counted as API calls). Returns the tickets' ids.
fn seed_tickets(cw: &Simulator, companies: &[i64]) -> Vec<i64> {
    let members = seed_ticket_members(cw);
    let item = cw
        .create(
            "/procurement/catalog",
            json!({"identifier": SKU, "description": "Toner cartridge, black",
                   "customerDescription": "Toner cartridge, black", "subcategory": {"id": 1},
                   "type": {"name": "Inventory"}, "price": 89.5}),
        )
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let calls_before = cw.calls().total();
    let mut tickets = Vec::with_capacity(TICKETS);
    for n in 0..TICKETS {
        let ticket = seed_finished_ticket(
            cw,
            n,
            companies[n % companies.len()],
            &members,
            ENTRIES_PER_TICKET,
        );
        for _ in 0..PRODUCTS_PER_TICKET {
            cw.create(
                "/procurement/products",
                json!({"catalogItem": {"id": item}, "ticket": {"id": ticket},
                       "quantity": 1 + n % 3, "billableOption": "Billable"}),
            )
            .unwrap();
        }
        tickets.push(ticket);
        cw.advance_clock(TICKET_SPACING);
    }
    assert_eq!(
        cw.calls().total(),
        calls_before,
        "seeding is not API traffic"
    );
    tickets
}

/// What one run cost.
struct Measured {
    time: Duration,
    /// Ticket jobs delivered.
    jobs: u64,
    /// Tickets the planning listed.
    listed: u64,
    /// The planning's reads: the ticket listings (service and project tickets, closed projects)
    /// and the time-entry batches.
    planning_reads: u64,
    /// Of those, the time-entry batches.
    planning_entry_reads: u64,
    /// The planning's reads by endpoint.
    planning_by_endpoint: BTreeMap<String, u64>,
    cw_reads: u64,
    cw_writes: u64,
    billing_reads: u64,
    billing_writes: u64,
    cw_by_endpoint: BTreeMap<String, u64>,
    billing_by_route: BTreeMap<String, u64>,
    report: Value,
}

impl Measured {
    fn count(&self, outcome: &str) -> u64 {
        self.report["run"]["counts"]
            .as_object()
            .into_iter()
            .flat_map(|entities| entities.values())
            .filter_map(|counts| counts[outcome].as_u64())
            .sum()
    }

    /// The ConnectWise reads of endpoints starting with `prefix` (`GET /service/tickets`).
    fn cw(&self, prefix: &str) -> u64 {
        self.cw_by_endpoint
            .iter()
            .filter(|(endpoint, _)| endpoint.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

/// The billing writes among calls by route: every call that is not a GET (the simulator's own
/// `writes` counts only PATCHes and write-backs, not service-call creates and updates).
fn billing_writes(by_route: &BTreeMap<String, u64>) -> u64 {
    by_route
        .iter()
        .filter(|(route, _)| !route.starts_with("GET "))
        .map(|(_, n)| n)
        .sum()
}

/// One tenant-wide import: plan, fan out, deliver every job; then its report (not timed).
async fn import(world: &World, since: Option<OffsetDateTime>) -> Measured {
    let cw_before = world.cw.calls();
    let billing_before = world.billing.calls();
    let started = Instant::now();
    let planned = world
        .import
        .handle_event(Event::ImportNow {
            tenant: TENANT.to_owned(),
            since,
            dry_run: false,
        })
        .await
        .unwrap_or_else(|d| panic!("import-now: {}: {}", d.error_type, d.error_message));
    // The planning makes no ConnectWise write: everything it called is a read.
    let cw_planned = world.cw.calls();
    let planning_reads = cw_planned.total() - cw_before.total();
    let planning_by_endpoint = delta(&cw_planned.by_endpoint, &cw_before.by_endpoint);
    // Every job delivered; none left for the DLQ (asserted).
    let jobs = deliver_checked(&world.ticket_queue, |event, deadline| {
        let import = Arc::clone(&world.import);
        async move { import.handle_jobs(event, deadline).await }
    })
    .await;
    let time = started.elapsed();
    let cw_after = world.cw.calls();
    let billing_after = world.billing.calls();
    let run_id = planned["runId"].as_str().unwrap().to_owned();
    let report = world
        .import
        .handle_event(Event::Report {
            tenant: TENANT.to_owned(),
            run_id: Some(run_id),
            page_token: None,
            moves: false,
        })
        .await
        .unwrap_or_else(|d| panic!("report: {}: {}", d.error_type, d.error_message));
    let billing_by_route = delta(&billing_after.by_route, &billing_before.by_route);
    let cw_by_endpoint = delta(&cw_after.by_endpoint, &cw_before.by_endpoint);
    let billing_writes = billing_writes(&billing_by_route);
    let cw_writes = cw_after.writes() - cw_before.writes();
    assert_eq!(cw_writes, 0, "the import never writes to ConnectWise");
    assert_run_succeeded(&report);
    Measured {
        time,
        jobs,
        listed: planned["tickets"].as_u64().unwrap(),
        planning_reads,
        planning_by_endpoint,
        planning_entry_reads: planned["timeEntryReads"].as_u64().unwrap(),
        cw_reads: cw_after.total() - cw_before.total() - cw_writes,
        cw_writes,
        billing_reads: billing_after.total() - billing_before.total() - billing_writes,
        billing_writes,
        cw_by_endpoint,
        billing_by_route,
        report,
    }
}

/// The first import, checked: every ticket's call in the billing system exactly once, with its
/// labor and its part.
fn check_first(world: &World, first: &Measured) {
    assert_eq!(
        first.count("created"),
        TICKETS as u64,
        "{FIRST}: {}",
        first.report["run"]
    );
    let calls = world.billing.service_calls();
    let mut by_ticket: BTreeMap<i64, usize> = BTreeMap::new();
    for call in &calls {
        let ticket = call
            .external_reference
            .as_deref()
            .and_then(|r| r.strip_prefix("cw:ticket:"))
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("{FIRST}: call {} has no ticket reference", call.id));
        *by_ticket.entry(ticket).or_default() += 1;
        assert_eq!(
            call.labor.len(),
            ENTRIES_PER_TICKET,
            "{FIRST}: call {}",
            call.id
        );
        assert_eq!(
            call.parts.len(),
            PRODUCTS_PER_TICKET,
            "{FIRST}: call {}",
            call.id
        );
        assert!(
            call.parts.iter().all(|p| p.item_id == "I-TONER-BK"),
            "{FIRST}: call {}: {:?}",
            call.id,
            call.parts
        );
        assert!(!call.on_hold, "{FIRST}: call {} on hold", call.id);
        let technicians: BTreeSet<&str> = call
            .labor
            .iter()
            .map(|l| l.technician_id.as_str())
            .collect();
        assert!(
            technicians
                .iter()
                .all(|t| TICKET_MEMBERS.iter().any(|(_, _, tech)| tech == t)),
            "{FIRST}: call {}: {technicians:?}",
            call.id
        );
        let hours: Decimal = call.labor.iter().map(|l| l.hours).sum();
        assert_eq!(
            hours,
            Decimal::new(225, 2),
            "{FIRST}: call {}: 3 x 0.75 h",
            call.id
        );
    }
    assert_eq!(calls.len(), TICKETS, "{FIRST}: one call per ticket");
    let expected: BTreeSet<i64> = world.tickets.iter().copied().collect();
    let got: BTreeSet<i64> = by_ticket.keys().copied().collect();
    assert_eq!(got, expected, "{FIRST}: every ticket has its call");
    assert!(
        by_ticket.values().all(|n| *n == 1),
        "{FIRST}: a ticket with two calls"
    );
}

/// One round: a fresh world, the three scenarios in order.
async fn round() -> [Measured; 3] {
    let world = world().await;

    let first = import(&world, None).await;
    check_first(&world, &first);
    let calls_after_first = world.billing.service_calls();

    // The next scheduled run, nothing changed: the tickets of the overlap window before the
    // watermark are listed again, and none is planned again (the watermark's tail).
    let unchanged = import(&world, None).await;
    assert!(
        unchanged.listed > 0,
        "{UNCHANGED}: the overlap lists tickets"
    );
    assert_eq!(
        unchanged.jobs, 0,
        "{UNCHANGED}: no ticket job: {}",
        unchanged.report["run"]
    );
    assert_eq!(unchanged.billing_writes, 0, "{UNCHANGED}: 0 billing writes");

    // Every ticket listed again (`import-now` with `since`): every job finds its ticket
    // imported and unchanged.
    let full = import(&world, Some(T0 - time::Duration::days(1))).await;
    assert_eq!(full.listed, TICKETS as u64, "{FULL}");
    assert_eq!(
        full.count("unchanged"),
        TICKETS as u64,
        "{FULL}: {}",
        full.report["run"]
    );
    assert_eq!(full.billing_writes, 0, "{FULL}: 0 billing writes");
    assert_eq!(
        world.billing.service_calls(),
        calls_after_first,
        "no call changed after the first import"
    );

    world.cw.shutdown().await;
    world.billing.shutdown().await;
    [first, unchanged, full]
}

fn ms(time: Duration) -> String {
    format!("{:.0} ms", time.as_secs_f64() * 1000.0)
}

/// The reads of the planning no import can do without: the ticket listing (one per page of
/// 1,000) and the time entries `TIME_ENTRY_BATCH` tickets per read (the planning keeps a ticket
/// without time out).
fn planning_bound() -> u64 {
    (TICKETS.div_ceil(PAGE) + TICKETS.div_ceil(TIME_ENTRY_BATCH)) as u64
}

/// The reads the jobs add per SQS batch: its tickets, their time entries, their products and
/// those products' catalog items, each read afresh ("never trust the job") for the whole batch.
const READS_PER_BATCH: u64 = 4;

/// SQS's batch for the ticket queue (`BatchSize` in `infra/template.yaml`).
const SQS_BATCH: usize = 10;

#[tokio::main]
async fn main() {
    let mut rounds: Vec<[Measured; 3]> = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        rounds.push(round().await);
    }

    println!(
        "ticket import, {TICKETS} finished tickets x ({ENTRIES_PER_TICKET} time entries, \
         {PRODUCTS_PER_TICKET} product) on {ACCOUNTS} companies, jobs handled \
         {DEFAULT_CONCURRENCY} at a time (DEFAULT_CONCURRENCY), median of {ROUNDS} rounds"
    );
    println!(
        "{:<54} {:>9} {:>6} {:>8} {:>9} {:>9} {:>8} {:>8}",
        "scenario", "median", "listed", "jobs", "CW reads", "CW writes", "bill rd", "bill wr"
    );
    for (i, name) in SCENARIOS.iter().enumerate() {
        let runs: Vec<&Measured> = rounds.iter().map(|r| &r[i]).collect();
        let column =
            |f: fn(&Measured) -> u64| spread(&runs.iter().map(|r| f(r)).collect::<Vec<_>>());
        println!(
            "{name:<54} {:>9} {:>6} {:>8} {:>9} {:>9} {:>8} {:>8}",
            ms(median(runs.iter().map(|r| r.time).collect())),
            column(|r| r.listed),
            column(|r| r.jobs),
            column(|r| r.cw_reads),
            column(|r| r.cw_writes),
            column(|r| r.billing_reads),
            column(|r| r.billing_writes),
        );
    }

    let first: Vec<&Measured> = rounds.iter().map(|r| &r[0]).collect();
    let f = first[0];
    println!();
    println!("against the lower bound (issue 10 §7):");
    let tickets = TICKETS as u64;
    let cw_calls = median_count(first.iter().map(|r| r.cw_reads).collect());
    let billing_calls = median_count(
        first
            .iter()
            .map(|r| r.billing_reads + r.billing_writes)
            .collect(),
    );
    let planning = planning_bound();
    let batches = TICKETS.div_ceil(SQS_BATCH) as u64;
    let bound = planning + READS_PER_BATCH * batches + tickets;
    let calls = cw_calls + billing_calls;
    println!(
        "  first import: {calls} calls ({cw_calls} ConnectWise reads, {billing_calls} billing \
         calls of which {} writes)",
        f.billing_writes
    );
    println!(
        "  lower bound: {bound} = {} ticket listing pages + {} time-entry batch reads \
         ({TIME_ENTRY_BATCH} tickets each) + {READS_PER_BATCH} reads per SQS batch of \
         {SQS_BATCH} jobs (tickets, time entries, products, catalog items: the jobs read their \
         tickets afresh) x {batches} + 1 billing create per ticket; ratio {:.3}",
        TICKETS.div_ceil(PAGE),
        TICKETS.div_ceil(TIME_ENTRY_BATCH),
        calls as f64 / bound as f64
    );
    println!(
        "  over the bound: the reference data (members {}, billing lists {}: read once per \
         run: the batch's concurrent jobs wait for the first one's read) and {} other ConnectWise reads",
        f.cw("GET /system/members"),
        f.billing_reads,
        f.cw("GET /login/"),
    );
    // The jobs' reads: everything but the planning's listing and time-entry batches.
    let job_reads = f.cw_reads - f.planning_reads;
    println!(
        "  of the {} ConnectWise reads, {} are the planning's ({} listing, {} time-entry \
         batches) and {job_reads} the jobs' ({:.2} per ticket: tickets {}, time entries {}, \
         products {}, catalog items {}, reference data {})",
        f.cw_reads,
        f.planning_reads,
        f.planning_reads - f.planning_entry_reads,
        f.planning_entry_reads,
        job_reads as f64 / tickets as f64,
        f.cw("GET /service/tickets")
            - f.planning_by_endpoint
                .get("GET /service/tickets")
                .copied()
                .unwrap_or_default(),
        f.cw("GET /time/entries") - f.planning_entry_reads,
        f.cw("GET /procurement/products"),
        f.cw("GET /procurement/catalog"),
        f.cw("GET /system/members"),
    );
    for (i, name) in [(1, UNCHANGED), (2, FULL)] {
        let runs: Vec<&Measured> = rounds.iter().map(|r| &r[i]).collect();
        let listed = median_count(runs.iter().map(|r| r.listed).collect());
        let reads = median_count(runs.iter().map(|r| r.cw_reads).collect());
        let billing = median_count(runs.iter().map(|r| r.billing_reads).collect());
        let writes = runs
            .iter()
            .map(|r| r.billing_writes + r.cw_writes)
            .max()
            .unwrap_or_default();
        println!(
            "  {name}: {listed} tickets listed, {writes} writes (asserted 0); {reads} ConnectWise \
             reads ({:.2} per ticket listed), {billing} billing reads",
            reads as f64 / listed.max(1) as f64
        );
    }
    print_round_times(rounds.iter().map(|r| r.iter().map(|m| m.time).collect()));

    println!();
    print_calls_by_endpoint(
        SCENARIOS
            .iter()
            .zip(&rounds[0])
            .map(|(name, run)| (*name, &run.cw_by_endpoint, &run.billing_by_route)),
    );
    println!();
    println!("peak RSS: {:.1} MiB", peak_rss_mib());
}
