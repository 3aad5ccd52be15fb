//! The scheduled reminder: quarantines older than the configured age, one notification for
//! every channel, each with a **Release** button whose value is only an opaque
//! [`Reference`]. Pure; nothing at all when nothing is due. Every value passes the channel's
//! escaping renderer ([`crate::sanitize`]) even though the records were validated: tags and
//! labels are hostile.

use super::{Contained, Inventory, human_age};
use crate::interaction::{ButtonAction, Reference};
use crate::render::{Block, Notification, SlackMessage};
use crate::sanitize::{
    FieldKind, Untrusted, ascii_line, push_html_escaped, push_slack_code, slack_escape,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::fmt::Write;
use std::time::Duration;

/// Resources listed with a button (two blocks each; Slack allows 50 blocks).
pub const MAX_LISTED: usize = 20;

/// The reminder's default minimum age (`RESPONDER_REMINDER_MIN_AGE_HOURS`).
pub const DEFAULT_MIN_AGE_HOURS: u64 = 24;

fn plain(v: &str) -> String {
    Untrusted::from(v).plain(FieldKind::Path)
}

/// The Release button's value, when the record names the finding well enough for one.
pub fn release_reference(c: &Contained) -> Option<Reference> {
    Reference::new(
        ButtonAction::Release,
        &c.account,
        &c.region,
        c.finding_id.as_deref()?,
    )
    .ok()
}

fn lines(c: &Contained, now: DateTime<Utc>) -> [(String, String); 5] {
    let cluster = c
        .cluster
        .as_deref()
        .map(|k| format!(" in {k}"))
        .unwrap_or_default();
    [
        (
            "Resource".into(),
            format!(
                "{} {}{cluster} ({} {})",
                c.surface.as_str(),
                c.resource,
                c.account,
                c.region
            ),
        ),
        (
            "Finding".into(),
            format!(
                "{} {}",
                c.finding_id.as_deref().unwrap_or("unknown"),
                c.finding_type.as_deref().unwrap_or("")
            ),
        ),
        ("Contained for".into(), human_age(c.age(now))),
        ("Record".into(), c.record.label()),
        (
            "Release".into(),
            c.release_command
                .clone()
                .unwrap_or_else(|| "no command (see responder list)".into()),
        ),
    ]
}

fn slack_item(c: &Contained, now: DateTime<Utc>) -> Vec<Block> {
    let mut text = String::new();
    for (label, value) in lines(c, now) {
        text.push('*');
        text.push_str(&label);
        text.push_str(":* ");
        if label == "Release" && c.release_command.is_some() {
            text.push('`');
            push_slack_code(&mut text, &plain(&value));
            text.push('`');
        } else {
            text.push_str(&slack_escape(&plain(&value)));
        }
        text.push('\n');
    }
    let mut blocks = vec![Block::section(text)];
    // The alerts' own Release button (with its "are you sure?" dialog).
    if let Some(b) = release_reference(c).and_then(|r| crate::render::buttons::block(&[r])) {
        blocks.push(b);
    }
    blocks
}

/// The reminder for what in `inv` is at least `min_age` old; `None` when nothing is.
pub fn reminder(inv: &Inventory, min_age: Duration, now: DateTime<Utc>) -> Option<Notification> {
    let due: Vec<&Contained> = inv
        .contained
        .iter()
        .filter(|c| c.is_older_than(min_age, now))
        .collect();
    if due.is_empty() {
        return None;
    }
    let age = human_age(Some(min_age));
    let headline = match due.len() {
        1 => format!("1 quarantine older than {age}"),
        n => format!("{n} quarantines older than {age}"),
    };
    let ask = "Release what has been investigated, or say why it stays.";
    let listed = &due[..due.len().min(MAX_LISTED)];
    let more = due.len() - listed.len();
    let more_line = (more > 0).then(|| format!("…and {more} more: run `responder list`."));

    let mut text = format!("{headline}. {ask}\n");
    let mut html = format!("<h1>{}</h1><p>{ask}</p><ul>", html_text(&headline));
    let mut blocks = vec![
        Block::header(headline.clone()),
        Block::section(slack_escape(ask)),
    ];
    for c in listed {
        text.push('\n');
        html.push_str("<li>");
        for (label, value) in lines(c, now) {
            let _ = writeln!(text, "  {label}: {}", plain(&value));
            let _ = write!(html, "<b>{label}:</b> {}<br>", html_text(&plain(&value)));
        }
        html.push_str("</li>");
        blocks.extend(slack_item(c, now));
    }
    html.push_str("</ul>");
    if let Some(m) = &more_line {
        let _ = writeln!(text, "\n{m}");
        let _ = write!(html, "<p>{}</p>", html_text(m));
        blocks.push(Block::section(slack_escape(m)));
    }
    Some(Notification {
        subject: ascii_line(&format!("GuardDuty responder: {headline}"), 100),
        slack: SlackMessage::new(slack_escape(&headline), blocks),
        text,
        html,
    })
}

fn html_text(v: &str) -> String {
    let mut out = String::new();
    push_html_escaped(&mut out, v);
    out
}

/// The SNS JSON document of a reminder.
pub fn document(inv: &Inventory, min_age: Duration, now: DateTime<Utc>, text: &str) -> Value {
    let due: Vec<Value> = super::table::json(inv, now)["contained"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(&inv.contained)
        .filter(|(_, c)| c.is_older_than(min_age, now))
        .map(|(v, _)| v.clone())
        .collect();
    json!({"kind": "reminder", "min_age_seconds": min_age.as_secs(), "due": due, "text": text})
}

#[cfg(test)]
#[path = "reminder_tests.rs"]
mod tests;
