//! Quarantine of one instance: observe → record → isolate (with everything else alongside).
//!
//! Round trips on the critical path from "plan received" to "every ENI isolated":
//!
//! 1. `DescribeInstances`, concurrently with every other read (attributes, addresses,
//!    Auto Scaling membership, existing evidence snapshots, and the isolation groups of the
//!    VPC the finding names, created at once if this process has not seen them there);
//! 2. `CreateTags` recording the prior state (nothing is changed before it is recorded);
//!    new isolation groups get their rules here, and snapshots start;
//! 3. `ModifyNetworkInterfaceAttribute` → conversion group, on every ENI at once;
//! 4. `ModifyNetworkInterfaceAttribute` → no-rules group, on every ENI at once (retried,
//!    then back to the prior groups: never left in the conversion group, see `swap.rs`).
//!
//! Protection, Auto Scaling, Elastic IPs and the role-session revocation run concurrently
//! with 3–4; the instance is tagged
//! last, with a status that says whether a containment step failed. Collection runs
//! alongside and is never waited for by the tag: the evidence bundle from round trip 1,
//! and the volatile capture over SSM, which starts once isolation has run.
//!
//! This file is the orchestrator; each step is a file beside it: `record.rs`,
//! `isolate.rs`, `protect.rs` (protection, Auto Scaling, Elastic IPs), `evidence.rs`
//! (snapshots and the status tags), `volatile.rs` (the capture's preconditions).

use super::Clients;
use super::isolation_groups::{self, FirstLook, IsolationGroups, Role};
use super::observe::{self, AsgMember, Described, Eip, Eni, InstanceView, api_error};
use super::record_mac::{self, MAC_KEY, MacVerdict};
use super::sensor_coverage;
use super::sensor_link::{self, SensorLink};
use super::swap;
use crate::actions::ec2::prior_state::{EipAssociation, PriorState, PriorStateError};
use crate::ids::{InstanceId, VpcId};
use crate::outcome::Status;
use crate::plan::ActionKind;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, EbsInstanceBlockDeviceSpecification, Filter, InstanceAttributeName,
    InstanceBlockDeviceMappingSpecification, ResourceType, Tag, TagSpecification,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;

pub use crate::actions::tags::{
    FINDING_ID_KEY, FINDING_TYPE_KEY, QUARANTINED_AT_KEY, SNAPSHOT_DEVICE_KEY,
    SNAPSHOT_INSTANCE_KEY, SNAPSHOT_VOLUME_KEY, STATUS_INCOMPLETE, STATUS_KEY, STATUS_KEYS,
    STATUS_QUARANTINED,
};

mod evidence;
pub(crate) mod follow_up;
mod isolate;
mod protect;
mod record;
mod share;
mod snapshot_list;
mod volatile;

use evidence::*;
use isolate::*;
use protect::*;
use record::*;

pub(crate) use crate::outcome::Step;

/// What one instance's quarantine is asked to do.
pub(crate) struct Request<'a> {
    pub instance_id: &'a InstanceId,
    /// The VPC the finding names, used to look the isolation groups up in the first round
    /// trip. Checked against the instance's real VPCs before use.
    pub vpc_hint: Option<&'a VpcId>,
    pub finding_id: &'a str,
    pub finding_type: &'a str,
    /// The finding, for the evidence bundle; none (a host quarantined for an ECS task,
    /// whose bundle is the task's): no bundle.
    pub subject: Option<crate::evidence::collect::Subject<'a>>,
    pub kinds: HashSet<ActionKind>,
}

/// Restricts a value to the characters every AWS tagging API accepts, at most 256.
pub(crate) fn tag_value(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " +-=._:/@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(crate::actions::ec2::prior_state::MAX_VALUE)
        .collect()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

async fn maybe<T>(cond: bool, f: impl Future<Output = T>) -> Option<T> {
    if cond { Some(f.await) } else { None }
}

/// Runs the quarantine and reports a step per requested kind.
pub(crate) async fn quarantine(c: &Clients, req: &Request<'_>) -> HashMap<ActionKind, Step> {
    use ActionKind::*;
    let want = |k: ActionKind| req.kinds.contains(&k);
    let id = req.instance_id;
    let asg_wanted = want(Ec2DetachFromAutoScaling) || want(Ec2StandbyInAutoScaling);
    let attrs_wanted = want(Ec2ProtectInstance) || want(Ec2RecordPriorState);
    let hint: BTreeSet<String> = req
        .vpc_hint
        .map(|v| BTreeSet::from([v.to_string()]))
        .unwrap_or_default();
    let finding_tag = tag_value(req.finding_id);

    // Round trip 1: every read at once.
    // Each concurrent branch is boxed: SDK futures are large, and a join of them inline
    // would sit on the caller's stack (a debug build overflows a 2 MiB thread stack).
    let links_seen = Box::pin(maybe(
        want(Ec2IsolateNetwork) && !hint.is_empty(),
        sensor_link::discover_all(&c.ec2, &hint, c.isolation.keep_ssm_endpoints),
    ));
    let ((described, tp, sb, eips, asg, groups_seen, snaps), links_seen) = futures::join!(
        Box::pin(async {
            futures::join!(
                Box::pin(observe::describe_instance(&c.ec2, id)),
                Box::pin(maybe(
                    attrs_wanted,
                    observe::termination_protection(&c.ec2, id)
                )),
                Box::pin(maybe(attrs_wanted, observe::shutdown_behavior(&c.ec2, id))),
                Box::pin(maybe(
                    want(Ec2RecordPriorState) || want(Ec2DisassociateAddresses),
                    observe::addresses_of_instance(&c.ec2, id)
                )),
                Box::pin(maybe(asg_wanted, observe::asg_membership(&c.asg, id))),
                Box::pin(maybe(
                    want(Ec2IsolateNetwork) && !hint.is_empty(),
                    isolation_groups::first_look(&c.ec2, &hint)
                )),
                Box::pin(maybe(
                    want(Ec2SnapshotVolumes),
                    existing_snapshots(&c.ec2, &finding_tag, id)
                )),
            )
        }),
        links_seen,
    );
    let view = match described {
        Described::Found(v) => v,
        Described::NotFound(why) => return all(&req.kinds, || Step::skipped(why.clone())),
        Described::Failed(e) => return all(&req.kinds, || Step::failed(e.clone())),
    };
    let tp = tp.unwrap_or_else(|| Err("not read".into()));
    let sb = sb.unwrap_or_else(|| Err("not read".into()));
    let eips = eips.unwrap_or_else(|| Err("not read".into()));
    // Membership from Auto Scaling; if that read failed, the group tag AWS puts on members.
    let (asg, asg_note) = match asg {
        None => (Ok(None), None),
        Some(Ok(m)) => (Ok(m), None),
        Some(Err(e)) => match &view.asg_tag {
            Some(g) => (
                Ok(Some(AsgMember {
                    group: g.clone(),
                    lifecycle_state: String::new(),
                })),
                Some(e),
            ),
            None => (Err(e), None),
        },
    };

    let decoded = PriorState::decode(view.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    // A record an earlier run wrote is checked against its MAC before it is kept (only
    // on a re-delivery: a first delivery finds no record of ours).
    let verdict = match (&c.mac_key, view.tags.get(MAC_KEY)) {
        (Some(key), Some(mac))
            if matches!(decoded, Ok(Some(_))) && earlier_run(&view, &finding_tag) =>
        {
            let message = record_mac::instance_message(&view);
            Box::pin(record_mac::verify(
                &c.kms,
                Some(key.as_str()),
                message,
                Some(mac.as_str()),
            ))
            .await
        }
        (Some(_), None) => MacVerdict::Absent,
        (Some(_), Some(_)) => MacVerdict::Unverifiable("not checked".into()),
        (None, _) => MacVerdict::NotConfigured,
    };
    let existing = judge_record(&view, &finding_tag, &decoded, &verdict);
    // The volatile capture starts once isolation has run, never before; the bundle's
    // collection waits for the capture's record.
    let (isolation_ran, after_isolation) = futures::channel::oneshot::channel::<()>();
    let (captured_tx, captured_rx) =
        futures::channel::oneshot::channel::<crate::evidence::collect::Collection>();
    // The bundle's collection starts only once its `finding.json` put made the bundle:
    // this run owns it, and only then is the capture sent (a re-delivery sends nothing).
    let (owned_tx, owned_rx) = futures::channel::oneshot::channel::<()>();

    // Round trip 2: record the prior state; meanwhile make sure the isolation groups exist
    // and start the evidence snapshots (neither changes the instance).
    let record = async {
        if !want(Ec2RecordPriorState) {
            return None;
        }
        Some(
            Box::pin(record_prior_state(
                c,
                &view,
                &finding_tag,
                &existing,
                &tp,
                &sb,
                &eips,
                &asg,
            ))
            .await,
        )
    };
    let groups = async {
        if !want(Ec2IsolateNetwork) {
            return (BTreeMap::new(), BTreeMap::new());
        }
        Box::pin(prepare_groups(c, &view, &hint, groups_seen, links_seen)).await
    };
    // The forensic copies follow their snapshots, alongside isolation as they are.
    let snapshots = async {
        let existing = snaps?;
        let (step, ids) = Box::pin(snapshot_volumes(c, &view, &finding_tag, existing)).await;
        let shared = match &c.forensic_snapshots {
            Some(to) if want(Ec2ShareSnapshots) => {
                Some(Box::pin(share::share_snapshots(c, to, &finding_tag, id, &ids)).await)
            }
            _ if want(Ec2ShareSnapshots) => Some(Step::skipped(
                "no forensic account configured (ec2.forensic_snapshots)",
            )),
            _ => None,
        };
        Some((step, shared))
    };
    let after_record = async {
        let (recorded, groups) = futures::join!(record, groups);
        let (recorded, mac) = match recorded {
            Some((step, mac)) => (Some(step), mac),
            None => (None, None),
        };
        // Round trips 3 and 4: isolation, with every other change alongside.
        let prior_asg = match existing {
            Record::Ours(p) => p.auto_scaling_group.clone(),
            _ => None,
        };
        let prior_eips = match existing {
            Record::Ours(p) => p.elastic_ips.as_ref().is_some_and(|e| !e.is_empty()),
            _ => false,
        };
        let (isolated, protected, asg_step, eip_step, revoked) = futures::join!(
            Box::pin(async {
                let isolated = maybe(
                    want(Ec2IsolateNetwork),
                    isolate(c, &view, &groups, &existing),
                )
                .await;
                // Isolation has run (whatever its result): the volatile capture may start.
                let _ = isolation_ran.send(());
                isolated
            }),
            Box::pin(maybe(want(Ec2ProtectInstance), protect(c, &view, &tp, &sb))),
            Box::pin(maybe(
                asg_wanted,
                auto_scaling(
                    c,
                    id,
                    &asg,
                    asg_note.as_deref(),
                    prior_asg.as_deref(),
                    want(Ec2StandbyInAutoScaling)
                )
            )),
            Box::pin(maybe(
                want(Ec2DisassociateAddresses),
                disassociate(c, &eips, prior_eips)
            )),
            Box::pin(maybe(
                want(Ec2RevokeRoleSessions),
                super::revoke::revoke_instance_role(c, &view)
            )),
        );
        (
            recorded, mac, isolated, protected, asg_step, eip_step, revoked,
        )
    };
    // The evidence bundle alongside, from the descriptions of round trip 1.
    let bundle = async {
        let (Some(ev), Some(subject)) = (&c.evidence, &req.subject) else {
            return None;
        };
        let collect = async {
            let _ = owned_tx.send(());
            captured_rx.await.unwrap_or_default()
        };
        let extra = volatile::bundle_extra(c, want(Ec2CaptureVolatile));
        Some(
            Box::pin(super::bundle::write(
                ev, subject, &view, &tp, &sb, collect, extra,
            ))
            .await,
        )
    };
    let capture_volatile = async {
        let captured = if want(Ec2CaptureVolatile) {
            let _ = after_isolation.await;
            Box::pin(volatile::run(c, req, &view, async {
                owned_rx.await.is_ok()
            }))
            .await
        } else {
            Default::default()
        };
        let _ = captured_tx.send(captured.collection);
        captured.step
    };
    // Containment, then the status tag; collection (bundle, volatile capture) alongside,
    // never waited for by the tag (a collection failure never marks the instance).
    let containment = async {
        let ((recorded, mac, isolated, protected, asg_step, eip_step, revoked), snapshot_steps) =
            futures::join!(Box::pin(after_record), Box::pin(snapshots));
        let (snapshot_step, share_step) = match snapshot_steps {
            Some((s, shared)) => (Some(s), shared),
            None => (None, None),
        };
        let asg_kind = if want(Ec2StandbyInAutoScaling) {
            Ec2StandbyInAutoScaling
        } else {
            Ec2DetachFromAutoScaling
        };
        let mut out = HashMap::new();
        for (k, s) in [
            (Ec2RecordPriorState, recorded),
            (Ec2IsolateNetwork, isolated),
            (Ec2ProtectInstance, protected),
            (asg_kind, asg_step),
            (Ec2DisassociateAddresses, eip_step),
            (Ec2SnapshotVolumes, snapshot_step),
            (Ec2ShareSnapshots, share_step),
            (Ec2RevokeRoleSessions, revoked),
        ] {
            if let Some(s) = s {
                out.insert(k, s);
            }
        }
        Box::pin(tag_and_seal(c, &view, req, &mut out, mac.as_deref())).await;
        out
    };
    let (mut out, bundle, captured) = futures::join!(
        Box::pin(containment),
        Box::pin(bundle),
        Box::pin(capture_volatile)
    );
    let captured = match captured {
        None if want(Ec2CaptureVolatile) => Some(volatile::not_owned(bundle.as_ref())),
        c => c,
    };
    for (k, s) in [
        (EvidenceWriteBundle, bundle),
        (Ec2CaptureVolatile, captured),
    ] {
        if let Some(s) = s {
            out.insert(k, s);
        }
    }
    // Kinds this executor does not know (none today) are reported, never dropped.
    for k in &req.kinds {
        out.entry(*k)
            .or_insert_with(|| Step::skipped("not an EC2 quarantine step"));
    }
    out
}

fn all(kinds: &HashSet<ActionKind>, step: impl Fn() -> Step) -> HashMap<ActionKind, Step> {
    kinds.iter().map(|k| (*k, step())).collect()
}

#[cfg(test)]
mod tests;
