//! SNS: subject and plain-text body from the renderer, plus message attributes so
//! subscribers can filter (see README, "Filtering SNS").

use super::Delivery;
use crate::plan::ResponsePlan;
use crate::render::Notification;
use aws_sdk_sns::types::MessageAttributeValue;

pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    json_structure: bool,
}

/// Attribute values are strings SNS stores and matches exactly; the attacker-influenced
/// ones (type, family) are bounded printable ASCII.
pub fn message_attributes(plan: &ResponsePlan) -> Vec<(&'static str, &'static str, String)> {
    let ascii = |s: &str| crate::sanitize::ascii_line(s, 128);
    vec![
        ("family", "String", ascii(plan.family.as_str())),
        (
            "severity_label",
            "String",
            plan.severity_label.as_str().to_owned(),
        ),
        ("severity", "Number", format!("{}", plan.severity)),
        ("surface", "String", plan.surface.as_str().to_owned()),
        ("decision", "String", plan.decision.as_str().to_owned()),
        ("account_id", "String", ascii(&plan.account_id)),
        ("finding_type", "String", ascii(&plan.finding_type)),
        ("sample", "String", plan.sample.to_string()),
    ]
}

impl SnsNotifier {
    pub fn new(
        sdk: &aws_config::SdkConfig,
        topic_arn: String,
        json_structure: bool,
    ) -> SnsNotifier {
        SnsNotifier {
            client: aws_sdk_sns::Client::new(sdk),
            topic_arn,
            json_structure,
        }
    }

    pub async fn publish(&self, plan: &ResponsePlan, n: &Notification) -> Delivery {
        let document = serde_json::json!({
            "finding_id": plan.finding_id, "finding_type": plan.finding_type, "family": plan.family,
            "surface": plan.surface, "severity": plan.severity, "severity_label": plan.severity_label,
            "account_id": plan.account_id, "region": plan.region, "sample": plan.sample,
            "decision": plan.decision, "reason": plan.reason, "text": n.text,
        });
        self.publish_with(n, document, message_attributes(plan))
            .await
    }

    /// Publishes any notification: `document` is what JSON-structure subscribers
    /// (HTTPS/SQS/Lambda) receive, `attributes` are (name, data type, value).
    pub async fn publish_with(
        &self,
        n: &Notification,
        document: serde_json::Value,
        attributes: Vec<(&'static str, &'static str, String)>,
    ) -> Delivery {
        let mut req = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&n.subject);
        req = if self.json_structure {
            let message = serde_json::json!({"default": n.text, "email": n.text, "https": document.to_string(), "sqs": document.to_string(), "lambda": document.to_string()});
            req.message_structure("json").message(message.to_string())
        } else {
            req.message(&n.text)
        };
        for (name, data_type, value) in attributes {
            if let Ok(attr) = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
            {
                req = req.message_attributes(name, attr);
            }
        }
        match req.send().await {
            Ok(out) => Delivery {
                channel: "sns",
                ok: true,
                detail: out.message_id.unwrap_or_default(),
            },
            Err(e) => Delivery {
                channel: "sns",
                ok: false,
                detail: aws_sdk_sns::error::DisplayErrorContext(e).to_string(),
            },
        }
    }
}
