//! Service tickets and their notes, and the reference data around them: boards with their
//! statuses and types, and priorities.
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

/// A service board (`/service/boards`): where tickets live, with their statuses and types. Required on create: `name`, `location`, `department`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    pub id: Option<i64>,
    /// One of: Ascending, Descending.
    pub all_sort: Option<String>,
    pub auto_assign_limit_amount: Option<i64>,
    pub auto_assign_limit_flag: Option<bool>,
    #[serde(rename = "autoAssignNewECTicketsFlag")]
    pub auto_assign_new_ec_tickets_flag: Option<bool>,
    pub auto_assign_new_portal_tickets_flag: Option<bool>,
    pub auto_assign_new_tickets_flag: Option<bool>,
    pub auto_assign_ticket_owner_flag: Option<bool>,
    pub auto_close_status: Option<Reference>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_expense: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_product: Option<String>,
    pub bill_ticket_separately_flag: Option<bool>,
    pub bill_tickets_after_closed_flag: Option<bool>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_time: Option<String>,
    pub bill_unapproved_time_expense_flag: Option<bool>,
    pub board_icon: Option<Reference>,
    pub closed_loop_all_flag: Option<bool>,
    pub closed_loop_discussions_flag: Option<bool>,
    pub closed_loop_internal_analysis_flag: Option<bool>,
    pub closed_loop_resolution_flag: Option<bool>,
    pub connect_wise_id: Option<String>,
    pub contact_template: Option<Reference>,
    pub department: Option<Reference>,
    pub discussions_locked_flag: Option<bool>,
    pub dispatch_member: Option<Reference>,
    pub duty_manager_member: Option<Reference>,
    pub email_connector_allow_reopen_closed_flag: Option<bool>,
    pub email_connector_never_reopen_by_days_closed_flag: Option<bool>,
    pub email_connector_never_reopen_by_days_flag: Option<bool>,
    pub email_connector_new_ticket_no_match_flag: Option<bool>,
    pub email_connector_reopen_days_closed_limit: Option<i64>,
    pub email_connector_reopen_days_limit: Option<i64>,
    pub email_connector_reopen_resources_flag: Option<bool>,
    pub email_connector_reopen_status: Option<Reference>,
    pub inactive_flag: Option<bool>,
    /// One of: Ascending, Descending.
    pub internal_analysis_sort: Option<String>,
    pub location: Option<Reference>,
    pub mark_first_note_issue_flag: Option<bool>,
    pub name: Option<String>,
    pub notify_email_from: Option<String>,
    pub notify_email_from_name: Option<String>,
    pub oncall_member: Option<Reference>,
    pub override_billing_setup_flag: Option<bool>,
    /// One of: ActualHours, Manual, ClosedPhases, ClosedTickets.
    pub percentage_calculation: Option<String>,
    /// One of: Ascending, Descending.
    pub problem_sort: Option<String>,
    pub project_flag: Option<bool>,
    /// One of: Ascending, Descending.
    pub resolution_sort: Option<String>,
    pub resource_template: Option<Reference>,
    pub restrict_board_by_default_flag: Option<bool>,
    pub send_to_bundled_flag: Option<bool>,
    #[serde(rename = "sendToCCFlag")]
    pub send_to_cc_flag: Option<bool>,
    pub send_to_contact_flag: Option<bool>,
    pub send_to_resource_flag: Option<bool>,
    pub service_manager_member: Option<Reference>,
    pub show_dependencies_flag: Option<bool>,
    pub show_estimates_flag: Option<bool>,
    pub sign_off_template: Option<Reference>,
    pub time_entry_discussion_flag: Option<bool>,
    pub time_entry_internal_analysis_flag: Option<bool>,
    pub time_entry_locked_flag: Option<bool>,
    pub time_entry_resolution_flag: Option<bool>,
    pub use_member_display_name_flag: Option<bool>,
    pub work_role: Option<Reference>,
    pub work_type: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

/// A status of one board (`/service/boards/{id}/statuses`). `closedStatus` marks the statuses that close a ticket; `inactive` hides a status from new tickets. Required on create: `name`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardStatus {
    pub id: Option<i64>,
    pub board: Option<Reference>,
    pub closed_status: Option<bool>,
    pub connect_wise_id: Option<String>,
    pub custom_status_indicator_name: Option<String>,
    pub customer_portal_description: Option<String>,
    pub customer_portal_flag: Option<bool>,
    pub default_flag: Option<bool>,
    pub display_on_board: Option<bool>,
    pub email_template: Option<Reference>,
    /// One of: NotResponded, Responded, ResolutionPlan, Resolved, NoEscalation.
    pub escalation_status: Option<String>,
    pub grand_parent_connect_wise_id: Option<String>,
    pub grand_parent_id: Option<i64>,
    pub inactive: Option<bool>,
    pub name: Option<String>,
    pub parent_connect_wise_id: Option<String>,
    pub parent_id: Option<i64>,
    pub round_robin_catchall: Option<bool>,
    pub save_time_as_note: Option<bool>,
    pub sort_order: Option<i64>,
    pub status_indicator: Option<Reference>,
    pub time_entry_not_allowed: Option<bool>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

/// A ticket type of one board (`/service/boards/{id}/types`). Required on create: `name`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardType {
    pub id: Option<i64>,
    pub board: Option<Reference>,
    /// One of: Reactive, Proactive.
    pub category: Option<String>,
    pub connect_wise_id: Option<String>,
    pub default_flag: Option<bool>,
    pub department: Option<Reference>,
    pub grand_parent_connect_wise_id: Option<String>,
    pub grand_parent_id: Option<i64>,
    pub inactive_flag: Option<bool>,
    pub integration_xref: Option<String>,
    pub location: Option<Reference>,
    pub name: Option<String>,
    pub parent_connect_wise_id: Option<String>,
    pub parent_id: Option<i64>,
    pub request_for_change_flag: Option<bool>,
    pub skill: Option<Reference>,
    pub skill_category: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

/// A ticket priority (`/service/priorities`). Required on create: `name`, `color`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Priority {
    pub id: Option<i64>,
    /// One of: Black, Blue, Cyan, Gray, Green, Lime, Orange, Pink, Purple, Red, White, Yellow, Custom.
    pub color: Option<String>,
    pub connect_wise_id: Option<String>,
    pub default_flag: Option<bool>,
    pub image_link: Option<String>,
    /// One of: Critical, High, Medium, Low.
    pub level: Option<String>,
    pub name: Option<String>,
    pub sort_order: Option<i64>,
    pub urgency_sort_order: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for Board {
    const PATH: &'static str = "/service/boards";
}

impl BoardStatus {
    /// The collection of statuses of one board.
    pub fn path(board_id: i64) -> String {
        format!("/service/boards/{board_id}/statuses")
    }
}

impl BoardType {
    /// The collection of ticket types of one board.
    pub fn path(board_id: i64) -> String {
        format!("/service/boards/{board_id}/types")
    }
}

impl Resource for Priority {
    const PATH: &'static str = "/service/priorities";
}
