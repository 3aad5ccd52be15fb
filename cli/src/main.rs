//! `responder`: the on-call engineer's entry point over the same library the Lambda uses.

mod coverage;
mod executors;
mod release_ec2;
mod release_ecs;
mod release_eks;
mod replay;

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

#[derive(Subcommand)]
enum Command {
    /// Plan the response to findings in FILE (or - for stdin). Dry run unless --execute.
    Replay {
        /// An EventBridge event, a bare finding, the API's `{"findings": [...]}` or
        /// `aws guardduty get-findings` output;
        /// `-` reads stdin; omitted, an embedded sample event (an EC2 kernel-module finding).
        file: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
        /// A configuration document (playbook, guardrails, per-surface options).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Carry the plan out (AWS credentials from the default chain; `AWS_ENDPOINT_URL`
        /// honoured) and send notifications to what RESPONDER_* configures.
        #[arg(long)]
        execute: bool,
    },
    /// Undo a containment, from what it recorded on the resources. Dry run unless --execute.
    Release {
        #[command(subcommand)]
        target: ReleaseTarget,
    },
    /// Runtime Monitoring coverage audit: exit 1 when any (matching) resource is UNHEALTHY.
    Coverage(coverage::Args),
}

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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay {
            file,
            output,
            config,
            execute,
        } => {
            replay::run(replay::Replay {
                file: file.as_deref(),
                output,
                config: config.as_deref(),
                execute,
            })
            .await
        }
        Command::Release {
            target: ReleaseTarget::Ec2(args),
        } => release_ec2::run(args).await,
        Command::Release {
            target: ReleaseTarget::Ecs(args),
        } => release_ecs::run(args).await,
        Command::Release {
            target: ReleaseTarget::Eks(args),
        } => release_eks::run(args).await,
        Command::Coverage(args) => coverage::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
