//! Quarantine reminder: what has been contained longer than the configured age.
#![deny(clippy::unwrap_used)]

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::inventory::function::run().await
}
