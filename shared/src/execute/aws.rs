//! AWS SDK configuration shared by every executor and notifier.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// Loads the SDK configuration for `region`: credentials from the default chain,
/// `AWS_ENDPOINT_URL` honoured (tests point it at moto), and standard retries with a
/// short backoff cap so a throttled containment call is retried within seconds. (Adaptive
/// mode's client-side rate limiter was seen to delay a throttled retry past the
/// operation timeout at our call pattern.)
pub async fn sdk_config(region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(2)),
        )
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await
}
