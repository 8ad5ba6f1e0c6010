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

/// `moto_atomic_server.py` saves only the items a transaction names instead of deep-copying the
/// whole table: a cancelled transaction must still leave every item it named as it was (an
/// updated one, a new one, one deleted), and one naming an item twice is refused the same way.
#[tokio::test]
async fn a_cancelled_transaction_leaves_every_item_it_named_as_it_was() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
        KeyType, Put, ScalarAttributeType, TransactWriteItem, Update,
    };
    use std::collections::HashMap;
    let Some(moto) = cwsync_aws_harness::moto() else {
        return;
    };
    let config = moto.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = cwsync_aws_harness::unique_name("rollback");
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key_part = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key_part("pk", KeyType::Hash))
        .key_schema(key_part("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let key = |pk: &str| HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s("1"))]);
    let item = |pk: &str, n: &str| {
        let mut item = key(pk);
        item.insert("n".to_owned(), AttributeValue::N(n.to_owned()));
        item
    };
    for pk in ["kept", "deleted"] {
        dynamodb
            .put_item()
            .table_name(&table)
            .set_item(Some(item(pk, "1")))
            .send()
            .await
            .unwrap();
    }
    let update = |pk: &str| {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&table)
                    .set_key(Some(key(pk)))
                    .update_expression("SET n = :two")
                    .expression_attribute_values(":two", AttributeValue::N("2".to_owned()))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let put_new = TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(&table)
                .set_item(Some(item("new", "1")))
                .build()
                .unwrap(),
        )
        .build();
    let delete = TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(&table)
                .set_key(Some(key("deleted")))
                .build()
                .unwrap(),
        )
        .build();
    let failing_check = TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(&table)
                .set_key(Some(key("absent")))
                .condition_expression("attribute_exists(pk)")
                .build()
                .unwrap(),
        )
        .build();
    let cancelled = dynamodb
        .transact_write_items()
        .transact_items(update("kept"))
        .transact_items(put_new.clone())
        .transact_items(delete.clone())
        .transact_items(failing_check)
        .send()
        .await;
    assert!(
        cancelled.is_err_and(|e| e.into_service_error().is_transaction_canceled_exception()),
        "the failed condition cancels the transaction"
    );
    let twice = dynamodb
        .transact_write_items()
        .transact_items(update("kept"))
        .transact_items(update("kept"))
        .send()
        .await;
    assert!(
        twice.is_err(),
        "a transaction naming one item twice is refused"
    );

    let read = |pk: &'static str| {
        let dynamodb = dynamodb.clone();
        let table = table.clone();
        async move {
            dynamodb
                .get_item()
                .table_name(table)
                .set_key(Some(key(pk)))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
        }
    };
    assert_eq!(
        read("kept").await,
        Some(item("kept", "1")),
        "the update is undone"
    );
    assert_eq!(
        read("deleted").await,
        Some(item("deleted", "1")),
        "the delete is undone"
    );
    assert_eq!(read("new").await, None, "the put is undone");

    // And a transaction that succeeds applies all of it.
    dynamodb
        .transact_write_items()
        .transact_items(update("kept"))
        .transact_items(put_new)
        .transact_items(delete)
        .send()
        .await
        .unwrap();
    assert_eq!(read("kept").await, Some(item("kept", "2")));
    assert_eq!(read("new").await, Some(item("new", "1")));
    assert_eq!(read("deleted").await, None);
}
