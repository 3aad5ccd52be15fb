//! `responder evidence verify`: recompute a bundle's hashes against its `manifest.json`
//! (docs/evidence.md). Pure: a bundle downloaded from the evidence bucket is checked
//! offline, with nothing but the files and, ideally, the manifest hash the notification or
//! the structured log carried.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use responder::evidence::{Report, verify_dir};

#[derive(Subcommand)]
pub enum Command {
    /// Check a downloaded bundle: every object listed in manifest.json present with its
    /// size and SHA-256, nothing unlisted. Exit 0 when all match, 1 on any mismatch.
    Verify {
        /// The bundle's directory (the one holding manifest.json), e.g. after
        /// `aws s3 cp --recursive s3://BUCKET/evidence/ACCOUNT/FINDING/RESOURCE/ DIR`, or
        /// that `s3://` prefix itself (builds with the `aws` feature).
        location: String,
        /// The manifest's SHA-256 as the notification or the log recorded it: without it a
        /// manifest rewritten together with its objects cannot be told apart.
        #[arg(long)]
        manifest_sha256: Option<String>,
    },
}

pub fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Verify {
            location,
            manifest_sha256,
        } => {
            let report = if location.starts_with("s3://") {
                read_bucket(&location, manifest_sha256.as_deref())?
            } else {
                verify_dir(Path::new(&location), manifest_sha256.as_deref())?
            };
            println!("{report}");
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

#[cfg(feature = "aws")]
fn read_bucket(location: &str, expected: Option<&str>) -> Result<Report, String> {
    crate::block_on(crate::evidence_s3::verify_s3(location, expected))
}

#[cfg(not(feature = "aws"))]
fn read_bucket(location: &str, _expected: Option<&str>) -> Result<Report, String> {
    Err(format!(
        "{location}: {} (or download the bundle: aws s3 cp --recursive {location} DIR)",
        crate::NO_AWS
    ))
}
