//! What the EKS executor needs, declared next to the calls so the Terraform policy and the
//! Kubernetes RBAC shipped in `infra/` can be checked against them. One entry per call.

/// IAM actions of the Lambda's role (`EksExecutor::execute`). The token is a presigned
/// `sts:GetCallerIdentity`, which needs no permission.
/// Derived from the action catalog: each action's unit names the IAM actions it calls.
pub static REQUIRED_PERMISSIONS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| {
        crate::action_catalog::surface_permissions(crate::classify::Surface::Eks)
    });

/// Conditions on the actions above (`infra/modules/surface-policy` must use exactly these):
/// the node's termination protection is only ever turned on.
pub const CONDITIONS: &[crate::actions::iam_conditions::Conditioned] =
    &[crate::actions::iam_conditions::Conditioned {
        action: "ec2:ModifyInstanceAttribute",
        statements: &[&[crate::actions::iam_conditions::TERMINATION_PROTECTION_ON]],
    }];

/// The Kubernetes group the responder's EKS access entry maps to (Terraform:
/// `eks_kubernetes_group`); `infra/kubernetes/` binds its ClusterRole and admission policy
/// to it.
pub const KUBERNETES_GROUP: &str = "guardduty-responder";

/// One RBAC rule: API groups, resource, verbs and, when not empty, the only object names
/// it applies to (`resourceNames`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RbacRule {
    pub groups: &'static [&'static str],
    pub resource: &'static str,
    pub verbs: &'static [&'static str],
    pub names: &'static [&'static str],
}

const fn rule(
    groups: &'static [&'static str],
    resource: &'static str,
    verbs: &'static [&'static str],
) -> RbacRule {
    RbacRule {
        groups,
        resource,
        verbs,
        names: &[],
    }
}

/// Kubernetes RBAC of [`KUBERNETES_GROUP`], shipped as `infra/kubernetes/rbac.yaml`.
/// Cluster-wide (a ClusterRole): the pod can be in any namespace. The writes are as wide
/// as RBAC can express (it cannot limit a patch to some fields or names not known in
/// advance); `infra/kubernetes/admission-policy.yaml` narrows them to what the actions do.
pub const KUBERNETES_RBAC: &[RbacRule] = &[
    // Resolve the pod (get, list in its namespace), label it and remove its labels
    // (patch), re-read it before reporting the policy step done.
    rule(&[""], "pods", &["get", "list", "patch"]),
    // Read before writing; server-side apply is a patch, and a create when it is absent;
    // list the namespace's policies to find those still admitting traffic (reach.rs).
    rule(
        &["networking.k8s.io"],
        "networkpolicies",
        &["get", "list", "create", "patch"],
    ),
    // eks.revoke_role_sessions: the pod's ServiceAccount (its IRSA role annotation).
    rule(&[""], "serviceaccounts", &["get"]),
    // Read the node and its providerID; cordon, label and annotate it.
    rule(&[""], "nodes", &["get", "patch"]),
    rule(&["", "events.k8s.io"], "events", &["create"]),
    // The evidence bundle (bundle.rs), read-only: the pod's Events, each container's logs
    // (current and previous instance), its owner chain (owners.rs). The DaemonSet read
    // also finds the policy engine's (policy.rs, ENGINE_DAEMONSETS), once by name only.
    rule(&[""], "events", &["list"]),
    rule(&[""], "pods/log", &["get"]),
    rule(&["apps"], "replicasets", &["get"]),
    rule(&["apps"], "deployments", &["get"]),
    rule(&["apps"], "statefulsets", &["get"]),
    rule(&["apps"], "daemonsets", &["get"]),
    rule(&["batch"], "jobs", &["get"]),
    rule(&["batch"], "cronjobs", &["get"]),
];

/// What a human additionally needs for `responder release eks` (IAM), besides
/// `eks:DescribeCluster` and the `autoscaling:DescribeAutoScalingInstances`,
/// `ec2:ModifyInstanceAttribute` and `autoscaling:SetInstanceProtection` above. Not granted
/// to the Lambda: containment never needs to undo itself.
pub const RELEASE_PERMISSIONS: &[&str] = &[
    // The revocation: read its cutoff; delete it only once every session it denies expired.
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
];

/// Kubernetes RBAC for release (a human's group, not the responder's).
pub const RELEASE_KUBERNETES_RBAC: &[RbacRule] = &[
    // Find the pod, restore its labels, check no other quarantined pod is on the node.
    rule(&[""], "pods", &["get", "list", "patch"]),
    // Find the policy when the pod is gone (list), delete it.
    rule(
        &["networking.k8s.io"],
        "networkpolicies",
        &["get", "list", "delete"],
    ),
    // Uncordon, remove the label and annotations.
    rule(&[""], "nodes", &["get", "patch"]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn lists_are_well_formed() {
        let iam: BTreeSet<_> = REQUIRED_PERMISSIONS
            .iter()
            .chain(RELEASE_PERMISSIONS)
            .collect();
        assert_eq!(
            iam.len(),
            REQUIRED_PERMISSIONS.len() + RELEASE_PERMISSIONS.len()
        );
        for p in iam {
            let (svc, action) = p.split_once(':').expect("service:Action");
            assert!(["eks", "ec2", "autoscaling", "iam"].contains(&svc), "{p}");
            assert!(
                action.starts_with(|c: char| c.is_ascii_uppercase()) && !action.contains('*'),
                "{p}"
            );
        }
        for r in KUBERNETES_RBAC.iter().chain(RELEASE_KUBERNETES_RBAC) {
            assert!(!r.resource.contains('*') && !r.verbs.is_empty() && !r.groups.is_empty());
            // The one subresource is the logs, read-only (never pods/exec, nodes/proxy…).
            assert!(
                !r.resource.contains('/') || (r.resource == "pods/log" && r.verbs == ["get"]),
                "{r:?}"
            );
            for v in r.verbs {
                assert!(
                    [
                        "get", "list", "watch", "create", "patch", "update", "delete"
                    ]
                    .contains(v),
                    "{v}"
                );
            }
        }
        // Containment never deletes anything in the cluster.
        assert!(KUBERNETES_RBAC.iter().all(|r| !r.verbs.contains(&"delete")));
    }
}
