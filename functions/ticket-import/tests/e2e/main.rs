//! End-to-end: the ticket import over real HTTP against the ConnectWise and billing simulators,
//! after the customer sync linked the accounts' companies, with its state in DynamoDB on moto (in
//! memory when moto is not installed, outside CI) and its fan-out delivered as SQS delivers it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod controls;
mod errors;
mod import;
mod moving;
mod overlap;
mod projects;
mod realtime;
mod resilience;
