//! A remediation hint per typical cause of `UNHEALTHY` coverage, chosen from the issue text.
//!
//! The issue text is attacker-influenced, so the worst a crafted one can do is pick a wrong
//! hint: hints are fixed, trusted text and never echo the issue.

use super::resource::{CoveredResource, ResourceType};
use serde::Serialize;

/// Why coverage is typically unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// An SCP, permissions boundary or endpoint policy denies `guardduty:SendSecurityTelemetry`.
    TelemetryDenied,
    /// The `guardduty-data` VPC endpoint is missing, failed to be created or is unreachable.
    VpcEndpoint,
    /// EC2 automated agent management needs the instance to be SSM-managed.
    NotSsmManaged,
    /// Unsupported OS or kernel (eBPF, `CONFIG_DEBUG_INFO_BTF`).
    Kernel,
    /// The agent hit its CPU or memory limit.
    AgentResources,
    /// The EKS add-on is missing or the Kubernetes version is not supported.
    EksAddon,
    /// The agent is not reporting, no cause given.
    AgentNotReporting,
    Unknown,
}

impl Cause {
    /// Classifies the issue text (case-insensitive keywords, most specific first).
    pub fn of(resource: &CoveredResource) -> Cause {
        let text = resource.issue_text().to_lowercase();
        let any = |words: &[&str]| words.iter().any(|w| text.contains(w));
        if any(&[
            "sendsecuritytelemetry",
            "service control polic",
            "scp",
            "access denied",
            "accessdenied",
            "not authorized",
        ]) {
            Cause::TelemetryDenied
        } else if any(&["vpc endpoint", "vpce", "endpoint", "private dns"]) {
            Cause::VpcEndpoint
        } else if any(&["ssm", "systems manager", "not managed"]) {
            Cause::NotSsmManaged
        } else if any(&[
            "kernel",
            "btf",
            "ebpf",
            "operating system",
            "unsupported os",
            "os version",
            "architecture",
        ]) {
            Cause::Kernel
        } else if any(&[
            "memory",
            "cpu",
            "oom",
            "resource limit",
            "resource usage",
            "insufficient resources",
        ]) {
            Cause::AgentResources
        } else if any(&[
            "add-on",
            "addon",
            "kubernetes version",
            "cluster version",
            "eks version",
        ]) {
            Cause::EksAddon
        } else if any(&[
            "not reporting",
            "no agent",
            "agent is not",
            "not running",
            "not installed",
        ]) {
            if resource.resource_type == ResourceType::Eks {
                Cause::EksAddon
            } else {
                Cause::AgentNotReporting
            }
        } else {
            Cause::Unknown
        }
    }

    /// What to do, in trusted words.
    pub fn hint(self) -> &'static str {
        match self {
            Cause::TelemetryDenied => {
                "An SCP, permissions boundary or VPC endpoint policy denies guardduty:SendSecurityTelemetry: allow it for this account (and the endpoint); the agent reconnects by itself."
            }
            Cause::VpcEndpoint => {
                "The agent sends through the VPC endpoint com.amazonaws.<region>.guardduty-data: check it exists in the resource's VPC (automated agent configuration creates it; it fails on a VPC without DNS support or hostnames), that its security group allows HTTPS (443) from the workload, and that private DNS is enabled."
            }
            Cause::NotSsmManaged => {
                "Automated agent management for EC2 deploys through Systems Manager: make the instance SSM-managed (SSM Agent running, instance profile with AmazonSSMManagedInstanceCore, SSM endpoints reachable) or install the GuardDuty agent by hand."
            }
            Cause::Kernel => {
                "The agent needs a supported OS and kernel with eBPF and BTF (CONFIG_DEBUG_INFO_BTF=y, kernel 5.4 or later on x86_64/arm64): move the workload to a supported AMI (e.g. Amazon Linux 2023, Bottlerocket, Ubuntu 20.04+)."
            }
            Cause::AgentResources => {
                "The agent reached its CPU or memory limit: raise the aws-guardduty-agent add-on's resource limits (add-on configuration values) or the task's spare CPU/memory for the Fargate sidecar, and check node pressure."
            }
            Cause::EksAddon => {
                "Install or update the aws-guardduty-agent EKS add-on (or turn on automated agent configuration for EKS) and run a Kubernetes version the add-on supports; check its pods in the amazon-guardduty namespace."
            }
            Cause::AgentNotReporting => {
                "The agent is not reporting: check that it runs (EC2: the amazon-guardduty-agent service; ECS: the GuardDuty sidecar container), that the guardduty-data VPC endpoint is reachable, and that no SCP denies guardduty:SendSecurityTelemetry."
            }
            Cause::Unknown => {
                "See GuardDuty > Runtime Monitoring > Runtime coverage for this resource, and the Runtime coverage troubleshooting guide."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sanitize::Untrusted;

    fn cause(resource_type: ResourceType, issue: &str) -> Cause {
        let r = CoveredResource {
            resource_type,
            name: Untrusted::default(),
            resource_id: Untrusted::default(),
            account_id: Untrusted::default(),
            status: Untrusted::new("UNHEALTHY"),
            issues: vec![Untrusted::new(issue)],
            details: vec![],
            updated_at: None,
        };
        Cause::of(&r)
    }

    #[test]
    fn typical_issues_get_their_hint() {
        use ResourceType::*;
        let cases = [
            (Eks, "VPC Endpoint creation failed", Cause::VpcEndpoint),
            (
                Ec2,
                "The EC2 instance is not managed by SSM",
                Cause::NotSsmManaged,
            ),
            (
                Ec2,
                "Unsupported kernel version: CONFIG_DEBUG_INFO_BTF is not set",
                Cause::Kernel,
            ),
            (Eks, "EKS add-on is not installed", Cause::EksAddon),
            (
                Eks,
                "Kubernetes version 1.21 is not supported",
                Cause::EksAddon,
            ),
            (Eks, "No agent reporting", Cause::EksAddon),
            (Ecs, "Agent is not reporting", Cause::AgentNotReporting),
            (
                Eks,
                "Agent pod exceeded its memory limit (OOMKilled)",
                Cause::AgentResources,
            ),
            (
                Ec2,
                "AccessDenied: explicit deny in a service control policy for guardduty:SendSecurityTelemetry",
                Cause::TelemetryDenied,
            ),
            (Ec2, "something new", Cause::Unknown),
        ];
        for (t, issue, want) in cases {
            assert_eq!(cause(t, issue), want, "{issue}");
            assert!(!want.hint().is_empty());
        }
    }
}
