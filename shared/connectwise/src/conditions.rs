//! Typed builder for the ConnectWise `conditions` language (also used for `childConditions` and
//! `customFieldConditions`).
//!
//! Callers never concatenate condition strings: they build a [`Condition`] from validated
//! [`FieldPath`]s and typed [`Value`]s, and `Display` renders exactly the grammar fixed in the
//! project brief: double-quoted strings with `\` → `\\` and `"` → `\"`, date-times as
//! `[YYYY-MM-DDTHH:MM:SSZ]` in UTC, lower-case keywords, every group of clauses in parentheses.
//! This module must never render user text outside a quoted string literal.
//!
//! ```
//! use cwsync_connectwise::Condition;
//!
//! let c = Condition::field("company/identifier")
//!     .eq("ACME \"West\"")
//!     .and(Condition::field("status/id").in_([1, 42]));
//! assert_eq!(
//!     c.to_string(),
//!     r#"(company/identifier = "ACME \"West\"" and status/id in (1,42))"#
//! );
//! ```

use std::fmt::{self, Write as _};
use std::ops::Not;
use std::str::FromStr;

use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};

/// A field path such as `company/identifier`: identifiers `[A-Za-z_][A-Za-z0-9_]*` joined by `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(String);

/// A string that is not a valid [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid field path {path:?}: {reason}")]
pub struct InvalidFieldPath {
    /// The rejected input.
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FieldPath {
    /// Validates `path` (segments `[A-Za-z_][A-Za-z0-9_]*` joined by `/`).
    pub fn parse(path: &str) -> Result<Self, InvalidFieldPath> {
        match path_error(path) {
            None => Ok(Self(path.to_owned())),
            Some(reason) => Err(InvalidFieldPath {
                path: path.to_owned(),
                reason,
            }),
        }
    }

    /// A path written in the source code. Invalid literals are a programming error: they fail a
    /// debug assertion in tests and, in release builds, reach the server, which answers 400.
    pub fn from_static(path: &'static str) -> Self {
        debug_assert!(
            path_error(path).is_none(),
            "invalid ConnectWise field path literal {path:?}"
        );
        Self(path.to_owned())
    }

    /// The path as sent to the API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `None` when `path` is valid, else the reason it is not.
fn path_error(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("it is empty");
    }
    for segment in path.split('/') {
        let mut chars = segment.chars();
        match chars.next() {
            None => return Some("it has an empty segment"),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
            Some(_) => return Some("a segment starts with a character other than a letter or _"),
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Some("a segment holds a character other than a letter, digit or _");
        }
    }
    None
}

impl FromStr for FieldPath {
    type Err = InvalidFieldPath;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for FieldPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A literal on the right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Rendered double-quoted with `\` and `"` escaped.
    String(String),
    /// Rendered as decimal digits.
    Int(i64),
    /// Rendered without exponent, e.g. `-12.50`.
    Decimal(Decimal),
    /// `true` / `false`.
    Bool(bool),
    /// Converted to UTC and rendered `[YYYY-MM-DDTHH:MM:SSZ]` (sub-seconds dropped).
    DateTime(OffsetDateTime),
    /// `null`; `field = null` matches a missing or null field.
    Null,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write_quoted(f, s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::DateTime(dt) => {
                let u = dt.to_offset(UtcOffset::UTC);
                write!(
                    f,
                    "[{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z]",
                    u.year(),
                    u8::from(u.month()),
                    u.day(),
                    u.hour(),
                    u.minute(),
                    u.second()
                )
            }
            Value::Null => f.write_str("null"),
        }
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '"' => f.write_str("\\\"")?,
            other => f.write_char(other)?,
        }
    }
    f.write_char('"')
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}
macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
int_value!(i8, i16, i32, i64, u8, u16, u32);
impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Decimal(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<OffsetDateTime> for Value {
    fn from(v: OffsetDateTime) -> Self {
        Value::DateTime(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Comparison operators of a `path op value` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// A condition expression; render it with `to_string()`.
///
/// Empty lists have a defined meaning instead of producing invalid syntax: `in_([])` and
/// `Condition::any([])` match nothing, `not_in([])` and `Condition::all([])` match everything.
/// Such constants fold away inside larger expressions; a condition that is constant as a whole
/// renders as `id = null` (matches nothing, every record has an id) or `id != null` (matches
/// everything). [`crate::Client::list_by_ids`] skips the request entirely for an empty list.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition(Node);

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Const(bool),
    Compare {
        field: FieldPath,
        op: CompareOp,
        value: Value,
    },
    In {
        field: FieldPath,
        negated: bool,
        values: Vec<Value>,
    },
    Like {
        field: FieldPath,
        negated: bool,
        pattern: String,
    },
    Contains {
        field: FieldPath,
        negated: bool,
        needle: String,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// The left-hand side of a clause, returned by [`Condition::field`]; finish it with an operator.
#[derive(Debug, Clone)]
#[must_use = "a field alone is not a condition: call an operator such as .eq()"]
pub struct FieldCondition(FieldPath);

impl Condition {
    /// Starts a clause on a field path written in the source code, e.g. `"company/identifier"`.
    /// See [`FieldPath::from_static`] for what happens to an invalid literal.
    pub fn field(path: &'static str) -> FieldCondition {
        FieldCondition(FieldPath::from_static(path))
    }

    /// Starts a clause on a path validated at run time (e.g. from tenant settings).
    pub fn path(path: FieldPath) -> FieldCondition {
        FieldCondition(path)
    }

    /// Starts a clause on a path given at run time, validating it.
    pub fn try_field(path: &str) -> Result<FieldCondition, InvalidFieldPath> {
        FieldPath::parse(path).map(FieldCondition)
    }

    /// All of `conditions` (`(a and b and …)`); an empty list matches everything.
    pub fn all(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition(group(true, conditions.into_iter().map(|c| c.0)))
    }

    /// Any of `conditions` (`(a or b or …)`); an empty list matches nothing.
    pub fn any(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition(group(false, conditions.into_iter().map(|c| c.0)))
    }

    /// `(self and other)`.
    #[must_use]
    pub fn and(self, other: Condition) -> Condition {
        Condition::all([self, other])
    }

    /// `(self or other)`.
    #[must_use]
    pub fn or(self, other: Condition) -> Condition {
        Condition::any([self, other])
    }

    /// `not (condition)`; the same as `!condition`.
    #[allow(clippy::should_implement_trait)] // `Not` is implemented too; this spelling reads better in chains
    pub fn not(condition: Condition) -> Condition {
        !condition
    }

    /// A condition that matches every record.
    pub fn always() -> Condition {
        Condition(Node::Const(true))
    }

    /// A condition that matches no record.
    pub fn never() -> Condition {
        Condition(Node::Const(false))
    }

    /// Whether the condition is known to match no record, so a request can be skipped.
    pub fn matches_nothing(&self) -> bool {
        self.0 == Node::Const(false)
    }

    /// Whether the condition is known to match every record, so it can be left out.
    pub fn matches_everything(&self) -> bool {
        self.0 == Node::Const(true)
    }
}

/// Builds an `and` (`is_and`) or `or` group, flattening nested groups of the same kind and
/// folding constants.
fn group(is_and: bool, items: impl Iterator<Item = Node>) -> Node {
    let mut out = Vec::new();
    for item in items {
        match item {
            // `true` is neutral in `and`, `false` in `or`.
            Node::Const(b) if b == is_and => {}
            // `false` absorbs an `and`, `true` absorbs an `or`.
            Node::Const(b) => return Node::Const(b),
            Node::And(inner) if is_and => out.extend(inner),
            Node::Or(inner) if !is_and => out.extend(inner),
            other => out.push(other),
        }
    }
    match out.len() {
        0 => Node::Const(is_and),
        1 => out.pop().unwrap_or(Node::Const(is_and)),
        _ if is_and => Node::And(out),
        _ => Node::Or(out),
    }
}

impl Not for Condition {
    type Output = Condition;
    /// `not (…)`; double negations and constants fold.
    fn not(self) -> Condition {
        Condition(match self.0 {
            Node::Const(b) => Node::Const(!b),
            Node::Not(inner) => *inner,
            other => Node::Not(Box::new(other)),
        })
    }
}

impl FieldCondition {
    fn compare(self, op: CompareOp, value: impl Into<Value>) -> Condition {
        Condition(Node::Compare {
            field: self.0,
            op,
            value: value.into(),
        })
    }

    /// `field = value` (string equality is case-insensitive on the server).
    pub fn eq(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Eq, value)
    }
    /// `field != value`.
    pub fn ne(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Ne, value)
    }
    /// `field < value`.
    pub fn lt(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Lt, value)
    }
    /// `field <= value`.
    pub fn le(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Le, value)
    }
    /// `field > value`.
    pub fn gt(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Gt, value)
    }
    /// `field >= value`.
    pub fn ge(self, value: impl Into<Value>) -> Condition {
        self.compare(CompareOp::Ge, value)
    }
    /// `field = null`: the field is missing or null.
    pub fn is_null(self) -> Condition {
        self.compare(CompareOp::Eq, Value::Null)
    }
    /// `field != null`.
    pub fn is_not_null(self) -> Condition {
        self.compare(CompareOp::Ne, Value::Null)
    }
    /// `field contains "needle"` (case-insensitive substring).
    pub fn contains(self, needle: impl Into<String>) -> Condition {
        Condition(Node::Contains {
            field: self.0,
            negated: false,
            needle: needle.into(),
        })
    }
    /// `field not contains "needle"`.
    pub fn not_contains(self, needle: impl Into<String>) -> Condition {
        Condition(Node::Contains {
            field: self.0,
            negated: true,
            needle: needle.into(),
        })
    }
    /// `field like "pattern"`; `%` in the pattern matches any run of characters.
    pub fn like(self, pattern: impl Into<String>) -> Condition {
        Condition(Node::Like {
            field: self.0,
            negated: false,
            pattern: pattern.into(),
        })
    }
    /// `field not like "pattern"`.
    pub fn not_like(self, pattern: impl Into<String>) -> Condition {
        Condition(Node::Like {
            field: self.0,
            negated: true,
            pattern: pattern.into(),
        })
    }
    /// `field in (v1, v2, …)`; an empty list matches nothing.
    pub fn in_<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Condition {
        self.in_list(false, values)
    }
    /// `field not in (v1, v2, …)`; an empty list matches everything.
    pub fn not_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Condition {
        self.in_list(true, values)
    }

    fn in_list<V: Into<Value>>(
        self,
        negated: bool,
        values: impl IntoIterator<Item = V>,
    ) -> Condition {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        if values.is_empty() {
            return Condition(Node::Const(negated));
        }
        Condition(Node::In {
            field: self.0,
            negated,
            values,
        })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_node(f, &self.0)
    }
}

fn write_node(f: &mut fmt::Formatter<'_>, node: &Node) -> fmt::Result {
    match node {
        // Only reachable for a condition that is constant as a whole (constants fold otherwise).
        Node::Const(true) => f.write_str("id != null"),
        Node::Const(false) => f.write_str("id = null"),
        Node::Compare { field, op, value } => write!(f, "{field} {} {value}", op.symbol()),
        Node::In {
            field,
            negated,
            values,
        } => {
            write!(f, "{field} {}in (", if *negated { "not " } else { "" })?;
            for (i, v) in values.iter().enumerate() {
                // No space after the comma: long id lists must fit in a URL.
                if i > 0 {
                    f.write_char(',')?;
                }
                write!(f, "{v}")?;
            }
            f.write_char(')')
        }
        Node::Like {
            field,
            negated,
            pattern,
        } => {
            write!(f, "{field} {}like ", if *negated { "not " } else { "" })?;
            write_quoted(f, pattern)
        }
        Node::Contains {
            field,
            negated,
            needle,
        } => {
            write!(f, "{field} {}contains ", if *negated { "not " } else { "" })?;
            write_quoted(f, needle)
        }
        Node::And(items) => write_group(f, items, " and "),
        Node::Or(items) => write_group(f, items, " or "),
        Node::Not(inner) => match inner.as_ref() {
            // A group already carries its parentheses.
            Node::And(_) | Node::Or(_) => {
                f.write_str("not ")?;
                write_node(f, inner)
            }
            other => {
                f.write_str("not (")?;
                write_node(f, other)?;
                f.write_char(')')
            }
        },
    }
}

fn write_group(f: &mut fmt::Formatter<'_>, items: &[Node], joiner: &str) -> fmt::Result {
    f.write_char('(')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(joiner)?;
        }
        write_node(f, item)?;
    }
    f.write_char(')')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use time::macros::datetime;

    #[test]
    fn equality_on_a_nested_path_renders_a_quoted_string() {
        let c = Condition::field("company/identifier").eq("ACME");
        assert_eq!(c.to_string(), r#"company/identifier = "ACME""#);
    }

    #[test]
    fn hostile_strings_are_escaped_inside_one_literal() {
        let c = Condition::field("name").eq(r#"a"b\c' or 1=1 %&+#"#);
        assert_eq!(c.to_string(), r#"name = "a\"b\\c' or 1=1 %&+#""#);
    }

    #[test]
    fn unicode_and_newlines_are_kept_literally() {
        let c = Condition::field("name").contains("Müller & Söhne\n日本");
        assert_eq!(c.to_string(), "name contains \"Müller & Söhne\n日本\"");
    }

    #[test]
    fn every_operator_renders_its_symbol() {
        let f = || Condition::field("x");
        let rendered: Vec<String> = [
            f().eq(1),
            f().ne(1),
            f().lt(1),
            f().le(1),
            f().gt(1),
            f().ge(1),
            f().is_null(),
            f().is_not_null(),
            f().like("a%"),
            f().not_like("a%"),
            f().contains("a"),
            f().not_contains("a"),
            f().in_([1, 2]),
            f().not_in(["a", "b"]),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            rendered,
            [
                "x = 1",
                "x != 1",
                "x < 1",
                "x <= 1",
                "x > 1",
                "x >= 1",
                "x = null",
                "x != null",
                r#"x like "a%""#,
                r#"x not like "a%""#,
                r#"x contains "a""#,
                r#"x not contains "a""#,
                "x in (1,2)",
                r#"x not in ("a","b")"#,
            ]
        );
    }

    #[test]
    fn date_times_are_rendered_in_utc_without_fractions() {
        let c = Condition::field("lastUpdated").gt(datetime!(2015-12-23 07:53:27.987 +02:00));
        assert_eq!(c.to_string(), "lastUpdated > [2015-12-23T05:53:27Z]");
    }

    #[test]
    fn scalars_render_as_bare_literals() {
        assert_eq!(Value::from(Decimal::new(-1250, 2)).to_string(), "-12.50");
        assert_eq!(Value::from(true).to_string(), "true");
        assert_eq!(Value::from(None::<i64>).to_string(), "null");
        assert_eq!(Value::from(-7_i32).to_string(), "-7");
    }

    #[test]
    fn groups_are_parenthesised_and_same_kind_groups_flatten() {
        let a = Condition::field("a").eq(1);
        let b = Condition::field("b").eq(2);
        let c = Condition::field("c").eq(3);
        let d = Condition::field("d").eq(4);
        let expr = a.and(b).and(c.or(d));
        assert_eq!(expr.to_string(), "(a = 1 and b = 2 and (c = 3 or d = 4))");
    }

    #[test]
    fn negation_wraps_its_operand_in_parentheses_once() {
        let single = !Condition::field("a").eq(1);
        assert_eq!(single.to_string(), "not (a = 1)");
        let grouped = !(Condition::field("a").eq(1).or(Condition::field("b").eq(2)));
        assert_eq!(grouped.to_string(), "not (a = 1 or b = 2)");
        let double = Condition::not(!Condition::field("a").eq(1));
        assert_eq!(double.to_string(), "a = 1");
    }

    #[test]
    fn an_empty_in_list_matches_nothing_and_folds_away() {
        let none = Condition::field("id").in_(Vec::<i64>::new());
        assert!(none.matches_nothing());
        assert_eq!(none.to_string(), "id = null");
        let either = Condition::field("id")
            .in_(Vec::<i64>::new())
            .or(Condition::field("a").eq(1));
        assert_eq!(either.to_string(), "a = 1");
        let both = Condition::field("a")
            .eq(1)
            .and(Condition::field("id").in_(Vec::<i64>::new()));
        assert!(both.matches_nothing());
        let all = Condition::field("id").not_in(Vec::<i64>::new());
        assert!(all.matches_everything());
        assert!(Condition::all([]).matches_everything());
        assert!(Condition::any([]).matches_nothing());
    }

    #[test]
    fn field_paths_are_validated() {
        assert!(FieldPath::parse("company/identifier").is_ok());
        assert!(FieldPath::parse("_info/lastUpdated").is_ok());
        assert!(FieldPath::parse("a1/b_2").is_ok());
        for bad in ["", "/a", "a/", "a//b", "1a", "a b", "a=1", "a\"", "a/b)"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Condition::try_field("name) or (1").is_err());
    }

    /// Reads back a string literal the way the server's grammar does.
    fn unquote(lit: &str) -> Option<String> {
        let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => return None,
                other => out.push(other),
            }
        }
        Some(out)
    }

    proptest! {
        #[test]
        fn any_string_round_trips_through_the_literal_grammar(s in any::<String>()) {
            let rendered = Value::from(s.as_str()).to_string();
            prop_assert_eq!(unquote(&rendered), Some(s));
        }
    }
}
