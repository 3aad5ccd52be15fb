//! The EKS reader: the responder's quarantine NetworkPolicies in a cluster (every
//! namespace), each with its pod's annotations when the pod still exists. Reads only:
//! `list networkpolicies` cluster-wide and `get pods` ([`KUBERNETES_RBAC`]).

use super::Contained;
use super::records::{self, EksPolicy, Place};
use crate::action_catalog::{RbacRule, rule};
use crate::actions::eks::{ClusterClients, FIELD_MANAGER, POD_ANNOTATION};
use crate::target::is_k8s_name;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams};

/// The Kubernetes group the reminder's access entry maps to (Terraform `reminder.tf`).
pub const KUBERNETES_GROUP: &str = "guardduty-responder-reader";

/// The reader's Kubernetes calls, shipped as `infra/kubernetes/reader-rbac.yaml`.
pub const KUBERNETES_RBAC: &[RbacRule] = &[
    rule(&["networking.k8s.io"], "networkpolicies", &["list"]),
    rule(&[""], "pods", &["get"]),
];

/// Objects per list page.
const PAGE: u32 = 200;

fn message(what: &str, e: &kube::Error) -> String {
    crate::sanitize::ascii_line(&format!("{what}: {e}"), 300)
}

/// The quarantines in `cluster`.
pub async fn read(
    clients: &ClusterClients,
    place: &Place,
    cluster: &str,
) -> Result<Vec<Contained>, String> {
    let client = clients
        .client(&place.region, &place.partition, cluster)
        .await
        .map_err(|e| crate::sanitize::ascii_line(&e.to_string(), 300))?;
    let policies: Api<NetworkPolicy> = Api::all(client.clone());
    let selector = format!("app.kubernetes.io/managed-by={FIELD_MANAGER}");
    let mut params = ListParams::default().labels(&selector).limit(PAGE);
    let mut out = Vec::new();
    loop {
        let page = policies
            .list(&params)
            .await
            .map_err(|e| message("list networkpolicies", &e))?;
        for p in &page.items {
            let meta = &p.metadata;
            let namespace = meta.namespace.clone().unwrap_or_default();
            let annotations = meta.annotations.clone().unwrap_or_default();
            let pod_annotations = match annotations.get(POD_ANNOTATION) {
                Some(pod) if is_k8s_name(pod) && is_k8s_name(&namespace) => {
                    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
                    pods.get_opt(pod)
                        .await
                        .map_err(|e| message("get pod", &e))?
                        .map(|p| p.metadata.annotations.unwrap_or_default())
                }
                _ => None,
            };
            let found = EksPolicy {
                cluster: cluster.to_owned(),
                namespace,
                name: meta.name.clone().unwrap_or_default(),
                labels: meta.labels.clone().unwrap_or_default(),
                annotations,
                created: meta
                    .creation_timestamp
                    .as_ref()
                    .and_then(|t| chrono::DateTime::from_timestamp(t.0.as_second(), 0)),
                pod_annotations,
            };
            out.extend(records::eks_policy(place, &found));
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}
