//! The other steps of a task's containment: evidence capture, target deregistration,
//! the status tags, and stopping the task.

use super::*;

pub(super) fn capture(
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
        Step::new(
            Status::Done,
            format!(
                "task, task definition and ENI described ({} container(s): {})",
                images.len(),
                images.join(", ")
            ),
        )
    } else {
        Step::new(
            Status::Failed,
            format!("captured in part; missing: {}", gaps.join("; ")),
        )
    };
    s.evidence = Some(evidence);
    s
}

pub(super) async fn deregister(
    c: &Clients,
    view: &TaskView,
    tgs: Option<TargetGroups>,
    record: &Record,
) -> Step {
    let Some(tgs) = tgs else {
        return Step::new(Status::Skipped, "not a service task: no target groups");
    };
    let tgs = match tgs {
        Ok(t) if t.is_empty() => {
            return Step::new(Status::Skipped, "the service has no load balancer");
        }
        Ok(t) => t,
        Err(e) => return Step::new(Status::Failed, e),
    };
    let addresses = view.addresses();
    if addresses.is_empty() {
        return Step::new(
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
            Step::new(
                Status::Skipped,
                format!("not registered in {}", tg_names(&all_tgs)),
            )
        } else {
            Step::new(
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
        Step::new(Status::Done, format!("deregistered {}", done.join(", ")))
    } else {
        Step::new(
            Status::Failed,
            format!("{}; deregistered: [{}]", errors.join("; "), done.join(", ")),
        )
    }
}

pub(super) async fn tag_status(
    c: &Clients,
    view: &TaskView,
    req: &Request<'_>,
    failed: bool,
) -> Step {
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
        return Step::new(
            Status::AlreadyDone,
            format!("tagged {status} for this finding earlier"),
        );
    }
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut tags = wanted.to_vec();
    tags.push((QUARANTINED_AT_KEY.to_owned(), now));
    match tag_task(c, &view.arn, &tags).await {
        Ok(()) => Step::new(Status::Done, format!("tagged {STATUS_KEY}={status}")),
        Err(e) => Step::new(Status::Failed, e),
    }
}

/// `StopTask` reason: the finding id, at most 255 characters.
pub(crate) fn stop_reason(finding_id: &str, finding_type: &str) -> String {
    crate::sanitize::ascii_line(
        &format!("GuardDuty responder: contained for finding {finding_id} ({finding_type})"),
        255,
    )
}

pub(super) async fn stop(c: &Clients, view: &TaskView, req: &Request<'_>) -> Step {
    if view.desired_status == "STOPPED" {
        return Step::new(Status::AlreadyDone, "already stopping");
    }
    match c
        .ecs
        .stop_task()
        .cluster(req.cluster.as_str())
        .task(&view.arn)
        .reason(stop_reason(req.finding_id, req.finding_type))
        .send()
        .await
    {
        Ok(_) => Step::new(Status::Done, "stopped (after isolation and evidence)"),
        Err(e) => Step::new(Status::Failed, api_error("StopTask", &e)),
    }
}
