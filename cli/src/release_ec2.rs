//! `responder release ec2 <instance-id>`: undo a quarantine from the prior state recorded
//! on the instance's tags (groups per ENI, protection flags, Auto Scaling membership,
//! Elastic IPs), then remove the quarantine tags; evidence snapshots stay. Dry run (reads
//! only, says what it would do) unless `--execute`. Uses the caller's AWS credentials
//! (default chain; `AWS_ENDPOINT_URL` honoured). With `RESPONDER_RECORD_MAC_KEY_ID` set
//! (the Terraform output `record_mac_key_arn`), a record whose MAC does not verify is
//! refused; without it release warns that the record is unverified.

use crate::Output;
use crate::release_report;
use crate::release_write_back::{self, Done};
use responder::actions::ec2::{Ec2Executor, ReleaseStep, Released};
use responder::ids::InstanceId;
use responder::sanitize::neutralise;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The quarantined instance, e.g. i-0a1b2c3d4e5f60718.
    pub instance_id: String,
    /// The instance's region (default: AWS_REGION, then AWS_DEFAULT_REGION).
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
    let instance_id = InstanceId::parse(&args.instance_id).map_err(|_| {
        format!(
            "{:?} is not an instance id",
            neutralise(&args.instance_id, 40)
        )
    })?;
    let region = release_report::region(args.region.as_deref())?;
    let sdk = responder::execute::aws::sdk_config(&region).await;
    let released = Ec2Executor::new(&sdk)
        .release(&instance_id, args.execute)
        .await
        .map_err(release_report::refusal)?;
    let done = Done {
        finding_id: released.finding_id.as_deref(),
        region: &region,
        released: format!("EC2 instance {}", released.resource.instance_id),
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
        let p = &r.record.prior_state;
        out.push_str(&format!(
            "Release of instance {} in {region}\n",
            r.resource.instance_id
        ));
        for w in &r.warnings {
            out.push_str(&format!("  WARNING: {}\n", neutralise(w, 600)));
        }
        out.push_str("  recorded at quarantine (check it: instance tags can be edited by anyone allowed ec2:CreateTags):\n");
        for (eni, groups) in &p.network_interfaces {
            out.push_str(&format!("    {eni}: {}\n", groups.join(", ")));
        }
        let flag = |v: Option<bool>| match v {
            Some(true) => "on",
            Some(false) => "off",
            None => "unknown (left as is)",
        };
        out.push_str(&format!(
            "    termination protection: {}; shutdown behaviour: {}\n",
            flag(p.termination_protection),
            p.shutdown_behavior
                .as_deref()
                .unwrap_or("unknown (left as is)")
        ));
        if !p.delete_on_termination.is_empty() {
            out.push_str(&format!(
                "    DeleteOnTermination was on for: {}\n",
                p.delete_on_termination.join(", ")
            ));
        }
        if let Some(g) = &p.auto_scaling_group {
            out.push_str(&format!("    Auto Scaling group: {}\n", neutralise(g, 255)));
        }
        match &p.elastic_ips {
            None => out.push_str("    Elastic IPs: unknown (not restored)\n"),
            Some(list) => {
                for e in list {
                    out.push_str(&format!(
                        "    Elastic IP {} on {} {}\n",
                        e.allocation_id, e.network_interface_id, e.private_ip
                    ));
                }
            }
        }
    })
}
