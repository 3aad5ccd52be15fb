//! ECS on EC2 with bridge or host networking: the task has no ENI of its own, so its
//! container instance's EC2 host is quarantined with the EC2 executor's quarantine (prior
//! state, isolation groups and swap, protection, tags) and the container instance is set
//! to `DRAINING` so no new task lands there. Release: `responder release ec2 <instance>`.

use super::Clients;

use super::evidence::TaskView;
use crate::actions::ec2::host;
use crate::actions::ec2::observe::api_error;
use crate::options::EcsOptions;
use crate::outcome::Status;
use crate::outcome::Step;
use aws_sdk_ecs::types::ContainerInstanceStatus;

pub(crate) async fn contain_host(
    c: &Clients,
    view: &TaskView,
    opts: &EcsOptions,
    cluster: &str,
    finding_id: &str,
    finding_type: &str,
) -> Step {
    if !opts.contain_ec2_host {
        return Step::new(
            Status::Skipped,
            "no task ENI (bridge/host networking) and contain_ec2_host is off",
        );
    }
    let Some(ci) = view.container_instance_arn.as_deref() else {
        return Step::new(
            Status::Failed,
            "no task ENI and no container instance: cannot isolate",
        );
    };
    let described = c
        .ecs
        .describe_container_instances()
        .cluster(cluster)
        .container_instances(ci)
        .send()
        .await;
    let instance_id = match described {
        Ok(o) => o
            .container_instances()
            .iter()
            .find_map(|i| i.ec2_instance_id())
            .and_then(|i| crate::ids::InstanceId::parse(i).ok()),
        Err(e) => return Step::new(Status::Failed, api_error("DescribeContainerInstances", &e)),
    };
    let Some(instance_id) = instance_id else {
        return Step::new(
            Status::Failed,
            "the container instance names no EC2 instance",
        );
    };
    let (host, drained) = futures::join!(
        Box::pin(host::quarantine_host(
            &c.ec2,
            &instance_id,
            finding_id,
            finding_type
        )),
        Box::pin(async {
            c.ecs
                .update_container_instances_state()
                .cluster(cluster)
                .container_instances(ci)
                .status(ContainerInstanceStatus::Draining)
                .send()
                .await
                .map_err(|e| api_error("UpdateContainerInstancesState", &e))
        })
    );
    let (mut failed, mut parts) = (host.failed, host.steps);
    match drained {
        Ok(_) => parts.push("container instance DRAINING".into()),
        Err(e) => {
            failed = true;
            parts.push(e);
        }
    }
    let detail = format!(
        "host {instance_id} quarantined (release with `responder release ec2 {instance_id}`): {}",
        parts.join("; ")
    );
    Step::new(if failed { Status::Failed } else { Status::Done }, detail)
}
