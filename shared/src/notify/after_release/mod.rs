//! After a release: mark the finding's Security Hub counterpart `RESOLVED` and archive the
//! GuardDuty finding, each only when configured and only after a release that completed.
//! One entry point ([`send::after_release`]) for every release path: `responder release`
//! and any other front end that releases through the same executors.
//!
//! The finding id comes from the release record (a tag or an annotation anyone allowed to
//! tag the resource could rewrite), so every id the ARN is built from is validated: a
//! hostile value cannot steer the write-back to another finding or another API path.
//! Failures are outcomes: they never fail or undo the release.
//!
//! This module is pure (what to send, or why not); [`send`] calls the APIs.

pub mod send;

use super::securityhub::update::{FIELD_RESPONDER, FindingUpdate, NOTE_MAX, Workflow, bounded};
use crate::outcome::{ReleaseOutcome, Status};
use crate::sanitize::ascii_line;
use crate::validate;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;

/// `on`: after a completed release, `BatchUpdateFindings` `Workflow.Status` `RESOLVED`.
pub const RESOLVE_ENV: &str = "RESPONDER_SECURITYHUB_RESOLVE_ON_RELEASE";
/// `on`: after a completed release, GuardDuty `ArchiveFindings`.
pub const ARCHIVE_ENV: &str = "RESPONDER_GUARDDUTY_ARCHIVE_ON_RELEASE";

/// What the caller of a release additionally needs when these are configured.
pub const PERMISSIONS: &[&str] = &[
    "guardduty:ListDetectors",
    "securityhub:BatchUpdateFindings",
    "guardduty:ArchiveFindings",
];

/// Which write-backs are wanted. Both are off unless asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    pub resolve_in_securityhub: bool,
    pub archive_in_guardduty: bool,
}

impl Settings {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Settings {
        let on = |k: &str| {
            var(k).is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "on" | "true"))
        };
        Settings {
            resolve_in_securityhub: on(RESOLVE_ENV),
            archive_in_guardduty: on(ARCHIVE_ENV),
        }
    }

    pub fn any(self) -> bool {
        self.resolve_in_securityhub || self.archive_in_guardduty
    }

    fn steps(self) -> Vec<Step> {
        let mut steps = Vec::new();
        if self.resolve_in_securityhub {
            steps.push(Step::ResolveInSecurityHub);
        }
        if self.archive_in_guardduty {
            steps.push(Step::ArchiveInGuardDuty);
        }
        steps
    }
}

/// One after-release step. Spelled like the release steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    ResolveInSecurityHub,
    ArchiveInGuardDuty,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::ResolveInSecurityHub => "securityhub.resolve_finding",
            Step::ArchiveInGuardDuty => "guardduty.archive_finding",
        }
    }
}

crate::action::serialize_by_name!(Step);

pub type AfterReleaseOutcome = ReleaseOutcome<Step>;

/// How the release ended: only a complete one is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    DryRun,
    /// A step failed: the resource may still be (partly) contained.
    Incomplete,
    Complete,
}

impl Ended {
    pub fn of<K>(executed: bool, outcomes: &[ReleaseOutcome<K>]) -> Ended {
        if !executed {
            Ended::DryRun
        } else if outcomes.iter().any(|o| o.status == Status::Failed) {
            Ended::Incomplete
        } else {
            Ended::Complete
        }
    }
}

/// A release, as the write-back needs it. Every string is untrusted until [`check`].
#[derive(Debug, Clone)]
pub struct Release<'a> {
    /// The finding the release record names, if it names one.
    pub finding_id: Option<&'a str>,
    pub account: &'a str,
    pub region: &'a str,
    /// What was released, e.g. `instance i-0a1b2c3d4e5f60718`.
    pub released: &'a str,
    /// Who released it, e.g. the caller's ARN.
    pub by: &'a str,
    pub at: DateTime<Utc>,
    pub ended: Ended,
}

/// The ids a finding ARN is built from, each validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub partition: &'static str,
    pub finding_id: String,
}

/// The partition a region belongs to.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The finding id as outcomes show it: printable, bounded.
fn shown(finding_id: Option<&str>) -> String {
    finding_id.map_or_else(
        || "(no finding recorded)".to_owned(),
        |id| ascii_line(id, 64),
    )
}

/// The same outcome for every configured step (e.g. every step failed because the
/// caller's account could not be read).
pub fn each(
    settings: Settings,
    finding_id: Option<&str>,
    status: Status,
    detail: &str,
) -> Vec<AfterReleaseOutcome> {
    settings
        .steps()
        .into_iter()
        .map(|s| ReleaseOutcome::new(s, shown(finding_id), status, detail))
        .collect()
}

/// The validated ids, or one outcome per configured step saying why nothing is sent
/// (nothing configured: no outcomes at all).
pub fn check(settings: Settings, r: &Release) -> Result<Checked, Vec<AfterReleaseOutcome>> {
    let steps = settings.steps();
    if steps.is_empty() {
        return Err(Vec::new());
    }
    let target = shown(r.finding_id);
    let not = |status: Status, why: &str| each(settings, r.finding_id, status, why);
    let id = match (r.ended, r.finding_id) {
        (Ended::DryRun, _) => {
            return Err(steps
                .iter()
                .map(|s| {
                    let would = match s {
                        Step::ResolveInSecurityHub => "mark the Security Hub finding RESOLVED",
                        Step::ArchiveInGuardDuty => "archive the GuardDuty finding",
                    };
                    ReleaseOutcome::new(
                        *s,
                        target.clone(),
                        Status::Skipped,
                        format!("dry run: would {would} after the release"),
                    )
                })
                .collect());
        }
        (Ended::Incomplete, _) => {
            return Err(not(
                Status::Skipped,
                "not written: the release did not complete (the finding stays open)",
            ));
        }
        (Ended::Complete, None) => {
            return Err(not(Status::Skipped, "the release record names no finding"));
        }
        (Ended::Complete, Some(id)) => id,
    };
    if !validate::is_finding_id(id) {
        return Err(not(
            Status::Failed,
            "the release record's finding id is not a GuardDuty finding id: nothing sent",
        ));
    }
    if !validate::is_region(r.region) || !validate::is_account_id(r.account) {
        return Err(not(
            Status::Failed,
            "no valid account and region: nothing sent",
        ));
    }
    Ok(Checked {
        partition: partition(r.region),
        finding_id: id.to_owned(),
    })
}

/// `arn:<partition>:guardduty:<region>:<account>:detector/<detector>/finding/<id>`, or
/// `None` when the detector id (from `ListDetectors`) is not one.
pub fn finding_arn(c: &Checked, r: &Release, detector: &str) -> Option<String> {
    validate::is_detector_id(detector).then(|| {
        format!(
            "arn:{}:guardduty:{}:{}:detector/{detector}/finding/{}",
            c.partition, r.region, r.account, c.finding_id
        )
    })
}

/// The Security Hub update: `RESOLVED`, a note saying who released what and when, and
/// the responder's fields (`…:outcome` `released`, `…:released-by`, `…:released-at`).
pub fn resolve_update(c: &Checked, r: &Release, arn: &str) -> FindingUpdate {
    let by = Some(ascii_line(r.by, 200))
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let at = r.at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let note = format!(
        "GuardDuty responder: released by {by} at {at}: {}. Containment undone; the finding is resolved.",
        ascii_line(r.released, 200)
    );
    let fields = BTreeMap::from([
        (format!("{FIELD_RESPONDER}:outcome"), "released".to_owned()),
        (format!("{FIELD_RESPONDER}:released-by"), by.clone()),
        (format!("{FIELD_RESPONDER}:released-at"), at),
    ]);
    FindingUpdate {
        product_arn: format!(
            "arn:{}:securityhub:{}::product/aws/guardduty",
            c.partition, r.region
        ),
        id: arn.to_owned(),
        region: r.region.to_owned(),
        workflow: Workflow::Resolved,
        note: bounded(&note, NOTE_MAX),
        updated_by: bounded(&by, NOTE_MAX),
        fields,
    }
}

#[cfg(test)]
mod tests;
