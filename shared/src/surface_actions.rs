//! Which actions contain one resource on its surface, as the configuration asks. Shared by
//! single findings ([`crate::plan`]) and each resource of an attack sequence
//! ([`crate::sequence_targets`]).

use crate::action::{Action, ActionKind};
use crate::classify::{Classification, Surface};
use crate::config::Config;
use crate::finding::Finding;
use crate::options::AsgMode;
use crate::target::{Target, ec2_target, ecs_target, eks_target};
use std::sync::Arc;

pub(crate) fn surface_actions(
    f: &Finding,
    c: &Classification,
    config: &Config,
) -> Result<Vec<Action>, crate::target::TargetError> {
    use ActionKind::*;
    if let Some(why) = &f.target_ambiguity {
        return Err(crate::target::TargetError::Ambiguous(why.clone()));
    }
    let (target, kinds): (Target, Vec<ActionKind>) = match c.surface {
        Surface::Ec2 => {
            let o = &config.ec2;
            let mut k = vec![Ec2RecordPriorState, Ec2IsolateNetwork, Ec2ProtectInstance];
            match o.asg {
                AsgMode::Detach => k.push(Ec2DetachFromAutoScaling),
                AsgMode::Standby => k.push(Ec2StandbyInAutoScaling),
                AsgMode::Skip => {}
            }
            if o.disassociate_eips {
                k.push(Ec2DisassociateAddresses);
            }
            if o.snapshots {
                k.push(Ec2SnapshotVolumes);
                if o.forensic_snapshots.is_some() {
                    k.push(Ec2ShareSnapshots);
                }
            }
            if o.volatile_capture.enabled {
                k.push(Ec2CaptureVolatile);
            }
            if o.revoke_role_sessions {
                k.push(Ec2RevokeRoleSessions);
            }
            k.push(Ec2TagInstance);
            (ec2_target(f)?, k)
        }
        Surface::Ecs => {
            let o = &config.ecs;
            let mut k = vec![
                EcsCaptureEvidence,
                EcsIsolateTaskNetwork,
                EcsDeregisterTargets,
                EcsTagTask,
            ];
            if o.revoke_role_sessions {
                k.push(EcsRevokeRoleSessions);
            }
            if o.stop_task {
                k.push(EcsStopTask);
            }
            (ecs_target(f, c.launch_type.as_deref())?, k)
        }
        Surface::Eks => {
            let o = &config.eks;
            let mut k = vec![EksLabelPod, EksApplyDenyAllPolicy];
            if o.remove_service_labels {
                k.push(EksRemoveServiceLabels);
            }
            if o.cordon_node {
                k.push(EksCordonNode);
            }
            if o.protect_node {
                k.push(EksProtectNode);
            }
            if o.revoke_role_sessions {
                k.push(EksRevokeRoleSessions);
            }
            k.push(EksRecordEvent);
            (eks_target(f)?, k)
        }
        Surface::Unknown => return Ok(vec![]),
    };
    let target = Arc::new(target);
    Ok(kinds
        .into_iter()
        .map(|kind| Action {
            kind,
            target: target.clone(),
        })
        .collect())
}
