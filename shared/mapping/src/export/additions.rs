//! Subscription → agreement addition: the values the addition should hold, which kind of
//! agreement it belongs on (agreement type and billing cycle), and the changes that keep it
//! current.
//!
//! Quantity, unit price and unit cost are written only while their toggles (`export.quantity`,
//! `export.retailPrice`, `export.cost`) are on: a toggled-off field is in no create and no patch.
//! Left out of a create, ConnectWise fills it itself (the unit price and cost from the catalog
//! item, the quantity with its own default; see the simulator's README for how sure that is).

use cwsync_billing::models::{Product, Subscription};
use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{Addition, Reference};
use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, OffsetDateTime, UtcOffset};

use super::catalog::unit_lookup;
use super::lookup::Lookup;
use super::pricing::pick_price;
use super::reference::Resolved;
use super::{ExportReference, entity};
use crate::fields::{Problems, plan_patch};
use crate::record::RecordProblem;
use crate::settings::TenantSettings;

/// The `billCustomer` of every addition cwsync creates: subscriptions are billed.
const BILL_CUSTOMER: &str = "Billable";

/// Which agreement of an account a subscription's addition goes on: one agreement per agreement
/// type and billing cycle (ConnectWise bills an agreement's additions on the agreement's cycle,
/// so a yearly subscription can't ride on a monthly agreement).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementKind {
    /// The ConnectWise agreement type's id.
    pub agreement_type: i64,
    /// Its name (`#id` when the reference data doesn't hold it), for the agreement's name.
    pub agreement_type_name: String,
    /// The ConnectWise billing cycle's id.
    pub billing_cycle: i64,
    /// Its name (`#id` when unknown), for the agreement's name.
    pub billing_cycle_name: String,
}

/// A subscription's addition as it should be, and the kind of agreement it goes on.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredAddition {
    /// The POST body for `/finance/agreements/{id}/additions` (no `agreementId`: the caller picks
    /// the agreement).
    pub addition: Addition,
    /// The agreement it belongs on.
    pub agreement: AgreementKind,
}

/// The addition `subscription` should be, on the catalog item `catalog_item` (the subscribed
/// product's, found or created first), and the kind of agreement it goes on. Every problem of the
/// subscription is returned at once.
///
/// - `quantity` ← `quantity` (`export.quantity`); a negative quantity is a problem.
/// - `unitPrice` ← `unitPrice`, else the product's price the tenant's pricing priority picks for
///   the subscription's unit (`export.retailPrice`); `unitCost` ← `unitCost`, else that price's
///   cost, else the product's cost (`export.cost`).
/// - `uom` ← the name of the unit of measure the subscription's unit (else the product's) maps to
///   through `mappings.unitsOfMeasure`; `productDefaults.unitOfMeasure` when neither has one.
/// - the agreement type ← `agreementType` through `mappings.agreementTypes`, else
///   `agreementDefaults.type`; the billing cycle ← `billingFrequency` through
///   `mappings.billingFrequencies`, else `agreementDefaults.billingCycle`. A value with no
///   mapping is a problem naming the value and the mapping to add it to.
/// - `effectiveDate` ← `startDate`; `cancelledDate` ← the (UTC) day of `cancelledAt`, else
///   `endDate`: a cancelled subscription's addition is cancelled, never deleted.
pub fn desired_addition(
    subscription: &Subscription,
    product: &Product,
    catalog_item: i64,
    settings: &TenantSettings,
    reference: &ExportReference,
) -> Result<DesiredAddition, Vec<RecordProblem>> {
    let mut problems = Problems::new(entity::ADDITION, &subscription.id);
    let export = &settings.export;

    let quantity = export.quantity.then_some(subscription.quantity);
    if subscription.quantity < Decimal::ZERO {
        problems.push(
            "quantity",
            format!(
                "{} is negative; an addition's quantity can't be",
                subscription.quantity
            ),
        );
    }

    let needs_price = export.retail_price && subscription.unit_price.is_none();
    let needs_cost = export.cost && subscription.unit_cost.is_none();
    let mut picked = None;
    if needs_price || needs_cost {
        let unit = subscription.unit.as_deref().or(product.unit.as_deref());
        match pick_price(&product.prices, &settings.pricing, unit) {
            Ok(found) => picked = found,
            Err(why) => problems.push(
                if needs_price { "unitPrice" } else { "unitCost" },
                format!(
                    "the subscription has none, and the product {:?} has no price to take: {why}",
                    product.sku
                ),
            ),
        }
    }
    let unit_price = export
        .retail_price
        .then(|| subscription.unit_price.or(picked.map(|p| p.price)))
        .flatten();
    let unit_cost = export
        .cost
        .then(|| {
            subscription
                .unit_cost
                .or(picked.and_then(|p| p.cost))
                .or(product.cost)
        })
        .flatten();

    let unit = subscription.unit.as_deref().or(product.unit.as_deref());
    let uom = unit_lookup(settings).resolve(unit, &mut problems, |wanted| {
        reference.unit_of_measure(wanted)
    });

    let agreements = &settings.agreement_defaults;
    let agreement_type = Lookup {
        field: "agreementType",
        mapping_name: "agreementTypes",
        mapping: &settings.mappings.agreement_types,
        default: ("agreementDefaults.type", agreements.agreement_type.as_ref()),
    }
    .resolve(
        subscription.agreement_type.as_deref(),
        &mut problems,
        |wanted| reference.agreement_type(wanted),
    );
    let billing_cycle = Lookup {
        field: "billingFrequency",
        mapping_name: "billingFrequencies",
        mapping: &settings.mappings.billing_frequencies,
        default: (
            "agreementDefaults.billingCycle",
            Some(&agreements.billing_cycle),
        ),
    }
    .resolve(
        subscription.billing_frequency.as_deref(),
        &mut problems,
        |wanted| reference.billing_cycle(wanted),
    );

    let cancelled = subscription
        .cancelled_at
        .map(|at| at.to_offset(UtcOffset::UTC).date())
        .or(subscription.end_date);
    let addition = Addition {
        product: Some(Reference::id(catalog_item)),
        bill_customer: Some(BILL_CUSTOMER.to_owned()),
        quantity,
        unit_price,
        unit_cost,
        uom: uom.and_then(|u| u.name).map(str::to_owned),
        effective_date: subscription.start_date.map(day),
        cancelled_date: cancelled.map(day),
        ..Addition::default()
    };
    let agreement = agreement_type
        .zip(billing_cycle)
        .map(|(agreement_type, billing_cycle)| AgreementKind {
            agreement_type: agreement_type.id,
            agreement_type_name: name_of(agreement_type),
            billing_cycle: billing_cycle.id,
            billing_cycle_name: name_of(billing_cycle),
        });
    // A look-up that found nothing pushed its problem, so a finished record has its agreement.
    let (addition, agreement) = problems.finish_noted((addition, agreement))?.value;
    let agreement = agreement.ok_or_else(|| {
        vec![RecordProblem {
            entity: entity::ADDITION,
            record_id: subscription.id.clone(),
            field: "agreementType".to_owned(),
            message: "no agreement to put the addition on".to_owned(),
        }]
    })?;
    Ok(DesiredAddition {
        addition,
        agreement,
    })
}

fn name_of(found: Resolved<'_>) -> String {
    found
        .name
        .map(str::to_owned)
        .unwrap_or_else(|| format!("#{}", found.id))
}

/// A calendar day as ConnectWise holds a date: midnight UTC.
fn day(date: Date) -> OffsetDateTime {
    date.midnight().assume_utc()
}

/// The changes that bring the addition `current` (one cwsync created for this subscription) to
/// `desired`: quantity, unit price and unit cost while their toggles are on, and the cancel date;
/// never a field of `neverOverwrite.additions`, and nothing while `export.products` is off. The
/// product, unit and effective date are set on create only.
pub fn addition_changes(
    desired: &Addition,
    current: &Addition,
    settings: &TenantSettings,
) -> Vec<PatchOp> {
    let export = &settings.export;
    if !export.products {
        return Vec::new();
    }
    let kept = Addition {
        quantity: desired.quantity.filter(|_| export.quantity),
        unit_price: desired.unit_price.filter(|_| export.retail_price),
        unit_cost: desired.unit_cost.filter(|_| export.cost),
        cancelled_date: desired.cancelled_date,
        ..Addition::default()
    };
    let lists: [&[String]; 1] = [&settings.never_overwrite.additions];
    plan_patch(current, &kept, &lists, &[], &[])
}

/// Whether `current` can't be patched into `desired` and a new addition is needed (the current
/// one is then cancelled, never deleted): the subscription is for another product now, or it is
/// live again while its addition is cancelled (a cancel date is not taken back).
pub fn needs_new_addition(desired: &Addition, current: &Addition) -> bool {
    let product = |addition: &Addition| addition.product.as_ref().and_then(|p| p.id);
    let other_product = product(current).is_some() && product(current) != product(desired);
    let reopened = current.cancelled_date.is_some() && desired.cancelled_date.is_none();
    other_product || reopened
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;
    use time::macros::{date, datetime};

    use super::super::fixtures::{echo, product, reference, settings, subscription};
    use super::*;
    use crate::settings::CwRef;

    fn desired(subscription: &Subscription, settings: &TenantSettings) -> DesiredAddition {
        desired_addition(subscription, &product(), 301, settings, &reference()).expect("valid")
    }

    fn problems(subscription: &Subscription, settings: &TenantSettings) -> Vec<(String, String)> {
        desired_addition(subscription, &product(), 301, settings, &reference())
            .expect_err("problems")
            .into_iter()
            .map(|p| {
                assert_eq!((p.entity, p.record_id.as_str()), ("addition", "S-1"));
                (p.field, p.message)
            })
            .collect()
    }

    fn all_off_but_products() -> TenantSettings {
        let mut settings = settings();
        settings.export.quantity = false;
        settings.export.retail_price = false;
        settings.export.cost = false;
        settings
    }

    #[test]
    fn a_subscription_becomes_the_addition_post_body_and_its_agreement_kind() {
        let desired = desired(&subscription(), &settings());
        assert_eq!(
            serde_json::to_value(&desired.addition).unwrap(),
            json!({
                "product": {"id": 301},
                "billCustomer": "Billable",
                "quantity": 12,
                "unitPrice": 22,
                "unitCost": 18.5,
                "uom": "Each",
                "effectiveDate": "2026-11-01T00:00:00Z",
            })
        );
        assert_eq!(
            desired.agreement,
            AgreementKind {
                agreement_type: 11,
                agreement_type_name: "Microsoft NCE".into(),
                billing_cycle: 1,
                billing_cycle_name: "Monthly".into(),
            }
        );
    }

    #[test]
    fn the_subscriptions_own_price_and_cost_win_over_the_products() {
        let mut subscription = subscription();
        subscription.unit_price = Some(Decimal::new(2150, 2));
        subscription.unit_cost = Some(Decimal::new(17, 0));
        let addition = desired(&subscription, &settings()).addition;
        assert_eq!(addition.unit_price, Some(Decimal::new(2150, 2)));
        assert_eq!(addition.unit_cost, Some(Decimal::new(17, 0)));
    }

    #[test]
    fn the_price_is_picked_for_the_subscriptions_unit_when_no_unit_priority_is_set() {
        let mut settings = settings();
        settings.pricing.unit_priority.clear();
        settings
            .mappings
            .units_of_measure
            .insert("Year".into(), CwRef::name("Year"));
        let mut subscription = subscription();
        subscription.unit = Some("year".into());
        let addition = desired(&subscription, &settings).addition;
        assert_eq!(addition.unit_price, Some(Decimal::new(264, 0)));
        // The yearly price keeps no cost of its own: the product's cost.
        assert_eq!(addition.unit_cost, Some(Decimal::new(18, 0)));
        assert_eq!(addition.uom.as_deref(), Some("Year"));
    }

    #[test]
    fn each_toggled_off_field_is_left_out_of_the_create() {
        let mut settings = settings();
        settings.export.quantity = false;
        let addition = desired(&subscription(), &settings).addition;
        assert_eq!(addition.quantity, None);
        assert!(addition.unit_price.is_some() && addition.unit_cost.is_some());

        let mut settings = super::super::fixtures::settings();
        settings.export.retail_price = false;
        let addition = desired(&subscription(), &settings).addition;
        assert_eq!(addition.unit_price, None);
        assert!(addition.quantity.is_some() && addition.unit_cost.is_some());

        let mut settings = super::super::fixtures::settings();
        settings.export.cost = false;
        let addition = desired(&subscription(), &settings).addition;
        assert_eq!(addition.unit_cost, None);
        assert!(addition.quantity.is_some() && addition.unit_price.is_some());

        // With none written, prices that can't be chosen from are no problem of the addition.
        let mut settings = all_off_but_products();
        settings.pricing.price_list_priority.clear();
        let addition = desired(&subscription(), &settings).addition;
        assert_eq!(
            (addition.quantity, addition.unit_price, addition.unit_cost),
            (None, None, None)
        );
    }

    #[test]
    fn an_unmapped_billing_frequency_names_the_value_and_the_mapping_to_add_it_to() {
        let mut subscription = subscription();
        subscription.billing_frequency = Some("Biennial".into());
        assert_eq!(
            problems(&subscription, &settings()),
            [(
                "billingFrequency".to_owned(),
                "billingFrequency \"Biennial\" has no mapping: add it to \
                 mappings.billingFrequencies"
                    .to_owned()
            )]
        );
    }

    #[test]
    fn unmapped_units_and_agreement_types_name_theirs_and_all_are_reported_at_once() {
        let mut subscription = subscription();
        subscription.unit = Some("Seat".into());
        subscription.agreement_type = Some("Reseller".into());
        subscription.billing_frequency = Some("Annual".into());
        assert_eq!(
            problems(&subscription, &settings()),
            [
                (
                    "unit".to_owned(),
                    "unit \"Seat\" has no mapping: add it to mappings.unitsOfMeasure".to_owned()
                ),
                (
                    "agreementType".to_owned(),
                    "agreementType \"Reseller\" has no mapping: add it to \
                     mappings.agreementTypes"
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn absent_values_take_the_defaults_and_mapped_ids_their_names() {
        let mut subscription = subscription();
        subscription.billing_frequency = None;
        subscription.agreement_type = None;
        let kind = desired(&subscription, &settings()).agreement;
        assert_eq!((kind.agreement_type, kind.billing_cycle), (10, 1));
        assert_eq!(kind.agreement_type_name, "Managed Services");

        subscription.billing_frequency = Some(" annual ".into());
        let kind = desired(&subscription, &settings()).agreement;
        assert_eq!(
            (kind.billing_cycle, kind.billing_cycle_name.as_str()),
            (3, "Yearly")
        );
    }

    #[test]
    fn no_agreement_type_and_no_default_is_a_problem_naming_the_setting() {
        let mut subscription = subscription();
        subscription.agreement_type = None;
        let mut settings = settings();
        settings.agreement_defaults.agreement_type = None;
        assert_eq!(
            problems(&subscription, &settings),
            [(
                "agreementType".to_owned(),
                "no agreementType given and agreementDefaults.type is not set: set it, or give \
                 the record one"
                    .to_owned()
            )]
        );
    }

    #[test]
    fn a_negative_quantity_is_a_problem() {
        let mut subscription = subscription();
        subscription.quantity = Decimal::new(-3, 0);
        let found = problems(&subscription, &settings());
        assert_eq!(found[0].0, "quantity");
        assert!(found[0].1.contains("-3 is negative"), "{found:?}");
    }

    #[test]
    fn a_cancelled_subscription_gets_the_utc_day_of_its_cancellation_and_an_ended_one_its_end() {
        let mut subscription = subscription();
        subscription.cancelled_at = Some(datetime!(2026-11-15 23:30 -05:00));
        subscription.end_date = Some(date!(2026 - 12 - 31));
        let addition = desired(&subscription, &settings()).addition;
        assert_eq!(
            addition.cancelled_date,
            Some(datetime!(2026-11-16 00:00 UTC))
        );
        subscription.cancelled_at = None;
        let addition = desired(&subscription, &settings()).addition;
        assert_eq!(
            addition.cancelled_date,
            Some(datetime!(2026-12-31 00:00 UTC))
        );
    }

    #[test]
    fn an_unchanged_addition_as_connectwise_returns_it_needs_no_write() {
        let desired = desired(&subscription(), &settings()).addition;
        let current = echo(&desired, 900);
        assert_eq!(addition_changes(&desired, &current, &settings()), []);
    }

    #[test]
    fn a_changed_quantity_and_a_cancellation_are_patched_and_nothing_else() {
        let mut subscription = subscription();
        let before = desired(&subscription, &settings()).addition;
        let mut current = echo(&before, 900);
        current.uom = Some("Month".into());
        current.effective_date = Some(datetime!(2026-10-01 00:00 UTC));
        subscription.quantity = Decimal::from(15);
        subscription.cancelled_at = Some(datetime!(2026-11-20 08:00 UTC));
        let after = desired(&subscription, &settings()).addition;
        assert_eq!(
            addition_changes(&after, &current, &settings()),
            [
                PatchOp::replace("cancelledDate", "2026-11-20T00:00:00Z"),
                PatchOp::replace("quantity", 15),
            ]
        );
    }

    #[test]
    fn toggled_off_and_never_overwritten_fields_are_never_patched() {
        let desired = desired(&subscription(), &settings()).addition;
        let mut current = echo(&desired, 900);
        current.quantity = Some(Decimal::from(1));
        current.unit_price = Some(Decimal::from(1));
        current.unit_cost = Some(Decimal::from(1));
        for (toggle, left) in [
            ("quantity", "unitCost"),
            ("retailPrice", "quantity"),
            ("cost", "quantity"),
        ] {
            let mut settings = settings();
            match toggle {
                "quantity" => settings.export.quantity = false,
                "retailPrice" => settings.export.retail_price = false,
                _ => settings.export.cost = false,
            }
            let paths: Vec<String> = addition_changes(&desired, &current, &settings)
                .into_iter()
                .map(|op| op.path.trim_start_matches('/').to_owned())
                .collect();
            assert_eq!(paths.len(), 2, "{toggle}: {paths:?}");
            assert!(paths.contains(&left.to_owned()), "{toggle}: {paths:?}");
        }
        let mut settings = settings();
        settings.never_overwrite.additions = vec!["unitPrice".into(), "unitCost".into()];
        assert_eq!(
            addition_changes(&desired, &current, &settings),
            [PatchOp::replace("quantity", 12)]
        );
        let mut off = all_off_but_products();
        off.export.products = false;
        assert_eq!(addition_changes(&desired, &current, &off), []);
    }

    #[test]
    fn another_product_or_a_reopened_subscription_needs_a_new_addition() {
        let desired = desired(&subscription(), &settings()).addition;
        let mut current = echo(&desired, 900);
        assert!(!needs_new_addition(&desired, &current));
        current.product = Some(Reference::id(302));
        assert!(needs_new_addition(&desired, &current));
        let mut current = echo(&desired, 900);
        current.cancelled_date = Some(datetime!(2026-11-20 00:00 UTC));
        assert!(needs_new_addition(&desired, &current));
        // Cancelling a live addition is a patch, not a new addition.
        let mut cancelled = desired.clone();
        cancelled.cancelled_date = current.cancelled_date;
        assert!(!needs_new_addition(&cancelled, &echo(&desired, 900)));
    }
}
