//! The replay guard of incoming webhooks (ConnectWise callbacks, issue 10 §5): the first arrival
//! of a request is recorded with a conditional put, so a second arrival of the very same request
//! (the same tenant and body, whoever sends it and however many workers receive it at once) is
//! told apart and refused as a replay.
//!
//! A request is named by a digest its receiver computes (hex SHA-256 of tenant and body): this
//! store never sees a body, only that digest. An arrival is kept
//! until its `expires_at` (the receiver makes that longer than its staleness window, so every
//! request young enough to be accepted is still remembered); an item past it counts as absent even
//! before DynamoDB's TTL deletes it. A receiver that could not hand a request over [`forgets`]
//! its arrival, so the sender's retry is accepted rather than refused as a replay.
//!
//! [`forgets`]: ReplayGuard::forget

mod dynamo;
mod memory;

pub use dynamo::DynamoReplayGuard;
pub use memory::MemoryReplayGuard;

use crate::{StoreError, TenantId};
use std::fmt::Debug;
use time::OffsetDateTime;

/// Whether a request was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The first arrival: it is now recorded.
    First,
    /// The same request arrived before and is still remembered: a replay.
    Again,
}

/// The arrivals of every tenant's webhook requests.
#[async_trait::async_trait]
pub trait ReplayGuard: Send + Sync + Debug {
    /// Records the arrival of the request `digest` (64 lower-case hex digits) of `tenant` at
    /// `now`, remembered until `expires_at`: [`Arrival::First`] when no live arrival of it was
    /// recorded (however many callers ask at once, exactly one gets it), else [`Arrival::Again`].
    async fn arrive(
        &self,
        tenant: &TenantId,
        digest: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Arrival, StoreError>;

    /// Forgets the arrival of `digest` (it could not be handed over: the sender's retry must be
    /// accepted). Forgetting an unknown digest is not an error.
    async fn forget(&self, tenant: &TenantId, digest: &str) -> Result<(), StoreError>;
}

/// Refuses a digest that is not 64 lower-case hex digits (it stands in a key).
fn check_digest(digest: &str) -> Result<(), StoreError> {
    if digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "digest".to_owned(),
            reason: "a request digest is 64 lower-case hex digits (SHA-256)".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sha256_hex_digest_is_accepted() {
        assert!(check_digest(&"a1".repeat(32)).is_ok());
        for bad in [
            "",
            "abc",
            &"A1".repeat(32),
            &"g1".repeat(32),
            &"a1".repeat(33),
        ] {
            assert!(check_digest(bad).is_err(), "{bad}");
        }
    }
}
