//! The task's evidence bundle (docs/evidence.md): the finding, the descriptions taken
//! before any change (reused from the first two round trips, never read again), then,
//! alongside isolation, the container instance (ECS on EC2) and the last minutes of each
//! container's `awslogs` stream, bounded in bytes.

use super::Clients;
use super::evidence::{AwsLogs, EniView, TaskDefinition, TaskView};
use crate::actions::ec2::observe::api_error;
use crate::evidence::collect::{Collected, Collection, Evidence, Subject};
use crate::outcome::Step;
use serde_json::json;

pub(crate) async fn write(
    c: &Clients,
    ev: &Evidence,
    subject: &Subject<'_>,
    view: &TaskView,
    taskdef: &Option<Result<TaskDefinition, String>>,
    eni: &Option<Result<Option<EniView>, String>>,
) -> Step {
    let task_id = view.arn.rsplit('/').next().unwrap_or_default();
    let prefix = match subject.prefix(task_id) {
        Ok(p) => p,
        Err(e) => return Step::failed(format!("no bundle: {e}")),
    };
    let mut before = vec![
        subject.finding_object(),
        Collected::json("describe/task.json", "ecs:DescribeTasks", &view.evidence),
    ];
    if let Some(Ok(td)) = taskdef {
        before.push(Collected::json(
            "describe/task-definition.json",
            "ecs:DescribeTaskDefinition",
            &td.evidence,
        ));
    }
    if let Some(Ok(Some(n))) = eni {
        before.push(Collected::json(
            "describe/network-interface.json",
            "ec2:DescribeNetworkInterfaces",
            &n.evidence,
        ));
    }
    let logs = match taskdef {
        Some(Ok(td)) => td.logs.clone(),
        _ => Vec::new(),
    };
    let collect = collect(c, ev, view, task_id, logs);
    ev.write_bundle(prefix, before, collect).await
}

async fn collect(
    c: &Clients,
    ev: &Evidence,
    view: &TaskView,
    task_id: &str,
    logs: Vec<AwsLogs>,
) -> Collection {
    let instance = async {
        match &view.container_instance_arn {
            Some(arn) => Some(container_instance(c, &view.arn, arn).await),
            None => None,
        }
    };
    let streams = futures::future::join_all(logs.iter().map(|l| log_stream(c, ev, l, task_id)));
    let (instance, streams) = futures::join!(instance, streams);
    let mut out = Collection::default();
    if let Some(i) = instance {
        out.push(i);
    }
    for s in streams {
        out.push(s);
    }
    out
}

async fn container_instance(c: &Clients, task_arn: &str, arn: &str) -> Result<Collected, String> {
    let cluster = task_arn
        .split(":task/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let out = c
        .ecs
        .describe_container_instances()
        .cluster(cluster)
        .container_instances(arn)
        .send()
        .await
        .map_err(|e| api_error("DescribeContainerInstances", &e))?;
    let ci = out
        .container_instances()
        .first()
        .ok_or_else(|| format!("container instance {arn} not found"))?;
    let value = json!({
        "containerInstanceArn": ci.container_instance_arn(),
        "ec2InstanceId": ci.ec2_instance_id(),
        "status": ci.status(),
        "agentConnected": ci.agent_connected(),
        "runningTasksCount": ci.running_tasks_count(),
        "versionInfo": ci.version_info().map(|v| json!({
            "agentVersion": v.agent_version(),
            "dockerVersion": v.docker_version(),
        })),
        "attributes": ci.attributes().iter().map(|a| json!({"name": a.name(), "value": a.value()})).collect::<Vec<_>>(),
        "registeredAt": ci.registered_at().map(|d| d.to_string()),
    });
    Ok(Collected::json(
        "describe/container-instance.json",
        "ecs:DescribeContainerInstances",
        &value,
    ))
}

/// The last `log_minutes` of one container's stream, oldest first, one event a line
/// (`<epoch ms> <message>`, the message verbatim), cut at `log_max_bytes`: the manifest's
/// source API says when it was cut.
async fn log_stream(
    c: &Clients,
    ev: &Evidence,
    l: &AwsLogs,
    task_id: &str,
) -> Result<Collected, String> {
    let name = format!("logs/{}.log", l.container);
    let (Some(group), Some(prefix)) = (&l.group, &l.stream_prefix) else {
        return Err(format!(
            "{name}: awslogs without a group or stream prefix: the stream cannot be named"
        ));
    };
    if l.region
        .as_deref()
        .is_some_and(|r| Some(r) != c.logs.config().region().map(|r| r.as_ref()))
    {
        return Err(format!("{name}: logs in another region are not read"));
    }
    let stream = format!("{prefix}/{}/{task_id}", l.container);
    let limit = ev.options.log_max_bytes;
    let since = chrono::Utc::now().timestamp_millis() - i64::from(ev.options.log_minutes) * 60_000;
    let mut text: Vec<u8> = Vec::new();
    let mut token: Option<String> = None;
    let mut truncated = false;
    loop {
        let out = c
            .logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(&stream)
            .start_time(since)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| format!("{name}: {}", api_error("GetLogEvents", &e)))?;
        for e in out.events() {
            let line = format!(
                "{} {}\n",
                e.timestamp().unwrap_or_default(),
                e.message().unwrap_or_default()
            );
            if text.len() + line.len() > limit {
                text.extend_from_slice(&line.as_bytes()[..limit - text.len()]);
                truncated = true;
                break;
            }
            text.extend_from_slice(line.as_bytes());
        }
        let next = out.next_forward_token().map(str::to_owned);
        // The same token back means the end of the stream.
        if truncated || out.events().is_empty() || next.is_none() || next == token {
            break;
        }
        token = next;
    }
    let source = if truncated {
        format!("logs:GetLogEvents (cut at {limit} bytes)")
    } else {
        "logs:GetLogEvents".to_owned()
    };
    Ok(Collected::new(name, &source, text))
}
