//! Hostile text: names with quotes, backslashes, unicode, URL metacharacters and newlines are
//! created through the client and found again through conditions, over the real URL encoding.

use cwsync_connectwise::models::Company;
use cwsync_connectwise::{Client, Condition, Query};
use cwsync_connectwise_sim::Simulator;
use proptest::prelude::*;

use crate::support::{client, new_company, sim};

/// Each distinct from the others even ignoring case, since ConnectWise compares text
/// case-insensitively.
const HOSTILE_NAMES: &[&str] = &[
    "O'Brien & Sons",
    "Say \"hi\" to 'them'",
    r"back\slash",
    r"ends with a backslash\",
    r#"\" escaped quote"#,
    r"\\server\share",
    "Ünïcødé 名前 😀 Ωmega",
    "100% & more + #1",
    "a=b&c=d?e#f/g",
    "%27%22 already encoded",
    "line one\nline two",
    "tab\there\r\nCRLF",
    "' or 1=1 --",
    ") or (id > 0",
    "name = \"x\" and id != null",
    "[2015-12-23T05:53:27Z]",
    "  spaces  around  ",
    "NOT IN (1,2) LIKE CONTAINS",
    "plus+plus space",
    "semi;colon,comma",
];

async fn create_all(client: &Client) -> Vec<(String, i64)> {
    let mut created = Vec::new();
    for (i, name) in HOSTILE_NAMES.iter().enumerate() {
        let company: Company = client
            .create(
                "/company/companies",
                &new_company(&format!("H{i:02}"), name),
            )
            .await
            .unwrap_or_else(|e| panic!("creating {name:?}: {e}"));
        assert_eq!(company.name.as_deref(), Some(*name), "stored exactly");
        created.push(((*name).to_owned(), company.id.unwrap()));
    }
    created
}

async fn names_matching(client: &Client, condition: Condition) -> Vec<String> {
    let query = Query::new().filter(condition);
    let mut names: Vec<String> = client
        .list_all::<Company>("/company/companies", &query)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn every_hostile_name_is_found_again_by_equality_and_only_that_one() {
    let sim = sim().await;
    let client = client(&sim).await;
    let created = create_all(&client).await;

    for (name, id) in &created {
        let found: Vec<Company> = client
            .list_all(
                "/company/companies",
                &Query::new().filter(Condition::field("name").eq(name.as_str())),
            )
            .await
            .unwrap();
        let ids: Vec<i64> = found.iter().filter_map(|c| c.id).collect();
        assert_eq!(ids, [*id], "name = {name:?}");
        assert_eq!(found[0].name.as_deref(), Some(name.as_str()));
    }
}

#[tokio::test]
async fn every_hostile_name_is_excluded_by_not_equal_and_in_lists_find_several() {
    let sim = sim().await;
    let client = client(&sim).await;
    let created = create_all(&client).await;

    let (first, _) = &created[1];
    let others = names_matching(&client, Condition::field("name").ne(first.as_str())).await;
    assert_eq!(others.len(), created.len() - 1);
    assert!(!others.contains(first));

    let picked = [
        HOSTILE_NAMES[0],
        HOSTILE_NAMES[4],
        HOSTILE_NAMES[10],
        HOSTILE_NAMES[13],
        HOSTILE_NAMES[19],
    ];
    let found = names_matching(&client, Condition::field("name").in_(picked)).await;
    let mut expected: Vec<String> = picked.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn contains_and_like_with_hostile_text_match_exactly_the_names_that_hold_it() {
    let sim = sim().await;
    let client = client(&sim).await;
    create_all(&client).await;
    let holding = |needle: &str| {
        let needle = needle.to_lowercase();
        let mut names: Vec<String> = HOSTILE_NAMES
            .iter()
            .filter(|n| n.to_lowercase().contains(&needle))
            .map(|n| (*n).to_owned())
            .collect();
        names.sort();
        names
    };

    for needle in [
        "\"hi\"",
        "\\",
        "'",
        "😀",
        "名前",
        "% &",
        "+",
        "#",
        "\n",
        "=",
        "(",
        "ünïcødé",
    ] {
        let found = names_matching(&client, Condition::field("name").contains(needle)).await;
        assert_eq!(found, holding(needle), "contains {needle:?}");
        assert!(!found.is_empty(), "{needle:?} is in some name");
    }

    let found = names_matching(&client, Condition::field("name").like("o'b%")).await;
    assert_eq!(found, ["O'Brien & Sons"]);
    let found = names_matching(&client, Condition::field("name").like("%\"hi\"%")).await;
    assert_eq!(found, ["Say \"hi\" to 'them'"]);
    let found = names_matching(&client, Condition::field("name").like(r"\%")).await;
    assert_eq!(found, [r#"\" escaped quote"#, r"\\server\share"]);
    let found = names_matching(&client, Condition::field("name").like("%\\")).await;
    assert_eq!(found, [r"ends with a backslash\"]);
    let found = names_matching(&client, Condition::field("name").not_like("%e%")).await;
    let mut expected: Vec<String> = HOSTILE_NAMES
        .iter()
        .filter(|n| !n.to_lowercase().contains('e'))
        .map(|n| (*n).to_owned())
        .collect();
    expected.sort();
    assert_eq!(found, expected);
}

/// Names for the HTTP property: printable text from anywhere in Unicode plus the characters that
/// break URLs, JSON and condition strings.
fn name_strategy() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '"', '\'', '\\', '%', '&', '+', '#', '?', '=', '/', '\n', '\t', ' ', '(', ')', ',', '[',
        ']',
    ]);
    let char_strategy = prop_oneof![
        3 => any::<char>().prop_filter("printable", |c| !c.is_control()),
        2 => special,
        2 => prop::char::range('a', 'z'),
    ];
    prop::collection::vec(char_strategy, 1..25)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        // A blank name is a missing name to ConnectWise (see the validation tests).
        .prop_filter("a name has a visible character", |name| {
            !name.trim().is_empty()
        })
}

#[test]
fn any_name_is_created_and_found_again_by_equality_through_the_real_url_encoding() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sim, client): (Simulator, Client) = runtime.block_on(async {
        let sim = sim().await;
        let client = client(&sim).await;
        (sim, client)
    });
    let case = std::cell::Cell::new(0_u32);
    proptest!(ProptestConfig::with_cases(24), |(name in name_strategy())| {
        case.set(case.get() + 1);
        let identifier = format!("P{}", case.get());
        let found: Vec<Company> = runtime.block_on(async {
            // A fresh store per case: equality is case-insensitive, so an earlier case's name
            // could match this one.
            sim.reset().unwrap();
            client
                .create::<_, Company>("/company/companies", &new_company(&identifier, &name))
                .await
                .unwrap_or_else(|e| panic!("creating {name:?}: {e}"));
            client
                .list_all(
                    "/company/companies",
                    &Query::new().filter(Condition::field("name").eq(name.as_str())),
                )
                .await
                .unwrap()
        });
        prop_assert_eq!(found.len(), 1, "name = {:?}", name);
        prop_assert_eq!(found[0].name.as_deref(), Some(name.as_str()));
        prop_assert_eq!(found[0].identifier.as_deref(), Some(identifier.as_str()));
    });
    drop(client);
    runtime.block_on(sim.shutdown());
}

#[tokio::test]
async fn list_by_ids_over_hostile_identifiers_finds_each_once_within_the_url_limit() {
    let sim = sim().await;
    // Multi-byte and escaped characters make every identifier's encoded length different.
    let identifiers: Vec<String> = (0..600)
        .map(|i| match i % 4 {
            0 => format!("Ü-{i}-名前"),
            1 => format!("q\"{i}'\\"),
            2 => format!("%{i}&+#?="),
            _ => format!("plain {i}, (x)"),
        })
        .collect();
    let records = identifiers
        .iter()
        .map(|id| serde_json::json!({"identifier": id, "name": id, "city": "Tampa"}))
        .collect();
    sim.seed("/company/companies", records).unwrap();
    let front = crate::support::Front::start(&sim, false).await;
    let client = crate::support::connect(crate::support::config_at(&front.base_url)).await;
    // A long filter, an order and fields make the fixed part of every URL bigger.
    let query = Query::new()
        .filter(
            Condition::field("city")
                .eq("Tampa")
                .and(Condition::field("name").ne("x".repeat(300))),
        )
        .order_by("name", cwsync_connectwise::Direction::Asc)
        .fields(["id", "identifier"]);

    let found: Vec<Company> = client
        .list_by_ids(
            "/company/companies",
            "identifier",
            identifiers.clone(),
            &query,
        )
        .await
        .unwrap();

    let mut got: Vec<String> = found.into_iter().filter_map(|c| c.identifier).collect();
    got.sort();
    let mut expected = identifiers;
    expected.sort();
    assert_eq!(got, expected);
    let requests: Vec<String> = front
        .log
        .uris()
        .into_iter()
        .filter(|u| u.contains("/company/companies?"))
        .collect();
    assert!(requests.len() >= 5, "{} requests", requests.len());
    for uri in requests {
        let url_len = front.base_url.len() + uri.len();
        assert!(url_len <= 2_000, "a {url_len}-character URL was sent");
    }
}
