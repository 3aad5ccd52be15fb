//! Release of the pod's role-session revocations: each recorded role's deny policy goes
//! once every session it denies has expired, and stays (with its record on the pod) until
//! then. See [`crate::actions::revocation`].

use super::{EksExecutor, ReleaseOutcome, ReleaseStep};
use crate::actions::eks::REVOKED_ROLES_ANNOTATION;
use crate::actions::eks::k8s::ApiError;
use crate::actions::eks::pod::PodView;
use crate::actions::revocation::{self, is_role_name};
use crate::outcome::Status;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// The roles recorded on the pod and on its policy (the pod may be gone).
pub(super) fn recorded_roles(pod: Option<&PodView>, policy: Option<&NetworkPolicy>) -> Vec<String> {
    let on_pod = pod.and_then(|p| p.annotations.get(REVOKED_ROLES_ANNOTATION));
    let on_policy = policy
        .and_then(|np| np.metadata.annotations.as_ref())
        .and_then(|a| a.get(REVOKED_ROLES_ANNOTATION));
    let mut roles: Vec<String> = Vec::new();
    for r in on_pod
        .into_iter()
        .chain(on_policy)
        .flat_map(|v| v.split(','))
    {
        if is_role_name(r) && !roles.iter().any(|x| x == r) {
            roles.push(r.to_owned());
        }
    }
    roles
}

pub(super) async fn release_revocations(
    ex: &EksExecutor,
    pods: &Api<Pod>,
    pod: Option<&PodView>,
    roles: &[String],
    target: &str,
    execute: bool,
) -> ReleaseOutcome {
    let step = |status, detail: String| {
        ReleaseOutcome::new(ReleaseStep::RemoveRoleRevocation, target, status, detail)
    };
    let mut results = Vec::with_capacity(roles.len());
    for role in roles {
        results.push(revocation::release(&ex.iam, role, execute).await);
    }
    let kept = results.iter().any(|(_, _, kept)| *kept);
    let mut details: Vec<String> = results.iter().map(|(_, d, _)| d.clone()).collect();
    let status = if results.iter().any(|(s, _, _)| *s == Status::Failed) {
        Status::Failed
    } else if kept || !execute {
        Status::Skipped
    } else if results.iter().any(|(s, _, _)| *s == Status::Done) {
        Status::Done
    } else {
        Status::AlreadyDone
    };
    // Forget the record only once every revocation it names is gone.
    if execute && !kept && status != Status::Failed {
        if let Some(p) = pod.filter(|p| p.annotations.contains_key(REVOKED_ROLES_ANNOTATION)) {
            let patch = json!({"metadata": {"annotations": {REVOKED_ROLES_ANNOTATION: null}}});
            if let Err(e) = pods
                .patch(&p.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                details.push(format!(
                    "record not removed: {}",
                    ApiError::new(&e, "patch", "pods")
                ));
                return step(Status::Failed, details.join("; "));
            }
        }
    } else if kept && pod.is_none() {
        details.push(
            "the pod is gone, and its policy (the other record) is deleted now: \
             delete the kept revocation by hand as said"
                .into(),
        );
    }
    step(status, details.join("; "))
}
