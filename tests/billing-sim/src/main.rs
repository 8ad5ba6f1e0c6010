//! `billing-sim`: runs the billing-system simulator until Ctrl-C and prints where it listens and
//! the (fake, test-only) API key it accepts.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use cwsync_billing_sim::{BillingSim, BillingSimOptions, TEST_BILLING_API_KEY};

#[derive(Debug, Parser)]
#[command(
    name = "billing-sim",
    about = "A simulator of the cwsync billing-system contract for tests and local runs"
)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Seed the embedded fixtures (six US and Canadian accounts, their products, subscriptions
    /// and users).
    #[arg(long)]
    fixture: bool,
    /// API key to accept instead of the test key.
    #[arg(long, env = "BILLING_SIM_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Delay added to every call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Rate limit as N/WINDOW_MS[/RETRY_AFTER_S], e.g. 60/60000/5 (Retry-After defaults to 1).
    #[arg(long)]
    rate_limit: Option<String>,
    /// Serve only the single-record write-backs (POST /v1/write-backs answers 404), as a billing
    /// system without the contract's optional batch form.
    #[arg(long)]
    single_write_backs_only: bool,
}

fn parse_rate_limit(text: &str) -> anyhow::Result<(u32, Duration, u64)> {
    let mut parts = text.split('/');
    let n = parts
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .context("the request count of --rate-limit must be a whole number")?;
    let ms = parts
        .next()
        .context("--rate-limit must look like N/WINDOW_MS[/RETRY_AFTER_S]")?
        .trim()
        .parse()
        .context("the window of --rate-limit must be milliseconds")?;
    let retry_after = match parts.next() {
        Some(secs) => secs
            .trim()
            .parse()
            .context("the Retry-After of --rate-limit must be whole seconds")?,
        None => 1,
    };
    Ok((n, Duration::from_millis(ms), retry_after))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let options = BillingSimOptions {
        api_key: args
            .api_key
            .clone()
            .unwrap_or_else(|| TEST_BILLING_API_KEY.to_owned()),
        seed_fixture: args.fixture,
        latency: Duration::from_millis(args.latency_ms),
        rate_limit: args
            .rate_limit
            .as_deref()
            .map(parse_rate_limit)
            .transpose()?,
        clock: None,
        single_write_backs_only: args.single_write_backs_only,
    };
    let options_rate_limit = options.rate_limit;
    let sim = BillingSim::start_on(options, SocketAddr::new(args.host, args.port))
        .await
        .context("starting the billing simulator")?;
    println!("billing simulator listening on {}", sim.base_url());
    if args.api_key.is_some() {
        println!("API key:  (the one given with --api-key)");
    } else {
        // A fake test key, printed so a person or script can point a client at the simulator.
        println!("API key:  {TEST_BILLING_API_KEY}");
    }
    match options_rate_limit {
        Some((n, window, retry_after)) => println!(
            "rate limit: {n} requests per {} ms, then 429 with Retry-After: {retry_after} (change it with --rate-limit N/WINDOW_MS[/RETRY_AFTER_S], or leave it out for none)",
            window.as_millis()
        ),
        None => {
            println!("rate limit: none (add one with --rate-limit N/WINDOW_MS[/RETRY_AFTER_S])")
        }
    }
    if args.single_write_backs_only {
        println!("write-backs: single-record PATCHes only (POST /v1/write-backs answers 404)");
    }
    println!(
        "accounts: {}, products: {}, subscriptions: {}, users: {} (Ctrl-C to stop)",
        sim.accounts().len(),
        sim.products().len(),
        sim.subscriptions().len(),
        sim.users().len()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
