//! The smoke scenario: make ConnectWise hold a set of companies, matching by identifier, creating
//! what is missing and patching only the fields that differ. One batched read per run.

use cwsync_connectwise::models::{Company, Resource};
use cwsync_connectwise::{Client, CwError, Query, patch_models};
use cwsync_connectwise_sim::CallStats;
use serde::Serialize;
use std::collections::HashMap;

/// What one reconcile did.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// One line per company that failed, naming it and the reason.
    pub failures: Vec<String>,
}

/// Reconciles `desired` into ConnectWise through `client`.
pub async fn reconcile_companies(client: &Client, desired: &[Company]) -> anyhow::Result<Outcome> {
    let identifiers: Vec<String> = desired
        .iter()
        .filter_map(|c| c.identifier.clone())
        .collect();
    let existing: Vec<Company> = client
        .list_by_ids(Company::PATH, "identifier", identifiers, &Query::new())
        .await?;
    // ConnectWise compares identifiers without regard to case.
    let by_identifier: HashMap<String, &Company> = existing
        .iter()
        .filter_map(|c| Some((c.identifier.as_deref()?.to_lowercase(), c)))
        .collect();

    let mut outcome = Outcome::default();
    for company in desired {
        let Some(identifier) = company.identifier.as_deref() else {
            outcome
                .failures
                .push("a company without an identifier was skipped".to_owned());
            continue;
        };
        let result = match by_identifier.get(&identifier.to_lowercase()) {
            None => client
                .create::<_, Company>(Company::PATH, company)
                .await
                .map(|_| outcome.created += 1),
            Some(current) => update_if_changed(client, current, company)
                .await
                .map(|changed| {
                    if changed {
                        outcome.updated += 1;
                    } else {
                        outcome.unchanged += 1;
                    }
                }),
        };
        if let Err(error) = result {
            outcome
                .failures
                .push(format!("company {identifier}: {error}"));
        }
    }
    Ok(outcome)
}

async fn update_if_changed(
    client: &Client,
    current: &Company,
    desired: &Company,
) -> Result<bool, CwError> {
    let ops = patch_models(current, desired).map_err(|e| CwError::Encode {
        path: Company::PATH.to_owned(),
        detail: e.to_string(),
    })?;
    if ops.is_empty() {
        return Ok(false);
    }
    let Some(id) = current.id else {
        return Ok(false);
    };
    client
        .patch::<Company>(&format!("{}/{id}", Company::PATH), &ops)
        .await?;
    Ok(true)
}

/// One run of the scenario, with the ConnectWise calls it cost.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub label: &'static str,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub failures: Vec<String>,
    pub connectwise_reads: u64,
    pub connectwise_writes: u64,
}

impl RunReport {
    /// A report from an outcome and the simulator's counters before and after the run.
    pub fn new(
        label: &'static str,
        outcome: Outcome,
        before: &CallStats,
        after: &CallStats,
    ) -> Self {
        let writes = after.writes() - before.writes();
        let total = after.total() - before.total();
        RunReport {
            label,
            created: outcome.created,
            updated: outcome.updated,
            unchanged: outcome.unchanged,
            failures: outcome.failures,
            connectwise_reads: total - writes,
            connectwise_writes: writes,
        }
    }

    /// Prints the reports as an aligned table.
    pub fn print_table(reports: &[RunReport]) {
        println!(
            "{:<20} {:>8} {:>8} {:>10} {:>7} {:>9} {:>10}",
            "run", "created", "updated", "unchanged", "failed", "CW reads", "CW writes"
        );
        for r in reports {
            println!(
                "{:<20} {:>8} {:>8} {:>10} {:>7} {:>9} {:>10}",
                r.label,
                r.created,
                r.updated,
                r.unchanged,
                r.failures.len(),
                r.connectwise_reads,
                r.connectwise_writes
            );
        }
    }
}
