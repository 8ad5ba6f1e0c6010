//! The billing documents over plain HTTP: invoices with their items, payments and refunds
//! (filterable by invoice), orders, projects with their options and change orders, contract
//! templates and accounts' credit hold — listed and read like every kind, and refused by the
//! contract's rules (a filter a collection does not take, empty list entries, unknown ids).

use cwsync_billing_sim::{BillingSim, BillingSimOptions, generate};
use serde_json::Value;

use crate::common::{Api, at, item_ids, rfc3339};

async fn fixture_sim() -> BillingSim {
    BillingSim::start(BillingSimOptions::with_fixture())
        .await
        .unwrap()
}

#[tokio::test]
async fn invoices_are_listed_with_their_items_and_read_one_by_one() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let (status, page) = api.get("/v1/invoices").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(item_ids(&page), ["INV-7001", "INV-7002", "INV-7003"]);
    let first = &page["items"][0];
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["items"][0]["billableOption"], "Billable");
    assert_eq!(first["dueDate"], "2026-12-01");
    let (status, memo) = api.get("/v1/invoices/INV-7003").await;
    assert_eq!(status, 200);
    assert_eq!(memo["type"], "Credit Memo");
    let (status, body) = api.get("/v1/invoices/INV-0").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NotFound");
    let (_, page) = api.get("/v1/invoices?accountIds=A-1003,A-1004").await;
    assert_eq!(item_ids(&page), ["INV-7002", "INV-7003"]);
    let (_, page) = api
        .get("/v1/invoices?updatedSince=2026-11-02T08:10:00Z")
        .await;
    assert_eq!(item_ids(&page), ["INV-7002", "INV-7003"], "inclusive");
}

#[tokio::test]
async fn payments_and_refunds_of_an_invoice_are_listed_by_invoice_ids_and_nothing_else_takes_it() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let (status, page) = api.get("/v1/payments?invoiceIds=INV-7002").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(item_ids(&page), ["PAY-7101", "PAY-7102", "PAY-7103"]);
    assert_eq!(page["items"][2]["amount"], -20, "a refund is negative");
    let (_, page) = api
        .get("/v1/payments?invoiceIds=INV-7001,INV-7002&ids=PAY-7104,PAY-7101")
        .await;
    assert_eq!(item_ids(&page), ["PAY-7101", "PAY-7104"]);
    let (_, page) = api.get("/v1/payments?invoiceIds=INV-404").await;
    assert_eq!(item_ids(&page), Vec::<String>::new());
    for (path, field) in [
        ("/v1/payments?invoiceIds=INV-7002,", "invoiceIds"),
        ("/v1/invoices?invoiceIds=INV-7002", "invoiceIds"),
        ("/v1/contract-templates?accountIds=A-1001", "accountIds"),
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "InvalidRequest", "{path}");
        assert_eq!(body["error"]["fields"][0]["field"], field, "{path}");
    }
}

#[tokio::test]
async fn projects_orders_templates_and_credit_hold_are_served_as_the_contract_says() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let (_, page) = api.get("/v1/projects?accountIds=A-1001").await;
    assert_eq!(item_ids(&page), ["PRJ-7301", "PRJ-7302", "PRJ-7303"]);
    let kinds: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Project", "Option", "ChangeOrder"]);
    assert_eq!(page["items"][1]["parentProjectId"], "PRJ-7301");
    assert!(page["items"][0].get("parentProjectId").is_none());
    let (_, order) = api.get("/v1/orders/ORD-7201").await;
    assert_eq!(order["stage"], "Open");
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    let (_, page) = api.get("/v1/contract-templates").await;
    assert_eq!(item_ids(&page), ["CT-01", "CT-02", "CT-03", "CT-04"]);
    assert_eq!(page["items"][0]["isDefault"], true);
    assert_eq!(page["items"][3]["active"], false);
    let (_, held) = api.get("/v1/accounts/A-1005").await;
    assert_eq!(held["onHold"], true);
    let (_, other) = api.get("/v1/accounts/A-1001").await;
    assert_eq!(other["onHold"], false);
    // A change a user makes is stamped and comes again on an incremental read.
    sim.set_clock(at(86_400 * 30));
    assert!(sim.modify_project("PRJ-7302", |p| {
        p.status = cwsync_billing::models::ProjectStatus::Lost;
    }));
    let (_, page) = api
        .get(&format!(
            "/v1/projects?updatedSince={}",
            rfc3339(at(86_400 * 30))
        ))
        .await;
    assert_eq!(item_ids(&page), ["PRJ-7302"]);
    assert_eq!(page["items"][0]["status"], "Lost");
}

#[tokio::test]
async fn generated_documents_page_through_every_record_once_by_cursor() {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    let accounts: Vec<String> = (0..3).map(|i| format!("A-{i}")).collect();
    let products = generate::products(4, at(0));
    let invoices = generate::invoices(&accounts, 25, &products, at(10));
    let payments = generate::payments(&invoices, 2, at(20));
    let orders = generate::orders(&accounts, 5, &products, at(30));
    for invoice in &invoices {
        let paid: rust_decimal::Decimal = payments
            .iter()
            .filter(|p| p.invoice_id == invoice.id)
            .map(|p| p.amount)
            .sum();
        assert_eq!(paid, invoice.total, "{}", invoice.id);
    }
    sim.seed_invoices(invoices);
    sim.seed_payments(payments);
    sim.seed_orders(orders);
    let api = Api::new(&sim);
    for (collection, expected) in [("invoices", 75), ("payments", 150), ("orders", 15)] {
        let mut seen = Vec::new();
        let mut path = format!("/v1/{collection}?limit=20");
        loop {
            let (status, page) = api.get(&path).await;
            assert_eq!(status, 200, "{page}");
            seen.extend(item_ids(&page));
            match page["nextCursor"].as_str() {
                Some(cursor) => path = format!("/v1/{collection}?limit=20&cursor={cursor}"),
                None => break,
            }
        }
        let distinct: std::collections::HashSet<&String> = seen.iter().collect();
        assert_eq!(
            (seen.len(), distinct.len()),
            (expected, expected),
            "{collection}"
        );
    }
    let (_, page) = api.get("/v1/payments?invoiceIds=INV-000007").await;
    let amounts: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["invoiceId"])
        .collect();
    assert_eq!(amounts, ["INV-000007", "INV-000007"]);
}

fn new_order(reference: &str) -> Value {
    serde_json::json!({
        "externalReference": reference,
        "accountId": "A-1001",
        "contactId": "C-3001",
        "stage": "Open",
        "orderDate": "2026-11-05",
        "items": [
            {"itemId": "I-TONER-BK", "quantity": 2, "price": "89.50"},
            {"itemId": "I-TPL-HARDWARE", "quantity": 1, "price": "310.00",
             "description": "Fuser unit (not in the item list)"}
        ],
        "onHold": true,
        "holdReason": "product FUSER-X is not in the item list"
    })
}

async fn post(api: &Api, path: &str, body: &Value) -> (u16, Value) {
    let resp = api
        .req(reqwest::Method::POST, path)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn an_order_is_created_once_per_reference_on_hold_and_found_by_it() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let (status, order) = post(&api, "/v1/orders", &new_order("cw:order:88")).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["onHold"], true);
    assert_eq!(order["externalReference"], "cw:order:88");
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    let (status, again) = post(&api, "/v1/orders", &new_order("cw:order:88")).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "Duplicate");
    assert_eq!(again["error"]["existingId"], id.as_str());
    let (status, found) = api.get("/v1/orders/by-reference/cw%3Aorder%3A88").await;
    assert_eq!(status, 200);
    assert_eq!(found, order, "read back as created");
    let (status, _) = api.get("/v1/orders/by-reference/cw%3Aorder%3A89").await;
    assert_eq!(status, 404);
    let (_, listed) = api.get(&format!("/v1/orders?ids={id}")).await;
    assert_eq!(item_ids(&listed), [id]);
    assert_eq!(sim.calls().records_written, 2);
}

#[tokio::test]
async fn an_invalid_order_is_refused_naming_every_field_and_nothing_is_made() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let mut body = new_order("cw:order:90");
    body["contactId"] = "C-3009".into();
    body["dueDate"] = "2026-11-01".into();
    body["items"][0]["itemId"] = "I-FUSER-OLD".into();
    body["items"][1]["quantity"] = 0.into();
    body["holdReason"] = Value::Null;
    let (status, refused) = post(&api, "/v1/orders", &body).await;
    assert_eq!(status, 400, "{refused}");
    let fields: Vec<&str> = refused["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "contactId",
            "dueDate",
            "items[0].itemId",
            "items[1].quantity",
            "holdReason"
        ]
    );
    for (change, field) in [
        (serde_json::json!({"items": []}), "items"),
        (serde_json::json!({"color": "red"}), "color"),
        (serde_json::json!({"orderDate": "soon"}), "orderDate"),
    ] {
        let mut body = new_order("cw:order:91");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, refused) = post(&api, "/v1/orders", &body).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["error"]["fields"][0]["field"], field);
    }
    let mut missing = new_order("cw:order:92");
    missing.as_object_mut().unwrap().remove("stage");
    let (status, refused) = post(&api, "/v1/orders", &missing).await;
    assert_eq!(status, 400, "{refused}");
    let (_, all) = api.get("/v1/orders").await;
    assert_eq!(
        item_ids(&all),
        ["ORD-7201", "ORD-7202", "ORD-7203"],
        "nothing made"
    );
}

fn new_contract(reference: &str) -> Value {
    serde_json::json!({
        "externalReference": reference,
        "accountId": "A-1003",
        "templateId": "CT-01",
        "name": "Managed Services - O'Brien's Dental",
        "billable": false,
        "periodStart": "2026-11-01",
        "periodEnd": "2026-11-30",
        "lines": [{"itemId": "I-LABOR-ONSITE", "quantity": 1, "amount": "435.00",
                   "detail": "3 x Onsite labor"}],
        "customFields": {"CW Invoice Number": "INV-42"}
    })
}

async fn put(api: &Api, path: &str, if_match: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = api.req(reqwest::Method::PUT, path).json(body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_contract_is_created_once_per_agreement_and_updated_only_on_its_version() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let (status, contract) = post(&api, "/v1/contracts", &new_contract("cw:agreement:42")).await;
    assert_eq!(status, 201, "{contract}");
    let id = contract["id"].as_str().unwrap().to_owned();
    assert_eq!(contract["version"], 1);
    assert_eq!(contract["billable"], false);
    assert_eq!(contract["status"], "Active");
    assert_eq!(contract["customFields"]["CW Invoice Number"], "INV-42");
    let (status, again) = post(&api, "/v1/contracts", &new_contract("cw:agreement:42")).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["existingId"], id.as_str());
    let path = format!("/v1/contracts/{id}");
    let update = serde_json::json!({
        "billable": true,
        "periodStart": "2026-11-01",
        "periodEnd": "2026-11-30",
        "lines": contract["lines"].clone(),
        "customFields": {"Remarks": "synced"}
    });
    let (status, body) = put(&api, &path, None, &update).await;
    assert_eq!(status, 428, "{body}");
    let (status, body) = put(&api, &path, Some("\"7\""), &update).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["error"]["currentVersion"], 1);
    let (status, updated) = put(&api, &path, Some("\"1\""), &update).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["billable"], true);
    assert_eq!(
        updated["customFields"]["CW Invoice Number"], "INV-42",
        "kept"
    );
    assert_eq!(updated["customFields"]["Remarks"], "synced");
    // The same update again changes nothing: the version stays.
    let (status, same) = put(&api, &path, Some("\"2\""), &update).await;
    assert_eq!(status, 200);
    assert_eq!(same, updated);
    let resp = api
        .req(
            reqwest::Method::GET,
            "/v1/contracts/by-reference/cw%3Aagreement%3A42",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let found: Value = resp.json().await.unwrap();
    assert_eq!(found, updated);
}

#[tokio::test]
async fn an_invalid_contract_write_is_refused_naming_every_field() {
    let sim = fixture_sim().await;
    let api = Api::new(&sim);
    let mut body = new_contract("cw:agreement:43");
    body["templateId"] = "CT-04".into();
    body["periodEnd"] = "2026-10-01".into();
    body["lines"][0]["itemId"] = "I-NOPE".into();
    body["lines"][0]["quantity"] = 0.into();
    body["customFields"] = serde_json::json!({"Color": "red"});
    let (status, refused) = post(&api, "/v1/contracts", &body).await;
    assert_eq!(status, 400, "{refused}");
    let fields: Vec<&str> = refused["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "templateId",
            "periodEnd",
            "lines[0].itemId",
            "lines[0].quantity",
            "customFields.Color"
        ]
    );
    let mut missing = new_contract("cw:agreement:44");
    missing.as_object_mut().unwrap().remove("billable");
    let (status, refused) = post(&api, "/v1/contracts", &missing).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["fields"][0]["field"], "billable");
    let (status, refused) = put(
        &api,
        "/v1/contracts/C-3001",
        Some("\"1\""),
        &serde_json::json!({"billable": true, "accountId": "A-1"}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["fields"][0]["field"], "accountId");
    assert_eq!(sim.contracts().len(), 4, "nothing made");
}

#[tokio::test]
async fn generated_projects_have_options_of_earlier_projects_and_page_through_once() {
    let sim = BillingSim::start(BillingSimOptions::default())
        .await
        .unwrap();
    let accounts = cwsync_billing_sim::fixture_accounts();
    let products = generate::products(4, at(0));
    let projects = generate::projects(&accounts, &products, "jdoe@example.com", at(10));
    // One project per account, an option for every other one, each option after its project.
    assert_eq!(projects.len(), accounts.len() + accounts.len().div_ceil(2));
    for (i, project) in projects.iter().enumerate() {
        assert!(!project.items.is_empty(), "{}", project.id);
        if let Some(parent) = &project.parent_project_id {
            let at = projects.iter().position(|p| &p.id == parent).unwrap();
            assert!(at < i, "{} before its option {}", parent, project.id);
            assert_eq!(projects[at].account_id, project.account_id);
        }
    }
    assert_eq!(
        generate::projects(&accounts, &products, "jdoe@example.com", at(10)),
        projects
    );
    sim.seed_projects(projects.clone());
    let api = Api::new(&sim);
    let mut seen = Vec::new();
    let mut path = "/v1/projects?limit=3".to_owned();
    loop {
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(item_ids(&page));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/projects?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    let mut expected: Vec<String> = projects.iter().map(|p| p.id.clone()).collect();
    expected.sort();
    assert_eq!(seen, expected);
}
