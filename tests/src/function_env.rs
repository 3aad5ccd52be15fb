//! What a function binary talks to in the end-to-end tests, built once per test: moto for
//! AWS, a fresh SNS topic in it, a local Slack webhook and the local CloudWatch server
//! ([`crate::cloudwatch_api`], since moto does not speak CloudWatch's protocol), with the
//! environment variables that point a function there ([`FunctionEnv::env`]) and readers
//! for what it sent.

use crate::cloudwatch_api::CloudWatchApi;
use crate::moto;
use crate::moto_data::sns_published;
use crate::webhook::Webhook;

pub struct FunctionEnv {
    pub topic_arn: String,
    pub hook: Webhook,
    pub cloudwatch: CloudWatchApi,
    /// The containment budgets' table (in moto), as Terraform creates it.
    pub rate_table: String,
    sdk: aws_config::SdkConfig,
}

impl FunctionEnv {
    /// A new SNS topic `topic` (in moto, through `sdk`), webhook and CloudWatch server.
    pub async fn start(sdk: &aws_config::SdkConfig, topic: &str) -> FunctionEnv {
        let topic_arn = aws_sdk_sns::Client::new(sdk)
            .create_topic()
            .name(topic)
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn
            .expect("topic ARN");
        FunctionEnv {
            topic_arn,
            hook: Webhook::start(vec![]).await,
            cloudwatch: CloudWatchApi::start().await,
            rate_table: crate::rate_table::create(sdk).await,
            sdk: sdk.clone(),
        }
    }

    /// AWS to moto (CloudWatch to the local server), notifications to the topic and the
    /// webhook, `RESPONDER_MODE=enforce`; `extra` is appended (later entries win).
    pub fn env(&self, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("AWS_ENDPOINT_URL", moto::shared().endpoint()),
            ("AWS_ENDPOINT_URL_CLOUDWATCH", self.cloudwatch.endpoint()),
            ("RESPONDER_MODE", "enforce".to_owned()),
            ("RESPONDER_SNS_TOPIC_ARN", self.topic_arn.clone()),
            ("RESPONDER_SLACK_WEBHOOK_URL", self.hook.url()),
            ("RESPONDER_RATE_LIMIT_TABLE", self.rate_table.clone()),
        ];
        env.extend_from_slice(extra);
        env
    }

    /// Slack bodies received, oldest first.
    pub fn slack(&self) -> Vec<String> {
        self.hook
            .received()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    /// `(message, subject, attributes)` published to the topic, oldest first.
    pub async fn sns(&self) -> Vec<(String, Option<String>, serde_json::Value)> {
        sns_published(&self.topic_arn).await
    }

    /// Containments counted on the global budget in the current hour (0 before the first).
    pub async fn contained_this_hour(&self) -> i64 {
        let window = responder::lambda::rate_limit::Window::of(std::time::SystemTime::now());
        crate::rate_table::number(&self.sdk, &self.rate_table, "global", window.start, "count")
            .await
            .unwrap_or(0)
    }

    /// `(Function dimension, value)` of every datapoint of `metric` in the responder's
    /// namespace.
    pub fn metric(&self, metric: &str) -> Vec<(String, f64)> {
        self.cloudwatch
            .data()
            .into_iter()
            .filter(|d| {
                d.namespace == responder::lambda::rate_limit::NAMESPACE && d.metric == metric
            })
            .map(|d| {
                let function = d
                    .dimensions
                    .iter()
                    .find(|(k, _)| k == "Function")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                (function, d.sum)
            })
            .collect()
    }
}

/// An EC2 finding for a function binary to contain.
pub struct Ec2Finding {
    pub instance: crate::world::Instance,
    pub finding_id: String,
    /// The EventBridge event: `ec2-defense-evasion-kernel-module.json` naming the instance.
    pub event: Vec<u8>,
}

impl Ec2Finding {
    /// A fresh two-ENI instance in `net` and a new finding id, in us-east-1.
    pub async fn new(aws: &crate::world::Aws, net: &crate::world::Network) -> Ec2Finding {
        let instance = crate::world::two_eni_instance(aws, net).await;
        let finding_id = crate::world::unique_finding_id();
        let event = crate::world::finding_event(
            "ec2-defense-evasion-kernel-module.json",
            &finding_id,
            "us-east-1",
            &instance,
            Some(&net.vpc_id),
        );
        Ec2Finding {
            instance,
            finding_id,
            event,
        }
    }

    /// A member of the event's `detail` (e.g. `arn`, `updatedAt`).
    pub fn detail(&self, key: &str) -> String {
        let event: serde_json::Value = serde_json::from_slice(&self.event).expect("JSON");
        event["detail"][key].as_str().unwrap_or_default().to_owned()
    }
}
