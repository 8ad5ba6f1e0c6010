//! Field rules shared by every entity the mapping builds (companies, sites, contacts, catalog
//! items, agreements, additions): what counts as a value, one-line text, length limits, collecting
//! every problem of a record, and the tenant's "never overwrite" / "owned by ConnectWise" field
//! lists applied to a PATCH.
//!
//! Nothing here knows a particular entity; each entity module says which fields and limits apply.

use cwsync_connectwise::{DiffOptions, PatchOp, diff_with};
use serde::Serialize;
use serde_json::Value;

use crate::record::{Noted, RecordProblem};
use crate::settings::same_name;

/// The value of an optional text field: trimmed, and `None` when empty (an empty string is
/// "no value" on both sides).
pub(crate) fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// [`present`] as an owned string, the form the models hold.
pub(crate) fn owned(value: Option<&str>) -> Option<String> {
    present(value).map(str::to_owned)
}

/// Whether two optional values are the same to a user: both absent, or both present and equal
/// ignoring case and surrounding spaces.
pub(crate) fn same_optional_name(a: Option<&str>, b: Option<&str>) -> bool {
    match (present(a), present(b)) {
        (None, None) => true,
        (Some(a), Some(b)) => same_name(a, b),
        _ => false,
    }
}

/// Whether `c` breaks a one-line value: a control character (tab, newline, NUL, DEL, C1) or a
/// Unicode line or paragraph separator.
fn breaks_line(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// `text` as one line: each run of line-breaking characters ([`breaks_line`]) together with the
/// spaces around it becomes a single space, and surrounding spaces are trimmed. Spaces between
/// words are otherwise kept as they are. Also says what it did (`None`: nothing), for the
/// record's report.
pub(crate) fn one_line(text: &str) -> (String, Option<&'static str>) {
    let blank = |c: char| breaks_line(c) || c.is_whitespace();
    let mut line = String::with_capacity(text.len());
    let mut gap = String::new();
    for c in text.trim_matches(blank).chars() {
        if blank(c) {
            gap.push(c);
            continue;
        }
        if gap.chars().any(breaks_line) {
            line.push(' ');
        } else {
            line.push_str(&gap);
        }
        gap.clear();
        line.push(c);
    }
    let replaced = text.chars().any(breaks_line);
    let trimmed = text.starts_with(blank) || text.ends_with(blank);
    let note = match (replaced, trimmed) {
        (true, true) => Some("control characters replaced, spaces trimmed"),
        (true, false) => Some("control characters replaced"),
        (false, true) => Some("spaces trimmed"),
        (false, false) => None,
    };
    (line, note)
}

/// The problems of one billing record, collected so all of them are reported at once, and the
/// notes on what was made of its values (a dropped extension, a name made one line), for its
/// report line.
#[derive(Debug)]
pub(crate) struct Problems {
    entity: &'static str,
    record_id: String,
    found: Vec<RecordProblem>,
    notes: Vec<String>,
}

impl Problems {
    pub(crate) fn new(entity: &'static str, record_id: &str) -> Self {
        Self {
            entity,
            record_id: record_id.to_owned(),
            found: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Notes what was made of `field`'s value (`name: spaces trimmed`).
    pub(crate) fn note(&mut self, field: &str, what: impl std::fmt::Display) {
        self.notes.push(format!("{field}: {what}"));
    }

    /// The one-line value of an optional text field ([`one_line`], noted when it changed
    /// anything), `None` when empty, checked against `max`.
    pub(crate) fn line(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let value = self.clean_line(field, value);
        self.limited(field, value, max)
    }

    /// [`one_line`] of `value`, noted; `None` when empty.
    pub(crate) fn clean_line(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let (line, note) = one_line(value?);
        if let Some(note) = note
            && !line.is_empty()
        {
            self.note(field, note);
        }
        (!line.is_empty()).then_some(line)
    }

    /// The one-line value of a field ConnectWise requires; a problem when it is absent.
    pub(crate) fn required_line(
        &mut self,
        field: &str,
        value: Option<&str>,
        why: &str,
    ) -> Option<String> {
        let value = self.clean_line(field, value);
        if value.is_none() {
            self.push(field, format!("is required: {why}"));
        }
        value
    }

    pub(crate) fn push(&mut self, field: &str, message: impl Into<String>) {
        self.found.push(RecordProblem {
            entity: self.entity,
            record_id: self.record_id.clone(),
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// The trimmed value of a field ConnectWise requires; a problem when it is absent.
    pub(crate) fn required(
        &mut self,
        field: &str,
        value: Option<&str>,
        why: &str,
    ) -> Option<String> {
        let value = owned(value);
        if value.is_none() {
            self.push(field, format!("is required: {why}"));
        }
        value
    }

    /// `value`, reporting it when it is longer than ConnectWise accepts.
    pub(crate) fn limited(
        &mut self,
        field: &str,
        value: Option<String>,
        max: usize,
    ) -> Option<String> {
        if let Some(text) = &value {
            let chars = text.chars().count();
            if chars > max {
                self.push(
                    field,
                    format!("is {chars} characters long; ConnectWise accepts at most {max}"),
                );
            }
        }
        value
    }

    /// The optional text field `value`, trimmed, checked against `max`.
    pub(crate) fn text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        self.limited(field, owned(value), max)
    }

    /// `value` with the notes on it when no problem was found, else every problem.
    pub(crate) fn finish_noted<T>(self, value: T) -> Result<Noted<T>, Vec<RecordProblem>> {
        if self.found.is_empty() {
            Ok(Noted {
                value,
                notes: self.notes,
            })
        } else {
            Err(self.found)
        }
    }
}

/// The top-level field a settings entry names: `status/name` and `status.name` name `status`.
pub(crate) fn top_level(entry: &str) -> &str {
    let entry = entry.trim();
    entry.split(['/', '.']).next().unwrap_or(entry)
}

/// Whether `field` (a ConnectWise JSON key) or one of its `aliases` is in one of `lists`.
pub(crate) fn listed(lists: &[&[String]], field: &str, aliases: &[&str]) -> bool {
    lists.iter().flat_map(|list| list.iter()).any(|entry| {
        let named = top_level(entry);
        same_name(named, field) || aliases.iter().any(|alias| same_name(named, alias))
    })
}

/// The PATCH from `current` to `desired` (both the same model), changed fields only, leaving
/// alone `always_ignore` and every field named in `lists`. `aliases` maps a JSON key to the other
/// names a tenant may use for it (`stateReference` ← `state`).
///
/// The models serialise infallibly in practice (plain strings, numbers and references); should one
/// ever fail, it reads as `{}`, so a failed `desired` patches nothing rather than clearing fields.
pub(crate) fn plan_patch<M: Serialize>(
    current: &M,
    desired: &M,
    lists: &[&[String]],
    always_ignore: &[&str],
    aliases: &[(&str, &[&str])],
) -> Vec<PatchOp> {
    let current = serde_json::to_value(current).unwrap_or(Value::Null);
    let desired = serde_json::to_value(desired).unwrap_or(Value::Null);
    let mut ignore: Vec<&str> = always_ignore.to_vec();
    if let Some(fields) = desired.as_object() {
        for key in fields.keys() {
            let other_names = aliases
                .iter()
                .find(|(field, _)| field == key)
                .map(|(_, names)| *names)
                .unwrap_or(&[]);
            if listed(lists, key, other_names) {
                ignore.push(key);
            }
        }
    }
    diff_with(
        &current,
        &desired,
        DiffOptions {
            clear_missing: false,
            ignore: &ignore,
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn control_characters_become_one_space_and_the_value_is_trimmed() {
        assert_eq!(
            one_line("Acme\tCorp"),
            ("Acme Corp".to_owned(), Some("control characters replaced"))
        );
        assert_eq!(
            one_line("  Acme \r\n\t Corp\n"),
            (
                "Acme Corp".to_owned(),
                Some("control characters replaced, spaces trimmed")
            )
        );
        assert_eq!(
            one_line("Acme\u{2028}Corp\u{7f}Ltd"),
            (
                "Acme Corp Ltd".to_owned(),
                Some("control characters replaced")
            )
        );
        assert_eq!(
            one_line(" Acme  Corp "),
            ("Acme  Corp".to_owned(), Some("spaces trimmed"))
        );
        assert_eq!(one_line("Acme Corp"), ("Acme Corp".to_owned(), None));
        assert_eq!(
            one_line("Café – Zürich"),
            ("Café – Zürich".to_owned(), None)
        );
    }

    #[test]
    fn a_cleaned_line_is_noted_on_its_field_and_a_blank_one_is_absent() {
        let mut problems = Problems::new("company", "A-1");
        assert_eq!(
            problems.line("name", Some("\tAcme\nCorp "), 10),
            Some("Acme Corp".to_owned())
        );
        assert_eq!(problems.line("city", Some(" \t\n "), 10), None);
        assert_eq!(
            problems.line("line1", Some("1 Main St"), 10),
            Some("1 Main St".to_owned())
        );
        let noted = problems.finish_noted(()).unwrap();
        assert_eq!(
            noted.notes,
            ["name: control characters replaced, spaces trimmed"]
        );
    }

    #[test]
    fn empty_and_blank_strings_are_no_value() {
        assert_eq!(present(Some("")), None);
        assert_eq!(present(Some("   ")), None);
        assert_eq!(present(Some(" a ")), Some("a"));
        assert_eq!(present(None), None);
    }

    #[test]
    fn a_nested_settings_path_names_its_top_level_field() {
        assert_eq!(top_level("status/name"), "status");
        assert_eq!(top_level("status.name"), "status");
        assert_eq!(top_level(" name "), "name");
    }

    #[test]
    fn listed_fields_match_case_insensitively_and_through_aliases() {
        let list = vec!["AddressLine1".to_owned(), "state/name".to_owned()];
        let lists: [&[String]; 1] = [&list];
        assert!(listed(&lists, "addressLine1", &[]));
        assert!(listed(&lists, "stateReference", &["state"]));
        assert!(!listed(&lists, "city", &[]));
    }
}
