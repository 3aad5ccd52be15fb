//! Every response action as one unit: its surface, what it does in one line, the IAM
//! actions it calls, and how it is undone (the release steps that reverse it, or why
//! nothing needs to be). One `match` per kind, so a new action cannot be added without
//! saying all four; the dry run prints the line and the undo, the permission tests hold
//! each surface's IAM list to the union of its actions', and the release tests hold each
//! surface's release steps to the actions that claim them.

use crate::action::ActionKind;
use crate::classify::Surface;

/// How an action is undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undo {
    /// By these steps of `responder release <surface>` (their public names).
    Release(&'static [&'static str]),
    /// Not undone, and why that is right.
    Kept(&'static str),
}

/// One response action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    pub kind: ActionKind,
    pub surface: Surface,
    /// What it does, for the dry run.
    pub does: &'static str,
    /// The IAM actions it calls (besides its surface's [`observe_permissions`]).
    pub permissions: &'static [&'static str],
    pub undo: Undo,
}

/// IAM actions every containment on the surface calls before any action: reading the
/// resource.
pub fn observe_permissions(surface: Surface) -> &'static [&'static str] {
    match surface {
        Surface::Ec2 => &["ec2:DescribeInstances"],
        Surface::Ecs => &[
            "ecs:DescribeTasks",
            "ecs:DescribeTaskDefinition",
            "ec2:DescribeNetworkInterfaces",
        ],
        Surface::Eks => &["eks:DescribeCluster"],
        Surface::Unknown => &[],
    }
}

const GROUP_SWAP: &[&str] = &[
    "ec2:DescribeSecurityGroups",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:CreateTags",
    // The sensor link kept open, and GuardDuty's coverage afterwards.
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeNetworkInterfaces",
    "guardduty:ListDetectors",
    "guardduty:ListCoverage",
];

/// The unit of `kind`.
pub fn spec(kind: ActionKind) -> ActionSpec {
    use ActionKind::*;
    use Surface::{Ec2, Ecs, Eks};
    let (surface, does, permissions, undo): (Surface, &str, &[&str], Undo) = match kind {
        Ec2RecordPriorState => (
            Ec2,
            "record groups, protection, Auto Scaling and Elastic IPs on the instance (sealed)",
            &[
                "ec2:DescribeInstanceAttribute",
                "ec2:DescribeAddresses",
                "autoscaling:DescribeAutoScalingInstances",
                "ec2:CreateTags",
                // A stale or planted prior-state record being replaced (prior-state keys only).
                "ec2:DeleteTags",
                // The record's seal (with a key configured), checked on re-delivery.
                "kms:GenerateMac",
                "kms:VerifyMac",
            ],
            Undo::Release(&["ec2.release.remove_quarantine_tags"]),
        ),
        Ec2IsolateNetwork => (
            Ec2,
            "swap every ENI into the no-rules isolation group (GuardDuty's endpoint kept)",
            GROUP_SWAP,
            Undo::Release(&["ec2.release.restore_security_groups"]),
        ),
        Ec2ProtectInstance => (
            Ec2,
            "termination protection on, shutdown stops, volumes kept on termination",
            &[
                "ec2:DescribeInstanceAttribute",
                "ec2:ModifyInstanceAttribute",
            ],
            Undo::Release(&["ec2.release.restore_protection"]),
        ),
        Ec2DetachFromAutoScaling => (
            Ec2,
            "detach from its Auto Scaling group (a clean replacement is launched)",
            &[
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DetachInstances",
            ],
            Undo::Release(&["ec2.release.restore_auto_scaling"]),
        ),
        Ec2StandbyInAutoScaling => (
            Ec2,
            "put in Standby in its Auto Scaling group",
            &[
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:EnterStandby",
            ],
            Undo::Release(&["ec2.release.restore_auto_scaling"]),
        ),
        Ec2DisassociateAddresses => (
            Ec2,
            "disassociate its Elastic IPs",
            &["ec2:DescribeAddresses", "ec2:DisassociateAddress"],
            Undo::Release(&["ec2.release.restore_elastic_ips"]),
        ),
        Ec2SnapshotVolumes => (
            Ec2,
            "snapshot every EBS volume as evidence",
            &[
                "ec2:DescribeSnapshots",
                "ec2:CreateSnapshot",
                "ec2:CreateTags",
            ],
            Undo::Kept("evidence snapshots are kept"),
        ),
        // Collection, not containment: its failure is an outcome (`collects_evidence`).
        Ec2ShareSnapshots => (
            Ec2,
            "copy each evidence snapshot re-encrypted with the forensic key and share the \
             copy with the forensic account",
            &[
                "ec2:DescribeSnapshots",
                "ec2:CopySnapshot",
                "ec2:CreateTags",
                "ec2:DescribeSnapshotAttribute",
                "ec2:ModifySnapshotAttribute",
            ],
            Undo::Kept("shared evidence stays with the forensic account"),
        ),
        // Collection, not containment: its failure is an outcome (`collects_evidence`).
        Ec2CaptureVolatile => (
            Ec2,
            "once isolation has run, collect processes, connections, the finding's \
             /proc/<pid> and kernel modules over SSM (AWS-RunShellScript), written by the \
             instance to the evidence bucket",
            &["ssm:SendCommand", "ssm:GetCommandInvocation"],
            Undo::Kept("evidence is kept"),
        ),
        Ec2RevokeRoleSessions => (
            Ec2,
            "deny the instance profile role's sessions issued before now",
            &[
                "iam:GetInstanceProfile",
                "iam:PutRolePolicy",
                "ec2:CreateTags",
            ],
            Undo::Release(&["ec2.release.remove_role_revocation"]),
        ),
        Ec2TagInstance => (
            Ec2,
            "tag the instance with the finding and the quarantine status",
            &["ec2:CreateTags"],
            Undo::Release(&["ec2.release.remove_quarantine_tags"]),
        ),
        EcsCaptureEvidence => (
            Ecs,
            "capture the task, its definition, ENI and services as described (with an \
             evidence bucket, also its containers' recent logs)",
            &["ecs:DescribeServices", "logs:GetLogEvents"],
            Undo::Kept("evidence is kept"),
        ),
        EcsIsolateTaskNetwork => (
            Ecs,
            "deny the task's address in its subnets' network ACLs, or swap its ENI's groups \
             (ECS on EC2 without a task ENI: quarantine the host and drain it)",
            &[
                "ecs:TagResource",
                "ec2:DescribeNetworkAcls",
                "ec2:CreateNetworkAclEntry",
                "ec2:DescribeSecurityGroups",
                "ec2:CreateSecurityGroup",
                "ec2:CreateTags",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:ModifyNetworkInterfaceAttribute",
                // The sensor link kept open, and the cluster's coverage afterwards.
                "ec2:DescribeVpcEndpoints",
                "guardduty:ListDetectors",
                "guardduty:ListCoverage",
                // ECS on EC2 without a task ENI: the host's EC2 quarantine, and DRAINING.
                "ecs:DescribeContainerInstances",
                "ecs:UpdateContainerInstancesState",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceAttribute",
                "ec2:DescribeAddresses",
                "ec2:ModifyInstanceAttribute",
                "ec2:DeleteTags",
                // The record on the task and on the ACL is sealed (with a key configured).
                "kms:GenerateMac",
                "kms:VerifyMac",
            ],
            Undo::Release(&[
                "ecs.release.remove_acl_entries",
                "ecs.release.restore_security_groups",
            ]),
        ),
        EcsDeregisterTargets => (
            Ecs,
            "deregister the task from its services' target groups",
            &[
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DeregisterTargets",
                "ecs:TagResource",
            ],
            Undo::Release(&["ecs.release.restore_targets"]),
        ),
        EcsTagTask => (
            Ecs,
            "tag the task with the finding and the containment status",
            &["ecs:TagResource"],
            Undo::Release(&["ecs.release.remove_tags"]),
        ),
        EcsRevokeRoleSessions => (
            Ecs,
            "deny the task role's sessions issued before now",
            &["iam:PutRolePolicy", "ecs:TagResource"],
            Undo::Release(&["ecs.release.remove_role_revocation"]),
        ),
        EcsStopTask => (
            Ecs,
            "stop the task after isolation",
            &["ecs:StopTask"],
            Undo::Kept("a stopped task cannot be restarted; its service starts a new one"),
        ),
        EksLabelPod => (
            Eks,
            "label the pod with its UID (what the deny-all policy selects)",
            &[],
            Undo::Release(&["eks.release.restore_labels"]),
        ),
        EksApplyDenyAllPolicy => (
            Eks,
            "apply a deny-all NetworkPolicy selecting only this pod",
            &[],
            Undo::Release(&["eks.release.delete_policy"]),
        ),
        EksRemoveServiceLabels => (
            Eks,
            "remove the labels that put the pod behind Services (recorded)",
            &[],
            Undo::Release(&["eks.release.restore_labels"]),
        ),
        EksCordonNode => (
            Eks,
            "cordon the pod's node",
            &[],
            Undo::Release(&["eks.release.uncordon_node"]),
        ),
        EksProtectNode => (
            Eks,
            "termination and scale-in protection on the node's instance",
            &[
                "ec2:DescribeInstanceAttribute",
                "ec2:ModifyInstanceAttribute",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:SetInstanceProtection",
            ],
            Undo::Release(&["eks.release.unprotect_node"]),
        ),
        EksRevokeRoleSessions => (
            Eks,
            "deny the sessions of the pod's IRSA or Pod Identity role issued before now",
            &[
                "iam:GetRole",
                "iam:PutRolePolicy",
                "eks:ListPodIdentityAssociations",
                "eks:DescribePodIdentityAssociation",
            ],
            Undo::Release(&["eks.release.remove_role_revocation"]),
        ),
        EksRecordEvent => (
            Eks,
            "record a Kubernetes Event on the pod",
            &[],
            Undo::Kept("an Event is history"),
        ),
        // Not planned: every executor adds it when an evidence bucket is configured.
        EvidenceWriteBundle => (
            Surface::Unknown,
            "write the evidence bundle (the finding, the descriptions taken before any \
             change, what was collected, the manifest last) to the evidence bucket",
            &["s3:PutObject", "kms:GenerateDataKey"],
            Undo::Kept("evidence is kept, write-once under Object Lock"),
        ),
    };
    ActionSpec {
        kind,
        surface,
        does,
        permissions,
        undo,
    }
}

/// Every kind, in the order a plan runs them on its surface.
pub const ALL: &[ActionKind] = {
    use ActionKind::*;
    &[
        Ec2RecordPriorState,
        Ec2IsolateNetwork,
        Ec2ProtectInstance,
        Ec2DetachFromAutoScaling,
        Ec2StandbyInAutoScaling,
        Ec2DisassociateAddresses,
        Ec2SnapshotVolumes,
        Ec2ShareSnapshots,
        Ec2CaptureVolatile,
        Ec2RevokeRoleSessions,
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
        EksRevokeRoleSessions,
        EksRecordEvent,
        EvidenceWriteBundle,
    ]
};

impl ActionKind {
    /// The surface this action acts on.
    pub fn surface(self) -> Surface {
        spec(self).surface
    }
}

/// The IAM actions a containment on `surface` may call: its reads and the union of its
/// actions', sorted, each once. This is the surface executor's `REQUIRED_PERMISSIONS`
/// (what Terraform must grant, and all the executor may call).
pub fn surface_permissions(surface: Surface) -> Vec<&'static str> {
    let set: std::collections::BTreeSet<&'static str> = ALL
        .iter()
        .map(|k| spec(*k))
        .filter(|s| s.surface == surface)
        .flat_map(|s| s.permissions.iter().copied())
        .chain(observe_permissions(surface).iter().copied())
        .collect();
    set.into_iter().collect()
}

/// The dry run's line for an action: what it does, and how it is undone.
pub fn describe(kind: ActionKind) -> String {
    let s = spec(kind);
    match s.undo {
        Undo::Release(steps) => format!("{}; undone by {}", s.does, steps.join(", ")),
        Undo::Kept(why) => format!("{}; not undone: {why}", s.does),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_and_names_its_surface() {
        let mut seen = std::collections::BTreeSet::new();
        for k in ALL {
            assert!(seen.insert(k.name()), "{} twice", k.name());
            let prefix = match k.surface() {
                Surface::Ec2 => "ec2.",
                Surface::Ecs => "ecs.",
                Surface::Eks => "eks.",
                // Every surface's: named for what it is, never planned.
                Surface::Unknown => {
                    assert!(k.collects_evidence(), "{} has no surface", k.name());
                    "evidence."
                }
            };
            assert!(k.name().starts_with(prefix), "{}", k.name());
            if let Undo::Release(steps) = spec(*k).undo {
                assert!(!steps.is_empty());
                for step in steps {
                    assert!(step.starts_with(&format!("{prefix}release.")), "{step}");
                }
            }
        }
    }

    /// `ALL` is exactly the enum, in its order (a new kind must be placed in it).
    #[test]
    fn all_is_every_kind_in_order() {
        for (i, k) in ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{}", k.name());
        }
        assert_eq!(ALL.len(), ActionKind::EvidenceWriteBundle as usize + 1);
    }

    #[test]
    fn the_dry_run_line_says_how_to_undo() {
        assert!(
            describe(ActionKind::Ec2IsolateNetwork)
                .ends_with("undone by ec2.release.restore_security_groups")
        );
        assert!(describe(ActionKind::Ec2SnapshotVolumes).contains("not undone: evidence"));
    }
}
