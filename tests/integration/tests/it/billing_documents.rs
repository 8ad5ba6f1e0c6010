//! The records issue 11's billing-document jobs read and write, through cwsync's own client and
//! typed models against the simulator: invoices with their one payment (a second is a typed
//! validation error naming the invoice), agreement invoices filtered by status and agreement type
//! with the type's name on the reference, products on an invoice, a sales order with its line
//! items, opportunity types and statuses closing an opportunity, and one company custom field set
//! by PATCH without touching the others.

use cwsync_connectwise::models::{
    Agreement, Company, Contact, CustomFieldValue, Invoice, InvoicePayment, Opportunity,
    OpportunityStatus, OpportunityType, Order, OrderStatus, ProductItem, Reference, Resource,
    SalesOrderLineItem,
};
use cwsync_connectwise::{Client, Condition, CwError, PatchOp, Query};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::support::{all_typed, client, new_company, sim, typed_without_loss};

fn id(id: i64) -> Option<Reference> {
    Some(Reference::id(id))
}

fn named(name: &str) -> Option<Reference> {
    Some(Reference {
        name: Some(name.to_owned()),
        ..Reference::default()
    })
}

fn money(text: &str) -> Option<Decimal> {
    text.parse().ok()
}

/// A company with a contact: (company id, contact id).
async fn company_with_contact(client: &Client, identifier: &str) -> (i64, i64) {
    let company: Company = client
        .create(Company::PATH, &new_company(identifier, identifier))
        .await
        .unwrap();
    let company_id = company.id.unwrap();
    let contact: Contact = client
        .create(
            Contact::PATH,
            &Contact {
                first_name: Some("Pat".to_owned()),
                last_name: Some(identifier.to_owned()),
                company: id(company_id),
                ..Contact::default()
            },
        )
        .await
        .unwrap();
    (company_id, contact.id.unwrap())
}

#[tokio::test]
async fn an_invoice_takes_one_payment_and_the_second_is_a_validation_error_on_invoice() {
    let sim = sim().await;
    let client = client(&sim).await;
    let (company, _) = company_with_contact(&client, "PAYCO").await;
    let raw: Value = client
        .create(
            Invoice::PATH,
            &Invoice {
                kind: Some("Standard".to_owned()),
                company: id(company),
                service_total: money("200"),
                ..Invoice::default()
            },
        )
        .await
        .unwrap();
    let invoice: Invoice = typed_without_loss(&raw, "invoice");
    let invoice_id = invoice.id.unwrap();
    assert!(invoice.invoice_number.is_some());
    assert_eq!(invoice.status.as_ref().unwrap().is_closed, Some(false));

    let payments = InvoicePayment::path(invoice_id);
    let first: Value = client
        .create(
            &payments,
            &InvoicePayment {
                amount: money("50"),
                ..InvoicePayment::default()
            },
        )
        .await
        .unwrap();
    let first: InvoicePayment = typed_without_loss(&first, "payment");
    let second = client
        .create::<_, InvoicePayment>(
            &payments,
            &InvoicePayment {
                amount: money("25"),
                ..InvoicePayment::default()
            },
        )
        .await
        .unwrap_err();
    match &second {
        CwError::Validation { errors, .. } => {
            assert_eq!(errors[0].field, "invoice");
            assert!(
                errors[0].message.contains("only one payment per invoice"),
                "{second}"
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // The sum of the payments goes into the one payment.
    let changed: InvoicePayment = client
        .patch(
            &format!("{payments}/{}", first.id.unwrap()),
            &[PatchOp::replace("amount", 75)],
        )
        .await
        .unwrap();
    assert_eq!(changed.amount, money("75"));
    let read: Invoice = client
        .get(&format!("{}/{invoice_id}", Invoice::PATH))
        .await
        .unwrap();
    assert_eq!(read.payments, money("75"));
    assert_eq!(read.balance, money("125"));
    let listed: Vec<InvoicePayment> = all_typed(&client, &payments).await;
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn agreement_invoices_are_found_by_status_and_agreement_type_with_their_products() {
    let sim = sim().await;
    let client = client(&sim).await;
    let (company, contact) = company_with_contact(&client, "AGRCO").await;
    let agreement: Agreement = client
        .create(
            Agreement::PATH,
            &Agreement {
                name: Some("Managed".to_owned()),
                kind: named("Managed Services"),
                company: id(company),
                contact: id(contact),
                ..Agreement::default()
            },
        )
        .await
        .unwrap();
    let invoice: Invoice = client
        .create(
            Invoice::PATH,
            &Invoice {
                kind: Some("Agreement".to_owned()),
                company: id(company),
                agreement: id(agreement.id.unwrap()),
                status: named("Ready to Sync"),
                ..Invoice::default()
            },
        )
        .await
        .unwrap();
    let _catalog: Value = client
        .create(
            "/procurement/catalog",
            &serde_json::json!({"identifier": "MS-SEAT", "description": "Seat", "customerDescription": "Seat",
                                "subcategory": {"id": 3}, "type": {"name": "Service"}}),
        )
        .await
        .unwrap();
    for quantity in [2, 3] {
        let _: ProductItem = client
            .create(
                ProductItem::PATH,
                &ProductItem {
                    catalog_item: Some(Reference {
                        identifier: Some("MS-SEAT".to_owned()),
                        ..Reference::default()
                    }),
                    billable_option: Some("Billable".to_owned()),
                    invoice: id(invoice.id.unwrap()),
                    quantity: money(&quantity.to_string()),
                    price: money("10"),
                    ..ProductItem::default()
                },
            )
            .await
            .unwrap();
    }

    let query = Query::new()
        .filter(
            Condition::field("type")
                .eq("Agreement")
                .and(Condition::field("status/name").in_(["Ready to Sync"]))
                .and(Condition::field("agreement/type").in_(["Managed Services"])),
        )
        .page_size(1000);
    let found: Vec<Invoice> = client.list_all(Invoice::PATH, &query).await.unwrap();
    assert_eq!(found.len(), 1);
    let agreement_ref = found[0].agreement.as_ref().unwrap();
    assert_eq!(agreement_ref.kind.as_deref(), Some("Managed Services"));
    assert_eq!(found[0].product_total, money("50"));

    let products: Vec<ProductItem> = client
        .list_all(
            ProductItem::PATH,
            &Query::new().filter(Condition::field("invoice/id").in_([invoice.id.unwrap()])),
        )
        .await
        .unwrap();
    assert_eq!(products.len(), 2);
    assert!(
        products
            .iter()
            .all(|p| p.company.as_ref().unwrap().id == Some(company))
    );
}

#[tokio::test]
async fn a_sales_order_with_line_items_and_an_opportunity_closed_by_a_won_status() {
    let sim = sim().await;
    let client = client(&sim).await;
    let (company, contact) = company_with_contact(&client, "SALECO").await;
    let statuses: Vec<OrderStatus> = all_typed(&client, OrderStatus::PATH).await;
    let new = statuses
        .iter()
        .find(|s| s.default_flag == Some(true))
        .unwrap();
    let order: Order = client
        .create(
            Order::PATH,
            &Order {
                company: id(company),
                contact: id(contact),
                sales_rep: Some(Reference {
                    identifier: Some("jdoe".to_owned()),
                    ..Reference::default()
                }),
                status: id(new.id.unwrap()),
                ..Order::default()
            },
        )
        .await
        .unwrap();
    let lines = SalesOrderLineItem::path(order.id.unwrap());
    let _: SalesOrderLineItem = client
        .create(
            &lines,
            &SalesOrderLineItem {
                quantity: Some(4),
                ..SalesOrderLineItem::default()
            },
        )
        .await
        .unwrap();
    let listed: Vec<SalesOrderLineItem> = all_typed(&client, &lines).await;
    assert_eq!(listed[0].sales_order.as_ref().unwrap().id, order.id);

    let types: Vec<OpportunityType> = all_typed(&client, OpportunityType::PATH).await;
    let statuses: Vec<OpportunityStatus> = all_typed(&client, OpportunityStatus::PATH).await;
    let won = statuses.iter().find(|s| s.won_flag == Some(true)).unwrap();
    assert!(statuses.iter().any(|s| s.lost_flag == Some(true)));
    let opportunity: Opportunity = client
        .create(
            Opportunity::PATH,
            &Opportunity {
                name: Some("Project 17".to_owned()),
                company: id(company),
                contact: id(contact),
                primary_sales_rep: id(2),
                kind: id(types[0].id.unwrap()),
                ..Opportunity::default()
            },
        )
        .await
        .unwrap();
    assert!(opportunity.closed_date.is_none());
    let closed: Opportunity = client
        .patch(
            &format!("{}/{}", Opportunity::PATH, opportunity.id.unwrap()),
            &[PatchOp::replace_reference("status", won.id.unwrap())],
        )
        .await
        .unwrap();
    assert!(closed.closed_date.is_some());
}

#[tokio::test]
async fn one_company_custom_field_is_set_by_patch_and_the_others_keep_their_values() {
    let sim = sim().await;
    let client = client(&sim).await;
    let (company, _) = company_with_contact(&client, "HOLDCO").await;
    let path = format!("{}/{company}", Company::PATH);
    let read: Company = client.get(&path).await.unwrap();
    let fields: Vec<CustomFieldValue> = read.custom_fields.unwrap();
    let hold = fields
        .iter()
        .find(|f| f.caption.as_deref() == Some("Credit Hold"))
        .unwrap()
        .id
        .unwrap();
    let notes = fields
        .iter()
        .find(|f| f.caption.as_deref() == Some("Billing Notes"))
        .unwrap()
        .id
        .unwrap();
    let _: Company = client
        .patch(
            &path,
            &[PatchOp::replace_custom_field(notes, "Net 10 only")],
        )
        .await
        .unwrap();
    let held: Company = client
        .patch(&path, &[PatchOp::replace_custom_field(hold, true)])
        .await
        .unwrap();
    let value = |company: &Company, field: i64| {
        company
            .custom_fields
            .as_ref()
            .unwrap()
            .iter()
            .find(|f| f.id == Some(field))
            .and_then(|f| f.value.clone())
    };
    assert_eq!(value(&held, hold), Some(Value::Bool(true)));
    assert_eq!(value(&held, notes), Some(Value::from("Net 10 only")));

    let err = client
        .patch::<Company>(&path, &[PatchOp::replace_custom_field(hold, "yes")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CwError::Validation { errors, .. } if errors[0].field == "customFields"),
        "{err:?}"
    );
}
