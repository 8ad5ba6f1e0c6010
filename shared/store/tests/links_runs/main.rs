//! Links and runs: one contract, run against the in-memory stores and against DynamoDB
//! (moto_server through the real SDK), so the two implementations can't drift; plus checks of the
//! stored DynamoDB items against `KEYS.md`.
//!
//! The race tests (20 concurrent claims, 50 concurrent records) rely on what DynamoDB guarantees:
//! each conditional write, `UpdateItem … ADD` and transaction is applied atomically. Stock
//! moto_server handles requests on threads with no lock in its DynamoDB backend, so there these
//! tests can lose an increment or see two claim winners — moto's race, not ours. They need a moto
//! that applies DynamoDB requests one at a time (a WSGI lock around `DynamoDB_*` requests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dynamo_items;
mod links_contract;
mod runs_contract;

use cwsync_store::TenantId;
use cwsync_store::dynamo::{Table, create_table};
use cwsync_store::links::{DEFAULT_STALE_AFTER, DynamoLinkStore, LinkStore, MemoryLinkStore};
use cwsync_store::runs::{DynamoRunStore, MemoryRunStore, RunStore};
use std::sync::Arc;
use time::OffsetDateTime;
use time::macros::datetime;

/// Every test's clock starts here; time only moves when a test says so.
pub const T0: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

pub fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

/// A fresh table on the process's moto; `None` (test skipped, loudly) without moto outside CI.
pub async fn moto_table() -> Option<Table> {
    let moto = cwsync_aws_harness::moto()?;
    let config = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let name = cwsync_aws_harness::unique_name("links-runs");
    Some(create_table(&client, &name).await.unwrap())
}

pub fn memory_links() -> Arc<dyn LinkStore> {
    Arc::new(MemoryLinkStore::new(DEFAULT_STALE_AFTER))
}

pub async fn dynamo_links() -> Option<Arc<dyn LinkStore>> {
    let table = moto_table().await?;
    Some(Arc::new(DynamoLinkStore::new(table, DEFAULT_STALE_AFTER)))
}

pub fn memory_runs() -> Arc<dyn RunStore> {
    Arc::new(MemoryRunStore::new())
}

pub async fn dynamo_runs() -> Option<Arc<dyn RunStore>> {
    let table = moto_table().await?;
    Some(Arc::new(DynamoRunStore::new(table)))
}

/// For each named contract test, one test against the memory store and one against DynamoDB.
macro_rules! against_both_stores {
    ($contract:ident, memory: $memory:path, dynamo: $dynamo:path; $($test:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    crate::$contract::$test($memory()).await;
                }
            )+
        }
        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(store) = $dynamo().await else { return };
                    crate::$contract::$test(store).await;
                }
            )+
        }
    };
}

mod links {
    against_both_stores!(
        links_contract, memory: crate::memory_links, dynamo: crate::dynamo_links;
        a_first_claim_wins_and_a_second_finds_it_held,
        a_claim_race_has_exactly_one_winner_and_the_others_see_the_link,
        a_stale_pending_claim_is_taken_over_and_the_old_claimer_can_no_longer_complete,
        completing_a_claim_links_both_directions_and_is_safe_to_retry,
        one_connectwise_record_cant_be_linked_to_two_billing_records,
        linking_an_existing_record_writes_both_directions_and_respects_claims,
        a_sync_is_recorded_only_on_a_linked_link,
        a_sync_stamp_is_recorded_only_on_a_linked_link_and_kept_by_later_syncs,
        unlinking_removes_both_directions,
        one_tenant_never_sees_or_touches_another_tenants_links,
        many_links_are_read_at_once_across_batches,
        malformed_input_is_refused_naming_the_field,
    );
}

mod runs {
    against_both_stores!(
        runs_contract, memory: crate::memory_runs, dynamo: crate::dynamo_runs;
        a_run_lives_from_start_to_finish,
        fifty_concurrent_records_add_up_to_exact_counts,
        the_log_keeps_only_its_limit_and_the_run_says_it_was_truncated,
        a_long_log_is_read_in_pages_with_tokens_bound_to_the_run,
        runs_are_listed_newest_first_per_tenant,
        an_unknown_run_is_reported_as_not_found,
        a_staged_run_is_extended_once_per_stage_and_finishes_only_in_its_last,
        a_stage_may_name_the_next_continuation_and_unknown_runs_are_not_found,
    );
}
