//! What containment acts on, built only from identifiers that passed validation.
//!
//! Identifiers come from the finding, which a replaying engineer or a forged event can
//! fill with anything; a plan never carries a target that is not a well-formed id.

use crate::finding::Finding;
use crate::ids::{
    ClusterName, ContainerId, InstanceId, K8sName, NetworkInterfaceId, TaskArn, VpcId,
};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "surface", rename_all = "lowercase")]
pub enum Target {
    Ec2 {
        instance_id: InstanceId,
        vpc_id: Option<VpcId>,
        network_interface_ids: Vec<NetworkInterfaceId>,
    },
    Ecs {
        cluster: ClusterName,
        task_arn: TaskArn,
        launch_type: Option<String>,
        /// The host of an ECS-on-EC2 task, when GuardDuty names it.
        container_instance_host: Option<InstanceId>,
    },
    Eks {
        cluster: ClusterName,
        namespace: K8sName,
        workload_name: K8sName,
        /// Lowercase ASCII letters, at most 32 (`pods` when the finding gives none).
        workload_type: String,
        container_ids: Vec<ContainerId>,
        node_instance_id: Option<InstanceId>,
    },
}

impl Target {
    /// The surface whose executor contains this target.
    pub fn surface(&self) -> crate::classify::Surface {
        use crate::classify::Surface;
        match self {
            Target::Ec2 { .. } => Surface::Ec2,
            Target::Ecs { .. } => Surface::Ecs,
            Target::Eks { .. } => Surface::Eks,
        }
    }

    /// How messages name the target: the instance id, the task ARN, or
    /// `cluster/namespace/type/name`.
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Target::Ec2 { instance_id, .. } => instance_id.as_str().into(),
            Target::Ecs { task_arn, .. } => task_arn.as_str().into(),
            Target::Eks {
                cluster,
                namespace,
                workload_type,
                workload_name,
                ..
            } => [
                cluster.as_str(),
                "/",
                namespace.as_str(),
                "/",
                workload_type,
                "/",
                workload_name.as_str(),
            ]
            .concat()
            .into(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Why no target could be built; the finding is then notified, not contained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    #[error("the finding names no {0}")]
    Missing(&'static str),
    #[error("the finding's {0} is not a valid identifier")]
    Invalid(&'static str),
    /// The finding's source shape lists several candidates (or none it can name).
    #[error("{0}")]
    Ambiguous(String),
}

/// The finding's value as the identifier `T`, or why not (`what`: how the message names it).
fn valid<T: TryFrom<String>>(what: &'static str, value: Option<&str>) -> Result<T, TargetError> {
    let v = value.ok_or(TargetError::Missing(what))?;
    T::try_from(v.to_owned()).map_err(|_| TargetError::Invalid(what))
}

/// Thin wrappers for callers that check a string they keep as one (records read back,
/// rendered links); a target holds the newtypes of [`crate::ids`].
pub fn is_instance_id(v: &str) -> bool {
    InstanceId::is_valid(v)
}

/// See [`ClusterName`].
pub fn is_cluster_name(v: &str) -> bool {
    ClusterName::is_valid(v)
}

/// See [`TaskArn`].
pub fn is_task_arn(v: &str) -> bool {
    TaskArn::is_valid(v)
}

/// See [`K8sName`].
pub fn is_k8s_name(v: &str) -> bool {
    K8sName::is_valid(v)
}

pub fn ec2_target(f: &Finding) -> Result<Target, TargetError> {
    let d = f
        .resource
        .instance_details
        .as_ref()
        .ok_or(TargetError::Missing("instance"))?;
    let instance_id = valid("instance id", d.instance_id.as_ref().map(|i| i.as_raw()))?;
    let network_interface_ids = d
        .network_interfaces
        .iter()
        .filter_map(|n| n.network_interface_id.as_ref())
        .filter_map(|n| NetworkInterfaceId::parse(n.as_raw()).ok())
        .collect();
    let vpc_id = d
        .network_interfaces
        .iter()
        .filter_map(|n| n.vpc_id.as_ref())
        .find_map(|v| VpcId::parse(v.as_raw()).ok());
    Ok(Target::Ec2 {
        instance_id,
        vpc_id,
        network_interface_ids,
    })
}

pub fn ecs_target(f: &Finding, launch_type: Option<&str>) -> Result<Target, TargetError> {
    let d = f
        .resource
        .ecs_cluster_details
        .as_ref()
        .ok_or(TargetError::Missing("ECS cluster"))?;
    let task = d
        .task_details
        .as_ref()
        .ok_or(TargetError::Missing("ECS task"))?;
    let task_arn: TaskArn = valid("task ARN", task.arn.as_ref().map(|a| a.as_raw()))?;
    // The cluster name is inside the task ARN (task/<cluster>/<id>); prefer it to the free-text name.
    let cluster = valid(
        "cluster name",
        task_arn.cluster().or(d.name.as_ref().map(|n| n.as_raw())),
    )?;
    let container_instance_host = host_instance(f);
    Ok(Target::Ecs {
        cluster,
        task_arn,
        launch_type: launch_type.map(str::to_owned),
        container_instance_host,
    })
}

pub fn eks_target(f: &Finding) -> Result<Target, TargetError> {
    let cluster = f
        .resource
        .eks_cluster_details
        .as_ref()
        .and_then(|c| c.name.as_ref())
        .map(|n| n.as_raw());
    let cluster = valid("EKS cluster name", cluster)?;
    let w = f
        .workload()
        .ok_or(TargetError::Missing("Kubernetes workload"))?;
    let namespace = valid("namespace", w.namespace.as_ref().map(|n| n.as_raw()))?;
    let workload_name = valid("workload name", w.name.as_ref().map(|n| n.as_raw()))?;
    let workload_type = w
        .workload_type
        .as_ref()
        .map(|t| t.as_raw().to_ascii_lowercase())
        .filter(|t| t.len() <= 32 && t.bytes().all(|b| b.is_ascii_lowercase()))
        .unwrap_or_else(|| "pods".into());
    let from_container = f.resource.container_details.as_deref().into_iter();
    let container_ids = w
        .containers
        .iter()
        .chain(from_container)
        .filter_map(|c| c.id.as_ref())
        .filter_map(|i| ContainerId::parse(i.as_raw()).ok())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let node_instance_id = host_instance(f);
    Ok(Target::Eks {
        cluster,
        namespace,
        workload_name,
        workload_type,
        container_ids,
        node_instance_id,
    })
}

/// The instance the finding names as the host of a task or pod, when it is a valid id.
fn host_instance(f: &Finding) -> Option<InstanceId> {
    f.resource
        .instance_details
        .as_ref()
        .and_then(|i| i.instance_id.as_ref())
        .and_then(|i| InstanceId::parse(i.as_raw()).ok())
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
