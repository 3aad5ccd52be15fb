//! The deny-all NetworkPolicy for one pod, and whether anything in the cluster enforces it.

use super::k8s::ApiError;
use super::pod::PodView;
use super::step;
use super::{
    Ctx, FIELD_MANAGER, FINDING_ID_ANNOTATION, NODE_ANNOTATION, POD_ANNOTATION, QUARANTINE_LABEL,
    Step, policy_name,
};
use crate::outcome::Status;
use crate::sanitize::ascii_line;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// The policy for the pod with `uid`: selects only the quarantine label carrying that UID,
/// both policy types, no rules (so nothing in, nothing out, DNS included).
pub fn deny_all(
    namespace: &str,
    uid: &str,
    pod: &str,
    node: Option<&str>,
    finding_id: &str,
) -> NetworkPolicy {
    let mut annotations = serde_json::Map::new();
    annotations.insert(POD_ANNOTATION.into(), json!(pod));
    annotations.insert(
        FINDING_ID_ANNOTATION.into(),
        json!(ascii_line(finding_id, 256)),
    );
    if let Some(n) = node {
        annotations.insert(NODE_ANNOTATION.into(), json!(n));
    }
    serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": policy_name(uid),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": FIELD_MANAGER,
                QUARANTINE_LABEL: uid,
            },
            "annotations": annotations,
        },
        "spec": {
            "podSelector": { "matchLabels": { QUARANTINE_LABEL: uid } },
            "policyTypes": ["Ingress", "Egress"],
            // Empty, not absent: applied empty lists are owned by the responder, so a rule
            // somebody added to this policy is removed by the forced apply, not kept.
            "ingress": [],
            "egress": [],
        }
    }))
    .expect("a NetworkPolicy literal deserializes")
}

/// True when `p` already denies everything to exactly the pod with `uid`.
pub fn is_deny_all_for(p: &NetworkPolicy, uid: &str) -> bool {
    let Some(spec) = &p.spec else { return false };
    let Some(selector) = &spec.pod_selector else {
        return false;
    };
    let only_label = selector
        .match_expressions
        .as_ref()
        .is_none_or(|e| e.is_empty())
        && selector.match_labels.as_ref().is_some_and(|m| {
            m.len() == 1 && m.get(QUARANTINE_LABEL).map(String::as_str) == Some(uid)
        });
    let types = spec.policy_types.clone().unwrap_or_default();
    only_label
        && types.iter().any(|t| t == "Ingress")
        && types.iter().any(|t| t == "Egress")
        && spec.ingress.as_ref().is_none_or(|r| r.is_empty())
        && spec.egress.as_ref().is_none_or(|r| r.is_empty())
}

/// `eks.apply_deny_all_policy`: server-side apply (field manager `guardduty-responder`,
/// forced, so a policy somebody loosened is repaired). Read first so a re-run reports
/// `already done` without writing.
pub(crate) async fn apply(ctx: &Ctx<'_>, p: &PodView) -> Step {
    let name = policy_name(&p.uid);
    let target = format!("{}/{}/networkpolicy/{name}", ctx.cluster, p.namespace);
    if p.uid.is_empty() {
        return step::on(target, Status::Failed, "the pod has no UID to select on");
    }
    let api: Api<NetworkPolicy> = Api::namespaced(ctx.client.clone(), &p.namespace);
    let engine = if p
        .node_name
        .as_deref()
        .is_some_and(|n| n.starts_with("fargate-"))
    {
        // EKS Fargate does not enforce NetworkPolicies whatever runs on the EC2 nodes.
        Engine::Unknown("the pod runs on Fargate, which does not enforce NetworkPolicies".into())
    } else {
        detect_engine(ctx.client).await
    };
    let existing = match api.get_opt(&name).await {
        Ok(e) => e,
        Err(e) => {
            return step::on(
                target,
                Status::Failed,
                ApiError::new(&e, "get", "networkpolicies").to_string(),
            );
        }
    };
    if let Some(existing) = &existing
        && is_deny_all_for(existing, &p.uid)
    {
        return step::on(
            target,
            Status::AlreadyDone,
            format!(
                "deny-all NetworkPolicy {name} already in place; {}",
                engine.describe()
            ),
        );
    }
    let desired = deny_all(
        &p.namespace,
        &p.uid,
        &p.name,
        p.node_name.as_deref(),
        &ctx.plan.finding_id,
    );
    let params = PatchParams::apply(FIELD_MANAGER).force();
    match api.patch(&name, &params, &Patch::Apply(&desired)).await {
        Ok(applied) if !is_deny_all_for(&applied, &p.uid) => step::on(
            target,
            Status::Failed,
            format!(
                "applied NetworkPolicy {name}, but the stored policy still allows traffic or selects more than the pod (somebody else owns part of it): delete it and run again"
            ),
        ),
        Ok(_) => {
            let verb = if existing.is_some() {
                "repaired"
            } else {
                "applied"
            };
            step::on(
                target,
                Status::Done,
                format!(
                    "{verb} deny-all NetworkPolicy {name} (Ingress and Egress, selecting only {QUARANTINE_LABEL}={}); {}",
                    p.uid,
                    engine.describe()
                ),
            )
            .with_evidence(json!({ "policy": name, "engine": engine.name(), "replaced": existing.map(|e| e.spec) }))
        }
        Err(e) => step::on(
            target,
            Status::Failed,
            ApiError::new(&e, "patch (server-side apply)", "networkpolicies").to_string(),
        ),
    }
}

/// What enforces NetworkPolicies in the cluster, as far as its DaemonSets show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// The VPC CNI's node agent with `--enable-network-policy=true`.
    VpcCni,
    Calico,
    Cilium,
    None,
    /// Could not look (e.g. not allowed to get DaemonSets in `kube-system`).
    Unknown(String),
}

impl Engine {
    pub fn name(&self) -> &'static str {
        match self {
            Engine::VpcCni => "vpc-cni",
            Engine::Calico => "calico",
            Engine::Cilium => "cilium",
            Engine::None => "none",
            Engine::Unknown(_) => "unknown",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Engine::VpcCni => "enforced by the VPC CNI network policy agent".into(),
            Engine::Calico => "enforced by Calico".into(),
            Engine::Cilium => "enforced by Cilium".into(),
            Engine::None => "WARNING: no NetworkPolicy engine detected (VPC CNI network policy mode, Calico or Cilium): the policy may be inert".into(),
            Engine::Unknown(why) => format!("could not tell whether a NetworkPolicy engine enforces it, so it may be inert ({why})"),
        }
    }
}

/// Where each engine runs its node DaemonSet. Only these namespaces, which workloads
/// cannot write to, are looked at: a pod or DaemonSet anywhere else carrying
/// `k8s-app: calico-node` is not an engine (an attacker could create one to make an inert
/// policy look enforced).
pub const ENGINE_DAEMONSETS: &[(&str, &str)] = &[
    ("kube-system", "aws-node"),
    ("calico-system", "calico-node"),
    ("kube-system", "calico-node"),
    ("kube-system", "cilium"),
];

/// Looks for the DaemonSet of each engine EKS clusters use, by namespace and name. One
/// ready pod is enough; the VPC CNI runs its node agent in `aws-node`, enabled by a flag.
pub async fn detect_engine(client: &kube::Client) -> Engine {
    let mut errors = Vec::new();
    for (namespace, name) in ENGINE_DAEMONSETS {
        let api: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
        let ds = match api.get_opt(name).await {
            Ok(Some(ds)) => ds,
            Ok(None) => continue,
            Err(e) => {
                errors.push(
                    ApiError::new(&e, "get", &format!("daemonsets in {namespace}")).to_string(),
                );
                continue;
            }
        };
        if let Some(engine) = engine_of(name, &ds) {
            return engine;
        }
    }
    match errors.into_iter().next() {
        Some(e) => Engine::Unknown(e),
        None => Engine::None,
    }
}

/// The engine a DaemonSet named `name` (in one of [`ENGINE_DAEMONSETS`]) provides, if it
/// has ready pods and, for the VPC CNI, its network policy agent is on.
pub fn engine_of(name: &str, ds: &DaemonSet) -> Option<Engine> {
    let ready = ds.status.as_ref().is_some_and(|s| s.number_ready > 0);
    if !ready {
        return None;
    }
    let containers = ds
        .spec
        .iter()
        .flat_map(|s| s.template.spec.iter())
        .flat_map(|s| s.containers.iter());
    match name {
        "aws-node" => containers
            .into_iter()
            .any(|c| {
                c.name == "aws-eks-nodeagent"
                    && c.args
                        .iter()
                        .flatten()
                        .any(|a| a == "--enable-network-policy=true")
            })
            .then_some(Engine::VpcCni),
        "calico-node" => Some(Engine::Calico),
        "cilium" => Some(Engine::Cilium),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_selects_one_uid_and_denies_both_ways() {
        let p = deny_all("web", "0b7c-uid", "web-1", Some("ip-10-0-0-1"), "f1");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v["spec"]["podSelector"],
            json!({"matchLabels": {QUARANTINE_LABEL: "0b7c-uid"}})
        );
        assert_eq!(v["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(
            (&v["spec"]["ingress"], &v["spec"]["egress"]),
            (&json!([]), &json!([]))
        );
        assert!(is_deny_all_for(&p, "0b7c-uid"));
        assert!(!is_deny_all_for(&p, "other"));
        let mut loosened = p.clone();
        loosened.spec.as_mut().unwrap().egress = Some(vec![Default::default()]);
        assert!(!is_deny_all_for(&loosened, "0b7c-uid"));
    }
}
