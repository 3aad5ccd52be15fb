//! The EC2 instance quarantine's actions, in the order a plan runs them.

use super::{ActionSpec, Undo};
use crate::action::ActionKind::*;
use crate::classify::Surface::Ec2;

/// IAM actions every EC2 containment calls before any action: reading the instance.
pub(super) const OBSERVE: &[&str] = &["ec2:DescribeInstances"];

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

pub(super) const UNITS: &[ActionSpec] = &[
    ActionSpec {
        kind: Ec2RecordPriorState,
        surface: Ec2,
        does: "record groups, protection, Auto Scaling and Elastic IPs on the instance (sealed)",
        permissions: &[
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
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.remove_quarantine_tags"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2IsolateNetwork,
        surface: Ec2,
        does: "swap every ENI into the no-rules isolation group (GuardDuty's endpoint kept)",
        permissions: GROUP_SWAP,
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.restore_security_groups"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2ProtectInstance,
        surface: Ec2,
        does: "termination protection on, shutdown stops, volumes kept on termination",
        permissions: &[
            "ec2:DescribeInstanceAttribute",
            "ec2:ModifyInstanceAttribute",
        ],
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.restore_protection"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2DetachFromAutoScaling,
        surface: Ec2,
        does: "detach from its Auto Scaling group (a clean replacement is launched)",
        permissions: &[
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DetachInstances",
        ],
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.restore_auto_scaling"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2StandbyInAutoScaling,
        surface: Ec2,
        does: "put in Standby in its Auto Scaling group",
        permissions: &[
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:EnterStandby",
        ],
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.restore_auto_scaling"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2DisassociateAddresses,
        surface: Ec2,
        does: "disassociate its Elastic IPs",
        permissions: &["ec2:DescribeAddresses", "ec2:DisassociateAddress"],
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.restore_elastic_ips"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2SnapshotVolumes,
        surface: Ec2,
        does: "snapshot every EBS volume as evidence",
        permissions: &[
            "ec2:DescribeSnapshots",
            "ec2:CreateSnapshot",
            "ec2:CreateTags",
        ],
        kubernetes: &[],
        undo: Undo::Kept("evidence snapshots are kept"),
        release_kubernetes: &[],
    },
    // Collection, not containment: its failure is an outcome (`collects_evidence`).
    ActionSpec {
        kind: Ec2ShareSnapshots,
        surface: Ec2,
        does: "copy each evidence snapshot re-encrypted with the forensic key and share the \
               copy with the forensic account",
        permissions: &[
            "ec2:DescribeSnapshots",
            "ec2:CopySnapshot",
            "ec2:CreateTags",
            "ec2:DescribeSnapshotAttribute",
            "ec2:ModifySnapshotAttribute",
        ],
        kubernetes: &[],
        undo: Undo::Kept("shared evidence stays with the forensic account"),
        release_kubernetes: &[],
    },
    // Collection, not containment: its failure is an outcome (`collects_evidence`).
    ActionSpec {
        kind: Ec2CaptureVolatile,
        surface: Ec2,
        does: "once isolation has run, collect processes, connections, the finding's \
               /proc/<pid> and kernel modules over SSM (AWS-RunShellScript, one command per \
               artefact), read back compressed and stored in the evidence bundle",
        permissions: &["ssm:SendCommand", "ssm:GetCommandInvocation"],
        kubernetes: &[],
        undo: Undo::Kept("evidence is kept"),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2RevokeRoleSessions,
        surface: Ec2,
        does: "deny the instance profile role's sessions issued before now",
        permissions: &[
            "iam:GetInstanceProfile",
            "iam:PutRolePolicy",
            "ec2:CreateTags",
        ],
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.remove_role_revocation"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: Ec2TagInstance,
        surface: Ec2,
        does: "tag the instance with the finding and the quarantine status",
        permissions: &["ec2:CreateTags"],
        kubernetes: &[],
        undo: Undo::Release(&["ec2.release.remove_quarantine_tags"]),
        release_kubernetes: &[],
    },
];
