//! Isolation of one task. Round trips:
//!
//! 1. `DescribeTasks` (with tags: the record of an earlier run);
//! 2. concurrently: the task definition, the ENI, the subnet's network ACL and the
//!    service's target groups (evidence is complete before anything changes);
//! 3. concurrently: network isolation (record on the task, then ACL entries or the group
//!    swap), target deregistration (record, then deregister), role-session revocation;
//! 4. the status tags; then, when configured, `StopTask`.

use super::Clients;
use super::evidence::{self, Described, EniView, TaskDefinition, TaskView};
use super::network_acl::{self, Acl};
use super::record::{self, Record};
use super::record_seal;
use super::revocation;
use crate::actions::ec2::isolation_groups::{self, Role};
use crate::actions::ec2::observe::{Eni, api_error};
use crate::actions::ec2::quarantine::{
    FINDING_ID_KEY, FINDING_TYPE_KEY, QUARANTINED_AT_KEY, STATUS_INCOMPLETE, STATUS_KEY,
    STATUS_QUARANTINED, Step, tag_value,
};
use crate::actions::ec2::swap;
use crate::actions::ec2::{sensor_coverage, sensor_link};
use crate::options::EcsOptions;
use crate::outcome::Status;
use crate::plan::ActionKind;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

/// The service's target groups and container ports, or why they could not be read.
type TargetGroups = Result<Vec<(String, Option<i32>)>, String>;

pub(crate) struct Request<'a> {
    pub cluster: &'a str,
    pub task_arn: &'a str,
    pub finding_id: &'a str,
    pub finding_type: &'a str,
    pub kinds: HashSet<ActionKind>,
}

pub(crate) fn step(status: Status, detail: impl Into<String>) -> Step {
    Step {
        status,
        detail: detail.into(),
        evidence: None,
    }
}

async fn maybe<T>(cond: bool, f: impl Future<Output = T>) -> Option<T> {
    if cond { Some(f.await) } else { None }
}

/// Adds tags to the task (`TagResource`).
pub(crate) async fn tag_task(
    c: &Clients,
    arn: &str,
    tags: &[(String, String)],
) -> Result<(), String> {
    if tags.is_empty() {
        return Ok(());
    }
    c.ecs
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| {
            c.ledger.unsure(tags);
            api_error("TagResource", &e)
        })?;
    c.ledger.add(tags);
    Ok(())
}

pub(crate) async fn contain(
    c: &Clients,
    req: &Request<'_>,
    opts: &EcsOptions,
) -> HashMap<ActionKind, Step> {
    use ActionKind::*;
    // A ledger of its own: the seal covers what this run wrote, not a concurrent run's.
    let c = &Clients {
        ledger: Default::default(),
        ..c.clone()
    };
    let want = |k: ActionKind| req.kinds.contains(&k);
    let all = |s: Step| -> HashMap<ActionKind, Step> {
        req.kinds.iter().map(|k| (*k, s.clone())).collect()
    };
    let view = match Box::pin(evidence::describe_task(&c.ecs, req.cluster, req.task_arn)).await {
        Described::Found(v) => *v,
        Described::NotFound(why) => return all(step(Status::Skipped, why)),
        Described::Failed(e) => return all(step(Status::Failed, e)),
    };
    if !view.running() {
        return all(step(
            Status::Skipped,
            format!("not running (task {})", view.last_status.to_lowercase()),
        ));
    }
    let record = Record::decode(view.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let record = match record {
        Ok(r) => r,
        // Never build on a record we cannot read: release depends on it.
        Err(e) => {
            return all(step(
                Status::Failed,
                format!("{e}; left as is, check the task's tags"),
            ));
        }
    };

    // An earlier run's record is sealed, or it is not built on silently.
    let trusted = match c.ec2.mac_key.is_some() && !record.is_empty() {
        true => Some(Box::pin(record_seal::verify_task(c, &view.arn, &view.tags)).await),
        false => None,
    };

    // Round trip 2: every read at once.
    let isolating = want(EcsIsolateTaskNetwork);
    let (taskdef, eni, acl, tgs) = futures::join!(
        Box::pin(maybe(
            view.task_definition_arn.is_some()
                && (want(EcsCaptureEvidence) || want(EcsRevokeRoleSessions)),
            evidence::describe_task_definition(
                &c.ecs,
                view.task_definition_arn.as_deref().unwrap_or_default()
            )
        )),
        Box::pin(maybe(
            view.eni_id.is_some(),
            evidence::describe_eni(&c.ec2.ec2, view.eni_id.as_deref().unwrap_or_default())
        )),
        Box::pin(maybe(
            isolating && view.subnet_id.is_some(),
            network_acl::acl_of_subnet(&c.ec2.ec2, view.subnet_id.as_deref().unwrap_or_default())
        )),
        Box::pin(maybe(
            want(EcsDeregisterTargets) && view.service().is_some(),
            evidence::service_target_groups(
                &c.ecs,
                req.cluster,
                view.service().unwrap_or_default()
            )
        )),
    );
    let mut out = HashMap::new();
    if want(EcsCaptureEvidence) {
        out.insert(EcsCaptureEvidence, capture(&view, &taskdef, &eni, &tgs));
    }

    // Round trip 3: the changes, each recorded before it is made.
    let (isolated, deregistered, revoked) = futures::join!(
        Box::pin(maybe(
            isolating,
            isolate(c, req, &view, &eni, acl, &record, opts)
        )),
        Box::pin(maybe(
            want(EcsDeregisterTargets),
            deregister(c, &view, tgs, &record)
        )),
        Box::pin(maybe(
            want(EcsRevokeRoleSessions),
            revocation::revoke(c, &view, &taskdef, &opts.revocable_role_arns)
        )),
    );
    for (k, s) in [
        (EcsIsolateTaskNetwork, isolated),
        (EcsDeregisterTargets, deregistered),
        (EcsRevokeRoleSessions, revoked),
    ] {
        if let Some(s) = s {
            out.insert(k, s);
        }
    }
    let sealed = record_seal::seal_task(
        c,
        req.cluster,
        &view.arn,
        &view.tags,
        trusted.as_ref(),
        &c.ledger,
    );
    let sealed = Box::pin(sealed).await;
    if want(EcsTagTask) {
        let failed = out.values().any(|s| s.status == Status::Failed);
        let mut s = Box::pin(tag_status(c, &view, req, failed)).await;
        match sealed {
            Ok(None) => {}
            Ok(Some(note)) => s.detail.push_str(&format!("; {note}")),
            Err(e) => {
                s.status = Status::Failed;
                s.detail.push_str(&format!("; {e}"));
            }
        }
        out.insert(EcsTagTask, s);
    }
    if want(EcsStopTask) {
        out.insert(EcsStopTask, Box::pin(stop(c, &view, req)).await);
    }
    for k in &req.kinds {
        out.entry(*k)
            .or_insert_with(|| step(Status::Skipped, "not an ECS isolation step"));
    }
    out
}

fn capture(
    view: &TaskView,
    taskdef: &Option<Result<TaskDefinition, String>>,
    eni: &Option<Result<Option<EniView>, String>>,
    tgs: &Option<TargetGroups>,
) -> Step {
    let mut gaps = Vec::new();
    let td = match taskdef {
        Some(Ok(d)) => d.evidence.clone(),
        Some(Err(e)) => {
            gaps.push(e.clone());
            serde_json::Value::Null
        }
        None => serde_json::Value::Null,
    };
    let ni = match eni {
        Some(Ok(Some(n))) => n.evidence.clone(),
        Some(Ok(None)) => serde_json::Value::String("not found".into()),
        Some(Err(e)) => {
            gaps.push(e.clone());
            serde_json::Value::Null
        }
        None => serde_json::Value::Null,
    };
    let lbs = match tgs {
        Some(Ok(list)) => serde_json::json!(
            list.iter()
                .map(|(tg, port)| serde_json::json!({"targetGroupArn": tg, "containerPort": port}))
                .collect::<Vec<_>>()
        ),
        _ => serde_json::Value::Null,
    };
    let evidence = serde_json::json!({
        "task": view.evidence,
        "taskDefinition": td,
        "networkInterface": ni,
        "serviceTargetGroups": lbs,
    });
    tracing::info!(task = %view.arn, evidence = %evidence, "ECS task evidence captured before containment");
    let images: Vec<String> = view
        .evidence
        .get("containers")
        .and_then(|c| c.as_array())
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let image = c.get("image").and_then(|v| v.as_str()).unwrap_or("?");
                    match c.get("imageDigest").and_then(|v| v.as_str()) {
                        Some(d) => format!("{image}@{d}"),
                        None => image.to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut s = if gaps.is_empty() {
        step(
            Status::Done,
            format!(
                "task, task definition and ENI described ({} container(s): {})",
                images.len(),
                images.join(", ")
            ),
        )
    } else {
        step(
            Status::Failed,
            format!("captured in part; missing: {}", gaps.join("; ")),
        )
    };
    s.evidence = Some(evidence);
    s
}

async fn isolate(
    c: &Clients,
    req: &Request<'_>,
    view: &TaskView,
    eni: &Option<Result<Option<EniView>, String>>,
    acl: Option<Result<Acl, String>>,
    record: &Record,
    opts: &EcsOptions,
) -> Step {
    let Some(eni_id) = view.eni_id.as_deref() else {
        return Box::pin(super::host::contain_host(
            c,
            view,
            opts,
            req.cluster,
            req.finding_id,
            req.finding_type,
        ))
        .await;
    };
    let described = match eni {
        Some(Ok(Some(e))) => Some(e),
        _ => None,
    };
    let swap_possible = described.is_some_and(|e| !e.requester_managed && e.vpc_id.is_some());
    let why_acl = if opts.force_network_acl {
        "network-ACL method (forced by configuration)".to_owned()
    } else {
        match (eni, described) {
            (_, Some(e)) if e.requester_managed => {
                format!("network-ACL method ({eni_id} is requester-managed)")
            }
            (Some(Err(e)), _) => format!("network-ACL method (the ENI could not be read: {e})"),
            _ => format!("network-ACL method ({eni_id} not described)"),
        }
    };
    if swap_possible && !opts.force_network_acl {
        let e = described.expect("checked above");
        match Box::pin(swap(c, view, e, record)).await {
            Ok((s, kept)) => return with_coverage(c, req.cluster, s, kept).await,
            // Never assume a swap works on an ENI another service manages: fall back.
            Err(err) => {
                let (mut s, kept) = Box::pin(super::vpc_deny::deny_in_vpc(
                    c, view, described, acl, record,
                ))
                .await;
                s.detail = format!(
                    "group swap failed ({err}); network-ACL method instead: {}",
                    s.detail
                );
                return with_coverage(c, req.cluster, s, kept).await;
            }
        }
    }
    let (mut s, kept) = Box::pin(super::vpc_deny::deny_in_vpc(
        c, view, described, acl, record,
    ))
    .await;
    s.detail = format!("{why_acl}: {}", s.detail);
    with_coverage(c, req.cluster, s, kept).await
}

/// Appends whether GuardDuty still sees the task's cluster (not after a failure).
async fn with_coverage(c: &Clients, cluster: &str, mut s: Step, kept: bool) -> Step {
    if s.status != Status::Failed {
        let subject = sensor_coverage::Subject::EcsCluster(cluster);
        let seen = sensor_coverage::check(&c.ec2.guardduty, subject, kept).await;
        s.detail.push_str(&format!("; {seen}"));
    }
    s
}

/// The EC2 executor's isolation groups and two-step swap, on the task's ENI.
/// Returns the step and whether GuardDuty's endpoint stays reachable.
async fn swap(
    c: &Clients,
    view: &TaskView,
    e: &EniView,
    record: &Record,
) -> Result<(Step, bool), String> {
    let vpc = e.vpc_id.clone().unwrap_or_default();
    let in_isolation = !e.groups.is_empty()
        && e.groups
            .iter()
            .all(|g| g.name.as_deref().and_then(Role::from_name).is_some());
    let ids: Vec<String> = e.groups.iter().map(|g| g.id.clone()).collect();
    if !in_isolation && !record.prior_groups.contains_key(&e.id) {
        let tag = record::prior_groups_tag(&e.id, &ids).map_err(|x| x.to_string())?;
        tag_task(c, &view.arn, &[tag])
            .await
            .map_err(|x| format!("{x}; groups not recorded, so not changed"))?;
    }
    let vpcs = BTreeSet::from([vpc.clone()]);
    let keep_ssm = c.ec2.isolation.keep_ssm_endpoints;
    let (observed, links) = futures::join!(
        Box::pin(isolation_groups::lookup(&c.ec2.ec2, &vpcs)),
        Box::pin(sensor_link::discover_all(&c.ec2.ec2, &vpcs, keep_ssm)),
    );
    let keep = sensor_link::keep_of(links.get(&vpc));
    let groups = isolation_groups::ensure(&c.ec2.ec2, &vpc, &observed?, &keep).await?;
    let eni = Eni {
        id: e.id.clone(),
        vpc_id: Some(vpc.clone()),
        groups: e.groups.clone(),
        private_ips: vec![],
    };
    let recorded = record.prior_groups.get(&e.id).map(Vec::as_slice);
    let changed = swap::isolate_eni(&c.ec2, &eni, &groups, recorded).await?;
    let how = format!(
        "group-swap method: {} conversion {} then no-rules {} (prior groups {} recorded on the task)",
        e.id,
        groups.conversion,
        groups.no_rules,
        if ids.is_empty() {
            "-".into()
        } else {
            ids.join(",")
        }
    );
    let mut s = if changed {
        step(Status::Done, how)
    } else {
        step(Status::AlreadyDone, format!("already isolated; {how}"))
    };
    let kept = sensor_link::notes(&links, &mut s.detail);
    Ok((s, kept))
}

async fn deregister(
    c: &Clients,
    view: &TaskView,
    tgs: Option<TargetGroups>,
    record: &Record,
) -> Step {
    let Some(tgs) = tgs else {
        return step(Status::Skipped, "not a service task: no target groups");
    };
    let tgs = match tgs {
        Ok(t) if t.is_empty() => {
            return step(Status::Skipped, "the service has no load balancer");
        }
        Ok(t) => t,
        Err(e) => return step(Status::Failed, e),
    };
    let addresses = view.addresses();
    if addresses.is_empty() {
        return step(
            Status::Skipped,
            "the task has no IP of its own (bridge/host networking): its host is contained instead",
        );
    }
    let addresses = &addresses;
    let health = futures::future::join_all(tgs.iter().map(|(tg, _)| async move {
        c.elb
            .describe_target_health()
            .target_group_arn(tg)
            .send()
            .await
            .map_err(|e| api_error("DescribeTargetHealth", &e))
            .map(|o| {
                o.target_health_descriptions()
                    .iter()
                    .filter_map(|d| d.target())
                    .filter(|t| t.id().is_some_and(|i| addresses.iter().any(|a| a == i)))
                    .map(|t| record::Target {
                        target_group_arn: tg.clone(),
                        id: t.id().unwrap_or_default().to_owned(),
                        port: t.port(),
                    })
                    .collect::<Vec<_>>()
            })
    }))
    .await;
    let mut errors = Vec::new();
    let mut todo = Vec::new();
    for h in health {
        match h {
            Ok(list) => todo.extend(list),
            Err(e) => errors.push(e),
        }
    }
    let tg_names = |ts: &[String]| {
        ts.iter()
            .map(|t| t.rsplit(":targetgroup/").next().unwrap_or(t).to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if todo.is_empty() && errors.is_empty() {
        let all_tgs: Vec<String> = tgs.iter().map(|(t, _)| t.clone()).collect();
        return if record.targets.is_empty() {
            step(
                Status::Skipped,
                format!("not registered in {}", tg_names(&all_tgs)),
            )
        } else {
            step(
                Status::AlreadyDone,
                format!(
                    "deregistered earlier from {}",
                    tg_names(
                        &record
                            .targets
                            .iter()
                            .map(|t| t.target_group_arn.clone())
                            .collect::<Vec<_>>()
                    )
                ),
            )
        };
    }
    let tags: Result<Vec<_>, _> = todo.iter().map(record::target_tag).collect();
    let recorded = match tags {
        Ok(t) => tag_task(c, &view.arn, &t).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = recorded {
        errors.push(format!("{e}: release will not re-register these targets"));
    }
    let results = futures::future::join_all(todo.iter().map(|t| async move {
        c.elb
            .deregister_targets()
            .target_group_arn(&t.target_group_arn)
            .targets(
                aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                    .id(&t.id)
                    .set_port(t.port)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("DeregisterTargets", &e))
    }))
    .await;
    let mut done = Vec::new();
    for (t, r) in todo.iter().zip(results) {
        let name = t
            .target_group_arn
            .rsplit(":targetgroup/")
            .next()
            .unwrap_or("?");
        let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
        match r {
            Ok(()) => done.push(format!("{}{port} from {name}", t.id)),
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    if errors.is_empty() {
        step(Status::Done, format!("deregistered {}", done.join(", ")))
    } else {
        step(
            Status::Failed,
            format!("{}; deregistered: [{}]", errors.join("; "), done.join(", ")),
        )
    }
}

async fn tag_status(c: &Clients, view: &TaskView, req: &Request<'_>, failed: bool) -> Step {
    let status = if failed {
        STATUS_INCOMPLETE
    } else {
        STATUS_QUARANTINED
    };
    let wanted = [
        (STATUS_KEY.to_owned(), status.to_owned()),
        (FINDING_ID_KEY.to_owned(), tag_value(req.finding_id)),
        (FINDING_TYPE_KEY.to_owned(), tag_value(req.finding_type)),
    ];
    if wanted
        .iter()
        .all(|(k, v)| view.tags.get(k).map(String::as_str) == Some(v.as_str()))
    {
        return step(
            Status::AlreadyDone,
            format!("tagged {status} for this finding earlier"),
        );
    }
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut tags = wanted.to_vec();
    tags.push((QUARANTINED_AT_KEY.to_owned(), now));
    match tag_task(c, &view.arn, &tags).await {
        Ok(()) => step(Status::Done, format!("tagged {STATUS_KEY}={status}")),
        Err(e) => step(Status::Failed, e),
    }
}

/// `StopTask` reason: the finding id, at most 255 characters.
pub(crate) fn stop_reason(finding_id: &str, finding_type: &str) -> String {
    crate::sanitize::ascii_line(
        &format!("GuardDuty responder: contained for finding {finding_id} ({finding_type})"),
        255,
    )
}

async fn stop(c: &Clients, view: &TaskView, req: &Request<'_>) -> Step {
    if view.desired_status == "STOPPED" {
        return step(Status::AlreadyDone, "already stopping");
    }
    match c
        .ecs
        .stop_task()
        .cluster(req.cluster)
        .task(&view.arn)
        .reason(stop_reason(req.finding_id, req.finding_type))
        .send()
        .await
    {
        Ok(_) => step(Status::Done, "stopped (after isolation and evidence)"),
        Err(e) => step(Status::Failed, api_error("StopTask", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reason_is_bounded() {
        let r = stop_reason(&"f".repeat(300), "Impact:Runtime/CryptoMinerExecuted");
        assert!(r.chars().count() <= 255 && r.contains("fff"));
    }
}
