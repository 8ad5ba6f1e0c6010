//! The real `customer-sync` binary, started the way Lambda starts it, answers events.

#[tokio::test]
async fn the_binary_answers_health_and_refuses_unknown_actions_under_the_lambda_runtime() {
    let result = cwsync_lambda_harness::check_function_contract(
        env!("CARGO_BIN_EXE_customer-sync"),
        "customer-sync",
    )
    .await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn the_binary_asks_the_runtime_api_for_an_event_once_started_and_exits_first_when_unconfigured()
 {
    // What the cold-start bench times (tests/benches/benches/cold_start.rs), here not timed.
    let binary = env!("CARGO_BIN_EXE_customer-sync");
    let env = cwsync_lambda_harness::FUNCTION_ENV;
    let wait = cwsync_lambda_harness::DEFAULT_WAIT;
    let polled =
        cwsync_lambda_harness::time_to_first_poll(binary, "customer-sync", &env, wait).await;
    assert!(polled.is_ok(), "{polled:?}");
    let unconfigured =
        cwsync_lambda_harness::time_to_first_poll(binary, "customer-sync", &[], wait).await;
    assert!(
        matches!(
            unconfigured,
            Err(cwsync_lambda_harness::HarnessError::ExitedBeforePolling { code: Some(c), .. })
                if c != 0
        ),
        "{unconfigured:?}"
    );
}

/// The binary on the stack's AWS parts (moto): one warm instance stores a tenant's settings,
/// plans its run (reading its secret from Secrets Manager, sending the jobs to SQS), syncs the
/// accounts from the SQS batches it is handed, and reports the run, as in production.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_warm_instance_of_the_binary_syncs_a_tenant_through_sqs_on_the_stacks_aws_parts() {
    use cwsync_lambda_harness::{DEFAULT_WAIT, Instance, Outcome};
    use cwsync_test_support::binary_stack::BinaryStack;
    use serde_json::json;

    let Some(moto) = cwsync_aws_harness::moto() else {
        return;
    };
    let (cw, billing) = crate::support::simulators_with_accounts(12).await;
    let stack = BinaryStack::create(moto, "binary").await;
    let tenant = cwsync_aws_harness::unique_name("binary");
    stack
        .put_secret(&tenant, &cwsync_test_support::secret(&cw, &billing))
        .await;
    let mut instance = Instance::start(
        env!("CARGO_BIN_EXE_customer-sync"),
        "customer-sync",
        &stack.env(),
        None,
    )
    .await
    .unwrap();
    let mut answer = async |event: serde_json::Value| match instance
        .invoke(event.clone(), DEFAULT_WAIT)
        .await
        .unwrap()
    {
        Outcome::Response(answer) => answer,
        other => panic!("{event}: {other:?}"),
    };

    let settings = cwsync_test_support::put_settings_event(&tenant, &json!({}), json!({}));
    answer(settings).await;
    let planned = answer(json!({"action": "sync-tenant", "tenant": tenant})).await;
    assert_eq!(planned["jobsSent"], 12, "{planned}");
    let delivered = stack
        .deliver(&stack.customer_queue, &mut instance, 10, 20, DEFAULT_WAIT)
        .await
        .unwrap();
    assert_eq!(delivered.deliveries, 12, "{delivered:?}");
    assert_eq!(delivered.reported, 0, "{delivered:?}");
    let report = crate::support::Report(
        match instance
            .invoke(json!({"action": "report", "tenant": tenant}), DEFAULT_WAIT)
            .await
            .unwrap()
        {
            Outcome::Response(answer) => answer,
            other => panic!("report: {other:?}"),
        },
    );
    assert_eq!(report.status(), "succeeded", "{}", report.0);
    assert_eq!(report.count("company", "created"), 12, "{}", report.0);
    assert_eq!(cw.records("company/companies").len(), 12);
    // The same process answered every event, and its memory can be read.
    let memory = instance.memory().unwrap();
    assert!(
        memory.peak_kib >= memory.rss_kib && memory.rss_kib > 0,
        "{memory:?}"
    );
}
