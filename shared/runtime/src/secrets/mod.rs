//! Tenant credentials: one Secrets Manager secret per tenant, named `{prefix}{tenant}`, holding
//!
//! ```json
//! {"site": "na", "companyId": "acme", "publicKey": "…", "privateKey": "…", "clientId": "…"}
//! ```
//!
//! where `site` is a ConnectWise cloud region (`na`, `eu`, `au`, `aus`, `za`), a host
//! (`cw.example.com`) or a full URL (see [`cwsync_connectwise::Site`]). Optional: `billingUrl` and
//! `billingApiKey` (the billing system's API), `callbackSecret` (authenticates ConnectWise callbacks
//! through the registered callback URL). Other fields are ignored.
//!
//! [`TenantSecrets`] is the seam: [`SecretsManagerTenantSecrets`] reads Secrets Manager and caches
//! each tenant's credentials across invocations for a TTL; [`StaticTenantSecrets`] holds them in
//! memory for the local runner and tests.
//!
//! This module must never print, log or put into an error a key or any other value read from a
//! secret: errors name the secret and the field only, and [`TenantCredentials`]' `Debug` redacts
//! the keys. Tenant ids are validated before a secret name is formed, so no tenant id can name
//! another tenant's secret (or any other secret).

mod credentials;
mod manager;
mod memory;

pub use credentials::{BillingCredentials, FIELDS, TenantCredentials};
pub use manager::{SecretsCacheStats, SecretsManagerTenantSecrets};
pub use memory::StaticTenantSecrets;

use std::fmt::Debug;

/// Reads a tenant's ConnectWise credentials.
#[async_trait::async_trait]
pub trait TenantSecrets: Send + Sync + Debug {
    /// The credentials of `tenant` (1–64 of `A-Za-z0-9._-`; anything else is refused before any
    /// look-up).
    async fn credentials(&self, tenant: &str) -> Result<TenantCredentials, SecretsError>;

    /// Forgets any cached credentials of `tenant`, so the next call reads them again. Call it when
    /// ConnectWise refuses the keys: they may just have been rotated.
    async fn invalidate(&self, tenant: &str);
}

/// Why a tenant's credentials could not be had. Never holds a value read from a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// The tenant id could break out of the secret name prefix (or is empty or too long).
    #[error("invalid tenant id {tenant:?} (permanent): {reason}")]
    InvalidTenant {
        /// The refused id, cut to 80 characters (tenant ids are not secret).
        tenant: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// No secret of that name exists.
    #[error(
        "secret {secret_name} does not exist (permanent): create it with the tenant's ConnectWise connection"
    )]
    NotFound {
        /// The secret's name.
        secret_name: String,
    },
    /// The function may not read (or decrypt) the secret.
    #[error(
        "access to secret {secret_name} was denied ({code}, permanent): the function's role needs \
         secretsmanager:GetSecretValue on it and kms:Decrypt on its key"
    )]
    AccessDenied {
        /// The secret's name.
        secret_name: String,
        /// The service's error code.
        code: String,
    },
    /// The secret exists but does not hold the expected JSON.
    #[error("secret {secret_name} is malformed (permanent): field {field} {problem}")]
    Malformed {
        /// The secret's name.
        secret_name: String,
        /// The field that is wrong (`SecretString` when the whole secret is).
        field: &'static str,
        /// What is wrong with it (never its value).
        problem: String,
    },
    /// Throttling, a server error, a timeout or a dropped connection: worth retrying.
    #[error("reading secret {secret_name} failed (transient): {reason}")]
    Transient {
        /// The secret's name.
        secret_name: String,
        /// The SDK's description of the failure.
        reason: String,
    },
    /// Any other refusal by the service or the SDK; retrying will not help.
    #[error("reading secret {secret_name} failed (permanent): {reason}")]
    Backend {
        /// The secret's name.
        secret_name: String,
        /// The SDK's description of the failure.
        reason: String,
    },
}

impl SecretsError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SecretsError::Transient { .. })
    }
}

/// Checks a tenant id (the same rule as the store's `TenantId`: 1–64 of `A-Za-z0-9._-`) and forms
/// the tenant's secret name. `..` alone is refused too: harmless in a secret name, but never a
/// real tenant and a sure sign of someone probing.
pub fn secret_name(prefix: &str, tenant: &str) -> Result<String, SecretsError> {
    let reason = if tenant.is_empty() {
        Some("it is empty")
    } else if tenant.len() > 64 {
        Some("it is longer than 64 characters")
    } else if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        Some("only letters, digits, '.', '_' and '-' are allowed")
    } else if tenant.chars().all(|c| c == '.') {
        Some("it is only dots")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SecretsError::InvalidTenant {
            tenant: tenant.chars().take(80).collect(),
            reason,
        }),
        None => Ok(format!("{prefix}{tenant}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_tenant_id_is_appended_to_the_prefix() {
        assert_eq!(
            secret_name("cwsync/tenants/", "acme-eu_1.prod").unwrap(),
            "cwsync/tenants/acme-eu_1.prod"
        );
    }

    #[test]
    fn tenant_ids_that_could_name_another_secret_are_refused() {
        for tenant in ["../other", "a/b", "", "..", "acme*", "acme other", "acmé"] {
            let err = secret_name("cwsync/tenants/", tenant).unwrap_err();
            assert!(
                matches!(err, SecretsError::InvalidTenant { .. }),
                "{tenant:?}: {err:?}"
            );
            assert!(!err.is_transient());
        }
        let long = "a".repeat(65);
        assert!(secret_name("p/", &long).is_err());
    }
}
