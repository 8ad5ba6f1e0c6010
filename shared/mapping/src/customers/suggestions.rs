//! Suggestions for unlinked accounts: existing companies ranked by how close their name is.
//!
//! Names are compared after normalising: lower case, punctuation as spaces, and common legal
//! suffixes (`Inc`, `LLC`, `Ltd`, `Co`, `Corp`, `GmbH`, …) dropped from the end, so "ACME, Inc."
//! and "Acme Corporation" are the same name. The similarity is the mean of Jaro-Winkler (good at
//! typos and shared prefixes) and Sørensen-Dice over letter pairs (good at reordered words, and
//! low for unrelated names, which Jaro-Winkler alone rates too high). A company whose identifier or
//! account number is the account code (ignoring case and punctuation) scores at least
//! [`CODE_MATCH_SCORE`].

use cwsync_billing::models::Account;
use cwsync_connectwise::models::Company;
use serde::Serialize;

/// One candidate company for an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// The company's id.
    pub company_id: i64,
    /// Its identifier.
    pub identifier: String,
    /// Its name.
    pub name: String,
    /// 0.0–1.0; 1.0 is the same name (ignoring case, punctuation and legal suffixes).
    pub score: f64,
}

/// The best `limit` companies for `account` by name similarity, best first, only those scoring
/// at least [`MIN_SCORE`].
///
/// Equal scores are ordered by company id. Companies without an id and deleted ones are skipped.
pub fn suggest_companies(
    account: &Account,
    companies: &[Company],
    limit: usize,
) -> Vec<Suggestion> {
    let wanted_name = normalise_name(&account.name);
    let wanted_code = normalise_code(&account.code);
    let mut suggestions: Vec<Suggestion> = companies
        .iter()
        .filter(|company| company.deleted_flag != Some(true))
        .filter_map(|company| {
            let company_id = company.id?;
            let name = company.name.as_deref().unwrap_or_default();
            let name_score = name_similarity(&wanted_name, &normalise_name(name));
            let code_matches = !wanted_code.is_empty()
                && [&company.identifier, &company.account_number]
                    .iter()
                    .any(|key| {
                        key.as_deref()
                            .is_some_and(|k| normalise_code(k) == wanted_code)
                    });
            let code_score = if code_matches { CODE_MATCH_SCORE } else { 0.0 };
            let score = name_score.max(code_score).clamp(0.0, 1.0);
            (score >= MIN_SCORE).then(|| Suggestion {
                company_id,
                identifier: company.identifier.clone().unwrap_or_default(),
                name: name.to_owned(),
                score,
            })
        })
        .collect();
    suggestions.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.company_id.cmp(&b.company_id))
    });
    suggestions.truncate(limit);
    suggestions
}

/// The lowest score worth suggesting.
pub const MIN_SCORE: f64 = 0.5;

/// The score of a company whose identifier or account number is the account code but whose name
/// differs: a strong hint, just short of the same name.
pub const CODE_MATCH_SCORE: f64 = 0.9;

/// Legal-form words dropped from the end of a name before comparing.
const LEGAL_SUFFIXES: [&str; 24] = [
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "co",
    "company",
    "corp",
    "corporation",
    "gmbh",
    "ag",
    "plc",
    "pty",
    "pllc",
    "sa",
    "sarl",
    "srl",
    "bv",
    "nv",
    "oy",
    "ab",
    "kg",
];

/// A name as compared: lower case, words of letters and digits, legal suffixes dropped (a name
/// that is nothing but a suffix keeps it).
fn normalise_name(name: &str) -> String {
    let lowered = name.to_lowercase();
    let mut words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// A code as compared: lower case letters and digits only.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// 0.0–1.0, 1.0 only for the same normalised name; 0.0 when either is empty.
fn name_similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let score = (strsim::jaro_winkler(a, b) + strsim::sorensen_dice(a, b)) / 2.0;
    // Different names never tie with the same name.
    score.min(0.999)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::fixtures::account;
    use super::*;

    fn company(id: i64, identifier: &str, name: &str) -> Company {
        Company {
            id: Some(id),
            identifier: Some(identifier.into()),
            name: Some(name.into()),
            ..Company::default()
        }
    }

    fn named(name: &str) -> Account {
        Account {
            name: name.into(),
            code: "ZZ-999".into(),
            ..account()
        }
    }

    #[test]
    fn the_same_name_up_to_case_punctuation_and_legal_suffix_scores_one() {
        let companies = [
            company(1, "AcmeInc", "ACME, Inc."),
            company(2, "AcmeLLC", "acme llc"),
        ];
        let found = suggest_companies(&named("Acme Corporation"), &companies, 5);
        assert_eq!(found.len(), 2);
        assert!(
            found.iter().all(|s| (s.score - 1.0).abs() < f64::EPSILON),
            "{found:?}"
        );
    }

    #[test]
    fn closer_names_rank_first() {
        let companies = [
            company(1, "NWT", "Northwind"),
            company(2, "NWTR", "Northwind Traders Ltd"),
            company(3, "NWTX", "Northwind Trading"),
            company(4, "GLOBEX", "Globex"),
        ];
        let ids: Vec<i64> = suggest_companies(&named("Northwind Traders"), &companies, 10)
            .iter()
            .map(|s| s.company_id)
            .collect();
        assert_eq!(ids, [2, 3, 1]);
    }

    #[test]
    fn unrelated_names_are_not_suggested() {
        let companies = [
            company(1, "GLOBEX", "Globex"),
            company(2, "INITECH", "Initech LLC"),
        ];
        assert!(suggest_companies(&named("Acme Corporation"), &companies, 5).is_empty());
    }

    #[test]
    fn a_company_whose_identifier_is_the_account_code_is_suggested() {
        let mut account = named("Completely Different Name");
        account.code = "C-1001".into();
        let mut by_number = company(2, "OTHER", "Something");
        by_number.account_number = Some("c1001".into());
        let found = suggest_companies(&account, &[company(1, "c-1001", "Old Name"), by_number], 5);
        let ids: Vec<i64> = found.iter().map(|s| s.company_id).collect();
        assert_eq!(ids, [1, 2]);
        assert!(found.iter().all(|s| s.score >= CODE_MATCH_SCORE));
    }

    #[test]
    fn equal_scores_are_ordered_by_id_and_the_limit_is_kept() {
        let companies = [
            company(9, "A9", "Acme"),
            company(3, "A3", "Acme"),
            company(5, "A5", "Acme"),
        ];
        let found = suggest_companies(&named("Acme"), &companies, 2);
        let ids: Vec<i64> = found.iter().map(|s| s.company_id).collect();
        assert_eq!(ids, [3, 5]);
        assert_eq!(found[0].identifier, "A3");
        assert_eq!(found[0].name, "Acme");
        assert!(suggest_companies(&named("Acme"), &companies, 0).is_empty());
    }

    #[test]
    fn deleted_companies_and_companies_without_an_id_are_not_suggested() {
        let mut deleted = company(1, "ACME1", "Acme");
        deleted.deleted_flag = Some(true);
        let mut no_id = company(2, "ACME2", "Acme");
        no_id.id = None;
        assert!(suggest_companies(&named("Acme"), &[deleted, no_id], 5).is_empty());
    }

    #[test]
    fn a_name_that_is_only_a_legal_suffix_is_kept() {
        assert_eq!(normalise_name("Co."), "co");
        assert_eq!(normalise_name("Smith & Co. Ltd"), "smith");
        assert_eq!(
            normalise_name("  The  Widget-Works, GmbH "),
            "the widget works"
        );
    }

    #[test]
    fn a_typo_is_still_suggested() {
        let found = suggest_companies(
            &named("Acme Widgets"),
            &[company(1, "AW", "Acme Widgest")],
            5,
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].score < 1.0);
    }

    proptest! {
        #[test]
        fn suggestions_score_in_range_best_first_and_at_most_the_limit(
            wanted in "[A-Za-z .,&]{0,20}",
            names in proptest::collection::vec("[A-Za-z .,&]{0,20}", 0..12),
            limit in 0usize..6,
        ) {
            let companies: Vec<Company> = names
                .iter()
                .zip(1..)
                .map(|(name, id)| company(id, &format!("C{id}"), name))
                .collect();
            let found = suggest_companies(&named(&wanted), &companies, limit);
            prop_assert!(found.len() <= limit);
            for s in &found {
                prop_assert!((MIN_SCORE..=1.0).contains(&s.score), "{}", s.score);
            }
            for pair in found.windows(2) {
                prop_assert!(
                    pair[0].score > pair[1].score
                        || (pair[0].score == pair[1].score && pair[0].company_id < pair[1].company_id)
                );
            }
        }
    }
}
