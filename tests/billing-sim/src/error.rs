//! Errors: the library's own [`SimError`] (start-up, fixtures), and [`ApiError`], the one place
//! where a refused call becomes the contract's error body
//! `{"error": {"code", "message", "fields"?}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cwsync_billing::FieldProblem;
use serde_json::json;

/// Errors of the simulator's Rust API.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listener could not be bound.
    #[error("could not bind the billing simulator's listener on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The embedded fixture is not a JSON array of accounts.
    #[error("the account fixture is invalid: {0}")]
    InvalidFixture(String),
}

/// A refused API call, shaped like the contract's error body.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    /// One of the contract's codes: `Unauthorized`, `Forbidden`, `NotFound`, `InvalidRequest`,
    /// `Duplicate`, `Invoiced`, `Conflict`, `VersionConflict`, `RateLimited`, `Internal`,
    /// `Unavailable`.
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) fields: Vec<FieldProblem>,
    pub(crate) retry_after: Option<u64>,
    /// The `Allow` header of a 405.
    pub(crate) allow: Option<&'static str>,
    /// What a conflict adds to the body (boxed: most errors have none).
    pub(crate) conflict: Option<Box<ConflictDetail>>,
}

/// What a 409 or 412 names besides its message.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConflictDetail {
    /// With `Duplicate`: the record that holds the key already.
    pub(crate) existing_id: Option<String>,
    /// With `VersionConflict`: the record's version now.
    pub(crate) current_version: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
            allow: None,
            conflict: None,
        }
    }

    /// 409 `Duplicate`: `existing_id` holds the unique `field` already.
    pub(crate) fn duplicate(
        field: &str,
        noun: &str,
        existing_id: &str,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        Self {
            fields: vec![FieldProblem {
                field: field.to_owned(),
                message: format!("{noun} {existing_id} has it already"),
            }],
            conflict: Some(Box::new(ConflictDetail {
                existing_id: Some(existing_id.to_owned()),
                current_version: None,
            })),
            ..Self::new(StatusCode::CONFLICT, "Duplicate", message)
        }
    }

    /// 409 with `code` (`Invoiced`, `Conflict`): the record's state refuses the change.
    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 412 `VersionConflict`: the record is at `current_version`.
    pub(crate) fn version_conflict(current_version: u64, message: impl Into<String>) -> Self {
        Self {
            conflict: Some(Box::new(ConflictDetail {
                existing_id: None,
                current_version: Some(current_version),
            })),
            ..Self::new(StatusCode::PRECONDITION_FAILED, "VersionConflict", message)
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }

    /// A 400 about one parameter or field.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid_fields(
            format!("{field}: {message}"),
            vec![FieldProblem {
                field: field.to_owned(),
                message,
            }],
        )
    }

    /// A 400 with several per-field problems.
    pub(crate) fn invalid_fields(message: impl Into<String>, fields: Vec<FieldProblem>) -> Self {
        Self {
            fields,
            ..Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
        }
    }

    /// 429 with `Retry-After`.
    pub(crate) fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RateLimited",
                format!("too many requests; retry after {retry_after_secs} s"),
            )
        }
    }

    /// The status an injected fault asked for, with the code the contract gives it.
    pub(crate) fn status(code: u16) -> Self {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (code, message) = match status.as_u16() {
            400 => ("InvalidRequest", "the request is invalid"),
            401 => ("Unauthorized", "the API key is not valid"),
            403 => ("Forbidden", "the API key may not do this"),
            404 => ("NotFound", "not found"),
            429 => ("RateLimited", "too many requests"),
            502..=504 => (
                "Unavailable",
                "the billing system is temporarily unavailable",
            ),
            _ => ("Internal", "an unexpected error occurred"),
        };
        Self::new(status, code, message)
    }

    pub(crate) fn body(&self) -> serde_json::Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.fields.is_empty() {
            error["fields"] = serde_json::to_value(&self.fields).unwrap_or_default();
        }
        if let Some(detail) = &self.conflict {
            if let Some(id) = &detail.existing_id {
                error["existingId"] = json!(id);
            }
            if let Some(version) = detail.current_version {
                error["currentVersion"] = json!(version);
            }
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = crate::server::json_response(self.status, &self.body());
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Some(allow) = self.allow {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"billing\""),
            );
        }
        resp
    }
}
