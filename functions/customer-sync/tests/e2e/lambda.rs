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
