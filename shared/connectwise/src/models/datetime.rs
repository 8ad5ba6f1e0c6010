//! Serde helpers for ConnectWise timestamps.
//!
//! The API writes UTC timestamps as `YYYY-MM-DDTHH:MM:SSZ`. Reading is tolerant of what public
//! clients and older servers are known to produce: any RFC 3339 offset, fractional seconds, a naive
//! `YYYY-MM-DDTHH:MM:SS` (taken as UTC, the API's only zone), a space instead of `T`, a bare date
//! (midnight UTC), and `null` or `""` for absent. Writing always produces the API's own form, in
//! UTC. A value that matches none of these is an error naming the value, never a silent `None`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{Error as _, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Parses one ConnectWise timestamp (see the module docs for the accepted forms).
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let text = match text.as_bytes().get(10) {
        Some(b' ') => std::borrow::Cow::Owned(format!("{}T{}", &text[..10], &text[11..])),
        _ => std::borrow::Cow::Borrowed(text),
    };
    if let Ok(parsed) = OffsetDateTime::parse(&text, &Rfc3339) {
        return Some(parsed);
    }
    let naive = format_description!(
        version = 2,
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(parsed) = PrimitiveDateTime::parse(&text, naive) {
        return Some(parsed.assume_utc());
    }
    let date_only = format_description!(version = 2, "[year]-[month]-[day]");
    Date::parse(&text, date_only)
        .ok()
        .map(|date| date.midnight().assume_utc())
}

/// Formats a timestamp the way ConnectWise writes them: UTC, `YYYY-MM-DDTHH:MM:SSZ`, with a
/// fraction only when there is one.
pub fn format(value: OffsetDateTime) -> Result<String, time::error::Format> {
    let utc = value.to_offset(UtcOffset::UTC);
    if utc.nanosecond() == 0 {
        utc.format(format_description!(
            version = 2,
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
    } else {
        utc.format(&Rfc3339)
    }
}

/// `#[serde(with = "datetime::opt")]` for `Option<OffsetDateTime>` fields.
pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(moment) => {
                let text = format(*moment).map_err(|err| {
                    S::Error::custom(format!("timestamp {moment} cannot be written: {err}"))
                })?;
                serializer.serialize_str(&text)
            }
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        deserializer.deserialize_any(OptionalTimestamp)
    }
}

struct OptionalTimestamp;

impl<'de> Visitor<'de> for OptionalTimestamp {
    type Value = Option<OffsetDateTime>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp such as 2024-03-05T16:20:11Z")
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

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        parse(value).map(Some).ok_or_else(|| {
            E::custom(format!(
                "timestamp {value:?} is not ISO-8601 (expected e.g. 2024-03-05T16:20:11Z)"
            ))
        })
    }
}
