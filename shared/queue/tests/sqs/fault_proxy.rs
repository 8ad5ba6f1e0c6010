//! A tiny HTTP proxy in front of moto that makes chosen `SendMessageBatch` entries fail once.
//!
//! moto never fails a batch entry on its own (only for an invalid `DelaySeconds`, which cwsync
//! never sets), so this is how the real SDK meets a partial failure over HTTP: the proxy removes
//! the chosen entries from the request before moto sees it and adds them to the response's
//! `Failed` list as a server-side error. Everything else passes through unchanged, so the messages
//! that arrive are moto's own.

use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Default)]
struct State {
    fail_once: HashSet<String>,
    batches: Vec<Vec<String>>,
}

/// The proxy; stops when the test's runtime ends.
#[derive(Debug)]
pub struct FaultProxy {
    endpoint: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (moto's endpoint).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let client = reqwest::Client::new();
        let upstream = upstream.to_owned();
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(
                    stream,
                    client.clone(),
                    upstream.clone(),
                    shared.clone(),
                ));
            }
        });
        FaultProxy { endpoint, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next `SendMessageBatch` entry with each of these ids fails (once per id).
    pub fn fail_once(&self, ids: impl IntoIterator<Item = String>) {
        self.state.lock().unwrap().fail_once.extend(ids);
    }

    /// The entry ids of every `SendMessageBatch` request seen, in order.
    pub fn batches(&self) -> Vec<Vec<String>> {
        self.state.lock().unwrap().batches.clone()
    }
}

/// Serves one keep-alive connection: one request at a time until the client closes it.
async fn serve(
    mut stream: TcpStream,
    client: reqwest::Client,
    upstream: String,
    state: Arc<Mutex<State>>,
) {
    let mut buffer = Vec::new();
    loop {
        let Some((head, body)) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        let (status, content_type, body) = forward(&client, &upstream, &head, body, &state).await;
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err()
            || stream.write_all(&body).await.is_err()
        {
            return;
        }
    }
}

struct Head {
    path: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(Head, Vec<u8>)> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let head = Head { path, headers };
    let length: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[head_end..head_end + length].to_vec();
    buffer.drain(..head_end + length);
    Some((head, body))
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    head: &Head,
    body: Vec<u8>,
    state: &Mutex<State>,
) -> (u16, String, Vec<u8>) {
    let is_batch = head.header("x-amz-target") == Some("AmazonSQS.SendMessageBatch");
    let (body, injected) = if is_batch {
        strip_failing_entries(body, state)
    } else {
        (body, Vec::new())
    };
    let mut request = client.post(format!("{upstream}{}", head.path)).body(body);
    for (name, value) in &head.headers {
        if !["host", "content-length", "connection"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.0")
        .to_owned();
    let mut bytes = response.bytes().await.unwrap().to_vec();
    if !injected.is_empty() && status == 200 {
        let mut answer: Value = serde_json::from_slice(&bytes).unwrap();
        let failed = answer
            .as_object_mut()
            .unwrap()
            .entry("Failed")
            .or_insert_with(|| json!([]));
        for id in injected {
            failed.as_array_mut().unwrap().push(json!({
                "Id": id, "SenderFault": false, "Code": "InternalError",
                "Message": "injected by the test's fault proxy"
            }));
        }
        bytes = serde_json::to_vec(&answer).unwrap();
    }
    (status, content_type, bytes)
}

/// Records the request's entry ids and removes the ones chosen to fail (once each).
fn strip_failing_entries(body: Vec<u8>, state: &Mutex<State>) -> (Vec<u8>, Vec<String>) {
    let mut request: Value = serde_json::from_slice(&body).unwrap();
    let entries = request["Entries"].as_array_mut().unwrap();
    let mut state = state.lock().unwrap();
    state.batches.push(
        entries
            .iter()
            .map(|e| e["Id"].as_str().unwrap().to_owned())
            .collect(),
    );
    let mut injected = Vec::new();
    entries.retain(|entry| {
        let id = entry["Id"].as_str().unwrap();
        if state.fail_once.remove(id) {
            injected.push(id.to_owned());
            false
        } else {
            true
        }
    });
    (serde_json::to_vec(&request).unwrap(), injected)
}
