//! Kubernetes RBAC, declared by the units like their IAM actions: the responder's
//! ClusterRole (`infra/kubernetes/rbac.yaml`) and what a person releasing a pod needs are
//! both the union of what the EKS units (and the evidence unit, on EKS) say they call.

use super::{ALL, eks, spec};
use crate::action::ActionKind;
use std::collections::BTreeSet;

/// One RBAC rule: API groups (`""` is the core group), resource and verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RbacRule {
    pub groups: &'static [&'static str],
    pub resource: &'static str,
    pub verbs: &'static [&'static str],
}

pub const fn rule(
    groups: &'static [&'static str],
    resource: &'static str,
    verbs: &'static [&'static str],
) -> RbacRule {
    RbacRule {
        groups,
        resource,
        verbs,
    }
}

/// One permission as RBAC checks a request: a verb on a resource of an API group. Rules
/// are compared grant by grant, so how a manifest groups them does not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    pub group: &'static str,
    pub resource: &'static str,
    pub verb: &'static str,
}

impl Grant {
    /// `"patch pods"`: the verb and resource, as RBAC (and its 403) names them.
    pub fn call(&self) -> String {
        format!("{} {}", self.verb, self.resource)
    }
}

impl RbacRule {
    /// Every (group, resource, verb) the rule allows.
    pub fn grants(&self) -> impl Iterator<Item = Grant> + '_ {
        self.groups.iter().flat_map(move |group| {
            self.verbs.iter().map(move |verb| Grant {
                group,
                resource: self.resource,
                verb,
            })
        })
    }
}

fn union<'a>(rules: impl Iterator<Item = &'a RbacRule>) -> BTreeSet<Grant> {
    rules.flat_map(RbacRule::grants).collect()
}

/// What containment may call for `kind`: the pod look-up every EKS containment makes, and
/// the unit's own rules (`evidence.write_bundle`: the EKS bundle's reads).
pub fn unit_rbac(kind: ActionKind) -> BTreeSet<Grant> {
    union(eks::OBSERVE_RBAC.iter().chain(spec(kind).kubernetes))
}

/// What the release steps undoing `kind` may call: the reads every release makes, and the
/// unit's release rules.
pub fn release_unit_rbac(kind: ActionKind) -> BTreeSet<Grant> {
    union(
        eks::RELEASE_OBSERVE_RBAC
            .iter()
            .chain(spec(kind).release_kubernetes),
    )
}

/// The responder's ClusterRole: every unit's [`unit_rbac`]. Cluster-wide: the pod can be
/// in any namespace. The writes are as wide as RBAC can express (it cannot limit a patch
/// to some fields, or to names not known in advance);
/// `infra/kubernetes/admission-policy.yaml` narrows them to what the actions do.
pub fn kubernetes_rbac() -> BTreeSet<Grant> {
    ALL.iter().flat_map(|k| unit_rbac(*k)).collect()
}

/// What a person needs to run `responder release eks` (or a Release click's function):
/// every unit's [`release_unit_rbac`].
pub fn release_kubernetes_rbac() -> BTreeSet<Grant> {
    ALL.iter().flat_map(|k| release_unit_rbac(*k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_well_formed_and_containment_deletes_nothing() {
        for g in kubernetes_rbac().iter().chain(&release_kubernetes_rbac()) {
            assert!(!g.resource.contains('*') && !g.group.contains('*'), "{g:?}");
            // The one subresource is the logs, read-only (never pods/exec, nodes/proxy…).
            assert!(
                !g.resource.contains('/') || (g.resource == "pods/log" && g.verb == "get"),
                "{g:?}"
            );
            assert!(
                ["get", "list", "create", "patch", "delete"].contains(&g.verb),
                "{g:?}"
            );
        }
        assert!(kubernetes_rbac().iter().all(|g| g.verb != "delete"));
    }

    /// Only the EKS units and the evidence unit (whose EKS bundle reads the cluster) touch
    /// Kubernetes; a kept action has no release rules.
    #[test]
    fn kubernetes_rules_belong_to_eks_units() {
        for k in ALL.iter() {
            let s = spec(*k);
            let on_eks = matches!(s.surface, crate::classify::Surface::Eks)
                || *k == crate::action::ActionKind::EvidenceWriteBundle;
            assert!(on_eks || s.kubernetes.is_empty(), "{}", k.name());
            assert!(on_eks || s.release_kubernetes.is_empty(), "{}", k.name());
            if let super::super::Undo::Kept(_) = s.undo {
                assert!(s.release_kubernetes.is_empty(), "{}", k.name());
            }
        }
    }

    #[test]
    fn release_needs_delete_on_policies_only() {
        let deletes: Vec<_> = release_kubernetes_rbac()
            .into_iter()
            .filter(|g| g.verb == "delete")
            .map(|g| g.resource)
            .collect();
        assert_eq!(deletes, ["networkpolicies"]);
    }
}
