//! The imperative shell: carrying a plan's actions out against AWS and Kubernetes.
//!
//! Each surface has one executor (an adapter) in `crate::actions::<surface>`, which
//! reports one [`Outcome`] per planned action and declares, next to its calls, the IAM
//! actions it needs (checked against the Terraform policies by a test).

pub mod aws;

use crate::finding::snapshot_event::SnapshotCompleted;
use crate::outcome::{Outcome, Status, Step};
use crate::plan::ResponsePlan;
use std::future::Future;

/// Carries out the actions of plans for one surface.
pub trait Executor: Send + Sync {
    /// IAM actions this executor's calls need, for least-privilege policies.
    fn required_permissions(&self) -> &'static [&'static str];

    /// Runs every action in `plan` and reports one outcome per action. Never panics and
    /// never returns early on a failed step: independent steps are still attempted.
    fn execute(&self, plan: &ResponsePlan) -> impl Future<Output = Vec<Outcome>> + Send;

    /// EBS reports a snapshot complete: the forensic copies' follow-up. `None`: this
    /// executor does not copy snapshots (only the EC2 one does).
    fn snapshot_completed(
        &self,
        _event: &SnapshotCompleted,
    ) -> impl Future<Output = Option<SnapshotFollowUp>> + Send {
        std::future::ready(None)
    }
}

/// What the follow-up of a completed snapshot did: the result JSON and the log record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SnapshotFollowUp {
    pub snapshot_id: String,
    /// The finding and instance its tags claim (once they were read).
    pub finding_id: Option<String>,
    pub instance_id: Option<String>,
    pub status: Status,
    pub detail: String,
    /// It claims to be evidence but is not bound to a quarantine of the responder.
    pub refused: bool,
    /// Not decidable yet: the invocation fails so that the event is retried.
    pub retry: bool,
}

impl SnapshotFollowUp {
    pub fn new(snapshot_id: &str) -> SnapshotFollowUp {
        SnapshotFollowUp {
            snapshot_id: snapshot_id.to_owned(),
            finding_id: None,
            instance_id: None,
            status: Status::Skipped,
            detail: String::new(),
            refused: false,
            retry: false,
        }
    }

    /// The claim its tags make.
    pub fn claimed(mut self, finding: &str, instance: &str) -> SnapshotFollowUp {
        self.finding_id = Some(finding.to_owned());
        self.instance_id = Some(instance.to_owned());
        self
    }

    /// The result of a step.
    pub fn step(mut self, step: Step) -> SnapshotFollowUp {
        self.status = step.status;
        self.detail = step.detail;
        self
    }

    /// Nothing copied: why, refused or to be retried.
    pub fn not_copied(mut self, detail: String, refused: bool, retry: bool) -> SnapshotFollowUp {
        self.status = Status::Skipped;
        self.detail = detail;
        self.refused = refused;
        self.retry = retry;
        self
    }
}
