//! Replay protection: each signature is accepted once. It is remembered in the idempotency
//! table (`slack-signature#<signature>`, a conditional put) until its timestamp is too old
//! to pass [`super::signature::verify`] anyway, then the table's TTL removes it. A table
//! that cannot be asked refuses the request: a security control fails closed.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

pub struct SeenSignatures {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    First,
    Replayed,
    Unavailable(String),
}

impl SeenSignatures {
    pub fn new(sdk: &aws_config::SdkConfig, table: String) -> SeenSignatures {
        SeenSignatures {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table,
        }
    }

    /// Records `signature` (already verified) until `expires_at` (epoch seconds).
    pub async fn first_use(&self, signature: &str, expires_at: u64) -> Seen {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(
                "id",
                AttributeValue::S(format!("slack-signature#{signature}")),
            )
            .item("status", AttributeValue::S("SEEN".into()))
            .item("expires_at", AttributeValue::N(expires_at.to_string()))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match put {
            Ok(_) => Seen::First,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Seen::Replayed
            }
            Err(e) => Seen::Unavailable(crate::sanitize::ascii_line(
                &DisplayErrorContext(e).to_string(),
                300,
            )),
        }
    }
}
