//! A Function URL in front of a handler, on 127.0.0.1: each HTTP request becomes the raw Lambda
//! payload a Function URL passes (`rawPath`, `rawQueryString`, `headers`, `queryStringParameters`,
//! `requestContext.http`, `body`), and the handler's answer (`statusCode`, `body`) becomes the
//! HTTP response — what ConnectWise's callbacks reach when they POST to a deployed function.

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Map, Value, json};

type Handler = Arc<dyn Fn(Value) -> futures::future::BoxFuture<'static, Value> + Send + Sync>;

/// A Function URL's address, bound before its handler exists (the handler's configuration names
/// the URL).
#[derive(Debug)]
pub struct FunctionUrl {
    listener: tokio::net::TcpListener,
    url: String,
}

impl FunctionUrl {
    /// Binds a free loopback port.
    pub async fn bind() -> FunctionUrl {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the Function URL");
        let url = format!("http://{}/", listener.local_addr().expect("its address"));
        FunctionUrl { listener, url }
    }

    /// Its base URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves `handle` (raw Lambda payload in, raw Function URL response out) until the test's
    /// runtime ends.
    pub fn serve<H, Fut>(self, handle: H)
    where
        H: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Value> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |payload| Box::pin(handle(payload)));
        let app = axum::Router::new().fallback(front).with_state(handler);
        tokio::spawn(async move { axum::serve(self.listener, app).await });
    }
}

/// The Function URL event for one request.
pub fn event(
    method: &Method,
    uri: &Uri,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Value {
    let headers: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                Value::from(v.to_str().unwrap_or_default()),
            )
        })
        .collect();
    let parameters: Map<String, Value> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    json!({
        "version": "2.0",
        "rawPath": uri.path(),
        "rawQueryString": query.unwrap_or_default(),
        "headers": headers,
        "queryStringParameters": parameters,
        "requestContext": {"timeEpoch": 0, "http": {"method": method.as_str(), "path": uri.path()}},
        "body": String::from_utf8_lossy(body),
        "isBase64Encoded": false,
    })
}

async fn front(
    State(handler): State<Handler>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let answer = handler(event(&method, &uri, query.as_deref(), &headers, &body)).await;
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match &answer["body"] {
        Value::String(body) => body.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    (status, body)
}
