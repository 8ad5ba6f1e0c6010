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
