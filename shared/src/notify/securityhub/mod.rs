//! Security Hub write-back: after each response, `BatchUpdateFindings` on the finding's
//! Security Hub counterpart, so analysts find the result where they triage. A channel like
//! SNS and Slack: it reports a [`Delivery`] (`securityhub`), and its failure never undoes
//! or blocks containment.
//!
//! GuardDuty gets no write-back: its API has no notes or workflow, and the only thing it
//! could do — archive the finding — would hide it from the console and from every rule
//! that reads `service.archived`, while the workload is still contained. Archiving after a
//! release is the one safe moment: [`super::after_release`], only when configured.

pub mod update;

use super::Delivery;
use aws_sdk_securityhub::types::{
    AwsSecurityFindingIdentifier, NoteUpdate, WorkflowStatus, WorkflowUpdate,
};
use update::FindingUpdate;

pub const CHANNEL: &str = "securityhub";

/// Built once per cold start; a client per call, in the finding's region (Security Hub is
/// regional, and its counterpart lives where GuardDuty found it).
pub struct SecurityHubWriter {
    sdk: aws_config::SdkConfig,
    /// `Note.UpdatedBy` and the `guardduty-responder` field: the function's name.
    pub function: String,
}

impl SecurityHubWriter {
    pub fn new(sdk: &aws_config::SdkConfig, function: String) -> SecurityHubWriter {
        SecurityHubWriter {
            sdk: sdk.clone(),
            function,
        }
    }

    pub async fn write(&self, u: &FindingUpdate) -> Delivery {
        let result = |ok: bool, detail: String| Delivery {
            channel: CHANNEL,
            ok,
            detail,
        };
        let config = aws_sdk_securityhub::config::Builder::from(&self.sdk)
            .region(aws_config::Region::new(u.region.clone()))
            .build();
        let client = aws_sdk_securityhub::Client::from_conf(config);
        let identifier = AwsSecurityFindingIdentifier::builder()
            .id(&u.id)
            .product_arn(&u.product_arn)
            .build();
        let note = NoteUpdate::builder()
            .text(&u.note)
            .updated_by(&u.updated_by)
            .build();
        let status = WorkflowStatus::from(u.workflow.as_str());
        let sent = client
            .batch_update_findings()
            .finding_identifiers(identifier)
            .note(note)
            .workflow(WorkflowUpdate::builder().status(status).build())
            .set_user_defined_fields(Some(u.fields.clone().into_iter().collect()))
            .send()
            .await;
        match sent {
            Ok(out) => match out.unprocessed_findings().first() {
                None => result(true, format!("{} with a note", u.workflow.as_str())),
                Some(f) => result(
                    false,
                    format!(
                        "unprocessed: {} {}",
                        f.error_code().unwrap_or("?"),
                        crate::sanitize::ascii_line(f.error_message().unwrap_or(""), 200)
                    ),
                ),
            },
            Err(e) => result(
                false,
                crate::sanitize::ascii_line(
                    &aws_sdk_securityhub::error::DisplayErrorContext(e).to_string(),
                    300,
                ),
            ),
        }
    }
}
