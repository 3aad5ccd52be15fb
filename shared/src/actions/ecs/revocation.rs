//! Revocation of the task role's earlier sessions: the inline deny policy the console's
//! "Revoke active sessions" writes (`aws:TokenIssueTime` `DateLessThan` now), with our name.
//!
//! Release contract: the revocation **stays** while a session it denies could still be
//! valid. Credentials issued before the cutoff may have been exfiltrated from the task;
//! deleting the policy would make them work again. A role session lasts at most
//! [`MAX_SESSION_HOURS`] (ECS task credentials less), so once that has passed since the
//! cutoff the policy denies nothing and release deletes it. Until then release keeps it,
//! keeps the task's `revoked-role` tag (so a later release finds it) and says when it can go.
//! Sessions issued after the cutoff (the released task's refreshed credentials) are not
//! affected by it.

use super::Clients;
use super::evidence::{TaskDefinition, TaskView};
use super::record;
use super::tag_task::tag_task;
use crate::actions::ec2::observe::{api_error, error_code};
use crate::outcome::Status;
use crate::outcome::Step;
use chrono::{DateTime, Duration, Utc};

pub const REVOKE_POLICY_NAME: &str = "guardduty-responder-revoke-older-sessions";

/// The longest an IAM role session can last (`MaxSessionDuration` is at most 12 hours).
pub const MAX_SESSION_HOURS: i64 = 12;

/// The task role's name from its ARN (`arn:…:iam::<acct>:role/<path/>name`).
pub(crate) fn role_name(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    if !resource.starts_with("role/") {
        return None;
    }
    resource
        .rsplit('/')
        .next()
        .filter(|n| record::is_role_name(n))
}

/// The policy document denying every session issued before `now`.
pub fn policy(now: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}}
        }]
    })
    .to_string()
}

/// `%XX` decoding (IAM returns policy documents URL-encoded).
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The latest `aws:TokenIssueTime` cutoff of the document's Deny statements, if it reads
/// as a revocation policy at all.
pub fn cutoff(document: &str) -> Option<DateTime<Utc>> {
    let text = if document.trim_start().starts_with('{') {
        document.to_owned()
    } else {
        percent_decode(document)?
    };
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => return None,
    };
    statements
        .iter()
        .filter(|s| s["Effect"] == "Deny")
        .filter_map(|s| s["Condition"]["DateLessThan"]["aws:TokenIssueTime"].as_str())
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .max()
}

/// What release does with a revocation whose cutoff is `cutoff` (None: unreadable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every session it denies has expired: delete it.
    Delete,
    /// Sessions it denies may still be valid until then: keep it.
    KeepUntil(DateTime<Utc>),
    /// Not a policy we can read (edited by someone?): keep it, a human decides.
    KeepUnreadable,
}

pub fn verdict(cutoff: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Verdict {
    match cutoff {
        None => Verdict::KeepUnreadable,
        Some(t) => {
            let until = t + Duration::hours(MAX_SESSION_HOURS);
            if now >= until {
                Verdict::Delete
            } else {
                Verdict::KeepUntil(until)
            }
        }
    }
}

/// Why nothing is revoked when no role pattern is configured.
pub const REVOCATION_OFF: &str = "revocation is off: no revocable role ARN pattern is configured \
     (ecs.revocable_role_arns; Terraform ecs_revocable_role_arns)";

/// IAM ARN matching: `*` any run of characters (`/` included), `?` one character.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), arn.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Pure: whether revocation may write to `role_arn`. It is off unless role patterns are
/// configured, and then only for roles they match: a policy written on the wrong role
/// (the responder's own, an administrator's) would be an outage or an escalation.
pub fn revocable(role_arn: &str, patterns: &[String]) -> Result<(), String> {
    if patterns.is_empty() {
        return Err(REVOCATION_OFF.into());
    }
    if patterns.iter().any(|p| arn_like(p, role_arn)) {
        Ok(())
    } else {
        Err(format!(
            "task role {:?} matches no revocable role ARN pattern (ecs.revocable_role_arns)",
            crate::sanitize::ascii_line(role_arn, 120)
        ))
    }
}

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
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let note = match record::revoked_role_tag(role) {
        Ok(t) => tag_task(c, &view.arn, &[t]).await.err(),
        Err(e) => Some(e.to_string()),
    };
    match c
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(REVOKE_POLICY_NAME)
        .policy_document(policy(&now))
        .send()
        .await
    {
        Ok(_) => match note {
            None => Step::new(
                Status::Done,
                format!("role {role}: sessions issued before {now} denied ({REVOKE_POLICY_NAME})"),
            ),
            Some(e) => Step::new(
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
pub(crate) async fn release(c: &Clients, role: &str, execute: bool) -> (Status, String, bool) {
    let doc = match c
        .iam
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
        Verdict::Delete => match c
            .iam
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn revocation_is_off_without_patterns_and_limited_to_them() {
        let arn = "arn:aws:iam::123456789012:role/ecs-tasks/payments-task";
        let off = revocable(arn, &[]).unwrap_err();
        assert!(off.contains("revocation is off"), "{off}");
        let by_path = vec!["arn:aws:iam::*:role/ecs-tasks/*".to_owned()];
        assert_eq!(revocable(arn, &by_path), Ok(()));
        for other in [
            "arn:aws:iam::123456789012:role/guardduty-responder-ecs",
            "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
            "arn:aws:iam::123456789012:role/ecs-tasksX/payments-task",
        ] {
            assert!(revocable(other, &by_path).is_err(), "{other}");
        }
        let named = vec!["arn:aws:iam::123456789012:role/payments-?ask".to_owned()];
        assert!(revocable("arn:aws:iam::123456789012:role/payments-task", &named).is_ok());
        assert!(revocable("arn:aws:iam::123456789012:role/payments-tasks", &named).is_err());
    }

    #[test]
    fn role_names_from_arns() {
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/service/payments-task"),
            Some("payments-task")
        );
        assert_eq!(role_name("arn:aws:iam::123456789012:user/x"), None);
        assert_eq!(role_name("nonsense"), None);
    }

    #[test]
    fn the_policy_denies_older_tokens_and_reads_back() {
        let doc = policy("2026-01-01T00:00:00Z");
        let p: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(p["Statement"][0]["Effect"], "Deny");
        assert_eq!(cutoff(&doc), Some(at("2026-01-01T00:00:00Z")));
        // As IAM returns it: URL-encoded.
        let encoded: String = doc
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert_eq!(cutoff(&encoded), Some(at("2026-01-01T00:00:00Z")));
        assert_eq!(cutoff(r#"{"Statement":[{"Effect":"Allow"}]}"#), None);
        assert_eq!(cutoff("%zz"), None);
    }

    #[test]
    fn kept_while_a_denied_session_may_live() {
        let t = at("2026-01-01T00:00:00Z");
        assert_eq!(
            verdict(Some(t), at("2026-01-01T11:59:59Z")),
            Verdict::KeepUntil(at("2026-01-01T12:00:00Z"))
        );
        assert_eq!(
            verdict(Some(t), at("2026-01-01T12:00:00Z")),
            Verdict::Delete
        );
        assert_eq!(verdict(None, t), Verdict::KeepUnreadable);
    }
}
