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

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn live(id: i64, quantity: i64) -> Addition {
        Addition {
            id: Some(id),
            quantity: Some(Decimal::from(quantity)),
            ..Addition::default()
        }
    }

    fn cancelled(addition: &Addition) -> Addition {
        Addition {
            cancelled_date: Some(datetime!(2026-11-20 00:00 UTC)),
            ..addition.clone()
        }
    }

    fn zeroed(addition: &Addition) -> Addition {
        Addition {
            quantity: Some(Decimal::ZERO),
            ..addition.clone()
        }
    }

    fn current() -> Vec<Addition> {
        (1..=10).map(|id| live(id, 5)).collect()
    }

    #[test]
    fn cancelling_or_zeroing_up_to_the_share_passes_and_more_trips() {
        let current = current();
        let settings = TenantSettings::default();
        let (c1, c2, z3) = (
            cancelled(&current[0]),
            cancelled(&current[1]),
            zeroed(&current[2]),
        );
        let two = [
            PlannedAddition {
                current: &current[0],
                desired: &c1,
            },
            PlannedAddition {
                current: &current[1],
                desired: &c2,
            },
        ];
        // 2 of 10 is 20%: not more than the default share.
        assert_eq!(mass_change(&two, &current, &settings), None);
        let three = [
            two[0],
            two[1],
            PlannedAddition {
                current: &current[2],
                desired: &z3,
            },
        ];
        assert_eq!(
            mass_change(&three, &current, &settings),
            Some(GuardTrip {
                share: Decimal::new(3, 1),
                cancelled: 2,
                zeroed: 1,
                total: 10,
            })
        );
    }

    #[test]
    fn the_tenants_share_decides_and_a_share_of_one_never_trips() {
        let current = current();
        let desired: Vec<Addition> = current.iter().map(cancelled).collect();
        let all: Vec<PlannedAddition<'_>> = current
            .iter()
            .zip(&desired)
            .map(|(current, desired)| PlannedAddition { current, desired })
            .collect();
        let mut settings = TenantSettings::default();
        settings.export.mass_change_guard = Decimal::ONE;
        assert_eq!(mass_change(&all, &current, &settings), None);
        settings.export.mass_change_guard = Decimal::ZERO;
        let one = mass_change(&all[..1], &current, &settings).map(|trip| trip.cancelled);
        assert_eq!(one, Some(1));
    }

    #[test]
    fn already_cancelled_additions_repeats_and_untouched_quantities_do_not_count() {
        let mut current = current();
        current[9] = cancelled(&current[9]);
        let settings = TenantSettings::default();
        let c1 = cancelled(&current[0]);
        let again = cancelled(&current[9]);
        let unchanged_zero = live(20, 0);
        let still_zero = zeroed(&unchanged_zero);
        let planned = [
            PlannedAddition {
                current: &current[0],
                desired: &c1,
            },
            PlannedAddition {
                current: &current[0],
                desired: &c1,
            },
            PlannedAddition {
                current: &current[9],
                desired: &again,
            },
            PlannedAddition {
                current: &unchanged_zero,
                desired: &still_zero,
            },
        ];
        // One cancellation of nine live additions.
        assert_eq!(mass_change(&planned, &current, &settings), None);
        let mut strict = settings.clone();
        strict.export.mass_change_guard = Decimal::new(1, 1);
        let trip = mass_change(&planned, &current, &strict).unwrap_or_else(|| panic!("trips"));
        assert_eq!((trip.cancelled, trip.zeroed, trip.total), (1, 0, 9));
    }

    #[test]
    fn zeroing_counts_only_while_quantities_are_written() {
        let current = current();
        let desired: Vec<Addition> = current.iter().map(zeroed).collect();
        let all: Vec<PlannedAddition<'_>> = current
            .iter()
            .zip(&desired)
            .map(|(current, desired)| PlannedAddition { current, desired })
            .collect();
        let mut settings = TenantSettings::default();
        assert_eq!(
            mass_change(&all, &current, &settings).map(|t| t.zeroed),
            Some(10)
        );
        settings.export.quantity = false;
        assert_eq!(mass_change(&all, &current, &settings), None);
    }

    #[test]
    fn a_tenant_without_live_additions_has_nothing_to_guard() {
        assert_eq!(mass_change(&[], &[], &TenantSettings::default()), None);
    }
}
