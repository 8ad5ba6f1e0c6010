//! The ConnectWise reference data a customer sync resolves names against (states, countries,
//! company types and statuses, communication types), and the tenant's currency mapping laid over
//! it. It is cached per tenant and run by [`cwsync_sync::Connections::reference`].

use std::sync::Arc;

use cwsync_connectwise::models::{
    CommunicationType, CompanyStatus, CompanyType, Country, Currency, Resource, State,
};
use cwsync_connectwise::{Client, CwError, Query};
use cwsync_mapping::customers::CustomerReference;
use cwsync_mapping::settings::{CwRef, TenantSettings};

use crate::SyncError;

/// Reads the reference data a customer sync resolves names against.
pub async fn read_reference(cw: &Client) -> Result<CustomerReference, SyncError> {
    let query = Query::new();
    let context = "reading ConnectWise reference data";
    let wrap = |error: CwError| SyncError::connectwise(context, error);
    // No currencies: the ConnectWise API has no currency endpoint (not in the 2026.4 API), so
    // companies keep ConnectWise's default currency and an account's currency is not applied.
    let (states, countries, company_types, company_statuses, communication_types) = tokio::try_join!(
        async {
            cw.list_all::<State>(State::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<Country>(Country::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<CompanyType>(CompanyType::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<CompanyStatus>(CompanyStatus::PATH, &query)
                .await
                .map_err(wrap)
        },
        async {
            cw.list_all::<CommunicationType>(CommunicationType::PATH, &query)
                .await
                .map_err(wrap)
        },
    )?;
    Ok(CustomerReference {
        states,
        countries,
        company_types,
        company_statuses,
        currencies: Vec::new(),
        communication_types,
    })
}

/// `reference` with the tenant's currency mapping (`mappings.currencies`, code → ConnectWise
/// id) as its currencies: ConnectWise has no currency list to read.
pub fn with_currencies(
    reference: Arc<CustomerReference>,
    settings: &TenantSettings,
) -> Arc<CustomerReference> {
    let currencies: Vec<Currency> = settings
        .mappings
        .currencies
        .iter()
        .filter_map(|(code, target)| match target {
            CwRef::Id(id) => Some(Currency {
                id: Some(*id),
                currency_code: Some(code.clone()),
                ..Currency::default()
            }),
            CwRef::Name(_) => None,
        })
        .collect();
    if currencies.is_empty() {
        return reference;
    }
    let mut with = (*reference).clone();
    with.currencies = currencies;
    Arc::new(with)
}
