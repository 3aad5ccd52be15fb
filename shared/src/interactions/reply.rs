//! Answers to Slack: where they may go (a click's `response_url`, only on
//! `https://hooks.slack.com/`; a loopback base in tests) and what they say. Every message
//! is built from trusted parts: a validated user id, our own words, and the re-rendered
//! alert (escaped by the renderers).

use crate::notify::Delivery;
use crate::notify::secret::SecretUrl;
use crate::notify::slack::{RetryPolicy, client, post_with_retries};
use crate::render::{Block, SlackMessage, Text};
use serde::Serialize;

const SLACK_HOOKS: &str = "https://hooks.slack.com/";

/// Where replies may go.
#[derive(Debug, Clone, Default)]
pub struct ReplyPolicy {
    /// Tests only: an `http://127.0.0.1:<port>/` base also accepted
    /// (`RESPONDER_SLACK_RESPONSE_URL_BASE`, refused at cold start unless loopback).
    pub loopback_base: Option<String>,
}

/// Is `base` a loopback HTTP base (the only other base a deployment may allow)?
pub fn is_loopback_base(base: &str) -> bool {
    base.strip_prefix("http://127.0.0.1:").is_some_and(|rest| {
        rest.ends_with('/')
            && rest
                .split('/')
                .next()
                .is_some_and(|p| p.parse::<u16>().is_ok())
    })
}

impl ReplyPolicy {
    /// The URL if a reply may be sent there: Slack's hooks host, plain characters only.
    pub fn check(&self, url: &str) -> Option<SecretUrl> {
        let plain = url.len() <= 512
            && url
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'@' && b != b'\\');
        let allowed = url.starts_with(SLACK_HOOKS)
            || self
                .loopback_base
                .as_deref()
                .is_some_and(|b| url.starts_with(b));
        (plain && allowed).then(|| SecretUrl::new(url))
    }
}

/// A short reply (ephemeral: only the clicking person sees it), leaving the alert as it is.
#[derive(Debug, Serialize)]
pub struct Ephemeral {
    response_type: &'static str,
    replace_original: bool,
    text: String,
}

pub fn ephemeral(text: String) -> Ephemeral {
    Ephemeral {
        response_type: "ephemeral",
        replace_original: false,
        text,
    }
}

/// A new message in the alert's channel, leaving the alert as it is.
pub fn in_channel(text: String) -> Ephemeral {
    Ephemeral {
        response_type: "in_channel",
        ..ephemeral(text)
    }
}

/// The alert, replaced for everyone in the channel.
#[derive(Debug, Serialize)]
pub struct Replacement {
    replace_original: bool,
    #[serde(flatten)]
    message: SlackMessage,
}

/// `alert` with a first line saying who did what, when, and how it went (`line` is
/// escaped mrkdwn built from trusted parts).
pub fn replacement(mut alert: SlackMessage, line: String) -> Replacement {
    let status = Block::Context {
        elements: vec![Text::mrkdwn(line, 3000)],
    };
    match alert.attachments.first_mut() {
        Some(a) => a.blocks.insert(0, status),
        None => alert.blocks.push(status),
    }
    Replacement {
        replace_original: true,
        message: alert,
    }
}

/// POSTs a reply (retried like every Slack message); the URL is never logged.
pub async fn post<P: Serialize>(url: &SecretUrl, reply: &P) -> Delivery {
    let policy = RetryPolicy {
        attempts: 2,
        ..RetryPolicy::default()
    };
    let body = serde_json::to_vec(reply).unwrap_or_default();
    post_with_retries(&client(&policy), url, &policy, "slack_response", &[], body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_go_only_to_slack_hooks_or_the_configured_loopback() {
        let prod = ReplyPolicy::default();
        assert!(
            prod.check("https://hooks.slack.com/actions/T1/2/abc")
                .is_some()
        );
        for bad in [
            "http://hooks.slack.com/actions/x",
            "https://hooks.slack.com.evil.example/x",
            "https://hooks.slack.com@evil.example/x",
            "https://evil.example/?https://hooks.slack.com/",
            "https://hooks.slack.com/a b",
            "http://127.0.0.1:8080/x",
        ] {
            assert!(prod.check(bad).is_none(), "{bad}");
        }
        let test = ReplyPolicy {
            loopback_base: Some("http://127.0.0.1:8080/".into()),
        };
        assert!(test.check("http://127.0.0.1:8080/hook").is_some());
        assert!(test.check("http://127.0.0.1:8081/hook").is_none());
        assert!(is_loopback_base("http://127.0.0.1:8080/"));
        for bad in [
            "http://10.0.0.1:80/",
            "http://127.0.0.1:80",
            "https://x/",
            "http://127.0.0.1:x/",
        ] {
            assert!(!is_loopback_base(bad), "{bad}");
        }
    }

    #[test]
    fn a_replacement_says_first_who_did_what() {
        let alert = SlackMessage::new("t".into(), vec![Block::header("h".into())]);
        let r = serde_json::to_value(replacement(alert, "*Contained* by <@U1>".into())).unwrap();
        assert_eq!(r["replace_original"], true);
        assert_eq!(
            r["blocks"][1]["elements"][0]["text"],
            "*Contained* by <@U1>"
        );
        let e = serde_json::to_value(ephemeral("no".into())).unwrap();
        assert_eq!(
            (e["response_type"].as_str(), e["replace_original"].as_bool()),
            (Some("ephemeral"), Some(false))
        );
    }
}
