//! ECS responder: the shared handler with the ECS task isolation executor.
#![deny(clippy::unwrap_used)]

use responder::actions::ecs::EcsExecutor;
use responder::classify::Surface;

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::lambda::run((Surface::Ecs, EcsExecutor::from_config)).await
}
