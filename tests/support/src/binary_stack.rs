//! A function's binary on the stack's AWS parts, on moto: its table, its three job queues and the
//! tenants' secrets, the environment the stack gives the function (`infra/template.yaml`) pointed
//! at moto, and the delivery of a queue's messages to a warm instance of the binary
//! ([`cwsync_lambda_harness::Instance`]) as Lambda's SQS event source mapping delivers them.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use cwsync_aws_harness::Moto;
use cwsync_lambda_harness::{HarnessError, Instance, Outcome};
use serde_json::Value;

/// The stack's AWS parts for one function binary, on moto, each named for this stack alone.
#[derive(Debug)]
pub struct BinaryStack {
    /// The SQS client the delivery uses.
    pub sqs: aws_sdk_sqs::Client,
    secrets: aws_sdk_secretsmanager::Client,
    /// The customer jobs queue's URL.
    pub customer_queue: String,
    /// The export jobs queue's URL.
    pub export_queue: String,
    /// The ticket jobs queue's URL.
    pub ticket_queue: String,
    env: Vec<(String, String)>,
}

/// What [`BinaryStack::deliver`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Invocations (SQS batches) handed to the instance.
    pub batches: u64,
    /// Messages delivered, redeliveries included.
    pub deliveries: u64,
    /// Messages the instance reported as failed (delivered again).
    pub reported: u64,
}

impl BinaryStack {
    /// Creates the table and the three job queues on `moto`, names prefixed with `prefix`.
    /// Panics (the test or bench fails) when moto refuses.
    #[allow(
        clippy::panic,
        reason = "test support: a set-up failure fails the test"
    )]
    pub async fn create(moto: &Moto, prefix: &str) -> Self {
        let sdk = moto.sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let table = cwsync_store::dynamo::create_table(
            &dynamo,
            &cwsync_aws_harness::unique_name(&format!("{prefix}-table")),
        )
        .await
        .unwrap_or_else(|e| panic!("creating the table: {e}"));
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mut urls = Vec::new();
        for queue in ["customers", "export", "tickets"] {
            let name = cwsync_aws_harness::unique_name(&format!("{prefix}-{queue}"));
            let created = sqs.create_queue().queue_name(name).send().await;
            match created.ok().and_then(|c| c.queue_url) {
                Some(url) => urls.push(url),
                None => panic!("creating the {queue} queue"),
            }
        }
        let [customer_queue, export_queue, ticket_queue] =
            <[String; 3]>::try_from(urls).unwrap_or_else(|_| panic!("three queues"));
        let env = vec![
            ("TABLE_NAME".to_owned(), table.name.clone()),
            ("CUSTOMER_QUEUE_URL".to_owned(), customer_queue.clone()),
            ("EXPORT_QUEUE_URL".to_owned(), export_queue.clone()),
            ("TICKET_QUEUE_URL".to_owned(), ticket_queue.clone()),
            ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint().to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "testing".to_owned()),
            ("AWS_SESSION_TOKEN".to_owned(), "testing".to_owned()),
            // No shared config or credentials file of the developer's is read.
            ("AWS_CONFIG_FILE".to_owned(), "/dev/null".to_owned()),
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_owned(),
                "/dev/null".to_owned(),
            ),
        ];
        Self {
            sqs,
            secrets: aws_sdk_secretsmanager::Client::new(&sdk),
            customer_queue,
            export_queue,
            ticket_queue,
            env,
        }
    }

    /// The function's environment: the stack's configuration variables and moto's endpoint and
    /// credentials for the AWS SDK.
    pub fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Stores `tenant`'s secret where the function reads it (`cwsync/tenants/<tenant>`).
    #[allow(
        clippy::panic,
        reason = "test support: a set-up failure fails the test"
    )]
    pub async fn put_secret(&self, tenant: &str, secret: &Value) {
        let name = format!(
            "{}{tenant}",
            cwsync_runtime::config::DEFAULT_TENANT_SECRET_PREFIX
        );
        let created = self
            .secrets
            .create_secret()
            .name(&name)
            .secret_string(secret.to_string())
            .send()
            .await;
        if let Err(e) = created {
            panic!("storing the secret {name}: {e}");
        }
    }

    /// Receives the messages of `queue_url` and hands them to `instance` in batches of
    /// `batch_size` as the event source mapping does (receive counts in the attributes), deleting
    /// those the instance did not report, until the queue is empty; messages the instance sends
    /// meanwhile are delivered too. Each batch may take `wait`. A batch the instance answers with
    /// an invocation error is delivered again whole, as Lambda does; after `max_batches`
    /// batches the delivery stops with an error, as it does when the instance gives no answer.
    pub async fn deliver(
        &self,
        queue_url: &str,
        instance: &mut Instance,
        batch_size: i32,
        max_batches: u64,
        wait: Duration,
    ) -> Result<Delivered, String> {
        let (delivered, drained) = self
            .deliver_some(queue_url, instance, batch_size, max_batches, wait)
            .await?;
        if drained {
            Ok(delivered)
        } else {
            Err(format!(
                "{queue_url} still held messages after {max_batches} batches"
            ))
        }
    }

    /// [`BinaryStack::deliver`] for at most `batches` batches; also whether the queue was found
    /// empty (else messages may be left, for the next call).
    pub async fn deliver_some(
        &self,
        queue_url: &str,
        instance: &mut Instance,
        batch_size: i32,
        batches: u64,
        wait: Duration,
    ) -> Result<(Delivered, bool), String> {
        let mut delivered = Delivered::default();
        while delivered.batches < batches {
            let messages = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(batch_size)
                .wait_time_seconds(0)
                .visibility_timeout(0)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .map_err(|e| format!("receiving from {queue_url}: {e}"))?
                .messages
                .unwrap_or_default();
            if messages.is_empty() {
                return Ok((delivered, true));
            }
            delivered.batches += 1;
            delivered.deliveries += messages.len() as u64;
            let event = serde_json::to_value(sqs_event(&messages))
                .map_err(|e| format!("the SQS event: {e}"))?;
            let reported: Vec<String> = match instance.invoke(event, wait).await {
                Ok(Outcome::Response(answer)) => {
                    let response: SqsBatchResponse = serde_json::from_value(answer)
                        .map_err(|e| format!("the batch's answer: {e}"))?;
                    response
                        .batch_item_failures
                        .into_iter()
                        .map(|f| f.item_identifier)
                        .collect()
                }
                // The whole batch comes back.
                Ok(Outcome::Error(_)) => messages
                    .iter()
                    .filter_map(|m| m.message_id.clone())
                    .collect(),
                Ok(other) => return Err(format!("the instance stopped: {other:?}")),
                Err(HarnessError::NoAnswer { waited, .. }) => {
                    return Err(format!("the instance gave no answer within {waited:?}"));
                }
                Err(e) => return Err(e.to_string()),
            };
            delivered.reported += reported.len() as u64;
            let done: Vec<DeleteMessageBatchRequestEntry> = messages
                .iter()
                .filter(|m| {
                    m.message_id
                        .as_ref()
                        .is_none_or(|id| !reported.contains(id))
                })
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .set_receipt_handle(m.receipt_handle.clone())
                        .build()
                        .ok()
                })
                .collect();
            if !done.is_empty() {
                self.sqs
                    .delete_message_batch()
                    .queue_url(queue_url)
                    .set_entries(Some(done))
                    .send()
                    .await
                    .map_err(|e| format!("deleting from {queue_url}: {e}"))?;
            }
        }
        Ok((delivered, false))
    }
}

/// The SQS event Lambda's event source mapping builds from received `messages`: ids, bodies,
/// receipt handles and the system attributes (`ApproximateReceiveCount` among them).
pub fn sqs_event(messages: &[Message]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for message in messages {
        let mut record = SqsMessage::default();
        record.message_id = message.message_id.clone();
        record.body = message.body.clone();
        record.receipt_handle = message.receipt_handle.clone();
        record.event_source = Some("aws:sqs".to_owned());
        for (name, value) in message.attributes.clone().unwrap_or_default() {
            record.attributes.insert(name.as_str().to_owned(), value);
        }
        event.records.push(record);
    }
    event
}
