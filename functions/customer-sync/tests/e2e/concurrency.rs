//! Redelivery, replays and concurrent workers never create twice.

use crate::support::*;
use cwsync_queue::{Job, JobKind};
use cwsync_store::RunId;
use serde_json::json;
use time::OffsetDateTime;

fn account_job(run_id: &str) -> Job {
    Job::new(
        JobKind::CustomerSyncAccount,
        TENANT,
        run_id,
        false,
        json!({"accountId": "A-1"}),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_a_completed_job_changes_nothing_and_records_nothing_again() {
    let world = World::start().await;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);
    let run_id = RunId::new(OffsetDateTime::now_utc());
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    world
        .service
        .run_job(account_job(run_id.as_str()), deadline)
        .await
        .unwrap();
    let writes = world.cw_writes();
    let calls = world.cw.calls().total();
    let billing_calls = world.billing.calls().total();

    world
        .service
        .run_job(account_job(run_id.as_str()), deadline)
        .await
        .unwrap();

    assert_eq!(world.cw_writes(), writes);
    assert_eq!(
        world.cw.calls().total(),
        calls,
        "a replay reads nothing either"
    );
    assert_eq!(world.billing.calls().total(), billing_calls);
    let report = world.report(run_id.as_str()).await;
    assert_eq!(report.0["run"]["records"], 1, "recorded once: {}", report.0);
    assert_eq!(world.companies().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_jobs_for_one_account_at_once_create_one_company() {
    let world = World::start().await;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);
    world.cw.set_latency(std::time::Duration::from_millis(30));
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    // Two runs, so the jobs have different keys: idempotency does not hide the race.
    let first = account_job(RunId::new(OffsetDateTime::now_utc()).as_str());
    let second = account_job(RunId::new(OffsetDateTime::now_utc()).as_str());

    let (a, b) = tokio::join!(
        world.service.run_job(first, deadline),
        world.service.run_job(second, deadline)
    );

    // One created it; the other found it created, or was told to retry while the claim was held.
    assert!(a.is_ok() || b.is_ok(), "{a:?} {b:?}");
    for result in [&a, &b] {
        if let Err(failure) = result {
            assert!(failure.is_transient(), "{failure:?}");
        }
    }
    assert_eq!(world.companies().len(), 1, "exactly one company");
    world.cw.set_latency(std::time::Duration::ZERO);
    let report = world.sync(false).await;
    assert_eq!(
        report.outcome("company", "A-1"),
        "unchanged",
        "{}",
        report.0
    );
    assert_eq!(world.companies().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_is_settled_by_identifier_not_created_again() {
    let world = World::start().await;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme")]);
    // ConnectWise creates the company, then the connection drops before the answer.
    world.cw.inject(
        cwsync_connectwise_sim::FaultRule::new(cwsync_connectwise_sim::FaultKind::Drop)
            .on("POST", "/company/companies")
            .nth(1)
            .after_processing(),
    );

    let report = world.sync(false).await;

    assert_eq!(world.companies().len(), 1, "{}", report.0);
    assert_eq!(report.count("company", "created"), 1, "{}", report.0);
    let again = world.sync(false).await;
    assert_eq!(again.outcome("company", "A-1"), "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planning_job_delivered_again_after_a_crash_plans_the_same_run_without_duplicates() {
    let world = World::start().await;
    let mut opted_out = account("A-2", "OPTOUT", "Opted Out");
    opted_out.sync_to_connect_wise = false;
    world
        .billing
        .seed_accounts(vec![account("A-1", "ACME", "Acme"), opted_out]);
    let run_id = RunId::new(OffsetDateTime::now_utc());
    let tenant = cwsync_store::TenantId::parse(TENANT).unwrap();

    // The first attempt planned the run and died before its job was marked done.
    world
        .service
        .plan_tenant_run(&tenant, run_id.clone(), false, false)
        .await
        .unwrap();
    world
        .service
        .plan_tenant_run(&tenant, run_id.clone(), false, false)
        .await
        .unwrap();
    world.service.deliver_all(&world.queue, 5).await;

    let report = world.report(run_id.as_str()).await;
    assert_eq!(report.count("company", "created"), 1, "{}", report.0);
    assert_eq!(
        report.count("company", "skipped"),
        1,
        "recorded once: {}",
        report.0
    );
    assert_eq!(report.status(), "succeeded");
    assert_eq!(world.companies().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_delivered_again_after_it_completed_reads_and_writes_nothing() {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    let world = World::start().await;
    world.billing.seed_accounts(vec![
        account("A-1", "ACME", "Acme"),
        account("A-2", "GLOBEX", "Globex"),
    ]);
    let run_id = RunId::new(OffsetDateTime::now_utc());
    let mut event = SqsEvent::default();
    for (i, id) in ["A-1", "A-2"].into_iter().enumerate() {
        let job = Job::new(
            JobKind::CustomerSyncAccount,
            TENANT,
            run_id.as_str(),
            false,
            json!({ "accountId": id }),
        )
        .unwrap();
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("m-{i}"));
        message.body = Some(job.to_body().unwrap());
        event.records.push(message);
    }
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let first = world.service.handle_jobs(event.clone(), deadline).await;
    assert!(first.batch_item_failures.is_empty());
    assert_eq!(world.companies().len(), 2);
    let (calls, billing_calls) = (world.cw.calls().total(), world.billing.calls().total());

    let again = world.service.handle_jobs(event, deadline).await;

    assert!(again.batch_item_failures.is_empty());
    assert_eq!(
        world.cw.calls().total(),
        calls,
        "no ConnectWise call at all"
    );
    assert_eq!(
        world.billing.calls().total(),
        billing_calls,
        "no billing call at all"
    );
    assert_eq!(world.companies().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_account_waits_while_its_parent_company_is_being_created_then_gives_up_waiting() {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    let world = World::start().await;
    let mut child = account("A-2", "CHILD", "Child Co");
    child.parent_account_id = Some("A-1".to_owned());
    world
        .billing
        .seed_accounts(vec![account("A-1", "PARENT", "Parent Co"), child]);
    // Another worker has claimed the parent and is creating its company right now.
    let tenant = cwsync_store::TenantId::parse(TENANT).unwrap();
    let claim = world
        .service
        .deps
        .stores
        .links
        .claim(
            &tenant,
            cwsync_store::links::SourceRef::new("company", "A-1"),
            "company",
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert!(matches!(claim, cwsync_store::links::ClaimOutcome::Won(_)));
    let run_id = RunId::new(OffsetDateTime::now_utc());
    let job = Job::new(
        JobKind::CustomerSyncAccount,
        TENANT,
        run_id.as_str(),
        false,
        json!({"accountId": "A-2"}),
    )
    .unwrap();
    let delivery = |receives: u32| {
        let mut message = SqsMessage::default();
        message.message_id = Some("child".to_owned());
        message.body = Some(job.to_body().unwrap());
        message
            .attributes
            .insert("ApproximateReceiveCount".to_owned(), receives.to_string());
        let mut event = SqsEvent::default();
        event.records.push(message);
        event
    };
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);

    let first = world.service.handle_jobs(delivery(1), deadline).await;
    assert_eq!(first.batch_item_failures.len(), 1, "waits for its parent");
    assert!(world.companies().is_empty());

    let last = world.service.handle_jobs(delivery(3), deadline).await;
    assert!(last.batch_item_failures.is_empty(), "stops waiting");
    let created = world.company("CHILD");
    assert!(created.get("parentCompany").is_none(), "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_account_delivered_again_after_its_parent_was_created_gets_its_parent_company() {
    let world = World::start().await;
    let mut child = account("A-2", "CHILD", "Child Co");
    child.parent_account_id = Some("A-1".to_owned());
    world
        .billing
        .seed_accounts(vec![account("A-1", "PARENT", "Parent Co"), child]);
    let tenant = cwsync_store::TenantId::parse(TENANT).unwrap();
    let links = &world.service.deps.stores.links;
    let parent = cwsync_store::links::SourceRef::new("company", "A-1");
    let cwsync_store::links::ClaimOutcome::Won(claim) = links
        .claim(&tenant, parent, "company", OffsetDateTime::now_utc())
        .await
        .unwrap()
    else {
        panic!("the parent's claim is free");
    };
    let job = Job::new(
        JobKind::CustomerSyncAccount,
        TENANT,
        RunId::new(OffsetDateTime::now_utc()).as_str(),
        false,
        json!({"accountId": "A-2"}),
    )
    .unwrap();
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let waited = world.service.run_job(job.clone(), deadline).await;
    assert!(waited.unwrap_err().is_transient());

    // The other worker finishes: the parent's company exists and is linked.
    let parent_id = world
        .cw
        .seed(
            "/company/companies",
            vec![json!({"identifier": "PARENT", "name": "Parent Co", "city": "Phoenix"})],
        )
        .unwrap()[0];
    links
        .complete(&tenant, &claim, parent_id, "fp", OffsetDateTime::now_utc())
        .await
        .unwrap();
    world.service.run_job(job, deadline).await.unwrap();

    assert_eq!(world.company("CHILD")["parentCompany"]["id"], parent_id);
}
