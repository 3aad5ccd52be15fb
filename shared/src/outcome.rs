//! What happened to each planned action: the executors' report and the notification's body.

use crate::plan::ActionKind;
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

/// True when containment did not fully happen and the event must be retried.
pub fn any_failed(outcomes: &[Outcome]) -> bool {
    outcomes.iter().any(|o| o.status == Status::Failed)
}
