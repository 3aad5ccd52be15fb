//! `ec2.capture_volatile` (docs/evidence.md): once isolation has run, one SSM
//! `SendCommand` of `AWS-RunShellScript` to the contained instance ([`script`]), its output
//! written by the instance straight to the evidence bucket under the bundle's
//! `volatile/ssm/` prefix, then `GetCommandInvocation` until the command ends or the time
//! limit. What the responder itself received (the command's record, the script, the first
//! 24,000 characters of its output that SSM returns) goes into the bundle's manifest; the
//! objects the instance writes are listed by prefix, not hashed (the responder cannot read
//! the bucket). Collection, never containment: whatever happens is this step's outcome.

pub mod script;

use super::observe::api_error;
use crate::evidence::BundlePrefix;
use crate::evidence::collect::{Collected, Collection, Evidence};
use crate::options::VolatileCapture;
use crate::outcome::Step;
use aws_sdk_ssm::types::CommandInvocationStatus as S;
use serde_json::json;
use std::time::{Duration, Instant};

/// The SSM document: AWS's own, so nothing the responder's role cannot see runs.
pub const DOCUMENT: &str = "AWS-RunShellScript";
/// Where, under the bundle, the instance writes its output (SSM then appends
/// `<command-id>/<instance-id>/awsrunShellScript/0.awsrunShellScript/stdout|stderr`).
pub const OUTPUT_DIR: &str = "volatile/ssm";
/// The command's record in the bundle (and in its manifest); `responder evidence verify`
/// lists the objects under [`OUTPUT_DIR`] as unverified when the manifest holds it.
pub const RECORD_NAME: &str = crate::evidence::verify::VOLATILE_RECORD;

/// What the capture gives: its step, and the objects for the bundle's manifest.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub step: Option<Step>,
    pub collection: Collection,
}

/// The time between two `GetCommandInvocation` calls.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Runs the capture on `instance_id` for the finding's PIDs (`pids`: already validated).
pub(crate) async fn capture(
    ssm: &aws_sdk_ssm::Client,
    ev: &Evidence,
    options: &VolatileCapture,
    prefix: &BundlePrefix,
    instance_id: &str,
    pids: &[u32],
) -> Captured {
    let bucket = ev.store.bucket().to_owned();
    let key_prefix = format!("{prefix}{OUTPUT_DIR}");
    let script = script::script(pids);
    let mut out = Collection::default();
    out.objects.push(Collected::new(
        "volatile/script.sh",
        "responder:volatile capture script",
        script.clone().into_bytes(),
    ));
    let timeout = options.timeout_seconds.max(1);
    let mut send = ssm
        .send_command()
        .document_name(DOCUMENT)
        .instance_ids(instance_id)
        .comment(crate::sanitize::ascii_line(
            &format!("guardduty-responder capture {}", prefix.finding_id()),
            100,
        ))
        .parameters("commands", vec![script])
        .parameters("executionTimeout", vec![timeout.to_string()])
        // The delivery time limit: SSM accepts no less than 30 s.
        .timeout_seconds(i32::try_from(timeout.max(30)).unwrap_or(i32::MAX))
        .output_s3_bucket_name(&bucket)
        .output_s3_key_prefix(&key_prefix);
    if let Some(region) = &ev.options.bucket_region {
        send = send.output_s3_region(region);
    }
    let command_id = match send.send().await {
        Ok(o) => o
            .command()
            .and_then(|c| c.command_id())
            .unwrap_or_default()
            .to_owned(),
        Err(e) => {
            let why = api_error("SendCommand", &e);
            out.gaps.push(format!("volatile/: {why}"));
            return Captured {
                step: Some(Step::failed(format!("no command sent: {why}"))),
                collection: out,
            };
        }
    };
    let output = format!("s3://{bucket}/{key_prefix}/{command_id}/{instance_id}/");
    let ended = wait(ssm, &command_id, instance_id, Duration::from_secs(timeout)).await;
    let (status, details, code, stdout, stderr) = match &ended {
        Ok(Ended {
            status,
            details,
            code,
            stdout,
            stderr,
        }) => (
            status.as_str().to_owned(),
            details.clone(),
            *code,
            stdout.clone(),
            stderr.clone(),
        ),
        Err(why) => (
            "not known".into(),
            why.clone(),
            None,
            String::new(),
            String::new(),
        ),
    };
    out.objects.push(Collected::json(
        RECORD_NAME,
        "ssm:SendCommand, ssm:GetCommandInvocation",
        &json!({
            "command_id": command_id,
            "instance_id": instance_id,
            "document": DOCUMENT,
            "status": status,
            "status_details": details,
            "response_code": code,
            "output": output,
            "output_written_by": "the instance's SSM agent, with the instance role (not hashed here)",
            "pids": pids,
            "timeout_seconds": timeout,
        }),
    ));
    for (name, text) in [
        ("volatile/stdout.txt", &stdout),
        ("volatile/stderr.txt", &stderr),
    ] {
        if !text.is_empty() {
            out.objects.push(Collected::new(
                name,
                "ssm:GetCommandInvocation (the first 24,000 characters SSM returns)",
                text.clone().into_bytes(),
            ));
        }
    }
    let evidence = json!({"command_id": command_id, "status": status, "output": output});
    let step = match ended {
        Ok(e) if e.status == S::Success => Step::done(format!(
            "command {command_id} Success, {} PID(s); output at {output} (written by the \
             instance, not in the manifest)",
            pids.len()
        )),
        Ok(e) => {
            let why = format!(
                "command {command_id} {}: {}",
                e.status.as_str(),
                crate::sanitize::ascii_line(&e.details, 200)
            );
            out.gaps.push(format!("volatile/: {why}"));
            Step::failed(format!("{why}; any output at {output}"))
        }
        Err(why) => {
            let why = format!("command {command_id}: {why}");
            out.gaps.push(format!("volatile/: {why}"));
            Step::failed(format!("{why}; any output at {output}"))
        }
    };
    Captured {
        step: Some(step.with_evidence(evidence)),
        collection: out,
    }
}

/// How a command ended.
struct Ended {
    status: S,
    details: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Polls until the invocation ends, a call is refused, or `limit` passes. An invocation
/// SSM does not know yet (`InvocationDoesNotExist`, just after the send) is waited for.
async fn wait(
    ssm: &aws_sdk_ssm::Client,
    command_id: &str,
    instance_id: &str,
    limit: Duration,
) -> Result<Ended, String> {
    let deadline = Instant::now() + limit;
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
                "still {last} after the time limit of {}s (ec2.volatile_capture.timeout_seconds); \
                 SSM stops it at the same limit",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(POLL_EVERY.min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    /// The verifier knows where the instance writes.
    #[test]
    fn the_output_prefix_is_the_one_the_verifier_knows() {
        assert_eq!(
            format!("{}/", super::OUTPUT_DIR),
            crate::evidence::verify::VOLATILE_OUTPUT
        );
    }
}
