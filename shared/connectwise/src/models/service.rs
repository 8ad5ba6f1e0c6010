//! Service tickets and their notes.
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

/// A service or project ticket (`/service/tickets`). Required on create: `summary` and `company`.
/// `recordType` tells service tickets from project tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// One of: ProjectIssue, ProjectTicket, ServiceTicket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_role: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone_extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email_address: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Reference>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub required_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub budget_hours: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_type: Option<String>,
    /// One of: Low, Medium, High.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// One of: Low, Medium, High.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_x_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge_base_category_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge_base_sub_category_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_all_clients_portal_view: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_updated_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_email_contact_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_email_resource_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_email_cc_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_email_cc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_internal_analysis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_description_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email_lookup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_notifications: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_callback: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub actual_hours: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub estimated_expense_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub estimated_expense_revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub estimated_product_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub estimated_product_revenue: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub estimated_time_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub estimated_time_revenue: Option<Decimal>,
    /// One of: ActualRates, FixedFee, NotToExceed, OverrideRate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub billing_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub hourly_rate: Option<Decimal>,
    /// One of: ActualRates, FixedFee, NotToExceed, OverrideRate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_billing_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sub_billing_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_date_accepted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_resolved: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_resplan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_responded: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub res_plan_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond_minutes: Option<i64>,
    #[serde(
        rename = "respondByGoalUTC",
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub respond_by_goal_utc: Option<OffsetDateTime>,
    #[serde(
        rename = "resplanGoalUTC",
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub resplan_goal_utc: Option<OffsetDateTime>,
    #[serde(
        rename = "resolutionGoalUTC",
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub resolution_goal_utc: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_last_update_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_in_sla: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge_base_link_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_ticket_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_child_ticket: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_merged_child_ticket_flag: Option<bool>,
    /// One of: Activity, ProjectIssue, KnowledgeBaseArticle, ProjectTicket, ServiceTicket, Time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge_base_link_type: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_time: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_expenses: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_products: Option<String>,
    /// One of: Ticket, Phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predecessor_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predecessor_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predecessor_closed_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_nonworking_days_flag: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub estimated_start_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_guid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_for_change_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_parent_ticket: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrator_tags: Option<Vec<String>>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(
        rename = "escalationStartDateUTC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub escalation_start_date_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_level: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_before_waiting: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_skipped_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resplan_skipped_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub responded_hours: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub resplan_hours: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resplan_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub resolution_hours: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_waiting: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Ticket {
    const PATH: &'static str = "/service/tickets";
}

/// A note on a ticket (`/service/tickets/{id}/notes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceNote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_description_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_analysis_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_updated_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_notifications: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub sentiment_score: Option<Decimal>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl ServiceNote {
    /// The collection of notes of one ticket.
    pub fn path(ticket_id: i64) -> String {
        format!("/service/tickets/{ticket_id}/notes")
    }
}
