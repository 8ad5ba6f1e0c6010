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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: Option<i64>,
    pub identifier: Option<String>,
    pub password: Option<RedactedString>,
    pub disable_online_flag: Option<bool>,
    /// One of: A, C, F, X.
    pub license_class: Option<String>,
    pub notes: Option<String>,
    pub employee_identifer: Option<String>,
    pub vendor_number: Option<String>,
    pub enable_mobile_gps_flag: Option<bool>,
    #[serde(default, with = "datetime::opt")]
    pub inactive_date: Option<OffsetDateTime>,
    pub inactive_flag: Option<bool>,
    pub last_login: Option<String>,
    pub client_id: Option<String>,
    pub token: Option<RedactedString>,
    pub first_name: Option<String>,
    pub middle_initial: Option<String>,
    pub last_name: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub hire_date: Option<OffsetDateTime>,
    pub country: Option<Reference>,
    pub photo: Option<Reference>,
    pub office_email: Option<String>,
    pub mobile_email: Option<String>,
    pub home_email: Option<String>,
    /// One of: Office, Mobile, Home.
    pub default_email: Option<String>,
    pub primary_email: Option<String>,
    pub office_phone: Option<String>,
    pub office_extension: Option<String>,
    pub mobile_phone: Option<String>,
    pub mobile_extension: Option<String>,
    pub home_phone: Option<String>,
    pub home_extension: Option<String>,
    /// One of: Office, Mobile, Home.
    pub default_phone: Option<String>,
    pub security_role: Option<Reference>,
    pub office365: Option<MemberOffice365>,
    pub mapi_name: Option<String>,
    pub calendar_sync_integration_flag: Option<bool>,
    /// One of: AuthAnvil, GoogleAuthenticator, Email.
    pub authentication_service_type: Option<String>,
    pub timebased_one_time_password_activated: Option<bool>,
    pub enable_ldap_authentication_flag: Option<bool>,
    pub ldap_configuration: Option<Reference>,
    pub ldap_user_name: Option<String>,
    pub directional_sync: Option<Reference>,
    pub sso_settings: Option<Reference>,
    pub signature: Option<String>,
    /// One of: TAPI, SKYPE, TEL, CALLTO, NONE.
    pub phone_integration_type: Option<String>,
    pub use_browser_language_flag: Option<bool>,
    pub title: Option<String>,
    pub report_card: Option<Reference>,
    pub enable_mobile_flag: Option<bool>,
    #[serde(rename = "type")]
    pub kind: Option<Reference>,
    pub time_zone: Option<Reference>,
    pub partner_portal_flag: Option<bool>,
    pub sts_user_admin_url: Option<String>,
    pub toast_notification_flag: Option<bool>,
    pub member_personas: Option<Vec<i64>>,
    pub admin_flag: Option<bool>,
    pub structure_level: Option<Reference>,
    pub security_location: Option<Reference>,
    pub default_location: Option<Reference>,
    pub default_department: Option<Reference>,
    pub reports_to: Option<Reference>,
    pub restrict_location_flag: Option<bool>,
    pub restrict_department_flag: Option<bool>,
    pub work_role: Option<Reference>,
    pub work_type: Option<Reference>,
    pub time_approver: Option<Reference>,
    pub expense_approver: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub billable_forecast: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub daily_capacity: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub hourly_cost: Option<Decimal>,
    #[serde(default, with = "money::opt")]
    pub hourly_rate: Option<Decimal>,
    pub include_in_utilization_reporting_flag: Option<bool>,
    pub require_expense_entry_flag: Option<bool>,
    pub require_time_sheet_entry_flag: Option<bool>,
    pub require_start_and_end_time_on_time_entry_flag: Option<bool>,
    pub allow_in_cell_entry_on_time_sheet: Option<bool>,
    pub enter_time_against_company_flag: Option<bool>,
    pub allow_expenses_entered_against_companies_flag: Option<bool>,
    pub time_reminder_email_flag: Option<bool>,
    pub days_tolerance: Option<i64>,
    #[serde(default, with = "money::opt")]
    pub minimum_hours: Option<Decimal>,
    pub time_sheet_start_date: Option<String>,
    pub service_default_location: Option<Reference>,
    pub service_default_department: Option<Reference>,
    pub service_default_board: Option<Reference>,
    pub restrict_service_default_location_flag: Option<bool>,
    pub restrict_service_default_department_flag: Option<bool>,
    pub excluded_service_board_ids: Option<Vec<i64>>,
    pub teams: Option<Vec<i64>>,
    pub service_board_team_ids: Option<Vec<i64>>,
    pub project_default_location: Option<Reference>,
    pub project_default_department: Option<Reference>,
    pub project_default_board: Option<Reference>,
    pub restrict_project_default_location_flag: Option<bool>,
    pub restrict_project_default_department_flag: Option<bool>,
    pub excluded_project_board_ids: Option<Vec<i64>>,
    pub schedule_default_location: Option<Reference>,
    pub schedule_default_department: Option<Reference>,
    #[serde(default, with = "money::opt")]
    pub schedule_capacity: Option<Decimal>,
    pub service_location: Option<Reference>,
    pub restrict_schedule_flag: Option<bool>,
    pub hide_member_in_dispatch_portal_flag: Option<bool>,
    pub calendar: Option<Reference>,
    pub sales_default_location: Option<Reference>,
    pub restrict_default_sales_territory_flag: Option<bool>,
    pub warehouse: Option<Reference>,
    pub warehouse_bin: Option<Reference>,
    pub restrict_default_warehouse_flag: Option<bool>,
    pub restrict_default_warehouse_bin_flag: Option<bool>,
    /// One of: SummaryList, DetailList.
    pub company_activity_tab_format: Option<String>,
    /// One of: SummaryList, DetailList.
    pub invoice_time_tab_format: Option<String>,
    /// One of: ShowInvoicingTab, ShowAgreementInvoicingTab.
    pub invoice_screen_default_tab_format: Option<String>,
    /// One of: RemainOnInvoicingScreen, ShowRecentInvoices.
    pub invoicing_display_options: Option<String>,
    /// One of: RemainOnInvoicingScreen, ShowRecentInvoices.
    pub agreement_invoicing_display_options: Option<String>,
    pub auto_start_stopwatch: Option<bool>,
    pub auto_popup_quick_notes_with_stopwatch: Option<bool>,
    /// One of: OpenRecords, ClosedRecords, AllRecords.
    pub global_search_default_ticket_filter: Option<String>,
    /// One of: None, LastUpdatedDesc, LastUpdatedAsc, CreatedDesc, CreatedAsc.
    pub global_search_default_sort: Option<String>,
    pub phone_source: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
    pub copy_pod_layouts: Option<bool>,
    pub copy_shared_default_views: Option<bool>,
    pub copy_column_layouts_and_filters: Option<bool>,
    pub from_member_rec_id: Option<i64>,
    pub from_member_template_rec_id: Option<i64>,
    pub custom_fields: Option<Vec<CustomFieldValue>>,
}

impl Resource for Member {
    const PATH: &'static str = "/system/members";
}

/// The Office 365 account linked to a member.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberOffice365 {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// An uploaded document or link attached to a record (`/system/documents`).
/// Upload is a multipart POST (see [`DocumentInfo::PATH`]); list a record's documents with the
/// `recordType` and `recordId` query parameters.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInfo {
    pub id: Option<i64>,
    pub title: Option<String>,
    pub file_name: Option<String>,
    pub server_file_name: Option<String>,
    pub owner: Option<String>,
    pub link_flag: Option<bool>,
    pub image_flag: Option<bool>,
    pub public_flag: Option<bool>,
    pub html_template_flag: Option<bool>,
    pub read_only_flag: Option<bool>,
    pub size: Option<i64>,
    pub url_flag: Option<bool>,
    pub created_on_date: Option<String>,
    pub document_type: Option<Reference>,
    pub guid: Option<String>,
    #[serde(rename = "_info")]
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackEntry {
    pub id: Option<i64>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub object_id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub level: Option<String>,
    pub member_id: Option<i64>,
    pub payload_version: Option<String>,
    pub inactive_flag: Option<bool>,
    pub is_soap_callback_flag: Option<bool>,
    pub is_self_suppressed_flag: Option<bool>,
    #[serde(rename = "connectWiseID")]
    pub connect_wise_id: Option<String>,
    #[serde(rename = "_info")]
    pub info: Option<Info>,
}

impl Resource for CallbackEntry {
    const PATH: &'static str = "/system/callbacks";
}

/// The server's version and capabilities (`GET /system/info`, the spec's `Info` schema). Also a
/// cheap way to check credentials.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemInfo {
    pub version: Option<String>,
    pub is_cloud: Option<bool>,
    pub server_time_zone: Option<String>,
    pub license_bits: Option<Vec<LicenseBit>>,
    pub cloud_region: Option<String>,
    pub max_work_flow_records_allowed: Option<i64>,
}

impl SystemInfo {
    /// A single record, not a collection.
    pub const PATH: &'static str = "/system/info";
}

/// One licensed feature in [`SystemInfo`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseBit {
    pub name: Option<String>,
    pub active_flag: Option<bool>,
}

/// The body of every `GET .../count`: `{"count": N}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub count: i64,
}

/// The codebase lookup, `GET {host}/login/companyinfo/{companyId}` (no auth, outside `apis/3.0`).
/// An unknown company answers JSON `null`, so callers read an `Option<CompanyInfo>`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompanyInfo {
    pub company_name: Option<String>,
    /// The URL segment before `apis/3.0`, ending in `/`, e.g. `v2017_3/`.
    pub codebase: Option<String>,
    pub version_code: Option<String>,
    pub version_number: Option<String>,
    #[serde(rename = "CompanyID")]
    pub company_id: Option<String>,
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallbackMetadata {
    /// Where to fetch `{"signing_key": ...}` for checking `x-content-signature`.
    pub key_url: Option<String>,
}

/// The body ConnectWise POSTs to a registered callback URL.
///
/// `Entity` is the changed record as a JSON *string*; [`CallbackPayload::entity`] decodes it on
/// demand. It is absent or null on deletes.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackPayload {
    #[serde(rename = "Action")]
    pub action: CallbackAction,
    /// The callback type the entry was registered for, e.g. `ticket` or `company`.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    /// The id of the changed record.
    #[serde(rename = "ID")]
    pub id: Option<i64>,
    #[serde(rename = "Entity", default, deserialize_with = "entity_text")]
    pub entity: Option<String>,
    #[serde(rename = "CompanyId")]
    pub company_id: Option<String>,
    #[serde(rename = "MemberId")]
    pub member_id: Option<String>,
    #[serde(rename = "FromUrl")]
    pub from_url: Option<String>,
    #[serde(rename = "Metadata")]
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
