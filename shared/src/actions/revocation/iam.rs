//! The IAM calls of revocation: write the deny policy on a role, and on release delete it
//! once every session it denies has expired (or keep it, saying until when).

use super::{REVOKE_POLICY_NAME, Verdict, cutoff, policy, verdict};
use crate::actions::ec2::observe::{api_error, error_code};
use crate::outcome::{Status, Step};
use chrono::Utc;

/// Writes the revocation on `role` (already checked against the configured patterns),
/// denying every session issued before now. `recorded` is why the workload's record of it
/// could not be written, if it could not: the policy is still written (the stolen sessions
/// matter more), and the step says a later release will not find it.
pub(crate) async fn revoke_role(
    iam: &aws_sdk_iam::Client,
    role: &str,
    recorded: Result<(), String>,
) -> Step {
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    match iam
        .put_role_policy()
        .role_name(role)
        .policy_name(REVOKE_POLICY_NAME)
        .policy_document(policy(&now))
        .send()
        .await
    {
        Ok(_) => match recorded {
            Ok(()) => Step::new(
                Status::Done,
                format!("role {role}: sessions issued before {now} denied ({REVOKE_POLICY_NAME})"),
            ),
            Err(e) => Step::new(
                Status::Failed,
                format!("role {role}: sessions before {now} denied, but not recorded ({e})"),
            ),
        },
        Err(e) => Step::new(
            Status::Failed,
            format!("role {role}: {}", api_error("PutRolePolicy", &e)),
        ),
    }
}

/// Release step. Returns the status, the detail, and whether the revocation was kept.
pub(crate) async fn release(
    iam: &aws_sdk_iam::Client,
    role: &str,
    execute: bool,
) -> (Status, String, bool) {
    let doc = match iam
        .get_role_policy()
        .role_name(role)
        .policy_name(REVOKE_POLICY_NAME)
        .send()
        .await
    {
        Ok(o) => o.policy_document().to_owned(),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => {
            return (
                Status::AlreadyDone,
                format!("role {role} has no {REVOKE_POLICY_NAME}"),
                false,
            );
        }
        Err(e) => return (Status::Failed, api_error("GetRolePolicy", &e), true),
    };
    let by_hand =
        format!("aws iam delete-role-policy --role-name {role} --policy-name {REVOKE_POLICY_NAME}");
    match verdict(cutoff(&doc), Utc::now()) {
        Verdict::KeepUntil(until) => (
            Status::Skipped,
            format!(
                "kept: role {role}'s sessions issued before the revocation may have been stolen and \
                 stay valid until {} at most; release again after that, or `{by_hand}`",
                until.format("%Y-%m-%dT%H:%M:%SZ")
            ),
            true,
        ),
        Verdict::KeepUnreadable => (
            Status::Skipped,
            format!(
                "kept: role {role}'s {REVOKE_POLICY_NAME} is not a revocation this responder wrote; \
                 check it, then `{by_hand}`"
            ),
            true,
        ),
        Verdict::Delete if !execute => (
            Status::Skipped,
            format!(
                "dry run: would delete inline policy {REVOKE_POLICY_NAME} of role {role} \
                 (every session it denies has expired)"
            ),
            false,
        ),
        Verdict::Delete => match iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(REVOKE_POLICY_NAME)
            .send()
            .await
        {
            Ok(_) => (
                Status::Done,
                format!(
                    "deleted {REVOKE_POLICY_NAME} from role {role} (every session it denied has expired)"
                ),
                false,
            ),
            Err(e) if error_code(&e) == Some("NoSuchEntity") => (
                Status::AlreadyDone,
                format!("role {role} has no {REVOKE_POLICY_NAME}"),
                false,
            ),
            Err(e) => (Status::Failed, api_error("DeleteRolePolicy", &e), true),
        },
    }
}
