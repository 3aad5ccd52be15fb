//! `GuardDuty Runtime Protection Unhealthy` / `… Healthy` events, and what else the coverage
//! function can be invoked with (the scheduled audit payload).
//!
//! The detail, as GuardDuty publishes it:
//! `{accountId|resourceAccountId, resourceDetails{resourceType EKS|ECS|EC2,
//! eksClusterDetails|ecsClusterDetails|ec2InstanceDetails}, previousStatus, currentStatus,
//! issue, lastUpdatedAt}` with `lastUpdatedAt` in epoch ms or µs. Parsing is tolerant: counts
//! arrive as strings or numbers, unknown fields are ignored, and only a missing
//! `resourceDetails.resourceType` makes the event unreadable.

use super::resource::{CoveredResource, Detail, ResourceType};
use crate::finding::input::{ParseError, accepted_source};
use crate::finding::lenient::Timestamp;
use crate::sanitize::Untrusted;
use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

pub const UNHEALTHY_DETAIL_TYPE: &str = "GuardDuty Runtime Protection Unhealthy";
pub const HEALTHY_DETAIL_TYPE: &str = "GuardDuty Runtime Protection Healthy";
/// What EventBridge Scheduler sends (see `infra/modules/responder/scheduler.tf`).
pub const SCHEDULER_SOURCE: &str = "guardduty-responder.scheduler";
pub const AUDIT_DETAIL_TYPE: &str = "Scheduled Coverage Audit";

/// Which way coverage changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// The resource went blind: no Runtime findings for it until it recovers.
    Unhealthy,
    /// The resource is covered again.
    Healthy,
}

/// One health-change event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthEvent {
    pub change: Change,
    pub previous_status: Untrusted,
    pub region: Untrusted,
    pub resource: CoveredResource,
}

/// What the coverage function was invoked with.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    Health(Box<HealthEvent>),
    /// The scheduled payload: run the audit.
    Audit,
    /// Another `aws.guardduty` event (e.g. a finding): nothing for this function to do.
    Other {
        detail_type: String,
    },
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "detail-type", default)]
    detail_type: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawDetail {
    #[serde(deserialize_with = "loose")]
    account_id: Option<String>,
    #[serde(deserialize_with = "loose")]
    resource_account_id: Option<String>,
    resource_details: Option<RawResourceDetails>,
    #[serde(deserialize_with = "loose")]
    previous_status: Option<String>,
    #[serde(deserialize_with = "loose")]
    current_status: Option<String>,
    #[serde(deserialize_with = "loose")]
    issue: Option<String>,
    last_updated_at: Option<Timestamp>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RawResourceDetails {
    #[serde(deserialize_with = "loose")]
    pub resource_type: Option<String>,
    pub eks_cluster_details: Option<RawEks>,
    pub ecs_cluster_details: Option<RawEcs>,
    pub ec2_instance_details: Option<RawEc2>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RawEks {
    #[serde(deserialize_with = "loose")]
    pub cluster_name: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub available_nodes: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub desired_nodes: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub usage: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RawEcs {
    #[serde(deserialize_with = "loose")]
    pub cluster_name: Option<String>,
    pub fargate_details: Option<RawFargate>,
    pub container_instance_details: Option<RawContainerInstances>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RawFargate {
    #[serde(deserialize_with = "loose_list")]
    pub issues: Vec<String>,
    #[serde(deserialize_with = "loose")]
    pub management_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RawContainerInstances {
    #[serde(deserialize_with = "loose")]
    pub covered_container_instances: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub compatible_container_instances: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RawEc2 {
    #[serde(deserialize_with = "loose")]
    pub instance_id: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub instance_type: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub cluster_arn: Option<String>,
    #[serde(deserialize_with = "loose")]
    pub management_type: Option<String>,
    pub agent_details: Option<RawAgent>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RawAgent {
    #[serde(deserialize_with = "loose")]
    pub version: Option<String>,
}

/// A scalar as text (strings, numbers and booleans all occur); `null`, objects and arrays
/// are "not set". Empty strings are "not set" too.
fn loose<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar(serde_json::Value::deserialize(d)?))
}

fn loose_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items.into_iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    })
}

fn scalar(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty())
}

fn untrusted(v: Option<String>) -> Untrusted {
    Untrusted::new(v.unwrap_or_default())
}

fn detail(label: &'static str, v: Option<String>) -> Option<Detail> {
    v.map(|v| Detail {
        label,
        value: Untrusted::new(v),
    })
}

fn ratio(label: &'static str, have: Option<String>, of: Option<String>) -> Option<Detail> {
    match (have, of) {
        (Some(h), Some(o)) => detail(label, Some(format!("{h} of {o}"))),
        (Some(h), None) => detail(label, Some(h)),
        _ => None,
    }
}

/// Turns `resourceDetails` into the common shape. `status`, `issue` and `updated_at` are
/// filled by the caller.
pub(crate) fn resource_from(rd: RawResourceDetails) -> CoveredResource {
    let resource_type = ResourceType::parse(rd.resource_type.as_deref().unwrap_or(""));
    let mut name = None;
    let mut issues = Vec::new();
    let mut details = Vec::new();
    if let Some(eks) = rd.eks_cluster_details {
        name = eks.cluster_name;
        details.extend(ratio(
            "Nodes covered",
            eks.available_nodes,
            eks.desired_nodes,
        ));
        details.extend(detail("Usage", eks.usage));
    }
    if let Some(ecs) = rd.ecs_cluster_details {
        name = name.or(ecs.cluster_name);
        if let Some(f) = ecs.fargate_details {
            issues.extend(f.issues.into_iter().map(Untrusted::new));
            details.extend(detail("Fargate management", f.management_type));
        }
        if let Some(ci) = ecs.container_instance_details {
            details.extend(ratio(
                "Container instances covered",
                ci.covered_container_instances,
                ci.compatible_container_instances,
            ));
        }
    }
    if let Some(ec2) = rd.ec2_instance_details {
        name = name.or(ec2.instance_id);
        details.extend(detail("Instance type", ec2.instance_type));
        details.extend(detail("ECS cluster", ec2.cluster_arn));
        details.extend(detail("Management", ec2.management_type));
        details.extend(detail(
            "Agent version",
            ec2.agent_details.and_then(|a| a.version),
        ));
    }
    let name = untrusted(name);
    CoveredResource {
        resource_type,
        resource_id: name.clone(),
        name,
        account_id: Untrusted::default(),
        status: Untrusted::default(),
        issues,
        details,
        updated_at: None,
    }
}

/// Recognises what the coverage function received. Errors name what is wrong; an event from
/// a source other than GuardDuty or the scheduler is rejected.
pub fn parse_invocation(bytes: &[u8]) -> Result<Invocation, ParseError> {
    parse_invocation_from(bytes, None)
}

/// [`parse_invocation`], also accepting events from the configured test source.
pub fn parse_invocation_from(
    bytes: &[u8],
    test_source: Option<&str>,
) -> Result<Invocation, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ParseError::UnknownShape("not an EventBridge event"),
        _ => ParseError::NotJson(e.to_string()),
    })?;
    let Some(detail_type) = env.detail_type else {
        return Err(ParseError::MissingField("detail-type".into()));
    };
    let source = env.source.unwrap_or_default();
    if source == SCHEDULER_SOURCE {
        return if detail_type == AUDIT_DETAIL_TYPE {
            Ok(Invocation::Audit)
        } else {
            Ok(Invocation::Other { detail_type })
        };
    }
    if !accepted_source(&source, test_source) {
        return Err(ParseError::ForeignSource(source));
    }
    let change = match detail_type.as_str() {
        UNHEALTHY_DETAIL_TYPE => Change::Unhealthy,
        HEALTHY_DETAIL_TYPE => Change::Healthy,
        _ => return Ok(Invocation::Other { detail_type }),
    };
    let detail = env
        .detail
        .ok_or_else(|| ParseError::MissingField("detail".into()))?;
    let raw: RawDetail =
        serde_path_to_error::deserialize(detail).map_err(|e| ParseError::InvalidField {
            path: format!("detail.{}", e.path()),
            message: e.inner().to_string(),
        })?;
    let rd = raw
        .resource_details
        .ok_or_else(|| ParseError::MissingField("detail.resourceDetails".into()))?;
    if rd.resource_type.is_none() {
        return Err(ParseError::MissingField(
            "detail.resourceDetails.resourceType".into(),
        ));
    }
    let mut resource = resource_from(rd);
    resource.account_id = untrusted(raw.account_id.or(raw.resource_account_id).or(env.account));
    resource.status = Untrusted::new(raw.current_status.unwrap_or_else(|| {
        match change {
            Change::Unhealthy => "UNHEALTHY",
            Change::Healthy => "HEALTHY",
        }
        .into()
    }));
    if let Some(issue) = raw.issue {
        resource.issues.insert(0, Untrusted::new(issue));
    }
    resource.updated_at = raw.last_updated_at;
    Ok(Invocation::Health(Box::new(HealthEvent {
        change,
        previous_status: untrusted(raw.previous_status),
        region: untrusted(env.region),
        resource,
    })))
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
