//! EC2 responder: the shared handler with the EC2 quarantine executor.

use responder::actions::ec2::Ec2Executor;
use responder::classify::Surface;

#[tokio::main]
async fn main() -> Result<(), responder::lambda::Error> {
    responder::lambda::run((Surface::Ec2, |sdk: &_, _: &_| Ec2Executor::new(sdk))).await
}
