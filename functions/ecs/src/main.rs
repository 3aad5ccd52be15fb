//! ECS responder: the shared handler with the ECS task isolation executor.
#![deny(clippy::unwrap_used)]

use responder::Config;
use responder::actions::ecs::EcsExecutor;
use responder::classify::Surface;

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::lambda::run((Surface::Ecs, |sdk: &_, config: &Config| {
        EcsExecutor::new(sdk, config.ecs.clone())
            .with_isolation(config.isolation.clone())
            .with_evidence(&config.evidence)
    }))
    .await
}
