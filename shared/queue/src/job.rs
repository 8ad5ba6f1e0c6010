//! Job messages: what one SQS message asks a function to do, and the key that makes it idempotent.
//!
//! A [`Job`] can only be built valid ([`Job::new`], [`Job::parse`]): the schema version is
//! [`JOB_VERSION`], the kind is known, the tenant and run id are safe inside storage keys. Parsing
//! checks the version before anything else, so a message from a newer producer is refused as
//! "version 2 is not supported", not as a confusing missing field. This module never logs: the
//! consumer decides what to say about a refused body.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The only job schema version this build reads and writes.
pub const JOB_VERSION: u32 = 1;

/// The longest run id accepted (run ids are part of DynamoDB sort keys and of the job key).
pub const MAX_RUN_ID_LEN: usize = 128;

/// What a job asks for. Serialised in kebab-case (`"customer-sync-account"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Sync one billing account (with its sites and contacts) to ConnectWise.
    CustomerSyncAccount,
    /// Sync every account of a tenant: fans out into `CustomerSyncAccount` jobs.
    CustomerSyncTenant,
    /// Plan a tenant's daily export: fans out into `DailyExportCatalog` jobs (the stale catalog,
    /// one per page) and `DailyExportAccount` jobs.
    DailyExportPlan,
    /// Export one account's subscriptions and invoices for the day.
    DailyExportAccount,
    /// Export one page of a tenant's changed products to the ConnectWise catalog.
    DailyExportCatalog,
    /// Import the changed tickets of a tenant: fans out into `TicketImportTicket` jobs.
    TicketImportTenant,
    /// Import one ticket's time entries and products as billing service calls.
    TicketImportTicket,
    /// Move a tenant's billing calls flagged for ConnectWise to ConnectWise tickets.
    TicketMoveTenant,
    /// Plan a tenant's run of one billing-document kind (invoices, payments, orders, projects,
    /// credit holds, agreement invoices, sales orders): fans out into `DocumentsPage` jobs.
    DocumentsPlan,
    /// Sync one page of a document run's changed records.
    DocumentsPage,
}

impl JobKind {
    /// Every kind, in declaration order (used to name the accepted values in errors).
    pub const ALL: [JobKind; 10] = [
        JobKind::CustomerSyncAccount,
        JobKind::CustomerSyncTenant,
        JobKind::DailyExportPlan,
        JobKind::DailyExportAccount,
        JobKind::DailyExportCatalog,
        JobKind::TicketImportTenant,
        JobKind::TicketImportTicket,
        JobKind::TicketMoveTenant,
        JobKind::DocumentsPlan,
        JobKind::DocumentsPage,
    ];

    /// The wire name, exactly as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::CustomerSyncAccount => "customer-sync-account",
            JobKind::CustomerSyncTenant => "customer-sync-tenant",
            JobKind::DailyExportPlan => "daily-export-plan",
            JobKind::DailyExportAccount => "daily-export-account",
            JobKind::DailyExportCatalog => "daily-export-catalog",
            JobKind::TicketImportTenant => "ticket-import-tenant",
            JobKind::TicketImportTicket => "ticket-import-ticket",
            JobKind::TicketMoveTenant => "ticket-move-tenant",
            JobKind::DocumentsPlan => "documents-plan",
            JobKind::DocumentsPage => "documents-page",
        }
    }

    fn expected() -> String {
        JobKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = JobError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        JobKind::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| JobError::UnknownKind {
                kind: value.to_owned(),
                expected: JobKind::expected(),
            })
    }
}

/// A job message that can't be built or read. Always permanent: the same body fails the same way
/// on every delivery, so retrying it can never help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The body is not a JSON object.
    #[error("job body is not a JSON object (permanent): {reason}")]
    Malformed {
        /// What the JSON parser said, or what was found instead of an object.
        reason: String,
    },
    /// The body was written for a schema version this build does not read.
    #[error(
        "job version {version} is not supported (permanent): this build reads version {JOB_VERSION} only"
    )]
    UnsupportedVersion {
        /// The version the message carries.
        version: u64,
    },
    /// A required field is absent.
    #[error("job field `{field}` is missing (permanent)")]
    MissingField {
        /// The field's wire name (camelCase).
        field: &'static str,
    },
    /// A field has the wrong type or an invalid value.
    #[error("job field `{field}` is invalid (permanent): {reason}")]
    InvalidField {
        /// The field's wire name (camelCase).
        field: &'static str,
        /// Why it was refused (never the payload itself).
        reason: String,
    },
    /// A field this version does not define (a typo, or a producer on a newer schema that forgot
    /// to bump the version).
    #[error("job field `{field}` is not part of job version {JOB_VERSION} (permanent)")]
    UnknownField {
        /// The unexpected field's name.
        field: String,
    },
    /// `kind` names no job this build knows.
    #[error(
        "job field `kind` is invalid (permanent): unknown kind {kind:?}, expected one of: {expected}"
    )]
    UnknownKind {
        /// The refused value.
        kind: String,
        /// The accepted values, comma-separated.
        expected: String,
    },
}

impl JobError {
    /// Always `false`: a bad job message never becomes good by retrying it.
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// One unit of work for a function: small, idempotent, and versioned.
///
/// Fields are private so every `Job` in the program is valid; read them with the accessors.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    kind: JobKind,
    tenant: String,
    run_id: String,
    dry_run: bool,
    payload: Value,
}

impl Job {
    /// A validated job at the current [`JOB_VERSION`].
    ///
    /// `tenant`: 1–64 of `A-Za-z0-9._-` (the store's `TenantId` rule); `run_id`: 1–128 of
    /// `A-Za-z0-9._:-` (so an RFC 3339 timestamp or a ULID fits, a key separator does not).
    pub fn new(
        kind: JobKind,
        tenant: impl Into<String>,
        run_id: impl Into<String>,
        dry_run: bool,
        payload: Value,
    ) -> Result<Job, JobError> {
        let tenant = tenant.into();
        let run_id = run_id.into();
        validate_tenant(&tenant)?;
        validate_run_id(&run_id)?;
        Ok(Job {
            kind,
            tenant,
            run_id,
            dry_run,
            payload,
        })
    }

    /// Reads a message body. Errors name the field that is wrong.
    pub fn parse(body: &str) -> Result<Job, JobError> {
        let value: Value = serde_json::from_str(body).map_err(|e| JobError::Malformed {
            reason: e.to_string(),
        })?;
        Job::from_value(value)
    }

    /// Reads an already-parsed JSON value (see [`Job::parse`]).
    pub fn from_value(value: Value) -> Result<Job, JobError> {
        let Value::Object(mut object) = value else {
            return Err(JobError::Malformed {
                reason: format!("found {}", json_type(&value)),
            });
        };
        // Version first: a newer schema may have renamed everything else.
        let version = take(&mut object, "version")?;
        let version = version.as_u64().ok_or_else(|| JobError::InvalidField {
            field: "version",
            reason: format!("expected a whole number, found {}", json_type(&version)),
        })?;
        if version != u64::from(JOB_VERSION) {
            return Err(JobError::UnsupportedVersion { version });
        }
        let kind = take_str(&mut object, "kind")?.parse::<JobKind>()?;
        let tenant = take_str(&mut object, "tenant")?;
        let run_id = take_str(&mut object, "runId")?;
        let dry_run = take(&mut object, "dryRun")?;
        let dry_run = dry_run.as_bool().ok_or_else(|| JobError::InvalidField {
            field: "dryRun",
            reason: format!("expected true or false, found {}", json_type(&dry_run)),
        })?;
        let payload = take(&mut object, "payload")?;
        if let Some(field) = object.keys().next() {
            return Err(JobError::UnknownField {
                field: field.clone(),
            });
        }
        Job::new(kind, tenant, run_id, dry_run, payload)
    }

    /// The message body: compact JSON, camelCase, with `"version": 1`.
    pub fn to_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The schema version (always [`JOB_VERSION`]).
    pub fn version(&self) -> u32 {
        JOB_VERSION
    }

    /// What the job asks for.
    pub fn kind(&self) -> JobKind {
        self.kind
    }

    /// The tenant it runs for (validated like the store's `TenantId`).
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The run it belongs to.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Whether the run only plans (no writes to ConnectWise or the billing system).
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// The kind-specific payload.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The payload as a typed struct; a mismatch is a permanent `payload` field error.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobError> {
        T::deserialize(&self.payload).map_err(|e| JobError::InvalidField {
            field: "payload",
            reason: e.to_string(),
        })
    }

    /// The idempotency key: kind, tenant, run id and a SHA-256 of the payload.
    ///
    /// Two jobs with the same key are the same work: a send sends one of them, and the store's
    /// idempotency records run it once. The digest is over a canonical form of the payload
    /// (object keys sorted), so key order in the JSON never changes the key.
    pub fn key(&self) -> JobKey {
        let mut hasher = Sha256::new();
        canonical_digest(&self.payload, &mut hasher);
        let payload_digest = hex(&hasher.finalize());
        JobKey::new(format!(
            "{}/{}/{}/{}",
            self.kind, self.tenant, self.run_id, payload_digest
        ))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobWire<'a> {
    version: u32,
    kind: JobKind,
    tenant: &'a str,
    run_id: &'a str,
    dry_run: bool,
    payload: &'a Value,
}

impl Serialize for Job {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JobWire {
            version: JOB_VERSION,
            kind: self.kind,
            tenant: &self.tenant,
            run_id: &self.run_id,
            dry_run: self.dry_run,
            payload: &self.payload,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Job {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Job::from_value(value).map_err(serde::de::Error::custom)
    }
}

/// A job's idempotency key, `{kind}/{tenant}/{runId}/{sha256(payload)}`, readable in logs.
///
/// `/` appears in none of the parts, so the key is unambiguous. [`JobKey::digest`] is the form
/// SQS accepts where the key itself is too long or has characters SQS refuses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey {
    text: String,
    digest: String,
}

impl JobKey {
    fn new(text: String) -> JobKey {
        let digest = hex(&Sha256::digest(text.as_bytes()));
        JobKey { text, digest }
    }

    /// The readable key.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Hex SHA-256 of the key (64 characters of `0-9a-f`): valid as an SQS batch entry `Id`
    /// (≤ 80 of `A-Za-z0-9_-`) and as a FIFO `MessageDeduplicationId` (≤ 128), and unique per key.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn validate_tenant(tenant: &str) -> Result<(), JobError> {
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
        Some(reason) => Err(JobError::InvalidField {
            field: "tenant",
            reason: format!("{:?}: {reason}", cut(tenant)),
        }),
        None => Ok(()),
    }
}

fn validate_run_id(run_id: &str) -> Result<(), JobError> {
    let reason = if run_id.is_empty() {
        Some("it is empty".to_owned())
    } else if run_id.len() > MAX_RUN_ID_LEN {
        Some(format!("it is longer than {MAX_RUN_ID_LEN} characters"))
    } else if !run_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
    {
        Some("only letters, digits, '.', '_', '-' and ':' are allowed".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(JobError::InvalidField {
            field: "runId",
            reason: format!("{:?}: {reason}", cut(run_id)),
        }),
        None => Ok(()),
    }
}

/// The first 64 characters of a refused value (an error names what it refuses, but a body may
/// carry a megabyte where an id belongs).
fn cut(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

fn take(object: &mut Map<String, Value>, field: &'static str) -> Result<Value, JobError> {
    object.remove(field).ok_or(JobError::MissingField { field })
}

fn take_str(object: &mut Map<String, Value>, field: &'static str) -> Result<String, JobError> {
    match take(object, field)? {
        Value::String(s) => Ok(s),
        other => Err(JobError::InvalidField {
            field,
            reason: format!("expected a string, found {}", json_type(&other)),
        }),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Feeds a canonical encoding of `value` to the hasher: a type tag per node, lengths before
/// strings and containers, object keys sorted. Hashing this instead of `to_string()` keeps the
/// digest independent of key order and of serde_json's `preserve_order` feature.
fn canonical_digest(value: &Value, hasher: &mut Sha256) {
    fn bytes(hasher: &mut Sha256, data: &[u8]) {
        hasher.update((data.len() as u64).to_be_bytes());
        hasher.update(data);
    }
    match value {
        Value::Null => hasher.update(b"n"),
        Value::Bool(b) => hasher.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            hasher.update(b"d");
            bytes(hasher, n.to_string().as_bytes());
        }
        Value::String(s) => {
            hasher.update(b"s");
            bytes(hasher, s.as_bytes());
        }
        Value::Array(items) => {
            hasher.update(b"a");
            hasher.update((items.len() as u64).to_be_bytes());
            for item in items {
                canonical_digest(item, hasher);
            }
        }
        Value::Object(map) => {
            hasher.update(b"o");
            hasher.update((map.len() as u64).to_be_bytes());
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (key, item) in entries {
                bytes(hasher, key.as_bytes());
                canonical_digest(item, hasher);
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job() -> Job {
        Job::new(
            JobKind::DailyExportAccount,
            "acme",
            "2026-11-22T06:00:00Z",
            false,
            json!({"accountId": "A-1", "day": "2026-11-21"}),
        )
        .unwrap()
    }

    fn body(overrides: Value) -> String {
        let mut base = json!({
            "version": 1, "kind": "customer-sync-account", "tenant": "acme",
            "runId": "r1", "dryRun": true, "payload": {"accountId": "A-1"}
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base.to_string()
    }

    #[test]
    fn a_job_round_trips_through_its_camel_case_body() {
        let job = job();
        let body = job.to_body().unwrap();
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            value,
            json!({"version": 1, "kind": "daily-export-account", "tenant": "acme",
                   "runId": "2026-11-22T06:00:00Z", "dryRun": false,
                   "payload": {"accountId": "A-1", "day": "2026-11-21"}})
        );
        assert_eq!(Job::parse(&body).unwrap(), job);
        assert_eq!(serde_json::from_str::<Job>(&body).unwrap(), job);
    }

    #[test]
    fn a_huge_or_dotted_tenant_or_run_id_is_refused_without_echoing_it_whole() {
        let huge = "a".repeat(1 << 20);
        for (tenant, run_id) in [(huge.as_str(), "r1"), ("acme", huge.as_str())] {
            let err = Job::new(
                JobKind::CustomerSyncTenant,
                tenant,
                run_id,
                false,
                json!({}),
            )
            .unwrap_err()
            .to_string();
            assert!(err.len() < 300, "{} bytes", err.len());
        }
        for tenant in [".", ".."] {
            let err = Job::new(JobKind::CustomerSyncTenant, tenant, "r1", false, json!({}));
            assert!(
                matches!(
                    err,
                    Err(JobError::InvalidField {
                        field: "tenant",
                        ..
                    })
                ),
                "{tenant}: {err:?}"
            );
        }
    }

    #[test]
    fn a_body_with_another_version_is_refused_naming_that_version() {
        let err = Job::parse(&body(json!({"version": 2, "kind": "from-the-future"}))).unwrap_err();
        assert_eq!(err, JobError::UnsupportedVersion { version: 2 });
        assert!(err.to_string().contains("job version 2 is not supported"));
        assert!(!err.is_transient());
    }

    #[test]
    fn a_version_that_is_not_a_whole_number_is_refused_naming_the_field() {
        let err = Job::parse(&body(json!({"version": "1"}))).unwrap_err();
        assert!(matches!(
            err,
            JobError::InvalidField {
                field: "version",
                ..
            }
        ));
    }

    #[test]
    fn an_unknown_kind_is_refused_with_the_accepted_kinds() {
        let err = Job::parse(&body(json!({"kind": "customer-sync-everything"}))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`kind`") && text.contains("\"customer-sync-everything\""));
        assert!(text.contains("customer-sync-account, customer-sync-tenant"));
    }

    #[test]
    fn every_error_names_the_field_that_is_wrong() {
        let cases = [
            (json!({"runId": null}), "`runId` is missing"),
            (json!({"tenant": "acme#evil"}), "`tenant` is invalid"),
            (json!({"tenant": ""}), "`tenant` is invalid"),
            (json!({"tenant": 7}), "`tenant` is invalid"),
            (json!({"runId": "a/b"}), "`runId` is invalid"),
            (json!({"runId": "r".repeat(129)}), "`runId` is invalid"),
            (json!({"dryRun": "yes"}), "`dryRun` is invalid"),
            (json!({"payload": null}), "`payload` is missing"),
            (
                json!({"dryrun": false}),
                "`dryrun` is not part of job version 1",
            ),
        ];
        for (overrides, expected) in cases {
            let err = Job::parse(&body(overrides.clone())).unwrap_err();
            assert!(
                err.to_string().contains(expected),
                "{overrides}: {err} should contain {expected}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_malformed() {
        assert!(matches!(
            Job::parse("not json"),
            Err(JobError::Malformed { .. })
        ));
        let err = Job::parse("[1,2]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "job body is not a JSON object (permanent): found an array"
        );
    }

    #[test]
    fn every_kind_reads_back_from_its_wire_name() {
        for kind in JobKind::ALL {
            let wire = serde_json::to_value(kind).unwrap();
            assert_eq!(wire, json!(kind.as_str()));
            assert_eq!(kind.as_str().parse::<JobKind>().unwrap(), kind);
        }
    }

    #[test]
    fn a_typed_payload_mismatch_is_a_payload_field_error() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Wanted {
            ticket_id: u64,
        }
        let err = job().payload_as::<Wanted>().unwrap_err();
        assert!(matches!(
            err,
            JobError::InvalidField {
                field: "payload",
                ..
            }
        ));
    }

    #[test]
    fn the_key_names_kind_tenant_and_run_and_ends_with_the_payload_digest() {
        let key = job().key();
        let parts: Vec<_> = key.as_str().split('/').collect();
        assert_eq!(
            &parts[..3],
            ["daily-export-account", "acme", "2026-11-22T06:00:00Z"]
        );
        assert_eq!(parts[3].len(), 64);
        assert!(parts[3].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_key_does_not_depend_on_payload_key_order() {
        let a = Job::new(
            JobKind::TicketImportTicket,
            "t",
            "r",
            false,
            json!({"a": 1, "b": {"x": [1, "2"], "y": null}}),
        )
        .unwrap();
        let b = Job::parse(r#"{"payload":{"b":{"y":null,"x":[1,"2"]},"a":1},"dryRun":false,"runId":"r","tenant":"t","kind":"ticket-import-ticket","version":1}"#).unwrap();
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn the_key_changes_when_any_part_of_the_work_changes() {
        let base = job();
        let other_payload = Job::new(
            base.kind(),
            "acme",
            base.run_id(),
            false,
            json!({"accountId": "A-2", "day": "2026-11-21"}),
        )
        .unwrap();
        let other_tenant = Job::new(
            base.kind(),
            "acme2",
            base.run_id(),
            false,
            base.payload().clone(),
        )
        .unwrap();
        let other_run = Job::new(base.kind(), "acme", "r2", false, base.payload().clone()).unwrap();
        let other_kind = Job::new(
            JobKind::DailyExportPlan,
            "acme",
            base.run_id(),
            false,
            base.payload().clone(),
        )
        .unwrap();
        // Type matters: the string "1" and the number 1 are different payloads.
        let typed_a = Job::new(base.kind(), "acme", "r", false, json!({"n": 1})).unwrap();
        let typed_b = Job::new(base.kind(), "acme", "r", false, json!({"n": "1"})).unwrap();
        let keys = [
            base.key(),
            other_payload.key(),
            other_tenant.key(),
            other_run.key(),
            other_kind.key(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_ne!(typed_a.key(), typed_b.key());
    }

    #[test]
    fn the_key_digest_is_a_valid_sqs_entry_id_even_for_the_longest_key() {
        let job = Job::new(
            JobKind::CustomerSyncAccount,
            "t".repeat(64),
            "r".repeat(128),
            true,
            json!({}),
        )
        .unwrap();
        let key = job.key();
        assert!(
            key.as_str().len() > 128,
            "the readable key is too long for SQS, hence the digest"
        );
        let id = key.digest();
        assert_eq!(id.len(), 64);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
