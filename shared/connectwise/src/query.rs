//! List query options (`conditions`, `childConditions`, `customFieldConditions`, `orderBy`,
//! `fields`, `pageSize`) and their encoding into a URL query string.
//!
//! Encoding is done here, not by a generic form encoder: every byte outside the RFC 3986
//! unreserved set is percent-encoded (space as `%20`, `+` as `%2B`), so servers that treat `+` as
//! a space and servers that do not read the same value, and the length of the URL as sent is
//! known exactly (see [`crate::Client::list_by_ids`]). Nothing here may perform I/O.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::conditions::{Condition, FieldPath};

/// Largest page the API serves.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Everything except `A-Z a-z 0-9 - . _ ~` is encoded (keep in sync with [`encoded_len`]).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Sort direction for `orderBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        })
    }
}

/// Filters and shaping for a list (or count) request.
///
/// ```
/// use cwsync_connectwise::{Condition, Direction, Query};
///
/// let q = Query::new()
///     .filter(Condition::field("identifier").eq("ACME"))
///     .order_by("name", Direction::Asc)
///     .fields(["id", "identifier", "status/name"]);
/// assert_eq!(
///     q.encode(),
///     "conditions=identifier%20%3D%20%22ACME%22&orderBy=name%20asc&fields=id%2Cidentifier%2Cstatus%2Fname"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// `conditions`: filter on the record's own fields.
    pub conditions: Option<Condition>,
    /// `childConditions`: filter on members of the record's arrays.
    pub child_conditions: Option<Condition>,
    /// `customFieldConditions`: filter on custom fields (e.g. `caption = "X" and value = "Y"`).
    pub custom_field_conditions: Option<Condition>,
    /// `orderBy`, in priority order.
    pub order_by: Vec<(FieldPath, Direction)>,
    /// `fields`: return only these properties (nested paths give nested objects).
    pub fields: Vec<FieldPath>,
    /// `pageSize`; list helpers default it to [`MAX_PAGE_SIZE`] and clamp it to `1..=1000`.
    pub page_size: Option<u32>,
}

impl Query {
    /// An empty query: every record, server order, all fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `conditions`, replacing any earlier filter.
    #[must_use]
    pub fn filter(mut self, condition: Condition) -> Self {
        self.conditions = Some(condition);
        self
    }

    /// Adds `condition` to `conditions` with `and`.
    #[must_use]
    pub fn and_filter(mut self, condition: Condition) -> Self {
        self.conditions = Some(match self.conditions.take() {
            Some(existing) => existing.and(condition),
            None => condition,
        });
        self
    }

    /// Sets `childConditions`.
    #[must_use]
    pub fn child_conditions(mut self, condition: Condition) -> Self {
        self.child_conditions = Some(condition);
        self
    }

    /// Sets `customFieldConditions`.
    #[must_use]
    pub fn custom_field_conditions(mut self, condition: Condition) -> Self {
        self.custom_field_conditions = Some(condition);
        self
    }

    /// Appends an `orderBy` key given as a source literal (see [`FieldPath::from_static`]).
    #[must_use]
    pub fn order_by(self, path: &'static str, direction: Direction) -> Self {
        self.order_by_path(FieldPath::from_static(path), direction)
    }

    /// Appends an `orderBy` key validated at run time.
    #[must_use]
    pub fn order_by_path(mut self, path: FieldPath, direction: Direction) -> Self {
        self.order_by.push((path, direction));
        self
    }

    /// Appends source-literal paths to `fields`.
    #[must_use]
    pub fn fields(mut self, paths: impl IntoIterator<Item = &'static str>) -> Self {
        self.fields
            .extend(paths.into_iter().map(FieldPath::from_static));
        self
    }

    /// Sets `pageSize`.
    #[must_use]
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Whether the filters can match no record at all, so no request is needed.
    pub fn matches_nothing(&self) -> bool {
        [
            &self.conditions,
            &self.child_conditions,
            &self.custom_field_conditions,
        ]
        .into_iter()
        .flatten()
        .any(Condition::matches_nothing)
    }

    /// The filter parameters only (what `/count` accepts).
    pub(crate) fn filter_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        let filters = [
            ("conditions", &self.conditions),
            ("childConditions", &self.child_conditions),
            ("customFieldConditions", &self.custom_field_conditions),
        ];
        for (name, condition) in filters {
            if let Some(c) = condition.as_ref().filter(|c| !c.matches_everything()) {
                params.push((name, c.to_string()));
            }
        }
        params
    }

    /// All parameters except paging (`page`, `pageSize`, `pageId`).
    pub(crate) fn shape_params(&self) -> Vec<(&'static str, String)> {
        let mut params = self.filter_params();
        if !self.order_by.is_empty() {
            let keys: Vec<String> = self
                .order_by
                .iter()
                .map(|(p, d)| format!("{p} {d}"))
                .collect();
            params.push(("orderBy", keys.join(",")));
        }
        if !self.fields.is_empty() {
            let keys: Vec<&str> = self.fields.iter().map(FieldPath::as_str).collect();
            params.push(("fields", keys.join(",")));
        }
        params
    }

    /// The page size list helpers use: the requested one clamped to `1..=1000`, else 1000.
    pub(crate) fn effective_page_size(&self) -> u32 {
        self.page_size
            .unwrap_or(MAX_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }

    /// The query string for these options alone (no paging), fully percent-encoded.
    pub fn encode(&self) -> String {
        encode_params(&self.shape_params())
    }
}

/// Percent-encodes one query value or name.
pub(crate) fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Length of `s` once percent-encoded, without allocating.
pub(crate) fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                1
            } else {
                3
            }
        })
        .sum()
}

/// `name=value&…`, every component percent-encoded.
pub(crate) fn encode_params<N: AsRef<str>, V: AsRef<str>>(params: &[(N, V)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encode_component(name.as_ref()));
        out.push('=');
        out.push_str(&encode_component(value.as_ref()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a query string the way a strict RFC 3986 server does (no `+` → space).
    fn decode(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .map(|pair| {
                let (n, v) = pair.split_once('=').unwrap();
                let d = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .unwrap()
                        .into_owned()
                };
                (d(n), d(v))
            })
            .collect()
    }

    #[test]
    fn reserved_and_unicode_characters_are_percent_encoded() {
        let q = Query::new().filter(Condition::field("name").eq("a+b & c%d #e 'f' \"g\" ü/?="));
        let encoded = q.encode();
        for raw in ['+', '&', '#', '"', '\'', ' ', '/', '?'] {
            let after_name = encoded.strip_prefix("conditions=").unwrap();
            assert!(
                !after_name.contains(raw),
                "{raw:?} left unencoded in {encoded}"
            );
        }
        assert!(encoded.contains("%2B"), "plus must be %2B: {encoded}");
        assert!(encoded.contains("%25d"), "percent must be %25: {encoded}");
        assert!(
            encoded.contains("%C3%BC"),
            "ü must be UTF-8 encoded: {encoded}"
        );
        assert_eq!(
            decode(&encoded),
            vec![(
                "conditions".to_owned(),
                r#"name = "a+b & c%d #e 'f' \"g\" ü/?=""#.to_owned()
            )]
        );
    }

    #[test]
    fn encoded_len_matches_the_encoding() {
        for s in ["", "abc", "a b", "ü日本", "\"%+&#~-._", "x\u{0}y"] {
            assert_eq!(encoded_len(s), encode_component(s).len(), "{s:?}");
        }
    }

    #[test]
    fn shape_params_list_order_and_fields_comma_separated() {
        let q = Query::new()
            .order_by("name", Direction::Asc)
            .order_by("id", Direction::Desc)
            .fields(["id", "status/name"])
            .child_conditions(Condition::field("communicationItems/value").eq("x"))
            .custom_field_conditions(Condition::field("caption").eq("Region"));
        assert_eq!(
            q.shape_params(),
            vec![
                (
                    "childConditions",
                    r#"communicationItems/value = "x""#.to_owned()
                ),
                ("customFieldConditions", r#"caption = "Region""#.to_owned()),
                ("orderBy", "name asc,id desc".to_owned()),
                ("fields", "id,status/name".to_owned()),
            ]
        );
    }

    #[test]
    fn a_filter_that_matches_everything_is_left_out() {
        let q = Query::new().filter(Condition::field("id").not_in(Vec::<i64>::new()));
        assert!(q.filter_params().is_empty());
        assert!(!q.matches_nothing());
        let none = Query::new().filter(Condition::field("id").in_(Vec::<i64>::new()));
        assert!(none.matches_nothing());
    }

    #[test]
    fn page_size_defaults_to_the_maximum_and_is_clamped() {
        assert_eq!(Query::new().effective_page_size(), 1000);
        assert_eq!(Query::new().page_size(0).effective_page_size(), 1);
        assert_eq!(Query::new().page_size(5000).effective_page_size(), 1000);
        assert_eq!(Query::new().page_size(50).effective_page_size(), 50);
    }

    #[test]
    fn and_filter_combines_with_an_existing_filter() {
        let q = Query::new()
            .filter(Condition::field("a").eq(1))
            .and_filter(Condition::field("b").eq(2));
        assert_eq!(q.conditions.unwrap().to_string(), "(a = 1 and b = 2)");
    }
}
