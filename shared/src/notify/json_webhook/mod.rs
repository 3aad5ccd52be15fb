//! A generic JSON webhook channel for SIEM and ticketing tools: the plan and its outcomes
//! as one signed JSON document ([`payload`]), POSTed with the Slack channel's retries
//! ([`super::slack::post_with_retries`]). The URL and the signing key are credentials:
//! read once per cold start from a Secrets Manager secret (or SSM SecureString)
//! `{"url": "https://…", "signing_key": "…"}`, held in types that never print them.

pub mod payload;

use super::secret::{SecretError, SecretUrl, read_secret_string};
use super::slack::{RetryPolicy, client, post_with_retries};
use super::{Delivery, Report};
use crate::render::Notification;

pub const CHANNEL: &str = "webhook";

/// The HMAC key; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    pub fn new(key: impl Into<Vec<u8>>) -> SigningKey {
        SigningKey(key.into())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

pub struct JsonWebhook {
    http: reqwest::Client,
    url: SecretUrl,
    key: SigningKey,
    function: String,
    pub policy: RetryPolicy,
}

/// `{"url": "https://…", "signing_key": "…"}` (a key of at least 16 bytes).
pub fn parse_secret(raw: &str) -> Option<(SecretUrl, SigningKey)> {
    let v: serde_json::Value = serde_json::from_str(raw.trim()).ok()?;
    let url = v.get("url")?.as_str()?;
    let key = v.get("signing_key")?.as_str()?;
    (url.starts_with("https://") && key.len() >= 16)
        .then(|| (SecretUrl::new(url), SigningKey::new(key.as_bytes())))
}

/// Reads the webhook's URL and key from `arn`.
pub async fn read_secret(
    sdk: &aws_config::SdkConfig,
    arn: &str,
) -> Result<(SecretUrl, SigningKey), SecretError> {
    let raw = read_secret_string(sdk, arn).await?;
    parse_secret(&raw).ok_or_else(|| SecretError::NoUrl(arn.to_owned()))
}

impl JsonWebhook {
    pub fn new(url: SecretUrl, key: SigningKey, function: String) -> JsonWebhook {
        let policy = RetryPolicy::default();
        JsonWebhook {
            http: client(&policy),
            url,
            key,
            function,
            policy,
        }
    }

    pub async fn post(&self, r: &Report<'_>, n: &Notification) -> Delivery {
        let now = chrono::Utc::now().timestamp();
        let document = payload::document(r, n, &self.function, now);
        let Ok(body) = serde_json::to_vec(&document) else {
            return Delivery {
                channel: CHANNEL,
                ok: false,
                detail: "the document could not be encoded".into(),
            };
        };
        let headers = [
            (payload::TIMESTAMP_HEADER, now.to_string()),
            (
                payload::SIGNATURE_HEADER,
                payload::signature(&self.key.0, now, &body),
            ),
        ];
        post_with_retries(&self.http, &self.url, &self.policy, CHANNEL, &headers, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_needs_an_https_url_and_a_long_enough_key_and_never_prints() {
        let (url, key) =
            parse_secret(r#"{"url":"https://siem.example/hook","signing_key":"0123456789abcdef"}"#)
                .unwrap();
        assert_eq!(url.expose(), "https://siem.example/hook");
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
        assert!(
            parse_secret(r#"{"url":"http://siem.example","signing_key":"0123456789abcdef"}"#)
                .is_none()
        );
        assert!(parse_secret(r#"{"url":"https://siem.example","signing_key":"short"}"#).is_none());
        assert!(parse_secret("https://siem.example").is_none());
    }
}
