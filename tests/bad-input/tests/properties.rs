//! Property tests of every parser that takes outside input (issue 12 §2; `cargo fuzz` needs
//! nightly, which this project does not build with): the job message parser, each function's
//! console event parser, the billing record parser and the simulator's condition parser never
//! panic; their errors name the field; round trips hold where they should.
//!
//! The conditions builder against the simulator's parser (any value, operator and nesting reaches
//! the server unchanged) is `tests/integration/tests/it/condition_properties.rs`; here only the
//! parser's side that one can't reach: arbitrary text.
//!
//! Bounded for CI: a fixed number of cases per property and a fixed seed, so every run tries the
//! same inputs (`PROPTEST_CASES` still overrides the count for a longer local run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_billing::models::Account;
use cwsync_billing::{Listed, decode_one};
use cwsync_queue::{Job, JobKind};
use cwsync_sync::jobs::Invocation;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};
use serde_json::{Map, Value, json};

/// 256 cases (or `PROPTEST_CASES`), a fixed seed, no persistence file.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x000c_757e_5e12),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

/// Any JSON value: scalars of every kind (hostile strings among them), arrays and objects nested
/// a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        "[#/.\\\\\"'%()\\[\\] a-z\u{0}-\u{1f}]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value of some JSON type, to put where another type belongs.
fn replacement() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(17),
        json!(-1),
        json!("17"),
        json!(true),
        json!([1, "a"]),
        json!({"nested": {"id": 1}}),
        json!(1.5),
        Value::Null,
    ])
}

/// Whether `a` and `b` are of one JSON type (any two numbers count as one).
fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

// ---- the job message parser ----

fn job_strategy() -> impl Strategy<Value = Job> {
    (
        prop::sample::select(JobKind::ALL.to_vec()),
        "[A-Za-z0-9._-]{1,64}".prop_filter("not dots only", |t| !t.chars().all(|c| c == '.')),
        "[A-Za-z0-9._:-]{1,128}",
        any::<bool>(),
        json_value(),
    )
        .prop_map(|(kind, tenant, run_id, dry_run, payload)| {
            Job::new(kind, tenant, run_id, dry_run, payload).unwrap()
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_job_body_of_any_text_is_parsed_or_refused_never_a_panic(body in any::<String>()) {
        if let Err(e) = Job::parse(&body) {
            prop_assert!(!e.is_transient());
            prop_assert!(e.to_string().len() < 1024, "{} bytes: {}", e.to_string().len(), e);
        }
    }

    #[test]
    fn a_job_body_of_any_bytes_is_refused_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Job::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn a_job_of_any_json_is_parsed_or_refused_never_a_panic(value in json_value()) {
        let _ = Job::from_value(value);
    }

    #[test]
    fn a_valid_job_survives_its_body_and_keeps_its_key(job in job_strategy()) {
        let body = job.to_body().unwrap();
        let back = Job::parse(&body).unwrap();
        prop_assert_eq!(back.key(), job.key());
        prop_assert_eq!(back, job);
    }

    #[test]
    fn a_job_with_a_mistyped_field_is_refused_naming_it(
        job in job_strategy(),
        field in prop::sample::select(vec!["version", "kind", "tenant", "runId", "dryRun"]),
        replacement in replacement(),
    ) {
        let mut body: Map<String, Value> = serde_json::from_str(&job.to_body().unwrap()).unwrap();
        prop_assume!(!same_type(&body[field], &replacement));
        body.insert(field.to_owned(), replacement);
        let error = Job::from_value(Value::Object(body)).unwrap_err().to_string();
        prop_assert!(error.contains(field), "{} not named in: {}", field, error);
    }

    #[test]
    fn a_job_with_a_huge_tenant_or_run_id_is_refused_without_echoing_it(
        job in job_strategy(),
        field in prop::sample::select(vec!["tenant", "runId"]),
        size in 1_000_usize..200_000,
    ) {
        let mut body: Map<String, Value> = serde_json::from_str(&job.to_body().unwrap()).unwrap();
        body.insert(field.to_owned(), Value::String("x".repeat(size)));
        let error = Job::from_value(Value::Object(body)).unwrap_err().to_string();
        prop_assert!(error.contains(field), "{}", error);
        prop_assert!(error.len() < 1024, "a {}-byte error for a {}-byte {}", error.len(), size, field);
    }
}

// ---- each function's console event parser ----

fn parse_console(function: &'static str, payload: Value) -> Result<(), String> {
    let result = match function {
        "customer-sync" => {
            Invocation::<cwsync_customer_sync::Event>::parse(function, payload).map(|_| ())
        }
        "daily-export" => {
            Invocation::<cwsync_daily_export::console::Event>::parse(function, payload).map(|_| ())
        }
        _ => {
            Invocation::<cwsync_ticket_import::console::Event>::parse(function, payload).map(|_| ())
        }
    };
    result.map_err(|d| d.error_message)
}

/// The console test events of every function (`infra/events/`), with their function.
fn console_events() -> Vec<(&'static str, Value)> {
    cwsync_bad_input::FUNCTIONS
        .into_iter()
        .flat_map(|function| {
            cwsync_test_support::console_events(function)
                .into_iter()
                .map(move |(_, event)| (function, event))
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_console_event_of_any_json_is_parsed_or_refused_never_a_panic(
        function in prop::sample::select(cwsync_bad_input::FUNCTIONS.to_vec()),
        value in json_value(),
        action in prop::sample::select(vec!["health", "sync-tenant", "report", "export-now", "import-ticket", "put-settings", "errors"]),
    ) {
        let _ = parse_console(function, value.clone());
        // The same with a real action, so the parser gets past the tag.
        if let Value::Object(mut object) = value {
            object.insert("action".to_owned(), json!(action));
            let _ = parse_console(function, Value::Object(object));
        }
    }

    #[test]
    fn a_console_event_with_a_mistyped_field_is_refused_naming_it(
        event in prop::sample::select(console_events()),
        pick in any::<prop::sample::Index>(),
        replacement in replacement(),
    ) {
        let (function, event) = event;
        let Value::Object(mut object) = event else { panic!("{event}") };
        let fields: Vec<String> = object.keys().filter(|k| *k != "action").cloned().collect();
        prop_assume!(!fields.is_empty());
        let field = pick.get(&fields).clone();
        let original = object[&field].clone();
        prop_assume!(!same_type(&original, &replacement));
        // Settings are a free-form document checked later.
        prop_assume!(field != "settings");
        object.insert(field.clone(), replacement);
        if let Err(message) = parse_console(function, Value::Object(object)) {
            prop_assert!(message.contains(&field), "{}: `{}` not named in: {}", function, field, message);
        }
    }
}

// ---- the billing record parser ----

fn fixture_account() -> impl Strategy<Value = Account> {
    prop::sample::select(cwsync_billing_sim::fixture_accounts())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_billing_record_of_any_json_is_read_or_named_never_a_panic(value in json_value()) {
        if let Err(bad) = decode_one::<Account>(&value) {
            prop_assert!(bad.to_string().len() < 1024, "{}", bad);
        }
    }

    #[test]
    fn a_billing_account_survives_its_json(account in fixture_account()) {
        let value = serde_json::to_value(&account).unwrap();
        let back: Account = decode_one(&value).unwrap();
        prop_assert_eq!(back.id(), account.id());
        prop_assert_eq!(serde_json::to_value(&back).unwrap(), value);
    }

    #[test]
    fn a_billing_account_with_a_mistyped_field_is_named_by_its_id_and_field(
        account in fixture_account(),
        field in prop::sample::select(vec!["code", "name", "status", "type", "currency", "phone",
            "website", "syncToConnectWise", "onHold", "updatedAt", "billingAddress", "sites", "contacts"]),
        replacement in prop::sample::select(vec![json!(17), json!(true), json!([1]), json!({"a": 1}), json!("text")]),
    ) {
        let mut value = serde_json::to_value(&account).unwrap();
        let original = value.get(field).cloned().unwrap_or(Value::Null);
        prop_assume!(!same_type(&original, &replacement));
        prop_assume!(!(original.is_null() && replacement.is_string()));
        value[field] = replacement;
        match decode_one::<Account>(&value) {
            Ok(_) => prop_assert!(false, "{} = {} was read", field, value[field]),
            Err(bad) => {
                prop_assert_eq!(bad.id.as_deref(), Some(account.id()));
                let named = bad.field.clone().unwrap_or_default();
                prop_assert!(named.starts_with(field), "{} named {:?}: {}", field, named, bad);
            }
        }
    }
}

// ---- the simulator's condition parser (the server side of every condition we build) ----

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_simulators_condition_parser_refuses_any_text_never_a_panic(
        text in prop_oneof![
            any::<String>(),
            "[a-z/ =<>!'\"\\\\()\\[\\]%,0-9]{0,40}",
            "(identifier|name|id) (=|!=|like|in|contains) ('|\"|\\[|\\()[^)]{0,12}",
        ]
    ) {
        let _ = cwsync_connectwise_sim::query::conditions::parse(&text);
    }
}
