//! The customer sync of a set of billing accounts: each account's company, then its sites and
//! contacts, then the fields that flow back to the billing system.
//!
//! Reads are batched across the accounts given: one look-up of the linked companies by id, one of
//! the candidates for unlinked accounts by identifier and one by account number, one of all their
//! contacts, and the sites of each company that has billing sites. Writes carry only what changed:
//! an unchanged account costs no write at all.
//!
//! Never a duplicate: a record is created only after matching found nothing and a claim on its
//! link was won; a create whose outcome is unknown is settled by looking the record up by its
//! natural key, never by creating again (`cwsync_sync::claim`). A problem of one record (a value
//! ConnectWise would refuse, an ambiguous match, a 400 from ConnectWise) is that record's
//! `failed` outcome, with a reason naming the record and the field; the other records go on.
//! Errors no record explains (throttling, outages, refused keys) stop the job as a [`SyncError`]
//! so it is retried.
//!
//! What flows back to the billing system (the ConnectWise ids, the fields ConnectWise owns) is
//! collected while the accounts sync and sent at the end in as few calls as the billing system
//! allows (`BillingClient::write_back`: up to 100 records per call, or one PATCH per record on a
//! billing system without the batch form); each record's refusal is still that record's failure.
//!
//! In a dry run everything is read and planned and nothing is written anywhere: not to
//! ConnectWise, not to the billing system, not to the links.

use std::collections::{HashMap, HashSet};

use cwsync_billing::models::{Account, AccountUpdate, Contact as BillingContact, Site, WriteBack};
use cwsync_billing::{BillingClient, BillingError};
use cwsync_connectwise::models::{
    Company, CompanySite, CompanyTypeAssociation, Contact, Reference, Resource,
};
use cwsync_connectwise::{Client, Condition, PatchOp, Query};
use cwsync_mapping::customers::{
    self as map, CompanyMatch, CustomerReference, RecordProblem, RelatedCompanies, entity,
};
use cwsync_mapping::settings::TenantSettings;
use cwsync_store::links::{Link, LinkState, LinkStore, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_store::{StoreError, TenantId};
use cwsync_sync::record::{join_details, would};
use cwsync_sync::writes::{self, billing_job_level, fields_of, record_level};
use cwsync_sync::{
    Created, Creation, Origin, RecordResult, Recorder, SyncError, UnitResult, create_claimed,
};
use serde::Serialize;
use time::OffsetDateTime;

/// The entity of run records about the billing side (write-backs of ConnectWise-owned fields).
pub const BILLING_ACCOUNT: &str = "billing-account";

/// What a sync runs against.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The tenant.
    pub tenant: &'a TenantId,
    /// Plan only.
    pub dry_run: bool,
    /// The tenant's settings.
    pub settings: &'a TenantSettings,
    /// ConnectWise reference data of the run.
    pub reference: &'a CustomerReference,
    /// The tenant's ConnectWise.
    pub cw: &'a Client,
    /// The tenant's billing system.
    pub billing: &'a BillingClient,
    /// The links.
    pub links: &'a dyn LinkStore,
    /// When the sync runs.
    pub now: OffsetDateTime,
    /// Fail transiently (so the job is delivered again) rather than sync an account without its
    /// parent or bill-to company while another job is creating that company.
    pub wait_for_related: bool,
    /// Accounts the tenant-wide planner found no candidate company for, on their job's first
    /// delivery: their candidate look-ups are not made (a company created since is refused as a
    /// second identifier on create, and a later delivery makes the look-ups).
    pub no_candidates: &'a HashSet<String>,
}

/// Why an account was left alone by the tenant's filters, if it was.
pub fn filtered_out(account: &Account, settings: &TenantSettings) -> Option<String> {
    let filter = &settings.customer_filter;
    if filter.respect_opt_out && !account.sync_to_connect_wise {
        return Some("the account opted out of the sync (syncToConnectWise is false)".to_owned());
    }
    let checks = [
        (
            "customer type",
            &filter.customer_types,
            &account.customer_type,
        ),
        (
            "contract type",
            &filter.contract_types,
            &account.contract_type,
        ),
        ("branch", &filter.branches, &account.branch),
    ];
    checks.into_iter().find_map(|(what, rule, value)| {
        (!rule.allows(value.as_deref())).then(|| match value {
            Some(value) => format!("filtered out by the tenant's {what} filter ({what} {value:?})"),
            None => format!("filtered out: the tenant's {what} filter requires a {what}"),
        })
    })
}

/// The result of an account the filters left alone.
pub fn skipped(account: &Account, reason: String) -> UnitResult {
    let mut line = Recorder::new(entity::COMPANY, &account.id, map::fingerprint(account))
        .with_detail(Outcome::Skipped, reason);
    line.connect_wise_id = account.connect_wise_company_id;
    UnitResult::single(line)
}

/// Syncs `accounts` (all of one tenant). Accounts the filters exclude come back as skipped.
///
/// With a [`Prefetch`] that covers every account given, its reads are used instead of reading
/// again (a batch of jobs reads once for all its accounts, then each job syncs its own).
pub async fn sync_accounts(
    scope: Scope<'_>,
    accounts: &[Account],
    prefetch: Option<&Prefetch>,
) -> Result<Vec<UnitResult>, SyncError> {
    let mut results = Vec::with_capacity(accounts.len());
    let mut selected = Vec::new();
    for account in accounts {
        match filtered_out(account, scope.settings) {
            Some(reason) => results.push(skipped(account, reason)),
            None => selected.push(account),
        }
    }
    if selected.is_empty() {
        return Ok(results);
    }
    let covered = prefetch.filter(|p| selected.iter().all(|a| p.accounts.contains(&a.id)));
    let mut batch = match covered {
        Some(prefetch) => prefetch.batch.clone(),
        None => Box::pin(Batch::read(scope, &selected)).await?,
    };
    for account in &selected {
        results.push(Box::pin(batch.sync_account(scope, account)).await?);
    }
    let write_backs = std::mem::take(&mut batch.write_backs);
    send_write_backs(scope, write_backs, &mut results).await?;
    // An account is stamped unchanged only once all of it synced, its write-backs included.
    for account in selected {
        let result = results.iter().find(|r| r.unit_id == account.id);
        if let (Some(company), Some(result)) = (batch.synced.remove(&account.id), result) {
            batch
                .record_stamp(scope, account, &company, &result.records)
                .await?;
        }
    }
    Ok(results)
}

/// The batched reads for several accounts, made once and shared by their jobs.
#[derive(Debug, Clone, Default)]
pub struct Prefetch {
    /// The accounts the reads cover (accounts the filters exclude need none).
    accounts: HashSet<String>,
    batch: Batch,
}

impl Prefetch {
    /// Reads what syncing `accounts` needs, in as few calls as [`sync_accounts`] makes for them
    /// together.
    pub async fn read(scope: Scope<'_>, accounts: &[Account]) -> Result<Prefetch, SyncError> {
        let selected: Vec<&Account> = accounts
            .iter()
            .filter(|a| filtered_out(a, scope.settings).is_none())
            .collect();
        let batch = Box::pin(Batch::read(scope, &selected)).await?;
        Ok(Prefetch {
            accounts: accounts.iter().map(|a| a.id.clone()).collect(),
            batch,
        })
    }
}

/// What the batched reads brought, and what the accounts of the batch changed so far.
#[derive(Debug, Clone, Default)]
struct Batch {
    /// Company links of the accounts and of the accounts they point at, by billing id.
    company_links: HashMap<String, Link>,
    /// Linked companies, by id.
    companies: HashMap<i64, Company>,
    /// Candidates for unlinked accounts (identifier or account number among their codes).
    candidates: Vec<Company>,
    /// Site links by billing site id.
    site_links: HashMap<String, Link>,
    /// Contact links by billing contact id.
    contact_links: HashMap<String, Link>,
    /// Contacts of the batch's companies, by company id.
    contacts: HashMap<i64, Vec<Contact>>,
    /// Companies whose contacts were read.
    contacts_read: HashSet<i64>,
    /// Billing parent of each account seen so far (the batch's, and ancestors read to walk a
    /// parent chain), by account id.
    parents: HashMap<String, Option<String>>,
    /// The primary site of each company this batch created, as the create's answer named it:
    /// a new company has that site and no other, so its sites are not read.
    new_primary_sites: HashMap<i64, CompanySite>,
    /// What the accounts synced so far should write back, sent together at the end.
    write_backs: Vec<PendingWriteBack>,
    /// Each synced account's company, by account id: its sync stamp is recorded once the
    /// write-backs are sent too.
    synced: HashMap<String, Company>,
}

impl Batch {
    async fn read(scope: Scope<'_>, accounts: &[&Account]) -> Result<Batch, SyncError> {
        let tenant = scope.tenant;
        let mut ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
        ids.extend(
            accounts
                .iter()
                .flat_map(|a| [&a.parent_account_id, &a.bill_to_account_id])
                .flatten()
                .cloned(),
        );
        let company_links = scope.links.get_many(tenant, entity::COMPANY, &ids).await?;
        let linked_ids: Vec<i64> = accounts
            .iter()
            .filter_map(|a| company_links.get(&a.id))
            .filter(|l| l.state == LinkState::Linked)
            .filter_map(|l| l.cw_id)
            .collect();
        let codes: Vec<String> = accounts
            .iter()
            .filter(|a| {
                company_links
                    .get(&a.id)
                    .is_none_or(|l| l.state != LinkState::Linked)
            })
            .filter(|a| !scope.no_candidates.contains(&a.id))
            .map(|a| a.code.trim().to_owned())
            .filter(|code| !code.is_empty())
            .collect();
        let cw = scope.cw;
        let query = Query::new();
        let reading = "reading ConnectWise companies";
        let (linked, by_identifier, by_account_number) = tokio::try_join!(
            async {
                cw.list_by_ids::<Company, _>(Company::PATH, "id", linked_ids, &query)
                    .await
                    .map_err(|e| SyncError::connectwise(reading, e))
            },
            async {
                cw.list_by_ids::<Company, _>(Company::PATH, "identifier", codes.clone(), &query)
                    .await
                    .map_err(|e| SyncError::connectwise(reading, e))
            },
            async {
                cw.list_by_ids::<Company, _>(Company::PATH, "accountNumber", codes.clone(), &query)
                    .await
                    .map_err(|e| SyncError::connectwise(reading, e))
            },
        )?;
        let mut candidates = by_identifier;
        let seen: HashSet<Option<i64>> = candidates.iter().map(|c| c.id).collect();
        candidates.extend(
            by_account_number
                .into_iter()
                .filter(|c| !seen.contains(&c.id)),
        );
        let site_ids: Vec<String> = accounts
            .iter()
            .flat_map(|a| a.sites.iter().map(|s| s.id.clone()))
            .collect();
        let contact_ids: Vec<String> = accounts
            .iter()
            .flat_map(|a| a.contacts.iter().map(|c| c.id.clone()))
            .collect();
        let site_links = scope
            .links
            .get_many(tenant, entity::SITE, &site_ids)
            .await?;
        let contact_links = scope
            .links
            .get_many(tenant, entity::CONTACT, &contact_ids)
            .await?;
        let mut batch = Batch {
            company_links,
            companies: linked
                .into_iter()
                .filter_map(|c| Some((c.id?, c)))
                .collect(),
            candidates,
            site_links,
            contact_links,
            parents: accounts
                .iter()
                .map(|a| (a.id.clone(), a.parent_account_id.clone()))
                .collect(),
            ..Batch::default()
        };
        // Contacts of every linked company with billing contacts, in one look-up.
        let with_contacts: Vec<i64> = accounts
            .iter()
            .filter(|a| !a.contacts.is_empty())
            .filter_map(|a| batch.linked_company_id(&a.id))
            .collect();
        batch.read_contacts(cw, with_contacts).await?;
        Ok(batch)
    }

    /// The companies the account's parent and bill-to accounts are linked to.
    fn related_companies(&self, account: &Account) -> RelatedCompanies {
        RelatedCompanies {
            parent: account
                .parent_account_id
                .as_deref()
                .and_then(|id| self.linked_company_id(id)),
            bill_to: account
                .bill_to_account_id
                .as_deref()
                .and_then(|id| self.linked_company_id(id)),
        }
    }

    fn linked_company_id(&self, account_id: &str) -> Option<i64> {
        self.company_links
            .get(account_id)
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id)
    }

    async fn read_contacts(&mut self, cw: &Client, company_ids: Vec<i64>) -> Result<(), SyncError> {
        let wanted: Vec<i64> = company_ids
            .into_iter()
            .filter(|id| !self.contacts_read.contains(id))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let contacts = cw
            .list_by_ids::<Contact, _>(Contact::PATH, "company/id", wanted.clone(), &Query::new())
            .await
            .map_err(|e| SyncError::connectwise("reading ConnectWise contacts", e))?;
        self.contacts_read.extend(wanted);
        for contact in contacts {
            if let Some(company_id) = contact.company.as_ref().and_then(|c| c.id) {
                self.contacts.entry(company_id).or_default().push(contact);
            }
        }
        Ok(())
    }

    async fn sync_account(
        &mut self,
        scope: Scope<'_>,
        account: &Account,
    ) -> Result<UnitResult, SyncError> {
        let mut records = Vec::new();
        let company = Box::pin(self.sync_company(scope, account, &mut records)).await?;
        if let Some(company) = company
            && let Some(company_id) = company.id
        {
            let mut written_back = AccountUpdate::default();
            if !account.sites.is_empty() {
                Box::pin(self.sync_sites(scope, account, company_id, &mut records)).await?;
            }
            if !account.contacts.is_empty() {
                self.read_contacts(scope.cw, vec![company_id]).await?;
                Box::pin(self.sync_contacts(scope, account, company_id, &mut records)).await?;
            }
            let pulled = map::plan_account_pull(account, &company, scope.reference, scope.settings);
            if !pulled.is_empty() {
                written_back = pulled;
            }
            if account.connect_wise_company_id != Some(company_id) {
                written_back.connect_wise_company_id = Some(company_id);
            }
            write_back_account(scope, account, written_back, &mut self.write_backs);
            self.synced.insert(account.id.clone(), company);
        }
        Ok(UnitResult {
            unit_id: account.id.clone(),
            records,
        })
    }

    /// Records on the company link what both sides look like now (see `crate::unchanged`), when
    /// every record of the account synced: after a failure the account stays on the ledger and
    /// its old stamp, so the planner sends it again.
    async fn record_stamp(
        &mut self,
        scope: Scope<'_>,
        account: &Account,
        company: &Company,
        records: &[RecordResult],
    ) -> Result<(), SyncError> {
        if scope.dry_run || records.iter().any(|r| r.outcome == Outcome::Failed) {
            return Ok(());
        }
        let Some(link) = self
            .company_links
            .get(&account.id)
            .filter(|l| l.state == LinkState::Linked && l.cw_id == company.id)
        else {
            return Ok(());
        };
        let contacts = (!account.contacts.is_empty()).then(|| {
            company
                .id
                .and_then(|id| self.contacts.get(&id))
                .map_or(&[][..], Vec::as_slice)
        });
        let related = self.related_companies(account);
        let stamp =
            crate::unchanged::sync_stamp(account, scope.settings, related, company, contacts);
        if link.sync_stamp.as_deref() == Some(stamp.as_str()) {
            return Ok(());
        }
        let source = SourceRef::new(entity::COMPANY, &account.id);
        match scope
            .links
            .record_stamp(scope.tenant, source, &stamp, scope.now)
            .await
        {
            Ok(link) => {
                self.company_links.insert(account.id.clone(), link);
                Ok(())
            }
            // Unlinked meanwhile: without a stamp the next run syncs it.
            Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// The account's company after the sync (`None` when it failed or is ambiguous).
    async fn sync_company(
        &mut self,
        scope: Scope<'_>,
        account: &Account,
        records: &mut Vec<RecordResult>,
    ) -> Result<Option<Company>, SyncError> {
        let mut record = Recorder::new(entity::COMPANY, &account.id, map::fingerprint(account));
        // A parent or bill-to account linked since the batch was read (earlier in this run, by
        // another job) is looked up again, so the child gets its company now, not next run.
        for related_id in [&account.parent_account_id, &account.bill_to_account_id]
            .into_iter()
            .flatten()
        {
            if self.linked_company_id(related_id).is_none()
                && let Some(link) = scope
                    .links
                    .get(scope.tenant, SourceRef::new(entity::COMPANY, related_id))
                    .await?
            {
                if scope.wait_for_related
                    && link.state == LinkState::Pending
                    && let Some(claimed_at) = link.claimed_at
                    && scope.now < claimed_at + cwsync_store::links::DEFAULT_STALE_AFTER
                {
                    return Err(SyncError::Busy {
                        record: format!(
                            "the parent or bill-to company of account {} (account {related_id} is being created)",
                            account.id
                        ),
                        stale_at: (claimed_at + cwsync_store::links::DEFAULT_STALE_AFTER)
                            .to_string(),
                    });
                }
                self.company_links.insert(related_id.clone(), link);
            }
        }
        let related = self.related_companies(account);
        let ancestors = self.ancestors(scope, account).await?;
        let cycle = map::parent_cycle(account, &ancestors);
        let desired = match (
            map::desired_company_noted(account, scope.reference, &related),
            cycle,
        ) {
            (Ok(noted), None) => {
                record = record.with_notes(noted.notes);
                noted.value
            }
            (Ok(_), Some(cycle)) => {
                records.push(record.problems(&[cycle]));
                return Ok(None);
            }
            (Err(mut problems), cycle) => {
                problems.extend(cycle);
                records.push(record.problems(&problems));
                return Ok(None);
            }
        };
        let fingerprint = map::fingerprint(&desired);
        let source = SourceRef::new(entity::COMPANY, &account.id);
        let link = self.company_links.get(&account.id).cloned();
        if let Some(link) = link.filter(|l| l.state == LinkState::Linked) {
            let Some(cw_id) = link.cw_id else {
                records
                    .push(record.failed("its link has no ConnectWise id; unlink and sync again"));
                return Ok(None);
            };
            let Some(current) = self
                .companies
                .get(&cw_id)
                .filter(|c| c.deleted_flag != Some(true))
                .cloned()
            else {
                records.push(record.failed(format!(
                    "the linked ConnectWise company {cw_id} no longer exists or is deleted; unlink the account to create or match it again"
                )).with_id(cw_id));
                return Ok(None);
            };
            let (company, changed) =
                update_company(scope, &current, &desired, &record, records).await?;
            let Some(company) = company else {
                return Ok(None);
            };
            if !scope.dry_run && link.fingerprint.as_deref() != Some(fingerprint.as_str()) {
                scope
                    .links
                    .record_sync(scope.tenant, source, &fingerprint, scope.now)
                    .await?;
            }
            records.push(
                record
                    .changed(Outcome::Updated, changed, scope.dry_run)
                    .with_id(cw_id),
            );
            return Ok(Some(company));
        }

        // Unlinked (or a pending claim): match before anything is created.
        match map::match_company(&account.code, &self.candidates) {
            CompanyMatch::Ambiguous(ids) => {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                records.push(record.failed(format!(
                    "code: ambiguous: ConnectWise companies {} all have identifier or account number {:?}; link the right one with the link action",
                    ids.join(", "),
                    account.code.trim()
                )));
                Ok(None)
            }
            CompanyMatch::Unique(cw_id) => {
                let Some(current) = self
                    .candidates
                    .iter()
                    .find(|c| c.id == Some(cw_id))
                    .cloned()
                else {
                    return Ok(None);
                };
                if !scope.dry_run {
                    match scope
                        .links
                        .link_existing(
                            scope.tenant,
                            source,
                            entity::COMPANY,
                            cw_id,
                            &fingerprint,
                            scope.now,
                        )
                        .await
                    {
                        Ok(link) => {
                            self.company_links.insert(account.id.clone(), link);
                        }
                        Err(StoreError::Conflict { reason, .. }) => {
                            let why = match linked_to_other(scope, account, cw_id).await? {
                                Some(why) => why,
                                None => format!(
                                    "matched ConnectWise company {cw_id}, but it can't be linked: {reason}"
                                ),
                            };
                            records.push(record.failed(why).with_id(cw_id));
                            return Ok(None);
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
                let (company, changed) =
                    update_company(scope, &current, &desired, &record, records).await?;
                let Some(company) = company else {
                    return Ok(None);
                };
                self.companies.insert(cw_id, company.clone());
                let how = format!(
                    "{} existing company {cw_id} by identifier or account number",
                    would(scope.dry_run, "linked", "would link")
                );
                let detail = join_details(how, &changed, scope.dry_run);
                records.push(record.with_detail(Outcome::Linked, detail).with_id(cw_id));
                Ok(Some(company))
            }
            CompanyMatch::NoMatch => {
                let created = Box::pin(self.create_company(
                    scope,
                    account,
                    &desired,
                    &fingerprint,
                    &record,
                    records,
                ))
                .await?;
                if let Some(company) = &created
                    && let Some(id) = company.id
                {
                    self.companies.insert(id, company.clone());
                    // Another account of this batch with the same code now matches it (and is
                    // reported as a duplicate code) instead of trying a create ConnectWise refuses.
                    self.candidates.push(company.clone());
                    // A new company has no contacts yet: nothing to read for it.
                    self.contacts_read.insert(id);
                }
                Ok(created)
            }
        }
    }

    /// Claims, creates (or finds by identifier what an earlier or unknown create made) and
    /// links the account's company (see `cwsync_sync::claim`); in a dry run, plans it and its
    /// sites and contacts.
    async fn create_company(
        &mut self,
        scope: Scope<'_>,
        account: &Account,
        desired: &Company,
        fingerprint: &str,
        record: &Recorder,
        records: &mut Vec<RecordResult>,
    ) -> Result<Option<Company>, SyncError> {
        let identifier = account.code.trim().to_owned();
        let what = format!("company of account {}", account.id);
        let natural_key = format!("identifier {identifier:?}");
        let creation = Creation {
            tenant: scope.tenant,
            links: scope.links,
            source: SourceRef::new(entity::COMPANY, &account.id),
            cw_kind: entity::COMPANY,
            what: &what,
            natural_key: &natural_key,
            fingerprint,
            now: scope.now,
            dry_run: scope.dry_run,
            // A company created meanwhile may be another account's (same code) whose job links
            // it in a moment: the next delivery tells which; the last ones take it.
            defer_taken: scope.wait_for_related,
        };
        let body = with_primary_site(desired);
        let created = create_claimed(
            &creation,
            record,
            records,
            |company: &Company| company.id,
            || find_company_by_identifier(scope.cw, &identifier),
            || scope.cw.create::<_, Company>(Company::PATH, &body),
        )
        .await?;
        match created {
            Created::Linked {
                record: company,
                link,
                origin,
            } => {
                if origin == Origin::Answered
                    && let Some(cw_id) = company.id
                    && let Some(site) = primary_site_of(&company, scope.reference)
                {
                    self.new_primary_sites.insert(cw_id, site);
                }
                self.company_links.insert(account.id.clone(), link);
                Ok(Some(company))
            }
            // Another worker linked it a moment ago: its company is the one.
            Created::AlreadyLinked(link) => match link.cw_id {
                Some(cw_id) => Ok(Some(get_company(scope.cw, cw_id).await?)),
                None => Ok(None),
            },
            Created::LinkedToOther { cw_id, holder } => {
                let why = code_shared_with(account, &holder.source_id, cw_id);
                records.push(record.failed(why).with_id(cw_id));
                Ok(None)
            }
            Created::Planned => {
                plan_children_of_new_company(scope, account, records);
                Ok(None)
            }
            Created::Refused => Ok(None),
        }
    }

    /// The account's billing parent chain above it (parent, grandparent, …), up to the first id
    /// seen twice or [`MAX_PARENT_DEPTH`] levels: what [`map::parent_cycle`] needs. Parents the
    /// batch doesn't hold are read from the billing system (once per batch), so a cycle is found
    /// whichever job syncs which member and whatever is linked already.
    async fn ancestors(
        &mut self,
        scope: Scope<'_>,
        account: &Account,
    ) -> Result<Vec<String>, SyncError> {
        self.parents
            .insert(account.id.clone(), account.parent_account_id.clone());
        let mut chain: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::from([account.id.clone()]);
        let mut next = parent_id(account.parent_account_id.as_deref());
        while let Some(id) = next {
            if chain.len() >= MAX_PARENT_DEPTH {
                break;
            }
            chain.push(id.clone());
            if !seen.insert(id.clone()) {
                break;
            }
            let parent = match self.parents.get(&id) {
                Some(parent) => parent.clone(),
                None => {
                    let parent = match scope.billing.get_account(&id).await {
                        Ok(found) => found.parent_account_id,
                        // A parent that no longer exists or can't be read ends the chain: it
                        // can't close a cycle through records the sync never writes.
                        Err(BillingError::NotFound { .. } | BillingError::Decode { .. }) => None,
                        Err(error) => {
                            return Err(SyncError::billing(
                                format!(
                                    "reading billing account {id}, a parent of account {}",
                                    account.id
                                ),
                                error,
                            ));
                        }
                    };
                    self.parents.insert(id.clone(), parent.clone());
                    parent
                }
            };
            next = parent_id(parent.as_deref());
        }
        Ok(chain)
    }

    async fn sync_sites(
        &mut self,
        scope: Scope<'_>,
        account: &Account,
        company_id: i64,
        records: &mut Vec<RecordResult>,
    ) -> Result<(), SyncError> {
        let kind = Sites {
            company_id,
            reference: scope.reference,
        };
        // Sites are read one company at a time (they are a child collection), so a company's
        // sites are not read at all when there is nothing to learn: every billing site linked,
        // unchanged since its last sync, its id written back, and no site field owned by
        // ConnectWise. (A site deleted in ConnectWise is then noticed when its billing site
        // changes.)
        if scope.settings.owned_by_connectwise.sites.is_empty() {
            let settled: Option<Vec<SettledSite>> = account
                .sites
                .iter()
                .map(|site| {
                    let link = self
                        .site_links
                        .get(&site.id)
                        .filter(|l| l.state == LinkState::Linked)?;
                    let desired = map::desired_site_noted(site, scope.reference).ok()?;
                    let cw_id = link.cw_id?;
                    (link.fingerprint.as_deref() == Some(map::fingerprint(&desired.value).as_str())
                        && site.connect_wise_site_id == Some(cw_id))
                    .then(|| {
                        (
                            site.id.clone(),
                            cw_id,
                            map::fingerprint(site),
                            desired.notes,
                        )
                    })
                })
                .collect();
            if let Some(settled) = settled {
                for (site_id, cw_id, source_fingerprint, notes) in settled {
                    let record =
                        Recorder::new(entity::SITE, &site_id, source_fingerprint).with_notes(notes);
                    records.push(
                        record
                            .with_detail(Outcome::Unchanged, String::new())
                            .with_id(cw_id),
                    );
                }
                return Ok(());
            }
        }
        let mut existing: Vec<CompanySite> = match self.new_primary_sites.remove(&company_id) {
            Some(primary) => vec![primary],
            None => scope
                .cw
                .list_all(&kind.collection(), &Query::new())
                .await
                .map_err(|e| {
                    SyncError::connectwise(format!("reading the sites of company {company_id}"), e)
                })?,
        };
        sync_children(
            scope,
            account,
            &kind,
            &account.sites,
            &self.site_links,
            &mut existing,
            records,
            &mut self.write_backs,
        )
        .await
    }

    async fn sync_contacts(
        &mut self,
        scope: Scope<'_>,
        account: &Account,
        company_id: i64,
        records: &mut Vec<RecordResult>,
    ) -> Result<(), SyncError> {
        let existing = self.contacts.entry(company_id).or_default();
        sync_children(
            scope,
            account,
            &Contacts {
                company_id,
                reference: scope.reference,
            },
            &account.contacts,
            &self.contact_links,
            existing,
            records,
            &mut self.write_backs,
        )
        .await
    }
}

/// Name of the primary site a company is created with. ConnectWise's create requires `site`
/// (although the schema marks only identifier and name) and makes the site it names, with the
/// company's address, the company's primary site.
const PRIMARY_SITE_NAME: &str = "Main";

/// The create body of `desired`: the company with its primary site named.
fn with_primary_site(desired: &Company) -> Company {
    Company {
        site: Some(Reference {
            name: Some(PRIMARY_SITE_NAME.to_owned()),
            ..Reference::default()
        }),
        ..desired.clone()
    }
}

/// The primary site of a company just created, from the create's answer alone: the site its
/// `site` names, holding the company's address (which is what ConnectWise gives it). `None` when
/// the answer names no site (then the sites are read).
fn primary_site_of(created: &Company, reference: &CustomerReference) -> Option<CompanySite> {
    let site = created.site.as_ref()?;
    site.id?;
    let country = created
        .country
        .as_ref()
        .and_then(|c| c.id)
        .and_then(|id| reference.country_by_id(id));
    let state = created
        .state
        .as_deref()
        .and_then(|text| reference.resolve_state(text, country))
        .and_then(|s| s.id)
        .map(Reference::id);
    Some(CompanySite {
        id: site.id,
        name: site.name.clone(),
        address_line1: created.address_line1.clone(),
        address_line2: created.address_line2.clone(),
        city: created.city.clone(),
        state_reference: state,
        zip: created.zip.clone(),
        country: created.country.clone(),
        phone_number: created.phone_number.clone(),
        fax_number: created.fax_number.clone(),
        primary_address_flag: Some(true),
        company: created.id.map(Reference::id),
        ..CompanySite::default()
    })
}

/// One kind of record that lives inside a company (its sites, its contacts): how its billing
/// records map, match, change and flow back. [`sync_children`] is the one sync of all kinds.
trait ChildKind {
    /// The billing record.
    type Billing: Serialize;
    /// The ConnectWise record.
    type Cw: Serialize + serde::de::DeserializeOwned + Clone + HasId;
    /// The entity name of runs, links and the ledger.
    const ENTITY: &'static str;
    /// How unlinked records are matched, for the report.
    const MATCHED_BY: &'static str;

    fn billing_id(billing: &Self::Billing) -> &str;
    /// The record `billing` should be; with `current`, merged into it (contacts keep their items).
    fn desired(
        &self,
        billing: &Self::Billing,
        current: Option<&Self::Cw>,
    ) -> Result<Self::Cw, Vec<RecordProblem>>;
    /// What was made of `billing`'s values on the way (see [`map::Noted`]).
    fn notes(&self, billing: &Self::Billing) -> Vec<String>;
    /// The existing record that is `desired`, among `candidates`.
    fn find(&self, desired: &Self::Cw, candidates: &[Self::Cw]) -> Option<i64>;
    fn plan(
        &self,
        current: &Self::Cw,
        desired: &Self::Cw,
        settings: &TenantSettings,
    ) -> Vec<PatchOp>;
    /// Where records are created (and listed to settle a create).
    fn collection(&self) -> String;
    /// The query that lists this company's records at [`ChildKind::collection`].
    fn of_company(&self) -> Query;
    fn record_path(&self, cw_id: i64) -> String;
    /// Queues what the billing system should learn about `billing` (its ConnectWise id, owned
    /// fields).
    fn write_back(
        &self,
        scope: Scope<'_>,
        account: &Account,
        billing: &Self::Billing,
        cw: &Self::Cw,
        cw_id: i64,
        write_backs: &mut Vec<PendingWriteBack>,
    );
}

/// A site with nothing to learn: its billing id, ConnectWise id, source fingerprint and notes.
type SettledSite = (String, i64, String, Vec<String>);

/// The sites of one company.
struct Sites<'a> {
    company_id: i64,
    reference: &'a CustomerReference,
}

impl ChildKind for Sites<'_> {
    type Billing = Site;
    type Cw = CompanySite;
    const ENTITY: &'static str = entity::SITE;
    const MATCHED_BY: &'static str = "name and address";

    fn billing_id(billing: &Site) -> &str {
        &billing.id
    }
    fn desired(
        &self,
        billing: &Site,
        _: Option<&CompanySite>,
    ) -> Result<CompanySite, Vec<RecordProblem>> {
        map::desired_site(billing, self.reference)
    }
    fn notes(&self, billing: &Site) -> Vec<String> {
        map::desired_site_noted(billing, self.reference).map_or_else(|_| Vec::new(), |n| n.notes)
    }
    fn find(&self, desired: &CompanySite, candidates: &[CompanySite]) -> Option<i64> {
        map::match_site(desired, candidates)
    }
    fn plan(
        &self,
        current: &CompanySite,
        desired: &CompanySite,
        settings: &TenantSettings,
    ) -> Vec<PatchOp> {
        map::plan_site_update(current, desired, settings)
    }
    fn collection(&self) -> String {
        CompanySite::path(self.company_id)
    }
    fn of_company(&self) -> Query {
        Query::new()
    }
    fn record_path(&self, cw_id: i64) -> String {
        format!("{}/{cw_id}", self.collection())
    }
    fn write_back(
        &self,
        scope: Scope<'_>,
        account: &Account,
        site: &Site,
        _: &CompanySite,
        cw_id: i64,
        write_backs: &mut Vec<PendingWriteBack>,
    ) {
        if site.connect_wise_site_id != Some(cw_id) {
            write_back_site(scope, account, site, cw_id, write_backs);
        }
    }
}

/// The contacts of one company.
struct Contacts<'a> {
    company_id: i64,
    reference: &'a CustomerReference,
}

impl ChildKind for Contacts<'_> {
    type Billing = BillingContact;
    type Cw = Contact;
    const ENTITY: &'static str = entity::CONTACT;
    const MATCHED_BY: &'static str = "e-mail or name";

    fn billing_id(billing: &BillingContact) -> &str {
        &billing.id
    }
    fn desired(
        &self,
        billing: &BillingContact,
        current: Option<&Contact>,
    ) -> Result<Contact, Vec<RecordProblem>> {
        map::desired_contact(
            billing,
            self.company_id,
            current,
            &self.reference.communication_types,
        )
    }
    fn notes(&self, billing: &BillingContact) -> Vec<String> {
        map::desired_contact_noted(
            billing,
            self.company_id,
            None,
            &self.reference.communication_types,
        )
        .map_or_else(|_| Vec::new(), |n| n.notes)
    }
    fn find(&self, desired: &Contact, candidates: &[Contact]) -> Option<i64> {
        map::match_contact(desired, candidates)
    }
    fn plan(
        &self,
        current: &Contact,
        desired: &Contact,
        settings: &TenantSettings,
    ) -> Vec<PatchOp> {
        map::plan_contact_update(current, desired, settings)
    }
    fn collection(&self) -> String {
        Contact::PATH.to_owned()
    }
    fn of_company(&self) -> Query {
        Query::new().filter(Condition::field("company/id").eq(self.company_id))
    }
    fn record_path(&self, cw_id: i64) -> String {
        format!("{}/{cw_id}", Contact::PATH)
    }
    fn write_back(
        &self,
        scope: Scope<'_>,
        account: &Account,
        contact: &BillingContact,
        cw: &Contact,
        cw_id: i64,
        write_backs: &mut Vec<PendingWriteBack>,
    ) {
        write_back_contact(scope, account, contact, cw, cw_id, write_backs);
    }
}

/// Syncs `items` (all of one kind, of one account) into the company's `existing` records:
/// linked ones are updated, unlinked ones matched and linked, the rest claimed and created.
#[allow(clippy::too_many_arguments, reason = "one sync of every child kind")]
async fn sync_children<K: ChildKind>(
    scope: Scope<'_>,
    account: &Account,
    kind: &K,
    items: &[K::Billing],
    links: &HashMap<String, Link>,
    existing: &mut Vec<K::Cw>,
    records: &mut Vec<RecordResult>,
    write_backs: &mut Vec<PendingWriteBack>,
) -> Result<(), SyncError> {
    let linked_id = |id: &str| {
        links
            .get(id)
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id)
    };
    // Records already linked to one of this account's billing records are never matched again.
    let mut taken: HashSet<i64> = items
        .iter()
        .filter_map(|item| links.get(K::billing_id(item)))
        .filter_map(|l| l.cw_id)
        .collect();
    let verb = would(scope.dry_run, "linked", "would link");
    for item in items {
        let id = K::billing_id(item);
        let record =
            Recorder::new(K::ENTITY, id, map::fingerprint(item)).with_notes(kind.notes(item));
        let source = SourceRef::new(K::ENTITY, id);
        let probe = match kind.desired(item, None) {
            Ok(probe) => probe,
            Err(problems) => {
                records.push(record.problems(&problems));
                continue;
            }
        };
        let found = match linked_id(id) {
            Some(cw_id) => match existing.iter().find(|r| r.id() == Some(cw_id)) {
                Some(current) => Some((cw_id, current.clone(), false)),
                None => {
                    records.push(
                        record
                            .failed(format!(
                                "the linked ConnectWise {} {cw_id} no longer belongs to this account's company; unlink the account to match it again",
                                K::ENTITY
                            ))
                            .with_id(cw_id),
                    );
                    continue;
                }
            },
            None => {
                let free: Vec<K::Cw> = existing
                    .iter()
                    .filter(|r| r.id().is_some_and(|id| !taken.contains(&id)))
                    .cloned()
                    .collect();
                kind.find(&probe, &free)
                    .and_then(|cw_id| free.into_iter().find(|r| r.id() == Some(cw_id)))
                    .and_then(|r| Some((r.id()?, r, true)))
            }
        };
        let Some((cw_id, current, matched)) = found else {
            let fingerprint = map::fingerprint(&probe);
            let what = format!("{} {id}", K::ENTITY);
            let collection = kind.collection();
            let of_company = kind.of_company();
            let pick = |found: &[K::Cw]| kind.find(&probe, found);
            let creation = Creation {
                tenant: scope.tenant,
                links: scope.links,
                source,
                cw_kind: K::ENTITY,
                what: &what,
                natural_key: K::MATCHED_BY,
                fingerprint: &fingerprint,
                now: scope.now,
                dry_run: scope.dry_run,
                defer_taken: false,
            };
            let created = create_claimed(
                &creation,
                &record,
                records,
                HasId::id,
                || find_child(scope, &collection, &of_company, source, &pick),
                || scope.cw.create::<_, K::Cw>(&collection, &probe),
            )
            .await?;
            match created {
                Created::Linked {
                    record: created, ..
                } => {
                    if let Some(cw_id) = created.id() {
                        taken.insert(cw_id);
                        kind.write_back(scope, account, item, &created, cw_id, write_backs);
                    }
                    existing.push(created);
                }
                Created::LinkedToOther { cw_id, holder } => {
                    let why = cwsync_sync::claim::linked_to_other(K::ENTITY, cw_id, &holder);
                    records.push(record.failed(why).with_id(cw_id));
                }
                Created::AlreadyLinked(_) | Created::Planned | Created::Refused => {}
            }
            continue;
        };
        let desired = match kind.desired(item, Some(&current)) {
            Ok(desired) => desired,
            Err(problems) => {
                records.push(record.problems(&problems));
                continue;
            }
        };
        let fingerprint = map::fingerprint(&desired);
        if matched && !scope.dry_run {
            match scope
                .links
                .link_existing(
                    scope.tenant,
                    source,
                    K::ENTITY,
                    cw_id,
                    &fingerprint,
                    scope.now,
                )
                .await
            {
                Ok(_) => {}
                Err(StoreError::Conflict { reason, .. }) => {
                    records.push(
                        record
                            .failed(format!(
                                "matched ConnectWise {} {cw_id}, but it can't be linked: {reason}",
                                K::ENTITY
                            ))
                            .with_id(cw_id),
                    );
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
        }
        taken.insert(cw_id);
        let ops = kind.plan(&current, &desired, scope.settings);
        let path = kind.record_path(cw_id);
        let changed = match writes::patch::<K::Cw>(scope.cw, &path, &ops, scope.dry_run).await {
            Ok((changed, updated)) => {
                // The record as ConnectWise now has it (its new `lastUpdated` for the stamp).
                if let Some(updated) = updated
                    && let Some(slot) = existing.iter_mut().find(|r| r.id() == Some(cw_id))
                {
                    *slot = updated;
                }
                changed
            }
            Err(reason) => {
                records.push(record.failed(reason?).with_id(cw_id));
                continue;
            }
        };
        let stored = links.get(id).and_then(|l| l.fingerprint.as_deref());
        if !matched && !scope.dry_run && stored != Some(fingerprint.as_str()) {
            scope
                .links
                .record_sync(scope.tenant, source, &fingerprint, scope.now)
                .await?;
        }
        let result = if matched {
            let how = format!("{verb} existing {} {cw_id} by {}", K::ENTITY, K::MATCHED_BY);
            record.with_detail(Outcome::Linked, join_details(how, &changed, scope.dry_run))
        } else {
            record.changed(Outcome::Updated, changed, scope.dry_run)
        };
        records.push(result.with_id(cw_id));
        kind.write_back(scope, account, item, &current, cw_id, write_backs);
    }
    Ok(())
}

/// In a dry run, the sites and contacts a new company would be created with: each checked the way
/// a real run would check it, so the dry run reports their problems too.
fn plan_children_of_new_company(
    scope: Scope<'_>,
    account: &Account,
    records: &mut Vec<RecordResult>,
) {
    for site in &account.sites {
        let record = Recorder::new(entity::SITE, &site.id, map::fingerprint(site));
        records.push(match map::desired_site_noted(site, scope.reference) {
            Ok(noted) => record.with_notes(noted.notes).with_detail(
                Outcome::Created,
                "would create the site with its company".to_owned(),
            ),
            Err(problems) => record.problems(&problems),
        });
    }
    for contact in &account.contacts {
        let record = Recorder::new(entity::CONTACT, &contact.id, map::fingerprint(contact));
        // The company id only fills the reference; 0 stands for the company not created yet.
        records.push(
            match map::desired_contact_noted(contact, 0, None, &scope.reference.communication_types)
            {
                Ok(noted) => record.with_notes(noted.notes).with_detail(
                    Outcome::Created,
                    "would create the contact with its company".to_owned(),
                ),
                Err(problems) => record.problems(&problems),
            },
        );
    }
}

/// Brings `current` to `desired`: one PATCH of the changed fields, a type association when the
/// type is new. Returns the company as it now is (`None` when ConnectWise refused the change,
/// recorded as the record's failure) and the changed fields.
async fn update_company(
    scope: Scope<'_>,
    current: &Company,
    desired: &Company,
    record: &Recorder,
    records: &mut Vec<RecordResult>,
) -> Result<(Option<Company>, Vec<String>), SyncError> {
    let plan = map::plan_company_update(current, desired, scope.settings);
    let Some(cw_id) = current.id else {
        return Ok((None, Vec::new()));
    };
    let mut changed = fields_of(&plan.patch);
    if plan.add_type.is_some() {
        changed.push("types".to_owned());
    }
    if plan.is_empty() || scope.dry_run {
        return Ok((Some(current.clone()), changed));
    }
    let mut company = current.clone();
    if !plan.patch.is_empty() {
        match scope
            .cw
            .patch::<Company>(&format!("{}/{cw_id}", Company::PATH), &plan.patch)
            .await
        {
            Ok(updated) => company = updated,
            Err(error) => {
                let reason = record_level(error)
                    .map_err(|e| SyncError::connectwise(format!("updating company {cw_id}"), e))?;
                records.push(record.failed(reason).with_id(cw_id));
                return Ok((None, changed));
            }
        }
    }
    if let Some(type_id) = plan.add_type {
        let association = CompanyTypeAssociation {
            kind: Some(Reference::id(type_id)),
            company: Some(Reference::id(cw_id)),
            ..CompanyTypeAssociation::default()
        };
        let path = CompanyTypeAssociation::path_for_company(cw_id);
        if let Err(error) = scope
            .cw
            .create::<_, CompanyTypeAssociation>(&path, &association)
            .await
        {
            // An association whose create was ambiguous is settled by the next run's diff.
            let reason = record_level(error).map_err(|e| {
                SyncError::connectwise(format!("adding a type to company {cw_id}"), e)
            })?;
            records.push(record.failed(reason).with_id(cw_id));
            return Ok((None, changed));
        }
        let mut types = company.types.take().unwrap_or_default();
        types.push(Reference::id(type_id));
        company.types = Some(types);
    }
    Ok((Some(company), changed))
}

/// The child record `find` picks from a fresh read of `path`: how a create is settled.
async fn find_child<T, F>(
    scope: Scope<'_>,
    path: &str,
    query: &Query,
    source: SourceRef<'_>,
    find: &F,
) -> Result<Option<T>, SyncError>
where
    T: serde::de::DeserializeOwned + HasId,
    F: Fn(&[T]) -> Option<i64>,
{
    let found: Vec<T> = scope
        .cw
        .list_all(path, query)
        .await
        .map_err(|e| SyncError::connectwise(format!("looking up {source}"), e))?;
    Ok(find(&found).and_then(|id| found.into_iter().find(|r| r.id() == Some(id))))
}

/// Records with an id.
pub trait HasId {
    /// The ConnectWise id.
    fn id(&self) -> Option<i64>;
}

impl HasId for CompanySite {
    fn id(&self) -> Option<i64> {
        self.id
    }
}

impl HasId for Contact {
    fn id(&self) -> Option<i64> {
        self.id
    }
}

/// One record's write-back, waiting to be sent with the others of the sync.
#[derive(Debug, Clone)]
pub(crate) struct PendingWriteBack {
    /// The account whose result reports it.
    account_id: String,
    item: WriteBack,
    record: Recorder,
    /// What the report says when it was applied (`None`: only a link id, not reported).
    applied: Option<String>,
}

/// Queues what the billing account should learn: ConnectWise-owned fields and the link.
fn write_back_account(
    scope: Scope<'_>,
    account: &Account,
    update: AccountUpdate,
    write_backs: &mut Vec<PendingWriteBack>,
) {
    if update.is_empty() || scope.dry_run {
        return;
    }
    let pulled = pulled_fields(&update);
    write_backs.push(PendingWriteBack {
        account_id: account.id.clone(),
        record: Recorder::new(BILLING_ACCOUNT, &account.id, map::fingerprint(account)),
        applied: (!pulled.is_empty())
            .then(|| format!("wrote back from ConnectWise: {}", pulled.join(", "))),
        item: WriteBack::Account {
            id: account.id.clone(),
            patch: update,
        },
    });
}

fn write_back_site(
    scope: Scope<'_>,
    account: &Account,
    site: &Site,
    cw_id: i64,
    write_backs: &mut Vec<PendingWriteBack>,
) {
    if scope.dry_run {
        return;
    }
    write_backs.push(PendingWriteBack {
        account_id: account.id.clone(),
        record: Recorder::new(BILLING_ACCOUNT, &account.id, map::fingerprint(site)),
        applied: None,
        item: WriteBack::Site {
            account_id: account.id.clone(),
            id: site.id.clone(),
            patch: cwsync_billing::models::SiteUpdate {
                connect_wise_site_id: Some(cw_id),
                ..Default::default()
            },
        },
    });
}

fn write_back_contact(
    scope: Scope<'_>,
    account: &Account,
    contact: &BillingContact,
    cw_contact: &Contact,
    cw_id: i64,
    write_backs: &mut Vec<PendingWriteBack>,
) {
    if scope.dry_run {
        return;
    }
    let mut update = map::plan_contact_pull(contact, cw_contact, scope.settings);
    let pulled = !update.is_empty();
    if contact.connect_wise_contact_id != Some(cw_id) {
        update.connect_wise_contact_id = Some(cw_id);
    }
    if update.is_empty() {
        return;
    }
    write_backs.push(PendingWriteBack {
        account_id: account.id.clone(),
        record: Recorder::new(BILLING_ACCOUNT, &account.id, map::fingerprint(contact)),
        applied: pulled.then(|| format!("wrote back contact {} from ConnectWise", contact.id)),
        item: WriteBack::Contact {
            account_id: account.id.clone(),
            id: contact.id.clone(),
            patch: update,
        },
    });
}

/// Sends the queued write-backs in as few calls as the billing system allows and reports each
/// record's outcome in its account's result. A refused record is that record's failure; what
/// would fail any call (throttling, an outage, a refused key) stops the job so it is retried —
/// the write-backs are recomputed then, and sending one twice is harmless (merge patches).
async fn send_write_backs(
    scope: Scope<'_>,
    write_backs: Vec<PendingWriteBack>,
    results: &mut [UnitResult],
) -> Result<(), SyncError> {
    if write_backs.is_empty() {
        return Ok(());
    }
    let items: Vec<WriteBack> = write_backs.iter().map(|w| w.item.clone()).collect();
    let outcomes: Vec<Result<Result<(), BillingError>, String>> =
        match scope.billing.write_back(&items).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(error) if billing_job_level(&error) => {
                return Err(SyncError::billing(
                    "writing back to the billing system",
                    error,
                ));
            }
            // A refusal of the whole call no record explains (403, an answer that is not the
            // contract's) is each record's failure, as it was of each single PATCH.
            Err(error) => {
                let reason = error.to_string();
                write_backs.iter().map(|_| Err(reason.clone())).collect()
            }
        };
    for (pending, outcome) in write_backs.into_iter().zip(outcomes) {
        let Some(result) = results.iter_mut().find(|r| r.unit_id == pending.account_id) else {
            continue;
        };
        let line = match outcome {
            Ok(Ok(())) => match pending.applied {
                Some(detail) => pending.record.with_detail(Outcome::Updated, detail),
                None => continue,
            },
            Ok(Err(error)) if billing_job_level(&error) => {
                return Err(SyncError::billing(
                    "writing back to the billing system",
                    error,
                ));
            }
            Ok(Err(error)) => pending
                .record
                .failed(format!("writing back to the billing system: {error}")),
            Err(reason) => pending
                .record
                .failed(format!("writing back to the billing system: {reason}")),
        };
        result.records.push(line);
    }
    Ok(())
}

/// The field names an AccountUpdate changes, besides the link id.
fn pulled_fields(update: &AccountUpdate) -> Vec<String> {
    let mut value = serde_json::to_value(update).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("connectWiseCompanyId");
        return object.keys().cloned().collect();
    }
    Vec::new()
}

/// Looks a company up by its identifier (the natural key), for settling creates.
async fn find_company_by_identifier(
    cw: &Client,
    identifier: &str,
) -> Result<Option<Company>, SyncError> {
    let found: Vec<Company> = cw
        .list_by_ids(
            Company::PATH,
            "identifier",
            [identifier.to_owned()],
            &Query::new(),
        )
        .await
        .map_err(|e| SyncError::connectwise(format!("looking up company {identifier:?}"), e))?;
    Ok(match map::match_company(identifier, &found) {
        CompanyMatch::Unique(id) => found.into_iter().find(|c| c.id == Some(id)),
        _ => None,
    })
}

/// Deepest parent chain walked when looking for a cycle: far beyond any real hierarchy, and a
/// bound on the billing reads one account can cause.
pub const MAX_PARENT_DEPTH: usize = 32;

/// A parent id that names an account (blank is none).
fn parent_id(id: Option<&str>) -> Option<String> {
    id.map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// What the report says of an account whose matched or found company is another account's:
/// [`LINK_BY_HAND`] names the fix, and `console` offers this account suggestions for it.
pub const LINK_BY_HAND: &str = "link this account by hand or change its code";

/// Why `account` can't have company `cw_id` when another billing account is linked to it
/// (two accounts with the same code, in any case): `None` when no other account holds it.
async fn linked_to_other(
    scope: Scope<'_>,
    account: &Account,
    cw_id: i64,
) -> Result<Option<String>, SyncError> {
    let holder = scope
        .links
        .get_by_cw(scope.tenant, entity::COMPANY, cw_id)
        .await?;
    Ok(holder
        .filter(|link| link.kind == entity::COMPANY && link.source_id != account.id)
        .map(|link| code_shared_with(account, &link.source_id, cw_id)))
}

/// The reason of an account whose company `cw_id` is linked to account `holder`.
fn code_shared_with(account: &Account, holder: &str, cw_id: i64) -> String {
    format!(
        "code {} is also account {holder}'s, linked to company {cw_id}: {LINK_BY_HAND}",
        account.code.trim()
    )
}

async fn get_company(cw: &Client, id: i64) -> Result<Company, SyncError> {
    cw.get(&format!("{}/{id}", Company::PATH))
        .await
        .map_err(|e| SyncError::connectwise(format!("reading company {id}"), e))
}
