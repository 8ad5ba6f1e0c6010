//! Matching an unlinked account to the company that already exists for it, so nothing is
//! created twice.

use cwsync_connectwise::models::Company;

use crate::matching::{Candidate, KeyMatch, match_key};

/// What matching an account code found: [`KeyMatch::Unique`] when exactly one company's
/// identifier or account number equals the code, [`KeyMatch::Ambiguous`] when several do (nothing
/// may be created or linked), [`KeyMatch::NoMatch`] when none does (the company is created).
pub type CompanyMatch = KeyMatch;

/// Matches `code` against `candidates` by identifier or account number (trimmed, any case).
/// Candidates without an id, and deleted companies, are ignored.
pub fn match_company(code: &str, candidates: &[Company]) -> CompanyMatch {
    match_key(
        code,
        candidates.iter().map(|company| Candidate {
            id: company.id,
            deleted: company.deleted_flag == Some(true),
            keys: [
                company.identifier.as_deref(),
                company.account_number.as_deref(),
            ],
        }),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn company(id: Option<i64>, identifier: &str, account_number: Option<&str>) -> Company {
        Company {
            id,
            identifier: Some(identifier.into()),
            account_number: account_number.map(str::to_owned),
            deleted_flag: Some(false),
            ..Company::default()
        }
    }

    #[test]
    fn a_company_whose_identifier_is_the_code_matches() {
        let candidates = [
            company(Some(7), "ACME", None),
            company(Some(8), "Globex", None),
        ];
        assert_eq!(match_company("ACME", &candidates), CompanyMatch::Unique(7));
    }

    #[test]
    fn a_company_whose_account_number_is_the_code_matches() {
        let candidates = [company(Some(7), "Acme Inc", Some("C-1001"))];
        assert_eq!(
            match_company("C-1001", &candidates),
            CompanyMatch::Unique(7)
        );
    }

    #[test]
    fn matching_ignores_case_and_surrounding_spaces() {
        let candidates = [company(Some(7), " acme ", None)];
        assert_eq!(
            match_company("  ACME", &candidates),
            CompanyMatch::Unique(7)
        );
    }

    #[test]
    fn a_company_matching_on_both_fields_counts_once() {
        let candidates = [company(Some(7), "ACME", Some("acme"))];
        assert_eq!(match_company("ACME", &candidates), CompanyMatch::Unique(7));
    }

    #[test]
    fn the_same_company_listed_twice_counts_once() {
        let candidates = [
            company(Some(7), "ACME", None),
            company(Some(7), "ACME", None),
        ];
        assert_eq!(match_company("ACME", &candidates), CompanyMatch::Unique(7));
    }

    #[test]
    fn two_distinct_companies_are_ambiguous_with_their_ids_sorted() {
        let candidates = [
            company(Some(9), "ACME", None),
            company(Some(3), "Other", Some("ACME")),
            company(Some(5), "Globex", None),
        ];
        assert_eq!(
            match_company("acme", &candidates),
            CompanyMatch::Ambiguous(vec![3, 9])
        );
    }

    #[test]
    fn deleted_companies_and_companies_without_an_id_are_ignored() {
        let mut deleted = company(Some(9), "ACME", None);
        deleted.deleted_flag = Some(true);
        let candidates = [
            deleted,
            company(None, "ACME", None),
            company(Some(4), "ACME", None),
        ];
        assert_eq!(match_company("ACME", &candidates), CompanyMatch::Unique(4));
    }

    #[test]
    fn nothing_matches_an_unknown_or_empty_code() {
        let candidates = [company(Some(7), "ACME", Some(""))];
        assert_eq!(match_company("Globex", &candidates), CompanyMatch::NoMatch);
        assert_eq!(match_company("  ", &candidates), CompanyMatch::NoMatch);
        assert_eq!(match_company("ACM", &candidates), CompanyMatch::NoMatch);
    }

    /// `code` with each letter's case flipped where `flips` says so, and spaces around it.
    fn mangle(code: &str, flips: &[bool], left: usize, right: usize) -> String {
        let body: String = code
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, flip)| {
                if *flip {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        format!("{}{body}{}", " ".repeat(left), " ".repeat(right))
    }

    proptest! {
        #[test]
        fn matching_is_case_and_space_insensitive(
            code in "[A-Za-z0-9_-]{1,25}",
            flips in proptest::collection::vec(any::<bool>(), 1..8),
            left in 0usize..3,
            right in 0usize..3,
            by_account_number in any::<bool>(),
        ) {
            let stored = mangle(&code, &flips, left, right);
            let target = if by_account_number {
                company(Some(42), "SOMETHING-ELSE", Some(&stored))
            } else {
                company(Some(42), &stored, None)
            };
            let others = [company(Some(1), "zz-not-it", None), target];
            let asked = mangle(&code, &[true], right, left);
            prop_assert_eq!(match_company(&asked, &others), CompanyMatch::Unique(42));
        }
    }
}
