//! ECS on EC2: a container instance of the world's VPC running a bridge-mode task.

use super::*;

/// ECS on EC2: an EC2 instance with two ENIs (the world's [`crate::world::network`] VPC)
/// registered as a container instance, running a bridge-mode task (no ENI of its own).
pub struct EcsHostWorld {
    pub region: String,
    pub net: crate::world::Network,
    pub host: crate::world::Instance,
    pub cluster: String,
    pub container_instance_arn: String,
    pub task_arn: String,
}

pub const EC2_SAMPLE: &str = "ecs-ec2-privilege-escalation-host-mount.json";

pub async fn ec2_host_world(e: &EcsAws, name: &str) -> EcsHostWorld {
    let net = crate::world::network(&e.aws).await;
    let host = crate::world::two_eni_instance(&e.aws, &net).await;
    let cluster = format!("{name}-cluster");
    e.ecs
        .create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .expect("CreateCluster");
    let identity = serde_json::json!({
        "instanceId": host.id,
        "region": net.region,
        "accountId": "123456789012",
        "instanceType": "m5.large",
        "imageId": crate::world::IMAGE_ID,
    })
    .to_string();
    let container_instance_arn = e
        .ecs
        .register_container_instance()
        .cluster(&cluster)
        .instance_identity_document(identity)
        .send()
        .await
        .expect("RegisterContainerInstance")
        .container_instance()
        .and_then(|c| c.container_instance_arn())
        .expect("container instance arn")
        .to_owned();
    let td = e
        .ecs
        .register_task_definition()
        .family(format!("{name}-worker"))
        .network_mode(NetworkMode::Bridge)
        .requires_compatibilities(Compatibility::Ec2)
        .container_definitions(
            ContainerDefinition::builder()
                .name("worker")
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/reports-worker:0.9.3")
                .memory(256)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("task definition arn")
        .to_owned();
    let task = e
        .ecs
        .run_task()
        .cluster(&cluster)
        .task_definition(&td)
        .launch_type(LaunchType::Ec2)
        .send()
        .await
        .expect("RunTask");
    let t = task.tasks().first().expect("a task placed on the instance");
    assert_eq!(
        t.container_instance_arn(),
        Some(container_instance_arn.as_str())
    );
    assert!(t.attachments().is_empty(), "bridge mode: no task ENI");
    EcsHostWorld {
        region: net.region.clone(),
        task_arn: t.task_arn().expect("task arn").to_owned(),
        net,
        host,
        cluster,
        container_instance_arn,
    }
}

/// The container instance's status (`ACTIVE`, `DRAINING`...).
pub async fn container_instance_status(e: &EcsAws, cluster: &str, arn: &str) -> String {
    e.ecs
        .describe_container_instances()
        .cluster(cluster)
        .container_instances(arn)
        .send()
        .await
        .expect("DescribeContainerInstances")
        .container_instances()
        .first()
        .and_then(|c| c.status())
        .expect("the container instance")
        .to_owned()
}
