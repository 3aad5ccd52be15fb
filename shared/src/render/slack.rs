//! Slack incoming-webhook payload (Block Kit) with a `text` fallback.
//!
//! Slack limits: header 150 characters, section text 3000, field 2000, 10 fields.
//! The payload is typed (not a `serde_json::Value` tree): it serializes to the same JSON
//! and costs a fraction of the allocations on the per-finding path.

use super::{View, decision_word};
use crate::sanitize::slack_escape;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// A Slack incoming-webhook message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// Notification and fallback text (mrkdwn).
    pub text: String,
    pub blocks: Vec<Block>,
}

/// The Block Kit blocks we send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Header {
        text: Text,
    },
    Section {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<Text>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fields: Vec<Text>,
    },
    Context {
        elements: Vec<Text>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Text {
    Mrkdwn { text: String },
    PlainText { text: String, emoji: bool },
}

impl Text {
    /// Escaped mrkdwn, cut to `max` characters.
    pub fn mrkdwn(escaped: String, max: usize) -> Text {
        Text::Mrkdwn {
            text: fit(escaped, max),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Text::Mrkdwn { text } | Text::PlainText { text, .. } => text,
        }
    }
}

impl Block {
    /// A header from escaped text (Slack's limit: 150 characters).
    pub fn header(escaped: String) -> Block {
        Block::Header {
            text: Text::PlainText {
                text: fit(escaped, 150),
                emoji: false,
            },
        }
    }
    /// A section of escaped mrkdwn (Slack's limit: 3000 characters).
    pub fn section(escaped: String) -> Block {
        Block::Section {
            text: Some(Text::mrkdwn(escaped, 3000)),
            fields: vec![],
        }
    }
    pub fn fields(fields: Vec<Text>) -> Block {
        Block::Section { text: None, fields }
    }
    /// Every text the block shows.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Block::Header { text } => vec![text.as_str()],
            Block::Section { text, fields } => {
                text.iter().chain(fields.iter()).map(Text::as_str).collect()
            }
            Block::Context { elements } => elements.iter().map(Text::as_str).collect(),
        }
    }
}

impl SlackMessage {
    /// A message whose fallback text is `escaped`, cut to 3000 characters.
    pub fn new(escaped: String, blocks: Vec<Block>) -> SlackMessage {
        SlackMessage {
            text: fit(escaped, 3000),
            blocks,
        }
    }
    /// Every text the message shows (fallback first).
    pub fn texts(&self) -> Vec<&str> {
        std::iter::once(self.text.as_str())
            .chain(self.blocks.iter().flat_map(Block::texts))
            .collect()
    }
}

/// Cuts escaped mrkdwn to `max` characters without splitting an entity.
pub(crate) fn fit(mut text: String, max: usize) -> String {
    // Byte length bounds the character count: most texts need no counting.
    if text.len() <= max || text.chars().count() <= max {
        return text;
    }
    let end = text
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    text.truncate(end);
    if let Some(amp) = text.rfind('&')
        && !text[amp..].contains(';')
    {
        text.truncate(amp);
    }
    text.push('…');
    text
}

pub(crate) fn payload(v: &View) -> SlackMessage {
    let p = v.plan;
    let headline = slack_escape(&v.headline);
    let mut blocks = vec![
        Block::header(headline.clone()),
        Block::section(format!(
            "*Decision:* {} — {}\n*Type:* {}",
            decision_word(p.decision),
            slack_escape(&p.reason),
            slack_escape(&v.finding_type)
        )),
    ];
    let mut fields = vec![
        Text::mrkdwn(format!("*Account*\n{}", slack_escape(&v.account)), 2000),
        Text::mrkdwn(format!("*Region*\n{}", slack_escape(&v.region)), 2000),
        Text::mrkdwn(format!("*Surface*\n{}", p.surface.as_str()), 2000),
    ];
    fields.extend(
        v.resource
            .iter()
            .take(7)
            .map(|f| Text::mrkdwn(format!("*{}*\n{}", f.label, f.slack()), 2000)),
    );
    blocks.push(Block::fields(fields));

    let mut activity = String::new();
    for f in v.activity {
        if f.is_command_line() {
            let _ = writeln!(activity, "*{}*\n```{}```", f.label, f.slack());
        } else {
            let _ = writeln!(activity, "*{}:* {}", f.label, f.slack());
        }
    }
    if !activity.is_empty() {
        blocks.push(Block::section(activity));
    }
    if !v.steps.is_empty() {
        let mut lines = String::from("*Actions*");
        for s in v.steps {
            let detail = slack_escape(&s.detail);
            let sep = if detail.is_empty() { "" } else { " — " };
            let _ = write!(
                lines,
                "\n• `{}` {}: *{}*{sep}{detail}",
                s.kind,
                slack_escape(&s.target),
                s.status
            );
        }
        blocks.push(Block::section(lines));
    }
    let mut context = format!("Finding {}", slack_escape(&v.finding_id));
    if let Some(url) = super::console_url(p) {
        // Built from validated region and hex id only; `&` must still be an entity for Slack.
        let _ = write!(
            context,
            " · <{}|Open in the GuardDuty console>",
            url.replace('&', "&amp;")
        );
    }
    blocks.push(Block::Context {
        elements: vec![Text::mrkdwn(context, 3000)],
    });
    SlackMessage::new(
        format!("GuardDuty {headline} — {}", decision_word(p.decision)),
        blocks,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_block_kit() {
        let m = SlackMessage::new(
            "t".into(),
            vec![
                Block::header("h".into()),
                Block::fields(vec![Text::mrkdwn("f".into(), 2000)]),
            ],
        );
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"text": "t", "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "h", "emoji": false}},
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}]}
            ]})
        );
    }

    #[test]
    fn fit_cuts_on_characters_and_never_inside_an_entity() {
        assert_eq!(fit("abc".into(), 3), "abc");
        assert_eq!(fit("ééé".into(), 3), "ééé");
        assert_eq!(fit("éééé".into(), 3), "éé…");
        assert_eq!(fit("ab&amp;cd".into(), 5), "ab…");
    }
}
