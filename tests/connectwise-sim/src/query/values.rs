//! How the query module reads a JSON record: walking a field path (across arrays), finding keys, and the
//! coercions SQL Server would apply (numbers in strings, RFC 3339 date-times, case-insensitive text).
//! Shared by `conditions` and `order` so that filtering and sorting agree; never mutates a record.

use super::conditions::NumberLiteral;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Finds `key` in `object`: the exact spelling first, then ignoring ASCII case, because ConnectWise field
/// names in query parameters are matched like SQL column names (case-insensitively).
pub(crate) fn lookup<'a>(
    object: &'a Map<String, Value>,
    key: &str,
) -> Option<(&'a String, &'a Value)> {
    object.get_key_value(key).or_else(|| {
        object
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
    })
}

/// Every value reached by `path` from `record`. Where the path crosses an array, each element is followed;
/// a leaf that is an array contributes its elements. `None` stands for a missing field (or an empty array).
pub(crate) fn resolve<'a>(record: &'a Value, path: &[String]) -> Vec<Option<&'a Value>> {
    let mut found = Vec::new();
    resolve_into(record, path, &mut found);
    // ConnectWise also reads the `_info` stamps as top-level fields: django-connectwise syncs with
    // `lastUpdated > [..]`. A record's own field of that name wins.
    if let ([key], [None]) = (path, found.as_slice())
        && INFO_STAMPS.iter().any(|s| s.eq_ignore_ascii_case(key))
        && let Some((_, stamp)) = record
            .get("_info")
            .and_then(Value::as_object)
            .and_then(|info| lookup(info, key))
    {
        return vec![Some(stamp)];
    }
    found
}

/// `_info` keys a condition or `orderBy` may name without the `_info/` prefix.
const INFO_STAMPS: [&str; 4] = ["lastUpdated", "updatedBy", "dateEntered", "enteredBy"];

fn resolve_into<'a>(value: &'a Value, path: &[String], found: &mut Vec<Option<&'a Value>>) {
    match value {
        Value::Array(items) if items.is_empty() => found.push(None),
        Value::Array(items) => {
            for item in items {
                resolve_into(item, path, found);
            }
        }
        _ => match path.split_first() {
            None => found.push(Some(value)),
            Some((key, rest)) => match value {
                Value::Object(object) => match lookup(object, key) {
                    Some((_, child)) => resolve_into(child, rest, found),
                    None => found.push(None),
                },
                // A path that goes below a scalar (or null) reaches nothing.
                _ => found.push(None),
            },
        },
    }
}

/// The number a JSON value holds: a JSON number, or a string that is written as a number (money can come
/// as a string). Exact, so that ids and money compare without floating-point surprises.
pub(crate) fn json_number(value: &Value) -> Option<NumberLiteral> {
    match value {
        Value::Number(number) => number_of(number),
        Value::String(text) => NumberLiteral::parse(text.trim()),
        _ => None,
    }
}

/// The exact decimal of a JSON number. Rust's `Display` for `f64` never uses exponent notation, so the
/// shortest round-trip digits of a float parse as a plain decimal.
pub(crate) fn number_of(number: &serde_json::Number) -> Option<NumberLiteral> {
    if let Some(integer) = number.as_i64() {
        NumberLiteral::parse(&integer.to_string())
    } else if let Some(integer) = number.as_u64() {
        NumberLiteral::parse(&integer.to_string())
    } else {
        number
            .as_f64()
            .and_then(|float| NumberLiteral::parse(&float.to_string()))
    }
}

/// A string field read as a date-time: RFC 3339, as ConnectWise writes `lastUpdated` and dates.
pub(crate) fn json_datetime(text: &str) -> Option<OffsetDateTime> {
    // Cheap pre-check: most strings are not dates, and a failed parse costs more than this.
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Text folded for SQL Server's case-insensitive collation (Unicode-aware lower case).
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// The text a LIKE or CONTAINS looks at: strings as they are, numbers as written; nothing else.
pub(crate) fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> Vec<String> {
        text.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn a_path_walks_objects_and_crosses_arrays() {
        let record = json!({"a": {"b": [{"c": 1}, {"c": 2}, {"d": 3}]}});
        assert_eq!(
            resolve(&record, &path("a/b/c")),
            vec![Some(&json!(1)), Some(&json!(2)), None]
        );
    }

    #[test]
    fn a_missing_field_an_empty_array_and_a_path_below_a_scalar_resolve_to_missing() {
        let record = json!({"a": 1, "list": []});
        assert_eq!(resolve(&record, &path("nope")), vec![None]);
        assert_eq!(resolve(&record, &path("list/x")), vec![None]);
        assert_eq!(resolve(&record, &path("a/b")), vec![None]);
    }

    #[test]
    fn the_info_stamps_can_be_named_without_the_info_prefix() {
        let record = json!({"_info": {"lastUpdated": "2020-01-01T00:00:00Z"}});
        assert_eq!(
            resolve(&record, &path("lastUpdated")),
            vec![Some(&json!("2020-01-01T00:00:00Z"))]
        );
        let own = json!({"lastUpdated": "own", "_info": {"lastUpdated": "stamp"}});
        assert_eq!(
            resolve(&own, &path("lastupdated")),
            vec![Some(&json!("own"))]
        );
        assert_eq!(resolve(&record, &path("nope")), vec![None]);
    }

    #[test]
    fn field_names_match_exactly_first_then_ignoring_case() {
        let record = json!({"Name": "upper", "name": "lower", "Other": 1});
        assert_eq!(resolve(&record, &path("name")), vec![Some(&json!("lower"))]);
        assert_eq!(resolve(&record, &path("other")), vec![Some(&json!(1))]);
    }

    #[test]
    fn numbers_are_read_exactly_from_json_numbers_and_numeric_strings() {
        assert_eq!(json_number(&json!(12)), NumberLiteral::parse("12"));
        assert_eq!(
            json_number(&json!(u64::MAX)),
            NumberLiteral::parse("18446744073709551615")
        );
        assert_eq!(json_number(&json!(12.5)), NumberLiteral::parse("12.5"));
        assert_eq!(
            json_number(&json!(1e300)),
            NumberLiteral::parse(&format!("1{}", "0".repeat(300)))
        );
        assert_eq!(json_number(&json!(" 12.50 ")), NumberLiteral::parse("12.5"));
        assert_eq!(json_number(&json!("12abc")), None);
        assert_eq!(json_number(&json!(true)), None);
    }

    #[test]
    fn only_rfc3339_strings_read_as_datetimes() {
        assert!(json_datetime("2015-12-23T05:53:27Z").is_some());
        assert!(json_datetime("2015-12-23T05:53:27.123+02:00").is_some());
        assert!(json_datetime("2015-12-23").is_none());
        assert!(json_datetime("hello, this is not a date").is_none());
        assert!(json_datetime("2015-13-23T05:53:27Z").is_none());
    }
}
