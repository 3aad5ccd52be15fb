//! `service.detection.sequence`: an attack sequence of GuardDuty Extended Threat Detection
//! (`AttackSequence:*` findings), as the GuardDuty API's `Sequence` shape defines it.
//!
//! Every string is attacker-influenced (process names, user agents, domains, tags of the
//! resources involved) and is [`Untrusted`] like any Runtime field. Every list and field
//! is optional and degrades: a sequence with odd parts still notifies.

use super::lenient::{Timestamp, int, null_as_default, number};
use super::text::list;
use crate::sanitize::Untrusted;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Detection {
    pub sequence: Option<Box<Sequence>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sequence {
    pub uid: Option<Untrusted>,
    pub description: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub actors: Vec<Actor>,
    #[serde(deserialize_with = "list")]
    pub endpoints: Vec<NetworkEndpoint>,
    #[serde(deserialize_with = "list")]
    pub resources: Vec<ResourceV2>,
    #[serde(deserialize_with = "list")]
    pub signals: Vec<Signal>,
    #[serde(deserialize_with = "list")]
    pub sequence_indicators: Vec<Indicator>,
    #[serde(deserialize_with = "list")]
    pub additional_sequence_types: Vec<Untrusted>,
}

/// One signal: a finding, or an API activity, that took part in the sequence.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Signal {
    pub uid: Option<Untrusted>,
    #[serde(rename = "type")]
    pub signal_type: Option<Untrusted>,
    pub name: Option<Untrusted>,
    pub description: Option<Untrusted>,
    #[serde(deserialize_with = "number")]
    pub severity: Option<f64>,
    #[serde(deserialize_with = "int")]
    pub count: Option<i64>,
    pub first_seen_at: Option<Timestamp>,
    pub last_seen_at: Option<Timestamp>,
    #[serde(deserialize_with = "list")]
    pub resource_uids: Vec<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub actor_ids: Vec<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub endpoint_ids: Vec<Untrusted>,
}

/// `ResourceV2`: one resource of the sequence, with its type-specific `data`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceV2 {
    pub uid: Option<Untrusted>,
    /// `EC2_INSTANCE`, `EKS_CLUSTER`, `KUBERNETES_WORKLOAD`, `ECS_TASK`, `CONTAINER`,
    /// `ACCESS_KEY`, `S3_BUCKET`, …
    pub resource_type: Option<Untrusted>,
    pub name: Option<Untrusted>,
    pub account_id: Option<Untrusted>,
    pub region: Option<Untrusted>,
    pub service: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub tags: Vec<super::text::Tag>,
    #[serde(deserialize_with = "null_as_default")]
    pub data: ResourceData,
}

/// The parts of `ResourceV2.data` that name what could be contained.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceData {
    pub ec2_instance: Option<Ec2InstanceData>,
    pub ecs_task: Option<EcsTaskData>,
    pub ecs_cluster: Option<EcsClusterData>,
    pub eks_cluster: Option<EksClusterData>,
    pub kubernetes_workload: Option<KubernetesWorkloadData>,
    pub container: Option<ContainerData>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Ec2InstanceData {
    pub instance_state: Option<Untrusted>,
    pub instance_type: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsTaskData {
    pub task_definition_arn: Option<Untrusted>,
    pub launch_type: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsClusterData {
    pub status: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EksClusterData {
    pub arn: Option<Untrusted>,
    pub vpc_id: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KubernetesWorkloadData {
    pub namespace: Option<Untrusted>,
    /// The workload's kind as GuardDuty names it (`Deployment`, `Pods`, …).
    pub kubernetes_resources_types: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub container_uids: Vec<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerData {
    pub image: Option<Untrusted>,
    pub image_uid: Option<Untrusted>,
}

/// Who acted: a user or role session, or a process.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Actor {
    pub id: Option<Untrusted>,
    pub user: Option<User>,
    pub process: Option<ActorProcess>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    pub name: Option<Untrusted>,
    pub uid: Option<Untrusted>,
    #[serde(rename = "type")]
    pub user_type: Option<Untrusted>,
    pub credential_uid: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActorProcess {
    pub name: Option<Untrusted>,
    pub path: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkEndpoint {
    pub id: Option<Untrusted>,
    pub ip: Option<Untrusted>,
    pub domain: Option<Untrusted>,
    #[serde(deserialize_with = "int")]
    pub port: Option<i64>,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Location {
    pub country: Option<Untrusted>,
    pub city: Option<Untrusted>,
}

/// `{key, values, title}`, e.g. `ATTACK_TACTIC` / `["Impact"]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Indicator {
    pub key: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub values: Vec<Untrusted>,
    pub title: Option<Untrusted>,
}

impl Signal {
    /// When it started, for putting signals in time order (unknown times last).
    pub fn started(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.first_seen_at
            .as_ref()
            .or(self.last_seen_at.as_ref())
            .and_then(Timestamp::as_datetime)
    }
}
