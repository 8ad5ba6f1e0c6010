//! Reading collections: single pages, every page (navigable or forward-only), counts, and
//! `in (...)` look-ups split so that every request URL stays under `max_url_len`.
//!
//! The client always builds page URLs itself and reads only the page number or `pageId` out of
//! the server's `Link` header: real servers may put an internal host name in those links, and our
//! own URLs have a length we control.

use std::collections::HashSet;

use reqwest::Method;
use reqwest::header::LINK;
use serde::de::DeserializeOwned;

use crate::client::{Call, Client, Response, decode};
use crate::conditions::{Condition, FieldPath, Value};
use crate::error::{CwError, CwResult};
use crate::query::{Query, encoded_len};

/// One page of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// This page's number (from 1).
    pub page: u32,
    /// The page size that was requested.
    pub page_size: u32,
    /// The next page, from `Link: rel="next"`; without a `Link` header, `page + 1` when this page
    /// is full.
    pub next_page: Option<u32>,
    /// The last page, from `Link: rel="last"`, when the server sent it.
    pub last_page: Option<u32>,
}

/// Where a list request starts.
#[derive(Debug, Clone, Copy)]
enum Position {
    Page(u32),
    /// Forward-only paging: records with `id > pageId` (none for the first page).
    After(Option<i64>),
}

/// `(rel, target)` pairs of a `Link` header (RFC 8288); targets may contain commas.
pub(crate) fn parse_link_header(value: &str) -> Vec<(String, String)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let target = &after[..end];
        rest = &after[end + 1..];
        // The link's parameters run to the next comma outside quotes.
        let mut in_quotes = false;
        let mut cut = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    cut = i;
                    break;
                }
                _ => {}
            }
        }
        for param in rest[..cut].split(';') {
            let Some((key, val)) = param.split_once('=') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("rel") {
                for rel in val.trim().trim_matches('"').split_whitespace() {
                    links.push((rel.to_ascii_lowercase(), target.to_owned()));
                }
            }
        }
        rest = &rest[cut..];
    }
    links
}

/// The parsed `Link` header of a response (empty when there is none).
struct Links(Vec<(String, String)>);

impl Links {
    fn of(response: &Response) -> Self {
        let joined: Vec<&str> = response
            .headers
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Self(parse_link_header(&joined.join(",")))
    }

    fn target(&self, rel: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(r, _)| r == rel)
            .map(|(_, t)| t.as_str())
    }
}

impl Client {
    /// A query parameter of a link target (absolute, or relative to the API base).
    fn link_param(&self, target: &str, name: &str) -> Option<String> {
        let url = self.api_base().join(target).ok()?;
        url.query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    }

    fn link_page(&self, links: &Links, rel: &str) -> Option<u32> {
        let target = links.target(rel)?;
        self.link_param(target, "page")?.parse().ok()
    }

    fn list_params(
        query: &Query,
        extra: &[(&'static str, String)],
        position: Position,
        page_size: u32,
    ) -> Vec<(&'static str, String)> {
        let mut params = extra.to_vec();
        params.extend(query.shape_params());
        match position {
            Position::Page(page) => params.push(("page", page.to_string())),
            Position::After(Some(id)) => params.push(("pageId", id.to_string())),
            Position::After(None) => {}
        }
        params.push(("pageSize", page_size.to_string()));
        params
    }

    /// Page `page` (from 1) of `path`. The page size is `query.page_size`, default 1000.
    pub async fn list_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        page: u32,
    ) -> CwResult<Page<T>> {
        self.fetch_page(path, query, &[], page.max(1)).await
    }

    async fn fetch_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        extra: &[(&'static str, String)],
        page: u32,
    ) -> CwResult<Page<T>> {
        let page_size = query.effective_page_size();
        let params = Self::list_params(query, extra, Position::Page(page), page_size);
        let call = Call::new(Method::GET, path, self.url(path, &params)?);
        let response = self.execute(&call).await?;
        let items: Vec<T> = decode(&call, &response)?;
        let links = Links::of(&response);
        let full = items.len() >= page_size as usize;
        let next_page = if links.0.is_empty() {
            full.then_some(page.saturating_add(1))
        } else if links.target("next").is_some() {
            // A next link without a readable page number still means "there is more".
            Some(
                self.link_page(&links, "next")
                    .unwrap_or(page.saturating_add(1)),
            )
        } else {
            None
        };
        Ok(Page {
            items,
            page,
            page_size,
            next_page,
            last_page: self.link_page(&links, "last"),
        })
    }

    /// Every record of `path` matching `query`, page by page (`pageSize` default 1000).
    ///
    /// Follows `Link: rel="next"`; without a `Link` header, stops at the first page with fewer
    /// rows than the page size.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
    ) -> CwResult<Vec<T>> {
        self.list_all_with(path, query, &[]).await
    }

    /// [`Client::list_all`] with endpoint-specific parameters (e.g. `recordType`).
    pub(crate) async fn list_all_with<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        extra: &[(&'static str, String)],
    ) -> CwResult<Vec<T>> {
        let mut all = Vec::new();
        if query.matches_nothing() {
            return Ok(all);
        }
        self.collect_pages(path, query, extra, 1, &mut all).await?;
        Ok(all)
    }

    async fn collect_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        extra: &[(&'static str, String)],
        first_page: u32,
        all: &mut Vec<T>,
    ) -> CwResult<()> {
        let mut page = first_page;
        loop {
            let current = self.fetch_page::<T>(path, query, extra, page).await?;
            let empty = current.items.is_empty();
            all.extend(current.items);
            match current.next_page {
                None => return Ok(()),
                // A server that keeps advertising pages past the data must not loop us forever.
                Some(_) if empty => return Ok(()),
                Some(next) if next > page => page = next,
                Some(next) => {
                    return Err(CwError::Unexpected {
                        method: Method::GET,
                        path: path.to_owned(),
                        status: 200,
                        excerpt: format!(
                            "Link rel=\"next\" points back to page {next} from page {page}"
                        ),
                    });
                }
            }
        }
    }

    /// Every record of `path` matching `query` with forward-only (keyset) paging: sends
    /// `pagination-type: forward-only` and follows the `pageId` of each `Link: rel="next"` until a
    /// response has none. Results come in id order.
    ///
    /// If the server ignores the header (its links carry `page=` instead of `pageId=`, or a full
    /// first page arrives without any `Link`), paging continues by page number.
    pub async fn list_forward_only<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
    ) -> CwResult<Vec<T>> {
        let mut all = Vec::new();
        if query.matches_nothing() {
            return Ok(all);
        }
        let page_size = query.effective_page_size();
        let mut after: Option<i64> = None;
        loop {
            let params = Self::list_params(query, &[], Position::After(after), page_size);
            let mut call = Call::new(Method::GET, path, self.url(path, &params)?);
            call.forward_only = true;
            let response = self.execute(&call).await?;
            let items: Vec<T> = decode(&call, &response)?;
            let count = items.len();
            all.extend(items);
            let links = Links::of(&response);
            let Some(next) = links.target("next") else {
                if after.is_none() && links.0.is_empty() && count >= page_size as usize {
                    tracing::warn!(
                        path,
                        "no Link header on a full forward-only page; continuing by page number"
                    );
                    self.collect_pages(path, query, &[], 2, &mut all).await?;
                }
                return Ok(all);
            };
            if let Some(id) = self
                .link_param(next, "pageId")
                .and_then(|v| v.parse::<i64>().ok())
            {
                if after.is_some_and(|previous| id <= previous) {
                    return Err(CwError::Unexpected {
                        method: Method::GET,
                        path: path.to_owned(),
                        status: response.status.as_u16(),
                        excerpt: format!("forward-only Link goes back to pageId {id}"),
                    });
                }
                after = Some(id);
            } else if let Some(page) = self.link_page(&links, "next") {
                tracing::warn!(
                    path,
                    "server ignored forward-only paging; continuing by page number"
                );
                self.collect_pages(path, query, &[], page, &mut all).await?;
                return Ok(all);
            } else {
                return Err(CwError::Unexpected {
                    method: Method::GET,
                    path: path.to_owned(),
                    status: response.status.as_u16(),
                    excerpt: "forward-only Link rel=\"next\" has neither pageId nor page"
                        .to_owned(),
                });
            }
        }
    }

    /// `GET {path}/count` with the query's filters.
    pub async fn count(&self, path: &str, query: &Query) -> CwResult<u64> {
        #[derive(serde::Deserialize)]
        struct Count {
            count: u64,
        }
        if query.matches_nothing() {
            return Ok(0);
        }
        let count_path = format!("{}/count", path.trim_end_matches('/'));
        let call = Call::new(
            Method::GET,
            &count_path,
            self.url(&count_path, &query.filter_params())?,
        );
        let response = self.execute(&call).await?;
        decode::<Count>(&call, &response).map(|c| c.count)
    }

    /// Every record of `path` whose `field` is one of `values` (and that matches `query`).
    ///
    /// The `field in (...)` list is split so that every request URL, fully percent-encoded and
    /// with any page number, stays within `max_url_len`; each batch is read with
    /// [`Client::list_all`]. Duplicate values are sent once. An empty `values` sends no request
    /// and returns an empty list. A single value too long to fit gives [`CwError::UrlTooLong`].
    pub async fn list_by_ids<T, V>(
        &self,
        path: &str,
        field: &'static str,
        values: impl IntoIterator<Item = V>,
        query: &Query,
    ) -> CwResult<Vec<T>>
    where
        T: DeserializeOwned,
        V: Into<Value>,
    {
        let field = FieldPath::from_static(field);
        let mut all = Vec::new();
        for batch in self.plan_in_batches(path, &field, values, query)? {
            let batch_query = query
                .clone()
                .and_filter(Condition::path(field.clone()).in_(batch));
            all.extend(self.list_all::<T>(path, &batch_query).await?);
        }
        Ok(all)
    }

    /// Splits `values` into `in (...)` lists whose request URLs fit `max_url_len`.
    ///
    /// Percent-encoding works character by character, so a URL's length is a fixed part plus, per
    /// value, its encoded length and an encoded comma; the fixed part is measured on a real URL
    /// built with the largest possible page number.
    pub(crate) fn plan_in_batches<V: Into<Value>>(
        &self,
        path: &str,
        field: &FieldPath,
        values: impl IntoIterator<Item = V>,
        query: &Query,
    ) -> CwResult<Vec<Vec<Value>>> {
        let mut seen = HashSet::new();
        let values: Vec<(Value, usize)> = values
            .into_iter()
            .map(Into::into)
            .filter_map(|v: Value| {
                let text = v.to_string();
                let cost = encoded_len(&text);
                seen.insert(text).then_some((v, cost))
            })
            .collect();
        let Some((first, first_cost)) = values.first() else {
            return Ok(Vec::new());
        };
        if query.matches_nothing() {
            return Ok(Vec::new());
        }
        let probe = query
            .clone()
            .and_filter(Condition::path(field.clone()).in_([first.clone()]));
        let params = Self::list_params(
            &probe,
            &[],
            Position::Page(u32::MAX),
            probe.effective_page_size(),
        );
        let fixed = self
            .url(path, &params)?
            .as_str()
            .len()
            .saturating_sub(*first_cost);
        let comma = encoded_len(",");
        let max = self.max_url_len();
        let too_long = |cost: usize| CwError::UrlTooLong {
            path: path.to_owned(),
            length: fixed + cost,
            max,
        };
        let mut batches = Vec::new();
        let mut batch: Vec<Value> = Vec::new();
        let mut len = fixed;
        for (value, cost) in values {
            let added = if batch.is_empty() { cost } else { comma + cost };
            if len + added <= max {
                len += added;
                batch.push(value);
                continue;
            }
            if fixed + cost > max {
                return Err(too_long(cost));
            }
            batches.push(std::mem::take(&mut batch));
            len = fixed + cost;
            batch.push(value);
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        Ok(batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientConfig, Site};
    use secrecy::SecretString;

    fn client(max_url_len: usize) -> Client {
        let mut cfg = ClientConfig::new(
            Site::parse("na").unwrap(),
            "acme",
            SecretString::from("p"),
            SecretString::from("q"),
            "c",
        );
        cfg.codebase = Some("v2025_1/".into());
        cfg.max_url_len = max_url_len;
        Client::new(cfg).unwrap()
    }

    #[test]
    fn link_headers_yield_every_rel_even_with_commas_in_urls() {
        let header = r#"<https://h/x?conditions=id in (1,2)&page=2>; rel="next", <https://h/x?page=9>; rel="last""#;
        assert_eq!(
            parse_link_header(header),
            vec![
                (
                    "next".to_owned(),
                    "https://h/x?conditions=id in (1,2)&page=2".to_owned()
                ),
                ("last".to_owned(), "https://h/x?page=9".to_owned()),
            ]
        );
        assert!(parse_link_header("").is_empty());
    }

    #[test]
    fn link_page_numbers_come_from_absolute_or_relative_targets() {
        let c = client(2000);
        assert_eq!(
            c.link_param(
                "https://internal-host/v2025_1/apis/3.0/x?pageSize=10&page=3",
                "page"
            )
            .as_deref(),
            Some("3")
        );
        assert_eq!(c.link_param("x?pageId=77", "pageid").as_deref(), Some("77"));
    }

    /// Builds the URL of a real batch exactly as `list_all` would for its worst page number.
    fn batch_url(c: &Client, batch: &[Value], query: &Query) -> String {
        let q = query
            .clone()
            .and_filter(Condition::field("id").in_(batch.to_vec()));
        let params =
            Client::list_params(&q, &[], Position::Page(u32::MAX), q.effective_page_size());
        c.url("/company/companies", &params).unwrap().to_string()
    }

    #[test]
    fn batches_fill_urls_up_to_the_limit_and_never_past_it() {
        let c = client(400);
        let query = Query::new().filter(Condition::field("deletedFlag").eq(false));
        let ids: Vec<i64> = (1_000..1_300).collect();
        let batches = c
            .plan_in_batches(
                "/company/companies",
                &FieldPath::from_static("id"),
                ids.clone(),
                &query,
            )
            .unwrap();
        assert!(batches.len() > 1);
        let sent: Vec<Value> = batches.iter().flatten().cloned().collect();
        assert_eq!(
            sent,
            ids.iter().map(|&i| Value::from(i)).collect::<Vec<_>>()
        );
        for (i, batch) in batches.iter().enumerate() {
            let len = batch_url(&c, batch, &query).len();
            assert!(len <= 400, "batch {i} URL is {len} long");
            if i + 1 < batches.len() {
                // Greedy: one more value would not have fit.
                let mut bigger = batch.clone();
                bigger.push(batches[i + 1][0].clone());
                assert!(batch_url(&c, &bigger, &query).len() > 400);
            }
        }
    }

    #[test]
    fn string_values_are_measured_percent_encoded() {
        let c = client(300);
        let names = ["Müller & Söhne", "a+b", "\"quoted\"", "100%", "plain"];
        let batches = c
            .plan_in_batches(
                "/company/companies",
                &FieldPath::from_static("name"),
                names,
                &Query::new(),
            )
            .unwrap();
        for batch in &batches {
            let q = Query::new().and_filter(Condition::field("name").in_(batch.clone()));
            let params = Client::list_params(&q, &[], Position::Page(u32::MAX), 1000);
            let len = c.url("/company/companies", &params).unwrap().as_str().len();
            assert!(len <= 300, "{len}");
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), names.len());
    }

    #[test]
    fn duplicates_are_sent_once_and_empty_lists_send_nothing() {
        let c = client(2000);
        let id = FieldPath::from_static("id");
        let batches = c
            .plan_in_batches("/x", &id, [1, 2, 2, 1, 3], &Query::new())
            .unwrap();
        assert_eq!(
            batches,
            vec![vec![Value::Int(1), Value::Int(2), Value::Int(3)]]
        );
        assert!(
            c.plan_in_batches("/x", &id, Vec::<i64>::new(), &Query::new())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_value_that_can_never_fit_is_an_error() {
        let c = client(150);
        let long = "x".repeat(200);
        let result = c.plan_in_batches(
            "/company/companies",
            &FieldPath::from_static("name"),
            [long],
            &Query::new(),
        );
        assert!(matches!(result, Err(CwError::UrlTooLong { max: 150, .. })));
    }
}
