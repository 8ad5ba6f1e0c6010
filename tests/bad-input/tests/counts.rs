//! The corpus is as large as it says: every category holds at least the cases
//! `corpus/counts.json` claims for it, no category is unclaimed, every case file is valid JSON
//! with an `about` and a `function`, every raw sibling a case names exists, and there are at
//! least 200 cases in all (issue 12 §2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_bad_input::{FUNCTIONS, cases, claimed_counts, corpus_dir};

#[test]
fn every_category_holds_the_cases_it_claims_and_the_corpus_at_least_200() {
    let claimed = claimed_counts();
    let mut total = 0;
    for (category, claim) in &claimed {
        let found = cases(category);
        assert!(
            found.len() >= *claim,
            "corpus/{category}: {} cases, {claim} claimed",
            found.len()
        );
        for case in &found {
            assert!(case.json["about"].is_string(), "{}: no about", case.name);
            let function = case.json["function"].as_str().unwrap_or_default();
            assert!(
                FUNCTIONS.contains(&function),
                "{}: function {function:?}",
                case.name
            );
            if let Some(file) = case.json["bodyFile"].as_str() {
                assert!(!case.raw(file).is_empty(), "{}: {file} is empty", case.name);
            }
        }
        total += found.len();
    }
    assert!(total >= 200, "{total} cases in all");
    assert_eq!(
        claimed.values().sum::<usize>(),
        total,
        "counts.json is behind the corpus"
    );
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                claimed.contains_key(&name),
                "corpus/{name} is not in counts.json"
            );
        }
    }
}

#[test]
fn every_function_has_console_and_sqs_cases() {
    for category in ["console", "sqs"] {
        for function in FUNCTIONS {
            let n = cases(&format!("{category}/{function}")).len();
            assert!(n >= 30, "{category}/{function}: only {n} cases");
        }
    }
}
