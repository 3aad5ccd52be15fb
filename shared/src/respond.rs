//! One finding, end to end: execute the plan (if containing and enforcing), then notify
//! with what was done. Shared by the Lambda handler and `responder replay --execute`.

use crate::execute::Executor;
use crate::notify::{Delivery, Notifier};
use crate::outcome::{Outcome, Status};
use crate::plan::ResponsePlan;
use crate::playbook::Decision;
use crate::render::{Notification, render, still_active};
use serde::{Deserialize, Serialize};

/// What to send when a re-delivered or re-published finding is already contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepeatPolicy {
    /// A short "still active (count N)" update.
    #[default]
    Update,
    /// The full alert again.
    Full,
    /// Nothing.
    None,
}

impl RepeatPolicy {
    pub fn parse(text: &str) -> Option<RepeatPolicy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "update" => Some(RepeatPolicy::Update),
            "full" => Some(RepeatPolicy::Full),
            "none" => Some(RepeatPolicy::None),
            _ => None,
        }
    }
}

/// The record of one response, logged and returned.
#[derive(Debug, Serialize)]
pub struct Response {
    #[serde(flatten)]
    pub plan: ResponsePlan,
    /// What was sent (or, with the notifier off, what would have been); none when nothing
    /// is due (ignored, a silent repeat), so those cost no rendering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<Notification>,
    pub outcomes: Vec<Outcome>,
    pub deliveries: Vec<Delivery>,
    /// True when only a "still active" update (or nothing) was sent.
    pub repeat: bool,
    /// When the executor returned having isolated the workload (an isolating action
    /// `done`): the end point of the time-to-isolation metrics. The executors report their
    /// steps together at the end of a run, so this is the last isolating action's time to
    /// within the evidence steps that follow it in the same run.
    #[serde(skip)]
    pub isolated_at: Option<std::time::SystemTime>,
}

impl Response {
    pub fn containment_failed(&self) -> bool {
        crate::outcome::any_failed(&self.outcomes)
    }
}

/// Executes (when `executor` is given and the plan contains) and notifies. Notification
/// failures are reported in `deliveries` and never affect containment.
pub async fn respond<E: Executor>(
    plan: ResponsePlan,
    executor: Option<&E>,
    notifier: &Notifier,
    repeat: RepeatPolicy,
) -> Response {
    let outcomes = match executor {
        Some(e) if plan.decision == Decision::Contain && !plan.actions.is_empty() => {
            e.execute(&plan).await
        }
        _ => Vec::new(),
    };
    let isolated_at = outcomes
        .iter()
        .any(|o| o.status == Status::Done && o.kind.isolates())
        .then(std::time::SystemTime::now);
    // Nothing new happened: every step was already done (or does not apply).
    let is_repeat = outcomes.iter().any(|o| o.status == Status::AlreadyDone)
        && outcomes
            .iter()
            .all(|o| matches!(o.status, Status::AlreadyDone | Status::Skipped));
    let notification: Option<Notification> = match (plan.decision, is_repeat, repeat) {
        (Decision::Ignore, ..) => None,
        (_, true, RepeatPolicy::None) => None,
        (_, true, RepeatPolicy::Update) => Some(still_active(&plan)),
        (_, _, _) if !outcomes.is_empty() => Some(render(&plan, Some(&outcomes))),
        _ => Some(plan.notification()),
    };
    let deliveries = match &notification {
        Some(n) if notifier.is_enabled() => {
            let report = crate::notify::Report {
                plan: &plan,
                outcomes: &outcomes,
                repeat: is_repeat,
            };
            notifier.send(&report, n).await
        }
        _ => Vec::new(),
    };
    Response {
        notification,
        plan,
        outcomes,
        deliveries,
        repeat: is_repeat,
        isolated_at,
    }
}
