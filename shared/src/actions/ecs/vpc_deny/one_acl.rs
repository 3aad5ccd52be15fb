//! One network ACL of the task's VPC: the task's addresses denied in it, the sensor link's
//! ALLOWs ahead of them, each entry recorded before it is created.

use super::super::Clients;
use super::super::acl_record;
use super::super::evidence::{EniView, TaskView};
use super::super::network_acl::{self, Acl, CreateError, Direction};
use super::super::record::{self, NaclEntry, Record};
use super::super::record_seal;
use super::super::sensor_allow;
use super::super::tag_task::tag_task;
use crate::actions::ec2::record_mac::MacVerdict;
use crate::outcome::Status;
use crate::outcome::Step;
use std::collections::BTreeSet;

/// One entry this run wants in an ACL: a DENY, or the sensor link's ALLOW ahead of it.
type Want = (Direction, String, bool);

/// The task's addresses denied in one ACL (retrying when concurrent writers take the
/// chosen rule numbers), with the sensor link's ALLOWs ahead of them when `sensor`.
/// Returns the step and whether those ALLOWs are all in place (true without `sensor`).
pub(super) async fn deny_in_acl(
    c: &Clients,
    view: &TaskView,
    eni: Option<&EniView>,
    mut acl: Acl,
    record: &Record,
    sensor: bool,
) -> (Step, bool) {
    let mut addresses: BTreeSet<String> = view.addresses().into_iter().collect();
    addresses.extend(eni.map(|e| e.ipv6.clone()).unwrap_or_default());
    let cidrs: Vec<String> = addresses
        .iter()
        .filter_map(|a| network_acl::host_cidr(a))
        .collect();
    if cidrs.is_empty() {
        return (
            Step::new(Status::Failed, "the task has no private IP address to deny"),
            !sensor,
        );
    }
    let allowed = if sensor {
        sensor_allow::cidrs(&cidrs)
    } else {
        vec![]
    };
    let mut pending: Vec<Want> = Direction::BOTH
        .iter()
        .flat_map(|d| {
            let denies = cidrs.iter().map(move |c| (*d, c.clone(), false));
            denies.chain(allowed.iter().map(move |c| (*d, c.clone(), true)))
        })
        .collect();
    let (mut done, mut already, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    // Either record lets release find the entries: one failing is a warning, both an error.
    let mut warnings: Vec<String> = Vec::new();
    // The second record, on the ACL itself: what it holds now, and what it should hold.
    let Some(task_id) = acl_record::task_id(&view.arn) else {
        return (
            Step::new(Status::Failed, "the task ARN names no task id"),
            !sensor,
        );
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
    // The (direction, address) pairs whose ALLOW is in place ahead of the deny.
    let mut opened: BTreeSet<(Direction, String)> = BTreeSet::new();
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
        // Denies first: each ALLOW is placed ahead of its deny.
        pending.sort_by_key(|w| w.2);
        let mut planned: Vec<NaclEntry> = Vec::new();
        for (d, cidr, allow) in pending.drain(..) {
            let entry = |rule_number| NaclEntry {
                acl_id: acl.id.clone(),
                direction: d,
                rule_number,
                cidr: cidr.clone(),
                allow,
            };
            let deny = network_acl::existing_deny(&acl.entries, d, &cidr);
            let found = if allow {
                let planned_deny = planned
                    .iter()
                    .find(|p| !p.allow && p.direction == d && p.cidr == cidr)
                    .map(|p| p.rule_number);
                // No deny (it failed, reported below): nothing to open a way ahead of.
                let Some(bound) = deny.or(planned_deny) else {
                    continue;
                };
                sensor_allow::existing(&acl.entries, d, &cidr, bound).ok_or(Some(bound))
            } else {
                deny.ok_or(None)
            };
            if let Ok(n) = found {
                let e = entry(n);
                let ours = record.nacl.iter().chain(on_acl.iter()).any(|r| *r == e);
                if ours {
                    // Recorded on the task only (isolated before the ACL record existed).
                    on_acl.insert(e.clone());
                }
                if allow {
                    opened.insert((d, cidr.clone()));
                }
                already.push(format!(
                    "{}{}",
                    entry_text(&e),
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
            let number = match found {
                Err(Some(bound)) => network_acl::free_below(&acl.entries, d, bound, &taken)
                    .ok_or_else(|| format!("no free {d} rule number ahead of #{bound}")),
                _ => {
                    network_acl::allocate(&acl.entries, d, &cidr, &taken).map_err(|e| e.to_string())
                }
            };
            match number {
                Ok(n) => planned.push(entry(n)),
                Err(e) => errors.push(format!(
                    "{}: {e} ({cidr} not {})",
                    acl.id,
                    if allow { "allowed" } else { "denied" }
                )),
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
            record_seal::record_on_acl(c, &acl.id, task_id, &on_acl),
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
        let results = futures::future::join_all(
            planned
                .iter()
                .map(|p| network_acl::create_entry(&c.ec2.ec2, p)),
        )
        .await;
        for (p, r) in planned.into_iter().zip(results) {
            match r {
                Ok(()) => {
                    if p.allow {
                        opened.insert((p.direction, p.cidr.clone()));
                    }
                    done.push(entry_text(&p));
                }
                Err(CreateError::NumberTaken) => {
                    on_acl.remove(&p);
                    // A deny placed elsewhere needs its allow ahead of it again.
                    if !p.allow && allowed.contains(&p.cidr) {
                        opened.remove(&(p.direction, p.cidr.clone()));
                        pending.push((p.direction, p.cidr.clone(), true));
                    }
                    pending.push((p.direction, p.cidr, p.allow));
                }
                Err(CreateError::Other(e)) => errors.push(e),
            }
        }
        pending.dedup();
        if pending.is_empty() {
            break;
        }
    }
    for (d, cidr, _) in pending {
        errors.push(format!(
            "{cidr} {d}: rule numbers kept being taken by concurrent writers"
        ));
    }
    if on_acl != written
        && let Err(e) = record_seal::record_on_acl(c, &acl.id, task_id, &on_acl).await
    {
        warnings.push(e);
    }
    let acl_id = acl.id;
    let mut s = if !errors.is_empty() {
        Step::new(
            Status::Failed,
            format!(
                "network ACL {acl_id}: {}; added: [{}]; already there: [{}]",
                errors.join("; "),
                done.join(", "),
                already.join(", ")
            ),
        )
    } else if !done.is_empty() {
        let mut d = format!("network ACL {acl_id}: {}", done.join(", "));
        if !already.is_empty() {
            d.push_str(&format!("; already: {}", already.join(", ")));
        }
        Step::new(Status::Done, d)
    } else {
        Step::new(
            Status::AlreadyDone,
            format!("network ACL {acl_id}: already {}", already.join(", ")),
        )
    };
    for w in warnings {
        s.detail.push_str(&format!("; warning: {w}"));
    }
    (s, opened.len() == allowed.len() * Direction::BOTH.len())
}

/// How an entry reads in the outcome: `DENY 10.0.1.5/32 ingress #99`, or the sensor
/// link's `ALLOW tcp 443 10.0.1.5/32 ingress #98`.
fn entry_text(e: &NaclEntry) -> String {
    let what = if e.allow {
        let (from, to) = sensor_allow::ports(e.direction);
        if from == to {
            format!("ALLOW tcp {from} (sensor link)")
        } else {
            format!("ALLOW tcp {from}-{to} (sensor link)")
        }
    } else {
        "DENY".to_owned()
    };
    format!("{what} {} {} #{}", e.cidr, e.direction, e.rule_number)
}
