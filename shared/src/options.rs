//! Per-deployment choices of how each surface is contained. They shape the plan, so a
//! dry run shows exactly the steps production would take.

use serde::{Deserialize, Serialize};

/// What to do with an instance that belongs to an Auto Scaling group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AsgMode {
    /// Detach without decrementing desired capacity: the group launches a clean replacement.
    #[default]
    Detach,
    /// Enter standby: the group keeps the instance but stops health-replacing it.
    Standby,
    /// Leave group membership alone.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ec2Options {
    pub asg: AsgMode,
    pub snapshots: bool,
    pub disassociate_eips: bool,
    /// Deny the instance profile role's sessions issued before containment (see
    /// [`RevocationOptions`]).
    pub revoke_role_sessions: bool,
    /// Copy each evidence snapshot, re-encrypted with a key the forensic account can use,
    /// and share the copy with that account (`ec2.share_snapshots`). Off by default.
    pub forensic_snapshots: Option<ForensicSnapshots>,
    /// Volatile data (processes, connections, the finding's `/proc/<pid>`, kernel modules)
    /// collected over SSM after isolation (`ec2.capture_volatile`). Off by default.
    pub volatile_capture: VolatileCapture,
}

impl Default for Ec2Options {
    fn default() -> Self {
        Ec2Options {
            asg: AsgMode::Detach,
            snapshots: true,
            disassociate_eips: false,
            revoke_role_sessions: false,
            forensic_snapshots: None,
            volatile_capture: VolatileCapture::default(),
        }
    }
}

/// `ec2.volatile_capture` (docs/evidence.md): SSM `AWS-RunShellScript` commands sent to
/// the contained instance once isolation has run, one per artefact, their output read
/// back with `GetCommandInvocation` into the evidence bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolatileCapture {
    pub enabled: bool,
    /// How long the command may run and the responder waits for it (the script's
    /// `executionTimeout` too); the function's own timeout must leave room for it.
    pub timeout_seconds: u64,
    /// At most this many of the PIDs the finding names (the process, its lineage, the
    /// modifying and target processes) get their `/proc/<pid>` read.
    pub max_pids: usize,
}

impl Default for VolatileCapture {
    fn default() -> Self {
        VolatileCapture {
            enabled: false,
            timeout_seconds: 30,
            max_pids: 16,
        }
    }
}

impl VolatileCapture {
    /// The longest wait accepted: a Lambda function runs for at most 900 s.
    pub const MAX_TIMEOUT_SECONDS: u64 = 600;
    pub const MAX_PIDS: usize = 64;

    /// Why these settings cannot be used with `isolation`, if they cannot. The command
    /// reaches the instance only through the SSM endpoints, which isolation cuts unless
    /// `isolation.keep_ssm_endpoints`: enabled without it, every capture would time out,
    /// so the configuration is refused rather than a silent `failed` on every finding.
    pub fn invalid(&self, isolation: &IsolationOptions) -> Option<String> {
        if !self.enabled {
            return None;
        }
        if !isolation.keep_ssm_endpoints {
            return Some(
                "enabled needs isolation.keep_ssm_endpoints: the SSM endpoints are the \
                 isolated instance's only way to receive the command"
                    .into(),
            );
        }
        if self.timeout_seconds == 0 || self.timeout_seconds > Self::MAX_TIMEOUT_SECONDS {
            return Some(format!(
                "timeout_seconds is 1 to {}",
                Self::MAX_TIMEOUT_SECONDS
            ));
        }
        if self.max_pids > Self::MAX_PIDS {
            return Some(format!("max_pids is at most {}", Self::MAX_PIDS));
        }
        None
    }
}

/// Where evidence snapshots are shared (docs/evidence.md). A snapshot encrypted with the
/// default `aws/ebs` key cannot be shared, so each is copied with `KmsKeyId` (a customer
/// managed key whose policy lets the forensic account use it) and the copy is shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForensicSnapshots {
    /// The forensic account: 12 digits.
    pub account_id: String,
    /// The key the copies are encrypted with (a key ARN; an alias cannot be used across
    /// accounts).
    pub kms_key_arn: String,
    /// How long to wait for a snapshot to complete before it can be copied; a snapshot
    /// still pending then is reported (`failed`, not copied), never waited for longer.
    #[serde(default = "ForensicSnapshots::default_wait")]
    pub wait_seconds: u64,
}

impl ForensicSnapshots {
    fn default_wait() -> u64 {
        20
    }

    /// Why these settings cannot be used, if they cannot.
    pub fn invalid(&self) -> Option<String> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!(
                "account_id {:?} is not a 12-digit account id",
                self.account_id
            ));
        }
        let parts: Vec<&str> = self.kms_key_arn.split(':').collect();
        let key_arn = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "kms"
            && parts[4].len() == 12
            && parts[5].starts_with("key/")
            && parts[5].len() > 4;
        if !key_arn {
            return Some(format!(
                "kms_key_arn {:?} is not a KMS key ARN",
                self.kms_key_arn
            ));
        }
        if self.wait_seconds > 300 {
            return Some("wait_seconds is at most 300".into());
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EcsOptions {
    /// Use subnet network-ACL denies even where the task ENI's groups could be swapped.
    pub force_network_acl: bool,
    /// Stop the task after isolation (destroys in-memory evidence; off by default).
    pub stop_task: bool,
    /// Deny the task role's sessions issued before containment (see [`RevocationOptions`]).
    pub revoke_role_sessions: bool,
    /// For bridge/host networking, quarantine the container instance's EC2 host.
    pub contain_ec2_host: bool,
}

impl Default for EcsOptions {
    fn default() -> Self {
        EcsOptions {
            force_network_acl: false,
            stop_task: false,
            revoke_role_sessions: false,
            contain_ec2_host: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EksOptions {
    /// Remove the labels that select the pod into Services, so it leaves their endpoints.
    pub remove_service_labels: bool,
    pub cordon_node: bool,
    /// Termination and scale-in protection on the node instance.
    pub protect_node: bool,
    /// What to do when the pod is still reachable after quarantine: another NetworkPolicy
    /// selects it and allows traffic, or it uses the host's network (no NetworkPolicy
    /// applies). Either way the policy step is never reported `done`.
    pub escalation: EksEscalation,
    /// When the node is contained (a `hostNetwork` pod, or `escalation: contain_node`), also
    /// quarantine its EC2 instance with the EC2 quarantine (every ENI of the node isolated,
    /// so its pods' VPC CNI addresses too). Off by default: it cuts every pod on the node,
    /// and the eks function's role then needs the EC2 quarantine permissions (Terraform
    /// grants them when this is on).
    pub quarantine_node_instance: bool,
    /// Deny the sessions of the pod's IAM role (IRSA or EKS Pod Identity) issued before
    /// containment (see [`RevocationOptions`]).
    pub revoke_role_sessions: bool,
}

/// The escalation when a quarantined pod is still reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EksEscalation {
    /// Report the policy step `failed`, naming every policy that still admits traffic, so
    /// that someone acts (the Lambda retries and the notification says `[FAILED]`).
    #[default]
    Fail,
    /// Also contain the node: cordon it and, with `quarantine_node_instance`, quarantine its
    /// EC2 instance. Once that quarantine is done the pod is contained by its node and the
    /// step is no longer `failed`.
    ContainNode,
}

impl Default for EksOptions {
    fn default() -> Self {
        EksOptions {
            remove_service_labels: true,
            cordon_node: true,
            protect_node: true,
            escalation: EksEscalation::Fail,
            quarantine_node_instance: false,
            revoke_role_sessions: false,
        }
    }
}

/// Isolation shared by every surface that swaps groups or writes network-ACL entries (the
/// EC2 isolation groups are per VPC, so one setting for all, or two functions would keep
/// rewriting each other's rules).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IsolationOptions {
    /// Also keep tcp 443 to the VPC's `ssm`, `ssmmessages` and `ec2messages` endpoints open
    /// from isolation, so responders can investigate with Session Manager. Off by default:
    /// a shell on the isolated workload is also the attacker's way to it, should they hold
    /// SSM credentials. The `guardduty-data` endpoint is always kept.
    pub keep_ssm_endpoints: bool,
}

/// Which roles session revocation (`<surface>.revoke_role_sessions`) may write its deny
/// policy on, for every surface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationOptions {
    /// Role ARN patterns (`*` and `?` as in IAM). Empty: revocation is off whatever the
    /// surfaces say. Terraform grants `iam:PutRolePolicy` on the same patterns only, so a
    /// role outside them is refused twice: here, and by IAM.
    pub role_arns: Vec<String>,
}

impl RevocationOptions {
    /// Each pattern names an IAM role path or name: `arn:<partition>:iam::<account>:role/`
    /// then a literal character (as Terraform's variable validation requires), never every
    /// role (`role/*`): a deny on the responder's or an administrator's role is an outage.
    pub fn validate(&self) -> Result<(), String> {
        for p in &self.role_arns {
            let parts: Vec<&str> = p.splitn(6, ':').collect();
            let ok = match parts[..] {
                ["arn", partition, "iam", "", account, resource] => {
                    (partition == "*" || partition.starts_with("aws"))
                        && (account == "*" || crate::validate::is_account_id(account))
                        && resource.strip_prefix("role/").is_some_and(|rest| {
                            rest.bytes().next().is_some_and(|b| {
                                b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)
                            })
                        })
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "{:?} is not a role ARN pattern naming a path or roles \
                     (arn:aws:iam::*:role/<path>/*; never role/*)",
                    crate::sanitize::ascii_line(p, 120)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::RevocationOptions;

    #[test]
    fn revocation_patterns_must_name_a_path_or_role() {
        let check = |p: &str| {
            RevocationOptions {
                role_arns: vec![p.to_owned()],
            }
            .validate()
        };
        for ok in [
            "arn:aws:iam::*:role/ecs-tasks/*",
            "arn:aws:iam::123456789012:role/payments-task",
            "arn:*:iam::*:role/workloads/*",
            "arn:aws-us-gov:iam::*:role/w?rk",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "*",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::*:role/?x",
            "arn:aws:iam::*:user/x",
            "arn:aws:iam::12345:role/x",
            "arn:aws:s3:::role/x",
            "role/x",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}

/// Evidence bundles (docs/evidence.md): where each containment writes its bundle and how
/// long and how much collection may take. Without a bucket nothing is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceOptions {
    /// The evidence bucket (`RESPONDER_EVIDENCE_BUCKET`, set by Terraform).
    pub bucket: Option<String>,
    /// The bucket's region (default: the function's own, `AWS_REGION`).
    pub bucket_region: Option<String>,
    /// The bucket's KMS key (`RESPONDER_EVIDENCE_KMS_KEY_ARN`); none: the bucket's default
    /// encryption applies.
    pub kms_key_id: Option<String>,
    /// The whole collection and write of one bundle, after which it is reported `failed`.
    pub time_limit_seconds: u64,
    /// How far back container logs are read.
    pub log_minutes: u32,
    /// At most this many bytes of logs per container (per instance for EKS); the rest is
    /// cut and the object says so.
    pub log_max_bytes: usize,
    /// Who collected: the function's name (`AWS_LAMBDA_FUNCTION_NAME`), for the manifest.
    #[serde(skip)]
    pub collector: String,
}

impl Default for EvidenceOptions {
    fn default() -> Self {
        EvidenceOptions {
            bucket: None,
            bucket_region: None,
            kms_key_id: None,
            time_limit_seconds: 20,
            log_minutes: 30,
            log_max_bytes: 1 << 20,
            collector: "responder".to_owned(),
        }
    }
}
