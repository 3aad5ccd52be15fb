//! One action's result on one pod or node, and several merged into the action's outcome.

use crate::outcome::Status;

/// The result of one action on one pod or node.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub target: String,
    pub status: Status,
    pub detail: String,
    pub evidence: Option<serde_json::Value>,
}

impl Step {
    pub fn new(target: impl Into<String>, status: Status, detail: impl Into<String>) -> Step {
        Step {
            target: target.into(),
            status,
            detail: detail.into(),
            evidence: None,
        }
    }

    pub fn with_evidence(mut self, e: serde_json::Value) -> Step {
        self.evidence = Some(e);
        self
    }

    /// The fan-out's step: the same result, naming the pods or node it acted on.
    pub fn into_step(self) -> crate::outcome::Step {
        let step = crate::outcome::Step::new(self.status, self.detail).on(self.target);
        match self.evidence {
            Some(e) => step.with_evidence(e),
            None => step,
        }
    }

    /// One step from the same action on several pods (or nodes): failed if any failed,
    /// done if any was done, else already done, else skipped.
    pub(super) fn merge(mut parts: Vec<(Vec<String>, Step)>) -> Step {
        if parts.len() == 1 {
            return parts.pop().expect("one").1;
        }
        let status = [Status::Failed, Status::Done, Status::AlreadyDone]
            .into_iter()
            .find(|s| parts.iter().any(|(_, p)| p.status == *s))
            .unwrap_or(Status::Skipped);
        let target = parts
            .iter()
            .map(|(_, p)| p.target.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let detail = parts
            .iter()
            .map(|(names, p)| format!("{}: {} ({})", names.join(", "), p.detail, p.status.as_str()))
            .collect::<Vec<_>>()
            .join("; ");
        let evidence = parts
            .iter()
            .filter_map(|(_, p)| p.evidence.clone())
            .collect::<Vec<_>>();
        Step {
            target,
            status,
            detail,
            evidence: (!evidence.is_empty()).then_some(serde_json::Value::Array(evidence)),
        }
    }
}
