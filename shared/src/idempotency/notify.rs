//! Notify-only findings re-published by GuardDuty: one full alert, then short updates
//! while the severity and decision stay the same. One item per finding (`<id>#notify`)
//! in the idempotency table, kept longer than containment records (GuardDuty re-publishes
//! every 15 minutes to 6 hours).

use super::{Completed, Idempotency, TTL, n, now};
use crate::plan::ResponsePlan;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;

/// What the alert of a notify-only finding said before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    First,
    /// Same severity and decision: a re-publication or re-delivery.
    Same,
    /// The severity or the decision changed: worth a full alert again.
    Changed,
}

impl Idempotency {
    /// Records the severity and decision of a notify-only finding's alert, and says what
    /// the previous one was (one item per finding, `<id>#notify`).
    pub async fn notified(&self, plan: &ResponsePlan) -> Result<Seen, String> {
        let key = format!(
            "{}#notify",
            crate::sanitize::ascii_line(&plan.finding_id, 300)
        );
        let severity = format!("{:.1}", plan.severity);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(super::ID, AttributeValue::S(key))
            .update_expression("SET #v = :v, #d = :d, #t = :t")
            .expression_attribute_names("#v", "severity")
            .expression_attribute_names("#d", "decision")
            .expression_attribute_names("#t", TTL)
            .expression_attribute_values(":v", AttributeValue::S(severity.clone()))
            .expression_attribute_values(":d", AttributeValue::S(plan.decision.as_str().into()))
            .expression_attribute_values(":t", n(now() + self.notify_keep_for.as_secs()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        let old = out.attributes.unwrap_or_default();
        let text = |k: &str| old.get(k).and_then(|v| v.as_s().ok()).cloned();
        let expired = old
            .get(TTL)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|t| t < now());
        if expired {
            return Ok(Seen::First);
        }
        Ok(match (text("severity"), text("decision")) {
            (None, None) => Seen::First,
            (Some(v), Some(d)) if v == severity && d == plan.decision.as_str() => Seen::Same,
            _ => Seen::Changed,
        })
    }
}

/// Notifies a notify-only finding: the full alert the first time and whenever its severity
/// or decision changes, then (with [`RepeatPolicy::Update`]) a short update per
/// re-publication. Without a record, or when it cannot be read, always the full alert.
///
/// [`RepeatPolicy::Update`]: crate::respond::RepeatPolicy::Update
pub async fn notify_once(
    plan: ResponsePlan,
    notifier: &crate::notify::Notifier,
    repeat: crate::respond::RepeatPolicy,
    record: Option<&Idempotency>,
) -> crate::respond::Response {
    use crate::playbook::Decision;
    use crate::respond::{RepeatPolicy, Response, respond};
    let notified = matches!(plan.decision, Decision::Notify | Decision::Approve);
    let seen = match record.filter(|_| notified) {
        Some(r) => r.notified(&plan).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "idempotency table unavailable: full alert");
            Seen::Changed
        }),
        None => Seen::First,
    };
    if seen != Seen::Same || repeat == RepeatPolicy::Full {
        return respond::<Completed>(plan, None, notifier, repeat).await;
    }
    let (notification, deliveries) = match repeat {
        RepeatPolicy::Update if notifier.is_enabled() => {
            let n = crate::render::still_notified(&plan);
            let report = crate::notify::Report {
                plan: &plan,
                outcomes: &[],
                repeat: true,
            };
            let d = notifier.send(&report, &n).await;
            (Some(n), d)
        }
        _ => (None, Vec::new()),
    };
    Response {
        notification,
        plan,
        outcomes: Vec::new(),
        deliveries,
        repeat: true,
        isolated_at: None,
    }
}
