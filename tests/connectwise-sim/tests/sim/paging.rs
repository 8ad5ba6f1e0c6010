//! Navigable (page/Link) and forward-only (pageId) paging.
use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{Api, empty_sim, link, links, seed_companies};

#[tokio::test]
async fn following_next_links_visits_all_2500_records_once_in_pages_of_1000() {
    let sim = empty_sim().await;
    seed_companies(&sim, 2500);
    let api = Api::new(&sim);
    let mut url = format!("{}/company/companies?pageSize=1000&page=1", sim.api_base());
    let mut seen = BTreeSet::new();
    let mut sizes = Vec::new();
    let mut pages = 0;
    loop {
        let resp = api.get(&url).await;
        assert_eq!(resp.status(), 200);
        let l = links(&resp);
        let body: Value = resp.json().await.unwrap();
        let rows = body.as_array().unwrap();
        sizes.push(rows.len());
        for r in rows {
            assert!(
                seen.insert(r["id"].as_i64().unwrap()),
                "a record was returned twice"
            );
        }
        pages += 1;
        if pages == 1 {
            assert!(link(&l, "first").is_none() && link(&l, "prev").is_none());
            assert!(link(&l, "last").unwrap().ends_with("pageSize=1000&page=3"));
        }
        match link(&l, "next") {
            Some(next) => {
                assert!(
                    next.starts_with("http://127.0.0.1:"),
                    "links are absolute: {next}"
                );
                url = next.to_string();
            }
            None => {
                assert!(link(&l, "prev").unwrap().ends_with("page=2"));
                assert!(link(&l, "first").unwrap().ends_with("page=1"));
                break;
            }
        }
    }
    assert_eq!(sizes, vec![1000, 1000, 500]);
    assert_eq!(seen.len(), 2500);
}

#[tokio::test]
async fn page_size_defaults_to_25_and_is_clamped_to_1000() {
    let sim = empty_sim().await;
    seed_companies(&sim, 1100);
    let api = Api::new(&sim);
    let (_, body) = api.get_json("/company/companies").await;
    assert_eq!(body.as_array().unwrap().len(), 25);
    let (_, body) = api.get_json("/company/companies?pageSize=5000").await;
    assert_eq!(body.as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn invalid_paging_parameters_get_400() {
    let sim = empty_sim().await;
    let api = Api::new(&sim);
    for q in ["page=0", "page=abc", "pageSize=0", "pageSize=-5"] {
        let (status, body) = api.get_json(&format!("/company/companies?{q}")).await;
        assert_eq!(status, 400, "{q}");
        assert!(body["code"].is_string() && body["message"].is_string());
    }
}

#[tokio::test]
async fn a_single_page_has_no_link_header() {
    let sim = empty_sim().await;
    seed_companies(&sim, 3);
    let resp = Api::new(&sim).get("/company/companies").await;
    assert!(resp.headers().get("link").is_none());
}

#[tokio::test]
async fn links_keep_the_other_query_parameters_as_sent() {
    let sim = empty_sim().await;
    seed_companies(&sim, 30);
    let resp = Api::new(&sim)
        .get("/company/companies?conditions=id%3E0&orderBy=id%20asc&pageSize=10")
        .await;
    let l = links(&resp);
    assert!(
        link(&l, "next")
            .unwrap()
            .ends_with("/company/companies?conditions=id%3E0&orderBy=id%20asc&pageSize=10&page=2")
    );
}

#[tokio::test]
async fn forward_only_paging_follows_page_id_until_the_link_disappears() {
    let sim = empty_sim().await;
    seed_companies(&sim, 2500);
    let api = Api::new(&sim);
    let mut url = format!("{}/company/companies?pageSize=1000", sim.api_base());
    let mut all = Vec::new();
    let mut page_ids = Vec::new();
    loop {
        let resp = api
            .req(reqwest::Method::GET, &url)
            .header("pagination-type", "forward-only")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let l = links(&resp);
        let body: Value = resp.json().await.unwrap();
        all.extend(
            body.as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap()),
        );
        match link(&l, "next") {
            Some(next) => {
                page_ids.push(next.rsplit("pageId=").next().unwrap().to_string());
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(page_ids, vec!["1000", "2000"]);
    assert_eq!(all, (1..=2500).collect::<Vec<i64>>());
}
