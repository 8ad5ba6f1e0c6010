//! Registering and repairing a tenant's ConnectWise callbacks (issue 10 §5): the console action
//! `{"action": "register-callbacks", "tenant": "acme"}` makes the tenant's ConnectWise hold
//! exactly one active callback per type cwsync needs, pointing at this function.
//!
//! As django-connectwise does (API-BEHAVIOUR §8), the tenant's callbacks are listed with
//! `url contains "<our host>"` (every page), and per type: a missing callback is created
//! (`objectId: 1`, `level: "owner"`: every record of the type), one that is inactive or has a
//! wrong URL, level or object id is repaired with one PATCH, and duplicates are deleted. A second
//! run finds everything right and writes nothing. Callbacks of our host that belong to another
//! tenant (another `/callbacks/<tenant>` path) are left alone.
//!
//! Only the `ticket` type is registered ([`CALLBACK_TYPES`]): service and project tickets both
//! arrive as `ticket` callbacks (the entity's `recordType` tells them apart); a `project`
//! callback is about a project record, whose id is not a ticket id.
//!
//! The callback URL is the deployed Function URL ([`CALLBACK_URL`](cwsync_runtime::config)
//! in the configuration) + `callbacks/<tenant>`, plus `?token=<callbackSecret>` when the tenant's
//! secret has one (then the receiver also accepts unsigned callbacks). The token is a secret:
//! the report shows the URL with the token replaced by `***`, and nothing logs it.

use cwsync_connectwise::models::Resource;
use cwsync_connectwise::models::system::CallbackEntry;
use cwsync_connectwise::{Client, Condition, CwError, PatchOp, Query};
use cwsync_store::TenantId;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use url::Url;

use crate::callback::{CALLBACK_PATH, TICKET_TYPE, TOKEN_PARAMETER};

/// The callback types registered for every tenant.
pub const CALLBACK_TYPES: &[&str] = &[TICKET_TYPE];
/// Every record of the type (with [`LEVEL`]).
pub const OBJECT_ID: i64 = 1;
/// The level of a callback on every record of its type.
pub const LEVEL: &str = "owner";

/// Why the callbacks could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The deployment's callback URL is missing or unusable.
    #[error("the callback URL is not usable: {0}")]
    CallbackUrl(String),
    /// ConnectWise refused or failed a call.
    #[error("{what}: {source}")]
    ConnectWise {
        /// What was being done (`listing callbacks`, `creating the ticket callback`, …).
        what: String,
        /// ConnectWise's error (boxed: it is large).
        #[source]
        source: Box<CwError>,
    },
}

impl RegisterError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            RegisterError::CallbackUrl(_) => false,
            RegisterError::ConnectWise { source, .. } => source.is_transient(),
        }
    }
}

/// A tenant's callback URL: the Function URL + `callbacks/<tenant>`, and its token if any.
#[derive(Debug, Clone)]
pub struct CallbackUrl {
    base: Url,
    token: Option<SecretString>,
}

impl CallbackUrl {
    /// The URL of `tenant`'s callbacks under the deployed `function_url` (`https://…/`, no query),
    /// carrying `token` (the tenant's callback secret) when given.
    pub fn for_tenant(
        function_url: &str,
        tenant: &TenantId,
        token: Option<SecretString>,
    ) -> Result<Self, RegisterError> {
        let bad = |why: &str| RegisterError::CallbackUrl(why.to_owned());
        let mut base =
            Url::parse(function_url.trim()).map_err(|_| bad("the Function URL is not a URL"))?;
        if !matches!(base.scheme(), "https" | "http") || base.host_str().is_none() {
            return Err(bad("the Function URL is not an http(s) URL with a host"));
        }
        if base.query().is_some() || !base.username().is_empty() || base.password().is_some() {
            return Err(bad("the Function URL must not have a query or credentials"));
        }
        base.set_fragment(None);
        let path = format!(
            "{}{}{tenant}",
            base.path().trim_end_matches('/'),
            CALLBACK_PATH
        );
        base.set_path(&path);
        Ok(CallbackUrl { base, token })
    }

    /// The host the tenant's callbacks are listed by (`url contains`).
    pub fn host(&self) -> &str {
        self.base.host_str().unwrap_or_default()
    }

    /// The URL to register, token included: a secret.
    fn full(&self) -> String {
        match &self.token {
            Some(token) => format!("{}?{TOKEN_PARAMETER}={}", self.base, token.expose_secret()),
            None => self.base.to_string(),
        }
    }

    /// The URL for reports: the token shown as `***`.
    pub fn redacted(&self) -> String {
        match &self.token {
            Some(_) => format!("{}?{TOKEN_PARAMETER}=***", self.base),
            None => self.base.to_string(),
        }
    }

    /// Whether a registered URL is this tenant's (same origin and path, whatever its query).
    fn is_ours(&self, registered: &str) -> bool {
        Url::parse(registered).is_ok_and(|url| {
            url.scheme() == self.base.scheme()
                && url.host_str() == self.base.host_str()
                && url.port_or_known_default() == self.base.port_or_known_default()
                && url.path().trim_end_matches('/') == self.base.path()
        })
    }
}

/// What to do to one callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackStep {
    /// Create the callback of this type.
    Create {
        /// The callback type.
        kind: String,
    },
    /// Repair this callback: the fields to set (`url`, `inactiveFlag`, `level`, `objectId`).
    Repair {
        /// The callback's id.
        id: i64,
        /// The callback type.
        kind: String,
        /// The fields that are wrong.
        fields: Vec<&'static str>,
    },
    /// Delete this duplicate.
    Delete {
        /// The callback's id.
        id: i64,
        /// The callback type.
        kind: String,
    },
    /// Leave this one: it is right.
    Keep {
        /// The callback's id.
        id: i64,
        /// The callback type.
        kind: String,
    },
}

/// The fields of `entry` that differ from a right callback at `url`.
fn wrong_fields(entry: &CallbackEntry, url: &str) -> Vec<&'static str> {
    let mut wrong = Vec::new();
    if entry.url.as_deref() != Some(url) {
        wrong.push("url");
    }
    if entry.inactive_flag.unwrap_or(false) {
        wrong.push("inactiveFlag");
    }
    if !entry
        .level
        .as_deref()
        .is_some_and(|level| level.eq_ignore_ascii_case(LEVEL))
    {
        wrong.push("level");
    }
    if entry.object_id != Some(OBJECT_ID) {
        wrong.push("objectId");
    }
    wrong
}

/// Plans the steps that leave exactly one right callback per type of [`CALLBACK_TYPES`] among
/// `existing` (the callbacks listed by our host), touching only this tenant's (by URL path). Of
/// several, the right one is kept (else the one with the lowest id is repaired) and the others
/// deleted.
pub fn plan_callbacks(existing: &[CallbackEntry], url: &CallbackUrl) -> Vec<CallbackStep> {
    let full = url.full();
    let mut steps = Vec::new();
    for kind in CALLBACK_TYPES {
        let mut ours: Vec<&CallbackEntry> = existing
            .iter()
            .filter(|entry| {
                entry
                    .kind
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(kind))
                    && entry.url.as_deref().is_some_and(|u| url.is_ours(u))
                    && entry.id.is_some()
            })
            .collect();
        ours.sort_by_key(|entry| {
            (
                !wrong_fields(entry, &full).is_empty(),
                entry.id.unwrap_or(i64::MAX),
            )
        });
        let kind = (*kind).to_owned();
        let mut entries = ours.into_iter();
        match entries.next() {
            None => steps.push(CallbackStep::Create { kind: kind.clone() }),
            Some(keep) => {
                let id = keep.id.unwrap_or_default();
                let fields = wrong_fields(keep, &full);
                steps.push(if fields.is_empty() {
                    CallbackStep::Keep {
                        id,
                        kind: kind.clone(),
                    }
                } else {
                    CallbackStep::Repair {
                        id,
                        kind: kind.clone(),
                        fields,
                    }
                });
            }
        }
        for duplicate in entries {
            steps.push(CallbackStep::Delete {
                id: duplicate.id.unwrap_or_default(),
                kind: kind.clone(),
            });
        }
    }
    steps
}

/// One callback in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackLine {
    /// The callback's id (the new one for a created callback; none in a dry run).
    pub id: Option<i64>,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// What was done: `created`, `repaired`, `deleted` or `unchanged`.
    pub outcome: &'static str,
    /// The fields a repair set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
}

/// What `register-callbacks` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterReport {
    /// The tenant.
    pub tenant: String,
    /// The callback URL (its token shown as `***`).
    pub url: String,
    /// Planned only, nothing written.
    pub dry_run: bool,
    /// One line per callback of the tenant's types.
    pub callbacks: Vec<CallbackLine>,
    /// ConnectWise writes made (0 when everything was right).
    pub writes: usize,
}

fn description(tenant: &TenantId) -> String {
    // ConnectWise allows 100 characters; tenant ids have at most 64.
    format!("cwsync ticket import ({tenant})")
}

/// Lists the tenant's callbacks by our host, plans ([`plan_callbacks`]) and, unless `dry_run`,
/// applies the plan through `cw`; reports what it did.
pub async fn register_callbacks(
    cw: &Client,
    tenant: &TenantId,
    url: &CallbackUrl,
    dry_run: bool,
) -> Result<RegisterReport, RegisterError> {
    let cw_error = |what: String| {
        move |source| RegisterError::ConnectWise {
            what,
            source: Box::new(source),
        }
    };
    let query = Query::new().filter(Condition::field("url").contains(url.host()));
    let existing: Vec<CallbackEntry> = cw
        .list_all(CallbackEntry::PATH, &query)
        .await
        .map_err(cw_error("listing the callbacks".to_owned()))?;
    let full = url.full();
    let mut report = RegisterReport {
        tenant: tenant.to_string(),
        url: url.redacted(),
        dry_run,
        callbacks: Vec::new(),
        writes: 0,
    };
    for step in plan_callbacks(&existing, url) {
        let line = match step {
            CallbackStep::Keep { id, kind } => CallbackLine {
                id: Some(id),
                kind,
                outcome: "unchanged",
                fields: Vec::new(),
            },
            CallbackStep::Create { kind } => {
                let mut id = None;
                if !dry_run {
                    let entry = CallbackEntry {
                        description: Some(description(tenant)),
                        url: Some(full.clone()),
                        object_id: Some(OBJECT_ID),
                        kind: Some(kind.clone()),
                        level: Some(LEVEL.to_owned()),
                        inactive_flag: Some(false),
                        ..CallbackEntry::default()
                    };
                    let created: CallbackEntry = cw
                        .create(CallbackEntry::PATH, &entry)
                        .await
                        .map_err(cw_error(format!("creating the {kind} callback")))?;
                    report.writes += 1;
                    id = created.id;
                }
                CallbackLine {
                    id,
                    kind,
                    outcome: "created",
                    fields: Vec::new(),
                }
            }
            CallbackStep::Repair { id, kind, fields } => {
                if !dry_run {
                    let operations: Vec<PatchOp> = fields
                        .iter()
                        .map(|field| match *field {
                            "url" => PatchOp::replace("url", full.clone()),
                            "inactiveFlag" => PatchOp::replace("inactiveFlag", false),
                            "level" => PatchOp::replace("level", LEVEL),
                            _ => PatchOp::replace("objectId", OBJECT_ID),
                        })
                        .collect();
                    let _: CallbackEntry = cw
                        .patch(&format!("{}/{id}", CallbackEntry::PATH), &operations)
                        .await
                        .map_err(cw_error(format!("repairing {kind} callback {id}")))?;
                    report.writes += 1;
                }
                CallbackLine {
                    id: Some(id),
                    kind,
                    outcome: "repaired",
                    fields,
                }
            }
            CallbackStep::Delete { id, kind } => {
                if !dry_run {
                    cw.delete(&format!("{}/{id}", CallbackEntry::PATH))
                        .await
                        .map_err(cw_error(format!("deleting duplicate {kind} callback {id}")))?;
                    report.writes += 1;
                }
                CallbackLine {
                    id: Some(id),
                    kind,
                    outcome: "deleted",
                    fields: Vec::new(),
                }
            }
        };
        report.callbacks.push(line);
    }
    tracing::info!(
        tenant = %tenant,
        writes = report.writes,
        dry_run,
        "callbacks registered"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    const FUNCTION_URL: &str = "https://abc123.lambda-url.us-east-1.on.aws/";
    const TOKEN: &str = "cb-0123456789abcdefghijKLMN";

    fn entry(id: i64, kind: &str, url: &str) -> CallbackEntry {
        CallbackEntry {
            id: Some(id),
            url: Some(url.to_owned()),
            kind: Some(kind.to_owned()),
            object_id: Some(OBJECT_ID),
            level: Some(LEVEL.to_owned()),
            inactive_flag: Some(false),
            ..CallbackEntry::default()
        }
    }

    #[test]
    fn the_callback_url_is_the_function_url_and_the_tenants_path_with_its_token_redacted() {
        let url = CallbackUrl::for_tenant(FUNCTION_URL, &acme(), Some(SecretString::from(TOKEN)))
            .unwrap();
        assert_eq!(
            url.full(),
            format!("https://abc123.lambda-url.us-east-1.on.aws/callbacks/acme?token={TOKEN}")
        );
        assert_eq!(
            url.redacted(),
            "https://abc123.lambda-url.us-east-1.on.aws/callbacks/acme?token=***"
        );
        assert!(!format!("{url:?}").contains(TOKEN));
        assert_eq!(url.host(), "abc123.lambda-url.us-east-1.on.aws");
        let plain = CallbackUrl::for_tenant("https://cw.example.com/hooks", &acme(), None).unwrap();
        assert_eq!(plain.full(), "https://cw.example.com/hooks/callbacks/acme");
        for bad in [
            "",
            "not a url",
            "ftp://x.example.com/",
            "https://x.example.com/?a=1",
        ] {
            assert!(
                CallbackUrl::for_tenant(bad, &acme(), None).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_callback_is_created_and_a_right_one_is_kept() {
        let url = CallbackUrl::for_tenant(FUNCTION_URL, &acme(), None).unwrap();
        assert_eq!(
            plan_callbacks(&[], &url),
            vec![CallbackStep::Create {
                kind: "ticket".into()
            }]
        );
        let right = entry(7, "ticket", &url.full());
        assert_eq!(
            plan_callbacks(&[right], &url),
            vec![CallbackStep::Keep {
                id: 7,
                kind: "ticket".into()
            }]
        );
    }

    #[test]
    fn an_inactive_or_wrong_callback_is_repaired_and_duplicates_deleted_keeping_the_right_one() {
        let url = CallbackUrl::for_tenant(FUNCTION_URL, &acme(), Some(SecretString::from(TOKEN)))
            .unwrap();
        let mut inactive = entry(3, "ticket", &url.full());
        inactive.inactive_flag = Some(true);
        let old_token = entry(
            4,
            "Ticket",
            "https://abc123.lambda-url.us-east-1.on.aws/callbacks/acme?token=old",
        );
        let right = entry(9, "ticket", &url.full());
        // Another tenant's callback on our host, and another type: not ours to touch.
        let other_tenant = entry(
            5,
            "ticket",
            "https://abc123.lambda-url.us-east-1.on.aws/callbacks/globex",
        );
        let company = entry(6, "company", &url.full());
        let steps = plan_callbacks(&[inactive, old_token, right, other_tenant, company], &url);
        assert_eq!(
            steps,
            vec![
                CallbackStep::Keep {
                    id: 9,
                    kind: "ticket".into()
                },
                CallbackStep::Delete {
                    id: 3,
                    kind: "ticket".into()
                },
                CallbackStep::Delete {
                    id: 4,
                    kind: "ticket".into()
                },
            ]
        );
        let mut wrong = entry(
            4,
            "ticket",
            "https://abc123.lambda-url.us-east-1.on.aws/callbacks/acme/",
        );
        wrong.inactive_flag = Some(true);
        wrong.level = Some("company".into());
        wrong.object_id = None;
        assert_eq!(
            plan_callbacks(&[wrong], &url),
            vec![CallbackStep::Repair {
                id: 4,
                kind: "ticket".into(),
                fields: vec!["url", "inactiveFlag", "level", "objectId"]
            }]
        );
    }
}
