//! Customer sync, the pure part: billing accounts, sites and contacts → the ConnectWise companies,
//! sites and contacts they should be; matching of unlinked records to existing ConnectWise
//! records (never a duplicate); the changed fields of linked records; suggestions; and the
//! fields that flow back to the billing system.
//!
//! No I/O: the function reads ConnectWise and the billing system, hands the records here, and
//! carries out what comes back. Every problem names its record and field ([`RecordProblem`]).

mod company;
mod contacts;
mod fields;
#[cfg(test)]
mod fixtures;
mod matching;
mod phones;
mod pull;
mod reference;
mod sites;
mod suggestions;

pub use crate::fingerprint::fingerprint;
pub use crate::record::{Noted, RecordProblem};
pub use company::{
    CompanyPlan, MAX_COMPANY_NAME_CHARS, MAX_IDENTIFIER_CHARS, MAX_WEBSITE_CHARS, RelatedCompanies,
    desired_company, desired_company_noted, parent_cycle, plan_company_update,
};
pub use contacts::{
    MAX_COMMUNICATION_VALUE_CHARS, communication_type_for, desired_contact, desired_contact_noted,
    match_contact, plan_contact_update,
};
pub use matching::{CompanyMatch, match_company};
pub use phones::{PhoneNumber, split_extension};
pub use pull::{plan_account_pull, plan_contact_pull, plan_site_pull};
pub use reference::CustomerReference;
pub use sites::{
    MAX_SITE_NAME_CHARS, desired_site, desired_site_noted, match_site, plan_site_update,
};
pub use suggestions::{CODE_MATCH_SCORE, MIN_SCORE, Suggestion, suggest_companies};

/// Entity names used in problems, run logs, links and the error ledger.
pub mod entity {
    /// A billing account ↔ a ConnectWise company.
    pub const COMPANY: &str = "company";
    /// A billing site ↔ a ConnectWise company site.
    pub const SITE: &str = "site";
    /// A billing contact ↔ a ConnectWise contact.
    pub const CONTACT: &str = "contact";
}
