//! The records the daily export writes, done as ConnectWise does them: catalog items (required
//! fields, defaults, category from the subcategory, unique identifiers, `identifier in (...)`
//! with `fields=`), agreements (defaults from their type and company, status, cancel, contact
//! and site of the company) and additions (defaults from the product, derived amounts, cancel
//! date kept, 404 for a missing agreement), and a document attached to an agreement.
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::{
    Api, agreement, company_with_contact, create, fields_in_error, item, refused, sim,
};

#[tokio::test]
async fn a_catalog_item_create_requires_the_five_fields_connectwise_requires() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let answer = refused(&api, Method::POST, "/procurement/catalog", json!({})).await;
    let mut missing: Vec<String> = fields_in_error(&answer)
        .into_iter()
        .filter(|(code, _)| code == "MissingRequiredField")
        .map(|(_, field)| field)
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        [
            "customerDescription",
            "description",
            "identifier",
            "subcategory",
            "type"
        ]
    );
    assert!(sim.records("/procurement/catalog").is_empty());
}

#[tokio::test]
async fn a_created_catalog_item_gets_connectwise_defaults_and_its_subcategory_category() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-03-04 05:06:07 UTC));
    let api = Api::new(&sim);
    let mut body = item("M365-BP");
    body.as_object_mut().unwrap().remove("price");
    body.as_object_mut().unwrap().remove("cost");
    let created = create(&api, "/procurement/catalog", body).await;
    assert_eq!(created["inactiveFlag"], false);
    assert_eq!(created["taxableFlag"], false);
    assert_eq!(created["price"], 0);
    assert_eq!(created["cost"], 0);
    assert_eq!(created["productClass"], "NonInventory");
    assert_eq!(created["unitOfMeasure"]["name"], "Each");
    assert_eq!(created["type"]["id"], 2);
    assert_eq!(created["subcategory"]["name"], "Cloud Subscriptions");
    assert_eq!(created["category"]["id"], 2);
    assert_eq!(created["category"]["name"], "Software");
    assert!(
        created["category"]["_info"]["category_href"]
            .as_str()
            .unwrap()
            .ends_with("/procurement/categories/2")
    );
    assert_eq!(created["_info"]["lastUpdated"], "2025-03-04T05:06:07Z");
    assert_eq!(created["_info"]["dateEntered"], "2025-03-04T05:06:07Z");
    // A service type makes a service.
    let mut service = item("ONBOARD");
    service["type"] = json!({"name": "Service"});
    service["subcategory"] = json!({"name": "Professional Services"});
    let created = create(&api, "/procurement/catalog", service).await;
    assert_eq!(created["productClass"], "Service");
    assert_eq!(created["category"]["name"], "Services");
    assert_eq!(sim.schema_violations(), vec![]);
}

#[tokio::test]
async fn a_category_that_is_not_the_subcategory_category_is_refused() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut body = item("X1");
    body["category"] = json!({"id": 1});
    let answer = refused(&api, Method::POST, "/procurement/catalog", body).await;
    assert_eq!(
        fields_in_error(&answer),
        [("InvalidField".to_string(), "subcategory".to_string())]
    );
    // The matching category is accepted; moving the subcategory moves the category with it.
    let mut body = item("X1");
    body["category"] = json!({"id": 2});
    let created = create(&api, "/procurement/catalog", body).await;
    let (status, moved) = api
        .send_json(
            Method::PATCH,
            &format!("/procurement/catalog/{}", created["id"]),
            &json!([{"op": "replace", "path": "subcategory", "value": {"id": 3}}]),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["category"]["name"], "Services");
}

#[tokio::test]
async fn a_second_catalog_item_with_the_same_identifier_in_any_case_is_object_exists() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/procurement/catalog", item("M365-BP")).await;
    let answer = refused(&api, Method::POST, "/procurement/catalog", item("m365-bp")).await;
    assert_eq!(answer["code"], "InvalidObject");
    assert_eq!(
        fields_in_error(&answer),
        [("ObjectExists".to_string(), "identifier".to_string())]
    );
    assert_eq!(sim.records("/procurement/catalog").len(), 1);
    // Renaming another item onto it is refused the same way.
    let other = create(&api, "/procurement/catalog", item("OTHER")).await;
    let answer = refused(
        &api,
        Method::PATCH,
        &format!("/procurement/catalog/{}", other["id"]),
        json!([{"op": "replace", "path": "identifier", "value": "M365-BP"}]),
    )
    .await;
    assert_eq!(answer["errors"][0]["code"], "ObjectExists");
}

#[tokio::test]
async fn catalog_items_are_found_by_identifier_in_a_list_with_only_the_fields_asked() {
    let sim = sim().await;
    let api = Api::new(&sim);
    for sku in ["A-1", "B-2", "C-3", "D-4"] {
        create(&api, "/procurement/catalog", item(sku)).await;
    }
    let (status, found) = api
        .get_json(
            "/procurement/catalog?conditions=identifier in (\"A-1\",\"C-3\",\"Z-9\")&fields=id,identifier,_info/lastUpdated&pageSize=1000",
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0]["identifier"], "A-1");
    assert_eq!(found[1]["identifier"], "C-3");
    let mut keys: Vec<&String> = found[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["_info", "id", "identifier"]);
    assert!(found[0]["_info"]["lastUpdated"].is_string());
}

#[tokio::test]
async fn a_patch_moves_last_updated_and_keeps_the_calculated_price_in_step() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-03-04 05:06:07 UTC));
    let api = Api::new(&sim);
    let created = create(&api, "/procurement/catalog", item("M365-BP")).await;
    assert_eq!(created["calculatedPrice"], 22.5);
    sim.advance_clock(std::time::Duration::from_secs(3600));
    let (status, patched) = api
        .send_json(
            Method::PATCH,
            &format!("/procurement/catalog/{}", created["id"]),
            &json!([{"op": "replace", "path": "price", "value": 24}, {"op": "replace", "path": "inactiveFlag", "value": true}]),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["price"], 24);
    assert_eq!(patched["calculatedPrice"], 24);
    assert_eq!(patched["inactiveFlag"], true);
    assert_eq!(patched["_info"]["lastUpdated"], "2025-03-04T06:06:07Z");
    assert_eq!(patched["_info"]["dateEntered"], "2025-03-04T05:06:07Z");
}

#[tokio::test]
async fn an_agreement_create_requires_name_type_company_and_contact() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let answer = refused(&api, Method::POST, "/finance/agreements", json!({})).await;
    let mut missing: Vec<String> = fields_in_error(&answer)
        .into_iter()
        .map(|(_, field)| field)
        .collect();
    missing.sort();
    assert_eq!(missing, ["company", "contact", "name", "type"]);
}

#[tokio::test]
async fn a_created_agreement_takes_its_type_company_and_instance_defaults() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-03-04 05:06:07 UTC));
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    let created = agreement(&api, company, contact, "ACME cloud", "Block Time").await;
    assert_eq!(created["type"]["name"], "Block Time");
    assert_eq!(created["startDate"], "2025-03-04T00:00:00Z");
    assert_eq!(created["billStartDate"], "2025-03-04T00:00:00Z");
    assert_eq!(created["noEndingDateFlag"], true);
    assert_eq!(created["agreementStatus"], "Active");
    assert_eq!(created["cancelledFlag"], false);
    // From the type "Block Time".
    assert_eq!(created["billingCycle"]["name"], "Quarterly");
    assert_eq!(created["invoicingCycle"], "ContractYear");
    assert_eq!(created["employeeCompRate"], "Hourly");
    assert_eq!(created["employeeCompNotExceed"], "Amount");
    assert_eq!(created["applicationUnits"], "Hours");
    assert_eq!(created["applicationLimit"], 10);
    assert_eq!(created["carryOverUnused"], true);
    assert_eq!(created["coverAgreementTime"], true);
    assert_eq!(created["location"]["name"], "Remote");
    assert_eq!(created["department"]["name"], "Projects");
    assert!(
        created["department"]["_info"]["department_href"]
            .as_str()
            .unwrap()
            .ends_with("/system/departments/2")
    );
    // From the company and the instance.
    assert_eq!(created["billToCompany"]["id"], company);
    assert_eq!(created["billToContact"]["id"], contact);
    assert_eq!(created["billingTerms"]["name"], "Net 30 days");
    assert_eq!(created["currency"]["currencyCode"], "USD");
    assert_eq!(created["taxCode"]["id"], 1);
    // A type without a billing cycle falls back to the instance default.
    let other = agreement(&api, company, contact, "ACME managed", "Managed Services").await;
    assert_eq!(other["billingCycle"]["name"], "Monthly");
    assert_eq!(other["invoicingCycle"], "CalendarYear");
    assert_eq!(other["location"]["name"], "Main Office");
    // What the request gives wins.
    let given = create(
        &api,
        "/finance/agreements",
        json!({"name": "Given", "type": {"id": 1}, "company": {"identifier": "ACME"}, "contact": {"id": contact},
            "billingCycle": {"name": "Annual"}, "startDate": "2024-01-01T00:00:00Z", "endDate": "2026-12-31T00:00:00Z"}),
    )
    .await;
    assert_eq!(given["billingCycle"]["name"], "Annual");
    assert_eq!(given["noEndingDateFlag"], false);
    assert_eq!(given["company"]["id"], company);
    assert_eq!(sim.schema_violations(), vec![]);
}

#[tokio::test]
async fn an_agreement_contact_and_site_must_be_the_company_own() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (acme, _) = company_with_contact(&api, "ACME").await;
    let (_, other_contact) = company_with_contact(&api, "OTHER").await;
    let answer = refused(
        &api,
        Method::POST,
        "/finance/agreements",
        json!({"name": "x", "type": {"id": 1}, "company": {"id": acme}, "contact": {"id": other_contact}}),
    )
    .await;
    assert_eq!(answer["errors"][0]["field"], "contact");
    let other_site = sim.records("/company/companies/2/sites")[0]["id"].clone();
    let (_, acme_contact) = {
        let c = create(
            &api,
            "/company/contacts",
            json!({"firstName": "Al", "company": {"id": acme}}),
        )
        .await;
        (acme, c["id"].as_i64().unwrap())
    };
    let answer = refused(
        &api,
        Method::POST,
        "/finance/agreements",
        json!({"name": "x", "type": {"id": 1}, "company": {"id": acme}, "contact": {"id": acme_contact}, "site": {"id": other_site}}),
    )
    .await;
    assert_eq!(answer["errors"][0]["field"], "site");
    assert!(sim.records("/finance/agreements").is_empty());
}

#[tokio::test]
async fn an_agreement_end_before_its_start_is_refused_and_a_past_end_is_expired() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-03-04 05:06:07 UTC));
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    let answer = refused(
        &api,
        Method::POST,
        "/finance/agreements",
        json!({"name": "x", "type": {"id": 1}, "company": {"id": company}, "contact": {"id": contact},
            "startDate": "2025-01-01T00:00:00Z", "endDate": "2024-12-31T00:00:00Z"}),
    )
    .await;
    assert_eq!(answer["errors"][0]["field"], "endDate");
    let expired = create(
        &api,
        "/finance/agreements",
        json!({"name": "old", "type": {"id": 1}, "company": {"id": company}, "contact": {"id": contact},
            "startDate": "2024-01-01T00:00:00Z", "endDate": "2024-12-31T00:00:00Z"}),
    )
    .await;
    assert_eq!(expired["agreementStatus"], "Expired");
}

#[tokio::test]
async fn agreements_are_listed_by_company_id_in_and_type_name() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (a, a_contact) = company_with_contact(&api, "A").await;
    let (b, b_contact) = company_with_contact(&api, "B").await;
    let (c, c_contact) = company_with_contact(&api, "C").await;
    agreement(&api, a, a_contact, "A licensing", "Licensing").await;
    agreement(&api, b, b_contact, "B licensing", "Licensing").await;
    agreement(&api, b, b_contact, "B managed", "Managed Services").await;
    agreement(&api, c, c_contact, "C licensing", "Licensing").await;
    let (status, found) = api
        .get_json(&format!(
            "/finance/agreements?conditions=company/id in ({a},{b}) and type/name = \"Licensing\" and cancelledFlag = false&pageSize=1000"
        ))
        .await;
    assert_eq!(status, 200, "{found}");
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A licensing", "B licensing"]);
}

#[tokio::test]
async fn a_cancelled_agreement_is_kept_with_its_cancel_date_and_its_additions_show_it() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-03-04 05:06:07 UTC));
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    create(&api, "/procurement/catalog", item("M365-BP")).await;
    let agr = agreement(&api, company, contact, "ACME", "Licensing").await;
    let path = format!("/finance/agreements/{}", agr["id"]);
    create(
        &api,
        &format!("{path}/additions"),
        json!({"product": {"identifier": "M365-BP"}, "billCustomer": "Billable"}),
    )
    .await;
    let (status, cancelled) = api
        .send_json(
            Method::PATCH,
            &path,
            &json!([{"op": "replace", "path": "cancelledFlag", "value": true}]),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["agreementStatus"], "Cancelled");
    assert_eq!(cancelled["dateCancelled"], "2025-03-04T05:06:07Z");
    assert_eq!(sim.records("/finance/agreements").len(), 1);
    let (_, additions) = api.get_json(&format!("{path}/additions")).await;
    assert_eq!(additions[0]["agreementStatus"], "Cancelled");
}

#[tokio::test]
async fn an_addition_takes_its_product_values_and_computes_its_amounts() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-03-04 05:06:07 UTC));
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    let mut product = item("M365-BP");
    product["unitOfMeasure"] = json!({"name": "User"});
    product["taxableFlag"] = json!(true);
    let product = create(&api, "/procurement/catalog", product).await;
    let agr = agreement(&api, company, contact, "ACME", "Licensing").await;
    let additions = format!("/finance/agreements/{}/additions", agr["id"]);
    let first = create(
        &api,
        &additions,
        json!({"product": {"id": product["id"]}, "billCustomer": "billable", "quantity": 12}),
    )
    .await;
    assert_eq!(first["billCustomer"], "Billable");
    assert_eq!(first["agreementId"], agr["id"]);
    assert_eq!(first["agreementStatus"], "Active");
    assert_eq!(first["product"]["identifier"], "M365-BP");
    assert!(
        first["product"]["_info"]["product_href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/procurement/catalog/{}", product["id"]))
    );
    assert_eq!(first["unitPrice"], 22.5);
    assert_eq!(first["unitCost"], 18.25);
    assert_eq!(first["description"], "M365-BP description");
    assert_eq!(first["invoiceDescription"], "M365-BP for customers");
    assert_eq!(first["uom"], "User");
    assert_eq!(first["taxableFlag"], true);
    assert_eq!(first["effectiveDate"], "2025-03-04T00:00:00Z");
    assert_eq!(first["lessIncluded"], 0);
    assert_eq!(first["billedQuantity"], 12.0);
    assert_eq!(first["extPrice"], 270.0);
    assert_eq!(first["extCost"], 219.0);
    assert_eq!(first["margin"], 51.0);
    assert_eq!(first["sequenceNumber"], 1.0);
    // A second addition is next in sequence; a given price wins over the product's.
    let second = create(
        &api,
        &additions,
        json!({"product": {"id": product["id"]}, "billCustomer": "NoCharge", "quantity": 3, "unitPrice": 0}),
    )
    .await;
    assert_eq!(second["sequenceNumber"], 2.0);
    assert_eq!(second["extPrice"], 0.0);
    assert_eq!(second["margin"], -54.75);
    // A PATCH recomputes the amounts and moves lastUpdated.
    sim.advance_clock(std::time::Duration::from_secs(60));
    let (status, patched) = api
        .send_json(
            Method::PATCH,
            &format!("{additions}/{}", first["id"]),
            &json!([{"op": "replace", "path": "quantity", "value": 10}]),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["extPrice"], 225.0);
    assert_eq!(patched["extCost"], 182.5);
    assert_eq!(patched["billedQuantity"], 10.0);
    assert_eq!(patched["_info"]["lastUpdated"], "2025-03-04T05:07:07Z");
    assert_eq!(sim.schema_violations(), vec![]);
}

#[tokio::test]
async fn an_addition_requires_a_product_and_a_bill_customer_value() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    let agr = agreement(&api, company, contact, "ACME", "Licensing").await;
    let path = format!("/finance/agreements/{}/additions", agr["id"]);
    let answer = refused(&api, Method::POST, &path, json!({})).await;
    let mut missing: Vec<String> = fields_in_error(&answer)
        .into_iter()
        .map(|(_, field)| field)
        .collect();
    missing.sort();
    assert_eq!(missing, ["billCustomer", "product"]);
    create(&api, "/procurement/catalog", item("M365-BP")).await;
    let answer = refused(
        &api,
        Method::POST,
        &path,
        json!({"product": {"id": 1}, "billCustomer": "Sometimes"}),
    )
    .await;
    assert_eq!(answer["errors"][0]["field"], "billCustomer");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Billable, DoNotBill, NoCharge")
    );
    let answer = refused(
        &api,
        Method::POST,
        &path,
        json!({"product": {"identifier": "NO-SUCH"}, "billCustomer": "Billable"}),
    )
    .await;
    assert_eq!(answer["errors"][0]["field"], "product");
}

#[tokio::test]
async fn a_bundle_or_inactive_product_cannot_be_added() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    let agr = agreement(&api, company, contact, "ACME", "Licensing").await;
    let path = format!("/finance/agreements/{}/additions", agr["id"]);
    let mut bundle = item("KIT");
    bundle["productClass"] = json!("Bundle");
    create(&api, "/procurement/catalog", bundle).await;
    let mut old = item("OLD");
    old["inactiveFlag"] = json!(true);
    create(&api, "/procurement/catalog", old).await;
    for sku in ["KIT", "OLD"] {
        let answer = refused(
            &api,
            Method::POST,
            &path,
            json!({"product": {"identifier": sku}, "billCustomer": "Billable"}),
        )
        .await;
        assert_eq!(answer["errors"][0]["field"], "product", "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(sku)
        );
    }
    assert!(sim.records(&path).is_empty());
}

#[tokio::test]
async fn a_cancelled_addition_is_kept_and_its_cancel_date_cannot_precede_its_start() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    create(&api, "/procurement/catalog", item("M365-BP")).await;
    let agr = agreement(&api, company, contact, "ACME", "Licensing").await;
    let path = format!("/finance/agreements/{}/additions", agr["id"]);
    let added = create(
        &api,
        &path,
        json!({"product": {"id": 1}, "billCustomer": "Billable", "effectiveDate": "2025-01-01T00:00:00Z"}),
    )
    .await;
    let one = format!("{path}/{}", added["id"]);
    let answer = refused(
        &api,
        Method::PATCH,
        &one,
        json!([{"op": "replace", "path": "cancelledDate", "value": "2024-12-31T00:00:00Z"}]),
    )
    .await;
    assert_eq!(answer["errors"][0]["field"], "cancelledDate");
    let (status, cancelled) = api
        .send_json(
            Method::PATCH,
            &one,
            &json!([{"op": "replace", "path": "cancelledDate", "value": "2025-02-28T00:00:00Z"}]),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["cancelledDate"], "2025-02-28T00:00:00Z");
    let (_, listed) = api
        .get_json(&format!("{path}?conditions=cancelledDate != null"))
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], added["id"]);
}

#[tokio::test]
async fn additions_of_a_missing_agreement_are_404_and_there_is_no_cross_agreement_list() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/procurement/catalog", item("M365-BP")).await;
    let (status, answer) = api.get_json("/finance/agreements/99/additions").await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["message"], "Agreement with id 99 not found");
    let (status, _) = api
        .send_json(
            Method::POST,
            "/finance/agreements/99/additions",
            &json!({"product": {"id": 1}, "billCustomer": "Billable"}),
        )
        .await;
    assert_eq!(status, 404);
    // ConnectWise lists additions only per agreement.
    assert_eq!(api.get("/finance/agreements/additions").await.status(), 404);
}

#[tokio::test]
async fn additions_page_at_most_1000_and_go_with_their_deleted_agreement() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    create(&api, "/procurement/catalog", item("M365-BP")).await;
    let agr = agreement(&api, company, contact, "ACME", "Licensing").await;
    let path = format!("/finance/agreements/{}/additions", agr["id"]);
    for _ in 0..3 {
        create(
            &api,
            &path,
            json!({"product": {"id": 1}, "billCustomer": "Billable"}),
        )
        .await;
    }
    let resp = api.get(&format!("{path}?pageSize=2")).await;
    let links = crate::common::links(&resp);
    assert!(crate::common::link(&links, "next").is_some());
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    let (_, count) = api.get_json(&format!("{path}/count")).await;
    assert_eq!(count["count"], 3);
    let resp = api
        .req(
            Method::DELETE,
            &format!("/finance/agreements/{}", agr["id"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(sim.records("/finance/agreements/1/additions").is_empty());
}

#[tokio::test]
async fn a_user_list_uploaded_to_an_agreement_lists_downloads_and_deletes() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (company, contact) = company_with_contact(&api, "ACME").await;
    let agr = agreement(&api, company, contact, "ACME", "Licensing").await;
    let csv: &'static [u8] = b"user,services\nana@acme.test,M365-BP\n";
    let form = |record: String| {
        Form::new()
            .part(
                "file",
                Part::bytes(csv)
                    .file_name("users-2025-03-04.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            )
            .text("recordType", "Agreement")
            .text("recordId", record)
            .text("title", "User list")
    };
    let resp = api
        .req(Method::POST, "/system/documents")
        .multipart(form(agr["id"].to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let info: Value = resp.json().await.unwrap();
    let (_, listed) = api
        .get_json(&format!(
            "/system/documents?recordType=Agreement&recordId={}",
            agr["id"]
        ))
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["title"], "User list");
    assert_eq!(listed[0]["fileName"], "users-2025-03-04.csv");
    let resp = api
        .get(&format!("/system/documents/{}/download", info["id"]))
        .await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), csv);
    let resp = api
        .req(Method::DELETE, &format!("/system/documents/{}", info["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (_, listed) = api
        .get_json(&format!(
            "/system/documents?recordType=Agreement&recordId={}",
            agr["id"]
        ))
        .await;
    assert_eq!(listed, json!([]));
    // An agreement that does not exist cannot take a document.
    let resp = api
        .req(Method::POST, "/system/documents")
        .multipart(form("999".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["errors"][0]["field"], "recordId");
}
