//! A billing account's credit hold → a tenant-named ConnectWise company custom field (seeds 000,
//! General Q2: a ConnectWise workflow acts on the field, e.g. to change the company's status).
//!
//! The field is found on the company itself, by its caption (case-insensitive): ConnectWise
//! shows every company custom field on every company (`customFields`, with `id`, `caption` and
//! `type`), so the page's one batched company read also gives the field's id; the instance's
//! definitions (`/system/userDefinedFields`) are not in the API subset cwsync is written
//! against. A checkbox is `true` on hold and `false` (or unset) off hold; any other field takes
//! the tenant's [`CreditHold::on_value`] / [`CreditHold::off_value`] (empty: cleared). A value
//! that already says the same (an unset checkbox says "not on hold") is not written.

use cwsync_connectwise::PatchOp;
use cwsync_connectwise::models::{Company, CustomFieldValue};
use serde_json::{Value, json};

use super::CreditHold;
use crate::fingerprint;

/// The company custom field captioned `caption`, when the company shows one.
pub fn custom_field<'a>(company: &'a Company, caption: &str) -> Option<&'a CustomFieldValue> {
    company.custom_fields.as_deref()?.iter().find(|f| {
        f.caption
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case(caption.trim()))
    })
}

fn is_checkbox(field: &CustomFieldValue) -> bool {
    field
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("Checkbox"))
}

/// The value `field` should hold for an account `on_hold` (`Null`: cleared).
pub fn desired_value(field: &CustomFieldValue, on_hold: bool, settings: &CreditHold) -> Value {
    if is_checkbox(field) {
        return Value::Bool(on_hold);
    }
    let text = if on_hold {
        &settings.on_value
    } else {
        &settings.off_value
    };
    if text.trim().is_empty() {
        Value::Null
    } else {
        Value::String(text.trim().to_owned())
    }
}

/// Whether `field` already says what `desired` says (an unset checkbox is `false`, an unset
/// text the empty text; texts compare without case or outer spaces).
pub fn says(field: &CustomFieldValue, desired: &Value) -> bool {
    let current = match &field.value {
        None | Some(Value::Null) if is_checkbox(field) => Value::Bool(false),
        None => Value::Null,
        Some(Value::String(s)) if s.trim().is_empty() => Value::Null,
        Some(value) => value.clone(),
    };
    match (&current, desired) {
        (Value::String(a), Value::String(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        (a, b) => a == b,
    }
}

/// What a company's credit-hold field needs for an account `on_hold`: `Ok(None)` when it says
/// so already, the one PATCH operation otherwise; `Err` names the missing caption.
pub fn hold_change(
    company: &Company,
    on_hold: bool,
    settings: &CreditHold,
) -> Result<Option<PatchOp>, String> {
    let caption = settings.custom_field.trim();
    let Some(field) = custom_field(company, caption) else {
        return Err(format!(
            "documents.creditHold.customField: company {} has no custom field captioned \
             {caption:?} (create it in ConnectWise under Setup Tables > Custom Fields, screen \
             Company, or correct the caption)",
            company.id.unwrap_or_default()
        ));
    };
    let Some(id) = field.id else {
        return Err(format!(
            "ConnectWise answered the custom field {caption:?} of company {} without an id",
            company.id.unwrap_or_default()
        ));
    };
    let desired = desired_value(field, on_hold, settings);
    Ok((!says(field, &desired)).then(|| PatchOp::replace_custom_field(id, desired)))
}

/// The stamp of an account's credit hold: what the sync writes (the flag, the company it goes
/// to, and the settings that shape it).
pub fn credit_hold_stamp(on_hold: bool, company_id: Option<i64>, settings: &CreditHold) -> String {
    fingerprint(&json!({
        "onHold": on_hold,
        "company": company_id,
        "field": settings.custom_field.trim().to_lowercase(),
        "on": settings.on_value,
        "off": settings.off_value,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CreditHold {
        CreditHold {
            custom_field: "Credit Hold".to_owned(),
            on_value: "On Hold".to_owned(),
            off_value: String::new(),
        }
    }

    fn company(fields: Vec<CustomFieldValue>) -> Company {
        Company {
            id: Some(7),
            custom_fields: Some(fields),
            ..Company::default()
        }
    }

    fn field(id: i64, caption: &str, kind: &str, value: Option<Value>) -> CustomFieldValue {
        CustomFieldValue {
            id: Some(id),
            caption: Some(caption.to_owned()),
            kind: Some(kind.to_owned()),
            value,
            ..CustomFieldValue::default()
        }
    }

    #[test]
    fn a_checkbox_is_set_on_hold_and_an_unset_one_already_says_not_on_hold() {
        let unset = company(vec![
            field(2, "Billing Notes", "Text", None),
            field(1, "credit hold", "Checkbox", None),
        ]);
        let op = hold_change(&unset, true, &settings()).unwrap().unwrap();
        assert_eq!(op, PatchOp::replace_custom_field(1, true));
        assert_eq!(hold_change(&unset, false, &settings()).unwrap(), None);
        let set = company(vec![field(1, "Credit Hold", "Checkbox", Some(json!(true)))]);
        assert_eq!(hold_change(&set, true, &settings()).unwrap(), None);
        assert_eq!(
            hold_change(&set, false, &settings()).unwrap(),
            Some(PatchOp::replace_custom_field(1, false))
        );
    }

    #[test]
    fn a_text_field_takes_the_tenant_values_and_off_hold_clears_it() {
        let text = company(vec![field(
            5,
            "Credit Hold",
            "Text",
            Some(json!("on hold ")),
        )]);
        assert_eq!(hold_change(&text, true, &settings()).unwrap(), None);
        assert_eq!(
            hold_change(&text, false, &settings()).unwrap(),
            Some(PatchOp::replace_custom_field(5, Value::Null))
        );
        let cleared = company(vec![field(5, "Credit Hold", "Text", Some(json!("")))]);
        assert_eq!(hold_change(&cleared, false, &settings()).unwrap(), None);
    }

    #[test]
    fn a_missing_caption_is_a_failure_naming_it() {
        let none = company(vec![field(2, "Billing Notes", "Text", None)]);
        let reason = hold_change(&none, true, &settings()).unwrap_err();
        assert!(
            reason.contains("\"Credit Hold\"") && reason.contains("company 7"),
            "{reason}"
        );
    }

    #[test]
    fn the_stamp_follows_the_flag_the_company_and_the_field() {
        let base = credit_hold_stamp(true, Some(7), &settings());
        assert_ne!(credit_hold_stamp(false, Some(7), &settings()), base);
        assert_ne!(credit_hold_stamp(true, Some(8), &settings()), base);
        let mut other = settings();
        other.custom_field = "On Stop".to_owned();
        assert_ne!(credit_hold_stamp(true, Some(7), &other), base);
    }
}
