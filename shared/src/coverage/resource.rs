//! A resource whose Runtime Monitoring coverage is reported, in one shape for both sources:
//! the health-change events and the `ListCoverage` audit. Every name, id and issue text is
//! attacker-influenced (cluster and task-definition names, instance tags in issue text), so
//! they are [`Untrusted`] and reach a channel only through its renderer.

use crate::finding::Timestamp;
use crate::sanitize::Untrusted;
use serde::Serialize;

/// `resourceType` of a coverage record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub enum ResourceType {
    Eks,
    Ecs,
    Ec2,
    /// Anything else GuardDuty may add; kept (bounded) and shown as untrusted.
    Other(Untrusted),
}

impl ResourceType {
    pub fn parse(raw: &str) -> ResourceType {
        match raw.trim().to_ascii_uppercase().as_str() {
            "EKS" => ResourceType::Eks,
            "ECS" => ResourceType::Ecs,
            "EC2" => ResourceType::Ec2,
            _ => ResourceType::Other(Untrusted::new(raw.chars().take(64).collect::<String>())),
        }
    }

    /// The API value (`EKS`, `ECS`, `EC2`); for an unknown type, its raw text.
    pub fn api_name(&self) -> &str {
        match self {
            ResourceType::Eks => "EKS",
            ResourceType::Ecs => "ECS",
            ResourceType::Ec2 => "EC2",
            ResourceType::Other(raw) => raw.as_raw(),
        }
    }

    /// What the resource is called in a sentence, from trusted words only.
    pub fn noun(&self) -> &'static str {
        match self {
            ResourceType::Eks => "EKS cluster",
            ResourceType::Ecs => "ECS cluster",
            ResourceType::Ec2 => "EC2 instance",
            ResourceType::Other(_) => "resource",
        }
    }

    /// The responder's surface word (`eks`, `ecs`, `ec2`), used as the SNS `surface` attribute.
    pub fn surface(&self) -> &'static str {
        match self {
            ResourceType::Eks => "eks",
            ResourceType::Ecs => "ecs",
            ResourceType::Ec2 => "ec2",
            ResourceType::Other(_) => "unknown",
        }
    }
}

impl From<ResourceType> for String {
    fn from(t: ResourceType) -> String {
        t.api_name().to_owned()
    }
}

/// One labelled detail (`Nodes covered`, `Agent version`, …), raw until rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub label: &'static str,
    pub value: Untrusted,
}

/// One resource and its coverage state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoveredResource {
    pub resource_type: ResourceType,
    /// The cluster name (EKS, ECS) or instance id (EC2): what an operator looks for.
    pub name: Untrusted,
    /// GuardDuty's `resourceId` (audit) or the name again (events).
    pub resource_id: Untrusted,
    pub account_id: Untrusted,
    /// `HEALTHY` / `UNHEALTHY` as GuardDuty wrote it.
    pub status: Untrusted,
    /// `issue`, then each `fargateDetails.issues[]` entry.
    pub issues: Vec<Untrusted>,
    pub details: Vec<Detail>,
    pub updated_at: Option<Timestamp>,
}

impl CoveredResource {
    pub fn is_unhealthy(&self) -> bool {
        self.status.as_raw().eq_ignore_ascii_case("UNHEALTHY")
    }

    /// A stable key for "the set of unhealthy resources": type, account and id.
    pub fn key(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            self.resource_type.api_name(),
            self.account_id.as_raw(),
            self.resource_id.as_raw()
        )
    }

    /// All issue text joined, for hint matching (never displayed as is).
    pub fn issue_text(&self) -> String {
        let parts: Vec<&str> = self.issues.iter().map(Untrusted::as_raw).collect();
        parts.join("\n")
    }
}
