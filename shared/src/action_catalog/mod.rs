//! Every response action as one unit: its surface, what it does in one line, the IAM
//! actions and Kubernetes RBAC it needs, and how it is undone (the release steps that
//! reverse it and the RBAC they need, or why nothing needs to be). One file per surface
//! lists its units in execution order; the dry run prints the line and the undo, the
//! permission tests hold each surface's IAM list and the shipped ClusterRole to the union
//! of its units', and the release tests hold each surface's release steps to the actions
//! that claim them.

use crate::action::ActionKind;
use crate::classify::Surface;

mod ec2;
mod ecs;
mod eks;
mod kubernetes;

pub use kubernetes::{
    Grant, RbacRule, kubernetes_rbac, release_kubernetes_rbac, release_unit_rbac, rule, unit_rbac,
};

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
    /// The Kubernetes RBAC it needs (EKS only; besides the pod look-up every EKS
    /// containment makes).
    pub kubernetes: &'static [RbacRule],
    pub undo: Undo,
    /// The Kubernetes RBAC of the release steps that undo it (EKS only).
    pub release_kubernetes: &'static [RbacRule],
}

/// IAM actions every containment on the surface calls before any action: reading the
/// resource.
pub fn observe_permissions(surface: Surface) -> &'static [&'static str] {
    match surface {
        Surface::Ec2 => ec2::OBSERVE,
        Surface::Ecs => ecs::OBSERVE,
        Surface::Eks => eks::OBSERVE,
        Surface::Unknown => &[],
    }
}

/// Not planned: every executor adds it when an evidence bucket is configured. On EKS the
/// bundle also reads the cluster.
const EVIDENCE: ActionSpec = ActionSpec {
    kind: ActionKind::EvidenceWriteBundle,
    surface: Surface::Unknown,
    does: "write the evidence bundle (the finding, the descriptions taken before any \
           change, what was collected, the manifest last) to the evidence bucket",
    permissions: &["s3:PutObject", "kms:GenerateDataKey"],
    kubernetes: eks::BUNDLE_RBAC,
    undo: Undo::Kept("evidence is kept, write-once under Object Lock"),
    release_kubernetes: &[],
};

/// Every unit, indexed by its kind: the surfaces' lists in enum order.
static UNITS: std::sync::LazyLock<Vec<ActionSpec>> = std::sync::LazyLock::new(|| {
    let units: Vec<ActionSpec> = [ec2::UNITS, ecs::UNITS, eks::UNITS, &[EVIDENCE]].concat();
    // A kind without its unit, or out of place, would read another kind's unit.
    assert!(
        units.len() == ActionKind::EvidenceWriteBundle as usize + 1
            && units.iter().enumerate().all(|(i, u)| u.kind as usize == i),
        "each surface file lists its units in ActionKind's order"
    );
    units
});

/// The unit of `kind`.
pub fn spec(kind: ActionKind) -> ActionSpec {
    UNITS[kind as usize]
}

/// Every kind, in the order a plan runs them on its surface.
pub static ALL: std::sync::LazyLock<Vec<ActionKind>> =
    std::sync::LazyLock::new(|| UNITS.iter().map(|u| u.kind).collect());

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
        for k in ALL.iter() {
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
