//! `responder`: the on-call engineer's entry point over the same library the Lambda uses.
#![deny(clippy::unwrap_used)]

mod backtest;
#[cfg(feature = "aws")]
mod backtest_aws;
mod backtest_collect;
mod backtest_render;
mod backtest_summary;
#[cfg(feature = "aws")]
mod coverage;
mod evidence;
#[cfg(feature = "aws")]
mod evidence_s3;
#[cfg(feature = "aws")]
mod executors;
#[cfg(feature = "aws")]
mod list;
#[cfg(feature = "aws")]
mod release_ec2;
#[cfg(feature = "aws")]
mod release_ecs;
#[cfg(feature = "aws")]
mod release_eks;
#[cfg(feature = "aws")]
mod release_report;
#[cfg(feature = "aws")]
mod release_write_back;
mod replay;
#[cfg(feature = "aws")]
mod replay_execute;
mod replay_report;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "responder",
    version,
    about = "GuardDuty Runtime Monitoring responder"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// `replay`'s outputs.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReplayOutput {
    Text,
    /// One document `{"plans": [...], "not_findings": [...]}`.
    Json,
    /// One plan (or non-finding event) per line.
    Ndjson,
}

#[derive(Subcommand)]
enum Command {
    /// Plan the response to findings in FILE (or - for stdin). Dry run unless --execute.
    Replay {
        /// An EventBridge event, a bare finding, the API's `{"findings": [...]}`,
        /// `aws guardduty get-findings` output, a JSON array or JSON Lines of any of these,
        /// read one finding at a time; `-` reads stdin; omitted, an embedded sample event
        /// (an EC2 kernel-module finding).
        file: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        output: ReplayOutput,
        /// A configuration document (playbook, guardrails, per-surface options).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Carry the plan out (AWS credentials from the default chain; `AWS_ENDPOINT_URL`
        /// honoured) and send notifications to what RESPONDER_* configures.
        #[arg(long)]
        execute: bool,
    },
    /// What the playbook would have done to a history of findings: counts by decision,
    /// family, surface and account, containments through the rate limit in event time,
    /// guardrail hits. Reads exports and archives, or (aws feature) the detector's findings;
    /// changes and sends nothing.
    Backtest(backtest::Args),
    /// Evidence bundles (docs/evidence.md).
    Evidence {
        #[command(subcommand)]
        command: evidence::Command,
    },
    /// Undo a containment, from what it recorded on the resources. Dry run unless --execute.
    #[cfg(feature = "aws")]
    Release {
        #[command(subcommand)]
        target: ReleaseTarget,
    },
    /// Runtime Monitoring coverage audit: exit 1 when any (matching) resource is UNHEALTHY.
    #[cfg(feature = "aws")]
    Coverage(coverage::Args),
    /// What is contained right now (EC2, ECS, EKS), with each finding, age and release
    /// command, from the responder's own records. Exit 1 when some part could not be read.
    #[cfg(feature = "aws")]
    List(list::Args),
}

#[cfg(feature = "aws")]
#[derive(Subcommand)]
enum ReleaseTarget {
    /// A quarantined EC2 instance: restore its groups per ENI, protection flags, Auto
    /// Scaling membership and Elastic IPs as recorded on its tags; keep the snapshots.
    Ec2(release_ec2::Args),
    /// An isolated ECS task: delete exactly the network-ACL entries added for it,
    /// re-register its targets, restore its ENI's groups, remove the revocation and tags.
    Ecs(release_ecs::Args),
    /// A quarantined EKS pod: delete its NetworkPolicy, restore its labels, uncordon and
    /// unprotect its node once no other quarantined pod remains there.
    Eks(release_eks::Args),
}

/// What `replay --execute` says in a build without the `aws` feature.
pub const NO_AWS: &str = "this build has no AWS support (dry run only): rebuild with \
    `cargo run -p responder-cli --features aws -- …` to execute, release or audit coverage";

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Replay {
            file,
            output,
            config,
            execute,
        } => replay::run(replay::Replay {
            file: file.as_deref(),
            output,
            config: config.as_deref(),
            execute,
        }),
        Command::Backtest(args) => backtest::run(args),
        Command::Evidence { command } => evidence::run(command),
        #[cfg(feature = "aws")]
        Command::Release { target } => block_on(async {
            match target {
                ReleaseTarget::Ec2(args) => release_ec2::run(args).await,
                ReleaseTarget::Ecs(args) => release_ecs::run(args).await,
                ReleaseTarget::Eks(args) => release_eks::run(args).await,
            }
        }),
        #[cfg(feature = "aws")]
        Command::Coverage(args) => block_on(coverage::run(args)),
        #[cfg(feature = "aws")]
        Command::List(args) => block_on(list::run(args)),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "aws")]
/// Runs the AWS part of a command; the pure part needs no runtime.
fn block_on<T, F: std::future::Future<Output = Result<T, String>>>(work: F) -> Result<T, String> {
    tokio::runtime::Runtime::new()
        .map_err(|e| format!("tokio runtime: {e}"))?
        .block_on(work)
}

/// The release command an alert prints (`responder::render::undo`) is one this CLI takes.
#[cfg(all(test, feature = "aws"))]
mod tests {
    use super::{Cli, Command};
    use clap::Parser;
    use responder::pipeline::{Handled, plan_input};
    use responder::render::{Undo, undo};

    #[test]
    fn every_release_command_an_alert_prints_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
        let mut parsed = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let config = responder::Config::from_document(
                r#"{"playbook":{"rules":[{"families":["AttackSequence"],"decision":"contain"}]}}"#,
                "test",
            )
            .unwrap();
            for h in plan_input(&bytes, &config).unwrap() {
                let Handled::Plan(p) = h else { continue };
                let Undo::Commands(commands) = undo(&p, None) else {
                    continue;
                };
                for c in commands {
                    let words = c.split(' ').map(|w| if w == "<pod>" { "a-pod" } else { w });
                    let cli = Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{c}: {e}"));
                    assert!(matches!(cli.command, Command::Release { .. }), "{c}");
                    parsed.insert(c.split(' ').nth(2).unwrap().to_owned());
                }
            }
        }
        assert_eq!(
            parsed.into_iter().collect::<Vec<_>>(),
            ["ec2", "ecs", "eks"]
        );
    }
}
