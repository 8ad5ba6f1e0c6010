//! Pushing one billing document with items to a ConnectWise document with products (an
//! invoice, a sales order, an opportunity): the flow every such kind shares, around the kind's
//! own mapping.
//!
//! A page first reads its ConnectWise side in batches ([`read_side`]): the linked documents by
//! `id in (...)`, the others by their natural key (`invoiceNumber`, `description`, …) `in (...)`,
//! and the products of all of them by `<parent>/id in (...)`. Then each document ([`push`]):
//! - found (linked, or by its key for the same company): when it is *locked* (an invoice posted
//!   to accounting) nothing is written and a difference is the record's failure; else the changed
//!   fields are patched and the products changed in place, created or removed;
//! - found by its key for another company: failed, naming both (never taken over);
//! - else created, claimed first (never two for one billing document: a create whose outcome is
//!   unknown is settled by the key), then its products (read again first: never two).
//!
//! The stamp is recorded once everything is written; a crash before it is finished by the retry.

use std::collections::HashMap;
use std::future::Future;

use cwsync_connectwise::models::{ProductItem, Resource};
use cwsync_connectwise::{Condition, PatchOp, Query};
use cwsync_mapping::documents::lines::{ProductLine, product_plan};
use cwsync_store::links::SourceRef;
use cwsync_store::runs::Outcome;
use cwsync_sync::record::describe_change;
use cwsync_sync::writes::{cw_record_level, fields_of};
use cwsync_sync::{Created, Origin, RecordResult, Recorder, SyncError, create_claimed};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DocContext;
use super::products::{Parent, read_products, write_products};

/// A ConnectWise document with products.
pub trait CwDocument: Resource + Serialize + DeserializeOwned + Clone + Send + Sync {
    /// Its id.
    fn id(&self) -> Option<i64>;
    /// Its company's id.
    fn company_id(&self) -> Option<i64>;
    /// Its natural key's value (what a billing document without a link is found by).
    fn key(&self) -> Option<&str>;
    /// Why it must not be changed any more, when it must not.
    fn locked(&self) -> Option<String> {
        None
    }
    /// The condition a create whose outcome is unknown is looked up by: the key `field` equals
    /// `key` (an opportunity's notes *begin* with its key: `contains`).
    fn key_condition(field: &'static str, key: String) -> Condition {
        Condition::field(field).eq(key)
    }
}

/// How a kind pushes its documents.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// What the products point at.
    pub parent: Parent,
    /// The ConnectWise kind the link holds.
    pub cw_kind: &'static str,
    /// The natural key's field (`invoiceNumber`).
    pub key_field: &'static str,
    /// The document as reports name it (`invoice`).
    pub noun: &'static str,
    /// The billing records' entity (their links and lines).
    pub entity: &'static str,
}

/// What a page read of ConnectWise.
#[derive(Debug)]
pub struct Side<T> {
    /// Documents by id.
    pub by_id: HashMap<i64, T>,
    /// Documents by upper-cased key.
    pub by_key: HashMap<String, T>,
    /// Products by document id.
    pub products: HashMap<i64, Vec<ProductItem>>,
}

/// Reads the ConnectWise side of a page: `wanted` is each billing document's linked id and key.
pub async fn read_side<T: CwDocument>(
    ctx: &DocContext<'_>,
    kind: &Kind,
    wanted: &[(Option<i64>, String)],
) -> Result<Side<T>, SyncError> {
    let cw = &ctx.clients.cw;
    let read = |field: &'static str, values: Vec<cwsync_connectwise::Value>| async move {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        cw.list_by_ids::<T, _>(T::PATH, field, values, &Query::new().page_size(1000))
            .await
            .map_err(|e| SyncError::connectwise(format!("reading {}s by {field}", kind.noun), e))
    };
    let linked = wanted
        .iter()
        .filter_map(|(id, _)| id.map(Into::into))
        .collect();
    let by_id: HashMap<i64, T> = read("id", linked)
        .await?
        .into_iter()
        .filter_map(|d| Some((d.id()?, d)))
        .collect();
    let keys = wanted
        .iter()
        .filter(|(id, _)| id.is_none_or(|id| !by_id.contains_key(&id)))
        .map(|(_, key)| key.trim().to_owned())
        .filter(|k| !k.is_empty())
        .map(Into::into)
        .collect();
    let by_key: HashMap<String, T> = read(kind.key_field, keys)
        .await?
        .into_iter()
        .filter_map(|d| Some((d.key()?.trim().to_uppercase(), d)))
        .collect();
    let known: Vec<i64> = by_id
        .keys()
        .copied()
        .chain(by_key.values().filter_map(CwDocument::id))
        .collect();
    let products = read_products(ctx, kind.parent, known).await?;
    Ok(Side {
        by_id,
        by_key,
        products,
    })
}

/// One billing document to push.
#[derive(Debug)]
pub struct Push<'a, T> {
    /// The billing document's id.
    pub source_id: &'a str,
    /// Its line's recorder.
    pub recorder: &'a Recorder,
    /// What its sync writes (recorded on success).
    pub stamp: &'a str,
    /// The company it belongs to.
    pub company: i64,
    /// Its link's ConnectWise id.
    pub linked: Option<i64>,
    /// Its natural key's value.
    pub key: &'a str,
    /// The ConnectWise document it should be.
    pub desired: T,
    /// Its products.
    pub lines: Vec<ProductLine>,
    /// Product fields filled on create only.
    pub never: &'a [String],
}

/// Pushes one document (see the module docs); `changes` are the kind's changed fields of a
/// current document against the desired one. Its line.
pub async fn push<T, F>(
    ctx: &DocContext<'_>,
    kind: &Kind,
    side: &Side<T>,
    doc: Push<'_, T>,
    changes: F,
) -> Result<RecordResult, SyncError>
where
    T: CwDocument,
    F: Fn(&T, &T) -> Vec<PatchOp>,
{
    let recorder = doc.recorder;
    let source = SourceRef::new(kind.entity, doc.source_id);
    let noun = kind.noun;
    let current = doc
        .linked
        .and_then(|id| side.by_id.get(&id))
        .or_else(|| side.by_key.get(&doc.key.trim().to_uppercase()));
    if let Some(current) = current {
        let Some(cw_id) = current.id() else {
            return Ok(recorder.failed(format!("ConnectWise answered a {noun} without an id")));
        };
        let its_company = current.company_id();
        if its_company != Some(doc.company) {
            return Ok(recorder.failed(format!(
                "{}: ConnectWise {noun} {cw_id} has the {} {:?} but belongs to company {} (the \
                 account's is {}): not changed",
                kind.key_field,
                kind.key_field,
                doc.key.trim(),
                its_company.map_or_else(|| "(none)".to_owned(), |c| c.to_string()),
                doc.company
            )));
        }
        let ops = changes(current, &doc.desired);
        let products = side.products.get(&cw_id).map(Vec::as_slice).unwrap_or(&[]);
        let plan = product_plan(products, &doc.lines, doc.never);
        let mut changed = fields_of(&ops);
        if !plan.is_empty() {
            changed.push(plan.describe());
        }
        if let Some(lock) = current.locked() {
            if changed.is_empty() {
                ctx.record_synced(source, kind.cw_kind, cw_id, doc.stamp)
                    .await?;
                return Ok(recorder
                    .with_detail(Outcome::Unchanged, format!("{lock}; as billed"))
                    .with_id(cw_id));
            }
            return Ok(recorder
                .failed(format!(
                    "ConnectWise {noun} {cw_id}: {lock}, so it is never changed; the billing \
                     document differs in {}: correct it in ConnectWise by hand (or issue a \
                     credit memo)",
                    changed.join(", ")
                ))
                .with_id(cw_id));
        }
        if !ctx.dry_run && !ops.is_empty() {
            let path = format!("{}/{cw_id}", T::PATH);
            if let Err(error) = ctx.clients.cw.patch::<T>(&path, &ops).await {
                let reason = cw_record_level(format!("updating {noun} {cw_id}"), error)?;
                return Ok(recorder.failed(reason));
            }
        }
        if let Err(reason) = write_products(ctx, kind.parent, cw_id, &plan).await? {
            return Ok(recorder.failed(reason).with_id(cw_id));
        }
        ctx.record_synced(source, kind.cw_kind, cw_id, doc.stamp)
            .await?;
        let how = if doc.linked == Some(cw_id) {
            String::new()
        } else {
            format!("matched by {} {:?}; ", kind.key_field, doc.key.trim())
        };
        let outcome = match (changed.is_empty(), how.is_empty()) {
            (false, _) => Outcome::Updated,
            (true, true) => Outcome::Unchanged,
            (true, false) => Outcome::Linked,
        };
        let detail = format!("{how}{}", describe_change(&changed, ctx.dry_run));
        return Ok(recorder.with_detail(outcome, detail).with_id(cw_id));
    }

    // Not in ConnectWise: created, claimed first (a link to a document deleted in ConnectWise is
    // let go first).
    if doc.linked.is_some() && !ctx.dry_run {
        ctx.links.unlink(ctx.tenant, source).await?;
    }
    let what = format!("{noun} of {}", doc.source_id);
    let natural_key = format!("{} {:?}", kind.key_field, doc.key.trim());
    let creation = ctx.creation(source, kind.cw_kind, &what, &natural_key, doc.stamp);
    let mut lines_out = Vec::new();
    let cw = &ctx.clients.cw;
    let key = doc.key.trim().to_owned();
    let company = doc.company;
    let created = create_claimed(
        &creation,
        recorder,
        &mut lines_out,
        CwDocument::id,
        || find_by_key::<T>(cw, kind, key.clone(), company),
        || cw.create::<T, T>(T::PATH, &doc.desired),
    )
    .await?;
    // A create ConnectWise answered made a new document, with no products yet; one found by its
    // key or linked by another worker may have some (an earlier attempt's): those are read. One
    // found holds the fields of the attempt that made it: they are brought to today's.
    let (cw_id, fresh) = match created {
        Created::Linked { record, origin, .. } => {
            let id = record.id();
            let path = format!("{}/{}", T::PATH, id.unwrap_or_default());
            let found = cwsync_sync::writes::update_found(
                cw,
                &path,
                origin,
                record,
                |found| changes(found, &doc.desired),
                ctx.dry_run,
                &mut lines_out,
            );
            if found.await?.is_none() {
                return Ok(lines_out
                    .pop()
                    .unwrap_or_else(|| recorder.failed("refused")));
            }
            (id, origin == Origin::Answered)
        }
        Created::AlreadyLinked(link) => (link.cw_id, false),
        Created::LinkedToOther { cw_id, holder } => {
            let why = cwsync_sync::claim::linked_to_other(kind.cw_kind, cw_id, &holder);
            return Ok(recorder.failed(why));
        }
        Created::Planned => {
            return Ok(recorder.with_detail(
                Outcome::Created,
                format!("would create the {noun} with {} products", doc.lines.len()),
            ));
        }
        Created::Refused => {
            return Ok(lines_out
                .pop()
                .unwrap_or_else(|| recorder.failed("refused")));
        }
    };
    let Some(cw_id) = cw_id else {
        return Ok(recorder.failed(format!(
            "ConnectWise answered the created {noun} without an id"
        )));
    };
    // Products of a document created by an earlier attempt are read again (never two).
    let existing = if fresh {
        Vec::new()
    } else {
        read_products(ctx, kind.parent, vec![cw_id])
            .await?
            .remove(&cw_id)
            .unwrap_or_default()
    };
    let plan = product_plan(&existing, &doc.lines, doc.never);
    if let Err(reason) = write_products(ctx, kind.parent, cw_id, &plan).await? {
        return Ok(recorder.failed(reason).with_id(cw_id));
    }
    ctx.record_synced(source, kind.cw_kind, cw_id, doc.stamp)
        .await?;
    let mut line = lines_out
        .pop()
        .unwrap_or_else(|| recorder.with_detail(Outcome::Created, String::new()));
    if !plan.is_empty() {
        line.detail = [line.detail.as_str(), &plan.describe()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
    }
    Ok(line.with_id(cw_id))
}

/// The one document of `company` whose key is `key`, read afresh.
fn find_by_key<T: CwDocument>(
    cw: &cwsync_connectwise::Client,
    kind: &Kind,
    key: String,
    company: i64,
) -> impl Future<Output = Result<Option<T>, SyncError>> {
    let field = kind.key_field;
    let noun = kind.noun;
    async move {
        let found: Vec<T> = cw
            .list_all(T::PATH, &Query::new().filter(T::key_condition(field, key)))
            .await
            .map_err(|e| SyncError::connectwise(format!("finding a {noun} by {field}"), e))?;
        Ok(found.into_iter().find(|d| d.company_id() == Some(company)))
    }
}
