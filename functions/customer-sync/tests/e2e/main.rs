//! End-to-end: the customer-sync function over real HTTP against the ConnectWise and billing
//! simulators, with its state in DynamoDB on moto (in memory when moto is not installed, outside
//! CI), and its fan-out delivered as SQS delivers it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod concurrency;
mod console;
mod errors;
mod filters;
mod first_sync;
mod hostile;
mod lambda;
mod matching;
mod pull;
mod sqs;
mod sync;
mod tenants;
mod unchanged;
mod write_back;
