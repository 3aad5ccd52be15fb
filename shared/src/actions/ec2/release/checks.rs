//! Before release changes anything: the record's seal, and its binding to the live
//! instance (groups of its VPC, an Auto Scaling group that exists).

use super::*;

/// Verifies the record's MAC and its binding to the live instance, concurrently; refuses
/// before anything is changed. Returns the warnings to show.
pub(super) async fn check_record(
    c: &Clients,
    view: &InstanceView,
    prior: &PriorState,
    member: &Result<Option<AsgMember>, String>,
) -> Result<Vec<String>, ReleaseError> {
    let refused = |reasons: Vec<String>| ReleaseError::Refused {
        resource: instance(&view.id),
        reasons,
    };
    let message = record_mac::instance_message(view);
    let mac = view.tags.get(MAC_KEY).map(String::as_str);
    let (verdict, facts) = futures::join!(
        Box::pin(record_mac::verify(
            &c.kms,
            c.mac_key.as_deref(),
            message,
            mac
        )),
        Box::pin(live_facts(c, view, prior)),
    );
    let warning = release_checks::judge_mac(&verdict).map_err(|why| refused(vec![why]))?;
    let facts = facts.map_err(ReleaseError::Api)?;
    let violations = release_checks::binding_violations(prior, view, member, &facts);
    if !violations.is_empty() {
        return Err(refused(violations));
    }
    if let Some(w) = &warning {
        tracing::warn!(instance = %view.id, "{w}");
    }
    Ok(warning.into_iter().collect())
}

/// The VPC of every group recorded for an attached ENI, and whether the recorded Auto
/// Scaling group exists.
pub(super) async fn live_facts(
    c: &Clients,
    view: &InstanceView,
    prior: &PriorState,
) -> Result<LiveFacts, String> {
    let ids: std::collections::BTreeSet<&String> = prior
        .network_interfaces
        .iter()
        .filter(|(eni, _)| view.enis.iter().any(|e| &e.id == *eni))
        .flat_map(|(_, g)| g)
        .collect();
    let groups = async {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let pages: Vec<_> = c
            .ec2
            .describe_security_groups()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .set_values(Some(ids.iter().map(|s| (*s).clone()).collect()))
                    .build(),
            )
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("DescribeSecurityGroups", &e))?;
        Ok::<BTreeMap<String, String>, String>(
            pages
                .iter()
                .flat_map(|p| p.security_groups())
                .filter_map(|g| Some((g.group_id()?.to_owned(), g.vpc_id()?.to_owned())))
                .collect(),
        )
    };
    let asg = async {
        let Some(name) = prior.auto_scaling_group.as_deref() else {
            return Ok(None);
        };
        c.asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .map(|o| {
                Some(
                    o.auto_scaling_groups()
                        .iter()
                        .any(|g| g.auto_scaling_group_name() == Some(name)),
                )
            })
            .map_err(|e| api_error("DescribeAutoScalingGroups", &e))
    };
    let (groups, asg) = futures::join!(Box::pin(groups), Box::pin(asg));
    Ok(LiveFacts {
        group_vpcs: groups?,
        asg_exists: asg?,
    })
}
