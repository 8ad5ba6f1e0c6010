//! What one import run resolves names against ([`TicketReference`]): the billing technicians,
//! items and product types, and the ConnectWise members (their e-mail and identifier), read once
//! per tenant and run (one listing each, paged), and only when a ticket is to be mapped.
//!
//! A malformed billing record is left out and logged: it can't be matched, and the ticket that
//! may need it fails naming the member or SKU it could not find and the record (its id and
//! field), see [`crate::ticket::import_records`].

use cwsync_billing::{BillingClient, ReferenceQuery};
use cwsync_connectwise::Client;
use cwsync_mapping::tickets::TicketReference;
use cwsync_sync::SyncError;
use cwsync_sync::members::read_members;

/// Reads the import's reference data.
pub async fn read_reference(
    cw: &Client,
    billing: &BillingClient,
) -> Result<TicketReference, SyncError> {
    let all = ReferenceQuery::default();
    let members = read_members(cw, None, "the ConnectWise members");
    let technicians = async {
        billing
            .list_technicians(&all)
            .await
            .map_err(|e| SyncError::billing("listing the technicians", e))
    };
    let items = async {
        billing
            .list_items(&all)
            .await
            .map_err(|e| SyncError::billing("listing the items", e))
    };
    let types = async {
        billing
            .list_product_types(&all)
            .await
            .map_err(|e| SyncError::billing("listing the product types", e))
    };
    let (members, technicians, items, product_types) =
        tokio::try_join!(members, technicians, items, types)?;
    for bad in technicians
        .malformed
        .iter()
        .chain(&items.malformed)
        .chain(&product_types.malformed)
    {
        tracing::warn!(record = %bad, "malformed billing record left out of the ticket import");
    }
    Ok(TicketReference {
        malformed_technicians: technicians
            .malformed
            .iter()
            .map(ToString::to_string)
            .collect(),
        malformed_parts: items
            .malformed
            .iter()
            .chain(&product_types.malformed)
            .map(ToString::to_string)
            .collect(),
        technicians: technicians.records,
        members,
        items: items.records,
        product_types: product_types.records,
    })
}
