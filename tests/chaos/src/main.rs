//! `cargo run -p cwsync-chaos --release -- [--seed N] [--tenants N] [--accounts N] [--rounds N]`:
//! one chaos run (moto needed: `MOTO_ENDPOINT`, or `.venv` from `bash .ci/test`), its figures
//! printed — faults injected by kind, what the storm delivered and killed, the clean run and
//! the invariants — and exit status 1 unless it converged.

use clap::Parser;
use cwsync_chaos::world::Shape;

#[derive(Debug, Parser)]
#[command(about = "Chaos convergence of the customer sync, with its figures")]
struct Args {
    /// Seeds the data, the changes, the faults and the delivery's disorder.
    #[arg(long, default_value_t = Shape::default().seed)]
    seed: u64,
    /// Tenants (each its own ConnectWise and billing simulator).
    #[arg(long, default_value_t = Shape::default().tenants)]
    tenants: usize,
    /// Accounts per tenant (the first 14 are the awkward ones).
    #[arg(long, default_value_t = Shape::default().accounts)]
    accounts: usize,
    /// Storm rounds.
    #[arg(long, default_value_t = Shape::default().rounds)]
    rounds: usize,
    /// Share of ordinary accounts changed before each round after the first.
    #[arg(long, default_value_t = Shape::default().change_rate)]
    change_rate: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let shape = Shape {
        seed: args.seed,
        tenants: args.tenants,
        accounts: args.accounts,
        rounds: args.rounds,
        change_rate: args.change_rate,
    };
    let Some(outcome) = cwsync_chaos::run(shape).await? else {
        anyhow::bail!(
            "moto is not available: run `bash .ci/test` once (it builds .venv) or set MOTO_ENDPOINT"
        );
    };
    println!("{}", serde_json::to_string_pretty(&outcome.figures())?);
    println!();
    println!("{:<52} {:>7}", "fault", "count");
    for (kind, n) in &outcome.faults.0 {
        println!("{kind:<52} {n:>7}");
    }
    println!("{:<52} {:>7}", "total", outcome.faults.total());
    println!(
        "storm {} ms, clean run {} ms; converged: {}",
        outcome.storm_time.as_millis(),
        outcome.clean_time.as_millis(),
        outcome.converged()
    );
    if !outcome.converged() {
        std::process::exit(1);
    }
    Ok(())
}
