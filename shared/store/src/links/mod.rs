//! Links between billing records and ConnectWise records, in both directions, per tenant and
//! entity kind: the forward item (source id → ConnectWise id, state, fingerprint of the last synced
//! values) and the reverse item (ConnectWise id → source id), always written together.
//!
//! **Claim before create** (DESIGN §5) is how "never a duplicate" holds under retries, redelivery
//! and concurrent workers:
//!
//! 1. [`LinkStore::claim`] writes a `pending` link with a random claim token, conditionally: of
//!    many concurrent claimers exactly one wins ([`ClaimOutcome::Won`]).
//! 2. The winner creates the record in ConnectWise — or, when [`Claim::must_heal`] says an earlier
//!    claimer may have died half-way, first looks it up by natural key and creates only if absent.
//! 3. [`LinkStore::complete`] turns the link `linked`, conditional on the claim token, and writes
//!    the reverse item in the same transaction, so one ConnectWise record can never be linked to
//!    two billing records.
//!
//! The state decisions (is a claim stale, who lost, what a failed write means) live in this file
//! and are shared by [`MemoryLinkStore`] and [`DynamoLinkStore`], so the two cannot drift. Every
//! method takes the [`TenantId`] and only builds keys under that tenant's prefix.
//! This module never creates anything in ConnectWise and never decides *whether* to create: it
//! only records and arbitrates.

mod dynamo;
mod memory;

pub use dynamo::DynamoLinkStore;
pub use memory::{LinkSnapshot, MemoryLinkStore};

use crate::{StoreError, TenantId};
use std::collections::HashMap;
use std::fmt;
use time::{Duration, OffsetDateTime};

/// How long a `pending` claim protects its record before another worker may take it over. It must
/// exceed the longest create in ConnectWise including client retries, or two workers could both
/// create; five minutes is far above that.
pub const DEFAULT_STALE_AFTER: Duration = Duration::minutes(5);

/// Longest source id accepted (bytes): ids stand in the sort key, which DynamoDB caps at 1 KiB.
const MAX_SOURCE_ID_BYTES: usize = 512;
/// Longest fingerprint accepted (bytes): a hash of the synced values, never the values themselves.
const MAX_FINGERPRINT_BYTES: usize = 256;
/// Longest entity kind accepted.
const MAX_KIND_CHARS: usize = 32;

/// One billing record: its entity kind (`company`, `site`, `contact`, …) and its id in the
/// billing system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceRef<'a> {
    /// Entity kind: 1–32 of `a-z0-9_-` (our own constants, they stand inside a key).
    pub kind: &'a str,
    /// The record's id in the billing system (1–512 bytes, any characters).
    pub id: &'a str,
}

impl<'a> SourceRef<'a> {
    /// A billing record reference; validated when a store uses it.
    pub fn new(kind: &'a str, id: &'a str) -> Self {
        SourceRef { kind, id }
    }
}

impl fmt::Display for SourceRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

/// Where a link is in claim-before-create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    /// Claimed: a worker is creating (or healing) the ConnectWise record.
    Pending,
    /// The ConnectWise record exists and both directions are written.
    Linked,
}

/// A link as stored: the forward direction, billing record → ConnectWise record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    /// The tenant the link belongs to.
    pub tenant: TenantId,
    /// The billing record's entity kind.
    pub kind: String,
    /// The billing record's id.
    pub source_id: String,
    /// The ConnectWise record kind (e.g. `company`).
    pub cw_kind: String,
    /// The ConnectWise id; `None` while pending.
    pub cw_id: Option<i64>,
    /// Pending or linked.
    pub state: LinkState,
    /// Fingerprint of the values last synced to ConnectWise; `None` while pending.
    pub fingerprint: Option<String>,
    /// What both sides looked like when the sync last wrote or verified the record (a hash of
    /// the billing values and of the ConnectWise records' `_info.lastUpdated`), so a planner can
    /// tell an unchanged record without syncing it; `None` until a sync records one (see
    /// [`LinkStore::record_stamp`]). Claims, completions and links to an existing record start
    /// without one.
    pub sync_stamp: Option<String>,
    /// The claim token of a pending link (not a secret: it only arbitrates between workers, and
    /// a [`Claim`] cannot be built from it outside this crate).
    pub claim_token: Option<String>,
    /// When the current (or last) claim was taken.
    pub claimed_at: Option<OffsetDateTime>,
    /// When the link was first written.
    pub created_at: OffsetDateTime,
    /// When the link last changed.
    pub updated_at: OffsetDateTime,
    /// Incremented on every write; guards deletes against concurrent changes.
    pub version: u64,
}

impl Link {
    /// The billing record this link belongs to.
    pub fn source(&self) -> SourceRef<'_> {
        SourceRef::new(&self.kind, &self.source_id)
    }
}

/// A won claim on a billing record: the right to create its ConnectWise record and then
/// [`LinkStore::complete`] the link. Only a store can hand one out.
///
/// If [`Claim::must_heal`] is true this claim replaced a *stale* pending one: the earlier claimer
/// may have created the ConnectWise record and died before completing. The holder MUST look the
/// record up by its natural key first and complete with the found id; it creates only when the
/// look-up finds nothing. Creating blindly here is exactly the duplicate this design prevents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    tenant: TenantId,
    kind: String,
    source_id: String,
    cw_kind: String,
    token: String,
    claimed_at: OffsetDateTime,
    replaced_claim_at: Option<OffsetDateTime>,
}

impl Claim {
    /// The tenant of the claimed record.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The claimed billing record.
    pub fn source(&self) -> SourceRef<'_> {
        SourceRef::new(&self.kind, &self.source_id)
    }

    /// The ConnectWise kind the record will be linked to.
    pub fn cw_kind(&self) -> &str {
        &self.cw_kind
    }

    /// When this claim was taken.
    pub fn claimed_at(&self) -> OffsetDateTime {
        self.claimed_at
    }

    /// Whether a stale pending claim was taken over: look the record up by natural key before
    /// any create (see the type's docs).
    pub fn must_heal(&self) -> bool {
        self.replaced_claim_at.is_some()
    }

    /// When the stale claim this one replaced was taken, if any.
    pub fn replaced_claim_at(&self) -> Option<OffsetDateTime> {
        self.replaced_claim_at
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// What [`LinkStore::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This caller holds the claim: create (or heal, see [`Claim::must_heal`]), then complete.
    Won(Claim),
    /// The record is already linked: update the ConnectWise record instead of creating one.
    AlreadyLinked(Link),
    /// Another worker holds a fresh claim and is creating the record right now: do nothing now
    /// and retry later (after `stale_at` the claim can be taken over).
    HeldByOther {
        /// When the other worker claimed it.
        claimed_at: OffsetDateTime,
        /// When its claim becomes stale.
        stale_at: OffsetDateTime,
    },
}

/// The links of every tenant. See the module docs for the claim-before-create protocol.
#[async_trait::async_trait]
pub trait LinkStore: Send + Sync + fmt::Debug {
    /// The link of one billing record (pending or linked), if any. Strongly consistent.
    async fn get(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
    ) -> Result<Option<Link>, StoreError>;

    /// The link whose ConnectWise side is `cw_kind` `cw_id`, found through the reverse item.
    async fn get_by_cw(
        &self,
        tenant: &TenantId,
        cw_kind: &str,
        cw_id: i64,
    ) -> Result<Option<Link>, StoreError>;

    /// The links of many records of one kind, keyed by source id (records without a link are
    /// absent). Duplicate ids are read once.
    async fn get_many(
        &self,
        tenant: &TenantId,
        kind: &str,
        source_ids: &[String],
    ) -> Result<HashMap<String, Link>, StoreError>;

    /// Claims a record before creating it in ConnectWise: of concurrent claimers exactly one
    /// gets [`ClaimOutcome::Won`]. A pending claim older than the store's staleness window is
    /// taken over (and the new claim [`must heal`](Claim::must_heal)).
    async fn claim(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        cw_kind: &str,
        now: OffsetDateTime,
    ) -> Result<ClaimOutcome, StoreError>;

    /// Pending → linked after the ConnectWise record `cw_id` was created (or found by healing),
    /// conditional on the claim still being ours, writing the reverse item in the same
    /// transaction. [`StoreError::Conflict`] when the claim was lost (taken over as stale, or
    /// unlinked) or when `cw_id` is already linked to another record (the error names both).
    /// Completing the same claim with the same id again returns the link (retry-safe).
    async fn complete(
        &self,
        tenant: &TenantId,
        claim: &Claim,
        cw_id: i64,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError>;

    /// Links a record to a ConnectWise record that already exists (matched, nothing created):
    /// both directions in one transaction, when the record has no link or only a stale pending
    /// one. Linking again to the same ConnectWise record just records the fingerprint.
    /// [`StoreError::Conflict`] when the record is linked elsewhere, freshly claimed, or `cw_id`
    /// is linked to another record.
    async fn link_existing(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        cw_kind: &str,
        cw_id: i64,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError>;

    /// Records a sync (update) of a linked record: new fingerprint and `updated_at`.
    /// [`StoreError::NotFound`] without a link, [`StoreError::Conflict`] while it is pending.
    async fn record_sync(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError>;

    /// Records the sync stamp of a linked record (see [`Link::sync_stamp`]): what both sides
    /// looked like when a sync last wrote or verified it. Leaves the fingerprint alone.
    /// [`StoreError::NotFound`] without a link, [`StoreError::Conflict`] while it is pending.
    async fn record_stamp(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
        stamp: &str,
        now: OffsetDateTime,
    ) -> Result<Link, StoreError>;

    /// Removes a link, both directions in one transaction (a pending link has only the
    /// forward one). Returns the removed link; `None` when there was none.
    async fn unlink(
        &self,
        tenant: &TenantId,
        source: SourceRef<'_>,
    ) -> Result<Option<Link>, StoreError>;
}

/// The reverse direction: ConnectWise record → billing record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ReverseLink {
    pub(crate) source_kind: String,
    pub(crate) source_id: String,
}

/// What a claim attempt must write, decided from the current forward item.
#[derive(Debug)]
pub(crate) enum ClaimPlan {
    /// No link: create a pending one (conditional on absence).
    Create,
    /// A stale pending claim: take it over (conditional on its token).
    TakeOver {
        old_token: String,
        old_claimed_at: OffsetDateTime,
    },
    /// Someone else has it (boxed: a link is much larger than the other variants).
    Lost(Box<ClaimOutcome>),
}

pub(crate) fn plan_claim(
    tenant: &TenantId,
    existing: Option<Link>,
    now: OffsetDateTime,
    stale_after: Duration,
) -> Result<ClaimPlan, StoreError> {
    let Some(link) = existing else {
        return Ok(ClaimPlan::Create);
    };
    match link.state {
        LinkState::Linked => Ok(ClaimPlan::Lost(Box::new(ClaimOutcome::AlreadyLinked(link)))),
        LinkState::Pending => {
            let (token, claimed_at) = pending_claim(tenant, &link)?;
            let stale_at = claimed_at + stale_after;
            if now >= stale_at {
                Ok(ClaimPlan::TakeOver {
                    old_token: token.to_owned(),
                    old_claimed_at: claimed_at,
                })
            } else {
                Ok(ClaimPlan::Lost(Box::new(ClaimOutcome::HeldByOther {
                    claimed_at,
                    stale_at,
                })))
            }
        }
    }
}

/// What linking to an existing ConnectWise record must write.
#[derive(Debug)]
pub(crate) enum LinkExistingPlan {
    /// No link: write both directions (forward conditional on absence).
    Create,
    /// A stale pending claim: replace it (conditional on its token), keeping `created_at`.
    ReplaceStale {
        old_token: String,
        created_at: OffsetDateTime,
    },
    /// Already linked to this very ConnectWise record: only record the fingerprint.
    Resync,
}

pub(crate) fn plan_link_existing(
    tenant: &TenantId,
    source: SourceRef<'_>,
    existing: Option<&Link>,
    cw_kind: &str,
    cw_id: i64,
    now: OffsetDateTime,
    stale_after: Duration,
) -> Result<LinkExistingPlan, StoreError> {
    let Some(link) = existing else {
        return Ok(LinkExistingPlan::Create);
    };
    match link.state {
        LinkState::Linked if link.cw_id == Some(cw_id) && link.cw_kind == cw_kind => {
            Ok(LinkExistingPlan::Resync)
        }
        LinkState::Linked => Err(conflict(
            tenant,
            source,
            format!(
                "already linked to ConnectWise {} {}; unlink it before linking it to {cw_kind} {cw_id}",
                link.cw_kind,
                link.cw_id
                    .map_or_else(|| "?".to_owned(), |id| id.to_string()),
            ),
        )),
        LinkState::Pending => {
            let (token, claimed_at) = pending_claim(tenant, link)?;
            if now >= claimed_at + stale_after {
                Ok(LinkExistingPlan::ReplaceStale {
                    old_token: token.to_owned(),
                    created_at: link.created_at,
                })
            } else {
                Err(conflict(
                    tenant,
                    source,
                    format!(
                        "claimed at {claimed_at} by a worker that may be creating it in ConnectWise now; \
                         retry after {}",
                        claimed_at + stale_after
                    ),
                ))
            }
        }
    }
}

/// Why a `complete` did not apply, from the items as they are now; `Ok` when the same completion
/// already happened (a retry after a lost response).
pub(crate) fn diagnose_complete(
    claim: &Claim,
    cw_id: i64,
    forward: Option<Link>,
    reverse: Option<ReverseLink>,
) -> Result<Link, StoreError> {
    let tenant = claim.tenant();
    let source = claim.source();
    let created = format!(
        "ConnectWise {} {cw_id} created under it must be found by natural key (or removed if a duplicate)",
        claim.cw_kind
    );
    match forward {
        Some(link)
            if link.state == LinkState::Linked
                && link.cw_id == Some(cw_id)
                && link.cw_kind == claim.cw_kind =>
        {
            Ok(link)
        }
        Some(link)
            if link.state == LinkState::Pending
                && link.claim_token.as_deref() == Some(claim.token()) =>
        {
            match reverse {
                Some(reverse) => Err(cw_taken(tenant, source, &claim.cw_kind, cw_id, &reverse)),
                None => Err(changed_concurrently(tenant, source)),
            }
        }
        Some(link) if link.state == LinkState::Pending => Err(conflict(
            tenant,
            source,
            format!(
                "claim lost: taken over as stale by another worker at {}; {created}",
                link.claimed_at
                    .map_or_else(|| "?".to_owned(), |at| at.to_string())
            ),
        )),
        Some(link) => Err(conflict(
            tenant,
            source,
            format!(
                "claim lost: linked meanwhile to ConnectWise {} {} by another worker; {created}",
                link.cw_kind,
                link.cw_id
                    .map_or_else(|| "?".to_owned(), |id| id.to_string()),
            ),
        )),
        None => Err(conflict(
            tenant,
            source,
            format!("claim lost: the pending link was removed; {created}"),
        )),
    }
}

/// Why a `link_existing` write did not apply; `Ok` when the same link exists now.
pub(crate) fn diagnose_link_existing(
    tenant: &TenantId,
    source: SourceRef<'_>,
    cw_kind: &str,
    cw_id: i64,
    forward: Option<Link>,
    reverse: Option<ReverseLink>,
) -> Result<Link, StoreError> {
    if let Some(link) = forward
        && link.state == LinkState::Linked
        && link.cw_id == Some(cw_id)
        && link.cw_kind == cw_kind
    {
        return Ok(link);
    }
    match reverse {
        Some(reverse)
            if (reverse.source_kind.as_str(), reverse.source_id.as_str())
                != (source.kind, source.id) =>
        {
            Err(cw_taken(tenant, source, cw_kind, cw_id, &reverse))
        }
        _ => Err(changed_concurrently(tenant, source)),
    }
}

/// Why a `record_sync` or `record_stamp` did not apply.
pub(crate) fn diagnose_record_sync(
    tenant: &TenantId,
    source: SourceRef<'_>,
    forward: Option<&Link>,
) -> StoreError {
    match forward {
        None => StoreError::NotFound {
            item: item_name(tenant, source),
        },
        Some(link) if link.state == LinkState::Pending => conflict(
            tenant,
            source,
            "still pending: complete the claim before recording a sync".to_owned(),
        ),
        Some(_) => changed_concurrently(tenant, source),
    }
}

/// The claim token and time of a pending link; a pending link without them is corrupt.
fn pending_claim<'l>(
    tenant: &TenantId,
    link: &'l Link,
) -> Result<(&'l str, OffsetDateTime), StoreError> {
    match (&link.claim_token, link.claimed_at) {
        (Some(token), Some(at)) => Ok((token, at)),
        _ => Err(StoreError::Malformed {
            item: item_name(tenant, link.source()),
            detail: "pending link without claimToken or claimedAt".to_owned(),
        }),
    }
}

/// A fresh random claim token (128 bits, hex).
pub(crate) fn new_claim_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub(crate) fn new_claim(
    tenant: &TenantId,
    source: SourceRef<'_>,
    cw_kind: &str,
    token: String,
    now: OffsetDateTime,
    replaced_claim_at: Option<OffsetDateTime>,
) -> Claim {
    Claim {
        tenant: tenant.clone(),
        kind: source.kind.to_owned(),
        source_id: source.id.to_owned(),
        cw_kind: cw_kind.to_owned(),
        token,
        claimed_at: now,
        replaced_claim_at,
    }
}

/// `tenant acme link company/C-42`: how errors name a link.
pub(crate) fn item_name(tenant: &TenantId, source: SourceRef<'_>) -> String {
    format!("tenant {tenant} link {source}")
}

pub(crate) fn conflict(tenant: &TenantId, source: SourceRef<'_>, reason: String) -> StoreError {
    StoreError::Conflict {
        item: item_name(tenant, source),
        reason,
    }
}

pub(crate) fn changed_concurrently(tenant: &TenantId, source: SourceRef<'_>) -> StoreError {
    conflict(
        tenant,
        source,
        "the link changed concurrently; read it again and retry".to_owned(),
    )
}

fn cw_taken(
    tenant: &TenantId,
    source: SourceRef<'_>,
    cw_kind: &str,
    cw_id: i64,
    reverse: &ReverseLink,
) -> StoreError {
    conflict(
        tenant,
        source,
        format!(
            "ConnectWise {cw_kind} {cw_id} is already linked to {}/{}; one ConnectWise record \
             can't be linked to two billing records ({source} refused)",
            reverse.source_kind, reverse.source_id
        ),
    )
}

/// Validates an entity kind (billing or ConnectWise side); `field` names it in the error.
pub(crate) fn validate_kind(field: &str, kind: &str) -> Result<(), StoreError> {
    let ok = !kind.is_empty()
        && kind.len() <= MAX_KIND_CHARS
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: field.to_owned(),
            reason: format!(
                "{kind:?} is not an entity kind (1–{MAX_KIND_CHARS} of a-z, 0-9, '_', '-')"
            ),
        })
    }
}

pub(crate) fn validate_source(source: SourceRef<'_>) -> Result<(), StoreError> {
    validate_kind("kind", source.kind)?;
    validate_source_id(source.id)
}

pub(crate) fn validate_source_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.len() > MAX_SOURCE_ID_BYTES {
        return Err(StoreError::Invalid {
            field: "source_id".to_owned(),
            reason: format!(
                "must be 1–{MAX_SOURCE_ID_BYTES} bytes, got {} bytes",
                id.len()
            ),
        });
    }
    Ok(())
}

pub(crate) fn validate_fingerprint(fingerprint: &str) -> Result<(), StoreError> {
    validate_hash("fingerprint", fingerprint)
}

/// Validates a sync stamp: a hash, bounded like a fingerprint.
pub(crate) fn validate_stamp(stamp: &str) -> Result<(), StoreError> {
    validate_hash("sync_stamp", stamp)
}

fn validate_hash(field: &str, fingerprint: &str) -> Result<(), StoreError> {
    if fingerprint.is_empty() || fingerprint.len() > MAX_FINGERPRINT_BYTES {
        return Err(StoreError::Invalid {
            field: field.to_owned(),
            reason: format!(
                "must be 1–{MAX_FINGERPRINT_BYTES} bytes (a hash of the synced values), got {} bytes",
                fingerprint.len()
            ),
        });
    }
    Ok(())
}

/// Refuses a claim presented under another tenant than the one it was won for.
pub(crate) fn check_claim_tenant(tenant: &TenantId, claim: &Claim) -> Result<(), StoreError> {
    if claim.tenant() == tenant {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "claim".to_owned(),
            reason: format!(
                "the claim on {} belongs to tenant {}, not {tenant}",
                claim.source(),
                claim.tenant()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    fn pending(claimed_at: OffsetDateTime) -> Link {
        Link {
            tenant: tenant(),
            kind: "company".into(),
            source_id: "C-1".into(),
            cw_kind: "company".into(),
            cw_id: None,
            state: LinkState::Pending,
            fingerprint: None,
            sync_stamp: None,
            claim_token: Some("t1".into()),
            claimed_at: Some(claimed_at),
            created_at: claimed_at,
            updated_at: claimed_at,
            version: 1,
        }
    }

    #[test]
    fn a_pending_claim_becomes_stale_exactly_at_the_end_of_the_window() {
        let at = datetime!(2026-11-22 10:00 UTC);
        let window = Duration::minutes(5);
        let before = plan_claim(
            &tenant(),
            Some(pending(at)),
            at + Duration::seconds(299),
            window,
        );
        assert!(matches!(
            before,
            Ok(ClaimPlan::Lost(lost)) if matches!(*lost, ClaimOutcome::HeldByOther { stale_at, .. } if stale_at == at + window)
        ));
        let after = plan_claim(&tenant(), Some(pending(at)), at + window, window);
        assert!(matches!(after, Ok(ClaimPlan::TakeOver { old_token, .. }) if old_token == "t1"));
    }

    #[test]
    fn a_pending_link_without_a_token_is_reported_as_malformed() {
        let at = datetime!(2026-11-22 10:00 UTC);
        let mut link = pending(at);
        link.claim_token = None;
        let err = plan_claim(&tenant(), Some(link), at, Duration::minutes(5)).unwrap_err();
        assert!(
            err.to_string().contains("tenant acme link company/C-1"),
            "{err}"
        );
    }

    #[test]
    fn kinds_with_key_separators_or_capitals_are_refused() {
        assert!(validate_kind("kind", "company").is_ok());
        assert!(validate_kind("kind", "agreement_addition").is_ok());
        for bad in ["", "Company", "a#b", "a b", &"x".repeat(33)] {
            let err = validate_kind("kind", bad).unwrap_err();
            assert!(matches!(err, StoreError::Invalid { ref field, .. } if field == "kind"));
        }
    }

    #[test]
    fn claim_tokens_are_unique() {
        let a = new_claim_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_claim_token());
    }
}
