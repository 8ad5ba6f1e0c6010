//! Runs a handler under `lambda_runtime` with what every invocation needs around it: the
//! invocation span (request id and function on every log line) and one metrics flush at the end.

use std::future::Future;
use std::sync::Arc;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use tracing::Instrument;

use crate::deps::Deps;
use crate::telemetry::invocation_span;

/// Serves invocations until the runtime stops: each raw event goes to `handler` with the shared
/// `deps`, inside [`invocation_span`], and the metrics are flushed after it, whatever it returned.
pub async fn serve<F, Fut, R>(deps: Deps, handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Arc<Deps>, LambdaEvent<serde_json::Value>) -> Fut,
    Fut: Future<Output = Result<R, Diagnostic>>,
    R: Serialize,
{
    let deps = Arc::new(deps);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deps = Arc::clone(&deps);
        let request_id = event.context.request_id.clone();
        let span = invocation_span(&request_id, deps.function);
        let answer = handler(Arc::clone(&deps), event).instrument(span);
        async move {
            let result = answer.await;
            deps.metrics.flush(Some(&request_id));
            result
        }
    }))
    .await
}
