//! What must hold once a clean run has followed the storm, tenant by tenant:
//! - no duplicate in ConnectWise: one company per identifier, one contact per company and
//!   e-mail, one site per company and name;
//! - every account expected to sync is linked to an existing company that holds its mapped
//!   values (the mapping crate's own plan from that company to the account's desired values is
//!   empty), and the company id is written back to the billing account; likewise each of its
//!   sites and contacts ConnectWise accepts;
//! - every account expected to fail is reported in the error ledger with its reason, and is not
//!   linked; of two accounts sharing a code exactly one is linked;
//! - every run the clean run started finished.
//!
//! Each finding is a sentence naming the tenant and the record.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use cwsync_connectwise::models::Company;
use cwsync_mapping::customers::{RelatedCompanies, desired_company, plan_company_update};
use cwsync_mapping::settings::TenantSettings;
use cwsync_store::TenantId;
use cwsync_store::ledger::ErrorLedger;
use cwsync_store::links::{LinkStore, SourceRef};
use serde_json::Value;

use crate::storm::Tenant;
use crate::world::Expect;

/// The linked ConnectWise id of `kind` `id`, if linked.
async fn linked(links: &dyn LinkStore, tenant: &TenantId, kind: &str, id: &str) -> Option<i64> {
    links
        .get(tenant, SourceRef::new(kind, id))
        .await
        .ok()
        .flatten()
        .and_then(|link| link.cw_id)
}

fn duplicates(records: &[Value], key: impl Fn(&Value) -> Option<String>) -> Vec<String> {
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for record in records {
        if let Some(k) = key(record) {
            *seen.entry(k).or_insert(0) += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect()
}

fn email_of(contact: &Value) -> Option<String> {
    contact["communicationItems"]
        .as_array()?
        .iter()
        .find(|item| item["communicationType"].as_str() == Some("Email"))
        .and_then(|item| item["value"].as_str())
        .map(str::to_lowercase)
}

/// What the checks found wrong in `tenant` (empty when everything holds), and how many records
/// they verified.
pub async fn tenant(
    tenant: &Tenant,
    links: &dyn LinkStore,
    ledger: &dyn ErrorLedger,
) -> anyhow::Result<(Vec<String>, u64)> {
    let name = &tenant.data.tenant;
    let id = TenantId::parse(name)?;
    let mut findings = Vec::new();
    let mut verified = 0u64;
    let companies = tenant.cw.records("/company/companies");
    let contacts = tenant.cw.records("/company/contacts");
    let sites = tenant.cw.records("/company/companies/{parentId}/sites");
    for dup in duplicates(&companies, |c| {
        c["identifier"].as_str().map(str::to_lowercase)
    }) {
        findings.push(format!("{name}: duplicate company identifier {dup}"));
    }
    for dup in duplicates(&contacts, |c| {
        Some(format!("company {} {}", c["company"]["id"], email_of(c)?))
    }) {
        findings.push(format!("{name}: duplicate contact {dup}"));
    }
    for dup in duplicates(&sites, |s| {
        Some(format!(
            "company {} site {}",
            s["company"]["id"],
            s["name"].as_str()?.to_lowercase()
        ))
    }) {
        findings.push(format!("{name}: duplicate site {dup}"));
    }

    let client = crate::cw_client(tenant).await?;
    let reference = cwsync_customer_sync::reference::read_reference(&client)
        .await
        .map_err(|e| anyhow::anyhow!("{name}: reading reference data: {e}"))?;
    let settings = TenantSettings::default();
    let by_id: BTreeMap<i64, &Value> = companies
        .iter()
        .filter_map(|c| Some((c["id"].as_i64()?, c)))
        .collect();
    let ledger_says = |kind: &'static str, record: String, text: &'static str| {
        let id = id.clone();
        async move {
            ledger
                .get(&id, kind, &record, time::OffsetDateTime::now_utc())
                .await
                .ok()
                .flatten()
                .is_some_and(|entry| entry.last_error.contains(text))
        }
    };

    let accounts = tenant.billing.accounts();
    let account_company = |account: &str| {
        let id = id.clone();
        let account = account.to_owned();
        async move { linked(links, &id, "company", &account).await }
    };
    for account in &accounts {
        let expect = tenant
            .data
            .expect
            .get(&account.id)
            .cloned()
            .unwrap_or(Expect::Syncs);
        let company_id = account_company(&account.id).await;
        match expect {
            Expect::Fails(text) => {
                if company_id.is_some() {
                    findings.push(format!(
                        "{name}: account {} is linked but must fail",
                        account.id
                    ));
                }
                if !ledger_says("company", account.id.clone(), text).await {
                    findings.push(format!(
                        "{name}: account {} is not in the error ledger with \"{text}\"",
                        account.id
                    ));
                }
                verified += 1 + unlinked_below(tenant, links, &id, account, &mut findings).await;
                continue;
            }
            Expect::SharesCode(other) => {
                let other_linked = account_company(&other).await.is_some();
                match (company_id.is_some(), other_linked) {
                    (true, true) => findings.push(format!(
                        "{name}: accounts {} and {other} share a code and are both linked",
                        account.id
                    )),
                    (false, false) => findings.push(format!(
                        "{name}: neither {} nor {other} (one code) is linked",
                        account.id
                    )),
                    (false, true) => {
                        if !ledger_says("company", account.id.clone(), "is also account").await {
                            findings.push(format!(
                                "{name}: account {} lost its code to {other} without saying so",
                                account.id
                            ));
                        }
                        verified +=
                            1 + unlinked_below(tenant, links, &id, account, &mut findings).await;
                        continue;
                    }
                    (true, false) => {}
                }
            }
            Expect::Syncs => {}
        }
        // Linked, the company there, its values mapped, written back.
        let Some(company_id) = company_id else {
            findings.push(format!(
                "{name}: account {} has no company link",
                account.id
            ));
            continue;
        };
        let Some(record) = by_id.get(&company_id) else {
            findings.push(format!(
                "{name}: account {} is linked to company {company_id}, which is not in ConnectWise",
                account.id
            ));
            continue;
        };
        if account.connect_wise_company_id != Some(company_id) {
            findings.push(format!(
                "{name}: account {} holds company id {:?}, linked is {company_id}",
                account.id, account.connect_wise_company_id
            ));
        }
        let related = RelatedCompanies {
            parent: match &account.parent_account_id {
                Some(parent) => account_company(parent).await,
                None => None,
            },
            bill_to: match &account.bill_to_account_id {
                Some(bill_to) => account_company(bill_to).await,
                None => None,
            },
        };
        let current: Company = serde_json::from_value((*record).clone())?;
        match desired_company(account, &reference, &related) {
            Err(problems) => findings.push(format!(
                "{name}: account {} is linked but its mapping refuses it: {problems:?}",
                account.id
            )),
            Ok(desired) => {
                let plan = plan_company_update(&current, &desired, &settings);
                if !plan.is_empty() {
                    findings.push(format!(
                        "{name}: company {company_id} of account {} differs from its mapping: {:?}",
                        account.id, plan.patch
                    ));
                }
            }
        }
        verified += 1;
        for contact in &account.contacts {
            let refused = tenant.data.refused_contacts.contains(&contact.id);
            let link = linked(links, &id, "contact", &contact.id).await;
            if refused {
                if link.is_some() {
                    findings.push(format!("{name}: refused contact {} is linked", contact.id));
                }
                if !ledger_says("contact", contact.id.clone(), "email").await {
                    findings.push(format!(
                        "{name}: refused contact {} is not in the ledger naming its email",
                        contact.id
                    ));
                }
            } else {
                match link {
                    None => findings.push(format!("{name}: contact {} is not linked", contact.id)),
                    Some(cw_id) => {
                        let found = contacts.iter().find(|c| c["id"].as_i64() == Some(cw_id));
                        match found {
                            None => findings.push(format!(
                                "{name}: contact {} is linked to {cw_id}, not in ConnectWise",
                                contact.id
                            )),
                            Some(c) => {
                                if c["company"]["id"].as_i64() != Some(company_id) {
                                    findings.push(format!(
                                        "{name}: contact {} is under another company",
                                        contact.id
                                    ));
                                }
                                if c["lastName"].as_str() != contact.last_name.as_deref() {
                                    findings.push(format!(
                                        "{name}: contact {} last name {} is not {:?}",
                                        contact.id, c["lastName"], contact.last_name
                                    ));
                                }
                            }
                        }
                        if contact.connect_wise_contact_id != Some(cw_id) {
                            findings.push(format!(
                                "{name}: contact {} holds {:?}, linked is {cw_id}",
                                contact.id, contact.connect_wise_contact_id
                            ));
                        }
                    }
                }
            }
            verified += 1;
        }
        for site in &account.sites {
            match linked(links, &id, "site", &site.id).await {
                None => findings.push(format!("{name}: site {} is not linked", site.id)),
                Some(cw_id) => {
                    let found = sites.iter().find(|s| s["id"].as_i64() == Some(cw_id));
                    match found {
                        None => findings.push(format!(
                            "{name}: site {} is linked to {cw_id}, not in ConnectWise",
                            site.id
                        )),
                        Some(s) => {
                            if s["company"]["id"].as_i64() != Some(company_id) {
                                findings.push(format!(
                                    "{name}: site {} is under another company",
                                    site.id
                                ));
                            }
                        }
                    }
                    if site.connect_wise_site_id != Some(cw_id) {
                        findings.push(format!(
                            "{name}: site {} holds {:?}, linked is {cw_id}",
                            site.id, site.connect_wise_site_id
                        ));
                    }
                }
            }
            verified += 1;
        }
    }
    Ok((findings, verified))
}

/// Checks that no site or contact of an account that must not sync is linked (nothing is made
/// under a company that is not there); how many it checked.
async fn unlinked_below(
    tenant: &Tenant,
    links: &dyn LinkStore,
    id: &TenantId,
    account: &cwsync_billing::models::Account,
    findings: &mut Vec<String>,
) -> u64 {
    let name = &tenant.data.tenant;
    let mut checked = 0;
    let below = account
        .contacts
        .iter()
        .map(|c| ("contact", c.id.as_str()))
        .chain(account.sites.iter().map(|s| ("site", s.id.as_str())));
    for (kind, record) in below {
        if linked(links, id, kind, record).await.is_some() {
            findings.push(format!(
                "{name}: {kind} {record} of unsynced account {} is linked",
                account.id
            ));
        }
        checked += 1;
    }
    checked
}

/// What the checks found wrong in `tenant`'s daily export (empty when everything holds), and
/// how many records they verified: one catalog item per product (by identifier), one agreement
/// per company and name, one addition per agreement and product, an addition for every
/// subscription, and each product's additions holding its subscriptions' quantities.
pub fn export(tenant: &Tenant) -> (Vec<String>, u64) {
    let name = &tenant.data.tenant;
    let mut findings = Vec::new();
    let items = tenant.cw.records("/procurement/catalog");
    for dup in duplicates(&items, |i| i["identifier"].as_str().map(str::to_lowercase)) {
        findings.push(format!("{name}: duplicate catalog item {dup}"));
    }
    let products = crate::world::products();
    for product in &products {
        let found = items
            .iter()
            .filter(|i| {
                i["identifier"]
                    .as_str()
                    .is_some_and(|id| id.eq_ignore_ascii_case(&product.sku))
            })
            .count();
        if found != 1 {
            findings.push(format!(
                "{name}: product {} has {found} catalog items",
                product.id
            ));
        }
    }
    let agreements = tenant.cw.records("/finance/agreements");
    for dup in duplicates(&agreements, |a| {
        Some(format!(
            "company {} {}",
            a["company"]["id"],
            a["name"].as_str()?
        ))
    }) {
        findings.push(format!("{name}: duplicate agreement {dup}"));
    }
    let additions: Vec<Value> = agreements
        .iter()
        .filter_map(|a| a["id"].as_i64())
        .flat_map(|id| {
            tenant
                .cw
                .records(&format!("/finance/agreements/{id}/additions"))
                .into_iter()
                .map(move |mut addition| {
                    addition["agreementId"] = serde_json::json!(id);
                    addition
                })
        })
        .collect();
    for dup in duplicates(&additions, |a| {
        Some(format!(
            "agreement {} product {}",
            a["agreementId"], a["product"]["id"]
        ))
    }) {
        findings.push(format!("{name}: duplicate addition {dup}"));
    }
    let subscriptions = tenant.billing.subscriptions();
    if additions.len() != subscriptions.len() {
        findings.push(format!(
            "{name}: {} additions for {} subscriptions",
            additions.len(),
            subscriptions.len()
        ));
    }
    // Each product's additions hold its subscriptions' quantities.
    let sku_of_item: BTreeMap<i64, String> = items
        .iter()
        .filter_map(|i| Some((i["id"].as_i64()?, i["identifier"].as_str()?.to_lowercase())))
        .collect();
    let mut sums: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for subscription in &subscriptions {
        let sku = products
            .iter()
            .find(|p| p.id == subscription.product_id)
            .map_or_else(|| subscription.product_id.clone(), |p| p.sku.to_lowercase());
        sums.entry(sku).or_default().0 += subscription.quantity;
    }
    for addition in &additions {
        let sku = addition["product"]["id"]
            .as_i64()
            .and_then(|id| sku_of_item.get(&id).cloned())
            .unwrap_or_else(|| format!("catalog item {}", addition["product"]["id"]));
        let quantity = addition["quantity"]
            .to_string()
            .parse::<Decimal>()
            .unwrap_or_default();
        sums.entry(sku).or_default().1 += quantity;
    }
    for (sku, (billed, added)) in sums {
        if billed != added {
            findings.push(format!(
                "{name}: the additions of {sku} hold a quantity of {added}, its subscriptions {billed}"
            ));
        }
    }
    let verified = (products.len() + subscriptions.len()) as u64;
    (findings, verified)
}
