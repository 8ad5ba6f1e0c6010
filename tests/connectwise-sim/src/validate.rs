//! Request-body validation against the facts schemas, the way ConnectWise treats a write: unknown fields are
//! dropped, nulls mean "absent", scalars are coerced the way a .NET JSON binder does ("5" → 5), and every
//! problem becomes an `errors[]` entry (MissingRequiredField, InvalidField, OutOfRange) naming the field.
//! References given as `{"id": N}` (or by identifier/name) are checked against the collection they point
//! into when the simulator knows it, and expanded to `{id, name|identifier…, _info: {"<kind>_href": url}}`.
//! Never panics on input.
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::error::FieldError;
use crate::facts::Facts;
use crate::resources;
use crate::store::Store;

/// `YYYY-MM-DDTHH:MM:SSZ`, the only timestamp shape the API sends.
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// Parses RFC 3339, a naive date-time (taken as UTC, as DJ's `send_naive_datetimes` sends) or a bare date.
pub fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let naive_frac =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    if let Ok(t) =
        PrimitiveDateTime::parse(s, naive).or_else(|_| PrimitiveDateTime::parse(s, naive_frac))
    {
        return Some(t.assume_utc());
    }
    let date = format_description!("[year]-[month]-[day]");
    time::Date::parse(s, date)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// Removes `null` members recursively: responses omit null properties.
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                strip_nulls(v);
            }
        }
        Value::Array(items) => {
            for v in items {
                strip_nulls(v);
            }
        }
        _ => {}
    }
}

fn type_names(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Coerces a scalar to the schema's type like a lenient JSON binder; Err holds the reason.
fn coerce_scalar(value: &Value, schema: &Value) -> Result<Value, String> {
    let types = type_names(schema);
    let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    let Some(&ty) = non_null.first() else {
        return Ok(value.clone());
    };
    let coerced = match (ty, value) {
        ("integer", Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                Value::from(f as i64)
            } else {
                return Err("must be a whole number".into());
            }
        }
        ("integer", Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => return Err("must be a whole number".into()),
        },
        ("number", Value::Number(_)) => value.clone(),
        ("number", Value::String(s)) => match s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(n) => Value::Number(n),
            None => return Err("must be a number".into()),
        },
        ("boolean", Value::Bool(_)) => value.clone(),
        ("boolean", Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        ("boolean", Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        ("string", Value::String(_)) => value.clone(),
        ("string", Value::Number(n)) => Value::String(n.to_string()),
        ("string", Value::Bool(b)) => Value::String(b.to_string()),
        (ty, other) => return Err(format!("must be of type {ty}, not {}", json_kind(other))),
    };
    if let (Some(options), Value::String(s)) =
        (schema.get("enum").and_then(Value::as_array), &coerced)
    {
        let canonical = options
            .iter()
            .filter_map(Value::as_str)
            .find(|o| o.eq_ignore_ascii_case(s));
        return match canonical {
            Some(c) => Ok(Value::String(c.to_string())),
            None => {
                let allowed: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
                Err(format!("must be one of {}", allowed.join(", ")))
            }
        };
    }
    if let Value::String(s) = &coerced {
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && s.chars().count() as u64 > max
        {
            return Err(format!("must be a string with a maximum length of {max}"));
        }
        if schema.get("format").and_then(Value::as_str) == Some("date-time") {
            return match parse_datetime(s) {
                Some(t) => Ok(Value::String(format_datetime(t))),
                None => Err("must be a date-time like 2024-01-31T00:00:00Z".into()),
            };
        }
    }
    Ok(coerced)
}

/// Reads and writes records against the facts schemas and the store.
#[derive(Debug)]
pub struct RecordWriter<'a> {
    pub facts: &'a Facts,
    pub store: &'a Store,
    /// `http://host:port/v2026_4/apis/3.0`, for reference hrefs.
    pub api_base: &'a str,
    /// Name of the resource in error bodies.
    pub resource: String,
}

impl RecordWriter<'_> {
    /// Validates and normalises a request object for schema `schema_name`. `id` and `_info` are dropped (the
    /// server owns them). Returns the cleaned object and every problem found.
    pub fn clean(
        &self,
        schema_name: &str,
        body: &Map<String, Value>,
    ) -> (Map<String, Value>, Vec<FieldError>) {
        let mut errors = Vec::new();
        let out = match self.facts.schema(schema_name) {
            Some(schema) => self.clean_object(schema, body, "", true, &mut errors),
            None => body.clone(),
        };
        (out, errors)
    }

    fn clean_object(
        &self,
        schema: &Value,
        body: &Map<String, Value>,
        prefix: &str,
        top: bool,
        errors: &mut Vec<FieldError>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        let empty = Map::new();
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (key, value) in body {
            if top && (key == "id" || key == "_info") {
                continue;
            }
            // Unknown fields are ignored, as ConnectWise does.
            let Some(prop) = props.get(key) else { continue };
            if value.is_null() {
                continue;
            }
            let field = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if let Some(v) = self.clean_value(prop, value, &field, errors) {
                out.insert(key.clone(), v);
            }
        }
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let present = match out.get(req) {
                None => false,
                Some(Value::String(s)) => !s.trim().is_empty(),
                Some(Value::Object(o)) => !o.is_empty(),
                Some(_) => true,
            };
            let field = if prefix.is_empty() {
                req.to_string()
            } else {
                format!("{prefix}.{req}")
            };
            if !present && !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError::new(
                    "MissingRequiredField",
                    format!("The field {req} is required."),
                    &self.resource,
                    &field,
                ));
            }
        }
        out
    }

    fn clean_value(
        &self,
        prop: &Value,
        value: &Value,
        field: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        let (ref_name, schema) = self.facts.resolve(prop);
        if let Some(name) = ref_name {
            if name.ends_with("Reference") {
                return match self.expand_reference(name, value, field) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                };
            }
            return match value {
                Value::Object(obj) => Some(Value::Object(
                    self.clean_object(schema, obj, field, false, errors),
                )),
                other => {
                    errors.push(self.invalid(
                        field,
                        &format!("must be an object, not {}", json_kind(other)),
                    ));
                    None
                }
            };
        }
        let types = type_names(schema);
        if types.contains(&"array") {
            let Value::Array(items) = value else {
                errors.push(self.invalid(
                    field,
                    &format!("must be an array, not {}", json_kind(value)),
                ));
                return None;
            };
            let item_schema = schema
                .get("items")
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if item.is_null() {
                    continue;
                }
                if let Some(v) =
                    self.clean_value(&item_schema, item, &format!("{field}[{i}]"), errors)
                {
                    out.push(v);
                }
            }
            return Some(Value::Array(out));
        }
        if types.contains(&"object") || schema.get("properties").is_some() {
            return match value {
                Value::Object(obj) if schema.get("properties").is_some() => Some(Value::Object(
                    self.clean_object(schema, obj, field, false, errors),
                )),
                Value::Object(_) => Some(value.clone()),
                other => {
                    errors.push(self.invalid(
                        field,
                        &format!("must be an object, not {}", json_kind(other)),
                    ));
                    None
                }
            };
        }
        if types.is_empty() {
            // `{}`: any JSON (PatchOperation.value, CustomFieldValue.value).
            return Some(value.clone());
        }
        match coerce_scalar(value, schema) {
            Ok(v) => Some(v),
            Err(reason) => {
                errors.push(self.invalid(field, &reason));
                None
            }
        }
    }

    fn invalid(&self, field: &str, reason: &str) -> FieldError {
        let name = field.rsplit('.').next().unwrap_or(field);
        FieldError::new(
            "InvalidField",
            format!("The field {name} {reason}."),
            &self.resource,
            field,
        )
    }

    /// Checks a reference against its target collection and expands it. References into collections the
    /// simulator does not know (never seeded, not routed) are kept as sent.
    pub fn expand_reference(
        &self,
        ref_schema: &str,
        value: &Value,
        field: &str,
    ) -> Result<Value, FieldError> {
        let Value::Object(given) = value else {
            return Err(self.invalid(
                field,
                &format!(
                    "must be a reference object like {{\"id\": 1}}, not {}",
                    json_kind(value)
                ),
            ));
        };
        let mut given = given.clone();
        given.retain(|_, v| !v.is_null());
        let Some(target) = resources::reference_target(ref_schema) else {
            return Ok(Value::Object(given));
        };
        let routed = self.facts.route(target).is_some();
        if !routed && !self.store.is_known(target) {
            return Ok(Value::Object(given));
        }
        let storage = resources::storage_collection(target);
        let id = match given.get("id") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => match s.trim().parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => return Err(self.invalid(field, "has an id that is not a whole number")),
            },
            Some(_) => return Err(self.invalid(field, "has an id that is not a whole number")),
            None => None,
        };
        let mut target = target;
        let found = match id {
            Some(id) => self
                .store
                .get(storage, id)
                .map(|row| (id, row))
                .or_else(|| {
                    // A ticket reference may point at a project ticket (one id space, see `store`).
                    let other = resources::reference_fallback(ref_schema)?;
                    let row = self.store.get(other, id)?;
                    target = other;
                    Some((id, row))
                }),
            None => {
                // Some references may be given by identifier (or name) instead of id.
                let key = ["identifier", "name"].into_iter().find_map(|k| {
                    given
                        .get(k)
                        .and_then(Value::as_str)
                        .map(|v| (k, v.to_string()))
                });
                match key {
                    None => {
                        return Err(FieldError::new(
                            "InvalidField",
                            format!("The field {field} must be a reference with an id."),
                            &self.resource,
                            field,
                        ));
                    }
                    // A record without `name` is named as its references name it (a
                    // communication type by its description).
                    Some((k, v)) => self.store.list(storage, None).into_iter().find(|(_, row)| {
                        let own = row.value.get(k).cloned();
                        let named = match own {
                            None if k == "name" => display_name(&row.value),
                            other => other,
                        };
                        named
                            .as_ref()
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.eq_ignore_ascii_case(&v))
                    }),
                }
            }
        };
        let Some((id, row)) = found else {
            let what = match id {
                Some(id) => format!("id {id}"),
                None => "that identifier".to_string(),
            };
            return Err(FieldError::new(
                "InvalidField",
                format!(
                    "The field {field} refers to a {} with {what} that does not exist.",
                    resources::resource_name(target)
                ),
                &self.resource,
                field,
            ));
        };
        Ok(self.reference_to(ref_schema, target, id, row.parent, &row.value))
    }

    /// Builds the reference object for a stored record.
    pub fn reference_to(
        &self,
        ref_schema: &str,
        target: &str,
        id: i64,
        parent: Option<i64>,
        record: &Value,
    ) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), Value::from(id));
        if let Some(props) = self
            .facts
            .schema(ref_schema)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
        {
            for (key, prop) in props {
                if key == "id" || key == "_info" {
                    continue;
                }
                let candidate = match record.get(key) {
                    // A reference's text field that is a reference on the record carries that
                    // record's name: an `AgreementReference`'s `type` is the agreement type's name.
                    Some(Value::Object(o)) if type_names(prop) == ["string"] => {
                        o.get("name").cloned()
                    }
                    Some(v) => Some(v.clone()),
                    None if key == "name" => display_name(record),
                    None => None,
                };
                let Some(candidate) = candidate else { continue };
                let types = type_names(prop);
                if types.contains(&json_kind(&candidate))
                    || (types.contains(&"integer") && candidate.is_i64())
                {
                    out.insert(key.clone(), candidate);
                }
            }
        }
        let href_kind = resources::resource(target)
            .map(|r| r.href_kind)
            .unwrap_or("record");
        let mut path = target.to_string();
        if let Some(p) = parent {
            path = path.replace("{parentId}", &p.to_string());
        }
        let mut info = Map::new();
        info.insert(
            format!("{href_kind}_href"),
            Value::String(format!("{}{}/{}", self.api_base, path, id)),
        );
        out.insert("_info".into(), Value::Object(info));
        Value::Object(out)
    }

    /// Best-effort expansion of the references in a seeded record: resolvable ones are expanded, the rest
    /// kept as given (seeds are trusted test data and may be deliberately odd).
    pub fn expand_seeded(&self, schema_name: &str, record: &mut Value) {
        let Some(props) = self
            .facts
            .schema(schema_name)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
        else {
            return;
        };
        let Value::Object(map) = record else { return };
        for (key, value) in map.iter_mut() {
            let Some(prop) = props.get(key) else { continue };
            let (ref_name, schema) = self.facts.resolve(prop);
            match ref_name {
                Some(name) if name.ends_with("Reference") => {
                    if let Ok(expanded) = self.expand_reference(name, value, key) {
                        *value = expanded;
                    }
                }
                _ => {
                    if let (Some(items), Value::Array(values)) = (schema.get("items"), value)
                        && let (Some(name), _) = self.facts.resolve(items)
                        && name.ends_with("Reference")
                    {
                        for v in values.iter_mut() {
                            if let Ok(expanded) = self.expand_reference(name, v, key) {
                                *v = expanded;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A display name for records without `name`: contacts and members have first and last names;
/// communication types, opportunity types and tax codes have a `description` (tax codes also an
/// `identifier`).
fn display_name(record: &Value) -> Option<Value> {
    let first = record
        .get("firstName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let last = record.get("lastName").and_then(Value::as_str).unwrap_or("");
    let joined = format!("{first} {last}").trim().to_string();
    if !joined.is_empty() {
        return Some(Value::String(joined));
    }
    ["identifier", "description"]
        .iter()
        .find_map(|k| record.get(*k).and_then(Value::as_str))
        .filter(|s| !s.trim().is_empty())
        .map(|s| Value::String(s.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_normalise_to_utc_seconds() {
        let t = parse_datetime("2024-03-05T18:20:11+02:00").unwrap();
        assert_eq!(format_datetime(t), "2024-03-05T16:20:11Z");
        assert_eq!(
            format_datetime(parse_datetime("2024-03-05T16:20:11").unwrap()),
            "2024-03-05T16:20:11Z"
        );
    }

    #[test]
    fn scalars_are_coerced_like_a_lenient_binder() {
        assert_eq!(
            coerce_scalar(&json!("5"), &json!({"type": ["integer", "null"]})).unwrap(),
            json!(5)
        );
        assert_eq!(
            coerce_scalar(&json!("TRUE"), &json!({"type": "boolean"})).unwrap(),
            json!(true)
        );
        assert!(coerce_scalar(&json!("abc"), &json!({"type": "integer"})).is_err());
        assert!(
            coerce_scalar(&json!("abcdef"), &json!({"type": "string", "maxLength": 3})).is_err()
        );
        assert_eq!(
            coerce_scalar(
                &json!("billable"),
                &json!({"type": ["string", "null"], "enum": ["Billable", null]})
            )
            .unwrap(),
            json!("Billable")
        );
    }

    #[test]
    fn nulls_are_stripped_recursively() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1}, "e": [{"f": null}]});
        strip_nulls(&mut v);
        assert_eq!(v, json!({"b": {"d": 1}, "e": [{}]}));
    }
}
