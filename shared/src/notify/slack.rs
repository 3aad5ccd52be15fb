//! Slack incoming webhook: rustls, timeouts, retries with backoff on 429 (honouring
//! `Retry-After`), 5xx and timeouts ([`post_with_retries`], which the JSON webhook channel
//! shares). The URL is never logged.

use super::Delivery;
use super::secret::SecretUrl;
use std::time::Duration;

pub struct SlackNotifier {
    http: reqwest::Client,
    url: SecretUrl,
    pub policy: RetryPolicy,
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_backoff: Duration,
    /// Longest `Retry-After` honoured; a longer one fails fast rather than stall the Lambda.
    pub max_retry_after: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
        }
    }
}

impl SlackNotifier {
    pub fn new(url: SecretUrl) -> SlackNotifier {
        SlackNotifier::with_policy(url, RetryPolicy::default())
    }

    pub fn with_policy(url: SecretUrl, policy: RetryPolicy) -> SlackNotifier {
        SlackNotifier {
            http: client(&policy),
            url,
            policy,
        }
    }

    pub async fn post<P: serde::Serialize + ?Sized>(&self, payload: &P) -> Delivery {
        let Ok(body) = serde_json::to_vec(payload) else {
            return Delivery {
                channel: "slack",
                ok: false,
                detail: "the message could not be encoded".into(),
            };
        };
        post_with_retries(&self.http, &self.url, &self.policy, "slack", &[], body).await
    }
}

/// A client with the policy's timeouts (rustls).
pub fn client(policy: &RetryPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(policy.timeout)
        .build()
        .unwrap_or_default()
}

/// POSTs a JSON `body` with `headers`, retrying with backoff on 429 (honouring
/// `Retry-After`), 5xx, timeouts and refused connections; any other 4xx fails at once. The
/// URL is never reported. Shared by the Slack and JSON webhook channels.
pub async fn post_with_retries(
    http: &reqwest::Client,
    url: &SecretUrl,
    policy: &RetryPolicy,
    channel: &'static str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
) -> Delivery {
    let fail = |detail: String| Delivery {
        channel,
        ok: false,
        detail,
    };
    let backoff = |attempt: u32| policy.base_backoff * 2u32.saturating_pow(attempt - 1);
    let mut last = String::new();
    for attempt in 1..=policy.attempts {
        let mut request = http
            .post(url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let wait = match request.send().await {
            Ok(resp) if resp.status().is_success() => {
                return Delivery {
                    channel,
                    ok: true,
                    detail: format!("HTTP {} after {attempt} attempt(s)", resp.status().as_u16()),
                };
            }
            Ok(resp) if resp.status().as_u16() == 429 => {
                let after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(backoff(attempt));
                if after > policy.max_retry_after {
                    return fail(format!(
                        "HTTP 429 with Retry-After {}s, longer than allowed",
                        after.as_secs()
                    ));
                }
                last = "HTTP 429".into();
                after
            }
            Ok(resp) if resp.status().is_server_error() => {
                last = format!("HTTP {}", resp.status().as_u16());
                backoff(attempt)
            }
            // 4xx other than 429: the payload or webhook is wrong; retrying will not help.
            Ok(resp) => return fail(format!("HTTP {}", resp.status().as_u16())),
            // Errors can embed the URL; report only their kind.
            Err(e) if e.is_timeout() => {
                last = "timed out".into();
                backoff(attempt)
            }
            Err(e) if e.is_connect() => {
                last = "connection failed".into();
                backoff(attempt)
            }
            Err(_) => return fail("request failed".into()),
        };
        if attempt < policy.attempts {
            tokio::time::sleep(wait).await;
        }
    }
    fail(format!("{last} after {} attempts", policy.attempts))
}
