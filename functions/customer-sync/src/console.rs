//! The actions a user invokes by hand (Lambda console test events, `aws lambda invoke`, the local
//! runner): sync a tenant or one account, dry runs, suggestions, link and unlink, test a tenant's
//! connection, read a run's report and the error report, read and write tenant settings.
//!
//! Every answer is JSON; a failure is a `Diagnostic` whose message names the tenant, the record
//! and what to do. No answer ever holds a key.

use cwsync_billing::AccountQuery;
use cwsync_connectwise::models::{Company, Contact, Resource};
use cwsync_connectwise::{Client, CwError, Query};
use cwsync_mapping::customers::{self as map, entity};
use cwsync_mapping::settings::TenantSettings;
use cwsync_runtime::HealthReport;
use cwsync_store::links::SourceRef;
use cwsync_store::runs::Outcome;
use cwsync_store::{RunId, StoreError, TenantId};
use cwsync_sync::report::{
    ErrorsEvent, ReportEvent, ReportRecord, diagnostic, errors_answer, tenant_id,
    tenant_run_report, to_json,
};
use cwsync_sync::suggest::{self, AccountSuggestions, suggested_report};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::{Value, json};

use crate::jobs::PlannedRun;
use crate::{CustomerSync, FUNCTION, SyncError};

/// How many suggestions an account gets unless the event says otherwise.
pub use cwsync_sync::suggest::DEFAULT_SUGGESTIONS;

cwsync_sync::console_event! {
/// What a console test event, a schedule or the billing system can ask of this function.
pub enum Event {
    /// Answer that the function is deployed and starts.
    Health {},
    /// Sync every account of a tenant: plans a run and fans out one job per account.
    SyncTenant {
        /// The tenant.
        tenant: String,
        /// Plan and report only; write nothing.
        #[serde(default)]
        dry_run: bool,
        /// Only accounts changed since the last run.
        #[serde(default)]
        incremental: bool,
    },
    /// Sync one account now and answer with its records.
    SyncAccount {
        /// The tenant.
        tenant: String,
        /// The billing account's id.
        account_id: String,
        /// Plan and report only; write nothing.
        #[serde(default)]
        dry_run: bool,
    },
    /// The billing system says an account changed: queue its sync.
    AccountChanged {
        /// The tenant.
        tenant: String,
        /// The billing account's id.
        account_id: String,
    },
    /// Candidate companies for unlinked accounts (one account, or all unlinked ones).
    Suggest {
        /// The tenant.
        tenant: String,
        /// One account only.
        #[serde(default)]
        account_id: Option<String>,
        /// Candidates per account (default [`DEFAULT_SUGGESTIONS`]).
        #[serde(default)]
        limit: Option<usize>,
    },
    /// Link an account to a chosen existing company.
    Link {
        /// The tenant.
        tenant: String,
        /// The billing account's id.
        account_id: String,
        /// The ConnectWise company's id.
        company_id: i64,
    },
    /// Break an account's link (and its sites' and contacts' links).
    Unlink {
        /// The tenant.
        tenant: String,
        /// The billing account's id.
        account_id: String,
    },
    /// Check a tenant's credentials, codebase, billing connection and every permission used.
    TestConnection {
        /// The tenant.
        tenant: String,
    },
    /// A run's report (the tenant's latest customer sync run without `runId`), with candidate
    /// companies for the accounts that could not be matched or would be created.
    Report(ReportEvent),
    /// The tenant's error report: records that keep failing, until fixed.
    Errors(ErrorsEvent),
    /// The tenant's settings and their version.
    GetSettings {
        /// The tenant.
        tenant: String,
    },
    /// Validate and store the tenant's settings.
    PutSettings {
        /// The tenant.
        tenant: String,
        /// The settings document.
        settings: Value,
        /// The version read before editing (absent for the first document).
        #[serde(default)]
        expected_version: Option<u64>,
    },
}
}

impl CustomerSync {
    /// Handles one console event.
    pub async fn handle_event(&self, event: Event) -> Result<Value, Diagnostic> {
        match event {
            Event::Health {} => to_json(&HealthReport::ok(FUNCTION, env!("CARGO_PKG_VERSION"))),
            Event::SyncTenant {
                tenant,
                dry_run,
                incremental,
            } => {
                let tenant = tenant_id(&tenant)?;
                let planned: PlannedRun = self
                    .plan_tenant_run(&tenant, RunId::new(self.now()), dry_run, incremental)
                    .await?;
                to_json(&planned)
            }
            Event::SyncAccount {
                tenant,
                account_id,
                dry_run,
            } => {
                let tenant = tenant_id(&tenant)?;
                let run_id = RunId::new(self.now());
                let before = self
                    .connections
                    .client_stats(&self.deps, std::iter::once(&tenant))
                    .await;
                let result = Box::pin(self.sync_account_now(
                    &tenant,
                    &run_id,
                    dry_run,
                    &account_id,
                    None,
                    false,
                    false,
                ))
                .await;
                self.connections.count_calls(&self.deps, before).await;
                let result = result?;
                // The answer names the unit as what it is here: an account.
                let result = json!({"accountId": result.unit_id, "records": result.records});
                to_json(&json!({"runId": run_id.as_str(), "dryRun": dry_run, "result": result}))
            }
            Event::AccountChanged { tenant, account_id } => {
                let tenant = tenant_id(&tenant)?;
                self.queue_account(&tenant, &account_id).await
            }
            Event::Suggest {
                tenant,
                account_id,
                limit,
            } => {
                let tenant = tenant_id(&tenant)?;
                let suggestions = self
                    .suggestions(&tenant, account_id.map(|id| vec![id]), limit)
                    .await?;
                to_json(&json!({ "suggestions": suggestions }))
            }
            Event::Link {
                tenant,
                account_id,
                company_id,
            } => {
                let tenant = tenant_id(&tenant)?;
                self.link(&tenant, &account_id, company_id).await
            }
            Event::Unlink { tenant, account_id } => {
                let tenant = tenant_id(&tenant)?;
                self.unlink(&tenant, &account_id).await
            }
            Event::TestConnection { tenant } => {
                let tenant = tenant_id(&tenant)?;
                to_json(&self.test_connection(&tenant).await)
            }
            Event::Report(ReportEvent {
                tenant,
                run_id,
                page_token,
            }) => {
                let tenant = tenant_id(&tenant)?;
                self.report(&tenant, run_id, page_token).await
            }
            Event::Errors(event) => errors_answer(&self.deps, &event, self.now()).await,
            Event::GetSettings { tenant } => {
                let tenant = tenant_id(&tenant)?;
                let stored = self
                    .deps
                    .stores
                    .settings
                    .get(&tenant)
                    .await
                    .map_err(SyncError::from)?;
                match stored {
                    Some(versioned) => {
                        to_json(&json!({"version": versioned.version, "settings": versioned.value}))
                    }
                    None => {
                        to_json(&json!({"version": null, "settings": TenantSettings::default()}))
                    }
                }
            }
            Event::PutSettings {
                tenant,
                settings,
                expected_version,
            } => {
                let tenant = tenant_id(&tenant)?;
                let parsed = TenantSettings::parse(&settings.to_string())
                    .map_err(|e| diagnostic("InvalidSettings", e))?;
                if let Err(problems) = parsed.validate() {
                    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    return Err(diagnostic("InvalidSettings", text.join("; ")));
                }
                let version = self
                    .deps
                    .stores
                    .settings
                    .put(&tenant, &parsed, expected_version)
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict { .. } => diagnostic("SettingsConflict", e),
                        other => Diagnostic::from(SyncError::from(other)),
                    })?;
                to_json(&json!({ "version": version }))
            }
        }
    }

    async fn queue_account(
        &self,
        tenant: &TenantId,
        account_id: &str,
    ) -> Result<Value, Diagnostic> {
        let run_id = RunId::new(self.now());
        let job = cwsync_queue::Job::new(
            cwsync_queue::JobKind::CustomerSyncAccount,
            tenant.as_str(),
            run_id.as_str(),
            false,
            json!({ "accountId": account_id }),
        )
        .map_err(|e| diagnostic("InvalidEvent", e))?;
        let queue = self
            .deps
            .queues
            .get(cwsync_runtime::Queue::Customer)
            .map_err(|e| diagnostic("NotConfigured", e))?;
        queue
            .send_batch(std::slice::from_ref(&job))
            .await
            .and_then(|report| report.ensure_all_sent())
            .map_err(|source| {
                Diagnostic::from(SyncError::Queue {
                    context: format!("queueing the sync of account {account_id}"),
                    source: Box::new(source),
                })
            })?;
        to_json(&json!({"queued": true, "runId": run_id.as_str(), "accountId": account_id}))
    }

    /// Suggestions for the given accounts, or for every unlinked account.
    pub async fn suggestions(
        &self,
        tenant: &TenantId,
        account_ids: Option<Vec<String>>,
        limit: Option<usize>,
    ) -> Result<Vec<AccountSuggestions>, SyncError> {
        suggest::suggestions(&self.deps, &self.connections, tenant, account_ids, limit).await
    }

    async fn link(
        &self,
        tenant: &TenantId,
        account_id: &str,
        company_id: i64,
    ) -> Result<Value, Diagnostic> {
        let clients = self.clients(tenant).await?;
        let account = clients.billing.get_account(account_id).await.map_err(|e| {
            Diagnostic::from(SyncError::billing(
                format!("reading billing account {account_id}"),
                e,
            ))
        })?;
        let company: Company = clients
            .cw
            .get(&format!("{}/{company_id}", Company::PATH))
            .await
            .map_err(|e| match e {
                CwError::NotFound { .. } => diagnostic(
                    "NotFound",
                    format!("ConnectWise company {company_id} does not exist"),
                ),
                other => Diagnostic::from(SyncError::connectwise("reading the company", other)),
            })?;
        if company.deleted_flag == Some(true) {
            return Err(diagnostic(
                "InvalidEvent",
                format!("ConnectWise company {company_id} is deleted"),
            ));
        }
        let link = self
            .deps
            .stores
            .links
            .link_existing(
                tenant,
                SourceRef::new(entity::COMPANY, account_id),
                entity::COMPANY,
                company_id,
                &map::fingerprint(&account),
                self.now(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => diagnostic("LinkConflict", e),
                other => Diagnostic::from(SyncError::from(other)),
            })?;
        let update = cwsync_billing::models::AccountUpdate {
            connect_wise_company_id: Some(company_id),
            ..Default::default()
        };
        clients
            .billing
            .update_account(account_id, &update)
            .await
            .map_err(|e| Diagnostic::from(SyncError::billing("writing back the link", e)))?;
        to_json(&json!({
            "accountId": account_id,
            "companyId": link.cw_id,
            "identifier": company.identifier,
            "name": company.name,
            "linked": true,
        }))
    }

    async fn unlink(&self, tenant: &TenantId, account_id: &str) -> Result<Value, Diagnostic> {
        let links = &self.deps.stores.links;
        let mut removed = Vec::new();
        let store = |e: StoreError| Diagnostic::from(SyncError::from(e));
        if let Some(link) = links
            .unlink(tenant, SourceRef::new(entity::COMPANY, account_id))
            .await
            .map_err(store)?
        {
            removed.push(json!({"entity": entity::COMPANY, "recordId": account_id, "connectWiseId": link.cw_id}));
        }
        // The account's sites and contacts were linked inside the old company: unlink them too.
        let clients = self.clients(tenant).await?;
        match clients.billing.get_account(account_id).await {
            Ok(account) => {
                for (kind, id) in account
                    .sites
                    .iter()
                    .map(|s| (entity::SITE, &s.id))
                    .chain(account.contacts.iter().map(|c| (entity::CONTACT, &c.id)))
                {
                    if let Some(link) = links
                        .unlink(tenant, SourceRef::new(kind, id))
                        .await
                        .map_err(store)?
                    {
                        removed.push(
                            json!({"entity": kind, "recordId": id, "connectWiseId": link.cw_id}),
                        );
                    }
                }
            }
            Err(cwsync_billing::BillingError::NotFound { .. }) => {}
            Err(e) => {
                return Err(
                    SyncError::billing(format!("reading billing account {account_id}"), e).into(),
                );
            }
        }
        to_json(&json!({"accountId": account_id, "unlinked": removed}))
    }

    /// A run's report: the run, a page of its records, the error report and suggestions for the
    /// accounts that could not be matched or would be created.
    async fn report(
        &self,
        tenant: &TenantId,
        run_id: Option<String>,
        page_token: Option<String>,
    ) -> Result<Value, Diagnostic> {
        let report = tenant_run_report(
            &self.deps,
            tenant,
            crate::JOB_KIND,
            run_id,
            page_token,
            self.now(),
        )
        .await?;
        let report = suggested_report(
            &self.deps,
            &self.connections,
            tenant,
            report,
            needs_suggestion,
        )
        .await?;
        to_json(&report)
    }

    /// Checks the tenant's connection: secret, codebase, system info, every permission the
    /// customer sync uses, and the billing system.
    pub async fn test_connection(&self, tenant: &TenantId) -> ConnectionReport {
        let mut report = ConnectionReport {
            tenant: tenant.to_string(),
            ok: false,
            connect_wise: None,
            codebase: None,
            permissions: Vec::new(),
            billing: None,
        };
        let clients = match self.clients(tenant).await {
            Ok(clients) => clients,
            Err(error) => {
                report.connect_wise = Some(error.to_string());
                return report;
            }
        };
        report.codebase = Some(clients.cw.codebase().to_owned());
        match clients
            .cw
            .get::<Value>(cwsync_connectwise::models::SystemInfo::PATH)
            .await
        {
            Ok(_) => report.connect_wise = Some("connected".to_owned()),
            Err(error) => {
                report.connect_wise = Some(error.to_string());
                return report;
            }
        }
        report.permissions = probe_permissions(&clients.cw).await;
        report.billing = Some(
            match clients
                .billing
                .list_accounts_page(
                    &AccountQuery {
                        page_size: Some(1),
                        ..AccountQuery::default()
                    },
                    None,
                )
                .await
            {
                Ok(_) => "connected".to_owned(),
                Err(error) => error.to_string(),
            },
        );
        report.ok = report.permissions.iter().all(|p| p.granted)
            && report.billing.as_deref() == Some("connected");
        report
    }
}

/// Whether a run record is an account the user may want to match by hand: ambiguous, sharing
/// its code with another account's company, or about to be created.
fn needs_suggestion(entry: &ReportRecord) -> bool {
    entry.entity == entity::COMPANY
        && ((entry.outcome == Outcome::Failed
            && (entry.detail.contains("ambiguous")
                || entry.detail.contains(crate::engine::LINK_BY_HAND)))
            || (entry.outcome == Outcome::Created && entry.detail.starts_with("would create")))
}

/// What `test-connection` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionReport {
    /// The tenant.
    pub tenant: String,
    /// Everything works.
    pub ok: bool,
    /// `connected`, or why not (secret, keys, host).
    pub connect_wise: Option<String>,
    /// The codebase ConnectWise answered.
    pub codebase: Option<String>,
    /// One line per operation the customer sync uses.
    pub permissions: Vec<Permission>,
    /// `connected`, or why not.
    pub billing: Option<String>,
}

/// Whether the API member may do one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// `GET /company/companies`.
    pub operation: String,
    /// The job that needs it (`customer-sync`, `daily-export`, `ticket-import`).
    pub used_by: String,
    /// Granted (or not refused: a 400 or 404 means the role allowed the call).
    pub granted: bool,
    /// What to do when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Who uses an operation, for the report.
const CUSTOMER_SYNC: &str = "customer-sync";
const DAILY_EXPORT: &str = "daily-export";
const TICKET_IMPORT: &str = "ticket-import";

/// Collections read (`GET ...?pageSize=1`), by the job that reads them.
const READS: &[(&str, &str)] = &[
    (CUSTOMER_SYNC, "/company/companies"),
    (CUSTOMER_SYNC, "/company/contacts"),
    (CUSTOMER_SYNC, "/company/states"),
    (CUSTOMER_SYNC, "/company/countries"),
    (CUSTOMER_SYNC, "/company/companies/types"),
    (CUSTOMER_SYNC, "/company/companies/statuses"),
    (CUSTOMER_SYNC, "/company/companies/{id}/sites"),
    (DAILY_EXPORT, "/finance/agreements"),
    (DAILY_EXPORT, "/finance/agreements/types"),
    (DAILY_EXPORT, "/finance/agreements/{id}/additions"),
    (DAILY_EXPORT, "/finance/invoices"),
    (DAILY_EXPORT, "/procurement/catalog"),
    (DAILY_EXPORT, "/procurement/products"),
    (DAILY_EXPORT, "/procurement/types"),
    (DAILY_EXPORT, "/procurement/categories"),
    (DAILY_EXPORT, "/procurement/subcategories"),
    (DAILY_EXPORT, "/procurement/unitOfMeasures"),
    (DAILY_EXPORT, "/sales/orders"),
    (DAILY_EXPORT, "/sales/opportunities"),
    (TICKET_IMPORT, "/service/tickets"),
    (TICKET_IMPORT, "/time/entries"),
    (TICKET_IMPORT, "/system/members"),
    (TICKET_IMPORT, "/system/callbacks"),
];

/// Creates probed with bodies ConnectWise must refuse (required fields missing, or a parent
/// record 0 that doesn't exist), by the job that creates such records. Orders and opportunities
/// have no documented required fields, so their creates are not probed (an empty body might be
/// accepted).
const CREATES: &[(&str, &str)] = &[
    (CUSTOMER_SYNC, "/company/companies"),
    (CUSTOMER_SYNC, "/company/contacts"),
    (CUSTOMER_SYNC, "/company/companies/{id}/sites"),
    (CUSTOMER_SYNC, "/company/companies/{id}/typeAssociations"),
    (DAILY_EXPORT, "/finance/agreements"),
    (DAILY_EXPORT, "/finance/agreements/{id}/additions"),
    (DAILY_EXPORT, "/finance/invoices"),
    (DAILY_EXPORT, "/procurement/catalog"),
    (TICKET_IMPORT, "/service/tickets"),
    (TICKET_IMPORT, "/time/entries"),
];

/// Records patched, probed on record 0 (which doesn't exist: a 404 means the role allowed it).
const PATCHES: &[(&str, &str)] = &[
    (CUSTOMER_SYNC, "/company/companies/{id}"),
    (CUSTOMER_SYNC, "/company/contacts/{id}"),
    (CUSTOMER_SYNC, "/company/companies/{id}/sites/{id}"),
    (DAILY_EXPORT, "/finance/agreements/{id}/additions/{id}"),
    (DAILY_EXPORT, "/procurement/catalog/{id}"),
];

/// Every operation cwsync uses, probed without changing anything: reads with `pageSize=1`,
/// writes with bodies ConnectWise must refuse (an empty object, a record or parent 0), so a 403
/// means the role lacks the permission and a 400 or 404 means it has it.
async fn probe_permissions(cw: &Client) -> Vec<Permission> {
    let one = Query::new().page_size(1);
    // Templates become paths on record 0; a contact's probe names company 0 so it can't be created.
    let on_zero = |template: &str| template.replace("{id}", "0");
    let mut probes = Vec::new();
    for (used_by, template) in READS {
        let result = cw
            .list_page::<Value>(&on_zero(template), &one, 1)
            .await
            .map(|_| ());
        probes.push(permission(format!("GET {template}"), used_by, result));
    }
    for (used_by, template) in CREATES {
        let body = if *template == Contact::PATH {
            json!({"company": {"id": 0}})
        } else {
            json!({})
        };
        let result = cw
            .create::<Value, Value>(&on_zero(template), &body)
            .await
            .map(|_| ());
        probes.push(permission(format!("POST {template}"), used_by, result));
    }
    for (used_by, template) in PATCHES {
        let result = cw
            .patch::<Value>(
                &on_zero(template),
                &[cwsync_connectwise::PatchOp::replace("name", "x")],
            )
            .await
            .map(|_| ());
        probes.push(permission(format!("PATCH {template}"), used_by, result));
    }
    probes
}

fn permission(operation: String, used_by: &str, result: Result<(), CwError>) -> Permission {
    let used_by = used_by.to_owned();
    match result {
        Ok(())
        | Err(
            CwError::Validation { .. }
            | CwError::BadRequest { .. }
            | CwError::NotFound { .. }
            | CwError::AlreadyExists { .. },
        ) => Permission {
            operation,
            used_by,
            granted: true,
            fix: None,
        },
        Err(CwError::Forbidden { .. }) => Permission {
            fix: Some(format!(
                "grant {operation} to the API member's security role in ConnectWise (System > Security Roles)"
            )),
            operation,
            used_by,
            granted: false,
        },
        Err(other) => Permission {
            operation,
            used_by,
            granted: false,
            fix: Some(format!("could not be checked: {other}")),
        },
    }
}
