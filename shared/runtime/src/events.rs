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
///
/// A refusal names the field that is wrong (`field \`tenant\`: invalid type: integer \`5\`,
/// expected a string`), the `action` when that is what's wrong, or says the event is no object;
/// a long value the parser quotes is cut (see [`shorten`]), so a megabyte of input never comes
/// back in the error, the log or the console.
pub fn parse_event<T: DeserializeOwned>(
    function: &'static str,
    payload: serde_json::Value,
) -> Result<T, EventError> {
    T::deserialize(&payload).map_err(|e| EventError::Invalid {
        function,
        reason: explain::<T>(&payload, &e.to_string()),
    })
}

/// The longest error message a function answers with; past it the text is cut.
pub const MAX_MESSAGE_LEN: usize = 2048;

/// Quoted values (between backticks or double quotes) longer than 64 characters cut to their
/// first 32 and a count, and the whole cut to [`MAX_MESSAGE_LEN`]: parsers and validators quote
/// what they refuse, and what they refuse may be a megabyte long.
pub fn shorten(text: &str) -> String {
    const LONG: usize = 64;
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE_LEN));
    let mut rest = text;
    while let Some(start) = rest.find(['`', '"']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=start]);
        let inner = &rest[start + 1..];
        let end = inner.find(quote).unwrap_or(inner.len());
        let quoted = &inner[..end];
        let chars = quoted.chars().count();
        if chars > LONG {
            out.extend(quoted.chars().take(32));
            out.push_str(&format!("… ({chars} characters)"));
        } else {
            out.push_str(quoted);
        }
        rest = &inner[end..];
        if let Some(close) = rest.chars().next() {
            out.push(close);
            rest = &rest[close.len_utf8()..];
        }
        if out.len() > MAX_MESSAGE_LEN {
            break;
        }
    }
    out.push_str(rest);
    if out.len() > MAX_MESSAGE_LEN {
        let cut = (0..=MAX_MESSAGE_LEN)
            .rev()
            .find(|i| out.is_char_boundary(*i))
            .unwrap_or(0);
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Why `payload` is not a `T`, naming the field. serde names a missing or unknown field itself
/// but not the field whose value has the wrong type or is out of range (an internally tagged
/// enum reads the object before it knows the variant, so the path is lost); that field is the one
/// whose removal makes the error go away or turn into "missing field" for it.
fn explain<T: DeserializeOwned>(payload: &serde_json::Value, reason: &str) -> String {
    let Some(object) = payload.as_object() else {
        return format!(
            "the event must be a JSON object with an `action`, not {}",
            match payload {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::Object(_) => "an object",
            }
        );
    };
    if reason.starts_with("missing field") || reason.starts_with("unknown field") {
        return shorten(reason);
    }
    let culprit = object
        .keys()
        .filter(|key| key.as_str() != "action")
        .find(|key| {
            let mut without = object.clone();
            without.remove(key.as_str());
            match T::deserialize(&serde_json::Value::Object(without)) {
                Ok(_) => true,
                Err(e) => e.to_string() == format!("missing field `{key}`"),
            }
        })
        .map(String::as_str)
        .or_else(|| {
            let action_is_text = object.get("action").is_some_and(|a| a.is_string());
            (!action_is_text || reason.contains("variant")).then_some("action")
        });
    match culprit {
        Some(field) => format!("field `{}`: {}", shorten(field), shorten(reason)),
        None => shorten(reason),
    }
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

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(
        tag = "action",
        rename_all = "kebab-case",
        rename_all_fields = "camelCase",
        deny_unknown_fields
    )]
    enum Console {
        Report {
            tenant: String,
            #[serde(default)]
            dry_run: bool,
            #[serde(default)]
            limit: Option<usize>,
        },
    }

    fn refusal(event: serde_json::Value) -> String {
        parse_event::<Console>("f", event).unwrap_err().to_string()
    }

    #[test]
    fn a_mistyped_field_is_named_though_serde_loses_its_path_in_a_tagged_enum() {
        let text = refusal(serde_json::json!({"action": "report", "tenant": 5}));
        assert!(
            text.contains("field `tenant`: invalid type: integer `5`"),
            "{text}"
        );
        let text = refusal(serde_json::json!({"action": "report", "tenant": "a", "dryRun": "yes"}));
        assert!(text.contains("field `dryRun`"), "{text}");
        let text = refusal(serde_json::json!({"action": "report", "tenant": "a", "limit": -1}));
        assert!(text.contains("field `limit`"), "{text}");
    }

    #[test]
    fn a_bad_action_is_named_and_an_event_that_is_no_object_says_so() {
        for action in [
            serde_json::json!(7),
            serde_json::json!(null),
            serde_json::json!(["report"]),
        ] {
            let text = refusal(serde_json::json!({"action": action, "tenant": "a"}));
            assert!(text.contains("field `action`"), "{text}");
        }
        let text = refusal(serde_json::json!({"action": "explode", "tenant": "a"}));
        assert!(
            text.contains("field `action`") && text.contains("explode"),
            "{text}"
        );
        let text = refusal(serde_json::json!(["report"]));
        assert!(
            text.contains("must be a JSON object with an `action`, not an array"),
            "{text}"
        );
    }

    #[test]
    fn a_huge_value_never_comes_back_whole_in_the_refusal() {
        let huge = "x".repeat(1 << 20);
        let text = refusal(serde_json::json!({"action": huge}));
        assert!(text.len() < 512, "{} bytes", text.len());
        assert!(text.contains("(1048576 characters)"), "{text}");
        let text = refusal(serde_json::json!({"action": "report", "tenant": "a", "dryRun": huge}));
        assert!(
            text.len() < 512 && text.contains("field `dryRun`"),
            "{text}"
        );
    }

    #[test]
    fn shorten_cuts_long_quoted_values_and_the_whole_but_keeps_short_ones() {
        assert_eq!(shorten("unknown field `drop`"), "unknown field `drop`");
        let long = format!("bad \"{}\" and `{}`", "é".repeat(100), "y".repeat(70));
        let cut = shorten(&long);
        assert!(
            cut.starts_with(&format!("bad \"{}… (100 characters)\"", "é".repeat(32))),
            "{cut}"
        );
        assert!(cut.ends_with("… (70 characters)`"), "{cut}");
        assert!(shorten(&"z ".repeat(5000)).len() <= MAX_MESSAGE_LEN + '…'.len_utf8());
        assert_eq!(shorten("an unclosed `quote"), "an unclosed `quote");
    }
}
