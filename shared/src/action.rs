//! The response actions a plan can hold: a leaf, so that plans, outcomes, renderers and
//! executors all name actions without importing each other.

use crate::target::Target;
use serde::Serialize;
use std::sync::Arc;

/// One step of containment. The name says the surface and what is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Ec2RecordPriorState,
    Ec2IsolateNetwork,
    Ec2ProtectInstance,
    Ec2DetachFromAutoScaling,
    Ec2StandbyInAutoScaling,
    Ec2DisassociateAddresses,
    Ec2SnapshotVolumes,
    /// Collection, like the bundle: copies the snapshots for the forensic account.
    Ec2ShareSnapshots,
    /// Collection: volatile data over SSM once isolation has run (`ec2.volatile_capture`).
    Ec2CaptureVolatile,
    Ec2RevokeRoleSessions,
    Ec2TagInstance,
    EcsCaptureEvidence,
    EcsIsolateTaskNetwork,
    EcsDeregisterTargets,
    EcsTagTask,
    EcsRevokeRoleSessions,
    EcsStopTask,
    EksLabelPod,
    EksApplyDenyAllPolicy,
    EksRemoveServiceLabels,
    EksCordonNode,
    EksProtectNode,
    EksRevokeRoleSessions,
    EksRecordEvent,
    /// Not planned: every executor adds it when an evidence bucket is configured.
    EvidenceWriteBundle,
}

impl ActionKind {
    /// The public spelling, used in JSON, logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Ec2RecordPriorState => "ec2.record_prior_state",
            ActionKind::Ec2IsolateNetwork => "ec2.isolate_network",
            ActionKind::Ec2ProtectInstance => "ec2.protect_instance",
            ActionKind::Ec2DetachFromAutoScaling => "ec2.detach_from_auto_scaling",
            ActionKind::Ec2StandbyInAutoScaling => "ec2.standby_in_auto_scaling",
            ActionKind::Ec2DisassociateAddresses => "ec2.disassociate_addresses",
            ActionKind::Ec2SnapshotVolumes => "ec2.snapshot_volumes",
            ActionKind::Ec2ShareSnapshots => "ec2.share_snapshots",
            ActionKind::Ec2CaptureVolatile => "ec2.capture_volatile",
            ActionKind::Ec2RevokeRoleSessions => "ec2.revoke_role_sessions",
            ActionKind::Ec2TagInstance => "ec2.tag_instance",
            ActionKind::EcsCaptureEvidence => "ecs.capture_evidence",
            ActionKind::EcsIsolateTaskNetwork => "ecs.isolate_task_network",
            ActionKind::EcsDeregisterTargets => "ecs.deregister_targets",
            ActionKind::EcsTagTask => "ecs.tag_task",
            ActionKind::EcsRevokeRoleSessions => "ecs.revoke_role_sessions",
            ActionKind::EcsStopTask => "ecs.stop_task",
            ActionKind::EksLabelPod => "eks.label_pod",
            ActionKind::EksApplyDenyAllPolicy => "eks.apply_deny_all_policy",
            ActionKind::EksRemoveServiceLabels => "eks.remove_service_labels",
            ActionKind::EksCordonNode => "eks.cordon_node",
            ActionKind::EksProtectNode => "eks.protect_node",
            ActionKind::EksRevokeRoleSessions => "eks.revoke_role_sessions",
            ActionKind::EksRecordEvent => "eks.record_event",
            ActionKind::EvidenceWriteBundle => "evidence.write_bundle",
        }
    }
}

impl ActionKind {
    /// Collection, not containment: its failure is reported, never a failed containment
    /// (no retry, no `[FAILED]` headline).
    pub fn collects_evidence(self) -> bool {
        matches!(
            self,
            ActionKind::EvidenceWriteBundle
                | ActionKind::Ec2ShareSnapshots
                | ActionKind::Ec2CaptureVolatile
        )
    }

    /// The actions that cut the workload off the network: the end of "time to isolation".
    pub fn isolates(self) -> bool {
        matches!(
            self,
            ActionKind::Ec2IsolateNetwork
                | ActionKind::EcsIsolateTaskNetwork
                | ActionKind::EksApplyDenyAllPolicy
        )
    }
}

/// Serialises a kind (of action or of release step) as its public spelling, `name()`: the
/// replay and release JSON contracts.
macro_rules! serialize_by_name {
    ($kind:ty) => {
        impl serde::Serialize for $kind {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}
// Used by the release steps and the after-release write-back, which the pure build leaves out.
#[cfg_attr(
    not(any(feature = "ec2", feature = "securityhub")),
    allow(unused_imports)
)]
pub(crate) use serialize_by_name;

serialize_by_name!(ActionKind);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub kind: ActionKind,
    /// Shared by the actions of one plan, which all act on the same workload.
    pub target: Arc<Target>,
}
