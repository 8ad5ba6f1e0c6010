//! The ConnectWise members a job matches people against (a ticket's technician, an order's or a
//! project's sales rep): read with the fields matching needs (identifier, e-mails, whether
//! active), 1,000 a page, all of them or those a condition names.

use cwsync_connectwise::models::{Member, Resource};
use cwsync_connectwise::{Client, Condition, Query};

use crate::SyncError;

/// The member fields matching reads.
pub const MATCH_FIELDS: [&str; 5] = [
    "id",
    "identifier",
    "officeEmail",
    "primaryEmail",
    "inactiveFlag",
];

/// The members (those `filter` names, or all), with [`MATCH_FIELDS`]; `what` names the read in
/// an error (`the owners' members`).
pub async fn read_members(
    cw: &Client,
    filter: Option<Condition>,
    what: &str,
) -> Result<Vec<Member>, SyncError> {
    let mut query = Query::new().fields(MATCH_FIELDS).page_size(1000);
    if let Some(filter) = filter {
        query = query.filter(filter);
    }
    cw.list_all::<Member>(Member::PATH, &query)
        .await
        .map_err(|e| SyncError::connectwise(format!("reading {what}"), e))
}
