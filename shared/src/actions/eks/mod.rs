//! EKS pod isolation: quarantine the one pod that ran the finding's container, without
//! deleting anything (a controller would just recreate it and the evidence would be gone).
//!
//! In plan order, for the pod [`pod::resolve`] finds:
//! 1. `eks.label_pod`: a quarantine label unique to the pod (its UID), plus annotations
//!    naming the finding ([`pod::label`]).
//! 2. `eks.apply_deny_all_policy`: a server-side-applied NetworkPolicy selecting only that
//!    label, `policyTypes: [Ingress, Egress]`, no rules ([`policy::apply`]); the outcome says
//!    whether a policy engine was detected, since without one the policy is inert.
//! 3. `eks.remove_service_labels`: every other label removed and recorded in an annotation
//!    ([`pod::remove_labels`]), so no Service, controller or other NetworkPolicy selects it.
//! 4. `eks.cordon_node`, 5. `eks.protect_node`: the node cordoned and labelled, its
//!    instance protected from termination and scale-in ([`node`]).
//! 6. `eks.record_event`: a Kubernetes Event on the pod naming the finding ([`event`]).
//!
//! With an evidence bucket, each contained pod's bundle is written alongside these steps
//! (`evidence.write_bundle`, [`bundle`]), from the pod as read to find it.
//!
//! Step 2 is reported `done` only when, after every step, no other NetworkPolicy still
//! admits traffic to the pod and the pod is not on the host network ([`reach`]); else it
//! is `failed` and escalated per [`EksOptions::escalation`].
//!
//! Guardrails, checked here again although the playbook already applies them: protected
//! namespaces leave the pod alone (`skipped`), and so does the exemption label or
//! annotation (the configured tag key, [`EXEMPT`] by default) `= true`, only when tag
//! exemptions are switched on.
//! [`release`] undoes all of it from what was recorded on the objects.

mod bundle;
pub mod client;
mod contain;
mod event;
mod k8s;
mod logs;
mod node;
mod owners;
pub mod permissions;
pub mod pod;
pub mod policy;
mod reach;
pub mod release;
mod retry;
mod revoke;
pub mod selector;
mod step;
pub mod token;
mod vocabulary;

pub use client::{ClusterClients, Connection, ConnectionRewrite};
pub use permissions::{
    KUBERNETES_RBAC, RELEASE_KUBERNETES_RBAC, RELEASE_PERMISSIONS, REQUIRED_PERMISSIONS,
};
pub use release::{ReleaseOutcome, ReleaseStep, Released};
pub use vocabulary::*;

pub(crate) use contain::Ctx;

use crate::execute::Executor;
use crate::options::EksOptions;
use crate::outcome::{Outcome, Step};
use crate::plan::ResponsePlan;
use crate::playbook::Guardrails;
use crate::target::Target;
use aws_config::SdkConfig;
use std::future::Future;
use std::sync::Arc;

/// Carries out the `Eks*` actions of a plan. Build it once (at Lambda cold start) so its
/// per-cluster clients and tokens are reused by warm invocations.
#[derive(Debug, Clone)]
pub struct EksExecutor {
    config: SdkConfig,
    clusters: Arc<ClusterClients>,
    protected_namespaces: Vec<String>,
    /// The label/annotation key that exempts a pod; `None` while tags are not honoured.
    exempt_label: Option<String>,
    options: EksOptions,
    /// Which VPC endpoints a node's EC2 quarantine keeps reachable.
    isolation: crate::options::IsolationOptions,
    /// The role patterns session revocation may write to (`revocation.role_arns`).
    revocable_role_arns: Vec<String>,
    /// Revocation's IAM calls. IAM is global: one client for every region.
    iam: aws_sdk_iam::Client,
    /// The evidence bucket, when configured: each contained pod gets a bundle.
    evidence: Option<Arc<crate::evidence::collect::Evidence>>,
}

impl EksExecutor {
    pub fn new(config: &SdkConfig, guardrails: &Guardrails) -> EksExecutor {
        EksExecutor::with_clients(config, guardrails, ClusterClients::new(config))
    }

    /// With a prepared [`ClusterClients`] (tests rewrite endpoint and CA through it).
    pub fn with_clients(
        config: &SdkConfig,
        guardrails: &Guardrails,
        clusters: ClusterClients,
    ) -> EksExecutor {
        let mut protected: Vec<String> = ALWAYS_PROTECTED.iter().map(|s| s.to_string()).collect();
        for n in &guardrails.protected_namespaces {
            if !protected.contains(n) {
                protected.push(n.clone());
            }
        }
        EksExecutor {
            config: config.clone(),
            clusters: Arc::new(clusters),
            protected_namespaces: protected,
            exempt_label: guardrails.exemptions.kubernetes_label(),
            options: EksOptions::default(),
            isolation: Default::default(),
            revocable_role_arns: Vec::new(),
            iam: aws_sdk_iam::Client::new(config),
            evidence: None,
        }
    }

    /// As the deployment's configuration asks. The plan already applied the configured
    /// guardrails; the executor re-checks the protected namespaces and, when tags are
    /// honoured, the exemption label.
    pub fn from_config(sdk: &SdkConfig, config: &crate::Config) -> EksExecutor {
        EksExecutor::new(sdk, &config.guardrails)
            .with_options(config.eks.clone())
            .with_isolation(config.isolation.clone())
            .with_revocation(config.revocation.role_arns.clone())
            .with_evidence(&config.evidence)
    }

    /// The configuration's `evidence` section: with a bucket, each contained pod gets a
    /// bundle (`evidence.write_bundle`).
    pub fn with_evidence(mut self, options: &crate::options::EvidenceOptions) -> EksExecutor {
        self.evidence =
            crate::evidence::collect::Evidence::new(&self.config, options).map(Arc::new);
        self
    }

    /// The role patterns session revocation may write to (`revocation.role_arns`).
    pub fn with_revocation(mut self, role_arns: Vec<String>) -> EksExecutor {
        self.revocable_role_arns = role_arns;
        self
    }

    fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        revoke::eks_client(&self.config, region)
    }

    /// The configuration's `isolation` section (for a node's EC2 quarantine).
    pub fn with_isolation(mut self, options: crate::options::IsolationOptions) -> EksExecutor {
        self.isolation = options;
        self
    }

    /// With the deployment's EKS options (the escalation when a pod stays reachable).
    pub fn with_options(mut self, options: EksOptions) -> EksExecutor {
        self.options = options;
        self
    }

    pub fn clusters(&self) -> &ClusterClients {
        &self.clusters
    }

    pub fn is_protected_namespace(&self, namespace: &str) -> bool {
        self.protected_namespaces.iter().any(|n| n == namespace)
    }

    /// Undoes a quarantine (`responder release eks`). With `execute` false, only reads and
    /// reports what would be done.
    pub async fn release(
        &self,
        req: &release::Request<'_>,
        execute: bool,
    ) -> Result<Released, release::ReleaseError> {
        release::release(self, req, None, execute).await
    }

    /// Releases a pod only if its own quarantine record names `finding_id`: the pods a
    /// workload finding's release finds through `quarantined_pods` are checked again here.
    pub async fn release_for_finding(
        &self,
        req: &release::Request<'_>,
        finding_id: &str,
        execute: bool,
    ) -> Result<Released, release::ReleaseError> {
        release::release(self, req, Some(finding_id), execute).await
    }

    /// The pods in `namespace` quarantined for `finding_id` (from the responder's policies):
    /// what to release when the finding named a workload, not a pod.
    pub async fn quarantined_pods(
        &self,
        req: &release::Request<'_>,
        finding_id: &str,
    ) -> Result<Vec<crate::ids::K8sName>, release::ReleaseError> {
        release::quarantined_pods(self, req, finding_id).await
    }

    async fn run(&self, plan: &ResponsePlan) -> Vec<Outcome> {
        let fan_out = super::fan_out::FanOut {
            plan,
            surface: crate::classify::Surface::Eks,
            not_ours: "not an EKS pod isolation action",
        };
        fan_out
            .run(
                workload,
                |t| self.refusal(t),
                |r| async move {
                    let (steps, bundles) = self.contain(plan, &r.region, r.detail, &r.kinds).await;
                    let steps = r.kinds.iter().zip(steps).map(|(k, s)| (*k, s)).collect();
                    super::fan_out::Contained { steps, bundles }
                },
            )
            .await
    }

    /// A workload in a protected namespace is never contained, whatever else is wrong with
    /// the finding.
    fn refusal(&self, target: &Target) -> Option<crate::outcome::Step> {
        match target {
            Target::Eks { namespace, .. } if self.is_protected_namespace(namespace) => {
                Some(crate::outcome::Step::skipped(format!(
                    "namespace {namespace} is protected: never contained, notify only"
                )))
            }
            _ => None,
        }
    }
}

/// The workload a target names (by its `cluster/namespace/type/name`).
fn workload(t: &Target) -> Option<(std::borrow::Cow<'_, str>, &Target)> {
    matches!(t, Target::Eks { .. }).then(|| (t.name(), t))
}

impl Executor for EksExecutor {
    fn required_permissions(&self) -> &'static [&'static str] {
        &REQUIRED_PERMISSIONS
    }

    fn execute(&self, plan: &ResponsePlan) -> impl Future<Output = Vec<Outcome>> + Send {
        self.run(plan)
    }
}
