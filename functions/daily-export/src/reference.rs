//! The ConnectWise reference data one export run resolves names against
//! ([`ExportReference`]): read once per tenant and run (eight reads, in pages of 1,000), and only
//! when something is to be written.

use cwsync_connectwise::models::{
    AgreementType, Category, ProductType, Reference, Resource, SubCategory, UnitOfMeasure,
};
use cwsync_connectwise::{Client, Query};
use cwsync_mapping::export::ExportReference;
use cwsync_sync::SyncError;
use serde::de::DeserializeOwned;

/// Where ConnectWise lists billing cycles (no typed model: read as references).
const BILLING_CYCLES: &str = "/finance/billingCycles";

/// Reads the export's reference data. Locations and departments are not in the API subset
/// cwsync is written against: they are left empty, so the tenant's settings name them by id
/// (ConnectWise checks the id) and a name is a clear problem.
pub async fn read_reference(cw: &Client) -> Result<ExportReference, SyncError> {
    let (categories, subcategories, product_types, units_of_measure) = tokio::try_join!(
        all::<Category>(cw, Category::PATH, &[]),
        all::<SubCategory>(cw, SubCategory::PATH, &[]),
        all::<ProductType>(cw, ProductType::PATH, &[]),
        all::<UnitOfMeasure>(cw, UnitOfMeasure::PATH, &[]),
    )?;
    let (agreement_types, billing_cycles) = tokio::try_join!(
        all::<AgreementType>(cw, AgreementType::PATH, &[]),
        all::<Reference>(cw, BILLING_CYCLES, &["id", "identifier", "name"]),
    )?;
    Ok(ExportReference {
        categories,
        subcategories,
        product_types,
        units_of_measure,
        agreement_types,
        billing_cycles,
        locations: Vec::new(),
        departments: Vec::new(),
    })
}

async fn all<T: DeserializeOwned>(
    cw: &Client,
    path: &'static str,
    fields: &[&'static str],
) -> Result<Vec<T>, SyncError> {
    let mut query = Query::new().page_size(1000);
    if !fields.is_empty() {
        query = query.fields(fields.iter().copied());
    }
    cw.list_all::<T>(path, &query)
        .await
        .map_err(|e| SyncError::connectwise(format!("reading the reference data {path}"), e))
}
