//! Slack incoming-webhook payload (Block Kit) with a `text` fallback.
//!
//! Slack limits: header 150 characters, section text 3000, field 2000, 10 fields.
//! Every mrkdwn text is `verbatim`, so Slack does not turn URLs, channel names or
//! `@here`/`@channel` in finding data into links or mentions.
//! The payload is typed (not a `serde_json::Value` tree): it serializes to the same JSON
//! and costs a fraction of the allocations on the per-finding path.

use super::facts::Fact;
use super::{View, decision_word};
use crate::sanitize::{FieldKind, push_slack_escaped, slack_escape};
use serde::{Deserialize, Serialize};

/// A Slack incoming-webhook message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// Notification and fallback text (mrkdwn).
    pub text: String,
    pub blocks: Vec<Block>,
    /// Always `false`: Slack must not fetch a link it finds (an attacker's URL would learn
    /// that the alert fired).
    #[serde(default)]
    pub unfurl_links: bool,
    #[serde(default)]
    pub unfurl_media: bool,
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
    Mrkdwn {
        text: String,
        /// Always `true` (see [`Text::mrkdwn`]).
        #[serde(default)]
        verbatim: bool,
    },
    PlainText {
        text: String,
        emoji: bool,
    },
}

impl Text {
    /// Escaped mrkdwn, cut to `max` characters, shown verbatim: Slack links nothing in it
    /// by itself (our own `<url|label>` links still work).
    pub fn mrkdwn(escaped: String, max: usize) -> Text {
        Text::Mrkdwn {
            text: fit(escaped, max),
            verbatim: true,
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Text::Mrkdwn { text, .. } | Text::PlainText { text, .. } => text,
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
            text: Some(Text::mrkdwn(escaped, SECTION_MAX)),
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
            unfurl_links: false,
            unfurl_media: false,
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
    cut_from(&mut text, 0, max);
    text
}

/// Cuts `out[start..]` (escaped mrkdwn) to `max` characters, ending in `…` when cut.
fn cut_from(out: &mut String, start: usize, max: usize) {
    let tail = &out[start..];
    // Byte length bounds the character count: most texts need no counting.
    if tail.len() <= max || tail.chars().count() <= max {
        return;
    }
    let end = tail
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(tail.len(), |(i, _)| i);
    out.truncate(start + end);
    if let Some(amp) = out[start..].rfind('&')
        && !out[start + amp..].contains(';')
    {
        out.truncate(start + amp);
    }
    out.push('…');
}

/// Slack characters one activity value may take once escaped (a `&` alone becomes five):
/// each value has its own budget, so no value can crowd the others out of the message.
fn slack_budget(kind: FieldKind) -> usize {
    match kind {
        FieldKind::Name => 300,
        FieldKind::Path => 700,
        FieldKind::CommandLine | FieldKind::Text => 1000,
    }
}

/// The activity facts as sections of at most 3000 characters, a new one whenever the next
/// fact would not fit, so that every fact is shown.
fn activity_sections(facts: &[Fact], blocks: &mut Vec<Block>) {
    let mut section = String::with_capacity(1024);
    for f in facts {
        let line_start = section.len();
        section.push('*');
        section.push_str(f.label);
        let fence = f.is_command_line();
        section.push_str(if fence { "*\n```" } else { ":* " });
        let value_start = section.len();
        push_slack_escaped(&mut section, f.plain());
        cut_from(&mut section, value_start, slack_budget(f.kind()));
        section.push_str(if fence { "```\n" } else { "\n" });
        // Bytes bound characters; one fact alone is always under the limit.
        if section.len() > SECTION_MAX && line_start > 0 {
            let line = section.split_off(line_start);
            blocks.push(Block::section(std::mem::replace(&mut section, line)));
        }
    }
    if !section.is_empty() {
        blocks.push(Block::section(section));
    }
}

const SECTION_MAX: usize = 3000;

pub(crate) fn payload(v: &View) -> SlackMessage {
    let p = v.plan;
    let headline = slack_escape(&v.headline);
    let decision = decision_word(p.decision);
    // Header, decision, fields, activity, actions, context.
    let mut blocks = Vec::with_capacity(6);
    blocks.push(Block::header(headline.clone()));
    let mut summary = String::with_capacity(64 + p.reason.len() + v.finding_type.len());
    summary.push_str("*Decision:* ");
    summary.push_str(decision);
    summary.push_str(" — ");
    push_slack_escaped(&mut summary, &p.reason);
    summary.push_str("\n*Type:* ");
    push_slack_escaped(&mut summary, &v.finding_type);
    blocks.push(Block::section(summary));
    let field = |label: &str, value: &str| {
        let mut text = String::with_capacity(label.len() + value.len() + 8);
        text.push('*');
        text.push_str(label);
        text.push_str("*\n");
        push_slack_escaped(&mut text, value);
        Text::mrkdwn(text, 2000)
    };
    // Slack shows at most 10 fields.
    let mut fields = Vec::with_capacity(10);
    fields.push(field("Account", &v.account));
    fields.push(field("Region", &v.region));
    fields.push(field("Surface", p.surface.as_str()));
    fields.extend(v.resource.iter().take(7).map(|f| field(f.label, f.plain())));
    blocks.push(Block::fields(fields));

    activity_sections(v.activity, &mut blocks);
    if !v.steps.is_empty() {
        let mut lines = String::with_capacity(64 * (v.steps.len() + 1));
        lines.push_str("*Actions*");
        for s in v.steps {
            lines.push_str("\n• `");
            lines.push_str(s.kind);
            lines.push_str("` ");
            push_slack_escaped(&mut lines, &s.target);
            lines.push_str(": *");
            lines.push_str(s.status);
            lines.push('*');
            if !s.detail.is_empty() {
                lines.push_str(" — ");
                push_slack_escaped(&mut lines, &s.detail);
            }
        }
        blocks.push(Block::section(lines));
    }
    let mut context = String::with_capacity(160);
    context.push_str("Finding ");
    push_slack_escaped(&mut context, &v.finding_id);
    if let Some(url) = &v.console_url {
        context.push_str(" · <");
        context.push_str(&url.replace('&', "&amp;"));
        context.push_str("|Open in the GuardDuty console>");
    }
    blocks.push(Block::Context {
        elements: vec![Text::mrkdwn(context, 3000)],
    });
    SlackMessage::new(["GuardDuty ", &headline, " — ", decision].concat(), blocks)
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
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "f", "verbatim": true}]}
            ], "unfurl_links": false, "unfurl_media": false})
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
