//! HTML for e-mail and web views: one self-contained, responsive page that works in dark
//! mode, with no script, no external resource and no remote image. Every value is escaped
//! for text and quoted-attribute context; every `href` is one of our validated links.
//! Written straight into one buffer: this is on the per-finding path.

use super::html_style as css;
use super::{View, decision_word};
use crate::sanitize::push_html_escaped as push_escaped;

/// `<tag class="…" style="…">`; class and style are our constants.
fn open(s: &mut String, tag: &str, class: &str, style: &str) {
    s.push('<');
    s.push_str(tag);
    if !class.is_empty() {
        s.push_str(" class=\"");
        s.push_str(class);
        s.push('"');
    }
    s.push_str(" style=\"");
    s.push_str(style);
    s.push_str("\">");
}

fn close(s: &mut String, tag: &str) {
    s.push_str("</");
    s.push_str(tag);
    s.push('>');
}

/// An element holding escaped text.
fn text(s: &mut String, tag: &str, class: &str, style: &str, value: &str) {
    open(s, tag, class, style);
    push_escaped(s, value);
    close(s, tag);
}

/// A link to one of our validated URLs.
fn link(s: &mut String, class: &str, style: &str, url: &str, label: &str) {
    s.push_str("<a class=\"");
    s.push_str(class);
    s.push_str("\" style=\"");
    s.push_str(style);
    s.push_str("\" href=\"");
    push_escaped(s, url);
    s.push_str("\">");
    push_escaped(s, label);
    s.push_str("</a>");
}

fn heading(s: &mut String, title: &str) {
    text(s, "h2", "h", css::H2, title);
}

/// A label/value table (it stacks on narrow screens).
fn rows<'a>(s: &mut String, items: impl Iterator<Item = (&'a str, &'a str, bool)>) {
    s.push_str(
        "<table role=\"presentation\" class=\"kv\" cellpadding=\"0\" cellspacing=\"0\" style=\"",
    );
    s.push_str(css::KV);
    s.push_str("\">");
    for (label, value, code) in items {
        s.push_str("<tr>");
        text(s, "th", "", css::TH, label);
        open(s, "td", "", css::TD);
        if code {
            text(s, "pre", "code", css::PRE, value);
        } else {
            push_escaped(s, value);
        }
        s.push_str("</td></tr>");
    }
    s.push_str("</table>");
}

fn head(s: &mut String, v: &View) {
    s.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <meta name=\"supported-color-schemes\" content=\"light dark\"><title>",
    );
    s.push_str(super::kind_title(v.plan));
    push_escaped(s, &v.headline);
    s.push_str("</title><style>");
    s.push_str(css::CSS);
    s.push_str("</style></head>");
}

/// Severity and decision, in colour and in words.
fn band(s: &mut String, v: &View) {
    let g = &v.guide;
    s.push_str("<tr><td class=\"band\" style=\"background:");
    s.push_str(g.colour);
    s.push(';');
    s.push_str(css::BAND);
    s.push_str("\">");
    open(s, "div", "", css::BAND_KICKER);
    s.push_str(g.severity_word);
    s.push_str(" SEVERITY &middot; ");
    super::push_one_decimal(s, v.plan.severity);
    s.push_str(" &nbsp;|&nbsp; DECISION: ");
    s.push_str(decision_word(v.plan.decision));
    close(s, "div");
    open(s, "div", "", css::BAND_TITLE);
    s.push_str(super::kind_title(v.plan));
    push_escaped(s, &v.headline);
    s.push_str("</div></td></tr>");
}

fn what_happened(s: &mut String, v: &View) {
    let g = &v.guide;
    heading(s, "What happened");
    if let Some(m) = g.attack.meaning {
        text(s, "p", "", css::P, m);
    }
    open(s, "p", "", css::P);
    text(s, "code", "code", css::CODE, &v.finding_type);
    close(s, "p");
    rows(
        s,
        v.activity
            .iter()
            .map(|f| (f.label, f.plain(), f.is_command_line())),
    );
    heading(s, "Resource");
    let fixed = [
        ("Account", &*v.account, false),
        ("Region", &*v.region, false),
    ];
    let facts = v.resource.iter().map(|f| (f.label, f.plain(), false));
    rows(s, fixed.into_iter().chain(facts));
    if !g.attack.tactics.is_empty() || !g.attack.techniques.is_empty() {
        heading(s, "MITRE ATT&CK");
        open(s, "p", "", css::P);
        for r in g.attack.tactics.iter().chain(&g.attack.techniques) {
            link(s, "chip", css::CHIP, &r.url(), &r.label());
        }
        close(s, "p");
    }
}

fn actions(s: &mut String, v: &View) {
    if v.steps.is_empty() {
        return;
    }
    heading(s, v.guide.actions_heading());
    for st in v.steps {
        open(s, "div", "step", css::STEP);
        s.push_str("<span style=\"background:");
        s.push_str(css::status_colour(st.status));
        s.push(';');
        s.push_str(css::BADGE);
        s.push_str("\">");
        s.push_str(&st.status.to_ascii_uppercase());
        s.push_str("</span>");
        text(s, "code", "code", css::CODE, st.kind);
        s.push(' ');
        push_escaped(s, &st.target);
        if !st.detail.is_empty() {
            s.push_str("<br>");
            text(s, "span", "muted", css::MUTED, &st.detail);
        }
        close(s, "div");
    }
}

fn next_steps(s: &mut String, v: &View) {
    let g = &v.guide;
    heading(s, "What to do next");
    let checks = g.checks();
    if !checks.is_empty() {
        open(s, "ol", "", css::OL);
        for c in checks {
            text(s, "li", "", css::LI, c);
        }
        close(s, "ol");
    }
    open(s, "p", "muted", css::MUTED);
    s.push_str("Runbook: ");
    let path = g.runbook_path();
    match &g.runbook_url {
        Some(url) => link(s, "", "", url, &path),
        None => text(s, "code", "code", css::CODE, &path),
    }
    close(s, "p");
    heading(s, "How to undo it");
    for c in g.commands() {
        text(s, "pre", "code", css::PRE, c);
    }
    text(s, "p", "muted", css::MUTED, g.undo_note());
}

fn links(s: &mut String, v: &View) {
    let g = &v.guide;
    if !g.links.is_empty() {
        heading(s, "Links");
        open(s, "p", "", css::P);
        for l in &g.links {
            link(s, "btn", css::BTN, &l.url, l.label);
        }
        close(s, "p");
    }
}

pub(crate) fn page(v: &View) -> String {
    let p = v.plan;
    let mut s = String::with_capacity(16_384);
    head(&mut s, v);
    s.push_str("<body class=\"bg\" style=\"");
    s.push_str(css::BODY);
    s.push_str("\"><table role=\"presentation\" class=\"bg\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"");
    s.push_str(css::OUTER);
    s.push_str("\"><tr><td align=\"center\" style=\"padding:24px 12px;\">");
    s.push_str("<table role=\"presentation\" class=\"card\" width=\"680\" cellpadding=\"0\" cellspacing=\"0\" style=\"");
    s.push_str(css::CARD);
    s.push_str("\">");
    band(&mut s, v);
    s.push_str("<tr><td class=\"pad\" style=\"");
    s.push_str(css::PAD);
    s.push_str("\">");
    open(&mut s, "p", "", "margin:12px 0 0 0;");
    s.push_str("<b>Decision: ");
    s.push_str(decision_word(p.decision));
    s.push_str("</b> &mdash; ");
    push_escaped(&mut s, &p.reason);
    close(&mut s, "p");
    if p.count > 1 {
        open(&mut s, "p", "muted", css::MUTED);
        s.push_str("Seen ");
        s.push_str(itoa::Buffer::new().format(p.count));
        s.push_str(" times");
        close(&mut s, "p");
    }
    what_happened(&mut s, v);
    actions(&mut s, v);
    next_steps(&mut s, v);
    links(&mut s, v);
    s.push_str("</td></tr><tr><td class=\"foot\" style=\"");
    s.push_str(css::FOOT);
    s.push_str("\">Finding id ");
    push_escaped(&mut s, &v.finding_id);
    s.push_str(
        " &middot; GuardDuty Runtime responder</td></tr></table></td></tr></table></body></html>",
    );
    s
}
