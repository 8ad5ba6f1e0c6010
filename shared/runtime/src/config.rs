//! The functions' configuration, read once per cold start from environment variables that the SAM
//! template sets. A missing or malformed variable is refused with its name and what is wrong.
//!
//! Errors name the variable and the reason only, never its value: none of these values are secret,
//! but keeping values out of errors means a misplaced secret can never leak through one.
//! AWS settings (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials) are not read here: `aws-config`
//! reads them itself, and tests and the local runner point the SDK at moto with `AWS_ENDPOINT_URL`.

use std::time::Duration;

/// The table every piece of state lives in (links, runs, ledger, watermarks, idempotency, settings).
pub const TABLE_NAME: &str = "TABLE_NAME";
/// Queue of per-account export jobs (daily-export fans out to it and consumes it).
pub const EXPORT_QUEUE_URL: &str = "EXPORT_QUEUE_URL";
/// Queue of customer-sync jobs.
pub const CUSTOMER_QUEUE_URL: &str = "CUSTOMER_QUEUE_URL";
/// Queue of ticket-import jobs.
pub const TICKET_QUEUE_URL: &str = "TICKET_QUEUE_URL";
/// Prefix of the per-tenant Secrets Manager secret names (`{prefix}{tenant}`).
pub const TENANT_SECRET_PREFIX: &str = "TENANT_SECRET_PREFIX";
/// How long tenant credentials are reused before they are read again, in whole seconds.
pub const SECRET_CACHE_TTL_SECONDS: &str = "SECRET_CACHE_TTL_SECONDS";
/// CloudWatch namespace of the Embedded Metric Format counters.
pub const METRICS_NAMESPACE: &str = "METRICS_NAMESPACE";
/// The public URL ConnectWise callbacks are registered at (the ticket import's Function URL, or a
/// domain in front of it); optional: only `register-callbacks` needs it.
pub const CALLBACK_URL: &str = "CALLBACK_URL";
/// How many times SQS delivers a job before moving it to its dead-letter queue (the queues'
/// `maxReceiveCount`): a job failing on its last delivery records why in its run instead of
/// leaving the run waiting on the dead-letter queue.
pub const MAX_RECEIVE_COUNT: &str = "MAX_RECEIVE_COUNT";

/// Default of [`TENANT_SECRET_PREFIX`].
pub const DEFAULT_TENANT_SECRET_PREFIX: &str = "cwsync/tenants/";
/// Default of [`SECRET_CACHE_TTL_SECONDS`]: five minutes, so a rotated key is picked up quickly
/// while a warm function reads each tenant's secret at most a few times an hour.
pub const DEFAULT_SECRET_CACHE_TTL: Duration = Duration::from_secs(300);
/// Default of [`METRICS_NAMESPACE`].
pub const DEFAULT_METRICS_NAMESPACE: &str = "cwsync";
/// Default of [`MAX_RECEIVE_COUNT`]: the template's `maxReceiveCount`.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;

/// Every variable [`Config`] reads.
pub const VARIABLES: [&str; 9] = [
    TABLE_NAME,
    EXPORT_QUEUE_URL,
    CUSTOMER_QUEUE_URL,
    TICKET_QUEUE_URL,
    TENANT_SECRET_PREFIX,
    SECRET_CACHE_TTL_SECONDS,
    METRICS_NAMESPACE,
    CALLBACK_URL,
    MAX_RECEIVE_COUNT,
];

/// The longest TTL accepted: a day. Longer would keep a revoked key in use for too long.
const MAX_SECRET_CACHE_TTL_SECONDS: u64 = 86_400;

/// A job queue a function may send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// [`EXPORT_QUEUE_URL`].
    Export,
    /// [`CUSTOMER_QUEUE_URL`].
    Customer,
    /// [`TICKET_QUEUE_URL`].
    Ticket,
}

impl Queue {
    /// The environment variable that holds this queue's URL.
    pub fn variable(self) -> &'static str {
        match self {
            Queue::Export => EXPORT_QUEUE_URL,
            Queue::Customer => CUSTOMER_QUEUE_URL,
            Queue::Ticket => TICKET_QUEUE_URL,
        }
    }
}

/// A missing or malformed configuration variable. Always permanent: the deployment is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set (or is empty).
    #[error(
        "environment variable {variable} is not set (permanent: set it in the function's configuration)"
    )]
    Missing {
        /// The variable's name.
        variable: &'static str,
    },
    /// A variable is set but unusable.
    #[error("environment variable {variable} is malformed (permanent): {reason}")]
    Malformed {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong with it (never its value).
        reason: &'static str,
    },
}

/// Everything a function reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// [`TABLE_NAME`]; required.
    pub table_name: String,
    /// [`EXPORT_QUEUE_URL`], when set.
    pub export_queue_url: Option<String>,
    /// [`CUSTOMER_QUEUE_URL`], when set.
    pub customer_queue_url: Option<String>,
    /// [`TICKET_QUEUE_URL`], when set.
    pub ticket_queue_url: Option<String>,
    /// [`TENANT_SECRET_PREFIX`]; default [`DEFAULT_TENANT_SECRET_PREFIX`].
    pub tenant_secret_prefix: String,
    /// [`SECRET_CACHE_TTL_SECONDS`]; default [`DEFAULT_SECRET_CACHE_TTL`].
    pub secret_cache_ttl: Duration,
    /// [`METRICS_NAMESPACE`]; default [`DEFAULT_METRICS_NAMESPACE`].
    pub metrics_namespace: String,
    /// [`CALLBACK_URL`], when set (an http(s) URL with a host and no query).
    pub callback_url: Option<String>,
    /// [`MAX_RECEIVE_COUNT`]; default [`DEFAULT_MAX_RECEIVE_COUNT`].
    pub max_receive_count: u32,
}

impl Config {
    /// Reads the process environment. A variable that is set but not valid Unicode counts as
    /// malformed, not missing.
    pub fn from_env() -> Result<Self, ConfigError> {
        for variable in VARIABLES {
            if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(variable) {
                return Err(malformed(variable, "it is not valid Unicode"));
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable name → its value), so tests never
    /// touch the process environment. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |variable: &'static str| {
            lookup(variable)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let table_name = get(TABLE_NAME).ok_or(ConfigError::Missing {
            variable: TABLE_NAME,
        })?;
        check_table_name(&table_name)?;
        let queue = |variable: &'static str| -> Result<Option<String>, ConfigError> {
            get(variable)
                .map(|url| check_queue_url(variable, &url).map(|()| url))
                .transpose()
        };
        let export_queue_url = queue(EXPORT_QUEUE_URL)?;
        let customer_queue_url = queue(CUSTOMER_QUEUE_URL)?;
        let ticket_queue_url = queue(TICKET_QUEUE_URL)?;
        let tenant_secret_prefix = match get(TENANT_SECRET_PREFIX) {
            Some(prefix) => {
                check_secret_prefix(&prefix)?;
                prefix
            }
            None => DEFAULT_TENANT_SECRET_PREFIX.to_owned(),
        };
        let secret_cache_ttl = match get(SECRET_CACHE_TTL_SECONDS) {
            Some(raw) => parse_ttl(&raw)?,
            None => DEFAULT_SECRET_CACHE_TTL,
        };
        let metrics_namespace = match get(METRICS_NAMESPACE) {
            Some(namespace) => {
                check_namespace(&namespace)?;
                namespace
            }
            None => DEFAULT_METRICS_NAMESPACE.to_owned(),
        };
        let callback_url = get(CALLBACK_URL)
            .map(|url| check_callback_url(&url).map(|()| url))
            .transpose()?;
        let max_receive_count = match get(MAX_RECEIVE_COUNT) {
            // SQS accepts a maxReceiveCount of 1 to 1000.
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    malformed(MAX_RECEIVE_COUNT, "expected a whole number from 1 to 1000")
                })?,
            None => DEFAULT_MAX_RECEIVE_COUNT,
        };
        Ok(Self {
            table_name,
            export_queue_url,
            customer_queue_url,
            ticket_queue_url,
            tenant_secret_prefix,
            secret_cache_ttl,
            metrics_namespace,
            callback_url,
            max_receive_count,
        })
    }

    /// Fails, naming the variable, unless every queue in `queues` has a URL. A function calls this
    /// at start-up with the queues it sends to, so a missing URL stops it before any event.
    pub fn requiring(self, queues: &[Queue]) -> Result<Self, ConfigError> {
        for queue in queues {
            self.queue_url(*queue)?;
        }
        Ok(self)
    }

    /// The URL of `queue`, or an error naming its variable.
    pub fn queue_url(&self, queue: Queue) -> Result<&str, ConfigError> {
        let url = match queue {
            Queue::Export => &self.export_queue_url,
            Queue::Customer => &self.customer_queue_url,
            Queue::Ticket => &self.ticket_queue_url,
        };
        url.as_deref().ok_or(ConfigError::Missing {
            variable: queue.variable(),
        })
    }

    /// A configuration for local runs and tests, where nothing reaches AWS: table `cwsync-local`,
    /// no queues, the default secret prefix, TTL and namespace.
    pub fn local() -> Self {
        Self {
            table_name: "cwsync-local".to_owned(),
            export_queue_url: None,
            customer_queue_url: None,
            ticket_queue_url: None,
            tenant_secret_prefix: DEFAULT_TENANT_SECRET_PREFIX.to_owned(),
            secret_cache_ttl: DEFAULT_SECRET_CACHE_TTL,
            metrics_namespace: DEFAULT_METRICS_NAMESPACE.to_owned(),
            callback_url: None,
            max_receive_count: DEFAULT_MAX_RECEIVE_COUNT,
        }
    }
}

fn malformed(variable: &'static str, reason: &'static str) -> ConfigError {
    ConfigError::Malformed { variable, reason }
}

// DynamoDB's own rule for table names: 3–255 of A-Z a-z 0-9 _ - .
fn check_table_name(name: &str) -> Result<(), ConfigError> {
    if !(3..=255).contains(&name.len()) {
        return Err(malformed(
            TABLE_NAME,
            "a table name has 3 to 255 characters",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(malformed(
            TABLE_NAME,
            "a table name holds only letters, digits, '_', '-' and '.'",
        ));
    }
    Ok(())
}

fn check_queue_url(variable: &'static str, url: &str) -> Result<(), ConfigError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(malformed(
            variable,
            "a queue URL starts with https:// (or http:// for a local endpoint)",
        ));
    };
    if !matches!(scheme, "https" | "http") {
        return Err(malformed(
            variable,
            "a queue URL starts with https:// (or http:// for a local endpoint)",
        ));
    }
    // SQS queue URLs are `{endpoint}/{account}/{queue name}`: a host and at least one path part.
    match rest.split_once('/') {
        Some((host, path)) if !host.is_empty() && !path.trim_matches('/').is_empty() => Ok(()),
        _ => Err(malformed(
            variable,
            "a queue URL has a host and a path (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
        )),
    }
}

// A Function URL (`https://{id}.lambda-url.{region}.on.aws/`) or a domain in front of it; the
// tenant's path and token are appended, so it has no query.
fn check_callback_url(url: &str) -> Result<(), ConfigError> {
    let rule =
        "a callback URL is https://HOST/ (http:// for a local endpoint), without query or fragment";
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(malformed(CALLBACK_URL, rule));
    };
    let host = rest.split('/').next().unwrap_or_default();
    if !matches!(scheme, "https" | "http")
        || host.is_empty()
        || host.contains('@')
        || rest.contains(['?', '#', ' '])
    {
        return Err(malformed(CALLBACK_URL, rule));
    }
    Ok(())
}

// Secrets Manager names allow A-Z a-z 0-9 / _ + = . @ -; the prefix is followed by the tenant id.
fn check_secret_prefix(prefix: &str) -> Result<(), ConfigError> {
    if prefix.len() > 128 {
        return Err(malformed(
            TENANT_SECRET_PREFIX,
            "a secret name prefix has at most 128 characters",
        ));
    }
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '+' | '=' | '.' | '@' | '-'))
    {
        return Err(malformed(
            TENANT_SECRET_PREFIX,
            "a secret name holds only letters, digits and / _ + = . @ -",
        ));
    }
    Ok(())
}

fn parse_ttl(raw: &str) -> Result<Duration, ConfigError> {
    let seconds: u64 = raw.parse().map_err(|_| {
        malformed(
            SECRET_CACHE_TTL_SECONDS,
            "expected a whole number of seconds",
        )
    })?;
    if seconds > MAX_SECRET_CACHE_TTL_SECONDS {
        return Err(malformed(
            SECRET_CACHE_TTL_SECONDS,
            "at most 86400 seconds (a day), so a revoked key is not used for long",
        ));
    }
    Ok(Duration::from_secs(seconds))
}

// CloudWatch namespaces: 1–255 characters, no leading ':' and no spaces-only (we keep it simple:
// printable ASCII without whitespace).
fn check_namespace(namespace: &str) -> Result<(), ConfigError> {
    if namespace.len() > 255 {
        return Err(malformed(
            METRICS_NAMESPACE,
            "a namespace has at most 255 characters",
        ));
    }
    if namespace.starts_with(':') || !namespace.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(malformed(
            METRICS_NAMESPACE,
            "a namespace holds printable ASCII and does not start with ':'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/cwsync-export";

    #[test]
    fn only_the_table_name_is_required_and_the_rest_has_defaults() {
        let config = Config::from_lookup(lookup(&[(TABLE_NAME, "cwsync")])).unwrap();
        assert_eq!(config.table_name, "cwsync");
        assert_eq!(config.export_queue_url, None);
        assert_eq!(config.tenant_secret_prefix, "cwsync/tenants/");
        assert_eq!(config.secret_cache_ttl, Duration::from_secs(300));
        assert_eq!(config.metrics_namespace, "cwsync");
        assert_eq!(config.max_receive_count, 5);
    }

    #[test]
    fn every_variable_is_read_when_set() {
        let config = Config::from_lookup(lookup(&[
            (TABLE_NAME, "cwsync-prod"),
            (EXPORT_QUEUE_URL, QUEUE),
            (
                CUSTOMER_QUEUE_URL,
                "http://127.0.0.1:5000/123456789012/customers",
            ),
            (
                TICKET_QUEUE_URL,
                "https://sqs.eu-west-1.amazonaws.com/1/tickets",
            ),
            (TENANT_SECRET_PREFIX, "prod/cwsync/"),
            (SECRET_CACHE_TTL_SECONDS, "60"),
            (METRICS_NAMESPACE, "cwsync/prod"),
            (CALLBACK_URL, "https://abc.lambda-url.us-east-1.on.aws/"),
            (MAX_RECEIVE_COUNT, "8"),
        ]))
        .unwrap();
        assert_eq!(config.max_receive_count, 8);
        assert_eq!(
            config.callback_url.as_deref(),
            Some("https://abc.lambda-url.us-east-1.on.aws/")
        );
        assert_eq!(config.queue_url(Queue::Export).unwrap(), QUEUE);
        assert_eq!(
            config.queue_url(Queue::Customer).unwrap(),
            "http://127.0.0.1:5000/123456789012/customers"
        );
        assert_eq!(config.tenant_secret_prefix, "prod/cwsync/");
        assert_eq!(config.secret_cache_ttl, Duration::from_secs(60));
        assert_eq!(config.metrics_namespace, "cwsync/prod");
    }

    #[test]
    fn a_missing_table_name_is_named() {
        let err = Config::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                variable: TABLE_NAME
            }
        );
        assert!(err.to_string().contains("TABLE_NAME"), "{err}");
        let blank = Config::from_lookup(lookup(&[(TABLE_NAME, "  ")])).unwrap_err();
        assert_eq!(blank, err, "a blank value counts as unset");
    }

    #[test]
    fn a_malformed_value_is_named_without_echoing_it() {
        let cases = [
            (TABLE_NAME, "no spaces allowed", TABLE_NAME),
            (EXPORT_QUEUE_URL, "sqs-queue-name-only", EXPORT_QUEUE_URL),
            (TICKET_QUEUE_URL, "https://host-only", TICKET_QUEUE_URL),
            (
                SECRET_CACHE_TTL_SECONDS,
                "five-minutes",
                SECRET_CACHE_TTL_SECONDS,
            ),
            (MAX_RECEIVE_COUNT, "-3", MAX_RECEIVE_COUNT),
            (MAX_RECEIVE_COUNT, "1001", MAX_RECEIVE_COUNT),
            (SECRET_CACHE_TTL_SECONDS, "999999", SECRET_CACHE_TTL_SECONDS),
            (
                TENANT_SECRET_PREFIX,
                "tenants with spaces/",
                TENANT_SECRET_PREFIX,
            ),
            (METRICS_NAMESPACE, ":leading-colon", METRICS_NAMESPACE),
            (CALLBACK_URL, "abc.lambda-url.on.aws", CALLBACK_URL),
            (CALLBACK_URL, "https://h.example.com/?token=x", CALLBACK_URL),
            (CALLBACK_URL, "https://user:pw@h.example.com/", CALLBACK_URL),
        ];
        for (variable, value, expected) in cases {
            let mut vars = vec![(TABLE_NAME, "cwsync")];
            vars.retain(|(k, _)| *k != variable);
            vars.push((variable, value));
            let err = Config::from_lookup(lookup(&vars)).unwrap_err();
            assert!(
                matches!(err, ConfigError::Malformed { variable: v, .. } if v == expected),
                "{variable}={value:?} gave {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains(expected), "{text}");
            assert!(!text.contains(value), "the value leaked: {text}");
        }
    }

    #[test]
    fn a_function_that_needs_a_queue_fails_naming_its_variable() {
        let config = Config::from_lookup(lookup(&[(TABLE_NAME, "cwsync")])).unwrap();
        let err = config.clone().requiring(&[Queue::Ticket]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                variable: TICKET_QUEUE_URL
            }
        );
        let with_queue =
            Config::from_lookup(lookup(&[(TABLE_NAME, "cwsync"), (EXPORT_QUEUE_URL, QUEUE)]))
                .unwrap()
                .requiring(&[Queue::Export])
                .unwrap();
        assert_eq!(with_queue.queue_url(Queue::Export).unwrap(), QUEUE);
    }

    #[test]
    fn a_zero_ttl_is_accepted() {
        let config = Config::from_lookup(lookup(&[
            (TABLE_NAME, "cwsync"),
            (SECRET_CACHE_TTL_SECONDS, "0"),
        ]))
        .unwrap();
        assert_eq!(config.secret_cache_ttl, Duration::ZERO);
    }
}
