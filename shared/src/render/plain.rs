//! Plain text: the SNS subject and body, and the CLI's text output.

use super::{View, decision_word, short_type};
use crate::outcome::Outcome;
use crate::plan::ResponsePlan;
use crate::sanitize::{FieldKind, ascii_line};

/// `[SAMPLE] High Execution ReverseShell ec2 contain`: printable ASCII, ≤ 100 characters.
pub fn subject(plan: &ResponsePlan, outcomes: Option<&[Outcome]>) -> String {
    subject_line(&super::headline(plan, outcomes), plan)
}

pub(crate) fn subject_line(head: &str, plan: &ResponsePlan) -> String {
    let short = short_type(plan).plain(FieldKind::Name);
    ascii_line(
        &[
            "GuardDuty ",
            head,
            ": ",
            &short,
            " - ",
            plan.decision.as_str(),
        ]
        .concat(),
        100,
    )
}

pub(crate) fn body(v: &View) -> String {
    let p = v.plan;
    let mut s = String::with_capacity(2048);
    let mut line = |parts: &[&str]| {
        parts.iter().for_each(|part| s.push_str(part));
        s.push('\n');
    };
    line(&[super::kind_title(p), &v.headline]);
    line(&["Type: ", &v.finding_type]);
    line(&["Account: ", &v.account, "  Region: ", &v.region]);
    line(&[
        "Decision: ",
        decision_word(p.decision),
        " (",
        &p.reason,
        ")",
    ]);
    if p.count > 1 {
        line(&["Occurrences: ", itoa::Buffer::new().format(p.count)]);
    }
    for f in v.resource.iter().chain(v.activity) {
        line(&[f.label, ": ", f.plain()]);
    }
    if !v.steps.is_empty() {
        line(&["Actions:"]);
        for st in v.steps {
            let sep = if st.detail.is_empty() { "" } else { ": " };
            line(&[
                "  - ", st.kind, " ", &st.target, ": ", st.status, sep, &st.detail,
            ]);
        }
    }
    line(&["Finding id: ", &v.finding_id]);
    if let Some(url) = &v.console_url {
        line(&["Console: ", url]);
    }
    s
}
