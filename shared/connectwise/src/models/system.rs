//! System records: members, documents, callbacks (registration and the webhook body), server
//! information, the codebase lookup and the `count` response.
//!
//! Plain data shaped like the API (see `models` for the conventions); no I/O. Callback bodies are
//! decoded here but never trusted: a receiver re-fetches the record.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Resource,
    common::{CustomFieldValue, Info, RedactedString, Reference},
    datetime, money,
};

/// A ConnectWise user: a technician, salesperson or API member (`/system/members`).
/// `GET /system/members/{identifier}` accepts the member identifier as well as the numeric id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<RedactedString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_online_flag: Option<bool>,
    /// One of: A, C, F, X.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_identifer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_mobile_gps_flag: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub inactive_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<RedactedString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_initial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "datetime::opt"
    )]
    pub hire_date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_email: Option<String>,
    /// One of: Office, Mobile, Home.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_extension: Option<String>,
    /// One of: Office, Mobile, Home.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_role: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office365: Option<MemberOffice365>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapi_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_sync_integration_flag: Option<bool>,
    /// One of: AuthAnvil, GoogleAuthenticator, Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_service_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timebased_one_time_password_activated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ldap_authentication_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_configuration: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directional_sync: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_settings: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// One of: TAPI, SKYPE, TEL, CALLTO, NONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_integration_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_browser_language_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_card: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_mobile_flag: Option<bool>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_portal_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts_user_admin_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toast_notification_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_personas: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structure_level: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports_to: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_location_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_department_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_role: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_approver: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expense_approver: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub billable_forecast: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub daily_capacity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub hourly_cost: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub hourly_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_in_utilization_reporting_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_expense_entry_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_time_sheet_entry_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_start_and_end_time_on_time_entry_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_in_cell_entry_on_time_sheet: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enter_time_against_company_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_expenses_entered_against_companies_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_reminder_email_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_tolerance: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub minimum_hours: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_sheet_start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_default_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_default_department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_default_board: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_service_default_location_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_service_default_department_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_service_board_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_board_team_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_default_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_default_department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_default_board: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_project_default_location_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_project_default_department_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_project_board_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_default_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_default_department: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::opt")]
    pub schedule_capacity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_schedule_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_member_in_dispatch_portal_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_default_location: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_default_sales_territory_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_bin: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_default_warehouse_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_default_warehouse_bin_flag: Option<bool>,
    /// One of: SummaryList, DetailList.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_activity_tab_format: Option<String>,
    /// One of: SummaryList, DetailList.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_time_tab_format: Option<String>,
    /// One of: ShowInvoicingTab, ShowAgreementInvoicingTab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_screen_default_tab_format: Option<String>,
    /// One of: RemainOnInvoicingScreen, ShowRecentInvoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoicing_display_options: Option<String>,
    /// One of: RemainOnInvoicingScreen, ShowRecentInvoices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_invoicing_display_options: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start_stopwatch: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_popup_quick_notes_with_stopwatch: Option<bool>,
    /// One of: OpenRecords, ClosedRecords, AllRecords.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_search_default_ticket_filter: Option<String>,
    /// One of: None, LastUpdatedDesc, LastUpdatedAsc, CreatedDesc, CreatedAsc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_search_default_sort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_source: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_pod_layouts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_shared_default_views: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_column_layouts_and_filters: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_member_rec_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_member_template_rec_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Member {
    const PATH: &'static str = "/system/members";
}

/// The Office 365 account linked to a member.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberOffice365 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An uploaded document or link attached to a record (`/system/documents`).
/// Upload is a multipart POST (see [`DocumentInfo::PATH`]); list a record's documents with the
/// `recordType` and `recordId` query parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_template_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Resource for DocumentInfo {
    const PATH: &'static str = "/system/documents";
}

impl DocumentInfo {
    /// The bytes of one document (`Content-Disposition: attachment; filename="..."`).
    pub fn download_path(document_id: i64) -> String {
        format!("/system/documents/{document_id}/download")
    }
}

/// A registered webhook (`/system/callbacks`). Required on create: `url`, `objectId`, `type`
/// and `level` (e.g. `type: "ticket"`, `level: "owner"`, `objectId: 1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<i64>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_soap_callback_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_self_suppressed_flag: Option<bool>,
    #[serde(
        rename = "connectWiseID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub connect_wise_id: Option<String>,
    #[serde(rename = "_info", default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
}

impl Resource for CallbackEntry {
    const PATH: &'static str = "/system/callbacks";
}

/// The server's version and capabilities (`GET /system/info`, the spec's `Info` schema). Also a
/// cheap way to check credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_cloud: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_bits: Option<Vec<LicenseBit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_work_flow_records_allowed: Option<i64>,
}

impl SystemInfo {
    /// A single record, not a collection.
    pub const PATH: &'static str = "/system/info";
}

/// One licensed feature in [`SystemInfo`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseBit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_flag: Option<bool>,
}

/// The body of every `GET .../count`: `{"count": N}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub count: i64,
}

/// The codebase lookup, `GET {host}/login/companyinfo/{companyId}` (no auth, outside `apis/3.0`).
/// An unknown company answers JSON `null`, so callers read an `Option<CompanyInfo>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompanyInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// The URL segment before `apis/3.0`, ending in `/`, e.g. `v2017_3/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codebase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_number: Option<String>,
    #[serde(rename = "CompanyID", default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_cloud: Option<bool>,
}

impl CompanyInfo {
    /// The lookup path for one login company, relative to the host (not under `apis/3.0`).
    pub fn path(company_id: &str) -> String {
        format!("/login/companyinfo/{company_id}")
    }
}

/// What happened to the record a callback is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackAction {
    Added,
    Updated,
    Deleted,
    /// An action this client does not know, kept as sent.
    Other(String),
}

impl CallbackAction {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Added => "added",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::Other(action) => action,
        }
    }
}

impl Serialize for CallbackAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CallbackAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let action = String::deserialize(deserializer)?;
        // Sources disagree on case; an unknown action must not reject the whole callback.
        Ok(match action.to_ascii_lowercase().as_str() {
            "added" => Self::Added,
            "updated" => Self::Updated,
            "deleted" => Self::Deleted,
            _ => Self::Other(action),
        })
    }
}

/// The `Metadata` of a callback body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallbackMetadata {
    /// Where to fetch `{"signing_key": ...}` for checking `x-content-signature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_url: Option<String>,
}

/// The body ConnectWise POSTs to a registered callback URL.
///
/// `Entity` is the changed record as a JSON *string*; [`CallbackPayload::entity`] decodes it on
/// demand. It is absent or null on deletes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackPayload {
    #[serde(rename = "Action")]
    pub action: CallbackAction,
    /// The callback type the entry was registered for, e.g. `ticket` or `company`.
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The id of the changed record.
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(
        rename = "Entity",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "entity_text"
    )]
    pub entity: Option<String>,
    #[serde(rename = "CompanyId", default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(rename = "MemberId", default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(rename = "FromUrl", default, skip_serializing_if = "Option::is_none")]
    pub from_url: Option<String>,
    #[serde(rename = "Metadata", default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<CallbackMetadata>,
}

/// The callback's `Entity` could not be read as the expected record.
#[derive(Debug, thiserror::Error)]
#[error("callback entity of {kind} {id} is not a valid record: {source}")]
pub struct CallbackEntityError {
    /// The callback `Type`, or `record` when absent.
    pub kind: String,
    /// The callback `ID`, or `?` when absent.
    pub id: String,
    #[source]
    pub source: serde_json::Error,
}

impl CallbackPayload {
    /// Decodes `Entity` as a record of type `T`; `Ok(None)` when the callback carries no entity
    /// (as on deletes).
    pub fn entity<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>, CallbackEntityError> {
        let Some(text) = self.entity.as_deref() else {
            return Ok(None);
        };
        let text = text.trim();
        if text.is_empty() || text == "null" {
            return Ok(None);
        }
        serde_json::from_str(text)
            .map(Some)
            .map_err(|source| CallbackEntityError {
                kind: self.kind.clone().unwrap_or_else(|| "record".to_owned()),
                id: self.id.map_or_else(|| "?".to_owned(), |id| id.to_string()),
                source,
            })
    }
}

/// Reads `Entity` as text; a server that sends the record as a JSON object instead of a string is
/// tolerated by keeping the object's JSON text.
fn entity_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text),
        other => Some(other.to_string()),
    })
}
