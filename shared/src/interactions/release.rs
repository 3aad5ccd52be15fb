//! Release from a click: the finding's targets (as the plan names them, whatever the
//! guardrails say now: an exemption added after containment must not block its release),
//! each released by the surface's release function, exactly as `responder release` does.

use crate::Config;
use crate::actions::ec2::Ec2Executor;
use crate::actions::ecs::EcsExecutor;
use crate::actions::eks::EksExecutor;
use crate::actions::eks::release::Request;
use crate::classify::classify;
use crate::finding::Finding;
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
                .map(|r| r.outcomes.iter().map(|o| o.status).collect::<Vec<_>>())
                .map_err(|e| e.to_string()),
            Target::Ecs {
                cluster, task_arn, ..
            } => EcsExecutor::from_config(sdk, config)
                .release(cluster, task_arn, execute)
                .await
                .map(|r| r.outcomes.iter().map(|o| o.status).collect())
                .map_err(|e| e.to_string()),
            Target::Eks {
                cluster,
                namespace,
                workload_name,
                workload_type,
                ..
            } if matches!(workload_type.as_str(), "pods" | "pod") => {
                let req = Request {
                    region,
                    partition,
                    cluster,
                    namespace,
                    pod: workload_name,
                };
                EksExecutor::from_config(sdk, config)
                    .release(&req, execute)
                    .await
                    .map(|r| r.outcomes.iter().map(|o| o.status).collect())
                    .map_err(|e| e.to_string())
            }
            Target::Eks { .. } => Err(format!(
                "{target}: the quarantined pod of a {} is chosen at containment; release it with responder release eks (the alert's command)",
                "workload"
            )),
        };
        match result {
            Ok(s) => statuses.extend(s),
            Err(e) => {
                statuses.push(Status::Failed);
                notes.push(crate::sanitize::ascii_line(&e, 400));
            }
        }
    }
    Ok((statuses, notes))
}
