//! The fan-out through a real SQS queue on moto: the planner sends with the real aws-sdk-sqs
//! client, the jobs come back as Lambda would deliver them (receive count, partial batch
//! response), and a reported message is delivered again.

use std::sync::Arc;

use crate::support::*;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use cwsync_connectwise_sim::{FaultKind, FaultRule};
use cwsync_customer_sync::{CustomerSync, FUNCTION};
use cwsync_queue::SqsJobQueue;
use cwsync_runtime::Config;
use serde_json::json;
use time::OffsetDateTime;

/// Receives every message, hands them to the function in batches of ten the way the event
/// source mapping does, deletes the ones it did not report; until the queue stays empty.
async fn deliver(client: &aws_sdk_sqs::Client, url: &str, service: &CustomerSync) -> (u64, u64) {
    let (mut deliveries, mut reported) = (0, 0);
    for _ in 0..40 {
        let messages = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .visibility_timeout(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            return (deliveries, reported);
        }
        let event = cwsync_test_support::binary_stack::sqs_event(&messages);
        deliveries += messages.len() as u64;
        let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
        let response = service.handle_jobs(event, deadline).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        reported += failed.len() as u64;
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| !failed.contains(&m.message_id.clone().unwrap_or_default()))
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .build()
                    .unwrap()
            })
            .collect();
        if !done.is_empty() {
            client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(done))
                .send()
                .await
                .unwrap();
        }
    }
    panic!("the queue did not drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_run_fans_out_through_sqs_and_a_throttled_job_is_delivered_again() {
    let Some(moto) = cwsync_aws_harness::moto() else {
        return;
    };
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let name = cwsync_aws_harness::unique_name("customer-jobs");
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let (cw, billing) = crate::support::simulators_with_accounts(12).await;
    // The customer queue is SQS here (the in-memory one is not used).
    let (mut deps, _) = sim_deps(FUNCTION, Config::local(), TENANT, &cw, &billing);
    deps.stores = stores("customer-sync").await;
    deps.queues.customer = Some(Arc::new(SqsJobQueue::new(sqs.clone(), url.clone())));
    let mut service = CustomerSync::new(Arc::new(deps), fast_options());
    // One job at a time, so the throttled creates fall on whole jobs: the client makes four
    // attempts, so eight throttled creates exhaust exactly the first two jobs.
    service.core.concurrency = 1;
    // ConnectWise throttles creates for a while: the client's retries give up, the job is
    // reported, and SQS delivers it again.
    cw.inject(
        FaultRule::new(FaultKind::Status(429))
            .on("POST", "/company/companies")
            .next(8),
    );

    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let planned = service
        .handle(json!({"action": "sync-tenant", "tenant": TENANT}), deadline)
        .await
        .unwrap();
    assert_eq!(planned["jobsSent"], 12);
    let (deliveries, reported) = deliver(&sqs, &url, &service).await;

    assert_eq!(
        reported, 2,
        "the two throttled jobs were reported for redelivery"
    );
    assert_eq!(deliveries, 12 + reported);
    assert_eq!(
        cw.records("/company/companies").len(),
        12,
        "every account once, none twice"
    );
    let report = service
        .handle(
            json!({"action": "report", "tenant": TENANT, "runId": planned["runId"]}),
            deadline,
        )
        .await
        .unwrap();
    assert_eq!(report["run"]["status"], "succeeded", "{report}");
    assert_eq!(
        report["run"]["counts"]["company"]["created"], 12,
        "{report}"
    );
}
