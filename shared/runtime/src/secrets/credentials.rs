//! One tenant's ConnectWise connection, parsed from its secret's JSON.

use cwsync_connectwise::{ClientConfig, Site};
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::SecretsError;

const SITE: &str = "site";
const COMPANY_ID: &str = "companyId";
const PUBLIC_KEY: &str = "publicKey";
const PRIVATE_KEY: &str = "privateKey";
const CLIENT_ID: &str = "clientId";
const BILLING_URL: &str = "billingUrl";
const BILLING_API_KEY: &str = "billingApiKey";
const CALLBACK_SECRET: &str = "callbackSecret";
/// The shortest callback secret accepted: it alone authenticates a callback.
const MIN_CALLBACK_SECRET_LEN: usize = 24;
/// The field reported when the secret as a whole is wrong (not JSON, not an object, binary).
const WHOLE_SECRET: &str = "SecretString";

/// The fields a tenant secret must hold, all non-empty strings.
pub const FIELDS: [&str; 5] = [SITE, COMPANY_ID, PUBLIC_KEY, PRIVATE_KEY, CLIENT_ID];

/// The billing system's API for one tenant: where it is and the key cwsync presents
/// (`billingUrl`, `billingApiKey` in the tenant's secret). `Debug` redacts the key.
#[derive(Debug, Clone)]
pub struct BillingCredentials {
    /// Base URL of the billing contract (`https://billing.example.com/api`).
    pub url: url::Url,
    /// The API key, sent as a bearer token.
    pub api_key: SecretString,
}

/// A tenant's ConnectWise connection, and its billing system's. `Debug` shows the site, company
/// id and client id, and redacts every key.
#[derive(Debug, Clone)]
pub struct TenantCredentials {
    /// Where the tenant's ConnectWise server is.
    pub site: Site,
    /// The login company id.
    pub company_id: String,
    /// API member public key.
    pub public_key: SecretString,
    /// API member private key.
    pub private_key: SecretString,
    /// The integration's client id.
    pub client_id: String,
    /// The billing system's API, when the secret names one (`billingUrl` and `billingApiKey`,
    /// both or neither). Jobs that read the billing system refuse to run without it.
    pub billing: Option<BillingCredentials>,
    /// The tenant's ConnectWise callback secret (`callbackSecret`, optional): registered in the
    /// callback URL (`?token=`) and compared in constant time to authenticate a callback that
    /// is not (or not verifiably) signed. At least 24 URL-safe characters (`A-Za-z0-9-._~`).
    pub callback_secret: Option<SecretString>,
}

impl TenantCredentials {
    /// Parses the JSON held by the secret `secret_name`. Every field is trimmed (a pasted key
    /// often ends in a newline) and must be a non-empty string. Errors name the secret and the
    /// field, never a value.
    pub fn from_secret_json(secret_name: &str, json: &str) -> Result<Self, SecretsError> {
        let malformed = |field: &'static str, problem: String| SecretsError::Malformed {
            secret_name: secret_name.to_owned(),
            field,
            problem,
        };
        // serde_json's messages can quote the input ("invalid type: string \"…\""), so only the
        // position is kept.
        let value: Value = serde_json::from_str(json).map_err(|e| {
            malformed(
                WHOLE_SECRET,
                format!(
                    "is not valid JSON (at line {} column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let Value::Object(mut object) = value else {
            return Err(malformed(
                WHOLE_SECRET,
                format!("is not a JSON object with the fields {}", FIELDS.join(", ")),
            ));
        };
        let mut take = |field: &'static str| -> Result<String, SecretsError> {
            take_string(&mut object, field).map_err(|problem| malformed(field, problem.to_owned()))
        };
        let site_text = take(SITE)?;
        let company_id = take(COMPANY_ID)?;
        let public_key = SecretString::from(take(PUBLIC_KEY)?);
        let private_key = SecretString::from(take(PRIVATE_KEY)?);
        let client_id = take(CLIENT_ID)?;
        let billing = take_billing(&mut object)
            .map_err(|(field, problem)| malformed(field, problem.to_owned()))?;
        let callback_secret = take_callback_secret(&mut object)
            .map_err(|problem| malformed(CALLBACK_SECRET, problem.to_owned()))?;
        // Site::parse's own message quotes the input; the field name and the rule are enough.
        let site = Site::parse(&site_text).map_err(|_| {
            malformed(
                SITE,
                "is not a ConnectWise region (na, eu, au, aus, za), host or http(s) URL".to_owned(),
            )
        })?;
        Ok(Self {
            site,
            company_id,
            public_key,
            private_key,
            client_id,
            billing,
            callback_secret,
        })
    }

    /// A ConnectWise client configuration for this tenant, with the client's default API
    /// version, timeout, retry and rate policies.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::new(
            self.site.clone(),
            self.company_id.clone(),
            self.public_key.clone(),
            self.private_key.clone(),
            self.client_id.clone(),
        )
    }
}

/// `billingUrl` and `billingApiKey`: both (an http(s) URL and a key) or neither.
fn take_billing(
    object: &mut Map<String, Value>,
) -> Result<Option<BillingCredentials>, (&'static str, &'static str)> {
    let present = |object: &Map<String, Value>, field| {
        object.get(field).is_some_and(|value| !value.is_null())
    };
    match (
        present(object, BILLING_URL),
        present(object, BILLING_API_KEY),
    ) {
        (false, false) => Ok(None),
        (true, false) => Err((BILLING_API_KEY, "is missing (billingUrl is set)")),
        (false, true) => Err((BILLING_URL, "is missing (billingApiKey is set)")),
        (true, true) => {
            let url_text = take_string(object, BILLING_URL).map_err(|p| (BILLING_URL, p))?;
            let api_key = take_string(object, BILLING_API_KEY).map_err(|p| (BILLING_API_KEY, p))?;
            let url = url::Url::parse(&url_text)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
                .ok_or((BILLING_URL, "is not an http(s) URL"))?;
            Ok(Some(BillingCredentials {
                url,
                api_key: SecretString::from(api_key),
            }))
        }
    }
}

/// `callbackSecret`: absent, or at least [`MIN_CALLBACK_SECRET_LEN`] URL-safe characters (it is
/// put into the callback URL as it is).
fn take_callback_secret(
    object: &mut Map<String, Value>,
) -> Result<Option<SecretString>, &'static str> {
    if object.get(CALLBACK_SECRET).is_none_or(Value::is_null) {
        return Ok(None);
    }
    let secret = take_string(object, CALLBACK_SECRET)?;
    if secret.len() < MIN_CALLBACK_SECRET_LEN {
        return Err("is shorter than 24 characters");
    }
    if !secret
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
    {
        return Err("holds characters other than A-Z a-z 0-9 - . _ ~");
    }
    Ok(Some(SecretString::from(secret)))
}

fn take_string(object: &mut Map<String, Value>, field: &str) -> Result<String, &'static str> {
    match object.remove(field) {
        None | Some(Value::Null) => Err("is missing"),
        Some(Value::String(text)) => {
            let trimmed = text.trim();
            if trimmed.is_empty() {
                Err("is empty")
            } else if trimmed.len() == text.len() {
                Ok(text)
            } else {
                Ok(trimmed.to_owned())
            }
        }
        Some(_) => Err("is not a string"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const PRIVATE: &str = "PRIVATE-9f8e7d6c";
    const PUBLIC: &str = "PUBLIC-1a2b3c4d";
    const NAME: &str = "cwsync/tenants/acme";

    fn secret(site: Value) -> Value {
        serde_json::json!({
            "site": site, "companyId": "acme", "publicKey": PUBLIC,
            "privateKey": PRIVATE, "clientId": "5a3c1f0e-0000-4000-8000-000000000001"
        })
    }

    #[test]
    fn a_well_formed_secret_becomes_a_client_config() {
        let creds =
            TenantCredentials::from_secret_json(NAME, &secret("na".into()).to_string()).unwrap();
        assert_eq!(
            creds.site.base_url().as_str(),
            "https://api-na.myconnectwise.net/"
        );
        let config = creds.client_config();
        assert_eq!(config.company_id, "acme");
        assert_eq!(config.private_key.expose_secret(), PRIVATE);
        assert_eq!(config.public_key.expose_secret(), PUBLIC);
        assert_eq!(config.client_id, "5a3c1f0e-0000-4000-8000-000000000001");
    }

    #[test]
    fn a_host_or_a_url_is_accepted_as_the_site() {
        for (site, url) in [
            ("cw.example.com", "https://cw.example.com/"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ] {
            let creds = TenantCredentials::from_secret_json(NAME, &secret(site.into()).to_string())
                .unwrap();
            assert_eq!(creds.site.base_url().as_str(), url);
        }
    }

    #[test]
    fn keys_are_trimmed_of_pasted_whitespace() {
        let mut value = secret("eu".into());
        value["privateKey"] = format!("  {PRIVATE}\n").into();
        let creds = TenantCredentials::from_secret_json(NAME, &value.to_string()).unwrap();
        assert_eq!(creds.private_key.expose_secret(), PRIVATE);
    }

    #[test]
    fn debug_output_redacts_both_keys() {
        let creds =
            TenantCredentials::from_secret_json(NAME, &secret("na".into()).to_string()).unwrap();
        let debug = format!("{creds:?}");
        assert!(!debug.contains(PRIVATE), "{debug}");
        assert!(!debug.contains(PUBLIC), "{debug}");
        assert!(debug.contains("acme"), "{debug}");
    }

    #[test]
    fn each_malformed_secret_names_the_secret_and_the_field_and_never_a_value() {
        let with = |field: &str, value: Value| {
            let mut v = secret("na".into());
            v[field] = value;
            v.to_string()
        };
        let without = |field: &str| {
            let mut v = secret("na".into());
            v.as_object_mut().unwrap().remove(field);
            v.to_string()
        };
        let cases: Vec<(String, &str, &str)> = vec![
            (
                format!("privateKey={PRIVATE}"),
                "SecretString",
                "not valid JSON",
            ),
            (
                format!("[\"{PRIVATE}\"]"),
                "SecretString",
                "not a JSON object",
            ),
            (without("privateKey"), "privateKey", "is missing"),
            (without("site"), "site", "is missing"),
            (with("privateKey", "   ".into()), "privateKey", "is empty"),
            (
                with("publicKey", 12345.into()),
                "publicKey",
                "is not a string",
            ),
            (with("companyId", Value::Null), "companyId", "is missing"),
            (with("clientId", "".into()), "clientId", "is empty"),
            (
                with("site", format!("{PRIVATE} /x").into()),
                "site",
                "region",
            ),
            (
                with("site", "ftp://cw.example.com".into()),
                "site",
                "region",
            ),
        ];
        for (json, field, problem) in cases {
            let err = TenantCredentials::from_secret_json(NAME, &json).unwrap_err();
            match &err {
                SecretsError::Malformed {
                    secret_name,
                    field: f,
                    problem: p,
                } => {
                    assert_eq!(secret_name, NAME);
                    assert_eq!(*f, field, "{json}");
                    assert!(p.contains(problem), "{p}");
                }
                other => panic!("{json}: expected Malformed, got {other:?}"),
            }
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(text.contains(NAME), "{text}");
                assert!(text.contains(field), "{text}");
                assert!(!text.contains(PRIVATE), "the private key leaked: {text}");
                assert!(!text.contains(PUBLIC), "the public key leaked: {text}");
            }
            assert!(!err.is_transient());
        }
    }

    #[test]
    fn a_billing_url_and_key_in_the_secret_become_billing_credentials_with_the_key_redacted() {
        let mut json = secret(Value::from("na"));
        json["billingUrl"] = Value::from("https://billing.example.com/api");
        json["billingApiKey"] = Value::from("BILLING-KEY-77aa ");
        let creds = TenantCredentials::from_secret_json(NAME, &json.to_string()).unwrap();
        let billing = creds.billing.as_ref().expect("billing credentials");
        assert_eq!(billing.url.as_str(), "https://billing.example.com/api");
        assert_eq!(billing.api_key.expose_secret(), "BILLING-KEY-77aa");
        assert!(!format!("{creds:?}").contains("BILLING-KEY-77aa"));
        let without =
            TenantCredentials::from_secret_json(NAME, &secret(Value::from("na")).to_string())
                .unwrap();
        assert!(without.billing.is_none());
    }

    #[test]
    fn a_callback_secret_is_optional_and_must_be_long_and_url_safe() {
        let good = "cb-0123456789abcdefghijKLMN";
        let mut json = secret(Value::from("na"));
        json["callbackSecret"] = Value::from(good);
        let creds = TenantCredentials::from_secret_json(NAME, &json.to_string()).unwrap();
        assert_eq!(
            creds.callback_secret.as_ref().unwrap().expose_secret(),
            good
        );
        assert!(!format!("{creds:?}").contains(good));
        let without =
            TenantCredentials::from_secret_json(NAME, &secret(Value::from("na")).to_string())
                .unwrap();
        assert!(without.callback_secret.is_none());
        for (bad, problem) in [
            ("short-secret", "shorter"),
            ("cb 0123456789abcdefghijKLMN", "characters"),
            ("cb&0123456789abcdefghijKLMN", "characters"),
        ] {
            let mut json = secret(Value::from("na"));
            json["callbackSecret"] = Value::from(bad);
            let err = TenantCredentials::from_secret_json(NAME, &json.to_string()).unwrap_err();
            match &err {
                SecretsError::Malformed {
                    field, problem: p, ..
                } => {
                    assert_eq!(*field, CALLBACK_SECRET);
                    assert!(p.contains(problem), "{p}");
                }
                other => panic!("{bad}: {other:?}"),
            }
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn half_a_billing_connection_or_a_bad_billing_url_is_refused_naming_the_field() {
        for (extra, field) in [
            (
                serde_json::json!({"billingUrl": "https://b.example.com"}),
                BILLING_API_KEY,
            ),
            (
                serde_json::json!({"billingApiKey": "BILLING-KEY-77aa"}),
                BILLING_URL,
            ),
            (
                serde_json::json!({"billingUrl": "ftp://b.example.com", "billingApiKey": "BILLING-KEY-77aa"}),
                BILLING_URL,
            ),
        ] {
            let mut json = secret(Value::from("na"));
            for (k, v) in extra.as_object().unwrap() {
                json[k] = v.clone();
            }
            let err = TenantCredentials::from_secret_json(NAME, &json.to_string()).unwrap_err();
            match &err {
                SecretsError::Malformed { field: f, .. } => assert_eq!(*f, field, "{json}"),
                other => panic!("{json}: expected Malformed, got {other:?}"),
            }
            assert!(!err.to_string().contains("BILLING-KEY-77aa"), "{err}");
        }
    }
}
