//! Errors a user can act on: an unmapped company or member is on the error report with the
//! reason and imports once fixed; a ticket can be excluded for good, and imported by hand
//! whatever the watermark says.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn an_unmapped_company_is_reported_with_the_reason_and_imports_once_linked() {
    let world = World::start().await;
    let company = world.company_of("A-1004");
    world
        .customers
        .handle(
            json!({"action": "unlink", "tenant": TENANT, "accountId": "A-1004"}),
            time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
        )
        .await
        .unwrap();
    let ticket = world.ticket(company, "Unmapped", FINISHED).await;
    world.time(ticket, "jdoe", 1, None).await;

    let (_, report) = world.import_now().await;
    assert_eq!(report.status(), "partially_failed", "{}", report.0);
    let detail = report.detail("ticket", &ticket.to_string());
    assert!(
        detail.contains(&format!("company {company}")) && detail.contains("not mapped"),
        "{detail}"
    );
    let errors = world.errors().await;
    let entry = errors
        .iter()
        .find(|e| e["recordId"].as_str() == Some(ticket.to_string().as_str()))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(entry.to_string().contains("not mapped"), "{entry}");
    assert!(world.call_of(ticket).is_none());

    // Fixed: the account is linked again, and the ticket imports (and leaves the report).
    world
        .customers
        .handle(
            json!({"action": "link", "tenant": TENANT, "accountId": "A-1004",
                   "companyId": company}),
            time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
        )
        .await
        .unwrap();
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "created", "{reply}");
    assert_eq!(world.call_of(ticket).unwrap().account_id, "A-1004");
    let errors = world.errors().await;
    assert!(
        errors
            .iter()
            .all(|e| e["recordId"].as_str() != Some(ticket.to_string().as_str())),
        "{errors:?}"
    );
}

#[tokio::test]
async fn an_unmapped_member_is_reported_naming_the_setting_and_imports_once_mapped() {
    let world = World::start().await;
    world.member("ghost", "ghost@example.com");
    let company = world.company_of("A-1001");
    let ticket = world.ticket(company, "Ghost work", FINISHED).await;
    world.time(ticket, "ghost", 1, None).await;

    let (_, report) = world.import_now().await;
    let detail = report.detail("ticket", &ticket.to_string());
    assert!(
        detail.contains("member ghost") && detail.contains("ticketImport.members[\"ghost\"]"),
        "{detail}"
    );
    assert!(world.call_of(ticket).is_none());

    world
        .put_settings(json!({"ticketImport": {"members": {"ghost": "T-103"}}}))
        .await;
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "created", "{reply}");
    assert_eq!(
        world.call_of(ticket).unwrap().labor[0].technician_id,
        "T-103"
    );
}

#[tokio::test]
async fn an_excluded_ticket_is_never_imported_and_leaves_the_error_report() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    // plee is T-102 by e-mail, who is inactive: the ticket fails.
    world.member("plee", "plee@example.com");
    let ticket = world.ticket(company, "By accident", FINISHED).await;
    world.time(ticket, "plee", 1, None).await;
    let (_, report) = world.import_now().await;
    assert_eq!(report.outcome("ticket", &ticket.to_string()), "failed");
    assert!(!world.errors().await.is_empty());

    let answer = world
        .ok(json!({"action": "exclude-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(answer["changed"], true, "{answer}");
    assert!(
        world
            .errors()
            .await
            .iter()
            .all(|e| e["recordId"].as_str() != Some(ticket.to_string().as_str()))
    );
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["excluded"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 0, "{planned}");
    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "skipped", "{reply}");
    assert!(world.call_of(ticket).is_none());
    let again = world
        .ok(json!({"action": "exclude-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(again["changed"], false, "{again}");
}

#[tokio::test]
async fn import_ticket_imports_a_ticket_behind_the_watermark() {
    let world = World::start().await;
    let company = world.company_of("A-1001");
    // Finished with time in a status the tenant does not import yet: the runs pass it by.
    let ticket = world
        .ticket(company, "Finished long ago", "In Progress")
        .await;
    world.time(ticket, "jdoe", 1, None).await;
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["tickets"], 0, "{planned}");
    // Two hours later another ticket finishes, and the next run moves the watermark past the
    // first. Then the tenant adds the first one's status: the ticket itself did not change, so
    // the next run, reading from the watermark, still does not see it.
    world
        .cw
        .advance_clock(std::time::Duration::from_secs(2 * 3600));
    let other = world.ticket(company, "Finished later", FINISHED).await;
    world.time(other, "jdoe", 1, None).await;
    world.import_now().await;
    world
        .put_settings(json!({
            "ticketImport": {
                "statuses": [FINISHED, "In Progress"],
                "productTypes": {"Non-Inventory": "Hardware"},
            },
        }))
        .await;
    let (planned, _) = world.import_now().await;
    assert_eq!(
        planned["tickets"], 1,
        "only the later ticket, inside the overlap window: {planned}"
    );
    assert!(world.call_of(ticket).is_none());

    let reply = world
        .ok(json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket}))
        .await;
    assert_eq!(reply["records"][0]["outcome"], "created", "{reply}");
    assert!(world.call_of(ticket).is_some());
    assert_eq!(world.imported_calls().len(), 2);
}

#[tokio::test]
async fn a_failing_ticket_drops_off_the_report_after_error_attempts_and_comes_back_when_it_changes()
{
    let world = World::start().await;
    world.put_settings(json!({"errorAttempts": 2})).await;
    let company = world.company_of("A-1001");
    let ticket = world.ticket(company, "Nobody's work", FINISHED).await;
    world.member("ghost", "ghost@example.com");
    world.time(ticket, "ghost", 1, None).await;
    let id = ticket.to_string();
    let on_report = |errors: &[serde_json::Value]| {
        errors
            .iter()
            .any(|e| e["recordId"].as_str() == Some(id.as_str()))
    };
    let import = json!({"action": "import-ticket", "tenant": TENANT, "ticketId": ticket});
    for attempt in 1..=2 {
        world.ok(import.clone()).await;
        assert!(on_report(&world.errors().await), "attempt {attempt}");
    }
    // A third failure of the unchanged ticket: off the report.
    world.ok(import.clone()).await;
    assert!(!on_report(&world.errors().await));

    // The ticket changes (more time): back on the report.
    world.cw.advance_clock(std::time::Duration::from_secs(60));
    world.time(ticket, "ghost", 1, None).await;
    world.ok(import).await;
    assert!(on_report(&world.errors().await));
}

#[tokio::test]
async fn a_ticket_whose_job_gave_up_on_its_last_delivery_imports_on_a_later_run_behind_the_window()
{
    let world = World::start().await;
    let company = world.company_of("A-1001");
    let early = world.ticket(company, "Billing down early", FINISHED).await;
    world.time(early, "jdoe", 2, None).await;
    // An hour later another ticket is finished: the watermark moves past the first one's
    // overlap window (10 minutes).
    world.cw.advance_clock(std::time::Duration::from_secs(3600));
    let later = world.ticket(company, "Billing down later", FINISHED).await;
    world.time(later, "jdoe", 1, None).await;
    // The billing system refuses every service call, through all 5 deliveries of each job.
    world.billing.inject(
        cwsync_billing_sim::FaultRule::new(cwsync_billing_sim::FaultKind::Status(503))
            .on("POST", "/v1/service-calls"),
    );

    // `import_now` delivers each job up to 5 times and checks none reached the DLQ.
    let (_, report) = world.import_now().await;
    assert_eq!(report.status(), "partially_failed", "{}", report.0);
    for ticket in [early, later] {
        let id = ticket.to_string();
        let detail = report.detail("ticket", &id);
        assert!(
            detail.starts_with("gave up after 5 deliveries") && detail.contains("503"),
            "{detail}"
        );
        assert!(world.call_of(ticket).is_none());
        // On the error report, with why: the next runs plan it again.
        let entry = world.error_of(ticket).await;
        assert!(
            entry.to_string().contains("gave up after 5 deliveries"),
            "{entry}"
        );
    }

    // The billing system is back. The next run lists only what changed within the window
    // before the watermark (the later ticket); the early one is behind it, and is read again by
    // id because it is on the error report. Both import, once each.
    world.billing.clear_faults();
    let (planned, report) = world.import_now().await;
    assert_eq!(planned["failingReadAgain"], 1, "{planned}");
    assert_eq!(planned["jobsSent"], 2, "{planned}");
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    for ticket in [early, later] {
        assert_eq!(
            report.outcome("ticket", &ticket.to_string()),
            "created",
            "{}",
            report.0
        );
        assert_eq!(world.call_of(ticket).unwrap().account_id, "A-1001");
    }
    let on_report = world.tickets_on_report().await;
    assert!(on_report.is_empty(), "{on_report:?}");

    // Off the report: the run after reads nothing again and writes nothing.
    let writes = world.billing_call_writes();
    let (planned, _) = world.import_now().await;
    assert_eq!(planned["failingReadAgain"], 0, "{planned}");
    assert_eq!(planned["jobsSent"], 0, "{planned}");
    assert_eq!(world.billing_call_writes(), writes);
    assert_eq!(world.imported_calls().len(), 2);
}
