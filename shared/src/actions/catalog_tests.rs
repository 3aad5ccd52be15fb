//! The executors agree with the action catalog: each surface declares exactly the IAM
//! actions its actions' units name, and every release step undoes some action.

use crate::action_catalog::{ALL, Undo, spec, surface_permissions};
use crate::classify::Surface;
use std::collections::BTreeSet;

fn declared(list: &[&'static str]) -> BTreeSet<&'static str> {
    list.iter().copied().collect()
}

#[test]
fn each_surface_declares_the_union_of_its_actions_permissions() {
    for (surface, list) in [
        (Surface::Ec2, super::ec2::permissions::REQUIRED_PERMISSIONS),
        (Surface::Ecs, super::ecs::permissions::REQUIRED_PERMISSIONS),
        (Surface::Eks, super::eks::permissions::REQUIRED_PERMISSIONS),
    ] {
        let from_units = surface_permissions(surface);
        let declared = declared(list);
        assert_eq!(
            declared.difference(&from_units).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "{surface:?}: declared, claimed by no action"
        );
        assert_eq!(
            from_units.difference(&declared).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "{surface:?}: an action's permission the executor does not declare"
        );
    }
}

#[test]
fn the_evidence_unit_names_the_writers_permissions() {
    let unit = spec(crate::action::ActionKind::EvidenceWriteBundle);
    assert_eq!(unit.permissions, crate::evidence::store::PERMISSIONS);
}

#[test]
fn every_release_step_undoes_an_action_and_every_undo_exists() {
    let steps: BTreeSet<&str> = super::ec2::release::ReleaseStep::ALL
        .iter()
        .map(|s| s.name())
        .chain(
            super::ecs::release::ReleaseStep::ALL
                .iter()
                .map(|s| s.name()),
        )
        .chain(
            super::eks::release::ReleaseStep::ALL
                .iter()
                .map(|s| s.name()),
        )
        .collect();
    let claimed: BTreeSet<&str> = ALL
        .iter()
        .filter_map(|k| match spec(*k).undo {
            Undo::Release(s) => Some(s.iter().copied()),
            Undo::Kept(_) => None,
        })
        .flatten()
        .collect();
    assert_eq!(steps, claimed);
}
