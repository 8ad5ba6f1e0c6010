//! The schedule, dry runs, and agreements: a time entry's agreement finds its contract (by name,
//! then by the link it leaves), and only the products on a time entry's agreement are parts.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_schedule_starts_one_planning_per_interval_and_it_imports() {
    let world = World::start().await;
    let ticket = world.finished("A-1001", "Scheduled").await;

    let tick = world.ok(json!({"action": "scheduled"})).await;
    assert_eq!(tick["started"].as_array().unwrap().len(), 1, "{tick}");
    assert_eq!(tick["started"][0]["tenant"], TENANT);
    // A second tick in the same interval starts nothing.
    let again = world.ok(json!({"action": "scheduled"})).await;
    assert_eq!(again["started"].as_array().unwrap().len(), 0, "{again}");

    world.deliver().await;
    assert!(world.call_of(ticket).is_some());
    let run_id = tick["started"][0]["runId"].as_str().unwrap();
    let report = world.report(run_id).await;
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "created");

    // A tenant whose scheduled import is off is not started.
    world
        .put_settings(json!({"schedules": {"ticketImport": {"enabled": false}}}))
        .await;
    let off = world
        .import
        .tick(time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .await;
    assert!(off.started.is_empty(), "{off:?}");
}

#[tokio::test]
async fn a_dry_run_plans_and_reports_but_writes_nothing_and_keeps_the_watermark() {
    let world = World::start().await;
    let ticket = world.finished("A-1001", "Dry").await;

    let planned = world
        .ok(json!({"action": "import-now", "tenant": TENANT, "dryRun": true}))
        .await;
    world.deliver().await;
    let report = world.report(planned["runId"].as_str().unwrap()).await;
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "created");
    assert!(
        report
            .detail("ticket", &ticket.to_string())
            .contains("would create"),
        "{}",
        report.0
    );
    assert_eq!(world.billing_call_writes(), 0);
    let (planned, _) = world.import_now().await;
    assert!(planned["since"].is_null(), "no watermark yet: {planned}");
    assert!(world.call_of(ticket).is_some());
}

#[tokio::test]
async fn a_time_entrys_agreement_finds_its_contract_by_name_and_only_its_products_are_parts() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    // The agreement of contract C-3001 ("Managed Print - Acme"), and another one.
    let agreements = world
        .cw
        .seed(
            "/finance/agreements",
            vec![
                json!({"name": "Managed Print - Acme", "company": {"id": company},
                       "type": {"id": 1}}),
                json!({"name": "Something else", "company": {"id": company},
                       "type": {"id": 1}}),
            ],
        )
        .unwrap();
    let (print, other) = (agreements[0], agreements[1]);
    let ticket = world.ticket(company, "Covered", FINISHED).await;
    world.time(ticket, "jdoe", 1, Some(print)).await;
    let toner = world.catalog_item(TONER).await;
    let covered = world.product_on(ticket, toner, 1, Some(print)).await;
    let elsewhere = world.product_on(ticket, toner, 5, Some(other)).await;

    let (_, report) = world.import_now().await;
    let detail = report.detail("ticket", &ticket.to_string());
    assert_eq!(
        report.outcome("ticket", &ticket.to_string()),
        "created",
        "{detail}"
    );
    let call = world.call_of(ticket).unwrap();
    assert_eq!(call.contract_id.as_deref(), Some("C-3001"));
    let parts: Vec<_> = call
        .parts
        .iter()
        .map(|p| p.external_reference.clone().unwrap_or_default())
        .collect();
    assert_eq!(parts, [format!("cw:product:{covered}")]);
    assert!(
        detail.contains(&format!("product {elsewhere} not imported")),
        "{detail}"
    );

    // The match is now a link: renaming the contract changes nothing for the agreement.
    let mut renamed = cwsync_billing_sim::fixture_contracts();
    renamed[0].name = Some("Renamed".to_owned());
    renamed[0].number = "RENAMED".to_owned();
    world.billing.seed_contracts(renamed);
    let second = world.ticket(company, "Covered again", FINISHED).await;
    world.time(second, "jdoe", 1, Some(print)).await;
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": second}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "created", "{reply}");
    assert_eq!(
        world.call_of(second).unwrap().contract_id.as_deref(),
        Some("C-3001")
    );
}

#[tokio::test]
async fn an_agreement_without_a_contract_names_the_setting_and_imports_once_mapped() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    let agreement = world
        .cw
        .seed(
            "/finance/agreements",
            vec![json!({"name": "No contract", "company": {"id": company}, "type": {"id": 1}})],
        )
        .unwrap()[0];
    let ticket = world.ticket(company, "Uncovered", FINISHED).await;
    world.time(ticket, "jdoe", 1, Some(agreement)).await;
    let (_, report) = world.import_now().await;
    let detail = report.detail("ticket", &ticket.to_string());
    assert!(
        detail.contains(&format!("ticketImport.agreements[\"{agreement}\"]")),
        "{detail}"
    );
    world
        .put_settings(json!({"ticketImport": {"agreements": {(agreement.to_string()): "C-3001"}}}))
        .await;
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "created", "{reply}");
    assert_eq!(
        world.call_of(ticket).unwrap().contract_id.as_deref(),
        Some("C-3001")
    );
}

#[tokio::test]
async fn the_planning_reads_the_time_entries_of_many_tickets_at_once() {
    let world = World::start().await;
    let mut tickets = Vec::new();
    for n in 0..3 {
        tickets.push(world.finished("A-1001", &format!("Batch {n}")).await);
    }
    let reads_before = world.cw.calls().count("GET", "/time/entries");
    let planned = world
        .ok(json!({"action": "import-now", "tenant": TENANT}))
        .await;
    assert_eq!(planned["jobsSent"], 3, "{planned}");
    assert_eq!(
        world.cw.calls().count("GET", "/time/entries") - reads_before,
        1,
        "one read for the three tickets"
    );
    assert_eq!(planned["timeEntryReads"], 1, "{planned}");
    world.deliver().await;
    assert_eq!(world.imported_calls().len(), 3);
}

#[tokio::test]
async fn the_ticket_jobs_of_one_batch_read_their_tickets_together() {
    let world = World::start().await;
    let toner = world.catalog_item(TONER).await;
    let mut tickets = Vec::new();
    for n in 0..12 {
        let ticket = world.finished("A-1001", &format!("Batched {n}")).await;
        world.product(ticket, toner, 1).await;
        tickets.push(ticket);
    }
    let planned = world
        .ok(json!({"action": "import-now", "tenant": TENANT}))
        .await;
    assert_eq!(planned["jobsSent"], 12, "{planned}");
    let reads = |world: &World| {
        let calls = world.cw.calls();
        [
            calls.count("GET", "/service/tickets"),
            calls.count("GET", "/service/tickets/{id}"),
            calls.count("GET", "/time/entries"),
            calls.count("GET", "/procurement/products"),
            calls.count("GET", "/procurement/catalog"),
        ]
    };
    let before = reads(&world);
    world.deliver().await;
    let after = reads(&world);
    let by_job: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    // Twelve jobs come in two SQS batches (ten and two): one read of each per batch, none per
    // ticket.
    assert_eq!(
        by_job,
        [2, 0, 2, 2, 2],
        "tickets, ticket by id, time, products, catalog"
    );
    let calls = world.imported_calls();
    assert_eq!(calls.len(), 12);
    for call in &calls {
        assert_eq!(
            call.labor.len(),
            1,
            "each call has its own ticket's time only"
        );
        assert_eq!(call.parts.len(), 1, "and its own product only");
    }
    // A real import creates without looking each call up by reference first (the create is
    // idempotent on it).
    let by_reference: u64 = world
        .billing
        .calls()
        .by_route
        .iter()
        .filter(|(route, _)| route.starts_with("GET /v1/service-calls/by-reference"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(by_reference, 0);
}
