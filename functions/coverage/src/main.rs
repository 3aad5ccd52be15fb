//! Coverage watch: Runtime Protection Healthy/Unhealthy events and the scheduled audit.
#![deny(clippy::unwrap_used)]

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::coverage::function::run().await
}
