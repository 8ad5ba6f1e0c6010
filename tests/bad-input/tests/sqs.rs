//! The SQS bodies of `corpus/sqs/<function>/`: each delivered to its function's batch handler
//! (through the Lambda entry, as an SQS event) in one batch with a good job of a real run.
//!
//! What SQS semantics demand, and what the consumer does (`cwsync_queue::consumer`): a body that
//! can never be a job is reported in `batchItemFailures`, so SQS redelivers it until the queue's
//! `maxReceiveCount` and then moves it to the dead-letter queue, where it waits for inspection: it
//! is neither retried forever nor silently lost. A well-formed job the function can't do (an
//! unknown tenant) is its unit's failure in its run and acknowledged. The good job of the batch
//! is never reported and its work is never lost: every run the good jobs came from finishes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_bad_input::{
    FINISHED, Generate, World, cases, failures, no_panic, short, sqs_event, sqs_record,
};
use cwsync_queue::Job;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SqsCase {
    #[allow(dead_code)]
    about: String,
    function: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_json: Option<Value>,
    #[serde(default)]
    body_file: Option<String>,
    #[serde(default)]
    generate: Option<Generate>,
    #[serde(default)]
    no_body: bool,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expect {
    /// Whether the bad record is named in `batchItemFailures`.
    reported: bool,
    /// Words `Job::parse`'s error must hold (the field); absent when the body is a valid job.
    #[serde(default)]
    parse_error: Option<Vec<String>>,
}

impl SqsCase {
    fn body(&self, case: &cwsync_bad_input::Case) -> Option<String> {
        if self.no_body {
            return None;
        }
        Some(if let Some(body) = &self.body {
            body.clone()
        } else if let Some(json) = &self.body_json {
            json.to_string()
        } else if let Some(file) = &self.body_file {
            // SQS bodies are text: bytes that are not UTF-8 arrive as the replacement character.
            String::from_utf8_lossy(&case.raw(file)).into_owned()
        } else if let Some(generate) = &self.generate {
            generate.text()
        } else {
            panic!("{}: no body", case.name)
        })
    }
}

/// Finished tickets of the fixture's companies, so an import run has ticket jobs.
async fn finished_tickets(world: &World, count: usize) {
    let user = cwsync_test_support::cw_client(&world.cw).await;
    let companies: Vec<i64> = world
        .cw
        .records("/company/companies")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .filter(|id| *id > 1)
        .collect();
    assert!(!companies.is_empty());
    let start = world.cw.now();
    let format = time::format_description::well_known::Rfc3339;
    for n in 0..count {
        let ticket: Value = user
            .create(
                "/service/tickets",
                &json!({"summary": format!("Printer {n}"),
                        "company": {"id": companies[n % companies.len()]},
                        "board": {"id": 1}, "status": {"name": FINISHED}}),
            )
            .await
            .unwrap();
        // Only tickets with time logged are imported.
        let _: Value = user
            .create(
                "/time/entries",
                &json!({"chargeToType": "ServiceTicket", "chargeToId": ticket["id"],
                        "member": {"identifier": "jdoe"},
                        "timeStart": start.format(&format).unwrap(),
                        "timeEnd": (start + time::Duration::hours(1)).format(&format).unwrap(),
                        "notes": "an hour of work"}),
            )
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_body_for_the_customer_sync_is_reported_alone_and_the_good_job_done() {
    every_bad_body_is_reported_alone_and_its_batchs_good_job_is_done("customer-sync").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_body_for_the_daily_export_is_reported_alone_and_the_good_job_done() {
    every_bad_body_is_reported_alone_and_its_batchs_good_job_is_done("daily-export").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_body_for_the_ticket_import_is_reported_alone_and_the_good_job_done() {
    every_bad_body_is_reported_alone_and_its_batchs_good_job_is_done("ticket-import").await;
}

/// The cases of `corpus/sqs/<function>/`, in a world of their own (the three run side by side).
async fn every_bad_body_is_reported_alone_and_its_batchs_good_job_is_done(function: &str) {
    let world = World::start().await;
    world.sync_customers().await;
    let all = cases(&format!("sqs/{function}"));
    assert!(!all.is_empty());
    if function == "ticket-import" {
        // One import run (a second would overlap the first, still running) with a job per case.
        finished_tickets(&world, all.len() + 2).await;
    }
    let mut failed = Vec::new();
    let mut runs: Vec<(String, String)> = Vec::new();
    let mut good: Vec<(String, Vec<Job>)> = Vec::new();
    for (n, case) in all.iter().enumerate() {
        let spec: SqsCase = case.parse();
        assert_eq!(
            spec.function, function,
            "{}: filed under another function",
            case.name
        );
        let body = spec.body(case);
        // The reason the consumer gives is Job::parse's: it names the field.
        if let Some(words) = &spec.expect.parse_error {
            match body.as_deref().map(Job::parse) {
                Some(Ok(_)) => failed.push(format!("{}: parsed as a job", case.name)),
                Some(Err(e)) => {
                    let message = e.to_string();
                    for word in words {
                        if !message.contains(word.as_str()) {
                            failed.push(format!(
                                "{}: parse error lacks {word:?}: {}",
                                case.name,
                                short(&message)
                            ));
                        }
                    }
                }
                None => {}
            }
        }
        // The next good job of a planned run of this function (a new run when all are used).
        let slot = match good
            .iter()
            .position(|(f, jobs)| f == function && !jobs.is_empty())
        {
            Some(slot) => slot,
            None => {
                let (run_id, jobs) = world.plan(function).await;
                assert!(!jobs.is_empty(), "{function}: the run planned no job");
                runs.push((function.to_owned(), run_id));
                good.push((function.to_owned(), jobs));
                good.len() - 1
            }
        };
        let job = good[slot].1.remove(0);
        let bad_id = format!("bad-{n}");
        let good_id = format!("good-{n}");
        let event = sqs_event(vec![
            sqs_record(&bad_id, body),
            sqs_record(&good_id, Some(job.to_body().unwrap())),
        ]);
        match no_panic(Box::pin(world.call(function, event))).await {
            Err(panic) => failed.push(format!("{}: PANIC {panic}", case.name)),
            Ok(Err(d)) => failed.push(format!(
                "{}: the batch failed: {}: {}",
                case.name,
                d.error_type,
                short(&d.error_message)
            )),
            Ok(Ok(answer)) => {
                let expected = if spec.expect.reported {
                    vec![bad_id]
                } else {
                    vec![]
                };
                if failures(&answer) != expected {
                    failed.push(format!(
                        "{}: batchItemFailures {:?}, expected {expected:?}",
                        case.name,
                        failures(&answer)
                    ));
                }
            }
        }
    }
    // The good jobs left over go back on their queues; every run then finishes: no good job's
    // work was lost.
    for (of, jobs) in &good {
        world.requeue(of, jobs).await;
    }
    for function in cwsync_bad_input::FUNCTIONS {
        let dead = world.deliver(function).await;
        assert!(
            dead.is_empty(),
            "{function}: jobs left for the DLQ: {dead:?}"
        );
    }
    for (of, run_id) in &runs {
        let report = world.report(of, run_id).await;
        if report.status() == "running" || report.status().is_empty() {
            failed.push(format!(
                "{function} run {run_id} did not finish: {}",
                short(&report.0.to_string())
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} problems over {} SQS cases:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
}
