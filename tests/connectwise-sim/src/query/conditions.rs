//! Parser and evaluator for the ConnectWise `conditions` grammar (also used for `childConditions` and
//! `customFieldConditions`). The grammar is the one fixed in the shared brief:
//!
//! ```text
//! expr  := or            or  := and (OR and)*        and := unary (AND unary)*
//! unary := NOT unary | '(' expr ')' | comparison
//! comparison := path op value | path [NOT] IN '(' value (',' value)* ')'
//!             | path [NOT] LIKE string | path [NOT] CONTAINS string
//! ```
//!
//! [`parse`] turns text into an [`Expr`]; [`Expr::matches`] evaluates it against a JSON record the way the
//! real server's SQL would (case-insensitive text, numbers in strings, any-element matching across arrays);
//! `Display` renders the canonical text that parses back to the same `Expr`. Parsing must never panic or
//! recurse without bound on hostile input: every problem is a [`QueryError`] naming the byte position.

use super::values::{fold, json_datetime, json_number, json_text, resolve};
use super::{QueryError, is_ident_continue, is_ident_start};
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{OffsetDateTime, PrimitiveDateTime};

/// How deeply `not` and parentheses may nest before the input is rejected (protects the stack).
pub const MAX_NESTING: usize = 64;

/// A parsed condition expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Any of the clauses holds (at least two clauses).
    Or(Vec<Expr>),
    /// All of the clauses hold (at least two clauses).
    And(Vec<Expr>),
    /// Logical complement of the inner expression.
    Not(Box<Expr>),
    /// `path op value`.
    Compare {
        path: Vec<String>,
        op: CompareOp,
        value: Literal,
    },
    /// `path in (values)` or `path not in (values)`.
    In {
        path: Vec<String>,
        values: Vec<Literal>,
        negated: bool,
    },
    /// `path like "pattern"` (`%` any run of characters, `_` one character), or `not like`.
    Like {
        path: Vec<String>,
        pattern: String,
        negated: bool,
    },
    /// `path contains "text"` (case-insensitive substring), or `not contains`.
    Contains {
        path: Vec<String>,
        text: String,
        negated: bool,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// The operator as written in a condition.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    fn from_symbol(symbol: &str) -> Option<Self> {
        Some(match symbol {
            "=" => Self::Eq,
            "!=" => Self::Ne,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            _ => return None,
        })
    }

    /// Whether a field that compares `ordering` to the literal satisfies the operator.
    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Self::Eq => ordering.is_eq(),
            Self::Ne => ordering.is_ne(),
            Self::Lt => ordering.is_lt(),
            Self::Le => ordering.is_le(),
            Self::Gt => ordering.is_gt(),
            Self::Ge => ordering.is_ge(),
        }
    }
}

/// A literal value in a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string, escapes already resolved.
    String(String),
    /// A number `-?digits(.digits)?`, kept exactly.
    Number(NumberLiteral),
    /// A date-time written in square brackets. Equality is by instant.
    DateTime(OffsetDateTime),
    Bool(bool),
    Null,
}

/// An exact decimal number as written in a condition (`-?digits(.digits)?`), normalised so that equal
/// numbers are equal values (`1.50` == `01.5`, `-0` == `0`). Ordered numerically.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumberLiteral {
    negative: bool,
    /// Integer digits without leading zeros; "0" for zero.
    integer: String,
    /// Fraction digits without trailing zeros; may be empty.
    fraction: String,
}

impl NumberLiteral {
    /// Parses exactly `-?digits(.digits)?` (no spaces, exponents or `+`).
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (unsigned, None),
        };
        let all_digits =
            |digits: &str| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(integer) || fraction.is_some_and(|fraction| !all_digits(fraction)) {
            return None;
        }
        let integer = integer.trim_start_matches('0');
        let fraction = fraction.unwrap_or("").trim_end_matches('0');
        let integer = if integer.is_empty() { "0" } else { integer };
        Some(Self {
            negative: negative && (integer != "0" || !fraction.is_empty()),
            integer: integer.to_owned(),
            fraction: fraction.to_owned(),
        })
    }

    /// Compares magnitudes, ignoring signs.
    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        self.integer
            .len()
            .cmp(&other.integer.len())
            .then_with(|| self.integer.cmp(&other.integer))
            // Without trailing zeros, digit strings order like the fractions they stand for.
            .then_with(|| self.fraction.cmp(&other.fraction))
    }
}

impl Ord for NumberLiteral {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for NumberLiteral {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for NumberLiteral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(&self.integer)?;
        if !self.fraction.is_empty() {
            write!(f, ".{}", self.fraction)?;
        }
        Ok(())
    }
}

impl From<i64> for NumberLiteral {
    fn from(value: i64) -> Self {
        Self {
            negative: value < 0,
            integer: value.unsigned_abs().to_string(),
            fraction: String::new(),
        }
    }
}

/// Parses the text between `[` and `]`: RFC 3339 / ISO 8601 with `Z` or an offset. A date-time without an
/// offset is read as UTC, because some clients (django-connectwise) send naive date-times.
pub fn parse_datetime_literal(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
        .ok()
        .or_else(|| {
            PrimitiveDateTime::parse(text, &Iso8601::DEFAULT)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        })
}

/// Parses a `conditions` (or `childConditions` / `customFieldConditions`) string.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    let mut parser = Parser::new(input)?;
    if parser.current.kind == TokenKind::End {
        return Err(QueryError::at(
            parser.current.start,
            format!(
                "Expected a condition at position {} but found end of input",
                parser.current.start
            ),
        ));
    }
    let expr = parser.parse_or()?;
    if parser.current.kind != TokenKind::End {
        return Err(parser.unexpected("'and', 'or' or end of input", None));
    }
    Ok(expr)
}

impl Expr {
    /// Whether `record` satisfies the expression. Paths that cross arrays match when any element matches.
    ///
    /// Missing or null fields satisfy only `= null` (and `in` lists holding `null`); every other
    /// comparison with them is false, including `!=`, `not in`, `not like` and `not contains`. Prefix
    /// `not` is the plain complement of what it wraps.
    pub fn matches(&self, record: &Value) -> bool {
        match self {
            Self::Or(clauses) => clauses.iter().any(|clause| clause.matches(record)),
            Self::And(clauses) => clauses.iter().all(|clause| clause.matches(record)),
            Self::Not(inner) => !inner.matches(record),
            Self::Compare { path, op, value } => {
                let found = resolve(record, path);
                match (value, op) {
                    (Literal::Null, CompareOp::Eq) => found.iter().any(|value| is_absent(*value)),
                    (Literal::Null, CompareOp::Ne) => found.iter().any(|value| !is_absent(*value)),
                    (Literal::Null, _) => false,
                    (literal, CompareOp::Ne) => {
                        present(&found).any(|value| !equals(value, literal))
                    }
                    (literal, op) => present(&found).any(|value| {
                        compare(value, literal).is_some_and(|ordering| op.accepts(ordering))
                    }),
                }
            }
            Self::In {
                path,
                values,
                negated: false,
            } => resolve(record, path)
                .into_iter()
                .any(|value| values.iter().any(|literal| in_list_equals(value, literal))),
            Self::In {
                path,
                values,
                negated: true,
            } => present(&resolve(record, path))
                .any(|value| !values.iter().any(|literal| equals(value, literal))),
            Self::Like {
                path,
                pattern,
                negated,
            } => {
                let pattern: Vec<char> = fold(pattern).chars().collect();
                present(&resolve(record, path)).any(|value| {
                    let hit = json_text(value).is_some_and(|text| like(&fold(&text), &pattern));
                    hit != *negated
                })
            }
            Self::Contains {
                path,
                text,
                negated,
            } => {
                let needle = fold(text);
                present(&resolve(record, path)).any(|value| {
                    let hit = json_text(value).is_some_and(|text| fold(&text).contains(&needle));
                    hit != *negated
                })
            }
        }
    }

    /// The canonical condition text of this expression (the same as its `Display`).
    pub fn to_condition_string(&self) -> String {
        self.to_string()
    }

    /// Every field path the expression reads, in order of appearance (so a caller can check them against
    /// a schema).
    pub fn paths(&self) -> Vec<&[String]> {
        let mut paths = Vec::new();
        self.collect_paths(&mut paths);
        paths
    }

    fn collect_paths<'a>(&'a self, paths: &mut Vec<&'a [String]>) {
        match self {
            Self::Or(clauses) | Self::And(clauses) => {
                for clause in clauses {
                    clause.collect_paths(paths);
                }
            }
            Self::Not(inner) => inner.collect_paths(paths),
            Self::Compare { path, .. }
            | Self::In { path, .. }
            | Self::Like { path, .. }
            | Self::Contains { path, .. } => paths.push(path),
        }
    }
}

fn is_absent(value: Option<&Value>) -> bool {
    value.is_none_or(Value::is_null)
}

/// The present, non-null values among those a path reached.
fn present<'a, 'b>(found: &'b [Option<&'a Value>]) -> impl Iterator<Item = &'a Value> + 'b {
    found
        .iter()
        .flatten()
        .copied()
        .filter(|value| !value.is_null())
}

fn equals(value: &Value, literal: &Literal) -> bool {
    compare(value, literal) == Some(Ordering::Equal)
}

/// `in` is a list of `=` comparisons, so a `null` in the list matches a missing field.
fn in_list_equals(value: Option<&Value>, literal: &Literal) -> bool {
    match (value, literal) {
        (value, Literal::Null) => is_absent(value),
        (Some(value), literal) => !value.is_null() && equals(value, literal),
        (None, _) => false,
    }
}

/// How a present field value orders against a literal, with SQL Server's implicit conversions; `None` when
/// the two can't be compared (then only `!=` and the negated operators hold).
fn compare(value: &Value, literal: &Literal) -> Option<Ordering> {
    match (value, literal) {
        (Value::Number(_) | Value::String(_), Literal::Number(number)) => {
            Some(json_number(value)?.cmp(number))
        }
        (Value::String(text), Literal::String(other)) => {
            match (json_datetime(text), json_datetime(other)) {
                (Some(left), Some(right)) => Some(left.cmp(&right)),
                _ => Some(fold(text).cmp(&fold(other))),
            }
        }
        (Value::Number(_), Literal::String(other)) => {
            Some(json_number(value)?.cmp(&NumberLiteral::parse(other.trim())?))
        }
        (Value::String(text), Literal::DateTime(instant)) => {
            Some(json_datetime(text)?.cmp(instant))
        }
        (Value::Bool(flag), Literal::Bool(other)) => Some(flag.cmp(other)),
        (Value::Bool(flag), Literal::String(other)) => {
            let other = match fold(other.trim()).as_str() {
                "true" => true,
                "false" => false,
                _ => return None,
            };
            Some(flag.cmp(&other))
        }
        _ => None,
    }
}

/// Whole-string LIKE match: `%` matches any run of characters (also none), `_` exactly one. Both sides are
/// already case-folded. Iterative with one backtrack point, so hostile patterns cost at most O(n·m).
fn like(text: &str, pattern: &[char]) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut t, mut p) = (0, 0);
    // Where the last `%` was, and the text position it currently stands in for.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('%') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '_' || c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match backtrack {
                Some((star, consumed)) => {
                    backtrack = Some((star, consumed + 1));
                    p = star + 1;
                    t = consumed + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '%')
}

// ---------------------------------------------------------------------------------------------------------
// Canonical text

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Or(clauses) => write_clauses(f, clauses, " or "),
            Self::And(clauses) => write_clauses(f, clauses, " and "),
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::Compare { path, op, value } => {
                write!(f, "{} {} {value}", Path(path), op.symbol())
            }
            Self::In {
                path,
                values,
                negated,
            } => {
                write!(f, "{} {}in (", Path(path), not_prefix(*negated))?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str(")")
            }
            Self::Like {
                path,
                pattern,
                negated,
            } => write!(
                f,
                "{} {}like {}",
                Path(path),
                not_prefix(*negated),
                Literal::String(pattern.clone())
            ),
            Self::Contains {
                path,
                text,
                negated,
            } => write!(
                f,
                "{} {}contains {}",
                Path(path),
                not_prefix(*negated),
                Literal::String(text.clone())
            ),
        }
    }
}

/// Joins clauses; a nested `and`/`or` group is wrapped in parentheses, as the brief's builder does.
fn write_clauses(f: &mut fmt::Formatter<'_>, clauses: &[Expr], separator: &str) -> fmt::Result {
    for (i, clause) in clauses.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        match clause {
            Expr::Or(_) | Expr::And(_) => write!(f, "({clause})")?,
            _ => write!(f, "{clause}")?,
        }
    }
    Ok(())
}

fn not_prefix(negated: bool) -> &'static str {
    if negated { "not " } else { "" }
}

struct Path<'a>(&'a [String]);

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(text) => {
                f.write_str("\"")?;
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            Self::Number(number) => write!(f, "{number}"),
            Self::DateTime(instant) => {
                // RFC 3339 can't write an offset with seconds (only a hand-built value has one): then
                // the same instant in UTC, and ISO 8601 as the last resort near the ends of the calendar.
                let text = instant
                    .format(&Rfc3339)
                    .or_else(|_| instant.to_offset(time::UtcOffset::UTC).format(&Rfc3339))
                    .or_else(|_| instant.format(&Iso8601::DEFAULT))
                    .map_err(|_| fmt::Error)?;
                write!(f, "[{text}]")
            }
            Self::Bool(flag) => write!(f, "{flag}"),
            Self::Null => f.write_str("null"),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    /// A bare word: a field name or a keyword (keywords are recognised by the parser, case-insensitively).
    Word(String),
    String(String),
    Number(NumberLiteral),
    DateTime(OffsetDateTime),
    Op(CompareOp),
    LeftParen,
    RightParen,
    Comma,
    Slash,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    /// Byte offsets of the token in the input.
    start: usize,
    end: usize,
}

const KEYWORDS: [&str; 9] = [
    "and", "or", "not", "in", "like", "contains", "true", "false", "null",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS
        .iter()
        .any(|keyword| word.eq_ignore_ascii_case(keyword))
}

/// Produces tokens on demand, so errors are reported in reading order.
#[derive(Debug)]
struct Lexer<'a> {
    input: &'a str,
    position: usize,
}

impl<'a> Lexer<'a> {
    fn peek_char(&self) -> Option<char> {
        self.input[self.position..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.position += c.len_utf8();
        Some(c)
    }

    fn next_token(&mut self) -> Result<Token, QueryError> {
        while self.peek_char().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let start = self.position;
        let Some(c) = self.bump() else {
            return Ok(self.token(TokenKind::End, start));
        };
        let kind = match c {
            '(' => TokenKind::LeftParen,
            ')' => TokenKind::RightParen,
            ',' => TokenKind::Comma,
            '/' => TokenKind::Slash,
            '=' | '!' | '<' | '>' => self.operator(start)?,
            '"' | '\'' => self.string(c, start)?,
            '[' => self.datetime(start)?,
            '-' | '0'..='9' => self.number(c, start)?,
            c if is_ident_start(c) => {
                while self.peek_char().is_some_and(is_ident_continue) {
                    self.bump();
                }
                TokenKind::Word(self.input[start..self.position].to_owned())
            }
            other => {
                return Err(QueryError::at(
                    start,
                    format!("Unexpected character {other:?} at position {start}"),
                ));
            }
        };
        Ok(self.token(kind, start))
    }

    fn token(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            start,
            end: self.position,
        }
    }

    fn operator(&mut self, start: usize) -> Result<TokenKind, QueryError> {
        while self
            .peek_char()
            .is_some_and(|c| matches!(c, '=' | '!' | '<' | '>'))
        {
            self.bump();
        }
        let symbol = &self.input[start..self.position];
        CompareOp::from_symbol(symbol).map(TokenKind::Op).ok_or_else(|| {
            QueryError::at(
                start,
                format!(
                    "Unknown operator '{symbol}' at position {start}: expected one of =, !=, <, <=, >, >=, \
                     in, like, contains"
                ),
            )
        })
    }

    fn string(&mut self, quote: char, start: usize) -> Result<TokenKind, QueryError> {
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(QueryError::at(
                        start,
                        format!(
                            "Unterminated string starting at position {start}: expected a closing {quote} \
                             before end of input"
                        ),
                    ));
                }
                Some(c) if c == quote => return Ok(TokenKind::String(text)),
                // A backslash makes the next character literal, whatever it is.
                Some('\\') => match self.bump() {
                    Some(escaped) => text.push(escaped),
                    None => {
                        return Err(QueryError::at(
                            start,
                            format!(
                                "Unterminated string starting at position {start}: the input ends after a \
                                 backslash"
                            ),
                        ));
                    }
                },
                Some(c) => text.push(c),
            }
        }
    }

    fn datetime(&mut self, start: usize) -> Result<TokenKind, QueryError> {
        let content_start = self.position;
        let Some(length) = self.input[content_start..].find(']') else {
            return Err(QueryError::at(
                start,
                format!("Unterminated date-time starting at position {start}: expected ']'"),
            ));
        };
        let content = &self.input[content_start..content_start + length];
        self.position = content_start + length + 1;
        parse_datetime_literal(content)
            .map(TokenKind::DateTime)
            .ok_or_else(|| {
                QueryError::at(
                    start,
                    format!(
                        "Invalid date-time [{}] at position {start}: expected an ISO 8601 date-time \
                         such as [2015-12-23T05:53:27Z]",
                        shortened(content)
                    ),
                )
            })
    }

    fn number(&mut self, first: char, start: usize) -> Result<TokenKind, QueryError> {
        if first == '-' {
            self.digits("'-'")?;
        } else {
            self.skip_digits();
        }
        if self.peek_char() == Some('.') {
            self.bump();
            self.digits("'.'")?;
        }
        let text = &self.input[start..self.position];
        NumberLiteral::parse(text)
            .map(TokenKind::Number)
            .ok_or_else(|| {
                QueryError::at(
                    start,
                    format!("Invalid number '{text}' at position {start}"),
                )
            })
    }

    fn skip_digits(&mut self) {
        while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
    }

    /// Consumes one or more digits, which must follow what was just read (`after`, for the message).
    fn digits(&mut self, after: &str) -> Result<(), QueryError> {
        let first = self.position;
        self.skip_digits();
        if self.position == first {
            return Err(QueryError::at(
                first,
                format!(
                    "Expected a digit after {after} at position {first} but found {}",
                    super::found_at(self.input, first)
                ),
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Parser

#[derive(Debug)]
struct Parser<'a> {
    lexer: Lexer<'a>,
    current: Token,
    /// How many `not` and `(` enclose the current position.
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Self, QueryError> {
        let mut lexer = Lexer { input, position: 0 };
        let current = lexer.next_token()?;
        Ok(Self {
            lexer,
            current,
            depth: 0,
        })
    }

    fn advance(&mut self) -> Result<Token, QueryError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.current, next))
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.current.kind, TokenKind::Word(word) if word.eq_ignore_ascii_case(keyword))
    }

    /// The source text of the current token, for messages.
    fn describe_current(&self) -> String {
        if self.current.kind == TokenKind::End {
            return "end of input".to_owned();
        }
        let text = &self.lexer.input[self.current.start..self.current.end];
        format!("'{}'", shortened(text))
    }

    /// "Expected `what` [after `after`] at position N but found X".
    fn unexpected(&self, what: &str, after: Option<&str>) -> QueryError {
        let position = self.current.start;
        let after = after
            .map(|after| format!(" after {after}"))
            .unwrap_or_default();
        let mut message = format!(
            "Expected {what}{after} at position {position} but found {}",
            self.describe_current()
        );
        if matches!(&self.current.kind, TokenKind::Word(word) if !is_keyword(word))
            && what.contains("value")
        {
            message.push_str(" (strings must be quoted)");
        }
        QueryError::at(position, message)
    }

    fn enter(&mut self) -> Result<(), QueryError> {
        if self.depth >= MAX_NESTING {
            let position = self.current.start;
            return Err(QueryError::at(
                position,
                format!(
                    "Conditions nest too deeply at position {position}: at most {MAX_NESTING} levels of \
                     'not' and parentheses are allowed"
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Expr, QueryError> {
        let mut clauses = vec![self.parse_and()?];
        while self.is_keyword("or") {
            self.advance()?;
            clauses.push(self.parse_and()?);
        }
        Ok(single_or(clauses, Expr::Or))
    }

    fn parse_and(&mut self) -> Result<Expr, QueryError> {
        let mut clauses = vec![self.parse_unary()?];
        while self.is_keyword("and") {
            self.advance()?;
            clauses.push(self.parse_unary()?);
        }
        Ok(single_or(clauses, Expr::And))
    }

    fn parse_unary(&mut self) -> Result<Expr, QueryError> {
        match &self.current.kind {
            TokenKind::Word(word) if word.eq_ignore_ascii_case("not") => {
                self.enter()?;
                self.advance()?;
                let inner = self.parse_unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            TokenKind::LeftParen => {
                self.enter()?;
                let open = self.advance()?;
                let inner = self.parse_or()?;
                if self.current.kind != TokenKind::RightParen {
                    let mut error = self.unexpected("'and', 'or' or ')'", None);
                    error.message += &format!(" (to close the '(' at position {})", open.start);
                    return Err(error);
                }
                self.advance()?;
                self.depth -= 1;
                Ok(inner)
            }
            TokenKind::Word(word) if !is_keyword(word) => self.parse_comparison(),
            _ => Err(self.unexpected("a field name, 'not' or '('", None)),
        }
    }

    fn parse_path(&mut self) -> Result<Vec<String>, QueryError> {
        let mut path = Vec::new();
        loop {
            match &self.current.kind {
                TokenKind::Word(word) => path.push(word.clone()),
                _ => return Err(self.unexpected("a field name", Some("'/'"))),
            }
            self.advance()?;
            if self.current.kind != TokenKind::Slash {
                return Ok(path);
            }
            self.advance()?;
        }
    }

    fn parse_comparison(&mut self) -> Result<Expr, QueryError> {
        let path = self.parse_path()?;
        let field = format!("field '{}'", path.join("/"));
        if let TokenKind::Op(op) = self.current.kind {
            self.advance()?;
            let value = self.parse_value(&format!("'{}'", op.symbol()))?;
            return Ok(Expr::Compare { path, op, value });
        }
        let negated = self.is_keyword("not");
        if negated {
            self.advance()?;
        }
        if self.is_keyword("in") {
            self.advance()?;
            let values = self.parse_list()?;
            Ok(Expr::In {
                path,
                values,
                negated,
            })
        } else if self.is_keyword("like") {
            self.advance()?;
            let pattern = self.parse_string("'like'")?;
            Ok(Expr::Like {
                path,
                pattern,
                negated,
            })
        } else if self.is_keyword("contains") {
            self.advance()?;
            let text = self.parse_string("'contains'")?;
            Ok(Expr::Contains {
                path,
                text,
                negated,
            })
        } else if negated {
            Err(self.unexpected("'in', 'like' or 'contains'", Some("'not'")))
        } else {
            Err(self.unexpected(
                "an operator (=, !=, <, <=, >, >=, in, like, contains, not)",
                Some(&field),
            ))
        }
    }

    fn parse_value(&mut self, after: &str) -> Result<Literal, QueryError> {
        let value = match &self.current.kind {
            TokenKind::String(text) => Literal::String(text.clone()),
            TokenKind::Number(number) => Literal::Number(number.clone()),
            TokenKind::DateTime(instant) => Literal::DateTime(*instant),
            TokenKind::Word(word) if word.eq_ignore_ascii_case("true") => Literal::Bool(true),
            TokenKind::Word(word) if word.eq_ignore_ascii_case("false") => Literal::Bool(false),
            TokenKind::Word(word) if word.eq_ignore_ascii_case("null") => Literal::Null,
            _ => {
                return Err(self.unexpected(
                    "a value (a quoted string, a number, a [date-time], true, false or null)",
                    Some(after),
                ));
            }
        };
        self.advance()?;
        Ok(value)
    }

    fn parse_string(&mut self, after: &str) -> Result<String, QueryError> {
        let TokenKind::String(text) = &self.current.kind else {
            return Err(self.unexpected("a quoted string", Some(after)));
        };
        let text = text.clone();
        self.advance()?;
        Ok(text)
    }

    fn parse_list(&mut self) -> Result<Vec<Literal>, QueryError> {
        if self.current.kind != TokenKind::LeftParen {
            return Err(self.unexpected("'('", Some("'in'")));
        }
        self.advance()?;
        let mut values = vec![self.parse_value("'('")?];
        loop {
            match self.current.kind {
                TokenKind::Comma => {
                    self.advance()?;
                    values.push(self.parse_value("','")?);
                }
                TokenKind::RightParen => {
                    self.advance()?;
                    return Ok(values);
                }
                _ => return Err(self.unexpected("',' or ')' in the 'in' list", None)),
            }
        }
    }
}

/// Input quoted in an error message, cut to 40 characters so a hostile parameter can't bloat the response.
fn shortened(text: &str) -> String {
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

/// One clause stands for itself; several make a group.
fn single_or(mut clauses: Vec<Expr>, group: fn(Vec<Expr>) -> Expr) -> Expr {
    if clauses.len() == 1
        && let Some(only) = clauses.pop()
    {
        return only;
    }
    group(clauses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use time::macros::datetime;

    fn parsed(input: &str) -> Expr {
        parse(input).unwrap_or_else(|error| panic!("{input:?} should parse: {}", error.message))
    }

    fn error(input: &str) -> QueryError {
        match parse(input) {
            Ok(expr) => panic!("{input:?} should be rejected, parsed as {expr:?}"),
            Err(error) => error,
        }
    }

    /// Asserts the error is at `position` and its message says so and contains `fragment`.
    fn assert_error(input: &str, position: usize, fragment: &str) {
        let error = error(input);
        assert_eq!(
            error.position,
            Some(position),
            "{input:?}: {}",
            error.message
        );
        assert!(
            error.message.contains(&format!("position {position}")),
            "{input:?}: {}",
            error.message
        );
        assert!(
            error.message.contains(fragment),
            "{input:?}: {:?} lacks {fragment:?}",
            error.message
        );
    }

    fn matches(condition: &str, record: &Value) -> bool {
        parsed(condition).matches(record)
    }

    fn path(text: &str) -> Vec<String> {
        text.split('/').map(str::to_owned).collect()
    }

    fn compare(field: &str, op: CompareOp, value: Literal) -> Expr {
        Expr::Compare {
            path: path(field),
            op,
            value,
        }
    }

    fn number(text: &str) -> Literal {
        Literal::Number(NumberLiteral::parse(text).unwrap())
    }

    fn string(text: &str) -> Literal {
        Literal::String(text.to_owned())
    }

    // ----- parsing ------------------------------------------------------------------------------------

    #[test]
    fn every_comparison_operator_parses_to_its_op() {
        for (symbol, op) in [
            ("=", CompareOp::Eq),
            ("!=", CompareOp::Ne),
            ("<", CompareOp::Lt),
            ("<=", CompareOp::Le),
            (">", CompareOp::Gt),
            (">=", CompareOp::Ge),
        ] {
            assert_eq!(
                parsed(&format!("id {symbol} 5")),
                compare("id", op, number("5"))
            );
            assert_eq!(
                parsed(&format!("id{symbol}5")),
                compare("id", op, number("5"))
            );
        }
    }

    #[test]
    fn in_like_and_contains_parse_with_and_without_not() {
        assert_eq!(
            parsed("status/id IN (1,42, 43 ,57)"),
            Expr::In {
                path: path("status/id"),
                values: vec![number("1"), number("42"), number("43"), number("57")],
                negated: false,
            }
        );
        assert_eq!(
            parsed("status/name not in ('New', null)"),
            Expr::In {
                path: path("status/name"),
                values: vec![string("New"), Literal::Null],
                negated: true,
            }
        );
        assert_eq!(
            parsed(r#"name like "Acme%""#),
            Expr::Like {
                path: path("name"),
                pattern: "Acme%".to_owned(),
                negated: false,
            }
        );
        assert_eq!(
            parsed("name NOT LIKE 'x_'"),
            Expr::Like {
                path: path("name"),
                pattern: "x_".to_owned(),
                negated: true,
            }
        );
        assert_eq!(
            parsed(r#"summary contains "disk""#),
            Expr::Contains {
                path: path("summary"),
                text: "disk".to_owned(),
                negated: false,
            }
        );
        assert_eq!(
            parsed(r#"summary Not Contains "disk""#),
            Expr::Contains {
                path: path("summary"),
                text: "disk".to_owned(),
                negated: true,
            }
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(
            parsed("a = TRUE AnD b = False oR NOT c = NULL"),
            parsed("a = true and b = false or not c = null")
        );
        assert_eq!(parsed("a IN (1)"), parsed("a in (1)"));
        assert_eq!(parsed("a LiKe 'x'"), parsed("a like 'x'"));
        assert_eq!(parsed("a CONTAINS 'x'"), parsed("a contains 'x'"));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let a = compare("a", CompareOp::Eq, number("1"));
        let b = compare("b", CompareOp::Eq, number("2"));
        let c = compare("c", CompareOp::Eq, number("3"));
        assert_eq!(
            parsed("a=1 or b=2 and c=3"),
            Expr::Or(vec![a.clone(), Expr::And(vec![b.clone(), c.clone()])])
        );
        assert_eq!(
            parsed("a=1 and b=2 or c=3"),
            Expr::Or(vec![Expr::And(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            parsed("(a=1 or b=2) and c=3"),
            Expr::And(vec![Expr::Or(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            parsed("a=1 and b=2 and c=3"),
            Expr::And(vec![a.clone(), b.clone(), c.clone()])
        );
        assert_eq!(parsed("a=1 or b=2 or c=3"), Expr::Or(vec![a, b, c]));
    }

    #[test]
    fn redundant_parentheses_add_no_node_but_explicit_groups_stay_nested() {
        let a = compare("a", CompareOp::Eq, number("1"));
        let b = compare("b", CompareOp::Eq, number("2"));
        let c = compare("c", CompareOp::Eq, number("3"));
        assert_eq!(parsed("((((a = 1))))"), a);
        assert_eq!(
            parsed("(a=1 and b=2) and c=3"),
            Expr::And(vec![Expr::And(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            parsed("a=1 and (b=2 and c=3)"),
            Expr::And(vec![a, Expr::And(vec![b, c])])
        );
    }

    #[test]
    fn prefix_not_applies_to_the_next_clause_only() {
        let a = compare("a", CompareOp::Eq, number("1"));
        let b = compare("b", CompareOp::Eq, number("2"));
        assert_eq!(
            parsed("not a=1 and b=2"),
            Expr::And(vec![Expr::Not(Box::new(a.clone())), b.clone()])
        );
        assert_eq!(
            parsed("NOT (a=1 and b=2)"),
            Expr::Not(Box::new(Expr::And(vec![a.clone(), b])))
        );
        assert_eq!(
            parsed("not not a=1"),
            Expr::Not(Box::new(Expr::Not(Box::new(a))))
        );
    }

    #[test]
    fn paths_may_have_spaces_around_slashes_and_keyword_named_later_segments() {
        assert_eq!(
            parsed("company / identifier = 'x'"),
            compare("company/identifier", CompareOp::Eq, string("x"))
        );
        assert_eq!(
            parsed("_info/lastUpdated > [2020-01-01T00:00:00Z]"),
            compare(
                "_info/lastUpdated",
                CompareOp::Gt,
                Literal::DateTime(datetime!(2020-01-01 0:00 UTC))
            )
        );
        assert_eq!(
            parsed("a/in = 1"),
            compare("a/in", CompareOp::Eq, number("1"))
        );
        assert_eq!(
            parsed("field_2b = 1"),
            compare("field_2b", CompareOp::Eq, number("1"))
        );
    }

    #[test]
    fn string_escapes_follow_the_brief() {
        let cases = [
            (r#"a = "say \"hi\"""#, r#"say "hi""#),
            (r"a = 'it\'s'", "it's"),
            (r#"a = "back\\slash""#, r"back\slash"),
            (r#"a = "a\nb""#, "anb"),
            (r#"a = "\%\_\&""#, "%_&"),
            (
                r#"a = 'double " inside single'"#,
                r#"double " inside single"#,
            ),
            (r#"a = "single ' inside double""#, "single ' inside double"),
            (r#"a = "trailing backslash \\""#, r"trailing backslash \"),
            ("a = \"line\nbreak\ttab\"", "line\nbreak\ttab"),
            (
                r#"a = "100% & a+b = c, (d) [e] / f""#,
                "100% & a+b = c, (d) [e] / f",
            ),
            (r#"a = "Zürich – 東京 🚀""#, "Zürich – 東京 🚀"),
            (r#"a = """#, ""),
            (r#"a = "and or not in like""#, "and or not in like"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parsed(input),
                compare("a", CompareOp::Eq, string(expected)),
                "{input}"
            );
        }
    }

    #[test]
    fn numbers_are_exact_and_normalised() {
        assert_eq!(parsed("a = 007"), compare("a", CompareOp::Eq, number("7")));
        assert_eq!(
            parsed("a = -1.50"),
            compare("a", CompareOp::Eq, number("-1.5"))
        );
        assert_eq!(parsed("a = -0.0"), compare("a", CompareOp::Eq, number("0")));
        assert_eq!(
            parsed("a = 123456789012345678901234567890.000000000000000000001").to_string(),
            "a = 123456789012345678901234567890.000000000000000000001"
        );
        assert!(NumberLiteral::parse("1e5").is_none());
        assert!(NumberLiteral::parse("+1").is_none());
        assert!(NumberLiteral::parse("1.").is_none());
        assert!(NumberLiteral::parse(".5").is_none());
        assert!(NumberLiteral::parse("-").is_none());
        assert!(NumberLiteral::parse("").is_none());
    }

    #[test]
    fn numbers_order_numerically() {
        let ordered = [
            "-100", "-2.5", "-2.25", "-1", "0", "0.001", "0.01", "0.1", "1", "1.5", "9", "10",
            "100.25",
        ];
        for (i, left) in ordered.iter().enumerate() {
            for (j, right) in ordered.iter().enumerate() {
                let (left, right) = (
                    NumberLiteral::parse(left).unwrap(),
                    NumberLiteral::parse(right).unwrap(),
                );
                assert_eq!(left.cmp(&right), i.cmp(&j), "{left} vs {right}");
            }
        }
        assert_eq!(
            NumberLiteral::from(-42),
            NumberLiteral::parse("-42").unwrap()
        );
    }

    #[test]
    fn datetimes_accept_z_offsets_fractions_and_naive_utc() {
        let instant = datetime!(2015-12-23 05:53:27 UTC);
        for text in [
            "[2015-12-23T05:53:27Z]",
            "[2015-12-23T07:53:27+02:00]",
            "[2015-12-23T00:53:27-05:00]",
            "[ 2015-12-23T05:53:27.000Z ]",
            "[2015-12-23T05:53:27]",
            "[2015-12-23t05:53:27z]",
        ] {
            assert_eq!(
                parsed(&format!("lastUpdated > {text}")),
                compare("lastUpdated", CompareOp::Gt, Literal::DateTime(instant)),
                "{text}"
            );
        }
        assert_eq!(
            parsed("a = [2015-12-23T05:53:27.5Z]").to_string(),
            "a = [2015-12-23T05:53:27.5Z]"
        );
    }

    #[test]
    fn datetimes_at_the_ends_of_the_calendar_render_and_reparse() {
        for text in [
            "a = [0000-01-01T00:00:00+01:00]",
            "a = [9999-12-31T23:59:59-01:00]",
            "a = [2015-12-23T05:53:27.123456789Z]",
        ] {
            let expr = parsed(text);
            assert_eq!(expr.to_string(), text);
            assert_eq!(parsed(&expr.to_string()), expr);
        }
        let odd_offset = time::UtcOffset::from_hms(1, 2, 3).unwrap();
        let instant = datetime!(2015-12-23 05:53:27 UTC).to_offset(odd_offset);
        let expr = compare("a", CompareOp::Eq, Literal::DateTime(instant));
        assert_eq!(expr.to_string(), "a = [2015-12-23T05:53:27Z]");
        assert_eq!(parsed(&expr.to_string()), expr);
    }

    #[test]
    fn booleans_and_null_are_values() {
        assert_eq!(
            parsed("a = true"),
            compare("a", CompareOp::Eq, Literal::Bool(true))
        );
        assert_eq!(
            parsed("a != FALSE"),
            compare("a", CompareOp::Ne, Literal::Bool(false))
        );
        assert_eq!(
            parsed("a = Null"),
            compare("a", CompareOp::Eq, Literal::Null)
        );
    }

    // ----- errors -------------------------------------------------------------------------------------

    #[test]
    fn empty_or_blank_input_is_rejected() {
        assert_error(
            "",
            0,
            "Expected a condition at position 0 but found end of input",
        );
        assert_error("   ", 3, "Expected a condition");
    }

    #[test]
    fn a_missing_value_is_reported_after_the_operator() {
        assert_error("status/name = ", 14, "Expected a value");
        assert_error("status/name = ", 14, "after '='");
        assert_error("status/name = ", 14, "but found end of input");
        assert_error("a >= and b = 1", 5, "after '>='");
        assert_error("a = )", 4, "but found ')'");
        assert_error("a = New", 4, "strings must be quoted");
    }

    #[test]
    fn unterminated_strings_and_brackets_are_rejected() {
        assert_error(
            r#"summary = "abc"#,
            10,
            "Unterminated string starting at position 10",
        );
        assert_error(r"summary = 'abc\'", 10, "Unterminated string");
        assert_error(r#"summary = "abc\"#, 10, "backslash");
        assert_error(
            "a = [2015-12-23T05:53:27Z",
            4,
            "Unterminated date-time starting at position 4",
        );
        assert_error(
            "(a = 1",
            6,
            "Expected 'and', 'or' or ')' at position 6 but found end of input",
        );
        assert_error("(a = 1", 6, "the '(' at position 0");
        assert_error("((a = 1) or (b = 2)", 19, "the '(' at position 0");
        assert_error("a in (1, 2", 10, "Expected ',' or ')'");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert_error(
            "a = 1 b = 2",
            6,
            "Expected 'and', 'or' or end of input at position 6 but found 'b'",
        );
        assert_error("a = 1)", 5, "but found ')'");
        assert_error("a = 1 and", 9, "Expected a field name, 'not' or '('");
        assert_error("a = 1 or", 8, "but found end of input");
        assert_error("a = 1abc", 5, "but found 'abc'");
        assert_error("a = 1 ,", 6, "but found ','");
    }

    #[test]
    fn unknown_operators_and_characters_are_rejected() {
        assert_error("a == 1", 2, "Unknown operator '=='");
        assert_error("a <> 1", 2, "Unknown operator '<>'");
        assert_error("a ! 1", 2, "Unknown operator '!'");
        assert_error("a =! 1", 2, "Unknown operator '=!'");
        assert_error("a ~ 1", 2, "Unexpected character '~'");
        assert_error("a = 1 && b = 2", 6, "Unexpected character '&'");
        assert_error("a between 1", 2, "Expected an operator");
        assert_error(
            "name",
            4,
            "after field 'name' at position 4 but found end of input",
        );
        assert_error(
            "a not = 1",
            6,
            "Expected 'in', 'like' or 'contains' after 'not'",
        );
        assert_error("a.b = 1", 1, "Unexpected character '.'");
        assert_error("a = ö", 4, "Unexpected character 'ö'");
    }

    #[test]
    fn misplaced_keywords_and_bad_paths_are_rejected() {
        assert_error(
            "and = 1",
            0,
            "Expected a field name, 'not' or '(' at position 0 but found 'and'",
        );
        assert_error("= 1", 0, "Expected a field name");
        assert_error("a/ = 1", 3, "Expected a field name after '/'");
        assert_error("a/1 = 1", 2, "Expected a field name after '/'");
        assert_error("not", 3, "Expected a field name, 'not' or '('");
        assert_error("()", 1, "but found ')'");
    }

    #[test]
    fn bad_in_lists_are_rejected() {
        assert_error("a in ()", 6, "Expected a value");
        assert_error("a in (1,)", 8, "after ','");
        assert_error("a in 1", 5, "Expected '(' after 'in'");
        assert_error("a in (1 2)", 8, "Expected ',' or ')' in the 'in' list");
        assert_error("a not in x", 9, "Expected '('");
    }

    #[test]
    fn like_and_contains_need_a_quoted_string() {
        assert_error("a like 5", 7, "Expected a quoted string after 'like'");
        assert_error(
            "a contains null",
            11,
            "Expected a quoted string after 'contains'",
        );
        assert_error("a not like", 10, "but found end of input");
    }

    #[test]
    fn bad_numbers_and_datetimes_are_rejected() {
        assert_error("a = -", 5, "Expected a digit after '-'");
        assert_error("a = - 1", 5, "Expected a digit after '-'");
        assert_error("a = 1.", 6, "Expected a digit after '.'");
        assert_error("a = 1.x", 6, "Expected a digit after '.'");
        assert_error("a = .5", 4, "Unexpected character '.'");
        assert_error("a = 1.2.3", 7, "Unexpected character '.'");
        assert_error("a = [2015-13-01T00:00:00Z]", 4, "Invalid date-time");
        assert_error("a = [yesterday]", 4, "such as [2015-12-23T05:53:27Z]");
        assert_error("a = []", 4, "Invalid date-time");
        assert_error("a = [2015-12-23]", 4, "Invalid date-time");
        assert_error("a = [2015-12-23T05:53:27+25:00]", 4, "Invalid date-time");
        let long = format!("a = [{}]", "9".repeat(10_000));
        assert!(error(&long).message.len() < 200);
    }

    #[test]
    fn nesting_is_limited_instead_of_overflowing_the_stack() {
        let ok = format!(
            "{}a = 1{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert_eq!(parsed(&ok), compare("a", CompareOp::Eq, number("1")));
        let too_deep = format!(
            "{}a = 1{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert_error(&too_deep, MAX_NESTING, "nest too deeply");
        assert_error(&"(".repeat(200_000), MAX_NESTING, "nest too deeply");
        assert_error(&"not ".repeat(200_000), MAX_NESTING * 4, "nest too deeply");
        let not_ok = format!("{}a = 1", "not ".repeat(MAX_NESTING));
        assert!(parse(&not_ok).is_ok());
    }

    #[test]
    fn long_flat_chains_parse_without_deep_recursion() {
        let chain = vec!["a = 1"; 20_000].join(" or ");
        assert!(matches!(parsed(&chain), Expr::Or(clauses) if clauses.len() == 20_000));
    }

    #[test]
    fn an_error_inside_a_long_token_is_described_briefly() {
        let long = format!("a = 1 {}", "x".repeat(500));
        let error = error(&long);
        assert!(error.message.len() < 200, "{}", error.message);
    }

    // ----- evaluation ---------------------------------------------------------------------------------

    #[test]
    fn string_equality_ignores_case_including_non_ascii() {
        let record = json!({"name": "Ärzte Zürich GmbH", "identifier": "ACME"});
        assert!(matches(r#"name = "ÄRZTE ZÜRICH GMBH""#, &record));
        assert!(matches("identifier = 'acme'", &record));
        assert!(!matches("identifier = 'acm'", &record));
        assert!(matches("identifier != 'other'", &record));
        assert!(!matches("identifier != 'Acme'", &record));
    }

    #[test]
    fn string_ordering_ignores_case() {
        let record = json!({"name": "beta"});
        assert!(matches("name > 'ALPHA'", &record));
        assert!(matches("name < 'Gamma'", &record));
        assert!(matches("name >= 'BETA' and name <= 'beta'", &record));
        assert!(!matches("name < 'BETA'", &record));
    }

    #[test]
    fn numbers_compare_numerically_also_when_stored_as_strings() {
        let record = json!({"id": 10, "hourlyCost": "12.50", "rate": 7.25, "code": "A1"});
        assert!(matches("id > 9", &record));
        assert!(matches("id = 10.0", &record));
        assert!(!matches("id < 9", &record));
        assert!(matches("hourlyCost = 12.5", &record));
        assert!(matches(
            "hourlyCost > 12.49 and hourlyCost < 12.51",
            &record
        ));
        assert!(matches("rate >= 7.25 and rate <= 7.250", &record));
        assert!(
            matches("id = '10'", &record),
            "a quoted number compares with a number field"
        );
        assert!(
            !matches("code > 5", &record),
            "text that is not a number doesn't compare"
        );
        assert!(matches("code != 5", &record), "but it is not equal");
    }

    #[test]
    fn large_integers_compare_exactly() {
        let record = json!({"id": 9_007_199_254_740_993_u64});
        assert!(matches("id = 9007199254740993", &record));
        assert!(!matches("id = 9007199254740992", &record));
        assert!(matches("id > 9007199254740992", &record));
    }

    #[test]
    fn datetime_strings_compare_as_instants() {
        let record = json!({"_info": {"lastUpdated": "2015-12-23T05:53:27Z"}, "note": "soon"});
        assert!(matches(
            "_info/lastUpdated > [2015-12-23T05:53:26Z]",
            &record
        ));
        assert!(matches(
            "_info/lastUpdated = [2015-12-23T07:53:27+02:00]",
            &record
        ));
        assert!(!matches(
            "_info/lastUpdated > [2015-12-23T05:53:27Z]",
            &record
        ));
        assert!(matches(
            "_info/lastUpdated >= [2015-12-23T05:53:27Z]",
            &record
        ));
        assert!(matches(
            "_info/lastUpdated < [2015-12-23T01:00:00-05:00]",
            &record
        ));
        assert!(matches(
            "_info/lastUpdated = '2015-12-23T06:53:27+01:00'",
            &record
        ));
        assert!(
            !matches("note > [2015-12-23T05:53:26Z]", &record),
            "not a date"
        );
    }

    #[test]
    fn booleans_compare_with_booleans() {
        let record = json!({"inactiveFlag": false, "defaultFlag": true});
        assert!(matches("inactiveFlag = false", &record));
        assert!(matches("inactiveFlag != true", &record));
        assert!(!matches("inactiveFlag = true", &record));
        assert!(matches("defaultFlag = 'TRUE'", &record));
        assert!(!matches("defaultFlag = 1", &record));
    }

    #[test]
    fn null_matches_missing_or_null_fields_only() {
        let record = json!({"a": null, "b": 0, "c": "", "status": {"id": 1}});
        assert!(matches("a = null", &record));
        assert!(matches("missing = null", &record));
        assert!(matches("status/name = null", &record));
        assert!(matches("b/x = null", &record), "below a scalar is missing");
        assert!(!matches("b = null", &record));
        assert!(!matches("c = null", &record), "an empty string is a value");
        assert!(matches(
            "b != null and c != null and status != null",
            &record
        ));
        assert!(!matches("a != null", &record));
        assert!(!matches("missing != null", &record));
        assert!(!matches(
            "b < null or b > null or b <= null or b >= null",
            &record
        ));
    }

    #[test]
    fn comparisons_with_a_missing_field_are_false_but_prefix_not_is_the_complement() {
        let record = json!({"present": 1});
        for condition in [
            "missing = 1",
            "missing != 1",
            "missing < 1",
            "missing > 'a'",
            "missing in (1, 2)",
            "missing not in (1, 2)",
            "missing like '%'",
            "missing not like 'x'",
            "missing contains ''",
            "missing not contains 'x'",
        ] {
            assert!(!matches(condition, &record), "{condition}");
            assert!(
                matches(&format!("not ({condition})"), &record),
                "not ({condition})"
            );
        }
    }

    #[test]
    fn a_path_across_an_array_matches_when_any_element_matches() {
        let record = json!({
            "communicationItems": [
                {"type": {"name": "Email"}, "value": "A@B.com"},
                {"type": {"name": "Phone"}, "value": "555-0100"},
                {"type": {"name": "Fax"}}
            ],
            "types": [{"id": 1}, {"id": 7}],
            "tags": ["red", "Blue"],
            "empty": []
        });
        assert!(matches(r#"communicationItems/value = "a@b.com""#, &record));
        assert!(matches("communicationItems/type/name = 'phone'", &record));
        assert!(!matches(
            "communicationItems/value = 'nobody@b.com'",
            &record
        ));
        assert!(matches("communicationItems/value like '%@b.com'", &record));
        assert!(
            matches("communicationItems/value = null", &record),
            "the fax has no value"
        );
        assert!(matches("types/id in (3, 7)", &record));
        assert!(matches("types/id not in (1)", &record), "7 is not 1");
        assert!(!matches("types/id not in (1, 7)", &record));
        assert!(matches("types/id != 1", &record), "any element differs");
        assert!(
            matches("tags = 'blue'", &record),
            "a leaf array contributes its elements"
        );
        assert!(matches("empty = null", &record));
        assert!(!matches("empty != null", &record));
        assert!(!matches("empty/id = 1", &record));
    }

    #[test]
    fn like_matches_the_whole_string_with_percent_and_underscore() {
        let record = json!({"name": "Acme Corp", "id": 1234, "odd": "50% off [a-z]. (x)*+?"});
        assert!(matches("name like 'acme%'", &record));
        assert!(matches("name like '%CORP'", &record));
        assert!(matches("name like '%me co%'", &record));
        assert!(matches("name like 'A_me Corp'", &record));
        assert!(matches("name like '%'", &record));
        assert!(matches("name like '%%'", &record));
        assert!(
            !matches("name like 'acme'", &record),
            "whole string, not a prefix"
        );
        assert!(!matches("name like 'corp%'", &record));
        assert!(!matches("name like 'Acme Corp_'", &record));
        assert!(matches("name not like 'x%'", &record));
        assert!(!matches("name not like 'acme%'", &record));
        assert!(
            matches("id like '12%'", &record),
            "numbers are matched as text"
        );
        assert!(
            matches("odd like '50% off [a-z]. (x)*+?'", &record),
            "regex characters are literal"
        );
        assert!(matches("odd like '50_ off%'", &record));
    }

    #[test]
    fn like_on_hostile_patterns_finishes_quickly() {
        let record = json!({"a": "a".repeat(5_000)});
        assert!(!matches(&format!("a like '{}b'", "%a".repeat(50)), &record));
        assert!(matches(&format!("a like '{}'", "%a".repeat(50)), &record));
    }

    #[test]
    fn like_matches_empty_strings_only_with_wildcards() {
        let record = json!({"a": ""});
        assert!(matches("a like ''", &record));
        assert!(matches("a like '%'", &record));
        assert!(!matches("a like '_'", &record));
    }

    #[test]
    fn contains_is_a_case_insensitive_substring() {
        let record = json!({"summary": "Disk FULL on SRV-01 (C:\\)", "id": 987});
        assert!(matches("summary contains 'full'", &record));
        assert!(matches(r"summary contains 'c:\\)'", &record));
        assert!(matches("summary contains ''", &record));
        assert!(!matches("summary contains 'empty'", &record));
        assert!(matches("summary not contains 'empty'", &record));
        assert!(!matches("summary not contains 'disk'", &record));
        assert!(
            !matches("summary contains '%'", &record),
            "percent is literal in contains"
        );
        assert!(matches("id contains '87'", &record));
    }

    #[test]
    fn in_is_equality_with_any_listed_value() {
        let record = json!({"status": {"name": "In Progress", "id": 42}});
        assert!(matches("status/id in (1, 42, 43)", &record));
        assert!(matches("status/name in ('new', 'in progress')", &record));
        assert!(!matches("status/name in ('new')", &record));
        assert!(matches("status/name not in ('new')", &record));
        assert!(matches("status/missing in (1, null)", &record));
        assert!(!matches("status/id in (null)", &record));
        assert!(matches("status/id not in (null)", &record));
    }

    #[test]
    fn and_or_not_combine_as_boolean_logic() {
        let record = json!({"a": 1, "b": 2});
        assert!(matches("a = 1 and b = 2", &record));
        assert!(!matches("a = 1 and b = 3", &record));
        assert!(matches("a = 9 or b = 2", &record));
        assert!(
            matches("a = 9 and b = 9 or a = 1", &record),
            "and binds tighter"
        );
        assert!(!matches("a = 9 and (b = 9 or a = 1)", &record));
        assert!(matches("not a = 9", &record));
        assert!(!matches("not (a = 1 or b = 9)", &record));
    }

    #[test]
    fn comparisons_between_unrelated_types_are_false() {
        let record = json!({"flag": true, "object": {"x": 1}, "text": "abc"});
        assert!(!matches("flag > 0", &record));
        assert!(!matches("object = 1", &record));
        assert!(!matches("text = [2015-12-23T05:53:27Z]", &record));
        assert!(!matches("text = true", &record));
        assert!(!matches("object like '%'", &record));
    }

    // ----- canonical text -----------------------------------------------------------------------------

    #[test]
    fn display_renders_canonical_lower_case_text_with_grouping_parentheses() {
        let expr = parsed(
            r#"NOT (A = 'x' OR b/C != "q\"uote\\") AND d in (1,-2.50,TRUE,Null,[2015-12-23T07:53:27+02:00]) or e NOT LIKE '%_' or (f contains "y" and g not contains 'z')"#,
        );
        assert_eq!(
            expr.to_condition_string(),
            r#"(not (A = "x" or b/C != "q\"uote\\") and d in (1, -2.5, true, null, [2015-12-23T07:53:27+02:00])) or e not like "%_" or (f contains "y" and g not contains "z")"#
        );
        assert_eq!(parsed(&expr.to_string()), expr);
    }

    #[test]
    fn paths_lists_every_field_the_expression_reads() {
        let expr = parsed("a = 1 and (not b/c in (1) or d like 'x' or e contains 'y')");
        let paths: Vec<String> = expr.paths().iter().map(|path| path.join("/")).collect();
        assert_eq!(paths, ["a", "b/c", "d", "e"]);
    }

    // ----- properties ---------------------------------------------------------------------------------

    fn identifier() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_]{0,8}"
            .prop_filter("keywords can't start a path", |word| !is_keyword(word))
    }

    fn field_path() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(identifier(), 1..4)
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[\"'\\\\%_&+ \n\\]\\[()a-zA-Zé東]{0,12}"]
    }

    fn literal() -> impl Strategy<Value = Literal> {
        prop_oneof![
            text().prop_map(Literal::String),
            (
                any::<bool>(),
                "[0-9]{1,25}",
                prop::option::of("[0-9]{1,12}")
            )
                .prop_map(|(negative, integer, fraction)| {
                    let sign = if negative { "-" } else { "" };
                    let fraction = fraction
                        .map(|digits| format!(".{digits}"))
                        .unwrap_or_default();
                    let number = NumberLiteral::parse(&format!("{sign}{integer}{fraction}"));
                    Literal::Number(number.unwrap_or_else(|| NumberLiteral::from(0)))
                }),
            (
                -62_000_000_000_i64..253_000_000_000,
                0_u32..1_000_000_000,
                -1439_i32..1440
            )
                .prop_map(|(seconds, nanos, offset_minutes)| {
                    let instant = OffsetDateTime::from_unix_timestamp(seconds)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                        .replace_nanosecond(nanos)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
                    let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60)
                        .unwrap_or(time::UtcOffset::UTC);
                    Literal::DateTime(instant.to_offset(offset))
                }),
            any::<bool>().prop_map(Literal::Bool),
            Just(Literal::Null),
        ]
    }

    fn comparison_op() -> impl Strategy<Value = CompareOp> {
        prop_oneof![
            Just(CompareOp::Eq),
            Just(CompareOp::Ne),
            Just(CompareOp::Lt),
            Just(CompareOp::Le),
            Just(CompareOp::Gt),
            Just(CompareOp::Ge),
        ]
    }

    fn expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            (field_path(), comparison_op(), literal())
                .prop_map(|(path, op, value)| Expr::Compare { path, op, value }),
            (
                field_path(),
                prop::collection::vec(literal(), 1..4),
                any::<bool>()
            )
                .prop_map(|(path, values, negated)| Expr::In {
                    path,
                    values,
                    negated
                }),
            (field_path(), text(), any::<bool>()).prop_map(|(path, pattern, negated)| Expr::Like {
                path,
                pattern,
                negated
            }),
            (field_path(), text(), any::<bool>()).prop_map(|(path, text, negated)| {
                Expr::Contains {
                    path,
                    text,
                    negated,
                }
            }),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                inner.prop_map(|inner| Expr::Not(Box::new(inner))),
            ]
        })
    }

    /// Small records over the fields `a`, `b`, `c` that generated conditions with those names can hit.
    fn record() -> impl Strategy<Value = Value> {
        let scalar = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-5_i64..5).prop_map(Value::from),
            "[aAbB%_]{0,3}".prop_map(Value::String),
            Just(Value::String("2015-12-23T05:53:27Z".to_owned())),
        ];
        let value = scalar.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[abc]", inner, 0..3)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        });
        prop::collection::btree_map("[abc]", value, 0..3)
            .prop_map(|map| Value::Object(map.into_iter().collect()))
    }

    fn small_expr() -> impl Strategy<Value = Expr> {
        let small_path = prop::collection::vec("[abc]".prop_map(String::from), 1..3);
        let small_literal = prop_oneof![
            Just(Literal::Null),
            any::<bool>().prop_map(Literal::Bool),
            (-5_i64..5).prop_map(|n| Literal::Number(NumberLiteral::from(n))),
            "[aAbB]{0,2}".prop_map(Literal::String),
        ];
        let leaf = prop_oneof![
            (small_path.clone(), comparison_op(), small_literal.clone())
                .prop_map(|(path, op, value)| Expr::Compare { path, op, value }),
            (
                small_path.clone(),
                prop::collection::vec(small_literal, 1..3),
                any::<bool>()
            )
                .prop_map(|(path, values, negated)| Expr::In {
                    path,
                    values,
                    negated
                }),
            (small_path, "[ab%_]{0,3}", any::<bool>()).prop_map(|(path, pattern, negated)| {
                Expr::Like {
                    path,
                    pattern,
                    negated,
                }
            }),
        ];
        leaf.prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..3).prop_map(Expr::Or),
                prop::collection::vec(inner.clone(), 2..3).prop_map(Expr::And),
                inner.prop_map(|inner| Expr::Not(Box::new(inner))),
            ]
        })
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(input in any::<String>()) {
            if let Err(error) = parse(&input) {
                let position = error.position.unwrap_or(usize::MAX);
                prop_assert!(position <= input.len());
                let expected = format!("position {position}");
                prop_assert!(error.message.contains(&expected), "{}", error.message);
            }
        }

        #[test]
        fn damaged_condition_text_never_panics_and_what_parses_renders_stably(
            expr in expr(),
            at in any::<prop::sample::Index>(),
            damage in 0_u8..3,
            inserted in prop_oneof![any::<char>(), prop::sample::select(vec!['(', ')', '"', '\'', '\\', '[', ']', ',', '/', '=', '!', '<', '>', ' ', '-', '.'])],
        ) {
            let text = expr.to_string();
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let cut = boundaries[at.index(boundaries.len())];
            let damaged = match damage {
                0 => text[..cut].to_owned(),
                1 => format!("{}{inserted}{}", &text[..cut], &text[cut..]),
                _ => {
                    let mut rest = text[cut..].chars();
                    rest.next();
                    format!("{}{}", &text[..cut], rest.as_str())
                }
            };
            match parse(&damaged) {
                Ok(parsed) => prop_assert_eq!(parse(&parsed.to_string()), Ok(parsed)),
                Err(error) => {
                    let position = error.position.unwrap_or(usize::MAX);
                    prop_assert!(position <= damaged.len());
                    let expected = format!("position {position}");
                    prop_assert!(error.message.contains(&expected), "{}", error.message);
                }
            }
        }

        #[test]
        fn a_rendered_expression_parses_back_to_itself(expr in expr()) {
            let text = expr.to_condition_string();
            let reparsed = parse(&text);
            prop_assert_eq!(reparsed, Ok(expr), "{}", text);
        }

        #[test]
        fn prefix_not_is_the_complement(expr in small_expr(), record in record()) {
            let negated = Expr::Not(Box::new(expr.clone()));
            prop_assert_eq!(negated.matches(&record), !expr.matches(&record));
        }

        #[test]
        fn on_a_present_value_exactly_one_of_like_and_not_like_holds_and_neither_on_a_missing_one(
            field in prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                (-50_i64..50).prop_map(Value::from),
                "[aAbB%_]{0,4}".prop_map(Value::String),
            ],
            pattern in "[ab%_1-]{0,4}",
        ) {
            let record = json!({"x": field});
            let like = Expr::Like { path: vec!["x".to_owned()], pattern: pattern.clone(), negated: false };
            let not_like = Expr::Like { path: vec!["x".to_owned()], pattern, negated: true };
            if field.is_null() {
                prop_assert!(!like.matches(&record) && !not_like.matches(&record));
            } else {
                prop_assert!(like.matches(&record) != not_like.matches(&record));
            }
        }

        #[test]
        fn and_and_or_are_all_and_any_of_their_clauses(
            clauses in prop::collection::vec(small_expr(), 2..4), record in record()
        ) {
            let results: Vec<bool> = clauses.iter().map(|clause| clause.matches(&record)).collect();
            prop_assert_eq!(Expr::And(clauses.clone()).matches(&record), results.iter().all(|&r| r));
            prop_assert_eq!(Expr::Or(clauses).matches(&record), results.iter().any(|&r| r));
        }

        #[test]
        fn numbers_order_like_their_float_values(a in -1.0e6_f64..1.0e6, b in -1.0e6_f64..1.0e6) {
            let (left, right) = (
                crate::query::values::json_number(&json!(a)),
                crate::query::values::json_number(&json!(b)),
            );
            prop_assert_eq!(left.zip(right).map(|(l, r)| l.cmp(&r)), a.partial_cmp(&b));
        }
    }
}
