//! `responder coverage`: is GuardDuty Runtime Monitoring actually watching? A post-deploy
//! gate for CI. Prints coverage statistics and every UNHEALTHY resource with its issue and a
//! remediation hint; exits 1 when any (matching) resource is unhealthy, 2 on an error.
//! Uses the caller's credentials (default chain; `AWS_ENDPOINT_URL` honoured) for
//! `guardduty:ListDetectors`, `GetCoverageStatistics`, `ListCoverage` and, with
//! `--require-tag`, `tag:GetResources`.

use crate::Output;
use responder::coverage::audit::{AuditOptions, TagFilter, audit};
use responder::coverage::render::audit_text;
use responder::coverage::resource::ResourceType;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    #[value(name = "EKS", alias = "eks")]
    Eks,
    #[value(name = "ECS", alias = "ecs")]
    Ecs,
    #[value(name = "EC2", alias = "ec2")]
    Ec2,
}

#[derive(clap::Args)]
pub struct Args {
    /// The detector's region (default: AWS_REGION, then AWS_DEFAULT_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// The detector; found with ListDetectors when there is exactly one.
    #[arg(long)]
    pub detector_id: Option<String>,
    /// Only this resource type.
    #[arg(long, value_enum)]
    pub resource_type: Option<Kind>,
    /// Fail only for unhealthy resources (EC2 instances, EKS/ECS clusters of this account)
    /// carrying this tag, e.g. `tier=critical`; the others are still listed.
    #[arg(long, value_name = "KEY=VALUE", value_parser = TagFilter::parse)]
    pub require_tag: Option<TagFilter>,
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    let region = args
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.trim().is_empty())
        .ok_or("no region: pass --region or set AWS_REGION")?;
    let sdk = responder::execute::aws::sdk_config(&region).await;
    let opts = AuditOptions {
        detector_id: args.detector_id.clone(),
        resource_type: args.resource_type.map(|k| match k {
            Kind::Eks => ResourceType::Eks,
            Kind::Ecs => ResourceType::Ecs,
            Kind::Ec2 => ResourceType::Ec2,
        }),
        require_tag: args.require_tag.clone(),
        page_size: None,
    };
    let report = audit(&sdk, &opts).await.map_err(|e| e.to_string())?;
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        ),
        Output::Text => print!("{}", audit_text(&report)),
    }
    Ok(if report.failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
