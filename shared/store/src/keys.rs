//! The single-table key design (see `shared/store/KEYS.md`). Every builder takes the tenant first;
//! no other module formats a key. Record ids only ever stand last in a key, so any character in
//! them is safe; entity kinds are our own constants.

use crate::TenantId;

/// Partition key attribute name.
pub const PK: &str = "pk";
/// Sort key attribute name.
pub const SK: &str = "sk";
/// TTL attribute name (epoch seconds); DynamoDB deletes the item some time after it passes.
pub const TTL: &str = "ttl";

/// Forward link: billing record of `kind` → ConnectWise record.
pub fn link(tenant: &TenantId, kind: &str, source_id: &str) -> (String, String) {
    (
        format!("T#{tenant}#LINK#{kind}"),
        format!("SRC#{source_id}"),
    )
}

/// Reverse link: ConnectWise record of `cw_kind` → billing record.
pub fn reverse_link(tenant: &TenantId, cw_kind: &str, cw_id: i64) -> (String, String) {
    (
        format!("T#{tenant}#CWLINK#{cw_kind}"),
        format!("CW#{cw_id}"),
    )
}

/// A run's header item.
pub fn run(tenant: &TenantId, run_id: &str) -> (String, String) {
    (format!("T#{tenant}#RUN"), run_id.to_owned())
}

/// Partition of all runs of a tenant (query newest first by run id).
pub fn runs_partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#RUN")
}

/// One entry of a run's per-record log; `seq` orders entries.
pub fn run_log(tenant: &TenantId, run_id: &str, seq: u32) -> (String, String) {
    (format!("T#{tenant}#RUNLOG#{run_id}"), format!("{seq:010}"))
}

/// Partition of one run's log.
pub fn run_log_partition(tenant: &TenantId, run_id: &str) -> String {
    format!("T#{tenant}#RUNLOG#{run_id}")
}

/// An error-ledger entry for one failing record.
pub fn ledger(tenant: &TenantId, kind: &str, record_id: &str) -> (String, String) {
    (format!("T#{tenant}#ERR"), format!("{kind}#{record_id}"))
}

/// Partition of a tenant's error ledger.
pub fn ledger_partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#ERR")
}

/// A watermark for one incremental stream (e.g. `tickets`).
pub fn watermark(tenant: &TenantId, stream: &str) -> (String, String) {
    (format!("T#{tenant}#WM"), stream.to_owned())
}

/// An idempotency record; `key_hash` is the hex SHA-256 of tenant and job key.
pub fn idempotency(key_hash: &str) -> (String, String) {
    (format!("IDEM#{key_hash}"), "IDEM".to_owned())
}

/// A tenant's settings document.
pub fn settings(tenant: &TenantId) -> (String, String) {
    (format!("T#{tenant}"), "SETTINGS".to_owned())
}

/// One fixed window of a tenant's shared ConnectWise request budget: windows of `length_ms`
/// starting at `start_ms` (epoch milliseconds). Both are zero-padded so a tenant's windows of one
/// length sort by start.
pub fn request_window(tenant: &TenantId, length_ms: u64, start_ms: u64) -> (String, String) {
    (
        request_windows_partition(tenant),
        format!("{length_ms:010}#{start_ms:016}"),
    )
}

/// Partition of a tenant's request windows.
pub fn request_windows_partition(tenant: &TenantId) -> String {
    format!("T#{tenant}#RATE")
}

/// The recorded arrival of one webhook request of a tenant (the replay guard); `digest` is the
/// hex SHA-256 its receiver computed. One partition per request, so a storm spreads out.
pub fn replay(tenant: &TenantId, digest: &str) -> (String, String) {
    (format!("T#{tenant}#REPLAY#{digest}"), "REPLAY".to_owned())
}

/// The partition of the tenant registry: one item per tenant that has settings, so the
/// schedules can list the tenants with one Query instead of a table scan. It holds ids only.
pub const TENANT_REGISTRY: &str = "TENANTS";

/// A tenant's entry in the tenant registry.
pub fn tenant_registry(tenant: &TenantId) -> (String, String) {
    (TENANT_REGISTRY.to_owned(), format!("T#{tenant}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenant_key_starts_with_its_own_tenant() {
        let a = TenantId::parse("acme").unwrap();
        for (pk, _) in [
            link(&a, "company", "X"),
            reverse_link(&a, "company", 1),
            run(&a, "r"),
            run_log(&a, "r", 1),
            ledger(&a, "company", "X"),
            watermark(&a, "tickets"),
            settings(&a),
            request_window(&a, 1000, 1_800_000_000_000),
            replay(&a, "ab"),
        ] {
            assert!(pk == "T#acme" || pk.starts_with("T#acme#"), "{pk}");
        }
    }

    #[test]
    fn log_sequence_numbers_sort_as_text() {
        let t = TenantId::parse("t").unwrap();
        assert!(run_log(&t, "r", 9).1 < run_log(&t, "r", 10).1);
        assert!(request_window(&t, 1000, 999_000).1 < request_window(&t, 1000, 1_000_000).1);
    }
}
