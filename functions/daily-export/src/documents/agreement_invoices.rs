//! ConnectWise agreement invoices → the billing contracts of their agreements
//! (`cwsync_mapping::documents::contracts`; seeds 000, Agreement Sync).
//!
//! **Planning** lists the invoices of `type` Agreement in the tenant's statuses (`status/name`)
//! and agreement types (`agreement/type`: the agreement reference's type *name*; the path
//! `agreement/type/name` does not exist and is refused), from the `agreement-invoices` watermark
//! plus those on the error ledger ([`super::pull`]), with their products, and stamps each.
//!
//! **A page** reads its invoices again by id, then every invoice of their agreements (one
//! `agreement/id in (...)` read, same filter), the products of those (`invoice/id in (...)`),
//! the catalog identifiers a product reference lacks, the billing items and the contract
//! templates. Per agreement, once: the contract bills the latest date's invoices (all of them);
//! both the company and the bill-to company must be linked to billing accounts, every product
//! must name a billing item by SKU. The contract is found through the agreement link
//! (`contract` ↔ `contract-agreement`, the one the ticket import uses), else by its reference
//! `cw:agreement:<id>`, else created (idempotent on that reference) from the template named
//! like the agreement type, else the default; then linked. An update first clears the
//! contract's billable flag, then writes the period, lines and invoice numbers with billable
//! set again (each under `If-Match`; a conflict reads it again and plans again), so the billing
//! system never bills a half-updated period and a crash in between is finished by the retry.
//!
//! Each page invoice's line says what its agreement's contract got; an invoice older than its
//! contract's period is reported as not applied (a later one is). The stamp is recorded once the
//! contract holds the invoice, so an unchanged re-run sends no job.

use std::collections::{BTreeMap, HashMap};

use cwsync_billing::models::{Contract, ContractTemplate, ContractUpdate, NewContract};
use cwsync_billing::{BillingError, ReferenceQuery};
use cwsync_connectwise::models::{Invoice, ProductItem, Resource};
use cwsync_connectwise::{Condition, Query};
use cwsync_mapping::documents::AgreementInvoicePull;
use cwsync_mapping::documents::contracts::{
    AGREEMENT_TYPE, agreement_invoice_stamp, choose_template, contract_changes, contract_lines,
    contract_reference, contract_update, invoice_date, invoice_label, latest_period, period_of,
};
use cwsync_mapping::tickets::entity as tickets;
use cwsync_store::StoreError;
use cwsync_store::links::SourceRef;
use cwsync_store::runs::Outcome;
use cwsync_sync::writes::billing_record_level;
use cwsync_sync::{RecordResult, Recorder, SyncError};
use time::Date;

use super::products::{Parent, read_products};
use super::pull::{self, BillingItems, LISTING_PAGE};
use super::{Candidates, DocContext, Document};

/// The watermark stream of the pull.
pub const STREAM: &str = "agreement-invoices";
/// The ConnectWise kind a pulled invoice is linked as (to itself: its link holds the stamp).
const CW_KIND: &str = "invoice";
/// Tries of a contract update that meets a newer version.
const UPDATE_TRIES: usize = 3;

fn settings(ctx: &DocContext<'_>) -> AgreementInvoicePull {
    ctx.settings
        .documents
        .agreement_invoices
        .clone()
        .unwrap_or_default()
}

/// The tenant's filter: agreement invoices in its statuses and agreement types.
fn filter(pull: &AgreementInvoicePull) -> Condition {
    let mut filter = Condition::field("type").eq(AGREEMENT_TYPE);
    if !pull.statuses.is_empty() {
        filter = filter.and(Condition::field("status/name").in_(pull.statuses.iter()));
    }
    if !pull.agreement_types.is_empty() {
        filter = filter.and(Condition::field("agreement/type").in_(pull.agreement_types.iter()));
    }
    filter
}

/// The invoices changed since the watermark (or `ids`) and those on the error ledger, stamped.
pub async fn candidates(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<Candidates, SyncError> {
    let pull = settings(ctx);
    let entity = Document::AgreementInvoices.entity();
    pull::stamped(
        ctx,
        (STREAM, entity),
        filter(&pull),
        ids,
        Parent::Invoice,
        |invoice: &Invoice, products| Some(agreement_invoice_stamp(invoice, products, &pull)),
    )
    .await
}

/// What a page read, beyond its invoices.
struct Side {
    /// Every invoice of the page's agreements (the page's too), by agreement.
    by_agreement: HashMap<i64, Vec<Invoice>>,
    /// Products by invoice id.
    products: HashMap<i64, Vec<ProductItem>>,
    /// Catalog item id → identifier, for references without one.
    identifiers: HashMap<i64, String>,
    /// The billing items.
    items: BillingItems,
    /// The contract templates.
    templates: Vec<ContractTemplate>,
}

/// What applying an agreement's period did (the same for each of its invoices in the page).
#[derive(Clone)]
struct Applied {
    outcome: Outcome,
    detail: String,
}

/// Syncs the invoices `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::AgreementInvoices.entity();
    let pull = settings(ctx);
    let cw = &ctx.clients.cw;
    let (wanted, mut records) = pull::parse_ids(entity, ids);
    let query = Query::new().filter(filter(&pull)).page_size(LISTING_PAGE);
    let mut page: Vec<Invoice> = cw
        .list_by_ids(Invoice::PATH, "id", wanted.iter().copied(), &query)
        .await
        .map_err(|e| SyncError::connectwise("reading the page's agreement invoices", e))?;
    page.sort_by_key(|i| i.id);
    for id in &wanted {
        if !page.iter().any(|i| i.id == Some(*id)) {
            records.push(pull::gone(entity, *id, &describe(&pull)));
        }
    }
    let mut agreements: Vec<i64> = page
        .iter()
        .filter_map(|i| i.agreement.as_ref().and_then(|a| a.id))
        .collect();
    agreements.sort_unstable();
    agreements.dedup();
    let mut side = Side {
        by_agreement: HashMap::new(),
        products: HashMap::new(),
        identifiers: HashMap::new(),
        items: BillingItems {
            by_sku: HashMap::new(),
            all: Vec::new(),
        },
        templates: Vec::new(),
    };
    if !agreements.is_empty() {
        let siblings: Vec<Invoice> = cw
            .list_by_ids(Invoice::PATH, "agreement/id", agreements, &query)
            .await
            .map_err(|e| SyncError::connectwise("reading the agreements' invoices", e))?;
        for invoice in siblings.into_iter().chain(page.iter().cloned()) {
            let Some(agreement) = invoice.agreement.as_ref().and_then(|a| a.id) else {
                continue;
            };
            let of = side.by_agreement.entry(agreement).or_default();
            if !of.iter().any(|i| i.id == invoice.id) {
                of.push(invoice);
            }
        }
        // The products of every invoice that makes a contract, and of the page's.
        let mut parents: Vec<i64> = page.iter().filter_map(|i| i.id).collect();
        for invoices in side.by_agreement.values() {
            let refs: Vec<&Invoice> = invoices.iter().collect();
            if let Some((_, group)) = latest_period(&refs) {
                parents.extend(group.iter().filter_map(|i| i.id));
            }
        }
        parents.sort_unstable();
        parents.dedup();
        side.products = read_products(ctx, Parent::Invoice, parents).await?;
        side.identifiers = pull::catalog_identifiers(ctx, side.products.values().flatten()).await?;
        side.items = pull::billing_items(ctx).await?;
        side.templates = ctx
            .clients
            .billing
            .list_contract_templates(&ReferenceQuery::default())
            .await
            .map_err(|e| SyncError::billing("listing the contract templates", e))?
            .records;
    }

    let mut applied: HashMap<i64, Result<Applied, String>> = HashMap::new();
    for invoice in &page {
        let Some(id) = invoice.id else { continue };
        let products = side.products.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let stamp = agreement_invoice_stamp(invoice, products, &pull);
        let recorder = Recorder::new(entity, &id.to_string(), stamp.clone());
        let label = invoice_label(invoice);
        let Some(agreement) = invoice.agreement.as_ref().and_then(|a| a.id) else {
            records.push(recorder.failed(format!(
                "agreement: agreement invoice {label} names no agreement"
            )));
            continue;
        };
        let Some(date) = invoice_date(invoice) else {
            records.push(recorder.failed(format!("date: agreement invoice {label} has no date")));
            continue;
        };
        let invoices: Vec<&Invoice> = side
            .by_agreement
            .get(&agreement)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let Some((latest, group)) = latest_period(&invoices) else {
            records.push(recorder.failed(format!(
                "agreement: ConnectWise listed no dated invoice of agreement {agreement} with \
                 agreement invoice {label}"
            )));
            continue;
        };
        let result = match applied.get(&agreement) {
            Some(result) => result.clone(),
            None => {
                let result = Box::pin(apply(ctx, &pull, agreement, latest, &group, &side)).await?;
                applied.insert(agreement, result.clone());
                result
            }
        };
        let line = match result {
            Err(reason) => recorder.failed(reason),
            Ok(done) => {
                let source_id = id.to_string();
                ctx.record_synced(SourceRef::new(entity, &source_id), CW_KIND, id, &stamp)
                    .await?;
                if date < latest {
                    let (start, end) = period_of(latest);
                    recorder.with_detail(
                        Outcome::Unchanged,
                        format!(
                            "not applied: dated {date}, and agreement {agreement}'s contract \
                             bills the later period {start} to {end}"
                        ),
                    )
                } else {
                    recorder.with_detail(done.outcome, done.detail)
                }
            }
        };
        records.push(line.with_id(id));
    }
    Ok(records)
}

/// The filter, for a line.
fn describe(pull: &AgreementInvoicePull) -> String {
    let mut parts = vec!["type Agreement".to_owned()];
    if !pull.statuses.is_empty() {
        parts.push(format!("statuses {}", pull.statuses.join(", ")));
    }
    if !pull.agreement_types.is_empty() {
        parts.push(format!(
            "agreement types {}",
            pull.agreement_types.join(", ")
        ));
    }
    parts.join("; ")
}

/// Makes agreement `agreement`'s contract bill the period of `date` with the invoices `group`.
/// `Ok(Err(reason))`: this agreement's invoices fail with the reason.
async fn apply(
    ctx: &DocContext<'_>,
    pull: &AgreementInvoicePull,
    agreement: i64,
    date: Date,
    group: &[&Invoice],
    side: &Side,
) -> Result<Result<Applied, String>, SyncError> {
    let mut account = None;
    for invoice in group {
        let what = format!("agreement invoice {}", invoice_label(invoice));
        let company = invoice.company.as_ref().and_then(|c| c.id);
        let bill_to = invoice.bill_to_company.as_ref().and_then(|c| c.id);
        match pull::accounts_of(ctx, &what, company, bill_to).await? {
            Ok((of, _)) => {
                account.get_or_insert(of);
            }
            Err(reason) => return Ok(Err(reason)),
        }
    }
    let Some(account) = account else {
        return Ok(Err(format!(
            "agreement {agreement} has no invoice to apply"
        )));
    };
    let with_products: Vec<(&Invoice, &[ProductItem])> = group
        .iter()
        .map(|i| {
            let products =
                i.id.and_then(|id| side.products.get(&id))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
            (*i, products)
        })
        .collect();
    let lines = match contract_lines(&with_products, &side.identifiers, &side.items.by_sku) {
        Ok(lines) => lines,
        Err(problems) => return Ok(Err(problems.join("; "))),
    };
    let numbers: Vec<String> = group.iter().map(|i| invoice_label(i)).collect();
    let desired = contract_update(date, lines, &numbers, pull);
    let reference = contract_reference(agreement);
    let billing = &ctx.clients.billing;
    let invoices = numbers.join(", ");
    let (start, end) = period_of(date);
    let period = format!("period {start} to {end}, invoices {invoices}");

    let linked = ctx
        .links
        .get_by_cw(ctx.tenant, tickets::AGREEMENT_OF_CONTRACT, agreement)
        .await?
        .filter(|l| l.kind == tickets::CONTRACT)
        .map(|l| l.source_id);
    let mut current = match linked {
        Some(contract) => match billing.get::<Contract>(&contract).await {
            Ok(found) => Some(found),
            Err(BillingError::NotFound { .. }) => None,
            Err(e) => {
                return Ok(Err(billing_record_level(
                    &format!("reading contract {contract}"),
                    e,
                )?));
            }
        },
        None => None,
    };
    if current.is_none() {
        current = match billing.find_contract(&reference).await {
            Ok(found) => found,
            Err(e) => {
                return Ok(Err(billing_record_level(
                    &format!("finding the contract of {reference}"),
                    e,
                )?));
            }
        };
    }
    let agreement_ref = group.first().and_then(|i| i.agreement.as_ref());
    let (contract, created_from) = match current {
        Some(contract) => (contract, None),
        None => {
            let agreement_type = agreement_ref.and_then(|a| a.kind.as_deref());
            let choice = match choose_template(
                agreement_type,
                &side.templates,
                pull.default_template.as_deref(),
            ) {
                Ok(choice) => choice,
                Err(reason) => return Ok(Err(reason)),
            };
            let how = choice.describe(agreement_type);
            if ctx.dry_run {
                return Ok(Ok(Applied {
                    outcome: Outcome::Created,
                    detail: format!(
                        "would create the contract of agreement {agreement} from {how}: {period}"
                    ),
                }));
            }
            let new = NewContract {
                external_reference: reference.clone(),
                account_id: account.clone(),
                template_id: choice.template.id.clone(),
                name: agreement_ref.and_then(|a| a.name.clone()),
                start_date: None,
                end_date: None,
                billable: false,
                period_start: desired.period_start,
                period_end: desired.period_end,
                lines: desired.lines.clone(),
                custom_fields: desired.custom_fields.clone(),
            };
            match billing.create_contract(&new).await {
                Ok(made) => (made.record, made.created.then_some(how)),
                Err(e) => {
                    return Ok(Err(billing_record_level(
                        &format!("creating the contract of {reference}"),
                        e,
                    )?));
                }
            }
        }
    };
    if !ctx.dry_run {
        link_agreement(ctx, &contract.id, agreement).await?;
    }
    let changes = contract_changes(&contract, &desired);
    if let Some(how) = created_from {
        if let Err(reason) = write(ctx, contract.clone(), &desired).await? {
            return Ok(Err(reason));
        }
        return Ok(Ok(Applied {
            outcome: Outcome::Created,
            detail: format!("contract {} created from {how}: {period}", contract.id),
        }));
    }
    if changes.is_empty() {
        return Ok(Ok(Applied {
            outcome: Outcome::Unchanged,
            detail: format!("contract {} bills it already: {period}", contract.id),
        }));
    }
    if ctx.dry_run {
        return Ok(Ok(Applied {
            outcome: Outcome::Updated,
            detail: format!(
                "would update contract {} ({}): {period}",
                contract.id,
                changes.join(", ")
            ),
        }));
    }
    let id = contract.id.clone();
    if let Err(reason) = write(ctx, contract, &desired).await? {
        return Ok(Err(reason));
    }
    Ok(Ok(Applied {
        outcome: Outcome::Updated,
        detail: format!("contract {id} updated ({}): {period}", changes.join(", ")),
    }))
}

/// Links contract `contract` to its agreement, as the ticket import reads it (an existing link
/// of either side to another record is left as it is).
async fn link_agreement(
    ctx: &DocContext<'_>,
    contract: &str,
    agreement: i64,
) -> Result<(), SyncError> {
    let source = SourceRef::new(tickets::CONTRACT, contract);
    if let Some(link) = ctx.links.get(ctx.tenant, source).await?
        && link.cw_id == Some(agreement)
    {
        return Ok(());
    }
    match ctx
        .links
        .link_existing(
            ctx.tenant,
            source,
            tickets::AGREEMENT_OF_CONTRACT,
            agreement,
            "agreement-invoices",
            ctx.now,
        )
        .await
    {
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes `desired` to `contract`: billable cleared first (when set), then the period, lines and
/// fields with billable set again; a newer version is read again and planned again.
async fn write(
    ctx: &DocContext<'_>,
    mut contract: Contract,
    desired: &ContractUpdate,
) -> Result<Result<(), String>, SyncError> {
    let billing = &ctx.clients.billing;
    for _ in 0..UPDATE_TRIES {
        if contract_changes(&contract, desired).is_empty() {
            return Ok(Ok(()));
        }
        let mut step = Ok(contract.clone());
        if contract.billable {
            let hold = ContractUpdate {
                billable: false,
                period_start: contract.period_start,
                period_end: contract.period_end,
                lines: contract.lines.clone(),
                custom_fields: BTreeMap::new(),
            };
            step = billing
                .update_contract(&contract.id, contract.version, &hold)
                .await;
        }
        let step = match step {
            Ok(held) => {
                billing
                    .update_contract(&held.id, held.version, desired)
                    .await
            }
            Err(e) => Err(e),
        };
        match step {
            Ok(_) => return Ok(Ok(())),
            Err(BillingError::VersionConflict { .. }) => {
                contract = match billing.get::<Contract>(&contract.id).await {
                    Ok(again) => again,
                    Err(e) => {
                        return Ok(Err(billing_record_level(
                            &format!("reading contract {} again", contract.id),
                            e,
                        )?));
                    }
                };
            }
            Err(e) => {
                return Ok(Err(billing_record_level(
                    &format!("updating contract {}", contract.id),
                    e,
                )?));
            }
        }
    }
    Ok(Err(format!(
        "contract {} kept changing while it was updated: tried again on the next run",
        contract.id
    )))
}
