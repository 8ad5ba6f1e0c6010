//! What the mapping says about one billing record: the problems that stop it from being written
//! ([`RecordProblem`]) and the notes on what was made of its values ([`Noted`]). Shared by every
//! entity (customers and the daily export).

use serde::Serialize;

/// A value of one billing record that ConnectWise would refuse (or that cannot be mapped): which
/// record, which field, and what is wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{entity} {record_id}: {field}: {message}")]
pub struct RecordProblem {
    /// The entity: one of [`crate::customers::entity`] or [`crate::export::entity`].
    pub entity: &'static str,
    /// The billing record's id.
    pub record_id: String,
    /// The billing field, as in the contract (`billingAddress.state`, `email`).
    pub field: String,
    /// What is wrong (`unknown state "Narnia": not a ConnectWise state code or name`).
    pub message: String,
}

/// A record as it should be in ConnectWise, with notes on what was made of the billing values on
/// the way (`name: control characters replaced, spaces trimmed`, `phone: extension 23 dropped: …`)
/// for the record's line in the run report. Notes are not problems: the record is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Noted<T> {
    /// The record.
    pub value: T,
    /// What was made of its values, one note per field (`field: what`).
    pub notes: Vec<String>,
}
