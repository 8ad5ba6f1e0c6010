//! `connectwise-sim`: runs the ConnectWise simulator until Ctrl-C and prints where it listens.
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use cwsync_connectwise_sim::{
    RateLimit, SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY,
    TEST_PUBLIC_KEY,
};

#[derive(Debug, Parser)]
#[command(
    name = "connectwise-sim",
    about = "A ConnectWise Manage API simulator for tests and local runs"
)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Extra fixture to seed: a JSON object of collection path → array of records.
    #[arg(long)]
    fixture: Option<std::path::PathBuf>,
    /// Delay added to every API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Rate limit as N/WINDOW_MS, e.g. 60/60000.
    #[arg(long)]
    rate_limit: Option<String>,
    /// Start with every collection empty.
    #[arg(long)]
    no_reference_data: bool,
    /// Also serve HTTPS (same port) with a test CA made at start; URLs are printed as https://.
    #[arg(long)]
    tls: bool,
    /// Attempts per callback delivery while the receiver answers non-2xx or is unreachable.
    #[arg(long, default_value_t = 3)]
    callback_attempts: u32,
    /// Delay before a callback's second attempt, in milliseconds (doubled before each later one).
    #[arg(long, default_value_t = 50)]
    callback_retry_ms: u64,
    /// With --tls: write the test CA certificate (PEM) here, for clients to trust
    /// (e.g. REQUESTS_CA_BUNDLE for pyconnectwise).
    #[arg(long, requires = "tls")]
    tls_ca_out: Option<std::path::PathBuf>,
}

fn parse_rate_limit(text: &str) -> anyhow::Result<RateLimit> {
    let (n, ms) = text
        .split_once('/')
        .context("--rate-limit must look like N/WINDOW_MS")?;
    let n: u32 = n
        .trim()
        .parse()
        .context("the request count of --rate-limit must be a whole number")?;
    let ms: u64 = ms
        .trim()
        .parse()
        .context("the window of --rate-limit must be milliseconds")?;
    Ok(RateLimit::new(n, Duration::from_millis(ms)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let options = SimOptions {
        seed_reference_data: !args.no_reference_data,
        latency: Duration::from_millis(args.latency_ms),
        callback_attempts: args.callback_attempts,
        callback_retry_delay: Duration::from_millis(args.callback_retry_ms),
        rate_limit: args
            .rate_limit
            .as_deref()
            .map(parse_rate_limit)
            .transpose()?,
        tls: args.tls,
        ..SimOptions::default()
    };
    let rate_limit = options.rate_limit.clone();
    let sim = Simulator::start_on(options, SocketAddr::new(args.host, args.port)).await?;
    if let Some(path) = &args.fixture {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading fixture {}", path.display()))?;
        let fixture: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("fixture {} is not JSON", path.display()))?;
        sim.load_fixture(&fixture)
            .with_context(|| format!("seeding fixture {}", path.display()))?;
    }
    if let (Some(path), Some(pem)) = (&args.tls_ca_out, sim.tls_ca_pem()) {
        std::fs::write(path, pem)
            .with_context(|| format!("writing the test CA to {}", path.display()))?;
    }
    // These are fake test credentials, printed so a person or script can point a client at the simulator.
    println!("ConnectWise simulator listening on {}", sim.base_url());
    println!("API base:    {}", sim.api_base());
    println!("company id:  {TEST_COMPANY_ID}");
    println!("public key:  {TEST_PUBLIC_KEY}");
    println!("private key: {TEST_PRIVATE_KEY}");
    println!("clientId:    {TEST_CLIENT_ID}");
    match rate_limit {
        Some(limit) => println!(
            "rate limit:  {} requests per {} ms, then 429 (change it with --rate-limit N/WINDOW_MS, or leave it out for none)",
            limit.max_requests, limit.window_ms
        ),
        None => println!("rate limit:  none (add one with --rate-limit N/WINDOW_MS)"),
    }
    println!("control:     {}/__sim/  (Ctrl-C to stop)", sim.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
