//! The harness gives every AWS SDK client cwsync uses a working moto endpoint.

#[tokio::test]
async fn moto_answers_dynamodb_sqs_and_secrets_manager_through_the_real_sdks() {
    let Some(moto) = cwsync_aws_harness::moto() else {
        return;
    };
    let config = moto.sdk_config().await;

    let table = cwsync_aws_harness::unique_name("harness");
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tables = dynamodb.list_tables().send().await.unwrap();
    assert!(tables.table_names().contains(&table));

    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = sqs
        .create_queue()
        .queue_name(cwsync_aws_harness::unique_name("harness"))
        .send()
        .await
        .unwrap();
    assert!(queue.queue_url().is_some());

    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let name = cwsync_aws_harness::unique_name("harness");
    secrets
        .create_secret()
        .name(&name)
        .secret_string("{}")
        .send()
        .await
        .unwrap();
    let value = secrets
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(value.secret_string(), Some("{}"));
}
