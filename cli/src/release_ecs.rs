//! `responder release ecs <cluster> <task-arn>`: undo a task isolation from the record on
//! the task's tags (or, once ECS has forgotten the task, on its network ACL): delete
//! exactly the network-ACL entries that were added, re-register deregistered targets
//! (while the task runs), restore the ENI's groups, delete the role-session revocation once
//! every session it denies has expired (kept until then), then remove the responder's tags.
//! Dry run (reads only, says what it would do) unless `--execute`. Uses the caller's AWS
//! credentials (default chain; `AWS_ENDPOINT_URL` honoured).

use crate::Output;
use crate::release_report;
use crate::release_write_back::{self, Done};
use responder::actions::ecs::{EcsExecutor, ReleaseStep, Released};
use responder::ids::{ClusterName, TaskArn};
use responder::options::EcsOptions;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The ECS cluster name.
    pub cluster: String,
    /// The isolated task's ARN.
    pub task_arn: String,
    /// The task's region (default: AWS_REGION, then AWS_DEFAULT_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// Carry the release out; without it nothing is changed.
    #[arg(long)]
    pub execute: bool,
    #[command(flatten)]
    pub after: crate::release_write_back::WriteBack,
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    let region = release_report::region(args.region.as_deref())?;
    // Parsed here, once; the messages are the ones release gave for a bad value.
    let task_arn = TaskArn::parse(&args.task_arn)
        .map_err(|_| release_report::invalid(&args.task_arn, "a task ARN"))?;
    let cluster = ClusterName::parse(&args.cluster)
        .map_err(|_| release_report::invalid(&args.cluster, "a cluster name"))?;
    let sdk = responder::execute::aws::sdk_config(&region).await;
    let released = EcsExecutor::new(&sdk, EcsOptions::default())
        .release(&cluster, &task_arn, args.execute)
        .await
        .map_err(release_report::refusal)?;
    let done = Done {
        finding_id: released.finding_id.as_deref(),
        region: &region,
        released: format!(
            "ECS task {} (cluster {})",
            released.resource.task_arn, released.resource.cluster
        ),
        executed: released.executed,
        outcomes: &released.outcomes,
    };
    let after = release_write_back::run(&sdk, args.after, done).await;
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "region": region,
                "release": released,
                "after_release": after,
            }))
            .map_err(|e| e.to_string())?
        ),
        Output::Text => print!(
            "{}{}",
            text(&released, &region),
            release_write_back::text(&after)
        ),
    }
    Ok(release_report::exit_code(&released))
}

pub(crate) fn text(r: &Released, region: &str) -> String {
    release_report::text(r, ReleaseStep::name, |out| {
        out.push_str(&format!(
            "Release of task {} (cluster {}) in {region}\n",
            r.resource.task_arn, r.resource.cluster
        ));
        let record = &r.record.record;
        out.push_str("  recorded at isolation (check it: task tags can be edited by anyone allowed ecs:TagResource):\n");
        for e in &record.nacl {
            out.push_str(&format!(
                "    network ACL {} {} rule #{} DENY {}\n",
                e.acl_id, e.direction, e.rule_number, e.cidr
            ));
        }
        for t in &record.targets {
            out.push_str(&format!(
                "    deregistered {}{} from {}\n",
                t.id,
                t.port.map(|p| format!(":{p}")).unwrap_or_default(),
                t.target_group_arn
            ));
        }
        for (eni, groups) in &record.prior_groups {
            out.push_str(&format!("    {eni}: {}\n", groups.join(", ")));
        }
        if let Some(role) = &record.revoked_role {
            out.push_str(&format!("    role {role}: older sessions revoked\n"));
        }
    })
}
