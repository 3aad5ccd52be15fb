//! Containment of an attack sequence: every resource of the sequence that a surface
//! executor can contain (EC2 instances, ECS tasks, Kubernetes workloads), each planned as
//! if it were its own Runtime finding: the same guardrails (samples, configured and tag
//! exemptions, protected namespaces) and the same actions. Pure.
//!
//! Each resource becomes a Runtime-shaped finding (its `resource` rebuilt from the
//! sequence's `ResourceV2`), so nothing here re-implements what `target.rs` validates.

use crate::classify::classify;
use crate::config::Config;
use crate::finding::sequence::{ResourceV2, Sequence};
use crate::finding::{Finding, Resource};
use crate::sanitize::{FieldKind, Untrusted, neutralise};
use serde_json::{Value, json};

/// One resource of the sequence, and its planned actions or why it is not contained.
pub struct Part {
    /// `EC2_INSTANCE i-0123…`, neutralised.
    pub label: String,
    pub planned: Result<Vec<crate::action::Action>, String>,
}

fn tags(r: &ResourceV2) -> Value {
    Value::Array(
        r.tags
            .iter()
            .map(|t| json!({"key": t.key.as_raw(), "value": t.value.as_raw()}))
            .collect(),
    )
}

/// The EKS cluster a workload belongs to: the sequence's only EKS cluster, else the
/// finding's own.
fn eks_cluster<'a>(s: &'a Sequence, f: &'a Finding) -> Option<&'a str> {
    let mut clusters = s
        .resources
        .iter()
        .filter(|r| Untrusted::raw_of(&r.resource_type) == Some("EKS_CLUSTER"));
    match (clusters.next(), clusters.next()) {
        (Some(c), None) => Untrusted::raw_of(&c.name).or(Untrusted::raw_of(&c.uid)),
        (None, _) => f
            .resource
            .eks_cluster_details
            .as_ref()
            .and_then(|c| Untrusted::raw_of(&c.name)),
        _ => None,
    }
}

/// The `resource` of a Runtime finding on `r`; `None` for types no executor contains.
fn runtime_resource(r: &ResourceV2, s: &Sequence, f: &Finding) -> Option<Value> {
    let uid = Untrusted::raw_of(&r.uid).unwrap_or_default();
    Some(match Untrusted::raw_of(&r.resource_type)? {
        "EC2_INSTANCE" => {
            let id = uid.rsplit('/').next().unwrap_or(uid);
            json!({"resourceType": "Instance",
                   "instanceDetails": {"instanceId": id, "tags": tags(r)}})
        }
        "ECS_TASK" => {
            // `arn:…:task/<cluster>/<id>`
            let cluster = uid.split("task/").nth(1).and_then(|t| t.split('/').next());
            let task = r.data.ecs_task.as_ref();
            json!({"resourceType": "ECSCluster",
                   "ecsClusterDetails": {"name": cluster, "tags": tags(r), "taskDetails": {
                       "arn": uid,
                       "definitionArn": task.and_then(|t| Untrusted::raw_of(&t.task_definition_arn)),
                       "launchType": task.and_then(|t| Untrusted::raw_of(&t.launch_type))}}})
        }
        "KUBERNETES_WORKLOAD" => {
            let w = r.data.kubernetes_workload.as_ref();
            let containers: Vec<Value> = w
                .map(|w| {
                    w.container_uids
                        .iter()
                        .map(|c| json!({"id": c.as_raw()}))
                        .collect()
                })
                .unwrap_or_default();
            json!({"resourceType": "EKSCluster",
                   "eksClusterDetails": {"name": eks_cluster(s, f), "tags": tags(r)},
                   "kubernetesDetails": {"kubernetesWorkloadDetails": {
                       "name": Untrusted::raw_of(&r.name),
                       "namespace": w.and_then(|w| Untrusted::raw_of(&w.namespace)),
                       "type": w.and_then(|w| Untrusted::raw_of(&w.kubernetes_resources_types)),
                       "containers": containers}}})
        }
        _ => return None,
    })
}

/// The finding `f` as if GuardDuty had reported it on `resource` alone.
fn on_resource(f: &Finding, resource: Value) -> Result<Finding, String> {
    let resource: Resource = serde_json::from_value(resource).map_err(|e| e.to_string())?;
    Ok(Finding {
        resource,
        ..f.clone()
    })
}

/// Every containable resource of `f`'s sequence, planned.
pub fn plan_parts(f: &Finding, config: &Config) -> Vec<Part> {
    let Some(s) = f.sequence() else {
        return Vec::new();
    };
    s.resources
        .iter()
        .filter_map(|r| {
            let resource = runtime_resource(r, s, f)?;
            let label = format!(
                "{} {}",
                Untrusted::raw_of(&r.resource_type).unwrap_or_default(),
                Untrusted::raw_of(&r.uid)
                    .or(Untrusted::raw_of(&r.name))
                    .unwrap_or("?")
            );
            let label = neutralise(&label, FieldKind::Path.max_chars()).into_owned();
            let planned = on_resource(f, resource).and_then(|sub| {
                let c = classify(&sub);
                if let Some(v) = crate::playbook::guardrail(&sub, &c, &config.guardrails) {
                    return Err(v.reason);
                }
                crate::surface_actions::surface_actions(&sub, &c, config).map_err(|e| e.to_string())
            });
            Some(Part { label, planned })
        })
        .collect()
}
