//! The EKS pod quarantine's actions, in the order a plan runs them, each with the
//! Kubernetes RBAC it needs and the RBAC its release needs.

use super::kubernetes::{RbacRule, rule};
use super::{ActionSpec, Undo};
use crate::action::ActionKind::*;
use crate::classify::Surface::Eks;

/// IAM actions every EKS containment calls before any action: the cluster's endpoint and
/// certificate authority. The token is a presigned `sts:GetCallerIdentity`, which needs no
/// permission.
pub(super) const OBSERVE: &[&str] = &["eks:DescribeCluster"];

/// Kubernetes reads every EKS containment makes before any action: the pod by name, or the
/// namespace's pods by container id; the nodes when the finding names the pod's instance.
pub(super) const OBSERVE_RBAC: &[RbacRule] = &[
    rule(&[""], "pods", &["get", "list"]),
    rule(&[""], "nodes", &["get"]),
];

/// Kubernetes reads every release makes before any step: the pod, its policy by name, or
/// (the pod gone, or a workload finding) the namespace's responder policies.
pub(super) const RELEASE_OBSERVE_RBAC: &[RbacRule] = &[
    rule(&[""], "pods", &["get"]),
    rule(&["networking.k8s.io"], "networkpolicies", &["get", "list"]),
];

/// Uncordoning or unprotecting the node waits until no other quarantined pod runs on it
/// (a cluster-wide pod list), then reads and patches the node's marks.
const RELEASE_NODE: &[RbacRule] = &[
    rule(&[""], "pods", &["list"]),
    rule(&[""], "nodes", &["get", "patch"]),
];

/// Restoring the pod's recorded labels: a merge patch, re-read on conflict.
const RESTORE_LABELS: &[RbacRule] = &[rule(&[""], "pods", &["get", "patch"])];

/// The EKS evidence bundle's reads (`actions/eks/bundle.rs`), all read-only: the pod's
/// ServiceAccount and Events, each container's logs (current and previous instance), its
/// owner chain (`owners.rs`) and its node. Declared by the `evidence.write_bundle` unit.
pub(super) const BUNDLE_RBAC: &[RbacRule] = &[
    rule(&[""], "serviceaccounts", &["get"]),
    rule(&[""], "events", &["list"]),
    rule(&[""], "pods/log", &["get"]),
    rule(&[""], "nodes", &["get"]),
    rule(&["apps"], "replicasets", &["get"]),
    rule(&["apps"], "deployments", &["get"]),
    rule(&["apps"], "statefulsets", &["get"]),
    rule(&["apps"], "daemonsets", &["get"]),
    rule(&["batch"], "jobs", &["get"]),
    rule(&["batch"], "cronjobs", &["get"]),
];

pub(super) const UNITS: &[ActionSpec] = &[
    ActionSpec {
        kind: EksLabelPod,
        surface: Eks,
        does: "label the pod with its UID (what the deny-all policy selects)",
        permissions: &[],
        kubernetes: &[rule(&[""], "pods", &["patch"])],
        undo: Undo::Release(&["eks.release.restore_labels"]),
        release_kubernetes: RESTORE_LABELS,
    },
    ActionSpec {
        kind: EksApplyDenyAllPolicy,
        surface: Eks,
        does: "apply a deny-all NetworkPolicy selecting only this pod",
        permissions: &[],
        kubernetes: &[
            // Read before writing; server-side apply is a patch, and a create when absent.
            rule(
                &["networking.k8s.io"],
                "networkpolicies",
                &["get", "create", "patch"],
            ),
            // Is a policy engine running (`policy.rs`, `ENGINE_DAEMONSETS`, by name)?
            rule(&["apps"], "daemonsets", &["get"]),
            // Reach (`reach.rs`): the pod re-read, the namespace's policies still admitting
            // traffic; a reachable pod's node cordoned when escalation asks for it.
            rule(&[""], "pods", &["get"]),
            rule(&["networking.k8s.io"], "networkpolicies", &["list"]),
            rule(&[""], "nodes", &["get", "patch"]),
        ],
        undo: Undo::Release(&["eks.release.delete_policy"]),
        release_kubernetes: &[rule(&["networking.k8s.io"], "networkpolicies", &["delete"])],
    },
    ActionSpec {
        kind: EksRemoveServiceLabels,
        surface: Eks,
        does: "remove the labels that put the pod behind Services (recorded)",
        permissions: &[],
        kubernetes: &[rule(&[""], "pods", &["get", "patch"])],
        undo: Undo::Release(&["eks.release.restore_labels"]),
        release_kubernetes: RESTORE_LABELS,
    },
    ActionSpec {
        kind: EksCordonNode,
        surface: Eks,
        does: "cordon the pod's node",
        permissions: &[],
        // Read the node; cordon, label and annotate it.
        kubernetes: &[rule(&[""], "nodes", &["get", "patch"])],
        undo: Undo::Release(&["eks.release.uncordon_node"]),
        release_kubernetes: RELEASE_NODE,
    },
    ActionSpec {
        kind: EksProtectNode,
        surface: Eks,
        does: "termination and scale-in protection on the node's instance",
        permissions: &[
            "ec2:DescribeInstanceAttribute",
            "ec2:ModifyInstanceAttribute",
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:SetInstanceProtection",
        ],
        // The node's providerID (its instance); what was turned on, recorded on the node.
        kubernetes: &[rule(&[""], "nodes", &["get", "patch"])],
        undo: Undo::Release(&["eks.release.unprotect_node"]),
        release_kubernetes: RELEASE_NODE,
    },
    ActionSpec {
        kind: EksRevokeRoleSessions,
        surface: Eks,
        does: "deny the sessions of the pod's IRSA or Pod Identity role issued before now",
        permissions: &[
            "iam:GetRole",
            "iam:PutRolePolicy",
            "eks:ListPodIdentityAssociations",
            "eks:DescribePodIdentityAssociation",
        ],
        kubernetes: &[
            // The pod's ServiceAccount: its IRSA role annotation.
            rule(&[""], "serviceaccounts", &["get"]),
            // The revoked roles, recorded on the pod and on its policy.
            rule(&[""], "pods", &["patch"]),
            rule(&["networking.k8s.io"], "networkpolicies", &["patch"]),
        ],
        undo: Undo::Release(&["eks.release.remove_role_revocation"]),
        // The record removed from the pod once the revocation is deleted.
        release_kubernetes: &[rule(&[""], "pods", &["patch"])],
    },
    ActionSpec {
        kind: EksRecordEvent,
        surface: Eks,
        does: "record a Kubernetes Event on the pod",
        permissions: &[],
        kubernetes: &[rule(&["", "events.k8s.io"], "events", &["create"])],
        undo: Undo::Kept("an Event is history"),
        release_kubernetes: &[],
    },
];
