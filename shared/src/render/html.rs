//! HTML for e-mail and web views: every value escaped for text and attribute context.
//! Written straight into one buffer: this is on the per-finding path.

use super::{View, decision_word};
use crate::sanitize::push_html_escaped as push_escaped;

fn row(s: &mut String, label: &str, value: impl FnOnce(&mut String)) {
    s.push_str("<tr><th align=\"left\">");
    push_escaped(s, label);
    s.push_str("</th><td>");
    value(s);
    s.push_str("</td></tr>");
}

pub(crate) fn page(v: &View) -> String {
    let p = v.plan;
    let mut s = String::with_capacity(4096);
    s.push_str("<h2>");
    s.push_str(super::kind_title(p));
    push_escaped(&mut s, &v.headline);
    s.push_str("</h2><p><b>Decision:</b> ");
    s.push_str(decision_word(p.decision));
    s.push_str(" &mdash; ");
    push_escaped(&mut s, &p.reason);
    s.push_str("</p><table>");
    for (label, value) in [
        ("Type", &v.finding_type),
        ("Account", &v.account),
        ("Region", &v.region),
    ] {
        row(&mut s, label, |s| {
            push_escaped(s, value);
        });
    }
    for f in v.resource.iter().chain(v.activity) {
        row(&mut s, f.label, |s| {
            if f.is_command_line() {
                s.push_str("<pre>");
                push_escaped(s, f.plain());
                s.push_str("</pre>");
            } else {
                push_escaped(s, f.plain());
            }
        });
    }
    s.push_str("</table>");
    if !v.steps.is_empty() {
        s.push_str("<h3>Actions</h3><ul>");
        for st in v.steps {
            s.push_str("<li><code>");
            s.push_str(st.kind);
            s.push_str("</code> ");
            push_escaped(&mut s, &st.target);
            s.push_str(": <b>");
            s.push_str(st.status);
            s.push_str("</b> ");
            push_escaped(&mut s, &st.detail);
            s.push_str("</li>");
        }
        s.push_str("</ul>");
    }
    s.push_str("<p>Finding id: ");
    push_escaped(&mut s, &v.finding_id);
    if let Some(url) = &v.console_url {
        s.push_str(" &middot; <a href=\"");
        push_escaped(&mut s, url);
        s.push_str("\">Open in the GuardDuty console</a>");
    }
    s.push_str("</p>");
    s
}
