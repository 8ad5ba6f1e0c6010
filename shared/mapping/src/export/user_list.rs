//! An account's user list: a CSV of its users and their enabled services, attached to its
//! agreement as a document. The same users give the same bytes (and fingerprint), so an unchanged
//! list is not uploaded again.
//!
//! RFC 4180: a header line, CRLF line ends, a field quoted when it holds a comma, a quote or a line
//! break (quotes doubled). Cells a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return) are neutralised with a leading `'` (OWASP's advice on CSV
//! injection): user names and services come from the billing system's users, not from the tenant.

use std::cmp::Ordering;

use cwsync_billing::models::AccountUser;

use crate::fingerprint::content_fingerprint;
use crate::settings::same_name;

/// The user list's header line (without its line end).
pub const USER_LIST_HEADER: &str = "Name,Email,Enabled,Services";

/// A user list as uploaded, and its fingerprint.
#[derive(Clone, PartialEq, Eq)]
pub struct UserListCsv {
    /// The file: UTF-8 CSV.
    pub content: Vec<u8>,
    /// SHA-256 of `content`, hex: equal lists have equal fingerprints.
    pub fingerprint: String,
}

// User names and e-mail addresses are personal data: the Debug form shows the size only.
impl std::fmt::Debug for UserListCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserListCsv")
            .field("bytes", &self.content.len())
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// The CSV of `users`: one row per user (name, e-mail, `Yes`/`No` enabled, enabled services
/// joined with `; `), in a fixed order whatever order the users come in: by name, then e-mail
/// (both in any case), then id. A user's services are trimmed, listed once (any case) and sorted.
pub fn user_list_csv(users: &[AccountUser]) -> UserListCsv {
    let mut sorted: Vec<&AccountUser> = users.iter().collect();
    sorted.sort_by(|a, b| {
        folded(&a.name, &b.name)
            .then_with(|| folded(email(a), email(b)))
            .then_with(|| a.id.cmp(&b.id))
    });
    // The `csv` crate quotes a field exactly when RFC 4180 requires it (a comma, a quote or a
    // line break; quotes doubled). Writing into memory cannot fail.
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header = USER_LIST_HEADER.split(',');
    let _ = writer.write_record(header);
    for user in sorted {
        let services = services(&user.services).join("; ");
        let cells = [
            user.name.trim(),
            email(user),
            if user.enabled { "Yes" } else { "No" },
            services.as_str(),
        ];
        let _ = writer.write_record(cells.map(neutralised));
    }
    let content = writer.into_inner().unwrap_or_default();
    let fingerprint = content_fingerprint(&content);
    UserListCsv {
        content,
        fingerprint,
    }
}

fn email(user: &AccountUser) -> &str {
    user.email.as_deref().map(str::trim).unwrap_or_default()
}

/// Case-insensitive order, ties broken by the exact text so the order is total.
fn folded(a: &str, b: &str) -> Ordering {
    a.trim()
        .to_lowercase()
        .cmp(&b.trim().to_lowercase())
        .then_with(|| a.cmp(b))
}

/// A user's services: trimmed, non-empty, each once (any case), sorted.
fn services(services: &[String]) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    for service in services.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !found.iter().any(|seen| same_name(seen, service)) {
            found.push(service);
        }
    }
    found.sort_by(|a, b| folded(a, b));
    found
}

/// A cell a spreadsheet would run as a formula, made plain text with a leading `'`.
fn neutralised(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    fn user(
        id: &str,
        name: &str,
        email: Option<&str>,
        enabled: bool,
        services: &[&str],
    ) -> AccountUser {
        AccountUser {
            id: id.into(),
            account_id: "A-1".into(),
            name: name.into(),
            email: email.map(str::to_owned),
            enabled,
            services: services.iter().map(|s| (*s).to_owned()).collect(),
            updated_at: datetime!(2026-11-02 10:00 UTC),
        }
    }

    fn text(users: &[AccountUser]) -> String {
        String::from_utf8(user_list_csv(users).content).unwrap()
    }

    #[test]
    fn the_list_has_a_header_and_one_crlf_row_per_user_in_name_order() {
        let users = [
            user("U-2", "bob Stone", Some("bob@acme.example"), false, &[]),
            user(
                "U-1",
                "Alice Ng",
                Some("alice@acme.example"),
                true,
                &["Teams", "Exchange Online"],
            ),
        ];
        assert_eq!(
            text(&users),
            "Name,Email,Enabled,Services\r\n\
             Alice Ng,alice@acme.example,Yes,Exchange Online; Teams\r\n\
             bob Stone,bob@acme.example,No,\r\n"
        );
    }

    #[test]
    fn the_same_users_in_any_order_give_the_same_bytes_and_fingerprint() {
        let a = user(
            "U-1",
            "Alice",
            Some("a@x.example"),
            true,
            &["Teams", "teams ", "Exchange"],
        );
        let b = user(
            "U-2",
            "Alice",
            Some("b@x.example"),
            true,
            &["Exchange", "Teams"],
        );
        let c = user("U-3", "Carol", None, true, &[]);
        let one = user_list_csv(&[a.clone(), b.clone(), c.clone()]);
        let other = user_list_csv(&[c, b, a.clone()]);
        assert_eq!(one, other);
        let mut changed = a;
        changed.services.push("Intune".into());
        assert_ne!(user_list_csv(&[changed]).fingerprint, one.fingerprint);
    }

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted_with_quotes_doubled() {
        let users = [user(
            "U-1",
            "Ng, Alice \"Al\"",
            Some("a@x.example"),
            true,
            &["A\nB"],
        )];
        assert_eq!(
            text(&users).lines().nth(1).unwrap(),
            "\"Ng, Alice \"\"Al\"\"\",a@x.example,Yes,\"A"
        );
        assert!(text(&users).ends_with("\"A\nB\"\r\n"));
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_neutralised() {
        let users = [
            user(
                "U-1",
                "=HYPERLINK(\"http://evil\")",
                Some("@evil"),
                true,
                &["+1", "-2"],
            ),
            user("U-2", "\tTab", Some("t@x.example"), true, &[]),
        ];
        let written = text(&users);
        let rows: Vec<&str> = written.split("\r\n").collect();
        assert_eq!(
            rows[1],
            "\"'=HYPERLINK(\"\"http://evil\"\")\",'@evil,Yes,'+1; -2"
        );
        // The name is trimmed first, so a leading tab is gone rather than neutralised.
        assert_eq!(rows[2], "Tab,t@x.example,Yes,");
        assert_eq!(neutralised("\rx"), "'\rx");
        assert_eq!(neutralised("-5"), "'-5");
        assert_eq!(neutralised("a=b"), "a=b");
        // A line break inside a cell is quoted, so the row stays one record.
        let broken = text(&[user("U-3", "a\rb", None, false, &[])]);
        assert_eq!(broken, "Name,Email,Enabled,Services\r\n\"a\rb\",,No,\r\n");
    }

    #[test]
    fn an_empty_account_has_the_header_only() {
        assert_eq!(text(&[]), "Name,Email,Enabled,Services\r\n");
    }

    #[test]
    fn the_debug_form_shows_no_personal_data() {
        let list = user_list_csv(&[user("U-1", "Alice", Some("alice@x.example"), true, &[])]);
        let debug = format!("{list:?}");
        assert!(!debug.contains("alice"), "{debug}");
        assert!(debug.contains(&list.fingerprint));
    }
}
