//! Errors: the library's own `SimError`, and `ApiError`, the one place where a failed API call becomes the
//! ConnectWise error body `{"code","message","errors"?}`.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Errors of the simulator's Rust API (start-up, seeding).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the facts file could not be loaded: {0}")]
    Facts(String),
    #[error("could not bind the simulator's listener on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error(
        "unknown collection {0} (not in the facts file nor in the seed-only reference collections)"
    )]
    UnknownCollection(String),
    #[error("seed record {index} for {collection} is invalid: {reason}")]
    InvalidSeed {
        collection: String,
        index: usize,
        reason: String,
    },
    #[error("fixture is invalid: {0}")]
    InvalidFixture(String),
    #[error("the test TLS certificate could not be made: {0}")]
    Tls(String),
    /// A write through [`crate::Simulator::create`] was refused as the API would refuse it.
    #[error("{method} {path} was refused: {status} {body}")]
    Refused {
        method: String,
        path: String,
        status: u16,
        /// The ConnectWise error body.
        body: String,
    },
}

/// One entry of `errors` in an error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub code: String,
    pub message: String,
    pub resource: String,
    pub field: String,
}

impl FieldError {
    pub fn new(code: &str, message: impl Into<String>, resource: &str, field: &str) -> FieldError {
        FieldError {
            code: code.into(),
            message: message.into(),
            resource: resource.into(),
            field: field.into(),
        }
    }
}

/// A ConnectWise-shaped error response.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NotFound", message)
    }

    pub fn invalid_object(resource: &str, errors: Vec<FieldError>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidObject".into(),
            message: format!("{resource} object is invalid"),
            errors,
            retry_after: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .unwrap_or_else(|_| serde_json::json!({"code": self.code, "message": self.message}))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::server::JSON_CONTENT_TYPE),
        );
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
