//! HTML for e-mail and web views: every value escaped for text and attribute context.

use super::{View, decision_word};
use crate::sanitize::FieldKind;
use std::fmt::Write;

fn esc(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

pub(crate) fn page(v: &View) -> String {
    let p = v.plan;
    let mut s = String::with_capacity(2048);
    let _ = write!(
        s,
        "<h2>GuardDuty Runtime finding: {}</h2>",
        esc(&v.headline())
    );
    let _ = write!(
        s,
        "<p><b>Decision:</b> {} &mdash; {}</p><table>",
        decision_word(p.decision),
        esc(&p.reason)
    );
    let row = |s: &mut String, label: &str, value: &str| {
        let _ = write!(
            s,
            "<tr><th align=\"left\">{}</th><td>{value}</td></tr>",
            esc(label)
        );
    };
    row(&mut s, "Type", &v.finding_type().html(FieldKind::Name));
    row(&mut s, "Account", &v.account().html(View::ID));
    row(&mut s, "Region", &v.region().html(View::ID));
    for f in v.resource.iter().chain(v.activity) {
        if f.is_command_line() {
            row(&mut s, f.label, &format!("<pre>{}</pre>", f.html()));
        } else {
            row(&mut s, f.label, &f.html());
        }
    }
    s.push_str("</table>");
    if !v.steps.is_empty() {
        s.push_str("<h3>Actions</h3><ul>");
        for st in v.steps {
            let _ = write!(
                s,
                "<li><code>{}</code> {}: <b>{}</b> {}</li>",
                st.kind,
                st.target.html(FieldKind::Path),
                st.status,
                st.detail.html(FieldKind::Text)
            );
        }
        s.push_str("</ul>");
    }
    let _ = write!(s, "<p>Finding id: {}", v.finding_id().html(View::ID));
    if let Some(url) = super::console_url(p) {
        let _ = write!(
            s,
            " &middot; <a href=\"{}\">Open in the GuardDuty console</a>",
            esc(&url)
        );
    }
    s.push_str("</p>");
    s
}
