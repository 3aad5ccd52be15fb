//! The Slack alert: a header, then an attachment whose colour bar is the severity, holding
//! a context line that says severity and decision in words (colour is never the only
//! signal), what happened (indicators first), the resource fields, ATT&CK, what we did,
//! what to do next, how to undo it and the links.
//!
//! Within Block Kit's limits: 50 blocks in all, 3,000 characters per section text, 10
//! fields of 2,000. Each activity value has its own budget (a `&` alone becomes five
//! characters), so no value can crowd the others out; past the block limit the last
//! activity sections give way to one line saying how many facts are in the other channels.

use super::facts::Fact;
use super::slack::{Attachment, Block, SECTION_MAX, SlackMessage, Text, cut_from};
use super::{View, buttons, decision_word};
use crate::sanitize::{FieldKind, push_slack_code, push_slack_escaped, slack_escape};

/// Slack's limit on blocks in one message, attachments included.
pub(crate) const MAX_BLOCKS: usize = 50;

/// Slack characters one activity value may take once escaped.
fn slack_budget(kind: FieldKind) -> usize {
    match kind {
        FieldKind::Name => 300,
        FieldKind::Path => 700,
        FieldKind::CommandLine | FieldKind::Text => 1000,
    }
}

/// The activity facts as sections of at most 3000 characters, a new one whenever the next
/// fact would not fit, so that every fact is shown; with the number of facts in each.
fn activity_sections(facts: &[Fact]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut section = String::with_capacity(1024);
    let mut count = 0;
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
        count += 1;
        // Bytes bound characters; one fact alone is always under the limit.
        if section.len() > SECTION_MAX && line_start > 0 {
            let line = section.split_off(line_start);
            out.push((std::mem::replace(&mut section, line), count - 1));
            count = 1;
        }
    }
    if !section.is_empty() {
        out.push((section, count));
    }
    out
}

/// At most `room` sections: past it, the last ones give way to a line counting their facts.
fn within(mut sections: Vec<(String, usize)>, room: usize) -> Vec<String> {
    if sections.len() > room {
        let cut: usize = sections
            .drain(room.saturating_sub(1)..)
            .map(|(_, n)| n)
            .sum();
        sections.push((
            format!("_{cut} more facts are in the e-mail and the text alert._"),
            0,
        ));
    }
    sections.into_iter().map(|(s, _)| s).collect()
}

/// `<url|label>`: the URL is one of ours (validated, no `|` or `>`), the label escaped.
fn push_link(out: &mut String, url: &str, label: &str) {
    out.push('<');
    out.push_str(&url.replace('&', "&amp;"));
    out.push('|');
    push_slack_escaped(out, label);
    out.push('>');
}

fn field(label: &str, value: &str) -> Text {
    let mut text = String::with_capacity(label.len() + value.len() + 8);
    text.push('*');
    text.push_str(label);
    text.push_str("*\n");
    push_slack_escaped(&mut text, value);
    Text::mrkdwn(text, 2000)
}

fn context(escaped: String) -> Block {
    Block::Context {
        elements: vec![Text::mrkdwn(escaped, SECTION_MAX)],
    }
}

/// Severity and decision in words, with where.
fn context_line(v: &View) -> Block {
    let p = v.plan;
    let mut line = String::with_capacity(128);
    line.push('*');
    line.push_str(v.guide.severity_word);
    line.push_str("* severity (");
    super::push_one_decimal(&mut line, p.severity);
    line.push_str(") · Decision *");
    line.push_str(decision_word(p.decision));
    line.push_str("* · ");
    line.push_str(p.surface.as_str());
    line.push_str(" · account ");
    push_slack_escaped(&mut line, &v.account);
    line.push_str(" · ");
    push_slack_escaped(&mut line, &v.region);
    context(line)
}

fn summary(v: &View) -> Block {
    let mut s = String::with_capacity(256 + v.plan.reason.len());
    s.push_str("*What happened*\n");
    if let Some(m) = v.guide.attack.meaning {
        push_slack_escaped(&mut s, m);
        s.push('\n');
    }
    s.push_str("*Type:* ");
    push_slack_escaped(&mut s, &v.finding_type);
    s.push_str("\n*Why ");
    s.push_str(decision_word(v.plan.decision));
    s.push_str(":* ");
    push_slack_escaped(&mut s, &v.plan.reason);
    Block::section(s)
}

fn attack(v: &View) -> Option<Block> {
    let a = &v.guide.attack;
    if a.tactics.is_empty() && a.techniques.is_empty() {
        return None;
    }
    let mut s = String::from("*MITRE ATT&amp;CK*\n");
    for (i, r) in a.tactics.iter().chain(&a.techniques).enumerate() {
        if i > 0 {
            s.push_str(" · ");
        }
        push_link(&mut s, &r.url(), &r.label());
    }
    Some(Block::section(s))
}

fn actions(v: &View) -> Option<Block> {
    if v.steps.is_empty() {
        return None;
    }
    let mut lines = String::with_capacity(64 * (v.steps.len() + 1));
    lines.push('*');
    lines.push_str(v.guide.actions_heading());
    lines.push('*');
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
    Some(Block::section(lines))
}

fn next_steps(v: &View) -> Block {
    let g = &v.guide;
    let mut s = String::from("*What to do next*");
    for (i, c) in g.checks().iter().enumerate() {
        s.push('\n');
        s.push_str(itoa::Buffer::new().format(i + 1));
        s.push_str(". ");
        push_slack_escaped(&mut s, c);
    }
    s.push_str("\nRunbook: ");
    let path = g.runbook_path();
    match &g.runbook_url {
        Some(url) => push_link(&mut s, url, &path),
        None => push_slack_escaped(&mut s, &path),
    }
    Block::section(s)
}

fn undo(v: &View) -> Block {
    let g = &v.guide;
    let mut s = String::from("*How to undo it*\n");
    for c in g.commands() {
        s.push_str("```");
        push_slack_code(&mut s, c);
        s.push_str("```\n");
    }
    push_slack_escaped(&mut s, g.undo_note());
    Block::section(s)
}

fn links(v: &View) -> Block {
    let mut s = String::with_capacity(512);
    s.push_str("Finding ");
    push_slack_escaped(&mut s, &v.finding_id);
    for l in &v.guide.links {
        s.push_str(" · ");
        push_link(&mut s, &l.url, l.label);
    }
    context(s)
}

/// What a push notification shows: the headline, the decision and the meaning.
fn fallback(v: &View, headline: &str) -> String {
    let mut t = String::with_capacity(200);
    t.push_str("GuardDuty ");
    t.push_str(headline);
    t.push_str(" — ");
    t.push_str(decision_word(v.plan.decision));
    t.push_str(": ");
    match v.guide.attack.meaning {
        Some(m) => push_slack_escaped(&mut t, m),
        None => push_slack_escaped(&mut t, &v.finding_type),
    }
    t
}

pub(crate) fn payload(v: &View) -> SlackMessage {
    let p = v.plan;
    let headline = slack_escape(&v.headline);
    let mut fields = Vec::with_capacity(10);
    fields.push(field("Account", &v.account));
    fields.push(field("Region", &v.region));
    fields.push(field("Surface", p.surface.as_str()));
    // Slack shows at most 10 fields.
    fields.extend(v.resource.iter().take(7).map(|f| field(f.label, f.plain())));

    // The buttons right under the summary: a long alert is folded by Slack below it.
    let head: Vec<Block> = [
        Some(context_line(v)),
        Some(summary(v)),
        buttons::block(&v.buttons),
    ]
    .into_iter()
    .flatten()
    .collect();
    let tail: Vec<Block> = [
        Some(Block::fields(fields)),
        attack(v),
        actions(v),
        Some(next_steps(v)),
        Some(undo(v)),
        Some(links(v)),
    ]
    .into_iter()
    .flatten()
    .collect();
    // The header sits outside the attachment.
    let room = MAX_BLOCKS - 1 - head.len() - tail.len();
    let mut blocks: Vec<Block> = Vec::with_capacity(MAX_BLOCKS);
    blocks.extend(head);
    blocks.extend(
        within(activity_sections(v.activity), room)
            .into_iter()
            .map(Block::section),
    );
    blocks.extend(tail);
    let mut message = SlackMessage::new(fallback(v, &headline), vec![Block::header(headline)]);
    message.attachments.push(Attachment {
        color: v.guide.colour.to_owned(),
        blocks,
    });
    message
}

#[cfg(test)]
#[path = "slack_payload_tests.rs"]
mod tests;
