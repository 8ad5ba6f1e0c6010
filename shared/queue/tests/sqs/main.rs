//! The SQS queue and the consumer helper against moto_server, through the real aws-sdk-sqs client
//! over HTTP: batch sends, de-duplication, size limits, FIFO, partial failure resends, DLQ redrive
//! after the receive limit, and a Lambda-like loop driven by `batchItemFailures`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fault_proxy;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use cwsync_queue::{
    Job, JobContext, JobFailure, JobKind, JobQueue, QueueError, RetryPolicy, SendLimits,
    SqsJobQueue, process_batch,
};
use fault_proxy::FaultProxy;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

async fn sqs() -> Option<(Client, &'static cwsync_aws_harness::Moto)> {
    let moto = cwsync_aws_harness::moto()?;
    Some((Client::new(&moto.sdk_config().await), moto))
}

async fn create_queue(
    client: &Client,
    name: &str,
    attributes: &[(QueueAttributeName, &str)],
) -> String {
    let mut request = client.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        request = request.attributes(attribute.clone(), *value);
    }
    request
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned()
}

async fn queue_arn(client: &Client, url: &str) -> String {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    attributes.attributes().unwrap()[&QueueAttributeName::QueueArn].clone()
}

/// A queue whose messages move to a fresh DLQ after `max_receive_count` receives: (queue, dlq).
async fn queue_with_dlq(client: &Client, prefix: &str, max_receive_count: u32) -> (String, String) {
    let dlq = create_queue(
        client,
        &cwsync_aws_harness::unique_name(&format!("{prefix}-dlq")),
        &[],
    )
    .await;
    let policy = json!({"deadLetterTargetArn": queue_arn(client, &dlq).await, "maxReceiveCount": max_receive_count.to_string()});
    let queue = create_queue(
        client,
        &cwsync_aws_harness::unique_name(prefix),
        &[(QueueAttributeName::RedrivePolicy, &policy.to_string())],
    )
    .await;
    (queue, dlq)
}

/// One `ReceiveMessage` (no long polling), with the system attributes Lambda passes on.
async fn receive(client: &Client, url: &str, visibility_timeout: Option<i32>) -> Vec<Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .set_visibility_timeout(visibility_timeout)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

/// Receives and deletes until the queue answers empty (at most 50 rounds).
async fn drain(client: &Client, url: &str) -> Vec<Message> {
    let mut all = Vec::new();
    for _ in 0..50 {
        let messages = receive(client, url, None).await;
        if messages.is_empty() {
            return all;
        }
        delete(client, url, &messages).await;
        all.extend(messages);
    }
    panic!("queue {url} did not drain in 50 receives");
}

async fn delete(client: &Client, url: &str, messages: &[Message]) {
    if messages.is_empty() {
        return;
    }
    let entries = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle().unwrap())
                .build()
                .unwrap()
        })
        .collect();
    let out = client
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();
    assert!(out.failed().is_empty(), "{:?}", out.failed());
}

fn keys_of(messages: &[Message]) -> Vec<String> {
    let mut keys: Vec<_> = messages
        .iter()
        .map(|m| Job::parse(m.body().unwrap()).unwrap().key().to_string())
        .collect();
    keys.sort();
    keys
}

fn job(tenant: &str, n: usize, padding: usize) -> Job {
    Job::new(
        JobKind::DailyExportAccount,
        tenant,
        "2026-11-22T06:00:00Z",
        false,
        json!({"accountId": format!("A-{n}"), "pad": "x".repeat(padding)}),
    )
    .unwrap()
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn twenty_five_jobs_sent_in_one_call_arrive_as_twenty_five_messages() {
    let Some((client, _)) = sqs().await else {
        return;
    };
    let url = create_queue(&client, &cwsync_aws_harness::unique_name("q25"), &[]).await;
    let jobs: Vec<_> = (0..25).map(|n| job("acme", n, 0)).collect();

    let queue = SqsJobQueue::new(client.clone(), &url);
    let report = queue.send_batch(&jobs).await.unwrap();
    report.ensure_all_sent().unwrap();
    assert_eq!(report.sent.len(), 25);
    let debug = format!("{queue:?}");
    assert!(
        debug.contains(&url) && !debug.contains("testing"),
        "no credentials in Debug: {debug}"
    );

    let messages = drain(&client, &url).await;
    assert_eq!(messages.len(), 25);
    let mut expected: Vec<_> = jobs.iter().map(|j| j.key().to_string()).collect();
    expected.sort();
    assert_eq!(keys_of(&messages), expected);
    let sent_ids: BTreeSet<_> = report.sent.iter().map(|s| s.message_id.clone()).collect();
    let received_ids: BTreeSet<_> = messages
        .iter()
        .map(|m| m.message_id().unwrap().to_owned())
        .collect();
    assert_eq!(sent_ids, received_ids, "the report's message ids are SQS's");
    assert_eq!(
        Job::parse(messages[0].body().unwrap()).unwrap().tenant(),
        "acme"
    );
    // The standard queue is a fair queue: every message names its tenant as its group.
    for message in &messages {
        assert_eq!(
            message.attributes().unwrap()[&MessageSystemAttributeName::MessageGroupId],
            "acme"
        );
    }
}

#[tokio::test]
async fn a_job_repeated_in_one_call_arrives_once() {
    let Some((client, _)) = sqs().await else {
        return;
    };
    let url = create_queue(&client, &cwsync_aws_harness::unique_name("qdup"), &[]).await;
    let (a, b) = (job("acme", 1, 0), job("acme", 2, 0));

    let report = SqsJobQueue::new(client.clone(), &url)
        .send_batch(&[a.clone(), b.clone(), a.clone()])
        .await
        .unwrap();
    assert_eq!(report.duplicates, [a.key()]);

    let mut expected = vec![a.key().to_string(), b.key().to_string()];
    expected.sort();
    assert_eq!(keys_of(&drain(&client, &url).await), expected);
}

#[tokio::test]
async fn a_job_over_the_size_limit_is_refused_alone_and_the_others_arrive() {
    let Some((client, _)) = sqs().await else {
        return;
    };
    let url = create_queue(&client, &cwsync_aws_harness::unique_name("qbig"), &[]).await;
    let too_big = job("acme", 1, 256 * 1024);
    let (before, after) = (job("acme", 0, 0), job("acme", 2, 0));

    let report = SqsJobQueue::new(client.clone(), &url)
        .send_batch(&[before.clone(), too_big.clone(), after.clone()])
        .await
        .unwrap();

    assert_eq!(report.sent.len(), 2);
    assert!(
        matches!(&report.failed[..], [QueueError::TooLarge { key, limit: 262_144, .. }] if *key == too_big.key())
    );
    let error = report.ensure_all_sent().unwrap_err();
    assert!(!error.is_transient());
    assert!(error.to_string().contains(too_big.key().as_str()));
    let mut expected = vec![before.key().to_string(), after.key().to_string()];
    expected.sort();
    assert_eq!(keys_of(&drain(&client, &url).await), expected);
}

#[tokio::test]
async fn jobs_too_big_to_share_one_request_are_split_by_bytes_and_all_arrive() {
    let Some((client, _)) = sqs().await else {
        return;
    };
    let url = create_queue(&client, &cwsync_aws_harness::unique_name("qbytes"), &[]).await;
    // SQS (and moto) now take up to 1 MiB per message and per request. Twelve ~300 KiB jobs fit
    // ten to a request by count but not by bytes: moto refuses a request over 1 MiB
    // (BatchRequestTooLong), so only byte-aware batching gets them all through.
    let one_mib = SendLimits {
        max_entries: 10,
        max_message_bytes: 1024 * 1024,
        max_batch_bytes: 1024 * 1024,
    };
    let jobs: Vec<_> = (0..12).map(|n| job("acme", n, 300 * 1024)).collect();

    let report = SqsJobQueue::new(client.clone(), &url)
        .with_limits(one_mib)
        .send_batch(&jobs)
        .await
        .unwrap();
    report.ensure_all_sent().unwrap();
    assert_eq!(drain(&client, &url).await.len(), 12);
}

#[tokio::test]
async fn sending_to_a_queue_that_does_not_exist_fails_as_a_permanent_error() {
    let Some((client, moto)) = sqs().await else {
        return;
    };
    let url = format!(
        "{}/123456789012/{}",
        moto.endpoint(),
        cwsync_aws_harness::unique_name("missing")
    );

    let error = SqsJobQueue::new(client, &url)
        .send_batch(&[job("acme", 1, 0)])
        .await
        .unwrap_err();

    assert!(!error.is_transient());
    let text = error.to_string();
    assert!(
        text.contains(&url) && text.contains("NonExistentQueue"),
        "{text}"
    );
}

#[tokio::test]
async fn a_fifo_queue_keeps_one_message_per_job_key_across_sends_grouped_by_tenant() {
    let Some((client, _)) = sqs().await else {
        return;
    };
    let name = format!("{}.fifo", cwsync_aws_harness::unique_name("qfifo"));
    let url = create_queue(
        &client,
        &name,
        &[
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "false"),
        ],
    )
    .await;
    let queue = SqsJobQueue::new(client.clone(), &url);
    assert!(queue.is_fifo());
    let (a, b) = (job("acme", 1, 0), job("globex", 2, 0));

    queue
        .send_batch(&[a.clone(), b.clone()])
        .await
        .unwrap()
        .ensure_all_sent()
        .unwrap();
    // A retried fan-out sends the same job again: the deduplication id (the key) drops it.
    let again = queue.send_batch(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(
        again.sent.len(),
        1,
        "SQS accepts the send but stores nothing new"
    );

    let messages = drain(&client, &url).await;
    assert_eq!(messages.len(), 2);
    let groups: BTreeMap<String, String> = messages
        .iter()
        .map(|m| {
            let job = Job::parse(m.body().unwrap()).unwrap();
            let group =
                m.attributes().unwrap()[&MessageSystemAttributeName::MessageGroupId].clone();
            (job.tenant().to_owned(), group)
        })
        .collect();
    assert_eq!(
        groups,
        BTreeMap::from([
            ("acme".into(), "acme".into()),
            ("globex".into(), "globex".into())
        ])
    );
}

#[tokio::test]
async fn entries_sqs_fails_are_resent_alone_and_every_job_arrives_once() {
    let Some((_, moto)) = sqs().await else { return };
    let config = moto.sdk_config().await;
    let direct = Client::new(&config);
    let url = create_queue(&direct, &cwsync_aws_harness::unique_name("qpartial"), &[]).await;
    let proxy = FaultProxy::start(moto.endpoint()).await;
    let through_proxy = Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&config)
            .endpoint_url(proxy.endpoint())
            .build(),
    );
    let jobs: Vec<_> = (0..10).map(|n| job("acme", n, 0)).collect();
    let flaky: Vec<String> = [2, 5]
        .iter()
        .map(|&n| jobs[n].key().digest().to_owned())
        .collect();
    proxy.fail_once(flaky.clone());

    let report = SqsJobQueue::new(through_proxy, &url)
        .with_retry(fast())
        .send_batch(&jobs)
        .await
        .unwrap();

    report.ensure_all_sent().unwrap();
    let batches = proxy.batches();
    assert_eq!(batches.len(), 2, "one batch, then one resend");
    assert_eq!(batches[0].len(), 10);
    assert_eq!(batches[1], flaky, "only the failed entries are resent");
    let messages = drain(&direct, &url).await;
    let mut expected: Vec<_> = jobs.iter().map(|j| j.key().to_string()).collect();
    expected.sort();
    assert_eq!(
        keys_of(&messages),
        expected,
        "each job arrives exactly once"
    );
}

#[tokio::test]
async fn a_message_received_up_to_the_receive_limit_then_moves_to_the_dlq() {
    let Some((client, _)) = sqs().await else {
        return;
    };
    let (url, dlq) = queue_with_dlq(&client, "qredrive", 2).await;
    let poison = job("acme", 1, 0);
    SqsJobQueue::new(client.clone(), &url)
        .send_batch(std::slice::from_ref(&poison))
        .await
        .unwrap();

    // Visibility timeout 0: the message is visible again at once, as if its timeout had passed.
    for receive_count in ["1", "2"] {
        let messages = receive(&client, &url, Some(0)).await;
        assert_eq!(messages.len(), 1);
        let attributes = messages[0].attributes().unwrap();
        assert_eq!(
            attributes[&MessageSystemAttributeName::ApproximateReceiveCount],
            receive_count
        );
    }
    assert!(
        receive(&client, &url, Some(0)).await.is_empty(),
        "past maxReceiveCount it is not delivered"
    );

    let dead = drain(&client, &dlq).await;
    assert_eq!(keys_of(&dead), [poison.key().to_string()]);
}

/// What Lambda's event source mapping hands the function for received messages.
fn lambda_event(messages: &[Message]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id().map(str::to_owned);
            record.receipt_handle = m.receipt_handle().map(str::to_owned);
            record.body = m.body().map(str::to_owned);
            record.attributes = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            record
        })
        .collect();
    event
}

#[tokio::test]
async fn a_lambda_like_loop_deletes_what_succeeded_and_the_failures_reach_the_dlq() {
    let Some((client, _)) = sqs().await else {
        return;
    };
    let (url, dlq) = queue_with_dlq(&client, "qloop", 3).await;
    let action_job = |action: &str| {
        Job::new(
            JobKind::TicketImportTicket,
            "acme",
            "run-7",
            false,
            json!({"action": action}),
        )
        .unwrap()
    };
    let jobs = [
        action_job("ok-1"),
        action_job("ok-2"),
        action_job("transient"),
        action_job("permanent"),
    ];
    SqsJobQueue::new(client.clone(), &url)
        .send_batch(&jobs)
        .await
        .unwrap()
        .ensure_all_sent()
        .unwrap();
    client
        .send_message()
        .queue_url(&url)
        .message_body("{not a job")
        .send()
        .await
        .unwrap();

    let calls: Mutex<HashMap<String, Vec<u32>>> = Mutex::default();
    let handler = |job: Job, context: JobContext| {
        let action = job.payload()["action"].as_str().unwrap().to_owned();
        calls
            .lock()
            .unwrap()
            .entry(action.clone())
            .or_default()
            .push(context.receive_count);
        async move {
            match action.as_str() {
                "transient" => Err(JobFailure::transient("ConnectWise is down")),
                "permanent" => Err(JobFailure::permanent("the account has no company type")),
                _ => Ok(()),
            }
        }
    };

    let mut summaries = Vec::new();
    for round in 0.. {
        assert!(
            round < 10,
            "the loop must end once the failures have moved to the DLQ"
        );
        // Visibility timeout 0 stands in for the failed records' timeout running out.
        let messages = receive(&client, &url, Some(0)).await;
        if messages.is_empty() {
            break;
        }
        let processed = process_batch(lambda_event(&messages), 4, handler).await;
        summaries.push(processed.summary);
        // Lambda with ReportBatchItemFailures deletes every record not reported as failed.
        let failed: BTreeSet<_> = processed
            .response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        let succeeded: Vec<_> = messages
            .into_iter()
            .filter(|m| !failed.contains(m.message_id().unwrap()))
            .collect();
        delete(&client, &url, &succeeded).await;
    }

    assert_eq!(
        summaries.len(),
        3,
        "three deliveries of the failing records, then the DLQ"
    );
    assert_eq!(
        (
            summaries[0].ok,
            summaries[0].transient,
            summaries[0].permanent
        ),
        (2, 1, 2)
    );
    assert_eq!(
        (
            summaries[2].ok,
            summaries[2].transient,
            summaries[2].permanent
        ),
        (0, 1, 2)
    );
    let calls = calls.into_inner().unwrap();
    assert_eq!(calls["ok-1"], [1], "a success is handled once and deleted");
    assert_eq!(calls["ok-2"], [1]);
    assert_eq!(
        calls["transient"],
        [1, 2, 3],
        "retried up to maxReceiveCount, never forever"
    );
    assert_eq!(calls["permanent"], [1, 2, 3]);

    let dead = drain(&client, &dlq).await;
    let mut bodies: Vec<_> = dead.iter().map(|m| m.body().unwrap().to_owned()).collect();
    bodies.sort();
    let mut expected = vec![
        "{not a job".to_owned(),
        action_job("transient").to_body().unwrap(),
        action_job("permanent").to_body().unwrap(),
    ];
    expected.sort();
    assert_eq!(
        bodies, expected,
        "exactly the failures reach the DLQ; the successes are gone"
    );
    assert!(receive(&client, &url, Some(0)).await.is_empty());
}
