//! Slack incoming-webhook payload (Block Kit) with a `text` fallback.
//!
//! Slack limits: header 150 characters, section text 3000, field 2000, 10 fields.

use super::{View, decision_word};
use crate::sanitize::{FieldKind, slack_escape};
use serde_json::{Value, json};

/// Cuts escaped mrkdwn to `max` characters without splitting an entity or a code fence.
fn fit(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    if let Some(amp) = cut.rfind('&')
        && !cut[amp..].contains(';')
    {
        cut.truncate(amp);
    }
    cut.push('…');
    cut
}

fn mrkdwn(text: String, max: usize) -> Value {
    json!({"type": "mrkdwn", "text": fit(text, max)})
}

pub(crate) fn payload(v: &View) -> Value {
    let p = v.plan;
    let headline = v.headline();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": fit(slack_escape(&headline), 150), "emoji": false}}),
        json!({"type": "section", "text": mrkdwn(format!("*Decision:* {} — {}\n*Type:* {}", decision_word(p.decision), slack_escape(&p.reason), v.finding_type().slack(FieldKind::Name)), 3000)}),
    ];
    let mut fields = vec![
        mrkdwn(format!("*Account*\n{}", v.account().slack(View::ID)), 2000),
        mrkdwn(format!("*Region*\n{}", v.region().slack(View::ID)), 2000),
        mrkdwn(format!("*Surface*\n{}", p.surface.as_str()), 2000),
    ];
    fields.extend(
        v.resource
            .iter()
            .take(7)
            .map(|f| mrkdwn(format!("*{}*\n{}", f.label, f.slack()), 2000)),
    );
    blocks.push(json!({"type": "section", "fields": fields}));

    let mut activity = String::new();
    for f in v.activity {
        if f.is_command_line() {
            activity.push_str(&format!("*{}*\n```{}```\n", f.label, f.slack()));
        } else {
            activity.push_str(&format!("*{}:* {}\n", f.label, f.slack()));
        }
    }
    if !activity.is_empty() {
        blocks.push(json!({"type": "section", "text": mrkdwn(activity, 3000)}));
    }
    if !v.steps.is_empty() {
        let lines: Vec<String> = v
            .steps
            .iter()
            .map(|s| {
                let detail = s.detail.slack(FieldKind::Text);
                let sep = if detail.is_empty() { "" } else { " — " };
                format!(
                    "• `{}` {}: *{}*{sep}{detail}",
                    s.kind,
                    s.target.slack(FieldKind::Path),
                    s.status
                )
            })
            .collect();
        blocks.push(json!({"type": "section", "text": mrkdwn(format!("*Actions*\n{}", lines.join("\n")), 3000)}));
    }
    let mut context = format!("Finding {}", v.finding_id().slack(View::ID));
    if let Some(url) = super::console_url(p) {
        // Built from validated region and hex id only; `&` must still be an entity for Slack.
        context.push_str(&format!(
            " · <{}|Open in the GuardDuty console>",
            url.replace('&', "&amp;")
        ));
    }
    blocks.push(json!({"type": "context", "elements": [mrkdwn(context, 3000)]}));
    let fallback = format!(
        "GuardDuty {} — {}",
        slack_escape(&headline),
        decision_word(p.decision)
    );
    json!({"text": fit(fallback, 3000), "blocks": blocks})
}
