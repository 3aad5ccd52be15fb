//! The Slack webhook URL is a credential: read once per cold start from Secrets Manager
//! or an SSM SecureString, held in a type that never prints it.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }
    /// Only for handing to the HTTP client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("SecretUrl(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the webhook secret {arn}: {message}")]
    Read { arn: String, message: String },
    #[error(
        "the Slack webhook secret {0} holds no https:// URL (plain, or JSON with a \"url\" key)"
    )]
    NoUrl(String),
}

/// Reads the webhook URL from a Secrets Manager secret (plain string or `{"url": …}`) or,
/// for an `arn:…:ssm:…:parameter/…` ARN, from an SSM SecureString.
pub async fn read_webhook_url(
    sdk: &aws_config::SdkConfig,
    arn: &str,
) -> Result<SecretUrl, SecretError> {
    let raw = read_secret_string(sdk, arn).await?;
    parse_secret(&raw).ok_or_else(|| SecretError::NoUrl(arn.to_owned()))
}

/// The secret's text: a Secrets Manager secret or, for an SSM parameter ARN, a SecureString.
pub async fn read_secret_string(
    sdk: &aws_config::SdkConfig,
    arn: &str,
) -> Result<String, SecretError> {
    let read_err = |e: String| SecretError::Read {
        arn: arn.to_owned(),
        message: e,
    };
    if arn.contains(":ssm:") {
        let name = arn
            .split_once(":parameter")
            .map(|(_, n)| n.to_owned())
            .unwrap_or_else(|| arn.to_owned());
        let out = aws_sdk_ssm::Client::new(sdk)
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| read_err(aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
        Ok(out.parameter.and_then(|p| p.value).unwrap_or_default())
    } else {
        let out = aws_sdk_secretsmanager::Client::new(sdk)
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                read_err(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
            })?;
        Ok(out.secret_string.unwrap_or_default())
    }
}

fn parse_secret(raw: &str) -> Option<SecretUrl> {
    let raw = raw.trim();
    let url = if raw.starts_with('{') {
        serde_json::from_str::<serde_json::Value>(raw)
            .ok()?
            .get("url")?
            .as_str()?
            .to_owned()
    } else {
        raw.to_owned()
    };
    url.starts_with("https://").then_some(SecretUrl(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_shapes_and_redaction() {
        assert_eq!(
            parse_secret(" https://hooks.slack.com/services/T/B/x \n")
                .unwrap()
                .expose(),
            "https://hooks.slack.com/services/T/B/x"
        );
        assert_eq!(
            parse_secret(r#"{"url":"https://hooks.slack.com/x"}"#)
                .unwrap()
                .expose(),
            "https://hooks.slack.com/x"
        );
        assert!(parse_secret("http://plain.example").is_none() && parse_secret("{}").is_none());
        assert_eq!(
            format!("{:?}", SecretUrl::new("https://secret")),
            "SecretUrl(<redacted>)"
        );
    }
}
