//! `fields`: a comma list of paths that trims a response to those properties, e.g. `id,name,status/name`
//! gives `{"id":..,"name":..,"status":{"name":..}}`. Like the real API, only the requested properties come
//! back (`id` and `_info` are not added), and a requested path the record doesn't have is simply absent.
//! Projection copies; it never changes the stored record.

use super::values::lookup;
use super::{QueryError, found_at, parse_path};
use serde_json::{Map, Value};

/// The set of requested paths.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSet {
    pub paths: Vec<Vec<String>>,
}

/// Parses a `fields` parameter: paths separated by commas, spaces around each path ignored. Empty input
/// or an empty item (`a,,b`, a trailing comma) is an error.
pub fn parse_fields(input: &str) -> Result<FieldSet, QueryError> {
    let mut paths = Vec::new();
    let mut item_start = 0;
    for item in input.split(',') {
        let trimmed = item.trim_start();
        let path_start = item_start + (item.len() - trimmed.len());
        let trimmed = trimmed.trim_end();
        if trimmed.is_empty() {
            let position = item_start + item.len();
            return Err(QueryError::at(
                position,
                format!(
                    "Expected a field name at position {position} but found {}",
                    found_at(input, position)
                ),
            ));
        }
        paths.push(parse_path(trimmed, path_start)?);
        item_start += item.len() + 1;
    }
    Ok(FieldSet { paths })
}

/// Keeps only the requested paths of `record` (nested paths keep their parents' shape). Where a path
/// crosses an array, each element is trimmed the same way. A record that is not an object is returned as
/// it is.
pub fn project(record: &Value, fields: &FieldSet) -> Value {
    let Value::Object(object) = record else {
        return record.clone();
    };
    let tree = Tree::of(&fields.paths);
    Value::Object(tree.project_object(object))
}

/// The requested paths as a tree, so `a/b,a/c` trims `a` once, keeping both.
#[derive(Debug, Default)]
struct Tree {
    /// Children by requested name; names that differ only in ASCII case are the same field.
    children: Vec<(String, Tree)>,
    /// The whole value at this point was requested.
    whole: bool,
}

impl Tree {
    fn of(paths: &[Vec<String>]) -> Self {
        let mut root = Self::default();
        for path in paths {
            let mut node = &mut root;
            for segment in path {
                let index = match node
                    .children
                    .iter()
                    .position(|(name, _)| name.eq_ignore_ascii_case(segment))
                {
                    Some(index) => index,
                    None => {
                        node.children.push((segment.clone(), Self::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[index].1;
            }
            node.whole = true;
        }
        root
    }

    fn project_object(&self, object: &Map<String, Value>) -> Map<String, Value> {
        let mut projected = Map::new();
        for (name, child) in &self.children {
            if let Some((key, value)) = lookup(object, name)
                && let Some(value) = child.project(value)
            {
                projected.insert(key.clone(), value);
            }
        }
        projected
    }

    /// The trimmed value, or `None` when nothing requested exists in it.
    fn project(&self, value: &Value) -> Option<Value> {
        if self.whole {
            return Some(value.clone());
        }
        match value {
            Value::Object(object) => {
                let projected = self.project_object(object);
                (!projected.is_empty()).then_some(Value::Object(projected))
            }
            Value::Array(items) => {
                let projected: Vec<Value> =
                    items.iter().filter_map(|item| self.project(item)).collect();
                (!projected.is_empty()).then_some(Value::Array(projected))
            }
            // A sub-field of a scalar or null doesn't exist.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn projected(record: &Value, fields: &str) -> Value {
        project(record, &parse_fields(fields).unwrap())
    }

    fn assert_error(input: &str, position: usize, fragment: &str) {
        let error = parse_fields(input).unwrap_err();
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

    fn company() -> Value {
        json!({
            "id": 7,
            "identifier": "ACME",
            "name": "Acme",
            "status": {"id": 1, "name": "Active", "_info": {"status_href": "http://x"}},
            "site": null,
            "types": [{"id": 1, "name": "Client"}, {"id": 2, "name": "Vendor"}],
            "_info": {"lastUpdated": "2020-01-01T00:00:00Z", "updatedBy": "api"}
        })
    }

    #[test]
    fn paths_are_split_on_commas_with_spaces_trimmed() {
        assert_eq!(
            parse_fields(" id , name,status/name ").unwrap().paths,
            vec![
                vec!["id".to_owned()],
                vec!["name".to_owned()],
                vec!["status".to_owned(), "name".to_owned()]
            ]
        );
    }

    #[test]
    fn malformed_fields_are_rejected_with_a_position() {
        assert_error(
            "",
            0,
            "Expected a field name at position 0 but found end of input",
        );
        assert_error("id,,name", 3, "but found ','");
        assert_error("id, ", 4, "but found end of input");
        assert_error("id,status/", 10, "Expected a field name");
        assert_error("id, first name", 9, "Unexpected character ' '");
        assert_error("id,9lives", 3, "a field name starts with a letter");
    }

    #[test]
    fn only_the_requested_fields_come_back_without_an_added_id() {
        assert_eq!(
            projected(&company(), "name,identifier"),
            json!({"name": "Acme", "identifier": "ACME"})
        );
    }

    #[test]
    fn nested_paths_keep_their_parents_shape() {
        assert_eq!(
            projected(&company(), "id,status/name,_info/lastUpdated"),
            json!({"id": 7, "status": {"name": "Active"}, "_info": {"lastUpdated": "2020-01-01T00:00:00Z"}})
        );
        assert_eq!(
            projected(&company(), "status/name, status/id"),
            json!({"status": {"name": "Active", "id": 1}})
        );
    }

    #[test]
    fn a_whole_parent_wins_over_its_own_sub_paths() {
        assert_eq!(
            projected(&company(), "status/name,status"),
            json!({"status": company()["status"]})
        );
    }

    #[test]
    fn paths_the_record_lacks_are_simply_absent() {
        assert_eq!(
            projected(&company(), "nope,status/nope,site/name,id/x"),
            json!({})
        );
        assert_eq!(
            projected(&company(), "site"),
            json!({"site": null}),
            "a requested null is kept as it is"
        );
    }

    #[test]
    fn paths_across_arrays_trim_each_element() {
        assert_eq!(
            projected(&company(), "types/name"),
            json!({"types": [{"name": "Client"}, {"name": "Vendor"}]})
        );
        assert_eq!(projected(&json!({"tags": ["a", "b"]}), "tags/x"), json!({}));
    }

    #[test]
    fn field_names_match_case_insensitively_but_keep_the_records_spelling() {
        assert_eq!(
            projected(&company(), "NAME,Status/Name"),
            json!({"name": "Acme", "status": {"name": "Active"}})
        );
    }

    #[test]
    fn a_record_that_is_not_an_object_is_returned_unchanged() {
        assert_eq!(projected(&json!([1, 2]), "id"), json!([1, 2]));
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_fields_text_never_panics(input in any::<String>()) {
            if let Err(error) = parse_fields(&input) {
                prop_assert!(error.position.is_some_and(|position| position <= input.len()));
            }
        }

        #[test]
        fn projecting_every_top_level_field_gives_the_record_back(
            keys in prop::collection::btree_set("[a-z][a-z0-9_]{0,6}", 1..6)
        ) {
            let record = Value::Object(keys.iter().map(|k| (k.clone(), json!({"inner": k}))).collect());
            let fields = keys.iter().cloned().collect::<Vec<_>>().join(",");
            prop_assert_eq!(projected(&record, &fields), record);
        }
    }
}
