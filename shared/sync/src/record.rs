//! What one record's sync came to, and how a job builds those lines: a [`RecordResult`] per
//! record touched, gathered per unit of work (an account, a catalog page) in a [`UnitResult`], each
//! line built by the record's [`Recorder`] so the wording is the same in every job.
//!
//! Wording of dry runs: a dry run reads and plans exactly what a real run would, and every line
//! says what *would* happen ([`describe_change`], [`would`]); the outcome is the one a real run
//! would have.

use cwsync_store::runs::{Outcome, RunLogEntry};
use serde::{Deserialize, Serialize};

/// What one record's sync came to: one line of the run report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordResult {
    /// The record's entity (`company`, `site`, `catalog-item`, …).
    pub entity: String,
    /// The billing record's id.
    pub record_id: String,
    /// What happened.
    pub outcome: Outcome,
    /// The changed fields, or why it failed or was skipped.
    pub detail: String,
    /// The ConnectWise record's id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_wise_id: Option<i64>,
    /// A fingerprint of the billing record, for the error ledger; empty for a record that can't
    /// be tracked there (one without an id).
    #[serde(skip)]
    pub source_fingerprint: String,
}

impl RecordResult {
    /// The same line, naming ConnectWise record `id`.
    pub fn with_id(mut self, id: i64) -> Self {
        self.connect_wise_id = Some(id);
        self
    }
}

impl From<&RecordResult> for RunLogEntry {
    fn from(record: &RecordResult) -> Self {
        RunLogEntry {
            entity: record.entity.clone(),
            record_id: record.record_id.clone(),
            outcome: record.outcome,
            detail: record.detail.clone(),
        }
    }
}

/// The results of one unit of work (one job's worth: an account and its records): the unit's own
/// record (its entity is the run's unit entity, see [`crate::runs::RunBook`]) and the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitResult {
    /// The unit's id (the billing account's id, …).
    pub unit_id: String,
    /// One result per record touched.
    pub records: Vec<RecordResult>,
}

impl UnitResult {
    /// A unit with one line: its own record.
    pub fn single(record: RecordResult) -> Self {
        UnitResult {
            unit_id: record.record_id.clone(),
            records: vec![record],
        }
    }
}

/// Builds the result lines of one record.
#[derive(Debug, Clone)]
pub struct Recorder {
    entity: &'static str,
    record_id: String,
    source_fingerprint: String,
    /// What was made of the record's billing values on the way (a value trimmed, a default
    /// used), added to the detail of every line but a failure.
    notes: Vec<String>,
}

impl Recorder {
    /// Lines of record `record_id` of `entity`, whose billing values have `source_fingerprint`
    /// (empty: the record stays off the error ledger).
    pub fn new(entity: &'static str, record_id: &str, source_fingerprint: String) -> Self {
        Recorder {
            entity,
            record_id: record_id.to_owned(),
            source_fingerprint,
            notes: Vec::new(),
        }
    }

    /// The same recorder, adding `notes` to every line but a failure.
    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }

    /// The record's entity.
    pub fn entity(&self) -> &'static str {
        self.entity
    }

    /// The record's id.
    pub fn record_id(&self) -> &str {
        &self.record_id
    }

    /// A line with `outcome` and `detail` (and the notes, unless it failed).
    pub fn with_detail(&self, outcome: Outcome, detail: String) -> RecordResult {
        let detail = if outcome == Outcome::Failed || self.notes.is_empty() {
            detail
        } else {
            let notes = self.notes.join("; ");
            if detail.is_empty() {
                notes
            } else {
                format!("{detail}; {notes}")
            }
        };
        RecordResult {
            entity: self.entity.to_owned(),
            record_id: self.record_id.clone(),
            outcome,
            detail,
            connect_wise_id: None,
            source_fingerprint: self.source_fingerprint.clone(),
        }
    }

    /// A failed line with `reason`.
    pub fn failed(&self, reason: impl Into<String>) -> RecordResult {
        self.with_detail(Outcome::Failed, reason.into())
    }

    /// A failed line naming every problem found in the record's values.
    pub fn problems<P: std::fmt::Display>(&self, problems: &[P]) -> RecordResult {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        self.failed(reasons.join("; "))
    }

    /// `outcome` with the changed fields, or `Unchanged` when there are none.
    pub fn changed(&self, outcome: Outcome, changed: Vec<String>, dry_run: bool) -> RecordResult {
        if changed.is_empty() {
            self.with_detail(Outcome::Unchanged, String::new())
        } else {
            self.with_detail(outcome, describe_change(&changed, dry_run))
        }
    }
}

/// `done` in a real run, `planned` in a dry run (`"linked"` / `"would link"`).
pub fn would<'a>(dry_run: bool, done: &'a str, planned: &'a str) -> &'a str {
    if dry_run { planned } else { done }
}

/// `changed: a, b` (`would change: a, b` in a dry run).
pub fn describe_change(changed: &[String], dry_run: bool) -> String {
    format!(
        "{}: {}",
        would(dry_run, "changed", "would change"),
        changed.join(", ")
    )
}

/// `how`, followed by the changed fields when there are any.
pub fn join_details(how: String, changed: &[String], dry_run: bool) -> String {
    if changed.is_empty() {
        how
    } else {
        format!("{how}; {}", describe_change(changed, dry_run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_added_to_every_line_but_a_failure() {
        let record = Recorder::new("widget", "W-1", "fp".to_owned())
            .with_notes(vec!["name trimmed".to_owned()]);
        assert_eq!(
            record
                .with_detail(Outcome::Created, "created widget 7".to_owned())
                .detail,
            "created widget 7; name trimmed"
        );
        assert_eq!(
            record.with_detail(Outcome::Unchanged, String::new()).detail,
            "name trimmed"
        );
        assert_eq!(record.failed("name: too long").detail, "name: too long");
    }

    #[test]
    fn a_change_is_worded_for_what_the_run_does() {
        let record = Recorder::new("widget", "W-1", String::new());
        let fields = vec!["name".to_owned(), "price".to_owned()];
        let real = record.changed(Outcome::Updated, fields.clone(), false);
        assert_eq!(
            (real.outcome, real.detail.as_str()),
            (Outcome::Updated, "changed: name, price")
        );
        let planned = record.changed(Outcome::Updated, fields, true);
        assert_eq!(planned.detail, "would change: name, price");
        let none = record.changed(Outcome::Updated, Vec::new(), false);
        assert_eq!(none.outcome, Outcome::Unchanged);
        assert_eq!(
            join_details("linked existing widget 3".to_owned(), &[], true),
            "linked existing widget 3"
        );
        assert_eq!(
            join_details(
                "would link existing widget 3".to_owned(),
                &["name".to_owned()],
                true
            ),
            "would link existing widget 3; would change: name"
        );
    }

    #[test]
    fn problems_are_joined_into_one_failure_and_a_line_becomes_a_log_entry() {
        let record = Recorder::new("widget", "W-1", "fp".to_owned());
        let line = record
            .problems(&["name: empty", "price: negative"])
            .with_id(9);
        assert_eq!(line.detail, "name: empty; price: negative");
        assert_eq!(line.connect_wise_id, Some(9));
        let entry = RunLogEntry::from(&line);
        assert_eq!(
            (
                entry.entity.as_str(),
                entry.record_id.as_str(),
                entry.outcome
            ),
            ("widget", "W-1", Outcome::Failed)
        );
    }
}
