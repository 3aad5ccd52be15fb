//! The links an alert carries: the finding in the GuardDuty console, each resource in its
//! console (EC2 instance, ECS task, EKS cluster) and the responder's own log lines for the
//! finding (a CloudWatch Logs Insights query).
//!
//! A finding is attacker-influenced, so a link is built only from parts that passed the
//! same validation as containment targets (`crate::target`), a checked region and a
//! hexadecimal finding id; the host comes from the partition, never from the finding. A
//! part that fails drops its link, not the alert.

use crate::finding::Finding;
use crate::plan::ResponsePlan;
use crate::sanitize::Untrusted;
use crate::target::{Target, is_cluster_name, is_instance_id, is_task_arn};
pub(crate) use crate::validate::{is_finding_id, is_region};

/// A link with a fixed label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Link {
    pub label: &'static str,
    pub url: String,
}

/// The console host of a partition GuardDuty runs in.
fn host(partition: &str) -> Option<&'static str> {
    match partition {
        "aws" => Some("console.aws.amazon.com"),
        "aws-cn" => Some("console.amazonaws.cn"),
        "aws-us-gov" => Some("console.amazonaws-us-gov.com"),
        _ => None,
    }
}

/// `https://<host>/` for the plan's partition and region, when both are valid.
fn base(plan: &ResponsePlan) -> Option<(&'static str, &str)> {
    let h = host(&plan.partition)?;
    is_region(&plan.region).then_some((h, plan.region.as_str()))
}

/// The finding in the GuardDuty console.
pub(crate) fn console_url(plan: &ResponsePlan) -> Option<String> {
    let (host, region) = base(plan)?;
    is_finding_id(&plan.finding_id).then(|| {
        [
            "https://",
            host,
            "/guardduty/home?region=",
            region,
            "#/findings?macros=current&fId=",
            &plan.finding_id,
        ]
        .concat()
    })
}

/// The responder's log lines for this finding (every function logs `finding_id`), over the
/// last week, newest first. The console reads the query from the fragment with `%` written
/// `*`; every byte but letters and digits is encoded, so the query is inert text.
pub(crate) fn logs_url(plan: &ResponsePlan) -> Option<String> {
    let (host, region) = base(plan)?;
    if !is_finding_id(&plan.finding_id) {
        return None;
    }
    let query = [
        "fields @timestamp, @log, decision, reason, outcomes\n| filter finding_id = \"",
        &plan.finding_id,
        "\"\n| sort @timestamp desc",
    ]
    .concat();
    let mut encoded = String::with_capacity(query.len() * 2);
    for b in query.bytes() {
        if b.is_ascii_alphanumeric() {
            encoded.push(b as char);
        } else {
            encoded.push('*');
            encoded.push_str(&format!("{b:02x}"));
        }
    }
    Some(
        [
            "https://",
            host,
            "/cloudwatch/home?region=",
            region,
            "#logsV2:logs-insights$3FqueryDetail$3D~(end~0~start~-604800~timeType~'RELATIVE~unit~'seconds~editorString~'",
            &encoded,
            ")",
        ]
        .concat(),
    )
}

/// A link whose URL is `parts` joined, when `valid` (every variable part was checked).
fn link(label: &'static str, valid: bool, parts: &[&str]) -> Option<Link> {
    valid.then(|| Link {
        label,
        url: parts.concat(),
    })
}

fn ec2_link(host: &str, region: &str, instance: &str) -> Option<Link> {
    let path = "/ec2/home?region=";
    let fragment = "#InstanceDetails:instanceId=";
    let parts = ["https://", host, path, region, fragment, instance];
    link("EC2 instance", is_instance_id(instance), &parts)
}

/// `arn:…:task/<cluster>/<id>` only: the console needs both, and both are then checked.
fn ecs_link(host: &str, region: &str, task_arn: &str) -> Option<Link> {
    if !is_task_arn(task_arn) {
        return None;
    }
    let mut parts = task_arn.rsplit(':').next()?.split('/');
    let (Some("task"), Some(cluster), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let id_ok = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
    let url = [
        "https://",
        host,
        "/ecs/v2/clusters/",
        cluster,
        "/tasks/",
        id,
    ];
    let query = ["/configuration?region=", region];
    link(
        "ECS task",
        is_cluster_name(cluster) && id_ok,
        &[&url[..], &query[..]].concat(),
    )
}

fn eks_link(host: &str, region: &str, cluster: &str) -> Option<Link> {
    let parts = [
        "https://",
        host,
        "/eks/home?region=",
        region,
        "#/clusters/",
        cluster,
    ];
    link("EKS cluster", is_cluster_name(cluster), &parts)
}

/// The finding's own resource: its task or cluster, then its instance (the host or node).
fn finding_resources(f: &Finding, host: &str, region: &str, out: &mut Vec<Link>) {
    let r = &f.resource;
    if let Some(t) = r
        .ecs_cluster_details
        .as_ref()
        .and_then(|e| e.task_details.as_ref())
    {
        out.extend(ecs_link(
            host,
            region,
            Untrusted::raw_of(&t.arn).unwrap_or(""),
        ));
    }
    if let Some(e) = &r.eks_cluster_details {
        out.extend(eks_link(
            host,
            region,
            Untrusted::raw_of(&e.name).unwrap_or(""),
        ));
    }
    if let Some(i) = &r.instance_details {
        out.extend(ec2_link(
            host,
            region,
            Untrusted::raw_of(&i.instance_id).unwrap_or(""),
        ));
    }
}

/// Every link of the alert: console, resources (the finding's, then each contained one of
/// an attack sequence; at most six), responder logs.
pub(crate) fn links(plan: &ResponsePlan) -> Vec<Link> {
    let mut out = Vec::with_capacity(6);
    out.extend(console_url(plan).map(|url| Link {
        label: "GuardDuty finding",
        url,
    }));
    if let Some((host, region)) = base(plan) {
        let mut resources = Vec::new();
        finding_resources(&plan.finding, host, region, &mut resources);
        for a in &plan.actions {
            resources.extend(match &*a.target {
                Target::Ec2 { instance_id, .. } => ec2_link(host, region, instance_id),
                Target::Ecs { task_arn, .. } => ecs_link(host, region, task_arn),
                Target::Eks { cluster, .. } => eks_link(host, region, cluster),
            });
        }
        let mut seen: Vec<String> = Vec::new();
        for l in resources {
            if seen.len() < 6 && !seen.contains(&l.url) {
                seen.push(l.url.clone());
                out.push(l);
            }
        }
    }
    out.extend(logs_url(plan).map(|url| Link {
        label: "Responder log (Logs Insights)",
        url,
    }));
    out
}

/// Bytes a URL of ours may hold: no space, quote, angle bracket, backslash or `|`, so it can
/// stand in an HTML attribute, a Slack `<url|label>` or a line of text as it is.
pub(crate) fn is_safe_url(url: &str) -> bool {
    url.starts_with("https://")
        && url
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
}

#[cfg(test)]
#[path = "links_tests.rs"]
mod tests;
