//! The catalog as one job per page of changed products, the accounts as the run's continuation
//! (issue 9 §2): pages sent and counted, every job delivered twice, a redelivered planner and
//! continuation, a page that fails, and an unchanged re-run with no catalog job.

use cwsync_billing_sim::{fixture_products, fixture_subscriptions, fixture_users};
use cwsync_connectwise_sim::{FaultKind, FaultRule};
use cwsync_daily_export::plan::{AccountJob, CatalogJob, PlanRequest};
use cwsync_queue::{JobKind, JobQueue};
use cwsync_store::{RunId, TenantId};
use serde_json::{Value, json};

use crate::support::{TENANT, World};
use cwsync_test_support::Report;

/// The fixture's six products in pages of two: three catalog page jobs.
const PAGE_SIZE: usize = 2;
const PAGES: u64 = 3;
/// The fixture's accounts with subscriptions (A-1001, A-1003, A-1004, A-1005).
const ACCOUNTS: u64 = 4;

async fn paged_world() -> World {
    let world = World::start_paged(PAGE_SIZE).await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    world
}

fn tenant() -> TenantId {
    TenantId::parse(TENANT).unwrap()
}

/// Records of `entity` counted in the run, whatever their outcome.
fn total(report: &Report, entity: &str) -> u64 {
    [
        "created",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "linked",
    ]
    .iter()
    .map(|outcome| report.count(entity, outcome))
    .sum()
}

/// What every complete first export of the fixture counts: each page, product and account
/// once.
fn assert_first_export_counted(report: &Report) {
    assert_eq!(total(report, "catalog-page"), PAGES, "{}", report.0["run"]);
    assert_eq!(report.count("catalog-page", "updated"), PAGES);
    assert_eq!(report.count("catalog-item", "created"), 6);
    assert_eq!(total(report, "catalog-item"), 6, "{}", report.0["run"]);
    assert_eq!(total(report, "export-account"), ACCOUNTS);
    assert_eq!(report.count("addition", "created"), 3);
    assert_eq!(report.0["run"]["planned"], PAGES + ACCOUNTS);
    assert_eq!(report.status(), "partially_failed", "{}", report.0["run"]);
}

#[tokio::test]
async fn a_first_export_sends_one_catalog_job_per_page_then_the_accounts_and_counts_them_all() {
    let world = paged_world().await;
    let calls = world.cw.calls();
    let planned = world
        .ok(json!({"action": "export-now", "tenant": TENANT}))
        .await;
    assert_eq!(planned["catalogPages"], PAGES, "{planned}");
    assert_eq!(planned["jobsSent"], PAGES, "{planned}");
    // Only the pages go out first: the accounts wait for their catalog items.
    let queued = world.export_queue.drain();
    assert!(
        queued
            .iter()
            .all(|j| j.kind() == JobKind::DailyExportCatalog),
        "{queued:?}"
    );
    let mut products: Vec<String> = Vec::new();
    for (job, page) in queued.iter().zip(1u32..) {
        let payload: CatalogJob = job.payload_as().unwrap();
        assert_eq!(payload.page, page);
        assert!(payload.product_ids.len() <= PAGE_SIZE);
        products.extend(payload.product_ids);
    }
    assert_eq!(products.len(), 6, "each product on one page: {products:?}");
    products.dedup();
    assert_eq!(products.len(), 6);

    world.export_queue.send_batch(&queued).await.unwrap();
    world.deliver().await;
    // Taken before the `report`, whose suggestions for the unmapped account read companies too.
    let after = world.cw.calls();
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_first_export_counted(&report);
    assert_eq!(world.records("/procurement/catalog").len(), 6);
    assert_eq!(world.records("/finance/agreements").len(), 2);
    assert_eq!(world.additions().len(), 3);
    // The continuation planned the accounts once: their companies read once, for all of them.
    let delta = |path: &str| after.count("GET", path) - calls.count("GET", path);
    assert_eq!(delta("/company/companies"), 1);
    assert_eq!(delta("/finance/agreements"), 1);
}

#[tokio::test]
async fn every_job_delivered_twice_makes_no_second_catalog_item_or_addition() {
    let world = paged_world().await;
    let planned = world
        .ok(json!({"action": "export-now", "tenant": TENANT}))
        .await;
    let deliveries = world.deliver_twice().await;
    // Three pages, the continuation, four accounts: each delivered twice (at least: two pages
    // finishing at once may both send the continuation).
    assert!(deliveries >= 2 * (PAGES + 1 + ACCOUNTS), "{deliveries}");
    let items = world.records("/procurement/catalog");
    assert_eq!(items.len(), 6, "{items:?}");
    assert_eq!(world.records("/finance/agreements").len(), 2);
    assert_eq!(world.additions().len(), 3);
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_first_export_counted(&report);
}

#[tokio::test]
async fn a_redelivered_planner_and_continuation_plan_no_unit_twice() {
    let world = paged_world().await;
    let tenant = tenant();
    let run_id = RunId::new(time::OffsetDateTime::now_utc());
    let request = PlanRequest::default();
    // The first stage twice (a planner whose worker died after it was done: its job key was
    // never marked done, so SQS delivers it again and it runs again).
    let first = world
        .export
        .plan_run(&tenant, run_id.clone(), false, &request)
        .await
        .unwrap();
    assert_eq!(first.catalog_pages, PAGES);
    let again = world
        .export
        .plan_run(&tenant, run_id.clone(), false, &request)
        .await
        .unwrap();
    assert_eq!(again.jobs_sent, 0, "{again:?}");
    let pages = world.export_queue.drain();
    assert_eq!(pages.len() as u64, PAGES, "no page sent twice: {pages:?}");

    // The pages run; the last sends the continuation.
    let pages_queue = cwsync_queue::MemoryJobQueue::new();
    pages_queue.send_batch(&pages).await.unwrap();
    world.deliver_from(&pages_queue).await;
    // (Two pages finishing at once may both send it: one job, by its key.)
    let continuation = world.export_queue.drain();
    assert!(!continuation.is_empty());
    assert!(
        continuation
            .iter()
            .all(|j| j.key() == continuation[0].key())
    );
    assert_eq!(continuation[0].kind(), JobKind::DailyExportPlan);
    let stage: PlanRequest = continuation[0].payload_as().unwrap();
    assert_eq!(stage.continues_stage, Some(1));

    // The continuation three times: twice as a worker that died after it (it runs again), once
    // from the queue. The accounts are planned once; the jobs sent again run once each.
    for _ in 0..2 {
        world
            .export
            .plan_run(&tenant, run_id.clone(), false, &stage)
            .await
            .unwrap();
    }
    world.export_queue.send_batch(&continuation).await.unwrap();
    world.deliver().await;
    // And the first stage once more, after all of it.
    let late = world
        .export
        .plan_run(&tenant, run_id.clone(), false, &request)
        .await
        .unwrap();
    assert_eq!(late.jobs_sent, 0);
    assert_eq!(world.export_queue.len(), 0, "a late planner sends nothing");

    let report = world.report(run_id.as_str()).await;
    assert_first_export_counted(&report);
    assert_eq!(world.records("/procurement/catalog").len(), 6);
    assert_eq!(world.additions().len(), 3);
}

#[tokio::test]
async fn a_page_that_fails_lets_the_run_finish_and_its_accounts_name_the_product() {
    let world = paged_world().await;
    // P-BACKUP-TB's unit has no mapping: its page (the first, with P-LEGACY-AV) fails.
    world
        .billing
        .modify_product("P-BACKUP-TB", |p| p.unit = Some("Rack".to_owned()));
    let (planned, report) = world.export_now(json!({})).await;
    assert_eq!(planned["catalogPages"], PAGES);
    assert_eq!(report.status(), "partially_failed", "{}", report.0["run"]);
    assert_eq!(report.outcome("catalog-page", "page-1"), "failed");
    assert!(
        report
            .detail("catalog-page", "page-1")
            .contains("P-BACKUP-TB")
    );
    assert_eq!(report.count("catalog-page", "updated"), PAGES - 1);
    let rack = report.detail("catalog-item", "P-BACKUP-TB");
    assert!(
        rack.contains("\"Rack\"") && rack.contains("mappings.unitsOfMeasure"),
        "{rack}"
    );
    // The account subscribing to it fails naming the product; its other addition is made.
    let addition = report.detail("addition", "SUB-5002");
    assert!(
        addition.contains("P-BACKUP-TB") && addition.contains("no catalog item"),
        "{addition}"
    );
    assert_eq!(report.outcome("export-account", "A-1001"), "failed");
    assert_eq!(report.outcome("addition", "SUB-5001"), "created");
    // Each product's catalog line once: the accounts do not export the catalog again.
    assert_eq!(total(&report, "catalog-item"), 6, "{}", report.0["run"]);
    assert_eq!(total(&report, "export-account"), ACCOUNTS);

    // Once the mapping exists, the next run exports the product and the addition.
    world
        .billing
        .advance_clock(std::time::Duration::from_secs(3600));
    world
        .billing
        .modify_product("P-BACKUP-TB", |p| p.unit = Some("TB".to_owned()));
    let (planned, report) = world.export_now(json!({})).await;
    assert_eq!(
        planned["catalogPages"], 1,
        "only the changed product: {planned}"
    );
    assert_eq!(report.outcome("catalog-item", "P-BACKUP-TB"), "created");
    assert_eq!(report.outcome("addition", "SUB-5002"), "created");
}

#[tokio::test]
async fn a_page_job_that_fails_for_good_is_its_pages_failure_and_the_run_goes_on() {
    let world = paged_world().await;
    // ConnectWise refuses the first catalog read (403): that page's job fails for good.
    world.cw.inject(
        FaultRule::new(FaultKind::Status(403))
            .on("GET", "/procurement/catalog")
            .nth(1),
    );
    let (_, report) = world.export_now(json!({})).await;
    assert_ne!(report.status(), "running");
    let failed: Vec<Value> = report.0["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity"] == "catalog-page" && r["outcome"] == "failed")
        .cloned()
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0]["detail"].as_str().unwrap().contains("403"),
        "{failed:?}"
    );
    assert_eq!(total(&report, "catalog-page"), PAGES);
    assert_eq!(world.records("/procurement/catalog").len(), 4);
    assert_eq!(total(&report, "export-account"), ACCOUNTS);
    // Every subscription whose product got no catalog item fails naming the product.
    let items: Vec<String> = world
        .records("/procurement/catalog")
        .iter()
        .filter_map(|i| i["identifier"].as_str().map(str::to_owned))
        .collect();
    for (sub, product, sku) in [
        ("SUB-5001", "P-M365-BP", "M365-BP"),
        ("SUB-5002", "P-BACKUP-TB", "CLOUD-BACKUP-TB"),
        ("SUB-5003", "P-M365-E3", "M365-E3"),
    ] {
        if !items.iter().any(|i| i == sku) {
            let detail = report.detail("addition", sub);
            assert!(
                detail.contains(product) && detail.contains("no catalog item"),
                "{detail}"
            );
        }
    }
}

#[tokio::test]
async fn an_unchanged_rerun_sends_no_catalog_job() {
    let world = paged_world().await;
    world.export_now(json!({})).await;
    let planned = world
        .ok(json!({"action": "export-now", "tenant": TENANT}))
        .await;
    assert_eq!(planned["catalogPages"], 0, "{planned}");
    assert!(
        world.queued(JobKind::DailyExportCatalog).await.is_empty(),
        "no catalog job"
    );
    assert!(world.queued(JobKind::DailyExportPlan).await.is_empty());
    let writes = world.cw_writes();
    world.deliver().await;
    assert_eq!(world.cw_writes(), writes);
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_eq!(total(&report, "catalog-page"), 0);
    assert_eq!(report.outcome("catalog-item", "P-M365-BP"), "unchanged");
    assert_ne!(report.status(), "running");
}

#[tokio::test]
async fn the_accounts_are_planned_a_page_at_a_time_each_job_with_its_hint() {
    let world = World::start_configured(|export| {
        export.catalog_page_size = PAGE_SIZE;
        export.account_page_size = 1;
    })
    .await;
    world.seed(fixture_products(), fixture_subscriptions(), fixture_users());
    // A first export makes the agreements; a full one plans every account again (in stages:
    // the full run re-exports the catalog first) with the companies' agreements to hint.
    world.export_now(json!({})).await;
    let planned = world
        .ok(json!({"action": "export-now", "tenant": TENANT, "full": true}))
        .await;
    assert_eq!(planned["catalogPages"], PAGES, "{planned}");
    let pages = cwsync_queue::MemoryJobQueue::new();
    pages.send_batch(&world.export_queue.drain()).await.unwrap();
    world.deliver_from(&pages).await;
    let continuation = cwsync_queue::MemoryJobQueue::new();
    continuation
        .send_batch(&world.export_queue.drain())
        .await
        .unwrap();
    let calls = world.cw.calls();
    world.deliver_from(&continuation).await;
    let after = world.cw.calls();

    let jobs = world.export_queue.drain();
    assert_eq!(jobs.len() as u64, ACCOUNTS, "{jobs:?}");
    let hinted: Vec<AccountJob> = jobs
        .iter()
        .map(|job| job.payload_as::<AccountJob>().unwrap())
        .filter(|payload| payload.hint.is_some())
        .collect();
    // Every account with a company (A-1005 has none: the customer sync can't map it) has its
    // hint, read a page (one account) at a time.
    let with_company = ACCOUNTS - 1;
    assert_eq!(hinted.len() as u64, with_company, "{jobs:?}");
    let delta = |path: &str| after.count("GET", path) - calls.count("GET", path);
    assert_eq!(delta("/company/companies"), with_company);
    assert_eq!(delta("/finance/agreements"), with_company);
    // The agreements hinted are the two the first export made, each with what matching reads.
    let agreements: Vec<_> = hinted
        .iter()
        .flat_map(|payload| {
            let hint = payload.hint.as_ref().unwrap();
            hint.agreements.iter().map(|a| (hint.company.id, a))
        })
        .collect();
    assert_eq!(agreements.len(), 2, "{agreements:?}");
    for (company, agreement) in agreements {
        assert_eq!(agreement.company.and_then(|c| c.id), Some(company));
        assert!(agreement.kind.and_then(|k| k.id).is_some(), "{agreement:?}");
        assert!(agreement.id.is_some() && agreement.name.is_some());
        assert_eq!(agreement.agreement_status.as_deref(), Some("Active"));
    }

    world.export_queue.send_batch(&jobs).await.unwrap();
    world.deliver().await;
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_eq!(total(&report, "export-account"), ACCOUNTS);
    assert_eq!(world.records("/finance/agreements").len(), 2);
    assert_eq!(world.additions().len(), 3, "no addition made twice");
}
