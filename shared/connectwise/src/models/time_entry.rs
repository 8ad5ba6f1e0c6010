//! Time entries (the ConnectWise `time` module).
//!
//! Plain data shaped like the API (see `models` for the conventions); no I/O and no validation.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Resource,
    common::{CustomFieldValue, Info, Reference},
    datetime, money,
};

/// Time worked by a member, charged to a ticket, company, activity or charge code
/// (`/time/entries`). Required on create: `timeStart`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeEntry {
    pub id: Option<i64>,
    pub company: Option<Reference>,
    pub company_type: Option<String>,
    pub charge_to_id: Option<i64>,
    /// One of: Company, ServiceTicket, ProjectTicket, ChargeCode, Activity.
    pub charge_to_type: Option<String>,
    pub member: Option<Reference>,
    pub location_id: Option<i64>,
    pub business_unit_id: Option<i64>,
    pub business_group_desc: Option<String>,
    pub location: Option<Reference>,
    pub department: Option<Reference>,
    pub work_type: Option<Reference>,
    pub work_role: Option<Reference>,
    pub agreement: Option<Reference>,
    pub agreement_type: Option<String>,
    pub activity: Option<Reference>,
    pub opportunity_recid: Option<i64>,
    pub project_activity: Option<String>,
    pub territory: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub time_start: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub time_end: Option<OffsetDateTime>,
    #[serde(default, with = "money::opt")]
    pub hours_deduct: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub actual_hours: Option<Decimal>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub billable_option: Option<String>,
    pub notes: Option<String>,
    pub internal_notes: Option<String>,
    pub add_to_detail_description_flag: Option<bool>,
    pub add_to_internal_analysis_flag: Option<bool>,
    pub add_to_resolution_flag: Option<bool>,
    pub email_resource_flag: Option<bool>,
    pub email_contact_flag: Option<bool>,
    pub email_cc_flag: Option<bool>,
    pub email_cc: Option<String>,
    #[serde(default, with = "money::opt")]
    pub hours_billed: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub invoice_hours: Option<Decimal>,
    /// The spec types this as a string and a real server sent `"25.00"`; read as either, written as a number.
    #[serde(default, with = "money::opt")]
    pub hourly_cost: Option<Decimal>,
    pub entered_by: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub date_entered: Option<OffsetDateTime>,
    pub invoice: Option<Reference>,
    pub mobile_guid: Option<String>,
    #[serde(default, with = "money::opt")]
    pub hourly_rate: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub overage_rate: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub agreement_hours: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub agreement_amount: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub agreement_adjustment: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub adjustment: Option<Decimal>,
    pub invoice_ready: Option<i64>,
    pub time_sheet: Option<Reference>,
    /// One of: Open, Rejected, PendingApproval, ErrorsCorrected, PendingProjectApproval, ApprovedByTierOne, RejectBySecondTier, ApprovedByTierTwo, ReadyToBill, Billed, WrittenOff, BilledAgreement.
    pub status: Option<String>,
    pub ticket: Option<Reference>,
    pub project: Option<Reference>,
    pub phase: Option<Reference>,
    pub ticket_board: Option<String>,
    pub ticket_status: Option<String>,
    pub ticket_type: Option<String>,
    pub ticket_sub_type: Option<String>,
    pub invoice_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub extended_invoice_amount: Option<Decimal>,
    pub location_name: Option<String>,
    pub tax_code: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for TimeEntry {
    const PATH: &'static str = "/time/entries";
}
