//! One artefact's command: `SendCommand` of its script, then `GetCommandInvocation` until
//! it ends or the capture's deadline passes. Whatever happens is a [`Run`]: the caller
//! turns every run into the artefact's object or gap, never a failed capture on its own.

use super::script::{self, Artefact};
use super::{DOCUMENT, Target};
use crate::actions::ec2::observe::api_error;
use aws_sdk_ssm::types::CommandInvocationStatus as S;
use std::time::{Duration, Instant};

/// The time between two `GetCommandInvocation` calls of one command.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// How one artefact's command went.
#[derive(Debug)]
pub(crate) struct Run {
    pub artefact: Artefact,
    pub script: String,
    /// None: no command was sent.
    pub command_id: Option<String>,
    /// How it ended, or why it did not (not sent, refused, still running at the deadline).
    pub ended: Result<Ended, String>,
}

/// How a command ended, as `GetCommandInvocation` said.
#[derive(Debug, Clone)]
pub(crate) struct Ended {
    pub status: S,
    pub details: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Sends `artefact`'s command to the target and waits for it until `deadline`.
pub(crate) async fn run(
    ssm: &aws_sdk_ssm::Client,
    target: &Target<'_>,
    artefact: Artefact,
    deadline: Instant,
) -> Run {
    let script = script::script(&artefact);
    let mut out = Run {
        artefact,
        script: script.clone(),
        command_id: None,
        ended: Err(String::new()),
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left < Duration::from_secs(1) {
        out.ended = Err(format!(
            "not sent: the time limit of {}s passed before its turn",
            target.timeout.as_secs()
        ));
        return out;
    }
    let send = ssm
        .send_command()
        .document_name(DOCUMENT)
        .instance_ids(target.instance_id)
        .comment(crate::sanitize::ascii_line(
            &format!(
                "guardduty-responder capture {} {}",
                artefact.name(),
                target.prefix.finding_id()
            ),
            100,
        ))
        .parameters("commands", vec![script])
        .parameters("executionTimeout", vec![left.as_secs().to_string()])
        // The delivery time limit: SSM accepts no less than 30 s.
        .timeout_seconds(i32::try_from(left.as_secs().max(30)).unwrap_or(i32::MAX))
        // Where the instance can reach S3, its agent uploads the whole output there.
        .output_s3_bucket_name(target.output.0)
        .output_s3_key_prefix(&target.output.1)
        .set_output_s3_region(target.output.2.map(str::to_owned));
    let id = match send.send().await {
        Ok(o) => o
            .command()
            .and_then(|c| c.command_id())
            .unwrap_or_default()
            .to_owned(),
        Err(e) => {
            out.ended = Err(format!("no command sent: {}", api_error("SendCommand", &e)));
            return out;
        }
    };
    out.ended = wait(ssm, &id, target.instance_id, deadline, target.timeout).await;
    out.command_id = Some(id);
    out
}

/// Polls until the invocation ends, a call is refused, or the deadline passes. An
/// invocation SSM does not know yet (`InvocationDoesNotExist`, just after the send) is
/// waited for.
async fn wait(
    ssm: &aws_sdk_ssm::Client,
    command_id: &str,
    instance_id: &str,
    deadline: Instant,
    limit: Duration,
) -> Result<Ended, String> {
    let mut last = "not yet known to SSM".to_owned();
    loop {
        let got = ssm
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id)
            .send()
            .await;
        match got {
            Ok(o) => {
                let status = o.status().cloned().unwrap_or(S::Pending);
                if !matches!(status, S::Pending | S::InProgress | S::Delayed) {
                    return Ok(Ended {
                        status,
                        details: o.status_details().unwrap_or_default().to_owned(),
                        code: Some(o.response_code()),
                        stdout: o.standard_output_content().unwrap_or_default().to_owned(),
                        stderr: o.standard_error_content().unwrap_or_default().to_owned(),
                    });
                }
                last = status.as_str().to_owned();
            }
            Err(e)
                if aws_sdk_ssm::error::ProvideErrorMetadata::code(&e)
                    == Some("InvocationDoesNotExist") => {}
            Err(e) => return Err(api_error("GetCommandInvocation", &e)),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "still {} after the time limit of {}s (ec2.volatile_capture.timeout_seconds); \
                 SSM stops it at the same limit",
                crate::sanitize::ascii_line(&last, 40),
                limit.as_secs()
            ));
        }
        tokio::time::sleep(POLL_EVERY.min(deadline - now)).await;
    }
}
