//! EC2 quarantine: isolate an instance's every network interface (two-step security-group
//! swap that cuts tracked connections), keep it and its evidence (termination protection,
//! shutdown behaviour `stop`, volumes kept on termination, out of its Auto Scaling group,
//! EBS snapshots), and record what it changed on the instance itself so that
//! [`Ec2Executor::release`] can undo it. See `quarantine.rs` for the call sequence.

mod bundle;
pub(crate) mod host;
pub mod isolation_groups;
mod isolation_rules;
pub(crate) mod observe;
pub mod permissions;
pub mod prior_state;
pub mod quarantine;
pub mod record_mac;
pub mod release;
pub mod release_checks;
mod revoke;
pub mod sensor_coverage;
pub mod sensor_link;
pub(crate) mod snapshot_origin;
pub(crate) mod swap;
pub mod volatile;

pub use permissions::{RELEASE_PERMISSIONS, REQUIRED_PERMISSIONS};
pub use prior_state::PriorState;
pub use release::{ReleaseError, ReleaseOutcome, ReleaseStep, Released};

use crate::execute::Executor;
use crate::ids::{InstanceId, VpcId};
use crate::options::IsolationOptions;
use crate::outcome::Outcome;
use crate::plan::ResponsePlan;
use crate::target::Target;
use aws_config::SdkConfig;
use aws_smithy_types::retry::{RetryConfig, RetryMode};
use std::future::Future;
use std::time::Duration;

/// The clients one quarantine or release uses.
#[derive(Clone, Debug)]
pub(crate) struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub asg: aws_sdk_autoscaling::Client,
    pub kms: aws_sdk_kms::Client,
    /// The KMS key that MACs prior-state records ([`record_mac`]); none: records are unsigned.
    pub mac_key: Option<String>,
    /// Reads the contained resource's Runtime Monitoring coverage ([`sensor_coverage`]).
    pub guardduty: aws_sdk_guardduty::Client,
    /// Which VPC endpoints isolation keeps reachable ([`sensor_link`]).
    pub isolation: IsolationOptions,
    /// Revocation of the workload role's sessions ([`crate::actions::revocation`]).
    pub iam: aws_sdk_iam::Client,
    /// The role patterns revocation may write to (`revocation.role_arns`); empty: off.
    pub revocable_role_arns: Vec<String>,
    /// The evidence bucket, when configured (the EC2 executor's own runs only).
    pub evidence: Option<std::sync::Arc<crate::evidence::collect::Evidence>>,
    /// Where evidence snapshots are copied and shared (`ec2.forensic_snapshots`).
    pub forensic_snapshots: Option<crate::options::ForensicSnapshots>,
    /// Runs the volatile capture on the instance ([`volatile`]).
    pub ssm: aws_sdk_ssm::Client,
    /// `ec2.volatile_capture`.
    pub volatile: crate::options::VolatileCapture,
}

impl Clients {
    pub(crate) fn new(config: &SdkConfig, region: Option<&crate::ids::Region>) -> Clients {
        let retry = containment_retries(config);
        let mut ec2 = aws_sdk_ec2::config::Builder::from(config).retry_config(retry.clone());
        let mut asg =
            aws_sdk_autoscaling::config::Builder::from(config).retry_config(retry.clone());
        let mut kms = aws_sdk_kms::config::Builder::from(config).retry_config(retry.clone());
        let mut gd = aws_sdk_guardduty::config::Builder::from(config).retry_config(retry.clone());
        let mut ssm = aws_sdk_ssm::config::Builder::from(config).retry_config(retry);
        if let Some(r) = region {
            let r = || aws_config::Region::new(r.to_string());
            ssm = ssm.region(r());
            ec2 = ec2.region(r());
            asg = asg.region(r());
            kms = kms.region(r());
            gd = gd.region(r());
        }
        Clients {
            ec2: aws_sdk_ec2::Client::from_conf(ec2.build()),
            asg: aws_sdk_autoscaling::Client::from_conf(asg.build()),
            kms: aws_sdk_kms::Client::from_conf(kms.build()),
            mac_key: record_mac::key_from_env(),
            guardduty: aws_sdk_guardduty::Client::from_conf(gd.build()),
            isolation: IsolationOptions::default(),
            // IAM is global; its client needs no region override.
            iam: aws_sdk_iam::Client::new(config),
            revocable_role_arns: Vec::new(),
            evidence: None,
            forensic_snapshots: None,
            ssm: aws_sdk_ssm::Client::from_conf(ssm.build()),
            volatile: crate::options::VolatileCapture::default(),
        }
    }
}

impl Clients {
    /// Clients for another region with the same settings (key, isolation, revocation,
    /// evidence).
    pub(crate) fn settings_in(&self, config: &SdkConfig, region: &crate::ids::Region) -> Clients {
        Clients {
            mac_key: self.mac_key.clone(),
            isolation: self.isolation.clone(),
            revocable_role_arns: self.revocable_role_arns.clone(),
            evidence: self.evidence.clone(),
            forensic_snapshots: self.forensic_snapshots.clone(),
            volatile: self.volatile.clone(),
            ..Clients::new(config, Some(region))
        }
    }
}

/// The config's retry settings (attempts, initial backoff) in *standard* mode, with the
/// backoff capped at 2 s.
///
/// Not adaptive: the adaptive client-side rate limiter sizes its bucket from the measured
/// send rate, which for a responder that sends a handful of calls is near its 0.5/s floor.
/// After one throttling answer every later call of that service and region waits for a
/// token: against moto, a throttled `DescribeAutoScalingInstances` was retried 8 s later,
/// and a throttled `DetachInstances` in the next quarantine was not retried within the 20 s
/// operation timeout (tests/tests/ec2_faults.rs). Standard mode retries throttling with
/// jittered exponential backoff (100 ms, 200 ms, … with the shared config) and no bucket.
fn containment_retries(config: &SdkConfig) -> RetryConfig {
    config
        .retry_config()
        .cloned()
        .unwrap_or_else(RetryConfig::standard)
        .with_retry_mode(RetryMode::Standard)
        .with_max_backoff(Duration::from_secs(2))
}

/// Carries out the `Ec2*` actions of a plan. Build it once (e.g. at Lambda cold start) from
/// an [`SdkConfig`]; pass a config with assumed-role credentials to act in another account.
/// Each plan runs in the plan's own region (the finding's), using the config's credentials,
/// retry and timeout settings.
#[derive(Clone, Debug)]
pub struct Ec2Executor {
    config: SdkConfig,
    clients: Clients,
}

impl Ec2Executor {
    pub fn new(config: &SdkConfig) -> Ec2Executor {
        Ec2Executor {
            config: config.clone(),
            clients: Clients::new(config, None),
        }
    }

    /// As the deployment's configuration asks (isolation, revocation): what the Lambda
    /// function, the CLI and the interactions function all build.
    pub fn from_config(sdk: &SdkConfig, config: &crate::Config) -> Ec2Executor {
        Ec2Executor::new(sdk)
            .with_isolation(config.isolation.clone())
            .with_revocation(config.revocation.role_arns.clone())
            .with_evidence(&config.evidence)
            .with_forensic_snapshots(config.ec2.forensic_snapshots.clone())
            .with_volatile_capture(config.ec2.volatile_capture.clone())
    }

    /// `ec2.volatile_capture`: how `ec2.capture_volatile` runs (planned only when enabled).
    pub fn with_volatile_capture(
        mut self,
        options: crate::options::VolatileCapture,
    ) -> Ec2Executor {
        self.clients.volatile = options;
        self
    }

    /// `ec2.forensic_snapshots`: where `ec2.share_snapshots` copies and shares snapshots.
    pub fn with_forensic_snapshots(
        mut self,
        to: Option<crate::options::ForensicSnapshots>,
    ) -> Ec2Executor {
        self.clients.forensic_snapshots = to;
        self
    }

    /// Overrides `RESPONDER_RECORD_MAC_KEY_ID`: the KMS key that MACs prior-state records.
    pub fn with_record_mac_key(mut self, key_id: Option<String>) -> Ec2Executor {
        self.clients.mac_key = key_id;
        self
    }

    /// The configuration's `isolation` section (which VPC endpoints stay reachable).
    pub fn with_isolation(mut self, options: IsolationOptions) -> Ec2Executor {
        self.clients.isolation = options;
        self
    }

    /// The role patterns session revocation may write to (`revocation.role_arns`).
    pub fn with_revocation(mut self, role_arns: Vec<String>) -> Ec2Executor {
        self.clients.revocable_role_arns = role_arns;
        self
    }

    /// The configuration's `evidence` section: with a bucket, each quarantined instance gets
    /// a bundle (`evidence.write_bundle`).
    pub fn with_evidence(mut self, options: &crate::options::EvidenceOptions) -> Ec2Executor {
        self.clients.evidence =
            crate::evidence::collect::Evidence::new(&self.config, options).map(std::sync::Arc::new);
        self
    }

    fn clients_for(&self, region: &crate::ids::Region) -> Clients {
        if self.config.region().map(|r| r.as_ref()) == Some(region.as_str()) {
            self.clients.clone()
        } else {
            self.clients.settings_in(&self.config, region)
        }
    }

    /// Undoes a quarantine from what is recorded on the instance, in the config's region.
    /// Without `execute` it only reads and reports what it would do.
    pub async fn release(
        &self,
        instance_id: &InstanceId,
        execute: bool,
    ) -> Result<Released, ReleaseError> {
        Box::pin(release::release(&self.clients, instance_id, execute)).await
    }

    async fn run(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        let clients = std::sync::OnceLock::new();
        let fan_out = super::fan_out::FanOut {
            plan,
            surface: crate::classify::Surface::Ec2,
            not_ours: "not an EC2 quarantine action",
        };
        fan_out
            .run(
                instance,
                |_| None,
                |r| {
                    let clients = clients.get_or_init(|| self.clients_for(&r.region));
                    async move {
                        let req = quarantine::Request {
                            instance_id: r.id,
                            vpc_hint: r.detail,
                            finding_id: &plan.finding_id,
                            finding_type: &plan.finding_type,
                            subject: Some(crate::evidence::collect::Subject {
                                finding: &plan.finding,
                                account: &plan.account_id,
                                finding_id: &plan.finding_id,
                            }),
                            kinds: r.kinds.into_iter().collect(),
                        };
                        let steps = Box::pin(quarantine::quarantine(clients, &req)).await;
                        super::fan_out::Contained::with_bundle_step(r.id, steps)
                    }
                },
            )
            .await
    }
}

/// The instance a target names, and the VPC the finding gives for it.
fn instance(t: &Target) -> Option<(&InstanceId, Option<&VpcId>)> {
    match t {
        Target::Ec2 {
            instance_id,
            vpc_id,
            ..
        } => Some((instance_id, vpc_id.as_ref())),
        _ => None,
    }
}

impl Executor for Ec2Executor {
    fn required_permissions(&self) -> &'static [&'static str] {
        &REQUIRED_PERMISSIONS
    }

    fn execute(&self, plan: &ResponsePlan) -> impl Future<Output = Vec<Outcome>> + Send {
        // Boxed so callers hold a pointer, not the whole state machine, on their stack.
        Box::pin(self.run(plan))
    }

    fn snapshot_completed(
        &self,
        event: &crate::finding::snapshot_event::SnapshotCompleted,
    ) -> impl Future<Output = Option<crate::execute::SnapshotFollowUp>> + Send {
        let clients = self.clients_for(&event.region);
        let event = event.clone();
        Box::pin(
            async move { Some(quarantine::follow_up::snapshot_completed(&clients, &event).await) },
        )
    }
}
