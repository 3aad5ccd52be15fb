//! Network isolation of a task: the group swap where its ENI allows it, else the
//! network-ACL method (`vpc_deny.rs`); and whether GuardDuty still sees it.

use super::*;

pub(super) async fn isolate(
    c: &Clients,
    req: &Request<'_>,
    view: &TaskView,
    eni: &Option<Result<Option<EniView>, String>>,
    acl: Option<Result<Acl, String>>,
    record: &Record,
    opts: &EcsOptions,
) -> Step {
    let Some(eni_id) = view.eni_id.as_deref() else {
        return Box::pin(super::super::host::contain_host(
            c,
            view,
            opts,
            req.cluster,
            req.finding_id,
            req.finding_type,
        ))
        .await;
    };
    let described = match eni {
        Some(Ok(Some(e))) => Some(e),
        _ => None,
    };
    let swap_possible = described.is_some_and(|e| !e.requester_managed && e.vpc_id.is_some());
    let why_acl = if opts.force_network_acl {
        "network-ACL method (forced by configuration)".to_owned()
    } else {
        match (eni, described) {
            (_, Some(e)) if e.requester_managed => {
                format!("network-ACL method ({eni_id} is requester-managed)")
            }
            (Some(Err(e)), _) => format!("network-ACL method (the ENI could not be read: {e})"),
            _ => format!("network-ACL method ({eni_id} not described)"),
        }
    };
    if swap_possible && !opts.force_network_acl {
        let e = described.expect("checked above");
        match Box::pin(swap(c, view, e, record)).await {
            Ok((s, kept)) => return with_coverage(c, req.cluster, s, kept).await,
            // Never assume a swap works on an ENI another service manages: fall back.
            Err(err) => {
                let (mut s, kept) = Box::pin(super::super::vpc_deny::deny_in_vpc(
                    c, view, described, acl, record,
                ))
                .await;
                s.detail = format!(
                    "group swap failed ({err}); network-ACL method instead: {}",
                    s.detail
                );
                return with_coverage(c, req.cluster, s, kept).await;
            }
        }
    }
    let (mut s, kept) = Box::pin(super::super::vpc_deny::deny_in_vpc(
        c, view, described, acl, record,
    ))
    .await;
    s.detail = format!("{why_acl}: {}", s.detail);
    with_coverage(c, req.cluster, s, kept).await
}

/// Appends whether GuardDuty still sees the task's cluster (not after a failure).
pub(super) async fn with_coverage(c: &Clients, cluster: &str, mut s: Step, kept: bool) -> Step {
    if s.status != Status::Failed {
        let subject = sensor_coverage::Subject::EcsCluster(cluster);
        let seen = sensor_coverage::check(&c.ec2.guardduty, subject, kept).await;
        s.detail.push_str(&format!("; {seen}"));
    }
    s
}

/// The EC2 executor's isolation groups and two-step swap, on the task's ENI.
/// Returns the step and whether GuardDuty's endpoint stays reachable.
pub(super) async fn swap(
    c: &Clients,
    view: &TaskView,
    e: &EniView,
    record: &Record,
) -> Result<(Step, bool), String> {
    let vpc = e.vpc_id.clone().unwrap_or_default();
    let in_isolation = !e.groups.is_empty()
        && e.groups
            .iter()
            .all(|g| g.name.as_deref().and_then(Role::from_name).is_some());
    let ids: Vec<String> = e.groups.iter().map(|g| g.id.clone()).collect();
    if !in_isolation && !record.prior_groups.contains_key(&e.id) {
        let tag = record::prior_groups_tag(&e.id, &ids).map_err(|x| x.to_string())?;
        tag_task(c, &view.arn, &[tag])
            .await
            .map_err(|x| format!("{x}; groups not recorded, so not changed"))?;
    }
    let vpcs = BTreeSet::from([vpc.clone()]);
    let keep_ssm = c.ec2.isolation.keep_ssm_endpoints;
    let (observed, links) = futures::join!(
        Box::pin(isolation_groups::lookup(&c.ec2.ec2, &vpcs)),
        Box::pin(sensor_link::discover_all(&c.ec2.ec2, &vpcs, keep_ssm)),
    );
    let keep = sensor_link::keep_of(links.get(&vpc));
    let groups = isolation_groups::ensure(&c.ec2.ec2, &vpc, &observed?, &keep).await?;
    let eni = Eni {
        id: e.id.clone(),
        vpc_id: Some(vpc.clone()),
        groups: e.groups.clone(),
        private_ips: vec![],
    };
    let recorded = record.prior_groups.get(&e.id).map(Vec::as_slice);
    let changed = swap::isolate_eni(&c.ec2, &eni, &groups, recorded).await?;
    let how = format!(
        "group-swap method: {} conversion {} then no-rules {} (prior groups {} recorded on the task)",
        e.id,
        groups.conversion,
        groups.no_rules,
        if ids.is_empty() {
            "-".into()
        } else {
            ids.join(",")
        }
    );
    let mut s = if changed {
        Step::new(Status::Done, how)
    } else {
        Step::new(Status::AlreadyDone, format!("already isolated; {how}"))
    };
    let kept = sensor_link::notes(&links, &mut s.detail);
    Ok((s, kept))
}
