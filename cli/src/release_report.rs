//! What the three `responder release` commands share: the region they act in, parsed at
//! the boundary like their other arguments, and the frame of their text report.

use responder::ids::Region;
use responder::release::ReleaseError;
use responder::sanitize::neutralise;

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

#[cfg(test)]
#[path = "release_report_tests.rs"]
mod tests;
