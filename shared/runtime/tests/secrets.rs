//! Tenant credentials from Secrets Manager, through the real SDK over HTTP against moto_server:
//! the TTL cache, single flight, malformed and missing secrets, and tenant ids that try to name
//! another tenant's secret. Every `GetSecretValue` is counted by an SDK interceptor, independent
//! of the cache's own statistics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_secretsmanager::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_secretsmanager::config::{ConfigBag, Intercept};
use aws_sdk_secretsmanager::error::BoxError;
use aws_sdk_secretsmanager::primitives::Blob;
use cwsync_runtime::clock::ManualClock;
use cwsync_runtime::secrets::{
    SecretsCacheStats, SecretsError, SecretsManagerTenantSecrets, TenantSecrets,
};
use secrecy::ExposeSecret;

const TTL: Duration = Duration::from_secs(300);
const PRIVATE: &str = "PRIVATE-KEY-7c1e44aa";
const ROTATED: &str = "PRIVATE-KEY-ROTATED-0b9d";

#[derive(Debug, Default)]
struct CountCalls(Arc<AtomicUsize>);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// One test's world: its own secret prefix in the shared moto, a counted client, a manual clock.
struct World {
    admin: aws_sdk_secretsmanager::Client,
    secrets: SecretsManagerTenantSecrets,
    prefix: String,
    calls: Arc<AtomicUsize>,
    clock: Arc<ManualClock>,
}

impl World {
    async fn new() -> Option<Self> {
        let moto = cwsync_aws_harness::moto()?;
        let sdk = moto.sdk_config().await;
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = aws_sdk_secretsmanager::config::Builder::from(&sdk)
            .interceptor(CountCalls(Arc::clone(&calls)))
            .build();
        let prefix = format!("{}/", cwsync_aws_harness::unique_name("cwsync-tenants"));
        let clock = Arc::new(ManualClock::new());
        let secrets = SecretsManagerTenantSecrets::new(
            aws_sdk_secretsmanager::Client::from_conf(counted),
            prefix.clone(),
            TTL,
        )
        .with_clock(clock.clone());
        Some(Self {
            admin: aws_sdk_secretsmanager::Client::new(&sdk),
            secrets,
            prefix,
            calls,
            clock,
        })
    }

    fn name(&self, tenant: &str) -> String {
        format!("{}{tenant}", self.prefix)
    }

    async fn create(&self, tenant: &str, json: &str) {
        self.admin
            .create_secret()
            .name(self.name(tenant))
            .secret_string(json)
            .send()
            .await
            .unwrap();
    }

    async fn rotate(&self, tenant: &str, json: &str) {
        self.admin
            .put_secret_value()
            .secret_id(self.name(tenant))
            .secret_string(json)
            .send()
            .await
            .unwrap();
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn secret_json(private_key: &str) -> String {
    serde_json::json!({
        "site": "na", "companyId": "acme", "publicKey": "PUBLIC-KEY-1",
        "privateKey": private_key, "clientId": "5a3c1f0e-0000-4000-8000-000000000001"
    })
    .to_string()
}

#[tokio::test]
async fn credentials_are_read_once_and_then_served_from_the_cache_within_the_ttl() {
    let Some(world) = World::new().await else {
        return;
    };
    world.create("acme", &secret_json(PRIVATE)).await;

    let first = world.secrets.credentials("acme").await.unwrap();
    world.clock.advance(TTL - Duration::from_secs(1));
    let second = world.secrets.credentials("acme").await.unwrap();

    assert_eq!(first.private_key.expose_secret(), PRIVATE);
    assert_eq!(second.private_key.expose_secret(), PRIVATE);
    assert_eq!(
        first.client_config().site.base_url().as_str(),
        "https://api-na.myconnectwise.net/"
    );
    assert_eq!(world.calls(), 1, "the second call must come from the cache");
    assert_eq!(
        world.secrets.stats(),
        SecretsCacheStats {
            hits: 1,
            fetches: 1
        }
    );
}

#[tokio::test]
async fn credentials_are_read_again_after_the_ttl_and_pick_up_a_rotated_key() {
    let Some(world) = World::new().await else {
        return;
    };
    world.create("acme", &secret_json(PRIVATE)).await;
    world.secrets.credentials("acme").await.unwrap();

    world.rotate("acme", &secret_json(ROTATED)).await;
    let cached = world.secrets.credentials("acme").await.unwrap();
    assert_eq!(
        cached.private_key.expose_secret(),
        PRIVATE,
        "within the TTL the cached key is used"
    );
    assert_eq!(world.calls(), 1);

    world.clock.advance(TTL);
    let refreshed = world.secrets.credentials("acme").await.unwrap();
    assert_eq!(refreshed.private_key.expose_secret(), ROTATED);
    assert_eq!(world.calls(), 2);
}

#[tokio::test]
async fn an_invalidated_tenant_is_read_again_at_once() {
    let Some(world) = World::new().await else {
        return;
    };
    world.create("acme", &secret_json(PRIVATE)).await;
    world.secrets.credentials("acme").await.unwrap();
    world.rotate("acme", &secret_json(ROTATED)).await;

    world.secrets.invalidate("acme").await;
    let fresh = world.secrets.credentials("acme").await.unwrap();

    assert_eq!(fresh.private_key.expose_secret(), ROTATED);
    assert_eq!(world.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_for_one_tenant_share_one_read() {
    let Some(world) = World::new().await else {
        return;
    };
    world.create("acme", &secret_json(PRIVATE)).await;
    world.create("globex", &secret_json(PRIVATE)).await;
    let world = Arc::new(world);

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let world = Arc::clone(&world);
            tokio::spawn(async move {
                let tenant = if i % 2 == 0 { "acme" } else { "globex" };
                world.secrets.credentials(tenant).await.map(|_| ())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    assert_eq!(world.calls(), 2, "one read per tenant, not one per request");
    assert_eq!(
        world.secrets.stats(),
        SecretsCacheStats {
            hits: 14,
            fetches: 2
        }
    );
}

#[tokio::test]
async fn each_malformed_secret_names_the_secret_and_the_field_and_never_the_key() {
    let Some(world) = World::new().await else {
        return;
    };
    let mut missing_key: serde_json::Value = serde_json::from_str(&secret_json(PRIVATE)).unwrap();
    missing_key.as_object_mut().unwrap().remove("privateKey");
    let mut bad_site: serde_json::Value = serde_json::from_str(&secret_json(PRIVATE)).unwrap();
    bad_site["site"] = format!("{PRIVATE} not a host").into();
    let cases = [
        ("not-json", format!("privateKey: {PRIVATE}"), "SecretString"),
        ("missing-field", missing_key.to_string(), "privateKey"),
        ("empty-key", secret_json("  "), "privateKey"),
        ("bad-site", bad_site.to_string(), "site"),
    ];
    for (tenant, json, _) in &cases {
        world.create(tenant, json).await;
    }

    for (tenant, _, field) in cases {
        let err = world.secrets.credentials(tenant).await.unwrap_err();
        match &err {
            SecretsError::Malformed {
                secret_name,
                field: f,
                ..
            } => {
                assert_eq!(*secret_name, world.name(tenant));
                assert_eq!(*f, field, "{tenant}");
            }
            other => panic!("{tenant}: expected Malformed, got {other:?}"),
        }
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(text.contains(&world.name(tenant)), "{text}");
            assert!(text.contains(field), "{text}");
            assert!(!text.contains(PRIVATE), "the private key leaked: {text}");
        }
        assert!(!err.is_transient());
    }
}

#[tokio::test]
async fn a_binary_secret_is_malformed_naming_the_secret_string() {
    let Some(world) = World::new().await else {
        return;
    };
    world
        .admin
        .create_secret()
        .name(world.name("binary"))
        .secret_binary(Blob::new(secret_json(PRIVATE).into_bytes()))
        .send()
        .await
        .unwrap();

    let err = world.secrets.credentials("binary").await.unwrap_err();

    assert!(
        matches!(&err, SecretsError::Malformed { field: "SecretString", secret_name, .. } if *secret_name == world.name("binary")),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(PRIVATE));
}

#[tokio::test]
async fn a_missing_secret_is_not_found_under_its_name_and_is_not_cached() {
    let Some(world) = World::new().await else {
        return;
    };

    let err = world.secrets.credentials("initech").await.unwrap_err();
    assert_eq!(
        err,
        SecretsError::NotFound {
            secret_name: world.name("initech")
        }
    );
    assert!(!err.is_transient());

    // Created after the miss: the next request finds it (failures are never cached).
    world.create("initech", &secret_json(PRIVATE)).await;
    assert!(world.secrets.credentials("initech").await.is_ok());
    assert_eq!(world.calls(), 2);
}

#[tokio::test]
async fn tenant_ids_that_try_to_escape_the_prefix_are_refused_before_any_call() {
    let Some(world) = World::new().await else {
        return;
    };
    // A secret the escaping ids would reach if they were appended blindly.
    world.create("../other", &secret_json(PRIVATE)).await;

    for tenant in ["../other", "a/b", "", "..", "acme other", "acme*"] {
        let err = world.secrets.credentials(tenant).await.unwrap_err();
        assert!(
            matches!(err, SecretsError::InvalidTenant { .. }),
            "{tenant:?}: {err:?}"
        );
    }
    assert_eq!(
        world.calls(),
        0,
        "no GetSecretValue for a refused tenant id"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transient_error() {
    let Some(moto) = cwsync_aws_harness::moto() else {
        return;
    };
    let sdk = moto.sdk_config().await;
    // Port 9 (discard) is closed on the test machines: the connection is refused at once.
    let config = aws_sdk_secretsmanager::config::Builder::from(&sdk)
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
        .build();
    let secrets = SecretsManagerTenantSecrets::new(
        aws_sdk_secretsmanager::Client::from_conf(config),
        "cwsync/tenants/",
        TTL,
    );

    let err = secrets.credentials("acme").await.unwrap_err();

    assert!(err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("cwsync/tenants/acme"), "{err}");
}
