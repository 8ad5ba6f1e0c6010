//! In-memory links for unit tests and the local run: the same keys, conditions and decisions as
//! DynamoDB, each operation atomic under one mutex (as a conditional write or a transaction is).

use super::{
    ClaimOutcome, ClaimPlan, DEFAULT_STALE_AFTER, Link, LinkExistingPlan, LinkState, LinkStore,
    ReverseLink, SourceRef, check_claim_tenant, diagnose_complete, diagnose_link_existing,
    diagnose_record_sync, new_claim, new_claim_token, plan_claim, plan_link_existing,
    validate_fingerprint, validate_kind, validate_source, validate_source_id, validate_stamp,
};
use crate::links::Claim;
use crate::{StoreError, TenantId, keys};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use time::{Duration, OffsetDateTime};

type Key = (String, String);

/// Links held in process memory; nothing survives the process.
#[derive(Debug)]
pub struct MemoryLinkStore {
    stale_after: Duration,
    items: Mutex<Items>,
}

#[derive(Debug, Default)]
struct Items {
    forward: HashMap<Key, Link>,
    reverse: HashMap<Key, ReverseLink>,
}

impl MemoryLinkStore {
    /// An empty store whose pending claims go stale after `stale_after`.
    pub fn new(stale_after: Duration) -> Self {
        MemoryLinkStore {
            stale_after,
            items: Mutex::new(Items::default()),
        }
    }

    fn items(&self) -> MutexGuard<'_, Items> {
        // A panic elsewhere while holding the lock leaves whole items behind (every write below
        // is a single insert/remove), so the data is still consistent.
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes a linked link with `change`, moving `updated_at` and the version; a link that is
    /// not linked (pending, or gone) is diagnosed.
    fn update_linked(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        now: OffsetDateTime,
        change: impl FnOnce(&mut Link),
    ) -> Result<Link, StoreError> {
        let key = keys::link(tenant, source.kind, source.id);
        let mut items = self.items();
        match items.forward.get_mut(&key) {
            Some(link) if link.state == LinkState::Linked => {
                change(link);
                link.updated_at = now;
                link.version += 1;
                Ok(link.clone())
            }
            other => Err(diagnose_record_sync(tenant, source, other.as_deref())),
        }
    }
}

/// Every link a [`MemoryLinkStore`] holds, both directions, as data: what the local run keeps
/// in its `--state` file so a later run sees the links of the earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkSnapshot {
    forward: Vec<(Key, Link)>,
    reverse: Vec<(Key, ReverseLink)>,
}

impl MemoryLinkStore {
    /// Everything the store holds (sorted, so the same links give the same snapshot).
    pub fn snapshot(&self) -> LinkSnapshot {
        let items = self.items();
        let mut forward: Vec<(Key, Link)> = items
            .forward
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut reverse: Vec<(Key, ReverseLink)> = items
            .reverse
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        forward.sort_by(|a, b| a.0.cmp(&b.0));
        reverse.sort_by(|a, b| a.0.cmp(&b.0));
        LinkSnapshot { forward, reverse }
    }

    /// Replaces everything the store holds with `snapshot`'s links.
    pub fn restore(&self, snapshot: LinkSnapshot) {
        let mut items = self.items();
        items.forward = snapshot.forward.into_iter().collect();
        items.reverse = snapshot.reverse.into_iter().collect();
    }
}

impl Default for MemoryLinkStore {
    fn default() -> Self {
        MemoryLinkStore::new(DEFAULT_STALE_AFTER)
    }
}

#[async_trait::async_trait]
impl LinkStore for MemoryLinkStore {
    async fn get(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
    ) -> Result<Option<Link>, StoreError> {
        validate_source(source)?;
        let key = keys::link(tenant, source.kind, source.id);
        Ok(self.items().forward.get(&key).cloned())
    }

    async fn get_by_cw(
        &self,
        tenant: &TenantId,
        cw_kind: &str,
        cw_id: i64,
    ) -> Result<Option<Link>, StoreError> {
        validate_kind("cw_kind", cw_kind)?;
        let items = self.items();
        let Some(reverse) = items
            .reverse
            .get(&keys::reverse_link(tenant, cw_kind, cw_id))
        else {
            return Ok(None);
        };
        let forward = keys::link(tenant, &reverse.source_kind, &reverse.source_id);
        Ok(items
            .forward
            .get(&forward)
            .filter(|link| {
                link.state == LinkState::Linked
                    && link.cw_id == Some(cw_id)
                    && link.cw_kind == cw_kind
            })
            .cloned())
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
        let items = self.items();
        Ok(source_ids
            .iter()
            .filter_map(|id| {
                let link = items.forward.get(&keys::link(tenant, kind, id))?;
                Some((id.clone(), link.clone()))
            })
            .collect())
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
        let key = keys::link(tenant, source.kind, source.id);
        let mut items = self.items();
        let existing = items.forward.get(&key).cloned();
        match plan_claim(tenant, existing, now, self.stale_after)? {
            ClaimPlan::Create => {
                let token = new_claim_token();
                let link = Link {
                    tenant: tenant.clone(),
                    kind: source.kind.to_owned(),
                    source_id: source.id.to_owned(),
                    cw_kind: cw_kind.to_owned(),
                    cw_id: None,
                    state: LinkState::Pending,
                    fingerprint: None,
                    sync_stamp: None,
                    claim_token: Some(token.clone()),
                    claimed_at: Some(now),
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                items.forward.insert(key, link);
                Ok(ClaimOutcome::Won(new_claim(
                    tenant, source, cw_kind, token, now, None,
                )))
            }
            ClaimPlan::TakeOver { old_claimed_at, .. } => {
                let token = new_claim_token();
                if let Some(link) = items.forward.get_mut(&key) {
                    link.cw_kind = cw_kind.to_owned();
                    link.claim_token = Some(token.clone());
                    link.claimed_at = Some(now);
                    link.updated_at = now;
                    link.version += 1;
                }
                Ok(ClaimOutcome::Won(new_claim(
                    tenant,
                    source,
                    cw_kind,
                    token,
                    now,
                    Some(old_claimed_at),
                )))
            }
            ClaimPlan::Lost(outcome) => Ok(*outcome),
        }
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
        let forward_key = keys::link(tenant, source.kind, source.id);
        let reverse_key = keys::reverse_link(tenant, claim.cw_kind(), cw_id);
        let mut items = self.items();
        let forward = items.forward.get(&forward_key).cloned();
        let reverse = items.reverse.get(&reverse_key).cloned();
        let claim_holds = forward.as_ref().is_some_and(|link| {
            link.state == LinkState::Pending && link.claim_token.as_deref() == Some(claim.token())
        });
        if !claim_holds || reverse.is_some() {
            return diagnose_complete(claim, cw_id, forward, reverse);
        }
        let Some(link) = items.forward.get_mut(&forward_key) else {
            return diagnose_complete(claim, cw_id, None, None);
        };
        link.state = LinkState::Linked;
        link.cw_kind = claim.cw_kind().to_owned();
        link.cw_id = Some(cw_id);
        link.fingerprint = Some(fingerprint.to_owned());
        link.claim_token = None;
        link.updated_at = now;
        link.version += 1;
        let linked = link.clone();
        items.reverse.insert(
            reverse_key,
            ReverseLink {
                source_kind: source.kind.to_owned(),
                source_id: source.id.to_owned(),
            },
        );
        Ok(linked)
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
        let forward_key = keys::link(tenant, source.kind, source.id);
        let reverse_key = keys::reverse_link(tenant, cw_kind, cw_id);
        let mut items = self.items();
        let forward = items.forward.get(&forward_key).cloned();
        let plan = plan_link_existing(
            tenant,
            source,
            forward.as_ref(),
            cw_kind,
            cw_id,
            now,
            self.stale_after,
        )?;
        let (created_at, version) = match (plan, &forward) {
            (LinkExistingPlan::Resync, Some(existing)) => {
                let mut link = existing.clone();
                link.fingerprint = Some(fingerprint.to_owned());
                link.updated_at = now;
                link.version += 1;
                items.forward.insert(forward_key, link.clone());
                return Ok(link);
            }
            (LinkExistingPlan::ReplaceStale { created_at, .. }, Some(existing)) => {
                (created_at, existing.version + 1)
            }
            _ => (now, 1),
        };
        if let Some(reverse) = items.reverse.get(&reverse_key).cloned() {
            return diagnose_link_existing(tenant, source, cw_kind, cw_id, forward, Some(reverse));
        }
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
        items.forward.insert(forward_key, link.clone());
        items.reverse.insert(
            reverse_key,
            ReverseLink {
                source_kind: source.kind.to_owned(),
                source_id: source.id.to_owned(),
            },
        );
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
        self.update_linked(tenant, source, now, |link| {
            link.fingerprint = Some(fingerprint.to_owned());
        })
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
        self.update_linked(tenant, source, now, |link| {
            link.sync_stamp = Some(stamp.to_owned());
        })
    }

    async fn unlink(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
    ) -> Result<Option<Link>, StoreError> {
        validate_source(source)?;
        let mut items = self.items();
        let Some(link) = items
            .forward
            .remove(&keys::link(tenant, source.kind, source.id))
        else {
            return Ok(None);
        };
        if let Some(cw_id) = link.cw_id {
            let reverse_key = keys::reverse_link(tenant, &link.cw_kind, cw_id);
            // Only our own reverse item: the same condition the DynamoDB delete carries.
            if items.reverse.get(&reverse_key).is_some_and(|reverse| {
                reverse.source_kind == source.kind && reverse.source_id == source.id
            }) {
                items.reverse.remove(&reverse_key);
            }
        }
        Ok(Some(link))
    }
}
