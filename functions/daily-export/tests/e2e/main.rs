//! End-to-end: the daily export over real HTTP against the ConnectWise and billing simulators,
//! after the customer sync made the companies, with its state in DynamoDB on moto (in memory when
//! moto is not installed, outside CI) and its fan-out delivered as SQS delivers it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod controls;
mod documents;
mod documents_projects;
mod documents_pull;
mod export;
mod resilience;
mod stages;
mod unmapped;
