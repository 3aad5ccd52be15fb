//! Plain text: the SNS subject and body, and the CLI's text output.

use super::{View, decision_word, short_type};
use crate::outcome::Outcome;
use crate::plan::ResponsePlan;
use crate::sanitize::{FieldKind, ascii_line};
use std::fmt::Write;

/// `[SAMPLE] High Execution ReverseShell ec2 contain`: printable ASCII, ≤ 100 characters.
pub fn subject(plan: &ResponsePlan, outcomes: Option<&[Outcome]>) -> String {
    subject_line(&super::headline(plan, outcomes), plan)
}

pub(crate) fn subject_line(head: &str, plan: &ResponsePlan) -> String {
    let short = short_type(plan).plain(FieldKind::Name);
    ascii_line(
        &format!("GuardDuty {head}: {short} - {}", plan.decision.as_str()),
        100,
    )
}

pub(crate) fn body(v: &View) -> String {
    let p = v.plan;
    let mut s = String::with_capacity(1024);
    let _ = writeln!(s, "GuardDuty Runtime finding: {}", v.headline);
    let _ = writeln!(s, "Type: {}", v.finding_type);
    let _ = writeln!(s, "Account: {}  Region: {}", v.account, v.region);
    let _ = writeln!(s, "Decision: {} ({})", decision_word(p.decision), p.reason);
    if p.count > 1 {
        let _ = writeln!(s, "Occurrences: {}", p.count);
    }
    for f in v.resource.iter().chain(v.activity) {
        let _ = writeln!(s, "{}: {}", f.label, f.plain());
    }
    if !v.steps.is_empty() {
        let _ = writeln!(s, "Actions:");
        for st in v.steps {
            let detail = &st.detail;
            let sep = if detail.is_empty() { "" } else { ": " };
            let _ = writeln!(
                s,
                "  - {} {}: {}{sep}{detail}",
                st.kind, st.target, st.status
            );
        }
    }
    let _ = writeln!(s, "Finding id: {}", v.finding_id);
    if let Some(url) = super::console_url(p) {
        let _ = writeln!(s, "Console: {url}");
    }
    s
}
