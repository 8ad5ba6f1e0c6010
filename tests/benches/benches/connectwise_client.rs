//! How fast and how frugal the ConnectWise client is against the simulator (no added latency, so
//! the figures are the client's and the simulator's own cost, not a network's):
//! - listing 10,000 companies at pageSize 1000,
//! - looking up 2,000 companies by identifier with URL-bounded `in (...)` batches,
//! - diffing 10,000 listed companies against the desired values (all unchanged: zero PATCHes).
//!
//! Run: `cargo bench -p cwsync-benches`. Prints one line per scenario: wall time (median of
//! several rounds), records per second, API calls made, and the process's peak RSS at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use cwsync_benches::{median, peak_rss_mib};
use cwsync_connectwise::models::{Company, Resource};
use cwsync_connectwise::{Client, ClientConfig, Query, RateLimit, Site, patch_models};
use cwsync_connectwise_sim::{
    SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use secrecy::SecretString;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

const COMPANIES: usize = 10_000;
const LOOKUPS: usize = 2_000;
const ROUNDS: usize = 5;

fn report(name: &str, records: usize, calls: u64, time: Duration) {
    println!(
        "{name:<44} {:>9.1} ms {:>11.0} rec/s {calls:>6} calls",
        time.as_secs_f64() * 1000.0,
        records as f64 / time.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let sim = Simulator::start(SimOptions {
        validate_responses: false,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    // What a sync would want ConnectWise to hold: the fields it manages, nothing else.
    let desired: Vec<serde_json::Value> = (0..COMPANIES)
        .map(|n| {
            serde_json::json!({
                "identifier": format!("BENCH{n:05}"),
                "name": format!("Bench Company {n}"),
                "addressLine1": format!("{n} Main Street"),
                "city": "Springfield",
                "phoneNumber": "555-0100",
            })
        })
        .collect();
    sim.seed(Company::PATH, desired.clone()).unwrap();
    let desired: Vec<Company> = desired
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();

    let mut config = ClientConfig::new(
        Site::parse(&sim.base_url()).unwrap(),
        TEST_COMPANY_ID,
        SecretString::from(TEST_PUBLIC_KEY),
        SecretString::from(TEST_PRIVATE_KEY),
        TEST_CLIENT_ID,
    );
    // The benchmark measures the client, not the politeness limit a tenant would configure.
    config.rate = RateLimit {
        per_second: NonZeroU32::new(10_000).unwrap(),
        burst: NonZeroU32::new(10_000).unwrap(),
        max_in_flight: 8,
    };
    let client = Client::connect(config).await.unwrap();

    println!(
        "{:<44} {:>12} {:>17} {:>12}",
        "scenario", "median", "throughput", "API calls"
    );

    let mut times = Vec::new();
    let mut calls = 0;
    let mut listed: Vec<Company> = Vec::new();
    for _ in 0..ROUNDS {
        let before = sim.calls().total();
        let started = Instant::now();
        listed = client.list_all(Company::PATH, &Query::new()).await.unwrap();
        times.push(started.elapsed());
        calls = sim.calls().total() - before;
    }
    assert_eq!(listed.len(), COMPANIES);
    report(
        "list_all 10,000 companies (pageSize 1000)",
        COMPANIES,
        calls,
        median(times),
    );

    let identifiers: Vec<String> = (0..LOOKUPS).map(|n| format!("BENCH{:05}", n * 5)).collect();
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let before = sim.calls().total();
        let started = Instant::now();
        let found: Vec<Company> = client
            .list_by_ids(
                Company::PATH,
                "identifier",
                identifiers.clone(),
                &Query::new(),
            )
            .await
            .unwrap();
        times.push(started.elapsed());
        calls = sim.calls().total() - before;
        assert_eq!(found.len(), LOOKUPS);
    }
    report(
        "list_by_ids 2,000 identifiers (URL <= 2000)",
        LOOKUPS,
        calls,
        median(times),
    );

    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let changed = listed
            .iter()
            .zip(&desired)
            .filter(|(current, want)| !patch_models(*current, *want).unwrap().is_empty())
            .count();
        times.push(started.elapsed());
        assert_eq!(changed, 0, "an unchanged record needs no PATCH");
    }
    report(
        "diff 10,000 unchanged companies vs desired",
        COMPANIES,
        0,
        median(times),
    );

    println!("peak RSS: {:.1} MiB", peak_rss_mib());
    sim.shutdown().await;
}
