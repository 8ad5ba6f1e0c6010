//! The simulator checks every response body against the facts schema (a mismatch is a 500 and a
//! recorded violation). These tests create one record of every kind through the client, then
//! walk every GET collection endpoint of the facts file through the client, and read one record
//! of each by id: afterwards the simulator must have recorded no violation.

use bytes::Bytes;
use cwsync_connectwise::models::DocumentInfo;
use cwsync_connectwise::{Client, Query, UploadDocument};
use cwsync_connectwise_sim::REFERENCE_DATA_JSON;
use serde::Serialize;
use serde_json::{Value, json};

use crate::support::{client, sim};

const FACTS_JSON: &str = include_str!("../../../connectwise-sim/schema/connectwise-facts.json");

/// `(method, path, response is an array)` of every endpoint in the facts file.
fn endpoints() -> Vec<(String, String, bool)> {
    let facts: Value = serde_json::from_str(FACTS_JSON).unwrap();
    facts["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_owned(),
                e["path"].as_str().unwrap().to_owned(),
                e["response"]["array"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

async fn create(client: &Client, path: &str, body: impl Serialize) -> i64 {
    let record: Value = client
        .create(path, &body)
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    record["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("POST {path} returned no id: {record}"))
}

/// The ids of the parent records the child collections hang off.
struct Parents {
    company: i64,
    agreement: i64,
    ticket: i64,
    invoice: i64,
    opportunity: i64,
    contact: i64,
    project: i64,
    order: i64,
    board: i64,
}

impl Parents {
    fn substitute(&self, path: &str) -> String {
        let parent = if path.starts_with("/company/companies/") {
            self.company
        } else if path.starts_with("/finance/agreements/") {
            self.agreement
        } else if path.starts_with("/service/tickets/") {
            self.ticket
        } else if path.starts_with("/finance/invoices/") {
            self.invoice
        } else if path.starts_with("/sales/opportunities/") {
            self.opportunity
        } else if path.starts_with("/company/contacts/") {
            self.contact
        } else if path.starts_with("/project/projects/") {
            self.project
        } else if path.starts_with("/sales/orders/") {
            self.order
        } else if path.starts_with("/service/boards/") {
            self.board
        } else {
            panic!("no parent known for {path}")
        };
        path.replace("{parentId}", &parent.to_string())
    }
}

/// One record of every kind the facts list, created through the client the way a user would.
async fn create_one_of_everything(client: &Client) -> Parents {
    let company = create(
        client,
        "/company/companies",
        json!({"identifier": "ACME", "name": "Acme", "city": "Tampa", "state": "FL",
               "status": {"id": 1}, "types": [{"id": 1}], "country": {"id": 1},
               "site": {"name": "Main"}}),
    )
    .await;
    create(
        client,
        &format!("/company/companies/{company}/sites"),
        json!({"name": "Warehouse", "addressLine1": "2 Dock Road", "city": "Tampa"}),
    )
    .await;
    let contact = create(
        client,
        "/company/contacts",
        json!({"firstName": "Ann", "lastName": "Lee", "company": {"id": company},
               "communicationItems": [{"type": {"name": "Email"}, "value": "ann@example.com",
                                       "communicationType": "Email", "defaultFlag": true}]}),
    )
    .await;
    let ticket = create(
        client,
        "/service/tickets",
        json!({"summary": "Printer jammed", "company": {"id": company}, "contact": {"id": contact},
               "board": {"id": 1}, "priority": {"id": 1}}),
    )
    .await;
    create(
        client,
        &format!("/service/tickets/{ticket}/notes"),
        json!({"text": "Called the customer", "detailDescriptionFlag": true}),
    )
    .await;
    create(
        client,
        "/time/entries",
        json!({"chargeToId": ticket, "chargeToType": "ServiceTicket", "member": {"id": 1},
               "company": {"id": company}, "timeStart": "2025-01-02T15:00:00Z",
               "timeEnd": "2025-01-02T16:00:00Z", "notes": "Fixed it"}),
    )
    .await;
    let catalog_item = create(
        client,
        "/procurement/catalog",
        json!({"identifier": "LAPTOP-14", "description": "Laptop 14\"",
               "customerDescription": "Laptop", "subcategory": {"id": 1}, "type": {"id": 1},
               "category": {"id": 1}, "unitOfMeasure": {"id": 1}, "price": 999.5, "cost": 700}),
    )
    .await;
    create(
        client,
        "/procurement/products",
        json!({"catalogItem": {"id": catalog_item}, "billableOption": "Billable", "quantity": 1,
               "price": 999.5, "ticket": {"id": ticket}}),
    )
    .await;
    let agreement = create(
        client,
        "/finance/agreements",
        json!({"name": "Managed services", "type": {"id": 1}, "company": {"id": company},
               "contact": {"id": contact}, "startDate": "2025-01-01T00:00:00Z"}),
    )
    .await;
    create(
        client,
        &format!("/finance/agreements/{agreement}/additions"),
        json!({"product": {"id": catalog_item}, "billCustomer": "Billable", "quantity": 2,
               "unitPrice": 10.25}),
    )
    .await;
    let invoice = create(
        client,
        "/finance/invoices",
        json!({"type": "Standard", "company": {"id": company}, "date": "2025-02-01T00:00:00Z"}),
    )
    .await;
    create(
        client,
        &format!("/finance/invoices/{invoice}/payments"),
        json!({"amount": 125.5, "paymentDate": "2025-02-03T00:00:00Z", "type": "Check"}),
    )
    .await;
    let opportunity = create(
        client,
        "/sales/opportunities",
        json!({"name": "Laptop refresh", "company": {"id": company}, "contact": {"id": contact},
               "primarySalesRep": {"id": 1}}),
    )
    .await;
    create(
        client,
        &format!("/sales/opportunities/{opportunity}/forecast"),
        json!({"forecastItems": [{"forecastDescription": "Laptops", "forecastType": "Product",
                                  "revenue": 5000, "cost": 3500, "quantity": 5,
                                  "catalogItem": {"id": catalog_item},
                                  "opportunity": {"id": opportunity}, "status": {"id": 1}}]}),
    )
    .await;
    let order = create(
        client,
        "/sales/orders",
        json!({"company": {"id": company}, "contact": {"id": contact}, "salesRep": {"id": 1},
               "status": {"id": 1}, "orderDate": "2025-02-01T00:00:00Z"}),
    )
    .await;
    create(
        client,
        &format!("/sales/orders/{order}/lineitems/"),
        json!({"description": "Laptops", "quantity": 5, "unitPrice": 999.5,
               "product": {"id": catalog_item}}),
    )
    .await;
    create(
        client,
        &format!("/sales/opportunities/{opportunity}/notes"),
        json!({"text": "Asked for a quote"}),
    )
    .await;
    create(
        client,
        &format!("/company/contacts/{contact}/communications"),
        json!({"type": {"name": "Mobile"}, "value": "555-0100"}),
    )
    .await;
    create(
        client,
        &format!("/finance/agreements/{agreement}/sites"),
        json!({"company": {"id": company}}),
    )
    .await;
    create(
        client,
        &format!("/finance/agreements/{agreement}/adjustments"),
        json!({"amount": -50, "description": "Loyalty credit",
               "effectiveDate": "2025-02-01T00:00:00Z"}),
    )
    .await;
    let project = create(
        client,
        "/project/projects",
        json!({"name": "Migration", "company": {"id": company}, "board": {"id": 2},
               "billingMethod": "FixedFee", "estimatedStart": "2025-01-01T00:00:00Z",
               "estimatedEnd": "2025-03-01T00:00:00Z"}),
    )
    .await;
    let phase = create(
        client,
        &format!("/project/projects/{project}/phases"),
        json!({"description": "Plan"}),
    )
    .await;
    create(
        client,
        "/project/tickets",
        json!({"summary": "Inventory", "phase": {"id": phase}, "company": {"id": company}}),
    )
    .await;
    create(
        client,
        "/system/callbacks",
        json!({"url": "http://127.0.0.1:9/never-called", "objectId": 1, "type": "ticket",
               "level": "owner", "description": "schema walk"}),
    )
    .await;
    client
        .upload_document::<DocumentInfo>(&UploadDocument {
            record_type: "Ticket".to_owned(),
            record_id: ticket,
            title: "Photo".to_owned(),
            file_name: "photo.png".to_owned(),
            content_type: "image/png".to_owned(),
            bytes: Bytes::from_static(b"\x89PNG\r\n\x1a\n not really a png"),
            private_flag: false,
            read_only_flag: false,
        })
        .await
        .unwrap();
    Parents {
        company,
        agreement,
        ticket,
        invoice,
        opportunity,
        contact,
        project,
        order,
        board: 1,
    }
}

#[tokio::test]
async fn every_get_endpoint_of_the_facts_answers_records_that_match_the_schema() {
    let sim = sim().await;
    // The callback entry above points nowhere; nothing may be delivered.
    sim.set_callbacks_enabled(false);
    let client = client(&sim).await;
    let parents = create_one_of_everything(&client).await;
    let endpoints = endpoints();
    let has_get = |collection: &str, suffix: &str| {
        let wanted = format!("{}/{suffix}", collection.trim_end_matches('/'));
        endpoints.iter().any(|(m, p, _)| m == "GET" && *p == wanted)
    };

    let mut walked = Vec::new();
    let mut empty = Vec::new();
    for (method, template, array) in &endpoints {
        // A count is not a list, even where the reconstructed spec types one as an array
        // (`/sales/opportunities/{parentId}/notes/count`).
        if method != "GET" || !array || template.ends_with("/count") {
            continue;
        }
        let path = if template.contains("{parentId}") {
            parents.substitute(template)
        } else {
            template.clone()
        };
        let records: Vec<Value> = if template == "/system/documents" {
            // Documents are listed per record (recordType and recordId).
            client.list_documents("Ticket", parents.ticket).await
        } else {
            client.list_all(&path, &Query::new()).await
        }
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        if has_get(template, "count") && template != "/system/documents" {
            let count = client
                .count(&path, &Query::new())
                .await
                .unwrap_or_else(|e| panic!("GET {path}/count: {e}"));
            assert_eq!(
                count,
                records.len() as u64,
                "{path}/count agrees with the list"
            );
        }
        // `.../forecast` lists Forecasts, but `.../forecast/{id}` is one of their ForecastItems.
        let first_id = if template.ends_with("/forecast") {
            records
                .first()
                .and_then(|r| r["forecastItems"][0]["id"].as_i64())
        } else {
            records.first().and_then(|r| r["id"].as_i64())
        };
        match first_id {
            Some(id) if has_get(template, "{id}") => {
                let one: Value = client
                    .get(&format!("{}/{id}", path.trim_end_matches('/')))
                    .await
                    .unwrap_or_else(|e| panic!("GET {path}/{id}: {e}"));
                assert_eq!(one["id"], id);
            }
            Some(_) => {}
            None => empty.push(template.clone()),
        }
        walked.push(template.clone());
    }

    assert!(
        walked.len() >= 29,
        "walked {} collections: {walked:?}",
        walked.len()
    );
    assert!(empty.is_empty(), "collections without a record: {empty:?}");
    assert_eq!(
        sim.schema_violations(),
        vec![],
        "no response broke the schema"
    );
}

#[tokio::test]
async fn the_reference_data_fixture_is_served_in_full() {
    let sim = sim().await;
    let client = client(&sim).await;
    let fixture: Value = serde_json::from_str(REFERENCE_DATA_JSON).unwrap();
    let listed_endpoints: Vec<String> = endpoints()
        .into_iter()
        .filter(|(m, _, array)| m == "GET" && *array)
        .map(|(_, p, _)| p.trim_end_matches('/').to_owned())
        .collect();

    let mut through_the_api = 0;
    for (path, records) in fixture.as_object().unwrap() {
        let expected = records.as_array().unwrap().len();
        assert!(expected > 0, "{path} holds records");
        assert_eq!(
            sim.records(path).len(),
            expected,
            "{path} is seeded in full"
        );
        if listed_endpoints.contains(path) {
            let listed: Vec<Value> = client.list_all(path, &Query::new()).await.unwrap();
            assert_eq!(
                listed.len(),
                expected,
                "GET {path} lists every fixture record"
            );
            assert_eq!(
                client.count(path, &Query::new()).await.unwrap(),
                expected as u64
            );
            through_the_api += 1;
        }
    }
    assert!(
        through_the_api >= 10,
        "{through_the_api} fixture collections are API endpoints"
    );
    assert_eq!(sim.schema_violations(), vec![]);
}
