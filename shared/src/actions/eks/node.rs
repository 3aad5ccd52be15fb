//! The pod's node: cordoned and labelled as under investigation, and its EC2 instance
//! protected from termination and scale-in (so neither a human nor an Auto Scaling group
//! destroys the evidence). Both are recorded on the node for release.

use super::k8s::ApiError;
use super::pod::PodView;
use super::step;
use super::{
    CORDONED_ANNOTATION, Ctx, FINDING_ID_ANNOTATION, PROTECTED_ANNOTATION, Step,
    UNDER_INVESTIGATION_LABEL,
};
use crate::ids::InstanceId;
use crate::outcome::Status;
use crate::sanitize::{ascii_line, neutralise};
use aws_config::Region;
use aws_sdk_ec2::types::{AttributeBooleanValue, InstanceAttributeName};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::collections::BTreeSet;

/// Remembers what one containment learnt about nodes (cordon reads, protect reuses).
#[derive(Default)]
pub(crate) struct Nodes {
    instances: Vec<(String, Option<InstanceId>)>,
}

/// The instance of `p`'s node, if a cordon or protect step already read it.
pub(crate) fn instance_of_known(nodes: &Nodes, p: &PodView) -> Option<InstanceId> {
    let n = p.node_name.as_deref()?;
    nodes
        .instances
        .iter()
        .find(|(m, _)| m == n)
        .and_then(|(_, i)| i.clone())
}

/// Pods grouped by node, in first-seen order.
pub(crate) fn by_node(pods: &[PodView]) -> Vec<(Option<String>, Vec<String>)> {
    let mut out: Vec<(Option<String>, Vec<String>)> = Vec::new();
    for p in pods {
        match out.iter_mut().find(|(n, _)| *n == p.node_name) {
            Some((_, names)) => names.push(p.name.clone()),
            None => out.push((p.node_name.clone(), vec![p.name.clone()])),
        }
    }
    out
}

/// The EC2 instance id in a node's `spec.providerID` (`aws:///<zone>/<instance-id>`).
pub fn provider_instance(provider_id: &str) -> Option<InstanceId> {
    provider_id
        .strip_prefix("aws://")
        .and_then(|rest| rest.rsplit('/').next())
        .and_then(|i| InstanceId::parse(i).ok())
}

/// [`provider_instance`] as a string, for the release path.
pub fn instance_from_provider_id(provider_id: &str) -> Option<String> {
    provider_instance(provider_id).map(String::from)
}

fn node_instance(n: &Node) -> Option<InstanceId> {
    n.spec
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .and_then(provider_instance)
}

/// The instance behind `node`, or `None` when the node is gone or is not EC2 (Fargate).
pub(crate) async fn instance_of(
    client: &kube::Client,
    node: &str,
) -> Result<Option<InstanceId>, ApiError> {
    let api: Api<Node> = Api::all(client.clone());
    match api.get_opt(node).await {
        Ok(n) => Ok(n.as_ref().and_then(node_instance)),
        Err(e) => Err(ApiError::new(&e, "get", "nodes")),
    }
}

fn is_fargate(node: &str) -> bool {
    node.starts_with("fargate-")
}

/// `eks.cordon_node`: `spec.unschedulable=true` and the under-investigation label. Running
/// pods stay (draining would move the evidence away). Records whether the responder did
/// the cordoning, so release does not uncordon a node somebody else cordoned.
pub(crate) async fn cordon(ctx: &Ctx<'_>, node: Option<&str>, nodes: &mut Nodes) -> Step {
    let Some(node) = node else {
        return step::on(
            ctx.target.to_string(),
            Status::Skipped,
            "the pod is not scheduled on a node",
        );
    };
    let target = format!("{}/node/{node}", ctx.cluster);
    if is_fargate(node) {
        return step::on(
            target,
            Status::Skipped,
            "a Fargate node runs only this pod: nothing to cordon",
        );
    }
    let api: Api<Node> = Api::all(ctx.client.clone());
    let current = match api.get_opt(node).await {
        Ok(Some(n)) => n,
        Ok(None) => return step::on(target, Status::Skipped, format!("node {node} is gone")),
        Err(e) => {
            return step::on(
                target,
                Status::Failed,
                ApiError::new(&e, "get", "nodes").to_string(),
            );
        }
    };
    nodes
        .instances
        .push((node.to_owned(), node_instance(&current)));
    let was_cordoned = current.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    let labels = current.metadata.labels.clone().unwrap_or_default();
    let labelled = labels.get(UNDER_INVESTIGATION_LABEL).map(String::as_str) == Some("true");
    if was_cordoned && labelled {
        return step::on(
            target,
            Status::AlreadyDone,
            format!("node {node} is already cordoned and labelled"),
        );
    }
    let mut annotations = serde_json::Map::new();
    annotations.insert(
        FINDING_ID_ANNOTATION.into(),
        json!(ascii_line(&ctx.plan.finding_id, 256)),
    );
    if !was_cordoned {
        annotations.insert(CORDONED_ANNOTATION.into(), json!("true"));
    }
    for (k, v) in super::do_not_disrupt(current.metadata.annotations.as_ref()) {
        annotations.insert(k.into(), json!(v));
    }
    let patch = json!({
        "metadata": {
            "labels": { UNDER_INVESTIGATION_LABEL: "true" },
            "annotations": annotations,
        },
        "spec": { "unschedulable": true },
    });
    match api
        .patch(node, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
    {
        Ok(_) if was_cordoned => step::on(
            target,
            Status::Done,
            format!(
                "node {node} was already cordoned (not by the responder, so release leaves it cordoned); labelled {UNDER_INVESTIGATION_LABEL}=true, annotated {}=true",
                super::DO_NOT_DISRUPT
            ),
        ),
        Ok(_) => step::on(
            target,
            Status::Done,
            format!(
                "cordoned node {node}, labelled it {UNDER_INVESTIGATION_LABEL}=true and annotated it {}=true (running pods stay; nothing new is scheduled there, and Karpenter does not replace it)",
                super::DO_NOT_DISRUPT
            ),
        ),
        Err(e) if e_code(&e) == Some(404) => {
            step::on(target, Status::Skipped, format!("node {node} is gone"))
        }
        Err(e) => step::on(
            target,
            Status::Failed,
            ApiError::new(&e, "patch", "nodes").to_string(),
        ),
    }
}

fn e_code(e: &kube::Error) -> Option<u16> {
    super::k8s::code(e)
}

/// `eks.protect_node`: termination protection on the node's instance and, when it is in
/// an Auto Scaling group, scale-in protection. What was turned on is recorded on the node.
pub(crate) async fn protect(ctx: &Ctx<'_>, node: Option<&str>, nodes: &mut Nodes) -> Step {
    let from_finding = match ctx.target {
        crate::target::Target::Eks {
            node_instance_id, ..
        } => node_instance_id.clone(),
        _ => None,
    };
    let known = node.and_then(|n| {
        nodes
            .instances
            .iter()
            .find(|(m, _)| m == n)
            .map(|(_, i)| i.clone())
    });
    let instance = match (node, known) {
        (_, Some(i)) => i,
        (Some(n), None) if !is_fargate(n) => match instance_of(ctx.client, n).await {
            Ok(i) => i,
            Err(e) => {
                return step::on(
                    format!("{}/node/{n}", ctx.cluster),
                    Status::Failed,
                    e.to_string(),
                );
            }
        },
        _ => None,
    }
    .or_else(|| if node.is_none() { from_finding } else { None });
    let Some(instance) = instance else {
        return step::on(
            ctx.target.to_string(),
            Status::Skipped,
            match node {
                Some(n) if is_fargate(n) => {
                    "the pod runs on Fargate: no instance to protect".to_owned()
                }
                Some(n) => format!("node {n} names no EC2 instance in spec.providerID"),
                None => "the pod is not scheduled and the finding names no instance".to_owned(),
            },
        );
    };
    let region = Region::new(ctx.region.to_string());
    let config = &ctx.executor.config;
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(config)
            .region(region.clone())
            .build(),
    );
    let asg = aws_sdk_autoscaling::Client::from_conf(
        aws_sdk_autoscaling::config::Builder::from(config)
            .region(region)
            .build(),
    );
    let aws_err = |what: &str, e: String| {
        step::on(
            instance.to_string(),
            Status::Failed,
            format!("{what}: {}", neutralise(&e, 400)),
        )
    };
    let (attr, member) = futures::join!(
        ec2.describe_instance_attribute()
            .instance_id(instance.as_str())
            .attribute(InstanceAttributeName::DisableApiTermination)
            .send(),
        asg.describe_auto_scaling_instances()
            .instance_ids(instance.as_str())
            .send()
    );
    let terminating_protected = match attr {
        Ok(a) => a.disable_api_termination().and_then(|v| v.value()) == Some(true),
        Err(e) => {
            return aws_err(
                "ec2:DescribeInstanceAttribute",
                aws_sdk_ec2::error::DisplayErrorContext(&e).to_string(),
            );
        }
    };
    let group = match member {
        Ok(m) => m.auto_scaling_instances().first().map(|i| {
            (
                i.auto_scaling_group_name().unwrap_or_default().to_owned(),
                i.protected_from_scale_in().unwrap_or(false),
            )
        }),
        Err(e) => {
            return aws_err(
                "autoscaling:DescribeAutoScalingInstances",
                aws_sdk_autoscaling::error::DisplayErrorContext(&e).to_string(),
            );
        }
    };
    let mut changed = BTreeSet::new();
    let mut notes = Vec::new();
    let mut failed = Vec::new();
    if terminating_protected {
        notes.push("termination protection already on".to_owned());
    } else {
        match ec2
            .modify_instance_attribute()
            .instance_id(instance.as_str())
            .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
        {
            Ok(_) => {
                changed.insert("termination");
                notes.push("termination protection on".to_owned());
            }
            Err(e) => failed.push(format!(
                "ec2:ModifyInstanceAttribute: {}",
                neutralise(
                    &aws_sdk_ec2::error::DisplayErrorContext(&e).to_string(),
                    300
                )
            )),
        }
    }
    match &group {
        None => notes.push("not in an Auto Scaling group".to_owned()),
        Some((g, true)) => notes.push(format!("scale-in protection in {g} already on")),
        Some((g, false)) => match asg
            .set_instance_protection()
            .auto_scaling_group_name(g)
            .instance_ids(instance.as_str())
            .protected_from_scale_in(true)
            .send()
            .await
        {
            Ok(_) => {
                changed.insert("scale-in");
                notes.push(format!("scale-in protection in {g} on"));
            }
            Err(e) => failed.push(format!(
                "autoscaling:SetInstanceProtection: {}",
                neutralise(
                    &aws_sdk_autoscaling::error::DisplayErrorContext(&e).to_string(),
                    300
                )
            )),
        },
    }
    if !changed.is_empty()
        && let Some(n) = node
        && let Err(e) = record_protection(ctx.client, n, &changed).await
    {
        failed.push(format!("recording it on node {n}: {e}"));
    }
    let detail = format!("instance {instance}: {}", notes.join(", "));
    if !failed.is_empty() {
        step::on(
            instance,
            Status::Failed,
            format!("{detail}; FAILED: {}", failed.join("; ")),
        )
    } else if changed.is_empty() {
        step::on(instance, Status::AlreadyDone, detail)
    } else {
        step::on(instance, Status::Done, detail)
    }
}

/// Adds `changed` to the node's [`PROTECTED_ANNOTATION`] (comma-separated).
async fn record_protection(
    client: &kube::Client,
    node: &str,
    changed: &BTreeSet<&str>,
) -> Result<(), ApiError> {
    let api: Api<Node> = Api::all(client.clone());
    let current = api
        .get(node)
        .await
        .map_err(|e| ApiError::new(&e, "get", "nodes"))?;
    let mut all: BTreeSet<String> = current
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PROTECTED_ANNOTATION))
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    all.extend(changed.iter().map(|s| s.to_string()));
    let value = all.into_iter().collect::<Vec<_>>().join(",");
    let patch = json!({ "metadata": { "annotations": { PROTECTED_ANNOTATION: value } } });
    api.patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
        .map_err(|e| ApiError::new(&e, "patch", "nodes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_name_the_instance() {
        assert_eq!(
            instance_from_provider_id("aws:///eu-west-1a/i-0123456789abcdef0").as_deref(),
            Some("i-0123456789abcdef0")
        );
        assert_eq!(
            instance_from_provider_id("aws:///eu-west-1a/abc/fargate-ip-10-0-0-1"),
            None
        );
        assert_eq!(
            instance_from_provider_id("gce://p/z/i-0123456789abcdef0"),
            None
        );
    }
}
