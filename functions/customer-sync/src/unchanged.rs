//! The tenant-wide planner's unchanged check: an account whose billing values and whose
//! ConnectWise company and contacts are as they were when a sync last wrote or verified them is
//! not sent as a job; the run records it (its company, sites and contacts) as `unchanged`.
//!
//! **What a sync records.** When every record of an account synced (no failure, not a dry run),
//! the engine records on the account's company link a *sync stamp* ([`sync_stamp`]), a hash of:
//! - the billing side: the account as the billing system sent it, with its sites and contacts,
//!   without what the sync writes back and the billing system stamps (the ConnectWise ids and
//!   `updatedAt`: those are compared with the links directly), plus the tenant's settings and the
//!   companies of the linked parent and bill-to accounts (they change what the company should be);
//! - the ConnectWise side: the company's `id`, `_info.lastUpdated` and `_info.updatedBy`, and, when
//!   the account has billing contacts, the same of every contact of the company, so a contact
//!   changed, added or deleted in ConnectWise (or moved to another company) changes the stamp.
//!
//! **What the planner reads** for a full run: the company, site and contact links of the accounts
//! (batched reads), the error ledger, and two listings in pages of 1,000 with `fields=`: the
//! companies' `id` and `_info` stamps, and the contacts' `id`, `company/id` and `_info` stamps. It
//! computes the same stamp with the same function and sends a job only when it differs.
//!
//! **Any doubt syncs.** An account is sent as a job when: any of its records is on the error
//! ledger; its company link is missing, pending or has no stamp (links written before stamps
//! existed, or whose last sync had a failure); the billing record's ConnectWise ids differ from
//! the links (a write-back that did not happen); a site or contact has no linked link; the
//! company is not in the listing (deleted, or a permission changed); or the stamps differ.
//!
//! **Sites** are a child collection of each company: ConnectWise has no listing of every site,
//! so their `lastUpdated` can't be read in a page of 1,000. A site changed only in ConnectWise
//! doesn't matter for the fields cwsync writes (a sync leaves an unchanged billing site's
//! ConnectWise site alone, see the engine) nor for never-overwrite fields; it matters only for
//! fields that flow back. So when the tenant's settings list site fields as owned by
//! ConnectWise, every account with sites is sent (the engine reads its sites then anyway).
//!
//! **Known limit.** ConnectWise's `lastUpdated` has whole seconds: a change made in ConnectWise by
//! the same API member within the same second as the sync's own write to that record leaves
//! both stamps equal and is applied with the account's next change. (A change by anyone else
//! changes `updatedBy`.) A change of ConnectWise reference data alone (a state or type renamed)
//! is not in the stamp either: accounts it made fail are on the ledger and retried every run.

use std::collections::{HashMap, HashSet};

use cwsync_billing::models::Account;
use cwsync_connectwise::models::{Company, Contact, Info, Resource};
use cwsync_connectwise::{Client, Query};
use cwsync_mapping::customers::{
    CompanyMatch, RelatedCompanies, entity, fingerprint, match_company,
};
use cwsync_mapping::settings::{ConnectWiseUsage, TenantSettings, TicketImport};
use cwsync_store::TenantId;
use cwsync_store::ledger::LedgerEntry;
use cwsync_store::links::{Link, LinkState, LinkStore};
use cwsync_store::runs::Outcome;
use serde_json::{Value, json};

use crate::SyncError;
use cwsync_sync::{Recorder, UnitResult};

/// The detail of the records of an account the planner found unchanged.
pub const UNCHANGED_DETAIL: &str = "unchanged on both sides since its last sync: not synced again";

/// The stamp a sync records on an account's company link: what the billing account (with the
/// settings and related companies that shape its company) and the ConnectWise company and, when
/// the account has billing contacts, its contacts look like. The engine computes it from the
/// records it synced, the planner from its listings; both with this one function.
pub fn sync_stamp(
    account: &Account,
    settings: &TenantSettings,
    related: RelatedCompanies,
    company: &Company,
    contacts: Option<&[Contact]>,
) -> String {
    let contacts = contacts.map(|contacts| {
        let mut stamps: Vec<Value> = contacts
            .iter()
            .filter_map(|c| Some(record_stamp(c.id?, c.info.as_ref())))
            .collect();
        stamps.sort_by_key(|s| s[0].as_i64());
        stamps
    });
    // How fast cwsync may call ConnectWise, and which tickets come back (a ticket excluded, a
    // member mapped), shape no company: changing them re-syncs nothing.
    let shaping = TenantSettings {
        connect_wise: ConnectWiseUsage::default(),
        ticket_import: TicketImport::default(),
        ..settings.clone()
    };
    fingerprint(&json!({
        "billing": billing_side(account),
        "settings": shaping,
        "parent": related.parent,
        "billTo": related.bill_to,
        "company": company.id.map(|id| record_stamp(id, company.info.as_ref())),
        "contacts": contacts,
    }))
}

/// A ConnectWise record's id and `_info` stamps, as `[id, lastUpdated, updatedBy]`.
fn record_stamp(id: i64, info: Option<&Info>) -> Value {
    let last_updated = info
        .and_then(|i| i.last_updated)
        .map(|at| at.unix_timestamp_nanos().to_string());
    json!([id, last_updated, info.and_then(|i| i.updated_by.as_deref())])
}

/// The billing account without what the sync writes back or the billing system stamps on every
/// write (compared with the links instead).
fn billing_side(account: &Account) -> Value {
    let mut value = serde_json::to_value(account).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("updatedAt");
        object.remove("connectWiseCompanyId");
        for (list, id) in [
            ("sites", "connectWiseSiteId"),
            ("contacts", "connectWiseContactId"),
        ] {
            if let Some(Value::Array(items)) = object.get_mut(list) {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.remove(id);
                }
            }
        }
    }
    value
}

/// What the planner needs besides the accounts.
#[derive(Debug)]
pub struct PlanInputs<'a> {
    /// The tenant.
    pub tenant: &'a TenantId,
    /// Its settings.
    pub settings: &'a TenantSettings,
    /// Its ConnectWise.
    pub cw: &'a Client,
    /// The links.
    pub links: &'a dyn LinkStore,
    /// Every live entry of its error ledger.
    pub ledger: &'a [LedgerEntry],
    /// The tenant's companies as [`list_companies`] read them, when the planner read them
    /// already (it then reads them not again).
    pub companies: Option<&'a [Company]>,
}

/// The accounts among `accounts` (all meant to be synced) that are unchanged on both sides, with
/// the records the run reports for them, keyed by account id. Reads nothing from ConnectWise when
/// no account can be unchanged (no stamped link).
pub async fn find_unchanged(
    inputs: PlanInputs<'_>,
    accounts: &[&Account],
) -> Result<HashMap<String, UnitResult>, SyncError> {
    let PlanInputs {
        tenant,
        settings,
        cw,
        links,
        ledger,
        companies: listed,
    } = inputs;
    let failing: HashSet<(&str, &str)> = ledger
        .iter()
        .map(|e| (e.kind.as_str(), e.record_id.as_str()))
        .collect();
    let sites_owned_by_connectwise = !settings.owned_by_connectwise.sites.is_empty();
    let mut candidates: Vec<&Account> = accounts
        .iter()
        .copied()
        .filter(|a| !on_ledger(a, &failing))
        // Sites whose fields flow back are learned only by reading them: such accounts sync.
        .filter(|a| a.sites.is_empty() || !sites_owned_by_connectwise)
        .collect();
    let mut ids: Vec<String> = candidates.iter().map(|a| a.id.clone()).collect();
    ids.extend(
        candidates
            .iter()
            .flat_map(|a| [&a.parent_account_id, &a.bill_to_account_id])
            .flatten()
            .cloned(),
    );
    let company_links = links.get_many(tenant, entity::COMPANY, &ids).await?;
    candidates.retain(|a| {
        company_links.get(&a.id).is_some_and(|link| {
            linked_to(link, a.connect_wise_company_id) && link.sync_stamp.is_some()
        })
    });
    if candidates.is_empty() {
        return Ok(HashMap::new());
    }
    let site_ids: Vec<String> = candidates
        .iter()
        .flat_map(|a| a.sites.iter().map(|s| s.id.clone()))
        .collect();
    let contact_ids: Vec<String> = candidates
        .iter()
        .flat_map(|a| a.contacts.iter().map(|c| c.id.clone()))
        .collect();
    let site_links = links.get_many(tenant, entity::SITE, &site_ids).await?;
    let contact_links = links
        .get_many(tenant, entity::CONTACT, &contact_ids)
        .await?;
    candidates.retain(|a| {
        a.sites.iter().all(|s| {
            site_links
                .get(&s.id)
                .is_some_and(|l| linked_to(l, s.connect_wise_site_id))
        }) && a.contacts.iter().all(|c| {
            contact_links
                .get(&c.id)
                .is_some_and(|l| linked_to(l, c.connect_wise_contact_id))
        })
    });
    if candidates.is_empty() {
        return Ok(HashMap::new());
    }

    let with_contacts = candidates.iter().any(|a| !a.contacts.is_empty());
    let (companies, contacts) = match listed {
        Some(_) => (Vec::new(), read_contact_stamps(cw, with_contacts).await?),
        None => tokio::try_join!(list_companies(cw), read_contact_stamps(cw, with_contacts))?,
    };
    let companies: HashMap<i64, &Company> = listed
        .unwrap_or(&companies)
        .iter()
        .filter_map(|c| Some((c.id?, c)))
        .collect();
    let mut contacts_of: HashMap<i64, Vec<Contact>> = HashMap::new();
    for contact in contacts {
        if let Some(company_id) = contact.company.as_ref().and_then(|c| c.id) {
            contacts_of.entry(company_id).or_default().push(contact);
        }
    }
    let linked_company = |account_id: &Option<String>| {
        account_id
            .as_deref()
            .and_then(|id| company_links.get(id))
            .filter(|l| l.state == LinkState::Linked)
            .and_then(|l| l.cw_id)
    };
    let mut unchanged = HashMap::new();
    for account in candidates {
        let Some(link) = company_links.get(&account.id) else {
            continue;
        };
        let Some(company) = link.cw_id.and_then(|id| companies.get(&id)) else {
            continue;
        };
        let contacts = (!account.contacts.is_empty()).then(|| {
            company
                .id
                .and_then(|id| contacts_of.get(&id))
                .map_or(&[][..], Vec::as_slice)
        });
        let related = RelatedCompanies {
            parent: linked_company(&account.parent_account_id),
            bill_to: linked_company(&account.bill_to_account_id),
        };
        let stamp = sync_stamp(account, settings, related, company, contacts);
        if link.sync_stamp.as_deref() == Some(stamp.as_str()) {
            unchanged.insert(
                account.id.clone(),
                unchanged_result(account, link, &site_links, &contact_links),
            );
        }
    }
    Ok(unchanged)
}

/// Every company of the tenant, 1,000 a page, with only what the planner needs: the `id` and
/// `_info` stamps the unchanged check compares, and the `identifier`, `accountNumber` and
/// `deletedFlag` that matching compares (so the planner can tell a job that no company exists for
/// its account: see [`no_candidate`]). One listing serves both.
pub async fn list_companies(cw: &Client) -> Result<Vec<Company>, SyncError> {
    let query = Query::new()
        .fields([
            "id",
            "identifier",
            "accountNumber",
            "deletedFlag",
            "_info/lastUpdated",
            "_info/updatedBy",
        ])
        .page_size(1000);
    cw.list_all::<Company>(Company::PATH, &query)
        .await
        .map_err(|e| SyncError::connectwise("listing the ConnectWise companies", e))
}

/// Whether no company of `companies` (a [`list_companies`] listing) is a candidate for
/// `account`, compared as the engine's matching compares (identifier or account number, trimmed,
/// any case; deleted companies ignored).
pub fn no_candidate(account: &Account, companies: &[Company]) -> bool {
    match_company(&account.code, companies) == CompanyMatch::NoMatch
}

/// Every contact's id, company and `_info` stamps (when `with_contacts`): one paged read, 1,000 a
/// page.
async fn read_contact_stamps(cw: &Client, with_contacts: bool) -> Result<Vec<Contact>, SyncError> {
    if !with_contacts {
        return Ok(Vec::new());
    }
    let contacts = Query::new()
        .fields(["id", "company/id", "_info/lastUpdated", "_info/updatedBy"])
        .page_size(1000);
    cw.list_all::<Contact>(Contact::PATH, &contacts)
        .await
        .map_err(|e| SyncError::connectwise("listing the ConnectWise contacts' stamps", e))
}

/// Whether any record of `account` is on the error ledger (its company or write-back, a site, a
/// contact).
fn on_ledger(account: &Account, failing: &HashSet<(&str, &str)>) -> bool {
    [entity::COMPANY, crate::engine::BILLING_ACCOUNT]
        .iter()
        .any(|kind| failing.contains(&(*kind, account.id.as_str())))
        || account
            .sites
            .iter()
            .any(|s| failing.contains(&(entity::SITE, s.id.as_str())))
        || account
            .contacts
            .iter()
            .any(|c| failing.contains(&(entity::CONTACT, c.id.as_str())))
}

/// A linked link whose ConnectWise id is the one the billing record holds.
fn linked_to(link: &Link, written_back: Option<i64>) -> bool {
    link.state == LinkState::Linked && link.cw_id.is_some() && link.cw_id == written_back
}

/// The run's records of an unchanged account: its company, sites and contacts, `unchanged`.
fn unchanged_result(
    account: &Account,
    link: &Link,
    site_links: &HashMap<String, Link>,
    contact_links: &HashMap<String, Link>,
) -> UnitResult {
    let record = |entity: &'static str, id: &str, cw_id: Option<i64>, source_fingerprint| {
        let mut line = Recorder::new(entity, id, source_fingerprint)
            .with_detail(Outcome::Unchanged, UNCHANGED_DETAIL.to_owned());
        line.connect_wise_id = cw_id;
        line
    };
    let mut records = vec![record(
        entity::COMPANY,
        &account.id,
        link.cw_id,
        fingerprint(account),
    )];
    records.extend(account.sites.iter().map(|s| {
        let cw_id = site_links.get(&s.id).and_then(|l| l.cw_id);
        record(entity::SITE, &s.id, cw_id, fingerprint(s))
    }));
    records.extend(account.contacts.iter().map(|c| {
        let cw_id = contact_links.get(&c.id).and_then(|l| l.cw_id);
        record(entity::CONTACT, &c.id, cw_id, fingerprint(c))
    }));
    UnitResult {
        unit_id: account.id.clone(),
        records,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use cwsync_billing::models::{Contact as BillingContact, Site};
    use time::macros::datetime;

    fn account() -> Account {
        serde_json::from_value(json!({
            "id": "A-1", "code": "ACME", "name": "Acme", "updatedAt": "2026-11-20T08:00:00Z",
            "connectWiseCompanyId": 7,
            "sites": [{"id": "S-1", "name": "Main", "address": {}, "connectWiseSiteId": 8}],
            "contacts": [{"id": "C-1", "firstName": "Ann", "connectWiseContactId": 9}],
        }))
        .unwrap()
    }

    fn company(last_updated: time::OffsetDateTime) -> Company {
        Company {
            id: Some(7),
            info: Some(Info {
                last_updated: Some(last_updated),
                updated_by: Some("cwsync".to_owned()),
                ..Info::default()
            }),
            ..Company::default()
        }
    }

    fn contact(id: i64, by: &str) -> Contact {
        Contact {
            id: Some(id),
            info: Some(Info {
                last_updated: Some(datetime!(2026-11-20 08:00 UTC)),
                updated_by: Some(by.to_owned()),
                ..Info::default()
            }),
            ..Contact::default()
        }
    }

    fn stamp(account: &Account, company: &Company, contacts: &[Contact]) -> String {
        sync_stamp(
            account,
            &TenantSettings::default(),
            RelatedCompanies::default(),
            company,
            Some(contacts),
        )
    }

    #[test]
    fn what_the_sync_writes_back_or_the_billing_system_stamps_leaves_the_stamp_alone() {
        let at = datetime!(2026-11-20 08:00 UTC);
        let before = account();
        let mut after = account();
        after.updated_at = datetime!(2026-11-21 09:00 UTC);
        after.connect_wise_company_id = None;
        after.sites[0].connect_wise_site_id = None;
        after.contacts[0].connect_wise_contact_id = Some(99);
        let contacts = [contact(9, "cwsync")];
        assert_eq!(
            stamp(&before, &company(at), &contacts),
            stamp(&after, &company(at), &contacts)
        );
    }

    #[test]
    fn the_connectwise_request_rate_is_no_part_of_the_stamp() {
        let at = datetime!(2026-11-20 08:00 UTC);
        let contacts = [contact(9, "cwsync")];
        let mut faster = TenantSettings::default();
        faster.connect_wise.requests_per_second = 40;
        // A ticket excluded from the ticket import shapes no company either.
        faster.ticket_import.excluded.push(48213);
        let mut other_status = TenantSettings::default();
        other_status.statuses.default_active = "Trial".to_owned();
        let with = |settings: &TenantSettings| {
            sync_stamp(
                &account(),
                settings,
                RelatedCompanies::default(),
                &company(at),
                Some(&contacts),
            )
        };
        assert_eq!(with(&faster), stamp(&account(), &company(at), &contacts));
        assert_ne!(with(&other_status), with(&TenantSettings::default()));
    }

    #[test]
    fn any_change_on_either_side_changes_the_stamp() {
        let at = datetime!(2026-11-20 08:00 UTC);
        let contacts = vec![contact(9, "cwsync"), contact(10, "cwsync")];
        let base = stamp(&account(), &company(at), &contacts);
        let mut billing_changes: Vec<Account> = Vec::new();
        let mut a = account();
        a.phone = Some("1".to_owned());
        billing_changes.push(a);
        let mut a = account();
        a.sites[0] = Site {
            name: "Other".to_owned(),
            ..a.sites[0].clone()
        };
        billing_changes.push(a);
        let mut a = account();
        a.contacts[0] = BillingContact {
            email: Some("a@b.example".to_owned()),
            ..a.contacts[0].clone()
        };
        billing_changes.push(a);
        for changed in billing_changes {
            assert_ne!(base, stamp(&changed, &company(at), &contacts));
        }
        let later = company(at + time::Duration::seconds(1));
        assert_ne!(
            base,
            stamp(&account(), &later, &contacts),
            "company changed"
        );
        let by_someone_else = vec![contact(9, "jdoe"), contact(10, "cwsync")];
        assert_ne!(base, stamp(&account(), &company(at), &by_someone_else));
        assert_ne!(
            base,
            stamp(&account(), &company(at), &contacts[..1]),
            "a contact deleted in ConnectWise"
        );
        let mut added = contacts.clone();
        added.push(contact(11, "jdoe"));
        assert_ne!(base, stamp(&account(), &company(at), &added));
        let related = RelatedCompanies {
            parent: Some(3),
            bill_to: None,
        };
        let with_parent = sync_stamp(
            &account(),
            &TenantSettings::default(),
            related,
            &company(at),
            Some(&contacts),
        );
        assert_ne!(base, with_parent, "the parent's company changed");
        let mut reversed = contacts.clone();
        reversed.reverse();
        assert_eq!(
            base,
            stamp(&account(), &company(at), &reversed),
            "order-free"
        );
    }
}
