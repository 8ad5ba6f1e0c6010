//! Hostile strings where a job builds a ConnectWise condition (`corpus/conditions/`): quotes,
//! backslashes, `and`/`or`, parentheses, brackets, `%` and `_`, unicode, the longest value. The
//! customer sync's identifiers, names and e-mails are covered by
//! `functions/customer-sync/tests/e2e/hostile.rs` and the client's by
//! `tests/integration/tests/it/hostile_strings.rs`; here the daily export's catalog: a product's
//! SKU becomes its catalog item's identifier, looked up by `identifier = "<sku>"` (and in batches
//! by `identifier in (…)`) on every run.
//!
//! Asserted: after two runs each SKU has exactly one catalog item, whose identifier is the SKU
//! exactly (the right record was found, no other: a `%` or `_` matched nothing else), and the
//! second run, every product changed, makes no catalog item and updates each (every lookup
//! found its record).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_bad_input::{T0, World, cases};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionCase {
    #[allow(dead_code)]
    about: String,
    function: String,
    site: String,
    value: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_sku_finds_its_own_catalog_item_and_no_other() {
    let all: Vec<ConditionCase> = cases("conditions").iter().map(|c| c.parse()).collect();
    assert!(!all.is_empty());
    for case in &all {
        assert_eq!(
            (case.function.as_str(), case.site.as_str()),
            ("daily-export", "catalog-item-identifier")
        );
    }
    let world = World::start().await;
    world.sync_customers().await;
    let mut products = cwsync_billing_sim::generate::products(all.len(), T0);
    for (product, case) in products.iter_mut().zip(&all) {
        product.sku = case.value.clone();
        product.name = format!("Hostile {}", case.value);
        product.enabled = true;
    }
    world.billing.seed_products(products);
    world.run_to_end("daily-export").await.unwrap();
    let made = world.cw.records("/procurement/catalog").len();
    // Every product changed, so the second run looks each catalog item up again.
    for product in world.billing.products() {
        assert!(
            world
                .billing
                .modify_product(&product.id, |p| p.name = format!("{} v2", p.name))
        );
    }
    world.run_to_end("daily-export").await.unwrap();
    let items = world.cw.records("/procurement/catalog");
    let mut failed = Vec::new();
    if items.len() != made {
        failed.push(format!(
            "the second run made {} more catalog items",
            items.len() - made
        ));
    }
    for case in &all {
        let found: Vec<_> = items
            .iter()
            .filter(|i| i["identifier"] == case.value.as_str())
            .collect();
        if found.len() != 1 {
            failed.push(format!("{:?}: {} catalog items", case.value, found.len()));
        } else if !found[0]["description"]
            .as_str()
            .unwrap_or_default()
            .ends_with("v2")
        {
            failed.push(format!(
                "{:?}: not updated by the second run: {}",
                case.value, found[0]
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
