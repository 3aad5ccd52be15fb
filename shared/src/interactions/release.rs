//! Release from a click: the finding's targets (as the plan names them, whatever the
//! guardrails say now: an exemption added after containment must not block its release),
//! each released by the surface's release function, exactly as `responder release` does.

use crate::Config;
use crate::actions::ec2::Ec2Executor;
use crate::actions::ecs::EcsExecutor;
use crate::actions::eks::EksExecutor;
use crate::actions::eks::release::{ReleaseError, Request};
use crate::classify::classify;
use crate::finding::Finding;
use crate::ids::Region;
use crate::outcome::Status;
use crate::target::Target;

/// Every release step's status, and notes (a target this path cannot release, an error).
pub async fn release(
    sdk: &aws_config::SdkConfig,
    finding: &Finding,
    config: &Config,
    execute: bool,
) -> Result<(Vec<Status>, Vec<String>), String> {
    let c = classify(finding);
    let actions = crate::surface_actions::surface_actions(finding, &c, config)
        .map_err(|e| format!("cannot name the resource: {e}"))?;
    let mut targets: Vec<&Target> = Vec::new();
    for a in &actions {
        if !targets.contains(&&*a.target) {
            targets.push(&a.target);
        }
    }
    let region = finding.region.as_raw();
    let partition = finding.partition.as_deref().unwrap_or("aws");
    let (mut statuses, mut notes) = (Vec::new(), Vec::new());
    for target in targets {
        let result = match target {
            Target::Ec2 { instance_id, .. } => Ec2Executor::from_config(sdk, config)
                .release(instance_id, execute)
                .await
                .map(|r| (r.outcomes.iter().map(|o| o.status).collect(), vec![]))
                .map_err(|e| e.to_string()),
            Target::Ecs {
                cluster, task_arn, ..
            } => EcsExecutor::from_config(sdk, config)
                .release(cluster, task_arn, execute)
                .await
                .map(|r| (r.outcomes.iter().map(|o| o.status).collect(), vec![]))
                .map_err(|e| e.to_string()),
            Target::Eks {
                cluster,
                namespace,
                workload_name,
                workload_type,
                ..
            } => match Region::parse(region) {
                // The finding's region, checked here where it enters: the target's names
                // already were, when the target was built.
                Err(_) => Err(ReleaseError::invalid(region, "a region").to_string()),
                Ok(region) => {
                    let ex = EksExecutor::from_config(sdk, config);
                    let req = Request {
                        region: &region,
                        partition,
                        cluster,
                        namespace,
                        pod: workload_name,
                    };
                    release_eks(&ex, &req, workload_type, finding, execute).await
                }
            },
        };
        match result {
            Ok((s, n)) => {
                statuses.extend(s);
                notes.extend(n.iter().map(|n| crate::sanitize::ascii_line(n, 400)));
            }
            Err(e) => {
                statuses.push(Status::Failed);
                notes.push(crate::sanitize::ascii_line(&e, 400));
            }
        }
    }
    Ok((statuses, notes))
}

/// A pod finding releases that pod. A workload finding (a Deployment…) was contained on the
/// pods chosen at containment: those its quarantine policies record for this finding, each
/// released only if its own record names the finding too. A pod that fails is reported and
/// the others are still released.
async fn release_eks(
    ex: &EksExecutor,
    req: &Request<'_>,
    workload_type: &str,
    finding: &Finding,
    execute: bool,
) -> Result<(Vec<Status>, Vec<String>), String> {
    if matches!(workload_type, "pods" | "pod") {
        let released = ex.release(req, execute).await.map_err(|e| e.to_string())?;
        return Ok((released.outcomes.iter().map(|o| o.status).collect(), vec![]));
    }
    let id = finding.id.as_raw();
    if !crate::validate::is_finding_id(id) {
        return Err("the finding id is not a GuardDuty finding id".into());
    }
    let pods = ex
        .quarantined_pods(req, id)
        .await
        .map_err(|e| e.to_string())?;
    if pods.is_empty() {
        return Err(format!(
            "no pod of {}/{} is quarantined for this finding",
            req.namespace, req.pod
        ));
    }
    let (mut statuses, mut notes) = (Vec::new(), Vec::new());
    for pod in &pods {
        let one = Request { pod, ..*req };
        match ex.release_for_finding(&one, id, execute).await {
            Ok(released) => statuses.extend(released.outcomes.iter().map(|o| o.status)),
            Err(e) => {
                statuses.push(Status::Failed);
                notes.push(e.to_string());
            }
        }
    }
    Ok((statuses, notes))
}
