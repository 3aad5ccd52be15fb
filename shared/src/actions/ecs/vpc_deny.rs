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
use super::acl_record;
use super::contain::{step, tag_task};
use super::evidence::{EniView, TaskView};
use super::network_acl::{self, Acl, CreateError, Direction};
use super::record::{self, NaclEntry, Record};
use super::record_seal;
use crate::actions::ec2::quarantine::Step;
use crate::actions::ec2::record_mac::MacVerdict;
use crate::outcome::Status;
use std::collections::BTreeSet;

/// Denies the task's addresses in every network ACL of its VPC (`own`: its subnet's ACL,
/// read earlier, whose VPC is the task's when the ENI does not say).
pub(crate) async fn deny_in_vpc(
    c: &Clients,
    view: &TaskView,
    eni: Option<&EniView>,
    own: Option<Result<Acl, String>>,
    record: &Record,
) -> Step {
    let subnet = view
        .subnet_id
        .clone()
        .or_else(|| eni.and_then(|e| e.subnet_id.clone()));
    let own = match (own, &subnet) {
        (Some(Ok(a)), _) => a,
        (Some(Err(e)), _) => return step(Status::Failed, e),
        (None, Some(s)) => match network_acl::acl_of_subnet(&c.ec2.ec2, s).await {
            Ok(a) => a,
            Err(e) => return step(Status::Failed, e),
        },
        (None, None) => return step(Status::Failed, "the task's subnet is unknown"),
    };
    let vpc = eni.and_then(|e| e.vpc_id.clone()).or(own.vpc_id.clone());
    let (acls, note) = match vpc {
        Some(v) => match network_acl::acls_of_vpc(&c.ec2.ec2, &v).await {
            Ok(list) if !list.is_empty() => (list, None),
            Ok(_) => (vec![own], Some(format!("no network ACL listed in {v}"))),
            Err(e) => (vec![own], Some(e)),
        },
        None => (vec![own], Some("the task's VPC is unknown".to_owned())),
    };
    let steps = futures::future::join_all(
        acls.into_iter()
            .map(|a| Box::pin(deny_in_acl(c, view, eni, a, record))),
    )
    .await;
    let mut s = merge(steps);
    if let Some(n) = note {
        // Only the own subnet's ACL: the task's address is not denied where it matters.
        s.status = Status::Failed;
        s.detail = format!(
            "{}; NOT ISOLATED: only its own subnet's network ACL was changed ({n}), which does not match its traffic",
            s.detail
        );
    }
    s
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
    step(status, detail.join("; "))
}

/// The task's addresses denied in one ACL (retrying when concurrent writers take the
/// chosen rule numbers).
async fn deny_in_acl(
    c: &Clients,
    view: &TaskView,
    eni: Option<&EniView>,
    mut acl: Acl,
    record: &Record,
) -> Step {
    let mut addresses: BTreeSet<String> = view.addresses().into_iter().collect();
    addresses.extend(eni.map(|e| e.ipv6.clone()).unwrap_or_default());
    let cidrs: Vec<String> = addresses
        .iter()
        .filter_map(|a| network_acl::host_cidr(a))
        .collect();
    if cidrs.is_empty() {
        return step(Status::Failed, "the task has no private IP address to deny");
    }
    let mut pending: Vec<(Direction, String)> = Direction::BOTH
        .iter()
        .flat_map(|d| cidrs.iter().map(move |c| (*d, c.clone())))
        .collect();
    let (mut done, mut already, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    // Either record lets release find the entries: one failing is a warning, both an error.
    let mut warnings: Vec<String> = Vec::new();
    // The second record, on the ACL itself: what it holds now, and what it should hold.
    let Some(task_id) = acl_record::task_id(&view.arn) else {
        return step(Status::Failed, "the task ARN names no task id");
    };
    let tag_key = acl_record::key(task_id);
    let mut on_acl: BTreeSet<NaclEntry> = BTreeSet::new();
    if let Some(v) = acl.tags.get(&tag_key) {
        // A record there that our key did not seal is replaced, never built on.
        match Box::pin(record_seal::verify_acl(c, &acl.id, task_id, v, &acl.tags)).await {
            MacVerdict::Valid | MacVerdict::NotConfigured => {
                on_acl.extend(acl_record::decode(&acl.id, v).unwrap_or_default());
            }
            other => warnings.push(format!(
                "the record on {} was replaced: {}",
                acl.id,
                crate::actions::ec2::release_checks::judge_mac(&other)
                    .err()
                    .unwrap_or_default()
            )),
        }
    }
    let mut written = on_acl.clone();
    for attempt in 0..3 {
        if attempt > 0 {
            let again = network_acl::acls_by_id(&c.ec2.ec2, std::slice::from_ref(&acl.id)).await;
            acl = match again.and_then(|mut l| l.pop().ok_or_else(|| format!("{} is gone", acl.id)))
            {
                Ok(a) => a,
                Err(e) => {
                    errors.push(e);
                    break;
                }
            };
        }
        let mut planned: Vec<NaclEntry> = Vec::new();
        for (d, cidr) in pending.drain(..) {
            if let Some(n) = network_acl::existing_deny(&acl.entries, d, &cidr) {
                let ours = record
                    .nacl
                    .iter()
                    .chain(on_acl.iter())
                    .any(|r| r.acl_id == acl.id && r.direction == d && r.rule_number == n);
                if ours {
                    // Recorded on the task only (isolated before the ACL record existed).
                    on_acl.insert(NaclEntry {
                        acl_id: acl.id.clone(),
                        direction: d,
                        rule_number: n,
                        cidr: cidr.clone(),
                    });
                }
                already.push(format!(
                    "{cidr} {d} #{n}{}",
                    if ours {
                        ""
                    } else {
                        " (not ours: release keeps it)"
                    }
                ));
                continue;
            }
            let taken: Vec<i32> = planned
                .iter()
                .filter(|p| p.direction == d)
                .map(|p| p.rule_number)
                .collect();
            match network_acl::allocate(&acl.entries, d, &taken) {
                Ok(n) => planned.push(NaclEntry {
                    acl_id: acl.id.clone(),
                    direction: d,
                    rule_number: n,
                    cidr,
                }),
                Err(e) => errors.push(format!("{}: {e} ({cidr} not denied)", acl.id)),
            }
        }
        if planned.is_empty() {
            break;
        }
        // Record first, on the task and on the ACL: an entry that exists but is not
        // recorded would outlive release, and the task's record goes when ECS forgets it.
        on_acl.extend(planned.iter().cloned());
        let tags: Result<Vec<_>, _> = planned.iter().map(record::nacl_tag).collect();
        let (recorded, on_acl_recorded) = futures::join!(
            async {
                match tags {
                    Ok(t) => tag_task(c, &view.arn, &t).await,
                    Err(e) => Err(e.to_string()),
                }
            },
            record_on_acl(c, &acl.id, task_id, &on_acl),
        );
        // Containment still matters more; say loudly what release cannot find.
        match (recorded, on_acl_recorded) {
            (Ok(()), Ok(())) => written = on_acl.clone(),
            (Err(e), Ok(())) => {
                written = on_acl.clone();
                warnings.push(format!("{e}: recorded on {} only, not on the task", acl.id));
            }
            (Ok(()), Err(e)) => warnings.push(e),
            (Err(e), Err(f)) => errors.push(format!(
                "{e}; {f}: entries below are NOT recorded; remove them by hand on release"
            )),
        }
        let results = futures::future::join_all(planned.iter().map(|p| {
            network_acl::create_deny(&c.ec2.ec2, &p.acl_id, p.rule_number, p.direction, &p.cidr)
        }))
        .await;
        for (p, r) in planned.into_iter().zip(results) {
            match r {
                Ok(()) => done.push(format!("{} {} #{}", p.cidr, p.direction, p.rule_number)),
                Err(CreateError::NumberTaken) => {
                    on_acl.remove(&p);
                    pending.push((p.direction, p.cidr));
                }
                Err(CreateError::Other(e)) => errors.push(e),
            }
        }
        if pending.is_empty() {
            break;
        }
    }
    for (d, cidr) in pending {
        errors.push(format!(
            "{cidr} {d}: rule numbers kept being taken by concurrent writers"
        ));
    }
    if on_acl != written
        && let Err(e) = record_on_acl(c, &acl.id, task_id, &on_acl).await
    {
        warnings.push(e);
    }
    let acl_id = acl.id;
    let mut s = if !errors.is_empty() {
        step(
            Status::Failed,
            format!(
                "network ACL {acl_id}: {}; denied: [{}]; already denied: [{}]",
                errors.join("; "),
                done.join(", "),
                already.join(", ")
            ),
        )
    } else if !done.is_empty() {
        let mut d = format!("network ACL {acl_id}: DENY {}", done.join(", "));
        if !already.is_empty() {
            d.push_str(&format!("; already: {}", already.join(", ")));
        }
        step(Status::Done, d)
    } else {
        step(
            Status::AlreadyDone,
            format!("network ACL {acl_id}: already DENY {}", already.join(", ")),
        )
    };
    for w in warnings {
        s.detail.push_str(&format!("; warning: {w}"));
    }
    s
}

/// Writes the task's entries as one tag on the ACL ([`acl_record`]).
async fn record_on_acl(
    c: &Clients,
    acl_id: &str,
    task_id: &str,
    entries: &BTreeSet<NaclEntry>,
) -> Result<(), String> {
    let entries: Vec<NaclEntry> = entries.iter().cloned().collect();
    let (key, value) = acl_record::encode(task_id, &entries).map_err(|e| e.to_string())?;
    let seal = record_seal::acl_seal(c, acl_id, task_id, &value)
        .await
        .map_err(|e| format!("{e}: entries NOT recorded on {acl_id} (no seal)"))?;
    let tags: Vec<(String, String)> = std::iter::once((key, value)).chain(seal).collect();
    network_acl::tag(&c.ec2.ec2, acl_id, &tags)
        .await
        .map_err(|e| {
            format!(
                "{e}: entries NOT recorded on {acl_id}; release needs the task's own record, \
                 which ECS drops about an hour after the task stops"
            )
        })
}
