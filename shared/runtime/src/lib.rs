//! What every cwsync Lambda function shares: telemetry set-up, parsing of the events a user or a
//! schedule sends, and the mapping of handler errors to Lambda diagnostics.
//!
//! This crate must never log or return a secret: events are parsed into typed values and only
//! their shape is reported when they are malformed.

pub mod events;
pub mod telemetry;

pub use events::{EventError, HealthReport, dispatch, parse_event};
