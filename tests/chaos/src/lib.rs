//! Chaos convergence (issue 12 §1 and the secrets half of §3): seeded tenants full of awkward
//! data are synced through a storm of injected faults — ConnectWise and billing errors, timeouts,
//! dropped connections and lost answers, DynamoDB throttling and conditional-check races, SQS
//! messages twice, late and out of order, two workers on one job, workers killed between a
//! create and its link and between a link and its write-back or after a billing write landed,
//! ConnectWise callbacks lost and sent twice — and then a clean run must
//! converge: no duplicate, no record without its link, every value as mapped, every run
//! finished, and a last clean run writes nothing — for the customer sync, the daily export, its
//! billing documents and the ticket import.
//! Everything the functions said meanwhile (logs, errors, reports, metrics, Debug output) is
//! searched for the tenants' secrets.
//!
//! [`run`] does all of it and returns the [`Outcome`]; the `chaos` binary prints it, the test
//! (`tests/chaos.rs`) asserts it. The parts: [`world`] (the generator), [`faults`],
//! [`dynamo_proxy`], [`storm`] (delivery and kills), [`check`] (the invariants), [`capture`]
//! (the leak scan).
#![allow(clippy::print_stdout)]

pub mod capture;
pub mod check;
pub mod documents;
pub mod dynamo_proxy;
pub mod faults;
pub mod storm;
pub mod tickets;
pub mod world;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::faults::Tally;
use crate::storm::{Chaos, Delivered, Tenant, Which};
use crate::world::Shape;

/// A ConnectWise client of `tenant`'s member (for the checks' reference data).
pub async fn cw_client(tenant: &Tenant) -> anyhow::Result<cwsync_connectwise::Client> {
    let config = cwsync_connectwise::ClientConfig::new(
        cwsync_connectwise::Site::parse(&tenant.cw.base_url())?,
        cwsync_connectwise_sim::TEST_COMPANY_ID,
        secrecy::SecretString::from(tenant.keys.0.clone()),
        secrecy::SecretString::from(tenant.keys.1.clone()),
        cwsync_connectwise_sim::TEST_CLIENT_ID,
    );
    Ok(cwsync_connectwise::Client::connect(config).await?)
}

/// The only write a second clean run may make: a child's company getting its parent.
pub const CHILD_GETS_PARENT: &str = "PATCH /company/companies/{id}";

/// What a chaos run came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Its shape.
    pub shape: Option<Shape>,
    /// Faults injected, by kind.
    pub faults: Tally,
    /// DynamoDB conditional-check failures moto answered (races the stores settled).
    pub conditional_races: u64,
    /// The storm's deliveries.
    pub storm: Delivered,
    /// The clean run's deliveries and dead letters.
    pub clean_deliveries: u64,
    /// Jobs the clean run dead-lettered (must be none).
    pub clean_dead_letters: Vec<String>,
    /// Tenants whose clean run could not be planned.
    pub unplanned: Vec<String>,
    /// Runs the clean run started that did not finish (must be none).
    pub unfinished: Vec<String>,
    /// Storm dead letters that answered failed on their last delivery although their job was
    /// completed by another delivery (a duplicate meeting the other's lock).
    pub dead_letters_done_elsewhere: u64,
    /// Storm dead letters that answered failed on their last delivery (another delivery held
    /// their lock) whose job is dead-lettered too, killed on its last delivery: the worker
    /// holding the lock died, so the failure is unknown.
    pub dead_letters_holder_killed: u64,
    /// Storm dead letters that answered failed on their last delivery that neither explains
    /// (must be none): kind and key.
    pub dead_letters_unexplained: Vec<String>,
    /// Storm runs left running that no dead letter killed on its last delivery explains (must be
    /// none).
    pub runs_left_unexplained: Vec<String>,
    /// Storm runs left running (their jobs dead-lettered in the storm and were finished by the
    /// clean run's jobs instead).
    pub storm_runs_running: u64,
    /// Storm runs in all.
    pub storm_runs: u64,
    /// ConnectWise writes of the second clean run, by endpoint: only a child account's company
    /// getting the parent company its parent's job created in the first clean run (the child's
    /// job ran first and does not wait for a parent no claim announces; see the customer sync's
    /// `RELATED_WAITS`).
    pub second_run_writes: BTreeMap<String, u64>,
    /// Accounts with a parent or bill-to account (the most the second clean run may patch).
    pub children: u64,
    /// Billing writes of the second clean run (must be 0).
    pub second_run_billing_writes: u64,
    /// ConnectWise and billing writes of the third clean run (must be 0 and 0).
    pub rerun_writes: (u64, u64),
    /// ConnectWise and billing writes of the second clean export (must be 0 and 0).
    pub export_rerun_writes: (u64, u64),
    /// ConnectWise and billing writes of the second clean documents run (must be 0 and 0).
    pub documents_rerun_writes: (u64, u64),
    /// Ticket jobs redriven from the dead-letter queue before the clean import: those the error
    /// ledger does not remember (stopped before their last delivery's mark was written), and the
    /// plannings and moves.
    pub redriven: u64,
    /// Ticket jobs dead-lettered whose ticket the error ledger remembers (their last delivery's
    /// mark, or their failure): left in the DLQ, the clean import plans the ticket again.
    pub remembered: u64,
    /// ConnectWise and billing writes of the second clean import (must be 0 and 0).
    pub ticket_rerun_writes: (u64, u64),
    /// ConnectWise tickets checked.
    pub tickets: u64,
    /// Billing calls imported from them.
    pub ticket_calls: u64,
    /// The callbacks ConnectWise sent the ticket import (real time), at the end.
    pub callbacks: storm::Callbacks,
    /// What the invariants found wrong (must be nothing).
    pub findings: Vec<String>,
    /// Records the invariants verified.
    pub verified: u64,
    /// Records generated (accounts, sites and contacts at the end).
    pub records: u64,
    /// Secrets found in what the run said (must be none): (secret, form, context).
    pub leaks: Vec<(String, String, String)>,
    /// Bytes of logs, errors, reports and metrics scanned.
    pub scanned_bytes: usize,
    /// Wall time of the storm and of the clean run.
    pub storm_time: Duration,
    /// Wall time of the clean run (after the leases expired).
    pub clean_time: Duration,
}

impl Outcome {
    /// Whether every invariant holds.
    pub fn converged(&self) -> bool {
        self.findings.is_empty()
            && self.clean_dead_letters.is_empty()
            && self.unfinished.is_empty()
            && self.unplanned.is_empty()
            && self.rerun_writes == (0, 0)
            && self.export_rerun_writes == (0, 0)
            && self.ticket_rerun_writes == (0, 0)
            && self.documents_rerun_writes == (0, 0)
            && self.second_run_billing_writes == 0
            && self
                .second_run_writes
                .keys()
                .all(|endpoint| endpoint == CHILD_GETS_PARENT)
            && self.second_run_writes.values().sum::<u64>() <= self.children
            && self.leaks.is_empty()
            && self.runs_left_unexplained.is_empty()
            && self.dead_letters_unexplained.is_empty()
    }

    /// Storm dead letters that answered failed on their last delivery.
    pub fn failed_on_last(&self) -> u64 {
        self.storm
            .dead_letters
            .iter()
            .filter(|(_, why)| *why == storm::FAILED_ON_LAST)
            .count() as u64
    }

    /// The figures as JSON (the binary prints it).
    pub fn figures(&self) -> Value {
        json!({
            "shape": self.shape.map(|s| json!({
                "seed": s.seed, "tenants": s.tenants, "accountsPerTenant": s.accounts,
                "rounds": s.rounds, "changeRate": s.change_rate,
            })),
            "faultsInjected": self.faults.total(),
            "faultsByKind": self.faults.0,
            "dynamoConditionalRaces": self.conditional_races,
            "storm": {
                "invocations": self.storm.invocations,
                "messages": self.storm.messages,
                "invocationsKilled": self.storm.killed,
                "invocationsTimedOut": self.storm.timed_out,
                "deadLetters": self.storm.dead_letters.len(),
                "deadLettersKilledOnLastDelivery": self.storm.dead_letters.iter()
                    .filter(|(_, why)| *why == storm::KILLED_ON_LAST).count(),
                "deadLettersFailedOnLastDelivery": self.storm.dead_letters.iter()
                    .filter(|(_, why)| *why == storm::FAILED_ON_LAST).count(),
                "runs": self.storm_runs,
                "runsLeftRunning": self.storm_runs_running,
                "runsLeftRunningUnexplained": self.runs_left_unexplained,
                "deadLettersDoneElsewhere": self.dead_letters_done_elsewhere,
                "deadLettersLockHolderKilled": self.dead_letters_holder_killed,
                "deadLettersUnexplained": self.dead_letters_unexplained,
                "millis": self.storm_time.as_millis() as u64,
            },
            "clean": {
                "deliveries": self.clean_deliveries,
                "deadLetters": self.clean_dead_letters,
                "unplanned": self.unplanned,
                "unfinishedRuns": self.unfinished,
                "millis": self.clean_time.as_millis() as u64,
            },
            "secondCleanRunWrites": {"connectwise": self.second_run_writes, "billing": self.second_run_billing_writes},
            "thirdCleanRunWrites": {"connectwise": self.rerun_writes.0, "billing": self.rerun_writes.1},
            "secondCleanExportWrites": {"connectwise": self.export_rerun_writes.0, "billing": self.export_rerun_writes.1},
            "secondCleanDocumentsWrites": {"connectwise": self.documents_rerun_writes.0, "billing": self.documents_rerun_writes.1},
            "ticketJobsRedriven": self.redriven,
            "ticketJobsRememberedByTheLedger": self.remembered,
            "secondCleanImportWrites": {"connectwise": self.ticket_rerun_writes.0, "billing": self.ticket_rerun_writes.1},
            "tickets": self.tickets,
            "ticketCallsImported": self.ticket_calls,
            "callbacks": {
                "sent": self.callbacks.sent, "taken": self.callbacks.taken,
                "posts": self.callbacks.posts, "lost": self.callbacks.lost,
                "sentTwice": self.callbacks.twice,
            },
            "recordsVerified": self.verified,
            "records": self.records,
            "findings": self.findings,
            "secretsScanned": {"bytes": self.scanned_bytes, "leaks": self.leaks.len()},
            "converged": self.converged(),
        })
    }
}

fn status(report: &Value) -> &str {
    report["run"]["status"].as_str().unwrap_or_default()
}

/// A clean run of `which` for every tenant, whose runs must finish ([`expect_finished`]), then a
/// second one; the second's ConnectWise and billing writes (it must make none).
async fn clean_twice(chaos: &mut Chaos, which: Which, outcome: &mut Outcome) -> (u64, u64) {
    let (runs, delivery) = chaos.clean_run(which).await;
    outcome.clean_deliveries += delivery.deliveries;
    outcome.clean_dead_letters.extend(delivery.dead_letters);
    expect_finished(chaos, which, runs, outcome).await;
    let before: Vec<(u64, u64)> = chaos
        .tenants
        .iter()
        .map(|t| (t.cw.calls().writes(), t.billing.calls().writes()))
        .collect();
    let (_, again) = chaos.clean_run(which).await;
    outcome.clean_dead_letters.extend(again.dead_letters);
    let mut writes = (0, 0);
    for (t, (cw, billing)) in chaos.tenants.iter().zip(before) {
        writes.0 += t.cw.calls().writes() - cw;
        writes.1 += t.billing.calls().writes() - billing;
    }
    writes
}

/// Puts each tenant whose clean run of `which` could not be planned in `outcome.unplanned`, and
/// each of `runs` (one per tenant, in order) that has not finished in `outcome.unfinished`.
async fn expect_finished(
    chaos: &mut Chaos,
    which: Which,
    runs: Vec<Option<String>>,
    outcome: &mut Outcome,
) {
    let tenants: Vec<String> = chaos
        .tenants
        .iter()
        .map(|t| t.data.tenant.clone())
        .collect();
    for (tenant, run) in tenants.into_iter().zip(runs) {
        let Some(run) = run else {
            outcome.unplanned.push(format!("{tenant} ({which:?})"));
            continue;
        };
        let report = chaos.ask(which, which.report(&tenant, &run)).await;
        match report {
            Ok(report) if status(&report) != "running" => {}
            Ok(report) => outcome
                .unfinished
                .push(format!("{tenant} {which:?} {run}: {}", status(&report))),
            Err(e) => outcome
                .unfinished
                .push(format!("{tenant} {which:?} {run}: {e}")),
        }
    }
}

/// Runs the whole chaos suite for `shape`: `None` when moto is not available outside CI.
pub async fn run(shape: Shape) -> anyhow::Result<Option<Outcome>> {
    let Some(mut chaos) = Chaos::start(shape).await? else {
        return Ok(None);
    };
    let mut outcome = Outcome {
        shape: Some(shape),
        ..Outcome::default()
    };
    let started = Instant::now();
    outcome.storm = chaos.storm().await?;
    outcome.storm_time = started.elapsed();
    outcome.faults = chaos.tally.clone();
    let storm_runs = chaos.runs.clone();

    // The leases of killed workers expire, as in production; then a clean run.
    chaos.let_leases_expire().await;
    let started = Instant::now();
    let (runs, delivery) = chaos.clean_run(Which::Customers).await;
    outcome.clean_time = started.elapsed();
    outcome.clean_deliveries = delivery.deliveries;
    outcome.clean_dead_letters = delivery.dead_letters;

    expect_finished(&mut chaos, Which::Customers, runs, &mut outcome).await;
    // A dead letter's job done by another delivery is no loss; one whose lock another delivery
    // held that was killed on its last delivery (dead-lettered too) has an unknown failure.
    let killed_on_last: std::collections::HashSet<String> = outcome
        .storm
        .dead_letters
        .iter()
        .filter(|(_, why)| *why == storm::KILLED_ON_LAST)
        .map(|(job, _)| job.key().as_str().to_owned())
        .collect();
    for (job, why) in &outcome.storm.dead_letters {
        if *why != storm::FAILED_ON_LAST {
            continue;
        }
        let key = match job.kind() {
            cwsync_queue::JobKind::CustomerSyncAccount
            | cwsync_queue::JobKind::CustomerSyncTenant => {
                cwsync_customer_sync::jobs::idempotency_key(job)
            }
            cwsync_queue::JobKind::TicketImportTicket
            | cwsync_queue::JobKind::TicketImportTenant
            | cwsync_queue::JobKind::TicketMoveTenant => job.key(),
            _ => cwsync_daily_export::jobs::idempotency_key(job),
        };
        let tenant = cwsync_store::TenantId::parse(job.tenant())?;
        let hash = cwsync_store::idempotency::key_hash(&tenant, key.as_str());
        if let Ok(Some(record)) = chaos.deps.stores.idempotency.get(&hash).await
            && record.status == cwsync_store::idempotency::IdempotencyStatus::Completed
        {
            outcome.dead_letters_done_elsewhere += 1;
        } else if killed_on_last.contains(job.key().as_str()) {
            outcome.dead_letters_holder_killed += 1;
        } else {
            outcome
                .dead_letters_unexplained
                .push(format!("{} {}", job.kind(), job.key().as_str()));
        }
    }
    for (which, tenant, run) in storm_runs {
        outcome.storm_runs += 1;
        if let Ok(report) = chaos.ask(which, which.report(&tenant, &run)).await
            && status(&report) == "running"
        {
            outcome.storm_runs_running += 1;
            let explained = outcome.storm.dead_letters.iter().any(|(job, why)| {
                *why == storm::KILLED_ON_LAST && job.tenant() == tenant && job.run_id() == run
            });
            if !explained {
                outcome
                    .runs_left_unexplained
                    .push(format!("{tenant} {run}"));
            }
        }
    }

    // The second clean run may still give a child its parent's company (see
    // `second_run_writes`); the third must find nothing to write on either side.
    let writes = |chaos: &Chaos| -> (Vec<BTreeMap<String, u64>>, Vec<u64>) {
        let cw = chaos
            .tenants
            .iter()
            .map(|t| {
                t.cw.calls()
                    .by_endpoint
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with("GET "))
                    .collect()
            })
            .collect();
        let billing = chaos
            .tenants
            .iter()
            .map(|t| t.billing.calls().writes())
            .collect();
        (cw, billing)
    };
    let (cw_before, billing_before) = writes(&chaos);
    let (_, second) = chaos.clean_run(Which::Customers).await;
    outcome.clean_dead_letters.extend(second.dead_letters);
    let (cw_after, billing_after) = writes(&chaos);
    for (before, after) in cw_before.iter().zip(&cw_after) {
        for (endpoint, n) in after {
            let grew = n - before.get(endpoint).copied().unwrap_or(0);
            if grew > 0 {
                *outcome
                    .second_run_writes
                    .entry(endpoint.clone())
                    .or_insert(0) += grew;
            }
        }
    }
    outcome.second_run_billing_writes = billing_after
        .iter()
        .zip(&billing_before)
        .map(|(a, b)| a - b)
        .sum();
    let before: Vec<(u64, u64)> = chaos
        .tenants
        .iter()
        .map(|t| (t.cw.calls().writes(), t.billing.calls().writes()))
        .collect();
    let (_, third) = chaos.clean_run(Which::Customers).await;
    outcome.clean_dead_letters.extend(third.dead_letters);
    for (t, (cw, billing)) in chaos.tenants.iter().zip(before) {
        outcome.rerun_writes.0 += t.cw.calls().writes() - cw;
        outcome.rerun_writes.1 += t.billing.calls().writes() - billing;
    }

    // The invariants.
    for index in 0..chaos.tenants.len() {
        let tenant = chaos.tenants[index].data.tenant.clone();
        // The console's error report (scanned for secrets); the checks read the ledger itself,
        // which holds records before they reach the report's attempt threshold too.
        let _ = chaos
            .ask(
                Which::Customers,
                json!({"action": "errors", "tenant": tenant}),
            )
            .await;
        let t = &chaos.tenants[index];
        let stores = &chaos.deps.stores;
        let (findings, verified) =
            check::tenant(t, stores.links.as_ref(), stores.ledger.as_ref()).await?;
        outcome.findings.extend(findings);
        outcome.verified += verified;
        outcome.children += t
            .billing
            .accounts()
            .iter()
            .filter(|a| a.parent_account_id.is_some() || a.bill_to_account_id.is_some())
            .count() as u64;
        outcome.records += t
            .billing
            .accounts()
            .iter()
            .map(|a| 1 + a.sites.len() as u64 + a.contacts.len() as u64)
            .sum::<u64>();
    }

    // The daily export after the storm: one clean export, then one that must write nothing.
    outcome.export_rerun_writes = clean_twice(&mut chaos, Which::Export, &mut outcome).await;
    for t in &chaos.tenants {
        let (findings, verified) = check::export(t);
        outcome.findings.extend(findings);
        outcome.verified += verified;
        outcome.records += (world::PRODUCTS + t.billing.subscriptions().len()) as u64;
    }

    // The billing documents after the storm: one clean invoices run (its payments run follows),
    // then one that must write nothing.
    outcome.documents_rerun_writes = clean_twice(&mut chaos, Which::Documents, &mut outcome).await;
    for t in &chaos.tenants {
        let (findings, verified) = documents::check(t, chaos.deps.stores.links.as_ref()).await?;
        outcome.findings.extend(findings);
        outcome.verified += verified;
        outcome.records += t.billing.invoices().len() as u64;
    }

    // The ticket import after the storm. A ticket job killed on its last delivery put its
    // ticket on the error ledger as that delivery began: the clean import must plan it again
    // from there, so its dead letter stays where it is. Only the dead letters nothing else
    // remembers (a job stopped before its mark was written, a planning, a move) are redriven,
    // as the DLQ alarm asks of an operator. Then one clean import, then one that must write
    // nothing.
    let mut redrive: Vec<cwsync_queue::Job> = Vec::new();
    for (job, _) in &outcome.storm.dead_letters {
        if !chaos.is_ticket_job(job) {
            continue;
        }
        if chaos.ledger_remembers_ticket(job).await? {
            outcome.remembered += 1;
        } else {
            redrive.push(job.clone());
        }
    }
    outcome.redriven = redrive.len() as u64;
    cwsync_queue::JobQueue::send_batch(chaos.ticket_queue.as_ref(), &redrive).await?;
    outcome.ticket_rerun_writes = clean_twice(&mut chaos, Which::Tickets, &mut outcome).await;
    for t in &chaos.tenants {
        let (findings, verified, calls) =
            tickets::check(t, chaos.deps.stores.links.as_ref()).await?;
        outcome.findings.extend(findings);
        outcome.verified += verified;
        outcome.records += t.cw.records("/service/tickets").len() as u64;
        outcome.tickets += verified;
        outcome.ticket_calls += calls;
    }

    outcome.callbacks = chaos.callbacks();
    outcome.conditional_races = chaos.proxy.conditional_failures();

    // Everything said, searched for every tenant's secrets.
    let mut said = String::new();
    said.push_str(&capture::logs().text());
    said.push_str(&chaos.errors.text());
    said.push_str(&chaos.reports.text());
    said.push_str(&chaos.metrics.text());
    said.push_str(&format!("{:?}\n{:?}\n", chaos.deps, chaos.service));
    outcome.scanned_bytes = said.len();
    // `CHAOS_LOG_FILE=path`: everything said, for reading why jobs failed in the storm.
    if let Ok(path) = std::env::var("CHAOS_LOG_FILE") {
        std::fs::write(&path, &said)?;
    }
    outcome.leaks = capture::leaks(&said, &chaos.secrets());
    Ok(Some(outcome))
}
