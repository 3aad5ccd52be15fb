//! The EC2 quarantine of a host on behalf of another surface: the container instance of an
//! ECS task without an ENI of its own, or the node of an EKS pod that no NetworkPolicy can
//! hold (`hostNetwork`, or policies that still admit it). The same steps as an EC2 finding's
//! quarantine that change the network and keep the evidence, recorded (and sealed) on the
//! instance, so `responder release ec2 <instance>` undoes it.

use super::Clients;
use super::quarantine::{self, Request};
use crate::outcome::Status;
use crate::plan::ActionKind;
use std::collections::HashSet;

const STEPS: [ActionKind; 4] = [
    ActionKind::Ec2RecordPriorState,
    ActionKind::Ec2IsolateNetwork,
    ActionKind::Ec2ProtectInstance,
    ActionKind::Ec2TagInstance,
];

/// What quarantining a host did.
pub(crate) struct HostQuarantine {
    pub failed: bool,
    /// One line per step: `ec2.isolate_network done: …`.
    pub steps: Vec<String>,
}

pub(crate) async fn quarantine_host(
    c: &Clients,
    instance_id: &crate::ids::InstanceId,
    finding_id: &str,
    finding_type: &str,
) -> HostQuarantine {
    let req = Request {
        instance_id,
        vpc_hint: None,
        finding_id,
        finding_type,
        subject: None,
        kinds: HashSet::from(STEPS),
    };
    let steps = Box::pin(quarantine::quarantine(c, &req)).await;
    let mut out = HostQuarantine {
        failed: false,
        steps: Vec::new(),
    };
    for k in STEPS {
        if let Some(s) = steps.get(&k) {
            out.failed |= s.status == Status::Failed;
            out.steps
                .push(format!("{} {}: {}", k.name(), s.status.as_str(), s.detail));
        }
    }
    out
}
