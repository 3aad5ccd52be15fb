//! Stage 4 — plan: a finding plus configuration in, a [`ResponsePlan`] out, as data.
//!
//! Pure: no I/O. Executors carry out `actions`; a dry run prints them; tests assert on
//! them. The same plan (with outcomes filled in) drives the notification.

use crate::classify::{Classification, SeverityLabel, Surface, ThreatFamily, classify};
use crate::config::Config;
use crate::finding::Finding;
use crate::options::AsgMode;
use crate::playbook::{Decision, Verdict, decide};
use crate::render::{Notification, render};
use crate::target::{Target, ec2_target, ecs_target, eks_target};
use serde::Serialize;
use std::sync::Arc;

/// One step of containment. The name says the surface and what is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Ec2RecordPriorState,
    Ec2IsolateNetwork,
    Ec2ProtectInstance,
    Ec2DetachFromAutoScaling,
    Ec2StandbyInAutoScaling,
    Ec2DisassociateAddresses,
    Ec2SnapshotVolumes,
    Ec2TagInstance,
    EcsCaptureEvidence,
    EcsIsolateTaskNetwork,
    EcsDeregisterTargets,
    EcsTagTask,
    EcsRevokeRoleSessions,
    EcsStopTask,
    EksLabelPod,
    EksApplyDenyAllPolicy,
    EksRemoveServiceLabels,
    EksCordonNode,
    EksProtectNode,
    EksRecordEvent,
}

impl ActionKind {
    /// The public spelling, used in JSON, logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Ec2RecordPriorState => "ec2.record_prior_state",
            ActionKind::Ec2IsolateNetwork => "ec2.isolate_network",
            ActionKind::Ec2ProtectInstance => "ec2.protect_instance",
            ActionKind::Ec2DetachFromAutoScaling => "ec2.detach_from_auto_scaling",
            ActionKind::Ec2StandbyInAutoScaling => "ec2.standby_in_auto_scaling",
            ActionKind::Ec2DisassociateAddresses => "ec2.disassociate_addresses",
            ActionKind::Ec2SnapshotVolumes => "ec2.snapshot_volumes",
            ActionKind::Ec2TagInstance => "ec2.tag_instance",
            ActionKind::EcsCaptureEvidence => "ecs.capture_evidence",
            ActionKind::EcsIsolateTaskNetwork => "ecs.isolate_task_network",
            ActionKind::EcsDeregisterTargets => "ecs.deregister_targets",
            ActionKind::EcsTagTask => "ecs.tag_task",
            ActionKind::EcsRevokeRoleSessions => "ecs.revoke_role_sessions",
            ActionKind::EcsStopTask => "ecs.stop_task",
            ActionKind::EksLabelPod => "eks.label_pod",
            ActionKind::EksApplyDenyAllPolicy => "eks.apply_deny_all_policy",
            ActionKind::EksRemoveServiceLabels => "eks.remove_service_labels",
            ActionKind::EksCordonNode => "eks.cordon_node",
            ActionKind::EksProtectNode => "eks.protect_node",
            ActionKind::EksRecordEvent => "eks.record_event",
        }
    }
}

impl ActionKind {
    /// The actions that cut the workload off the network: the end of "time to isolation".
    pub fn isolates(self) -> bool {
        matches!(
            self,
            ActionKind::Ec2IsolateNetwork
                | ActionKind::EcsIsolateTaskNetwork
                | ActionKind::EksApplyDenyAllPolicy
        )
    }
}

impl Serialize for ActionKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub kind: ActionKind,
    /// Shared by the actions of one plan, which all act on the same workload.
    pub target: Arc<Target>,
}

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
    pub notification: Notification,
    #[serde(skip)]
    pub finding: Box<Finding>,
    #[serde(skip)]
    pub classification: Classification,
}

impl ResponsePlan {
    /// Lowers a containment to notify-only (rate limit, wrong function) and says why.
    pub fn downgrade(&mut self, reason: String) {
        self.decision = Decision::Notify;
        self.reason = reason;
        self.actions.clear();
        self.notification = render(self, None);
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
            self.notification = render(self, None);
        }
        others
    }
}

/// Builds the plan for one finding. Pure and total: every finding yields a plan.
/// Takes a boxed finding as is (a finding is kilobytes; moving it costs a copy).
pub fn plan(finding: impl Into<Box<Finding>>, config: &Config) -> ResponsePlan {
    let finding: Box<Finding> = finding.into();
    let c = classify(&finding);
    let mut verdict = decide(&finding, &c, &config.playbook, &config.guardrails);
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
    let mut plan = ResponsePlan {
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
        notification: Notification::default(),
        finding,
        classification: c,
    };
    plan.notification = render(&plan, None);
    plan
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

pub(crate) fn surface_actions(
    f: &Finding,
    c: &Classification,
    config: &Config,
) -> Result<Vec<Action>, crate::target::TargetError> {
    use ActionKind::*;
    if let Some(why) = &f.target_ambiguity {
        return Err(crate::target::TargetError::Ambiguous(why.clone()));
    }
    let (target, kinds): (Target, Vec<ActionKind>) = match c.surface {
        Surface::Ec2 => {
            let o = &config.ec2;
            let mut k = vec![Ec2RecordPriorState, Ec2IsolateNetwork, Ec2ProtectInstance];
            match o.asg {
                AsgMode::Detach => k.push(Ec2DetachFromAutoScaling),
                AsgMode::Standby => k.push(Ec2StandbyInAutoScaling),
                AsgMode::Skip => {}
            }
            if o.disassociate_eips {
                k.push(Ec2DisassociateAddresses);
            }
            if o.snapshots {
                k.push(Ec2SnapshotVolumes);
            }
            k.push(Ec2TagInstance);
            (ec2_target(f)?, k)
        }
        Surface::Ecs => {
            let o = &config.ecs;
            let mut k = vec![
                EcsCaptureEvidence,
                EcsIsolateTaskNetwork,
                EcsDeregisterTargets,
                EcsTagTask,
            ];
            if o.revoke_role_sessions {
                k.push(EcsRevokeRoleSessions);
            }
            if o.stop_task {
                k.push(EcsStopTask);
            }
            (ecs_target(f, c.launch_type.as_deref())?, k)
        }
        Surface::Eks => {
            let o = &config.eks;
            let mut k = vec![EksLabelPod, EksApplyDenyAllPolicy];
            if o.remove_service_labels {
                k.push(EksRemoveServiceLabels);
            }
            if o.cordon_node {
                k.push(EksCordonNode);
            }
            if o.protect_node {
                k.push(EksProtectNode);
            }
            k.push(EksRecordEvent);
            (eks_target(f)?, k)
        }
        Surface::Unknown => return Ok(vec![]),
    };
    let target = Arc::new(target);
    Ok(kinds
        .into_iter()
        .map(|kind| Action {
            kind,
            target: target.clone(),
        })
        .collect())
}
