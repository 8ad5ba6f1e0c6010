//! The DynamoDB table every store shares: one table, on-demand, `pk`/`sk` strings, TTL on `ttl`.
//! [`create_table`] makes a table with exactly the production shape (infra/template.yaml mirrors
//! it) for tests against moto_server and for local experiments.

use crate::StoreError;
use crate::keys::{PK, SK, TTL};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};

/// A handle on the cwsync table: the SDK client (cheap to clone) and the table name.
#[derive(Debug, Clone)]
pub struct Table {
    /// The DynamoDB client.
    pub client: Client,
    /// The table name.
    pub name: String,
}

impl Table {
    /// A handle; makes no call.
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Table {
            client,
            name: name.into(),
        }
    }

    /// A strongly consistent GetItem of one `(pk, sk)`: every store reads its own writes.
    pub async fn get_consistent(
        &self,
        (pk, sk): (String, String),
    ) -> Result<aws_sdk_dynamodb::operation::get_item::GetItemOutput, StoreError> {
        self.client
            .get_item()
            .table_name(&self.name)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", e))
    }

    /// Deletes one `(pk, sk)` unconditionally (deleting an absent item is no error).
    pub async fn delete(&self, (pk, sk): (String, String)) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .send()
            .await
            .map_err(|e| backend("DeleteItem", e))?;
        Ok(())
    }
}

/// Every item a Query returns, all its pages read (the SDK's paginator follows
/// `LastEvaluatedKey`), each item turned into `T` by `parse` (a malformed one stops the read).
pub async fn query_all<T>(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    mut parse: impl FnMut(std::collections::HashMap<String, AttributeValue>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut items = query.into_paginator().items().send();
    let mut parsed = Vec::new();
    while let Some(item) = items.next().await {
        parsed.push(parse(item.map_err(|e| backend("Query", e))?)?);
    }
    Ok(parsed)
}

/// Creates the table with the production key schema and enables TTL on `ttl`.
pub async fn create_table(client: &Client, name: &str) -> Result<Table, StoreError> {
    let attribute = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| invalid_request("CreateTable", e))
    };
    let key = |n: &str, k: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(k)
            .build()
            .map_err(|e| invalid_request("CreateTable", e))
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(PK)?)
        .attribute_definitions(attribute(SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .send()
        .await
        .map_err(|e| backend("CreateTable", e))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()
                .map_err(|e| invalid_request("UpdateTimeToLive", e))?,
        )
        .send()
        .await
        .map_err(|e| backend("UpdateTimeToLive", e))?;
    Ok(Table::new(client.clone(), name))
}

fn invalid_request(operation: &'static str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        operation,
        detail: error.to_string(),
        transient: false,
    }
}

/// Maps an SDK error to [`StoreError::Backend`], marking throttling, timeouts and 5xx transient.
/// Callers that expect `ConditionalCheckFailedException` check [`is_conditional_failure`] first.
pub fn backend<E, R>(operation: &'static str, error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
            )
        ),
        _ => false,
    };
    let detail = match error.code() {
        Some(code) => format!("{code}: {}", error.message().unwrap_or_default()),
        None => aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string(),
    };
    StoreError::Backend {
        operation,
        detail,
        transient,
    }
}

/// Whether an SDK error is a lost conditional write (`ConditionalCheckFailedException`, or a
/// transaction cancelled because one of its conditions failed).
pub fn is_conditional_failure<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match error.code() {
        Some("ConditionalCheckFailedException") => true,
        Some("TransactionCanceledException") => error
            .message()
            .is_some_and(|m| m.contains("ConditionalCheckFailed")),
        _ => false,
    }
}
