//! The idempotency table in moto, shaped as `infra/modules/responder/idempotency.tf`
//! creates it (partition key `id` S, TTL `expires_at`).

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// A new, empty table with a unique name.
pub async fn create(sdk: &SdkConfig) -> String {
    let name = format!("once-{}", crate::world::unique_finding_id());
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable in moto");
    name
}
