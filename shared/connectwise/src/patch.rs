//! PATCH bodies: the operation type and a diff that sends only the fields that changed.
//!
//! The diff works on the top-level fields of two JSON records (or two serialized models). It
//! never emits the read-only `id` and `_info`, sends references as `{"id": N}`, and never clears a
//! field unless asked to, because a model that omits a field usually just does not know it.

use serde::Serialize;
use serde_json::{Map, Value};

/// The kind of a PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchKind {
    /// Add a value.
    Add,
    /// Replace a value.
    Replace,
    /// Remove (clear) a value.
    Remove,
}

/// One element of a PATCH body: `{"op": "replace", "path": "/name", "value": "ACME"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOp {
    /// The operation.
    pub op: PatchKind,
    /// JSON pointer of the field, e.g. `/name`.
    pub path: String,
    /// The new value; left out for `remove`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl PatchOp {
    /// `replace` of a top-level field.
    pub fn replace(field: &str, value: impl Into<Value>) -> Self {
        Self {
            op: PatchKind::Replace,
            path: pointer(field),
            value: Some(value.into()),
        }
    }

    /// `add` of a top-level field.
    pub fn add(field: &str, value: impl Into<Value>) -> Self {
        Self {
            op: PatchKind::Add,
            path: pointer(field),
            value: Some(value.into()),
        }
    }

    /// `remove` of a top-level field.
    pub fn remove(field: &str) -> Self {
        Self {
            op: PatchKind::Remove,
            path: pointer(field),
            value: None,
        }
    }

    /// `replace` of a reference field with `{"id": id}`.
    pub fn replace_reference(field: &str, id: i64) -> Self {
        Self::replace(field, serde_json::json!({ "id": id }))
    }

    /// Sets one custom field's value as real clients do: `replace` of `customFields` with just
    /// that field, `[{"id": id, "value": value}]`; ConnectWise keeps the other custom fields.
    /// A `null` value clears the field.
    pub fn replace_custom_field(id: i64, value: impl Into<Value>) -> Self {
        Self::replace(
            "customFields",
            serde_json::json!([{ "id": id, "value": value.into() }]),
        )
    }
}

/// JSON pointer for a top-level key (`~` and `/` escaped per RFC 6901).
fn pointer(field: &str) -> String {
    format!("/{}", field.replace('~', "~0").replace('/', "~1"))
}

/// Options of [`diff_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions<'a> {
    /// Emit `remove` for fields that are set in `old` but null or absent in `new`. Only safe when
    /// both sides come from the same model type ([`patch_models_with`] guarantees it).
    pub clear_missing: bool,
    /// Top-level fields never to patch (besides `id` and `_info`, which never are).
    pub ignore: &'a [&'a str],
}

/// Fields the server owns.
const READ_ONLY: [&str; 2] = ["id", "_info"];

/// Operations that turn `old` into `new`, changed fields only, never clearing a field.
pub fn diff(old: &Value, new: &Value) -> Vec<PatchOp> {
    diff_with(old, new, DiffOptions::default())
}

/// Operations that turn `old` into `new` (top-level fields; a non-object counts as `{}`).
///
/// - a field whose value differs gets `replace` (also when `old` lacks it: the API omits nulls,
///   so "absent" on the server side means "null", and `replace` is what ConnectWise integrations
///   send for that);
/// - a reference (an object with an `id`) is compared by id and sent as `{"id": N}`;
/// - other objects and arrays compare leniently: keys only `old` has (server-side extras such as
///   a reference's `name` or `_info`) do not count as a change;
/// - numbers compare by value, also against numeric strings (money may arrive as `"10.00"`);
/// - null or absent in `new` is skipped unless `clear_missing`, then it is `remove`.
///
/// The result is sorted by path, so equal inputs give equal bodies.
pub fn diff_with(old: &Value, new: &Value, options: DiffOptions<'_>) -> Vec<PatchOp> {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let skip = |k: &str| READ_ONLY.contains(&k) || options.ignore.contains(&k);
    let mut ops = Vec::new();
    for (key, new_value) in new {
        if skip(key) {
            continue;
        }
        let old_value = old.get(key).filter(|v| !v.is_null());
        match (old_value, new_value) {
            (None, Value::Null) => {}
            (Some(_), Value::Null) => {
                if options.clear_missing {
                    ops.push(PatchOp::remove(key));
                }
            }
            (None, set) => ops.push(PatchOp::replace(key, outgoing(set))),
            (Some(before), after) => {
                if let Some(id) = reference_id(after) {
                    if reference_id(before) != Some(id) {
                        ops.push(PatchOp::replace(key, serde_json::json!({ "id": id })));
                    }
                } else if !lenient_eq(before, after) {
                    ops.push(PatchOp::replace(key, outgoing(after)));
                }
            }
        }
    }
    if options.clear_missing {
        for (key, old_value) in old {
            if !skip(key) && !old_value.is_null() && !new.contains_key(key) {
                ops.push(PatchOp::remove(key));
            }
        }
    }
    ops.sort_by(|a, b| a.path.cmp(&b.path));
    ops
}

/// Diff of two models of the same type (see [`diff`]).
pub fn patch_models<M: Serialize>(old: &M, new: &M) -> Result<Vec<PatchOp>, serde_json::Error> {
    patch_models_with(old, new, DiffOptions::default())
}

/// Diff of two models of the same type with options (see [`diff_with`]).
pub fn patch_models_with<M: Serialize>(
    old: &M,
    new: &M,
    options: DiffOptions<'_>,
) -> Result<Vec<PatchOp>, serde_json::Error> {
    Ok(diff_with(
        &serde_json::to_value(old)?,
        &serde_json::to_value(new)?,
        options,
    ))
}

/// The id of a reference object (`{"id": 5, "name": …}`).
fn reference_id(v: &Value) -> Option<i64> {
    v.as_object()?.get("id")?.as_i64()
}

/// A value as it should be sent: references reduced to `{"id"}`, `_info` dropped everywhere.
fn outgoing(v: &Value) -> Value {
    if let Some(id) = reference_id(v) {
        return serde_json::json!({ "id": id });
    }
    strip_info(v)
}

fn strip_info(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "_info")
                .map(|(k, v)| (k.clone(), strip_info(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_info).collect()),
        other => other.clone(),
    }
}

/// Equality where `old` may carry extra keys the new side does not know.
fn lenient_eq(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => n.iter().all(|(k, nv)| {
            k == "_info"
                || match o.get(k) {
                    Some(ov) => lenient_eq(ov, nv),
                    None => nv.is_null(),
                }
        }),
        (Value::Array(o), Value::Array(n)) => {
            o.len() == n.len() && o.iter().zip(n).all(|(a, b)| lenient_eq(a, b))
        }
        _ => match (as_number(old), as_number(new)) {
            (Some(a), Some(b)) if !(old.is_string() && new.is_string()) => a == b,
            _ => old == new,
        },
    }
}

/// A number, or a string holding one.
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_custom_field_is_replaced_alone_by_its_id() {
        let op = PatchOp::replace_custom_field(4, true);
        assert_eq!(
            serde_json::to_value(&op).unwrap(),
            json!({"op": "replace", "path": "/customFields", "value": [{"id": 4, "value": true}]})
        );
    }

    #[test]
    fn only_changed_fields_are_replaced() {
        let old =
            json!({"id": 1, "name": "Acme", "phoneNumber": "1", "_info": {"lastUpdated": "x"}});
        let new = json!({"id": 1, "name": "Acme Corp", "phoneNumber": "1"});
        assert_eq!(
            diff(&old, &new),
            vec![PatchOp::replace("name", "Acme Corp")]
        );
    }

    #[test]
    fn operations_serialize_as_op_path_value() {
        let body =
            serde_json::to_value([PatchOp::replace("name", "x"), PatchOp::remove("site")]).unwrap();
        assert_eq!(
            body,
            json!([{"op": "replace", "path": "/name", "value": "x"}, {"op": "remove", "path": "/site"}])
        );
    }

    #[test]
    fn references_are_compared_by_id_and_sent_as_id_only() {
        let old = json!({"status": {"id": 1, "name": "Active", "_info": {"status_href": "u"}},
                         "type": {"id": 7, "name": "Client"}});
        let new = json!({"status": {"id": 2, "name": "Inactive"}, "type": {"id": 7}});
        assert_eq!(
            diff(&old, &new),
            vec![PatchOp::replace("status", json!({"id": 2}))]
        );
    }

    #[test]
    fn a_field_the_server_omitted_is_set_with_replace() {
        let old = json!({"id": 1});
        let new = json!({"website": "https://acme.example", "site": {"id": 3, "name": "Main"}});
        assert_eq!(
            diff(&old, &new),
            vec![
                PatchOp::replace("site", json!({"id": 3})),
                PatchOp::replace("website", "https://acme.example"),
            ]
        );
    }

    #[test]
    fn nulls_and_absent_fields_are_not_cleared_by_default() {
        let old = json!({"fax": "123", "website": "w"});
        let new = json!({"fax": null});
        assert!(diff(&old, &new).is_empty());
    }

    #[test]
    fn clear_missing_removes_null_and_absent_fields() {
        let old = json!({"fax": "123", "website": "w", "id": 4, "_info": {}});
        let new = json!({"fax": null});
        let ops = diff_with(
            &old,
            &new,
            DiffOptions {
                clear_missing: true,
                ignore: &[],
            },
        );
        assert_eq!(
            ops,
            vec![PatchOp::remove("fax"), PatchOp::remove("website")]
        );
    }

    #[test]
    fn ignored_and_read_only_fields_never_appear() {
        let old = json!({"id": 1, "_info": {"a": "1"}, "name": "a", "types": [{"id": 1}]});
        let new = json!({"id": 2, "_info": {"a": "2"}, "name": "b", "types": [{"id": 2}]});
        let ops = diff_with(
            &old,
            &new,
            DiffOptions {
                clear_missing: false,
                ignore: &["types"],
            },
        );
        assert_eq!(ops, vec![PatchOp::replace("name", "b")]);
    }

    #[test]
    fn numbers_compare_by_value_even_as_strings() {
        let old = json!({"hourlyCost": "10800.00", "rate": 1, "qty": 2.5});
        let new = json!({"hourlyCost": 10800, "rate": 1.0, "qty": 3});
        assert_eq!(diff(&old, &new), vec![PatchOp::replace("qty", 3)]);
    }

    #[test]
    fn numeric_looking_strings_still_compare_as_text() {
        let old = json!({"zip": "01234"});
        let new = json!({"zip": "1234"});
        assert_eq!(diff(&old, &new), vec![PatchOp::replace("zip", "1234")]);
    }

    #[test]
    fn arrays_ignore_server_extras_but_see_real_changes() {
        let old = json!({"customFields": [{"id": 5, "caption": "Region", "value": "North", "_info": {}}]});
        let same = json!({"customFields": [{"id": 5, "value": "North"}]});
        assert!(diff(&old, &same).is_empty());
        let changed = json!({"customFields": [{"id": 5, "value": "South"}]});
        assert_eq!(
            diff(&old, &changed),
            vec![PatchOp::replace(
                "customFields",
                json!([{"id": 5, "value": "South"}])
            )]
        );
    }

    #[test]
    fn models_diff_through_serde() {
        #[derive(Serialize)]
        struct Company {
            id: i64,
            name: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            website: Option<String>,
        }
        let old = Company {
            id: 1,
            name: "A".into(),
            website: Some("w".into()),
        };
        let new = Company {
            id: 1,
            name: "B".into(),
            website: None,
        };
        assert_eq!(
            patch_models(&old, &new).unwrap(),
            vec![PatchOp::replace("name", "B")]
        );
        let cleared = patch_models_with(
            &old,
            &new,
            DiffOptions {
                clear_missing: true,
                ignore: &[],
            },
        )
        .unwrap();
        assert_eq!(
            cleared,
            vec![PatchOp::replace("name", "B"), PatchOp::remove("website")]
        );
    }

    #[test]
    fn keys_with_slashes_are_escaped_in_the_pointer() {
        assert_eq!(PatchOp::remove("a/b~c").path, "/a~1b~0c");
    }
}
