//! Watermarks for incremental reads: per tenant and stream (e.g. `tickets`), the latest
//! `lastUpdated` a job has fully processed. The next run reads from the watermark minus an overlap
//! window ([`read_from`]), because records updated in the same second as the watermark, or
//! committed late by the source, would otherwise be missed; re-reading a few is harmless since
//! every write is idempotent.
//!
//! A watermark only moves forward: [`WatermarkStore::advance`] is a conditional write, so a slow
//! worker finishing an older batch can never pull it back past what a faster one recorded.
//!
//! **The tail.** Re-reading the overlap is harmless but not free: in a quiet period every run lists
//! the same records of the window before the watermark and would process them again. So a watermark
//! can keep, with it, the records the run that set it listed inside that window, each with the
//! `lastUpdated` it had ([`Watermark::tail`], written by [`WatermarkStore::advance_with_tail`]): the
//! next run skips a record listed with exactly that `(id, lastUpdated)` (processed at that version
//! already) and still processes one listed with a newer `lastUpdated` or one not in the tail (a late
//! commit: what the overlap is for). The tail is bounded ([`TAIL_LIMIT`] entries, the latest
//! kept): a record dropped from it is simply processed again, never missed. Skipping is the
//! caller's business; the store only keeps the tail with the watermark, in the same item, under
//! the same rules:
//! - an advance that moves the watermark replaces the tail with the one it carries (the run that
//!   moved it listed the whole new window, so its tail is complete for it);
//! - an advance that loses to a later watermark changes nothing (a later tail is never
//!   overwritten by an older one);
//! - an advance to the same instant (two planners at once, or a run that only found late
//!   commits) adds its entries to the stored tail; it writes nothing when they are all there
//!   already, so an unchanged re-run costs no write. Adding is a conditional write too (on the
//!   tail's revision); one that keeps losing gives up after a few tries, which again only means
//!   those records are processed once more.

mod dynamo;
mod memory;

pub use dynamo::DynamoWatermarkStore;
pub use memory::{MemoryWatermarkStore, WatermarkSnapshot};

use crate::{StoreError, TenantId};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use time::OffsetDateTime;

/// Where a stream's incremental reads resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// The latest `lastUpdated` processed.
    pub last_seen: OffsetDateTime,
    /// When the watermark last moved.
    pub updated_at: OffsetDateTime,
    /// The records listed inside the overlap window before `last_seen`, at the version they were
    /// processed (see the module docs), ordered by id then `lastUpdated`; at most [`TAIL_LIMIT`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tail: Vec<Seen>,
}

impl Watermark {
    /// Whether record `id` was processed at `last_updated` already (it is in the tail).
    pub fn processed(&self, id: i64, last_updated: OffsetDateTime) -> bool {
        self.tail
            .binary_search(&Seen::new(id, last_updated))
            .is_ok()
    }
}

/// A record as a run listed it: its id and its `lastUpdated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    /// The record's id (within its stream).
    pub id: i64,
    /// Its `lastUpdated` when it was listed.
    pub last_updated: OffsetDateTime,
}

impl Seen {
    /// Record `id` at `last_updated` (kept in UTC, so equal instants compare equal).
    pub fn new(id: i64, last_updated: OffsetDateTime) -> Self {
        Seen {
            id,
            last_updated: last_updated.to_offset(time::UtcOffset::UTC),
        }
    }
}

/// The most entries a watermark's tail keeps: a DynamoDB item of about 50 KB at most (some 26
/// bytes an entry, so a full tail's write costs some 50 write units). A window with more records
/// keeps the latest; the others are processed again by the next run.
pub const TAIL_LIMIT: usize = 2_000;

/// `entries` as a tail: distinct, the latest [`TAIL_LIMIT`] by `lastUpdated`, ordered by id.
pub fn bounded_tail(entries: impl IntoIterator<Item = Seen>) -> Vec<Seen> {
    let mut tail: Vec<Seen> = entries
        .into_iter()
        .map(|s| Seen::new(s.id, s.last_updated))
        .collect();
    tail.sort_unstable_by(|a, b| b.last_updated.cmp(&a.last_updated).then(a.id.cmp(&b.id)));
    tail.dedup();
    tail.truncate(TAIL_LIMIT);
    tail.sort_unstable();
    tail
}

/// The watermark an advance of `stream` to `seen` with `tail` at `now` proposes, and `seen` in
/// epoch nanoseconds (checked: both stores refuse the same streams and instants).
fn proposal(
    stream: &str,
    seen: OffsetDateTime,
    tail: &[Seen],
    now: OffsetDateTime,
) -> Result<(Watermark, i64), StoreError> {
    check_stream(stream)?;
    let seen_ns = nanos(seen)?;
    let proposed = Watermark {
        last_seen: seen.to_offset(time::UtcOffset::UTC),
        updated_at: now.to_offset(time::UtcOffset::UTC),
        tail: bounded_tail(tail.iter().copied()),
    };
    Ok((proposed, seen_ns))
}

/// What [`WatermarkStore::advance_with_tail`] stores given the stored watermark (if any) and the
/// proposed one: `None` when nothing changes.
fn next_watermark(stored: Option<&Watermark>, proposed: &Watermark) -> Option<Watermark> {
    match stored {
        None => Some(proposed.clone()),
        Some(stored) if stored.last_seen < proposed.last_seen => Some(proposed.clone()),
        Some(stored) if stored.last_seen == proposed.last_seen => {
            let merged = bounded_tail(stored.tail.iter().chain(&proposed.tail).copied());
            (merged != stored.tail).then(|| Watermark {
                tail: merged,
                ..stored.clone()
            })
        }
        Some(_) => None,
    }
}

/// The watermarks of every tenant.
#[async_trait::async_trait]
pub trait WatermarkStore: Send + Sync + Debug {
    /// A stream's watermark; `None` before its first advance (the job then reads everything).
    async fn get(&self, tenant: &TenantId, stream: &str) -> Result<Option<Watermark>, StoreError>;

    /// Moves the watermark to `seen` if that is later than the stored one, and returns the
    /// watermark now stored: `seen`, or the later one another worker recorded. Moving it clears
    /// the tail.
    async fn advance(
        &self,
        tenant: &TenantId,
        stream: &str,
        seen: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Watermark, StoreError> {
        self.advance_with_tail(tenant, stream, seen, &[], now).await
    }

    /// [`WatermarkStore::advance`] keeping `tail` with it (see the module docs): the records
    /// listed inside the overlap window before `seen`. Moving the watermark stores
    /// [`bounded_tail`]`(tail)`; an equal `seen` adds `tail` to the stored tail; a later stored
    /// watermark is left alone. Returns the watermark now stored.
    async fn advance_with_tail(
        &self,
        tenant: &TenantId,
        stream: &str,
        seen: OffsetDateTime,
        tail: &[Seen],
        now: OffsetDateTime,
    ) -> Result<Watermark, StoreError>;
}

/// The lower bound of the next incremental read: `last_seen - overlap` (saturating at the
/// earliest representable time).
pub fn read_from(watermark: &Watermark, overlap: std::time::Duration) -> OffsetDateTime {
    window_start(watermark.last_seen, overlap)
}

/// Where the overlap window before `last_seen` starts: `last_seen - overlap` (saturating at the
/// earliest representable time). A run that moves the watermark to `last_seen` keeps the records
/// listed from here on in its tail: the next run reads from here ([`read_from`]).
pub fn window_start(last_seen: OffsetDateTime, overlap: std::time::Duration) -> OffsetDateTime {
    time::Duration::try_from(overlap)
        .ok()
        .and_then(|overlap| last_seen.checked_sub(overlap))
        .unwrap_or_else(|| time::PrimitiveDateTime::MIN.assume_utc())
}

fn check_stream(stream: &str) -> Result<(), StoreError> {
    if stream.is_empty() {
        return Err(StoreError::Invalid {
            field: "stream".to_owned(),
            reason: "a watermark stream name must not be empty".to_owned(),
        });
    }
    Ok(())
}

/// The instant as epoch nanoseconds, the number the conditional write compares.
fn nanos(t: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(|_| StoreError::Invalid {
        field: "seen".to_owned(),
        reason: format!("{t} is outside the years 1678–2261 a watermark can hold"),
    })
}

fn item_name(tenant: &TenantId, stream: &str) -> String {
    format!("tenant {tenant} watermark {stream}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_next_read_starts_one_overlap_before_the_watermark() {
        let wm = Watermark {
            last_seen: datetime!(2026-11-22 10:00:00 UTC),
            updated_at: datetime!(2026-11-22 10:05:00 UTC),
            tail: Vec::new(),
        };
        let from = read_from(&wm, std::time::Duration::from_secs(300));
        assert_eq!(from, datetime!(2026-11-22 09:55:00 UTC));
        assert_eq!(read_from(&wm, std::time::Duration::ZERO), wm.last_seen);
    }

    #[test]
    fn an_absurd_overlap_saturates_instead_of_failing() {
        let wm = Watermark {
            last_seen: datetime!(2026-11-22 10:00:00 UTC),
            updated_at: datetime!(2026-11-22 10:05:00 UTC),
            tail: Vec::new(),
        };
        let from = read_from(&wm, std::time::Duration::MAX);
        assert!(from < datetime!(1000-01-01 0:00 UTC));
    }

    #[test]
    fn a_tail_keeps_the_latest_entries_once_each_in_id_order() {
        let t = datetime!(2026-11-22 10:00:00 UTC);
        let mut entries: Vec<Seen> = (0..TAIL_LIMIT as i64 + 10)
            .map(|n| Seen::new(n, t + time::Duration::seconds(n)))
            .collect();
        entries.push(Seen::new(5, t + time::Duration::seconds(5)));
        entries.push(Seen::new(
            7,
            (t + time::Duration::seconds(7)).to_offset(time::macros::offset!(+2)),
        ));
        let tail = bounded_tail(entries.into_iter().rev());
        assert_eq!(tail.len(), TAIL_LIMIT);
        assert_eq!(
            tail[0],
            Seen::new(10, t + time::Duration::seconds(10)),
            "the oldest 10 dropped"
        );
        assert!(tail.windows(2).all(|w| w[0] < w[1]), "distinct, in order");
        let wm = Watermark {
            last_seen: t + time::Duration::hours(1),
            updated_at: t,
            tail,
        };
        assert!(wm.processed(11, t + time::Duration::seconds(11)));
        assert!(
            !wm.processed(11, t + time::Duration::seconds(12)),
            "a newer version is not"
        );
        assert!(
            !wm.processed(3, t + time::Duration::seconds(3)),
            "dropped: processed again"
        );
    }

    #[test]
    fn only_a_later_instant_replaces_the_tail_and_an_equal_one_adds_to_it() {
        let t = datetime!(2026-11-22 10:00:00 UTC);
        let wm = |secs: i64, ids: &[i64]| Watermark {
            last_seen: t + time::Duration::seconds(secs),
            updated_at: t,
            tail: ids.iter().map(|id| Seen::new(*id, t)).collect(),
        };
        assert_eq!(next_watermark(None, &wm(0, &[1])), Some(wm(0, &[1])));
        assert_eq!(
            next_watermark(Some(&wm(0, &[1, 2])), &wm(1, &[3])),
            Some(wm(1, &[3]))
        );
        assert_eq!(
            next_watermark(Some(&wm(1, &[1])), &wm(0, &[3])),
            None,
            "older"
        );
        assert_eq!(
            next_watermark(Some(&wm(1, &[1, 3])), &wm(1, &[3])),
            None,
            "nothing new"
        );
        assert_eq!(
            next_watermark(Some(&wm(1, &[1, 4])), &wm(1, &[3])),
            Some(wm(1, &[1, 3, 4]))
        );
    }
}
