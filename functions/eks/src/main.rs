//! EKS responder: the shared handler with the EKS pod isolation executor.
#![deny(clippy::unwrap_used)]

use responder::Config;
use responder::actions::eks::EksExecutor;
use responder::classify::Surface;

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::lambda::run((Surface::Eks, |sdk: &_, config: &Config| {
        EksExecutor::new(sdk, &config.guardrails)
            .with_options(config.eks.clone())
            .with_isolation(config.isolation.clone())
    }))
    .await
}
