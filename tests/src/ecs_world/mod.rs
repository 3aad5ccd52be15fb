//! An ECS world in moto: a VPC (DNS hostnames on, as moto's RunTask needs), a subnet with
//! its network ACL, a Fargate service behind an IP target group, a running task registered
//! in it; or ECS on EC2: a container instance (an EC2 instance of the world's VPC) running
//! a bridge-mode task; and findings from `events/` pointing at them.

use crate::world::{Aws, unique_finding_id};
use aws_sdk_ec2::types::AttributeBooleanValue;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
    LoadBalancer, NetworkConfiguration, NetworkMode, PortMapping,
};
use aws_sdk_elasticloadbalancingv2::types::{TargetDescription, TargetTypeEnum};
use std::io::{Read, Write};

mod host;
pub use host::*;

pub const SAMPLE: &str = "ecs-fargate-impact-cryptominer.json";
pub const PORT: i32 = 8080;

#[derive(Clone)]
pub struct EcsAws {
    pub aws: Aws,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
}

impl EcsAws {
    pub async fn at(endpoint: &str, region: &str) -> EcsAws {
        let aws = Aws::at(endpoint, region).await;
        EcsAws {
            ecs: aws_sdk_ecs::Client::new(&aws.config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&aws.config),
            aws,
        }
    }
    pub async fn moto(region: &str) -> EcsAws {
        EcsAws::at(&crate::moto::shared().endpoint(), region).await
    }
}

/// Makes moto's tasks stay in their state when described (each `DescribeTasks` would
/// otherwise advance RUNNING → DEACTIVATING → …).
pub fn freeze_task_states(endpoint: &str) {
    let port = endpoint
        .rsplit(':')
        .next()
        .unwrap_or("5000")
        .trim_end_matches('/');
    let body =
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#;
    let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect moto");
    write!(
        s,
        "POST /moto-api/state-manager/set-transition HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1") && out.contains(" 20"), "{out}");
}

pub struct EcsWorld {
    pub region: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub acl_id: String,
    pub task_sg: String,
    pub cluster: String,
    pub service: String,
    pub target_group_arn: String,
    pub task_arn: String,
    pub eni_id: String,
    pub task_ip: String,
}

/// A Fargate service task behind a target group, in a fresh VPC (default ACL: allow at
/// 100, the `*` deny at 32767, both directions). `name` keeps tests apart.
pub async fn fargate_world(e: &EcsAws, name: &str) -> EcsWorld {
    let ec2 = &e.aws.ec2;
    let region = e
        .aws
        .config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.1.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc_id)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("ModifyVpcAttribute");
    let subnet_id = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.1.1.0/24")
        .availability_zone(format!("{region}a"))
        .send()
        .await
        .expect("CreateSubnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_owned();
    let acl_id = acl_of(e, &subnet_id)
        .await
        .network_acl_id()
        .expect("acl")
        .to_owned();
    let task_sg = ec2
        .create_security_group()
        .group_name(format!("{name}-task"))
        .description("task")
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("CreateSecurityGroup")
        .group_id()
        .expect("group id")
        .to_owned();
    let cluster = format!("{name}-cluster");
    e.ecs
        .create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .expect("CreateCluster");
    let family = format!("{name}-web");
    let td = e
        .ecs
        .register_task_definition()
        .family(&family)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .task_role_arn(format!("arn:aws:iam::123456789012:role/{name}-task-role"))
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/payments-web:2.8.1")
                .memory(512)
                .port_mappings(PortMapping::builder().container_port(PORT).build())
                .log_configuration(awslogs(
                    name,
                    e.aws
                        .config
                        .region()
                        .map(|r| r.as_ref())
                        .unwrap_or("us-east-1"),
                ))
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("task definition arn")
        .to_owned();
    let target_group_arn = e
        .elb
        .create_target_group()
        .name(format!("{name}-tg"))
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(PORT)
        .vpc_id(&vpc_id)
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .expect("CreateTargetGroup")
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .expect("target group arn")
        .to_owned();
    let service = format!("{name}-svc");
    let net = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets(&subnet_id)
                .security_groups(&task_sg)
                .assign_public_ip(AssignPublicIp::Disabled)
                .build()
                .expect("awsvpc configuration"),
        )
        .build();
    e.ecs
        .create_service()
        .cluster(&cluster)
        .service_name(&service)
        .task_definition(&td)
        .desired_count(0)
        .launch_type(LaunchType::Fargate)
        .network_configuration(net.clone())
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(&target_group_arn)
                .container_name("web")
                .container_port(PORT)
                .build(),
        )
        .send()
        .await
        .expect("CreateService");
    let task = e
        .ecs
        .run_task()
        .cluster(&cluster)
        .task_definition(&td)
        .launch_type(LaunchType::Fargate)
        .group(format!("service:{service}"))
        .network_configuration(net)
        .send()
        .await
        .expect("RunTask");
    let t = task.tasks().first().expect("a task").clone();
    let task_arn = t.task_arn().expect("task arn").to_owned();
    let detail = |n: &str| {
        t.attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some(n))
            .and_then(|d| d.value())
            .expect("attachment detail")
            .to_owned()
    };
    let eni_id = detail("networkInterfaceId");
    let task_ip = detail("privateIPv4Address");
    e.elb
        .register_targets()
        .target_group_arn(&target_group_arn)
        .targets(TargetDescription::builder().id(&task_ip).port(PORT).build())
        .send()
        .await
        .expect("RegisterTargets");
    EcsWorld {
        region,
        vpc_id,
        subnet_id,
        acl_id,
        task_sg,
        cluster,
        service,
        target_group_arn,
        task_arn,
        eni_id,
        task_ip,
    }
}

pub async fn acl_of(e: &EcsAws, subnet: &str) -> aws_sdk_ec2::types::NetworkAcl {
    e.aws
        .ec2
        .describe_network_acls()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(subnet)
                .build(),
        )
        .send()
        .await
        .expect("DescribeNetworkAcls")
        .network_acls()
        .first()
        .cloned()
        .expect("an ACL")
}

/// Registered target ids of a target group.
pub async fn targets(e: &EcsAws, tg: &str) -> Vec<String> {
    e.elb
        .describe_target_health()
        .target_group_arn(tg)
        .send()
        .await
        .expect("DescribeTargetHealth")
        .target_health_descriptions()
        .iter()
        .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_owned))
        .collect()
}

pub async fn task_tags(e: &EcsAws, task_arn: &str) -> std::collections::BTreeMap<String, String> {
    e.ecs
        .list_tags_for_resource()
        .resource_arn(task_arn)
        .send()
        .await
        .expect("ListTagsForResource")
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect()
}

/// The ECS sample event rewritten to the world's cluster and task, with a new finding id.
/// The `awslogs` configuration of the world's container: group `/ecs/<name>`, streams
/// `ecs/<container>/<task id>` (what the evidence bundle reads).
fn awslogs(name: &str, region: &str) -> aws_sdk_ecs::types::LogConfiguration {
    aws_sdk_ecs::types::LogConfiguration::builder()
        .log_driver(aws_sdk_ecs::types::LogDriver::Awslogs)
        .options("awslogs-group", format!("/ecs/{name}"))
        .options("awslogs-region", region)
        .options("awslogs-stream-prefix", "ecs")
        .build()
        .expect("log configuration")
}

pub fn finding_event(w: &EcsWorld) -> (String, Vec<u8>) {
    finding_event_from(
        SAMPLE,
        &w.region,
        &w.cluster,
        &w.task_arn,
        &format!("service:{}", w.service),
    )
}

/// `sample` from `events/` rewritten to `cluster`, `task_arn` and `group`, with a new
/// finding id.
pub fn finding_event_from(
    sample: &str,
    region: &str,
    cluster: &str,
    task_arn: &str,
    group: &str,
) -> (String, Vec<u8>) {
    let fid = unique_finding_id();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(sample);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut event: serde_json::Value = serde_json::from_str(&text).expect("sample is JSON");
    event["region"] = region.into();
    let d = &mut event["detail"];
    d["id"] = fid.clone().into();
    d["region"] = region.into();
    d["arn"] = format!(
        "arn:aws:guardduty:{region}:123456789012:detector/4cb6a1f0e2d3c5b79a8e1f20d3c4b5a6/finding/{fid}"
    )
    .into();
    let c = &mut d["resource"]["ecsClusterDetails"];
    c["name"] = cluster.into();
    c["arn"] = format!("arn:aws:ecs:{region}:123456789012:cluster/{cluster}").into();
    c["taskDetails"]["arn"] = task_arn.into();
    c["taskDetails"]["group"] = group.into();
    (fid, serde_json::to_vec(&event).expect("serialises"))
}

/// The task as ECS describes it now.
pub async fn describe_task(e: &EcsAws, cluster: &str, task_arn: &str) -> aws_sdk_ecs::types::Task {
    e.ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(task_arn)
        .send()
        .await
        .expect("DescribeTasks")
        .tasks()
        .first()
        .cloned()
        .expect("the task")
}

/// One line per outcome, for assertion messages.
pub fn show(outcomes: &[responder::outcome::Outcome]) -> String {
    outcomes
        .iter()
        .map(|o| format!("{} {:?} {}", o.kind.name(), o.status, o.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The status of the outcome of `kind` (panics when there is none).
pub fn status_of(
    outcomes: &[responder::outcome::Outcome],
    kind: responder::plan::ActionKind,
) -> responder::outcome::Status {
    outcomes
        .iter()
        .find(|o| o.kind == kind)
        .unwrap_or_else(|| panic!("no outcome for {}: {}", kind.name(), show(outcomes)))
        .status
}
