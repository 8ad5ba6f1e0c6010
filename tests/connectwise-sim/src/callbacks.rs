//! Callback (webhook) delivery, as ConnectWise does it (API-BEHAVIOUR §8). A write that changes a record
//! whose type has registered callbacks queues one job per matching CallbackEntry; a single background
//! worker POSTs them in order with reqwest, so an API response never waits on a receiver. A receiver that
//! answers non-2xx (or cannot be reached) is tried again, [`CallbackPolicy::attempts`] times in all, with
//! doubling delays from [`CallbackPolicy::retry_delay`]. Every delivery is logged with the exact bytes
//! and signature sent, for tests to inspect and replay.
//!
//! Each body is signed like ConnectWise does: header `x-content-signature` =
//! base64(HMAC-SHA256(key = SHA-256(signing key), message = the exact JSON bytes sent)). Each callback
//! entry has its own signing key, served unauthenticated at the payload's `Metadata.key_url`
//! (`<base>/callback-keys/<n>`, n = the entry's id) as `{"signing_key": …}`.
//!
//! Test knobs (in `Knobs`): drop (lose) the next N callbacks — logged as dropped, never sent — and
//! deliver the next N callbacks twice (a storm: the same bytes and signature twice).
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
    /// Lose it: log it as dropped, send nothing (knob).
    pub drop: bool,
    /// How many times to send it (2 in a storm).
    pub copies: u32,
}

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// Timeout of one POST.
    pub timeout: Duration,
    /// Attempts in all (at least 1) while the receiver answers non-2xx or cannot be reached.
    pub attempts: u32,
    /// Delay before the second attempt; doubled before each later one.
    pub retry_delay: Duration,
}

/// The outcome of one delivery (after its retries).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackDelivery {
    pub callback_id: i64,
    pub url: String,
    /// The JSON body that was POSTed.
    pub payload: Value,
    /// The exact body bytes (UTF-8) that were signed and sent.
    pub body: String,
    /// The `x-content-signature` header sent with it.
    pub signature: String,
    /// HTTP status of the receiver's last answer, when it answered.
    pub status: Option<u16>,
    /// Transport error of the last attempt, when it did not.
    pub error: Option<String>,
    /// POSTs made (0 when dropped).
    pub attempts: u32,
    /// Lost on purpose by the drop knob: never sent.
    pub dropped: bool,
}

impl CallbackDelivery {
    /// Whether the receiver took it (a 2xx answer).
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
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

/// The key callbacks were signed with before keys were per entry; still served at
/// `/__sim/callbacks/signing-key`. A fake, test-only value.
pub const SIGNING_KEY: &str = "cwsync-simulator-signing-key";

/// The signing key of callback entry `callback_id` (fake, test-only, deterministic).
pub fn signing_key(callback_id: i64) -> String {
    format!("{SIGNING_KEY}-{callback_id}")
}

/// `<base>/callback-keys/<callback_id>`: where a payload says its key is.
pub fn key_url(base_url: &str, callback_id: i64) -> String {
    format!("{base_url}/callback-keys/{callback_id}")
}

/// base64(HMAC-SHA256(key = SHA-256(signing_key), message = body)).
pub fn signature(signing_key: &str, body: &[u8]) -> String {
    use base64::Engine;
    let key_bytes = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, signing_key.as_bytes());
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key_bytes.as_ref());
    let tag = aws_lc_rs::hmac::sign(&key, body);
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// Runs until the queue closes: POSTs each job (retrying as `policy` says) and logs the outcome.
pub async fn run_worker(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<CallbackJob>,
    log: std::sync::Arc<DeliveryLog>,
    policy: CallbackPolicy,
) {
    let client = match reqwest::Client::builder().timeout(policy.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "callback client could not be built; callbacks will not be delivered");
            return;
        }
    };
    while let Some(job) = rx.recv().await {
        // Compact JSON: the bytes that are signed are exactly the bytes that are sent.
        let body = serde_json::to_vec(&job.payload).unwrap_or_default();
        let signature = signature(&signing_key(job.callback_id), &body);
        let text = String::from_utf8_lossy(&body).into_owned();
        if job.drop {
            log.push(CallbackDelivery {
                callback_id: job.callback_id,
                url: job.url,
                payload: job.payload,
                body: text,
                signature,
                status: None,
                error: None,
                attempts: 0,
                dropped: true,
            });
            continue;
        }
        for _ in 0..job.copies.max(1) {
            let (status, error, attempts) =
                deliver(&client, &job.url, &body, &signature, policy).await;
            log.push(CallbackDelivery {
                callback_id: job.callback_id,
                url: job.url.clone(),
                payload: job.payload.clone(),
                body: text.clone(),
                signature: signature.clone(),
                status,
                error,
                attempts,
                dropped: false,
            });
        }
    }
}

/// POSTs one body until a 2xx answer or the attempts run out: (last status, last error, attempts).
async fn deliver(
    client: &reqwest::Client,
    url: &str,
    body: &[u8],
    signature: &str,
    policy: CallbackPolicy,
) -> (Option<u16>, Option<String>, u32) {
    let mut delay = policy.retry_delay;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("x-content-signature", signature)
            .body(body.to_vec())
            .send()
            .await;
        let (status, error) = match result {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        if ok || attempt >= policy.attempts.max(1) {
            return (status, error, attempt);
        }
        tokio::time::sleep(delay).await;
        delay = delay.saturating_mul(2);
    }
}
