//! A coverage resource as GuardDuty's ListCoverage describes it, in our own terms.

use super::*;

pub(super) fn to_resource(c: &aws_sdk_guardduty::types::CoverageResource) -> CoveredResource {
    let d = c.resource_details();
    let resource_type = ResourceType::parse(
        d.and_then(|d| d.resource_type())
            .map(|t| t.as_str())
            .unwrap_or(""),
    );
    let mut name = None;
    let mut issues: Vec<Untrusted> = c.issue().map(Untrusted::new).into_iter().collect();
    let mut details = Vec::new();
    let mut detail = |label: &'static str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            details.push(Detail {
                label,
                value: Untrusted::new(v),
            });
        }
    };
    let ratio = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a} of {b}")),
        (Some(a), None) => Some(a.to_string()),
        _ => None,
    };
    if let Some(eks) = d.and_then(|d| d.eks_cluster_details()) {
        name = eks.cluster_name().map(str::to_owned);
        detail(
            "Nodes covered",
            ratio(eks.covered_nodes(), eks.compatible_nodes()),
        );
        if let Some(a) = eks.addon_details() {
            detail(
                "Add-on",
                Some(
                    [a.addon_version(), a.addon_status()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            );
        }
        detail(
            "Management",
            eks.management_type().map(|m| m.as_str().to_owned()),
        );
    }
    if let Some(ecs) = d.and_then(|d| d.ecs_cluster_details()) {
        name = name.or(ecs.cluster_name().map(str::to_owned));
        if let Some(f) = ecs.fargate_details() {
            issues.extend(f.issues().iter().map(|i| Untrusted::new(i.as_str())));
            detail(
                "Fargate management",
                f.management_type().map(|m| m.as_str().to_owned()),
            );
        }
        if let Some(ci) = ecs.container_instance_details() {
            detail(
                "Container instances covered",
                ratio(
                    ci.covered_container_instances(),
                    ci.compatible_container_instances(),
                ),
            );
        }
    }
    if let Some(ec2) = d.and_then(|d| d.ec2_instance_details()) {
        name = name.or(ec2.instance_id().map(str::to_owned));
        detail("Instance type", ec2.instance_type().map(str::to_owned));
        detail("ECS cluster", ec2.cluster_arn().map(str::to_owned));
        detail(
            "Management",
            ec2.management_type().map(|m| m.as_str().to_owned()),
        );
        detail(
            "Agent version",
            ec2.agent_details()
                .and_then(|a| a.version())
                .map(str::to_owned),
        );
    }
    let resource_id = c.resource_id().unwrap_or_default();
    CoveredResource {
        resource_type,
        name: Untrusted::new(name.unwrap_or_else(|| resource_id.to_owned())),
        resource_id: Untrusted::new(resource_id),
        account_id: Untrusted::new(c.account_id().unwrap_or_default()),
        status: Untrusted::new(
            c.coverage_status()
                .map(|s| s.as_str())
                .unwrap_or("UNHEALTHY"),
        ),
        issues,
        details,
        updated_at: c
            .updated_at()
            .map(|t| Timestamp::from_epoch(t.as_secs_f64())),
    }
}
