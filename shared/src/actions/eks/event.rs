//! `eks.record_event`: a Kubernetes Event on the pod, so `kubectl describe pod` and anyone
//! watching events see that it is quarantined and why.

use super::k8s::ApiError;
use super::pod::PodView;
use super::step;
use super::{Ctx, FIELD_MANAGER, Step};
use crate::outcome::Status;
use crate::sanitize::ascii_line;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, PostParams};
use serde_json::json;

pub const REASON: &str = "GuardDutyQuarantine";

/// A stable name per (pod, finding): a re-delivered finding gets a 409 and is reported as
/// already done instead of piling up events.
pub fn event_name(pod: &str, finding_id: &str) -> String {
    let id: String = finding_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(32)
        .collect();
    let id = if id.is_empty() {
        "unknown".to_owned()
    } else {
        id
    };
    let room = 253 - ".gdr-".len() - id.len();
    let pod: String = pod.chars().take(room).collect();
    format!("{}.gdr-{id}", pod.trim_end_matches(['-', '.']))
}

pub(crate) async fn record(ctx: &Ctx<'_>, p: &PodView) -> Step {
    let target = p.display(ctx.cluster);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let message = format!(
        "Quarantined by guardduty-responder for GuardDuty finding {} ({}); see its guardduty-responder/* labels and annotations and the guardduty-responder-quarantine NetworkPolicy. Do not delete the pod: it is evidence. Undo with `responder release eks`.",
        ascii_line(&ctx.plan.finding_type, 120),
        ascii_line(&ctx.plan.finding_id, 80),
    );
    let event: Event = match serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": { "name": event_name(&p.name, &ctx.plan.finding_id), "namespace": p.namespace },
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": p.name,
            "namespace": p.namespace,
            "uid": p.uid,
        },
        "reason": REASON,
        "message": message,
        "type": "Warning",
        "source": { "component": FIELD_MANAGER },
        "reportingComponent": FIELD_MANAGER,
        "reportingInstance": FIELD_MANAGER,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    })) {
        Ok(e) => e,
        Err(e) => return step::on(target, Status::Failed, format!("building the event: {e}")),
    };
    let api: Api<Event> = Api::namespaced(ctx.client.clone(), &p.namespace);
    match api.create(&PostParams::default(), &event).await {
        Ok(_) => step::on(
            target,
            Status::Done,
            format!("recorded Warning event {REASON} on the pod"),
        ),
        Err(e) if super::k8s::code(&e) == Some(409) => step::on(
            target,
            Status::AlreadyDone,
            format!("event {REASON} for this finding already recorded"),
        ),
        Err(e) => step::on(
            target,
            Status::Failed,
            ApiError::new(&e, "create", "events").to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_valid_and_stable() {
        let n = event_name("web-7d4b9c8f5-x2x1z", "60baffd3f9042e38640f2300d5c5a631");
        assert_eq!(
            n,
            "web-7d4b9c8f5-x2x1z.gdr-60baffd3f9042e38640f2300d5c5a631"
        );
        let long = event_name(&"a".repeat(253), "<script>");
        assert!(
            long.len() <= 253 && crate::target::is_k8s_name(&long),
            "{long}"
        );
    }
}
