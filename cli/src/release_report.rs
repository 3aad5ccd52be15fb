//! What the three `responder release` commands share: the region they act in, parsed at
//! the boundary like their other arguments, and the frame of their text report.

use responder::ids::Region;
use responder::release::{ReleaseError, Released};
use responder::sanitize::neutralise;
use std::process::ExitCode;

/// `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`: refused unless it is a region
/// (a value such as `us-east-1.evil.example` would otherwise reach the SDK's endpoint).
pub fn region(arg: Option<&str>) -> Result<Region, String> {
    let given = arg
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.trim().is_empty())
        .ok_or("no region: pass --region or set AWS_REGION")?;
    Region::parse(&given).map_err(|_| invalid(&given, "a region"))
}

/// The one-line refusal of an argument that is not `expected`.
pub fn invalid(given: &str, expected: &'static str) -> String {
    refusal(ReleaseError::invalid(given, expected))
}

/// A refusal as one line, neutralised: the value in it may have been planted by the
/// contained workload.
pub fn refusal(e: ReleaseError) -> String {
    neutralise(&e.to_string(), 400).into_owned()
}

/// The text report of any surface: the dry-run banner, then what `record` writes (the
/// heading and what containment recorded, each surface's own), then one line per outcome,
/// its detail neutralised (it may quote what the workload wrote). `name` spells the
/// surface's release step.
pub fn text<I, R, S: Copy>(
    r: &Released<I, R, S>,
    name: fn(S) -> &'static str,
    record: impl FnOnce(&mut String),
) -> String {
    let mut out = String::new();
    if !r.executed {
        out.push_str("DRY RUN: nothing was changed. Run again with --execute to release.\n");
    }
    record(&mut out);
    for o in &r.outcomes {
        out.push_str(&format!(
            "  [{}] {} {}: {}\n",
            o.status.as_str(),
            name(o.kind),
            o.target,
            neutralise(&o.detail, 600)
        ));
    }
    out
}

/// 1 when a step failed (the responder's marks stay; release can be run again), else 0.
pub fn exit_code<I, R, S>(r: &Released<I, R, S>) -> ExitCode {
    if r.any_failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
#[path = "release_report_tests.rs"]
mod tests;
