//! Plain text: the SNS subject and body, and the CLI's text output.
//!
//! The body has the sections every channel has, in the same order (severity and decision,
//! what happened, ATT&CK, what we did, what to do next, how to undo it, links), wrapped at
//! 78 columns for e-mail. Lines break only at spaces, so an identifier or a URL is never
//! split; continuation lines are indented, so a wrapped value can never start a line that
//! looks like one of ours (`Decision: …`).

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

/// E-mail's recommended line length (RFC 5322 §2.1.1).
const WIDTH: usize = 78;
/// Continuation lines start here.
const INDENT: &str = "    ";
/// A word longer than this is split anyway (SMTP's hard limit is 998 characters).
const LONGEST_WORD: usize = 900;

/// Appends `parts` (one logical line) to `out`, wrapped.
fn wrapped(out: &mut String, parts: &[&str]) {
    let line: String = parts.concat();
    let mut column = 0;
    let mut at_start = true;
    for piece in line.split(' ').flat_map(split_long) {
        let len = piece.chars().count();
        if !at_start && column + 1 + len > WIDTH {
            out.push('\n');
            out.push_str(INDENT);
            column = INDENT.len();
            at_start = true;
        } else if !at_start {
            out.push(' ');
            column += 1;
        }
        // The spaces where a line breaks go with the break.
        if at_start && piece.is_empty() && column > 0 {
            continue;
        }
        out.push_str(piece);
        column += len;
        at_start = false;
    }
    out.push('\n');
}

/// `word` in pieces of at most [`LONGEST_WORD`] characters.
fn split_long(word: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = word;
    while rest.chars().count() > LONGEST_WORD {
        let at = rest
            .char_indices()
            .nth(LONGEST_WORD)
            .map_or(rest.len(), |(i, _)| i);
        pieces.push(&rest[..at]);
        rest = &rest[at..];
    }
    pieces.push(rest);
    pieces
}

pub(crate) fn body(v: &View) -> String {
    let p = v.plan;
    let g = &v.guide;
    let mut s = String::with_capacity(4096);
    let mut severity = String::new();
    super::push_one_decimal(&mut severity, p.severity);
    wrapped(&mut s, &[super::kind_title(p), &v.headline]);
    wrapped(
        &mut s,
        &[
            "Severity: ",
            g.severity_word,
            " (",
            &severity,
            ")   Decision: ",
            decision_word(p.decision),
        ],
    );
    wrapped(&mut s, &["Why: ", &p.reason]);
    if p.count > 1 {
        wrapped(
            &mut s,
            &["Occurrences: ", itoa::Buffer::new().format(p.count)],
        );
    }

    heading(&mut s, "WHAT HAPPENED");
    if let Some(m) = g.attack.meaning {
        wrapped(&mut s, &[m]);
    }
    wrapped(&mut s, &["Type: ", &v.finding_type]);
    for f in v.activity {
        wrapped(&mut s, &[f.label, ": ", f.plain()]);
    }
    heading(&mut s, "RESOURCE");
    wrapped(&mut s, &["Account: ", &v.account, "  Region: ", &v.region]);
    for f in v.resource {
        wrapped(&mut s, &[f.label, ": ", f.plain()]);
    }

    if !g.attack.tactics.is_empty() || !g.attack.techniques.is_empty() {
        heading(&mut s, "MITRE ATT&CK");
        for r in g.attack.tactics.iter().chain(&g.attack.techniques) {
            wrapped(&mut s, &["- ", &r.label(), " ", &r.url()]);
        }
    }

    if !v.steps.is_empty() {
        heading(&mut s, &g.actions_heading().to_ascii_uppercase());
        for st in v.steps {
            let sep = if st.detail.is_empty() { "" } else { ": " };
            wrapped(
                &mut s,
                &[
                    "- ", st.kind, " ", &st.target, ": ", st.status, sep, &st.detail,
                ],
            );
        }
    }

    heading(&mut s, "WHAT TO DO NEXT");
    for (i, check) in g.checks().iter().enumerate() {
        wrapped(&mut s, &[itoa::Buffer::new().format(i + 1), ". ", check]);
    }
    let runbook = g.runbook_url.clone().unwrap_or_else(|| g.runbook_path());
    wrapped(&mut s, &["Runbook: ", &runbook]);

    heading(&mut s, "HOW TO UNDO IT");
    for c in g.commands() {
        wrapped(&mut s, &["  ", c]);
    }
    wrapped(&mut s, &[g.undo_note()]);

    heading(&mut s, "LINKS");
    wrapped(&mut s, &["Finding id: ", &v.finding_id]);
    for l in &g.links {
        wrapped(&mut s, &[l.label, ": ", &l.url]);
    }
    s
}

fn heading(s: &mut String, title: &str) {
    s.push('\n');
    s.push_str(title);
    s.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_lines_wrap_at_spaces_with_an_indent() {
        let mut out = String::new();
        wrapped(&mut out, &["Title: ", &"word ".repeat(40)]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert!(lines[1..].iter().all(|l| l.starts_with(INDENT)));
    }

    proptest! {
        #[test]
        fn wrapping_keeps_every_word_and_bounds_every_line(words in prop::collection::vec("[a-zA-Z:/.]{0,120}", 0..40)) {
            let text = words.join(" ");
            let mut out = String::new();
            wrapped(&mut out, &[&text]);
            let rejoined: Vec<&str> = out.split_whitespace().collect();
            let original: Vec<&str> = text.split_whitespace().collect();
            prop_assert_eq!(rejoined, original);
            for l in out.lines() {
                // A single word longer than the line stays whole on its own line.
                let longest = l.split(' ').map(|w| w.chars().count()).max().unwrap_or(0);
                prop_assert!(l.chars().count() <= WIDTH.max(longest + INDENT.len()), "{:?}", l);
            }
        }
    }
}
