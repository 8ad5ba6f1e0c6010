//! Watermarks for incremental reads: per tenant and stream (e.g. `tickets`), the latest
//! `lastUpdated` a job has fully processed. The next run reads from the watermark minus an overlap
//! window ([`read_from`]), because records updated in the same second as the watermark, or
//! committed late by the source, would otherwise be missed; re-reading a few is harmless since
//! every write is idempotent.
//!
//! A watermark only moves forward: [`WatermarkStore::advance`] is a conditional write, so a slow
//! worker finishing an older batch can never pull it back past what a faster one recorded.

mod dynamo;
mod memory;

pub use dynamo::DynamoWatermarkStore;
pub use memory::{MemoryWatermarkStore, WatermarkSnapshot};

use crate::{StoreError, TenantId};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use time::OffsetDateTime;

/// Where a stream's incremental reads resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// The latest `lastUpdated` processed.
    pub last_seen: OffsetDateTime,
    /// When the watermark last moved.
    pub updated_at: OffsetDateTime,
}

/// The watermarks of every tenant.
#[async_trait::async_trait]
pub trait WatermarkStore: Send + Sync + Debug {
    /// A stream's watermark; `None` before its first advance (the job then reads everything).
    async fn get(&self, tenant: &TenantId, stream: &str) -> Result<Option<Watermark>, StoreError>;

    /// Moves the watermark to `seen` if that is later than the stored one, and returns the
    /// watermark now stored: `seen`, or the later one another worker recorded.
    async fn advance(
        &self,
        tenant: &TenantId,
        stream: &str,
        seen: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Watermark, StoreError>;
}

/// The lower bound of the next incremental read: `last_seen - overlap` (saturating at the
/// earliest representable time).
pub fn read_from(watermark: &Watermark, overlap: std::time::Duration) -> OffsetDateTime {
    time::Duration::try_from(overlap)
        .ok()
        .and_then(|overlap| watermark.last_seen.checked_sub(overlap))
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
        };
        let from = read_from(&wm, std::time::Duration::MAX);
        assert!(from < datetime!(1000-01-01 0:00 UTC));
    }
}
