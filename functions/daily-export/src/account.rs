//! One account's export (issue 9 §3): its subscriptions become additions on its agreements (one
//! agreement per agreement type and billing cycle), and its user list a document on its
//! agreement.
//!
//! - **The company** is the customer sync's link; an account without one is reported as unmapped,
//!   never exported into a guessed or new company.
//! - **The agreement** of each kind is found through its link (source id
//!   `{account}#{type id}#{billing cycle id}`), else among the company's agreements by type and
//!   name (`agreementDefaults.nameTemplate`), else created (claimed first) with the tenant's
//!   agreement defaults.
//! - **One addition per subscription**, linked by the subscription's id; its link's stamp records
//!   the agreement it is on. It is created (claimed first; a lost create is settled by looking for
//!   an addition of the same product and effective date that no link holds), patched when a
//!   toggled-on value differs, cancelled (a cancel date, never a delete) when the subscription is
//!   cancelled or ends, and moved when the subscription moves to another account or agreement
//!   (cancelled on the old agreement, created on the new). Additions cwsync did not create are
//!   never read for a change nor touched: only linked ones are.
//! - **The user list** (when `export.userList` is on): the CSV is uploaded to the account's first
//!   agreement when its content changed, then the previous day's document is deleted; an
//!   unchanged list is not uploaded again.

use std::collections::{BTreeMap, HashMap};

use cwsync_billing::models::{AccountUser, Product, Subscription};
use cwsync_connectwise::models::{Addition, Agreement, Company, Contact, Resource};
use cwsync_connectwise::{Condition, PatchOp, Query, UploadDocument};
use cwsync_mapping::export::{
    AgreementKind, AgreementParty, DesiredAddition, addition_changes, desired_addition,
    desired_agreement, entity, match_agreement, needs_new_addition, user_list_csv,
};
use cwsync_mapping::fingerprint;
use cwsync_store::links::{Link, LinkState, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_sync::report::ReportRecord;
use cwsync_sync::writes::record_level;
use cwsync_sync::{Created, RecordResult, Recorder, SyncError, UnitResult, create_claimed};
use serde::{Deserialize, Serialize};

use crate::Scope;

/// The unit entity of the export's account lines.
pub const ACCOUNT: &str = "export-account";
/// The ConnectWise kinds links name.
pub const AGREEMENT_KIND: &str = "agreement";
/// The ConnectWise kind of additions.
pub const ADDITION_KIND: &str = "addition";
/// The ConnectWise kind of user-list documents, as each version's own link names them.
pub const DOCUMENT_KIND: &str = "document";
/// The kind the account's pointer to its current user list names the document as (a kind of its
/// own: one document is linked once per kind, and the version's link holds it as a document).
pub const CURRENT_LIST_KIND: &str = "current-user-list";
/// How the line of an account without a ConnectWise company begins.
pub const UNMAPPED: &str = "unmapped";
/// The document `recordType` of an agreement.
const AGREEMENT_RECORD_TYPE: &str = "Agreement";

/// What an addition's link records besides its id: the agreement it is on (an addition's URL
/// needs it, and a moved subscription is cancelled there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionPlace {
    /// The agreement's id.
    pub agreement: i64,
    /// Whether the export cancelled it.
    #[serde(default)]
    pub cancelled: bool,
    /// The quantity the export last wrote, when it writes quantities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<rust_decimal::Decimal>,
}

impl AdditionPlace {
    /// The place of `addition` (as written) on `agreement`, as of `now`.
    pub fn new(agreement: i64, addition: &Addition, now: time::OffsetDateTime) -> Self {
        AdditionPlace {
            agreement,
            cancelled: ended(addition, now),
            quantity: addition.quantity,
        }
    }

    /// Records the place on the subscription's link (not in a dry run).
    async fn record(self, scope: &Scope<'_>, source: SourceRef<'_>) -> Result<(), SyncError> {
        if scope.dry_run {
            return Ok(());
        }
        let stamp = serde_json::to_string(&self).unwrap_or_default();
        scope
            .links
            .record_stamp(scope.tenant, source, &stamp, scope.now)
            .await?;
        Ok(())
    }
}

impl AdditionPlace {
    /// The place recorded on `link`, when there is one.
    pub fn of(link: &Link) -> Option<AdditionPlace> {
        link.sync_stamp
            .as_deref()
            .and_then(|stamp| serde_json::from_str(stamp).ok())
    }
}

/// What one account's export needs, read by the job (or its group's prefetch).
#[derive(Debug)]
pub struct AccountInput<'a> {
    /// The billing account's id.
    pub account_id: &'a str,
    /// The account's ConnectWise company (id, name, default contact), when it is linked.
    pub company: Option<&'a Company>,
    /// The account's subscriptions (cancelled ones included).
    pub subscriptions: Vec<&'a Subscription>,
    /// The products, by id.
    pub products: &'a HashMap<String, Product>,
    /// Why each product the billing system lists but that is not valid was left out, by id.
    pub malformed_products: &'a HashMap<String, String>,
    /// Product id → catalog item id.
    pub catalog: &'a HashMap<String, i64>,
    /// The account's users, when the user list is exported.
    pub users: Option<Vec<&'a AccountUser>>,
    /// The company's agreements, when the group read them already (else read here).
    pub agreements: Option<Vec<&'a Agreement>>,
    /// The company's first contact, when the planner read it (for an agreement of a company
    /// without a default contact: ConnectWise requires one).
    pub first_contact: Option<i64>,
}

/// Whether a report line is an account the export left unmapped (no ConnectWise company): the
/// lines the `report` and `errors` actions suggest companies for.
pub fn is_unmapped(line: &ReportRecord) -> bool {
    line.entity == ACCOUNT && line.outcome == Outcome::Skipped && line.detail.starts_with(UNMAPPED)
}

/// Exports one account. Problems of single records are their lines; errors no record explains
/// stop the job.
pub async fn export_account(
    scope: &Scope<'_>,
    input: AccountInput<'_>,
) -> Result<UnitResult, SyncError> {
    let account_id = input.account_id;
    let unit = Recorder::new(ACCOUNT, account_id, String::new());
    let mut records = Vec::new();
    let Some(company) = input.company.filter(|c| c.id.is_some()) else {
        records.push(unit.with_detail(
            Outcome::Skipped,
            format!(
                "{UNMAPPED}: the account has no ConnectWise company; link it with \
                     customer-sync's `link` action (this export's `report` suggests candidates) \
                     or let the customer sync create it"
            ),
        ));
        return Ok(UnitResult {
            unit_id: account_id.to_owned(),
            records,
        });
    };
    let mut party = AgreementParty {
        account_id: account_id.to_owned(),
        company_id: company.id.unwrap_or_default(),
        company_name: company.name.clone().unwrap_or_default(),
        contact_id: company
            .default_contact
            .as_ref()
            .and_then(|contact| contact.id)
            .or(input.first_contact),
    };

    let sub_ids: Vec<String> = input.subscriptions.iter().map(|s| s.id.clone()).collect();
    let addition_links = scope
        .links
        .get_many(scope.tenant, entity::ADDITION, &sub_ids)
        .await?;
    let linked = |id: &str| {
        addition_links
            .get(id)
            .is_some_and(|l| l.state == LinkState::Linked)
    };

    // Every subscription's desired addition, grouped by the agreement it goes on.
    let mut by_kind: BTreeMap<AgreementKind, Vec<(&Subscription, DesiredAddition)>> =
        BTreeMap::new();
    let export = &scope.settings.export;
    if export.products {
        for subscription in &input.subscriptions {
            let recorder = Recorder::new(
                entity::ADDITION,
                &subscription.id,
                fingerprint(subscription),
            );
            let Some(product) = input.products.get(&subscription.product_id) else {
                if let Some(why) = input.malformed_products.get(&subscription.product_id) {
                    records.push(recorder.failed(format!(
                        "addition {}: productId: {why}; nothing exported until it is corrected",
                        subscription.id
                    )));
                    continue;
                }
                records.push(recorder.failed(format!(
                    "addition {}: productId: product {:?} is not in the billing system's \
                     product list",
                    subscription.id, subscription.product_id
                )));
                continue;
            };
            let Some(&item) = input.catalog.get(&subscription.product_id) else {
                records.push(recorder.failed(format!(
                    "addition {}: productId: product {:?} has no catalog item yet (see its \
                     catalog-item line, or its catalog-page line)",
                    subscription.id, subscription.product_id
                )));
                continue;
            };
            match desired_addition(subscription, product, item, scope.settings, scope.reference) {
                // ConnectWise refuses an addition of an inactive catalog item: said without the
                // call, every run, until the product is enabled or the subscription ends.
                Ok(desired)
                    if !product.enabled
                        && !linked(&subscription.id)
                        && !ended(&desired.addition, scope.now) =>
                {
                    records.push(recorder.failed(format!(
                        "addition {}: productId: product {:?} is disabled (enabled: false) and \
                         ConnectWise adds no inactive catalog item to an agreement: enable the \
                         product or end the subscription",
                        subscription.id, subscription.product_id
                    )));
                }
                Ok(desired) => by_kind
                    .entry(desired.agreement.clone())
                    .or_default()
                    .push((subscription, desired)),
                Err(problems) => records.push(recorder.problems(&problems)),
            }
        }
    }

    let mut company_agreements: Option<Vec<Agreement>> = input
        .agreements
        .map(|list| list.into_iter().cloned().collect());
    let mut first_agreement = None;
    for (kind, subscriptions) in &by_kind {
        // Subscriptions cancelled before they were ever exported need no agreement.
        let (never, live): (Vec<_>, Vec<_>) = subscriptions
            .iter()
            .partition(|(s, d)| ended(&d.addition, scope.now) && !linked(&s.id));
        for (subscription, _) in never {
            let recorder = Recorder::new(
                entity::ADDITION,
                &subscription.id,
                fingerprint(subscription),
            );
            records.push(recorder.with_detail(
                Outcome::Skipped,
                "cancelled before it was ever exported: no addition to cancel".to_owned(),
            ));
        }
        if live.is_empty() {
            continue;
        }
        let subscriptions: Vec<(&Subscription, DesiredAddition)> =
            live.into_iter().map(|(s, d)| (*s, d.clone())).collect();
        let agreement = Box::pin(resolve_agreement(
            scope,
            &mut party,
            kind,
            &mut company_agreements,
            &mut records,
        ))
        .await?;
        let Some(agreement) = agreement else { continue };
        first_agreement.get_or_insert(agreement);
        Box::pin(export_additions(
            scope,
            agreement,
            &subscriptions,
            &addition_links,
            &mut records,
        ))
        .await?;
    }
    if export.user_list
        && let Some(users) = &input.users
    {
        let agreement = match first_agreement {
            Some(id) => Some(id),
            None => linked_agreement(scope, account_id).await?,
        };
        Box::pin(export_user_list(
            scope,
            account_id,
            agreement,
            users,
            &mut records,
        ))
        .await?;
    }
    let failed = records.iter().any(|r| r.outcome == Outcome::Failed);
    let detail = if failed {
        "some records failed: see their lines".to_owned()
    } else {
        String::new()
    };
    let outcome = if failed {
        Outcome::Failed
    } else if records.iter().all(|r| r.outcome == Outcome::Unchanged) {
        Outcome::Unchanged
    } else {
        Outcome::Updated
    };
    records.insert(
        0,
        unit.with_detail(outcome, detail).with_id(party.company_id),
    );
    Ok(UnitResult {
        unit_id: account_id.to_owned(),
        records,
    })
}

/// Whether `addition` is cancelled as of `now` (a cancel date in the future, a subscription's
/// end date, leaves it live until then).
pub fn ended(addition: &Addition, now: time::OffsetDateTime) -> bool {
    addition.cancelled_date.is_some_and(|date| date <= now)
}

/// The company's first contact (by id), for an agreement of a company without a default contact
/// (ConnectWise requires a contact on an agreement).
async fn first_contact(scope: &Scope<'_>, company: i64) -> Result<Option<i64>, SyncError> {
    let query = Query::new()
        .filter(Condition::field("company/id").eq(company))
        .order_by("id", cwsync_connectwise::Direction::Asc)
        .fields(["id"])
        .page_size(1);
    let page = scope
        .cw
        .list_page::<Contact>(Contact::PATH, &query, 1)
        .await
        .map_err(|e| {
            SyncError::connectwise(format!("reading a contact of company {company}"), e)
        })?;
    Ok(page.items.first().and_then(|c| c.id))
}

/// The source id of an account's agreement link of `kind`.
pub fn agreement_source(account_id: &str, kind: &AgreementKind) -> String {
    format!(
        "{account_id}#{}#{}",
        kind.agreement_type, kind.billing_cycle
    )
}

/// The agreement an account's additions of `kind` go on: linked, matched (and linked) or
/// created. `None` when it can't be (its line says why).
async fn resolve_agreement(
    scope: &Scope<'_>,
    party: &mut AgreementParty,
    kind: &AgreementKind,
    company_agreements: &mut Option<Vec<Agreement>>,
    records: &mut Vec<RecordResult>,
) -> Result<Option<i64>, SyncError> {
    let source_id = agreement_source(&party.account_id, kind);
    let source = SourceRef::new(entity::AGREEMENT, &source_id);
    let recorder = Recorder::new(entity::AGREEMENT, &source_id, fingerprint(kind));
    if let Some(link) = scope.links.get(scope.tenant, source).await?
        && link.state == LinkState::Linked
        && let Some(id) = link.cw_id
    {
        return Ok(Some(id));
    }
    if company_agreements.is_none() {
        *company_agreements = Some(read_agreements(scope, party.company_id).await?);
    }
    let candidates = company_agreements.as_deref().unwrap_or_default();
    match match_agreement(party, kind, scope.settings, candidates) {
        Err(problem) => {
            records.push(recorder.problems(&[problem]));
            return Ok(None);
        }
        Ok(Some(id)) => {
            if !scope.dry_run {
                scope
                    .links
                    .link_existing(
                        scope.tenant,
                        source,
                        AGREEMENT_KIND,
                        id,
                        &fingerprint(kind),
                        scope.now,
                    )
                    .await?;
            }
            records.push(
                recorder
                    .with_detail(
                        Outcome::Linked,
                        format!(
                            "{} existing agreement {id}",
                            would(scope, "linked", "would link")
                        ),
                    )
                    .with_id(id),
            );
            return Ok(Some(id));
        }
        Ok(None) => {}
    }
    // Only a create needs the contact: read one (once per account) when the company has no
    // default contact and the planner did not pass its first one.
    if party.contact_id.is_none() {
        party.contact_id = first_contact(scope, party.company_id).await?;
    }
    let party = &*party;
    let desired = match desired_agreement(party, kind, scope.settings, scope.reference) {
        Ok(desired) => desired,
        Err(problems) => {
            records.push(recorder.problems(&problems));
            return Ok(None);
        }
    };
    let what = format!("agreement {source_id}");
    let natural_key = format!(
        "name {:?} of company {}",
        desired.name.as_deref().unwrap_or_default(),
        party.company_id
    );
    let values = fingerprint(&desired);
    let creation = scope.creation(source, AGREEMENT_KIND, &what, &natural_key, &values);
    let find = || async {
        let found = read_agreements(scope, party.company_id).await?;
        Ok(match_agreement(party, kind, scope.settings, &found)
            .ok()
            .flatten()
            .and_then(|id| found.into_iter().find(|a| a.id == Some(id))))
    };
    let create = || scope.cw.create::<_, Agreement>(Agreement::PATH, &desired);
    let created = Box::pin(create_claimed(
        &creation,
        &recorder,
        records,
        |a: &Agreement| a.id,
        find,
        create,
    ))
    .await?;
    Ok(match created {
        Created::Linked { record, .. } => record.id,
        Created::AlreadyLinked(link) => link.cw_id,
        Created::LinkedToOther { cw_id, holder } => {
            records.push(recorder.failed(format!(
                "agreement {cw_id} ({natural_key}) is linked to {}: two accounts share one \
                 company; link only one of them to it",
                holder.source_id
            )));
            None
        }
        // A dry run plans the additions against an agreement that doesn't exist yet.
        Created::Planned => Some(0),
        Created::Refused => None,
    })
}

/// What matching an agreement reads of a company's agreements (see `match_agreement`): only
/// these are asked for, by the planner's hints and by a job reading its own.
pub const AGREEMENT_FIELDS: [&str; 6] = [
    "id",
    "name",
    "type/id",
    "company/id",
    "cancelledFlag",
    "agreementStatus",
];

/// The company's agreements (every agreement of it: matching compares type, name and status).
async fn read_agreements(scope: &Scope<'_>, company: i64) -> Result<Vec<Agreement>, SyncError> {
    let query = Query::new()
        .filter(Condition::field("company/id").eq(company))
        .fields(AGREEMENT_FIELDS)
        .page_size(1000);
    scope
        .cw
        .list_all::<Agreement>(Agreement::PATH, &query)
        .await
        .map_err(|e| {
            SyncError::connectwise(format!("reading the agreements of company {company}"), e)
        })
}

/// The first agreement linked to the account, for a user list of an account without additions.
async fn linked_agreement(scope: &Scope<'_>, account_id: &str) -> Result<Option<i64>, SyncError> {
    let source_id = format!("{account_id}#userList");
    Ok(scope
        .links
        .get(scope.tenant, SourceRef::new(entity::USER_LIST, &source_id))
        .await?
        .and_then(|link| AdditionPlace::of(&link))
        .map(|place| place.agreement))
}

fn would<'a>(scope: &Scope<'_>, done: &'a str, planned: &'a str) -> &'a str {
    cwsync_sync::record::would(scope.dry_run, done, planned)
}

fn additions_path(agreement: i64) -> String {
    format!("{}/{agreement}/additions", Agreement::PATH)
}

/// The additions of one agreement, 1,000 a page.
async fn read_additions(scope: &Scope<'_>, agreement: i64) -> Result<Vec<Addition>, SyncError> {
    if agreement == 0 {
        return Ok(Vec::new()); // planned in a dry run: nothing there yet
    }
    scope
        .cw
        .list_all::<Addition>(&additions_path(agreement), &Query::new().page_size(1000))
        .await
        .map_err(|e| {
            SyncError::connectwise(format!("reading the additions of agreement {agreement}"), e)
        })
}

/// The subscriptions of one agreement: each addition created, patched, cancelled or moved.
async fn export_additions(
    scope: &Scope<'_>,
    agreement: i64,
    subscriptions: &[(&Subscription, DesiredAddition)],
    links: &HashMap<String, Link>,
    records: &mut Vec<RecordResult>,
) -> Result<(), SyncError> {
    // The agreement's additions are read only when one of its subscriptions has an addition
    // there already (to compare), or to settle a create: a first export reads nothing.
    // A link without its place (the worker stopped between linking a new addition and
    // recording where it is) may be here: its addition is looked for on this agreement before
    // anything is made again.
    let here = |s: &Subscription| {
        links
            .get(&s.id)
            .filter(|l| l.state == LinkState::Linked)
            .is_some_and(|l| AdditionPlace::of(l).is_none_or(|place| place.agreement == agreement))
    };
    let current: Vec<Addition> = if subscriptions.iter().any(|(s, _)| here(s)) {
        read_additions(scope, agreement).await?
    } else {
        Vec::new()
    };
    for (subscription, desired) in subscriptions {
        let recorder = Recorder::new(
            entity::ADDITION,
            &subscription.id,
            fingerprint(subscription),
        );
        let link = links
            .get(&subscription.id)
            .filter(|l| l.state == LinkState::Linked);
        let place = link.and_then(AdditionPlace::of);
        let existing = link
            .and_then(|l| l.cw_id)
            .filter(|_| place.is_none_or(|p| p.agreement == agreement))
            .and_then(|id| current.iter().find(|a| a.id == Some(id)));
        let mut desired = desired.addition.clone();
        desired.agreement_id = None;
        match (link, place, existing) {
            // (Without a place, the update records it.)
            (Some(_), _, Some(existing)) if !needs_new_addition(&desired, existing) => {
                update_addition(scope, &recorder, agreement, &desired, existing, records).await?;
            }
            (Some(link), place, existing) => {
                // Moved to another agreement, replaced (another product, live again), or gone:
                // the old addition is cancelled where it is (never deleted), then a new one made.
                let old_agreement = place.map(|p| p.agreement);
                if let (Some(old), Some(id)) = (old_agreement, link.cw_id)
                    && existing.is_none_or(|e| !ended(e, scope.now))
                {
                    cancel_addition(scope, &recorder, old, id, records).await?;
                }
                if !scope.dry_run {
                    scope
                        .links
                        .unlink(
                            scope.tenant,
                            SourceRef::new(entity::ADDITION, &subscription.id),
                        )
                        .await?;
                }
                if !ended(&desired, scope.now) {
                    Box::pin(create_addition(
                        scope,
                        &recorder,
                        agreement,
                        subscription,
                        &desired,
                        records,
                    ))
                    .await?;
                }
            }
            (None, _, _) if ended(&desired, scope.now) => {
                records.push(recorder.with_detail(
                    Outcome::Skipped,
                    "cancelled before it was ever exported: no addition to cancel".to_owned(),
                ));
            }
            (None, _, _) => {
                Box::pin(create_addition(
                    scope,
                    &recorder,
                    agreement,
                    subscription,
                    &desired,
                    records,
                ))
                .await?;
            }
        }
    }
    Ok(())
}

async fn update_addition(
    scope: &Scope<'_>,
    recorder: &Recorder,
    agreement: i64,
    desired: &Addition,
    current: &Addition,
    records: &mut Vec<RecordResult>,
) -> Result<(), SyncError> {
    let id = current.id.unwrap_or_default();
    let ops = addition_changes(desired, current, scope.settings);
    let path = format!("{}/{id}", additions_path(agreement));
    let line =
        match cwsync_sync::writes::patch::<Addition>(scope.cw, &path, &ops, scope.dry_run).await {
            Ok((changed, updated)) => {
                let outcome = Outcome::Updated;
                let written = updated.as_ref().unwrap_or(current);
                AdditionPlace::new(agreement, written, scope.now)
                    .record(
                        scope,
                        SourceRef::new(entity::ADDITION, recorder.record_id()),
                    )
                    .await?;
                recorder.changed(outcome, changed, scope.dry_run)
            }
            Err(Ok(reason)) => {
                recorder.failed(format!("addition {id} of agreement {agreement}: {reason}"))
            }
            Err(Err(error)) => return Err(error),
        };
    records.push(line.with_id(id));
    Ok(())
}

/// Cancels addition `id` of `agreement` as of today (a cancel date; never a delete).
async fn cancel_addition(
    scope: &Scope<'_>,
    recorder: &Recorder,
    agreement: i64,
    id: i64,
    records: &mut Vec<RecordResult>,
) -> Result<(), SyncError> {
    let today = scope
        .now
        .date()
        .midnight()
        .assume_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let ops = [PatchOp::replace("cancelledDate", today)];
    let path = format!("{}/{id}", additions_path(agreement));
    let line =
        match cwsync_sync::writes::patch::<Addition>(scope.cw, &path, &ops, scope.dry_run).await {
            Ok(_) => recorder.with_detail(
                Outcome::Updated,
                format!(
                    "{} addition {id} on agreement {agreement} (moved or replaced)",
                    would(scope, "cancelled", "would cancel")
                ),
            ),
            // Already gone from ConnectWise: nothing left to cancel.
            Err(Ok(reason)) if reason.contains("not found") || reason.contains("404") => recorder
                .with_detail(
                    Outcome::Unchanged,
                    format!("addition {id} on agreement {agreement} is gone: nothing to cancel"),
                ),
            Err(Ok(reason)) => {
                recorder.failed(format!("addition {id} of agreement {agreement}: {reason}"))
            }
            Err(Err(error)) => return Err(error),
        };
    records.push(line.with_id(id));
    Ok(())
}

async fn create_addition(
    scope: &Scope<'_>,
    recorder: &Recorder,
    agreement: i64,
    subscription: &Subscription,
    desired: &Addition,
    records: &mut Vec<RecordResult>,
) -> Result<(), SyncError> {
    let source = SourceRef::new(entity::ADDITION, &subscription.id);
    let what = format!("addition of subscription {}", subscription.id);
    let product = desired.product.as_ref().and_then(|p| p.id);
    let natural_key = format!(
        "product {} effective {} on agreement {agreement}, not linked",
        product.unwrap_or_default(),
        desired
            .effective_date
            .map(|d| d.date().to_string())
            .unwrap_or_else(|| "today".to_owned())
    );
    let values = fingerprint(desired);
    let creation = scope.creation(source, ADDITION_KIND, &what, &natural_key, &values);
    let find = || async {
        // An addition of the same product and effective date that no link holds: what a lost
        // create left. Two such are ambiguous: nothing is linked and nothing created again.
        let found = read_additions(scope, agreement).await?;
        let mut unlinked = Vec::new();
        for addition in found.into_iter().filter(|a| {
            a.product.as_ref().and_then(|p| p.id) == product
                && (desired.effective_date.is_none()
                    || a.effective_date.map(|d| d.date())
                        == desired.effective_date.map(|d| d.date()))
        }) {
            let Some(id) = addition.id else { continue };
            if scope
                .links
                .get_by_cw(scope.tenant, ADDITION_KIND, id)
                .await?
                .is_none()
            {
                unlinked.push(addition);
            }
        }
        if unlinked.len() > 1 {
            return Err(SyncError::Unsettled {
                record: what.clone(),
                detail: format!(
                    "{} additions match {natural_key}: link the right one by hand",
                    unlinked.len()
                ),
            });
        }
        Ok(unlinked.pop())
    };
    let path = additions_path(agreement);
    let create = || scope.cw.create::<_, Addition>(&path, desired);
    let created = Box::pin(create_claimed(
        &creation,
        recorder,
        records,
        |a: &Addition| a.id,
        find,
        create,
    ))
    .await?;
    match created {
        Created::Linked { record, origin, .. } => {
            let path = format!("{path}/{}", record.id.unwrap_or_default());
            let found = cwsync_sync::writes::update_found(
                scope.cw,
                &path,
                origin,
                record,
                |found| addition_changes(desired, found, scope.settings),
                scope.dry_run,
                records,
            );
            let Some(record) = found.await? else {
                return Ok(());
            };
            AdditionPlace::new(agreement, &record, scope.now)
                .record(scope, source)
                .await?;
        }
        Created::LinkedToOther { cw_id, holder } => {
            records.push(recorder.failed(format!(
                "addition {cw_id} is linked to subscription {}: link the right one by hand",
                holder.source_id
            )));
        }
        _ => {}
    }
    Ok(())
}

/// The account's user list: uploaded when its content changed, the previous one then deleted.
async fn export_user_list(
    scope: &Scope<'_>,
    account_id: &str,
    agreement: Option<i64>,
    users: &[&AccountUser],
    records: &mut Vec<RecordResult>,
) -> Result<(), SyncError> {
    let owned: Vec<AccountUser> = users.iter().map(|u| (*u).clone()).collect();
    let csv = user_list_csv(&owned);
    let source_id = format!("{account_id}#userList");
    let source = SourceRef::new(entity::USER_LIST, &source_id);
    let recorder = Recorder::new(entity::USER_LIST, account_id, csv.fingerprint.clone());
    let Some(agreement) = agreement else {
        records.push(
            recorder.with_detail(
                Outcome::Skipped,
                "the account has no agreement to attach its user list to (no exported \
             subscription)"
                    .to_owned(),
            ),
        );
        return Ok(());
    };
    let current = scope.links.get(scope.tenant, source).await?;
    if let Some(link) = &current
        && link.fingerprint.as_deref() == Some(csv.fingerprint.as_str())
        && AdditionPlace::of(link).is_some_and(|p| p.agreement == agreement)
    {
        records.push(recorder.with_detail(Outcome::Unchanged, String::new()));
        return Ok(());
    }
    if scope.dry_run {
        records.push(recorder.with_detail(
            Outcome::Updated,
            format!("would upload the user list to agreement {agreement}"),
        ));
        return Ok(());
    }
    // The content's own link (one per content) makes the upload claim-before-create: a crash
    // after the upload finds the document by its title instead of uploading it again.
    let short = csv
        .fingerprint
        .get(..12)
        .unwrap_or(&csv.fingerprint)
        .to_owned();
    let title = format!("User list {short}");
    let version_id = format!("{account_id}#userList#{short}");
    let version = SourceRef::new(entity::USER_LIST, &version_id);
    let what = format!("user list of account {account_id}");
    let natural_key = format!("title {title:?} on agreement {agreement}");
    let creation = scope.creation(
        version,
        DOCUMENT_KIND,
        &what,
        &natural_key,
        &csv.fingerprint,
    );
    let find = || async {
        let documents: Vec<serde_json::Value> = scope
            .cw
            .list_documents(AGREEMENT_RECORD_TYPE, agreement)
            .await
            .map_err(|e| SyncError::connectwise(format!("looking up {natural_key}"), e))?;
        Ok(documents
            .into_iter()
            .find(|d| d.get("title").and_then(|t| t.as_str()) == Some(title.as_str())))
    };
    let upload = UploadDocument {
        record_type: AGREEMENT_RECORD_TYPE.to_owned(),
        record_id: agreement,
        title: title.clone(),
        file_name: format!("users-{}.csv", file_safe(account_id)),
        content_type: "text/csv".to_owned(),
        bytes: csv.content.clone().into(),
        private_flag: true,
        read_only_flag: false,
    };
    let create = || scope.cw.upload_document::<serde_json::Value>(&upload);
    let id_of = |d: &serde_json::Value| d.get("id").and_then(serde_json::Value::as_i64);
    let mut lines = Vec::new();
    let created = Box::pin(create_claimed(
        &creation, &recorder, &mut lines, id_of, find, create,
    ))
    .await?;
    let new_id = match created {
        Created::Linked { record, .. } => id_of(&record),
        Created::AlreadyLinked(link) => link.cw_id,
        Created::LinkedToOther { .. } | Created::Planned | Created::Refused => None,
    };
    let Some(new_id) = new_id else {
        records.extend(lines);
        return Ok(());
    };
    // Point the account's list at the new document, then delete yesterday's (and its version's
    // link).
    let old = current
        .as_ref()
        .and_then(|link| Some((link.cw_id?, link.fingerprint.clone()?)))
        .filter(|(id, _)| *id != new_id);
    scope.links.unlink(scope.tenant, source).await?;
    scope
        .links
        .link_existing(
            scope.tenant,
            source,
            CURRENT_LIST_KIND,
            new_id,
            &csv.fingerprint,
            scope.now,
        )
        .await?;
    AdditionPlace {
        agreement,
        cancelled: false,
        quantity: None,
    }
    .record(scope, source)
    .await?;
    if let Some((old, old_fingerprint)) = old {
        match scope.cw.delete_document(old).await {
            Ok(()) => {}
            Err(error) => match record_level(error) {
                Ok(reason) => {
                    tracing::warn!(document = old, %reason, "previous user list not deleted")
                }
                Err(error) => {
                    return Err(SyncError::connectwise(
                        format!("deleting the previous user list {old}"),
                        error,
                    ));
                }
            },
        }
        let short = old_fingerprint.get(..12).unwrap_or(&old_fingerprint);
        let old_version = format!("{account_id}#userList#{short}");
        scope
            .links
            .unlink(
                scope.tenant,
                SourceRef::new(entity::USER_LIST, &old_version),
            )
            .await?;
    }
    records.push(
        recorder
            .with_detail(
                Outcome::Updated,
                format!("uploaded {} users to agreement {agreement}", users.len()),
            )
            .with_id(new_id),
    );
    Ok(())
}

/// An id as a file-name part: letters, digits, `-` and `_` kept, anything else `_`.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}
