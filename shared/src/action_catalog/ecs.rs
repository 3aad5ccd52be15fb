//! The ECS task isolation's actions, in the order a plan runs them.

use super::{ActionSpec, Undo};
use crate::action::ActionKind::*;
use crate::classify::Surface::Ecs;

/// IAM actions every ECS containment calls before any action: reading the task.
pub(super) const OBSERVE: &[&str] = &[
    "ecs:DescribeTasks",
    "ecs:DescribeTaskDefinition",
    "ec2:DescribeNetworkInterfaces",
];

pub(super) const UNITS: &[ActionSpec] = &[
    ActionSpec {
        kind: EcsCaptureEvidence,
        surface: Ecs,
        does: "capture the task, its definition, ENI and services as described (with an \
               evidence bucket, also its containers' recent logs)",
        permissions: &["ecs:DescribeServices", "logs:GetLogEvents"],
        kubernetes: &[],
        undo: Undo::Kept("evidence is kept"),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: EcsIsolateTaskNetwork,
        surface: Ecs,
        does: "deny the task's address in its subnets' network ACLs, or swap its ENI's groups \
               (ECS on EC2 without a task ENI: quarantine the host and drain it)",
        permissions: &[
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
        kubernetes: &[],
        undo: Undo::Release(&[
            "ecs.release.remove_acl_entries",
            "ecs.release.restore_security_groups",
        ]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: EcsDeregisterTargets,
        surface: Ecs,
        does: "deregister the task from its services' target groups",
        permissions: &[
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DeregisterTargets",
            "ecs:TagResource",
        ],
        kubernetes: &[],
        undo: Undo::Release(&["ecs.release.restore_targets"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: EcsTagTask,
        surface: Ecs,
        does: "tag the task with the finding and the containment status",
        permissions: &["ecs:TagResource"],
        kubernetes: &[],
        undo: Undo::Release(&["ecs.release.remove_tags"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: EcsRevokeRoleSessions,
        surface: Ecs,
        does: "deny the task role's sessions issued before now",
        permissions: &["iam:PutRolePolicy", "ecs:TagResource"],
        kubernetes: &[],
        undo: Undo::Release(&["ecs.release.remove_role_revocation"]),
        release_kubernetes: &[],
    },
    ActionSpec {
        kind: EcsStopTask,
        surface: Ecs,
        does: "stop the task after isolation",
        permissions: &["ecs:StopTask"],
        kubernetes: &[],
        undo: Undo::Kept("a stopped task cannot be restarted; its service starts a new one"),
        release_kubernetes: &[],
    },
];
