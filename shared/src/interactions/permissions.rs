//! IAM actions of the interactions function on top of the ec2, ecs and eks executors'
//! (`actions::<surface>::permissions`, with their release permissions). Checked against
//! `local.interactions_permissions` in `infra/modules/responder/permissions.tf` by a test.

pub const PERMISSIONS: &[&str] = &[
    // work::fetch — the clicked finding (history::get_finding; ListDetectors is the
    // executors' already).
    "guardduty:GetFindings",
    // Dispatch — the asynchronous self-invocation that does the work.
    "lambda:InvokeFunction",
    // After a Release click, as `responder release` (notify::after_release, opt-in):
    // archive the finding; resolving it in Security Hub is the notifiers' grant.
    "guardduty:ArchiveFindings",
    "securityhub:BatchUpdateFindings",
    // Accounts::for_surface — a member account's finding: `<prefix>-<surface>` there.
    "sts:AssumeRole",
    // budget::Budget::take — the first refusal of a scope in an hour: the rate-limit alert.
    "sns:Publish",
];
