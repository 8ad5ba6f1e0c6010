//! The billing documents of issue 11 as ConnectWise serves them: invoices (required fields,
//! defaults, numbers, agreement invoices and the filters the agreement sync uses), the one
//! payment per invoice, products on invoices and opportunities, sales orders with their line
//! items, opportunity statuses and types, and company custom fields.
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{
    Api, agreement, company_with_contact, create, fields_in_error, item, refused, sim,
};

fn pair(code: &str, field: &str) -> (String, String) {
    (code.to_string(), field.to_string())
}

async fn invoice(api: &Api, company: i64, extra: Value) -> Value {
    let mut body = json!({"type": "Standard", "company": {"id": company}, "serviceTotal": 100.0, "salesTax": 7.0});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    create(api, "/finance/invoices", body).await
}

async fn list(api: &Api, path: &str) -> Vec<Value> {
    let (status, rows) = api.get_json(path).await;
    assert_eq!(status, 200, "{path}: {rows}");
    rows.as_array().cloned().unwrap_or_default()
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().filter_map(|r| r["id"].as_i64()).collect()
}

#[tokio::test]
async fn an_invoice_needs_type_and_company_and_gets_connectwise_defaults() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let answer = refused(&api, Method::POST, "/finance/invoices", json!({})).await;
    let errors = fields_in_error(&answer);
    assert!(
        errors.contains(&pair("MissingRequiredField", "type")),
        "{answer}"
    );
    assert!(
        errors.contains(&pair("MissingRequiredField", "company")),
        "{answer}"
    );
    let answer = refused(
        &api,
        Method::POST,
        "/finance/invoices",
        json!({"type": "Standard", "company": {"id": 999}}),
    )
    .await;
    assert!(
        fields_in_error(&answer).iter().any(|(_, f)| f == "company"),
        "{answer}"
    );

    let (company, _) = company_with_contact(&api, "INVCO").await;
    let first = invoice(&api, company, json!({})).await;
    assert_eq!(first["invoiceNumber"], "INV-1001");
    assert_eq!(first["status"]["name"], "New");
    assert_eq!(first["billToCompany"]["id"], company);
    assert_eq!(first["shipToCompany"]["id"], company);
    assert_eq!(first["billingTerms"]["name"], "Net 30 days");
    assert!(first["date"].as_str().unwrap().ends_with("T00:00:00Z"));
    assert_eq!(first["subtotal"], 100.0);
    assert_eq!(first["total"], 107.0);
    assert_eq!(first["balance"], 107.0);
    assert_eq!(first["payments"], 0.0);

    let given = invoice(&api, company, json!({"invoiceNumber": "INV-1002"})).await;
    assert_eq!(given["invoiceNumber"], "INV-1002");
    let next = invoice(&api, company, json!({})).await;
    assert_eq!(
        next["invoiceNumber"], "INV-1003",
        "a given number is skipped"
    );
    let answer = refused(
        &api,
        Method::POST,
        "/finance/invoices",
        json!({"type": "Standard", "company": {"id": company}, "invoiceNumber": "inv-1001"}),
    )
    .await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("ObjectExists", "invoiceNumber")]
    );
    let answer = refused(
        &api,
        Method::POST,
        "/finance/invoices",
        json!({"type": "Refund", "company": {"id": company}}),
    )
    .await;
    assert!(
        fields_in_error(&answer).iter().any(|(_, f)| f == "type"),
        "{answer}"
    );
}

#[tokio::test]
async fn agreement_invoices_name_an_agreement_of_their_company_and_filter_as_the_sync_reads_them() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "AGRCO").await;
    let (other, other_contact) = company_with_contact(&api, "OTHERCO").await;
    let managed = agreement(&api, company, contact, "Managed", "Managed Services").await;
    let licensing = agreement(&api, company, contact, "Licences", "Licensing").await;
    let foreign = agreement(&api, other, other_contact, "Foreign", "Managed Services").await;

    let answer = refused(
        &api,
        Method::POST,
        "/finance/invoices",
        json!({"type": "Agreement", "company": {"id": company}}),
    )
    .await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("MissingRequiredField", "agreement")]
    );
    let answer = refused(
        &api,
        Method::POST,
        "/finance/invoices",
        json!({"type": "Agreement", "company": {"id": company}, "agreement": {"id": foreign["id"]}}),
    )
    .await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("InvalidField", "agreement")]
    );
    let answer = refused(
        &api,
        Method::POST,
        "/finance/invoices",
        json!({"type": "Agreement", "company": {"id": company}, "agreement": {"id": 9999}}),
    )
    .await;
    assert!(
        fields_in_error(&answer)
            .iter()
            .any(|(_, f)| f == "agreement"),
        "{answer}"
    );

    let a = invoice(
        &api,
        company,
        json!({"type": "Agreement", "agreement": {"id": managed["id"]}, "status": {"name": "Ready to Sync"}}),
    )
    .await;
    assert_eq!(a["agreement"]["type"], "Managed Services", "{a}");
    assert_eq!(a["agreement"]["name"], "Managed");
    assert_eq!(a["status"]["id"], 3);
    let b = invoice(
        &api,
        company,
        json!({"type": "Agreement", "agreement": {"id": licensing["id"]}, "status": {"id": 3}}),
    )
    .await;
    let _new_status = invoice(
        &api,
        company,
        json!({"type": "Agreement", "agreement": {"id": managed["id"]}}),
    )
    .await;
    let _standard = invoice(&api, company, json!({})).await;

    let found = list(
        &api,
        "/finance/invoices?conditions=type=\"Agreement\" and status/name in (\"Ready to Sync\") and agreement/type in (\"Managed Services\",\"Block Time\")&pageSize=1000",
    )
    .await;
    assert_eq!(ids(&found), vec![a["id"].as_i64().unwrap()]);
    let found = list(
        &api,
        &format!(
            "/finance/invoices?conditions=agreement/id={} and company/id={company}",
            licensing["id"]
        ),
    )
    .await;
    assert_eq!(ids(&found), vec![b["id"].as_i64().unwrap()]);
    let stamp = a["_info"]["lastUpdated"].as_str().unwrap();
    let found = list(
        &api,
        &format!("/finance/invoices?conditions=lastUpdated>=[{stamp}] and type=\"Agreement\""),
    )
    .await;
    assert_eq!(found.len(), 3);
    // The reference's `type` is the agreement type's name, not a reference: `type/name` is no field.
    let (status, answer) = api
        .get_json("/finance/invoices?conditions=agreement/type/name=\"Licensing\"")
        .await;
    assert_eq!(status, 400, "{answer}");
}

#[tokio::test]
async fn connectwise_keeps_one_payment_per_invoice_and_the_payment_is_changed_instead() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, _) = company_with_contact(&api, "PAYCO").await;
    let inv = invoice(&api, company, json!({})).await;
    let id = inv["id"].as_i64().unwrap();
    let payments = format!("/finance/invoices/{id}/payments");

    let answer = refused(&api, Method::POST, &payments, json!({"amount": 0})).await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("InvalidField", "amount")]
    );
    let answer = refused(&api, Method::POST, &payments, json!({"amount": 500.0})).await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("InvalidField", "amount")]
    );
    let answer = refused(&api, Method::POST, &payments, json!({})).await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("MissingRequiredField", "amount")]
    );

    let first = create(&api, &payments, json!({"amount": 40.0})).await;
    assert_eq!(first["invoice"]["id"], id);
    assert_eq!(first["appliedBy"], "cwsyncapi");
    assert!(first["paymentDate"].is_string());
    let (_, read) = api.get_json(&format!("/finance/invoices/{id}")).await;
    assert_eq!(read["payments"], 40.0);
    assert_eq!(read["balance"], 67.0);

    let answer = refused(&api, Method::POST, &payments, json!({"amount": 10.0})).await;
    assert_eq!(answer["code"], "InvalidObject");
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("ConnectWise supports only one payment per invoice"),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["field"], "invoice");
    assert_eq!(list(&api, &payments).await.len(), 1);

    let pid = first["id"].as_i64().unwrap();
    let (status, changed) = api
        .send_json(
            Method::PATCH,
            &format!("{payments}/{pid}"),
            &json!([{"op": "replace", "path": "amount", "value": 50.0}]),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["amount"], 50.0);
    assert_eq!(changed["invoiceBalance"], 57.0);
    let (_, read) = api.get_json(&format!("/finance/invoices/{id}")).await;
    assert_eq!(read["payments"], 50.0);
    assert_eq!(read["balance"], 57.0);

    let (status, _) = api
        .send_json(Method::DELETE, &format!("{payments}/{pid}"), &json!(null))
        .await;
    assert_eq!(status, 204);
    let (_, read) = api.get_json(&format!("/finance/invoices/{id}")).await;
    assert_eq!(read["balance"], 107.0);
    create(&api, &payments, json!({"amount": 107.0})).await;

    let (status, answer) = api
        .send_json(
            Method::POST,
            "/finance/invoices/9999/payments",
            &json!({"amount": 1}),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
}

#[tokio::test]
async fn products_on_an_invoice_take_its_company_and_make_its_product_total() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, _) = company_with_contact(&api, "PRODCO").await;
    create(&api, "/procurement/catalog", item("WIDGET")).await;
    let inv = invoice(&api, company, json!({"serviceTotal": 0, "salesTax": 0})).await;
    let id = inv["id"].as_i64().unwrap();
    let product = create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "WIDGET"}, "billableOption": "Billable", "invoice": {"id": id}, "quantity": 2, "price": 50.0, "cost": 30.0}),
    )
    .await;
    assert_eq!(product["company"]["id"], company);
    assert_eq!(product["extPrice"], 100.0);
    assert_eq!(product["extCost"], 60.0);
    assert_eq!(product["margin"], 40.0);
    create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "WIDGET"}, "billableOption": "Billable", "invoice": {"id": id}, "quantity": 1, "price": 25.0}),
    )
    .await;
    let (_, read) = api.get_json(&format!("/finance/invoices/{id}")).await;
    assert_eq!(read["productTotal"], 125.0);
    assert_eq!(read["total"], 125.0);
    let on_invoice = list(
        &api,
        &format!("/procurement/products?conditions=invoice/id in ({id})&pageSize=1000"),
    )
    .await;
    assert_eq!(on_invoice.len(), 2);

    let answer = refused(
        &api,
        Method::POST,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "WIDGET"}, "billableOption": "Billable", "invoice": {"id": 9999}, "quantity": 1}),
    )
    .await;
    assert!(
        fields_in_error(&answer).iter().any(|(_, f)| f == "invoice"),
        "{answer}"
    );
    // The 2026 product model has no chargeToType: such a filter is refused, not silently empty.
    let (status, _) = api
        .get_json("/procurement/products?conditions=chargeToType=\"Invoice\"")
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn sales_orders_need_status_and_rep_and_serve_line_items_under_the_trailing_slash_path() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ORDCO").await;
    let answer = refused(
        &api,
        Method::POST,
        "/sales/orders",
        json!({"company": {"id": company}}),
    )
    .await;
    let errors = fields_in_error(&answer);
    assert!(
        errors.contains(&pair("MissingRequiredField", "salesRep")),
        "{answer}"
    );
    assert!(
        errors.contains(&pair("MissingRequiredField", "status")),
        "{answer}"
    );
    let answer = refused(
        &api,
        Method::POST,
        "/sales/orders",
        json!({"company": {"id": company}, "salesRep": {"id": 2}, "status": {"name": "Teleported"}}),
    )
    .await;
    assert!(
        fields_in_error(&answer).iter().any(|(_, f)| f == "status"),
        "{answer}"
    );
    // The spec declares 200 (not 201) for this create, and the simulator answers as declared.
    let (status, order) = api
        .send_json(
            Method::POST,
            "/sales/orders",
            &json!({"company": {"id": company}, "contact": {"id": contact}, "salesRep": {"identifier": "jdoe"}, "status": {"name": "New"}}),
        )
        .await;
    assert_eq!(status, 200, "{order}");
    let oid = order["id"].as_i64().unwrap();
    assert_eq!(order["billToCompany"]["id"], company);
    assert_eq!(order["billToContact"]["id"], contact);
    assert!(order["orderDate"].is_string());

    let lines = format!("/sales/orders/{oid}/lineitems/");
    let line = create(&api, &lines, json!({"quantity": 3})).await;
    assert_eq!(line["salesOrder"]["id"], oid);
    assert_eq!(list(&api, &lines).await.len(), 1);
    assert_eq!(
        list(&api, &format!("/sales/orders/{oid}/lineitems"))
            .await
            .len(),
        1
    );
    let (status, _) = api.get_json("/sales/orders/9999/lineitems/").await;
    assert_eq!(status, 404);

    create(&api, "/procurement/catalog", item("KIT")).await;
    create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "KIT"}, "billableOption": "Billable", "salesOrder": {"id": oid}, "quantity": 1, "price": 10}),
    )
    .await;
    let products = list(
        &api,
        &format!("/procurement/products?conditions=salesOrder/id={oid}"),
    )
    .await;
    assert_eq!(products.len(), 1);
    assert_eq!(products[0]["company"]["id"], company);

    let shipped = list(&api, "/sales/orders/statuses?conditions=closedFlag=true").await;
    assert_eq!(shipped[0]["name"], "Shipped");
    let found = list(
        &api,
        &format!(
            "/sales/orders?conditions=status/name in (\"New\",\"Shipped\") and company/id={company}"
        ),
    )
    .await;
    assert_eq!(ids(&found), vec![oid]);
}

#[tokio::test]
async fn an_opportunity_moved_to_a_won_or_lost_status_is_closed_and_reopening_clears_it() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "OPPCO").await;
    let answer = refused(
        &api,
        Method::POST,
        "/sales/opportunities",
        json!({"name": "No rep", "company": {"id": company}, "contact": {"id": contact}}),
    )
    .await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("MissingRequiredField", "primarySalesRep")]
    );
    let opp = create(
        &api,
        "/sales/opportunities",
        json!({"name": "Project 17", "company": {"id": company}, "contact": {"id": contact},
               "primarySalesRep": {"identifier": "jdoe"}, "type": {"id": 2}}),
    )
    .await;
    let id = opp["id"].as_i64().unwrap();
    assert_eq!(opp["status"]["name"], "Open");
    assert_eq!(opp["type"]["id"], 2);
    assert!(opp.get("closedDate").is_none());

    let won = list(
        &api,
        "/sales/opportunities/statuses?conditions=wonFlag=true",
    )
    .await;
    assert_eq!(won.len(), 1);
    let won_id = won[0]["id"].as_i64().unwrap();
    let (status, closed) = api
        .send_json(
            Method::PATCH,
            &format!("/sales/opportunities/{id}"),
            &json!([{"op": "replace", "path": "status", "value": {"id": won_id}}]),
        )
        .await;
    assert_eq!(status, 200, "{closed}");
    assert!(closed["closedDate"].is_string(), "{closed}");
    assert_eq!(closed["closedBy"]["identifier"], "cwsyncapi");
    let (status, reopened) = api
        .send_json(
            Method::PATCH,
            &format!("/sales/opportunities/{id}"),
            &json!([{"op": "replace", "path": "status", "value": {"name": "Open"}}]),
        )
        .await;
    assert_eq!(status, 200, "{reopened}");
    assert!(reopened.get("closedDate").is_none(), "{reopened}");

    let answer = refused(
        &api,
        Method::POST,
        "/sales/opportunities",
        json!({"name": "Bad type", "company": {"id": company}, "contact": {"id": contact},
               "primarySalesRep": {"id": 2}, "type": {"id": 99}}),
    )
    .await;
    assert!(
        fields_in_error(&answer).iter().any(|(_, f)| f == "type"),
        "{answer}"
    );
    let new_type = create(
        &api,
        "/sales/opportunities/types",
        json!({"description": "Jetbuilt Project"}),
    )
    .await;
    assert_eq!(new_type["inactiveFlag"], false);
    refused(
        &api,
        Method::POST,
        "/sales/opportunities/types",
        json!({"description": "jetbuilt project"}),
    )
    .await;

    create(&api, "/procurement/catalog", item("SPEAKER")).await;
    let product = create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "SPEAKER"}, "billableOption": "Billable", "opportunity": {"id": id}, "quantity": 4, "price": 12.5}),
    )
    .await;
    assert_eq!(product["company"]["id"], company);
    let on_opp = list(
        &api,
        &format!("/procurement/products?conditions=opportunity/id={id}"),
    )
    .await;
    assert_eq!(on_opp.len(), 1);
    assert_eq!(on_opp[0]["extPrice"], 50.0);
}

/// The companies on credit hold, found as a custom-field condition.
async fn held(api: &Api) -> Vec<Value> {
    list(
        api,
        "/company/companies?customFieldConditions=caption=\"Credit Hold\" and value=true",
    )
    .await
}

#[tokio::test]
async fn a_company_custom_field_is_patched_by_id_and_the_others_keep_their_values() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, _) = company_with_contact(&api, "HOLDCO").await;
    let path = format!("/company/companies/{company}");
    let (_, read) = api.get_json(&path).await;
    let fields = read["customFields"].as_array().unwrap();
    assert_eq!(fields.len(), 2, "{read}");
    assert_eq!(fields[0]["caption"], "Credit Hold");
    assert_eq!(fields[0]["type"], "Checkbox");
    assert!(fields[0].get("value").is_none());

    let patch = |value: Value| json!([{"op": "replace", "path": "customFields", "value": value}]);
    let set = |field: Value| {
        let api = &api;
        let body = patch(json!([field]));
        let path = path.clone();
        async move {
            let (status, changed) = api.send_json(Method::PATCH, &path, &body).await;
            assert_eq!(status, 200, "{changed}");
            changed
        }
    };
    set(json!({"id": 2, "value": "Net 10 only"})).await;
    let changed = set(json!({"id": 1, "value": true})).await;
    assert_eq!(changed["customFields"][0]["value"], true);
    assert_eq!(changed["customFields"][1]["value"], "Net 10 only");

    assert_eq!(ids(&held(&api).await), vec![company]);

    // An unknown id, a checkbox given a string, and a ticket's custom field are each refused.
    for wrong in [
        json!({"id": 99, "value": "x"}),
        json!({"id": 1, "value": "yes"}),
        json!({"id": 3, "value": "x"}),
    ] {
        let answer = refused(&api, Method::PATCH, &path, patch(json!([wrong]))).await;
        assert_eq!(
            fields_in_error(&answer),
            vec![pair("InvalidField", "customFields")],
            "{wrong}"
        );
    }

    let cleared = set(json!({"id": 1, "value": false})).await;
    assert_eq!(cleared["customFields"][0]["value"], false);
    assert!(held(&api).await.is_empty());
}

#[tokio::test]
async fn an_invoice_posted_to_accounting_is_never_changed_nor_are_its_products() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, _) = company_with_contact(&api, "POSTCO").await;
    create(&api, "/procurement/catalog", item("WIDGET")).await;
    let inv = invoice(&api, company, json!({})).await;
    let id = inv["id"].as_i64().unwrap();
    let path = format!("/finance/invoices/{id}");
    let product = create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "WIDGET"}, "billableOption": "Billable", "invoice": {"id": id}, "quantity": 1, "price": 5}),
    )
    .await;
    // Posting (the accounting export) stamps the batch; until then the invoice may change.
    let (status, posted) = api
        .send_json(
            Method::PATCH,
            &path,
            &json!([{"op": "replace", "path": "glBatch", "value": {"id": 7, "name": "GL-7"}}]),
        )
        .await;
    assert_eq!(status, 200, "{posted}");

    let answer = refused(
        &api,
        Method::PATCH,
        &path,
        json!([{"op": "replace", "path": "reference", "value": "PO-9"}]),
    )
    .await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("InvalidField", "glBatch")]
    );
    let answer = refused(
        &api,
        Method::PATCH,
        &format!("/procurement/products/{}", product["id"]),
        json!([{"op": "replace", "path": "quantity", "value": 3}]),
    )
    .await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("InvalidField", "invoice")]
    );
    let answer = refused(
        &api,
        Method::POST,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "WIDGET"}, "billableOption": "Billable", "invoice": {"id": id}, "quantity": 1}),
    )
    .await;
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("InvalidField", "invoice")]
    );
    let (status, answer) = api
        .send_json(
            Method::DELETE,
            &format!("/procurement/products/{}", product["id"]),
            &json!(null),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        fields_in_error(&answer),
        vec![pair("InvalidField", "invoice")]
    );
    // A payment is still applied to a posted invoice.
    create(&api, &format!("{path}/payments"), json!({"amount": 10})).await;
    let (_, read) = api.get_json(&path).await;
    assert_eq!(read["payments"], 10.0);
    assert!(read.get("reference").is_none());
}
