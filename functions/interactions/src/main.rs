//! Interactions: Slack's button clicks through a Lambda function URL, each verified,
//! authorised and carried out by the shared code (`responder::interactions`).
#![deny(clippy::unwrap_used)]

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::interactions::settings::run().await
}
