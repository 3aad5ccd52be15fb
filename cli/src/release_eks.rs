//! `responder release eks <cluster> <namespace> <pod>`: undo a pod quarantine. Dry run
//! (reads only, says what it would do) unless `--execute`. Uses the caller's AWS
//! credentials (default chain) for `eks:DescribeCluster`, the cluster token and the node's
//! instance protection, so the caller's own RBAC applies in the cluster.

use crate::Output;
use crate::release_report;
use crate::release_write_back::{self, Done};
use responder::actions::eks::EksExecutor;
use responder::actions::eks::release::{ReleaseError, ReleaseStep, Released, Request};
use responder::ids::{ClusterName, K8sName};
use responder::playbook::Guardrails;
use responder::sanitize::neutralise;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The EKS cluster name.
    pub cluster: String,
    /// The quarantined pod's namespace.
    pub namespace: String,
    /// The quarantined pod's name (it may be gone: the policy is still found and deleted).
    pub pod: String,
    /// The cluster's region (default: AWS_REGION, then AWS_DEFAULT_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// The AWS partition (`aws`, `aws-cn`, `aws-us-gov`).
    #[arg(long, default_value = "aws")]
    pub partition: String,
    /// Carry the release out; without it nothing is changed.
    #[arg(long)]
    pub execute: bool,
    #[command(flatten)]
    pub after: crate::release_write_back::WriteBack,
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    // Parsed here, once; the messages are the ones release gave for a bad value.
    let cluster = ClusterName::parse(&args.cluster)
        .map_err(|_| release_report::invalid(&args.cluster, "a cluster name"))?;
    let (Ok(namespace), Ok(pod)) = (K8sName::parse(&args.namespace), K8sName::parse(&args.pod))
    else {
        return Err(release_report::refusal(ReleaseError::Invalid {
            given: format!("{:?}/{:?}", args.namespace, args.pod),
            expected: "a namespace/pod name",
        }));
    };
    let region = release_report::region(args.region.as_deref())?;
    let sdk = responder::execute::aws::sdk_config(&region).await;
    let executor = EksExecutor::new(&sdk, &Guardrails::default());
    let req = Request {
        region: &region,
        partition: &args.partition,
        cluster: &cluster,
        namespace: &namespace,
        pod: &pod,
    };
    let released = executor
        .release(&req, args.execute)
        .await
        .map_err(release_report::refusal)?;
    let done = Done {
        finding_id: released.finding_id.as_deref(),
        region: &region,
        released: format!(
            "EKS pod {}/{} (cluster {})",
            released.resource.namespace, released.resource.pod, released.resource.cluster
        ),
        executed: released.executed,
        outcomes: &released.outcomes,
    };
    let after = release_write_back::run(&sdk, args.after, done).await;
    match args.output {
        Output::Json => {
            let mut doc = serde_json::to_value(&released).map_err(|e| e.to_string())?;
            doc["after_release"] = serde_json::to_value(&after).map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
            )
        }
        Output::Text => print!("{}{}", text(&released), release_write_back::text(&after)),
    }
    Ok(release_report::exit_code(&released))
}

pub(crate) fn text(r: &Released) -> String {
    release_report::text(r, ReleaseStep::name, |out| {
        out.push_str(&format!(
            "Release of pod {}/{} in cluster {}{}\n",
            r.resource.namespace,
            r.resource.pod,
            r.resource.cluster,
            r.record
                .node
                .as_deref()
                .map(|n| format!(" (node {n})"))
                .unwrap_or_default()
        ));
        if !r.record.restored_labels.is_empty() {
            let labels: Vec<String> = r
                .record
                .restored_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            out.push_str(&format!(
                "  labels recorded at quarantine: {}\n",
                neutralise(&labels.join(", "), 600)
            ));
        }
    })
}
