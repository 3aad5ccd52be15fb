//! Stage 4 — plan: a finding plus configuration in, a [`ResponsePlan`] out, as data.
//!
//! Pure: no I/O. Executors carry out `actions`; a dry run prints them; tests assert on
//! them. The same plan (with outcomes filled in) drives the notification.

pub use crate::action::{Action, ActionKind};
use crate::classify::{Classification, SeverityLabel, Surface, ThreatFamily, classify};
use crate::config::Config;
use crate::finding::Finding;
use crate::playbook::{Decision, Guard, Guardrails, Verdict, decide, decide_approved, guard_hit};
use crate::surface_actions::surface_actions;
use serde::Serialize;

/// Everything decided about one finding, ready to execute, print or notify.
#[derive(Debug, Clone, Serialize)]
pub struct ResponsePlan {
    pub finding_id: String,
    pub finding_type: String,
    pub family: ThreatFamily,
    pub surface: Surface,
    pub launch_type: Option<String>,
    pub severity: f64,
    pub severity_label: SeverityLabel,
    pub account_id: String,
    pub region: String,
    pub partition: String,
    pub count: i64,
    pub sample: bool,
    pub decision: Decision,
    pub reason: String,
    pub actions: Vec<Action>,
    #[serde(skip)]
    pub finding: Box<Finding>,
    #[serde(skip)]
    pub classification: Classification,
    /// Where the runbooks are published (`runbook_url` in the configuration), for the
    /// alert's runbook link; without it the alert names the file in the repository.
    #[serde(skip)]
    pub runbook_url: Option<String>,
}

impl ResponsePlan {
    /// The guardrail that decided the plan: one that applies and whose reason is the plan's
    /// (so a notify-only rule that also matched a sample is not counted), or an archived
    /// finding ignored. Shared by the metrics and `responder backtest`.
    pub fn deciding_guard(&self, guard: &Guardrails) -> Option<(Guard, String)> {
        guard_hit(&self.finding, &self.classification, guard)
            .filter(|(_, reason)| self.decision != Decision::Contain && *reason == self.reason)
            .or_else(|| {
                (self.decision == Decision::Ignore && self.finding.is_archived())
                    .then(|| (Guard::Archived, self.reason.clone()))
            })
    }

    /// Lowers a containment to notify-only (rate limit, wrong function) and says why.
    pub fn downgrade(&mut self, reason: String) {
        self.decision = Decision::Notify;
        self.reason = reason;
        self.actions.clear();
    }

    /// Keeps only the actions `surface`'s executor carries out (an attack sequence may
    /// span surfaces; one function has one executor). Returns the other surfaces left out;
    /// with nothing left, the plan is lowered to notify-only.
    pub fn keep_surface(&mut self, surface: Surface) -> Vec<Surface> {
        let mut others: Vec<Surface> = Vec::new();
        self.actions.retain(|a| {
            let s = a.target.surface();
            if s != surface && !others.contains(&s) {
                others.push(s);
            }
            s == surface
        });
        if others.is_empty() {
            return others;
        }
        let names: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
        let why = format!(
            "no executor deployed for {}: this function contains only {} resources",
            names.join(", "),
            surface.as_str()
        );
        if self.actions.is_empty() {
            self.downgrade(why);
        } else {
            self.reason = format!("{}; not contained here: {why}", self.reason);
        }
        others
    }
}

/// Builds the plan for one finding. Pure and total: every finding yields a plan.
/// Takes a boxed finding as is (a finding is kilobytes; moving it costs a copy).
pub fn plan(finding: impl Into<Box<Finding>>, config: &Config) -> ResponsePlan {
    let finding: Box<Finding> = finding.into();
    let c = classify(&finding);
    let verdict = decide(&finding, &c, &config.playbook, &config.guardrails);
    plan_verdict(finding, c, verdict, config)
}

/// The plan once a person approved containment (`reason` says who): whatever the
/// playbook decides, contained unless a guardrail forbids it (then notify, with why).
pub fn plan_approved(
    finding: impl Into<Box<Finding>>,
    config: &Config,
    reason: String,
) -> ResponsePlan {
    let finding: Box<Finding> = finding.into();
    let c = classify(&finding);
    let verdict = decide_approved(&finding, &c, &config.guardrails, reason);
    plan_verdict(finding, c, verdict, config)
}

fn plan_verdict(
    finding: Box<Finding>,
    c: Classification,
    mut verdict: Verdict,
    config: &Config,
) -> ResponsePlan {
    let mut actions = Vec::new();
    if verdict.decision == Decision::Contain && c.is_attack_sequence {
        (actions, verdict) = sequence_actions(&finding, config, verdict);
    } else if verdict.decision == Decision::Contain {
        match surface_actions(&finding, &c, config) {
            Ok(list) => actions = list,
            Err(e) => {
                verdict.decision = Decision::Notify;
                verdict.reason = format!("cannot contain: {e}");
            }
        }
    }
    ResponsePlan {
        finding_id: finding.id.as_raw().to_owned(),
        finding_type: finding.finding_type.as_raw().to_owned(),
        family: c.family.clone(),
        surface: c.surface,
        launch_type: c.launch_type.clone(),
        severity: c.severity,
        severity_label: c.severity_label,
        account_id: finding.account_id.as_raw().to_owned(),
        region: finding.region.as_raw().to_owned(),
        partition: finding.partition.clone().unwrap_or_else(|| "aws".into()),
        count: finding.service.count.unwrap_or(1),
        sample: finding.is_sample(),
        decision: verdict.decision,
        reason: verdict.reason,
        actions,
        finding,
        classification: c,
        runbook_url: config.runbook_url.clone(),
    }
}

/// The actions for every containable resource of an attack sequence; the reason names
/// each resource left out and why, and no containable resource at all means `notify`.
fn sequence_actions(f: &Finding, config: &Config, verdict: Verdict) -> (Vec<Action>, Verdict) {
    let parts = crate::sequence_targets::plan_parts(f, config);
    let mut actions = Vec::new();
    let mut left_out = Vec::new();
    for p in parts {
        match p.planned {
            Ok(list) => actions.extend(list),
            Err(why) => left_out.push(format!("{}: {why}", p.label)),
        }
    }
    let mut reason = verdict.reason;
    if !left_out.is_empty() {
        reason = format!("{reason}; not contained: {}", left_out.join("; "));
    }
    let decision = if actions.is_empty() {
        reason = format!("{reason}; no resource of the sequence can be contained");
        Decision::Notify
    } else {
        Decision::Contain
    };
    (actions, Verdict { decision, reason })
}
