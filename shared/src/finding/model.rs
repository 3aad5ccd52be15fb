//! The GuardDuty finding as EventBridge delivers it (camelCase `detail`).
//!
//! Only what the responder reads is modelled; unknown fields are ignored, every optional
//! field may be missing, `null` or of an odd type (it degrades, see [`super::text`]), and
//! attacker-controllable strings are [`Untrusted`].
//! Field names follow the GuardDuty API reference (`GetFindings` response syntax).

use super::lenient::{Timestamp, flag, int, null_as_default};
pub use super::text::Tag;
use super::text::{list, opt_string, required};
use crate::sanitize::Untrusted;
use serde::{Deserialize, Serialize};

/// One GuardDuty finding. `id`, `type`, `accountId`, `region` and `resource.resourceType`
/// are required (routing needs them); everything else is optional.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    #[serde(deserialize_with = "required")]
    pub id: Untrusted,
    #[serde(rename = "type", deserialize_with = "required")]
    pub finding_type: Untrusted,
    #[serde(default)]
    pub severity: f64,
    #[serde(deserialize_with = "required")]
    pub account_id: Untrusted,
    #[serde(deserialize_with = "required")]
    pub region: Untrusted,
    #[serde(default)]
    pub arn: Option<Untrusted>,
    #[serde(default, deserialize_with = "opt_string")]
    pub partition: Option<String>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub title: Option<Untrusted>,
    #[serde(default)]
    pub description: Option<Untrusted>,
    pub resource: Resource,
    #[serde(default, deserialize_with = "null_as_default")]
    pub service: Service,
    /// Why containment has no single target, when the shape the finding came in (Security
    /// Hub's ASFF) cannot name one; the finding is then notified with this reason.
    #[serde(skip)]
    pub target_ambiguity: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    #[serde(deserialize_with = "required")]
    pub resource_type: Untrusted,
    #[serde(default)]
    pub instance_details: Option<Box<InstanceDetails>>,
    #[serde(default)]
    pub ecs_cluster_details: Option<Box<EcsClusterDetails>>,
    #[serde(default)]
    pub eks_cluster_details: Option<Box<EksClusterDetails>>,
    #[serde(default)]
    pub kubernetes_details: Option<Box<KubernetesDetails>>,
    #[serde(default)]
    pub container_details: Option<Box<Container>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InstanceDetails {
    pub instance_id: Option<Untrusted>,
    pub instance_type: Option<Untrusted>,
    pub instance_state: Option<Untrusted>,
    pub availability_zone: Option<Untrusted>,
    pub image_id: Option<Untrusted>,
    pub image_description: Option<Untrusted>,
    pub launch_time: Option<Timestamp>,
    #[serde(deserialize_with = "list")]
    pub network_interfaces: Vec<NetworkInterface>,
    #[serde(deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkInterface {
    pub network_interface_id: Option<Untrusted>,
    pub private_ip_address: Option<Untrusted>,
    pub public_ip: Option<Untrusted>,
    pub subnet_id: Option<Untrusted>,
    pub vpc_id: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub security_groups: Vec<SecurityGroup>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecurityGroup {
    pub group_id: Option<Untrusted>,
    pub group_name: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsClusterDetails {
    pub name: Option<Untrusted>,
    pub arn: Option<Untrusted>,
    pub status: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub tags: Vec<Tag>,
    pub task_details: Option<TaskDetails>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskDetails {
    pub arn: Option<Untrusted>,
    pub definition_arn: Option<Untrusted>,
    pub version: Option<Untrusted>,
    pub started_by: Option<Untrusted>,
    pub group: Option<Untrusted>,
    pub launch_type: Option<Untrusted>,
    pub created_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    #[serde(deserialize_with = "list")]
    pub tags: Vec<Tag>,
    #[serde(deserialize_with = "list")]
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EksClusterDetails {
    pub name: Option<Untrusted>,
    pub arn: Option<Untrusted>,
    pub vpc_id: Option<Untrusted>,
    pub status: Option<Untrusted>,
    pub created_at: Option<Timestamp>,
    #[serde(deserialize_with = "list")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KubernetesDetails {
    pub kubernetes_workload_details: Option<WorkloadDetails>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkloadDetails {
    pub name: Option<Untrusted>,
    #[serde(rename = "type")]
    pub workload_type: Option<Untrusted>,
    pub uid: Option<Untrusted>,
    pub namespace: Option<Untrusted>,
    pub service_account_name: Option<Untrusted>,
    #[serde(deserialize_with = "flag")]
    pub host_network: Option<bool>,
    #[serde(deserialize_with = "list")]
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    pub container_runtime: Option<Untrusted>,
    pub id: Option<Untrusted>,
    pub name: Option<Untrusted>,
    pub image: Option<Untrusted>,
    pub image_prefix: Option<Untrusted>,
    pub security_context: Option<SecurityContext>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecurityContext {
    #[serde(deserialize_with = "flag")]
    pub privileged: Option<bool>,
    #[serde(deserialize_with = "flag")]
    pub allow_privilege_escalation: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Service {
    pub detector_id: Option<Untrusted>,
    pub feature_name: Option<Untrusted>,
    #[serde(deserialize_with = "flag")]
    pub archived: Option<bool>,
    #[serde(deserialize_with = "int")]
    pub count: Option<i64>,
    pub event_first_seen: Option<Timestamp>,
    pub event_last_seen: Option<Timestamp>,
    pub resource_role: Option<Untrusted>,
    pub additional_info: Option<Box<AdditionalInfo>>,
    pub action: Option<Box<ServiceAction>>,
    pub runtime_details: Option<Box<RuntimeDetails>>,
    /// Extended Threat Detection: the attack sequence of an `AttackSequence:*` finding.
    pub detection: Option<Box<super::sequence::Detection>>,
}

/// `additionalInfo` is `{type, value: "<JSON string>"}` with the keys of `value` often
/// flattened beside it; `sample` may appear in either place.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AdditionalInfo {
    #[serde(deserialize_with = "flag")]
    pub sample: Option<bool>,
    #[serde(deserialize_with = "opt_string")]
    pub value: Option<String>,
}

impl AdditionalInfo {
    /// The sample flag, read from the flattened key or from inside the `value` JSON string.
    pub fn is_sample(&self) -> bool {
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default, deserialize_with = "flag")]
            sample: Option<bool>,
        }
        self.sample.unwrap_or(false)
            || self
                .value
                .as_deref()
                .and_then(|v| serde_json::from_str::<Inner>(v).ok())
                .and_then(|i| i.sample)
                .unwrap_or(false)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceAction {
    pub action_type: Option<Untrusted>,
    pub dns_request_action: Option<DnsRequestAction>,
    pub network_connection_action: Option<NetworkConnectionAction>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DnsRequestAction {
    pub domain: Option<Untrusted>,
    pub protocol: Option<Untrusted>,
    #[serde(deserialize_with = "flag")]
    pub blocked: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkConnectionAction {
    pub connection_direction: Option<Untrusted>,
    pub protocol: Option<Untrusted>,
    pub remote_ip_details: Option<RemoteIpDetails>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RemoteIpDetails {
    pub ip_address_v4: Option<Untrusted>,
    pub ip_address_v6: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RuntimeDetails {
    pub process: Option<Box<Process>>,
    pub context: Option<Box<RuntimeContext>>,
}

/// `ProcessDetails`; also the shape of `modifyingProcess` and `targetProcess`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Process {
    pub name: Option<Untrusted>,
    pub executable_path: Option<Untrusted>,
    pub executable_sha256: Option<Untrusted>,
    #[serde(deserialize_with = "int")]
    pub namespace_pid: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub pid: Option<i64>,
    pub pwd: Option<Untrusted>,
    pub start_time: Option<Timestamp>,
    pub uuid: Option<Untrusted>,
    pub parent_uuid: Option<Untrusted>,
    pub user: Option<Untrusted>,
    #[serde(deserialize_with = "int")]
    pub user_id: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub euid: Option<i64>,
    #[serde(deserialize_with = "list")]
    pub lineage: Vec<Lineage>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Lineage {
    pub name: Option<Untrusted>,
    pub executable_path: Option<Untrusted>,
    #[serde(deserialize_with = "int")]
    pub pid: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub namespace_pid: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub user_id: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub euid: Option<i64>,
    pub start_time: Option<Timestamp>,
    pub uuid: Option<Untrusted>,
    pub parent_uuid: Option<Untrusted>,
}

/// `RuntimeContext`: which fields are set depends on the finding type.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RuntimeContext {
    pub modifying_process: Option<Box<Process>>,
    pub modified_at: Option<Timestamp>,
    pub script_path: Option<Untrusted>,
    pub library_path: Option<Untrusted>,
    pub ld_preload_value: Option<Untrusted>,
    pub socket_path: Option<Untrusted>,
    pub runc_binary_path: Option<Untrusted>,
    pub release_agent_path: Option<Untrusted>,
    pub mount_source: Option<Untrusted>,
    pub mount_target: Option<Untrusted>,
    pub file_system_type: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub flags: Vec<Untrusted>,
    pub module_name: Option<Untrusted>,
    pub module_file_path: Option<Untrusted>,
    pub module_sha256: Option<Untrusted>,
    pub shell_history_file_path: Option<Untrusted>,
    pub target_process: Option<Box<Process>>,
    pub address_family: Option<Untrusted>,
    #[serde(deserialize_with = "int")]
    pub iana_protocol_number: Option<i64>,
    #[serde(deserialize_with = "list")]
    pub memory_regions: Vec<Untrusted>,
    pub tool_name: Option<Untrusted>,
    pub tool_category: Option<Untrusted>,
    pub service_name: Option<Untrusted>,
    pub command_line_example: Option<Untrusted>,
    pub threat_file_path: Option<Untrusted>,
    pub file_operation: Option<Untrusted>,
    pub file_path: Option<Untrusted>,
    #[serde(deserialize_with = "list")]
    pub related_file_paths: Vec<Untrusted>,
}

impl Finding {
    pub fn is_sample(&self) -> bool {
        self.service
            .additional_info
            .as_ref()
            .is_some_and(|a| a.is_sample())
    }

    /// The attack sequence, when this is an `AttackSequence:*` finding that carries one.
    pub fn sequence(&self) -> Option<&super::sequence::Sequence> {
        self.service.detection.as_ref()?.sequence.as_deref()
    }

    pub fn is_archived(&self) -> bool {
        self.service.archived.unwrap_or(false)
    }

    pub fn process(&self) -> Option<&Process> {
        self.service.runtime_details.as_ref()?.process.as_deref()
    }

    pub fn context(&self) -> Option<&RuntimeContext> {
        self.service.runtime_details.as_ref()?.context.as_deref()
    }

    /// Every tag GuardDuty reports on the affected resource (instance, cluster, task).
    pub fn resource_tags(&self) -> impl Iterator<Item = &Tag> {
        let r = &self.resource;
        let instance = r.instance_details.iter().flat_map(|d| d.tags.iter());
        let ecs = r.ecs_cluster_details.iter().flat_map(|d| {
            d.tags
                .iter()
                .chain(d.task_details.iter().flat_map(|t| t.tags.iter()))
        });
        let eks = r.eks_cluster_details.iter().flat_map(|d| d.tags.iter());
        instance.chain(ecs).chain(eks)
    }

    pub fn workload(&self) -> Option<&WorkloadDetails> {
        self.resource
            .kubernetes_details
            .as_ref()?
            .kubernetes_workload_details
            .as_ref()
    }
}
