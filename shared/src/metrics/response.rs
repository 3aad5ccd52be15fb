//! The metrics of one response, as EMF records (pure: the handler prints them).
//!
//! Dimensions are closed vocabularies only — decision, family (known names; any other is
//! `Unknown`), surface, action kind, status, channel, guardrail — and the function's name:
//! never a finding, account or resource id, which would make one metric per finding.

use super::emf::{Record, Unit};
use crate::classify::ThreatFamily;
use crate::outcome::Status;
use crate::playbook::Guard;
use crate::respond::Response;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// One per finding, by `Function`, `Decision`, `Family`, `Surface` (rolled up by
/// `Function`, `Decision`).
pub const FINDINGS: &str = "Findings";
/// One per finding a guardrail kept from containment, by `Function`, `Guardrail`.
pub const GUARDRAIL_HITS: &str = "GuardrailHits";
/// Outcomes, by `Function`, `Surface`, `Action`, `Status`.
pub const ACTIONS: &str = "Actions";
/// One per containment run, by `Function`, `Surface` (rolled up by `Function`).
pub const CONTAINMENTS: &str = "Containments";
/// 1 when a containment run had a failed action, else 0 (same dimensions).
pub const CONTAINMENT_FAILURES: &str = "ContainmentFailures";
/// From the finding's `updatedAt` to the workload isolated, in ms (same dimensions).
pub const TIME_TO_ISOLATION: &str = "TimeToIsolation";
/// From the invocation's receipt to the workload isolated, in ms (same dimensions).
pub const RECEIPT_TO_ISOLATION: &str = "ReceiptToIsolation";
/// Notifications and write-backs, by `Function`, `Channel`, `Status` (`ok`|`failed`).
pub const DELIVERIES: &str = "Deliveries";

/// What the handler knows besides the response.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub function: &'a str,
    /// When the invocation carrying the finding was received.
    pub received: SystemTime,
    /// The guardrail that kept the finding from containment, if one did.
    pub guard: Option<Guard>,
    /// The records' timestamp.
    pub now: SystemTime,
}

/// The family as a dimension: a known ThreatPurpose, or `Unknown` (the raw name comes from
/// the finding and is unbounded in number).
fn family(f: &ThreatFamily) -> &str {
    match f {
        ThreatFamily::Unknown(_) => "Unknown",
        known => known.as_str(),
    }
}

/// The status as the replay contract spells it (`done`, `already_done`, …).
pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Done => "done",
        Status::AlreadyDone => "already_done",
        Status::Skipped => "skipped",
        Status::Failed => "failed",
    }
}

/// Milliseconds from `from` to `to`; `None` when the clock says `to` came first.
fn millis(from: SystemTime, to: SystemTime) -> Option<f64> {
    to.duration_since(from).ok().map(|d| d.as_millis() as f64)
}

/// Every record of one response.
pub fn records(r: &Response, cx: &Context<'_>) -> Vec<Record> {
    let p = &r.plan;
    let base = || Record::at(cx.now).dimension("Function", cx.function);
    let mut out = vec![
        base()
            .dimension("Decision", p.decision.as_str())
            .dimension("Family", family(&p.family))
            .dimension("Surface", p.surface.as_str())
            .metric(FINDINGS, Unit::Count, 1.0)
            .rollup(&["Function", "Decision"]),
    ];
    if let Some(g) = cx.guard {
        out.push(
            base()
                .dimension("Guardrail", g.name())
                .metric(GUARDRAIL_HITS, Unit::Count, 1.0),
        );
    }
    let mut actions: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for o in &r.outcomes {
        *actions
            .entry((o.kind.name(), status_name(o.status)))
            .or_default() += 1;
    }
    for ((kind, status), n) in actions {
        out.push(
            base()
                .dimension("Surface", p.surface.as_str())
                .dimension("Action", kind)
                .dimension("Status", status)
                .metric(ACTIONS, Unit::Count, f64::from(n)),
        );
    }
    if !r.outcomes.is_empty() {
        let failed = if r.containment_failed() { 1.0 } else { 0.0 };
        let mut run = base()
            .dimension("Surface", p.surface.as_str())
            .metric(CONTAINMENTS, Unit::Count, 1.0)
            .metric(CONTAINMENT_FAILURES, Unit::Count, failed)
            .rollup(&["Function"]);
        if let Some(at) = r.isolated_at {
            let updated = p.finding.updated_at.as_ref().and_then(|t| t.as_datetime());
            if let Some(ms) = updated.and_then(|t| millis(SystemTime::from(t), at)) {
                run = run.metric(TIME_TO_ISOLATION, Unit::Milliseconds, ms);
            }
            if let Some(ms) = millis(cx.received, at) {
                run = run.metric(RECEIPT_TO_ISOLATION, Unit::Milliseconds, ms);
            }
        }
        out.push(run);
    }
    let mut deliveries: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for d in &r.deliveries {
        let status = if d.ok { "ok" } else { "failed" };
        *deliveries.entry((d.channel, status)).or_default() += 1;
    }
    for ((channel, status), n) in deliveries {
        out.push(
            base()
                .dimension("Channel", channel)
                .dimension("Status", status)
                .metric(DELIVERIES, Unit::Count, f64::from(n)),
        );
    }
    out
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
