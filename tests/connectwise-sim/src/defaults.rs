//! What ConnectWise fills in on the server side: the defaults a created record gets for the fields
//! the request left out, and the values derived from other fields (a time entry's hours and
//! company, a ticket's closed flag). One table per resource, read by `writes`; the README's
//! "Server-side defaults" section lists every rule with its source and how sure it is.
//!
//! Two rules hold on every resource, old and new, without a table entry: every boolean property
//! of the record's schema that is absent after a create becomes `false` (the real samples carry
//! every flag, and `conditions=deletedFlag=false` must match a new record), and `_info` is
//! stamped by `writes`.
use serde_json::{Map, Value};

/// How a field left out of a create gets its value.
#[derive(Debug, Clone, Copy)]
pub enum Fill {
    /// A fixed JSON value, written as JSON text (`"\"ServiceTicket\""`, `"0"`).
    Literal(&'static str),
    /// The instance's default record of a collection, as a reference: the record flagged
    /// `defaultFlag` (or `overallDefaultFlag`), else the active record with the lowest id.
    DefaultOf(&'static str),
    /// The default record of a child collection of the record another field of this one points
    /// at: a ticket's status is the default status of its board.
    DefaultChildOf {
        collection: &'static str,
        parent_field: &'static str,
    },
    /// A new GUID (`mobileGuid`).
    Guid,
    /// The time of the write.
    Now,
    /// The identifier of the member writing (`enteredBy`).
    Actor,
    /// A reference to the record itself (a company is its own bill-to company).
    Itself,
    /// Midnight (UTC) of the day of the write: dates ConnectWise's screens default to today.
    Today,
    /// Another field of the same record, as already filled (an agreement bills its own company).
    SameAs(&'static str),
    /// A field (a `/` path) of the record another field of this one points at: an agreement's
    /// billing cycle is its type's, an addition's unit price is its product's. A reference is
    /// rebuilt in the shape of the field it lands in.
    FromRecord {
        via: &'static str,
        field: &'static str,
    },
}

/// The defaults of one resource, in the order they are filled (a field may depend on one above).
#[derive(Debug, Clone, Copy)]
pub struct ResourceDefaults {
    pub collection: &'static str,
    pub fields: &'static [(&'static str, Fill)],
}

const fn defaults(
    collection: &'static str,
    fields: &'static [(&'static str, Fill)],
) -> ResourceDefaults {
    ResourceDefaults { collection, fields }
}

use Fill::{
    Actor, DefaultChildOf, DefaultOf, FromRecord, Guid, Itself, Literal, Now, SameAs, Today,
};

/// A field of the agreement type an agreement is created with.
const fn of_type(field: &'static str) -> Fill {
    FromRecord { via: "type", field }
}

/// A field of the company an agreement is for.
const fn of_company(field: &'static str) -> Fill {
    FromRecord {
        via: "company",
        field,
    }
}

/// A field of the catalog item an addition adds.
const fn of_product(field: &'static str) -> Fill {
    FromRecord {
        via: "product",
        field,
    }
}

/// Per-resource defaults on create (booleans are `false` everywhere besides these).
pub const DEFAULTS: &[ResourceDefaults] = &[
    defaults(
        "/company/companies",
        &[
            ("status", DefaultOf("/company/companies/statuses")),
            ("country", DefaultOf("/company/countries")),
            ("billingTerms", DefaultOf("/finance/billingTerms")),
            ("taxCode", DefaultOf("/finance/taxCodes")),
            ("territory", DefaultOf("/system/locations")),
            ("market", DefaultOf("/company/marketDescriptions")),
            ("timeZoneSetup", DefaultOf("/system/timeZoneSetups")),
            (
                "invoiceDeliveryMethod",
                DefaultOf("/finance/invoiceDeliveryMethods"),
            ),
            ("currency", DefaultOf("/finance/currencies")),
            ("billToCompany", Itself),
            ("dateAcquired", Now),
            ("annualRevenue", Literal("0")),
            ("mobileGuid", Guid),
        ],
    ),
    defaults(
        "/company/companies/{parentId}/sites",
        &[
            ("country", DefaultOf("/company/countries")),
            ("taxCode", DefaultOf("/finance/taxCodes")),
            ("mobileGuid", Guid),
        ],
    ),
    defaults(
        "/company/contacts",
        &[
            ("country", DefaultOf("/company/countries")),
            ("mobileGuid", Guid),
        ],
    ),
    defaults(
        "/service/tickets",
        &[
            ("recordType", Literal("\"ServiceTicket\"")),
            ("board", DefaultOf("/service/boards")),
            (
                "status",
                DefaultChildOf {
                    collection: "/service/boards/{parentId}/statuses",
                    parent_field: "board",
                },
            ),
            ("priority", DefaultOf("/service/priorities")),
            ("severity", Literal("\"Medium\"")),
            ("impact", Literal("\"Medium\"")),
            ("billTime", Literal("\"NoDefault\"")),
            ("billExpenses", Literal("\"NoDefault\"")),
            ("billProducts", Literal("\"NoDefault\"")),
            ("mobileGuid", Guid),
        ],
    ),
    defaults(
        "/project/tickets",
        &[
            ("priority", DefaultOf("/service/priorities")),
            ("mobileGuid", Guid),
        ],
    ),
    defaults(
        "/time/entries",
        &[
            ("chargeToType", Literal("\"ServiceTicket\"")),
            ("workType", DefaultOf("/time/workTypes")),
            ("workRole", DefaultOf("/time/workRoles")),
            ("status", Literal("\"Open\"")),
            ("hoursDeduct", Literal("0")),
            ("dateEntered", Now),
            ("enteredBy", Actor),
            ("mobileGuid", Guid),
        ],
    ),
    defaults(
        "/procurement/catalog",
        &[
            ("unitOfMeasure", DefaultOf("/procurement/unitOfMeasures")),
            ("price", Literal("0")),
            ("cost", Literal("0")),
            ("minStockLevel", Literal("0")),
            ("markupPercentage", Literal("0")),
            ("priceAttribute", Literal("\"FixedFee\"")),
            ("billableOption", Literal("\"Billable\"")),
            ("connectWiseID", Guid),
        ],
    ),
    defaults(
        "/finance/agreements",
        &[
            ("startDate", Today),
            ("billStartDate", SameAs("startDate")),
            ("billingCycle", of_type("billingCycle")),
            ("billingCycle", DefaultOf("/finance/billingCycles")),
            ("invoicingCycle", of_type("invoicingCycle")),
            ("invoicingCycle", Literal("\"ContractYear\"")),
            ("billTime", of_type("billTime")),
            ("billExpenses", of_type("billExpenses")),
            ("billProducts", of_type("billProducts")),
            ("employeeCompRate", of_type("employeeCompRate")),
            ("employeeCompRate", Literal("\"Actual\"")),
            ("employeeCompNotExceed", of_type("employeeCompNotExceed")),
            ("employeeCompNotExceed", Literal("\"Billing\"")),
            ("compHourlyRate", of_type("compHourlyRate")),
            ("compHourlyRate", Literal("0")),
            ("compLimitAmount", of_type("compLimitAmount")),
            ("compLimitAmount", Literal("0")),
            ("applicationUnits", of_type("applicationUnits")),
            ("applicationLimit", of_type("applicationLimit")),
            ("applicationLimit", Literal("0")),
            ("applicationCycle", of_type("applicationCycle")),
            (
                "applicationUnlimitedFlag",
                of_type("applicationUnlimitedFlag"),
            ),
            ("coverAgreementTime", of_type("coverAgreementTimeFlag")),
            (
                "coverAgreementProduct",
                of_type("coverAgreementProductFlag"),
            ),
            (
                "coverAgreementExpense",
                of_type("coverAgreementExpenseFlag"),
            ),
            ("coverSalesTax", of_type("coverSalesTaxFlag")),
            ("carryOverUnused", of_type("carryOverUnusedFlag")),
            ("allowOverruns", of_type("allowOverrunsFlag")),
            ("chargeToFirm", of_type("chargeToFirmFlag")),
            ("expireWhenZero", of_type("expireWhenZero")),
            ("expiredDays", of_type("expiredDays")),
            ("limit", of_type("limit")),
            ("oneTimeFlag", of_type("oneTimeFlag")),
            ("billOneTimeFlag", of_type("billOneTimeFlag")),
            ("prorateFlag", of_type("prorateFlag")),
            (
                "invoiceProratedAdditionsFlag",
                of_type("invoiceProratedAdditionsFlag"),
            ),
            ("taxable", of_type("taxableFlag")),
            ("autoInvoiceFlag", of_type("autoInvoiceFlag")),
            ("billZeroAmountFlag", of_type("billZeroAmountFlag")),
            ("restrictLocationFlag", of_type("restrictLocationFlag")),
            ("restrictDepartmentFlag", of_type("restrictDepartmentFlag")),
            ("restrictDownPayment", of_type("restrictDownPaymentFlag")),
            ("topComment", of_type("topCommentFlag")),
            ("bottomComment", of_type("bottomCommentFlag")),
            ("billableTimeInvoice", of_type("billableTimeInvoiceFlag")),
            (
                "billableExpenseInvoice",
                of_type("billableExpenseInvoiceFlag"),
            ),
            (
                "billableProductInvoice",
                of_type("billableProductInvoiceFlag"),
            ),
            ("billAmount", of_type("billAmount")),
            ("billAmount", Literal("0")),
            ("invoiceDescription", of_type("invoiceDescription")),
            ("sla", of_type("sla")),
            ("workRole", of_type("workRole")),
            ("workType", of_type("workType")),
            ("invoiceTemplate", of_type("invoiceTemplate")),
            ("location", of_type("location")),
            ("location", DefaultOf("/system/locations")),
            ("department", of_type("department")),
            ("department", DefaultOf("/system/departments")),
            ("billingTerms", of_company("billingTerms")),
            ("billingTerms", DefaultOf("/finance/billingTerms")),
            ("taxCode", of_company("taxCode")),
            ("taxCode", DefaultOf("/finance/taxCodes")),
            ("currency", of_company("currency")),
            ("currency", DefaultOf("/finance/currencies")),
            ("companyLocation", of_company("territory")),
            ("billToCompany", SameAs("company")),
            ("billToContact", SameAs("contact")),
            ("billToSite", SameAs("site")),
            ("shipToCompany", SameAs("company")),
            ("shipToContact", SameAs("contact")),
            ("shipToSite", SameAs("site")),
        ],
    ),
    defaults(
        "/finance/agreements/{parentId}/additions",
        &[
            ("quantity", Literal("1")),
            ("lessIncluded", Literal("0")),
            ("effectiveDate", Today),
            ("unitPrice", of_product("price")),
            ("unitPrice", Literal("0")),
            ("unitCost", of_product("cost")),
            ("unitCost", Literal("0")),
            ("description", of_product("description")),
            ("invoiceDescription", of_product("customerDescription")),
            ("uom", of_product("unitOfMeasure/name")),
            ("taxableFlag", of_product("taxableFlag")),
            ("specialOrderFlag", of_product("specialOrderFlag")),
            ("prorateCost", Literal("0")),
            ("proratePrice", Literal("0")),
            ("extendedProrateCost", Literal("0")),
            ("extendedProratePrice", Literal("0")),
        ],
    ),
    defaults(
        "/finance/invoices",
        &[
            ("status", DefaultOf("/finance/billingStatuses")),
            ("date", Today),
            ("billToCompany", SameAs("company")),
            ("shipToCompany", SameAs("company")),
            ("billingTerms", of_company("billingTerms")),
            ("billingTerms", DefaultOf("/finance/billingTerms")),
            ("taxCode", of_company("taxCode")),
            ("taxCode", DefaultOf("/finance/taxCodes")),
            ("currency", of_company("currency")),
            ("currency", DefaultOf("/finance/currencies")),
            ("territory", of_company("territory")),
            ("location", DefaultOf("/system/locations")),
            ("department", DefaultOf("/system/departments")),
        ],
    ),
    defaults(
        "/finance/invoices/{parentId}/payments",
        &[("paymentDate", Today), ("appliedBy", Actor)],
    ),
    defaults(
        "/sales/orders",
        &[
            ("orderDate", Today),
            ("billToCompany", SameAs("company")),
            ("billToContact", SameAs("contact")),
            ("billToSite", SameAs("site")),
            ("shipToCompany", SameAs("company")),
            ("shipToContact", SameAs("contact")),
            ("shipToSite", SameAs("site")),
            ("billingTerms", of_company("billingTerms")),
            ("billingTerms", DefaultOf("/finance/billingTerms")),
            ("taxCode", of_company("taxCode")),
            ("taxCode", DefaultOf("/finance/taxCodes")),
            ("currency", of_company("currency")),
            ("currency", DefaultOf("/finance/currencies")),
            ("location", DefaultOf("/system/locations")),
            ("department", DefaultOf("/system/departments")),
        ],
    ),
    defaults(
        "/sales/opportunities",
        &[
            ("status", DefaultOf("/sales/opportunities/statuses")),
            ("stage", DefaultOf("/sales/stages")),
            ("expectedCloseDate", Today),
            ("billToCompany", SameAs("company")),
            ("billToContact", SameAs("contact")),
            ("billToSite", SameAs("site")),
            ("shipToCompany", SameAs("company")),
            ("shipToContact", SameAs("contact")),
            ("shipToSite", SameAs("site")),
        ],
    ),
    defaults(
        "/procurement/products",
        &[
            (
                "company",
                FromRecord {
                    via: "invoice",
                    field: "company",
                },
            ),
            (
                "company",
                FromRecord {
                    via: "salesOrder",
                    field: "company",
                },
            ),
            (
                "company",
                FromRecord {
                    via: "opportunity",
                    field: "company",
                },
            ),
        ],
    ),
];

/// The defaults table of a collection (by its storage template).
pub fn resource_defaults(collection: &str) -> &'static [(&'static str, Fill)] {
    DEFAULTS
        .iter()
        .find(|d| d.collection == collection)
        .map_or(&[], |d| d.fields)
}

/// Whether a stored record is its collection's default: `defaultFlag` or `overallDefaultFlag`.
pub fn is_default(record: &Value) -> bool {
    ["defaultFlag", "overallDefaultFlag"]
        .iter()
        .any(|k| record.get(*k).and_then(Value::as_bool) == Some(true))
}

/// Whether a stored record is inactive (`inactiveFlag` or, on board statuses, `inactive`).
pub fn is_inactive(record: &Value) -> bool {
    ["inactiveFlag", "inactive"]
        .iter()
        .any(|k| record.get(*k).and_then(Value::as_bool) == Some(true))
}

/// Hours between two timestamps minus the hours deducted, rounded to two places as ConnectWise
/// shows them (14:00 → 14:44 is 0.73). `None` when the end is not after the start.
pub fn actual_hours(
    start: time::OffsetDateTime,
    end: time::OffsetDateTime,
    deducted: f64,
) -> Option<f64> {
    let seconds = (end - start).whole_seconds();
    if seconds <= 0 {
        return None;
    }
    let hours = seconds as f64 / 3600.0 - deducted;
    Some((hours.max(0.0) * 100.0).round() / 100.0)
}

/// Puts `false` into every boolean property of `props` the record lacks.
pub fn fill_false_flags(props: &Map<String, Value>, record: &mut Map<String, Value>) {
    for (key, prop) in props {
        let boolean = match prop.get("type") {
            Some(Value::String(t)) => t == "boolean",
            Some(Value::Array(types)) => types.iter().any(|t| t == "boolean"),
            _ => false,
        };
        if boolean && !record.contains_key(key) {
            record.insert(key.clone(), Value::Bool(false));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::validate::parse_datetime;
    use serde_json::json;

    #[test]
    fn actual_hours_are_the_span_minus_the_deduction_rounded_to_hundredths() {
        let at = |s: &str| parse_datetime(s).unwrap();
        assert_eq!(
            actual_hours(at("2018-05-05T14:00:00Z"), at("2018-05-05T14:44:00Z"), 0.0),
            Some(0.73)
        );
        assert_eq!(
            actual_hours(at("2024-01-01T09:00:00Z"), at("2024-01-01T11:30:00Z"), 0.5),
            Some(2.0)
        );
        assert_eq!(
            actual_hours(at("2024-01-01T09:00:00Z"), at("2024-01-01T09:00:00Z"), 0.0),
            None
        );
    }

    #[test]
    fn only_absent_booleans_become_false() {
        let props = json!({"deletedFlag": {"type": ["boolean", "null"]}, "leadFlag": {"type": "boolean"},
            "name": {"type": "string"}});
        let mut record = json!({"leadFlag": true}).as_object().unwrap().clone();
        fill_false_flags(props.as_object().unwrap(), &mut record);
        assert_eq!(
            Value::Object(record),
            json!({"leadFlag": true, "deletedFlag": false})
        );
    }

    #[test]
    fn every_defaults_table_names_a_known_collection() {
        for d in DEFAULTS {
            assert!(
                crate::resources::resource(d.collection).is_some(),
                "{}",
                d.collection
            );
            for (_, fill) in d.fields {
                if let DefaultOf(c) | DefaultChildOf { collection: c, .. } = fill {
                    assert!(crate::resources::resource(c).is_some(), "{c}");
                }
            }
        }
    }
}
