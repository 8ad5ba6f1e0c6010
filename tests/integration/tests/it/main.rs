#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End-to-end tests of the ConnectWise client against the ConnectWise simulator, over real HTTP on
//! loopback. One binary, so the suite links once; each module covers one area of the client.

mod billing_documents;
mod callbacks;
mod condition_properties;
mod connect;
mod errors;
mod export;
mod hostile_strings;
mod listing;
mod rate_limit;
mod schema;
mod shared_rate;
mod support;
mod third_party;
mod writes;
