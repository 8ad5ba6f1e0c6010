//! A billing account's credit hold → the tenant-named ConnectWise company custom field
//! (`documents.creditHold.customField`; `cwsync_mapping::documents::credit_hold`).
//!
//! **Planning** lists the accounts and their company links, and stamps each with its flag and
//! company: an account whose link under `credit-hold` holds that stamp is not sent. An account
//! without a company is listed only while on hold (then it fails, naming the account, until the
//! customer sync links it); off hold it has nothing to clear.
//!
//! **A page** reads its accounts by id and their companies in one `id in (...)` read, and writes
//! the field (one PATCH of `customFields` with just that field) only where its value differs.
//! The link under `credit-hold` is keyed by the account id and points at the company.

use std::collections::HashMap;

use cwsync_billing::AccountQuery;
use cwsync_billing::models::Account;
use cwsync_connectwise::Query;
use cwsync_connectwise::models::{Company, Resource};
use cwsync_mapping::documents::CreditHold;
use cwsync_mapping::documents::credit_hold::{credit_hold_stamp, hold_change};
use cwsync_store::links::SourceRef;
use cwsync_store::runs::Outcome;
use cwsync_sync::writes::cw_record_level;
use cwsync_sync::{RecordResult, Recorder, SyncError};

use super::{Candidate, Candidates, DocContext, Document, company_ids};

/// The ConnectWise kind the credit hold is linked as: the company holding the field, under a
/// kind of its own (the customer sync links the account to the same company as `company`).
const CW_KIND: &str = "company-credit-hold";

/// The tenant's credit-hold settings (the kind does not run without them).
fn settings<'a>(ctx: &DocContext<'a>) -> Result<&'a CreditHold, SyncError> {
    ctx.settings
        .documents
        .credit_hold
        .as_ref()
        .ok_or_else(|| SyncError::NotConfigured {
            tenant: ctx.tenant.to_string(),
            job: crate::FUNCTION,
            reason: "documents.creditHold is not set".to_owned(),
        })
}

/// The accounts `ids` (all without), and the lines of malformed ones.
async fn accounts(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<(Vec<Account>, Vec<RecordResult>), SyncError> {
    let query = match ids {
        Some(ids) => AccountQuery::by_ids(ids.iter().cloned()),
        None => AccountQuery::default(),
    };
    let listed = ctx
        .clients
        .billing
        .list_accounts_checked(&query)
        .await
        .map_err(|e| SyncError::billing("listing the accounts", e))?;
    let entity = Document::CreditHold.entity();
    let lines = listed
        .malformed
        .iter()
        .map(|bad| {
            let id = bad.id.as_deref().unwrap_or("(no id)");
            Recorder::new(entity, id, String::new()).failed(bad.to_string())
        })
        .collect();
    Ok((listed.accounts, lines))
}

/// Every account (or those of `ids`) whose credit hold may need writing, with its stamp.
pub async fn candidates(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<Candidates, SyncError> {
    let settings = settings(ctx)?;
    let (accounts, lines) = accounts(ctx, ids).await?;
    let companies = company_ids(ctx, accounts.iter().map(|a| a.id.clone())).await?;
    Ok(Candidates {
        records: accounts
            .iter()
            .filter(|a| a.on_hold || companies.contains_key(&a.id))
            .map(|a| Candidate {
                id: a.id.clone(),
                stamp: credit_hold_stamp(a.on_hold, companies.get(&a.id).copied(), settings),
            })
            .collect(),
        lines,
        advance: None,
    })
}

/// Writes the credit hold of the accounts `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::CreditHold.entity();
    let settings = settings(ctx)?;
    let (accounts, mut records) = accounts(ctx, Some(ids)).await?;
    let found: HashMap<&str, &Account> = accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut present = Vec::new();
    for id in ids {
        match found.get(id.as_str()) {
            Some(account) => present.push(*account),
            // A malformed account has its failed line already.
            None if records.iter().any(|r| &r.record_id == id) => {}
            None => records.push(Recorder::new(entity, id, String::new()).with_detail(
                Outcome::Skipped,
                "no longer in the billing system: nothing written".to_owned(),
            )),
        }
    }
    let accounts = present;
    let companies = company_ids(ctx, accounts.iter().map(|a| a.id.clone())).await?;
    let company_ids: Vec<i64> = companies.values().copied().collect();
    let read: Vec<Company> = ctx
        .clients
        .cw
        .list_by_ids(
            Company::PATH,
            "id",
            company_ids,
            &Query::new()
                .page_size(1000)
                .fields(["id", "identifier", "customFields"]),
        )
        .await
        .map_err(|e| SyncError::connectwise("reading the accounts' companies", e))?;
    let by_id: HashMap<i64, &Company> = read.iter().filter_map(|c| Some((c.id?, c))).collect();
    for account in accounts {
        let company = companies.get(&account.id).copied();
        let stamp = credit_hold_stamp(account.on_hold, company, settings);
        let recorder = Recorder::new(entity, &account.id, stamp.clone());
        let line = match company.map(|id| (id, by_id.get(&id))) {
            None => recorder.failed(format!(
                "accountId: account {} is on credit hold but has no ConnectWise company yet (the \
                 customer sync links it): the hold is written once it has one",
                account.id
            )),
            Some((id, None)) => recorder.failed(format!(
                "accountId: the company {id} linked to account {} is not in ConnectWise (deleted \
                 or merged?): link the account again",
                account.id
            )),
            Some((id, Some(current))) => {
                Box::pin(write_hold(
                    ctx, account, id, current, settings, &recorder, &stamp,
                ))
                .await?
            }
        };
        records.push(line);
    }
    Ok(records)
}

/// Writes one account's hold to its company `company_id` (`current`); its line.
async fn write_hold(
    ctx: &DocContext<'_>,
    account: &Account,
    company_id: i64,
    current: &Company,
    settings: &CreditHold,
    recorder: &Recorder,
    stamp: &str,
) -> Result<RecordResult, SyncError> {
    let state = if account.on_hold {
        "on hold"
    } else {
        "not on hold"
    };
    let field = settings.custom_field.trim();
    let op = match hold_change(current, account.on_hold, settings) {
        Ok(op) => op,
        Err(reason) => return Ok(recorder.failed(reason).with_id(company_id)),
    };
    let outcome = match op {
        None => Outcome::Unchanged,
        Some(op) => {
            if !ctx.dry_run {
                let path = format!("{}/{company_id}", Company::PATH);
                if let Err(error) = ctx.clients.cw.patch::<Company>(&path, &[op]).await {
                    let doing = format!("writing the credit hold of company {company_id}");
                    let reason = cw_record_level(doing, error)?;
                    return Ok(recorder
                        .failed(format!("customFields ({field:?}): {reason}"))
                        .with_id(company_id));
                }
            }
            Outcome::Updated
        }
    };
    ctx.record_synced(
        SourceRef::new(Document::CreditHold.entity(), &account.id),
        CW_KIND,
        company_id,
        stamp,
    )
    .await?;
    let detail = match (outcome, ctx.dry_run) {
        (Outcome::Unchanged, _) => format!("{field:?} already says {state}"),
        (_, true) => format!("would set {field:?} to {state}"),
        _ => format!("{field:?} set to {state}"),
    };
    Ok(recorder.with_detail(outcome, detail).with_id(company_id))
}
