//! Coverage notifications for every channel: a health change (blind / recovered) and an audit
//! report. Names, ids, statuses and issue text are attacker-influenced and reach a channel
//! only through that channel's renderer in [`crate::sanitize`]; hints are trusted text.

use super::audit::AuditReport;
use super::event::{Change, HealthEvent};
use super::hint::Cause;
use super::resource::CoveredResource;
use crate::render::{Block, Notification, SlackMessage, Text};
use crate::sanitize::{FieldKind, Untrusted, ascii_line, slack_escape};
use std::fmt::Write;

const NAME: FieldKind = FieldKind::Name;
const TEXT: FieldKind = FieldKind::Text;
/// Resources listed in one audit notification; the rest are counted.
const MAX_LISTED: usize = 25;

fn esc(trusted: &str) -> String {
    html_escape::encode_quoted_attribute(trusted).into_owned()
}

fn mrkdwn(text: String) -> Text {
    Text::mrkdwn(text, 3000)
}

fn timestamp(r: &CoveredResource) -> Option<String> {
    r.updated_at.as_ref().map(|t| match t.as_datetime() {
        Some(at) => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => "(unreadable time)".into(),
    })
}

fn issues_or_none(r: &CoveredResource) -> Vec<&Untrusted> {
    r.issues.iter().filter(|i| !i.is_empty()).collect()
}

/// The notification for one health change.
pub fn health_notification(e: &HealthEvent) -> Notification {
    let r = &e.resource;
    let noun = r.resource_type.noun();
    let (verb, consequence) = match e.change {
        Change::Unhealthy => (
            "BLIND",
            "GuardDuty produces no Runtime findings for it until coverage is healthy again.",
        ),
        Change::Healthy => (
            "recovered",
            "Runtime Monitoring coverage is healthy again: Runtime findings flow for it.",
        ),
    };
    let cause = (e.change == Change::Unhealthy).then(|| Cause::of(r));
    let subject = ascii_line(
        &format!(
            "GuardDuty coverage {}: {noun} {}",
            match e.change {
                Change::Unhealthy => "UNHEALTHY",
                Change::Healthy => "recovered",
            },
            r.name.plain(NAME)
        ),
        100,
    );
    let headline = format!("Runtime Monitoring {verb} on {noun}");

    // Plain text.
    let mut text = String::new();
    let _ = writeln!(text, "{headline}: {}", r.name.plain(NAME));
    let _ = writeln!(text, "{consequence}");
    let _ = writeln!(
        text,
        "Status: {} (was {})",
        r.status.plain(NAME),
        e.previous_status.plain(NAME)
    );
    let _ = writeln!(
        text,
        "Account: {}  Region: {}",
        r.account_id.plain(NAME),
        e.region.plain(NAME)
    );
    for i in issues_or_none(r) {
        let _ = writeln!(text, "Issue: {}", i.plain(TEXT));
    }
    for d in &r.details {
        let _ = writeln!(text, "{}: {}", d.label, d.value.plain(NAME));
    }
    if let Some(t) = timestamp(r) {
        let _ = writeln!(text, "Last updated: {t}");
    }
    if let Some(c) = cause {
        let _ = writeln!(text, "Likely fix: {}", c.hint());
    }

    // HTML.
    let mut html = String::new();
    let _ = write!(
        html,
        "<h2>GuardDuty {}: {}</h2><p>{}</p><table>",
        esc(&headline),
        r.name.html(NAME),
        esc(consequence)
    );
    let row = |s: &mut String, label: &str, value: String| {
        let _ = write!(
            s,
            "<tr><th align=\"left\">{}</th><td>{value}</td></tr>",
            esc(label)
        );
    };
    row(
        &mut html,
        "Status",
        format!(
            "{} (was {})",
            r.status.html(NAME),
            e.previous_status.html(NAME)
        ),
    );
    row(&mut html, "Account", r.account_id.html(NAME));
    row(&mut html, "Region", e.region.html(NAME));
    for i in issues_or_none(r) {
        row(&mut html, "Issue", i.html(TEXT));
    }
    for d in &r.details {
        row(&mut html, d.label, d.value.html(NAME));
    }
    if let Some(t) = timestamp(r) {
        row(&mut html, "Last updated", esc(&t));
    }
    html.push_str("</table>");
    if let Some(c) = cause {
        let _ = write!(html, "<p><b>Likely fix:</b> {}</p>", esc(c.hint()));
    }

    // Slack.
    let mut fields = vec![
        mrkdwn(format!(
            "*Status*\n{} (was {})",
            r.status.slack(NAME),
            e.previous_status.slack(NAME)
        )),
        mrkdwn(format!("*Account*\n{}", r.account_id.slack(NAME))),
        mrkdwn(format!("*Region*\n{}", e.region.slack(NAME))),
    ];
    fields.extend(
        r.details
            .iter()
            .take(6)
            .map(|d| mrkdwn(format!("*{}*\n{}", d.label, d.value.slack(NAME)))),
    );
    if let Some(t) = timestamp(r) {
        fields.truncate(9);
        fields.push(mrkdwn(format!("*Last updated*\n{}", slack_escape(&t))));
    }
    let mut blocks = vec![
        Block::header(slack_escape(&format!("GuardDuty {headline}"))),
        Block::section(format!(
            "*{}*\n{}",
            r.name.slack(NAME),
            slack_escape(consequence)
        )),
        Block::fields(fields),
    ];
    let issues: Vec<String> = issues_or_none(r)
        .iter()
        .map(|i| format!("• {}", i.slack(TEXT)))
        .collect();
    if !issues.is_empty() {
        blocks.push(Block::section(format!("*Issue*\n{}", issues.join("\n"))));
    }
    if let Some(c) = cause {
        blocks.push(Block::section(format!(
            "*Likely fix:* {}",
            slack_escape(c.hint())
        )));
    }
    let fallback = format!("GuardDuty {headline}: {}", r.name.slack(NAME));
    Notification {
        subject,
        text,
        html,
        slack: SlackMessage::new(fallback, blocks),
    }
}

/// One line per count, e.g. `HEALTHY 8, UNHEALTHY 2`.
fn counts(map: &std::collections::BTreeMap<String, i64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{} {v}", Untrusted::new(k.as_str()).plain(NAME)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plain-text audit report (CLI text output and the SNS body).
pub fn audit_text(report: &AuditReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "GuardDuty Runtime coverage (detector {}): {} unhealthy{}",
        Untrusted::new(report.detector_id.as_str()).plain(NAME),
        report.unhealthy.len(),
        report
            .require_tag
            .as_ref()
            .map(|t| format!(
                ", {} of them tagged {}",
                report.failing().count(),
                t.plain()
            ))
            .unwrap_or_default()
    );
    let _ = writeln!(s, "By status: {}", counts(&report.by_status));
    let _ = writeln!(s, "By resource type: {}", counts(&report.by_resource_type));
    for u in report.unhealthy.iter() {
        let r = &u.resource;
        let mark = if report.require_tag.is_some() && !u.required {
            " (not tagged)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "- {} {} (account {}){mark}",
            r.resource_type.noun(),
            r.name.plain(NAME),
            r.account_id.plain(NAME)
        );
        for i in issues_or_none(r) {
            let _ = writeln!(s, "    issue: {}", i.plain(TEXT));
        }
        let _ = writeln!(s, "    fix: {}", u.cause.hint());
    }
    s
}

/// The notification for an audit whose set of unhealthy resources changed.
pub fn audit_notification(report: &AuditReport) -> Notification {
    let failing: Vec<_> = report.failing().collect();
    let subject = if failing.is_empty() {
        "GuardDuty coverage audit: every resource is healthy again".to_owned()
    } else {
        ascii_line(
            &format!(
                "GuardDuty coverage audit: {} resource(s) UNHEALTHY",
                failing.len()
            ),
            100,
        )
    };
    let text = audit_text(report);

    let mut html = String::new();
    let _ = write!(
        html,
        "<h2>{}</h2><p>By status: {}<br>By resource type: {}</p>",
        esc(&subject),
        esc(&counts(&report.by_status)),
        esc(&counts(&report.by_resource_type))
    );
    let mut lines = Vec::new();
    if !failing.is_empty() {
        html.push_str("<ul>");
        for u in failing.iter().take(MAX_LISTED) {
            let r = &u.resource;
            let issues: Vec<String> = issues_or_none(r).iter().map(|i| i.html(TEXT)).collect();
            let _ = write!(
                html,
                "<li>{} <b>{}</b> (account {}): {}<br><i>Likely fix:</i> {}</li>",
                esc(r.resource_type.noun()),
                r.name.html(NAME),
                r.account_id.html(NAME),
                issues.join("; "),
                esc(u.cause.hint())
            );
            let issues: Vec<String> = issues_or_none(r).iter().map(|i| i.slack(TEXT)).collect();
            lines.push(format!(
                "• {} *{}* (account {}): {}",
                slack_escape(r.resource_type.noun()),
                r.name.slack(NAME),
                r.account_id.slack(NAME),
                issues.join("; ")
            ));
        }
        html.push_str("</ul>");
        if failing.len() > MAX_LISTED {
            let more = format!("… and {} more", failing.len() - MAX_LISTED);
            let _ = write!(html, "<p>{}</p>", esc(&more));
            lines.push(slack_escape(&more));
        }
    }
    let mut blocks = vec![
        Block::header(slack_escape(&subject)),
        Block::section(format!(
            "*By status:* {}\n*By resource type:* {}",
            slack_escape(&counts(&report.by_status)),
            slack_escape(&counts(&report.by_resource_type))
        )),
    ];
    if !lines.is_empty() {
        blocks.push(Block::section(lines.join("\n")));
    }
    Notification {
        subject: ascii_line(&subject, 100),
        text,
        html,
        slack: SlackMessage::new(slack_escape(&subject), blocks),
    }
}

#[cfg(test)]
mod tests {
    use super::super::event::{Invocation, parse_invocation};
    use super::*;

    const HOSTILE: &str = r#"{"version":"0","id":"e","detail-type":"GuardDuty Runtime Protection Unhealthy","source":"aws.guardduty",
        "account":"111122223333","time":"2024-05-28T17:55:11Z","region":"us-east-1","resources":[],
        "detail":{"accountId":"123456789012","resourceDetails":{"resourceType":"ECS","ecsClusterDetails":{
        "clusterName":"<!channel> *prod* `x`","fargateDetails":{"issues":[
        "Task definition <https://evil.example|click> </td><script>alert(1)</script> failed\u001b[31m\u202e"]}}},
        "previousStatus":"HEALTHY","currentStatus":"UNHEALTHY","issue":"VPC endpoint unreachable","lastUpdatedAt":1716918911000000}}"#;

    fn hostile() -> HealthEvent {
        match parse_invocation(HOSTILE.as_bytes()).unwrap() {
            Invocation::Health(h) => *h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_names_and_issues_are_inert_in_every_channel() {
        let n = health_notification(&hostile());
        let slack = serde_json::to_string(&n.slack).unwrap();
        assert!(
            !slack.contains("<!channel>") && !slack.contains("<https://evil"),
            "{slack}"
        );
        assert!(slack.contains("&lt;!channel&gt;"), "{slack}");
        assert!(
            !n.html.contains("<script>") && !n.html.contains("</td><script"),
            "{}",
            n.html
        );
        assert!(n.html.contains("&lt;script&gt;"));
        for out in [&n.text, &n.html, &slack] {
            assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'));
        }
        assert!(n.text.contains("\\u{1b}[31m"), "{}", n.text);
        assert!(n.subject.chars().all(|c| (' '..='~').contains(&c)) && n.subject.len() <= 100);
        assert!(
            n.text
                .contains("Likely fix: The agent sends through the VPC endpoint")
        );
    }

    #[test]
    fn healthy_event_is_a_recovery_without_a_fix() {
        let raw = HOSTILE
            .replace("Protection Unhealthy", "Protection Healthy")
            .replace(
                r#""currentStatus":"UNHEALTHY""#,
                r#""currentStatus":"HEALTHY""#,
            );
        let Invocation::Health(h) = parse_invocation(raw.as_bytes()).unwrap() else {
            panic!()
        };
        let n = health_notification(&h);
        assert!(
            n.subject.starts_with("GuardDuty coverage recovered"),
            "{}",
            n.subject
        );
        assert!(n.text.contains("healthy again"));
        assert!(!n.text.contains("Likely fix"));
    }
}
