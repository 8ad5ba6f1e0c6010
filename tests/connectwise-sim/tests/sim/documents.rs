//! Documents: multipart upload, listing by record, download; invoice PDFs.
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::{Api, company, sim};

fn upload_form(record_id: i64, bytes: &'static [u8]) -> Form {
    Form::new()
        .part(
            "file",
            Part::bytes(bytes)
                .file_name("notes.txt")
                .mime_str("text/plain")
                .unwrap(),
        )
        .text("recordType", "Company")
        .text("recordId", record_id.to_string())
        .text("title", "Meeting notes")
        .text("privateFlag", "false")
        .text("readOnlyFlay", "true")
        .text("isAvatar", "false")
}

#[tokio::test]
async fn an_uploaded_document_is_listed_for_its_record_and_downloads_its_bytes() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    api.send_json(
        Method::POST,
        "/company/companies",
        &company("OTHER", "Other"),
    )
    .await;
    let resp = api
        .req(Method::POST, "/system/documents")
        .multipart(upload_form(1, b"hello world"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let info: Value = resp.json().await.unwrap();
    assert_eq!(info["title"], "Meeting notes");
    assert_eq!(info["fileName"], "notes.txt");
    assert_eq!(info["size"], 11);
    assert_eq!(info["readOnlyFlag"], true);
    let id = info["id"].as_i64().unwrap();

    let (_, listed) = api
        .get_json("/system/documents?recordType=Company&recordId=1")
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, none) = api
        .get_json("/system/documents?recordType=Company&recordId=2")
        .await;
    assert_eq!(none, json!([]));

    let resp = api.get(&format!("/system/documents/{id}/download")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain");
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"notes.txt\""
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"hello world");

    assert_eq!(
        api.req(Method::DELETE, &format!("/system/documents/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        api.get(&format!("/system/documents/{id}/download"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn an_upload_without_a_file_or_for_a_missing_record_is_invalid() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let form = Form::new()
        .text("recordType", "Company")
        .text("recordId", "1");
    let resp = api
        .req(Method::POST, "/system/documents")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"file") && fields.contains(&"recordId"),
        "{body}"
    );
}

#[tokio::test]
async fn an_invoice_pdf_downloads_as_a_pdf_attachment() {
    let sim = sim().await;
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let (status, invoice) = api
        .send_json(
            Method::POST,
            "/finance/invoices",
            &json!({"type": "Standard", "company": {"id": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{invoice}");
    let resp = api
        .get(&format!("/finance/invoices/{}/pdf", invoice["id"]))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(resp.bytes().await.unwrap().starts_with(b"%PDF-"));
    assert_eq!(api.get("/finance/invoices/999/pdf").await.status(), 404);
}

#[tokio::test]
async fn an_upload_over_the_size_limit_is_refused() {
    use cwsync_connectwise_sim::{SimOptions, Simulator};
    let sim = Simulator::start(SimOptions {
        max_upload_bytes: 8,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sim);
    api.send_json(Method::POST, "/company/companies", &company("ACME", "Acme"))
        .await;
    let resp = api
        .req(Method::POST, "/system/documents")
        .multipart(upload_form(1, b"more than eight bytes"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "OutOfRange");
    assert_eq!(body["errors"][0]["field"], "file");
    assert!(sim.records("/system/documents").is_empty());
}
