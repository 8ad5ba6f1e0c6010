//! Documents: multipart upload to `/system/documents` (fields file, recordType, recordId, title, url,
//! privateFlag, readOnlyFlay (sic), isAvatar), listing by `recordType`/`recordId`, and byte download with
//! `Content-Disposition`. The DocumentInfo record lives in the generic store; the bytes live beside it.
use std::collections::HashSet;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::ApiMember;
use crate::error::{ApiError, FieldError};
use crate::state::{SimState, StoredDocument};
use crate::validate::format_datetime;

const RESOURCE: &str = "document";

/// Where a document's `recordType` points, for the existence check.
const RECORD_TYPES: &[(&str, &str)] = &[
    ("Ticket", "/service/tickets"),
    ("Company", "/company/companies"),
    ("Contact", "/company/contacts"),
    ("Agreement", "/finance/agreements"),
    ("Opportunity", "/sales/opportunities"),
    ("Invoice", "/finance/invoices"),
    ("Member", "/system/members"),
];

fn parse_flag(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// Handles the multipart upload; returns the stored DocumentInfo.
pub async fn upload(
    state: &SimState,
    member: &ApiMember,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Value), ApiError> {
    let mut builder = Request::builder().method("POST").uri("/system/documents");
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    let req = builder.body(Body::from(body)).map_err(|e| {
        ApiError::bad_request(
            "InvalidObject",
            format!("The upload could not be read: {e}"),
        )
    })?;
    let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| {
        ApiError::bad_request(
            "InvalidObject",
            format!("The upload must be multipart/form-data: {}", e.body_text()),
        )
    })?;
    let mut file: Option<(String, String, Bytes)> = None;
    let mut fields: Vec<(String, String)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::bad_request(
                    "InvalidObject",
                    format!("The multipart body is malformed: {}", e.body_text()),
                ));
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload.bin").to_string();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = field.bytes().await.map_err(|e| {
                ApiError::bad_request(
                    "InvalidObject",
                    format!("The file part could not be read: {}", e.body_text()),
                )
            })?;
            file = Some((file_name, content_type, bytes));
        } else {
            let text = field.text().await.map_err(|e| {
                ApiError::bad_request(
                    "InvalidObject",
                    format!("The field {name} could not be read: {}", e.body_text()),
                )
            })?;
            fields.push((name, text));
        }
    }
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let mut errors = Vec::new();
    let url = get("url").filter(|u| !u.trim().is_empty());
    if file.is_none() && url.is_none() {
        errors.push(FieldError::new(
            "MissingRequiredField",
            "The field file is required.",
            RESOURCE,
            "file",
        ));
    }
    let record_type = get("recordType").filter(|t| !t.trim().is_empty());
    if record_type.is_none() {
        errors.push(FieldError::new(
            "MissingRequiredField",
            "The field recordType is required.",
            RESOURCE,
            "recordType",
        ));
    }
    let record_id = match get("recordId") {
        None => {
            errors.push(FieldError::new(
                "MissingRequiredField",
                "The field recordId is required.",
                RESOURCE,
                "recordId",
            ));
            None
        }
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new(
                    "InvalidField",
                    "The field recordId must be a whole number.",
                    RESOURCE,
                    "recordId",
                ));
                None
            }
        },
    };
    if let Some((_, _, bytes)) = &file
        && bytes.len() > state.options.max_upload_bytes
    {
        errors.push(FieldError::new(
            "OutOfRange",
            format!(
                "The file must be at most {} bytes.",
                state.options.max_upload_bytes
            ),
            RESOURCE,
            "file",
        ));
    }
    let mut inner = state.lock();
    if let (Some(rt), Some(rid)) = (&record_type, record_id)
        && let Some((_, collection)) = RECORD_TYPES
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(rt))
        && inner.store.get(collection, rid).is_none()
    {
        errors.push(FieldError::new(
            "InvalidField",
            format!("The field recordId refers to a {rt} with id {rid} that does not exist."),
            RESOURCE,
            "recordId",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_object(RESOURCE, errors));
    }
    let (file_name, content_type, bytes) =
        file.unwrap_or_else(|| ("link.url".into(), "text/uri-list".into(), Bytes::new()));
    let now = format_datetime(inner.knobs.now());
    let id = inner.store.allocate_id("/system/documents");
    let guid = format!("00000000-0000-4000-8000-{id:012x}");
    let private = get("privateFlag").is_some_and(|v| parse_flag(&v));
    let read_only = get("readOnlyFlay")
        .or_else(|| get("readOnlyFlag"))
        .is_some_and(|v| parse_flag(&v));
    let record = json!({
        "id": id,
        "title": get("title").filter(|t| !t.trim().is_empty()).unwrap_or_else(|| file_name.clone()),
        "fileName": file_name,
        "serverFileName": format!("{guid}_{file_name}"),
        "owner": member.identifier,
        "linkFlag": url.is_some(),
        "imageFlag": content_type.starts_with("image/"),
        "publicFlag": !private,
        "htmlTemplateFlag": false,
        "readOnlyFlag": read_only,
        "size": bytes.len(),
        "urlFlag": url.is_some(),
        "createdOnDate": now,
        "guid": guid,
        "_info": {
            "lastUpdated": now,
            "updatedBy": member.identifier,
            "document_href": format!("{}/system/documents/{id}", state.api_base),
            "documentDownload_href": format!("{}/system/documents/{id}/download", state.api_base),
        },
    });
    inner
        .store
        .put("/system/documents", id, None, record.clone());
    inner.documents.insert(
        id,
        StoredDocument {
            record_type: record_type.unwrap_or_default(),
            record_id: record_id.unwrap_or_default(),
            file_name,
            content_type,
            bytes,
        },
    );
    Ok((StatusCode::CREATED, record))
}

/// Ids of the documents matching `recordType`/`recordId` query parameters; None when neither is given.
pub fn list_filter(
    state: &SimState,
    query: &[(String, String)],
) -> Result<Option<HashSet<i64>>, ApiError> {
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let record_type = get("recordType").filter(|v| !v.trim().is_empty());
    let record_id = match get("recordId").filter(|v| !v.trim().is_empty()) {
        None => None,
        Some(raw) => Some(raw.trim().parse::<i64>().map_err(|_| {
            ApiError::bad_request(
                "InvalidParameter",
                format!("recordId must be a whole number, not '{raw}'"),
            )
        })?),
    };
    if record_type.is_none() && record_id.is_none() {
        return Ok(None);
    }
    let inner = state.lock();
    Ok(Some(
        inner
            .documents
            .iter()
            .filter(|(_, d)| {
                record_type
                    .as_ref()
                    .is_none_or(|t| d.record_type.eq_ignore_ascii_case(t))
            })
            .filter(|(_, d)| record_id.is_none_or(|r| d.record_id == r))
            .map(|(id, _)| *id)
            .collect(),
    ))
}

/// The bytes of a document, as an attachment.
pub fn download(state: &SimState, raw_id: &str) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found(format!("Document with id {raw_id} not found"));
    let id: i64 = raw_id.parse().map_err(|_| missing())?;
    let doc = state
        .lock()
        .documents
        .get(&id)
        .cloned()
        .ok_or_else(missing)?;
    let mut resp = (StatusCode::OK, doc.bytes).into_response();
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&doc.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    // Header values must be visible ASCII: anything else in the name becomes `_`.
    let safe_name: String = doc
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
