//! Fingerprints of synced values: a short, stable hash stored with links and ledger entries, so a
//! changed record is recognised without storing its values.
//!
//! The hash is SHA-256 over a canonical JSON text (object keys sorted at every level, no
//! whitespace), so the same values give the same fingerprint whatever order the keys were built or
//! read in, and whatever features `serde_json` was compiled with.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A stable hex digest of `value`'s JSON (object keys sorted).
///
/// A value that can't be serialised to JSON (a map with non-string keys) hashes the error text
/// instead: still stable, and never equal to a real value's fingerprint in practice.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    let canonical = match serde_json::to_value(value) {
        Ok(value) => {
            let mut text = String::new();
            write_canonical(&value, &mut text);
            text
        }
        Err(error) => format!("unserializable: {error}"),
    };
    content_fingerprint(canonical.as_bytes())
}

/// A stable hex digest (SHA-256) of `bytes` as they are: the fingerprint of a file cwsync
/// uploads, so an unchanged file is recognised without storing it.
pub fn content_fingerprint(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Compact JSON with every object's keys in sorted order.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::ser::SerializeMap;
    use serde::{Serialize, Serializer};
    use serde_json::json;

    use super::*;

    /// A map that serialises its entries in the order given (as a hand-built or differently
    /// read record would).
    struct InOrder(Vec<(String, Value)>);

    impl Serialize for InOrder {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (key, value) in &self.0 {
                map.serialize_entry(key, value)?;
            }
            map.end()
        }
    }

    #[test]
    fn the_fingerprint_is_the_sha256_of_compact_json_with_sorted_keys() {
        // Python: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        let value = json!({"b": 1, "a": [true, null, {"y": 1.5, "x": "é\""}]});
        assert_eq!(
            fingerprint(&value),
            "59dd19ea718ecba21f43ac8afac0cc78bcbc174738c517bd15db2fceaccf10c6"
        );
    }

    #[test]
    fn the_same_values_in_another_key_order_have_the_same_fingerprint() {
        let one = InOrder(vec![
            ("name".into(), json!("Acme")),
            ("address".into(), json!({"city": "Phoenix", "zip": "85001"})),
        ]);
        let other = InOrder(vec![
            ("address".into(), json!({"zip": "85001", "city": "Phoenix"})),
            ("name".into(), json!("Acme")),
        ]);
        assert_eq!(fingerprint(&one), fingerprint(&other));
    }

    #[test]
    fn a_changed_value_changes_the_fingerprint() {
        assert_ne!(
            fingerprint(&json!({"name": "Acme"})),
            fingerprint(&json!({"name": "Acme Corp"}))
        );
        assert_ne!(fingerprint(&json!([1, 2])), fingerprint(&json!([2, 1])));
    }

    #[test]
    fn the_content_fingerprint_is_the_sha256_of_the_bytes() {
        // printf 'abc' | sha256sum
        assert_eq!(
            content_fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(fingerprint(&json!("x")), content_fingerprint(b"\"x\""));
    }

    #[test]
    fn a_fingerprint_is_64_lowercase_hex_digits() {
        let print = fingerprint(&json!({"a": 1}));
        assert_eq!(print.len(), 64);
        assert!(
            print
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn a_value_that_is_not_json_still_has_a_stable_fingerprint() {
        let map = BTreeMap::from([((1, 2), "x")]);
        assert_eq!(fingerprint(&map), fingerprint(&map));
        assert_ne!(fingerprint(&map), fingerprint(&json!(null)));
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z0-9 \"\\\\é]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_fingerprint_is_independent_of_key_order(
            entries in proptest::collection::btree_map("[a-zA-Z]{1,6}", any_json(), 0..6),
            seed in any::<u64>(),
        ) {
            let sorted: Vec<(String, Value)> = entries.into_iter().collect();
            let mut shuffled = sorted.clone();
            // A deterministic shuffle driven by the seed.
            let n = shuffled.len();
            for i in (1..n).rev() {
                let j = ((seed >> (i % 64)) as usize ^ i.wrapping_mul(31)) % (i + 1);
                shuffled.swap(i, j);
            }
            shuffled.reverse();
            prop_assert_eq!(fingerprint(&InOrder(sorted)), fingerprint(&InOrder(shuffled)));
        }
    }
}
