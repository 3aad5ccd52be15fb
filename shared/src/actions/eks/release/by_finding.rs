//! The pods quarantined for one finding in one namespace, read from the responder's own
//! NetworkPolicies. A finding that names a Deployment (or another workload) is contained
//! on the pod chosen at containment; a release from the alert, which holds only the
//! finding, finds that pod here.

use super::super::POLICY_NAME_PREFIX;
use super::super::k8s::ApiError;
use super::{
    EksExecutor, FIELD_MANAGER, FINDING_ID_ANNOTATION, POD_ANNOTATION, ReleaseError, Request,
};
use crate::ids::K8sName;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, ListParams};

/// At most this many pods are released for one finding (a workload's replicas).
const MAX_PODS: usize = 50;

/// The names of the pods in `namespace` whose quarantine policy records `finding_id`, in
/// name order, each once, from policies named as the responder names them. Release then
/// checks that each pod's own record names the finding too. A recorded name that is not a
/// Kubernetes name is left out: the annotation is the object's, not the responder's word.
/// `req.pod` is not used: the workload's name is not a pod's.
pub(crate) async fn quarantined_pods(
    ex: &EksExecutor,
    req: &Request<'_>,
    finding_id: &str,
) -> Result<Vec<K8sName>, ReleaseError> {
    let client = ex
        .clusters
        .client(req.region, req.partition, req.cluster)
        .await?;
    let policies: Api<NetworkPolicy> = Api::namespaced(client, req.namespace);
    let selector = format!("app.kubernetes.io/managed-by={FIELD_MANAGER}");
    let listed = policies
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| ReleaseError::Api(ApiError::new(&e, "list", "networkpolicies").to_string()))?;
    let mut pods: Vec<K8sName> = listed
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
                .then(|| a.get(POD_ANNOTATION))
                .flatten()
                .and_then(|pod| K8sName::parse(pod).ok())
        })
        .collect();
    pods.sort();
    pods.dedup();
    pods.truncate(MAX_PODS);
    Ok(pods)
}
