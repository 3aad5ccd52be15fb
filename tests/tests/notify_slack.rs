//! Slack notifications against a real local HTTP server: hostile payloads arrive inert,
//! and the client retries 429 (honouring Retry-After), 5xx and timeouts.

use integration_tests::webhook::{Reply, Webhook};
use responder::Config;
use responder::notify::secret::SecretUrl;
use responder::notify::slack::{RetryPolicy, SlackNotifier};
use responder::pipeline::{Handled, plan_input};
use responder::sanitize::is_dangerous;
use std::time::{Duration, Instant};

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
        timeout: Duration::from_millis(500),
    }
}

fn payloads(file: &str) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(format!("{}/../events/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    plan_input(&bytes, &Config::default())
        .unwrap()
        .into_iter()
        .filter_map(|h| match h {
            Handled::Plan(p) => Some(serde_json::to_value(&p.notification().slack).unwrap()),
            Handled::NotAFinding { .. } => None,
        })
        .collect()
}

/// `text` without our `<https://…|label>` links, each checked to hold no markup.
fn without_our_links(text: &str) -> String {
    let mut pieces = text.split('<');
    let mut out = pieces.next().unwrap_or("").to_owned();
    for piece in pieces {
        let ours = [
            "https://console.aws.amazon.com/",
            "https://attack.mitre.org/",
        ];
        match piece.split_once('>') {
            Some((link, rest)) if ours.iter().any(|h| link.starts_with(h)) => {
                let (url, label) = link.split_once('|').expect("a labelled link");
                assert!(
                    !url.contains([' ', '"']) && !label.contains('|'),
                    "{text:?}"
                );
                out.push_str(rest);
            }
            _ => {
                out.push('<');
                out.push_str(piece);
            }
        }
    }
    out
}

fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn hostile_payloads_arrive_inert() {
    let hook = Webhook::start(vec![]).await;
    let slack = SlackNotifier::with_policy(SecretUrl::new(hook.url()), fast_policy());
    let files: Vec<String> = std::fs::read_dir(format!("{}/../events", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.starts_with("hostile-"))
        .collect();
    assert!(files.len() >= 5);
    let mut sent = 0;
    for f in &files {
        for p in payloads(f) {
            assert!(slack.post(&p).await.ok, "{f}");
            sent += 1;
        }
    }
    let received = hook.received();
    assert_eq!(received.len(), sent);
    for r in received {
        assert!(r.content_type.starts_with("application/json"));
        let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(doc["blocks"][0]["type"], "header");
        // The rest sits in the attachment whose colour bar is the severity.
        let attachment = &doc["attachments"][0];
        assert!(
            attachment["color"]
                .as_str()
                .is_some_and(|c| c.len() == 7 && c.starts_with('#'))
        );
        let blocks = doc["blocks"].as_array().unwrap().len()
            + attachment["blocks"].as_array().map_or(0, Vec::len);
        assert!(
            doc["text"].is_string() && (3..=50).contains(&blocks),
            "{blocks} blocks"
        );
        let mut texts = Vec::new();
        strings(&doc, &mut texts);
        for t in texts {
            // Our links (console, ATT&CK) are built from validated parts; attacker text has
            // no other angle bracket.
            let attacker_part = &without_our_links(&t);
            assert!(
                !attacker_part.contains('<') && !attacker_part.contains('>'),
                "raw bracket: {t:?}"
            );
            for (i, _) in attacker_part.match_indices('&') {
                let rest = &attacker_part[i..];
                assert!(
                    rest.starts_with("&amp;")
                        || rest.starts_with("&lt;")
                        || rest.starts_with("&gt;"),
                    "unescaped &: {t:?}"
                );
            }
            assert!(
                !t.contains("<!channel>") && !t.contains("<!here>") && !t.contains("<@U"),
                "{t:?}"
            );
            assert!(
                !t.chars().any(|c| c != '\n' && is_dangerous(c)),
                "control/bidi: {t:?}"
            );
            assert_eq!(t.matches("```").count() % 2, 0, "code fence broken: {t:?}");
            assert!(t.chars().count() <= 3000, "over Slack's limit");
        }
    }
}

#[tokio::test]
async fn rate_limited_posts_wait_for_retry_after() {
    let hook = Webhook::start(vec![Reply {
        status: 429,
        retry_after: Some(1),
        ..Reply::default()
    }])
    .await;
    let slack = SlackNotifier::with_policy(SecretUrl::new(hook.url()), fast_policy());
    let d = slack.post(&serde_json::json!({"text": "x"})).await;
    assert!(d.ok, "{d:?}");
    let r = hook.received();
    assert_eq!(r.len(), 2);
    assert!(
        r[1].at - r[0].at >= Duration::from_millis(950),
        "retried after {:?}",
        r[1].at - r[0].at
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let hook = Webhook::start(vec![Reply::status(500), Reply::status(503)]).await;
    let slack = SlackNotifier::with_policy(SecretUrl::new(hook.url()), fast_policy());
    let d = slack.post(&serde_json::json!({"text": "x"})).await;
    assert!(d.ok, "{d:?}");
    assert_eq!(hook.received().len(), 3);
}

#[tokio::test]
async fn a_hung_webhook_times_out_and_is_retried() {
    let hook = Webhook::start(vec![Reply {
        status: 200,
        delay: Duration::from_secs(3),
        ..Reply::default()
    }])
    .await;
    let slack = SlackNotifier::with_policy(SecretUrl::new(hook.url()), fast_policy());
    let started = Instant::now();
    let d = slack.post(&serde_json::json!({"text": "x"})).await;
    assert!(d.ok, "{d:?}");
    assert_eq!(hook.received().len(), 2);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited for the hung request"
    );
}

#[tokio::test]
async fn persistent_failure_is_reported_not_hidden() {
    let hook = Webhook::start(vec![Reply::status(500); 5]).await;
    let slack = SlackNotifier::with_policy(SecretUrl::new(hook.url()), fast_policy());
    let d = slack.post(&serde_json::json!({"text": "x"})).await;
    assert!(
        !d.ok && d.detail.contains("500") && d.detail.contains("3 attempts"),
        "{d:?}"
    );
    assert!(
        !d.detail.contains("127.0.0.1"),
        "the webhook URL leaked into the report"
    );
    let hook = Webhook::start(vec![Reply::status(404)]).await;
    let d = SlackNotifier::with_policy(SecretUrl::new(hook.url()), fast_policy())
        .post(&serde_json::json!({}))
        .await;
    assert!(
        !d.ok && hook.received().len() == 1,
        "4xx must not be retried"
    );
}
