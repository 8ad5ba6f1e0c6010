//! Callback (webhook) delivery. A write that changes a record whose type has registered callbacks queues one
//! job per matching CallbackEntry; a single background worker POSTs them in order with reqwest, so an API
//! response never waits on a receiver. Every outcome is logged for tests to inspect.
//! Each body is signed like ConnectWise does: header `x-content-signature` =
//! base64(HMAC-SHA256(key = SHA-256(signing key), message = the exact JSON bytes sent)); the signing key is
//! served at the payload's `Metadata.key_url` (`/__sim/callbacks/signing-key`) as `{"signing_key": …}`.
//! Level semantics are kept simple: every active entry of the record's type receives every change of that
//! type, whatever its `level`/`objectId` (ConnectWise's "owner" level with objectId 1 behaves so).
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One queued delivery.
#[derive(Debug, Clone)]
pub struct CallbackJob {
    pub callback_id: i64,
    pub url: String,
    pub payload: Value,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackDelivery {
    pub callback_id: i64,
    pub url: String,
    /// The JSON body that was POSTed.
    pub payload: Value,
    /// HTTP status of the receiver's answer, when it answered.
    pub status: Option<u16>,
    /// Transport error, when it did not.
    pub error: Option<String>,
}

/// Delivery outcomes, with a notifier for tests that wait for them.
#[derive(Debug, Default)]
pub struct DeliveryLog {
    entries: Mutex<Vec<CallbackDelivery>>,
    notify: Notify,
}

impl DeliveryLog {
    pub fn push(&self, d: CallbackDelivery) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(d);
        self.notify.notify_waiters();
    }

    pub fn all(&self) -> Vec<CallbackDelivery> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Waits until at least `n` deliveries are logged or `timeout` passes; returns what is logged.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<CallbackDelivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            let now = self.all();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.all();
            }
        }
    }
}

/// The change that triggers callbacks.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    /// `added`, `updated` or `deleted`.
    pub action: &'static str,
    pub callback_type: &'static str,
    pub id: i64,
    /// The record after the change; None on delete.
    pub entity: Option<Value>,
    pub member_identifier: String,
    pub company_id: String,
}

/// The documented payload: `Entity` is the record as a JSON string, absent on delete.
pub fn payload(event: &ChangeEvent, from_url: &str, key_url: &str) -> Value {
    let mut body = json!({
        "Action": event.action,
        "Type": event.callback_type,
        "ID": event.id,
        "CompanyId": event.company_id,
        "MemberId": event.member_identifier,
        "FromUrl": from_url,
        "Metadata": {"key_url": key_url},
    });
    if let (Some(entity), Value::Object(map)) = (&event.entity, &mut body) {
        map.insert("Entity".into(), Value::String(entity.to_string()));
    }
    body
}

/// The key callbacks are signed with (served at `Metadata.key_url`). A fake, test-only value.
pub const SIGNING_KEY: &str = "cwsync-simulator-signing-key";

/// base64(HMAC-SHA256(key = SHA-256(signing_key), message = body)).
pub fn signature(signing_key: &str, body: &[u8]) -> String {
    use base64::Engine;
    let key_bytes = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, signing_key.as_bytes());
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key_bytes.as_ref());
    let tag = aws_lc_rs::hmac::sign(&key, body);
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// Runs until the queue closes: POSTs each job and logs the outcome.
pub async fn run_worker(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<CallbackJob>,
    log: std::sync::Arc<DeliveryLog>,
    timeout: Duration,
) {
    let client = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "callback client could not be built; callbacks will not be delivered");
            return;
        }
    };
    while let Some(job) = rx.recv().await {
        // Compact JSON: the bytes that are signed are exactly the bytes that are sent.
        let body = serde_json::to_vec(&job.payload).unwrap_or_default();
        let result = client
            .post(&job.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("x-content-signature", signature(SIGNING_KEY, &body))
            .body(body)
            .send()
            .await;
        let (status, error) = match result {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        log.push(CallbackDelivery {
            callback_id: job.callback_id,
            url: job.url,
            payload: job.payload,
            status,
            error,
        });
    }
}
