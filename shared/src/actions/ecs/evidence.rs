//! Reading the task and its surroundings, turned into plain data, and the evidence
//! captured from it before anything changes (the task description, its task definition and
//! its ENI), for the outcome and the structured log.

use crate::actions::ec2::observe::{api_error, error_code};
use aws_sdk_ecs::Client as EcsClient;
use aws_sdk_ecs::types::TaskField;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct TaskView {
    pub arn: String,
    pub last_status: String,
    pub desired_status: String,
    pub launch_type: Option<String>,
    pub task_definition_arn: Option<String>,
    pub container_instance_arn: Option<String>,
    /// `service:<name>` for service tasks.
    pub group: Option<String>,
    pub eni_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ipv4: Option<String>,
    pub ipv6: Vec<String>,
    pub task_role_override: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub evidence: Value,
}

impl TaskView {
    pub fn service(&self) -> Option<&str> {
        self.group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
    }
    /// Running, or about to (a stopping task has nothing left to contain).
    pub fn running(&self) -> bool {
        !matches!(
            self.last_status.as_str(),
            "STOPPED" | "DEPROVISIONING" | "STOPPING" | "DELETED"
        ) && self.desired_status != "STOPPED"
    }
    pub fn addresses(&self) -> Vec<String> {
        self.private_ipv4
            .iter()
            .chain(self.ipv6.iter())
            .cloned()
            .collect()
    }
}

pub(crate) enum Described {
    Found(Box<TaskView>),
    NotFound(String),
    Failed(String),
}

fn task_json(t: &aws_sdk_ecs::types::Task) -> Value {
    let time = |d: Option<&aws_smithy_types::DateTime>| d.map(|d| d.to_string());
    json!({
        "taskArn": t.task_arn(),
        "clusterArn": t.cluster_arn(),
        "taskDefinitionArn": t.task_definition_arn(),
        "lastStatus": t.last_status(),
        "desiredStatus": t.desired_status(),
        "launchType": t.launch_type().map(|l| l.as_str()),
        "platformVersion": t.platform_version(),
        "group": t.group(),
        "startedBy": t.started_by(),
        "createdAt": time(t.created_at()),
        "startedAt": time(t.started_at()),
        "containerInstanceArn": t.container_instance_arn(),
        "attachments": t.attachments().iter().map(|a| json!({
            "type": a.r#type(),
            "status": a.status(),
            "details": a.details().iter().map(|d| json!({"name": d.name(), "value": d.value()})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "containers": t.containers().iter().map(|c| json!({
            "name": c.name(),
            "image": c.image(),
            "imageDigest": c.image_digest(),
            "runtimeId": c.runtime_id(),
            "lastStatus": c.last_status(),
        })).collect::<Vec<_>>(),
        "tags": t.tags().iter().map(|x| json!({"key": x.key(), "value": x.value()})).collect::<Vec<_>>(),
    })
}

pub(crate) fn view_from(t: &aws_sdk_ecs::types::Task) -> Option<TaskView> {
    let detail = |name: &str| {
        t.attachments()
            .iter()
            .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some(name))
            .and_then(|d| d.value())
            .map(str::to_owned)
    };
    let ipv6 = t
        .attachments()
        .iter()
        .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
        .flat_map(|a| a.details())
        .filter(|d| d.name() == Some("privateIPv6Address"))
        .filter_map(|d| d.value())
        .map(str::to_owned)
        .collect();
    Some(TaskView {
        arn: t.task_arn()?.to_owned(),
        last_status: t.last_status().unwrap_or_default().to_owned(),
        desired_status: t.desired_status().unwrap_or_default().to_owned(),
        launch_type: t.launch_type().map(|l| l.as_str().to_owned()),
        task_definition_arn: t.task_definition_arn().map(str::to_owned),
        container_instance_arn: t.container_instance_arn().map(str::to_owned),
        group: t.group().map(str::to_owned),
        eni_id: detail("networkInterfaceId"),
        subnet_id: detail("subnetId"),
        private_ipv4: detail("privateIPv4Address"),
        ipv6,
        task_role_override: t
            .overrides()
            .and_then(|o| o.task_role_arn())
            .map(str::to_owned),
        tags: t
            .tags()
            .iter()
            .filter_map(|x| Some((x.key()?.to_owned(), x.value().unwrap_or("").to_owned())))
            .collect(),
        evidence: task_json(t),
    })
}

pub(crate) async fn describe_task(ecs: &EcsClient, cluster: &str, task_arn: &str) -> Described {
    match ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(task_arn)
        .include(TaskField::Tags)
        .send()
        .await
    {
        Ok(out) => {
            let found = out
                .tasks()
                .iter()
                .find(|t| t.task_arn() == Some(task_arn))
                .or_else(|| out.tasks().first());
            match found.and_then(view_from) {
                Some(v) => Described::Found(Box::new(v)),
                None => {
                    let why = out
                        .failures()
                        .iter()
                        .filter_map(|f| f.reason())
                        .next()
                        .unwrap_or("MISSING");
                    Described::NotFound(format!(
                        "task not found ({})",
                        crate::sanitize::ascii_line(why, 60)
                    ))
                }
            }
        }
        Err(e) => match error_code(&e) {
            Some("ClusterNotFoundException") => {
                Described::NotFound(format!("cluster {cluster} not found"))
            }
            _ => Described::Failed(api_error("DescribeTasks", &e)),
        },
    }
}

/// The parts of the task definition containment uses, and its evidence.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct TaskDefinition {
    pub task_role_arn: Option<String>,
    pub network_mode: Option<String>,
    /// Each container's `awslogs` configuration, for the evidence bundle.
    pub logs: Vec<AwsLogs>,
    pub evidence: Value,
}

/// Where a container's `awslogs` driver writes: `<group>`, stream
/// `<stream prefix>/<container>/<task id>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct AwsLogs {
    pub container: String,
    pub group: Option<String>,
    pub region: Option<String>,
    pub stream_prefix: Option<String>,
}

fn aws_logs(c: &aws_sdk_ecs::types::ContainerDefinition) -> Option<AwsLogs> {
    let conf = c.log_configuration()?;
    if conf.log_driver().as_str() != "awslogs" {
        return None;
    }
    let option = |k: &str| conf.options().and_then(|o| o.get(k)).cloned();
    Some(AwsLogs {
        container: c.name()?.to_owned(),
        group: option("awslogs-group"),
        region: option("awslogs-region"),
        stream_prefix: option("awslogs-stream-prefix"),
    })
}

pub(crate) async fn describe_task_definition(
    ecs: &EcsClient,
    arn: &str,
) -> Result<TaskDefinition, String> {
    let out = ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| api_error("DescribeTaskDefinition", &e))?;
    let d = out
        .task_definition()
        .ok_or_else(|| "DescribeTaskDefinition: no task definition returned".to_owned())?;
    Ok(TaskDefinition {
        task_role_arn: d.task_role_arn().map(str::to_owned),
        network_mode: d.network_mode().map(|m| m.as_str().to_owned()),
        logs: d
            .container_definitions()
            .iter()
            .filter_map(aws_logs)
            .collect(),
        evidence: json!({
            "taskDefinitionArn": d.task_definition_arn(),
            "family": d.family(),
            "revision": d.revision(),
            "taskRoleArn": d.task_role_arn(),
            "executionRoleArn": d.execution_role_arn(),
            "networkMode": d.network_mode().map(|m| m.as_str()),
            "requiresCompatibilities": d.requires_compatibilities().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "containerDefinitions": d.container_definitions().iter().map(|c| json!({
                "name": c.name(),
                "image": c.image(),
                "privileged": c.privileged(),
                "user": c.user(),
                "readonlyRootFilesystem": c.readonly_root_filesystem(),
                "command": c.command(),
                "entryPoint": c.entry_point(),
                "logConfiguration": c.log_configuration().map(|l| json!({
                    "logDriver": l.log_driver().as_str(),
                    "options": l.options(),
                })),
            })).collect::<Vec<_>>(),
        }),
    })
}

/// The task's ENI as described by EC2.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct EniView {
    pub id: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub requester_managed: bool,
    pub groups: Vec<crate::actions::ec2::observe::GroupRef>,
    pub ipv6: Vec<String>,
    pub evidence: Value,
}

pub(crate) async fn describe_eni(
    ec2: &aws_sdk_ec2::Client,
    eni_id: &str,
) -> Result<Option<EniView>, String> {
    let out = match ec2
        .describe_network_interfaces()
        .network_interface_ids(eni_id)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if error_code(&e) == Some("InvalidNetworkInterfaceID.NotFound") => return Ok(None),
        Err(e) => return Err(api_error("DescribeNetworkInterfaces", &e)),
    };
    Ok(out
        .network_interfaces()
        .iter()
        .find(|n| n.network_interface_id() == Some(eni_id))
        .map(|n| EniView {
            id: eni_id.to_owned(),
            vpc_id: n.vpc_id().map(str::to_owned),
            subnet_id: n.subnet_id().map(str::to_owned),
            requester_managed: n.requester_managed().unwrap_or(false),
            groups: n
                .groups()
                .iter()
                .filter_map(|g| {
                    Some(crate::actions::ec2::observe::GroupRef {
                        id: g.group_id()?.to_owned(),
                        name: g.group_name().map(str::to_owned),
                    })
                })
                .collect(),
            ipv6: n
                .ipv6_addresses()
                .iter()
                .filter_map(|a| a.ipv6_address())
                .map(str::to_owned)
                .collect(),
            evidence: json!({
                "networkInterfaceId": n.network_interface_id(),
                "interfaceType": n.interface_type().map(|t| t.as_str()),
                "requesterManaged": n.requester_managed(),
                "requesterId": n.requester_id(),
                "vpcId": n.vpc_id(),
                "subnetId": n.subnet_id(),
                "privateIpAddress": n.private_ip_address(),
                "ipv6Addresses": n.ipv6_addresses().iter().filter_map(|a| a.ipv6_address()).collect::<Vec<_>>(),
                "groups": n.groups().iter().map(|g| json!({"groupId": g.group_id(), "groupName": g.group_name()})).collect::<Vec<_>>(),
                "description": n.description(),
                "macAddress": n.mac_address(),
            }),
        }))
}

/// The target groups of a service: `(target group ARN, container port)`.
pub(crate) async fn service_target_groups(
    ecs: &EcsClient,
    cluster: &str,
    service: &str,
) -> Result<Vec<(String, Option<i32>)>, String> {
    let out = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| api_error("DescribeServices", &e))?;
    let svc = out
        .services()
        .iter()
        .find(|s| s.service_name() == Some(service))
        .ok_or_else(|| format!("service {service} not found"))?;
    let mut tgs: Vec<(String, Option<i32>)> = svc
        .load_balancers()
        .iter()
        .filter_map(|lb| Some((lb.target_group_arn()?.to_owned(), lb.container_port())))
        .collect();
    tgs.sort();
    tgs.dedup();
    Ok(tgs)
}
