//! Tenant credentials from AWS Secrets Manager, cached per tenant for a TTL across invocations.
//!
//! Concurrent requests for one tenant whose cache entry is missing or stale share one
//! `GetSecretValue` (single flight): each tenant has a slot with its own async lock, held while
//! the secret is fetched, so the others wait and then read the fresh entry. Other tenants are not
//! held up. Failures are not cached: the next request tries again.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use tokio::sync::{Mutex, RwLock};

use super::{SecretsError, TenantCredentials, TenantSecrets, secret_name};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;

/// How often the cache answered and how often it had to read Secrets Manager.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretsCacheStats {
    /// Requests answered from the cache.
    pub hits: u64,
    /// `GetSecretValue` calls made (successful or not).
    pub fetches: u64,
}

struct Cached {
    fetched_at: Instant,
    credentials: TenantCredentials,
}

#[derive(Default)]
struct Slot {
    cached: Mutex<Option<Cached>>,
}

/// [`TenantSecrets`] over Secrets Manager's `GetSecretValue`, with a per-tenant TTL cache.
pub struct SecretsManagerTenantSecrets {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    slots: RwLock<HashMap<String, Arc<Slot>>>,
    hits: AtomicU64,
    fetches: AtomicU64,
}

impl fmt::Debug for SecretsManagerTenantSecrets {
    // The cache itself is left out: it holds credentials (redacted, but noise) for every tenant.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsManagerTenantSecrets")
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl SecretsManagerTenantSecrets {
    /// Secrets named `{prefix}{tenant}`, each cached for `ttl` (zero: never cached).
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        prefix: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            client,
            prefix: prefix.into(),
            ttl,
            clock: Arc::new(SystemClock),
            slots: RwLock::new(HashMap::new()),
            hits: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    /// The prefix and TTL from `config`.
    pub fn from_config(client: aws_sdk_secretsmanager::Client, config: &Config) -> Self {
        Self::new(
            client,
            config.tenant_secret_prefix.clone(),
            config.secret_cache_ttl,
        )
    }

    /// Uses `clock` for the TTL (tests advance a [`crate::clock::ManualClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Cache hits and Secrets Manager reads so far.
    pub fn stats(&self) -> SecretsCacheStats {
        SecretsCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            fetches: self.fetches.load(Ordering::Relaxed),
        }
    }

    async fn slot(&self, tenant: &str) -> Arc<Slot> {
        if let Some(slot) = self.slots.read().await.get(tenant) {
            return Arc::clone(slot);
        }
        let mut slots = self.slots.write().await;
        Arc::clone(slots.entry(tenant.to_owned()).or_default())
    }

    async fn fetch(&self, secret_name: &str) -> Result<TenantCredentials, SecretsError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let output = self
            .client
            .get_secret_value()
            .secret_id(secret_name)
            .send()
            .await
            .map_err(|e| classify_sdk_error(secret_name, e))?;
        let Some(json) = output.secret_string() else {
            return Err(SecretsError::Malformed {
                secret_name: secret_name.to_owned(),
                field: "SecretString",
                problem: "is missing: the secret must hold its JSON as a string, not binary"
                    .to_owned(),
            });
        };
        TenantCredentials::from_secret_json(secret_name, json)
    }
}

#[async_trait::async_trait]
impl TenantSecrets for SecretsManagerTenantSecrets {
    async fn credentials(&self, tenant: &str) -> Result<TenantCredentials, SecretsError> {
        // Validated before anything else: no look-up, cache entry or log line for a bad id.
        let secret_name = secret_name(&self.prefix, tenant)?;
        let slot = self.slot(tenant).await;
        let mut cached = slot.cached.lock().await;
        if let Some(entry) = cached.as_ref()
            && self.clock.now().saturating_duration_since(entry.fetched_at) < self.ttl
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(entry.credentials.clone());
        }
        let credentials = self.fetch(&secret_name).await?;
        *cached = Some(Cached {
            fetched_at: self.clock.now(),
            credentials: credentials.clone(),
        });
        tracing::debug!(tenant, "read tenant credentials from Secrets Manager");
        Ok(credentials)
    }

    async fn invalidate(&self, tenant: &str) {
        let slot = self.slots.read().await.get(tenant).cloned();
        if let Some(slot) = slot {
            *slot.cached.lock().await = None;
        }
    }
}

fn classify_sdk_error(secret_name: &str, error: SdkError<GetSecretValueError>) -> SecretsError {
    let reason = DisplayErrorContext(&error).to_string();
    match &error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            if err.is_resource_not_found_exception() {
                return SecretsError::NotFound {
                    secret_name: secret_name.to_owned(),
                };
            }
            classify_code(secret_name, err.code(), Some(status), reason)
        }
        // No answer, or an answer that could not be read: the service may well answer next time.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            SecretsError::Transient {
                secret_name: secret_name.to_owned(),
                reason,
            }
        }
        // The request could not even be built (e.g. no region): a configuration error.
        _ => SecretsError::Backend {
            secret_name: secret_name.to_owned(),
            reason,
        },
    }
}

/// Maps a Secrets Manager error code and HTTP status to an error: not found, denied (IAM or KMS),
/// transient (throttling, 5xx, expired session credentials) or permanent.
pub(crate) fn classify_code(
    secret_name: &str,
    code: Option<&str>,
    status: Option<u16>,
    reason: String,
) -> SecretsError {
    let secret_name = secret_name.to_owned();
    match code {
        Some("ResourceNotFoundException") => SecretsError::NotFound { secret_name },
        Some(
            code @ ("AccessDeniedException"
            | "AccessDenied"
            | "DecryptionFailure"
            | "KMSAccessDeniedException"),
        ) => SecretsError::AccessDenied {
            secret_name,
            code: code.to_owned(),
        },
        Some(
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "InternalServiceError"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ExpiredTokenException"
            | "RequestTimeout",
        ) => SecretsError::Transient {
            secret_name,
            reason,
        },
        _ if status.is_some_and(|s| s == 429 || s >= 500) => SecretsError::Transient {
            secret_name,
            reason,
        },
        _ => SecretsError::Backend {
            secret_name,
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "cwsync/tenants/acme";

    fn classify(code: Option<&str>, status: Option<u16>) -> SecretsError {
        classify_code(NAME, code, status, "details".to_owned())
    }

    #[test]
    fn iam_and_kms_refusals_are_access_denied_and_permanent() {
        for code in ["AccessDeniedException", "DecryptionFailure"] {
            let err = classify(Some(code), Some(400));
            assert_eq!(
                err,
                SecretsError::AccessDenied {
                    secret_name: NAME.into(),
                    code: code.into()
                }
            );
            assert!(!err.is_transient());
            assert!(err.to_string().contains(NAME));
        }
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        assert!(classify(Some("ThrottlingException"), Some(400)).is_transient());
        assert!(classify(Some("InternalServiceError"), Some(500)).is_transient());
        assert!(classify(None, Some(503)).is_transient());
        assert!(classify(Some("SomethingNew"), Some(429)).is_transient());
    }

    #[test]
    fn other_client_errors_are_permanent() {
        let err = classify(Some("InvalidRequestException"), Some(400));
        assert!(matches!(err, SecretsError::Backend { .. }), "{err:?}");
        assert!(!err.is_transient());
        assert_eq!(
            classify(Some("ResourceNotFoundException"), Some(400)),
            SecretsError::NotFound {
                secret_name: NAME.into()
            }
        );
    }
}
