//! Notifiers (adapters): SNS, a Slack incoming webhook and the Security Hub write-back
//! (and, after a release, `after_release`: Security Hub `RESOLVED`, GuardDuty archive).
//! They send what the renderer produced (or, for Security Hub, the decision and outcomes)
//! and report per channel; a failed notification never undoes or blocks containment.

#[cfg(feature = "securityhub")]
pub mod after_release;
pub mod json_webhook;
pub mod secret;
#[cfg(feature = "securityhub")]
pub mod securityhub;
pub mod slack;
pub mod sns;

use crate::outcome::Outcome;
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
    /// `RESPONDER_WEBHOOK_SECRET_ARN`: `{"url", "signing_key"}` of the JSON webhook.
    pub webhook_secret_arn: Option<String>,
    /// `RESPONDER_WEBHOOK_URL` and `RESPONDER_WEBHOOK_SIGNING_KEY` — local use and tests only.
    pub webhook: Option<(secret::SecretUrl, json_webhook::SigningKey)>,
    /// `RESPONDER_SECURITYHUB_WRITE_BACK=on`: `BatchUpdateFindings` after each response.
    pub securityhub_write_back: bool,
    /// `AWS_LAMBDA_FUNCTION_NAME`: who wrote back (`Note.UpdatedBy`).
    pub function_name: String,
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
            webhook_secret_arn: set("RESPONDER_WEBHOOK_SECRET_ARN"),
            webhook: set("RESPONDER_WEBHOOK_URL")
                .zip(set("RESPONDER_WEBHOOK_SIGNING_KEY"))
                .map(|(url, key)| {
                    (
                        secret::SecretUrl::new(url),
                        json_webhook::SigningKey::new(key),
                    )
                }),
            securityhub_write_back: set("RESPONDER_SECURITYHUB_WRITE_BACK")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "on" | "true")),
            function_name: set("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|| "guardduty-responder".into()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sns_topic_arn.is_none()
            && self.slack_secret_arn.is_none()
            && self.slack_webhook_url.is_none()
            && self.webhook_secret_arn.is_none()
            && self.webhook.is_none()
            && !self.securityhub_write_back
    }
}

/// How one channel fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub channel: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// A channel's credential: given directly (local use, tests), else read from its secret;
/// an unreadable secret disables the channel (logged) rather than fail the cold start.
async fn given_or_read<'a, T, F, Fut>(
    given: &Option<T>,
    arn: &'a Option<String>,
    channel: &str,
    read: F,
) -> Option<T>
where
    T: Clone,
    F: FnOnce(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<T, secret::SecretError>>,
{
    match (given, arn) {
        (Some(value), _) => Some(value.clone()),
        (None, Some(arn)) => read(arn)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "{channel} disabled"))
            .ok(),
        (None, None) => None,
    }
}

/// Sends on a channel if it is configured.
async fn on<'a, C, Fut>(channel: &'a Option<C>, send: impl FnOnce(&'a C) -> Fut) -> Option<Delivery>
where
    Fut: std::future::Future<Output = Delivery>,
{
    match channel {
        Some(c) => Some(send(c).await),
        None => None,
    }
}

/// What one response did, for the channels that carry more than the rendered text.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub plan: &'a ResponsePlan,
    pub outcomes: &'a [Outcome],
    /// Only a "still active" update: nothing new to write back.
    pub repeat: bool,
}

/// Every channel, built once per cold start (the webhook secret is read here, once).
pub struct Notifier {
    sns: Option<sns::SnsNotifier>,
    slack: Option<slack::SlackNotifier>,
    webhook: Option<json_webhook::JsonWebhook>,
    #[cfg(feature = "securityhub")]
    securityhub: Option<securityhub::SecurityHubWriter>,
}

impl Notifier {
    /// Never fails: an unreadable or empty webhook secret disables Slack (logged), because
    /// a notification problem must not stop the function from containing.
    pub async fn new(sdk: &aws_config::SdkConfig, settings: &NotifySettings) -> Notifier {
        let webhook = given_or_read(
            &settings.slack_webhook_url,
            &settings.slack_secret_arn,
            "Slack notifications",
            |arn| secret::read_webhook_url(sdk, arn),
        )
        .await;
        let json_webhook = given_or_read(
            &settings.webhook,
            &settings.webhook_secret_arn,
            "JSON webhook",
            |arn| json_webhook::read_secret(sdk, arn),
        )
        .await;
        Notifier {
            webhook: json_webhook.map(|(url, key)| {
                json_webhook::JsonWebhook::new(url, key, settings.function_name.clone())
            }),
            sns: settings
                .sns_topic_arn
                .as_ref()
                .map(|t| sns::SnsNotifier::new(sdk, t.clone(), settings.sns_json_structure)),
            slack: webhook.map(slack::SlackNotifier::new),
            #[cfg(feature = "securityhub")]
            securityhub: settings
                .securityhub_write_back
                .then(|| securityhub::SecurityHubWriter::new(sdk, settings.function_name.clone())),
        }
    }

    /// A notifier that sends nothing (dry run, or nothing configured).
    pub fn disabled() -> Notifier {
        Notifier {
            sns: None,
            slack: None,
            webhook: None,
            #[cfg(feature = "securityhub")]
            securityhub: None,
        }
    }

    pub fn is_enabled(&self) -> bool {
        #[cfg(feature = "securityhub")]
        if self.securityhub.is_some() {
            return true;
        }
        self.sns.is_some() || self.slack.is_some() || self.webhook.is_some()
    }

    /// Sends to every configured channel concurrently.
    pub async fn send(&self, r: &Report<'_>, n: &Notification) -> Vec<Delivery> {
        let (a, b, c, d) = futures::join!(
            on(&self.sns, |s| s.publish(r.plan, n)),
            on(&self.slack, |s| s.post(&n.slack)),
            on(&self.webhook, |w| w.post(r, n)),
            self.write_back(r),
        );
        a.into_iter().chain(b).chain(c).chain(d).collect()
    }

    #[cfg(feature = "securityhub")]
    async fn write_back(&self, r: &Report<'_>) -> Option<Delivery> {
        let writer = self.securityhub.as_ref().filter(|_| !r.repeat)?;
        let workflow = securityhub::update::Workflow::Notified;
        Some(
            match securityhub::update::update(r.plan, r.outcomes, &writer.function, workflow) {
                Ok(u) => writer.write(&u).await,
                Err(e) => Delivery {
                    channel: securityhub::CHANNEL,
                    ok: false,
                    detail: e.to_string(),
                },
            },
        )
    }

    #[cfg(not(feature = "securityhub"))]
    async fn write_back(&self, _: &Report<'_>) -> Option<Delivery> {
        None
    }

    /// Sends a notification that is not about a finding (coverage), with its own SNS
    /// document and attributes; Slack gets `n.slack` as for findings.
    pub async fn send_other(
        &self,
        n: &Notification,
        document: serde_json::Value,
        attributes: Vec<(&'static str, &'static str, String)>,
    ) -> Vec<Delivery> {
        let (a, b) = futures::join!(
            on(&self.sns, |s| s.publish_with(n, document, attributes)),
            on(&self.slack, |s| s.post(&n.slack)),
        );
        a.into_iter().chain(b).collect()
    }
}
