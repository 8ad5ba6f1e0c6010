//! The records the daily export reads and writes, through cwsync's own client against the
//! simulator: the typed models read every field the simulator answers with for catalog setup
//! (product types, categories, subcategories, units of measure), agreement types, catalog items,
//! agreements and additions; an agreement's additions are listed page by page through the
//! child collection; and a document is uploaded to an agreement, listed, downloaded and deleted.

use bytes::Bytes;
use cwsync_connectwise::models::{
    Addition, Agreement, AgreementType, CatalogItem, Category, Contact, DocumentInfo, ProductType,
    Reference, Resource, SubCategory, UnitOfMeasure,
};
use cwsync_connectwise::{Query, UploadDocument};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::support::{all_typed, client, new_company, sim, typed_without_loss};

fn reference(id: i64) -> Option<Reference> {
    Some(Reference {
        id: Some(id),
        ..Reference::default()
    })
}

#[tokio::test]
async fn the_catalog_setup_and_agreement_types_read_into_their_models() {
    let sim = sim().await;
    let client = client(&sim).await;
    let types: Vec<ProductType> = all_typed(&client, ProductType::PATH).await;
    assert!(
        types
            .iter()
            .any(|t| t.name.as_deref() == Some("Non-Inventory")
                && t.type_xref.as_deref() == Some("NonInventoryPart"))
    );
    let categories: Vec<Category> = all_typed(&client, Category::PATH).await;
    assert!(categories.iter().any(|c| c.default_flag == Some(true)));
    let subcategories: Vec<SubCategory> = all_typed(&client, SubCategory::PATH).await;
    let cloud = subcategories
        .iter()
        .find(|s| s.name.as_deref() == Some("Cloud Subscriptions"))
        .unwrap();
    assert_eq!(
        cloud.category.as_ref().and_then(|c| c.name.as_deref()),
        Some("Software")
    );
    let units: Vec<UnitOfMeasure> = all_typed(&client, UnitOfMeasure::PATH).await;
    assert!(units.iter().any(|u| u.name.as_deref() == Some("User")));
    let agreement_types: Vec<AgreementType> = all_typed(&client, AgreementType::PATH).await;
    let block = agreement_types
        .iter()
        .find(|t| t.name.as_deref() == Some("Block Time"))
        .unwrap();
    assert_eq!(
        block.billing_cycle.as_ref().and_then(|c| c.name.as_deref()),
        Some("Quarterly")
    );
    assert_eq!(sim.schema_violations(), vec![]);
}

#[tokio::test]
async fn a_catalog_item_an_agreement_and_its_additions_round_trip_through_the_models() {
    let sim = sim().await;
    let client = client(&sim).await;
    let company: cwsync_connectwise::models::Company = client
        .create("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap();
    let company_id = company.id.unwrap();
    let contact: Contact = client
        .create(
            Contact::PATH,
            &Contact {
                first_name: Some("Ana".into()),
                company: reference(company_id),
                ..Contact::default()
            },
        )
        .await
        .unwrap();

    let item = CatalogItem {
        identifier: Some("M365-BP".into()),
        description: Some("Microsoft 365 Business Premium".into()),
        customer_description: Some("Microsoft 365 Business Premium, per user".into()),
        subcategory: reference(6),
        kind: Some(Reference {
            name: Some("Non-Inventory".into()),
            ..Reference::default()
        }),
        unit_of_measure: Some(Reference {
            name: Some("User".into()),
            ..Reference::default()
        }),
        price: Some(Decimal::new(2200, 2)),
        cost: Some(Decimal::new(1850, 2)),
        ..CatalogItem::default()
    };
    let created: Value = client.create(CatalogItem::PATH, &item).await.unwrap();
    let created: CatalogItem = typed_without_loss(&created, "the created catalog item");
    assert_eq!(
        created.category.as_ref().and_then(|c| c.name.as_deref()),
        Some("Software")
    );
    assert_eq!(created.product_class.as_deref(), Some("NonInventory"));
    let found: Vec<CatalogItem> = client
        .list_by_ids(
            CatalogItem::PATH,
            "identifier",
            ["M365-BP", "NOPE"],
            &Query::new(),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, created.id);

    let agreement = Agreement {
        name: Some("Acme licensing".into()),
        kind: Some(Reference {
            name: Some("Licensing".into()),
            ..Reference::default()
        }),
        company: reference(company_id),
        contact: reference(contact.id.unwrap()),
        ..Agreement::default()
    };
    let agreement: Value = client.create(Agreement::PATH, &agreement).await.unwrap();
    let agreement: Agreement = typed_without_loss(&agreement, "the created agreement");
    assert_eq!(agreement.agreement_status.as_deref(), Some("Active"));
    assert_eq!(
        agreement.bill_to_company.as_ref().and_then(|c| c.id),
        Some(company_id)
    );
    let agreement_id = agreement.id.unwrap();

    for quantity in 1..=5 {
        let addition = Addition {
            product: reference(created.id.unwrap()),
            bill_customer: Some("Billable".into()),
            quantity: Some(Decimal::from(quantity)),
            ..Addition::default()
        };
        let added: Value = client
            .create(&Addition::path(agreement_id), &addition)
            .await
            .unwrap();
        let added: Addition = typed_without_loss(&added, "the created addition");
        assert_eq!(
            added.ext_price,
            Some(Decimal::new(2200, 2) * Decimal::from(quantity))
        );
        assert_eq!(added.uom.as_deref(), Some("User"));
        assert_eq!(added.agreement_id, Some(agreement_id));
    }
    // The child collection pages like any other: five additions at two a page.
    let before = sim.calls().total;
    let additions: Vec<Value> = client
        .list_all(&Addition::path(agreement_id), &Query::new().page_size(2))
        .await
        .unwrap();
    assert_eq!(sim.calls().total - before, 3, "three pages of 2, 2 and 1");
    let additions: Vec<Addition> = additions
        .iter()
        .map(|a| typed_without_loss(a, "a listed addition"))
        .collect();
    let sequence: Vec<Option<Decimal>> = additions.iter().map(|a| a.sequence_number).collect();
    assert_eq!(
        sequence,
        (1..=5).map(|n| Some(Decimal::from(n))).collect::<Vec<_>>()
    );
    assert_eq!(sim.schema_violations(), vec![]);
}

#[tokio::test]
async fn a_document_on_an_agreement_uploads_lists_downloads_and_deletes_through_the_client() {
    let sim = sim().await;
    let client = client(&sim).await;
    let company: cwsync_connectwise::models::Company = client
        .create("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap();
    let contact: Contact = client
        .create(
            Contact::PATH,
            &Contact {
                first_name: Some("Ana".into()),
                company: company.id.and_then(reference),
                ..Contact::default()
            },
        )
        .await
        .unwrap();
    let agreement: Agreement = client
        .create(
            Agreement::PATH,
            &Agreement {
                name: Some("Acme".into()),
                kind: reference(1),
                company: company.id.and_then(reference),
                contact: contact.id.and_then(reference),
                ..Agreement::default()
            },
        )
        .await
        .unwrap();
    let agreement_id = agreement.id.unwrap();
    let csv = Bytes::from_static(b"user,services\nana@acme.test,M365-BP\n");
    let upload = UploadDocument {
        record_type: "Agreement".into(),
        record_id: agreement_id,
        title: "User list".into(),
        file_name: "users.csv".into(),
        content_type: "text/csv".into(),
        bytes: csv.clone(),
        private_flag: true,
        read_only_flag: false,
    };
    let info: DocumentInfo = client.upload_document(&upload).await.unwrap();
    assert_eq!(info.public_flag, Some(false));
    let listed: Vec<DocumentInfo> = client
        .list_documents("Agreement", agreement_id)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title.as_deref(), Some("User list"));
    let other: Vec<DocumentInfo> = client
        .list_documents("Company", agreement_id)
        .await
        .unwrap();
    assert!(
        other.is_empty(),
        "a document belongs to its record type too"
    );
    let download = client.download_document(info.id.unwrap()).await.unwrap();
    assert_eq!(download.bytes, csv);
    assert_eq!(download.file_name.as_deref(), Some("users.csv"));
    client.delete_document(info.id.unwrap()).await.unwrap();
    let listed: Vec<DocumentInfo> = client
        .list_documents("Agreement", agreement_id)
        .await
        .unwrap();
    assert!(listed.is_empty());
    // Uploading to an agreement that does not exist is a 400 naming recordId.
    let missing = UploadDocument {
        record_id: agreement_id + 100,
        ..upload
    };
    let error = client
        .upload_document::<DocumentInfo>(&missing)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert!(format!("{error}").contains("recordId"), "{error}");
}
