//! Short updates instead of a fresh alert. GuardDuty re-publishes active findings (every
//! 15 min to 6 h, with a higher `service.count`) and EventBridge may re-deliver: on-call
//! should get one full alert per finding, then a line per repeat, and a full alert again
//! only when the severity or the decision changes.

use super::{Block, Notification, SlackMessage, View};
use crate::plan::ResponsePlan;
use crate::sanitize::{FieldKind, Untrusted, ascii_line, slack_escape};

/// A finding that is already contained.
pub fn still_active(plan: &ResponsePlan) -> Notification {
    short_update(
        plan,
        "already contained",
        "Already contained; no new action taken.",
    )
}

/// A notify-only finding notified before with the same severity and decision.
pub fn still_notified(plan: &ResponsePlan) -> Notification {
    let last_seen = plan
        .finding
        .service
        .event_last_seen
        .as_ref()
        .and_then(|t| t.as_datetime())
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| "unknown".into());
    short_update(
        plan,
        "still active",
        &format!(
            "Notified earlier with the same severity and decision ({}); last seen {last_seen}.",
            plan.decision.as_str()
        ),
    )
}

/// `what` and `line` are built from trusted parts only.
fn short_update(plan: &ResponsePlan, what: &str, line: &str) -> Notification {
    let short = super::short_type(plan).plain(FieldKind::Name);
    let id = Untrusted::new(plan.finding_id.as_str());
    let head = format!(
        "{} {} on {} still active (count {})",
        plan.severity_label.as_str(),
        plan.classification.family_label(),
        plan.surface.as_str(),
        plan.count
    );
    let subject = ascii_line(&format!("GuardDuty {head}: {short} - {what}"), 100);
    let text = format!(
        "GuardDuty {head}: {short}\n{line}\nFinding id: {}\n",
        id.plain(View::ID)
    );
    let html = format!(
        "<p>GuardDuty {}: {}<br>{}<br>Finding id: {}</p>",
        html_escape::encode_text(&head),
        html_escape::encode_text(&short),
        html_escape::encode_text(line),
        id.html(View::ID)
    );
    let slack_line = format!(
        "{} — {what}. {} Finding {}",
        slack_escape(&format!("{head}: {short}")),
        slack_escape(line),
        id.slack(View::ID)
    );
    Notification {
        subject,
        text,
        html,
        slack: SlackMessage::new(slack_line.clone(), vec![Block::section(slack_line)]),
    }
}
