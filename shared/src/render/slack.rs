//! Slack incoming-webhook payload (Block Kit) with a `text` fallback.
//!
//! Slack limits: header 150 characters, section text 3000, field 2000, 10 fields.
//! Every mrkdwn text is `verbatim`, so Slack does not turn URLs, channel names or
//! `@here`/`@channel` in finding data into links or mentions.
//! The payload is typed (not a `serde_json::Value` tree): it serializes to the same JSON
//! and costs a fraction of the allocations on the per-finding path.

use serde::{Deserialize, Serialize};

/// A Slack incoming-webhook message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// Notification and fallback text (mrkdwn).
    pub text: String,
    pub blocks: Vec<Block>,
    /// The coloured part of the message: Slack draws the bar of `color` along its blocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Always `false`: Slack must not fetch a link it finds (an attacker's URL would learn
    /// that the alert fired).
    #[serde(default)]
    pub unfurl_links: bool,
    #[serde(default)]
    pub unfurl_media: bool,
}

/// Blocks with a colour bar (Slack's secondary attachment, which may hold blocks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// `#rrggbb`, from the severity.
    pub color: String,
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
    /// Interactive buttons (at most 25 a block).
    Actions {
        elements: Vec<Button>,
    },
}

/// A Block Kit button. Its `value` is an opaque reference (`crate::interaction::Reference`),
/// never a plan: the interactions function re-reads everything else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "button")]
pub struct Button {
    pub text: Text,
    pub action_id: String,
    pub value: String,
}

impl Button {
    /// A button labelled `label` (plain text, cut to Slack's 75 characters).
    pub fn new(label: &str, action_id: &str, value: String) -> Button {
        Button {
            text: Text::PlainText {
                text: label.chars().take(75).collect(),
                emoji: false,
            },
            action_id: action_id.to_owned(),
            value,
        }
    }
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
            Block::Actions { elements } => elements.iter().map(|b| b.text.as_str()).collect(),
        }
    }
}

impl SlackMessage {
    /// A message whose fallback text is `escaped`, cut to 3000 characters.
    pub fn new(escaped: String, blocks: Vec<Block>) -> SlackMessage {
        SlackMessage {
            text: fit(escaped, 3000),
            blocks,
            attachments: Vec::new(),
            unfurl_links: false,
            unfurl_media: false,
        }
    }
    /// Every text the message shows (fallback first).
    pub fn texts(&self) -> Vec<&str> {
        std::iter::once(self.text.as_str())
            .chain(self.all_blocks().flat_map(Block::texts))
            .collect()
    }
    /// The blocks of the message and of its attachments (Slack's limit of 50 is on all).
    pub fn all_blocks(&self) -> impl Iterator<Item = &Block> {
        self.blocks
            .iter()
            .chain(self.attachments.iter().flat_map(|a| &a.blocks))
    }
}

/// Slack's limit on a section's text.
pub(super) const SECTION_MAX: usize = 3000;

/// Cuts escaped mrkdwn to `max` characters without splitting an entity.
pub(crate) fn fit(mut text: String, max: usize) -> String {
    cut_from(&mut text, 0, max);
    text
}

/// Cuts `out[start..]` (escaped mrkdwn) to `max` characters, ending in `…` when cut.
pub(super) fn cut_from(out: &mut String, start: usize, max: usize) {
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
