//! EC2 responder: the shared handler with the EC2 quarantine executor.
#![deny(clippy::unwrap_used)]

use responder::actions::ec2::Ec2Executor;
use responder::classify::Surface;

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::lambda::run((Surface::Ec2, |sdk: &_, config: &responder::Config| {
        Ec2Executor::new(sdk)
            .with_isolation(config.isolation.clone())
            .with_evidence(&config.evidence)
    }))
    .await
}
