//! Documents attached to records: multipart upload, listing by record, download with the file
//! name from `Content-Disposition`, and delete.
//!
//! Uploads are POSTs, so they follow the POST retry rules (never repeated once they may have
//! reached the server). Debug output shows sizes, never file contents.

use std::fmt;

use bytes::Bytes;
use percent_encoding::percent_decode_str;
use reqwest::Method;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::multipart::{Form, Part};
use serde::de::DeserializeOwned;

use crate::client::{Body, Call, Client, decode};
use crate::error::{CwError, CwResult};
use crate::query::Query;

const DOCUMENTS: &str = "/system/documents";

/// A file to attach to a record with `POST /system/documents`.
#[derive(Clone)]
pub struct UploadDocument {
    /// Record kind as ConnectWise names it, e.g. `Ticket`, `Company`, `Agreement`.
    pub record_type: String,
    /// Id of the record.
    pub record_id: i64,
    /// Title shown in ConnectWise.
    pub title: String,
    /// File name sent with the file part.
    pub file_name: String,
    /// MIME type of the file, e.g. `application/pdf`.
    pub content_type: String,
    /// The file.
    pub bytes: Bytes,
    /// Hide the document from the customer portal.
    pub private_flag: bool,
    /// Prevent edits in ConnectWise.
    pub read_only_flag: bool,
}

impl fmt::Debug for UploadDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadDocument")
            .field("record_type", &self.record_type)
            .field("record_id", &self.record_id)
            .field("title", &self.title)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .field("private_flag", &self.private_flag)
            .field("read_only_flag", &self.read_only_flag)
            .finish()
    }
}

impl UploadDocument {
    /// The multipart form; built anew for every attempt because a form is consumed by sending.
    pub(crate) fn form(&self) -> CwResult<Form> {
        let file = Part::stream_with_length(self.bytes.clone(), self.bytes.len() as u64)
            .file_name(self.file_name.clone())
            .mime_str(&self.content_type)
            .map_err(|_| CwError::Config {
                message: format!(
                    "content type {:?} of document {:?} is not a MIME type",
                    self.content_type, self.file_name
                ),
            })?;
        Ok(Form::new()
            .part("file", file)
            .text("recordType", self.record_type.clone())
            .text("recordId", self.record_id.to_string())
            .text("title", self.title.clone())
            .text("privateFlag", self.private_flag.to_string())
            // "readOnlyFlay" is the API's own spelling.
            .text("readOnlyFlay", self.read_only_flag.to_string())
            .text("isAvatar", "false"))
    }
}

/// A downloaded document.
#[derive(Clone)]
pub struct Download {
    /// File name from `Content-Disposition` (directory parts removed), if the server sent one.
    pub file_name: Option<String>,
    /// `Content-Type` of the response, if any.
    pub content_type: Option<String>,
    /// The file.
    pub bytes: Bytes,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Client {
    /// Uploads `document` (multipart `POST /system/documents`) and returns the DocumentInfo.
    pub async fn upload_document<T: DeserializeOwned>(
        &self,
        document: &UploadDocument,
    ) -> CwResult<T> {
        let url = self.url::<&str, &str>(DOCUMENTS, &[])?;
        let mut call = Call::new(Method::POST, DOCUMENTS, url);
        call.body = Body::Multipart(document);
        let response = self.execute(&call).await?;
        decode(&call, &response)
    }

    /// Every document attached to a record (`GET /system/documents?recordType=…&recordId=…`).
    pub async fn list_documents<T: DeserializeOwned>(
        &self,
        record_type: &str,
        record_id: i64,
    ) -> CwResult<Vec<T>> {
        let extra = [
            ("recordType", record_type.to_owned()),
            ("recordId", record_id.to_string()),
        ];
        self.list_all_with(DOCUMENTS, &Query::new(), &extra).await
    }

    /// Deletes document `id` (`DELETE /system/documents/{id}`), as a user list is replaced by
    /// the next day's; retried like any [`Client::delete`].
    pub async fn delete_document(&self, id: i64) -> CwResult<()> {
        self.delete(&format!("{DOCUMENTS}/{id}")).await
    }

    /// Downloads the file of document `id` (`GET /system/documents/{id}/download`).
    pub async fn download_document(&self, id: i64) -> CwResult<Download> {
        let path = format!("{DOCUMENTS}/{id}/download");
        let url = self.url::<&str, &str>(&path, &[])?;
        let call = Call::new(Method::GET, &path, url);
        let response = self.execute(&call).await?;
        let header = |name| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Download {
            file_name: header(CONTENT_DISPOSITION).and_then(|v| disposition_file_name(&v)),
            content_type: header(CONTENT_TYPE),
            bytes: response.body,
        })
    }
}

/// The file name of a `Content-Disposition` value: `filename*=UTF-8''…` (RFC 6266/8187) wins over
/// `filename="…"`. Directory parts are removed so the name is safe to join to a folder.
pub fn disposition_file_name(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for param in split_params(value) {
        let Some((key, raw)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let raw = raw.trim();
                // charset'language'percent-encoded-value
                let mut parts = raw.splitn(3, '\'');
                let (charset, _lang, encoded) = (parts.next(), parts.next(), parts.next());
                if let (Some(charset), Some(encoded)) = (charset, encoded) {
                    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
                    extended = if charset.eq_ignore_ascii_case("utf-8") {
                        String::from_utf8(bytes).ok()
                    } else {
                        // ISO-8859-1 maps byte for byte onto the first 256 code points.
                        Some(bytes.iter().map(|&b| char::from(b)).collect())
                    };
                }
            }
            "filename" => plain = Some(unquote(raw.trim())),
            _ => {}
        }
    }
    let name = extended.or(plain)?;
    let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).trim();
    (!base.is_empty() && base != "." && base != "..").then(|| base.to_owned())
}

/// Splits on `;` outside double quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

fn unquote(raw: &str) -> String {
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return raw.to_owned();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_file_names_are_read() {
        assert_eq!(
            disposition_file_name(r#"attachment; filename="Invoice 12; final.pdf""#).as_deref(),
            Some("Invoice 12; final.pdf")
        );
        assert_eq!(
            disposition_file_name(r#"attachment; filename="say \"hi\".txt""#).as_deref(),
            Some(r#"say "hi".txt"#)
        );
        assert_eq!(
            disposition_file_name("attachment; filename=plain.txt").as_deref(),
            Some("plain.txt")
        );
    }

    #[test]
    fn the_extended_utf8_name_wins() {
        let v = r#"attachment; filename="fallback.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf"#;
        assert_eq!(disposition_file_name(v).as_deref(), Some("Résumé.pdf"));
    }

    #[test]
    fn directory_parts_are_stripped() {
        assert_eq!(
            disposition_file_name(r#"attachment; filename="../../etc/passwd""#).as_deref(),
            Some("passwd")
        );
        assert_eq!(
            disposition_file_name(r#"attachment; filename="C:\\temp\\a.txt""#).as_deref(),
            Some("a.txt")
        );
        assert_eq!(disposition_file_name(r#"attachment; filename="..""#), None);
        assert_eq!(disposition_file_name("inline"), None);
    }

    #[test]
    fn upload_debug_shows_the_size_not_the_content() {
        let doc = UploadDocument {
            record_type: "Ticket".into(),
            record_id: 5,
            title: "t".into(),
            file_name: "f.txt".into(),
            content_type: "text/plain".into(),
            bytes: Bytes::from_static(b"SECRET CONTENT"),
            private_flag: true,
            read_only_flag: false,
        };
        let debug = format!("{doc:?}");
        assert!(!debug.contains("SECRET CONTENT"));
        assert!(debug.contains("len: 14"));
        assert!(doc.form().is_ok());
    }
}
