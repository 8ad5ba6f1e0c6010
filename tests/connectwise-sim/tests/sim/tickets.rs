//! The reads the ticket import makes, over HTTP: finished tickets by status, board and
//! `lastUpdated` watermark, their time entries and products in batches, the reference data, and
//! the values the server keeps (a ticket's `lastUpdated` and `actualHours` follow its time and
//! products; service and project tickets share one id space).
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::{Api, company, create, sim};

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn list(api: &Api, path: &str, conditions: &str, extra: &str) -> (u16, Value) {
    api.get_json(&format!(
        "{path}?conditions={}&pageSize=1000{extra}",
        encode(conditions)
    ))
    .await
}

/// A company, a "Completed" status on the Service Desk board, and a time entry helper's needs.
async fn setup(api: &Api) -> i64 {
    create(api, "/company/companies", company("ACME", "Acme")).await;
    let completed = create(
        api,
        "/service/boards/1/statuses",
        json!({"name": "Completed", "closedStatus": false, "sortOrder": 2}),
    )
    .await;
    completed["id"].as_i64().unwrap()
}

async fn ticket(api: &Api, summary: &str, board: i64, status: i64) -> i64 {
    create(
        api,
        "/service/tickets",
        json!({"summary": summary, "company": {"id": 1}, "board": {"id": board}, "status": {"id": status}}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn time_entry(api: &Api, charge_type: &str, ticket: i64, start: &str, end: &str) -> Value {
    create(
        api,
        "/time/entries",
        json!({"chargeToType": charge_type, "chargeToId": ticket, "member": {"identifier": "jdoe"},
               "timeStart": start, "timeEnd": end, "notes": "Replaced the fuser"}),
    )
    .await
}

#[tokio::test]
async fn finished_tickets_are_found_by_status_board_and_watermark_in_a_stable_order() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let completed = setup(&api).await;
    sim.set_clock(datetime!(2026-11-30 10:00 UTC));
    let old = ticket(&api, "Old, closed", 1, 3).await;
    sim.set_clock(datetime!(2026-12-01 09:00 UTC));
    let open = ticket(&api, "Still open", 1, 2).await;
    let closed = ticket(&api, "Closed", 1, 3).await;
    let done = ticket(&api, "Completed", 1, completed).await;
    // A ticket on the Projects board's closed status: another board.
    sim.advance_clock(Duration::from_secs(60));
    let other_board = ticket(&api, "Elsewhere", 2, 5).await;

    let cond = r#"status/name in ("Completed","Closed") and board/id in (1,2) and lastUpdated > [2026-12-01T00:00:00Z]"#;
    let (status, found) = list(
        &api,
        "/service/tickets",
        cond,
        "&orderBy=lastUpdated%20asc,id%20asc",
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(ids(&found), vec![closed, done, other_board]);
    assert!(!ids(&found).contains(&old) && !ids(&found).contains(&open));

    // The same with the `_info/` prefix, and in descending order.
    let cond =
        r#"status/name in ('Completed','Closed') and _info/lastUpdated > [2026-12-01T00:00:00Z]"#;
    let (_, found) = list(
        &api,
        "/service/tickets",
        cond,
        "&orderBy=_info/lastUpdated%20desc,id%20desc",
    )
    .await;
    assert_eq!(ids(&found), vec![other_board, done, closed]);

    // `id in (...)` reads a batch by id; the count agrees.
    let cond = format!("id in ({old},{done},999)");
    let (_, found) = list(&api, "/service/tickets", &cond, "").await;
    assert_eq!(ids(&found), vec![old, done]);
    let (_, count) = list(&api, "/service/tickets/count", &cond, "").await;
    assert_eq!(count["count"], 2);
}

#[tokio::test]
async fn a_filter_or_order_on_a_field_the_model_lacks_is_a_400_naming_it() {
    let sim = sim().await;
    let api = Api::new(&sim);
    setup(&api).await;
    // ProductItem has `ticket`, `project` and `phase`, not the `chargeToId` of time entries.
    let (status, body) = list(&api, "/procurement/products", "chargeToId in (1,2)", "").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("chargeToId"),
        "{body}"
    );
    let (status, body) = list(
        &api,
        "/procurement/products/count",
        "chargeToType = 'ServiceTicket'",
        "",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = api.get_json("/service/tickets?orderBy=updated%20asc").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("updated"),
        "{body}"
    );
    let (status, body) = list(&api, "/service/tickets", "status/colour = 'red'", "").await;
    assert_eq!(status, 400, "{body}");
    // Fields of the model and of its references are fine, in any case.
    let (status, _) = list(
        &api,
        "/procurement/products",
        "TICKET/ID in (1,2) and agreement/id = null",
        "",
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn time_and_products_are_read_in_batches_and_move_their_ticket() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let completed = setup(&api).await;
    sim.set_clock(datetime!(2026-12-01 09:00 UTC));
    let a = ticket(&api, "A", 1, completed).await;
    let b = ticket(&api, "B", 1, completed).await;
    let c = ticket(&api, "C", 1, completed).await;
    let before = api.get_json(&format!("/service/tickets/{a}")).await.1;
    assert_eq!(before["_info"]["lastUpdated"], "2026-12-01T09:00:00Z");

    sim.set_clock(datetime!(2026-12-02 08:00 UTC));
    let entry = time_entry(
        &api,
        "ServiceTicket",
        a,
        "2026-12-01T14:00:00Z",
        "2026-12-01T15:30:00Z",
    )
    .await;
    assert_eq!(entry["ticket"]["id"], a);
    assert_eq!(entry["company"]["id"], 1);
    assert_eq!(entry["member"]["identifier"], "jdoe");
    time_entry(
        &api,
        "ServiceTicket",
        a,
        "2026-12-01T16:00:00Z",
        "2026-12-01T16:15:00Z",
    )
    .await;
    time_entry(
        &api,
        "ServiceTicket",
        b,
        "2026-12-01T10:00:00Z",
        "2026-12-01T11:00:00Z",
    )
    .await;

    // The ticket moved past the watermark and sums its hours.
    let (_, after) = api.get_json(&format!("/service/tickets/{a}")).await;
    assert_eq!(after["_info"]["lastUpdated"], "2026-12-02T08:00:00Z");
    assert_eq!(after["actualHours"], 1.75);
    let cond = "lastUpdated > [2026-12-01T09:00:00Z]";
    let (_, moved) = list(&api, "/service/tickets", cond, "").await;
    assert_eq!(ids(&moved), vec![a, b]);

    let cond = format!(r#"chargeToType="ServiceTicket" AND chargeToId in ({a},{b},{c})"#);
    let (status, entries) = list(
        &api,
        "/time/entries",
        &cond,
        "&orderBy=chargeToId%20asc,id%20asc",
    )
    .await;
    assert_eq!(status, 200, "{entries}");
    let charged: Vec<i64> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["chargeToId"].as_i64().unwrap())
        .collect();
    assert_eq!(charged, vec![a, a, b]);

    // A product on ticket c: found by `ticket/id in (...)`, and c moves too.
    create(
        &api,
        "/procurement/catalog",
        json!({"identifier": "TONER-DXC5850-BK", "description": "Toner", "customerDescription": "Toner",
               "subcategory": {"id": 2}, "type": {"id": 2}}),
    )
    .await;
    sim.set_clock(datetime!(2026-12-03 08:00 UTC));
    let product = create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "TONER-DXC5850-BK"}, "ticket": {"id": c}, "quantity": 2,
               "billableOption": "Billable"}),
    )
    .await;
    assert_eq!(
        product["company"]["id"], 1,
        "a product belongs to its ticket's company"
    );
    let (_, products) = list(
        &api,
        "/procurement/products",
        &format!("ticket/id in ({a},{b},{c})"),
        "",
    )
    .await;
    assert_eq!(ids(&products), vec![product["id"].as_i64().unwrap()]);
    let (_, moved) = api.get_json(&format!("/service/tickets/{c}")).await;
    assert_eq!(moved["_info"]["lastUpdated"], "2026-12-03T08:00:00Z");

    // Removing time takes the hours off and moves the ticket again.
    sim.set_clock(datetime!(2026-12-04 08:00 UTC));
    let resp = api
        .req(Method::DELETE, &format!("/time/entries/{}", entry["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (_, after) = api.get_json(&format!("/service/tickets/{a}")).await;
    assert_eq!(after["actualHours"], 0.25);
    assert_eq!(after["_info"]["lastUpdated"], "2026-12-04T08:00:00Z");

    // A product naming no ticket is refused.
    let (status, body) = api
        .send_json(
            Method::POST,
            "/procurement/products",
            &json!({"catalogItem": {"identifier": "TONER-DXC5850-BK"}, "ticket": {"id": 4242}, "billableOption": "Billable"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "ticket");
    assert!(
        sim.schema_violations().is_empty(),
        "{:?}",
        sim.schema_violations()
    );
}

#[tokio::test]
async fn project_tickets_share_the_id_space_and_carry_their_project_to_time_and_products() {
    let sim = sim().await;
    let api = Api::new(&sim);
    setup(&api).await;
    let service = ticket(&api, "Service", 1, 1).await;
    let project = create(
        &api,
        "/project/projects",
        json!({"name": "Office move", "company": {"id": 1}, "board": {"id": 2}, "billingMethod": "FixedFee",
               "billingAmount": 4800, "estimatedStart": "2026-11-01T00:00:00Z", "estimatedEnd": "2026-12-15T00:00:00Z"}),
    )
    .await;
    let phase = create(
        &api,
        &format!("/project/projects/{}/phases", project["id"]),
        json!({"description": "Cabling", "billTime": "Billable", "billingMethod": "FixedFee"}),
    )
    .await;
    let pt = create(
        &api,
        "/project/tickets",
        json!({"summary": "Run cables", "phase": {"id": phase["id"]}, "project": {"id": project["id"]},
               "company": {"id": 1}, "board": {"id": 2}, "status": {"id": 5}}),
    )
    .await;
    let pt_id = pt["id"].as_i64().unwrap();
    assert_ne!(
        pt_id, service,
        "one id space for service and project tickets"
    );
    assert_eq!(
        pt["closedFlag"], true,
        "status 5 is the Projects board's closed status"
    );
    let (status, _) = api.get_json(&format!("/service/tickets/{pt_id}")).await;
    assert_eq!(
        status, 404,
        "a project ticket is read through /project/tickets"
    );

    let entry = time_entry(
        &api,
        "ProjectTicket",
        pt_id,
        "2026-12-01T08:00:00Z",
        "2026-12-01T12:00:00Z",
    )
    .await;
    assert_eq!(entry["project"]["id"], project["id"]);
    assert_eq!(entry["phase"]["id"], phase["id"]);
    assert_eq!(entry["ticket"]["id"], pt_id);
    let cond = format!(r#"chargeToType = "ProjectTicket" and chargeToId in ({pt_id})"#);
    let (_, entries) = list(&api, "/time/entries", &cond, "").await;
    assert_eq!(entries.as_array().unwrap().len(), 1);
    let cond = format!(r#"chargeToType = "ServiceTicket" and chargeToId in ({pt_id})"#);
    let (_, entries) = list(&api, "/time/entries", &cond, "").await;
    assert!(entries.as_array().unwrap().is_empty());

    create(
        &api,
        "/procurement/catalog",
        json!({"identifier": "CAT6-100", "description": "Cat6 100ft", "customerDescription": "Cat6 100ft",
               "subcategory": {"id": 2}, "type": {"id": 2}}),
    )
    .await;
    let product = create(
        &api,
        "/procurement/products",
        json!({"catalogItem": {"identifier": "CAT6-100"}, "ticket": {"id": pt_id}, "billableOption": "Billable"}),
    )
    .await;
    assert_eq!(product["project"]["id"], project["id"]);
    assert_eq!(product["phase"]["id"], phase["id"]);

    let (_, read) = api.get_json(&format!("/project/tickets/{pt_id}")).await;
    assert_eq!(read["actualHours"], 4.0);
    let (_, projects) = list(
        &api,
        "/project/projects",
        r#"billingMethod = "FixedFee""#,
        "",
    )
    .await;
    assert_eq!(projects[0]["billingAmount"], 4800.0);
    let (status, phases) = list(
        &api,
        &format!("/project/projects/{}/phases", project["id"]),
        r#"billingMethod in ("FixedFee","ActualRates")"#,
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(phases[0]["billTime"], "Billable");
    assert!(
        sim.schema_violations().is_empty(),
        "{:?}",
        sim.schema_violations()
    );
}

#[tokio::test]
async fn reference_data_is_read_with_the_fields_the_import_maps() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, boards) = list(
        &api,
        "/service/boards",
        "inactiveFlag = false and projectFlag = false",
        "",
    )
    .await;
    assert_eq!(boards[0]["name"], "Service Desk");
    let (_, statuses) = list(
        &api,
        "/service/boards/1/statuses",
        "closedStatus = true",
        "",
    )
    .await;
    assert_eq!(statuses[0]["name"], "Closed");
    assert_eq!(statuses[0]["inactive"], false);
    let (status, types) = api.get_json("/service/boards/1/types").await;
    assert_eq!(status, 200);
    assert!(!types.as_array().unwrap().is_empty());
    let (_, priorities) = list(&api, "/service/priorities", "defaultFlag = true", "").await;
    assert_eq!(priorities[0]["name"], "Priority 3 - Normal Response");
    let (status, members) = list(
        &api,
        "/system/members",
        r#"inactiveFlag = false and (identifier in ("jdoe") or primaryEmail = "JDOE@example.com")"#,
        "&fields=id,identifier,primaryEmail,inactiveFlag",
    )
    .await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(members[0]["identifier"], "jdoe");
    assert_eq!(members[0]["primaryEmail"], "jdoe@example.com");
    let (status, member) = api.get_json("/system/members/jdoe").await;
    assert_eq!(status, 200);
    assert_eq!(member["id"], members[0]["id"]);
}

#[tokio::test]
async fn the_finished_tickets_fixture_gives_the_import_every_case() {
    use cwsync_connectwise_sim::{TicketFixtureLinks, seed_finished_tickets};
    let sim = sim().await;
    let api = Api::new(&sim);
    let acme = create(&api, "/company/companies", company("ACME", "Acme")).await;
    let east = create(&api, "/company/companies", company("ACMEEAST", "Acme East")).await;
    let contact = create(
        &api,
        "/company/contacts",
        json!({"firstName": "Ann", "company": {"id": acme["id"]}}),
    )
    .await;
    let agreement = create(
        &api,
        "/finance/agreements",
        json!({"name": "Managed Print", "type": {"id": 1}, "company": {"id": acme["id"]}, "contact": {"id": contact["id"]}}),
    )
    .await;
    let links = TicketFixtureLinks {
        company: acme["id"].as_i64().unwrap(),
        second_company: east["id"].as_i64().unwrap(),
        agreement: agreement["id"].as_i64(),
    };
    let calls_before = sim.calls().total;
    let f = seed_finished_tickets(&sim, &links).unwrap();
    assert_eq!(
        sim.calls().total,
        calls_before,
        "seeding is not API traffic"
    );

    // What an import reads: finished tickets on the board, then their time and products.
    let cond = format!(
        r#"board/id = {} and status/name in ("Completed","Closed")"#,
        f.board
    );
    let (_, finished) = list(&api, "/service/tickets", &cond, "&orderBy=id%20asc").await;
    assert_eq!(
        ids(&finished),
        vec![
            f.ticket_ready,
            f.ticket_second_company,
            f.ticket_unmapped_technician,
            f.ticket_unmapped_company,
            f.ticket_without_time,
        ]
    );
    let ready = &finished[0];
    assert_eq!(ready["actualHours"], 2.0);
    assert_eq!(ready["type"]["name"], "Break/Fix");
    assert!(
        finished[4].get("actualHours").is_none(),
        "a ticket without time has no hours (null, omitted)"
    );

    let tickets: Vec<String> = ids(&finished).iter().map(i64::to_string).collect();
    let cond = format!(
        r#"chargeToType = "ServiceTicket" and chargeToId in ({})"#,
        tickets.join(",")
    );
    let (_, entries) = list(&api, "/time/entries", &cond, "&orderBy=id%20asc").await;
    let on = |t: i64| -> Vec<&Value> {
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["chargeToId"] == t)
            .collect()
    };
    let ready_time = on(f.ticket_ready);
    assert_eq!(ready_time.len(), 2);
    assert_eq!(ready_time[0]["agreement"]["id"], agreement["id"]);
    assert_eq!(ready_time[0]["billableOption"], "Billable");
    assert_eq!(ready_time[0]["member"]["identifier"], "jdoe");
    assert_eq!(ready_time[1]["billableOption"], "DoNotBill");
    assert!(ready_time[1].get("agreement").is_none());
    assert!(on(f.ticket_without_time).is_empty());
    assert_eq!(
        on(f.ticket_unmapped_technician)[0]["member"]["identifier"],
        "mchen"
    );
    assert_eq!(on(f.ticket_second_company)[0]["company"]["id"], east["id"]);

    let (_, products) = list(
        &api,
        "/procurement/products",
        &format!("ticket/id in ({})", tickets.join(",")),
        "&orderBy=id%20asc",
    )
    .await;
    assert_eq!(
        ids(&products),
        vec![
            f.product_in_billing,
            f.product_placeholder,
            f.product_other_agreement
        ]
    );
    assert_eq!(products[0]["catalogItem"]["identifier"], "TONER-DXC5850-BK");
    assert_eq!(products[1]["catalogItem"]["identifier"], "CABLE-USB-3M");
    assert_eq!(products[2]["agreement"]["id"], f.unlinked_agreement);

    // Not finished: In Progress; the project ticket is on /project/tickets.
    let (_, wip) = api
        .get_json(&format!("/service/tickets/{}", f.ticket_not_finished))
        .await;
    assert_eq!(wip["status"]["name"], "In Progress");
    let (_, pt) = api
        .get_json(&format!("/project/tickets/{}", f.project_ticket))
        .await;
    assert_eq!(pt["status"]["name"], "Completed");
    assert_eq!(pt["actualHours"], 3.0);
    let (_, project) = api
        .get_json(&format!("/project/projects/{}", f.project))
        .await;
    assert_eq!(project["billingMethod"], "FixedFee");
    assert_eq!(project["billingAmount"], 4800.0);
    let (_, members) = list(
        &api,
        "/system/members",
        "identifier in ('jdoe','srivera','mchen')",
        "&orderBy=identifier%20asc",
    )
    .await;
    assert_eq!(
        ids(&members),
        vec![f.member_jdoe, f.member_mchen, f.member_srivera]
    );
    let (_, statuses) = api
        .get_json(&format!(
            "/service/boards/{}/statuses?orderBy=sortOrder",
            f.board
        ))
        .await;
    let names: Vec<&str> = statuses
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["New", "In Progress", "Completed", "Closed"]);
    assert!(
        sim.schema_violations().is_empty(),
        "{:?}",
        sim.schema_violations()
    );
}

#[tokio::test]
async fn the_fixture_is_also_seeded_over_http_and_refuses_unknown_companies() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let control = reqwest::Client::new();
    let url = format!("{}/__sim/fixtures/finished-tickets", sim.base_url());
    let resp = control
        .post(&url)
        .json(&json!({"company": 41, "secondCompany": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("company 41"),
        "{body}"
    );
    assert!(
        sim.records("/service/boards")
            .iter()
            .all(|b| b["name"] != "Field Service"),
        "a refused fixture leaves nothing behind"
    );

    let a = create(&api, "/company/companies", company("ACME", "Acme")).await;
    let b = create(&api, "/company/companies", company("EAST", "East")).await;
    let resp = control
        .post(&url)
        .json(&json!({"company": a["id"], "secondCompany": b["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.unwrap();
    let (_, ticket) = api
        .get_json(&format!("/service/tickets/{}", made["ticketReady"]))
        .await;
    assert_eq!(ticket["company"]["id"], a["id"]);
    assert_eq!(ticket["status"]["name"], "Completed");
    assert_eq!(ticket["actualHours"], 2.0);
}
