//! Stage 3 — decide: the playbook (family × severity × surface → contain, notify or
//! ignore) and the guardrails that always win over it. See `docs/playbook.md`.

use crate::classify::{Classification, Surface, ThreatFamily};
use crate::exemption::Exemptions;
use crate::finding::Finding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Contain,
    /// Notify with a Contain button: contained only when an authorised person clicks it
    /// (the interactions function), and then with the same guardrails.
    Approve,
    Notify,
    Ignore,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Contain => "contain",
            Decision::Approve => "approve",
            Decision::Notify => "notify",
            Decision::Ignore => "ignore",
        }
    }

    /// Whether the decision asks for containment, now or on approval: the guardrails apply.
    fn seeks_containment(self) -> bool {
        matches!(self, Decision::Contain | Decision::Approve)
    }
}

/// One playbook line. Empty lists match anything; the first matching rule wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Threat purposes (`Execution`, …); `Unknown` matches purposes this build does not know.
    #[serde(default)]
    pub families: Vec<String>,
    /// Exact finding types, e.g. `Execution:Runtime/NewBinaryExecuted`.
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub surfaces: Vec<Surface>,
    /// AWS account ids of the finding (e.g. the production accounts).
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Inclusive lower bound.
    #[serde(default)]
    pub min_severity: Option<f64>,
    /// Exclusive upper bound.
    #[serde(default)]
    pub max_severity: Option<f64>,
    pub decision: Decision,
}

impl Rule {
    fn matches(&self, finding_type: &str, account: &str, c: &Classification) -> bool {
        let family_ok = self.families.is_empty()
            || self.families.iter().any(|f| match &c.family {
                ThreatFamily::Unknown(_) => f == "Unknown",
                known => f == known.as_str(),
            });
        family_ok
            && (self.types.is_empty() || self.types.iter().any(|t| t == finding_type))
            && (self.surfaces.is_empty() || self.surfaces.contains(&c.surface))
            && (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
            && self.min_severity.is_none_or(|m| c.severity >= m)
            && self.max_severity.is_none_or(|m| c.severity < m)
    }
}

/// Ordered rules; a Runtime finding no rule matches is notified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Playbook {
    pub rules: Vec<Rule>,
}

impl Default for Playbook {
    /// Contain High and Critical findings of every known family except Discovery; notify
    /// the rest, and attack sequences.
    fn default() -> Self {
        let notify = |family: &str| Rule {
            families: vec![family.into()],
            types: vec![],
            surfaces: vec![],
            accounts: vec![],
            min_severity: None,
            max_severity: None,
            decision: Decision::Notify,
        };
        Playbook {
            rules: vec![
                // Notified always, with the story; containing their resources is a choice
                // (a rule for `AttackSequence` with `contain`, before these defaults).
                notify("AttackSequence"),
                notify("Discovery"),
                notify("Unknown"),
                Rule {
                    families: vec![],
                    min_severity: Some(7.0),
                    decision: Decision::Contain,
                    ..notify("")
                },
            ],
        }
    }
}

impl Playbook {
    /// Rules from a configuration document go first; the defaults stay as the fallback
    /// unless the document says `replace_defaults`.
    pub fn with_overrides(overrides: Vec<Rule>, replace_defaults: bool) -> Playbook {
        let mut rules = overrides;
        if !replace_defaults {
            rules.extend(Playbook::default().rules);
        }
        Playbook { rules }
    }

    fn route(&self, finding: &Finding, c: &Classification) -> (Decision, String) {
        let (finding_type, account) = (finding.finding_type.as_raw(), finding.account_id.as_raw());
        match self
            .rules
            .iter()
            .position(|r| r.matches(finding_type, account, c))
        {
            Some(i) => (
                self.rules[i].decision,
                format!(
                    "playbook rule {} ({} {}, {})",
                    i + 1,
                    c.severity_label.as_str(),
                    c.family_label(),
                    c.surface.as_str()
                ),
            ),
            None => (
                Decision::Notify,
                "no playbook rule matched; Runtime findings are notified by default".into(),
            ),
        }
    }
}

/// What guards containment whatever the playbook says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Guardrails {
    /// Configuration-owned exemptions, and whether (and which) tags exempt.
    pub exemptions: Exemptions,
    /// Kubernetes namespaces never acted on (the agent's, the system's, the responder's own).
    pub protected_namespaces: Vec<String>,
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            exemptions: Exemptions::default(),
            protected_namespaces: vec!["kube-system".into(), "amazon-guardduty".into()],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    /// Human-readable, built only from trusted text.
    pub reason: String,
}

impl Classification {
    /// The family for messages: known names, or a marker for an unknown purpose.
    pub fn family_label(&self) -> &str {
        match &self.family {
            ThreatFamily::Unknown(_) => "unknown family",
            known => known.as_str(),
        }
    }
}

/// Routes a classified finding; guardrails override the playbook.
pub fn decide(
    finding: &Finding,
    c: &Classification,
    playbook: &Playbook,
    guard: &Guardrails,
) -> Verdict {
    if let Some(v) = not_actionable(finding, c) {
        return v;
    }
    let (decision, reason) = playbook.route(finding, c);
    guarded(finding, c, guard, Verdict { decision, reason })
}

/// A person approved containment (a Contain click): contain, unless the finding is not
/// actionable or a guardrail forbids it, exactly as for a playbook's `contain`.
pub fn decide_approved(
    finding: &Finding,
    c: &Classification,
    guard: &Guardrails,
    reason: String,
) -> Verdict {
    if let Some(v) = not_actionable(finding, c) {
        return v;
    }
    let decision = Decision::Contain;
    guarded(finding, c, guard, Verdict { decision, reason })
}

/// Ignored whatever anyone decides: not a Runtime finding or sequence, or archived.
fn not_actionable(finding: &Finding, c: &Classification) -> Option<Verdict> {
    let ignore = |reason: &str| {
        Some(Verdict {
            decision: Decision::Ignore,
            reason: reason.to_owned(),
        })
    };
    if !c.is_runtime && !c.is_attack_sequence {
        return ignore("not a Runtime Monitoring finding type (*:Runtime/*) or an attack sequence");
    }
    if finding.is_archived() {
        return ignore("the finding is archived");
    }
    None
}

/// The guardrails over a decision that seeks containment (`contain` or `approve`).
fn guarded(finding: &Finding, c: &Classification, guard: &Guardrails, wanted: Verdict) -> Verdict {
    let notify = |reason: &str| Verdict {
        decision: Decision::Notify,
        reason: reason.to_owned(),
    };
    if !wanted.decision.seeks_containment() {
        return wanted;
    }
    // An attack sequence's resources are guarded one by one when they are planned.
    if c.is_attack_sequence {
        return match finding.is_sample() {
            true => notify("SAMPLE finding: samples are never contained"),
            false => wanted,
        };
    }
    if c.surface == Surface::Unknown {
        return notify("this resource type has no containment executor");
    }
    guardrail(finding, c, guard).unwrap_or(wanted)
}

/// Which guardrail held a containment back: a closed, low-cardinality name for metrics
/// and reports (the reason text may name an account or a tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Sample,
    ConfiguredExemption,
    TagExemption,
    ProtectedNamespace,
    Archived,
}

impl Guard {
    pub fn name(self) -> &'static str {
        match self {
            Guard::Sample => "sample",
            Guard::ConfiguredExemption => "exemption",
            Guard::TagExemption => "exempt_tag",
            Guard::ProtectedNamespace => "protected_namespace",
            Guard::Archived => "archived",
        }
    }
}

/// What stops the containment of one resource whatever the playbook says: a sample, a
/// configured or tag exemption, a protected namespace.
pub fn guardrail(finding: &Finding, c: &Classification, guard: &Guardrails) -> Option<Verdict> {
    guard_hit(finding, c, guard).map(|(_, reason)| Verdict {
        decision: Decision::Notify,
        reason,
    })
}

/// The guardrail (and its reason) that applies to one resource, whether or not it decided.
pub fn guard_hit(
    finding: &Finding,
    c: &Classification,
    guard: &Guardrails,
) -> Option<(Guard, String)> {
    if finding.is_sample() {
        return Some((
            Guard::Sample,
            "SAMPLE finding: samples are never contained".into(),
        ));
    }
    if let Some(reason) = guard.exemptions.configured(finding) {
        return Some((Guard::ConfiguredExemption, reason));
    }
    if guard.exemptions.tagged(finding) {
        let reason = format!(
            "resource carries the exemption tag {} = true",
            guard.exemptions.tag_key
        );
        return Some((Guard::TagExemption, reason));
    }
    if c.surface == Surface::Eks
        && let Some(ns) = finding.workload().and_then(|w| w.namespace.as_ref())
        && guard.protected_namespaces.iter().any(|p| p == ns.as_raw())
    {
        let reason = "the workload runs in a protected Kubernetes namespace".into();
        return Some((Guard::ProtectedNamespace, reason));
    }
    None
}

#[cfg(test)]
#[path = "playbook_tests.rs"]
mod tests;
