//! The check behind `eks.apply_deny_all_policy` being reported `done`: after every step,
//! is the pod really unreachable? Three ways it is not:
//! * the pod lacks the quarantine label the deny-all selects it by (the label step failed);
//! * another NetworkPolicy of the namespace selects the pod as it is labelled now and
//!   allows traffic (policies add up: its allow rules defeat the deny-all), see
//!   [`selector::leaks`];
//! * the pod uses the host's network (`hostNetwork: true`): NetworkPolicies do not apply
//!   to it at all, its containment is the node's.
//!
//! Either way the step is `failed`, naming why, and the node is contained when the pod is
//! on the host network or [`EksEscalation::ContainNode`] asks for it: cordoned, and with
//! `eks.quarantine_node_instance` its EC2 instance quarantined. Once that quarantine is
//! done the pod is contained by its node (every ENI of the instance is isolated), and the
//! step is no longer `failed`; the outcome says which of these happened.

use super::k8s::ApiError;
use super::node::{self, Nodes};
use super::pod::PodView;
use super::selector::{self, Leak};
use super::{Ctx, policy_name};
use crate::options::EksEscalation;
use crate::outcome::Status;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams};

/// What the check found for one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Only the deny-all selects the pod with allow rules: isolated.
    Isolated,
    /// Still reachable, and why (for the outcome).
    Reachable(String),
    /// Reachable through the pod network, but its node's instance is quarantined.
    ContainedByNode(String),
    /// Could not tell (a read failed): not done either.
    Unknown(String),
}

/// Checks one pod after every step ran; escalates per `escalation` when it is reachable.
pub(crate) async fn check(
    ctx: &Ctx<'_>,
    p: &PodView,
    escalation: EksEscalation,
    nodes: &mut Nodes,
) -> Reach {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &p.namespace);
    let now = match pods.get_opt(&p.name).await {
        Ok(Some(pod)) => pod,
        // Gone meanwhile: nothing left to reach.
        Ok(None) => return Reach::Isolated,
        Err(e) => return Reach::Unknown(ApiError::new(&e, "get", "pods").to_string()),
    };
    let host_network = now
        .spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false);
    let labels = now.metadata.labels.clone().unwrap_or_default();
    let why = if host_network {
        format!(
            "pod {} uses the host's network (hostNetwork: true): no NetworkPolicy applies to it, its containment is the node's",
            p.name
        )
    } else if labels.get(super::QUARANTINE_LABEL) != Some(&p.uid) {
        // The deny-all selects the pod by this label: without it, it selects nothing.
        format!(
            "the deny-all policy does not select pod {}: the pod lacks its label {}={} (the \
             label step did not land)",
            p.name,
            super::QUARANTINE_LABEL,
            p.uid
        )
    } else {
        let api: Api<NetworkPolicy> = Api::namespaced(ctx.client.clone(), &p.namespace);
        let policies = match api.list(&ListParams::default()).await {
            Ok(l) => l.items,
            Err(e) => {
                return Reach::Unknown(format!(
                    "cannot check that no other NetworkPolicy admits traffic to the pod: {}",
                    ApiError::new(&e, "list", "networkpolicies")
                ));
            }
        };
        let found = selector::leaks(&policies, &policy_name(&p.uid), &labels);
        if found.is_empty() {
            return Reach::Isolated;
        }
        format!(
            "pod {} is still reachable: NetworkPolicies add up, and {}",
            p.name,
            describe(&found)
        )
    };
    let contain = host_network || escalation == EksEscalation::ContainNode;
    let mut parts = vec![why];
    if contain {
        let cordoned = node::cordon(ctx, p.node_name.as_deref(), nodes).await;
        parts.push(format!(
            "node containment: cordon {} ({})",
            cordoned.status.as_str(),
            cordoned.detail
        ));
    }
    let instance = node::instance_of_known(nodes, p);
    let quarantine = contain && ctx.executor.options.quarantine_node_instance;
    match (quarantine, instance) {
        (true, Some(i)) => {
            let mut c =
                crate::actions::ec2::Clients::new(&ctx.executor.config, Some(ctx.region));
            c.isolation = ctx.executor.isolation.clone();
            let host = crate::actions::ec2::host::quarantine_host(
                &c,
                &i,
                &ctx.plan.finding_id,
                &ctx.plan.finding_type,
            );
            let host = Box::pin(host).await;
            parts.push(format!(
                "EC2 quarantine of the node's instance {i} {} (release with `responder release ec2 {i}`): {}",
                if host.failed { "FAILED" } else { "done" },
                host.steps.join("; ")
            ));
            if !host.failed {
                return Reach::ContainedByNode(parts.join("; "));
            }
        }
        (true, None) => parts.push(
            "EC2 quarantine of the node's instance not possible: the node names no EC2 instance"
                .into(),
        ),
        (false, _) if contain => parts.push(
            "EC2 quarantine of the node's instance not performed (eks.quarantine_node_instance is off)"
                .into(),
        ),
        (false, _) => parts.push(
            "node not contained and its instance not quarantined (eks.escalation: fail)".into(),
        ),
    }
    Reach::Reachable(parts.join("; "))
}

/// `allow-all (podSelector {}, allows ingress, egress), …`
fn describe(leaks: &[Leak]) -> String {
    let list = leaks
        .iter()
        .map(|l| {
            format!(
                "{} ({}, allows {})",
                crate::sanitize::ascii_line(&l.policy, 253),
                crate::sanitize::ascii_line(&l.why, 300),
                l.directions.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("these policies still select it and allow traffic: {list}")
}

/// The outcome of the deny-all step once every pod was checked: unchanged when all are
/// isolated, else `failed` with the reasons appended.
pub(crate) fn verdict(status: Status, detail: &str, found: &[Reach]) -> (Status, String) {
    let problems: Vec<&str> = found
        .iter()
        .filter_map(|r| match r {
            Reach::Isolated | Reach::ContainedByNode(_) => None,
            Reach::Reachable(w) | Reach::Unknown(w) => Some(w.as_str()),
        })
        .collect();
    let by_node: Vec<&str> = found
        .iter()
        .filter_map(|r| match r {
            Reach::ContainedByNode(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let mut detail = detail.to_owned();
    if !by_node.is_empty() {
        detail.push_str(&format!("; CONTAINED BY THE NODE: {}", by_node.join("; ")));
    }
    if problems.is_empty() {
        return (status, detail);
    }
    (
        Status::Failed,
        format!("{detail}; NOT ISOLATED: {}", problems.join("; ")),
    )
}
