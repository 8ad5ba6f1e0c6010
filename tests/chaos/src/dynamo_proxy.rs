//! A proxy between the functions' DynamoDB client and moto that throttles: while the storm is on,
//! each request is answered, at a seeded rate, with DynamoDB's `ThrottlingException` (HTTP 400,
//! the `awsJson1_0` error shape the SDK classifies as throttling and retries) instead of being
//! forwarded. Everything else goes to moto as sent. It also counts the conditional-check failures
//! moto answers (the races between workers that the stores settle).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The throttling answer's body.
const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;

#[derive(Debug)]
struct Shared {
    moto: String,
    client: reqwest::Client,
    rate: Mutex<(f64, StdRng)>,
    on: AtomicBool,
    throttled: AtomicU64,
    forwarded: AtomicU64,
    conditional_failures: AtomicU64,
}

/// The running proxy.
#[derive(Debug)]
pub struct DynamoProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl DynamoProxy {
    /// A proxy in front of `moto` (`http://127.0.0.1:PORT`) on an ephemeral loopback port,
    /// throttling a `rate` share of requests (seeded by `seed`) while [`DynamoProxy::storm`] is on.
    pub async fn start(moto: &str, rate: f64, seed: u64) -> std::io::Result<DynamoProxy> {
        let shared = Arc::new(Shared {
            moto: moto.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            rate: Mutex::new((rate, StdRng::seed_from_u64(seed))),
            on: AtomicBool::new(false),
            throttled: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            conditional_failures: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(forward).with_state(shared.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the DynamoDB proxy stopped");
            }
        });
        Ok(DynamoProxy { shared, addr })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Throttling on (the storm) or off (the clean run).
    pub fn storm(&self, on: bool) {
        self.shared.on.store(on, Ordering::SeqCst);
    }

    /// Requests answered with `ThrottlingException` so far.
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Requests forwarded to moto so far.
    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Conditional-check failures moto answered so far (lost races, settled by the stores).
    pub fn conditional_failures(&self) -> u64 {
        self.shared.conditional_failures.load(Ordering::SeqCst)
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if shared.on.load(Ordering::SeqCst) {
        let throttle = {
            let mut rate = shared.rate.lock().unwrap_or_else(|e| e.into_inner());
            let p = rate.0;
            rate.1.random_bool(p.clamp(0.0, 1.0))
        };
        if throttle {
            shared.throttled.fetch_add(1, Ordering::SeqCst);
            return (
                StatusCode::BAD_REQUEST,
                [
                    ("content-type", "application/x-amz-json-1.0"),
                    ("x-amzn-errortype", "ThrottlingException"),
                ],
                THROTTLED,
            )
                .into_response();
        }
    }
    shared.forwarded.fetch_add(1, Ordering::SeqCst);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = shared
        .client
        .request(method, format!("{}{path}", shared.moto))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(error) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("the proxy could not reach moto: {error}"),
            )
                .into_response();
        }
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            out.insert(name.clone(), value.clone());
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    if status == StatusCode::BAD_REQUEST
        && bytes
            .windows(b"ConditionalCheckFailed".len())
            .any(|w| w == b"ConditionalCheckFailed")
    {
        shared.conditional_failures.fetch_add(1, Ordering::SeqCst);
    }
    (status, out, bytes).into_response()
}
