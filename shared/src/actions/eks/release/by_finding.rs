//! The pods quarantined for one finding in one namespace, read from the responder's own
//! NetworkPolicies. A finding that names a Deployment (or another workload) is contained
//! on the pod chosen at containment; a release from the alert, which holds only the
//! finding, finds that pod here.

use super::super::POLICY_NAME_PREFIX;
use super::super::k8s::ApiError;
use super::{
    EksExecutor, FIELD_MANAGER, FINDING_ID_ANNOTATION, POD_ANNOTATION, ReleaseError, Request,
};
use crate::target::{is_cluster_name, is_k8s_name};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams};

/// At most this many pods are released for one finding (a workload's replicas).
const MAX_PODS: usize = 50;

/// The names of the pods in `namespace` whose quarantine policy records `finding_id`, in
/// name order, each once, from policies named as the responder names them. Release then
/// checks that each pod's own record names the finding too.
/// `req.pod` is not used: the workload's name is not a pod's.
pub(crate) async fn quarantined_pods(
    ex: &EksExecutor,
    req: &Request<'_>,
    finding_id: &str,
) -> Result<Vec<String>, ReleaseError> {
    let (region, partition, cluster, namespace) =
        (req.region, req.partition, req.cluster, req.namespace);
    if !is_cluster_name(cluster) || !is_k8s_name(namespace) || !super::is_region(region) {
        return Err(ReleaseError::Invalid {
            given: format!("{cluster:?}/{namespace:?} in {region:?}"),
            expected: "a cluster/namespace in a region",
        });
    }
    let client = ex.clusters.client(region, partition, cluster).await?;
    let policies: Api<NetworkPolicy> = Api::namespaced(client, namespace);
    let selector = format!("app.kubernetes.io/managed-by={FIELD_MANAGER}");
    let listed = policies
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| ReleaseError::Api(ApiError::new(&e, "list", "networkpolicies").to_string()))?;
    let mut pods: Vec<String> = listed
        .items
        .iter()
        .filter(|np| {
            np.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with(POLICY_NAME_PREFIX))
        })
        .filter_map(|np| {
            let a = np.metadata.annotations.as_ref()?;
            (a.get(FINDING_ID_ANNOTATION).map(String::as_str) == Some(finding_id))
                .then(|| a.get(POD_ANNOTATION).cloned())
                .flatten()
        })
        .filter(|pod| is_k8s_name(pod))
        .collect();
    pods.sort();
    pods.dedup();
    pods.truncate(MAX_PODS);
    Ok(pods)
}
