//! Claim before create, for a record of any kind: how "never a duplicate" holds when jobs are
//! retried, delivered twice, run at once by several workers or cut off half way.
//!
//! A record is created only after matching found nothing (the caller's business) and a claim on
//! its link was won ([`cwsync_store::links`]). [`create_claimed`] then:
//!
//! 1. claims the link: of concurrent claimers exactly one wins; a loser finds the record linked
//!    (another worker finished: [`Created::AlreadyLinked`]) or held by a fresh claim (the job stops
//!    with [`SyncError::Busy`] and is retried once the claim is done or stale);
//! 2. when the claim replaced a *stale* one (a worker died between its create and its link), looks
//!    the record up by its natural key first and links what it finds ("healing"), creating only
//!    when nothing is there;
//! 3. creates. A create whose outcome is unknown (`Ambiguous`: a timeout after the request may
//!    have arrived) or refused because the natural key is taken (`AlreadyExists`) is settled by
//!    looking the record up by its natural key, never by creating again; not found after an
//!    unknown outcome, the claim is kept and the job retried ([`SyncError::Unsettled`]), so the
//!    next attempt heals. Any other answer means the POST was not applied (the client never
//!    retries a POST blindly): the claim is given back so a retry may create at once;
//! 4. completes the link with the ConnectWise id. When that id turns out to be linked to another
//!    billing record (two records with one natural key, their creates racing), the claim is given
//!    back and the caller reports why ([`Created::LinkedToOther`]): a claim left pending would make
//!    every later run report "being created" instead of the cause.
//!
//! A problem of the record alone (ConnectWise refused its values) is its failed line; anything no
//! record explains stops the job as a [`SyncError`]. In a dry run nothing is claimed, created or
//! linked: the line says what would be created.

use std::future::Future;

use cwsync_connectwise::CwError;
use cwsync_store::links::{Claim, ClaimOutcome, Link, LinkStore, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_store::{StoreError, TenantId};
use time::OffsetDateTime;

use crate::SyncError;
use crate::record::{RecordResult, Recorder};
use crate::writes::record_level;

/// The record a create is for, and how to name it.
#[derive(Debug, Clone, Copy)]
pub struct Creation<'a> {
    /// The tenant.
    pub tenant: &'a TenantId,
    /// The links.
    pub links: &'a dyn LinkStore,
    /// The billing record.
    pub source: SourceRef<'a>,
    /// The ConnectWise kind it is linked as (the reverse link's kind; also the reports' word).
    pub cw_kind: &'a str,
    /// The record as errors name it (`company of account A-1`).
    pub what: &'a str,
    /// What it is found by when a create is settled (`identifier "ACME"`), for the reports.
    pub natural_key: &'a str,
    /// The fingerprint of the values created, stored on the link.
    pub fingerprint: &'a str,
    /// When the sync runs.
    pub now: OffsetDateTime,
    /// Plan only: nothing is claimed, created or linked.
    pub dry_run: bool,
    /// A record found after a create was refused because its natural key is taken was created
    /// by someone else meanwhile; when another job may be about to link it (a second billing
    /// record with the same key), give the claim back and retry ([`SyncError::Unsettled`])
    /// instead of taking it.
    pub defer_taken: bool,
}

/// How a created (or found) record came to be the one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// ConnectWise answered the create: its answer is the record as created.
    Answered,
    /// The create's outcome was unknown or its key taken; the natural key found the record.
    Settled,
    /// The claim replaced a stale one and the natural key found what the earlier attempt created.
    Healed,
}

impl Origin {
    /// Whether the record was found rather than made by this create: it holds the values of
    /// whichever attempt made it (maybe an earlier run's, from billing data that has changed
    /// since), so the caller brings it to the values it wanted ([`crate::writes::update_found`]).
    pub fn found(self) -> bool {
        self != Origin::Answered
    }
}

/// What [`create_claimed`] came to. Every variant but [`Created::LinkedToOther`] has pushed its
/// line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created<T> {
    /// The record exists in ConnectWise and its link is complete.
    Linked {
        /// The record (as the create answered, or as found).
        record: T,
        /// Its link, as now stored.
        link: Link,
        /// How it came to be.
        origin: Origin,
    },
    /// Another worker linked the record a moment ago: its ConnectWise record is the one.
    AlreadyLinked(Link),
    /// The record created or found is linked to another billing record: the claim was given
    /// back and the caller reports why (no line pushed).
    LinkedToOther {
        /// The ConnectWise record.
        cw_id: i64,
        /// The link that holds it.
        holder: Link,
    },
    /// A dry run: the line says it would be created.
    Planned,
    /// ConnectWise refused the record: its failed line says why, the claim was given back.
    Refused,
}

/// Claims the link of `creation.source`, creates the record with `create` (or finds it with
/// `find`, its natural-key look-up, when an earlier or unknown create may have made it) and
/// completes the link; pushes the record's line to `records` (see the module docs).
///
/// `find` must read ConnectWise afresh and return the one record the natural key names (`None`
/// when there is none or the match is ambiguous); `id_of` reads a record's ConnectWise id.
pub async fn create_claimed<T, Find, FindFut, Create, CreateFut>(
    creation: &Creation<'_>,
    record: &Recorder,
    records: &mut Vec<RecordResult>,
    id_of: impl Fn(&T) -> Option<i64>,
    find: Find,
    create: Create,
) -> Result<Created<T>, SyncError>
where
    Find: Fn() -> FindFut,
    FindFut: Future<Output = Result<Option<T>, SyncError>>,
    Create: FnOnce() -> CreateFut,
    CreateFut: Future<Output = Result<T, CwError>>,
{
    let c = creation;
    if c.dry_run {
        records
            .push(record.with_detail(Outcome::Created, format!("would create the {}", c.cw_kind)));
        return Ok(Created::Planned);
    }
    let claim = match c.links.claim(c.tenant, c.source, c.cw_kind, c.now).await? {
        ClaimOutcome::Won(claim) => claim,
        ClaimOutcome::AlreadyLinked(link) => {
            if let Some(cw_id) = link.cw_id {
                let how = format!("linked to {} {cw_id} by a concurrent sync", c.cw_kind);
                records.push(record.with_detail(Outcome::Unchanged, how).with_id(cw_id));
            }
            return Ok(Created::AlreadyLinked(link));
        }
        ClaimOutcome::HeldByOther { stale_at, .. } => {
            return Err(SyncError::Busy {
                record: c.what.to_owned(),
                stale_at: stale_at.to_string(),
            });
        }
    };
    if claim.must_heal()
        && let Some(found) = find().await?
        && let Some(cw_id) = id_of(&found)
    {
        return Ok(match complete(c, &claim, cw_id).await? {
            Completion::Linked(link) => {
                let how = format!(
                    "found {} {cw_id} created by an interrupted earlier attempt",
                    c.cw_kind
                );
                records.push(record.with_detail(Outcome::Linked, how).with_id(cw_id));
                Created::Linked {
                    record: found,
                    link,
                    origin: Origin::Healed,
                }
            }
            Completion::Other(holder) => Created::LinkedToOther { cw_id, holder },
        });
    }
    let (created, origin) = match create().await {
        Ok(created) => (created, Origin::Answered),
        Err(error @ (CwError::Ambiguous { .. } | CwError::AlreadyExists { .. })) => {
            let taken = matches!(error, CwError::AlreadyExists { .. });
            match find().await? {
                // Refused, so someone else created it since the caller matched: another job
                // may be about to link it, and the link will tell whose it is.
                Some(found) if taken && c.defer_taken => {
                    c.links.unlink(c.tenant, c.source).await?;
                    return Err(SyncError::Unsettled {
                        record: c.what.to_owned(),
                        detail: format!(
                            "ConnectWise {} {} with {} was created meanwhile, not by this sync; \
                             looking again on the next delivery",
                            c.cw_kind,
                            id_of(&found).unwrap_or_default(),
                            c.natural_key
                        ),
                    });
                }
                Some(found) => (found, Origin::Settled),
                // Maybe created, not visible yet: keep the claim, so the next attempt heals.
                None if !taken => {
                    return Err(SyncError::Unsettled {
                        record: c.what.to_owned(),
                        detail: format!(
                            "{error}; not found by {} yet, retrying later",
                            c.natural_key
                        ),
                    });
                }
                None => {
                    c.links.unlink(c.tenant, c.source).await?;
                    records.push(record.failed(error.to_string()));
                    return Ok(Created::Refused);
                }
            }
        }
        Err(error) => {
            // Not applied: give the claim back, so a retry may create at once.
            c.links.unlink(c.tenant, c.source).await?;
            return match record_level(error) {
                Ok(reason) => {
                    records.push(record.failed(reason));
                    Ok(Created::Refused)
                }
                Err(error) => Err(SyncError::connectwise(
                    format!("creating the {}", c.what),
                    error,
                )),
            };
        }
    };
    let Some(cw_id) = id_of(&created) else {
        // Kept claimed: the record may exist, and the next attempt heals by natural key.
        return Err(SyncError::Unsettled {
            record: c.what.to_owned(),
            detail: "ConnectWise answered the create without an id".to_owned(),
        });
    };
    Ok(match complete(c, &claim, cw_id).await? {
        Completion::Linked(link) => {
            let how = format!("created {} {cw_id}", c.cw_kind);
            records.push(record.with_detail(Outcome::Created, how).with_id(cw_id));
            Created::Linked {
                record: created,
                link,
                origin,
            }
        }
        Completion::Other(holder) => Created::LinkedToOther { cw_id, holder },
    })
}

/// Why a record can't have the ConnectWise record another billing record's link holds, in the
/// words of a record with no better explanation.
pub fn linked_to_other(cw_kind: &str, cw_id: i64, holder: &Link) -> String {
    format!(
        "ConnectWise {cw_kind} {cw_id} is already linked to {} {}; link this record by hand",
        holder.kind, holder.source_id
    )
}

/// What completing a won claim came to.
enum Completion {
    Linked(Link),
    /// The ConnectWise record is linked to another billing record: the claim was given back.
    Other(Link),
}

async fn complete(c: &Creation<'_>, claim: &Claim, cw_id: i64) -> Result<Completion, SyncError> {
    match c
        .links
        .complete(c.tenant, claim, cw_id, c.fingerprint, c.now)
        .await
    {
        Ok(link) => Ok(Completion::Linked(link)),
        Err(error @ StoreError::Conflict { .. }) => {
            let holder = c
                .links
                .get_by_cw(c.tenant, c.cw_kind, cw_id)
                .await?
                .filter(|link| link.source() != c.source);
            let Some(holder) = holder else {
                // The claim itself was lost (taken over as stale): not ours to give back.
                return Err(error.into());
            };
            c.links.unlink(c.tenant, c.source).await?;
            Ok(Completion::Other(holder))
        }
        Err(error) => Err(error.into()),
    }
}
