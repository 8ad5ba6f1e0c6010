//! Links in the cwsync table. Forward item `T#{tenant}#LINK#{kind}` / `SRC#{source id}`, reverse
//! item `T#{tenant}#CWLINK#{cw kind}` / `CW#{cw id}` (see `KEYS.md`). Every state change is a
//! conditional write (claim: `attribute_not_exists(pk)` or the old claim token; complete: the claim
//! token); both directions change together in one `TransactWriteItems`. After a lost condition
//! the items are read back and judged by the same functions the in-memory store uses.

use super::{
    Claim, ClaimOutcome, ClaimPlan, Link, LinkExistingPlan, LinkState, LinkStore, ReverseLink,
    SourceRef, changed_concurrently, check_claim_tenant, diagnose_complete, diagnose_link_existing,
    diagnose_record_sync, item_name, new_claim, new_claim_token, plan_claim, plan_link_existing,
    validate_fingerprint, validate_kind, validate_source, validate_source_id, validate_stamp,
};
use crate::dynamo::{Table, backend, is_conditional_failure};
use crate::{StoreError, TenantId, keys};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::Duration as StdDuration;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

type Item = HashMap<String, AttributeValue>;

/// BatchGetItem reads at most 100 keys per request.
const BATCH_GET_LIMIT: usize = 100;
/// Rounds of re-asking for `UnprocessedKeys` (throttled reads) before giving up as transient.
const UNPROCESSED_ATTEMPTS: u32 = 8;
/// A conditional write that loses to a concurrent change is re-read and re-planned this often.
const CLAIM_ATTEMPTS: u32 = 3;

/// Links in DynamoDB (one shared table).
#[derive(Debug, Clone)]
pub struct DynamoLinkStore {
    table: Table,
    stale_after: Duration,
}

impl DynamoLinkStore {
    /// A store over `table` whose pending claims go stale after `stale_after`
    /// (usually [`DEFAULT_STALE_AFTER`](super::DEFAULT_STALE_AFTER)). Makes no call.
    pub fn new(table: Table, stale_after: Duration) -> Self {
        DynamoLinkStore { table, stale_after }
    }
}

/// The forward item as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkItem {
    pk: String,
    sk: String,
    kind: String,
    source_id: String,
    cw_kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cw_id: Option<i64>,
    state: LinkState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sync_stamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claim_token: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    claimed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    version: u64,
}

impl LinkItem {
    fn from_link(link: &Link) -> Self {
        let (pk, sk) = keys::link(&link.tenant, &link.kind, &link.source_id);
        LinkItem {
            pk,
            sk,
            kind: link.kind.clone(),
            source_id: link.source_id.clone(),
            cw_kind: link.cw_kind.clone(),
            cw_id: link.cw_id,
            state: link.state,
            fingerprint: link.fingerprint.clone(),
            sync_stamp: link.sync_stamp.clone(),
            claim_token: link.claim_token.clone(),
            claimed_at: link.claimed_at.map(utc),
            created_at: utc(link.created_at),
            updated_at: utc(link.updated_at),
            version: link.version,
        }
    }

    fn into_link(self, tenant: &TenantId) -> Link {
        Link {
            tenant: tenant.clone(),
            kind: self.kind,
            source_id: self.source_id,
            cw_kind: self.cw_kind,
            cw_id: self.cw_id,
            state: self.state,
            fingerprint: self.fingerprint,
            sync_stamp: self.sync_stamp,
            claim_token: self.claim_token,
            claimed_at: self.claimed_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

/// The reverse item as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReverseItem {
    pk: String,
    sk: String,
    source_kind: String,
    source_id: String,
    cw_kind: String,
    cw_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    linked_at: OffsetDateTime,
}

impl ReverseItem {
    fn new(
        tenant: &TenantId,
        source: SourceRef<'_>,
        cw_kind: &str,
        cw_id: i64,
        at: OffsetDateTime,
    ) -> Self {
        let (pk, sk) = keys::reverse_link(tenant, cw_kind, cw_id);
        ReverseItem {
            pk,
            sk,
            source_kind: source.kind.to_owned(),
            source_id: source.id.to_owned(),
            cw_kind: cw_kind.to_owned(),
            cw_id,
            linked_at: utc(at),
        }
    }
}

#[async_trait::async_trait]
impl LinkStore for DynamoLinkStore {
    async fn get(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
    ) -> Result<Option<Link>, StoreError> {
        validate_source(source)?;
        self.read_forward(tenant, source).await
    }

    async fn get_by_cw(
        &self,
        tenant: &TenantId,
        cw_kind: &str,
        cw_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        validate_kind("cw_kind", cw_kind)?;
        let Some(reverse) = self.read_reverse(tenant, cw_kind, cw_id).await? else {
            return Ok(None);
        };
        let source = SourceRef::new(&reverse.source_kind, &reverse.source_id);
        // The forward item is the truth; both are written in one transaction, so a mismatch can
        // only be a concurrent unlink/relink between the two reads.
        Ok(self.read_forward(tenant, source).await?.filter(|link| {
            link.state == LinkState::Linked && link.cw_id == Some(cw_id) && link.cw_kind == cw_kind
        }))
    }

    async fn get_many(
        &self,
        tenant: &TenantId,
        kind: &str,
        source_ids: &[String],
    ) -> Result<HashMap<String, Link>, StoreError> {
        validate_kind("kind", kind)?;
        source_ids
            .iter()
            .try_for_each(|id| validate_source_id(id))?;
        // BatchGetItem refuses a request that names one key twice.
        let mut seen = HashSet::new();
        let unique: Vec<&String> = source_ids.iter().filter(|id| seen.insert(*id)).collect();
        let mut links = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_LIMIT) {
            let keys = chunk
                .iter()
                .map(|id| {
                    let (pk, sk) = keys::link(tenant, kind, id);
                    key(pk, sk)
                })
                .collect();
            for item in self.batch_get(keys).await? {
                let link = parse_link(tenant, &format!("tenant {tenant} link {kind}/?"), item)?;
                links.insert(link.source_id.clone(), link);
            }
        }
        Ok(links)
    }

    async fn claim(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        cw_kind: &str,
        now: OffsetDateTime,
    ) -> Result<ClaimOutcome, StoreError> {
        validate_source(source)?;
        validate_kind("cw_kind", cw_kind)?;
        for _ in 0..CLAIM_ATTEMPTS {
            let existing = self.read_forward(tenant, source).await?;
            let token = new_claim_token();
            let won = match plan_claim(tenant, existing, now, self.stale_after)? {
                ClaimPlan::Lost(outcome) => return Ok(*outcome),
                ClaimPlan::Create => self
                    .put_pending(tenant, source, cw_kind, &token, now)
                    .await?
                    .then(|| new_claim(tenant, source, cw_kind, token, now, None)),
                ClaimPlan::TakeOver {
                    old_token,
                    old_claimed_at,
                } => self
                    .take_over(tenant, source, cw_kind, &old_token, &token, now)
                    .await?
                    .then(|| new_claim(tenant, source, cw_kind, token, now, Some(old_claimed_at))),
            };
            if let Some(claim) = won {
                tracing::debug!(%tenant, %source, must_heal = claim.must_heal(), "link claimed");
                return Ok(ClaimOutcome::Won(claim));
            }
            // Lost the conditional write to a concurrent claimer: re-read and see who has it.
        }
        Err(changed_concurrently(tenant, source))
    }

    async fn complete(
        &self,
        tenant: &TenantId,
        claim: &Claim,
        cw_id: i64,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError> {
        check_claim_tenant(tenant, claim)?;
        validate_fingerprint(fingerprint)?;
        let source = claim.source();
        let forward = self.read_forward(tenant, source).await?;
        let current = match forward {
            Some(link)
                if link.state == LinkState::Pending
                    && link.claim_token.as_deref() == Some(claim.token()) =>
            {
                link
            }
            other => {
                let reverse = self.read_reverse(tenant, claim.cw_kind(), cw_id).await?;
                return diagnose_complete(claim, cw_id, other, reverse);
            }
        };
        let (pk, sk) = keys::link(tenant, source.kind, source.id);
        let update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(key(pk, sk)))
            .update_expression(
                "SET #state = :linked, #cwKind = :cwKind, #cwId = :cwId, #fp = :fp, \
                 #updatedAt = :now, #version = :next REMOVE #token",
            )
            .condition_expression("#state = :pending AND #token = :token AND #version = :version")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#cwKind", "cwKind")
            .expression_attribute_names("#cwId", "cwId")
            .expression_attribute_names("#fp", "fingerprint")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#token", "claimToken")
            .expression_attribute_values(":linked", s("linked"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":cwKind", s(claim.cw_kind()))
            .expression_attribute_values(":cwId", n(cw_id))
            .expression_attribute_values(":fp", s(fingerprint))
            .expression_attribute_values(":now", s(&timestamp(now)?))
            .expression_attribute_values(":token", s(claim.token()))
            .expression_attribute_values(":version", n(current.version))
            .expression_attribute_values(":next", n(current.version + 1))
            .build()
            .map_err(|e| request_error("TransactWriteItems", e))?;
        let reverse = put_if_absent(
            &self.table.name,
            to_item(&ReverseItem::new(
                tenant,
                source,
                claim.cw_kind(),
                cw_id,
                now,
            ))?,
        )?;
        let written = self
            .transact(vec![
                TransactWriteItem::builder().update(update).build(),
                TransactWriteItem::builder().put(reverse).build(),
            ])
            .await?;
        if !written {
            let forward = self.read_forward(tenant, source).await?;
            let reverse = self.read_reverse(tenant, claim.cw_kind(), cw_id).await?;
            return diagnose_complete(claim, cw_id, forward, reverse);
        }
        tracing::debug!(%tenant, %source, cw_id, "link completed");
        Ok(Link {
            cw_kind: claim.cw_kind().to_owned(),
            cw_id: Some(cw_id),
            state: LinkState::Linked,
            fingerprint: Some(fingerprint.to_owned()),
            sync_stamp: None,
            claim_token: None,
            updated_at: now,
            version: current.version + 1,
            ..current
        })
    }

    async fn link_existing(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        cw_kind: &str,
        cw_id: i64,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError> {
        validate_source(source)?;
        validate_kind("cw_kind", cw_kind)?;
        validate_fingerprint(fingerprint)?;
        let forward = self.read_forward(tenant, source).await?;
        let plan = plan_link_existing(
            tenant,
            source,
            forward.as_ref(),
            cw_kind,
            cw_id,
            now,
            self.stale_after,
        )?;
        let (created_at, version, old_token) = match (plan, &forward) {
            (LinkExistingPlan::Resync, _) => {
                return self.record_sync(tenant, source, fingerprint, now).await;
            }
            (
                LinkExistingPlan::ReplaceStale {
                    created_at,
                    old_token,
                },
                Some(existing),
            ) => (created_at, existing.version + 1, Some(old_token)),
            _ => (now, 1, None),
        };
        let link = Link {
            tenant: tenant.clone(),
            kind: source.kind.to_owned(),
            source_id: source.id.to_owned(),
            cw_kind: cw_kind.to_owned(),
            cw_id: Some(cw_id),
            state: LinkState::Linked,
            fingerprint: Some(fingerprint.to_owned()),
            sync_stamp: None,
            claim_token: None,
            claimed_at: None,
            created_at,
            updated_at: now,
            version,
        };
        let forward_item = to_item(&LinkItem::from_link(&link))?;
        let forward_put = match &old_token {
            None => put_if_absent(&self.table.name, forward_item)?,
            Some(old_token) => Put::builder()
                .table_name(&self.table.name)
                .set_item(Some(forward_item))
                .condition_expression("#state = :pending AND #token = :old")
                .expression_attribute_names("#state", "state")
                .expression_attribute_names("#token", "claimToken")
                .expression_attribute_values(":pending", s("pending"))
                .expression_attribute_values(":old", s(old_token))
                .build()
                .map_err(|e| request_error("TransactWriteItems", e))?,
        };
        let reverse_put = put_if_absent(
            &self.table.name,
            to_item(&ReverseItem::new(tenant, source, cw_kind, cw_id, now))?,
        )?;
        let written = self
            .transact(vec![
                TransactWriteItem::builder().put(forward_put).build(),
                TransactWriteItem::builder().put(reverse_put).build(),
            ])
            .await?;
        if !written {
            let forward = self.read_forward(tenant, source).await?;
            let reverse = self.read_reverse(tenant, cw_kind, cw_id).await?;
            return diagnose_link_existing(tenant, source, cw_kind, cw_id, forward, reverse);
        }
        tracing::debug!(%tenant, %source, cw_id, "existing ConnectWise record linked");
        Ok(link)
    }

    async fn record_sync(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError> {
        validate_source(source)?;
        validate_fingerprint(fingerprint)?;
        self.set_on_linked(tenant, source, "fingerprint", fingerprint, now)
            .await
    }

    async fn record_stamp(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        stamp: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError> {
        validate_source(source)?;
        validate_stamp(stamp)?;
        self.set_on_linked(tenant, source, "syncStamp", stamp, now)
            .await
    }

    async fn unlink(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
    ) -> Result<Option<Link>, StoreError> {
        validate_source(source)?;
        let Some(link) = self.read_forward(tenant, source).await? else {
            return Ok(None);
        };
        let (pk, sk) = keys::link(tenant, source.kind, source.id);
        // Only the version we read: a concurrent claim, completion or sync makes this lose.
        let forward_delete = Delete::builder()
            .table_name(&self.table.name)
            .set_key(Some(key(pk, sk)))
            .condition_expression("#version = :version")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":version", n(link.version))
            .build()
            .map_err(|e| request_error("TransactWriteItems", e))?;
        let mut writes = vec![TransactWriteItem::builder().delete(forward_delete).build()];
        if let Some(cw_id) = link.cw_id {
            let (pk, sk) = keys::reverse_link(tenant, &link.cw_kind, cw_id);
            let reverse_delete = Delete::builder()
                .table_name(&self.table.name)
                .set_key(Some(key(pk, sk)))
                .condition_expression(
                    "attribute_not_exists(pk) OR (#sourceKind = :kind AND #sourceId = :id)",
                )
                .expression_attribute_names("#sourceKind", "sourceKind")
                .expression_attribute_names("#sourceId", "sourceId")
                .expression_attribute_values(":kind", s(source.kind))
                .expression_attribute_values(":id", s(source.id))
                .build()
                .map_err(|e| request_error("TransactWriteItems", e))?;
            writes.push(TransactWriteItem::builder().delete(reverse_delete).build());
        }
        if self.transact(writes).await? {
            tracing::debug!(%tenant, %source, "link removed");
            Ok(Some(link))
        } else {
            Err(changed_concurrently(tenant, source))
        }
    }
}

impl DynamoLinkStore {
    /// Sets one attribute of a linked link (the fingerprint of a sync, or its stamp), moving
    /// `updatedAt` and the version; a link that is not linked (pending, or gone) is diagnosed.
    async fn set_on_linked(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        attribute: &'static str,
        value: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError> {
        let (pk, sk) = keys::link(tenant, source.kind, source.id);
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #value = :value, #updatedAt = :now ADD #version :one")
            .condition_expression("#state = :linked")
            .expression_attribute_names("#value", attribute)
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":value", s(value))
            .expression_attribute_values(":now", s(&timestamp(now)?))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":linked", s("linked"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item = output.attributes.unwrap_or_default();
                parse_link(tenant, &item_name(tenant, source), item)
            }
            Err(e) if is_conditional_failure(&e) => {
                let forward = self.read_forward(tenant, source).await?;
                Err(diagnose_record_sync(tenant, source, forward.as_ref()))
            }
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    async fn read_forward(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
    ) -> Result<Option<Link>, StoreError> {
        let (pk, sk) = keys::link(tenant, source.kind, source.id);
        let output = self.table.get_consistent((pk, sk)).await?;
        output
            .item
            .map(|item| parse_link(tenant, &item_name(tenant, source), item))
            .transpose()
    }

    async fn read_reverse(
        &self,
        tenant: &TenantId,
        cw_kind: &str,
        cw_id: i64,
    ) -> Result<Option<ReverseLink>, StoreError> {
        let (pk, sk) = keys::reverse_link(tenant, cw_kind, cw_id);
        let output = self.table.get_consistent((pk, sk)).await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: ReverseItem =
            serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
                item: format!("tenant {tenant} reverse link {cw_kind}/{cw_id}"),
                detail: e.to_string(),
            })?;
        Ok(Some(ReverseLink {
            source_kind: item.source_kind,
            source_id: item.source_id,
        }))
    }

    /// Creates the pending link; `false` when a link appeared first (lost race).
    async fn put_pending(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        cw_kind: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let link = Link {
            tenant: tenant.clone(),
            kind: source.kind.to_owned(),
            source_id: source.id.to_owned(),
            cw_kind: cw_kind.to_owned(),
            cw_id: None,
            state: LinkState::Pending,
            fingerprint: None,
            sync_stamp: None,
            claim_token: Some(token.to_owned()),
            claimed_at: Some(now),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&LinkItem::from_link(&link))?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem", e)),
        }
    }

    /// Takes over a stale pending claim; `false` when its token changed meanwhile (lost race).
    async fn take_over(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        cw_kind: &str,
        old_token: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::link(tenant, source.kind, source.id);
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key(pk, sk)))
            .update_expression(
                "SET #token = :token, #claimedAt = :now, #cwKind = :cwKind, #updatedAt = :now \
                 ADD #version :one",
            )
            .condition_expression("#state = :pending AND #token = :old")
            .expression_attribute_names("#token", "claimToken")
            .expression_attribute_names("#claimedAt", "claimedAt")
            .expression_attribute_names("#cwKind", "cwKind")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":now", s(&timestamp(now)?))
            .expression_attribute_values(":cwKind", s(cw_kind))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":old", s(old_token))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    /// Runs a transaction; `false` when one of its conditions failed.
    async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        let result = self
            .table
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => {
                // Cancelled because another transaction touched the same items at that moment:
                // nothing was written and the same call may well succeed when retried.
                let conflicting = e.code() == Some("TransactionCanceledException")
                    && e.message()
                        .is_some_and(|m| m.contains("TransactionConflict"));
                match backend("TransactWriteItems", e) {
                    StoreError::Backend {
                        operation, detail, ..
                    } if conflicting => Err(StoreError::Backend {
                        operation,
                        detail,
                        transient: true,
                    }),
                    other => Err(other),
                }
            }
        }
    }

    /// One BatchGetItem of at most 100 keys, re-asking for `UnprocessedKeys` with backoff.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| request_error("BatchGetItem", e))?;
        let mut found = Vec::new();
        for attempt in 0..UNPROCESSED_ATTEMPTS {
            if attempt > 0 {
                // Unprocessed keys mean throttling: back off (25 ms, 50 ms, … capped at 1.6 s).
                let delay = 25u64 << attempt.min(6);
                tokio::time::sleep(StdDuration::from_millis(delay)).await;
            }
            let mut output = self
                .table
                .client
                .batch_get_item()
                .request_items(&self.table.name, pending.clone())
                .send()
                .await
                .map_err(|e| backend("BatchGetItem", e))?;
            if let Some(items) = output
                .responses
                .as_mut()
                .and_then(|r| r.remove(&self.table.name))
            {
                found.extend(items);
            }
            match output
                .unprocessed_keys
                .as_mut()
                .and_then(|u| u.remove(&self.table.name))
            {
                Some(unprocessed) if !unprocessed.keys.is_empty() => pending = unprocessed,
                _ => return Ok(found),
            }
        }
        Err(StoreError::Backend {
            operation: "BatchGetItem",
            detail: format!(
                "{} keys still unprocessed after {UNPROCESSED_ATTEMPTS} attempts (throttled)",
                pending.keys.len()
            ),
            transient: true,
        })
    }
}

fn parse_link(tenant: &TenantId, item_label: &str, item: Item) -> Result<Link, StoreError> {
    let item: LinkItem = serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        item: item_label.to_owned(),
        detail: e.to_string(),
    })?;
    Ok(item.into_link(tenant))
}

fn put_if_absent(table: &str, item: Item) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(|e| request_error("TransactWriteItems", e))
}

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Invalid {
        field: "link".to_owned(),
        reason: format!("can't be written as a DynamoDB item: {e}"),
    })
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(pk)),
        (keys::SK.to_owned(), AttributeValue::S(sk)),
    ])
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(UtcOffset::UTC)
}

fn timestamp(at: OffsetDateTime) -> Result<String, StoreError> {
    utc(at).format(&Rfc3339).map_err(|e| StoreError::Invalid {
        field: "now".to_owned(),
        reason: format!("{at} can't be written as RFC 3339: {e}"),
    })
}

fn request_error(operation: &'static str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        operation,
        detail: error.to_string(),
        transient: false,
    }
}
