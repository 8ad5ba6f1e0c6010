//! The console events of `corpus/console/<function>/`: each fed to its function's entry (as the
//! Lambda runtime hands it over), in one world over the simulators. Each must end in the error
//! its case names (the message naming the field or the record), never a panic or a success.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cwsync_bad_input::{ExpectError, Generate, World, cases, check_error, no_panic, short};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsoleCase {
    #[allow(dead_code)]
    about: String,
    function: String,
    input: Value,
    #[serde(default)]
    generate: Vec<Generate>,
    expect: Expect,
}

/// An error naming the field, or (for input that is well-formed but names nothing the tenant
/// has) an answer that says so.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
enum Expect {
    Error(ExpectError),
    Answer { contains: Vec<String> },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_case_ends_in_its_error_naming_the_field() {
    let world = World::start().await;
    // A run of each function, so reports and page tokens have something to refuse against.
    world.sync_customers().await;
    for function in ["daily-export", "ticket-import"] {
        let (_, jobs) = world.plan(function).await;
        world.requeue(function, &jobs).await;
        assert!(world.deliver(function).await.is_empty());
    }
    let all = cases("console");
    assert!(!all.is_empty());
    let mut failed = Vec::new();
    for case in &all {
        let spec: ConsoleCase = case.parse();
        let mut input = spec.input.clone();
        for generate in &spec.generate {
            generate.apply(&mut input);
        }
        assert!(
            case.name
                .starts_with(&format!("console/{}/", spec.function)),
            "{}: filed under another function than {}",
            case.name,
            spec.function
        );
        match no_panic(Box::pin(world.call(&spec.function, input))).await {
            Err(panic) => failed.push(format!("{}: PANIC {panic}", case.name)),
            Ok(result) => match (&spec.expect, result) {
                (Expect::Error(expect), result) => {
                    if let Some(wrong) = check_error(&result, expect) {
                        failed.push(format!("{}: {wrong}", case.name));
                    }
                }
                (Expect::Answer { contains }, Ok(answer)) => {
                    let text = answer.to_string();
                    if let Some(word) = contains.iter().find(|w| !text.contains(w.as_str())) {
                        failed.push(format!(
                            "{}: answer lacks {word:?}: {}",
                            case.name,
                            short(&text)
                        ));
                    }
                }
                (Expect::Answer { .. }, Err(d)) => failed.push(format!(
                    "{}: expected an answer, got {}: {}",
                    case.name,
                    d.error_type,
                    short(&d.error_message)
                )),
            },
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} console cases failed:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
}
