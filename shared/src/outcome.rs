//! What happened to each planned action: the executors' report and the notification's body.

use crate::action::ActionKind;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Done,
    AlreadyDone,
    Skipped,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::AlreadyDone => "already done",
            Status::Skipped => "skipped",
            Status::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub kind: ActionKind,
    pub target: String,
    pub status: Status,
    /// Reason or error text. May echo API error messages, so channels treat it as untrusted.
    pub detail: String,
    /// Evidence captured before changes (descriptions), for the structured log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
}

impl Outcome {
    pub fn new(
        kind: ActionKind,
        target: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Self {
        Outcome {
            kind,
            target: target.into(),
            status,
            detail: detail.into(),
            evidence: None,
        }
    }
}

/// One step's result, before it is attached to the plan's action(s) as an [`Outcome`].
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub status: Status,
    pub detail: String,
    pub evidence: Option<serde_json::Value>,
    /// What it acted on, when not the planned target (the pods an EKS workload resolved
    /// to, the node under them).
    pub target: Option<String>,
}

impl Step {
    pub fn new(status: Status, detail: impl Into<String>) -> Step {
        Step {
            status,
            detail: detail.into(),
            evidence: None,
            target: None,
        }
    }

    /// The same result, naming what it acted on.
    pub fn on(mut self, target: impl Into<String>) -> Step {
        self.target = Some(target.into());
        self
    }
    pub fn done(d: impl Into<String>) -> Step {
        Step::new(Status::Done, d)
    }
    pub fn already(d: impl Into<String>) -> Step {
        Step::new(Status::AlreadyDone, d)
    }
    pub fn skipped(d: impl Into<String>) -> Step {
        Step::new(Status::Skipped, d)
    }
    pub fn failed(d: impl Into<String>) -> Step {
        Step::new(Status::Failed, d)
    }

    pub fn with_evidence(mut self, e: serde_json::Value) -> Step {
        self.evidence = Some(e);
        self
    }

    /// The outcome of `kind` on `target` (or on what the step names instead).
    pub fn into_outcome(self, kind: ActionKind, target: impl Into<String>) -> Outcome {
        Outcome {
            kind,
            target: self.target.unwrap_or_else(|| target.into()),
            status: self.status,
            detail: self.detail,
            evidence: self.evidence,
        }
    }
}

/// What one release step did (or, in a dry run, would do) to one resource. `K` is the
/// surface's release step (`ec2::ReleaseStep`…), spelled like the plan's action kinds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseOutcome<K> {
    pub kind: K,
    pub target: String,
    pub status: Status,
    pub detail: String,
}

impl<K> ReleaseOutcome<K> {
    pub fn new(
        kind: K,
        target: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Self {
        ReleaseOutcome {
            kind,
            target: target.into(),
            status,
            detail: detail.into(),
        }
    }
}

/// True when containment did not fully happen and the event must be retried.
pub fn any_failed(outcomes: &[Outcome]) -> bool {
    outcomes
        .iter()
        .any(|o| o.status == Status::Failed && !o.kind.collects_evidence())
}
