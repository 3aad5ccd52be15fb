//! Release: a human decision, taken with `responder release eks <cluster> <namespace> <pod>`.
//! Deletes the quarantine NetworkPolicy, restores the pod's labels from what quarantine
//! recorded on it, and — once no other quarantined pod remains on the node — uncordons the
//! node if the responder cordoned it and turns off the instance protection it turned on.
//! Everything is read from the objects themselves; a dry run (the default in the CLI)
//! only reads and says what it would do.

use super::k8s::ApiError;
use super::node::instance_from_provider_id;
use super::pod::{PodView, recorded_labels};
use super::{
    CORDONED_ANNOTATION, EksExecutor, FIELD_MANAGER, FINDING_ID_ANNOTATION,
    FINDING_TYPE_ANNOTATION, NODE_ANNOTATION, POD_ANNOTATION, PRIOR_LABELS_ANNOTATION,
    PROTECTED_ANNOTATION, QUARANTINE_LABEL, QUARANTINED_AT_ANNOTATION, UNDER_INVESTIGATION_LABEL,
    client::AccessError, policy_name,
};
use crate::ids::{ClusterName, K8sName, Region};
use crate::outcome::Status;
use crate::release::Resource;
use crate::sanitize::neutralise;
use crate::target::is_k8s_name;
use aws_sdk_ec2::types::AttributeBooleanValue;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

mod by_finding;
mod labels;
mod node;
mod revocation;

pub(crate) use by_finding::quarantined_pods;

use labels::*;
use node::*;

/// What to release. The identifiers are typed: each was validated once, where it entered
/// (the CLI's arguments, the finding's target), so release starts with no check of its own.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub region: &'a Region,
    pub partition: &'a str,
    pub cluster: &'a ClusterName,
    pub namespace: &'a K8sName,
    pub pod: &'a K8sName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStep {
    DeletePolicy,
    RestoreLabels,
    UncordonNode,
    UnprotectNode,
    RemoveRoleRevocation,
}

impl ReleaseStep {
    /// Every step, in the order release runs them.
    pub const ALL: [ReleaseStep; 5] = [
        ReleaseStep::DeletePolicy,
        ReleaseStep::RestoreLabels,
        ReleaseStep::UncordonNode,
        ReleaseStep::UnprotectNode,
        ReleaseStep::RemoveRoleRevocation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReleaseStep::DeletePolicy => "eks.release.delete_policy",
            ReleaseStep::RestoreLabels => "eks.release.restore_labels",
            ReleaseStep::UncordonNode => "eks.release.uncordon_node",
            ReleaseStep::UnprotectNode => "eks.release.unprotect_node",
            ReleaseStep::RemoveRoleRevocation => "eks.release.remove_role_revocation",
        }
    }
}

crate::action::serialize_by_name!(ReleaseStep);

pub type ReleaseOutcome = crate::outcome::ReleaseOutcome<ReleaseStep>;

/// The pod released, in its cluster and namespace.
#[derive(Debug, Clone, Serialize)]
pub struct ReleasedPod {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
}

/// What quarantine recorded on the pod, and the node it ran on.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseRecord {
    /// The labels quarantine recorded and release puts back.
    pub restored_labels: BTreeMap<String, String>,
    pub node: Option<String>,
}

/// What release did (or, when `executed` is false, would do). The finding is the pod's or
/// the policy's `FINDING_ID_ANNOTATION`, as annotated: unvalidated. Kubernetes objects
/// carry no seal, so there is nothing to warn about: `warnings` stays empty.
pub type Released = crate::release::Released<ReleasedPod, ReleaseRecord, ReleaseStep>;

pub use crate::release::ReleaseError;

/// The cluster could not be reached: said as the error says it.
impl From<AccessError> for ReleaseError {
    fn from(e: AccessError) -> ReleaseError {
        ReleaseError::Api(e.to_string())
    }
}

/// Label values Kubernetes accepts; a recorded value that is not one is not restored.
fn is_label_value(v: &str) -> bool {
    v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && (v.is_empty()
            || (v.as_bytes()[0].is_ascii_alphanumeric()
                && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric()))
}

fn is_label_key(k: &str) -> bool {
    let (prefix, name) = k.rsplit_once('/').map_or((None, k), |(p, n)| (Some(p), n));
    prefix.is_none_or(|p| p.len() <= 253 && is_k8s_name(p))
        && (1..=63).contains(&name.len())
        && is_label_value(name)
        && !k.starts_with("guardduty-responder/")
}

/// `for_finding`: release only a pod whose own record names this finding (a release from a
/// finding's alert must not lift another finding's quarantine).
pub(crate) async fn release(
    ex: &EksExecutor,
    req: &Request<'_>,
    for_finding: Option<&str>,
    execute: bool,
) -> Result<Released, ReleaseError> {
    let client = ex
        .clusters
        .client(req.region, req.partition, req.cluster)
        .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), req.namespace);
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), req.namespace);
    let api = |e: kube::Error, verb: &str, what: &str| {
        ReleaseError::Api(ApiError::new(&e, verb, what).to_string())
    };

    let pod = pods
        .get_opt(req.pod)
        .await
        .map_err(|e| api(e, "get", "pods"))?
        .map(|p| PodView::from_pod(&p));
    // The policy: named by the UID in the pod's label; when the pod is gone, found by the
    // pod name recorded on it.
    let policy = match &pod {
        Some(p) => {
            let uid = p
                .labels
                .get(QUARANTINE_LABEL)
                .cloned()
                .unwrap_or_else(|| p.uid.clone());
            policies
                .get_opt(&policy_name(&uid))
                .await
                .map_err(|e| api(e, "get", "networkpolicies"))?
        }
        None => policies
            .list(
                &ListParams::default()
                    .labels(&format!("app.kubernetes.io/managed-by={FIELD_MANAGER}")),
            )
            .await
            .map_err(|e| api(e, "list", "networkpolicies"))?
            .items
            .into_iter()
            .find(|np| {
                np.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(POD_ANNOTATION))
                    .map(String::as_str)
                    == Some(req.pod.as_str())
            }),
    };
    let recorded = match &pod {
        Some(p) => recorded_labels(&p.annotations).map_err(ReleaseError::Api)?,
        None => BTreeMap::new(),
    };
    let quarantined_pod = pod.as_ref().is_some_and(|p| {
        p.labels.contains_key(QUARANTINE_LABEL)
            || p.annotations.contains_key(PRIOR_LABELS_ANNOTATION)
    });
    // A kept revocation outlives the quarantine: a later release still finds it.
    let roles = revocation::recorded_roles(pod.as_ref(), policy.as_ref());
    if !quarantined_pod && policy.is_none() && roles.is_empty() {
        return Err(ReleaseError::NotQuarantined {
            resource: Resource::new("pod", format!("{}/{}", req.namespace, req.pod)),
            why: "has no quarantine label, recorded labels or quarantine NetworkPolicy: not \
                  quarantined by the responder",
        });
    }
    let node = pod.as_ref().and_then(|p| p.node_name.clone()).or_else(|| {
        policy
            .as_ref()
            .and_then(|np| np.metadata.annotations.as_ref())
            .and_then(|a| a.get(NODE_ANNOTATION).cloned())
    });
    let finding_id = pod
        .as_ref()
        .and_then(|p| p.annotations.get(FINDING_ID_ANNOTATION))
        .or_else(|| {
            policy
                .as_ref()
                .and_then(|np| np.metadata.annotations.as_ref())
                .and_then(|a| a.get(FINDING_ID_ANNOTATION))
        })
        .cloned();
    if let Some(expected) = for_finding
        && finding_id.as_deref() != Some(expected)
    {
        return Err(ReleaseError::Refused {
            resource: Resource::new("pod", format!("{}/{}", req.namespace, req.pod)),
            reasons: vec![format!(
                "it is quarantined for finding {:?}, not this one",
                finding_id.as_deref().unwrap_or("(none recorded)")
            )],
        });
    }
    let pod_target = format!("{}/{}/{}", req.cluster, req.namespace, req.pod);
    let mut outcomes = Vec::new();

    // 1. The policy.
    outcomes.push(match &policy {
        None => ReleaseOutcome::new(
            ReleaseStep::DeletePolicy,
            &pod_target,
            Status::AlreadyDone,
            "no quarantine NetworkPolicy",
        ),
        Some(np) => {
            let name = np.metadata.name.clone().unwrap_or_default();
            let target = format!("{}/{}/networkpolicy/{name}", req.cluster, req.namespace);
            if !execute {
                ReleaseOutcome::new(
                    ReleaseStep::DeletePolicy,
                    target,
                    Status::Skipped,
                    format!("dry run: would delete NetworkPolicy {name}"),
                )
            } else {
                match policies.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => ReleaseOutcome::new(
                        ReleaseStep::DeletePolicy,
                        target,
                        Status::Done,
                        format!("deleted NetworkPolicy {name}"),
                    ),
                    Err(e) if super::k8s::code(&e) == Some(404) => ReleaseOutcome::new(
                        ReleaseStep::DeletePolicy,
                        target,
                        Status::AlreadyDone,
                        "already deleted",
                    ),
                    Err(e) => ReleaseOutcome::new(
                        ReleaseStep::DeletePolicy,
                        target,
                        Status::Failed,
                        ApiError::new(&e, "delete", "networkpolicies").to_string(),
                    ),
                }
            }
        }
    });

    // 2. The pod's labels.
    let (restorable, unrestorable): (BTreeMap<_, _>, BTreeMap<_, _>) = recorded
        .clone()
        .into_iter()
        .partition(|(k, v)| is_label_key(k) && is_label_value(v));
    outcomes.push(match &pod {
        None => ReleaseOutcome::new(
            ReleaseStep::RestoreLabels,
            &pod_target,
            Status::Skipped,
            "the pod is gone: no labels to restore",
        ),
        Some(p) if !quarantined_pod => ReleaseOutcome::new(
            ReleaseStep::RestoreLabels,
            &pod_target,
            Status::AlreadyDone,
            format!("pod {} carries no quarantine label", p.name),
        ),
        Some(p) => restore_labels(&pods, p, &restorable, &unrestorable, execute).await,
    });

    // 3 and 4. The node, once no other quarantined pod remains on it.
    let (uncordon, unprotect) = match &node {
        None => (
            ReleaseOutcome::new(
                ReleaseStep::UncordonNode,
                &pod_target,
                Status::Skipped,
                "no node known for the pod",
            ),
            ReleaseOutcome::new(
                ReleaseStep::UnprotectNode,
                &pod_target,
                Status::Skipped,
                "no node known for the pod",
            ),
        ),
        Some(n) => release_node(ex, &client, req, n, execute).await,
    };
    outcomes.push(uncordon);
    outcomes.push(unprotect);
    // Only a recorded revocation gets a step: most quarantines have none.
    if !roles.is_empty() {
        outcomes.push(
            revocation::release_revocations(ex, &pods, pod.as_ref(), &roles, &pod_target, execute)
                .await,
        );
    }
    Ok(Released {
        resource: ReleasedPod {
            cluster: req.cluster.to_string(),
            namespace: req.namespace.to_string(),
            pod: req.pod.to_string(),
        },
        finding_id,
        executed: execute,
        record: ReleaseRecord {
            restored_labels: restorable,
            node,
        },
        warnings: Vec::new(),
        outcomes,
    })
}
