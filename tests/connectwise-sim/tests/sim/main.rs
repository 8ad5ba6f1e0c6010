//! Integration tests of the ConnectWise simulator over real HTTP, with reqwest as the client (the cwsync
//! client is deliberately not used: the simulator must behave like ConnectWise for any client).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod callbacks;
mod common;
mod control;
mod documents;
mod export;
mod invoicing;
mod knobs;
mod listing;
mod paging;
mod realism;
mod schema;
mod tickets;
mod writes;
