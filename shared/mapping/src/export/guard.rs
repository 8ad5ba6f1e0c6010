//! The mass-change guard (issue 9 §3): a run that would cancel or zero more than the tenant's
//! share (`export.massChangeGuard`, 20% by default) of the tenant's live additions writes nothing
//! for the tenant and reports what it would have done, until a console flag confirms it. A
//! billing outage that lists no subscriptions must not empty every agreement.

use std::collections::HashSet;

use cwsync_connectwise::models::Addition;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::settings::TenantSettings;

/// One planned change of an addition: the addition as it is and as the run would leave it.
#[derive(Debug, Clone, Copy)]
pub struct PlannedAddition<'a> {
    /// The addition in ConnectWise.
    pub current: &'a Addition,
    /// The addition as planned (its desired values).
    pub desired: &'a Addition,
}

/// Why the guard stopped a tenant's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardTrip {
    /// The share of live additions the run would cancel or zero, 0 to 1.
    pub share: Decimal,
    /// Live additions the run would cancel.
    pub cancelled: usize,
    /// Live additions the run would set to quantity 0 (and not cancel).
    pub zeroed: usize,
    /// The tenant's live additions (no cancel date) the share is of.
    pub total: usize,
}

/// Whether `planned` would cancel or zero more than `export.massChangeGuard` of `current` (the
/// tenant's additions cwsync manages): `Some` with the counts when it would. Only live additions
/// (without a cancel date) count, each once; zeroing counts only while `export.quantity` writes
/// quantities. No live additions: nothing to guard.
pub fn mass_change(
    planned: &[PlannedAddition<'_>],
    current: &[Addition],
    settings: &TenantSettings,
) -> Option<GuardTrip> {
    let live = |addition: &Addition| addition.cancelled_date.is_none();
    let total = current.iter().filter(|a| live(a)).count();
    if total == 0 {
        return None;
    }
    let mut seen = HashSet::new();
    let (mut cancelled, mut zeroed) = (0, 0);
    for change in planned {
        if !live(change.current) || change.current.id.is_some_and(|id| !seen.insert(id)) {
            continue;
        }
        if change.desired.cancelled_date.is_some() {
            cancelled += 1;
        } else if settings.export.quantity
            && change.desired.quantity == Some(Decimal::ZERO)
            && change.current.quantity != Some(Decimal::ZERO)
        {
            zeroed += 1;
        }
    }
    let share = Decimal::from(cancelled + zeroed) / Decimal::from(total);
    (share > settings.export.mass_change_guard).then_some(GuardTrip {
        share,
        cancelled,
        zeroed,
        total,
    })
}
