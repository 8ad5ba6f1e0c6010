//! Listing cursors: an opaque, URL-safe token holding the `(updatedAt, id)` of the last record of
//! a page. The next page starts strictly after that key, so records that do not change between
//! pages are neither skipped nor repeated; a record that changes moves to the end (its new
//! `updatedAt`) and comes again. A cursor never holds filters: the client repeats them.
//!
//! The contract caps a cursor at [`MAX_CURSOR_LEN`] characters. A key short enough travels inside
//! the cursor itself; a longer one (an id of more than about 120 characters) is kept by the
//! server and the cursor names it, as a real server keeps cursor state.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cwsync_billing::MAX_CURSOR_LEN;
use time::OffsetDateTime;

const VERSION: &str = "c1";
/// The prefix of a cursor that names a key kept by the server.
const KEPT: &str = "k";

/// The keys too long to travel inside a cursor, by the number their cursor names.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    kept: Vec<(OffsetDateTime, String)>,
}

impl Cursors {
    /// The cursor that continues after the record with this key.
    pub(crate) fn encode(&mut self, updated_at: OffsetDateTime, id: &str) -> String {
        let inline = encode(updated_at, id);
        if inline.len() <= MAX_CURSOR_LEN {
            return inline;
        }
        self.kept.push((updated_at, id.to_owned()));
        format!("{KEPT}{}", self.kept.len() - 1)
    }

    /// The key a cursor continues after; `None` when this server did not issue it.
    pub(crate) fn decode(&self, cursor: &str) -> Option<(OffsetDateTime, String)> {
        if let Some(n) = cursor.trim().strip_prefix(KEPT) {
            return self.kept.get(n.parse::<usize>().ok()?).cloned();
        }
        decode(cursor)
    }
}

/// The cursor that holds this key.
fn encode(updated_at: OffsetDateTime, id: &str) -> String {
    let raw = format!("{VERSION}\n{}\n{id}", updated_at.unix_timestamp_nanos());
    URL_SAFE_NO_PAD.encode(raw)
}

/// The key a cursor holds; `None` when this server did not issue it.
fn decode(cursor: &str) -> Option<(OffsetDateTime, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let raw = String::from_utf8(bytes).ok()?;
    let mut parts = raw.splitn(3, '\n');
    if parts.next()? != VERSION {
        return None;
    }
    let nanos: i128 = parts.next()?.parse().ok()?;
    let id = parts.next()?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    Some((at, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_safe(cursor: &str) -> bool {
        cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn a_cursor_round_trips_its_key_with_any_id() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_456_789).unwrap();
        let mut cursors = Cursors::default();
        for id in ["A-1001", "a/b c\n\"é\"", ""] {
            let cursor = cursors.encode(at, id);
            assert!(url_safe(&cursor));
            assert_eq!(cursors.decode(&cursor), Some((at, id.to_owned())));
        }
    }

    #[test]
    fn a_key_too_long_for_a_cursor_is_kept_and_the_cursor_stays_short() {
        let at = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let mut cursors = Cursors::default();
        let long = "x".repeat(1000);
        let cursor = cursors.encode(at, &long);
        assert!(
            cursor.len() <= MAX_CURSOR_LEN && url_safe(&cursor),
            "{cursor}"
        );
        assert_eq!(cursors.decode(&cursor), Some((at, long)));
        assert_eq!(cursors.decode("k7"), None, "never issued");
    }

    #[test]
    fn foreign_or_damaged_cursors_are_not_accepted() {
        let cursors = Cursors::default();
        for bad in [
            "",
            "not base64!",
            "YWJj",
            "k",
            "k-1",
            &URL_SAFE_NO_PAD.encode("c1\nx\nA"),
        ] {
            assert_eq!(cursors.decode(bad), None, "{bad:?}");
        }
    }
}
