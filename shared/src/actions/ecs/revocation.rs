//! The ECS task role's part of revocation ([`crate::actions::revocation`]): which role the
//! task runs as (its override, else its task definition's), recorded on the task before
//! the policy is written.

use super::Clients;
use super::evidence::{TaskDefinition, TaskView};
use super::record;
use super::tag_task::tag_task;
use crate::actions::revocation::{self, REVOCATION_OFF, revocable, role_name};
use crate::outcome::{Status, Step};

/// Isolation step: record the role on the task, then write the policy.
pub(crate) async fn revoke(
    c: &Clients,
    view: &TaskView,
    taskdef: &Option<Result<TaskDefinition, String>>,
    patterns: &[String],
) -> Step {
    if patterns.is_empty() {
        return Step::new(Status::Skipped, REVOCATION_OFF);
    }
    let arn = match (&view.task_role_override, taskdef) {
        (Some(a), _) => a.clone(),
        (None, Some(Ok(d))) => match &d.task_role_arn {
            Some(a) => a.clone(),
            None => return Step::new(Status::Skipped, "the task has no task role"),
        },
        (None, Some(Err(e))) => return Step::new(Status::Failed, e.clone()),
        (None, None) => return Step::new(Status::Failed, "the task definition is unknown"),
    };
    if let Err(why) = revocable(&arn, patterns) {
        return Step::new(Status::Skipped, why);
    }
    let Some(role) = role_name(&arn) else {
        return Step::new(
            Status::Failed,
            format!(
                "unexpected task role ARN {:?}",
                crate::sanitize::ascii_line(&arn, 120)
            ),
        );
    };
    let recorded = match record::revoked_role_tag(role) {
        Ok(t) => tag_task(c, &view.arn, &[t]).await,
        Err(e) => Err(e.to_string()),
    };
    revocation::revoke_role(&c.ec2.iam, role, recorded).await
}
