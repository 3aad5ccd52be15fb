//! Stage 2 — classify: what kind of threat, on which surface, how severe.
//!
//! GuardDuty types read `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.
//! Runtime findings always say `Runtime` as the resource type; only `resource.resourceType`
//! tells EC2, ECS and EKS apart.

use crate::finding::Finding;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The threat purpose, i.e. the family the playbook routes on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThreatFamily {
    Execution,
    PrivilegeEscalation,
    DefenseEvasion,
    Persistence,
    Impact,
    CryptoCurrency,
    Backdoor,
    Trojan,
    UnauthorizedAccess,
    Discovery,
    /// `AttackSequence:*`: Extended Threat Detection's correlation of many signals.
    AttackSequence,
    /// A purpose GuardDuty adds later: handled, never an error.
    Unknown(String),
}

impl ThreatFamily {
    pub const KNOWN: [ThreatFamily; 10] = [
        ThreatFamily::Execution,
        ThreatFamily::PrivilegeEscalation,
        ThreatFamily::DefenseEvasion,
        ThreatFamily::Persistence,
        ThreatFamily::Impact,
        ThreatFamily::CryptoCurrency,
        ThreatFamily::Backdoor,
        ThreatFamily::Trojan,
        ThreatFamily::UnauthorizedAccess,
        ThreatFamily::Discovery,
    ];

    pub fn parse(purpose: &str) -> ThreatFamily {
        if purpose == "AttackSequence" {
            return ThreatFamily::AttackSequence;
        }
        Self::KNOWN
            .iter()
            .find(|f| f.as_str() == purpose)
            .cloned()
            .unwrap_or_else(|| ThreatFamily::Unknown(purpose.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            ThreatFamily::Execution => "Execution",
            ThreatFamily::PrivilegeEscalation => "PrivilegeEscalation",
            ThreatFamily::DefenseEvasion => "DefenseEvasion",
            ThreatFamily::Persistence => "Persistence",
            ThreatFamily::Impact => "Impact",
            ThreatFamily::CryptoCurrency => "CryptoCurrency",
            ThreatFamily::Backdoor => "Backdoor",
            ThreatFamily::Trojan => "Trojan",
            ThreatFamily::UnauthorizedAccess => "UnauthorizedAccess",
            ThreatFamily::Discovery => "Discovery",
            ThreatFamily::AttackSequence => "AttackSequence",
            ThreatFamily::Unknown(name) => name,
        }
    }
}

impl fmt::Display for ThreatFamily {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ThreatFamily {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where the workload runs, i.e. which executor can contain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    Ec2,
    Ecs,
    Eks,
    Unknown,
}

impl Surface {
    pub fn from_resource_type(resource_type: &str) -> Surface {
        match resource_type {
            // A standalone container: its EC2 host is what can be contained.
            "Instance" | "Container" => Surface::Ec2,
            "ECSCluster" => Surface::Ecs,
            "EKSCluster" => Surface::Eks,
            _ => Surface::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Ec2 => "ec2",
            Surface::Ecs => "ecs",
            Surface::Eks => "eks",
            Surface::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum SeverityLabel {
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityLabel {
    pub fn from_score(severity: f64) -> SeverityLabel {
        match severity {
            s if s >= 9.0 => SeverityLabel::Critical,
            s if s >= 7.0 => SeverityLabel::High,
            s if s >= 4.0 => SeverityLabel::Medium,
            _ => SeverityLabel::Low,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLabel::Low => "Low",
            SeverityLabel::Medium => "Medium",
            SeverityLabel::High => "High",
            SeverityLabel::Critical => "Critical",
        }
    }
}

/// The parts of a finding type string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingType {
    pub purpose: String,
    pub resource_type_affected: String,
    pub threat_family_name: String,
    pub detection_mechanism: Option<String>,
    pub artifact: Option<String>,
}

impl FindingType {
    /// Splits a type string; anything without `:` and `/` yields `None`.
    pub fn parse(text: &str) -> Option<FindingType> {
        let (purpose, rest) = text.split_once(':')?;
        let (resource, name) = rest.split_once('/')?;
        let (name, artifact) = match name.split_once('!') {
            Some((n, a)) => (n, Some(a.to_owned())),
            None => (name, None),
        };
        let (family, mechanism) = match name.split_once('.') {
            Some((f, m)) => (f, Some(m.to_owned())),
            None => (name, None),
        };
        Some(FindingType {
            purpose: purpose.to_owned(),
            resource_type_affected: resource.to_owned(),
            threat_family_name: family.to_owned(),
            detection_mechanism: mechanism,
            artifact,
        })
    }

    pub fn is_runtime(&self) -> bool {
        self.resource_type_affected == "Runtime"
    }
}

/// Everything routing needs to know, derived from the finding alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub family: ThreatFamily,
    pub surface: Surface,
    pub severity: f64,
    pub severity_label: SeverityLabel,
    pub is_runtime: bool,
    /// `AttackSequence:*` (routed although its type is not `*:Runtime/*`).
    pub is_attack_sequence: bool,
    /// `FARGATE` or `EC2` for ECS findings.
    pub launch_type: Option<String>,
    pub parsed_type: Option<FindingType>,
}

pub fn classify(finding: &Finding) -> Classification {
    let parsed_type = FindingType::parse(finding.finding_type.as_raw());
    let family = parsed_type
        .as_ref()
        .map(|t| ThreatFamily::parse(&t.purpose))
        .unwrap_or_else(|| ThreatFamily::Unknown(String::new()));
    let surface = Surface::from_resource_type(finding.resource.resource_type.as_raw());
    let launch_type = (surface == Surface::Ecs)
        .then(|| {
            finding
                .resource
                .ecs_cluster_details
                .as_ref()?
                .task_details
                .as_ref()?
                .launch_type
                .as_ref()
        })
        .flatten()
        .map(|l| l.as_raw().to_ascii_uppercase())
        .filter(|l| l == "FARGATE" || l == "EC2");
    let severity = if finding.severity.is_finite() {
        finding.severity
    } else {
        0.0
    };
    let is_attack_sequence = family == ThreatFamily::AttackSequence;
    Classification {
        family,
        surface,
        severity,
        severity_label: SeverityLabel::from_score(severity),
        is_runtime: parsed_type.as_ref().is_some_and(FindingType::is_runtime),
        is_attack_sequence,
        launch_type,
        parsed_type,
    }
}

/// Every Runtime Monitoring type in GuardDuty's finding-type documentation
/// (<https://docs.aws.amazon.com/guardduty/latest/ug/findings-runtime-monitoring.html>):
/// the list the ATT&CK mapping and the family tests are checked against.
pub const RUNTIME_TYPES: [&str; 46] = [
    "Backdoor:Runtime/C&CActivity.B",
    "Backdoor:Runtime/C&CActivity.B!DNS",
    "CryptoCurrency:Runtime/BitcoinTool.B",
    "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
    "DefenseEvasion:Runtime/FilelessExecution",
    "DefenseEvasion:Runtime/KernelModuleLoaded",
    "DefenseEvasion:Runtime/SensitiveFileModified",
    "DefenseEvasion:Runtime/ProcessInjection.Proc",
    "DefenseEvasion:Runtime/ProcessInjection.Ptrace",
    "DefenseEvasion:Runtime/ProcessInjection.VirtualMemoryWrite",
    "DefenseEvasion:Runtime/PtraceAntiDebugging",
    "DefenseEvasion:Runtime/SuspiciousCommand",
    "Discovery:Runtime/SuspiciousCommand",
    "Execution:Runtime/MaliciousFileExecuted",
    "Execution:Runtime/MaliciousFileExecuted.Custom",
    "Execution:Runtime/NewBinaryExecuted",
    "Execution:Runtime/NewLibraryLoaded",
    "Execution:Runtime/SuspiciousCommand",
    "Execution:Runtime/SuspiciousShellCreated",
    "Execution:Runtime/SuspiciousTool",
    "Execution:Runtime/ReverseShell",
    "Impact:Runtime/AbusedDomainRequest.Reputation",
    "Impact:Runtime/BitcoinDomainRequest.Reputation",
    "Impact:Runtime/CryptoMinerExecuted",
    "Impact:Runtime/MaliciousDomainRequest.Reputation",
    "Impact:Runtime/SuspiciousDomainRequest.Reputation",
    "Persistence:Runtime/SuspiciousCommand",
    "Persistence:Runtime/SensitiveFileModified",
    "PrivilegeEscalation:Runtime/CGroupsReleaseAgentModified",
    "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory",
    "PrivilegeEscalation:Runtime/DockerSocketAccessed",
    "PrivilegeEscalation:Runtime/ElevationToRoot",
    "PrivilegeEscalation:Runtime/RuncContainerEscape",
    "PrivilegeEscalation:Runtime/SuspiciousCommand",
    "PrivilegeEscalation:Runtime/SensitiveFileModified",
    "PrivilegeEscalation:Runtime/UserfaultfdUsage",
    "Trojan:Runtime/BlackholeTraffic",
    "Trojan:Runtime/BlackholeTraffic!DNS",
    "Trojan:Runtime/DropPoint",
    "Trojan:Runtime/DropPoint!DNS",
    "Trojan:Runtime/DGADomainRequest.C!DNS",
    "Trojan:Runtime/DriveBySourceTraffic!DNS",
    "Trojan:Runtime/PhishingDomainRequest!DNS",
    "UnauthorizedAccess:Runtime/MetadataDNSRebind",
    "UnauthorizedAccess:Runtime/TorClient",
    "UnauthorizedAccess:Runtime/TorRelay",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_runtime_type_classifies_into_a_known_family() {
        for t in RUNTIME_TYPES {
            let parsed = FindingType::parse(t).unwrap_or_else(|| panic!("{t}"));
            assert!(parsed.is_runtime(), "{t}");
            let family = ThreatFamily::parse(&parsed.purpose);
            assert!(!matches!(family, ThreatFamily::Unknown(_)), "{t}");
            assert_eq!(family.as_str(), t.split(':').next().unwrap());
        }
    }

    #[test]
    fn type_parts_are_split() {
        let t = FindingType::parse("Backdoor:Runtime/C&CActivity.B!DNS").unwrap();
        assert_eq!(
            (
                t.purpose.as_str(),
                t.threat_family_name.as_str(),
                t.detection_mechanism.as_deref(),
                t.artifact.as_deref()
            ),
            ("Backdoor", "C&CActivity", Some("B"), Some("DNS"))
        );
        assert!(
            !FindingType::parse("Recon:EC2/PortProbeUnprotectedPort")
                .unwrap()
                .is_runtime()
        );
        assert_eq!(FindingType::parse("garbage"), None);
        assert_eq!(
            ThreatFamily::parse("Exfiltration"),
            ThreatFamily::Unknown("Exfiltration".into())
        );
    }

    #[test]
    fn severity_labels_follow_guardduty_bands() {
        let labels: Vec<_> = [0.0, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0]
            .map(SeverityLabel::from_score)
            .to_vec();
        use SeverityLabel::*;
        assert_eq!(
            labels,
            [Low, Low, Medium, Medium, High, High, Critical, Critical]
        );
    }

    #[test]
    fn surfaces_follow_resource_type() {
        let got: Vec<_> = [
            "Instance",
            "Container",
            "ECSCluster",
            "EKSCluster",
            "S3Bucket",
        ]
        .map(Surface::from_resource_type)
        .to_vec();
        assert_eq!(
            got,
            [
                Surface::Ec2,
                Surface::Ec2,
                Surface::Ecs,
                Surface::Eks,
                Surface::Unknown
            ]
        );
    }
}
