//! Revocation of a workload role's earlier sessions, one action on every surface (the ECS
//! task role, the EC2 instance profile's role, the EKS pod's IRSA or Pod Identity role):
//! the inline deny policy the console's "Revoke active sessions" writes
//! (`aws:TokenIssueTime` `DateLessThan` now), with our name.
//!
//! Release contract: the revocation **stays** while a session it denies could still be
//! valid. Credentials issued before the cutoff may have been exfiltrated from the workload;
//! deleting the policy would make them work again. A role session lasts at most
//! [`MAX_SESSION_HOURS`], so once that has passed since the cutoff the policy denies
//! nothing and release deletes it. Until then release keeps it, keeps the workload's
//! `revoked-role` record (so a later release finds it) and says when it can go. Sessions
//! issued after the cutoff (the released workload's refreshed credentials) are not affected.
//!
//! This file is the pure part (which roles, which policy, when it may go); `iam.rs` writes
//! and deletes it; each surface finds its workload's role and records it.

use chrono::{DateTime, Duration, Utc};

mod iam;
mod service_account;

pub(crate) use iam::{release, revoke_role};
pub use service_account::{IRSA_ROLE_ANNOTATION, trusts_service_account};

pub const REVOKE_POLICY_NAME: &str = "guardduty-responder-revoke-older-sessions";

/// The longest an IAM role session can last (`MaxSessionDuration` is at most 12 hours).
pub const MAX_SESSION_HOURS: i64 = 12;

/// A role's name from its ARN (`arn:…:iam::<acct>:role/<path/>name`).
pub(crate) fn role_name(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    if !resource.starts_with("role/") {
        return None;
    }
    resource.rsplit('/').next().filter(|n| is_role_name(n))
}

/// IAM role names: letters, digits and `+=,.@_-`, up to 64 (commas cannot be tagged).
pub fn is_role_name(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=.@_-".contains(&b))
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

/// A policy document as IAM returns it (URL-encoded, or plain JSON from some callers), as
/// JSON; `None` when it is neither.
pub fn policy_document(document: &str) -> Option<serde_json::Value> {
    let text = if document.trim_start().starts_with('{') {
        document.to_owned()
    } else {
        percent_decode(document)?
    };
    serde_json::from_str(&text).ok()
}

/// `%XX` decoding.
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
    let doc = policy_document(document)?;
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
     (revocation.role_arns; Terraform revocable_role_arns)";

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
            "role {:?} matches no revocable role ARN pattern (revocation.role_arns)",
            crate::sanitize::ascii_line(role_arn, 120)
        ))
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
