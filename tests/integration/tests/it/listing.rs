//! Listing: navigable and forward-only paging over thousands of records, counts, `in (...)`
//! look-ups split under the URL limit, and conditions, orderBy, fields, childConditions and
//! customFieldConditions evaluated by the simulator.

use std::collections::BTreeSet;

use cwsync_connectwise::models::{Company, Contact};
use cwsync_connectwise::{Condition, Direction, Query};
use serde_json::{Value, json};

use crate::support::{Front, client, config_at, connect, seed_companies, sim};

fn ids_of(companies: &[Company]) -> Vec<i64> {
    companies.iter().map(|c| c.id.unwrap()).collect()
}

#[tokio::test]
async fn listing_2600_companies_at_page_size_1000_returns_every_record_in_exactly_three_requests() {
    let sim = sim().await;
    let seeded = seed_companies(&sim, 2_600);
    let client = client(&sim).await;

    let companies: Vec<Company> = client
        .list_all("/company/companies", &Query::new().page_size(1000))
        .await
        .unwrap();

    let got: BTreeSet<i64> = ids_of(&companies).into_iter().collect();
    assert_eq!(companies.len(), 2_600, "no record twice");
    assert_eq!(got, seeded.iter().copied().collect::<BTreeSet<_>>());
    assert_eq!(sim.calls().count("GET", "/company/companies"), 3);
}

#[tokio::test]
async fn list_all_defaults_to_the_largest_page_size() {
    let sim = sim().await;
    seed_companies(&sim, 1_001);
    let client = client(&sim).await;

    let companies: Vec<Company> = client
        .list_all("/company/companies", &Query::new())
        .await
        .unwrap();

    assert_eq!(companies.len(), 1_001);
    assert_eq!(sim.calls().count("GET", "/company/companies"), 2);
}

#[tokio::test]
async fn forward_only_listing_returns_every_record_once_in_id_order() {
    let sim = sim().await;
    let seeded = seed_companies(&sim, 2_600);
    let client = client(&sim).await;

    let companies: Vec<Company> = client
        .list_forward_only("/company/companies", &Query::new().page_size(1000))
        .await
        .unwrap();

    let mut sorted = seeded.clone();
    sorted.sort_unstable();
    assert_eq!(ids_of(&companies), sorted);
    assert_eq!(sim.calls().count("GET", "/company/companies"), 3);
}

#[tokio::test]
async fn forward_only_listing_applies_conditions() {
    let sim = sim().await;
    seed_companies(&sim, 300);
    let client = client(&sim).await;

    let query = Query::new()
        .filter(Condition::field("city").eq("orlando"))
        .page_size(7);
    let companies: Vec<Company> = client
        .list_forward_only("/company/companies", &query)
        .await
        .unwrap();

    assert_eq!(companies.len(), 30, "every tenth company is in Orlando");
    assert!(
        companies
            .iter()
            .all(|c| c.city.as_deref() == Some("Orlando"))
    );
    assert!(ids_of(&companies).windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn count_applies_the_same_conditions_as_listing() {
    let sim = sim().await;
    seed_companies(&sim, 250);
    let client = client(&sim).await;
    let query = Query::new().filter(
        Condition::field("name")
            .like("Company 001%")
            .or(Condition::field("city").eq("Orlando")),
    );

    let count = client.count("/company/companies", &query).await.unwrap();
    let listed: Vec<Company> = client.list_all("/company/companies", &query).await.unwrap();

    // Names 00100-00199 match the pattern (100); Orlando adds the other multiples of ten up to
    // 250 (25, of which 10 are already in 100-199).
    assert_eq!(count, 115);
    assert_eq!(listed.len() as u64, count);
    assert_eq!(
        client
            .count("/company/companies", &Query::new())
            .await
            .unwrap(),
        250
    );
}

#[tokio::test]
async fn list_by_ids_over_1500_ids_returns_each_record_once_in_several_requests_within_the_url_limit()
 {
    let sim = sim().await;
    let seeded = seed_companies(&sim, 2_000);
    let front = Front::start(&sim, false).await;
    let client = connect(config_at(&front.base_url)).await;
    assert_eq!(client.max_url_len(), 2_000);
    // 1,500 existing ids (every id but the last 500), each asked for twice, plus ids that do not
    // exist.
    let wanted: Vec<i64> = seeded[..1_500].to_vec();
    let mut asked: Vec<i64> = wanted.iter().chain(wanted.iter()).copied().collect();
    asked.extend([900_001, 900_002]);

    let found: Vec<Company> = client
        .list_by_ids("/company/companies", "id", asked, &Query::new())
        .await
        .unwrap();

    let mut got = ids_of(&found);
    got.sort_unstable();
    let mut expected = wanted.clone();
    expected.sort_unstable();
    assert_eq!(got, expected, "every wanted record exactly once");
    let requests: Vec<String> = front
        .log
        .uris()
        .into_iter()
        .filter(|u| u.contains("/company/companies?"))
        .collect();
    assert!(
        requests.len() >= 5,
        "1,500 ids cannot fit one URL: {} requests",
        requests.len()
    );
    for uri in &requests {
        let url_len = front.base_url.len() + uri.len();
        assert!(url_len <= 2_000, "a {url_len}-character URL was sent");
    }
}

#[tokio::test]
async fn list_by_ids_combines_the_id_batches_with_the_callers_filter() {
    let sim = sim().await;
    let seeded = seed_companies(&sim, 40);
    let client = client(&sim).await;
    let query = Query::new().filter(Condition::field("city").eq("Orlando"));

    let found: Vec<Company> = client
        .list_by_ids("/company/companies", "id", seeded.clone(), &query)
        .await
        .unwrap();

    assert_eq!(found.len(), 4);
    let none: Vec<Company> = client
        .list_by_ids("/company/companies", "id", Vec::<i64>::new(), &query)
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(
        sim.calls().count("GET", "/company/companies"),
        1,
        "an empty id list sends no request"
    );
}

#[tokio::test]
async fn conditions_order_by_and_fields_shape_the_result() {
    let sim = sim().await;
    seed_companies(&sim, 60);
    let client = client(&sim).await;
    let query = Query::new()
        .filter(
            Condition::field("city")
                .eq("Tampa")
                .and(Condition::field("numberOfEmployees").ge(45))
                .and(!Condition::field("identifier").in_(["C00046", "C00047"])),
        )
        .order_by("name", Direction::Desc)
        .fields(["id", "name", "status/name"]);

    let rows: Vec<Value> = client.list_all("/company/companies", &query).await.unwrap();

    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Company 00049", "Company 00048", "Company 00045"],
        "filtered and ordered by name descending"
    );
    for row in &rows {
        let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["id", "name", "status"],
            "only the asked fields: {row}"
        );
        assert_eq!(row["status"], json!({"name": "Active"}));
    }
}

#[tokio::test]
async fn order_by_several_keys_sorts_by_each_in_turn() {
    let sim = sim().await;
    seed_companies(&sim, 30);
    let client = client(&sim).await;
    let query = Query::new()
        .order_by("city", Direction::Asc)
        .order_by("id", Direction::Desc)
        .fields(["id", "city"]);

    let rows: Vec<Value> = client.list_all("/company/companies", &query).await.unwrap();

    let cities: Vec<&str> = rows.iter().map(|r| r["city"].as_str().unwrap()).collect();
    assert_eq!(&cities[..3], ["Orlando"; 3]);
    assert!(cities[3..].iter().all(|c| *c == "Tampa"));
    let orlando: Vec<i64> = rows[..3]
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(orlando.windows(2).all(|w| w[0] > w[1]), "{orlando:?}");
}

#[tokio::test]
async fn child_conditions_find_contacts_by_a_communication_item_value() {
    let sim = sim().await;
    let contact = |first: &str, email: &str| {
        json!({
            "firstName": first,
            "lastName": "Tester",
            "communicationItems": [
                {"type": {"name": "Email"}, "value": email, "communicationType": "Email", "defaultFlag": true},
                {"type": {"name": "Direct"}, "value": "+1 555 0100", "communicationType": "Phone"}
            ]
        })
    };
    sim.seed(
        "/company/contacts",
        vec![
            contact("Ann", "ann@example.com"),
            contact("Bob", "bob@example.com"),
            contact("Cid", "cid@example.org"),
        ],
    )
    .unwrap();
    let client = client(&sim).await;

    let by_email = Query::new()
        .child_conditions(Condition::field("communicationItems/value").eq("BOB@example.com"));
    let found: Vec<Contact> = client
        .list_all("/company/contacts", &by_email)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].first_name.as_deref(), Some("Bob"));

    let by_domain = Query::new()
        .child_conditions(Condition::field("communicationItems/value").like("%@example.com"));
    let found: Vec<Contact> = client
        .list_all("/company/contacts", &by_domain)
        .await
        .unwrap();
    let mut names: Vec<String> = found.into_iter().filter_map(|c| c.first_name).collect();
    names.sort();
    assert_eq!(names, ["Ann", "Bob"]);
}

#[tokio::test]
async fn custom_field_conditions_match_a_custom_field_by_caption_and_value() {
    let sim = sim().await;
    let company = |identifier: &str, tier: &str| {
        json!({
            "identifier": identifier,
            "name": identifier,
            "city": "Tampa",
            "customFields": [
                {"id": 4, "caption": "Tier", "type": "Text", "entryMethod": "EntryField", "numberOfDecimals": 0, "value": tier},
                {"id": 5, "caption": "Region", "type": "Text", "entryMethod": "EntryField", "numberOfDecimals": 0, "value": "Gold"}
            ]
        })
    };
    sim.seed(
        "/company/companies",
        vec![
            company("A", "Gold"),
            company("B", "Silver"),
            company("C", "gold"),
        ],
    )
    .unwrap();
    let client = client(&sim).await;

    let query = Query::new().custom_field_conditions(
        Condition::field("caption")
            .eq("Tier")
            .and(Condition::field("value").eq("Gold")),
    );
    let found: Vec<Company> = client.list_all("/company/companies", &query).await.unwrap();

    let mut identifiers: Vec<String> = found.into_iter().filter_map(|c| c.identifier).collect();
    identifiers.sort();
    assert_eq!(
        identifiers,
        ["A", "C"],
        "text comparison is case-insensitive"
    );
}

#[tokio::test]
async fn a_page_can_be_read_on_its_own_with_its_navigation() {
    let sim = sim().await;
    seed_companies(&sim, 55);
    let client = client(&sim).await;

    let page = client
        .list_page::<Company>("/company/companies", &Query::new().page_size(20), 2)
        .await
        .unwrap();

    assert_eq!(page.items.len(), 20);
    assert_eq!(page.page, 2);
    assert_eq!(page.next_page, Some(3));
    assert_eq!(page.last_page, Some(3));
    let last = client
        .list_page::<Company>("/company/companies", &Query::new().page_size(20), 3)
        .await
        .unwrap();
    assert_eq!(last.items.len(), 15);
    assert_eq!(last.next_page, None);
}

#[tokio::test]
async fn a_page_size_above_1000_is_clamped_so_listing_still_takes_three_requests() {
    let sim = sim().await;
    seed_companies(&sim, 2_600);
    let client = client(&sim).await;

    let companies: Vec<Company> = client
        .list_all("/company/companies", &Query::new().page_size(5_000))
        .await
        .unwrap();

    assert_eq!(companies.len(), 2_600);
    assert_eq!(sim.calls().count("GET", "/company/companies"), 3);
}

#[tokio::test]
async fn numbers_decimals_booleans_dates_and_null_compare_as_typed_values() {
    let sim = sim().await;
    sim.seed(
        "/company/companies",
        vec![
            json!({"identifier": "A", "name": "A", "city": "Tampa", "annualRevenue": 1000.5,
                   "deletedFlag": false, "dateAcquired": "2020-01-15T00:00:00Z", "yearEstablished": 1999}),
            json!({"identifier": "B", "name": "B", "city": "Tampa", "annualRevenue": 999.99,
                   "deletedFlag": true, "dateAcquired": "2021-06-30T12:00:00Z", "yearEstablished": 2005}),
            json!({"identifier": "C", "name": "C", "city": "Tampa"}),
        ],
    )
    .unwrap();
    let client = client(&sim).await;
    let identifiers = |condition: Condition| {
        let client = client.clone();
        async move {
            let mut found: Vec<String> = client
                .list_all::<Company>("/company/companies", &Query::new().filter(condition))
                .await
                .unwrap()
                .into_iter()
                .filter_map(|c| c.identifier)
                .collect();
            found.sort();
            found
        }
    };

    let revenue = rust_decimal::Decimal::new(100_050, 2);
    assert_eq!(
        identifiers(Condition::field("annualRevenue").ge(revenue)).await,
        ["A"]
    );
    assert_eq!(
        identifiers(Condition::field("annualRevenue").lt(revenue)).await,
        ["B"]
    );
    assert_eq!(
        identifiers(Condition::field("deletedFlag").eq(true)).await,
        ["B"]
    );
    assert_eq!(
        identifiers(Condition::field("yearEstablished").gt(2000)).await,
        ["B"]
    );
    let acquired = time::macros::datetime!(2021-01-01 00:00:00 +02:00);
    assert_eq!(
        identifiers(Condition::field("dateAcquired").gt(acquired)).await,
        ["B"]
    );
    assert_eq!(
        identifiers(Condition::field("annualRevenue").is_null()).await,
        ["C"]
    );
    assert_eq!(
        identifiers(Condition::field("annualRevenue").is_not_null()).await,
        ["A", "B"]
    );
}

#[tokio::test]
async fn last_updated_conditions_pick_up_only_records_changed_since_the_last_sync() {
    let sim = sim().await;
    let client = client(&sim).await;
    sim.set_clock(time::macros::datetime!(2025-01-01 08:00:00 UTC));
    client
        .create::<_, Company>(
            "/company/companies",
            &crate::support::new_company("OLD", "Old"),
        )
        .await
        .unwrap();
    sim.set_clock(time::macros::datetime!(2025-01-02 08:00:00 UTC));
    client
        .create::<_, Company>(
            "/company/companies",
            &crate::support::new_company("NEW", "New"),
        )
        .await
        .unwrap();

    let since = time::macros::datetime!(2025-01-01 12:00:00 UTC);
    // django-connectwise writes `lastUpdated`, others `_info/lastUpdated`: both name the stamp.
    for field in ["lastUpdated", "_info/lastUpdated"] {
        let changed: Vec<Company> = client
            .list_all(
                "/company/companies",
                &Query::new().filter(Condition::try_field(field).unwrap().gt(since)),
            )
            .await
            .unwrap();

        let identifiers: Vec<String> = changed.into_iter().filter_map(|c| c.identifier).collect();
        assert_eq!(identifiers, ["NEW"], "{field} > [{since}]");
    }
}

#[tokio::test]
async fn a_single_record_can_be_read_with_only_some_fields() {
    let sim = sim().await;
    let ids = seed_companies(&sim, 1);
    let client = client(&sim).await;

    let row: Value = client
        .get_with(
            &format!("/company/companies/{}", ids[0]),
            &Query::new().fields(["identifier", "status/name"]),
        )
        .await
        .unwrap();

    assert_eq!(
        row,
        json!({"identifier": "C00001", "status": {"name": "Active"}})
    );
}

#[tokio::test]
async fn forward_only_listing_of_exactly_one_full_page_returns_each_record_once() {
    let sim = sim().await;
    let seeded = seed_companies(&sim, 1_000);
    let client = client(&sim).await;

    let companies: Vec<Company> = client
        .list_forward_only("/company/companies", &Query::new())
        .await
        .unwrap();

    assert_eq!(ids_of(&companies), seeded);
}

#[tokio::test]
async fn a_single_value_too_long_for_any_url_is_refused_before_sending() {
    let sim = sim().await;
    let client = client(&sim).await;

    let err = client
        .list_by_ids::<Company, _>(
            "/company/companies",
            "identifier",
            ["x".repeat(3_000)],
            &Query::new(),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            cwsync_connectwise::CwError::UrlTooLong { max: 2_000, .. }
        ),
        "{err:?}"
    );
    assert_eq!(sim.calls().count("GET", "/company/companies"), 0);
}
