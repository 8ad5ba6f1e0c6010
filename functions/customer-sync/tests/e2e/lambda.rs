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
