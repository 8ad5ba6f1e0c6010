//! Phone and fax numbers as billing systems hold them: the extension a user typed after the
//! number ("+1 (555) 010-0199 x23", "555-0199 ext. 23", "tel:+1-555-010-0199;ext=23") is split
//! off, so it is never read as more digits of the number (ConnectWise keeps digits only, and
//! "… x23" would become 1555010019923).
//!
//! Where the extension goes is the caller's: a contact's communication item has an `extension`
//! field; a company or a site has none, so there the number is sent without it and the record's
//! report says so.

/// The markers that introduce an extension, lower case. A marker must not end a word
/// (`fax 23` is no extension), and the number before it must hold a digit.
const MARKERS: [&str; 4] = ["extension", "ext", "x", "#"];

/// Characters between a marker and the extension's digits (`ext. 23`, `ext: 23`, `;ext=23`).
const AFTER_MARKER: [char; 4] = [' ', '.', ':', '='];

/// Characters between the number and a marker (`… 0199, ext 23`, `…0199;ext=23`).
const BEFORE_MARKER: [char; 5] = [' ', ',', ';', '-', '\t'];

/// A phone number and the extension typed after it, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneNumber<'a> {
    /// The number, trimmed, without the extension.
    pub number: &'a str,
    /// The extension's digits (`23`).
    pub extension: Option<&'a str>,
}

/// Splits `text` into the number and its extension. Recognised forms, in any case: `x23`,
/// `x 23`, `ext23`, `ext 23`, `ext. 23`, `ext: 23`, `extension 23`, `#23`, `;ext=23` (RFC 3966).
/// Anything else is a number without an extension, returned trimmed.
pub fn split_extension(text: &str) -> PhoneNumber<'_> {
    let whole = PhoneNumber {
        number: text.trim(),
        extension: None,
    };
    let trimmed = text.trim_end();
    let digits_start = trimmed.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let extension = &trimmed[digits_start..];
    if extension.is_empty() {
        return whole;
    }
    let before = trimmed[..digits_start].trim_end_matches(AFTER_MARKER);
    // ASCII lower-casing keeps every byte offset, so offsets in `lower` are offsets in `before`.
    let lower = before.to_ascii_lowercase();
    for marker in MARKERS {
        if !lower.ends_with(marker) {
            continue;
        }
        let number = &before[..before.len() - marker.len()];
        if number.chars().last().is_some_and(char::is_alphabetic) {
            continue;
        }
        let number = number.trim_end_matches(BEFORE_MARKER).trim();
        if number.chars().any(|c| c.is_ascii_digit()) {
            return PhoneNumber {
                number,
                extension: Some(extension),
            };
        }
    }
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> (&str, Option<&str>) {
        let found = split_extension(text);
        (found.number, found.extension)
    }

    #[test]
    fn the_common_forms_of_an_extension_are_split_off() {
        for text in [
            "+1 (555) 010-0199 x23",
            "+1 (555) 010-0199 X23",
            "+1 (555) 010-0199 x 23",
            "+1 (555) 010-0199 ext23",
            "+1 (555) 010-0199 ext 23",
            "+1 (555) 010-0199 ext. 23",
            "+1 (555) 010-0199 Ext: 23",
            "+1 (555) 010-0199 extension 23",
            "+1 (555) 010-0199 #23",
            "+1 (555) 010-0199, ext 23",
            "+1 (555) 010-0199;ext=23",
            "  +1 (555) 010-0199 x23  ",
        ] {
            assert_eq!(split(text), ("+1 (555) 010-0199", Some("23")), "{text:?}");
        }
        assert_eq!(
            split("tel:+1-555-010-0199;ext=4501"),
            ("tel:+1-555-010-0199", Some("4501"))
        );
        assert_eq!(split("5550100199x7"), ("5550100199", Some("7")));
    }

    #[test]
    fn a_number_without_an_extension_is_left_whole() {
        for text in [
            "+1 (555) 010-0199",
            " 602-555-0100 ",
            "6025550100",
            "n/a",
            "",
        ] {
            assert_eq!(split(text), (text.trim(), None), "{text:?}");
        }
    }

    #[test]
    fn a_marker_that_ends_a_word_or_has_no_number_before_it_is_no_extension() {
        assert_eq!(split("fax 23"), ("fax 23", None));
        assert_eq!(split("box 23"), ("box 23", None));
        assert_eq!(split("ext 23"), ("ext 23", None));
        assert_eq!(split("#23"), ("#23", None));
        assert_eq!(split("555-0199 x"), ("555-0199 x", None));
    }

    #[test]
    fn non_ascii_text_never_splits_inside_a_character() {
        assert_eq!(
            split("Tél. 555 0199 poste 23"),
            ("Tél. 555 0199 poste 23", None)
        );
        assert_eq!(split("☎ 555 0199 x23"), ("☎ 555 0199", Some("23")));
    }
}
