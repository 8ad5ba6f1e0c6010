//! Which of a product's prices the export uses: the tenant's price-list priority, then its unit
//! priority (`pricing.priceListPriority`, `pricing.unitPriority`; Work 365's ordered "pricelists"
//! and "units"). When the tenant's lists leave the choice open between several prices, that is a
//! problem, never a guess.

use cwsync_billing::models::Price;

use crate::settings::{PricingPriority, same_name};

/// The price of `prices` the tenant's priority picks, `None` when there are no prices at all.
///
/// - Price lists: the first of `pricing.priceListPriority` that has a price; with no priority,
///   the only price list the product has (several: a problem).
/// - Within that list, units: the first of `pricing.unitPriority` the list has a price for; with
///   no priority, the price for `preferred_unit` (the subscription's or the product's unit), else
///   the list's only price (several: a problem).
///
/// A list with no price for the prioritised units gives way to the next list.
pub(crate) fn pick_price<'p>(
    prices: &'p [Price],
    priority: &PricingPriority,
    preferred_unit: Option<&str>,
) -> Result<Option<&'p Price>, String> {
    if prices.is_empty() {
        return Ok(None);
    }
    let lists: Vec<&str> = if priority.price_list_priority.is_empty() {
        let found = distinct(prices.iter().map(|p| p.price_list.as_str()));
        if found.len() > 1 {
            return Err(format!(
                "prices on several price lists ({}) and pricing.priceListPriority is empty: list \
                 them in order of preference",
                found.join(", ")
            ));
        }
        found
    } else {
        priority
            .price_list_priority
            .iter()
            .map(String::as_str)
            .collect()
    };
    let mut unpriced = Vec::new();
    for list in &lists {
        let on_list: Vec<&Price> = prices
            .iter()
            .filter(|p| same_name(&p.price_list, list))
            .collect();
        if on_list.is_empty() {
            continue;
        }
        if let Some(price) = pick_unit(&on_list, priority, preferred_unit)? {
            return Ok(Some(price));
        }
        unpriced.push(*list);
    }
    let have = distinct(prices.iter().map(|p| p.price_list.as_str()));
    if unpriced.is_empty() {
        Err(format!(
            "no price on the price lists of pricing.priceListPriority ({}); the product has \
             prices on {}",
            lists.join(", "),
            have.join(", ")
        ))
    } else {
        Err(format!(
            "no price for the units of pricing.unitPriority ({}) on price list {}",
            priority.unit_priority.join(", "),
            unpriced.join(", ")
        ))
    }
}

/// The price of one list's `prices` for the tenant's unit priority (see [`pick_price`]).
fn pick_unit<'p>(
    prices: &[&'p Price],
    priority: &PricingPriority,
    preferred_unit: Option<&str>,
) -> Result<Option<&'p Price>, String> {
    if !priority.unit_priority.is_empty() {
        return Ok(priority
            .unit_priority
            .iter()
            .find_map(|unit| prices.iter().copied().find(|p| same_name(&p.unit, unit))));
    }
    if let Some(unit) = preferred_unit
        && let Some(price) = prices.iter().copied().find(|p| same_name(&p.unit, unit))
    {
        return Ok(Some(price));
    }
    match prices {
        [one] => Ok(Some(*one)),
        several => Err(format!(
            "prices for several units ({}) on price list {}{} and pricing.unitPriority is empty: \
             list the units in order of preference",
            distinct(several.iter().map(|p| p.unit.as_str())).join(", "),
            several
                .first()
                .map(|p| p.price_list.as_str())
                .unwrap_or_default(),
            preferred_unit
                .map(|unit| format!(", none for {unit:?},"))
                .unwrap_or_default(),
        )),
    }
}

/// The distinct names of `names` (any case), in their first order.
fn distinct<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        if !seen.iter().any(|s| same_name(s, name)) {
            seen.push(name);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rust_decimal::Decimal;

    use super::super::fixtures::product;
    use super::*;

    fn priority(lists: &[&str], units: &[&str]) -> PricingPriority {
        PricingPriority {
            price_list_priority: lists.iter().map(|s| (*s).to_owned()).collect(),
            unit_priority: units.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn picked(lists: &[&str], units: &[&str], preferred: Option<&str>) -> Result<Decimal, String> {
        let product = product();
        pick_price(&product.prices, &priority(lists, units), preferred)
            .map(|p| p.map(|p| p.price).unwrap_or_default())
    }

    #[test]
    fn the_first_listed_price_list_with_a_price_wins_then_the_first_listed_unit() {
        assert_eq!(
            picked(&["Partner", "Retail"], &["Month"], None),
            Ok(Decimal::new(2000, 2))
        );
        assert_eq!(
            picked(&["MSRP", "retail"], &["year", "Month"], None),
            Ok(Decimal::new(26400, 2))
        );
        // Partner has no yearly price: Retail's is taken.
        assert_eq!(
            picked(&["Partner", "Retail"], &["Year"], None),
            Ok(Decimal::new(26400, 2))
        );
    }

    #[test]
    fn without_a_unit_priority_the_preferred_unit_then_a_lone_price_is_taken() {
        assert_eq!(
            picked(&["Retail"], &[], Some("year")),
            Ok(Decimal::new(26400, 2))
        );
        assert_eq!(
            picked(&["Partner"], &[], Some("Year")),
            Ok(Decimal::new(2000, 2))
        );
        let problem = picked(&["Retail"], &[], Some("Licence")).unwrap_err();
        assert!(
            problem.contains("several units (Month, Year) on price list Retail"),
            "{problem}"
        );
        assert!(problem.contains("pricing.unitPriority"), "{problem}");
    }

    #[test]
    fn several_price_lists_without_a_priority_are_a_problem_naming_the_setting() {
        let problem = picked(&[], &["Month"], None).unwrap_err();
        assert!(
            problem.contains("several price lists (Retail, Partner)"),
            "{problem}"
        );
        assert!(problem.contains("pricing.priceListPriority"), "{problem}");
    }

    #[test]
    fn no_price_on_the_listed_price_lists_or_units_is_a_problem_naming_what_there_is() {
        let problem = picked(&["MSRP"], &["Month"], None).unwrap_err();
        assert_eq!(
            problem,
            "no price on the price lists of pricing.priceListPriority (MSRP); the product has \
             prices on Retail, Partner"
        );
        let problem = picked(&["Partner"], &["Day"], None).unwrap_err();
        assert_eq!(
            problem,
            "no price for the units of pricing.unitPriority (Day) on price list Partner"
        );
    }

    #[test]
    fn a_product_without_prices_has_no_price_and_no_problem() {
        assert_eq!(pick_price(&[], &priority(&["Retail"], &[]), None), Ok(None));
    }
}
