//! The EKS pod's part of revocation ([`crate::actions::revocation`]): the IAM roles the
//! pod's ServiceAccount can obtain, through IRSA (the ServiceAccount's
//! `eks.amazonaws.com/role-arn`, honoured only when the role's trust policy admits this
//! ServiceAccount) and through EKS Pod Identity (the cluster's associations, which the
//! workload cannot edit). Recorded on the pod and its policy before a policy is written.

use super::k8s::ApiError;
use super::pod::PodView;
use super::step;
use super::{Ctx, REVOKED_ROLES_ANNOTATION, Step, policy_name};
use crate::actions::ec2::observe::api_error;
use crate::actions::revocation::{
    self, IRSA_ROLE_ANNOTATION, REVOCATION_OFF, revocable, role_name, trusts_service_account,
};
use crate::outcome::Status;
use crate::sanitize::ascii_line;
use aws_config::Region;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// `eks.revoke_role_sessions` for one pod.
pub(crate) async fn revoke(ctx: &Ctx<'_>, p: &PodView) -> Step {
    let target = p.display(ctx.cluster);
    let patterns = &ctx.executor.revocable_role_arns;
    if patterns.is_empty() {
        return step::on(target, Status::Skipped, REVOCATION_OFF);
    }
    let sa = p.service_account.as_deref().unwrap_or("default");
    let (irsa, pod_identity) = futures::join!(
        Box::pin(irsa_role(ctx, &p.namespace, sa)),
        Box::pin(pod_identity_roles(ctx, &p.namespace, sa)),
    );
    let mut notes = Vec::new();
    let mut failures = Vec::new();
    let mut roles: Vec<String> = Vec::new();
    for found in [irsa, pod_identity] {
        match found {
            Ok(Found { arns, notes: n }) => {
                notes.extend(n);
                for arn in arns {
                    match (revocable(&arn, patterns), role_name(&arn)) {
                        (Err(why), _) => notes.push(why),
                        (Ok(()), None) => failures
                            .push(format!("unexpected role ARN {:?}", ascii_line(&arn, 120))),
                        (Ok(()), Some(r)) if !roles.iter().any(|x| x == r) => roles.push(r.into()),
                        _ => {}
                    }
                }
            }
            Err(e) => failures.push(e),
        }
    }
    if roles.is_empty() {
        let status = if failures.is_empty() {
            Status::Skipped
        } else {
            Status::Failed
        };
        let mut all = failures;
        all.extend(notes);
        if all.is_empty() {
            all.push(format!(
                "ServiceAccount {sa} has no IAM role (IRSA or Pod Identity)"
            ));
        }
        return step::on(target, status, all.join("; "));
    }
    let recorded = record(ctx, p, &roles).await;
    let mut steps = Vec::with_capacity(roles.len());
    for role in &roles {
        steps.push(revocation::revoke_role(&ctx.executor.iam, role, recorded.clone()).await);
    }
    let status = if !failures.is_empty() || steps.iter().any(|s| s.status == Status::Failed) {
        Status::Failed
    } else {
        Status::Done
    };
    let mut details: Vec<String> = steps.into_iter().map(|s| s.detail).collect();
    details.extend(failures);
    details.extend(notes);
    step::on(target, status, details.join("; "))
}

/// Roles found for a ServiceAccount, and why others were not taken.
#[derive(Default)]
struct Found {
    arns: Vec<String>,
    notes: Vec<String>,
}

/// The IRSA role, if the ServiceAccount names one its trust policy backs.
async fn irsa_role(ctx: &Ctx<'_>, namespace: &str, sa: &str) -> Result<Found, String> {
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), namespace);
    let account = api
        .get_opt(sa)
        .await
        .map_err(|e| ApiError::new(&e, "get", "serviceaccounts").to_string())?;
    let Some(arn) = account
        .and_then(|a| a.metadata.annotations)
        .and_then(|a| a.get(IRSA_ROLE_ANNOTATION).cloned())
    else {
        return Ok(Found::default());
    };
    let Some(role) = role_name(&arn) else {
        return Ok(Found {
            arns: vec![],
            notes: vec![format!(
                "ServiceAccount {sa}'s {IRSA_ROLE_ANNOTATION} is not a role ARN: {:?}",
                ascii_line(&arn, 120)
            )],
        });
    };
    let trust = ctx
        .executor
        .iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .map_err(|e| api_error("GetRole", &e))?
        .role()
        .and_then(|r| r.assume_role_policy_document().map(str::to_owned))
        .unwrap_or_default();
    if trusts_service_account(&trust, namespace, sa) {
        Ok(Found {
            arns: vec![arn],
            notes: vec![],
        })
    } else {
        // The annotation names a role this pod cannot assume: it has no session of it to
        // revoke, and whoever wrote the annotation may want another workload's role cut.
        Ok(Found {
            arns: vec![],
            notes: vec![format!(
                "not revoked: role {role} (named by ServiceAccount {sa}'s {IRSA_ROLE_ANNOTATION}) \
                 does not trust system:serviceaccount:{namespace}:{sa}"
            )],
        })
    }
}

/// The roles of the cluster's Pod Identity associations for the ServiceAccount.
async fn pod_identity_roles(ctx: &Ctx<'_>, namespace: &str, sa: &str) -> Result<Found, String> {
    let eks = ctx.executor.eks(ctx.region);
    let listed = eks
        .list_pod_identity_associations()
        .cluster_name(ctx.cluster)
        .namespace(namespace)
        .service_account(sa)
        .send()
        .await
        .map_err(|e| api_error("ListPodIdentityAssociations", &e))?;
    let mut found = Found::default();
    for a in listed.associations() {
        let Some(id) = a.association_id() else {
            continue;
        };
        let described = eks
            .describe_pod_identity_association()
            .cluster_name(ctx.cluster)
            .association_id(id)
            .send()
            .await
            .map_err(|e| api_error("DescribePodIdentityAssociation", &e))?;
        if let Some(arn) = described.association().and_then(|x| x.role_arn()) {
            found.arns.push(arn.to_owned());
        }
    }
    Ok(found)
}

/// Records the roles on the pod (release reads them there) and on its policy (which
/// outlives a deleted pod). The pod's record must succeed; the policy's is best effort.
async fn record(ctx: &Ctx<'_>, p: &PodView, roles: &[String]) -> Result<(), String> {
    let mut all: Vec<&str> = p
        .annotations
        .get(REVOKED_ROLES_ANNOTATION)
        .map(|v| {
            v.split(',')
                .filter(|r| revocation::is_role_name(r))
                .collect()
        })
        .unwrap_or_default();
    for r in roles {
        if !all.contains(&r.as_str()) {
            all.push(r);
        }
    }
    let patch = json!({"metadata": {"annotations": {REVOKED_ROLES_ANNOTATION: all.join(",")}}});
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &p.namespace);
    let policies: Api<NetworkPolicy> = Api::namespaced(ctx.client.clone(), &p.namespace);
    let params = PatchParams::default();
    let merge = Patch::Merge(&patch);
    let policy = policy_name(&p.uid);
    let (on_pod, _) = futures::join!(
        pods.patch(&p.name, &params, &merge),
        policies.patch(&policy, &params, &merge),
    );
    on_pod
        .map(|_| ())
        .map_err(|e| ApiError::new(&e, "patch", "pods").to_string())
}

/// A region-scoped EKS client for Pod Identity look-ups.
pub(crate) fn eks_client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(config)
            .region(Region::new(region.to_owned()))
            .build(),
    )
}
