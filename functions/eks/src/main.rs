//! EKS responder: the shared handler with the EKS pod isolation executor.
#![deny(clippy::unwrap_used)]

use responder::actions::eks::EksExecutor;
use responder::classify::Surface;

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::lambda::run((Surface::Eks, EksExecutor::from_config)).await
}
