//! Tenant credentials held in memory: the local runner (pointed at the ConnectWise simulator) and
//! handler tests. Same validation and errors as Secrets Manager, no AWS.

use std::collections::HashMap;

use super::{SecretsError, TenantCredentials, TenantSecrets, secret_name};
use crate::config::DEFAULT_TENANT_SECRET_PREFIX;

/// [`TenantSecrets`] from a fixed map of tenant → credentials.
#[derive(Debug, Clone, Default)]
pub struct StaticTenantSecrets {
    tenants: HashMap<String, TenantCredentials>,
}

impl StaticTenantSecrets {
    /// No tenants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `tenant`'s credentials. The id is validated like a real look-up's.
    pub fn with_tenant(
        mut self,
        tenant: &str,
        credentials: TenantCredentials,
    ) -> Result<Self, SecretsError> {
        secret_name(DEFAULT_TENANT_SECRET_PREFIX, tenant)?;
        self.tenants.insert(tenant.to_owned(), credentials);
        Ok(self)
    }

    /// Adds `tenant` from the JSON a real secret would hold (see the module docs of
    /// [`crate::secrets`]), so a local configuration file is checked the same way.
    pub fn with_secret_json(self, tenant: &str, json: &str) -> Result<Self, SecretsError> {
        let name = secret_name(DEFAULT_TENANT_SECRET_PREFIX, tenant)?;
        let credentials = TenantCredentials::from_secret_json(&name, json)?;
        self.with_tenant(tenant, credentials)
    }
}

#[async_trait::async_trait]
impl TenantSecrets for StaticTenantSecrets {
    async fn credentials(&self, tenant: &str) -> Result<TenantCredentials, SecretsError> {
        let secret_name = secret_name(DEFAULT_TENANT_SECRET_PREFIX, tenant)?;
        self.tenants
            .get(tenant)
            .cloned()
            .ok_or(SecretsError::NotFound { secret_name })
    }

    // Nothing is cached: the map is the source.
    async fn invalidate(&self, _tenant: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const JSON: &str = r#"{"site":"http://127.0.0.1:8080","companyId":"acme","publicKey":"pub",
        "privateKey":"priv","clientId":"client"}"#;

    #[tokio::test]
    async fn a_known_tenant_gets_its_credentials() {
        let secrets = StaticTenantSecrets::new()
            .with_secret_json("acme", JSON)
            .unwrap();
        let creds = secrets.credentials("acme").await.unwrap();
        assert_eq!(creds.private_key.expose_secret(), "priv");
        assert_eq!(creds.site.base_url().as_str(), "http://127.0.0.1:8080/");
    }

    #[tokio::test]
    async fn an_unknown_tenant_is_not_found_under_its_secret_name() {
        let secrets = StaticTenantSecrets::new();
        assert_eq!(
            secrets.credentials("globex").await.unwrap_err(),
            SecretsError::NotFound {
                secret_name: "cwsync/tenants/globex".into()
            }
        );
        assert!(matches!(
            secrets.credentials("../acme").await.unwrap_err(),
            SecretsError::InvalidTenant { .. }
        ));
    }
}
