//! Benchmarks live in `benches/`; see the README for how to run them. This library holds what
//! they share: the median of a scenario's rounds, counts over rounds, the calls between two
//! snapshots and their printing, the rounds' times, the bench's billing accounts, the world a
//! bench starts from (both simulators and the function's deps, [`bench_world`]) and its tenant's
//! set-up, the client options of a benchmarked function, and the process's peak RSS.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use cwsync_billing::models::{Account, Address, Contact, Product, Site, Subscription};
use cwsync_billing_sim::{BillingSim, BillingSimOptions};
use cwsync_connectwise::{RateLimit, RetryPolicy};
use cwsync_connectwise_sim::{SimOptions, Simulator};
use cwsync_customer_sync::CustomerSync;
use cwsync_mapping::settings::TenantSettings;
use cwsync_queue::MemoryJobQueue;
use cwsync_runtime::{Config, Deps};
use cwsync_sync::tenant::ConnectOptions;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The benches' tenant.
pub const TENANT: &str = "bench";
/// When a bench's world starts (the billing simulator's clock, the accounts' last change).
pub const T0: OffsetDateTime = time::macros::datetime!(2026-11-20 08:00 UTC);
/// Deliveries of one job before it would go to the DLQ (the stack's `maxReceiveCount`).
pub const MAX_RECEIVES: u32 = 5;

/// The median of `samples` (the upper one of an even count); zero when there are none.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The median of counts (the upper one of an even count); zero when there are none.
pub fn median_count(mut samples: Vec<u64>) -> u64 {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// A count over the rounds: `600` when every round agrees, else the median and the range,
/// `600 (598-604)`.
pub fn spread(samples: &[u64]) -> String {
    let min = samples.iter().min().copied().unwrap_or_default();
    let max = samples.iter().max().copied().unwrap_or_default();
    if min == max {
        min.to_string()
    } else {
        format!("{} ({min}-{max})", median_count(samples.to_vec()))
    }
}

/// The calls made between two snapshots of per-endpoint counts (`before`, then `after`), the
/// endpoints called at least once.
pub fn delta(
    after: &BTreeMap<String, u64>,
    before: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.saturating_sub(before.get(k).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// Prints each round's scenario times in milliseconds, a round's scenarios joined by `/`:
/// `round times (ms): 837/205/304, 802/146/267`.
#[allow(clippy::print_stdout, reason = "a benchmark's output")]
pub fn print_round_times(rounds: impl IntoIterator<Item = Vec<Duration>>) {
    let rounds: Vec<String> = rounds
        .into_iter()
        .map(|times| {
            times
                .iter()
                .map(|t| format!("{:.0}", t.as_secs_f64() * 1000.0))
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    println!("round times (ms): {}", rounds.join(", "));
}

/// Prints the calls of each scenario of one round by endpoint: `(name, ConnectWise calls by
/// endpoint, billing calls by route)`.
#[allow(clippy::print_stdout, reason = "a benchmark's output")]
pub fn print_calls_by_endpoint<'a>(
    scenarios: impl IntoIterator<
        Item = (
            &'a str,
            &'a BTreeMap<String, u64>,
            &'a BTreeMap<String, u64>,
        ),
    >,
) {
    println!("calls by endpoint (round 1):");
    for (name, cw, billing) in scenarios {
        println!("  {name}");
        for (endpoint, n) in cw {
            println!("    CW      {endpoint:<56} {n:>6}");
        }
        for (route, n) in billing {
            println!("    billing {route:<56} {n:>6}");
        }
    }
}

/// What every bench's world starts from: both simulators, the billing one with `accounts`
/// accounts ([`account`]) and its clock at [`T0`], and the deps of the benchmarked function over
/// them for [`TENANT`] ([`bench_world`]).
#[derive(Debug)]
pub struct BenchWorld {
    /// ConnectWise, without checking its responses against the schema (the simulator's cost,
    /// not the function's; the end-to-end tests keep it on).
    pub cw: Simulator,
    /// The billing system.
    pub billing: BillingSim,
    /// The function's deps: in-memory stores, the tenant's secret, the customer queue; add the
    /// function's own queue before sharing them.
    pub deps: Deps,
    /// The customer queue in `deps`.
    pub customer_queue: Arc<MemoryJobQueue>,
}

/// The two simulators of a bench, without latency or limit: ConnectWise not checking its
/// responses against the schema (the simulator's cost, not the function's), billing with
/// `accounts` bench accounts ([`account`]) at [`T0`]. Panics (the bench fails) when one does not
/// start.
#[allow(clippy::panic, reason = "a benchmark's set-up fails the benchmark")]
pub async fn start_simulators(accounts: usize) -> (Simulator, BillingSim) {
    let cw = Simulator::start(SimOptions {
        validate_responses: false,
        ..SimOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("the ConnectWise simulator: {e}"));
    let billing = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap_or_else(|e| panic!("the billing simulator: {e}"));
    billing.set_clock(T0);
    billing.seed_accounts((0..accounts).map(|n| account(n, T0)).collect());
    (cw, billing)
}

/// What the ticket import needs besides the accounts: ConnectWise's clock at [`T0`], billing's
/// technicians, items and product types (the billing simulator's fixtures).
pub fn seed_ticket_reference(cw: &Simulator, billing: &BillingSim) {
    cw.set_clock(T0);
    billing.seed_technicians(cwsync_billing_sim::fixture_technicians());
    billing.seed_items(cwsync_billing_sim::fixture_items());
    billing.seed_product_types(cwsync_billing_sim::fixture_product_types());
}

/// Starts a bench's world for `function` (see [`BenchWorld`]). Panics (the bench fails) when a
/// simulator does not start.
#[allow(clippy::panic, reason = "a benchmark's set-up fails the benchmark")]
pub async fn bench_world(function: &'static str, accounts: usize) -> BenchWorld {
    let (cw, billing) = start_simulators(accounts).await;
    let (deps, customer_queue) =
        cwsync_test_support::sim_deps(function, Config::local(), TENANT, &cw, &billing);
    BenchWorld {
        cw,
        billing,
        deps,
        customer_queue,
    }
}

/// Sets a bench tenant up (not measured) with a customer sync over `deps` (the benchmarked
/// function's, its own queue added): stores its settings, the defaults with `settings` merged
/// over them, and runs its customer sync to the end (its jobs from `customer_queue`), so its
/// accounts have companies. Answers the deps, shared, for the function. Panics (the bench fails)
/// when either does not work.
#[allow(clippy::panic, reason = "a benchmark's set-up fails the benchmark")]
pub async fn set_up_tenant(
    deps: Deps,
    customer_queue: &MemoryJobQueue,
    tenant: &str,
    settings: Value,
) -> Arc<Deps> {
    let deps = Arc::new(deps);
    let customers = CustomerSync::new(Arc::clone(&deps), bench_options());
    let deadline = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let mut document = serde_json::to_value(TenantSettings::default()).unwrap_or_default();
    cwsync_test_support::merge(&mut document, settings);
    let put = json!({"action": "put-settings", "tenant": tenant, "settings": document});
    let fail =
        |action: &str, d: Diagnostic| panic!("{action}: {}: {}", d.error_type, d.error_message);
    if let Err(d) = customers.handle(put, deadline).await {
        fail("put-settings", d);
    }
    let delivery = customers.sync_tenant_to_end(tenant, customer_queue, MAX_RECEIVES);
    if let Err(d) = delivery.await {
        fail("sync-tenant", d);
    }
    deps
}

/// A bench's products for the export (`cwsync_billing_sim::generate::products`: every tenth
/// disabled, an inactive catalog item) and `per_account` subscriptions of each of `account_ids`
/// to the enabled ones (ConnectWise refuses an addition of an inactive product), updated just
/// after [`T0`]. Deterministic: the same arguments give the same records.
pub fn export_products_and_subscriptions(
    account_ids: &[String],
    products: usize,
    per_account: usize,
) -> (Vec<Product>, Vec<Subscription>) {
    let products = cwsync_billing_sim::generate::products(products, T0);
    let subscriptions = cwsync_billing_sim::generate::subscriptions(
        account_ids,
        per_account,
        &enabled_products(&products),
        T0 + time::Duration::seconds(1),
    );
    (products, subscriptions)
}

/// The enabled ones of `products`.
pub fn enabled_products(products: &[Product]) -> Vec<Product> {
    products.iter().filter(|p| p.enabled).cloned().collect()
}

/// The console's `export-now` of every account of `tenant` that changed since its last export,
/// as the schedule asks for it (no dry run, no document).
pub fn export_now(tenant: &str) -> cwsync_daily_export::Event {
    cwsync_daily_export::Event::ExportNow {
        tenant: tenant.to_owned(),
        account_ids: None,
        dry_run: false,
        confirm_mass_change: false,
        full: false,
        documents: false,
    }
}

/// The ticket import's status of finished tickets (a status of the ConnectWise simulator's
/// reference board 1); a bench tenant's `ticketImport.statuses`.
pub const TICKET_FINISHED: &str = "Closed";

/// The ConnectWise members who log time on bench tickets: identifier, e-mail, and the billing
/// technician (`cwsync_billing_sim::fixture_technicians`) they match by e-mail.
pub const TICKET_MEMBERS: [(&str, &str, &str); 2] = [
    ("jdoe", "jdoe@example.com", "T-100"),
    ("srivera", "srivera@example.com", "T-101"),
];

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The ids of [`TICKET_MEMBERS`] in `cw`: the reference data has `jdoe` already; the others are
/// made as a ConnectWise admin would (the simulator's write path, not an API call). Panics (the
/// bench fails) when the simulator refuses one.
#[allow(clippy::panic, reason = "a benchmark's set-up fails the benchmark")]
pub fn seed_ticket_members(cw: &Simulator) -> Vec<i64> {
    TICKET_MEMBERS
        .iter()
        .map(|(identifier, email, _)| {
            let existing = cw
                .records("/system/members")
                .iter()
                .find(|m| m["identifier"] == *identifier)
                .and_then(|m| m["id"].as_i64());
            existing.unwrap_or_else(|| {
                let member = cw.create(
                    "/system/members",
                    json!({"identifier": identifier, "firstName": identifier,
                           "lastName": "Bench", "primaryEmail": email, "officeEmail": email,
                           "defaultEmail": "Office", "defaultPhone": "Office",
                           "hireDate": "2024-03-01T00:00:00Z", "licenseClass": "F",
                           "securityRole": {"id": 2}, "inactiveFlag": false}),
                );
                member
                    .ok()
                    .and_then(|m| m["id"].as_i64())
                    .unwrap_or_else(|| panic!("member {identifier}: not created"))
            })
        })
        .collect()
}

/// Finished service ticket `n` on `company`, with `entries` time entries of 45 minutes (the
/// day before [`T0`]) by `members` in turn, through the simulator's write path (as a ConnectWise
/// user's POSTs; not counted as API calls). Answers its id. Panics (the bench fails) when the
/// simulator refuses a record.
#[allow(clippy::panic, reason = "a benchmark's set-up fails the benchmark")]
pub fn seed_finished_ticket(
    cw: &Simulator,
    n: usize,
    company: i64,
    members: &[i64],
    entries: usize,
) -> i64 {
    let ticket = cw
        .create(
            "/service/tickets",
            json!({"summary": format!("Bench ticket {n}"), "company": {"id": company},
                   "board": {"id": 1}, "status": {"name": TICKET_FINISHED}}),
        )
        .ok()
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_else(|| panic!("ticket {n}: not created"));
    for e in 0..entries {
        let start = T0 - time::Duration::hours(8) + time::Duration::hours(e as i64);
        let entry = cw.create(
            "/time/entries",
            json!({"chargeToType": "ServiceTicket", "chargeToId": ticket,
                   "member": {"id": members[(n + e) % members.len()]},
                   "timeStart": rfc3339(start),
                   "timeEnd": rfc3339(start + time::Duration::minutes(45)),
                   "notes": format!("work {e} on ticket {n}")}),
        );
        if let Err(error) = entry {
            panic!("ticket {n}: time entry {e}: {error}");
        }
    }
    ticket
}

/// The process's peak resident set size so far (`VmHWM` in `/proc/self/status`), in MiB; NaN
/// where there is no `/proc`.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM")
}

/// The process's resident set size now (`VmRSS`), in MiB; NaN where there is no `/proc`.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS")
}

fn status_mib(field: &str) -> f64 {
    cwsync_lambda_harness::proc_status_kib("self", field)
        .map_or(f64::NAN, |kib| kib as f64 / 1024.0)
}

fn address(line1: &str, city: &str, zip: &str) -> Address {
    Address {
        line1: Some(line1.to_owned()),
        line2: None,
        city: Some(city.to_owned()),
        state: Some("AZ".to_owned()),
        postal_code: Some(zip.to_owned()),
        country: Some("United States".to_owned()),
    }
}

/// The id of bench account `n`: `A-0000`, `A-0001`, …
pub fn account_id(n: usize) -> String {
    format!("A-{n:04}")
}

/// Bench account `n` (id [`account_id`]), last updated at `updated_at`: valid against the
/// ConnectWise simulator's reference data (Arizona, United States, type "Client", status
/// "Active"), with one site and two contacts.
pub fn account(n: usize, updated_at: OffsetDateTime) -> Account {
    Account {
        id: account_id(n),
        code: format!("BENCH{n:04}"),
        name: format!("Bench Customer {n}"),
        status: Some("Active".to_owned()),
        account_type: Some("Client".to_owned()),
        parent_account_id: None,
        bill_to_account_id: None,
        currency: Some("USD".to_owned()),
        phone: Some("602-555-0100".to_owned()),
        fax: None,
        website: Some("https://example.com".to_owned()),
        billing_address: Some(address(&format!("{n} Main St"), "Phoenix", "85001")),
        customer_type: Some("Managed".to_owned()),
        contract_type: Some("Monthly".to_owned()),
        branch: Some("Phoenix".to_owned()),
        sync_to_connect_wise: true,
        on_hold: false,
        connect_wise_company_id: None,
        sites: vec![Site {
            id: format!("S-{n:04}"),
            name: "Warehouse".to_owned(),
            address: address(&format!("{n} Dock Rd"), "Tempe", "85281"),
            phone: Some("480-555-0100".to_owned()),
            fax: None,
            connect_wise_site_id: None,
        }],
        contacts: (1..=2)
            .map(|c| Contact {
                id: format!("C-{n:04}-{c}"),
                first_name: Some(format!("First{c}")),
                last_name: Some(format!("Last{n}")),
                title: Some("Office Manager".to_owned()),
                phone: Some("602-555-0110".to_owned()),
                email: Some(format!("person{c}@customer{n}.example")),
                mobile: Some("602-555-0111".to_owned()),
                fax: None,
                connect_wise_contact_id: None,
            })
            .collect(),
        updated_at,
    }
}

/// Client options of a benchmarked function: short retries and timeouts, no reference cache, and
/// a ConnectWise rate limit far above what the simulator can serve. The benchmarks measure the
/// function, not the politeness limit a tenant would configure (10 requests/s by default: that
/// alone would make a first sync take minutes); in-flight requests stay capped at 8.
pub fn bench_options() -> ConnectOptions {
    let retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(5),
    };
    let unlimited = NonZeroU32::new(10_000).unwrap_or(NonZeroU32::MIN);
    ConnectOptions {
        cw_retry: Some(retry),
        billing_retry: Some(retry),
        timeout: Some(Duration::from_secs(5)),
        cache_ttl: None,
        cw_rate: Some(RateLimit {
            per_second: unlimited,
            burst: unlimited,
            max_in_flight: 8,
        }),
        gate_window: None,
    }
}

/// Asserts that the run a console `report` answered with succeeded, naming its first failed
/// records when it did not.
pub fn assert_run_succeeded(report: &serde_json::Value) {
    let failed: Vec<&serde_json::Value> = report["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["outcome"] == "failed")
        .take(3)
        .collect();
    assert_eq!(
        report["run"]["status"], "succeeded",
        "{}; first failed records: {failed:?}",
        report["run"]
    );
}

/// Where the benches that run the functions' **release** binaries find them (they don't build
/// them: the release profile's LTO build takes minutes): `$CWSYNC_RELEASE_DIR`, else
/// `$CARGO_TARGET_DIR/release`, else the workspace's `target/release`.
pub fn release_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("CWSYNC_RELEASE_DIR") {
        return std::path::PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return std::path::PathBuf::from(dir).join("release");
    }
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release")
}

/// The machine's CA bundle (Debian's), the one file Lambda's image has as well.
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The CA certificates as Lambda's image holds them, for a release binary started by a bench:
/// at init the AWS SDK loads the system's CA certificates; Lambda's image (Amazon Linux 2023)
/// holds them as one bundle file, this Debian machine also as a file each in `/etc/ssl/certs`
/// (read too, and held). So `SSL_CERT_FILE` names the bundle and `SSL_CERT_DIR` an empty folder
/// (`empty_dir`, the caller's).
pub fn lambda_certificates(empty_dir: &str) -> [(&'static str, String); 2] {
    [
        ("SSL_CERT_FILE", CA_BUNDLE.to_owned()),
        ("SSL_CERT_DIR", empty_dir.to_owned()),
    ]
}

/// Bench account `n`'s ticket's time entries: one and two in turn.
pub fn entries_of_ticket(n: usize) -> usize {
    1 + n % 2
}

/// One finished ticket on each of `cw`'s companies (after a customer sync), with
/// [`entries_of_ticket`] time entries by the [`TICKET_MEMBERS`], through the simulator's write
/// path (not API traffic); answers the tickets seeded.
#[allow(clippy::panic, reason = "a benchmark's set-up fails the benchmark")]
pub fn seed_tickets(cw: &Simulator) -> usize {
    let calls_before = cw.calls().total;
    let members = seed_ticket_members(cw);
    let companies: Vec<i64> = cw
        .records("/company/companies")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    for (n, company) in companies.iter().enumerate() {
        seed_finished_ticket(cw, n, *company, &members, entries_of_ticket(n));
        cw.advance_clock(Duration::from_secs(1));
    }
    if cw.calls().total != calls_before {
        panic!("seeding the tickets made API calls: it must not count as traffic");
    }
    companies.len()
}
