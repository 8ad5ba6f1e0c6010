//! Listing cursors: an opaque, URL-safe token holding the `(updatedAt, id)` of the last record of
//! a page. The next page starts strictly after that key, so records that do not change between
//! pages are neither skipped nor repeated; a record that changes moves to the end (its new
//! `updatedAt`) and comes again. A cursor never holds filters: the client repeats them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

const VERSION: &str = "c1";

/// The cursor that continues after the record with this key.
pub(crate) fn encode(updated_at: OffsetDateTime, id: &str) -> String {
    let raw = format!("{VERSION}\n{}\n{id}", updated_at.unix_timestamp_nanos());
    URL_SAFE_NO_PAD.encode(raw)
}

/// The key a cursor continues after; `None` when this server did not issue it.
pub(crate) fn decode(cursor: &str) -> Option<(OffsetDateTime, String)> {
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

    #[test]
    fn a_cursor_round_trips_its_key_with_any_id() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_456_789).unwrap();
        for id in ["A-1001", "a/b c\n\"é\"", ""] {
            let cursor = encode(at, id);
            assert!(
                cursor
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(decode(&cursor), Some((at, id.to_owned())));
        }
    }

    #[test]
    fn foreign_or_damaged_cursors_are_not_accepted() {
        for bad in [
            "",
            "not base64!",
            "YWJj",
            &URL_SAFE_NO_PAD.encode("c1\nx\nA"),
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
