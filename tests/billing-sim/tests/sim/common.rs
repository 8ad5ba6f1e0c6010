//! Shared helpers: a started simulator, accounts to seed, and a reqwest client that sends the
//! test key.

use cwsync_billing::models::Account;
use cwsync_billing_sim::{BillingSim, BillingSimOptions, TEST_BILLING_API_KEY};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// 2026-11-01T00:00:00Z plus `secs`.
pub fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_491_200 + secs).unwrap()
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// An account with one site `S-<id>` and one contact `C-<id>`.
pub fn account(id: &str, updated_at: OffsetDateTime) -> Account {
    serde_json::from_value(json!({
        "id": id,
        "code": "CODE",
        "name": format!("Account {id}"),
        "phone": "602-555-0100",
        "billingAddress": {"line1": "1 Main St", "city": "Phoenix", "state": "AZ"},
        "sites": [{"id": format!("S-{id}"), "name": "Main Office", "address": {"city": "Tempe"}, "phone": "1"}],
        "contacts": [{"id": format!("C-{id}"), "firstName": "Ana", "email": "ana@example.com"}],
        "updatedAt": rfc3339(updated_at),
    }))
    .unwrap()
}

/// A simulator holding `accounts`.
pub async fn sim_with(accounts: Vec<Account>) -> BillingSim {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .expect("simulator starts");
    sim.seed_accounts(accounts);
    sim
}

/// A client of one simulator.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(sim: &BillingSim) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: sim.base_url().as_str().trim_end_matches('/').to_owned(),
        }
    }

    /// A request with the test key; `path` is appended to the base URL as is.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TEST_BILLING_API_KEY)
    }

    /// Status and JSON body of a GET.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self.req(Method::GET, path).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Status and JSON body of a PATCH with a JSON merge patch.
    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .req(Method::PATCH, path)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }
}

/// The `field`s of an error body.
pub fn error_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body["error"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

/// Ids of a page body's items.
pub fn item_ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}
