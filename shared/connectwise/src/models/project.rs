//! Projects, their phases and project tickets: what the ticket import reads to bill project work
//! (a fixed-fee project's amount, billing by phase or on completion).
//!
//! Plain data shaped like the API (see `models` for the conventions); no I/O and no validation.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Resource,
    common::{CustomFieldValue, Info, Reference},
    datetime, money,
    service::Ticket,
};

/// A project (`/project/projects`). `billingMethod` (ActualRates, FixedFee, NotToExceed, OverrideRate) and `billingAmount` say how it bills; `downpayment` is invoiced separately. Required on create: `name`, `company`, `board`, `billingMethod`, `estimatedStart`, `estimatedEnd`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: Option<i64>,
    #[serde(default, with = "datetime::opt")]
    pub actual_end: Option<OffsetDateTime>,
    #[serde(default, with = "money::opt")]
    pub actual_hours: Option<Decimal>,
    #[serde(default, with = "datetime::opt")]
    pub actual_start: Option<OffsetDateTime>,
    pub agreement: Option<Reference>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_expenses: Option<String>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_products: Option<String>,
    pub bill_project_after_closed_flag: Option<bool>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_time: Option<String>,
    pub bill_to_company: Option<Reference>,
    pub bill_to_contact: Option<Reference>,
    pub bill_to_site: Option<Reference>,
    pub bill_unapproved_time_and_expense: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub billing_amount: Option<Decimal>,
    pub billing_attention: Option<String>,
    /// One of: ActualRates, FixedFee, NotToExceed, OverrideRate.
    pub billing_method: Option<String>,
    /// One of: StaffMember, WorkRole.
    pub billing_rate_type: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub billing_start_date: Option<OffsetDateTime>,
    pub billing_terms: Option<Reference>,
    pub board: Option<Reference>,
    /// One of: ActualHours, BillableHours.
    pub budget_analysis: Option<String>,
    pub budget_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub budget_hours: Option<Decimal>,
    pub closed_flag: Option<bool>,
    pub company: Option<Reference>,
    pub company_location: Option<Reference>,
    pub contact: Option<Reference>,
    pub currency: Option<Reference>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
    #[serde(rename = "customerPO")]
    pub customer_po: Option<String>,
    pub department: Option<Reference>,
    pub description: Option<String>,
    pub do_not_display_in_portal_flag: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub downpayment: Option<Decimal>,
    #[serde(default, with = "datetime::opt")]
    pub estimated_end: Option<OffsetDateTime>,
    #[serde(default, with = "money::opt")]
    pub estimated_expense_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_expense_revenue: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_hours: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_product_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_product_revenue: Option<Decimal>,
    #[serde(default, with = "datetime::opt")]
    pub estimated_start: Option<OffsetDateTime>,
    #[serde(default, with = "money::opt")]
    pub estimated_time_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub estimated_time_revenue: Option<Decimal>,
    pub expense_approver: Option<Reference>,
    pub include_dependencies_flag: Option<bool>,
    pub include_estimates_flag: Option<bool>,
    pub location: Option<Reference>,
    pub manager: Option<Reference>,
    pub name: Option<String>,
    pub opportunity: Option<Reference>,
    pub override_percent_complete: Option<bool>,
    #[serde(default, with = "money::opt")]
    pub percent_complete: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub po_amount: Option<Decimal>,
    pub project_template_id: Option<i64>,
    pub restrict_down_payment_flag: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub scheduled_end: Option<OffsetDateTime>,
    #[serde(default, with = "money::opt")]
    pub scheduled_hours: Option<Decimal>,
    #[serde(default, with = "datetime::opt")]
    pub scheduled_start: Option<OffsetDateTime>,
    pub ship_to_company: Option<Reference>,
    pub ship_to_contact: Option<Reference>,
    pub ship_to_site: Option<Reference>,
    pub show_override_percent_flag: Option<bool>,
    pub site: Option<Reference>,
    pub status: Option<Reference>,
    pub tax_code: Option<Reference>,
    pub time_approver: Option<Reference>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

/// A phase of one project (`/project/projects/{id}/phases`), which may bill on its own (`billingMethod`, `billTime`, `billPhaseClosedFlag`) or when the project closes (`billProjectClosedFlag`). Required on create: `description`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectPhase {
    pub id: Option<i64>,
    pub actual_end: Option<String>,
    #[serde(default, with = "money::opt")]
    pub actual_hours: Option<Decimal>,
    pub actual_start: Option<String>,
    pub agreement: Option<Reference>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_expenses: Option<String>,
    pub bill_phase_closed_flag: Option<bool>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_products: Option<String>,
    pub bill_project_closed_flag: Option<bool>,
    pub bill_separately_flag: Option<bool>,
    /// One of: Billable, DoNotBill, NoCharge, NoDefault.
    pub bill_time: Option<String>,
    pub bill_to_company: Option<Reference>,
    pub bill_to_contact: Option<Reference>,
    pub bill_to_site: Option<Reference>,
    /// One of: ActualRates, FixedFee, NotToExceed, OverrideRate.
    pub billing_method: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub billing_start_date: Option<OffsetDateTime>,
    pub billing_terms: Option<Reference>,
    pub board: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub budget_hours: Option<Decimal>,
    pub business_unit_id: Option<i64>,
    pub currency: Option<Reference>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
    #[serde(default, with = "datetime::opt")]
    pub deadline_date: Option<OffsetDateTime>,
    pub department: Option<Reference>,
    pub description: Option<String>,
    #[serde(default, with = "money::opt")]
    pub downpayment: Option<Decimal>,
    pub end_date: Option<String>,
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
    #[serde(default, with = "money::opt")]
    pub hourly_rate: Option<Decimal>,
    pub location_id: Option<i64>,
    pub mark_as_milestone_flag: Option<bool>,
    pub notes: Option<String>,
    pub opportunity: Option<Reference>,
    pub parent_phase: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub po_amount: Option<Decimal>,
    pub po_number: Option<String>,
    pub project_id: Option<i64>,
    pub scheduled_end: Option<String>,
    #[serde(default, with = "money::opt")]
    pub scheduled_hours: Option<Decimal>,
    pub scheduled_start: Option<String>,
    pub ship_to_company: Option<Reference>,
    pub ship_to_contact: Option<Reference>,
    pub ship_to_site: Option<Reference>,
    pub start_date: Option<String>,
    pub status: Option<Reference>,
    pub tax_code: Option<Reference>,
    pub wbs_code: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

/// A project ticket (`/project/tickets`): a ticket of a project's phase. Its model is a service
/// ticket's fields that apply (read into [`Ticket`], flattened; the service-only ones stay empty)
/// plus `project`, `phase`, `tasks`, `wbsCode`, `isIssueFlag` and the schedule dates; it has no
/// `recordType` (a callback's entity of one says `ProjectTicket`). Service and project tickets
/// share one id space. Required on create: `summary`, `phase`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectTicket {
    /// Every field a project ticket shares with a service ticket.
    #[serde(flatten)]
    pub ticket: Ticket,
    pub project: Option<Reference>,
    pub phase: Option<Reference>,
    pub tasks: Option<Vec<TicketTask>>,
    pub wbs_code: Option<String>,
    pub is_issue_flag: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub schedule_start_date: Option<OffsetDateTime>,
    #[serde(default, with = "datetime::opt")]
    pub schedule_end_date: Option<OffsetDateTime>,
}

/// A task of a project ticket.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketTask {
    pub id: Option<i64>,
    /// One of: Transfer, Delete, Done.
    pub child_schedule_action: Option<String>,
    pub child_ticket_id: Option<i64>,
    pub closed_flag: Option<bool>,
    pub code: Option<Reference>,
    pub member: Option<Reference>,
    pub notes: Option<String>,
    pub priority: Option<i64>,
    pub resolution: Option<String>,
    pub schedule: Option<Reference>,
    pub summary: Option<String>,
    pub ticket_id: Option<i64>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for Project {
    const PATH: &'static str = "/project/projects";
}

impl ProjectPhase {
    /// The collection of phases of one project.
    pub fn path(project_id: i64) -> String {
        format!("/project/projects/{project_id}/phases")
    }
}

impl Resource for ProjectTicket {
    const PATH: &'static str = "/project/tickets";
}
