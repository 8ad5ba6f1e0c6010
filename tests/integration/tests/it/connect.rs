//! Connecting: codebase lookup, the `v4_6_release/` fallback, bad credentials, and that no key or
//! Basic header ever shows up in `Debug` output or error messages.

use std::time::Duration;

use base64::Engine;
use cwsync_connectwise::models::Company;
use cwsync_connectwise::{Client, Condition, CwError, DEFAULT_CODEBASE, Query, RetryPolicy};
use cwsync_connectwise_sim::{
    ApiMember, FaultKind, FaultRule, RateLimit, SimOptions, TEST_COMPANY_ID, TEST_PUBLIC_KEY,
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;

use crate::support::{
    Front, client, config, config_at, connect, new_company, seed_companies, sim, sim_with,
};

#[tokio::test]
async fn connecting_looks_up_the_simulators_codebase_and_uses_it() {
    let sim = sim().await;
    seed_companies(&sim, 3);
    let client = client(&sim).await;

    assert_eq!(client.codebase(), cwsync_connectwise_sim::DEFAULT_CODEBASE);
    assert_eq!(client.api_base().as_str(), format!("{}/", sim.api_base()));
    let companies: Vec<Company> = client
        .list_all("/company/companies", &Query::new())
        .await
        .unwrap();
    assert_eq!(companies.len(), 3);
    assert_eq!(
        sim.calls().count("GET", "/login/companyinfo/{company}"),
        1,
        "the codebase is looked up once, at connect"
    );
}

#[tokio::test]
async fn an_unknown_company_falls_back_to_the_v4_6_release_alias_and_still_works() {
    let sim = sim().await;
    seed_companies(&sim, 2);
    // The front answers the lookup with `null`, as ConnectWise does for a company it does not
    // know, while the keys still authenticate: only the fallback can make the calls work.
    let front = Front::start(&sim, true).await;
    let client = connect(config_at(&front.base_url)).await;

    assert_eq!(client.codebase(), DEFAULT_CODEBASE);
    assert_eq!(DEFAULT_CODEBASE, "v4_6_release/");
    let companies: Vec<Company> = client
        .list_all("/company/companies", &Query::new())
        .await
        .unwrap();
    assert_eq!(companies.len(), 2);
    assert!(
        front
            .log
            .uris()
            .iter()
            .any(|u| u.starts_with("/v4_6_release/apis/3.0/company/companies")),
        "the calls went to the alias: {:?}",
        front.log.uris()
    );
}

#[tokio::test]
async fn a_company_id_the_server_does_not_know_connects_with_the_alias_and_is_refused_as_unauthorized()
 {
    let sim = sim().await;
    let mut config = config(&sim);
    config.company_id = "nosuchcompany".to_owned();
    let client = connect(config).await;

    assert_eq!(client.codebase(), "v4_6_release/");
    let err = client
        .count("/company/companies", &Query::new())
        .await
        .unwrap_err();
    assert!(matches!(err, CwError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn wrong_keys_are_reported_as_unauthorized_without_retrying() {
    let sim = sim().await;
    for (public, private) in [
        (TEST_PUBLIC_KEY, "not-the-private-key"),
        (
            "not-the-public-key",
            cwsync_connectwise_sim::TEST_PRIVATE_KEY,
        ),
    ] {
        let mut config = config(&sim);
        config.public_key = SecretString::from(public);
        config.private_key = SecretString::from(private);
        let client = connect(config).await;
        let err = client
            .list_all::<Value>("/company/companies", &Query::new())
            .await
            .unwrap_err();
        assert!(matches!(err, CwError::Unauthorized { .. }), "{err:?}");
        assert!(!err.is_transient());
        assert_eq!(err.status(), Some(401));
        assert_eq!(client.stats().requests, 1, "a 401 is never retried");
    }
}

const SECRET_PRIVATE_KEY: &str = "Pr1v4te-K3y-Th4t-Must-N3ver-Leak";

#[tokio::test]
async fn no_debug_output_or_error_message_reveals_the_private_key_or_the_basic_header() {
    let member = ApiMember {
        private_key: SECRET_PRIVATE_KEY.to_owned(),
        ..ApiMember::test_member()
    }
    .deny(Method::DELETE, "/company/companies/{id}");
    let sim = sim_with(SimOptions {
        members: vec![member],
        ..SimOptions::default()
    })
    .await;
    let mut config = config(&sim);
    config.private_key = SecretString::from(SECRET_PRIVATE_KEY);
    config.retry = RetryPolicy {
        max_attempts: 2,
        ..crate::support::fast_retry()
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{TEST_COMPANY_ID}+{TEST_PUBLIC_KEY}:{SECRET_PRIVATE_KEY}"
    ));
    let forbidden_texts = [SECRET_PRIVATE_KEY, basic.as_str(), "Basic "];
    let client = connect(config.clone()).await;
    let acme: Company = client
        .create("/company/companies", &new_company("ACME", "Acme"))
        .await
        .unwrap();
    let acme_path = format!("/company/companies/{}", acme.id.unwrap());

    let mut errors: Vec<CwError> = Vec::new();
    // 401 with the secret key sent under a wrong public key.
    let mut wrong = config.clone();
    wrong.public_key = SecretString::from("wrong-public");
    let wrong = Client::connect(wrong).await.unwrap();
    errors.push(wrong.get::<Value>(&acme_path).await.unwrap_err());
    // 403, 404, 400 (condition, validation, duplicate).
    errors.push(client.delete(&acme_path).await.unwrap_err());
    errors.push(
        client
            .get::<Value>("/company/companies/999999")
            .await
            .unwrap_err(),
    );
    let keyword_path = Condition::try_field("not").unwrap().eq(1);
    errors.push(
        client
            .list_all::<Value>("/company/companies", &Query::new().filter(keyword_path))
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .create::<_, Value>("/company/companies", &Company::default())
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .create::<_, Value>("/company/companies", &new_company("ACME", "Again"))
            .await
            .unwrap_err(),
    );
    // 429 after giving up, 503 after giving up, an ambiguous POST, a timeout.
    sim.set_rate_limit(Some(
        RateLimit::new(0, Duration::from_secs(60)).retry_after(0),
    ));
    errors.push(client.get::<Value>(&acme_path).await.unwrap_err());
    sim.set_rate_limit(None);
    sim.inject(FaultRule::new(FaultKind::Status(503)).on("GET", "/company/companies/{id}"));
    errors.push(client.get::<Value>(&acme_path).await.unwrap_err());
    sim.clear_faults();
    sim.inject(FaultRule::new(FaultKind::Status(502)).on("POST", "/company/companies"));
    errors.push(
        client
            .create::<_, Value>("/company/companies", &new_company("NEW", "New"))
            .await
            .unwrap_err(),
    );
    sim.clear_faults();
    sim.inject(FaultRule::new(FaultKind::Hang { millis: 1_000 }).on("GET", "/company/companies"));
    let mut hasty = config.clone();
    hasty.timeout = Duration::from_millis(300);
    let hasty = Client::connect(hasty).await.unwrap();
    errors.push(
        hasty
            .list_all::<Value>("/company/companies", &Query::new())
            .await
            .unwrap_err(),
    );
    sim.clear_faults();
    // A body of the wrong shape.
    errors.push(client.get::<Vec<Value>>(&acme_path).await.unwrap_err());

    let kinds: Vec<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split([' ', '{'])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    for expected in [
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "BadRequest",
        "Validation",
        "AlreadyExists",
        "Throttled",
        "Transient",
        "Ambiguous",
        "Decode",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} was produced: {kinds:?}"
        );
    }
    let mut texts = vec![
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{wrong:?}"),
        format!("{hasty:?}"),
    ];
    for error in &errors {
        texts.push(error.to_string());
        texts.push(format!("{error:?}"));
    }
    for text in &texts {
        for secret in forbidden_texts {
            assert!(!text.contains(secret), "{secret:?} leaked into {text:?}");
        }
    }
}
