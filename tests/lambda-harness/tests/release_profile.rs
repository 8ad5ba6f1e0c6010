//! The release profile the deployed binaries are built with (`cargo lambda build --release`, see
//! `infra/template.yaml`) keeps what the functions rely on. Sizes and start times are the
//! benches' (`tests/benches/benches/cold_start.rs`); this checks settings only.

use std::collections::BTreeMap;

/// The `key = value` lines of the workspace manifest's `[profile.release]` table.
fn release_profile() -> BTreeMap<String, String> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    let mut in_release = false;
    let mut settings = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_release = line == "[profile.release]";
        } else if in_release && let Some((key, value)) = line.split_once('=') {
            settings.insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    settings
}

#[test]
fn release_binaries_unwind_on_panic_so_a_panicking_record_fails_alone() {
    // `cwsync_queue::consumer` catches a panic per SQS record (`catch_unwind`) and reports only
    // that record as failed; with `panic = "abort"` the whole instance would die and every record
    // of its batch would be delivered again, towards the DLQ.
    let profile = release_profile();
    assert!(
        !profile.is_empty(),
        "no [profile.release] in the workspace manifest"
    );
    assert_ne!(
        profile.get("panic").map(String::as_str),
        Some("\"abort\""),
        "{profile:?}"
    );
}

#[test]
fn release_binaries_are_stripped_built_as_one_unit_and_optimised_for_size() {
    // The sizes the cold-start bench reports, and the figures in docs/BENCHMARKS.md, are for
    // binaries built so: stripped, fat LTO, one codegen unit, opt-level "s".
    let profile = release_profile();
    assert_eq!(profile.get("strip").map(String::as_str), Some("true"));
    assert_eq!(profile.get("lto").map(String::as_str), Some("true"));
    assert_eq!(profile.get("codegen-units").map(String::as_str), Some("1"));
    assert_eq!(profile.get("opt-level").map(String::as_str), Some("\"s\""));
}
