//! The imperative shell: carrying a plan's actions out against AWS and Kubernetes.
//!
//! Each surface has one executor (an adapter) in `crate::actions::<surface>`, which
//! reports one [`Outcome`] per planned action and declares, next to its calls, the IAM
//! actions it needs (checked against the Terraform policies by a test).

pub mod aws;

use crate::outcome::Outcome;
use crate::plan::ResponsePlan;
use std::future::Future;

/// Carries out the actions of plans for one surface.
pub trait Executor: Send + Sync {
    /// IAM actions this executor's calls need, for least-privilege policies.
    fn required_permissions(&self) -> &'static [&'static str];

    /// Runs every action in `plan` and reports one outcome per action. Never panics and
    /// never returns early on a failed step: independent steps are still attempted.
    fn execute(&self, plan: &ResponsePlan) -> impl Future<Output = Vec<Outcome>> + Send;
}
