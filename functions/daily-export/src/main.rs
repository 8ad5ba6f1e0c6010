//! Lambda entry point of `daily-export`: telemetry, then the handler under `lambda_runtime`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cwsync_runtime::telemetry::init();
    lambda_runtime::run(lambda_runtime::service_fn(
        cwsync_daily_export::handle_lambda,
    ))
    .await
}
