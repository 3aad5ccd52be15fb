//! What containment acts on, built only from identifiers that passed validation.
//!
//! Identifiers come from the finding, which a replaying engineer or a forged event can
//! fill with anything; a plan never carries a target that is not a well-formed id.

use crate::finding::Finding;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "surface", rename_all = "lowercase")]
pub enum Target {
    Ec2 {
        instance_id: String,
        vpc_id: Option<String>,
        network_interface_ids: Vec<String>,
    },
    Ecs {
        cluster: String,
        task_arn: String,
        launch_type: Option<String>,
        /// The host of an ECS-on-EC2 task, when GuardDuty names it.
        container_instance_host: Option<String>,
    },
    Eks {
        cluster: String,
        namespace: String,
        workload_name: String,
        workload_type: String,
        container_ids: Vec<String>,
        node_instance_id: Option<String>,
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
            Target::Ec2 { instance_id, .. } => instance_id.into(),
            Target::Ecs { task_arn, .. } => task_arn.into(),
            Target::Eks {
                cluster,
                namespace,
                workload_type,
                workload_name,
                ..
            } => [
                cluster.as_str(),
                "/",
                namespace,
                "/",
                workload_type,
                "/",
                workload_name,
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

fn valid(
    what: &'static str,
    value: Option<&str>,
    ok: fn(&str) -> bool,
) -> Result<String, TargetError> {
    let v = value.ok_or(TargetError::Missing(what))?;
    if ok(v) {
        Ok(v.to_owned())
    } else {
        Err(TargetError::Invalid(what))
    }
}

fn hex_id(prefix: &str, v: &str) -> bool {
    v.strip_prefix(prefix).is_some_and(|h| {
        (8..=17).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

pub fn is_instance_id(v: &str) -> bool {
    hex_id("i-", v)
}

/// ECS and EKS cluster names: letters, digits, `-` and `_`, up to 255.
pub fn is_cluster_name(v: &str) -> bool {
    (1..=255).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `arn:<partition>:ecs:<region>:<account>:task/<cluster>/<id>` with only ARN-safe characters.
pub fn is_task_arn(v: &str) -> bool {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "ecs"
        && parts[5].starts_with("task/")
        && v.len() <= 512
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:/.".contains(&b))
}

/// RFC 1123 names, as Kubernetes requires for namespaces and most object names.
pub fn is_k8s_name(v: &str) -> bool {
    (1..=253).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && v.as_bytes()[0].is_ascii_alphanumeric()
        && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric()
}

fn is_container_id(v: &str) -> bool {
    let id = v.rsplit("://").next().unwrap_or(v);
    (12..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn ec2_target(f: &Finding) -> Result<Target, TargetError> {
    let d = f
        .resource
        .instance_details
        .as_ref()
        .ok_or(TargetError::Missing("instance"))?;
    let instance_id = valid(
        "instance id",
        d.instance_id.as_ref().map(|i| i.as_raw()),
        is_instance_id,
    )?;
    let enis = d
        .network_interfaces
        .iter()
        .filter_map(|n| n.network_interface_id.as_ref())
        .map(|n| n.as_raw());
    let network_interface_ids = enis
        .filter(|n| hex_id("eni-", n))
        .map(str::to_owned)
        .collect();
    let vpc_id = d
        .network_interfaces
        .iter()
        .filter_map(|n| n.vpc_id.as_ref())
        .map(|v| v.as_raw())
        .find(|v| hex_id("vpc-", v))
        .map(str::to_owned);
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
    let task_arn = valid(
        "task ARN",
        task.arn.as_ref().map(|a| a.as_raw()),
        is_task_arn,
    )?;
    // The cluster name is inside the task ARN (task/<cluster>/<id>); prefer it to the free-text name.
    let from_arn = task_arn
        .split('/')
        .nth(1)
        .filter(|_| task_arn.matches('/').count() == 2);
    let cluster = valid(
        "cluster name",
        from_arn.or(d.name.as_ref().map(|n| n.as_raw())),
        is_cluster_name,
    )?;
    let container_instance_host = f
        .resource
        .instance_details
        .as_ref()
        .and_then(|i| i.instance_id.as_ref())
        .map(|i| i.as_raw())
        .filter(|i| is_instance_id(i))
        .map(str::to_owned);
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
    let cluster = valid("EKS cluster name", cluster, is_cluster_name)?;
    let w = f
        .workload()
        .ok_or(TargetError::Missing("Kubernetes workload"))?;
    let namespace = valid(
        "namespace",
        w.namespace.as_ref().map(|n| n.as_raw()),
        is_k8s_name,
    )?;
    let workload_name = valid(
        "workload name",
        w.name.as_ref().map(|n| n.as_raw()),
        is_k8s_name,
    )?;
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
        .map(|i| i.as_raw())
        .filter(|i| is_container_id(i))
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let node_instance_id = f
        .resource
        .instance_details
        .as_ref()
        .and_then(|i| i.instance_id.as_ref())
        .map(|i| i.as_raw())
        .filter(|i| is_instance_id(i))
        .map(str::to_owned);
    Ok(Target::Eks {
        cluster,
        namespace,
        workload_name,
        workload_type,
        container_ids,
        node_instance_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_validated() {
        assert!(is_instance_id("i-0a1b2c3d4e5f60718") && is_instance_id("i-12345678"));
        assert!(
            !is_instance_id("i-0A1B2C3D")
                && !is_instance_id("i-123; rm -rf /")
                && !is_instance_id("i-")
        );
        assert!(is_task_arn(
            "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
        ));
        assert!(!is_task_arn("arn:aws:ecs:us-east-1:1:task/prod/<script>"));
        assert!(
            is_k8s_name("web-7d4b9c")
                && !is_k8s_name("Web")
                && !is_k8s_name("-x")
                && !is_k8s_name("a*b")
        );
        assert!(is_container_id("containerd://0123456789abcdef0123"));
        assert!(!is_cluster_name("a b"));
    }
}
