//! Notifiers (adapters): SNS and a Slack incoming webhook. They send what the renderer
//! produced and report per channel; a failed notification never undoes or blocks
//! containment.

pub mod secret;
pub mod slack;
pub mod sns;

use crate::plan::ResponsePlan;
use crate::render::Notification;
use serde::Serialize;

/// Where notifications go, from `RESPONDER_SNS_TOPIC_ARN`, `RESPONDER_SLACK_SECRET_ARN`
/// (Lambda) and `RESPONDER_SLACK_WEBHOOK_URL` (local use and tests only).
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    pub sns_topic_arn: Option<String>,
    /// Publish a JSON message structure: text for e-mail, a JSON document for HTTPS/SQS/Lambda.
    pub sns_json_structure: bool,
    pub slack_secret_arn: Option<String>,
    pub slack_webhook_url: Option<secret::SecretUrl>,
}

impl NotifySettings {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> NotifySettings {
        let set = |k: &str| {
            var(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        NotifySettings {
            sns_topic_arn: set("RESPONDER_SNS_TOPIC_ARN"),
            sns_json_structure: set("RESPONDER_SNS_MESSAGE_STRUCTURE")
                .is_some_and(|v| v.eq_ignore_ascii_case("json")),
            slack_secret_arn: set("RESPONDER_SLACK_SECRET_ARN"),
            slack_webhook_url: set("RESPONDER_SLACK_WEBHOOK_URL").map(secret::SecretUrl::new),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sns_topic_arn.is_none()
            && self.slack_secret_arn.is_none()
            && self.slack_webhook_url.is_none()
    }
}

/// How one channel fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub channel: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// Both notifiers, built once per cold start (the webhook secret is read here, once).
pub struct Notifier {
    sns: Option<sns::SnsNotifier>,
    slack: Option<slack::SlackNotifier>,
}

impl Notifier {
    /// Never fails: an unreadable or empty webhook secret disables Slack (logged), because
    /// a notification problem must not stop the function from containing.
    pub async fn new(sdk: &aws_config::SdkConfig, settings: &NotifySettings) -> Notifier {
        let webhook = match (&settings.slack_webhook_url, &settings.slack_secret_arn) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(arn)) => match secret::read_webhook_url(sdk, arn).await {
                Ok(url) => Some(url),
                Err(e) => {
                    tracing::error!(error = %e, "Slack notifications disabled");
                    None
                }
            },
            (None, None) => None,
        };
        Notifier {
            sns: settings
                .sns_topic_arn
                .as_ref()
                .map(|t| sns::SnsNotifier::new(sdk, t.clone(), settings.sns_json_structure)),
            slack: webhook.map(slack::SlackNotifier::new),
        }
    }

    /// A notifier that sends nothing (dry run, or nothing configured).
    pub fn disabled() -> Notifier {
        Notifier {
            sns: None,
            slack: None,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.sns.is_some() || self.slack.is_some()
    }

    /// Sends to every configured channel concurrently.
    pub async fn send(&self, plan: &ResponsePlan, n: &Notification) -> Vec<Delivery> {
        let sns = async {
            match &self.sns {
                Some(s) => Some(s.publish(plan, n).await),
                None => None,
            }
        };
        let slack = async {
            match &self.slack {
                Some(s) => Some(s.post(&n.slack).await),
                None => None,
            }
        };
        let (a, b) = futures::join!(sns, slack);
        a.into_iter().chain(b).collect()
    }

    /// Sends a notification that is not about a finding (coverage), with its own SNS
    /// document and attributes; Slack gets `n.slack` as for findings.
    pub async fn send_other(
        &self,
        n: &Notification,
        document: serde_json::Value,
        attributes: Vec<(&'static str, &'static str, String)>,
    ) -> Vec<Delivery> {
        let sns = async {
            match &self.sns {
                Some(s) => Some(s.publish_with(n, document, attributes).await),
                None => None,
            }
        };
        let slack = async {
            match &self.slack {
                Some(s) => Some(s.post(&n.slack).await),
                None => None,
            }
        };
        let (a, b) = futures::join!(sns, slack);
        a.into_iter().chain(b).collect()
    }
}
