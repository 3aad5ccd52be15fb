//! EKS steps are the shared [`Step`], each naming the pod or node it acted on; several
//! pods' results of one action are merged into the action's one step.

use crate::outcome::{Status, Step};

/// The result of one action on `target` (a pod or node).
pub(crate) fn on(target: impl Into<String>, status: Status, detail: impl Into<String>) -> Step {
    Step::new(status, detail).on(target)
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
        .map(|(_, p)| p.target.as_deref().unwrap_or_default())
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
    let step = on(target, status, detail);
    match evidence.is_empty() {
        true => step,
        false => step.with_evidence(serde_json::Value::Array(evidence)),
    }
}
