//! The query side of the simulated API: the `conditions` grammar (also used for `childConditions` and
//! `customFieldConditions`), `orderBy` and `fields`. Pure functions over `serde_json::Value`; no HTTP here.
//!
//! Every parser here returns a [`QueryError`] for malformed input and must never panic, whatever the
//! client sends: the server turns the error into a 400 response.

pub mod conditions;
pub mod fields;
pub mod order;
mod values;

/// A malformed query parameter, with a message that says what is wrong and where (byte offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub message: String,
    /// Byte offset in the parameter where the problem was found, when known.
    pub position: Option<usize>,
}

impl QueryError {
    /// An error found at byte offset `position`; the message already says "at position N".
    pub(crate) fn at(position: usize, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            position: Some(position),
        }
    }
}

/// The first character of a field name: `[A-Za-z_]`.
pub(crate) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// A later character of a field name: `[A-Za-z0-9_]`.
pub(crate) fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Describes what was found at `position` of `input` for an error message: the character or "end of input".
pub(crate) fn found_at(input: &str, position: usize) -> String {
    match input.get(position..).and_then(|rest| rest.chars().next()) {
        Some(c) => format!("{c:?}"),
        None => "end of input".to_owned(),
    }
}

/// Parses a field path `ident('/'ident)*` with no whitespace inside, as used by `orderBy` and `fields`.
/// `offset` is where `text` starts in the whole parameter, so errors point into the parameter.
pub(crate) fn parse_path(text: &str, offset: usize) -> Result<Vec<String>, QueryError> {
    let mut segments = Vec::new();
    let mut segment_start = 0;
    loop {
        let rest = &text[segment_start..];
        let end = rest.find('/').map_or(text.len(), |i| segment_start + i);
        let segment = &text[segment_start..end];
        let mut chars = segment.char_indices();
        match chars.next() {
            None => {
                let position = offset + segment_start;
                return Err(QueryError::at(
                    position,
                    format!(
                        "Expected a field name at position {position} but found {}",
                        found_at(text, segment_start)
                    ),
                ));
            }
            Some((_, c)) if !is_ident_start(c) => {
                let position = offset + segment_start;
                return Err(QueryError::at(
                    position,
                    format!(
                        "Expected a field name at position {position} but found {c:?} \
                         (a field name starts with a letter or '_')"
                    ),
                ));
            }
            Some(_) => {}
        }
        if let Some((i, c)) = chars.find(|&(_, c)| !is_ident_continue(c)) {
            let position = offset + segment_start + i;
            return Err(QueryError::at(
                position,
                format!("Unexpected character {c:?} in a field path at position {position}"),
            ));
        }
        segments.push(segment.to_owned());
        if end == text.len() {
            return Ok(segments);
        }
        segment_start = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_path_splits_on_slashes() {
        assert_eq!(
            parse_path("status/name", 0).unwrap(),
            vec!["status".to_owned(), "name".to_owned()]
        );
    }

    #[test]
    fn path_errors_point_into_the_whole_parameter() {
        let error = parse_path("status//name", 10).unwrap_err();
        assert_eq!(error.position, Some(17));
        assert!(error.message.contains("position 17"), "{}", error.message);

        let error = parse_path("status/", 3).unwrap_err();
        assert_eq!(error.position, Some(10));
        assert!(error.message.contains("end of input"), "{}", error.message);

        let error = parse_path("1abc", 0).unwrap_err();
        assert_eq!(error.position, Some(0));

        let error = parse_path("na-me", 0).unwrap_err();
        assert_eq!(error.position, Some(2));
        assert!(error.message.contains("'-'"), "{}", error.message);
    }

    #[test]
    fn found_at_names_the_character_or_the_end() {
        assert_eq!(found_at("ab", 1), "'b'");
        assert_eq!(found_at("ab", 2), "end of input");
        assert_eq!(found_at("é", 1), "end of input");
    }
}
