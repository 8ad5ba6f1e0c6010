//! `orderBy`: `path [asc|desc]` keys separated by commas, e.g. `company/name asc, id desc`.
//!
//! Sorting compares like the server's SQL: numbers numerically (a number written in a string counts as a
//! number when the same field holds real JSON numbers elsewhere), RFC 3339 strings as instants, other text
//! case-insensitively, and missing/null values first when ascending. It must never panic, whatever the
//! records hold, so every sort key comes from a total order.

use super::conditions::NumberLiteral;
use super::values::{fold, json_datetime, json_number, resolve};
use super::{QueryError, found_at, parse_path};
use serde_json::Value;
use std::cmp::Ordering;
use time::OffsetDateTime;

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    pub path: Vec<String>,
    pub descending: bool,
}

/// Parses an `orderBy` parameter. Empty input (or an empty key between commas) is an error.
pub fn parse_order_by(input: &str) -> Result<Vec<OrderKey>, QueryError> {
    let mut keys = Vec::new();
    let mut item_start = 0;
    for item in input.split(',') {
        keys.push(parse_key(input, item, item_start)?);
        item_start += item.len() + 1;
    }
    Ok(keys)
}

/// Parses one `path [asc|desc]` item that starts at byte `item_start` of `input`.
fn parse_key(input: &str, item: &str, item_start: usize) -> Result<OrderKey, QueryError> {
    let mut words = words(item).map(|(offset, word)| (item_start + offset, word));
    let Some((path_start, path_text)) = words.next() else {
        let position = item_start + item.len();
        return Err(QueryError::at(
            position,
            format!(
                "Expected a field name at position {position} but found {}",
                found_at(input, position)
            ),
        ));
    };
    let path = parse_path(path_text, path_start)?;
    let descending = match words.next() {
        None => false,
        Some((_, word)) if word.eq_ignore_ascii_case("asc") => false,
        Some((_, word)) if word.eq_ignore_ascii_case("desc") => true,
        Some((position, word)) => {
            return Err(QueryError::at(
                position,
                format!(
                    "Expected 'asc', 'desc', ',' or end of input after '{path_text}' at position {position} \
                     but found '{word}'"
                ),
            ));
        }
    };
    if let Some((position, word)) = words.next() {
        return Err(QueryError::at(
            position,
            format!("Expected ',' or end of input at position {position} but found '{word}'"),
        ));
    }
    Ok(OrderKey { path, descending })
}

/// The whitespace-separated words of `text`, each with its byte offset.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(char::is_whitespace)
        .scan(0, |offset, word| {
            let start = *offset;
            *offset += word.len()
                + text[start + word.len()..]
                    .chars()
                    .next()
                    .map_or(0, char::len_utf8);
            Some((start, word))
        })
        .filter(|(_, word)| !word.is_empty())
}

/// Sorts records by the keys (stable; records without the field sort first ascending).
pub fn sort(records: &mut [Value], keys: &[OrderKey]) {
    if keys.is_empty() || records.len() < 2 {
        return;
    }
    let sort_keys: Vec<Vec<SortKey>> = {
        let columns: Vec<Vec<SortKey>> =
            keys.iter().map(|key| column(records, &key.path)).collect();
        (0..records.len())
            .map(|row| columns.iter().map(|column| column[row].clone()).collect())
            .collect()
    };
    let mut order: Vec<usize> = (0..records.len()).collect();
    // `sort_by` is stable, so records that tie on every key keep their order.
    order.sort_by(|&a, &b| {
        keys.iter()
            .zip(sort_keys[a].iter().zip(&sort_keys[b]))
            .map(|(key, (left, right))| {
                let ordering = left.cmp(right);
                if key.descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    let mut taken: Vec<Option<Value>> = records
        .iter_mut()
        .map(|record| Some(record.take()))
        .collect();
    for (slot, index) in records.iter_mut().zip(order) {
        if let Some(record) = taken[index].take() {
            *slot = record;
        }
    }
}

/// What one record sorts by for one key. The derived order (variant first, then content) is total, which
/// the standard sort requires; mixed kinds group as missing < booleans < numbers < date-times < text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Missing,
    Bool(bool),
    Number(NumberLiteral),
    DateTime(OffsetDateTime),
    Text(String),
    /// Objects and arrays can't be ordered meaningfully; they tie with each other.
    Other,
}

/// The sort keys of every record for one path.
fn column(records: &[Value], path: &[String]) -> Vec<SortKey> {
    // The first present value a path reaches (the first element, when it crosses an array).
    let values: Vec<Option<&Value>> = records
        .iter()
        .map(|record| {
            resolve(record, path)
                .into_iter()
                .flatten()
                .find(|value| !value.is_null())
        })
        .collect();
    let numeric_field = values.iter().flatten().any(|value| value.is_number());
    values
        .into_iter()
        .map(|value| match value {
            None | Some(Value::Null) => SortKey::Missing,
            Some(Value::Bool(flag)) => SortKey::Bool(*flag),
            Some(value @ Value::Number(_)) => {
                json_number(value).map_or(SortKey::Other, SortKey::Number)
            }
            Some(value @ Value::String(text)) => {
                if let Some(number) = json_number(value).filter(|_| numeric_field) {
                    SortKey::Number(number)
                } else if let Some(instant) = json_datetime(text) {
                    SortKey::DateTime(instant)
                } else {
                    SortKey::Text(fold(text))
                }
            }
            Some(_) => SortKey::Other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn key(path: &str, descending: bool) -> OrderKey {
        OrderKey {
            path: path.split('/').map(str::to_owned).collect(),
            descending,
        }
    }

    fn sorted(mut records: Vec<Value>, order_by: &str) -> Vec<Value> {
        sort(&mut records, &parse_order_by(order_by).unwrap());
        records
    }

    fn assert_error(input: &str, position: usize, fragment: &str) {
        let error = parse_order_by(input).unwrap_err();
        assert_eq!(
            error.position,
            Some(position),
            "{input:?}: {}",
            error.message
        );
        assert!(
            error.message.contains(&format!("position {position}")),
            "{}",
            error.message
        );
        assert!(
            error.message.contains(fragment),
            "{:?} lacks {fragment:?}",
            error.message
        );
    }

    #[test]
    fn keys_parse_with_ascending_as_the_default_direction() {
        assert_eq!(
            parse_order_by("company/name asc, id DESC,  dateEntered ,x Asc").unwrap(),
            vec![
                key("company/name", false),
                key("id", true),
                key("dateEntered", false),
                key("x", false)
            ]
        );
        assert_eq!(parse_order_by("id\tdesc").unwrap(), vec![key("id", true)]);
    }

    #[test]
    fn malformed_order_by_is_rejected_with_a_position() {
        assert_error(
            "",
            0,
            "Expected a field name at position 0 but found end of input",
        );
        assert_error("   ", 3, "Expected a field name");
        assert_error("a,,b", 2, "but found ','");
        assert_error("a,", 2, "but found end of input");
        assert_error(
            "name sideways",
            5,
            "Expected 'asc', 'desc', ',' or end of input after 'name'",
        );
        assert_error("name desc extra", 10, "but found 'extra'");
        assert_error("id, status/ desc", 11, "Expected a field name");
        assert_error("1id", 0, "a field name starts with a letter");
        assert_error("na-me", 2, "Unexpected character '-'");
    }

    #[test]
    fn numbers_sort_numerically_and_text_case_insensitively() {
        let records = vec![
            json!({"n": 10, "s": "b"}),
            json!({"n": 2, "s": "A"}),
            json!({"n": 1.5, "s": "c"}),
        ];
        let by_number = sorted(records.clone(), "n");
        assert_eq!(
            by_number.iter().map(|r| r["n"].clone()).collect::<Vec<_>>(),
            [json!(1.5), json!(2), json!(10)]
        );
        let by_text = sorted(records, "s desc");
        assert_eq!(
            by_text.iter().map(|r| r["s"].clone()).collect::<Vec<_>>(),
            [json!("c"), json!("b"), json!("A")]
        );
    }

    #[test]
    fn numeric_strings_sort_as_numbers_beside_real_numbers_but_as_text_among_text() {
        let money = sorted(
            vec![
                json!({"cost": "10.5"}),
                json!({"cost": 9}),
                json!({"cost": "100"}),
            ],
            "cost",
        );
        assert_eq!(
            money,
            [
                json!({"cost": 9}),
                json!({"cost": "10.5"}),
                json!({"cost": "100"})
            ]
        );
        let codes = sorted(vec![json!({"code": "9"}), json!({"code": "10"})], "code");
        assert_eq!(codes, [json!({"code": "10"}), json!({"code": "9"})]);
    }

    #[test]
    fn missing_and_null_values_come_first_ascending_and_last_descending() {
        let records = vec![
            json!({"id": 1, "n": 5}),
            json!({"id": 2}),
            json!({"id": 3, "n": null}),
            json!({"id": 4, "n": 1}),
        ];
        let ids = |records: Vec<Value>| records.iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(sorted(records.clone(), "n")),
            [json!(2), json!(3), json!(4), json!(1)]
        );
        assert_eq!(
            ids(sorted(records, "n desc")),
            [json!(1), json!(4), json!(2), json!(3)]
        );
    }

    #[test]
    fn the_sort_is_stable_and_later_keys_break_ties() {
        let records = vec![
            json!({"id": 1, "group": "b", "rank": 2}),
            json!({"id": 2, "group": "A", "rank": 1}),
            json!({"id": 3, "group": "B", "rank": 1}),
            json!({"id": 4, "group": "a", "rank": 1}),
        ];
        let ids = |records: Vec<Value>| {
            records
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(sorted(records.clone(), "group")),
            [2, 4, 1, 3],
            "ties keep their order"
        );
        assert_eq!(ids(sorted(records, "group desc, rank")), [3, 1, 2, 4]);
    }

    #[test]
    fn nested_paths_and_datetimes_with_offsets_sort_by_instant() {
        let records = vec![
            json!({"id": 1, "_info": {"lastUpdated": "2020-01-01T12:00:00+05:00"}}),
            json!({"id": 2, "_info": {"lastUpdated": "2020-01-01T08:00:00Z"}}),
            json!({"id": 3, "_info": {"lastUpdated": "2020-01-01T06:00:00Z"}}),
        ];
        let ids: Vec<_> = sorted(records, "_info/lastUpdated")
            .iter()
            .map(|r| r["id"].clone())
            .collect();
        assert_eq!(ids, [json!(3), json!(1), json!(2)]);
    }

    #[test]
    fn sorting_with_no_keys_leaves_the_order_alone() {
        let mut records = vec![json!({"id": 2}), json!({"id": 1})];
        sort(&mut records, &[]);
        assert_eq!(records, [json!({"id": 2}), json!({"id": 1})]);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let scalar = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[0-9]{1,3}(\\.[0-9])?".prop_map(Value::String),
            "[a-cA-C]{0,3}".prop_map(Value::String),
            Just(Value::String("2015-12-23T05:53:27+02:00".to_owned())),
        ];
        scalar.prop_recursive(2, 6, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                inner.prop_map(|value| json!({"v": value})),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_mix_of_values_sorts_without_panicking_into_a_stable_permutation(
            values in prop::collection::vec(json_value(), 0..40),
            descending in any::<bool>(),
        ) {
            let records: Vec<Value> = values
                .into_iter()
                .enumerate()
                .map(|(index, value)| json!({"index": index, "v": value}))
                .collect();
            let keys = [key("v", descending)];
            let mut once = records.clone();
            sort(&mut once, &keys);
            let mut indexes: Vec<u64> = once.iter().filter_map(|r| r["index"].as_u64()).collect();
            let mut twice = once.clone();
            sort(&mut twice, &keys);
            prop_assert_eq!(&twice, &once, "sorting a sorted list changes nothing");
            indexes.sort_unstable();
            prop_assert_eq!(indexes, (0..records.len() as u64).collect::<Vec<_>>());
        }

        #[test]
        fn parsing_arbitrary_order_by_text_never_panics(input in any::<String>()) {
            if let Err(error) = parse_order_by(&input) {
                prop_assert!(error.position.is_some_and(|position| position <= input.len()));
            }
        }
    }
}
