//! Property tests of the contract between the client's condition builder and the simulator's
//! condition parser (the grammar fixed in the brief): whatever value a caller puts into a
//! condition, the server reads back the same field, operator and value, and nested
//! `and`/`or`/`not` trees keep their structure.

use std::str::FromStr;

use cwsync_connectwise::{Condition, FieldPath, Value};
use cwsync_connectwise_sim::query::conditions::{self, Expr, Literal, NumberLiteral};
use proptest::prelude::*;
use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};

const KEYWORDS: [&str; 9] = [
    "and", "or", "not", "in", "like", "contains", "true", "false", "null",
];

/// Field paths as ConnectWise has them: identifiers joined by `/`. A first segment spelled like a
/// keyword is left out: no ConnectWise field is called `not` or `in`, and the grammar cannot tell
/// such a field from the keyword (see `a_field_named_like_a_keyword_is_rejected_by_the_server`).
fn path_strategy() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[A-Za-z_][A-Za-z0-9_]{0,10}", 1..4)
        .prop_filter("first segment is not a keyword", |segments| {
            !KEYWORDS.iter().any(|k| segments[0].eq_ignore_ascii_case(k))
        })
}

/// Any date-time the bracket syntax can carry (years 1–9999 in UTC), in any offset, with
/// sub-seconds the builder must drop.
fn datetime_strategy() -> impl Strategy<Value = OffsetDateTime> {
    // 0001-01-02 to 9999-12-30, so no offset moves the instant outside 4-digit years.
    (
        -62_135_510_400_i64..253_402_128_000,
        0_u32..1_000_000_000,
        -86_399_i32..86_400,
    )
        .prop_map(|(seconds, nanos, offset)| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap()
                .to_offset(UtcOffset::from_whole_seconds(offset).unwrap())
        })
}

fn decimal_strategy() -> impl Strategy<Value = Decimal> {
    (any::<i64>(), 0_u32..=28).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale))
}

fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::String),
        "[\"'\\\\%&+#\n ]{0,6}".prop_map(Value::String),
        any::<i64>().prop_map(Value::Int),
        decimal_strategy().prop_map(Value::Decimal),
        any::<bool>().prop_map(Value::Bool),
        datetime_strategy().prop_map(Value::DateTime),
        Just(Value::Null),
    ]
}

/// Whether the parsed literal is the value the caller gave.
fn same_value(literal: &Literal, value: &Value) -> bool {
    match (literal, value) {
        (Literal::String(parsed), Value::String(original)) => parsed == original,
        (Literal::Number(parsed), Value::Int(original)) => {
            *parsed == NumberLiteral::from(*original)
        }
        (Literal::Number(parsed), Value::Decimal(original)) => {
            Decimal::from_str(&parsed.to_string()).ok() == Some(*original)
        }
        (Literal::Bool(parsed), Value::Bool(original)) => parsed == original,
        // The bracket syntax carries whole seconds; the instant must survive, offset or not.
        (Literal::DateTime(parsed), Value::DateTime(original)) => {
            *parsed == original.replace_nanosecond(0).unwrap()
        }
        (Literal::Null, Value::Null) => true,
        _ => false,
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn build(self, path: &[String], value: Value) -> Condition {
        let field = Condition::try_field(&path.join("/")).unwrap();
        match self {
            Op::Eq => field.eq(value),
            Op::Ne => field.ne(value),
            Op::Lt => field.lt(value),
            Op::Le => field.le(value),
            Op::Gt => field.gt(value),
            Op::Ge => field.ge(value),
        }
    }

    fn parsed(self) -> conditions::CompareOp {
        match self {
            Op::Eq => conditions::CompareOp::Eq,
            Op::Ne => conditions::CompareOp::Ne,
            Op::Lt => conditions::CompareOp::Lt,
            Op::Le => conditions::CompareOp::Le,
            Op::Gt => conditions::CompareOp::Gt,
            Op::Ge => conditions::CompareOp::Ge,
        }
    }
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop::sample::select(vec![Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge])
}

fn parse(condition: &Condition) -> Expr {
    let text = condition.to_string();
    conditions::parse(&text).unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"))
}

/// One leaf clause of a condition tree, with what the parser must read back.
#[derive(Debug, Clone)]
enum Leaf {
    Compare(Vec<String>, Op, Value),
    In(Vec<String>, bool, Vec<Value>),
    Like(Vec<String>, bool, String),
    Contains(Vec<String>, bool, String),
}

fn leaf_strategy() -> impl Strategy<Value = Leaf> {
    prop_oneof![
        (path_strategy(), op_strategy(), value_strategy())
            .prop_map(|(p, op, v)| Leaf::Compare(p, op, v)),
        (
            path_strategy(),
            any::<bool>(),
            prop::collection::vec(value_strategy(), 1..5)
        )
            .prop_map(|(p, n, vs)| Leaf::In(p, n, vs)),
        (path_strategy(), any::<bool>(), any::<String>()).prop_map(|(p, n, s)| Leaf::Like(p, n, s)),
        (path_strategy(), any::<bool>(), any::<String>())
            .prop_map(|(p, n, s)| Leaf::Contains(p, n, s)),
    ]
}

impl Leaf {
    fn build(&self) -> Condition {
        let field = |p: &[String]| Condition::try_field(&p.join("/")).unwrap();
        match self {
            Leaf::Compare(p, op, v) => op.build(p, v.clone()),
            Leaf::In(p, false, vs) => field(p).in_(vs.clone()),
            Leaf::In(p, true, vs) => field(p).not_in(vs.clone()),
            Leaf::Like(p, false, s) => field(p).like(s.clone()),
            Leaf::Like(p, true, s) => field(p).not_like(s.clone()),
            Leaf::Contains(p, false, s) => field(p).contains(s.clone()),
            Leaf::Contains(p, true, s) => field(p).not_contains(s.clone()),
        }
    }

    fn matches(&self, expr: &Expr) -> bool {
        match (self, expr) {
            (Leaf::Compare(p, op, v), Expr::Compare { path, op: o, value }) => {
                p == path && op.parsed() == *o && same_value(value, v)
            }
            (
                Leaf::In(p, n, vs),
                Expr::In {
                    path,
                    values,
                    negated,
                },
            ) => {
                p == path
                    && n == negated
                    && values.len() == vs.len()
                    && values.iter().zip(vs).all(|(l, v)| same_value(l, v))
            }
            (
                Leaf::Like(p, n, s),
                Expr::Like {
                    path,
                    pattern,
                    negated,
                },
            ) => p == path && n == negated && s == pattern,
            (
                Leaf::Contains(p, n, s),
                Expr::Contains {
                    path,
                    text,
                    negated,
                },
            ) => p == path && n == negated && s == text,
            _ => false,
        }
    }
}

/// A condition tree as a caller builds it.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(Leaf),
    All(Vec<Tree>),
    Any(Vec<Tree>),
    Not(Box<Tree>),
}

fn tree_strategy() -> impl Strategy<Value = Tree> {
    leaf_strategy()
        .prop_map(Tree::Leaf)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::All),
                prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::Any),
                inner.prop_map(|t| Tree::Not(Box::new(t))),
            ]
        })
}

/// The structure the builder documents: nested groups of the same kind flatten, a group of one
/// is that one, and a double negation cancels.
#[derive(Debug, Clone)]
enum Shape {
    Leaf(Leaf),
    And(Vec<Shape>),
    Or(Vec<Shape>),
    Not(Box<Shape>),
}

impl Tree {
    fn build(&self) -> Condition {
        match self {
            Tree::Leaf(leaf) => leaf.build(),
            Tree::All(items) => Condition::all(items.iter().map(Tree::build)),
            Tree::Any(items) => Condition::any(items.iter().map(Tree::build)),
            Tree::Not(inner) => !inner.build(),
        }
    }

    fn shape(&self) -> Shape {
        let group = |items: &[Tree], is_and: bool| {
            let mut flat = Vec::new();
            for item in items {
                match (item.shape(), is_and) {
                    (Shape::And(inner), true) | (Shape::Or(inner), false) => flat.extend(inner),
                    (other, _) => flat.push(other),
                }
            }
            match (flat.len(), is_and) {
                (1, _) => flat.pop().unwrap(),
                (_, true) => Shape::And(flat),
                (_, false) => Shape::Or(flat),
            }
        };
        match self {
            Tree::Leaf(leaf) => Shape::Leaf(leaf.clone()),
            Tree::All(items) => group(items, true),
            Tree::Any(items) => group(items, false),
            Tree::Not(inner) => match inner.shape() {
                Shape::Not(twice) => *twice,
                other => Shape::Not(Box::new(other)),
            },
        }
    }
}

impl Shape {
    fn matches(&self, expr: &Expr) -> bool {
        match (self, expr) {
            (Shape::Leaf(leaf), expr) => leaf.matches(expr),
            (Shape::And(items), Expr::And(exprs)) | (Shape::Or(items), Expr::Or(exprs)) => {
                items.len() == exprs.len() && items.iter().zip(exprs).all(|(s, e)| s.matches(e))
            }
            (Shape::Not(inner), Expr::Not(expr)) => inner.matches(expr),
            _ => false,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_value_in_a_comparison_reaches_the_server_with_the_same_field_operator_and_value(
        path in path_strategy(),
        op in op_strategy(),
        value in value_strategy(),
    ) {
        let condition = op.build(&path, value.clone());
        let parsed = parse(&condition);
        let Expr::Compare { path: parsed_path, op: parsed_op, value: literal } = &parsed else {
            panic!("{condition} parsed as {parsed:?}");
        };
        prop_assert_eq!(parsed_path, &path);
        prop_assert_eq!(*parsed_op, op.parsed());
        prop_assert!(same_value(literal, &value), "{} read {:?} for {:?}", condition, literal, value);
    }

    #[test]
    fn in_like_and_contains_clauses_reach_the_server_unchanged(leaf in leaf_strategy()) {
        let condition = leaf.build();
        let parsed = parse(&condition);
        prop_assert!(leaf.matches(&parsed), "{} parsed as {:?}", condition, parsed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn nested_and_or_not_trees_reach_the_server_with_the_same_structure(tree in tree_strategy()) {
        let condition = tree.build();
        let parsed = parse(&condition);
        let shape = tree.shape();
        prop_assert!(shape.matches(&parsed), "{} parsed as {:?}, expected {:?}", condition, parsed, shape);
    }
}

#[test]
fn a_field_named_like_a_keyword_is_rejected_by_the_server() {
    // The builder accepts `not` as a field path (it is a valid identifier) but the grammar reads
    // it as the keyword, so the server answers 400: such a condition can only fail loudly, never
    // match the wrong records.
    for keyword in KEYWORDS {
        let path = FieldPath::parse(keyword).unwrap();
        let text = Condition::path(path).eq(1).to_string();
        assert!(
            conditions::parse(&text).is_err(),
            "{text:?} is not a valid condition"
        );
    }
}
