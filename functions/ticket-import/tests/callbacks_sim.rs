//! Callbacks against the ConnectWise simulator over HTTP: `register-callbacks` creates the
//! tenant's ticket callback, repairs and de-duplicates what is there, and changes nothing the
//! second time; and, registered, the simulator's own signed deliveries of ticket changes reach
//! the receiver (behind a small HTTP front that plays the Function URL) and end in the sink.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use cwsync_connectwise::Client;
use cwsync_connectwise_sim::{
    SimOptions, Simulator, TEST_CLIENT_ID, TEST_COMPANY_ID, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY,
};
use cwsync_runtime::{Config, Deps, StaticTenantSecrets};
use cwsync_test_support::function_url::FunctionUrl;
use cwsync_ticket_import::callback::{MemoryTicketChangeSink, TicketAction, TicketRecordType};
use cwsync_ticket_import::callback_routes::{Callbacks, Routed};
use serde_json::{Value, json};

const TOKEN: &str = "cb-0123456789abcdefghijKLMN";

/// The simulator, a Function URL front on 127.0.0.1 serving the receiver, and the callback part
/// configured with that front's URL as `CALLBACK_URL`.
struct World {
    sim: Simulator,
    front: String,
    sink: Arc<MemoryTicketChangeSink>,
    callbacks: Arc<Callbacks>,
    cw: Client,
}

async fn world(with_token: bool) -> World {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let front = FunctionUrl::bind().await;
    let front_url = front.url().to_owned();
    let mut secret = json!({
        "site": sim.base_url(), "companyId": TEST_COMPANY_ID, "publicKey": TEST_PUBLIC_KEY,
        "privateKey": TEST_PRIVATE_KEY, "clientId": TEST_CLIENT_ID,
        "billingUrl": "http://127.0.0.1:9/", "billingApiKey": "billing-key",
    });
    if with_token {
        secret["callbackSecret"] = TOKEN.into();
    }
    let secrets = StaticTenantSecrets::new()
        .with_secret_json("acme", &secret.to_string())
        .unwrap();
    let mut config = Config::local();
    config.callback_url = Some(front_url.clone());
    let deps = Arc::new(Deps::local("ticket-import", config, secrets));
    let sink = Arc::new(MemoryTicketChangeSink::new());
    let callbacks = Arc::new(
        Callbacks::new(
            Arc::clone(&deps),
            sink.clone(),
            cwsync_test_support::fast_options(),
        )
        .unwrap(),
    );
    let receiver = Arc::clone(&callbacks);
    front.serve(move |payload| {
        let receiver = Arc::clone(&receiver);
        async move { receiver.receiver().handle_payload(payload).await }
    });
    let cw = cwsync_test_support::cw_client(&sim).await;
    World {
        sim,
        front: front_url,
        sink,
        callbacks,
        cw,
    }
}

async fn register(world: &World) -> Value {
    match world
        .callbacks
        .route(json!({"action": "register-callbacks", "tenant": "acme"}))
        .await
    {
        Routed::Answer(answer) => answer.unwrap(),
        Routed::NotOurs(payload) => panic!("not routed: {payload}"),
    }
}

fn callbacks_in_sim(world: &World) -> Vec<Value> {
    world.sim.records("/system/callbacks")
}

#[tokio::test]
async fn registering_creates_the_ticket_callback_once_and_a_second_run_writes_nothing() {
    let world = world(true).await;
    let first = register(&world).await;
    assert_eq!(first["writes"], 1, "{first}");
    assert_eq!(first["callbacks"][0]["outcome"], "created");
    assert_eq!(first["callbacks"][0]["type"], "ticket");
    let shown = first.to_string();
    assert!(!shown.contains(TOKEN), "the token is never shown: {shown}");
    assert!(shown.contains("callbacks/acme?token=***"), "{shown}");
    let stored = callbacks_in_sim(&world);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]["url"],
        format!("{}callbacks/acme?token={TOKEN}", world.front)
    );
    assert_eq!(
        (
            &stored[0]["type"],
            &stored[0]["level"],
            &stored[0]["objectId"]
        ),
        (&json!("ticket"), &json!("owner"), &json!(1))
    );

    let writes_before = world.sim.calls().writes;
    let second = register(&world).await;
    assert_eq!(second["writes"], 0, "{second}");
    assert_eq!(second["callbacks"][0]["outcome"], "unchanged");
    assert_eq!(world.sim.calls().writes, writes_before, "no write at all");
    assert_eq!(callbacks_in_sim(&world).len(), 1);
}

#[tokio::test]
async fn registering_repairs_an_inactive_callback_deletes_duplicates_and_leaves_others_alone() {
    let world = world(false).await;
    let ours = format!("{}callbacks/acme", world.front);
    let entry = |url: &str, kind: &str, inactive: bool| json!({"url": url, "objectId": 1, "type": kind, "level": "owner", "inactiveFlag": inactive});
    for body in [
        entry(&ours, "ticket", true),
        entry(&format!("{ours}?token=stale"), "ticket", false),
        entry(&ours, "ticket", true),
        entry(&format!("{}callbacks/globex", world.front), "ticket", false),
        entry("https://elsewhere.example.com/hook", "ticket", false),
        entry(&ours, "company", false),
    ] {
        let _: Value = world.cw.create("/system/callbacks", &body).await.unwrap();
    }
    let report = register(&world).await;
    let outcomes: Vec<(i64, String)> = report["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["id"].as_i64().unwrap(),
                line["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (1, "repaired".to_owned()),
            (2, "deleted".to_owned()),
            (3, "deleted".to_owned())
        ],
        "{report}"
    );
    assert_eq!(report["callbacks"][0]["fields"], json!(["inactiveFlag"]));
    assert_eq!(report["writes"], 3);
    let left: Vec<(i64, Value, Value)> = callbacks_in_sim(&world)
        .iter()
        .map(|c| {
            (
                c["id"].as_i64().unwrap(),
                c["url"].clone(),
                c["inactiveFlag"].clone(),
            )
        })
        .collect();
    assert_eq!(
        left.iter().map(|(id, ..)| *id).collect::<Vec<_>>(),
        vec![1, 4, 5, 6],
        "another tenant's, another host's and another type's callbacks are untouched"
    );
    assert_eq!(left[0].1, json!(ours));
    assert_eq!(left[0].2, json!(false));
    let again = register(&world).await;
    assert_eq!(again["writes"], 0, "{again}");
}

#[tokio::test]
async fn a_dry_run_reports_the_plan_and_writes_nothing() {
    let world = world(false).await;
    let report = match world
        .callbacks
        .route(json!({"action": "register-callbacks", "tenant": "acme", "dryRun": true}))
        .await
    {
        Routed::Answer(answer) => answer.unwrap(),
        Routed::NotOurs(_) => panic!("not routed"),
    };
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["callbacks"][0]["outcome"], "created");
    assert_eq!(report["writes"], 0);
    assert!(callbacks_in_sim(&world).is_empty());
}

#[tokio::test]
async fn a_malformed_or_foreign_event_is_refused_or_handed_back() {
    let world = world(false).await;
    match world
        .callbacks
        .route(json!({"action": "register-callbacks", "tenants": "acme"}))
        .await
    {
        Routed::Answer(Err(diagnostic)) => {
            assert_eq!(diagnostic.error_type, "InvalidEvent");
            assert!(
                diagnostic.error_message.contains("tenant"),
                "{}",
                diagnostic.error_message
            );
        }
        other => panic!("{other:?}"),
    }
    match world.callbacks.route(json!({"action": "health"})).await {
        Routed::NotOurs(payload) => assert_eq!(payload, json!({"action": "health"})),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn without_a_callback_url_registering_is_refused_naming_the_setting() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let secrets = StaticTenantSecrets::new()
        .with_secret_json(
            "acme",
            &json!({"site": sim.base_url(), "companyId": TEST_COMPANY_ID,
                    "publicKey": TEST_PUBLIC_KEY, "privateKey": TEST_PRIVATE_KEY,
                    "clientId": TEST_CLIENT_ID})
            .to_string(),
        )
        .unwrap();
    let deps = Arc::new(Deps::local("ticket-import", Config::local(), secrets));
    let callbacks = Callbacks::new(
        deps,
        Arc::new(MemoryTicketChangeSink::new()),
        cwsync_test_support::fast_options(),
    )
    .unwrap();
    let error = callbacks.register("acme", false).await.unwrap_err();
    assert_eq!(error.error_type, "NotConfigured");
    assert!(
        error.error_message.contains("CALLBACK_URL"),
        "{}",
        error.error_message
    );
    assert_eq!(sim.calls().total, 0);
}

/// Creates a company and a service ticket through the API (the simulator delivers `added`).
async fn create_ticket(cw: &Client) -> i64 {
    let company: Value = cw
        .create(
            "/company/companies",
            &json!({"identifier": "ACME", "name": "Acme", "city": "Tampa", "state": "FL",
                    "status": {"id": 1}, "site": {"name": "Main"}}),
        )
        .await
        .unwrap();
    let ticket: Value = cw
        .create(
            "/service/tickets",
            &json!({"summary": "Printer offline", "company": {"id": company["id"]}}),
        )
        .await
        .unwrap();
    ticket["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_simulators_signed_ticket_callbacks_reach_the_sink_through_the_registered_url() {
    for with_token in [false, true] {
        let world = world(with_token).await;
        register(&world).await;
        let ticket = create_ticket(&world.cw).await;
        let _: Value = world
            .cw
            .patch(
                &format!("/service/tickets/{ticket}"),
                &[cwsync_connectwise::PatchOp::replace(
                    "summary",
                    "Printer still offline",
                )],
            )
            .await
            .unwrap();
        let deliveries = world
            .sim
            .wait_for_callback_deliveries(2, Duration::from_secs(10))
            .await;
        let statuses: Vec<Option<u16>> = deliveries.iter().map(|d| d.status).collect();
        assert_eq!(
            statuses,
            vec![Some(204), Some(204)],
            "token {with_token}: {deliveries:?}"
        );
        let changes = world.sink.changes();
        assert_eq!(
            changes
                .iter()
                .map(|c| (c.ticket_id, c.record_type, c.action))
                .collect::<Vec<_>>(),
            vec![
                (ticket, TicketRecordType::Service, TicketAction::Added),
                (ticket, TicketRecordType::Service, TicketAction::Updated),
            ]
        );
        assert_eq!(
            world.callbacks.receiver().keys().fetches(),
            u64::from(!with_token)
        );
    }
}

fn event_file(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../infra/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_sample_events_are_what_the_callback_part_reads() {
    let world = world(false).await;
    let Routed::Answer(Ok(report)) = world
        .callbacks
        .route(event_file("register-callbacks-ticket-import.json"))
        .await
    else {
        panic!("the register-callbacks sample is not answered");
    };
    assert_eq!(report["tenant"], "acme");
    assert_eq!(report["writes"], 1);
    // The sample callback's key_url is on ConnectWise's cloud, not on this tenant's (simulated)
    // host: it is parsed, authenticated as far as that, and refused without a fetch.
    let Routed::Answer(Ok(response)) = world
        .callbacks
        .route(event_file("url-callback-ticket-import.json"))
        .await
    else {
        panic!("the Function URL sample is not answered");
    };
    assert_eq!(response["statusCode"], 403, "{response}");
    assert_eq!(world.callbacks.receiver().keys().fetches(), 0);
    assert!(world.sink.changes().is_empty());
}
