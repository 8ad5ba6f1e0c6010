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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: Option<i64>,
    pub summary: Option<String>,
    /// One of: ProjectIssue, ProjectTicket, ServiceTicket.
    pub record_type: Option<String>,
    pub board: Option<Reference>,
    pub status: Option<Reference>,
    pub work_role: Option<Reference>,
    pub work_type: Option<Reference>,
    pub company: Option<Reference>,
    pub site: Option<Reference>,
    pub site_name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state_identifier: Option<String>,
    pub zip: Option<String>,
    pub country: Option<Reference>,
    pub contact: Option<Reference>,
    pub contact_name: Option<String>,
    pub contact_phone_number: Option<String>,
    pub contact_phone_extension: Option<String>,
    pub contact_email_address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    pub sub_type: Option<Reference>,
    pub item: Option<Reference>,
    pub team: Option<Reference>,
    pub owner: Option<Reference>,
    pub priority: Option<Reference>,
    pub service_location: Option<Reference>,
    pub source: Option<Reference>,
    #[serde(default, with = "datetime::opt")]
    pub required_date: Option<OffsetDateTime>,
    #[serde(default, with = "money::opt")]
    pub budget_hours: Option<Decimal>,
    pub opportunity: Option<Reference>,
    pub agreement: Option<Reference>,
    pub agreement_type: Option<String>,
    /// One of: Low, Medium, High.
    pub severity: Option<String>,
    /// One of: Low, Medium, High.
    pub impact: Option<String>,
    pub external_x_ref: Option<String>,
    pub po_number: Option<String>,
    pub knowledge_base_category_id: Option<i64>,
    pub knowledge_base_sub_category_id: Option<i64>,
    pub allow_all_clients_portal_view: Option<bool>,
    pub customer_updated_flag: Option<bool>,
    pub automatic_email_contact_flag: Option<bool>,
    pub automatic_email_resource_flag: Option<bool>,
    pub automatic_email_cc_flag: Option<bool>,
    pub automatic_email_cc: Option<String>,
    pub initial_description: Option<String>,
    pub initial_internal_analysis: Option<String>,
    pub initial_resolution: Option<String>,
    pub initial_description_from: Option<String>,
    pub contact_email_lookup: Option<String>,
    pub process_notifications: Option<bool>,
    pub skip_callback: Option<bool>,
    pub closed_date: Option<String>,
    pub closed_by: Option<String>,
    pub closed_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub actual_hours: Option<Decimal>,
    pub approved: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub estimated_expense_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_expense_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_product_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_product_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_time_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_time_revenue: Option<Decimal>,
    /// One of: ActualRates, FixedFee, NotToExceed, OverrideRate.
    pub billing_method: Option<String>,
    #[serde(default, with = "money::opt")]
    pub billing_amount: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub hourly_rate: Option<Decimal>,
    /// One of: ActualRates, FixedFee, NotToExceed, OverrideRate.
    pub sub_billing_method: Option<String>,
    #[serde(default, with = "money::opt")]
    pub sub_billing_amount: Option<Decimal>,
    pub sub_date_accepted: Option<String>,
    pub date_resolved: Option<String>,
    pub date_resplan: Option<String>,
    pub date_responded: Option<String>,
    pub resolve_minutes: Option<i64>,
    pub res_plan_minutes: Option<i64>,
    pub respond_minutes: Option<i64>,
    #[serde(rename = "respondByGoalUTC", default, with = "datetime::opt")]
    pub respond_by_goal_utc: Option<OffsetDateTime>,
    #[serde(rename = "resplanGoalUTC", default, with = "datetime::opt")]
    pub resplan_goal_utc: Option<OffsetDateTime>,
    #[serde(rename = "resolutionGoalUTC", default, with = "datetime::opt")]
    pub resolution_goal_utc: Option<OffsetDateTime>,
    pub escalation_last_update_minutes: Option<i64>,
    pub is_in_sla: Option<bool>,
    pub knowledge_base_link_id: Option<i64>,
    pub resources: Option<String>,
    pub parent_ticket_id: Option<i64>,
    pub has_child_ticket: Option<bool>,
    pub has_merged_child_ticket_flag: Option<bool>,
    /// One of: Activity, ProjectIssue, KnowledgeBaseArticle, ProjectTicket, ServiceTicket, Time.
    pub knowledge_base_link_type: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_time: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_expenses: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_products: Option<String>,
    /// One of: Ticket, Phase.
    pub predecessor_type: Option<String>,
    pub predecessor_id: Option<i64>,
    pub predecessor_closed_flag: Option<bool>,
    pub lag_days: Option<i64>,
    pub lag_nonworking_days_flag: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub estimated_start_date: Option<OffsetDateTime>,
    pub duration: Option<i64>,
    pub location: Option<Reference>,
    pub department: Option<Reference>,
    pub mobile_guid: Option<String>,
    pub sla: Option<Reference>,
    pub sla_status: Option<String>,
    pub request_for_change_flag: Option<bool>,
    pub currency: Option<Reference>,
    pub merged_parent_ticket: Option<Reference>,
    pub integrator_tags: Option<Vec<String>>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    #[serde(rename = "escalationStartDateUTC")]
    pub escalation_start_date_utc: Option<String>,
    pub escalation_level: Option<i64>,
    pub minutes_before_waiting: Option<i64>,
    pub responded_skipped_minutes: Option<i64>,
    pub resplan_skipped_minutes: Option<i64>,
    #[serde(default, with = "money::opt")]
    pub responded_hours: Option<Decimal>,
    pub responded_by: Option<String>,
    #[serde(default, with = "money::opt")]
    pub resplan_hours: Option<Decimal>,
    pub resplan_by: Option<String>,
    #[serde(default, with = "money::opt")]
    pub resolution_hours: Option<Decimal>,
    pub resolved_by: Option<String>,
    pub minutes_waiting: Option<i64>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Ticket {
    const PATH: &'static str = "/service/tickets";
}

/// A note on a ticket (`/service/tickets/{id}/notes`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceNote {
    pub id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub text: Option<String>,
    pub detail_description_flag: Option<bool>,
    pub internal_analysis_flag: Option<bool>,
    pub resolution_flag: Option<bool>,
    pub issue_flag: Option<bool>,
    pub member: Option<Reference>,
    pub contact: Option<Reference>,
    pub customer_updated_flag: Option<bool>,
    pub process_notifications: Option<bool>,
    pub date_created: Option<String>,
    pub created_by: Option<String>,
    pub internal_flag: Option<bool>,
    pub external_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub sentiment_score: Option<Decimal>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl ServiceNote {
    /// The collection of notes of one ticket.
    pub fn path(ticket_id: i64) -> String {
        format!("/service/tickets/{ticket_id}/notes")
    }
}
