//! What ConnectWise requires and invents that a naive store would not: the primary site named on
//! a company create, server-side defaults on every created record, derived values (a time
//! entry's hours and company, a ticket's board, status and closed flag), parent cycles refused,
//! and the collections the subset grew by.
use reqwest::Method;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::{Api, company, create, sim};

#[tokio::test]
async fn a_company_create_names_its_primary_site_which_gets_the_company_address() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut body = company("ACME", "Acme");
    body["site"] = json!({"name": "Head Office"});
    body["addressLine1"] = json!("1 Harbour St");
    let created = create(&api, "/company/companies", body).await;
    assert_eq!(created["site"]["name"], "Head Office");
    let (_, sites) = api.get_json("/company/companies/1/sites").await;
    assert_eq!(sites.as_array().unwrap().len(), 1, "{sites}");
    assert_eq!(sites[0]["id"], created["site"]["id"]);
    assert_eq!(sites[0]["name"], "Head Office");
    assert_eq!(sites[0]["addressLine1"], "1 Harbour St");
    assert_eq!(sites[0]["primaryAddressFlag"], true);
}

#[tokio::test]
async fn a_company_create_without_a_site_or_with_a_site_id_is_refused_naming_site() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut body = company("ACME", "Acme");
    body.as_object_mut().unwrap().remove("site");
    let (status, refused) = api
        .send_json(Method::POST, "/company/companies", &body)
        .await;
    assert_eq!(status, 400);
    assert_eq!(refused["errors"][0]["code"], "MissingRequiredField");
    assert_eq!(refused["errors"][0]["field"], "site");
    body["site"] = json!({"id": 1});
    let (status, refused) = api
        .send_json(Method::POST, "/company/companies", &body)
        .await;
    assert_eq!(status, 400);
    assert_eq!(refused["errors"][0]["code"], "InvalidField");
    assert_eq!(refused["errors"][0]["field"], "site");
    assert!(sim.records("/company/companies").is_empty());
}

#[tokio::test]
async fn on_update_site_points_at_one_of_the_company_own_sites() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("A", "A")).await;
    create(&api, "/company/companies", company("B", "B")).await;
    let branch = create(
        &api,
        "/company/companies/1/sites",
        json!({"name": "Branch", "city": "Miami"}),
    )
    .await;
    let (status, moved) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "replace", "path": "site", "value": {"name": "branch"}}]),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["site"]["id"], branch["id"]);
    // Company 2's "Main" is not a site of company 1.
    let other = sim.records("/company/companies/2/sites")[0]["id"].clone();
    let (status, refused) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "replace", "path": "site", "value": {"id": other}}]),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "site");
}

#[tokio::test]
async fn references_by_name_are_accepted_on_create() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut body = company("ACME", "Acme");
    body["status"] = json!({"name": "Active"});
    body["types"] = json!([{"name": "Prospect"}]);
    let created = create(&api, "/company/companies", body).await;
    assert_eq!(created["status"]["id"], 1);
    assert_eq!(created["types"][0]["name"], "Prospect");
    assert!(created["types"][0]["id"].as_i64().is_some());
}

#[tokio::test]
async fn a_created_company_has_connectwise_defaults_and_matches_deleted_flag_false() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-03-04 05:06:07 UTC));
    let api = Api::new(&sim);
    let created = create(&api, "/company/companies", company("ACME", "Acme")).await;
    for flag in ["deletedFlag", "leadFlag", "unsubscribeFlag"] {
        assert_eq!(created[flag], false, "{flag}: {created}");
    }
    assert_eq!(created["dateAcquired"], "2025-03-04T05:06:07Z");
    assert!(
        created["mobileGuid"]
            .as_str()
            .is_some_and(|g| g.len() == 36)
    );
    assert_eq!(created["country"]["name"], "United States");
    assert_eq!(created["billingTerms"]["name"], "Net 30 days");
    assert_eq!(created["taxCode"]["name"], "State");
    assert_eq!(created["territory"]["name"], "Main Office");
    assert_eq!(created["market"]["name"], "Small Business");
    assert_eq!(created["billToCompany"]["id"], created["id"]);
    let (status, listed) = api
        .get_json("/company/companies?conditions=deletedFlag%3Dfalse")
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let (_, site) = api.get_json("/company/companies/1/sites").await;
    assert_eq!(site[0]["inactiveFlag"], false);
    assert_eq!(site[0]["taxCode"]["name"], "State");
    assert!(sim.schema_violations().is_empty());
}

#[tokio::test]
async fn given_values_win_over_defaults() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut body = company("ACME", "Acme");
    body["leadFlag"] = json!(true);
    body["billingTerms"] = json!({"id": 2});
    let created = create(&api, "/company/companies", body).await;
    assert_eq!(created["leadFlag"], true);
    assert_eq!(created["billingTerms"]["name"], "Net 10 days");
}

#[tokio::test]
async fn every_created_record_gets_false_for_the_flags_it_left_out() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("ACME", "Acme")).await;
    let contact = create(
        &api,
        "/company/contacts",
        json!({"firstName": "Ann", "company": {"id": 1}}),
    )
    .await;
    assert_eq!(contact["inactiveFlag"], false, "{contact}");
    let board = create(
        &api,
        "/service/boards",
        json!({"name": "Alerts", "department": {"id": 1}, "location": {"id": 1}}),
    )
    .await;
    assert_eq!(board["inactiveFlag"], false, "{board}");
    assert_eq!(board["projectFlag"], false);
}

#[tokio::test]
async fn a_ticket_without_a_board_gets_the_default_board_status_and_priority() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("ACME", "Acme")).await;
    let ticket = create(
        &api,
        "/service/tickets",
        json!({"summary": "Printer", "company": {"id": 1}}),
    )
    .await;
    assert_eq!(ticket["board"]["name"], "Service Desk", "{ticket}");
    assert_eq!(ticket["status"]["name"], "New");
    assert_eq!(ticket["priority"]["name"], "Priority 3 - Normal Response");
    assert_eq!(ticket["recordType"], "ServiceTicket");
    assert_eq!(ticket["closedFlag"], false);
    let on_projects = create(
        &api,
        "/service/tickets",
        json!({"summary": "Plan", "company": {"id": 1}, "board": {"id": 2}}),
    )
    .await;
    assert_eq!(
        on_projects["status"]["name"], "Open",
        "the default status of the ticket's own board"
    );
    let (status, closed) = api
        .send_json(
            Method::PATCH,
            &format!("/service/tickets/{}", ticket["id"]),
            &json!([{"op": "replace", "path": "status", "value": {"id": 3}}]),
        )
        .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["closedFlag"], true);
    assert_ne!(
        closed["_info"]["lastUpdated"],
        Value::Null,
        "a changed record is stamped"
    );
}

#[tokio::test]
async fn a_time_entry_gets_its_hours_company_billable_option_and_work_type() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("ACME", "Acme")).await;
    let ticket = create(
        &api,
        "/service/tickets",
        json!({"summary": "Printer", "company": {"id": 1}}),
    )
    .await;
    let entry = create(
        &api,
        "/time/entries",
        json!({"chargeToType": "ServiceTicket", "chargeToId": ticket["id"],
               "timeStart": "2025-01-06T14:00:00Z", "timeEnd": "2025-01-06T14:44:00Z",
               "member": {"id": 1}}),
    )
    .await;
    assert_eq!(entry["actualHours"], 0.73, "{entry}");
    assert_eq!(entry["company"]["identifier"], "ACME");
    assert_eq!(entry["ticket"]["id"], ticket["id"]);
    assert_eq!(entry["billableOption"], "Billable");
    assert_eq!(entry["workType"]["name"], "Remote Support");
    assert_eq!(entry["status"], "Open");
    let admin = create(
        &api,
        "/time/entries",
        json!({"chargeToId": ticket["id"], "timeStart": "2025-01-06T09:00:00Z",
               "timeEnd": "2025-01-06T11:30:00Z", "hoursDeduct": 0.5, "workType": {"id": 3}}),
    )
    .await;
    assert_eq!(admin["actualHours"], 2.0);
    assert_eq!(
        admin["billableOption"], "DoNotBill",
        "the work type's bill-time setting"
    );
    let (status, changed) = api
        .send_json(
            Method::PATCH,
            &format!("/time/entries/{}", admin["id"]),
            &json!([{"op": "replace", "path": "timeEnd", "value": "2025-01-06T12:00:00Z"}]),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["actualHours"], 2.5, "recomputed on update");
    let (status, listed) = api
        .get_json(&format!("/service/tickets/{}/timeentries", ticket["id"]))
        .await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&entry["id"], &admin["id"]]);
    assert!(sim.schema_violations().is_empty());
}

#[tokio::test]
async fn a_time_entry_on_a_missing_ticket_or_ending_before_it_starts_is_refused() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (status, refused) = api
        .send_json(
            Method::POST,
            "/time/entries",
            &json!({"chargeToId": 999, "timeStart": "2025-01-06T14:00:00Z"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(refused["errors"][0]["field"], "chargeToId");
    create(&api, "/company/companies", company("ACME", "Acme")).await;
    create(
        &api,
        "/service/tickets",
        json!({"summary": "x", "company": {"id": 1}}),
    )
    .await;
    let (status, refused) = api
        .send_json(
            Method::POST,
            "/time/entries",
            &json!({"chargeToId": 1, "timeStart": "2025-01-06T14:00:00Z", "timeEnd": "2025-01-06T13:00:00Z"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(refused["errors"][0]["field"], "timeEnd");
}

#[tokio::test]
async fn a_company_that_would_be_its_own_parent_is_refused_naming_parent_company() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("A", "A")).await;
    create(&api, "/company/companies", company("B", "B")).await;
    let (status, refused) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "replace", "path": "parentCompany", "value": {"id": 1}}]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(refused["errors"][0]["field"], "parentCompany");
    let (status, _) = api
        .send_json(
            Method::PATCH,
            "/company/companies/2",
            &json!([{"op": "replace", "path": "parentCompany", "value": {"id": 1}}]),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = api
        .send_json(
            Method::PATCH,
            "/company/companies/1",
            &json!([{"op": "replace", "path": "parentCompany", "value": {"id": 2}}]),
        )
        .await;
    assert_eq!(status, 400, "A→B→A is a cycle: {refused}");
    assert_eq!(refused["errors"][0]["field"], "parentCompany");
    assert!(
        sim.records("/company/companies")[0]
            .get("parentCompany")
            .is_none()
    );
}

#[tokio::test]
async fn a_type_association_change_moves_the_company_last_updated() {
    let sim = sim().await;
    sim.set_clock(datetime!(2025-01-01 00:00:00 UTC));
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("A", "A")).await;
    sim.set_clock(datetime!(2025-01-02 00:00:00 UTC));
    create(
        &api,
        "/company/companies/1/typeAssociations",
        json!({"type": {"id": 2}}),
    )
    .await;
    let (_, company) = api.get_json("/company/companies/1").await;
    assert_eq!(company["_info"]["lastUpdated"], "2025-01-02T00:00:00Z");
}

#[tokio::test]
async fn contact_items_take_their_kind_from_the_communication_type_flags() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("A", "A")).await;
    let (_, types) = api.get_json("/company/communicationTypes").await;
    let id_of = |name: &str| {
        types
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["description"] == name)
            .map(|t| t["id"].clone())
            .unwrap()
    };
    let contact = create(
        &api,
        "/company/contacts",
        json!({"firstName": "Ann", "company": {"id": 1}, "communicationItems": [
            {"type": {"id": id_of("Mobile")}, "value": "555-0100"},
            {"type": {"id": id_of("Fax")}, "value": "555-0101"},
            {"type": {"id": id_of("Email")}, "value": "ann@example.com"}]}),
    )
    .await;
    let items = contact["communicationItems"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["type"]["name"].as_str().unwrap(),
                i["communicationType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("Mobile", "Phone"), ("Fax", "Fax"), ("Email", "Email")]
    );
    assert_eq!(items[0]["value"], "5550100");
}

#[tokio::test]
async fn the_new_collections_are_served() {
    let sim = sim().await;
    let api = Api::new(&sim);
    create(&api, "/company/companies", company("A", "A")).await;
    let project = create(
        &api,
        "/project/projects",
        json!({"name": "Migration", "company": {"id": 1}, "board": {"id": 2}, "billingMethod": "FixedFee",
               "estimatedStart": "2025-01-01T00:00:00Z", "estimatedEnd": "2025-02-01T00:00:00Z"}),
    )
    .await;
    let phase = create(
        &api,
        &format!("/project/projects/{}/phases", project["id"]),
        json!({"description": "Plan"}),
    )
    .await;
    assert_eq!(phase["projectId"], project["id"]);
    let ticket = create(
        &api,
        "/project/tickets",
        json!({"summary": "Inventory", "phase": {"id": phase["id"]}, "company": {"id": 1}}),
    )
    .await;
    assert_eq!(ticket["priority"]["name"], "Priority 3 - Normal Response");
    create(
        &api,
        "/company/contacts",
        json!({"firstName": "Ann", "company": {"id": 1}}),
    )
    .await;
    let opportunity = create(
        &api,
        "/sales/opportunities",
        json!({"name": "Renewal", "company": {"id": 1}, "contact": {"id": 1}, "primarySalesRep": {"id": 1}}),
    )
    .await;
    let (status, _) = api
        .send_json(
            Method::POST,
            &format!("/sales/opportunities/{}/notes", opportunity["id"]),
            &json!({"text": "Called"}),
        )
        .await;
    assert_eq!(status, 201);
    // Service and project tickets share one id space: this is not ticket 1.
    let service_ticket = create(
        &api,
        "/service/tickets",
        json!({"summary": "Laptop", "company": {"id": 1}}),
    )
    .await;
    assert_ne!(service_ticket["id"], ticket["id"]);
    create(
        &api,
        "/procurement/catalog",
        json!({"identifier": "LAPTOP", "description": "Laptop", "customerDescription": "Laptop",
               "subcategory": {"id": 2}, "type": {"id": 2}}),
    )
    .await;
    let product = create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "LAPTOP"}, "ticket": {"id": service_ticket["id"]}, "quantity": 1,
               "billableOption": "Billable"}),
    )
    .await;
    let (status, products) = api
        .get_json(&format!(
            "/service/tickets/{}/products",
            service_ticket["id"]
        ))
        .await;
    assert_eq!(status, 200, "{products}");
    assert_eq!(products.as_array().unwrap().len(), 1);
    assert_eq!(products[0]["id"], product["id"]);
    let (_, count) = api.get_json("/company/communicationTypes/count").await;
    assert_eq!(count["count"], 8);
    assert!(
        sim.schema_violations().is_empty(),
        "{:?}",
        sim.schema_violations()
    );
}
