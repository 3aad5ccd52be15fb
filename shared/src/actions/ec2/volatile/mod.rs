//! `ec2.capture_volatile` (docs/evidence.md): once isolation has run, one SSM
//! `SendCommand` of `AWS-RunShellScript` per artefact (the system, the processes, the
//! connections, the kernel modules, each PID the finding names: [`script`]), a few at a
//! time, then `GetCommandInvocation` until each ends or the time limit.
//!
//! An isolated instance cannot reach S3 (and opening it would be a way out for the
//! attacker), so what reaches the bundle is what `GetCommandInvocation` returns: the first
//! 24,000 characters of each command's output. Each script makes the most of them: its
//! artefact gzip-compressed, cut at a size whose base64 fits, read back and decoded here
//! ([`decode`], bounded). Each artefact is its own object in the manifest ([`assemble`]),
//! and `volatile/command.json` records each command and the hash of the text received.
//! The commands still name the bundle's `volatile/ssm/` prefix: where the instance has a
//! route and a grant, its SSM agent writes the whole output there, listed by the verifier
//! as unverified. Collection, never containment: whatever happens is this step's outcome.

pub mod assemble;
mod command;
pub mod decode;
pub mod script;

use crate::evidence::BundlePrefix;
use crate::evidence::collect::{Collection, Evidence};
use crate::options::VolatileCapture;
use crate::outcome::Step;
use futures::StreamExt as _;
use std::time::{Duration, Instant};

/// The SSM document: AWS's own, so nothing the responder's role cannot see runs.
pub const DOCUMENT: &str = "AWS-RunShellScript";
/// Where, under the bundle, the instance writes its output when it can reach S3 (SSM then
/// appends `<command-id>/<instance-id>/awsrunShellScript/0.awsrunShellScript/stdout|stderr`).
pub const OUTPUT_DIR: &str = "volatile/ssm";
/// The commands' record in the bundle (and in its manifest); `responder evidence verify`
/// lists the objects under [`OUTPUT_DIR`] as unverified when the manifest holds it.
pub const RECORD_NAME: &str = crate::evidence::verify::VOLATILE_RECORD;
/// At most this many commands run at once: the SSM agent runs five at a time
/// (`CommandWorkersLimit`), and `SendCommand` is rate limited per account.
pub const CONCURRENT: usize = 4;

/// What the capture gives: its step, and the objects for the bundle's manifest.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub step: Option<Step>,
    pub collection: Collection,
}

/// Where the commands go and what they say.
pub(crate) struct Target<'a> {
    pub instance_id: &'a str,
    pub prefix: &'a BundlePrefix,
    pub timeout: Duration,
    /// The bucket, the key prefix and its region for `OutputS3*`.
    pub output: (&'a str, String, Option<&'a str>),
}

/// Runs the capture on `instance_id` for the finding's PIDs (`pids`: already validated).
pub(crate) async fn capture(
    ssm: &aws_sdk_ssm::Client,
    ev: &Evidence,
    options: &VolatileCapture,
    prefix: &BundlePrefix,
    instance_id: &str,
    pids: &[u32],
) -> Captured {
    let bucket = ev.store.bucket();
    let key_prefix = format!("{prefix}{OUTPUT_DIR}");
    let output = format!("s3://{bucket}/{key_prefix}/");
    let timeout = Duration::from_secs(options.timeout_seconds.max(1));
    let target = Target {
        instance_id,
        prefix,
        timeout,
        output: (bucket, key_prefix, ev.options.bucket_region.as_deref()),
    };
    let deadline = Instant::now() + timeout;
    let artefacts = script::artefacts(pids);
    let mut runs: Vec<(usize, command::Run)> =
        futures::stream::iter(artefacts.into_iter().enumerate())
            .map(|(i, a)| {
                let target = &target;
                async move { (i, Box::pin(command::run(ssm, target, a, deadline)).await) }
            })
            // Unordered: a slow command holds only its own slot, not the ones after it.
            .buffer_unordered(CONCURRENT)
            .collect()
            .await;
    runs.sort_by_key(|(i, _)| *i);
    let runs: Vec<command::Run> = runs.into_iter().map(|(_, r)| r).collect();
    assemble::assemble(
        &runs,
        &assemble::Context {
            instance_id,
            output: &output,
            pids,
            timeout_seconds: timeout.as_secs(),
        },
    )
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
