//! Events sent to a function from the Lambda console, a schedule or a test: a JSON object whose
//! `action` names what to do. A malformed event is refused with a message that says what was wrong.

use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A malformed or unknown event.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The event is not an object of the expected shape (unknown action, missing or mistyped field).
    #[error("invalid event for {function}: {reason}")]
    Invalid {
        /// The function that refused it.
        function: &'static str,
        /// What was wrong, from the parser (names the field or the unknown action).
        reason: String,
    },
}

impl From<EventError> for Diagnostic {
    fn from(error: EventError) -> Self {
        Diagnostic {
            error_type: "InvalidEvent".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Parses an event payload into the function's own event type.
pub fn parse_event<T: DeserializeOwned>(
    function: &'static str,
    payload: serde_json::Value,
) -> Result<T, EventError> {
    serde_json::from_value(payload).map_err(|e| EventError::Invalid {
        function,
        reason: e.to_string(),
    })
}

/// The answer to a `{"action": "health"}` event: proves the function starts and answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// The function's name.
    pub function: &'static str,
    /// The crate version it was built from.
    pub version: &'static str,
    /// Always `ok` when the function answers.
    pub status: &'static str,
}

impl HealthReport {
    /// A healthy report for `function`.
    pub fn ok(function: &'static str, version: &'static str) -> Self {
        Self {
            function,
            version,
            status: "ok",
        }
    }
}

/// Parses a raw Lambda payload into the function's event type and hands it to `handler`.
/// A malformed payload is logged (its reason, never its content) and refused as `InvalidEvent`.
pub async fn dispatch<E, R, F, Fut>(
    function: &'static str,
    payload: serde_json::Value,
    handler: F,
) -> Result<R, Diagnostic>
where
    E: DeserializeOwned,
    F: FnOnce(E) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    let event: E = parse_event(function, payload).map_err(|e| {
        tracing::warn!(error = %e, "refused an event");
        Diagnostic::from(e)
    })?;
    Ok(handler(event).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(tag = "action", rename_all = "kebab-case")]
    enum Sample {
        Health,
        SyncTenant { tenant: String },
    }

    #[test]
    fn a_known_action_parses_into_its_variant() {
        let event = serde_json::json!({"action": "sync-tenant", "tenant": "acme"});
        let parsed: Sample = parse_event("f", event).unwrap();
        assert_eq!(
            parsed,
            Sample::SyncTenant {
                tenant: "acme".into()
            }
        );
    }

    #[test]
    fn an_unknown_action_is_refused_naming_it() {
        let err = parse_event::<Sample>("f", serde_json::json!({"action": "explode"})).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("explode"), "{text}");
        assert!(text.contains("health"), "lists the known actions: {text}");
        let diagnostic = Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "InvalidEvent");
    }

    #[test]
    fn a_missing_field_is_named() {
        let err =
            parse_event::<Sample>("f", serde_json::json!({"action": "sync-tenant"})).unwrap_err();
        assert!(err.to_string().contains("tenant"), "{err}");
    }
}
