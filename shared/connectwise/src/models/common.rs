//! Shapes shared by every ConnectWise record: references to other records, the `_info` block,
//! custom field values and redacted strings. (PATCH bodies live in `crate::patch`.)
//!
//! Nothing here knows about a particular resource, and nothing here may drop a value it was given
//! except JSON `null`s, which the API itself omits from responses.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::datetime;

/// A link to another record, as ConnectWise embeds it: `{id, identifier|name|summary, _info}`.
///
/// Responses carry whatever hints the server adds; requests should send only the id, which is
/// what [`Reference::id`] builds (`{"id": 42}`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    pub id: Option<i64>,
    pub identifier: Option<String>,
    pub name: Option<String>,
    /// Ticket references name their ticket by summary instead of name.
    pub summary: Option<String>,
    /// An agreement reference's agreement type, by name (`AgreementReference.type`): what the
    /// agreement sync filters and picks a contract template by.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A billing status reference's closed flag (`BillingStatusReference.isClosed`).
    pub is_closed: Option<bool>,
    /// Server hints such as `company_href`, `mobileGuid` or `image_href`.
    #[serde(rename = "_info", default, deserialize_with = "non_null_entries")]
    pub info: Option<BTreeMap<String, Value>>,
}

impl Reference {
    /// A reference to the record with this id, serialised as exactly `{"id": id}`.
    pub fn id(id: i64) -> Self {
        Self {
            id: Some(id),
            ..Self::default()
        }
    }

    /// The `{kind}_href` hint of a response reference, e.g. `href("company")`.
    pub fn href(&self, kind: &str) -> Option<&str> {
        self.info
            .as_ref()?
            .get(&format!("{kind}_href"))
            .and_then(Value::as_str)
    }
}

/// Reads an optional string map, dropping `null` entries so they are not written back.
fn non_null_entries<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, Value>>, D::Error> {
    let map = Option::<BTreeMap<String, Value>>::deserialize(deserializer)?;
    Ok(map.map(|mut map| {
        map.retain(|_, value| !value.is_null());
        map
    }))
}

/// The `_info` block of a record: when and by whom it was last changed, plus the server's other
/// hints (`*_href` links and the like) in `other`.
///
/// The API documents `_info` as a string map; `lastUpdated` drives incremental sync
/// (`lastUpdated > [..]` conditions), so it is read as a timestamp. An empty `lastUpdated` (seen on
/// callback entries) reads as absent.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "InfoWire")]
pub struct Info {
    #[serde(default, with = "datetime::opt")]
    pub last_updated: Option<OffsetDateTime>,
    pub updated_by: Option<String>,
    #[serde(default, with = "datetime::opt")]
    pub date_entered: Option<OffsetDateTime>,
    pub entered_by: Option<String>,
    /// Every other key, without `null`s.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The wire form of [`Info`], read before `null` hints are dropped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfoWire {
    #[serde(default, with = "datetime::opt")]
    last_updated: Option<OffsetDateTime>,
    #[serde(default)]
    updated_by: Option<String>,
    #[serde(default, with = "datetime::opt")]
    date_entered: Option<OffsetDateTime>,
    #[serde(default)]
    entered_by: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

impl From<InfoWire> for Info {
    fn from(wire: InfoWire) -> Self {
        let mut other = wire.other;
        other.retain(|_, value| !value.is_null());
        Self {
            last_updated: wire.last_updated,
            updated_by: wire.updated_by,
            date_entered: wire.date_entered,
            entered_by: wire.entered_by,
            other,
        }
    }
}

/// One custom field of a record (`customFields[]`). A field without a value has no `value` key.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldValue {
    pub id: Option<i64>,
    pub caption: Option<String>,
    /// TextArea, Button, Currency, Date, Hyperlink, IPAddress, Checkbox, Number, Percent, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Date, EntryField, List or Option.
    pub entry_method: Option<String>,
    pub number_of_decimals: Option<i64>,
    /// Any JSON: the spec says "object" but real values are strings, numbers and booleans.
    pub value: Option<Value>,
    pub connect_wise_id: Option<String>,
    pub row_num: Option<i64>,
    pub user_defined_field_rec_id: Option<i64>,
    pub pod_id: Option<String>,
}

/// A string that must never appear in logs: `Debug` prints `[redacted]`. Used for passwords and
/// tokens that some record types carry.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedactedString(String);

impl RedactedString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RedactedString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
