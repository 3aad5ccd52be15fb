//! The after-release calls: `ListDetectors` (the finding ARN names the detector), then
//! `BatchUpdateFindings` and `ArchiveFindings`, each reported as an outcome.

use super::{
    AfterReleaseOutcome, Release, Settings, Step, check, each, finding_arn, resolve_update,
};
use crate::notify::securityhub::SecurityHubWriter;
use crate::outcome::{ReleaseOutcome, Status};
use crate::sanitize::ascii_line;

/// Writes back a release as configured. Never fails: every problem (access denied, no
/// detector, no Security Hub counterpart, throttling past the SDK's retries) is a
/// `failed` outcome, and nothing is sent unless the release completed.
pub async fn after_release(
    sdk: &aws_config::SdkConfig,
    settings: Settings,
    r: &Release<'_>,
) -> Vec<AfterReleaseOutcome> {
    let checked = match check(settings, r) {
        Ok(c) => c,
        Err(outcomes) => return outcomes,
    };
    let failed =
        |detail: String| each(settings, Some(&checked.finding_id), Status::Failed, &detail);
    let config = aws_sdk_guardduty::config::Builder::from(sdk)
        .region(aws_config::Region::new(r.region.to_owned()))
        .build();
    let guardduty = aws_sdk_guardduty::Client::from_conf(config);
    let detectors = match guardduty.list_detectors().send().await {
        Ok(out) => out.detector_ids().to_vec(),
        Err(e) => return failed(format!("ListDetectors: {}", error_text(e))),
    };
    let Some(detector) = detectors.first() else {
        return failed(format!(
            "no GuardDuty detector in {} for account {}",
            r.region, r.account
        ));
    };
    let Some(arn) = finding_arn(&checked, r, detector) else {
        return failed("ListDetectors returned something that is not a detector id".into());
    };
    let mut outcomes = Vec::new();
    for step in settings.steps() {
        let (status, detail) = match step {
            Step::ResolveInSecurityHub => {
                let update = resolve_update(&checked, r, &arn);
                let d = SecurityHubWriter::new(sdk, update.updated_by.clone())
                    .write(&update)
                    .await;
                if d.ok {
                    (Status::Done, format!("{arn}: {}", d.detail))
                } else {
                    (Status::Failed, d.detail)
                }
            }
            Step::ArchiveInGuardDuty => match guardduty
                .archive_findings()
                .detector_id(detector)
                .finding_ids(&checked.finding_id)
                .send()
                .await
            {
                Ok(_) => (Status::Done, format!("archived {arn}")),
                Err(e) => (
                    Status::Failed,
                    format!("ArchiveFindings: {}", error_text(e)),
                ),
            },
        };
        outcomes.push(ReleaseOutcome::new(
            step,
            &checked.finding_id,
            status,
            detail,
        ));
    }
    outcomes
}

fn error_text<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> String {
    ascii_line(
        &aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
        300,
    )
}

/// Who is calling, from STS `GetCallerIdentity`: the account whose finding a release
/// resolves (the release acted with these credentials) and the ARN named as releaser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

pub async fn caller(sdk: &aws_config::SdkConfig) -> Result<Caller, String> {
    let out = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| format!("GetCallerIdentity: {}", error_text(e)))?;
    Ok(Caller {
        account: out.account().unwrap_or_default().to_owned(),
        arn: out.arn().unwrap_or_default().to_owned(),
    })
}
