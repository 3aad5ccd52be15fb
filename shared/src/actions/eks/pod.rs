//! The pod: finding it from the finding's workload and container ids, labelling it, and
//! removing the labels that select it into Services and controllers.

use super::k8s::ApiError;
use super::step;
use super::{
    Ctx, FINDING_ID_ANNOTATION, FINDING_TYPE_ANNOTATION, PRIOR_LABELS_ANNOTATION, QUARANTINE_LABEL,
    QUARANTINED_AT_ANNOTATION, Step, node,
};
use crate::outcome::Status;
use crate::sanitize::ascii_line;
use crate::target::Target;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use std::collections::BTreeMap;

/// What the executor needs to know about a pod, read once.
#[derive(Debug, Clone, PartialEq)]
pub struct PodView {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub node_name: Option<String>,
    /// The ServiceAccount the pod runs as (its IAM role comes through it).
    pub service_account: Option<String>,
    pub resource_version: Option<String>,
    /// Runtime ids of every container, without the `containerd://` scheme.
    pub container_ids: Vec<String>,
    /// `(kind, name)` of each owner reference.
    pub owners: Vec<(String, String)>,
    /// Every container's name (init, regular, ephemeral), for the bundle's logs.
    pub containers: Vec<String>,
    /// The pod exactly as this read returned it: the bundle's "before any change".
    pub described: serde_json::Value,
}

impl PodView {
    pub fn from_pod(p: &Pod) -> PodView {
        let m = &p.metadata;
        let status = p.status.as_ref();
        let container_ids = status
            .into_iter()
            .flat_map(|s| {
                s.container_statuses
                    .iter()
                    .flatten()
                    .chain(s.init_container_statuses.iter().flatten())
                    .chain(s.ephemeral_container_statuses.iter().flatten())
            })
            .filter_map(|c| c.container_id.as_deref())
            .map(normalise_container_id)
            .collect();
        PodView {
            name: m.name.clone().unwrap_or_default(),
            namespace: m.namespace.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            labels: m.labels.clone().unwrap_or_default(),
            annotations: m.annotations.clone().unwrap_or_default(),
            node_name: p.spec.as_ref().and_then(|s| s.node_name.clone()),
            service_account: p.spec.as_ref().and_then(|s| s.service_account_name.clone()),
            resource_version: m.resource_version.clone(),
            container_ids,
            owners: m
                .owner_references
                .iter()
                .flatten()
                .map(|o| (o.kind.clone(), o.name.clone()))
                .collect(),
            containers: p
                .spec
                .iter()
                .flat_map(|s| {
                    s.init_containers
                        .iter()
                        .flatten()
                        .map(|c| &c.name)
                        .chain(s.containers.iter().map(|c| &c.name))
                        .chain(s.ephemeral_containers.iter().flatten().map(|c| &c.name))
                })
                .cloned()
                .collect(),
            described: serde_json::to_value(p).unwrap_or_default(),
        }
    }

    /// `cluster/namespace/name`, for outcome targets.
    pub fn display(&self, cluster: &str) -> String {
        format!("{cluster}/{}/{}", self.namespace, self.name)
    }

    /// The exemption label or annotation `key`, with exactly the value `true`.
    pub fn is_exempt(&self, key: &str) -> bool {
        self.labels
            .get(key)
            .into_iter()
            .chain(self.annotations.get(key))
            .any(|v| crate::exemption::is_exempt_value(v))
    }

    fn runs_container(&self, wanted: &[crate::ids::ContainerId]) -> bool {
        wanted.iter().map(|w| normalise_container_id(w)).any(|w| {
            self.container_ids.iter().any(|c| {
                c == &w
                    || (w.len() >= 12 && c.starts_with(&w))
                    || (c.len() >= 12 && w.starts_with(c.as_str()))
            })
        })
    }
}

pub(crate) fn normalise_container_id(id: &str) -> String {
    id.rsplit("://").next().unwrap_or(id).to_ascii_lowercase()
}

/// True when `owners` says the pod belongs to the `kind` workload called `name`
/// (GuardDuty's `kubernetesWorkloadDetails.type`: `deployments`, `statefulsets`, …).
pub fn owned_by(owners: &[(String, String)], kind: &str, name: &str) -> bool {
    let kind = kind.to_ascii_lowercase();
    let kind = kind.strip_suffix('s').unwrap_or(&kind);
    // The generated child name: `<name>-<suffix>` with one more dash-free segment.
    let child_of = |owner: &str, digits_only: bool| {
        owner
            .strip_prefix(name)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|s| {
                !s.is_empty()
                    && !s.contains('-')
                    && s.bytes().all(|b| b.is_ascii_alphanumeric())
                    && (!digits_only || s.bytes().all(|b| b.is_ascii_digit()))
            })
    };
    owners.iter().any(|(k, n)| match kind {
        "deployment" => k == "ReplicaSet" && child_of(n, false),
        "cronjob" => k == "Job" && child_of(n, true),
        "replicaset" => k == "ReplicaSet" && n == name,
        "statefulset" => k == "StatefulSet" && n == name,
        "daemonset" => k == "DaemonSet" && n == name,
        "job" => k == "Job" && n == name,
        "replicationcontroller" => k == "ReplicationController" && n == name,
        _ => n == name,
    })
}

pub enum Resolved {
    Pods(Vec<PodView>),
    /// Nothing to act on, and why (the outcome is `skipped`).
    NotFound(String),
}

/// Finds the pod(s) to isolate: the named pod; for a controller, the pod running one of the
/// finding's containers, or else the workload's pods on the finding's node.
pub(crate) async fn resolve(client: &kube::Client, target: &Target) -> Result<Resolved, ApiError> {
    let Target::Eks {
        namespace,
        workload_name,
        workload_type,
        container_ids,
        node_instance_id,
        ..
    } = target
    else {
        return Ok(Resolved::NotFound("not an EKS target".into()));
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    if matches!(workload_type.as_str(), "pods" | "pod") {
        return match pods.get_opt(workload_name).await {
            Ok(Some(p)) => Ok(Resolved::Pods(vec![PodView::from_pod(&p)])),
            Ok(None) => Ok(Resolved::NotFound(format!(
                "pod {namespace}/{workload_name} not found: already gone (deleted or replaced), nothing to isolate"
            ))),
            Err(e) => Err(ApiError::new(&e, "get", "pods")),
        };
    }
    let list = pods
        .list(&ListParams::default())
        .await
        .map_err(|e| ApiError::new(&e, "list", "pods"))?;
    let all: Vec<PodView> = list.items.iter().map(PodView::from_pod).collect();
    if !container_ids.is_empty() {
        let by_container: Vec<PodView> = all
            .iter()
            .filter(|p| p.runs_container(container_ids))
            .cloned()
            .collect();
        if !by_container.is_empty() {
            return Ok(Resolved::Pods(by_container));
        }
    }
    let owned: Vec<&PodView> = all
        .iter()
        .filter(|p| owned_by(&p.owners, workload_type, workload_name))
        .collect();
    let Some(instance) = node_instance_id else {
        return Ok(Resolved::NotFound(format!(
            "no pod of {workload_type}/{workload_name} in {namespace} runs the finding's container{} and the finding names no node: not isolating every replica",
            if container_ids.is_empty() {
                " (none named)"
            } else {
                ""
            }
        )));
    };
    let mut on_node = Vec::new();
    let mut node_instance: BTreeMap<String, Option<crate::ids::InstanceId>> = BTreeMap::new();
    for p in owned {
        let Some(n) = &p.node_name else { continue };
        if !node_instance.contains_key(n) {
            let i = node::instance_of(client, n).await?;
            node_instance.insert(n.clone(), i);
        }
        if node_instance[n].as_deref() == Some(instance.as_str()) {
            on_node.push(p.clone());
        }
    }
    if on_node.is_empty() {
        return Ok(Resolved::NotFound(format!(
            "no pod of {workload_type}/{workload_name} in {namespace} runs the finding's container or is on node {instance}: already gone"
        )));
    }
    Ok(Resolved::Pods(on_node))
}

fn annotation_value(v: &str) -> String {
    ascii_line(v, 256)
}

/// `eks.label_pod`: the quarantine label (value: the pod's UID, so the policy selects this
/// pod and no replica) and annotations naming the finding.
pub(crate) async fn label(ctx: &Ctx<'_>, p: &PodView) -> Step {
    let target = p.display(ctx.cluster);
    if p.uid.is_empty() {
        return step::on(
            target,
            Status::Failed,
            "the API server returned the pod without a UID",
        );
    }
    if p.labels.get(QUARANTINE_LABEL) == Some(&p.uid) {
        let by = p
            .annotations
            .get(FINDING_ID_ANNOTATION)
            .map(|f| format!(" (finding {})", ascii_line(f, 80)))
            .unwrap_or_default();
        return step::on(
            target,
            Status::AlreadyDone,
            format!("already labelled {QUARANTINE_LABEL}={}{by}", p.uid),
        );
    }
    let mut patch = json!({
        "metadata": {
            "labels": { QUARANTINE_LABEL: p.uid },
            "annotations": {
                FINDING_ID_ANNOTATION: annotation_value(&ctx.plan.finding_id),
                FINDING_TYPE_ANNOTATION: annotation_value(&ctx.plan.finding_type),
                QUARANTINED_AT_ANNOTATION: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }
        }
    });
    for (k, v) in super::do_not_disrupt(Some(&p.annotations)) {
        patch["metadata"]["annotations"][k] = json!(v);
    }
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &p.namespace);
    match api
        .patch(&p.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => step::on(
            target,
            Status::Done,
            format!(
                "labelled {QUARANTINE_LABEL}={} and annotated with the finding and {}=true",
                p.uid,
                super::DO_NOT_DISRUPT
            ),
        )
        .with_evidence(json!({ "pod": p.name, "labels_before": p.labels, "node": p.node_name })),
        Err(e) => gone_or_failed(target, ApiError::new(&e, "patch", "pods")),
    }
}

pub(crate) fn gone_or_failed(target: String, e: ApiError) -> Step {
    if e.is(404) {
        step::on(
            target,
            Status::Skipped,
            "the pod is gone (deleted meanwhile)",
        )
    } else {
        step::on(target, Status::Failed, e.to_string())
    }
}

/// The labels recorded in [`PRIOR_LABELS_ANNOTATION`], if readable.
pub fn recorded_labels(
    annotations: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    match annotations.get(PRIOR_LABELS_ANNOTATION) {
        None => Ok(BTreeMap::new()),
        Some(v) => serde_json::from_str(v)
            .map_err(|e| format!("{PRIOR_LABELS_ANNOTATION} is not a JSON object of strings: {e}")),
    }
}

/// `eks.remove_service_labels`: removes every label but the quarantine label, recording
/// them for release. Services select pods by label, so the pod leaves their endpoints; its
/// controller no longer counts it and starts a clean replacement; and no other
/// NetworkPolicy's allow rules select it any more (policies add up, so one that still
/// selected the pod could let traffic past the deny-all).
pub(crate) async fn remove_labels(ctx: &Ctx<'_>, p: &PodView) -> Step {
    let target = p.display(ctx.cluster);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &p.namespace);
    // Read-modify-write guarded by resourceVersion: a concurrent label change is a 409,
    // re-read and retried, never silently lost from the record.
    for _attempt in 0..3 {
        let current = match api.get(&p.name).await {
            Ok(pod) => PodView::from_pod(&pod),
            Err(e) => return gone_or_failed(target, ApiError::new(&e, "get", "pods")),
        };
        let removing: BTreeMap<String, String> = current
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != QUARANTINE_LABEL)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if removing.is_empty() {
            return step::on(
                target,
                Status::AlreadyDone,
                "the pod carries no label but the quarantine label",
            );
        }
        let mut record = recorded_labels(&current.annotations).unwrap_or_default();
        record.extend(removing.clone());
        let nulls: serde_json::Map<String, serde_json::Value> = removing
            .keys()
            .map(|k| (k.clone(), serde_json::Value::Null))
            .collect();
        let patch = json!({
            "metadata": {
                "resourceVersion": current.resource_version,
                "labels": nulls,
                "annotations": {
                    PRIOR_LABELS_ANNOTATION: serde_json::to_string(&record).unwrap_or_default(),
                },
            }
        });
        match api
            .patch(&p.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                let list = removing
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return step::on(
                    target,
                    Status::Done,
                    format!(
                        "removed labels {} (recorded in {PRIOR_LABELS_ANNOTATION}): the pod leaves Service endpoints and its controller's count",
                        ascii_line(&list, 400)
                    ),
                )
                .with_evidence(json!({ "pod": p.name, "removed_labels": removing }));
            }
            Err(e) if super::k8s::code(&e) == Some(409) => continue,
            Err(e) => return gone_or_failed(target, ApiError::new(&e, "patch", "pods")),
        }
    }
    step::on(
        target,
        Status::Failed,
        "the pod's labels kept changing (409 Conflict three times)",
    )
}

#[cfg(test)]
#[path = "pod_tests.rs"]
mod tests;
