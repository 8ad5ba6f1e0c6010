//! Contract tests of the error ledger, watermarks, idempotency, tenant settings, request windows and
//! the replay guard: each contract is one async function taking the store as a trait object, run
//! against the in-memory store and against DynamoDB on moto_server (a table per test, so tests
//! never see each other's items).
//! Time is always passed in or injected: nothing here sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// One test binary (`--test state`); its modules live in `tests/state/`.
#[path = "state/idempotency.rs"]
mod idempotency;
#[path = "state/ledger.rs"]
mod ledger;
#[path = "state/rate_gate.rs"]
mod rate_gate;
#[path = "state/replay.rs"]
mod replay;
#[path = "state/settings.rs"]
mod settings;
#[path = "state/watermarks.rs"]
mod watermarks;

mod support {
    use aws_sdk_dynamodb::config::http::HttpRequest;
    use aws_sdk_dynamodb::config::{HttpClient, SharedHttpClient};
    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
    };
    use cwsync_store::TenantId;
    use cwsync_store::dynamo::{Table, create_table};
    use std::sync::Arc;
    use time::OffsetDateTime;
    use time::macros::datetime;

    /// The instant the tests start at.
    pub const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);

    pub fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    /// A fresh table on moto; `None` (after the harness's loud message) without moto outside CI.
    /// Its client sends one request at a time: see [`one_request_at_a_time`].
    pub async fn table() -> Option<Table> {
        let moto = cwsync_aws_harness::moto()?;
        let sdk_config = moto.sdk_config().await;
        // moto speaks plain HTTP on loopback.
        let http = aws_smithy_http_client::Builder::new().build_http();
        let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config)
            .http_client(one_request_at_a_time(http))
            .build();
        let client = aws_sdk_dynamodb::Client::from_conf(config);
        let name = cwsync_aws_harness::unique_name("state");
        Some(create_table(&client, &name).await.unwrap())
    }

    /// moto checks a write's condition and then applies the write as two steps, while serving
    /// requests on parallel threads: two racing conditional writes can both pass (measured: 1 in
    /// 200 rounds of 8 racing `PutItem`s with `attribute_not_exists` had two winners). DynamoDB
    /// applies each conditional write atomically. Sending one request at a time restores that
    /// per-request atomicity while the tasks still interleave *between* requests, which is where
    /// our races live (lost conditions, retries, stale reads).
    fn one_request_at_a_time(inner: SharedHttpClient) -> SharedHttpClient {
        let turn = Arc::new(tokio::sync::Mutex::new(()));
        http_client_fn(move |settings, components| {
            SharedHttpConnector::new(OneAtATime {
                inner: inner.http_connector(settings, components),
                turn: turn.clone(),
            })
        })
    }

    #[derive(Debug)]
    struct OneAtATime {
        inner: SharedHttpConnector,
        turn: Arc<tokio::sync::Mutex<()>>,
    }

    impl HttpConnector for OneAtATime {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let (inner, turn) = (self.inner.clone(), self.turn.clone());
            HttpConnectorFuture::new(async move {
                let _turn = turn.lock().await;
                inner.call(request).await
            })
        }
    }

    /// Runs one contract against the in-memory store (`in_memory`) and DynamoDB (`in_dynamodb`).
    macro_rules! against_both_stores {
        ($contract:ident, memory: $memory:expr, dynamo: $dynamo:expr) => {
            mod $contract {
                #[allow(
                    unused_imports,
                    reason = "the store constructors come from the contract's module"
                )]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn in_memory() {
                    super::$contract(std::sync::Arc::new($memory)).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn in_dynamodb() {
                    let Some(table) = crate::support::table().await else {
                        return;
                    };
                    super::$contract(std::sync::Arc::new($dynamo(table))).await;
                }
            }
        };
    }
    pub(crate) use against_both_stores;
}
