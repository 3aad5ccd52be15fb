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
    client::AccessError, is_region, policy_name,
};
use crate::outcome::Status;
use crate::sanitize::neutralise;
use crate::target::{is_cluster_name, is_k8s_name};
use aws_config::Region;
use aws_sdk_ec2::types::AttributeBooleanValue;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// What to release.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub region: &'a str,
    pub partition: &'a str,
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub pod: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStep {
    DeletePolicy,
    RestoreLabels,
    UncordonNode,
    UnprotectNode,
}

impl ReleaseStep {
    pub fn name(self) -> &'static str {
        match self {
            ReleaseStep::DeletePolicy => "eks.release.delete_policy",
            ReleaseStep::RestoreLabels => "eks.release.restore_labels",
            ReleaseStep::UncordonNode => "eks.release.uncordon_node",
            ReleaseStep::UnprotectNode => "eks.release.unprotect_node",
        }
    }
}

impl Serialize for ReleaseStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseOutcome {
    pub kind: ReleaseStep,
    pub target: String,
    pub status: Status,
    pub detail: String,
}

/// What release did (or, when `executed` is false, would do).
#[derive(Debug, Clone, Serialize)]
pub struct Released {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub executed: bool,
    /// The labels quarantine recorded and release puts back.
    pub restored_labels: BTreeMap<String, String>,
    pub node: Option<String>,
    pub outcomes: Vec<ReleaseOutcome>,
}

/// Why release did not start. Nothing was changed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReleaseError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("{0}")]
    Api(String),
    #[error(
        "pod {0}: no quarantine label, recorded labels or quarantine NetworkPolicy found: not quarantined by the responder, or already released"
    )]
    NotQuarantined(String),
}

fn outcome(
    kind: ReleaseStep,
    target: impl Into<String>,
    status: Status,
    detail: impl Into<String>,
) -> ReleaseOutcome {
    ReleaseOutcome {
        kind,
        target: target.into(),
        status,
        detail: detail.into(),
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

pub(crate) async fn release(
    ex: &EksExecutor,
    req: &Request<'_>,
    execute: bool,
) -> Result<Released, ReleaseError> {
    if !is_cluster_name(req.cluster) {
        return Err(ReleaseError::Invalid(format!(
            "{:?} is not a cluster name",
            req.cluster
        )));
    }
    if !is_k8s_name(req.namespace) || !is_k8s_name(req.pod) {
        return Err(ReleaseError::Invalid(format!(
            "{:?}/{:?} is not a namespace/pod name",
            req.namespace, req.pod
        )));
    }
    if !is_region(req.region) {
        return Err(ReleaseError::Invalid(format!(
            "{:?} is not a region",
            req.region
        )));
    }
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
                    == Some(req.pod)
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
    if !quarantined_pod && policy.is_none() {
        return Err(ReleaseError::NotQuarantined(format!(
            "{}/{}",
            req.namespace, req.pod
        )));
    }
    let node = pod.as_ref().and_then(|p| p.node_name.clone()).or_else(|| {
        policy
            .as_ref()
            .and_then(|np| np.metadata.annotations.as_ref())
            .and_then(|a| a.get(NODE_ANNOTATION).cloned())
    });
    let pod_target = format!("{}/{}/{}", req.cluster, req.namespace, req.pod);
    let mut outcomes = Vec::new();

    // 1. The policy.
    outcomes.push(match &policy {
        None => outcome(
            ReleaseStep::DeletePolicy,
            &pod_target,
            Status::AlreadyDone,
            "no quarantine NetworkPolicy",
        ),
        Some(np) => {
            let name = np.metadata.name.clone().unwrap_or_default();
            let target = format!("{}/{}/networkpolicy/{name}", req.cluster, req.namespace);
            if !execute {
                outcome(
                    ReleaseStep::DeletePolicy,
                    target,
                    Status::Skipped,
                    format!("dry run: would delete NetworkPolicy {name}"),
                )
            } else {
                match policies.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => outcome(
                        ReleaseStep::DeletePolicy,
                        target,
                        Status::Done,
                        format!("deleted NetworkPolicy {name}"),
                    ),
                    Err(e) if super::k8s::code(&e) == Some(404) => outcome(
                        ReleaseStep::DeletePolicy,
                        target,
                        Status::AlreadyDone,
                        "already deleted",
                    ),
                    Err(e) => outcome(
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
        None => outcome(
            ReleaseStep::RestoreLabels,
            &pod_target,
            Status::Skipped,
            "the pod is gone: no labels to restore",
        ),
        Some(p) if !quarantined_pod => outcome(
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
            outcome(
                ReleaseStep::UncordonNode,
                &pod_target,
                Status::Skipped,
                "no node known for the pod",
            ),
            outcome(
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
    Ok(Released {
        cluster: req.cluster.to_owned(),
        namespace: req.namespace.to_owned(),
        pod: req.pod.to_owned(),
        executed: execute,
        restored_labels: restorable,
        node,
        outcomes,
    })
}

async fn restore_labels(
    pods: &Api<Pod>,
    p: &PodView,
    restorable: &BTreeMap<String, String>,
    unrestorable: &BTreeMap<String, String>,
    execute: bool,
) -> ReleaseOutcome {
    let target = format!("{}/{}", p.namespace, p.name);
    let list = restorable
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut detail = if restorable.is_empty() {
        "no recorded labels to restore; removing the quarantine label".to_owned()
    } else {
        format!("restoring labels {}", neutralise(&list, 400))
    };
    if !unrestorable.is_empty() {
        detail.push_str(&format!(
            " (not restoring {} recorded entries that are not valid labels)",
            unrestorable.len()
        ));
    }
    if !execute {
        return outcome(
            ReleaseStep::RestoreLabels,
            target,
            Status::Skipped,
            format!("dry run: {detail}"),
        );
    }
    let mut current = p.clone();
    for _ in 0..3 {
        let mut labels = serde_json::Map::new();
        labels.insert(QUARANTINE_LABEL.into(), serde_json::Value::Null);
        for (k, v) in restorable {
            labels.insert(k.clone(), json!(v));
        }
        let mut annotations = serde_json::Map::new();
        for a in [
            PRIOR_LABELS_ANNOTATION,
            FINDING_ID_ANNOTATION,
            FINDING_TYPE_ANNOTATION,
            QUARANTINED_AT_ANNOTATION,
        ]
        .into_iter()
        .chain(super::release_do_not_disrupt(Some(&current.annotations)))
        {
            annotations.insert(a.into(), serde_json::Value::Null);
        }
        let patch = json!({
            "metadata": {
                "resourceVersion": current.resource_version,
                "labels": labels,
                "annotations": annotations,
            }
        });
        match pods
            .patch(&p.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                let done = if restorable.is_empty() {
                    "removed the quarantine label (no labels were recorded)".to_owned()
                } else {
                    format!(
                        "restored labels {} and removed the quarantine label; its controller may adopt it again and scale one pod down",
                        neutralise(&list, 400)
                    )
                };
                return outcome(ReleaseStep::RestoreLabels, target, Status::Done, done);
            }
            Err(e) if super::k8s::code(&e) == Some(409) => match pods.get(&p.name).await {
                Ok(fresh) => current = PodView::from_pod(&fresh),
                Err(e) => {
                    return outcome(
                        ReleaseStep::RestoreLabels,
                        target,
                        Status::Failed,
                        ApiError::new(&e, "get", "pods").to_string(),
                    );
                }
            },
            Err(e) if super::k8s::code(&e) == Some(404) => {
                return outcome(
                    ReleaseStep::RestoreLabels,
                    target,
                    Status::Skipped,
                    "the pod is gone",
                );
            }
            Err(e) => {
                return outcome(
                    ReleaseStep::RestoreLabels,
                    target,
                    Status::Failed,
                    ApiError::new(&e, "patch", "pods").to_string(),
                );
            }
        }
    }
    outcome(
        ReleaseStep::RestoreLabels,
        target,
        Status::Failed,
        "the pod kept changing (409 Conflict three times)",
    )
}

async fn release_node(
    ex: &EksExecutor,
    client: &kube::Client,
    req: &Request<'_>,
    node: &str,
    execute: bool,
) -> (ReleaseOutcome, ReleaseOutcome) {
    let target = format!("{}/node/{node}", req.cluster);
    let both = |status: Status, detail: String| {
        (
            outcome(ReleaseStep::UncordonNode, &target, status, detail.clone()),
            outcome(ReleaseStep::UnprotectNode, &target, status, detail),
        )
    };
    // Other quarantined pods on the node keep it cordoned and protected.
    let all: Api<Pod> = Api::all(client.clone());
    let others = match all
        .list(
            &ListParams::default()
                .labels(QUARANTINE_LABEL)
                .fields(&format!("spec.nodeName={node}")),
        )
        .await
    {
        Ok(l) => l
            .items
            .iter()
            .map(PodView::from_pod)
            .filter(|p| !(p.namespace == req.namespace && p.name == req.pod))
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect::<Vec<_>>(),
        Err(e) => {
            return both(
                Status::Failed,
                ApiError::new(&e, "list", "pods").to_string(),
            );
        }
    };
    if !others.is_empty() {
        return both(
            Status::Skipped,
            format!(
                "left as is: {} other quarantined pod(s) remain on it ({})",
                others.len(),
                others.join(", ")
            ),
        );
    }
    let nodes: Api<Node> = Api::all(client.clone());
    let current = match nodes.get_opt(node).await {
        Ok(Some(n)) => n,
        Ok(None) => return both(Status::Skipped, format!("node {node} is gone")),
        Err(e) => {
            return both(
                Status::Failed,
                ApiError::new(&e, "get", "nodes").to_string(),
            );
        }
    };
    let annotations = current.metadata.annotations.clone().unwrap_or_default();
    let labels = current.metadata.labels.clone().unwrap_or_default();
    let we_cordoned = annotations.get(CORDONED_ANNOTATION).map(String::as_str) == Some("true");
    let ours = labels.contains_key(UNDER_INVESTIGATION_LABEL)
        || annotations.contains_key(CORDONED_ANNOTATION)
        || annotations.contains_key(FINDING_ID_ANNOTATION);

    // Uncordon (only if the responder cordoned it) and drop the label and annotations.
    let uncordon = if !ours {
        outcome(
            ReleaseStep::UncordonNode,
            &target,
            Status::AlreadyDone,
            "the node carries no quarantine label",
        )
    } else {
        let detail = if we_cordoned {
            format!("uncordon node {node} and remove {UNDER_INVESTIGATION_LABEL}")
        } else {
            format!(
                "remove {UNDER_INVESTIGATION_LABEL}; leave node {node} cordoned (the responder did not cordon it)"
            )
        };
        if !execute {
            outcome(
                ReleaseStep::UncordonNode,
                &target,
                Status::Skipped,
                format!("dry run: would {detail}"),
            )
        } else {
            let mut patch = json!({
                "metadata": {
                    "labels": { UNDER_INVESTIGATION_LABEL: null },
                    "annotations": { CORDONED_ANNOTATION: null, FINDING_ID_ANNOTATION: null },
                }
            });
            for a in super::release_do_not_disrupt(Some(&annotations)) {
                patch["metadata"]["annotations"][a] = serde_json::Value::Null;
            }
            if we_cordoned {
                patch["spec"] = json!({ "unschedulable": null });
            }
            match nodes
                .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => outcome(
                    ReleaseStep::UncordonNode,
                    &target,
                    Status::Done,
                    format!("done: {detail}"),
                ),
                Err(e) => outcome(
                    ReleaseStep::UncordonNode,
                    &target,
                    Status::Failed,
                    ApiError::new(&e, "patch", "nodes").to_string(),
                ),
            }
        }
    };

    // Turn off the protections the responder turned on.
    let protected: Vec<String> = annotations
        .get(PROTECTED_ANNOTATION)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let instance = current
        .spec
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .and_then(instance_from_provider_id);
    let unprotect = match (protected.is_empty(), instance) {
        (true, _) => outcome(
            ReleaseStep::UnprotectNode,
            &target,
            Status::AlreadyDone,
            "the responder turned on no instance protection here",
        ),
        (false, None) => outcome(
            ReleaseStep::UnprotectNode,
            &target,
            Status::Failed,
            format!(
                "node {node} names no EC2 instance; turn off {} by hand",
                protected.join(", ")
            ),
        ),
        (false, Some(i)) if !execute => outcome(
            ReleaseStep::UnprotectNode,
            &i,
            Status::Skipped,
            format!(
                "dry run: would turn off {} protection on {i}",
                protected.join(" and ")
            ),
        ),
        (false, Some(i)) => unprotect_instance(ex, &nodes, req.region, node, &i, &protected).await,
    };
    (uncordon, unprotect)
}

async fn unprotect_instance(
    ex: &EksExecutor,
    nodes: &Api<Node>,
    region: &str,
    node: &str,
    instance: &str,
    protected: &[String],
) -> ReleaseOutcome {
    let region = Region::new(region.to_owned());
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&ex.config)
            .region(region.clone())
            .build(),
    );
    let asg = aws_sdk_autoscaling::Client::from_conf(
        aws_sdk_autoscaling::config::Builder::from(&ex.config)
            .region(region)
            .build(),
    );
    let mut done = Vec::new();
    let mut failed = Vec::new();
    if protected.iter().any(|p| p == "termination") {
        match ec2
            .modify_instance_attribute()
            .instance_id(instance)
            .disable_api_termination(AttributeBooleanValue::builder().value(false).build())
            .send()
            .await
        {
            Ok(_) => done.push("termination protection off".to_owned()),
            Err(e) => failed.push(format!(
                "ec2:ModifyInstanceAttribute: {}",
                neutralise(
                    &aws_sdk_ec2::error::DisplayErrorContext(&e).to_string(),
                    300
                )
            )),
        }
    }
    if protected.iter().any(|p| p == "scale-in") {
        let group = asg
            .describe_auto_scaling_instances()
            .instance_ids(instance)
            .send()
            .await
            .map(|o| {
                o.auto_scaling_instances()
                    .first()
                    .and_then(|i| i.auto_scaling_group_name().map(str::to_owned))
            });
        match group {
            Ok(None) => done.push("no longer in an Auto Scaling group".to_owned()),
            Ok(Some(g)) => match asg
                .set_instance_protection()
                .auto_scaling_group_name(&g)
                .instance_ids(instance)
                .protected_from_scale_in(false)
                .send()
                .await
            {
                Ok(_) => done.push(format!("scale-in protection in {g} off")),
                Err(e) => failed.push(format!(
                    "autoscaling:SetInstanceProtection: {}",
                    neutralise(
                        &aws_sdk_autoscaling::error::DisplayErrorContext(&e).to_string(),
                        300
                    )
                )),
            },
            Err(e) => failed.push(format!(
                "autoscaling:DescribeAutoScalingInstances: {}",
                neutralise(
                    &aws_sdk_autoscaling::error::DisplayErrorContext(&e).to_string(),
                    300
                )
            )),
        }
    }
    if !failed.is_empty() {
        // The annotation stays, so release can be re-run.
        return outcome(
            ReleaseStep::UnprotectNode,
            instance,
            Status::Failed,
            format!("{}; FAILED: {}", done.join(", "), failed.join("; ")),
        );
    }
    let patch = json!({ "metadata": { "annotations": { PROTECTED_ANNOTATION: null } } });
    if let Err(e) = nodes
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        return outcome(
            ReleaseStep::UnprotectNode,
            instance,
            Status::Failed,
            format!(
                "{}; but removing {PROTECTED_ANNOTATION}: {}",
                done.join(", "),
                ApiError::new(&e, "patch", "nodes")
            ),
        );
    }
    outcome(
        ReleaseStep::UnprotectNode,
        instance,
        Status::Done,
        done.join(", "),
    )
}
