//! The short "still active" message for a finding that is already contained: GuardDuty
//! re-publishes active findings (every 15 min to 6 h) and EventBridge may re-deliver, and
//! on-call should not get a fresh alert each time.

use super::{Block, Notification, SlackMessage, View};
use crate::plan::ResponsePlan;
use crate::sanitize::{FieldKind, Untrusted, ascii_line, slack_escape};

pub fn still_active(plan: &ResponsePlan) -> Notification {
    let short = super::short_type(plan).plain(FieldKind::Name);
    let id = Untrusted::new(plan.finding_id.as_str());
    let head = format!(
        "{} {} on {} still active (count {})",
        plan.severity_label.as_str(),
        plan.classification.family_label(),
        plan.surface.as_str(),
        plan.count
    );
    let subject = ascii_line(
        &format!("GuardDuty {head}: {short} - already contained"),
        100,
    );
    let text = format!(
        "GuardDuty {head}: {short}\nAlready contained; no new action taken.\nFinding id: {}\n",
        id.plain(View::ID)
    );
    let html = format!(
        "<p>GuardDuty {}: {}<br>Already contained; no new action taken.<br>Finding id: {}</p>",
        html_escape::encode_text(&head),
        html_escape::encode_text(&short),
        id.html(View::ID)
    );
    let line = format!(
        "{} — already contained, no new action. Finding {}",
        slack_escape(&format!("{head}: {short}")),
        id.slack(View::ID)
    );
    Notification {
        subject,
        text,
        html,
        slack: SlackMessage::new(line.clone(), vec![Block::section(line)]),
    }
}
