//! Containment rate guardrail: past N containments in the last hour the function only
//! notifies. The count is a CloudWatch metric (`GuardDutyResponder/Containments`, by
//! function name): no database, shared by all concurrent invocations, visible on a
//! dashboard. It lags by seconds, so a burst can overshoot N by the concurrency.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, Statistic};
use std::time::{Duration, SystemTime};

pub const NAMESPACE: &str = "GuardDutyResponder";
pub const METRIC: &str = "Containments";

pub struct RateLimit {
    client: aws_sdk_cloudwatch::Client,
    function: String,
    per_hour: u32,
}

impl RateLimit {
    pub fn new(sdk: &aws_config::SdkConfig, function: String, per_hour: u32) -> RateLimit {
        RateLimit {
            client: aws_sdk_cloudwatch::Client::new(sdk),
            function,
            per_hour,
        }
    }

    fn dimension(&self) -> Dimension {
        Dimension::builder()
            .name("Function")
            .value(&self.function)
            .build()
    }

    /// Containments in the last hour, or `None` when the metric cannot be read (then the
    /// guardrail does not block: failing closed would stop all containment).
    pub async fn recent(&self) -> Option<f64> {
        let now = SystemTime::now();
        let out = self
            .client
            .get_metric_statistics()
            .namespace(NAMESPACE)
            .metric_name(METRIC)
            .dimensions(self.dimension())
            .start_time(DateTime::from(now - Duration::from_secs(3600)))
            .end_time(DateTime::from(now))
            .period(3600)
            .statistics(Statistic::Sum)
            .send()
            .await
            .ok()?;
        Some(out.datapoints().iter().filter_map(|d| d.sum()).sum())
    }

    /// `Some(reason)` when the limit is reached.
    pub async fn exceeded(&self) -> Option<String> {
        let recent = self.recent().await?;
        (recent >= f64::from(self.per_hour)).then(|| {
            format!(
                "containment rate limit reached ({recent} of {} per hour): notify only",
                self.per_hour
            )
        })
    }

    pub async fn record(&self) {
        let datum = MetricDatum::builder()
            .metric_name(METRIC)
            .dimensions(self.dimension())
            .value(1.0)
            .unit(StandardUnit::Count)
            .build();
        if let Err(e) = self
            .client
            .put_metric_data()
            .namespace(NAMESPACE)
            .metric_data(datum)
            .send()
            .await
        {
            tracing::warn!(error = %aws_sdk_cloudwatch::error::DisplayErrorContext(e), "could not record the containment metric");
        }
    }
}
