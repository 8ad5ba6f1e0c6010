//! The seeded generator: each tenant's billing accounts with sites and contacts, the awkward
//! records mixed in (and what each must come to), the companies already in ConnectWise, and the
//! changes made between storm rounds.
//!
//! Every awkward record carries its expectation ([`Expect`]) so the checks never guess: an
//! account either syncs, or fails with a reason the report must give, or is one of two accounts
//! sharing a code (exactly one of them syncs).

use std::collections::{BTreeMap, BTreeSet};

use cwsync_billing::models::{Account, Address, Contact, Site};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// When the billing records were last changed before the first round.
pub const T0: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);

/// The size of a chaos run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Seeds the data, the changes, every fault rule and the delivery's disorder.
    pub seed: u64,
    /// Tenants, each its own ConnectWise and billing simulator.
    pub tenants: usize,
    /// Accounts per tenant (at least [`AWKWARD`] + 1: the awkward ones come first).
    pub accounts: usize,
    /// Storm rounds: a change, a tenant-wide sync, every job delivered under faults.
    pub rounds: usize,
    /// Share of the ordinary accounts changed before each round after the first.
    pub change_rate: f64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            seed: 12,
            tenants: 3,
            accounts: 30,
            rounds: 3,
            change_rate: 0.3,
        }
    }
}

/// The number of awkward accounts at the start of every tenant's list.
pub const AWKWARD: usize = 14;

/// What an account must come to once the storm has passed and a clean run has converged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Linked to exactly one company holding its mapped values, written back.
    Syncs,
    /// Not synced; the run reports it failed with a detail containing this text.
    Fails(&'static str),
    /// Shares its code with the other account named: exactly one of the two syncs, the other
    /// fails saying the code is also the winner's.
    SharesCode(String),
}

/// One tenant's generated data.
#[derive(Debug, Clone)]
pub struct TenantData {
    /// The tenant id.
    pub tenant: String,
    /// Its billing accounts as first seeded.
    pub accounts: Vec<Account>,
    /// What each account (by id) must come to.
    pub expect: BTreeMap<String, Expect>,
    /// Contacts (by id) ConnectWise must refuse: their company syncs, they fail naming `email`.
    pub refused_contacts: BTreeSet<String>,
    /// Companies already in ConnectWise before the first sync (POST bodies).
    pub existing_companies: Vec<Value>,
}

const FIRST: [&str; 8] = [
    "Ann", "Bob", "Zoë", "José", "Łukasz", "Søren", "Ngozi", "Kai",
];
const LAST: [&str; 6] = [
    "Lee",
    "O'Brien",
    "Smith-Jones",
    "Müller",
    "García",
    "D'Angelo",
];

fn address(line1: &str, state: &str) -> Address {
    Address {
        line1: Some(line1.to_owned()),
        line2: None,
        city: Some("Phoenix".to_owned()),
        state: Some(state.to_owned()),
        postal_code: Some("85001".to_owned()),
        country: Some("United States".to_owned()),
    }
}

fn account_id(i: usize) -> String {
    format!("A-{i:04}")
}

fn code(tenant: usize, i: usize) -> String {
    format!("T{tenant}-C{i:04}")
}

fn contact(account: usize, k: usize, tenant: usize) -> Contact {
    Contact {
        id: format!("C-{account:04}-{k}"),
        first_name: Some(FIRST[(account + k) % FIRST.len()].to_owned()),
        last_name: Some(LAST[k % LAST.len()].to_owned()),
        title: Some("Office Manager".to_owned()),
        phone: Some(format!("602-555-{:04}", 1000 + k)),
        email: Some(format!("c{account}-{k}@t{tenant}.example")),
        mobile: None,
        fax: None,
        connect_wise_contact_id: None,
    }
}

fn site(account: usize, k: usize) -> Site {
    Site {
        id: format!("S-{account:04}-{k}"),
        name: format!("Branch {k} of {account}"),
        address: address(&format!("{k} Side St"), "AZ"),
        phone: Some("480-555-0100".to_owned()),
        fax: None,
        connect_wise_site_id: None,
    }
}

fn plain(tenant: usize, i: usize, rng: &mut StdRng) -> Account {
    let sites = rng.random_range(0..=2);
    // At least one contact: an agreement needs one (the daily export fails an account without).
    let contacts = rng.random_range(1..=3);
    Account {
        id: account_id(i),
        code: code(tenant, i),
        name: format!("Customer {i} of tenant {tenant}"),
        status: Some("Active".to_owned()),
        account_type: Some("Client".to_owned()),
        parent_account_id: None,
        bill_to_account_id: None,
        currency: Some("USD".to_owned()),
        phone: Some(format!("602-555-{:04}", rng.random_range(0..10_000))),
        fax: None,
        website: Some(format!("https://c{i}.t{tenant}.example")),
        billing_address: Some(address(&format!("{i} Main St"), "AZ")),
        customer_type: Some("Managed".to_owned()),
        contract_type: Some("Monthly".to_owned()),
        branch: Some("Phoenix".to_owned()),
        sync_to_connect_wise: true,
        on_hold: false,
        connect_wise_company_id: None,
        sites: (0..sites).map(|k| site(i, k)).collect(),
        contacts: (0..contacts).map(|k| contact(i, k, tenant)).collect(),
        updated_at: T0,
    }
}

/// Tenant `index`'s data for `shape`, the same for the same seed.
pub fn tenant(shape: &Shape, index: usize) -> TenantData {
    let mut rng = StdRng::seed_from_u64(shape.seed ^ (0x9E37_79B9_7F4A_7C15 ^ index as u64));
    let count = shape.accounts.max(AWKWARD + 1);
    let mut accounts: Vec<Account> = (0..count).map(|i| plain(index, i, &mut rng)).collect();
    let mut expect: BTreeMap<String, Expect> = accounts
        .iter()
        .map(|a| (a.id.clone(), Expect::Syncs))
        .collect();
    let mut refused_contacts = BTreeSet::new();
    let mut existing_companies = Vec::new();

    // 0: unicode everywhere, with the characters a condition must escape.
    accounts[0].name = format!("Ünïcødé \"and\" Sons (or not) \\ 株式会社 {index}");
    // 1: a long name ConnectWise still accepts (150 of at most 156 characters).
    accounts[1].name = format!("{}{}", "Ω".repeat(140), "-long-name");
    // 2: a name longer than ConnectWise accepts: refused, naming the field.
    accounts[2].name = "N".repeat(200);
    expect.insert(account_id(2), Expect::Fails("name"));
    // 3: the state by its full name, odd case and spacing.
    accounts[3].billing_address = Some(address("3 Main St", "  aRiZoNa "));
    // 4: a company already in ConnectWise under the same identifier (other case): matched.
    existing_companies.push(company_body(&accounts[4].code.to_lowercase(), None));
    // 5: a company already in ConnectWise whose account number is the code: matched.
    existing_companies.push(company_body(
        &format!("PRE{index}X5"),
        Some(&accounts[5].code),
    ));
    // 6 and 7: two billing accounts sharing a code (in another case).
    accounts[7].code = accounts[6].code.to_lowercase();
    expect.insert(account_id(6), Expect::SharesCode(account_id(7)));
    expect.insert(account_id(7), Expect::SharesCode(account_id(6)));
    // 8 and 9: a parent cycle.
    accounts[8].parent_account_id = Some(account_id(9));
    accounts[9].parent_account_id = Some(account_id(8));
    expect.insert(account_id(8), Expect::Fails("cycle"));
    expect.insert(account_id(9), Expect::Fails("cycle"));
    // 10: a contact ConnectWise refuses (its e-mail), beside a good one.
    accounts[10].contacts = vec![contact(10, 0, index), contact(10, 1, index)];
    accounts[10].contacts[0].email = Some("not-an-email".to_owned());
    refused_contacts.insert(accounts[10].contacts[0].id.clone());
    // 11: a child of 12 (the parent may sync after its child's job starts).
    accounts[11].parent_account_id = Some(account_id(12));
    // 12: an account with the most sites and contacts.
    accounts[12].sites = (0..3).map(|k| site(12, k)).collect();
    accounts[12].contacts = (0..5).map(|k| contact(12, k, index)).collect();
    // 13: names with stray spaces and control characters, written as one trimmed line.
    accounts[13].name = format!("  Tab\tand\nnewline {index}  ");

    TenantData {
        tenant: format!("chaos{index}"),
        accounts,
        expect,
        refused_contacts,
        existing_companies,
    }
}

fn company_body(identifier: &str, account_number: Option<&str>) -> Value {
    let mut company = json!({
        "identifier": identifier, "name": format!("Existing {identifier}"),
        "addressLine1": "1 Main St", "city": "Phoenix", "state": "AZ", "zip": "85001",
        "country": {"id": 1}, "status": {"id": 1}, "types": [{"id": 1}],
    });
    if let Some(number) = account_number {
        company["accountNumber"] = json!(number);
    }
    company
}

/// One change a billing user makes to an ordinary account between rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new phone number.
    Phone,
    /// A new name.
    Name,
    /// A contact added.
    AddContact,
    /// A contact's last name changed.
    RenameContact,
    /// A site added.
    AddSite,
    /// The address's state given by its full name, and a new street.
    Address,
}

const CHANGES: [Change; 6] = [
    Change::Phone,
    Change::Name,
    Change::AddContact,
    Change::RenameContact,
    Change::AddSite,
    Change::Address,
];

/// The changes of `round` for `tenant` (account id and change), the same for the same seed:
/// `change_rate` of the ordinary accounts (never the awkward ones, whose expectations stand).
pub fn changes(
    shape: &Shape,
    tenant: usize,
    round: usize,
    ids: &[String],
) -> Vec<(String, Change)> {
    let mut rng = StdRng::seed_from_u64(shape.seed ^ ((tenant as u64) << 32) ^ round as u64);
    let mut changes = Vec::new();
    for id in ids.iter().skip(AWKWARD) {
        if rng.random_bool(shape.change_rate.clamp(0.0, 1.0)) {
            changes.push((id.clone(), CHANGES[rng.random_range(0..CHANGES.len())]));
        }
    }
    changes
}

/// Applies `change` of `round` to `account`.
pub fn apply(account: &mut Account, change: Change, round: usize, tenant: usize) {
    let i: usize = account
        .id
        .trim_start_matches("A-")
        .parse()
        .unwrap_or_default();
    match change {
        Change::Phone => account.phone = Some(format!("480-555-{:04}", 100 * round + i % 100)),
        Change::Name => account.name = format!("Customer {i} renamed in round {round}"),
        Change::AddContact => {
            // A new index past any the account had: names and e-mails stay distinct.
            let k = 10 + round;
            account.contacts.push(contact(i, k, tenant));
        }
        Change::RenameContact => {
            if let Some(first) = account.contacts.first_mut() {
                first.last_name = Some(format!("Changed{round}"));
            }
        }
        Change::AddSite => account.sites.push(site(i, 10 + round)),
        Change::Address => {
            account.billing_address = Some(address(&format!("{round} New St"), "arizona"));
        }
    }
}

/// Products every tenant's billing system sells (every tenth disabled: an inactive catalog item).
pub const PRODUCTS: usize = 12;
/// Subscriptions per ordinary account.
pub const SUBSCRIPTIONS_PER_ACCOUNT: usize = 3;

/// The billing products of every tenant.
pub fn products() -> Vec<cwsync_billing::models::Product> {
    cwsync_billing_sim::generate::products(PRODUCTS, T0)
}

/// The enabled products.
pub fn enabled_products() -> Vec<cwsync_billing::models::Product> {
    products().into_iter().filter(|p| p.enabled).collect()
}

/// The ids of `data`'s ordinary accounts (the awkward ones have no subscriptions or documents:
/// some never get a company).
pub fn ordinary_accounts(data: &TenantData) -> Vec<String> {
    data.accounts
        .iter()
        .skip(AWKWARD)
        .map(|a| a.id.clone())
        .collect()
}

/// The subscriptions of `data`'s ordinary accounts to enabled products, monthly and annual.
pub fn subscriptions(data: &TenantData) -> Vec<cwsync_billing::models::Subscription> {
    cwsync_billing_sim::generate::subscriptions(
        &ordinary_accounts(data),
        SUBSCRIPTIONS_PER_ACCOUNT,
        &enabled_products(),
        T0,
    )
}

/// The quantity changes of export `round` for `tenant` (subscription id and new quantity), the
/// same for the same seed: `change_rate` of the subscriptions.
pub fn quantity_changes(
    shape: &Shape,
    tenant: usize,
    round: usize,
    ids: &[String],
) -> Vec<(String, u32)> {
    let mut rng = StdRng::seed_from_u64(shape.seed ^ ((tenant as u64) << 24) ^ (round as u64) << 8);
    let mut changes = Vec::new();
    for id in ids {
        if rng.random_bool(shape.change_rate.clamp(0.0, 1.0)) {
            changes.push((id.clone(), rng.random_range(1..=60)));
        }
    }
    changes
}
