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

pub use crate::action_catalog::{Grant, RbacRule};

/// Kubernetes RBAC of [`KUBERNETES_GROUP`], shipped as `infra/kubernetes/rbac.yaml`.
/// Derived from the action catalog: each EKS unit names the rules it needs (and the
/// evidence unit the bundle's reads); see [`crate::action_catalog::kubernetes_rbac`].
pub static KUBERNETES_RBAC: std::sync::LazyLock<std::collections::BTreeSet<Grant>> =
    std::sync::LazyLock::new(crate::action_catalog::kubernetes_rbac);

/// What a human additionally needs for `responder release eks` (IAM), besides
/// `eks:DescribeCluster` and the `autoscaling:DescribeAutoScalingInstances`,
/// `ec2:ModifyInstanceAttribute` and `autoscaling:SetInstanceProtection` above. Not granted
/// to the Lambda: containment never needs to undo itself.
pub const RELEASE_PERMISSIONS: &[&str] = &[
    // The revocation: read its cutoff; delete it only once every session it denies expired.
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
];

/// Kubernetes RBAC for release (a human's group, not the responder's). Derived from the
/// action catalog: the units' release rules; see
/// [`crate::action_catalog::release_kubernetes_rbac`].
pub static RELEASE_KUBERNETES_RBAC: std::sync::LazyLock<std::collections::BTreeSet<Grant>> =
    std::sync::LazyLock::new(crate::action_catalog::release_kubernetes_rbac);

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
        // Containment never deletes anything in the cluster.
        assert!(KUBERNETES_RBAC.iter().all(|g| g.verb != "delete"));
    }
}
