//! ECS task isolation (Fargate first). A Fargate task's ENI is requester-managed: its
//! groups cannot be changed. So the task is isolated in place with DENY entries for its
//! address in the subnet's network ACL (or, where the ENI's groups can be changed and the
//! ACL method is not forced, with the EC2 executor's isolation groups and two-step swap),
//! taken out of its service's target groups, tagged, and optionally has its role's older
//! sessions revoked and is stopped. Tasks without an ENI (ECS on EC2, bridge/host
//! networking) have their host quarantined by the EC2 quarantine. Everything changed is
//! recorded on the task as tags (`record.rs`) so [`EcsExecutor::release`] undoes exactly it;
//! the ACL entries also on the ACL (`acl_record.rs`), which outlives the task's record.

pub mod acl_entry;
pub mod acl_record;
mod bundle;
mod contain;
pub mod evidence;
mod host;
pub mod network_acl;
pub mod permissions;
pub mod record;
pub mod record_seal;
pub mod release;
mod release_checks;
mod revocation;
pub mod sensor_allow;
mod tag_task;
mod vpc_deny;

pub use crate::actions::revocation::REVOKE_POLICY_NAME;
pub use permissions::{RELEASE_PERMISSIONS, REQUIRED_PERMISSIONS};
pub use record::Record;
pub use release::{ReleaseError, ReleaseOutcome, ReleaseStep, Released};

use crate::execute::Executor;
use crate::ids::{ClusterName, TaskArn};
use crate::options::EcsOptions;
use crate::outcome::Outcome;
use crate::plan::ResponsePlan;
use crate::target::Target;
use aws_config::{Region, SdkConfig};
use std::future::Future;

#[derive(Clone, Debug)]
pub(crate) struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ec2: crate::actions::ec2::Clients,
    /// The evidence bucket, when configured.
    pub evidence: Option<std::sync::Arc<crate::evidence::collect::Evidence>>,
    /// The tags one containment run wrote (fresh per run), for its seal.
    pub ledger: record_seal::Ledger,
}

impl Clients {
    fn new(config: &SdkConfig, region: Option<&crate::ids::Region>) -> Clients {
        Clients::with_ec2(
            config,
            region,
            crate::actions::ec2::Clients::new(config, region),
        )
    }

    /// With the EC2 clients already built (another region's, carrying this executor's
    /// settings).
    fn with_ec2(
        config: &SdkConfig,
        region: Option<&crate::ids::Region>,
        ec2: crate::actions::ec2::Clients,
    ) -> Clients {
        let mut ecs = aws_sdk_ecs::config::Builder::from(config);
        let mut elb = aws_sdk_elasticloadbalancingv2::config::Builder::from(config);
        let mut logs = aws_sdk_cloudwatchlogs::config::Builder::from(config);
        if let Some(r) = region {
            let r = || Region::new(r.to_string());
            ecs = ecs.region(r());
            elb = elb.region(r());
            logs = logs.region(r());
        }
        Clients {
            ecs: aws_sdk_ecs::Client::from_conf(ecs.build()),
            elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(elb.build()),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs.build()),
            ec2,
            evidence: None,
            ledger: record_seal::Ledger::default(),
        }
    }
}

/// Carries out the `Ecs*` actions of a plan. Build it once (e.g. at Lambda cold start).
/// `options` supplies what the plan does not carry (`force_network_acl`,
/// `contain_ec2_host`); the optional steps themselves come from the plan.
#[derive(Clone, Debug)]
pub struct EcsExecutor {
    config: SdkConfig,
    options: EcsOptions,
    clients: Clients,
}

impl EcsExecutor {
    pub fn new(sdk: &SdkConfig, options: EcsOptions) -> EcsExecutor {
        EcsExecutor {
            config: sdk.clone(),
            options,
            clients: Clients::new(sdk, None),
        }
    }

    /// As the deployment's configuration asks (ECS options, isolation, revocation).
    pub fn from_config(sdk: &SdkConfig, config: &crate::Config) -> EcsExecutor {
        EcsExecutor::new(sdk, config.ecs.clone())
            .with_isolation(config.isolation.clone())
            .with_revocation(config.revocation.role_arns.clone())
            .with_evidence(&config.evidence)
    }

    /// Overrides `RESPONDER_RECORD_MAC_KEY_ID`: the KMS key that seals task records.
    pub fn with_record_mac_key(mut self, key_id: Option<String>) -> EcsExecutor {
        self.clients.ec2.mac_key = key_id;
        self
    }

    /// The configuration's `isolation` section (which VPC endpoints stay reachable).
    pub fn with_isolation(mut self, options: crate::options::IsolationOptions) -> EcsExecutor {
        self.clients.ec2.isolation = options;
        self
    }

    /// The role patterns session revocation may write to (`revocation.role_arns`).
    pub fn with_revocation(mut self, role_arns: Vec<String>) -> EcsExecutor {
        self.clients.ec2.revocable_role_arns = role_arns;
        self
    }

    /// The configuration's `evidence` section: with a bucket, each contained task gets a
    /// bundle (`evidence.write_bundle`).
    pub fn with_evidence(mut self, options: &crate::options::EvidenceOptions) -> EcsExecutor {
        self.clients.evidence =
            crate::evidence::collect::Evidence::new(&self.config, options).map(std::sync::Arc::new);
        self
    }

    fn clients_for(&self, region: &crate::ids::Region) -> Clients {
        if self.config.region().map(|r| r.as_ref()) == Some(region.as_str()) {
            self.clients.clone()
        } else {
            let ec2 = self.clients.ec2.settings_in(&self.config, region);
            Clients {
                evidence: self.clients.evidence.clone(),
                ..Clients::with_ec2(&self.config, Some(region), ec2)
            }
        }
    }

    /// Undoes an isolation from what is recorded on the task, in the config's region.
    /// Without `execute` it only reads and reports what it would do.
    pub async fn release(
        &self,
        cluster: &ClusterName,
        task_arn: &TaskArn,
        execute: bool,
    ) -> Result<Released, ReleaseError> {
        Box::pin(release::release(&self.clients, cluster, task_arn, execute)).await
    }

    async fn run(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        let clients = std::sync::OnceLock::new();
        let fan_out = super::fan_out::FanOut {
            plan,
            surface: crate::classify::Surface::Ecs,
            not_ours: "not an ECS isolation action",
        };
        fan_out
            .run(
                task,
                |_| None,
                |r| {
                    let clients = clients.get_or_init(|| self.clients_for(&r.region));
                    async move {
                        let req = contain::Request {
                            cluster: r.detail,
                            task_arn: r.id,
                            finding_id: &plan.finding_id,
                            finding_type: &plan.finding_type,
                            finding: &plan.finding,
                            account: &plan.account_id,
                            kinds: r.kinds.into_iter().collect(),
                        };
                        let steps = Box::pin(contain::contain(clients, &req, &self.options)).await;
                        super::fan_out::Contained::with_bundle_step(r.id, steps)
                    }
                },
            )
            .await
    }
}

/// The task a target names, and its cluster.
fn task(t: &Target) -> Option<(&TaskArn, &ClusterName)> {
    match t {
        Target::Ecs {
            cluster, task_arn, ..
        } => Some((task_arn, cluster)),
        _ => None,
    }
}

impl Executor for EcsExecutor {
    fn required_permissions(&self) -> &'static [&'static str] {
        &REQUIRED_PERMISSIONS
    }

    fn execute(&self, plan: &ResponsePlan) -> impl Future<Output = Vec<Outcome>> + Send {
        Box::pin(self.run(plan))
    }
}
