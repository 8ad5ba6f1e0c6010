//! The serde models against the schema facts file
//! (`tests/connectwise-sim/schema/connectwise-facts.json`, generated from the vendor spec): for
//! every model, a record with every schema property set must read and write back with every
//! property, so a misspelt or missing field name fails here rather than silently dropping data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use cwsync_connectwise::models::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

const FACTS: &str = include_str!("../../../tests/connectwise-sim/schema/connectwise-facts.json");

fn schemas() -> Map<String, Value> {
    let facts: Value = serde_json::from_str(FACTS).unwrap();
    facts["schemas"].as_object().unwrap().clone()
}

/// A value of the right type for one schema fragment (objects filled in to `depth` levels).
fn example(schema: &Value, all: &Map<String, Value>, depth: usize) -> Value {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.trim_start_matches("#/schemas/");
        return example(&all[name], all, depth);
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values[0].clone();
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds[0].as_str().unwrap().to_owned(),
        Some(Value::String(kind)) => kind.clone(),
        _ => return json!("any value"),
    };
    match kind.as_str() {
        "integer" => json!(7),
        "number" => json!(12.5),
        "boolean" => json!(true),
        "string" if schema.get("format") == Some(&json!("date-time")) => {
            json!("2024-03-05T16:20:11Z")
        }
        "string" => json!("text"),
        "array" => json!([example(&schema["items"], all, depth)]),
        "object" if schema.get("additionalProperties").is_some() => {
            json!({"lastUpdated": "2024-03-05T16:20:11Z", "updatedBy": "jdoe", "x_href": "u"})
        }
        "object" if depth == 0 => json!({}),
        "object" => {
            let properties = schema["properties"].as_object().unwrap();
            let filled = properties
                .iter()
                .map(|(key, property)| {
                    // The spec types TimeEntry.hourlyCost as a string; it holds an amount.
                    let value = if key == "hourlyCost" && property["type"] == json!("string") {
                        json!("12.50")
                    } else {
                        example(property, all, depth - 1)
                    };
                    (key.clone(), value)
                })
                .collect();
            Value::Object(filled)
        }
        other => panic!("schema type {other} has no example"),
    }
}

/// Fills every property of `schema_name`, reads it as `T`, writes it back and returns the schema
/// properties the model lost.
fn lost_properties<T: DeserializeOwned + Serialize>(schema_name: &str) -> BTreeSet<String> {
    let all = schemas();
    let schema = &all[schema_name];
    let record = example(schema, &all, 2);
    let model: T = serde_json::from_value(record.clone())
        .unwrap_or_else(|err| panic!("{schema_name} does not read a full record: {err}"));
    let written = serde_json::to_value(&model).unwrap();
    let kept = written.as_object().unwrap();
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|key| !kept.contains_key(key.as_str()))
        .cloned()
        .collect()
}

macro_rules! every_schema_property_survives {
    ($($test:ident: $model:ty = $schema:literal;)*) => {$(
        #[test]
        fn $test() {
            assert_eq!(lost_properties::<$model>($schema), BTreeSet::new());
        }
    )*};
}

every_schema_property_survives! {
    company_keeps_every_schema_property: Company = "Company";
    company_site_keeps_every_schema_property: CompanySite = "CompanySite";
    contact_keeps_every_schema_property: Contact = "Contact";
    contact_communication_item_keeps_every_schema_property: ContactCommunicationItem = "ContactCommunicationItem";
    company_type_keeps_every_schema_property: CompanyType = "CompanyType";
    communication_type_keeps_every_schema_property: CommunicationType = "CommunicationType";
    company_status_keeps_every_schema_property: CompanyStatus = "CompanyStatus";
    company_type_association_keeps_every_schema_property: CompanyTypeAssociation = "Company.CompanyTypeAssociation";
    company_type_association_matches_the_flat_collection_schema_too: CompanyTypeAssociation = "CompanyCompanyTypeAssociation.CompanyTypeAssociation";
    state_keeps_every_schema_property: State = "State";
    country_keeps_every_schema_property: Country = "Country";
    agreement_keeps_every_schema_property: Agreement = "Agreement";
    agreement_type_keeps_every_schema_property: AgreementType = "AgreementType";
    addition_keeps_every_schema_property: Addition = "Addition";
    invoice_keeps_every_schema_property: Invoice = "Invoice";
    invoice_payment_keeps_every_schema_property: InvoicePayment = "InvoicePayment";
    wise_pay_payment_keeps_every_schema_property: WisePayPayment = "WisePayPayment";
    wise_pay_batch_payment_keeps_every_schema_property: WisePayBatchPayment = "WisePayBatchPayment";
    wise_pay_fee_invoice_keeps_every_schema_property: WisePayFeeInvoice = "WisePayFeeInvoice";
    catalog_item_keeps_every_schema_property: CatalogItem = "CatalogItem";
    product_item_keeps_every_schema_property: ProductItem = "ProductItem";
    product_recurring_keeps_every_schema_property: ProductRecurring = "ProductRecurring";
    product_type_keeps_every_schema_property: ProductType = "ProductType";
    category_keeps_every_schema_property: Category = "Category";
    sub_category_keeps_every_schema_property: SubCategory = "SubCategory";
    unit_of_measure_keeps_every_schema_property: UnitOfMeasure = "UnitOfMeasure";
    ticket_keeps_every_schema_property: Ticket = "Ticket";
    board_keeps_every_schema_property: Board = "Board";
    board_status_keeps_every_schema_property: BoardStatus = "BoardStatus";
    board_type_keeps_every_schema_property: BoardType = "BoardType";
    priority_keeps_every_schema_property: Priority = "Priority";
    project_keeps_every_schema_property: Project = "Project";
    project_phase_keeps_every_schema_property: ProjectPhase = "ProjectPhase";
    project_ticket_keeps_every_schema_property: ProjectTicket = "ProjectTicket";
    ticket_task_keeps_every_schema_property: TicketTask = "TicketTask";
    project_reference_keeps_every_schema_property: Reference = "ProjectReference";
    project_phase_reference_keeps_every_schema_property: Reference = "ProjectPhaseReference";
    service_note_keeps_every_schema_property: ServiceNote = "ServiceNote";
    time_entry_keeps_every_schema_property: TimeEntry = "TimeEntry";
    order_keeps_every_schema_property: Order = "Order";
    order_status_keeps_every_schema_property: OrderStatus = "OrderStatus";
    sales_order_line_item_keeps_every_schema_property: SalesOrderLineItem = "SalesOrdersLineItem";
    opportunity_type_keeps_every_schema_property: OpportunityType = "OpportunityType";
    opportunity_status_keeps_every_schema_property: OpportunityStatus = "OpportunityStatus";
    opportunity_keeps_every_schema_property: Opportunity = "Opportunity";
    forecast_keeps_every_schema_property: Forecast = "Forecast";
    forecast_item_keeps_every_schema_property: ForecastItem = "ForecastItem";
    revenue_summary_keeps_every_schema_property: RevenueSummary = "WonRevenueReference";
    member_keeps_every_schema_property: Member = "Member";
    member_office365_keeps_every_schema_property: MemberOffice365 = "MemberOffice365";
    document_info_keeps_every_schema_property: DocumentInfo = "DocumentInfo";
    callback_entry_keeps_every_schema_property: CallbackEntry = "CallbackEntry";
    system_info_keeps_every_schema_property: SystemInfo = "Info";
    license_bit_keeps_every_schema_property: LicenseBit = "LicenseBit";
    count_keeps_every_schema_property: Count = "Count";
    custom_field_value_keeps_every_schema_property: CustomFieldValue = "CustomFieldValue";
    company_reference_keeps_every_schema_property: Reference = "CompanyReference";
    ticket_reference_keeps_every_schema_property: Reference = "TicketReference";
}

/// The paths of the ticket import's models are endpoints of the facts file (ids as `{parentId}`).
#[test]
fn the_ticket_import_models_have_paths_the_api_serves() {
    let facts: Value = serde_json::from_str(FACTS).unwrap();
    let served: BTreeSet<String> = facts["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "GET")
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    let template = |path: String| path.replace("/9/", "/{parentId}/");
    for (path, schema) in [
        (Board::PATH.to_owned(), "Board"),
        (template(BoardStatus::path(9)), "BoardStatus"),
        (template(BoardType::path(9)), "BoardType"),
        (Priority::PATH.to_owned(), "Priority"),
        (Project::PATH.to_owned(), "Project"),
        (template(ProjectPhase::path(9)), "ProjectPhase"),
        (ProjectTicket::PATH.to_owned(), "ProjectTicket"),
        (Ticket::PATH.to_owned(), "Ticket"),
    ] {
        assert!(served.contains(&path), "{path} is not served");
        let endpoint = facts["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["method"] == "GET" && e["path"] == path.as_str())
            .unwrap();
        assert_eq!(endpoint["response"]["schema"], schema, "{path}");
    }
}

/// The paths of the billing documents' models are endpoints of the facts file, answering the
/// model's schema (the line items' path keeps the spec's trailing slash).
#[test]
fn the_billing_document_models_have_paths_the_api_serves() {
    let facts: Value = serde_json::from_str(FACTS).unwrap();
    let template = |path: String| path.replace("/9/", "/{parentId}/");
    for (path, schema) in [
        (Invoice::PATH.to_owned(), "Invoice"),
        (template(InvoicePayment::path(9)), "InvoicePayment"),
        (Order::PATH.to_owned(), "Order"),
        (OrderStatus::PATH.to_owned(), "OrderStatus"),
        (template(SalesOrderLineItem::path(9)), "SalesOrdersLineItem"),
        (Opportunity::PATH.to_owned(), "Opportunity"),
        (OpportunityType::PATH.to_owned(), "OpportunityType"),
        (OpportunityStatus::PATH.to_owned(), "OpportunityStatus"),
        (ProductItem::PATH.to_owned(), "ProductItem"),
        (Company::PATH.to_owned(), "Company"),
    ] {
        let endpoint = facts["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["method"] == "GET" && e["path"] == path.as_str())
            .unwrap_or_else(|| panic!("{path} is not served"));
        assert_eq!(endpoint["response"]["schema"], schema, "{path}");
    }
}
