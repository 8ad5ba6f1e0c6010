//! Field paths in `conditions`, `childConditions` and `orderBy` must name fields the record has.
//!
//! ConnectWise refuses a filter on a field its model does not have: a public report of
//! `conditions=typeids="1"` shows the server answering `ApiFindCondition … typeids is not a
//! recognized name.` (LabtechConsulting/ConnectWise-Manage-Powershell issue 4). A simulator that
//! silently matched nothing would let a client filter on a field the real API lacks — e.g.
//! `chargeToId` on `/procurement/products`, which older models had but the 2026 model replaces with
//! `ticket`/`project`/`phase` — and pass every test while failing in production. So a path is
//! checked against the schema of the records listed (the response schema of the list endpoint):
//! each segment must be a property (names compare case-insensitively, as SQL column names do) of
//! the schema reached so far, references and arrays are followed into their item schemas, anything
//! below `_info` or below a free-form value (`{}`) is accepted, and the `_info` stamps
//! (`lastUpdated`, `updatedBy`, `dateEntered`, `enteredBy`) may be named without the `_info/`
//! prefix, as django-connectwise does.
use serde_json::Value;

use crate::facts::Facts;

/// `_info` keys a condition or `orderBy` may name at the top level.
const INFO_STAMPS: [&str; 4] = ["lastUpdated", "updatedBy", "dateEntered", "enteredBy"];

/// Checks `path` against the record schema `schema`; Err holds the first segment that is not a field.
pub fn check_path(facts: &Facts, schema: &str, path: &[String]) -> Result<(), String> {
    let Some(root) = facts.schema(schema) else {
        return Ok(());
    };
    if let [only] = path
        && INFO_STAMPS.iter().any(|s| s.eq_ignore_ascii_case(only))
    {
        return Ok(());
    }
    let mut current = root;
    for (depth, segment) in path.iter().enumerate() {
        // Follow `$ref`s and array items down to an object schema.
        let mut node = current;
        loop {
            let (_, resolved) = facts.resolve(node);
            node = resolved;
            match node.get("items") {
                Some(items) if node.get("properties").is_none() => node = items,
                _ => break,
            }
        }
        let Some(props) = node.get("properties").and_then(Value::as_object) else {
            // A free-form value (`{}`, `_info`'s string map): whatever lies below is accepted.
            let free = node.get("additionalProperties").is_some()
                || node.as_object().is_some_and(|o| o.is_empty())
                || node.get("type").and_then(Value::as_str) == Some("object");
            if free && depth > 0 {
                return Ok(());
            }
            return Err(segment.clone());
        };
        let found = props
            .get(segment.as_str())
            .or_else(|| {
                props
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(segment))
                    .map(|(_, p)| p)
            })
            .ok_or_else(|| segment.clone())?;
        current = found;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn fields_of_the_record_and_of_its_references_are_accepted() {
        let facts = Facts::embedded().unwrap();
        for ok in [
            "status/name",
            "board/id",
            "lastUpdated",
            "_info/lastUpdated",
            "id",
            "company/identifier",
            "customFields/value",
            "STATUS/NAME",
        ] {
            assert_eq!(check_path(&facts, "Ticket", &path(ok)), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_field_the_model_lacks_is_named() {
        let facts = Facts::embedded().unwrap();
        assert_eq!(
            check_path(&facts, "ProductItem", &path("chargeToId")),
            Err("chargeToId".into())
        );
        assert_eq!(
            check_path(&facts, "Ticket", &path("status/colour")),
            Err("colour".into())
        );
        assert_eq!(
            check_path(&facts, "TimeEntry", &path("id/x")),
            Err("x".into())
        );
        assert_eq!(
            check_path(&facts, "ProductItem", &path("ticket/id")),
            Ok(())
        );
    }
}
