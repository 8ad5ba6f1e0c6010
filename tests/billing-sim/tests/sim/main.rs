//! Integration tests of the billing simulator over real HTTP, with plain reqwest as the client
//! (the cwsync client is deliberately not used: the simulator must keep the contract for any
//! client).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch;
mod bin;
mod common;
mod contract;
mod documents;
mod export;
mod fixture;
mod knobs;
mod service_calls;
