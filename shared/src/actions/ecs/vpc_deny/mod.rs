//! The network-ACL method (Fargate, or forced): DENY entries for the task's addresses in
//! **every network ACL of its VPC**, inbound and outbound.
//!
//! A network ACL is evaluated where a packet enters or leaves a subnet, and its rules match
//! the source address inbound and the destination address outbound. The task's own subnet
//! ACL therefore never sees the task's address on the side its rules match: DENYs there
//! alone stop nothing. Denied in the ACLs of the other subnets (the NAT gateway's, the
//! endpoints', the databases'), the task can neither reach them nor be reached from them.
//! Traffic within the task's own subnet never crosses an ACL (see
//! docs/containment-limits.md). Every entry is recorded on the task and on its ACL before
//! it is created, so release removes exactly those.

use super::Clients;
use super::evidence::{EniView, TaskView};
use super::network_acl::{self, Acl};
use super::record::Record;
use super::sensor_allow;
use crate::actions::ec2::sensor_link;
use crate::outcome::Status;
use crate::outcome::Step;

mod one_acl;
use one_acl::deny_in_acl;

/// Denies the task's addresses in every network ACL of its VPC (`own`: its subnet's ACL,
/// read earlier, whose VPC is the task's when the ENI does not say), keeping the sensor
/// link open ([`sensor_allow`]). Returns the step and whether GuardDuty still sees the task.
pub(crate) async fn deny_in_vpc(
    c: &Clients,
    view: &TaskView,
    eni: Option<&EniView>,
    own: Option<Result<Acl, String>>,
    record: &Record,
) -> (Step, bool) {
    let subnet = view
        .subnet_id
        .clone()
        .or_else(|| eni.and_then(|e| e.subnet_id.clone()));
    let own = match (own, &subnet) {
        (Some(Ok(a)), _) => a,
        (Some(Err(e)), _) => return (Step::new(Status::Failed, e), false),
        (None, Some(s)) => match network_acl::acl_of_subnet(&c.ec2.ec2, s).await {
            Ok(a) => a,
            Err(e) => return (Step::new(Status::Failed, e), false),
        },
        (None, None) => {
            return (
                Step::new(Status::Failed, "the task's subnet is unknown"),
                false,
            );
        }
    };
    let vpc = eni.and_then(|e| e.vpc_id.clone()).or(own.vpc_id.clone());
    let keep_ssm = c.ec2.isolation.keep_ssm_endpoints;
    let (acls, note, link) = match vpc {
        Some(v) => {
            let (listed, link) = futures::join!(
                network_acl::acls_of_vpc(&c.ec2.ec2, &v),
                Box::pin(sensor_link::discover(&c.ec2.ec2, &v, keep_ssm)),
            );
            let link = link.map_err(|e| (v.clone(), e));
            match listed {
                Ok(list) if !list.is_empty() => (list, None, link),
                Ok(_) => (
                    vec![own],
                    Some(format!("no network ACL listed in {v}")),
                    link,
                ),
                Err(e) => (vec![own], Some(e), link),
            }
        }
        None => (
            vec![own],
            Some("the task's VPC is unknown".to_owned()),
            Err((String::new(), "the task's VPC is unknown".to_owned())),
        ),
    };
    let (kept_subnets, guardduty_subnets) = match &link {
        Ok(l) => (l.subnets(), l.guardduty_subnets()),
        Err(_) => Default::default(),
    };
    let own_subnet = subnet.as_deref();
    let work = acls.into_iter().map(|a| {
        let sensor = sensor_allow::needed(&a.subnets, &kept_subnets, own_subnet);
        let guards_guardduty = sensor_allow::needed(&a.subnets, &guardduty_subnets, own_subnet);
        async move {
            let (s, open) = Box::pin(deny_in_acl(c, view, eni, a, record, sensor)).await;
            (s, open || !guards_guardduty)
        }
    });
    let (steps, open): (Vec<Step>, Vec<bool>) =
        futures::future::join_all(work).await.into_iter().unzip();
    let mut s = merge(steps);
    if let Some(n) = note {
        // Only the own subnet's ACL: the task's address is not denied where it matters.
        s.status = Status::Failed;
        s.detail = format!(
            "{}; NOT ISOLATED: only its own subnet's network ACL was changed ({n}), which does not match its traffic",
            s.detail
        );
    }
    let kept = match &link {
        Ok(l) if l.guardduty_reachable() && open.iter().all(|o| *o) => {
            format!(
                "{} (ALLOW entries for the task ahead of its DENYs in the endpoints' subnets' \
                 network ACLs)",
                l.describe()
            )
        }
        Ok(l) if l.guardduty_reachable() => format!(
            "the GuardDuty sensor link's ALLOW entries could not all be placed: GuardDuty is \
             now blind to this task ({})",
            l.describe()
        ),
        Ok(l) => l.describe(),
        Err((vpc, e)) => format!(
            "VPC endpoints of {vpc} not found ({e}): isolation is total and GuardDuty is now \
             blind there"
        ),
    };
    s.detail.push_str(&format!("; {kept}"));
    let kept = link.is_ok_and(|l| l.guardduty_reachable()) && open.iter().all(|o| *o);
    (s, kept)
}

/// One step from the per-ACL steps: failed if any failed, done if any changed.
fn merge(steps: Vec<Step>) -> Step {
    let status = if steps.iter().any(|s| s.status == Status::Failed) {
        Status::Failed
    } else if steps.iter().any(|s| s.status == Status::Done) {
        Status::Done
    } else if steps.iter().all(|s| s.status == Status::AlreadyDone) && !steps.is_empty() {
        Status::AlreadyDone
    } else {
        Status::Skipped
    };
    let detail: Vec<String> = steps.into_iter().map(|s| s.detail).collect();
    Step::new(status, detail.join("; "))
}
