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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_to_id: Option<i64>,
    /// One of: Company, ServiceTicket, ProjectTicket, ChargeCode, Activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_to_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_unit_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_group_desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_role: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity_recid: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_activity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub time_start: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub time_end: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub hours_deduct: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub actual_hours: Option<Decimal>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_option: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_detail_description_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_internal_analysis_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_to_resolution_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_resource_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_contact_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_cc_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_cc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub hours_billed: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub invoice_hours: Option<Decimal>,
    /// The spec types this as a string and a real server sent `"25.00"`; read as either, written as a number.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub hourly_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered_by: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub date_entered: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_guid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub hourly_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub overage_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub agreement_hours: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub agreement_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub agreement_adjustment: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub adjustment: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_ready: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_sheet: Option<Reference>,
    /// One of: Open, Rejected, PendingApproval, ErrorsCorrected, PendingProjectApproval, ApprovedByTierOne, RejectBySecondTier, ApprovedByTierTwo, ReadyToBill, Billed, WrittenOff, BilledAgreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_board: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_sub_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub extended_invoice_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<Reference>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for TimeEntry {
    const PATH: &'static str = "/time/entries";
}
