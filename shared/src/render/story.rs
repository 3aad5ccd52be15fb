//! The story of an attack sequence, for every channel: what GuardDuty says it is, its
//! tactics, its signals in time order, then the resources, actors and endpoints involved.
//! Every part is attacker-influenced, so each is a bounded, neutralised [`Fact`] like any
//! other, and the lists are capped (the rest is counted, never dropped silently).

use super::facts::Fact;
use crate::finding::Finding;
use crate::finding::sequence::{Sequence, Signal};
use crate::sanitize::{FieldKind, Untrusted};

const SIGNALS: [&str; 10] = [
    "Signal 1",
    "Signal 2",
    "Signal 3",
    "Signal 4",
    "Signal 5",
    "Signal 6",
    "Signal 7",
    "Signal 8",
    "Signal 9",
    "Signal 10",
];
const RESOURCES: [&str; 6] = [
    "Involved 1",
    "Involved 2",
    "Involved 3",
    "Involved 4",
    "Involved 5",
    "Involved 6",
];
const ACTORS: [&str; 4] = ["Actor 1", "Actor 2", "Actor 3", "Actor 4"];
const ENDPOINTS: [&str; 4] = ["Endpoint 1", "Endpoint 2", "Endpoint 3", "Endpoint 4"];

fn when(s: &Signal) -> String {
    let at = |t: &Option<crate::finding::Timestamp>| match t {
        Some(crate::finding::Timestamp::At(t)) => t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        Some(crate::finding::Timestamp::Unparsed(u)) => u.clone(),
        None => "?".into(),
    };
    format!("{} – {}", at(&s.first_seen_at), at(&s.last_seen_at))
}

fn signal_line(s: &Signal) -> String {
    let mut line = format!(
        "{}: {}",
        when(s),
        Untrusted::raw_of(&s.name)
            .or(Untrusted::raw_of(&s.uid))
            .unwrap_or("?")
    );
    let mut about = Vec::new();
    if let Some(t) = Untrusted::raw_of(&s.signal_type) {
        about.push(t.to_owned());
    }
    if let Some(sev) = s.severity {
        about.push(format!("severity {sev:.1}"));
    }
    if let Some(n) = s.count {
        about.push(format!("count {n}"));
    }
    if !about.is_empty() {
        line.push_str(&format!(" ({})", about.join(", ")));
    }
    let on: Vec<&str> = s
        .resource_uids
        .iter()
        .map(Untrusted::as_raw)
        .take(3)
        .collect();
    if !on.is_empty() {
        line.push_str(" on ");
        line.push_str(&on.join(", "));
    }
    line
}

/// `ATTACK_TACTIC` values, then `ATTACK_TECHNIQUE` values, of the sequence's indicators.
fn indicator(s: &Sequence, key: &str) -> Option<String> {
    let values: Vec<&str> = s
        .sequence_indicators
        .iter()
        .filter(|i| Untrusted::raw_of(&i.key) == Some(key))
        .flat_map(|i| i.values.iter().map(Untrusted::as_raw))
        .take(12)
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The story facts of `f`'s sequence (none for other findings).
pub fn sequence_facts(f: &Finding) -> Vec<Fact<'_>> {
    let Some(s) = f.sequence() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(32);
    if let Some(d) = Untrusted::raw_of(&s.description) {
        out.push(Fact::new("Sequence", d, FieldKind::Text));
    }
    for (label, key) in [
        ("Tactics", "ATTACK_TACTIC"),
        ("Techniques", "ATTACK_TECHNIQUE"),
    ] {
        if let Some(v) = indicator(s, key) {
            out.push(Fact::built(label, v, FieldKind::Path));
        }
    }
    let mut signals: Vec<&Signal> = s.signals.iter().collect();
    // Time order; unknown times last, in GuardDuty's order.
    signals.sort_by_key(|s| (s.started().is_none(), s.started()));
    for (label, sig) in SIGNALS.iter().zip(&signals) {
        out.push(Fact::built(label, signal_line(sig), FieldKind::Path));
    }
    for (label, r) in RESOURCES.iter().zip(&s.resources) {
        let line = format!(
            "{} {}",
            Untrusted::raw_of(&r.resource_type).unwrap_or("?"),
            Untrusted::raw_of(&r.uid)
                .or(Untrusted::raw_of(&r.name))
                .unwrap_or("?")
        );
        out.push(Fact::built(label, line, FieldKind::Path));
    }
    for (label, a) in ACTORS.iter().zip(&s.actors) {
        let user = a.user.as_ref();
        let process = a.process.as_ref();
        let who = user
            .and_then(|u| Untrusted::raw_of(&u.name).or(Untrusted::raw_of(&u.uid)))
            .or(process.and_then(|p| Untrusted::raw_of(&p.path).or(Untrusted::raw_of(&p.name))))
            .or(Untrusted::raw_of(&a.id))
            .unwrap_or("?");
        out.push(Fact::built(label, who.to_owned(), FieldKind::Path));
    }
    for (label, e) in ENDPOINTS.iter().zip(&s.endpoints) {
        let mut line = Untrusted::raw_of(&e.domain)
            .or(Untrusted::raw_of(&e.ip))
            .unwrap_or("?")
            .to_owned();
        if let Some(p) = e.port {
            line.push_str(&format!(":{p}"));
        }
        if let Some(c) = e
            .location
            .as_ref()
            .and_then(|l| Untrusted::raw_of(&l.country))
        {
            line.push_str(&format!(" ({c})"));
        }
        out.push(Fact::built(label, line, FieldKind::Path));
    }
    let more = [
        (s.signals.len().saturating_sub(SIGNALS.len()), "signals"),
        (
            s.resources.len().saturating_sub(RESOURCES.len()),
            "resources",
        ),
        (s.actors.len().saturating_sub(ACTORS.len()), "actors"),
        (
            s.endpoints.len().saturating_sub(ENDPOINTS.len()),
            "endpoints",
        ),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} more {what}"))
    .collect::<Vec<_>>();
    if !more.is_empty() {
        out.push(Fact::built(
            "Not shown",
            format!("{} (see the finding in the console)", more.join(", ")),
            FieldKind::Text,
        ));
    }
    out
}
