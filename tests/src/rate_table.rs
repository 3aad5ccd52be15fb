//! The rate-limit table in moto, shaped as `infra/modules/responder/rate_limit.tf` creates
//! it (partition key `scope` S, sort key `window` N), and reads of its items.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use std::collections::HashMap;

/// A new, empty table with a unique name.
pub async fn create(sdk: &SdkConfig) -> String {
    let name = format!("rate-{}", crate::world::unique_finding_id());
    let attr = |n: &str, t| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(t)
            .build()
            .unwrap()
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("scope", ScalarAttributeType::S))
        .attribute_definitions(attr("window", ScalarAttributeType::N))
        .key_schema(key("scope", KeyType::Hash))
        .key_schema(key("window", KeyType::Range))
        .send()
        .await
        .expect("CreateTable in moto");
    name
}

/// The (scope, window) item, if any.
pub async fn item(
    sdk: &SdkConfig,
    table: &str,
    scope: &str,
    window: u64,
) -> Option<HashMap<String, AttributeValue>> {
    aws_sdk_dynamodb::Client::new(sdk)
        .get_item()
        .table_name(table)
        .key("scope", AttributeValue::S(scope.to_owned()))
        .key("window", AttributeValue::N(window.to_string()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem in moto")
        .item
}

/// A numeric attribute of the (scope, window) item.
pub async fn number(
    sdk: &SdkConfig,
    table: &str,
    scope: &str,
    window: u64,
    attr: &str,
) -> Option<i64> {
    item(sdk, table, scope, window)
        .await?
        .get(attr)
        .and_then(|v| v.as_n().ok())
        .map(|n| n.parse().expect("a number"))
}
