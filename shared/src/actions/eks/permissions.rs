//! What the EKS executor needs, declared next to the calls so the Terraform policy and the
//! Kubernetes RBAC shipped in `infra/` can be checked against them. One entry per call.

/// IAM actions of the Lambda's role (`EksExecutor::execute`). The token is a presigned
/// `sts:GetCallerIdentity`, which needs no permission.
pub const REQUIRED_PERMISSIONS: &[&str] = &[
    // Endpoint and certificate authority of the cluster (client.rs).
    "eks:DescribeCluster",
    // eks.protect_node (node.rs): read, then turn on, termination and scale-in protection.
    "ec2:DescribeInstanceAttribute",
    "ec2:ModifyInstanceAttribute",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:SetInstanceProtection",
];

/// Conditions on the actions above (`infra/modules/surface-policy` must use exactly these):
/// the node's termination protection is only ever turned on.
pub const CONDITIONS: &[crate::actions::iam_conditions::Conditioned] =
    &[crate::actions::iam_conditions::Conditioned {
        action: "ec2:ModifyInstanceAttribute",
        statements: &[&[crate::actions::iam_conditions::TERMINATION_PROTECTION_ON]],
    }];

/// Kubernetes RBAC of the group the responder's EKS access entry maps to, as
/// `(resource, verbs)`. `pods`, `nodes` and `events` are in the core API group (`""`),
/// `networkpolicies` in `networking.k8s.io`; see [`api_group`]. Cluster-wide (a
/// ClusterRole): the pod can be in any namespace, and the engine check lists pods in all.
pub const KUBERNETES_RBAC: &[(&str, &[&str])] = &[
    // Resolve the pod (get, list in its namespace), detect the policy engine (list
    // cluster-wide with a label selector), label it and remove its labels (patch).
    ("pods", &["get", "list", "patch"]),
    // Read before writing; server-side apply is a patch, and a create when it is absent.
    ("networkpolicies", &["get", "create", "patch"]),
    // Read the node and its providerID; cordon, label and annotate it.
    ("nodes", &["get", "patch"]),
    ("events", &["create"]),
];

/// What a human additionally needs for `responder release eks` (IAM), besides
/// `eks:DescribeCluster` and the `autoscaling:DescribeAutoScalingInstances`,
/// `ec2:ModifyInstanceAttribute` and `autoscaling:SetInstanceProtection` above. Not granted
/// to the Lambda: containment never needs to undo itself.
pub const RELEASE_PERMISSIONS: &[&str] = &[];

/// Kubernetes RBAC for release (a human's group, not the responder's).
pub const RELEASE_KUBERNETES_RBAC: &[(&str, &[&str])] = &[
    // Find the pod, restore its labels, check no other quarantined pod is on the node.
    ("pods", &["get", "list", "patch"]),
    // Find the policy when the pod is gone (list), delete it.
    ("networkpolicies", &["get", "list", "delete"]),
    // Uncordon, remove the label and annotations.
    ("nodes", &["get", "patch"]),
];

/// The API group of a resource named in the lists above.
pub fn api_group(resource: &str) -> &'static str {
    match resource {
        "networkpolicies" => "networking.k8s.io",
        _ => "",
    }
}

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
            assert!(["eks", "ec2", "autoscaling"].contains(&svc), "{p}");
            assert!(
                action.starts_with(|c: char| c.is_ascii_uppercase()) && !action.contains('*'),
                "{p}"
            );
        }
        for (resource, verbs) in KUBERNETES_RBAC.iter().chain(RELEASE_KUBERNETES_RBAC) {
            assert!(!resource.contains('*') && !verbs.is_empty());
            for v in *verbs {
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
        assert!(KUBERNETES_RBAC.iter().all(|(_, v)| !v.contains(&"delete")));
    }
}
