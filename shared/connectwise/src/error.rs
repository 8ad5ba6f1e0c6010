//! Typed errors of the ConnectWise client and the mapping from HTTP responses to them.
//!
//! Every error names the request (method and API path, never the query string) and says whether
//! retrying later can help ([`CwError::is_transient`]). Errors must never carry a header value,
//! a key or a full URL: authentication travels only in headers, and paths are stripped of their
//! query before they get here.

use std::fmt;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;

/// Result alias of this crate.
pub type CwResult<T> = Result<T, CwError>;

/// One per-field problem reported by the API in `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct FieldError {
    /// e.g. `MissingRequiredField`, `InvalidField`, `OutOfRange`, `ObjectExists`.
    pub code: String,
    /// Human-readable text from the server.
    pub message: String,
    /// The resource the field belongs to, e.g. `company`.
    pub resource: String,
    /// The offending field, e.g. `identifier`.
    pub field: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.resource.is_empty(), self.field.is_empty()) {
            (true, true) => write!(f, "{}: {}", self.code, self.message),
            (true, false) => write!(f, "{} {}: {}", self.field, self.code, self.message),
            _ => write!(
                f,
                "{}.{} {}: {}",
                self.resource, self.field, self.code, self.message
            ),
        }
    }
}

fn list(errors: &[FieldError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let items: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!(" [{}]", items.join("; "))
}

/// Everything that can go wrong talking to ConnectWise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CwError {
    /// 401: the company id, public key or private key is wrong, or the API member is inactive.
    #[error(
        "ConnectWise rejected the API credentials (401): {message}; check the company id, public key and private key"
    )]
    Unauthorized {
        /// Server message.
        message: String,
    },
    /// 403: the API member's security role lacks this operation.
    #[error(
        "{method} {path} is forbidden (403): {message}; grant this operation to the API member's security role in ConnectWise"
    )]
    Forbidden {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// Server message.
        message: String,
    },
    /// 400 with per-field errors: the record is invalid.
    #[error("{method} {path} was rejected as invalid (400): {message}{}", list(.errors))]
    Validation {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// Server message.
        message: String,
        /// Per-field errors.
        errors: Vec<FieldError>,
    },
    /// 400 whose `errors[].code` is `ObjectExists`: a record with that key already exists.
    #[error("{method} {path}: the record already exists (400): {message}{}", list(.errors))]
    AlreadyExists {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// Server message.
        message: String,
        /// Per-field errors (at least one `ObjectExists`).
        errors: Vec<FieldError>,
    },
    /// Any other 400, e.g. a malformed condition.
    #[error("{method} {path} is a bad request (400, {code}): {message}")]
    BadRequest {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// Server error code, e.g. `InvalidCondition`.
        code: String,
        /// Server message.
        message: String,
    },
    /// 404: no such record or route.
    #[error("{method} {path} was not found (404)")]
    NotFound {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
    },
    /// 429 still returned after every allowed retry.
    #[error("ConnectWise is throttling requests (429){}", retry_after.map(|d| format!("; retry after {} ms", d.as_millis())).unwrap_or_default())]
    Throttled {
        /// What the server asked for in `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// A failure that may pass on a later try (5xx, timeout, connection error) of a request whose
    /// outcome is known not to have changed anything, or that is idempotent.
    #[error("{method} {path} failed transiently{}: {detail}", status.map(|s| format!(" ({s})")).unwrap_or_default())]
    Transient {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// HTTP status when a response arrived.
        status: Option<u16>,
        /// What happened.
        detail: String,
    },
    /// A POST whose outcome is unknown (timeout, reset or 5xx after the request may have reached
    /// the server). Do not repeat it blindly: look the record up by its natural key first.
    #[error(
        "{method} {path} may or may not have been applied: {detail}; look the record up by its natural key before creating it again"
    )]
    Ambiguous {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// What happened.
        detail: String,
    },
    /// A response with an unexpected status or a body that is not the expected JSON.
    #[error("{method} {path} returned an unexpected response ({status}): {excerpt:?}")]
    Unexpected {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// HTTP status.
        status: u16,
        /// The start of the body (at most 200 characters).
        excerpt: String,
    },
    /// JSON that does not match the expected type.
    #[error("the response of {path} does not match the expected shape: {detail}")]
    Decode {
        /// API path without query.
        path: String,
        /// The deserializer's message (names the field and position).
        detail: String,
    },
    /// A request body could not be serialized.
    #[error("the request body for {path} cannot be serialized: {detail}")]
    Encode {
        /// API path without query.
        path: String,
        /// The serializer's message.
        detail: String,
    },
    /// A request URL would exceed the configured maximum even with a single value.
    #[error("a request to {path} needs a {length}-character URL; the limit is {max}")]
    UrlTooLong {
        /// API path without query.
        path: String,
        /// Length of the shortest possible URL.
        length: usize,
        /// `ClientConfig::max_url_len`.
        max: usize,
    },
    /// The shared request gate ([`crate::RequestGate`]) failed, so the request was not sent.
    #[error(
        "{method} {path} was not sent: the tenant's shared request limit could not be checked{}: {detail}",
        if *transient { " (transient)" } else { "" }
    )]
    Gate {
        /// HTTP method.
        method: Method,
        /// API path without query.
        path: String,
        /// What the gate said.
        detail: String,
        /// Whether a later try may pass.
        transient: bool,
    },
    /// The client configuration is unusable.
    #[error("invalid ConnectWise client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

impl CwError {
    /// Whether trying the same call again later can succeed (throttling, 5xx, network trouble).
    /// [`CwError::Ambiguous`] is not transient: the caller must reconcile first.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CwError::Throttled { .. }
                | CwError::Transient { .. }
                | CwError::Gate {
                    transient: true,
                    ..
                }
        )
    }

    /// The HTTP status the server answered with, when one is known.
    pub fn status(&self) -> Option<u16> {
        match self {
            CwError::Unauthorized { .. } => Some(401),
            CwError::Forbidden { .. } => Some(403),
            CwError::Validation { .. }
            | CwError::AlreadyExists { .. }
            | CwError::BadRequest { .. } => Some(400),
            CwError::NotFound { .. } => Some(404),
            CwError::Throttled { .. } => Some(429),
            CwError::Transient { status, .. } => *status,
            CwError::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The API's error body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    code: String,
    message: String,
    errors: Option<Vec<FieldError>>,
}

pub(crate) use cwsync_http::excerpt;

/// ConnectWise's error object (`{"code": …, "message": …}`, no `id`) where a success's record
/// should be: `code: message` (cut like an [`excerpt`]), else `None`. Only an object is looked
/// at (a list page never is one).
pub(crate) fn error_in_success(body: &[u8]) -> Option<String> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let text = |key: &str| {
        object
            .get(key)
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
    };
    if object.contains_key("id") {
        return None;
    }
    let said = format!(
        "an error instead of the record: {}: {}",
        text("code")?,
        text("message")?
    );
    Some(excerpt(said.as_bytes()))
}

/// Drops the query string (and fragment) of a path or URL.
pub(crate) fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

/// Maps a non-success response that is not retried to a typed error.
pub(crate) fn from_status(method: &Method, path: &str, status: u16, body: &[u8]) -> CwError {
    let method = method.clone();
    let path = strip_query(path).to_owned();
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let message = parsed
        .as_ref()
        .map(|b| b.message.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| excerpt(body));
    match status {
        401 => CwError::Unauthorized { message },
        403 => CwError::Forbidden {
            method,
            path,
            message,
        },
        404 => CwError::NotFound { method, path },
        400 => {
            let Some(parsed) = parsed else {
                return CwError::Unexpected {
                    method,
                    path,
                    status,
                    excerpt: excerpt(body),
                };
            };
            let errors = parsed.errors.unwrap_or_default();
            if errors.iter().any(|e| e.code == "ObjectExists") {
                CwError::AlreadyExists {
                    method,
                    path,
                    message,
                    errors,
                }
            } else if !errors.is_empty() || parsed.code == "InvalidObject" {
                CwError::Validation {
                    method,
                    path,
                    message,
                    errors,
                }
            } else {
                CwError::BadRequest {
                    method,
                    path,
                    code: parsed.code,
                    message,
                }
            }
        }
        429 => CwError::Throttled { retry_after: None },
        500..=599 => CwError::Transient {
            method,
            path,
            status: Some(status),
            detail: message,
        },
        _ => CwError::Unexpected {
            method,
            path,
            status,
            excerpt: excerpt(body),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, body: &str) -> CwError {
        from_status(
            &Method::POST,
            "/company/companies?x=1",
            status,
            body.as_bytes(),
        )
    }

    #[test]
    fn duplicate_identifier_maps_to_already_exists() {
        let e = map(
            400,
            r#"{"code":"InvalidObject","message":"company object is invalid","errors":[{"code":"ObjectExists","message":"The identifier is already in use.","resource":"company","field":"identifier"}]}"#,
        );
        let CwError::AlreadyExists { errors, path, .. } = &e else {
            panic!("expected AlreadyExists, got {e:?}");
        };
        assert_eq!(path, "/company/companies");
        assert_eq!(errors[0].field, "identifier");
        assert!(e.to_string().contains("company.identifier ObjectExists"));
    }

    #[test]
    fn field_errors_map_to_validation_and_are_listed() {
        let body = r#"{"code":"InvalidObject","message":"company object is invalid","errors":[
            {"code":"OutOfRange","message":"The field yearEstablished must be between 1900 and 9999.","resource":"company","field":"yearEstablished"},
            {"code":"OutOfRange","message":"The field revenueYear must be between 1900 and 9999.","resource":"company","field":"revenueYear"}]}"#;
        let e = map(400, body);
        let CwError::Validation { errors, .. } = &e else {
            panic!("expected Validation, got {e:?}");
        };
        assert_eq!(errors.len(), 2);
        let text = e.to_string();
        assert!(
            text.contains("company.yearEstablished OutOfRange"),
            "{text}"
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn a_bad_condition_maps_to_bad_request_with_its_code() {
        let e = map(
            400,
            r#"{"code":"InvalidCondition","message":"unexpected token at 5"}"#,
        );
        assert!(
            matches!(&e, CwError::BadRequest { code, message, .. } if code == "InvalidCondition" && message == "unexpected token at 5")
        );
    }

    #[test]
    fn forbidden_tells_the_user_to_grant_the_role() {
        let e = map(
            403,
            r#"{"code":"Forbidden","message":"You do not have access to company"}"#,
        );
        assert!(e.to_string().contains("security role"));
        assert_eq!(e.status(), Some(403));
    }

    #[test]
    fn non_json_error_bodies_become_short_excerpts() {
        let long = "<html>".repeat(100);
        let e = map(418, &long);
        let CwError::Unexpected { excerpt, .. } = &e else {
            panic!("expected Unexpected, got {e:?}");
        };
        assert!(excerpt.starts_with(&long[..200]), "{excerpt}");
        assert!(excerpt.ends_with("… (cut: 600 bytes in all)"), "{excerpt}");
    }

    #[test]
    fn an_error_object_in_a_success_is_named_and_a_record_is_not() {
        let said = error_in_success(
            br#"{"code": "InvalidObject", "message": "agreementAddition object is invalid"}"#,
        );
        assert_eq!(
            said.as_deref(),
            Some(
                "an error instead of the record: InvalidObject: agreementAddition object is invalid"
            )
        );
        assert_eq!(
            error_in_success(br#"{"id": 5, "code": "X", "message": "y"}"#),
            None
        );
        assert_eq!(
            error_in_success(br#"[{"code": "X", "message": "y"}]"#),
            None
        );
        assert_eq!(error_in_success(b"<html></html>"), None);
        assert_eq!(error_in_success(br#"{"name": "a record"}"#), None);
    }

    #[test]
    fn server_errors_are_transient_and_auth_errors_are_not() {
        assert!(map(500, "oops").is_transient());
        assert!(!map(401, r#"{"code":"Unauthorized","message":"x"}"#).is_transient());
        assert!(matches!(map(404, ""), CwError::NotFound { .. }));
    }
}
