//! Service calls: what the ticket import makes of a finished ConnectWise ticket (labor lines from
//! its time entries, parts from its products, on hold when a placeholder item stands in), and
//! the billing calls flagged to become ConnectWise tickets ("moving tickets").
//!
//! Three rules of the contract keep two workers, retries and crashes from duplicating or losing
//! anything, and the types carry them:
//! - a call created from a ticket carries the ticket's reference ([`NewServiceCall::external_reference`]),
//!   and a second create with the same reference is refused naming the existing call;
//! - every change of a call moves its [`ServiceCall::version`], and an update names the version
//!   it was planned on (`If-Match`), so a stale plan is refused instead of overwriting;
//! - an [`ServiceCallStatus::Invoiced`] call refuses every change.

use cwsync_http::amount;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a call is in its life. Only the billing system invoices a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServiceCallStatus {
    /// Work goes on; the call may change.
    Open,
    /// The work is done; the call may still change until it is invoiced.
    Completed,
    /// Billed: the call refuses every change.
    Invoiced,
}

/// One line of labor: a ConnectWise time entry.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaborLine {
    /// What the line came from (the ConnectWise time entry's reference), so a re-run matches
    /// lines to entries instead of adding them again.
    pub external_reference: Option<String>,
    /// The technician who did the work.
    pub technician_id: String,
    /// Hours worked: more than 0, at most 24.
    #[serde(with = "amount")]
    pub hours: Decimal,
    /// Whether the customer is charged for it.
    pub billable: bool,
    /// The kind of work (`Remote Support`, `Onsite`), free text.
    pub work_type: Option<String>,
    /// What was done.
    pub notes: Option<String>,
    /// When the work started.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it ended (not before it started).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
}

/// One part: a ConnectWise ticket product.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// What the part came from (the ConnectWise product's reference).
    pub external_reference: Option<String>,
    /// The item: the one with the product's SKU, else its type's placeholder item.
    pub item_id: String,
    /// How many: more than 0.
    #[serde(with = "amount")]
    pub quantity: Decimal,
    /// The price of one unit, when it differs from the item's.
    #[serde(default, with = "amount::opt")]
    pub price: Option<Decimal>,
    /// The product's description (for a placeholder, what the product really was).
    pub description: Option<String>,
}

/// A note on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallNote {
    /// The text.
    pub text: String,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a billing call flagged for ConnectWise asks its ticket to be: names the tenant's
/// mappings turn into a ConnectWise board, status, type and priority.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectWiseTicketRequest {
    /// The board (`Service Desk`).
    pub board: Option<String>,
    /// The status on that board (`New`).
    pub status: Option<String>,
    /// The ticket type (`Incident`).
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    /// The priority (`Priority 3 - Normal Response`).
    pub priority: Option<String>,
}

/// A service call of the billing system.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCall {
    /// The billing system's immutable id of the call.
    pub id: String,
    /// The call number users see.
    pub number: String,
    /// The account the work was for (locked once the call exists).
    pub account_id: String,
    /// The contract it is billed under, when any.
    pub contract_id: Option<String>,
    /// The ConnectWise ticket it belongs to (unique among calls): set when the call is created
    /// from a ticket, or when a flagged call's ticket was created.
    pub external_reference: Option<String>,
    /// What the call is about (the ticket's summary).
    pub description: String,
    /// Open, completed or invoiced.
    pub status: ServiceCallStatus,
    /// Whether the call is on hold (held calls are not invoiced).
    #[serde(default)]
    pub on_hold: bool,
    /// Why it is on hold.
    pub hold_reason: Option<String>,
    /// Notes, oldest first.
    #[serde(default)]
    pub notes: Vec<CallNote>,
    /// Labor lines.
    #[serde(default)]
    pub labor: Vec<LaborLine>,
    /// Parts.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Present when the call is flagged to become a ConnectWise ticket.
    pub connect_wise: Option<ConnectWiseTicketRequest>,
    /// Moves on every change; an update names the version it was planned on.
    pub version: u64,
    /// When the call last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl ServiceCall {
    /// Whether the call may still change (it is not invoiced).
    pub fn is_changeable(&self) -> bool {
        self.status != ServiceCallStatus::Invoiced
    }

    /// Whether the call waits to become a ConnectWise ticket: flagged, open, not on hold and
    /// not yet linked to a ticket (what `flaggedForConnectWise=true` lists).
    pub fn awaits_connect_wise_ticket(&self) -> bool {
        self.connect_wise.is_some()
            && self.status == ServiceCallStatus::Open
            && !self.on_hold
            && self.external_reference.is_none()
    }
}

/// The body of `POST /v1/service-calls`: a call made from a ConnectWise ticket.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewServiceCall {
    /// The ticket's reference: the create is idempotent on it (a second create with the same
    /// reference is refused naming the existing call).
    pub external_reference: String,
    /// The account (from the ticket's company through the customer links).
    pub account_id: String,
    /// The contract (from the time entries' agreement through the agreement links).
    pub contract_id: Option<String>,
    /// The ticket's summary.
    pub description: String,
    /// `Open` or `Completed` (never `Invoiced`).
    pub status: ServiceCallStatus,
    /// Put on hold at once (a placeholder part, a fixed-fee project to review).
    #[serde(default)]
    pub on_hold: bool,
    /// Why it is on hold; required when `on_hold`.
    pub hold_reason: Option<String>,
    /// Notes to add.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Labor lines.
    #[serde(default)]
    pub labor: Vec<LaborLine>,
    /// Parts.
    #[serde(default)]
    pub parts: Vec<Part>,
}

/// The body of `PUT /v1/service-calls/{id}` (sent with `If-Match: "<version>"`): the new
/// contract, description, status, hold, labor and parts, replacing the old ones; the notes are
/// added. The account and the external reference never change.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCallUpdate {
    /// The contract, or none.
    pub contract_id: Option<String>,
    /// What the call is about.
    pub description: String,
    /// `Open` or `Completed`.
    pub status: ServiceCallStatus,
    /// On hold or not.
    #[serde(default)]
    pub on_hold: bool,
    /// Why it is on hold; required when `on_hold`.
    pub hold_reason: Option<String>,
    /// Notes to add (a note equal to the call's last one is not added again).
    #[serde(default)]
    pub add_notes: Vec<String>,
    /// All labor lines.
    #[serde(default)]
    pub labor: Vec<LaborLine>,
    /// All parts.
    #[serde(default)]
    pub parts: Vec<Part>,
}

/// The body of `POST /v1/service-calls/{id}/hold`: puts a call on hold with a reason and a note,
/// and links it to the ConnectWise ticket made for it. Repeating it changes nothing.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldRequest {
    /// Why (`moved to ConnectWise`).
    pub reason: String,
    /// A note to add (`ConnectWise ticket #123`); not added again when it is the last note.
    pub note: Option<String>,
    /// The ConnectWise ticket's reference, when the hold records one (unique among calls).
    pub external_reference: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_reads_its_lines_with_amounts_as_strings_or_numbers() {
        let call: ServiceCall = serde_json::from_value(json!({
            "id": "SC-1", "number": "1001", "accountId": "A-1", "description": "Jam",
            "status": "Open", "version": 3, "updatedAt": "2026-11-02T10:00:00Z",
            "labor": [{"technicianId": "T-1", "hours": "1.25", "billable": true}],
            "parts": [{"itemId": "I-1", "quantity": 2}],
            "connectWise": {"board": "Service Desk", "type": "Incident"}
        }))
        .unwrap();
        assert_eq!(call.labor[0].hours, Decimal::new(125, 2));
        assert_eq!(call.parts[0].quantity, Decimal::from(2));
        assert!(call.awaits_connect_wise_ticket());
        assert!(call.is_changeable());
        let back = serde_json::to_value(&call).unwrap();
        assert_eq!(back["connectWise"]["type"], "Incident");
        assert_eq!(back["status"], "Open");
    }

    #[test]
    fn an_unknown_status_is_refused_naming_the_field() {
        let error = serde_path_to_error::deserialize::<_, ServiceCall>(json!({
            "id": "SC-1", "number": "1001", "accountId": "A-1", "description": "Jam",
            "status": "Paid", "version": 3, "updatedAt": "2026-11-02T10:00:00Z"
        }))
        .unwrap_err();
        assert_eq!(error.path().to_string(), "status");
    }
}
