//! Matching a billing record to the ConnectWise record that already exists for it by a natural key
//! (a company's identifier, a catalog item's SKU), so nothing is created twice. Keys compare
//! trimmed and in any case, like every name cwsync looks up.

use crate::settings::same_name;

/// What matching a key among candidates found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMatch {
    /// Exactly one candidate holds the key.
    Unique(i64),
    /// Several do: nothing may be created or linked; the ids are reported, sorted.
    Ambiguous(Vec<i64>),
    /// None does: the record is created.
    NoMatch,
}

/// One ConnectWise record as matching sees it: its id (absent on a partial read), whether it is
/// deleted, and the values any of which may equal the key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a, const N: usize> {
    pub(crate) id: Option<i64>,
    pub(crate) deleted: bool,
    pub(crate) keys: [Option<&'a str>; N],
}

/// Matches `key` against `candidates` (trimmed, any case). Candidates without an id and deleted
/// ones are ignored; a candidate listed twice or matching on several of its keys counts once.
pub(crate) fn match_key<'a, const N: usize>(
    key: &str,
    candidates: impl IntoIterator<Item = Candidate<'a, N>>,
) -> KeyMatch {
    let key = key.trim();
    if key.is_empty() {
        return KeyMatch::NoMatch;
    }
    let mut ids: Vec<i64> = candidates
        .into_iter()
        .filter(|candidate| !candidate.deleted)
        .filter(|candidate| {
            candidate
                .keys
                .iter()
                .any(|value| value.is_some_and(|value| same_name(value, key)))
        })
        .filter_map(|candidate| candidate.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [] => KeyMatch::NoMatch,
        [id] => KeyMatch::Unique(*id),
        _ => KeyMatch::Ambiguous(ids),
    }
}
