//! Candidate companies for billing accounts without a ConnectWise company, for every job that
//! meets such an account: the customer sync (an ambiguous match, a code another account's company
//! holds, a company it would create) and the daily export (an account it reports unmapped and
//! never exports into a guessed company). Each job says which of its report lines want
//! suggestions; reading the candidates and ranking them is done here, once.
//!
//! What it costs: the matcher ranks names by similarity (typos, reordered words, legal suffixes;
//! see `cwsync_mapping::customers::suggest_companies`), which no ConnectWise condition can
//! express — a `name like` condition would miss exactly the near names the user needs to see —
//! so the companies are read whole, but light: the five fields the matcher reads (`id`,
//! `identifier`, `name`, `accountNumber`, `deletedFlag`: deleted ones are skipped here rather than
//! by a `deletedFlag=false` condition, which a record without the flag would not match), 1,000 a
//! page. That is one read per 1,000 companies per answer that needs suggestions, and none when no
//! account needs any.

use std::collections::BTreeSet;

use cwsync_billing::AccountQuery;
use cwsync_billing::models::Account;
use cwsync_connectwise::models::{Company, Resource};
use cwsync_connectwise::{Client, Query};
use cwsync_mapping::customers::{Suggestion, entity, suggest_companies};
use cwsync_runtime::Deps;
use cwsync_store::TenantId;
use cwsync_store::links::LinkState;
use serde::Serialize;

use crate::report::{REPORT_PAGE, ReportRecord, RunReport, latest_run};
use crate::{Connections, SyncError};

/// How many candidates an account gets unless the event says otherwise.
pub const DEFAULT_SUGGESTIONS: usize = 3;
/// The most candidates an account gets, whatever the event asks.
pub const MAX_SUGGESTIONS: usize = 50;

/// The company fields the matcher reads.
const CANDIDATE_FIELDS: [&str; 5] = ["id", "identifier", "name", "accountNumber", "deletedFlag"];

/// Candidates for one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSuggestions {
    /// The billing account.
    pub account_id: String,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Ranked candidates, best first (empty when no company is close enough).
    pub candidates: Vec<Suggestion>,
}

/// A run's report with suggestions for the accounts its lines leave without a company.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestedReport {
    /// The run's report.
    #[serde(flatten)]
    pub report: RunReport,
    /// Candidates for the accounts of the report's page that need them.
    pub suggestions: Vec<AccountSuggestions>,
}

/// Every ConnectWise company with the fields the matcher reads, 1,000 a page (the matcher skips
/// deleted ones).
pub async fn candidate_companies(cw: &Client) -> Result<Vec<Company>, SyncError> {
    let query = Query::new().fields(CANDIDATE_FIELDS);
    cw.list_all(Company::PATH, &query)
        .await
        .map_err(|e| SyncError::connectwise("reading the ConnectWise companies", e))
}

/// The best `limit` companies (default [`DEFAULT_SUGGESTIONS`], at most [`MAX_SUGGESTIONS`]) for
/// each account, in the accounts' order.
pub fn rank<'a>(
    accounts: impl IntoIterator<Item = &'a Account>,
    companies: &[Company],
    limit: Option<usize>,
) -> Vec<AccountSuggestions> {
    let limit = limit
        .unwrap_or(DEFAULT_SUGGESTIONS)
        .clamp(1, MAX_SUGGESTIONS);
    accounts
        .into_iter()
        .map(|account| AccountSuggestions {
            account_id: account.id.clone(),
            code: account.code.clone(),
            name: account.name.clone(),
            candidates: suggest_companies(account, companies, limit),
        })
        .collect()
}

/// The accounts of the `records` that `wanted` picks, each once, in id order.
pub fn accounts_wanting<'a>(
    records: impl IntoIterator<Item = &'a ReportRecord>,
    wanted: impl Fn(&ReportRecord) -> bool,
) -> Vec<String> {
    records
        .into_iter()
        .filter(|record| wanted(record))
        .map(|record| record.record_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Suggestions for the given accounts (every billing account without `account_ids`) that have
/// no linked company: an account linked meanwhile needs none. ConnectWise is read only when
/// some account needs suggestions.
pub async fn suggestions<R: Send + Sync + 'static>(
    deps: &Deps,
    connections: &Connections<R>,
    tenant: &TenantId,
    account_ids: Option<Vec<String>>,
    limit: Option<usize>,
) -> Result<Vec<AccountSuggestions>, SyncError> {
    if account_ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let clients = connections.clients(deps, tenant).await?;
    let accounts = clients
        .billing
        .list_accounts_checked(&AccountQuery {
            ids: account_ids,
            ..AccountQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("reading the billing accounts", e))?
        .accounts;
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let links = deps
        .stores
        .links
        .get_many(tenant, entity::COMPANY, &ids)
        .await?;
    let unlinked: Vec<&Account> = accounts
        .iter()
        .filter(|a| {
            links
                .get(&a.id)
                .is_none_or(|l| l.state != LinkState::Linked)
        })
        .collect();
    if unlinked.is_empty() {
        return Ok(Vec::new());
    }
    let companies = candidate_companies(&clients.cw).await?;
    Ok(rank(unlinked, &companies, limit))
}

/// `report` with suggestions for the accounts of its lines that `wanted` picks (see
/// [`suggestions`]: nothing is read when no line wants any).
pub async fn suggested_report<R: Send + Sync + 'static>(
    deps: &Deps,
    connections: &Connections<R>,
    tenant: &TenantId,
    report: RunReport,
    wanted: impl Fn(&ReportRecord) -> bool,
) -> Result<SuggestedReport, SyncError> {
    let accounts = accounts_wanting(&report.records, wanted);
    let suggestions = if accounts.is_empty() {
        Vec::new()
    } else {
        suggestions(deps, connections, tenant, Some(accounts), None).await?
    };
    Ok(SuggestedReport {
        report,
        suggestions,
    })
}

/// The accounts the lines of `tenant`'s latest run of `job_kind` that `wanted` picks name, each
/// once, in id order: every page of the run's log is read (store reads only; no run yet, no
/// accounts).
pub async fn latest_run_accounts_wanting(
    deps: &Deps,
    tenant: &TenantId,
    job_kind: &str,
    wanted: impl Fn(&ReportRecord) -> bool,
) -> Result<Vec<String>, SyncError> {
    let runs = &*deps.stores.runs;
    let Some(run) = latest_run(runs, tenant, job_kind).await? else {
        return Ok(Vec::new());
    };
    let mut accounts = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = runs
            .log_page(tenant, &run.run_id, token.as_deref(), REPORT_PAGE)
            .await?;
        let records: Vec<ReportRecord> = page.entries.into_iter().map(ReportRecord::from).collect();
        accounts.extend(accounts_wanting(&records, &wanted));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => return Ok(accounts.into_iter().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use cwsync_store::runs::Outcome;

    use super::*;

    fn line(entity: &str, id: &str, outcome: Outcome, detail: &str) -> ReportRecord {
        ReportRecord {
            entity: entity.to_owned(),
            record_id: id.to_owned(),
            outcome,
            detail: detail.to_owned(),
        }
    }

    fn account(id: &str, code: &str, name: &str) -> Account {
        serde_json::from_value(serde_json::json!({
            "id": id, "code": code, "name": name, "status": "Active",
            "updatedAt": "2026-11-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn company(id: i64, identifier: &str, name: &str) -> Company {
        Company {
            id: Some(id),
            identifier: Some(identifier.to_owned()),
            name: Some(name.to_owned()),
            ..Company::default()
        }
    }

    #[test]
    fn the_accounts_wanting_suggestions_are_the_picked_lines_once_each_in_id_order() {
        let records = [
            line("export-account", "A-3", Outcome::Skipped, "unmapped: …"),
            line("export-account", "A-1", Outcome::Skipped, "unmapped: …"),
            line("addition", "A-2", Outcome::Skipped, "unmapped: …"),
            line("export-account", "A-3", Outcome::Skipped, "unmapped: again"),
            line("export-account", "A-4", Outcome::Unchanged, "unchanged"),
        ];
        let picked = accounts_wanting(&records, |r| {
            r.entity == "export-account" && r.detail.starts_with("unmapped")
        });
        assert_eq!(picked, ["A-1", "A-3"]);
        assert!(accounts_wanting(&records, |_| false).is_empty());
    }

    #[test]
    fn each_account_gets_its_ranked_candidates_within_the_limit_in_the_accounts_order() {
        let companies = [
            company(1, "GLOBEX", "Globex Corporation"),
            company(2, "GLBX2", "Globex East"),
            company(3, "INITECH", "Initech"),
            company(4, "NWT", "Northwind Traders"),
        ];
        let accounts = [
            account("A-2", "GLOBEX", "Globex Corp."),
            account("A-1", "ZZ", "Completely Unrelated Name"),
        ];
        let found = rank(&accounts, &companies, None);
        let ids: Vec<&str> = found.iter().map(|s| s.account_id.as_str()).collect();
        assert_eq!(ids, ["A-2", "A-1"]);
        assert_eq!(found[0].code, "GLOBEX");
        assert_eq!(found[0].name, "Globex Corp.");
        assert_eq!(found[0].candidates[0].company_id, 1);
        assert!(found[0].candidates.len() <= DEFAULT_SUGGESTIONS);
        assert!(found[1].candidates.is_empty(), "{:?}", found[1]);

        let one = rank(&accounts[..1], &companies, Some(1));
        assert_eq!(one[0].candidates.len(), 1);
        // A limit of 0 still names the best candidate; a huge one is capped.
        assert_eq!(
            rank(&accounts[..1], &companies, Some(0))[0]
                .candidates
                .len(),
            1
        );
        let many: Vec<Company> = (1..=80)
            .map(|id| company(id, &format!("G{id}"), "Globex"))
            .collect();
        assert_eq!(
            rank(&accounts[..1], &many, Some(1_000))[0].candidates.len(),
            MAX_SUGGESTIONS
        );
    }
}
