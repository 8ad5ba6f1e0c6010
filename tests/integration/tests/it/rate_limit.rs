//! The client's own rate limiter: all clones of one client share its requests-per-second budget
//! and its in-flight cap. Only lower bounds on time are asserted; a slow machine can only make
//! the suite slower, never make it fail.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use cwsync_connectwise::models::Company;
use cwsync_connectwise::{Client, RateLimit};
use futures::future::join_all;

use crate::support::{Front, config_at, connect, seed_companies, sim};

async fn get_concurrently(client: &Client, paths: &[String]) -> Duration {
    let started = Instant::now();
    let tasks = paths.iter().map(|path| {
        let client = client.clone();
        let path = path.clone();
        tokio::spawn(async move { client.get::<Company>(&path).await })
    });
    for result in join_all(tasks).await {
        result.unwrap().unwrap();
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_sharing_one_client_stay_within_its_rate_and_in_flight_cap() {
    let sim = sim().await;
    let ids = seed_companies(&sim, 24);
    sim.set_latency(Duration::from_millis(30));
    let front = Front::start(&sim, false).await;
    let mut config = config_at(&front.base_url);
    config.rate = RateLimit {
        per_second: NonZeroU32::new(20).unwrap(),
        burst: NonZeroU32::new(4).unwrap(),
        max_in_flight: 3,
    };
    let client = connect(config).await;
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/company/companies/{id}"))
        .collect();

    let elapsed = get_concurrently(&client, &paths).await;

    // 24 requests at 20/s after a burst of 4: the last may start 20 × 50 ms after the first.
    assert!(
        elapsed >= Duration::from_millis(1_000),
        "24 requests finished in {elapsed:?}"
    );
    let peak = front.log.peak_in_flight();
    assert!(
        (1..=3).contains(&peak),
        "{peak} requests were in flight at once"
    );
    assert_eq!(sim.calls().count("GET", "/company/companies/{id}"), 24);
    assert_eq!(client.stats().requests, 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_flight_cap_alone_bounds_concurrency_when_the_rate_is_generous() {
    let sim = sim().await;
    let ids = seed_companies(&sim, 30);
    sim.set_latency(Duration::from_millis(30));
    let front = Front::start(&sim, false).await;
    let mut config = config_at(&front.base_url);
    config.rate = RateLimit {
        per_second: NonZeroU32::new(10_000).unwrap(),
        burst: NonZeroU32::new(10_000).unwrap(),
        max_in_flight: 3,
    };
    let client = connect(config).await;
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/company/companies/{id}"))
        .collect();

    let elapsed = get_concurrently(&client, &paths).await;

    // Each request holds a slot for at least the 30 ms latency, three at a time: ten rounds.
    assert!(
        elapsed >= Duration::from_millis(300),
        "30 requests finished in {elapsed:?}"
    );
    let peak = front.log.peak_in_flight();
    assert!(
        (1..=3).contains(&peak),
        "{peak} requests were in flight at once"
    );
}
