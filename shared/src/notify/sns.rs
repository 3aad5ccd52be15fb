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

/// Largest magnitude of a Number attribute SNS filter policies can compare.
const MAX_NUMBER: f64 = 1e9;

/// The value SNS accepts for an attribute, or `None` to leave it out: SNS rejects the whole
/// Publish for one empty String value, and filter policies only compare Numbers within
/// ±10^9 with 5 decimals. One odd finding must not cost the notification.
pub fn attribute_value(data_type: &str, value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    if data_type != "Number" {
        return Some(value.to_owned());
    }
    let n: f64 = value.trim().parse().ok()?;
    if !n.is_finite() || n.abs() > MAX_NUMBER {
        return None;
    }
    let fixed = format!("{:.5}", n);
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    Some(match trimmed {
        "-0" => "0".to_owned(),
        t => t.to_owned(),
    })
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
            let Some(value) = attribute_value(data_type, &value) else {
                tracing::debug!(
                    attribute = name,
                    "attribute left out: empty or out of range"
                );
                continue;
            };
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

#[cfg(test)]
mod tests {
    use super::attribute_value;

    #[test]
    fn empty_and_out_of_range_values_are_left_out() {
        for (ty, v) in [
            ("String", ""),
            ("String", "   "),
            ("Number", ""),
            ("Number", "NaN"),
            ("Number", "inf"),
            ("Number", "-inf"),
            ("Number", "1000000000.5"),
            ("Number", "-1e12"),
            ("Number", "eight"),
        ] {
            assert_eq!(attribute_value(ty, v), None, "{ty} {v:?}");
        }
        for (ty, v, sent) in [
            ("String", "High", "High"),
            ("Number", "8", "8"),
            ("Number", "8.5", "8.5"),
            ("Number", "7.123456789", "7.12346"),
            ("Number", "-0.000001", "0"),
            ("Number", "1000000000", "1000000000"),
            ("Number", "-1000000000", "-1000000000"),
        ] {
            assert_eq!(attribute_value(ty, v).as_deref(), Some(sent), "{ty} {v:?}");
        }
    }
}
