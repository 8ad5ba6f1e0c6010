//! Serde helpers for decimal amounts (money, rates, hours, quantities).
//!
//! Both clients use it: the billing contract allows either form, and ConnectWise sends amounts
//! as JSON numbers, but a real time entry once sent `hourlyCost` as a
//! string ("10800.00"), so reading accepts both. Writing always produces a JSON number, which is
//! what the API documents. Values never pass through `f64` on the way in: a number is re-read from
//! its shortest decimal text, so `0.1` becomes exactly `0.1`. This module must never round or
//! default a value it cannot read: that is an error naming the value.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::{Error as _, Serializer};

/// Reads a decimal from its text, in plain (`12.50`) or scientific (`1.25e1`) notation.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// Writes a decimal as a JSON number: an integer when it has no fractional part, otherwise the
/// nearest `f64` (exact for every amount with up to 15 significant digits).
pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let value = value.normalize();
    if value.scale() == 0
        && let Some(whole) = value.to_i64()
    {
        return serializer.serialize_i64(whole);
    }
    match value.to_f64() {
        Some(float) => serializer.serialize_f64(float),
        None => Err(S::Error::custom(format!(
            "decimal {value} cannot be written as a JSON number"
        ))),
    }
}

/// Reads a required amount (`#[serde(with = "amount")]`): a JSON number or a numeric string;
/// `null` or an empty string is refused.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    opt::deserialize(deserializer)?
        .ok_or_else(|| de::Error::custom("an amount is required: got null or an empty string"))
}

/// `#[serde(with = "amount::opt")]` for `Option<Decimal>` fields: accepts a JSON number, a numeric
/// string, `null` or an empty string (both read as absent); writes a JSON number.
pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(decimal) => super::serialize(decimal, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        deserializer.deserialize_any(OptionalDecimal)
    }
}

struct OptionalDecimal;

impl<'de> Visitor<'de> for OptionalDecimal {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount as a JSON number or a numeric string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(value)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        // Rust prints the shortest text that reads back as the same f64, which is the text the
        // server wrote for any amount of up to 15 significant digits.
        if !value.is_finite() {
            return Err(E::custom(format!("amount {value} is not a finite number")));
        }
        parse_decimal(&value.to_string())
            .map(Some)
            .ok_or_else(|| E::custom(format!("amount {value} is out of the decimal range")))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        parse_decimal(value)
            .map(Some)
            .ok_or_else(|| E::custom(format!("amount {value:?} is not a decimal number")))
    }
}
