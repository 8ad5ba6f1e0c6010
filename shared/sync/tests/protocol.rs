//! The shared sync machinery with a toy record kind: widgets with a SKU as their natural key, in
//! a toy ConnectWise that can lose a create's answer, refuse a taken SKU or refuse the values.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cwsync_connectwise::CwError;
use cwsync_runtime::Deps;
use cwsync_store::links::{Link, LinkState, LinkStore, MemoryLinkStore, SourceRef};
use cwsync_store::runs::{Outcome, RunStatus};
use cwsync_store::{RunId, TenantId};
use cwsync_sync::{
    Created, Creation, Origin, RecordResult, Recorder, RunBook, SyncError, UnitResult,
    create_claimed,
};
use time::{Duration, OffsetDateTime};

const WIDGET: &str = "widget";

#[derive(Debug, Clone, PartialEq)]
struct Widget {
    id: Option<i64>,
    sku: String,
}

/// How the toy ConnectWise answers the next create.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Created, and answered.
    Created,
    /// Created, but the answer was lost (a timeout after the request arrived).
    LostAfterCreating,
    /// Lost before it arrived: nothing created, outcome unknown to the caller.
    LostBeforeCreating,
    /// The SKU is taken.
    Taken,
    /// The values are refused.
    Refused,
}

#[derive(Debug, Default)]
struct Shop {
    widgets: Mutex<Vec<Widget>>,
    creates: AtomicUsize,
}

impl Shop {
    fn add(&self, sku: &str) -> i64 {
        let mut widgets = self.widgets.lock().unwrap();
        let id = 100 + widgets.len() as i64;
        widgets.push(Widget {
            id: Some(id),
            sku: sku.to_owned(),
        });
        id
    }

    fn count(&self, sku: &str) -> usize {
        let widgets = self.widgets.lock().unwrap();
        widgets.iter().filter(|w| w.sku == sku).count()
    }

    async fn find(&self, sku: &str) -> Result<Option<Widget>, SyncError> {
        let widgets = self.widgets.lock().unwrap();
        Ok(widgets.iter().find(|w| w.sku == sku).cloned())
    }

    async fn create(&self, sku: &str, answer: Answer) -> Result<Widget, CwError> {
        // Let a concurrent claimer run while this create is "in flight".
        tokio::task::yield_now().await;
        let lost = CwError::Ambiguous {
            method: http::Method::POST,
            path: "/widgets".to_owned(),
            detail: "timed out".to_owned(),
        };
        match answer {
            Answer::Created | Answer::LostAfterCreating => {
                self.creates.fetch_add(1, Ordering::SeqCst);
                let id = self.add(sku);
                match answer {
                    Answer::Created => Ok(Widget {
                        id: Some(id),
                        sku: sku.to_owned(),
                    }),
                    _ => Err(lost),
                }
            }
            Answer::LostBeforeCreating => Err(lost),
            Answer::Taken => Err(CwError::AlreadyExists {
                method: http::Method::POST,
                path: "/widgets".to_owned(),
                message: "sku is taken".to_owned(),
                errors: Vec::new(),
            }),
            Answer::Refused => Err(CwError::Validation {
                method: http::Method::POST,
                path: "/widgets".to_owned(),
                message: "name: too long".to_owned(),
                errors: Vec::new(),
            }),
        }
    }
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// The links and the toy ConnectWise of one test.
#[derive(Debug, Default)]
struct World {
    links: MemoryLinkStore,
    shop: Shop,
}

impl World {
    /// An attempt of a real run at [`t0`].
    async fn create(
        &self,
        id: &str,
        sku: &str,
        answer: Answer,
    ) -> (Result<Created<Widget>, SyncError>, Vec<RecordResult>) {
        self.create_at(id, sku, answer, t0(), Mode::Write).await
    }

    async fn create_at(
        &self,
        id: &str,
        sku: &str,
        answer: Answer,
        now: OffsetDateTime,
        mode: Mode,
    ) -> (Result<Created<Widget>, SyncError>, Vec<RecordResult>) {
        attempt(&self.links, &self.shop, id, sku, answer, now, mode).await
    }
}

/// How an attempt runs.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Write,
    DryRun,
    /// A taken natural key is looked at again later.
    DeferTaken,
}

/// One attempt to create the widget of billing product `id` (natural key: its SKU).
async fn attempt(
    links: &dyn LinkStore,
    shop: &Shop,
    id: &str,
    sku: &str,
    answer: Answer,
    now: OffsetDateTime,
    mode: Mode,
) -> (Result<Created<Widget>, SyncError>, Vec<RecordResult>) {
    let tenant = tenant();
    let what = format!("widget of product {id}");
    let natural_key = format!("SKU {sku:?}");
    let creation = Creation {
        tenant: &tenant,
        links,
        source: SourceRef::new(WIDGET, id),
        cw_kind: WIDGET,
        what: &what,
        natural_key: &natural_key,
        fingerprint: "fp-1",
        now,
        dry_run: matches!(mode, Mode::DryRun),
        defer_taken: matches!(mode, Mode::DeferTaken),
    };
    let record = Recorder::new(WIDGET, id, format!("source-{id}"));
    let mut records = Vec::new();
    let outcome = create_claimed(
        &creation,
        &record,
        &mut records,
        |w: &Widget| w.id,
        || shop.find(sku),
        || shop.create(sku, answer),
    )
    .await;
    (outcome, records)
}

/// The record, link and origin of an attempt that linked.
fn linked(outcome: Result<Created<Widget>, SyncError>) -> (Widget, Link, Origin) {
    match outcome {
        Ok(Created::Linked {
            record,
            link,
            origin,
        }) => (record, link, origin),
        other => panic!("not linked: {other:?}"),
    }
}

async fn link_of(links: &dyn LinkStore, id: &str) -> Option<Link> {
    links
        .get(&tenant(), SourceRef::new(WIDGET, id))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_create_is_claimed_made_once_and_linked() {
    let world = World::default();
    let shop = &world.shop;
    let (outcome, lines) = world.create("P-1", "SKU-1", Answer::Created).await;
    let (record, link, origin) = linked(outcome);
    assert_eq!(origin, Origin::Answered);
    assert_eq!(link.cw_id, record.id);
    assert_eq!(link.state, LinkState::Linked);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].outcome, Outcome::Created);
    assert_eq!(
        lines[0].detail,
        format!("created widget {}", record.id.unwrap())
    );
    // Delivered again: the link answers, nothing is created twice.
    let (again, lines) = world.create("P-1", "SKU-1", Answer::Created).await;
    assert!(matches!(again.unwrap(), Created::AlreadyLinked(_)));
    assert_eq!(lines[0].outcome, Outcome::Unchanged);
    assert_eq!(shop.count("SKU-1"), 1);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_settled_by_its_natural_key_not_created_again() {
    let world = World::default();
    let shop = &world.shop;
    let (outcome, lines) = world
        .create("P-1", "SKU-1", Answer::LostAfterCreating)
        .await;
    let (record, link, origin) = linked(outcome);
    assert_eq!(origin, Origin::Settled);
    assert_eq!(link.cw_id, record.id);
    assert_eq!(lines[0].outcome, Outcome::Created);
    assert_eq!(shop.creates.load(Ordering::SeqCst), 1);
    assert_eq!(shop.count("SKU-1"), 1);
}

#[tokio::test]
async fn an_unsettled_create_keeps_its_claim_and_the_attempt_after_it_goes_stale_creates_once() {
    let world = World::default();
    let (links, shop) = (&world.links, &world.shop);
    let (outcome, lines) = world
        .create("P-1", "SKU-1", Answer::LostBeforeCreating)
        .await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, SyncError::Unsettled { .. }), "{error}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("SKU \"SKU-1\""), "{error}");
    assert!(lines.is_empty());
    assert_eq!(
        link_of(links, "P-1").await.unwrap().state,
        LinkState::Pending
    );
    // While the claim is fresh, a retry waits rather than risk a second create.
    let (busy, _) = world
        .create_at(
            "P-1",
            "SKU-1",
            Answer::Created,
            t0() + Duration::minutes(1),
            Mode::Write,
        )
        .await;
    assert!(matches!(busy.unwrap_err(), SyncError::Busy { .. }));
    assert_eq!(shop.creates.load(Ordering::SeqCst), 0);
    // Stale: the retry looks the SKU up, finds nothing and creates, once.
    let (healed, _) = world
        .create_at(
            "P-1",
            "SKU-1",
            Answer::Created,
            t0() + Duration::minutes(6),
            Mode::Write,
        )
        .await;
    assert!(matches!(
        healed.unwrap(),
        Created::Linked {
            origin: Origin::Answered,
            ..
        }
    ));
    assert_eq!(shop.count("SKU-1"), 1);
}

#[tokio::test]
async fn a_stale_claim_whose_worker_created_the_record_is_healed_by_natural_key() {
    let world = World::default();
    let (links, shop) = (&world.links, &world.shop);
    // A worker claimed, created and died before completing the link.
    links
        .claim(&tenant(), SourceRef::new(WIDGET, "P-1"), WIDGET, t0())
        .await
        .unwrap();
    let id = shop.add("SKU-1");
    let (outcome, lines) = world
        .create_at(
            "P-1",
            "SKU-1",
            Answer::Created,
            t0() + Duration::minutes(6),
            Mode::Write,
        )
        .await;
    let (_, link, origin) = linked(outcome);
    assert_eq!(origin, Origin::Healed);
    assert_eq!(link.cw_id, Some(id));
    assert_eq!(lines[0].outcome, Outcome::Linked);
    assert!(
        lines[0].detail.contains("interrupted earlier attempt"),
        "{}",
        lines[0].detail
    );
    assert_eq!(shop.creates.load(Ordering::SeqCst), 0);
    assert_eq!(shop.count("SKU-1"), 1);
}

#[tokio::test]
async fn of_two_workers_creating_one_record_at_once_exactly_one_creates() {
    let world = World::default();
    let shop = &world.shop;
    let (first, second) = tokio::join!(
        world.create("P-1", "SKU-1", Answer::Created),
        world.create("P-1", "SKU-1", Answer::Created),
    );
    let outcomes = [first.0, second.0];
    let linked = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Created::Linked { .. })))
        .count();
    let waiting = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Err(SyncError::Busy { .. }) | Ok(Created::AlreadyLinked(_))
            )
        })
        .count();
    assert_eq!((linked, waiting), (1, 1), "{outcomes:?}");
    assert_eq!(shop.creates.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_dry_run_claims_creates_and_links_nothing_and_says_what_it_would_create() {
    let world = World::default();
    let (links, shop) = (&world.links, &world.shop);
    let (outcome, lines) = world
        .create_at("P-1", "SKU-1", Answer::Created, t0(), Mode::DryRun)
        .await;
    assert!(matches!(outcome.unwrap(), Created::Planned));
    assert_eq!(lines[0].outcome, Outcome::Created);
    assert_eq!(lines[0].detail, "would create the widget");
    assert!(link_of(links, "P-1").await.is_none());
    assert_eq!(shop.creates.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_refused_record_fails_alone_and_gives_its_claim_back() {
    let world = World::default();
    let links = &world.links;
    let (outcome, lines) = world.create("P-1", "SKU-1", Answer::Refused).await;
    assert!(matches!(outcome.unwrap(), Created::Refused));
    assert_eq!(lines[0].outcome, Outcome::Failed);
    assert!(
        lines[0].detail.contains("name: too long"),
        "{}",
        lines[0].detail
    );
    assert!(link_of(links, "P-1").await.is_none());
    // Fixed: the next run creates at once, no waiting on a claim.
    let (fixed, _) = world.create("P-1", "SKU-1", Answer::Created).await;
    assert!(matches!(fixed.unwrap(), Created::Linked { .. }));
}

#[tokio::test]
async fn a_record_whose_natural_key_another_record_holds_is_refused_not_linked_twice() {
    let world = World::default();
    let (links, shop) = (&world.links, &world.shop);
    let id = shop.add("SKU-1");
    links
        .link_existing(
            &tenant(),
            SourceRef::new(WIDGET, "P-1"),
            WIDGET,
            id,
            "fp",
            t0(),
        )
        .await
        .unwrap();
    // Product P-2 has the same SKU: its create is refused as taken and the look-up finds P-1's.
    let (outcome, lines) = world.create("P-2", "SKU-1", Answer::Taken).await;
    let Created::LinkedToOther { cw_id, holder } = outcome.unwrap() else {
        panic!("expected the holder");
    };
    assert_eq!((cw_id, holder.source_id.as_str()), (id, "P-1"));
    assert!(lines.is_empty(), "the caller words this failure");
    assert!(
        link_of(links, "P-2").await.is_none(),
        "the claim is given back"
    );
    assert_eq!(shop.count("SKU-1"), 1);
}

#[tokio::test]
async fn a_taken_natural_key_is_looked_at_again_later_when_another_job_may_link_it() {
    let world = World::default();
    let (links, shop) = (&world.links, &world.shop);
    shop.add("SKU-1");
    let (outcome, _) = world
        .create_at("P-2", "SKU-1", Answer::Taken, t0(), Mode::DeferTaken)
        .await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, SyncError::Unsettled { .. }), "{error}");
    assert!(link_of(links, "P-2").await.is_none());
    // Taken and nowhere to be found: the record's own failure.
    let (outcome, lines) = world.create("P-3", "SKU-9", Answer::Taken).await;
    assert!(matches!(outcome.unwrap(), Created::Refused));
    assert_eq!(lines[0].outcome, Outcome::Failed);
}

// ---- runs and the ledger ----

const UNIT: &str = "account";

fn book() -> (RunBook, Arc<Deps>) {
    let deps = Arc::new(Deps::for_tests("toy"));
    (RunBook::new(Arc::clone(&deps), "daily-export", UNIT), deps)
}

fn unit(id: &str, lines: Vec<RecordResult>) -> UnitResult {
    UnitResult {
        unit_id: id.to_owned(),
        records: lines,
    }
}

fn line(entity: &'static str, id: &str, outcome: Outcome) -> RecordResult {
    Recorder::new(entity, id, format!("fp-{id}")).with_detail(outcome, format!("{outcome:?}"))
}

#[tokio::test]
async fn the_last_unit_recorded_finishes_the_run_once_with_its_status() {
    let ((book, deps), tenant) = (book(), tenant());
    let runs = &deps.stores.runs;
    let run_id = RunId::new(t0());
    assert!(book.start(&tenant, &run_id, false, 2).await.unwrap());
    assert!(
        !book.start(&tenant, &run_id, false, 2).await.unwrap(),
        "a second start is not fresh"
    );
    let first = unit("A-1", vec![line(UNIT, "A-1", Outcome::Updated)]);
    book.record_and_finish(&tenant, &run_id, false, &[first])
        .await
        .unwrap();
    let running = runs.get(&tenant, &run_id).await.unwrap().unwrap();
    assert_eq!(running.status, RunStatus::Running);
    // The second unit's widget failed: the run partially failed. Its unit line is logged last.
    let second = unit(
        "A-2",
        vec![
            line(UNIT, "A-2", Outcome::Updated),
            line(WIDGET, "W-1", Outcome::Failed),
        ],
    );
    book.record_and_finish(&tenant, &run_id, false, &[second])
        .await
        .unwrap();
    let run = runs.get(&tenant, &run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::PartiallyFailed);
    assert!(run.ended_at.is_some());
    let log = runs.log_page(&tenant, &run_id, None, 10).await.unwrap();
    let order: Vec<&str> = log.entries.iter().map(|e| e.record_id.as_str()).collect();
    assert_eq!(order, ["A-1", "W-1", "A-2"]);
    // Asked again (another worker, a replay): the run stays as it was finished.
    book.finish_if_done(&tenant, &run_id).await.unwrap();
    let again = runs.get(&tenant, &run_id).await.unwrap().unwrap();
    assert_eq!((again.status, again.ended_at), (run.status, run.ended_at));
}

#[tokio::test]
async fn a_permanent_job_failure_is_its_units_failure_on_the_ledger_until_the_unit_succeeds() {
    let ((book, deps), tenant) = (book(), tenant());
    let run_id = RunId::new(t0());
    assert!(book.ensure_single(&tenant, &run_id, false).await.unwrap());
    let error = SyncError::NotConfigured {
        tenant: "acme".to_owned(),
        job: "daily-export",
        reason: "no price list".to_owned(),
    };
    let result = book
        .record_job_failure(&tenant, &run_id, false, "A-1", "fp-A-1".to_owned(), &error)
        .await
        .unwrap();
    assert_eq!(result.unit_id, "A-1");
    let run = deps
        .stores
        .runs
        .get(&tenant, &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, RunStatus::PartiallyFailed, "the run finished");
    let log = deps
        .stores
        .runs
        .log_page(&tenant, &run_id, None, 10)
        .await
        .unwrap();
    assert_eq!(log.entries[0].entity, UNIT);
    assert_eq!(log.entries[0].outcome, Outcome::Failed);
    assert!(
        log.entries[0].detail.contains("no price list"),
        "{}",
        log.entries[0].detail
    );
    let ledger = &deps.stores.ledger;
    let entry = ledger
        .get(&tenant, UNIT, "A-1", OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(entry.unwrap().attempts, 1);
    // Fixed: the next run's success clears it; a dry run would have left the ledger alone.
    let next = RunId::new(t0() + Duration::days(1));
    book.start(&tenant, &next, true, 1).await.unwrap();
    let ok = unit("A-1", vec![line(UNIT, "A-1", Outcome::Updated)]);
    book.record(&tenant, &next, true, std::slice::from_ref(&ok))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    assert!(
        ledger
            .get(&tenant, UNIT, "A-1", now)
            .await
            .unwrap()
            .is_some()
    );
    let real = RunId::new(t0() + Duration::days(2));
    book.start(&tenant, &real, false, 1).await.unwrap();
    book.record(&tenant, &real, false, &[ok]).await.unwrap();
    assert!(
        ledger
            .get(&tenant, UNIT, "A-1", now)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_job_failure_nothing_names_leaves_the_units_entry_and_a_ledger_book_records_it() {
    let ((book, deps), tenant) = (book(), tenant());
    let ledger = &deps.stores.ledger;
    let error = SyncError::NotConfigured {
        tenant: "acme".to_owned(),
        job: "ticket-import",
        reason: "no billing key".to_owned(),
    };
    let first = RunId::new(t0());
    assert!(book.ensure_single(&tenant, &first, false).await.unwrap());
    book.record_job_failure(&tenant, &first, false, "A-1", "fp-A-1".to_owned(), &error)
        .await
        .unwrap();
    // A later job failure without a fingerprint (nothing names the record) is not a success:
    // the unit stays on the ledger as it was.
    let second = RunId::new(t0() + Duration::days(1));
    assert!(book.ensure_single(&tenant, &second, false).await.unwrap());
    book.record_job_failure(&tenant, &second, false, "A-1", String::new(), &error)
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let entry = ledger.get(&tenant, UNIT, "A-1", now).await.unwrap();
    let entry = entry.expect("the entry stays");
    assert_eq!(
        (entry.attempts, entry.record_fingerprint.as_str()),
        (1, "fp-A-1")
    );
    // A book whose job failures go on the ledger records the job's own failure under its
    // fingerprint (another than the record's: the attempts start again).
    let ledger_book = book.clone().with_job_failures_on_ledger();
    let third = RunId::new(t0() + Duration::days(2));
    assert!(
        ledger_book
            .ensure_single(&tenant, &third, false)
            .await
            .unwrap()
    );
    let settled = ledger_book
        .settle_unit(&tenant, &third, false, "A-2", Err::<(), _>(error))
        .await;
    assert!(
        settled.is_ok(),
        "a permanent failure is recorded, not retried"
    );
    let entry = ledger.get(&tenant, UNIT, "A-2", now).await.unwrap();
    let entry = entry.expect("the job's failure is on the ledger");
    assert_eq!(
        (entry.attempts, entry.record_fingerprint.as_str()),
        (1, cwsync_sync::runs::JOB_FAILURE_FINGERPRINT)
    );
    assert!(
        entry.last_error.contains("no billing key"),
        "{}",
        entry.last_error
    );
}

#[tokio::test]
async fn units_found_unchanged_are_counted_and_finish_the_run() {
    let ((book, deps), tenant) = (book(), tenant());
    let run_id = RunId::new(t0());
    book.start(&tenant, &run_id, false, 3).await.unwrap();
    let unchanged: Vec<UnitResult> = ["A-1", "A-2", "A-3"]
        .iter()
        .map(|id| {
            unit(
                id,
                vec![
                    line(UNIT, id, Outcome::Unchanged),
                    line(WIDGET, &format!("W-{id}"), Outcome::Unchanged),
                ],
            )
        })
        .collect();
    book.record_unchanged(&tenant, &run_id, &unchanged)
        .await
        .unwrap();
    book.finish_if_done(&tenant, &run_id).await.unwrap();
    let run = deps
        .stores
        .runs
        .get(&tenant, &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.records, 6);
}

// ---- staged runs ----

const PAGE: &str = "page";

fn staged_book() -> (RunBook, Arc<Deps>, Arc<cwsync_queue::MemoryJobQueue>) {
    let queue = Arc::new(cwsync_queue::MemoryJobQueue::new());
    let mut deps = Deps::for_tests("toy");
    deps.queues.export = Some(queue.clone());
    let deps = Arc::new(deps);
    let book = RunBook::new(Arc::clone(&deps), "daily-export", UNIT).with_units(&[PAGE, UNIT]);
    (book, deps, queue)
}

/// Records unit `id`'s own line (of `entity`) and finishes the run if it was the last.
async fn record_unit(
    book: &RunBook,
    tenant: &TenantId,
    run_id: &RunId,
    entity: &'static str,
    id: &str,
    outcome: Outcome,
) {
    let result = unit(id, vec![line(entity, id, outcome)]);
    book.record_and_finish(tenant, run_id, false, &[result])
        .await
        .unwrap();
}

fn next_job(run_id: &RunId, what: &str) -> cwsync_sync::FollowUp {
    let job = cwsync_queue::Job::new(
        cwsync_queue::JobKind::DailyExportPlan,
        "acme",
        run_id.as_str(),
        false,
        serde_json::json!({ "what": what }),
    )
    .unwrap();
    cwsync_sync::FollowUp {
        queue: cwsync_runtime::Queue::Export,
        job,
    }
}

#[tokio::test]
async fn a_staged_run_sends_its_continuation_when_its_first_stage_is_done_and_finishes_after_the_next()
 {
    let (book, deps, queue) = staged_book();
    let tenant = tenant();
    let runs = &deps.stores.runs;
    let run_id = RunId::new(t0());
    let continuation = next_job(&run_id, "accounts");
    let follow_up = next_job(&run_id, "after");
    assert!(
        book.start_staged(&tenant, &run_id, false, 2, &continuation, Some(&follow_up))
            .await
            .unwrap()
    );
    assert!(
        !book
            .start_staged(&tenant, &run_id, false, 2, &continuation, Some(&follow_up))
            .await
            .unwrap(),
        "a redelivered planner is told the run exists"
    );

    // The first page: nothing sent. The last: the continuation, and the run goes on.
    record_unit(&book, &tenant, &run_id, PAGE, "1", Outcome::Updated).await;
    assert!(queue.drain().is_empty());
    record_unit(&book, &tenant, &run_id, PAGE, "2", Outcome::Failed).await;
    assert_eq!(queue.drain(), vec![continuation.job.clone()]);
    let between = runs.get(&tenant, &run_id).await.unwrap().unwrap();
    assert_eq!(
        between.status,
        RunStatus::Running,
        "never finished between stages"
    );
    // Another finisher finding the stage done sends it again (it runs once by its job key).
    book.finish_if_done(&tenant, &run_id).await.unwrap();
    assert_eq!(queue.drain(), vec![continuation.job.clone()]);

    // The continuation plans two accounts, once.
    assert!(book.extend(&tenant, &run_id, 1, 2, None).await.unwrap());
    assert!(!book.extend(&tenant, &run_id, 1, 2, None).await.unwrap());
    book.finish_if_done(&tenant, &run_id).await.unwrap();
    assert!(queue.drain().is_empty(), "the accounts are still to come");
    record_unit(&book, &tenant, &run_id, UNIT, "A-1", Outcome::Updated).await;
    let run = runs.get(&tenant, &run_id).await.unwrap().unwrap();
    assert_eq!(
        (run.status, run.planned, run.stage),
        (RunStatus::Running, Some(4), 2)
    );
    record_unit(&book, &tenant, &run_id, UNIT, "A-2", Outcome::Unchanged).await;
    let run = runs.get(&tenant, &run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::PartiallyFailed, "a page failed");
    assert_eq!(
        queue.drain(),
        vec![follow_up.job],
        "then the run's follow-up"
    );
}

#[tokio::test]
async fn a_continuation_that_plans_no_units_finishes_the_run_itself() {
    let (book, deps, queue) = staged_book();
    let tenant = tenant();
    let run_id = RunId::new(t0());
    let continuation = next_job(&run_id, "accounts");
    book.start_staged(&tenant, &run_id, false, 1, &continuation, None)
        .await
        .unwrap();
    record_unit(&book, &tenant, &run_id, PAGE, "1", Outcome::Unchanged).await;
    assert_eq!(queue.drain().len(), 1);
    assert!(book.extend(&tenant, &run_id, 1, 0, None).await.unwrap());
    book.finish_if_done(&tenant, &run_id).await.unwrap();
    let run = deps
        .stores
        .runs
        .get(&tenant, &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert!(queue.drain().is_empty());
}
