//! The executors agree with the action catalog: every release step undoes some action, and
//! the evidence unit names the writer's grant. (Each surface's IAM list is derived from the
//! catalog; `tests/tests/ec2_faults.rs` holds the calls an executor sends to it.)

use crate::action_catalog::{ALL, Undo, spec};
use std::collections::BTreeSet;

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
