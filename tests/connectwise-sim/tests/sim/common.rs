//! Shared helpers: a started simulator and a reqwest client that sends ConnectWise's headers.
use cwsync_connectwise_sim::{
    SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

pub async fn sim() -> Simulator {
    Simulator::start(SimOptions::default())
        .await
        .expect("simulator starts")
}

pub async fn empty_sim() -> Simulator {
    Simulator::start(SimOptions::empty())
        .await
        .expect("simulator starts")
}

/// A client that authenticates as the default test member.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(sim: &Simulator) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: sim.api_base(),
        }
    }

    pub fn with_client(sim: &Simulator, http: reqwest::Client) -> Api {
        Api {
            http,
            base: sim.api_base(),
        }
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        };
        self.http
            .request(method, url)
            .basic_auth(
                format!("{TEST_COMPANY_ID}+{TEST_PUBLIC_KEY}"),
                Some(TEST_PRIVATE_KEY),
            )
            .header("clientId", TEST_CLIENT_ID)
            .header(
                "Accept",
                "application/vnd.connectwise.com+json; version=2026.4",
            )
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, path)
            .send()
            .await
            .expect("request is sent")
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .req(method, path)
            .json(body)
            .send()
            .await
            .expect("request is sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        (status, value)
    }
}

/// POSTs `body` to `path` and returns the created record, asserting a 201.
pub async fn create(api: &Api, path: &str, body: Value) -> Value {
    let (status, created) = api.send_json(Method::POST, path, &body).await;
    assert_eq!(status, 201, "POST {path}: {created}");
    created
}

/// A valid new company body.
pub fn company(identifier: &str, name: &str) -> Value {
    serde_json::json!({"identifier": identifier, "name": name, "city": "Tampa", "state": "FL", "status": {"id": 1}, "site": {"name": "Main"}})
}

/// Seeds `n` companies named `Company NNNN` with identifiers `C0001`…
pub fn seed_companies(sim: &Simulator, n: usize) -> Vec<i64> {
    let records = (1..=n)
        .map(|i| serde_json::json!({"identifier": format!("C{i:04}"), "name": format!("Company {i:04}"), "city": "Tampa"}))
        .collect();
    sim.seed("/company/companies", records)
        .expect("seed companies")
}

/// Parses a `Link` header into (rel, url) pairs.
pub fn links(resp: &Response) -> Vec<(String, String)> {
    let Some(raw) = resp.headers().get("link").and_then(|v| v.to_str().ok()) else {
        return Vec::new();
    };
    raw.split(", <")
        .filter_map(|part| {
            let part = part.trim_start_matches('<');
            let (url, rest) = part.split_once('>')?;
            let rel = rest.split("rel=\"").nth(1)?.trim_end_matches('"');
            Some((rel.to_string(), url.to_string()))
        })
        .collect()
}

pub fn link<'a>(links: &'a [(String, String)], rel: &str) -> Option<&'a str> {
    links
        .iter()
        .find(|(r, _)| r == rel)
        .map(|(_, u)| u.as_str())
}

/// Sends a write that must be refused with a 400; returns the error body.
pub async fn refused(api: &Api, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = api.send_json(method, path, &body).await;
    assert_eq!(status, 400, "{path}: {answer}");
    answer
}

/// The (code, field) of each error of a 400 body.
pub fn fields_in_error(answer: &Value) -> Vec<(String, String)> {
    answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["code"].as_str().unwrap_or_default().to_string(),
                e["field"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A valid new catalog item body (Non-Inventory, price 22.50, cost 18.25).
pub fn item(identifier: &str) -> Value {
    json!({
        "identifier": identifier,
        "description": format!("{identifier} description"),
        "customerDescription": format!("{identifier} for customers"),
        "subcategory": {"id": 6},
        "type": {"name": "Non-Inventory"},
        "price": 22.5,
        "cost": 18.25,
    })
}

/// A company (id 1 on a fresh simulator) with a contact; returns (company id, contact id).
pub async fn company_with_contact(api: &Api, identifier: &str) -> (i64, i64) {
    let company = create(api, "/company/companies", company(identifier, identifier)).await;
    let company_id = company["id"].as_i64().unwrap();
    let contact = create(
        api,
        "/company/contacts",
        json!({"firstName": "Pat", "lastName": identifier, "company": {"id": company_id}}),
    )
    .await;
    (company_id, contact["id"].as_i64().unwrap())
}

/// Creates an agreement of `kind` (an agreement type name) for the company and contact.
pub async fn agreement(api: &Api, company: i64, contact: i64, name: &str, kind: &str) -> Value {
    create(
        api,
        "/finance/agreements",
        json!({"name": name, "type": {"name": kind}, "company": {"id": company}, "contact": {"id": contact}}),
    )
    .await
}
