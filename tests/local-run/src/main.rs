//! `cwsync-local`: runs cwsync on embedded defaults, with no AWS account and no Docker.
//!
//! Today (issue 2) it starts the ConnectWise simulator in-process, connects the real client to it
//! over HTTP, and runs a smoke scenario: a set of companies is reconciled into ConnectWise three
//! times — first everything is created, then an unchanged re-run makes zero writes, then one
//! changed field becomes one PATCH with only that field. Later issues replace the scenario with the
//! real jobs (customer sync, daily export, ticket import) over the same wiring.

mod reconcile;

use anyhow::Context;
use clap::Parser;
use cwsync_connectwise::models::Company;
use cwsync_connectwise::{Client, ClientConfig, RateLimit, RetryPolicy, Site};
use cwsync_connectwise_sim::{
    SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use reconcile::{RunReport, reconcile_companies};
use secrecy::SecretString;
use std::time::Duration;

const DEFAULT_COMPANIES: &str = include_str!("../fixtures/companies.json");

/// Run cwsync locally against in-process simulators.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// A JSON file with the companies to reconcile (an array of ConnectWise company objects);
    /// defaults to a small embedded set with hostile names.
    #[arg(long)]
    companies: Option<std::path::PathBuf>,
    /// Print the reports as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Keep the simulator running after the scenario (until Ctrl-C), to look at it with any client.
    #[arg(long)]
    keep_running: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let desired: Vec<Company> = match &args.companies {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => serde_json::from_str(DEFAULT_COMPANIES).context("parsing embedded companies")?,
    };

    let sim = Simulator::start(SimOptions::default())
        .await
        .context("starting the ConnectWise simulator")?;
    let mut config = ClientConfig::new(
        Site::parse(&sim.base_url())?,
        TEST_COMPANY_ID,
        SecretString::from(TEST_PUBLIC_KEY),
        SecretString::from(TEST_PRIVATE_KEY),
        TEST_CLIENT_ID,
    );
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_elapsed: Duration::from_secs(5),
    };
    config.rate = RateLimit::default();
    let client = Client::connect(config)
        .await
        .context("connecting to the simulator")?;
    if !args.json {
        println!(
            "cwsync local run: ConnectWise simulator at {} (codebase {})",
            sim.base_url(),
            client.codebase()
        );
        println!();
    }

    let mut reports = Vec::new();
    let mut scenario = desired.clone();
    for (label, change) in [
        ("first run", false),
        ("unchanged re-run", false),
        ("one field changed", true),
    ] {
        if change && let Some(first) = scenario.first_mut() {
            first.phone_number = Some("602-555-0123".to_owned());
        }
        let before = sim.calls();
        let outcome = reconcile_companies(&client, &scenario).await?;
        let after = sim.calls();
        reports.push(RunReport::new(label, outcome, &before, &after));
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        RunReport::print_table(&reports);
        for report in &reports {
            for failure in &report.failures {
                println!("  {}: {failure}", report.label);
            }
        }
    }

    if args.keep_running {
        println!();
        println!(
            "simulator still running at {} — company {TEST_COMPANY_ID}, public key {TEST_PUBLIC_KEY}, \
             private key {TEST_PRIVATE_KEY} (test-only keys), clientId {TEST_CLIENT_ID}; Ctrl-C to stop",
            sim.base_url()
        );
        tokio::signal::ctrl_c().await?;
    }
    sim.shutdown().await;
    Ok(())
}
