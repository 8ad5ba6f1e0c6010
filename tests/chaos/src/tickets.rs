//! The ticket import's share of the chaos world: ConnectWise tickets on the companies the
//! customer sync made, worked on and finished by ConnectWise users between the storm's rounds,
//! and what must hold once the clean import has run.
//!
//! Round 0 opens one ticket per company whose identifier is an account's code: two of three
//! finished with an hour or two of `jdoe`'s time (technician `T-100` by e-mail), every third with
//! a toner part (billing item `I-TONER-BK` by SKU), the rest in progress. Before each later round
//! some finished tickets get another hour and a new summary (the call is updated) and some open
//! ones are finished with time (a new call).

use std::collections::{BTreeMap, BTreeSet};

use cwsync_billing_sim::BillingSim;
use cwsync_connectwise::{Client, PatchOp};
use cwsync_store::TenantId;
use cwsync_store::links::LinkStore;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::storm::Tenant;
use crate::world::Shape;

/// The status the import takes tickets in.
pub const FINISHED: &str = "Closed";
/// The status of a ticket still worked on.
pub const OPEN: &str = "In Progress";
/// The ConnectWise member logging time (technician `T-100` by e-mail).
pub const MEMBER: &str = "jdoe";
/// The SKU of the part some tickets use, and the billing item it is.
pub const TONER: &str = "TONER-DXC5850-BK";
/// The billing item of [`TONER`].
pub const TONER_ITEM: &str = "I-TONER-BK";
/// The link kind of companies.
const COMPANY: &str = "company";

/// The ticket-import settings every tenant stores (merged into its settings).
pub fn settings() -> Value {
    json!({"ticketImport": {
        "statuses": [FINISHED],
        "productTypes": {"Non-Inventory": "Hardware"},
    }})
}

/// The billing reference data tickets map to: technicians, items, product types.
pub fn seed_billing(billing: &BillingSim) {
    billing.seed_technicians(cwsync_billing_sim::fixture_technicians());
    billing.seed_items(cwsync_billing_sim::fixture_items());
    billing.seed_product_types(cwsync_billing_sim::fixture_product_types());
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What a ConnectWise user does to one tenant's tickets.
#[derive(Debug)]
pub struct Desk<'a> {
    tenant: &'a Tenant,
    user: Client,
}

impl<'a> Desk<'a> {
    /// The desk of `tenant`, its user signed in with the tenant's member.
    pub async fn open(tenant: &'a Tenant) -> anyhow::Result<Desk<'a>> {
        Ok(Desk {
            tenant,
            user: crate::cw_client(tenant).await?,
        })
    }

    async fn create(&self, path: &str, body: &Value) -> anyhow::Result<i64> {
        let created: Value = self.user.create(path, body).await?;
        created["id"]
            .as_i64()
            .ok_or_else(|| anyhow::anyhow!("{path} answered without an id: {created}"))
    }

    /// `hours` of [`MEMBER`]'s time on ticket `ticket`.
    async fn time(&self, ticket: i64, hours: i64) -> anyhow::Result<i64> {
        let start = self.tenant.cw.now();
        self.create(
            "/time/entries",
            &json!({
                "chargeToType": "ServiceTicket", "chargeToId": ticket,
                "member": {"identifier": MEMBER},
                "timeStart": rfc3339(start),
                "timeEnd": rfc3339(start + time::Duration::hours(hours)),
                "notes": format!("{hours} hours of work"),
            }),
        )
        .await
    }

    async fn set(&self, ticket: i64, field: &str, value: Value) -> anyhow::Result<()> {
        let _: Value = self
            .user
            .patch(
                &format!("/service/tickets/{ticket}"),
                &[PatchOp::replace(field, value)],
            )
            .await?;
        Ok(())
    }

    /// The toner's catalog item (made once).
    async fn toner(&self) -> anyhow::Result<i64> {
        if let Some(id) = self
            .tenant
            .cw
            .records("/procurement/catalog")
            .iter()
            .find(|i| i["identifier"] == TONER)
            .and_then(|i| i["id"].as_i64())
        {
            return Ok(id);
        }
        let subcategory = self
            .tenant
            .cw
            .records("/procurement/subcategories")
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("the simulator has no subcategory"))?;
        self.create(
            "/procurement/catalog",
            &json!({"identifier": TONER, "description": "Toner cartridge",
                    "customerDescription": "Toner cartridge",
                    "subcategory": {"id": subcategory["id"]},
                    "category": subcategory["category"],
                    "type": {"name": "Non-Inventory"}}),
        )
        .await
    }

    /// Round 0: a ticket on each company the customer sync made; the ids.
    pub async fn open_tickets(&self, shape: &Shape, index: usize) -> anyhow::Result<Vec<i64>> {
        let mut rng = StdRng::seed_from_u64(shape.seed ^ ((index as u64) << 32) ^ 0x71c);
        let codes: BTreeSet<String> = self
            .tenant
            .data
            .accounts
            .iter()
            .map(|a| a.code.to_lowercase())
            .collect();
        let companies: Vec<i64> = self
            .tenant
            .cw
            .records("/company/companies")
            .iter()
            .filter(|c| {
                c["identifier"]
                    .as_str()
                    .is_some_and(|code| codes.contains(&code.to_lowercase()))
            })
            .filter_map(|c| c["id"].as_i64())
            .collect();
        let toner = self.toner().await?;
        let mut tickets = Vec::new();
        for (n, company) in companies.into_iter().enumerate() {
            let finished = n % 3 != 2;
            let summary = format!("Printer on floor {n} jams");
            let status = if finished { FINISHED } else { OPEN };
            let ticket = self
                .create(
                    "/service/tickets",
                    &json!({"summary": summary, "company": {"id": company},
                            "board": {"id": 1}, "status": {"name": status}}),
                )
                .await?;
            if finished {
                self.time(ticket, rng.random_range(1..=2)).await?;
            }
            if n % 3 == 0 {
                self.create(
                    "/procurement/products",
                    &json!({"catalogItem": {"id": toner}, "quantity": rng.random_range(1..=3),
                            "ticket": {"id": ticket}, "description": "toner used",
                            "billableOption": "Billable"}),
                )
                .await?;
            }
            tickets.push(ticket);
        }
        Ok(tickets)
    }

    /// Before a later `round`: some finished tickets get another hour and a new summary, some
    /// open ones are finished with time.
    pub async fn work(&self, shape: &Shape, index: usize, round: usize) -> anyhow::Result<()> {
        let mut rng =
            StdRng::seed_from_u64(shape.seed ^ ((index as u64) << 32) ^ ((round as u64) << 8));
        for ticket in self.tenant.cw.records("/service/tickets") {
            let Some(id) = ticket["id"].as_i64() else {
                continue;
            };
            if ticket["status"]["name"] == FINISHED {
                if rng.random_bool(shape.change_rate.clamp(0.0, 1.0)) {
                    self.time(id, 1).await?;
                    let summary = format!(
                        "{} (round {round})",
                        ticket["summary"].as_str().unwrap_or_default()
                    );
                    self.set(id, "summary", json!(summary)).await?;
                }
            } else if rng.random_bool(0.5) {
                self.time(id, rng.random_range(1..=3)).await?;
                self.set(id, "status", json!({"name": FINISHED})).await?;
            }
        }
        Ok(())
    }
}

/// What the checks found wrong in `tenant`'s imported tickets (empty when everything holds), how
/// many tickets they verified and how many billing calls were imported: every finished ticket with time on a
/// linked company has exactly one billing call, on that company's account, described by its
/// summary, with one labor line per time entry (its hours) and one part per toner product; no
/// other ticket has a call; no two calls or lines share an external reference.
pub async fn check(
    tenant: &Tenant,
    links: &dyn LinkStore,
) -> anyhow::Result<(Vec<String>, u64, u64)> {
    let name = &tenant.data.tenant;
    let id = TenantId::parse(name)?;
    let mut findings = Vec::new();
    let calls = tenant.billing.service_calls();
    let mut by_reference: BTreeMap<String, Vec<&cwsync_billing::models::ServiceCall>> =
        BTreeMap::new();
    for call in &calls {
        if let Some(reference) = &call.external_reference {
            by_reference
                .entry(reference.clone())
                .or_default()
                .push(call);
        }
    }
    for (reference, calls) in &by_reference {
        if calls.len() > 1 {
            findings.push(format!(
                "{name}: {} billing calls of {reference}",
                calls.len()
            ));
        }
    }
    let entries = tenant.cw.records("/time/entries");
    let products = tenant.cw.records("/procurement/products");
    let mut verified = 0;
    let imported = by_reference
        .keys()
        .filter(|r| r.starts_with("cw:ticket:"))
        .count() as u64;
    for ticket in tenant.cw.records("/service/tickets") {
        let Some(ticket_id) = ticket["id"].as_i64() else {
            continue;
        };
        let call = by_reference
            .get(&format!("cw:ticket:{ticket_id}"))
            .and_then(|calls| calls.first());
        let time: Vec<&Value> = entries
            .iter()
            .filter(|e| e["chargeToType"] == "ServiceTicket" && e["chargeToId"] == ticket_id)
            .collect();
        let company = ticket["company"]["id"].as_i64().unwrap_or_default();
        let account = links
            .get_by_cw(&id, COMPANY, company)
            .await?
            .map(|link| link.source_id);
        verified += 1;
        let (Some(call), true, false, Some(account)) = (
            call,
            ticket["status"]["name"] == FINISHED,
            time.is_empty(),
            account.as_ref(),
        ) else {
            if call.is_some() {
                findings.push(format!(
                    "{name}: ticket {ticket_id} has a billing call but is not finished with time \
                     on a linked company"
                ));
            } else if ticket["status"]["name"] == FINISHED && !time.is_empty() && account.is_some()
            {
                findings.push(format!(
                    "{name}: finished ticket {ticket_id} with time has no billing call"
                ));
            }
            continue;
        };
        if &call.account_id != account {
            findings.push(format!(
                "{name}: the call of ticket {ticket_id} is account {}'s, its company {company} is \
                 account {account}'s",
                call.account_id
            ));
        }
        if Some(call.description.as_str()) != ticket["summary"].as_str() {
            findings.push(format!(
                "{name}: the call of ticket {ticket_id} says {:?}, the ticket {}",
                call.description, ticket["summary"]
            ));
        }
        let mut labor: BTreeMap<String, Decimal> = BTreeMap::new();
        for line in &call.labor {
            let reference = line.external_reference.clone().unwrap_or_default();
            if labor.insert(reference.clone(), line.hours).is_some() {
                findings.push(format!(
                    "{name}: the call of ticket {ticket_id} has {reference} twice"
                ));
            }
        }
        let want: BTreeMap<String, Decimal> = time
            .iter()
            .map(|e| {
                (
                    format!("cw:time:{}", e["id"]),
                    e["actualHours"]
                        .to_string()
                        .parse::<Decimal>()
                        .unwrap_or_default(),
                )
            })
            .collect();
        if labor != want {
            findings.push(format!(
                "{name}: the call of ticket {ticket_id} has labor {labor:?}, its time entries {want:?}"
            ));
        }
        let toner = products
            .iter()
            .filter(|p| p["ticket"]["id"] == ticket_id)
            .count();
        let parts = call
            .parts
            .iter()
            .filter(|p| p.item_id == TONER_ITEM)
            .count();
        if parts != toner {
            findings.push(format!(
                "{name}: the call of ticket {ticket_id} has {parts} toner parts, the ticket {toner} products"
            ));
        }
    }
    Ok((findings, verified, imported))
}
