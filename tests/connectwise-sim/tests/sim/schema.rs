//! Every JSON response is checked against the facts schema of its endpoint.
use cwsync_connectwise_sim::{SimOptions, Simulator};
use serde_json::json;

use crate::common::{Api, empty_sim};

#[tokio::test]
async fn a_record_that_breaks_the_schema_turns_the_response_into_a_500() {
    let sim = empty_sim().await;
    sim.seed(
        "/company/companies",
        vec![json!({"identifier": "BAD", "name": 42, "city": "x"})],
    )
    .unwrap();
    let (status, body) = Api::new(&sim).get_json("/company/companies").await;
    assert_eq!(status, 500);
    assert_eq!(body["code"], "SimulatorSchemaViolation");
    let violations = sim.schema_violations();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].schema, "Company");
    assert!(
        violations[0].message.contains("name"),
        "{}",
        violations[0].message
    );
    let (status, _) = Api::new(&sim).get_json("/company/companies/1").await;
    assert_eq!(status, 500, "single records are checked too");
}

#[tokio::test]
async fn validation_can_be_turned_off() {
    let sim = Simulator::start(SimOptions {
        validate_responses: false,
        ..SimOptions::empty()
    })
    .await
    .unwrap();
    sim.seed(
        "/company/companies",
        vec![json!({"identifier": "BAD", "name": 42, "city": "x"})],
    )
    .unwrap();
    assert_eq!(Api::new(&sim).get_json("/company/companies").await.0, 200);
    assert!(sim.schema_violations().is_empty());
}

#[tokio::test]
async fn the_reference_data_conforms_to_the_schemas() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let api = Api::new(&sim);
    for path in [
        "/company/countries",
        "/company/states",
        "/company/companies/statuses",
        "/company/companies/types",
        "/finance/agreements/types",
        "/procurement/types",
        "/procurement/categories",
        "/procurement/subcategories",
        "/procurement/unitOfMeasures",
        "/system/members",
        "/company/communicationTypes",
        "/service/boards",
        "/service/boards/1/statuses",
        "/service/boards/1/types",
        "/service/priorities",
        "/finance/billingTerms",
        "/finance/billingCycles",
        "/finance/taxCodes",
        "/time/workTypes",
        "/time/workRoles",
        "/sales/opportunities/types",
        "/sales/opportunities/statuses",
        "/sales/stages",
        "/sales/orders/statuses",
    ] {
        let (status, body) = api.get_json(&format!("{path}?pageSize=1000")).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            !body.as_array().unwrap().is_empty(),
            "{path} has reference data"
        );
    }
    assert!(sim.schema_violations().is_empty());
}

#[tokio::test]
async fn a_time_entry_with_a_string_hourly_cost_is_accepted_as_real_ones_are() {
    let sim = empty_sim().await;
    sim.seed(
        "/time/entries",
        vec![json!({"timeStart": "2018-05-05T14:00:00Z", "hourlyCost": "25.00"})],
    )
    .unwrap();
    let (status, body) = Api::new(&sim).get_json("/time/entries").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["hourlyCost"], "25.00");
}
