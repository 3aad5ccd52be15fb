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
//! Protection, Auto Scaling, Elastic IPs run concurrently with 3–4; the instance is tagged
//! last, with a status that says whether anything failed.

use super::Clients;
use super::isolation_groups::{self, FirstLook, IsolationGroups, Role};
use super::observe::{self, AsgMember, Described, Eip, Eni, InstanceView, api_error};
use super::prior_state::{EipAssociation, PriorState, PriorStateError, is_resource_id};
use super::record_mac::{self, MAC_KEY, MacVerdict};
use super::sensor_coverage;
use super::sensor_link::{self, SensorLink};
use super::swap;
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

/// One step's result, before it is attached to the plan's action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub status: Status,
    pub detail: String,
    pub evidence: Option<serde_json::Value>,
}

impl Step {
    fn new(status: Status, detail: impl Into<String>) -> Step {
        Step {
            status,
            detail: detail.into(),
            evidence: None,
        }
    }
    fn done(d: impl Into<String>) -> Step {
        Step::new(Status::Done, d)
    }
    fn already(d: impl Into<String>) -> Step {
        Step::new(Status::AlreadyDone, d)
    }
    fn skipped(d: impl Into<String>) -> Step {
        Step::new(Status::Skipped, d)
    }
    fn failed(d: impl Into<String>) -> Step {
        Step::new(Status::Failed, d)
    }
}

/// What one instance's quarantine is asked to do.
pub(crate) struct Request<'a> {
    pub instance_id: &'a str,
    /// The VPC the finding names, used to look the isolation groups up in the first round
    /// trip. Checked against the instance's real VPCs before use.
    pub vpc_hint: Option<&'a str>,
    pub finding_id: &'a str,
    pub finding_type: &'a str,
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
        .take(super::prior_state::MAX_VALUE)
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
        .filter(|v| is_resource_id("vpc-", v))
        .map(|v| BTreeSet::from([v.to_owned()]))
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
    let mut out = HashMap::new();

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
    let snapshots = async {
        match snaps {
            Some(existing) => {
                Some(Box::pin(snapshot_volumes(c, &view, &finding_tag, existing)).await)
            }
            None => None,
        }
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
        let (isolated, protected, asg_step, eip_step) = futures::join!(
            Box::pin(maybe(
                want(Ec2IsolateNetwork),
                isolate(c, &view, &groups, &existing)
            )),
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
        );
        (recorded, mac, isolated, protected, asg_step, eip_step)
    };
    let ((recorded, mac, isolated, protected, asg_step, eip_step), snapshot_step) =
        futures::join!(Box::pin(after_record), Box::pin(snapshots));

    let asg_kind = if want(Ec2StandbyInAutoScaling) {
        Ec2StandbyInAutoScaling
    } else {
        Ec2DetachFromAutoScaling
    };
    for (k, s) in [
        (Ec2RecordPriorState, recorded),
        (Ec2IsolateNetwork, isolated),
        (Ec2ProtectInstance, protected),
        (asg_kind, asg_step),
        (Ec2DisassociateAddresses, eip_step),
        (Ec2SnapshotVolumes, snapshot_step),
    ] {
        if let Some(s) = s {
            out.insert(k, s);
        }
    }

    if want(Ec2TagInstance) {
        let failed = out.values().any(|s| s.status == Status::Failed);
        let step = Box::pin(tag_instance(c, &view, req, failed, mac.as_deref())).await;
        out.insert(Ec2TagInstance, step);
    } else if let Some(mac) = &mac {
        let sent = c
            .ec2
            .create_tags()
            .resources(&view.id)
            .tags(tag(MAC_KEY, mac));
        if let Err(e) = sent.send().await
            && let Some(s) = out.get_mut(&Ec2RecordPriorState)
        {
            s.status = Status::Failed;
            s.detail = format!(
                "{}; MAC not written: {}",
                s.detail,
                api_error("CreateTags", &e)
            );
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

fn is_isolation_group_name(name: Option<&str>) -> bool {
    name.is_some_and(|n| Role::from_name(n).is_some())
}

/// An ENI that already sits only in isolation groups: its current groups are not the
/// ones to restore.
fn already_in_isolation(eni: &Eni) -> bool {
    !eni.groups.is_empty()
        && eni
            .groups
            .iter()
            .all(|g| is_isolation_group_name(g.name.as_deref()))
}

/// Pure: the prior state from what was observed.
pub(crate) fn capture(
    view: &InstanceView,
    tp: &Result<bool, String>,
    sb: &Result<String, String>,
    eips: &Result<Vec<Eip>, String>,
    asg: &Result<Option<AsgMember>, String>,
) -> PriorState {
    PriorState {
        network_interfaces: view
            .enis
            .iter()
            .filter(|e| !already_in_isolation(e))
            .map(|e| (e.id.clone(), e.group_ids()))
            .collect(),
        termination_protection: tp.as_ref().ok().copied(),
        shutdown_behavior: sb.as_ref().ok().cloned(),
        delete_on_termination: view
            .volumes
            .iter()
            .filter(|v| v.delete_on_termination)
            .map(|v| v.device_name.clone())
            .collect(),
        auto_scaling_group: asg.as_ref().ok().cloned().flatten().map(|m| m.group),
        elastic_ips: eips.as_ref().ok().map(|list| {
            list.iter()
                .filter(|e| e.association_id.is_some())
                .filter_map(|e| {
                    Some(EipAssociation {
                        allocation_id: e.allocation_id.clone(),
                        network_interface_id: e.network_interface_id.clone()?,
                        private_ip: e.private_ip.clone()?,
                    })
                })
                .collect()
        }),
    }
}

/// A prior-state record found on the instance, judged.
#[derive(Debug, Clone, Copy)]
enum Record<'a> {
    None,
    /// Written by an earlier run of ours: kept.
    Ours(&'a PriorState),
    /// Ours but unreadable: left as is, it may be the only copy of the truth.
    OursUnreadable(&'a PriorStateError),
    /// Stale or planted: replaced by the live state.
    Untrusted,
}

/// Pure: whether a record on the instance is ours. It is only if an earlier run got as far
/// as isolating an ENI, or tagged the instance with this finding's id (which nobody knows
/// before GuardDuty publishes it; this also covers a describe that still shows the groups
/// from before). Anyone with `ec2:CreateTags` on the instance can write these tags; on an
/// instance that is not isolated the live state is the truth, and a record there is stale
/// or planted (it would make release restore the planter's groups).
///
/// With a MAC key configured, a record whose MAC does not verify was edited after that run:
/// it is replaced too (release leaves the isolated ENIs as they are: nothing true is known
/// about their groups). One without a MAC (that run has not finished, or did not get to
/// write it) is kept unsigned; release refuses it.
fn judge_record<'a>(
    view: &InstanceView,
    finding_tag: &str,
    decoded: &'a Result<Option<PriorState>, PriorStateError>,
    mac: &MacVerdict,
) -> Record<'a> {
    let earlier_run = earlier_run(view, finding_tag);
    match decoded {
        Ok(None) => Record::None,
        Ok(Some(_)) if *mac == MacVerdict::Invalid => Record::Untrusted,
        Ok(Some(p)) if earlier_run => Record::Ours(p),
        Err(e) if earlier_run => Record::OursUnreadable(e),
        _ => Record::Untrusted,
    }
}

/// An earlier run isolated an ENI or tagged the instance with this finding.
fn earlier_run(view: &InstanceView, finding_tag: &str) -> bool {
    view.enis.iter().any(already_in_isolation)
        || view
            .tags
            .get(FINDING_ID_KEY)
            .is_some_and(|v| v == finding_tag)
}

/// Records the prior state and, with a key configured, MACs it at the same time (the MAC
/// is written with the finding id by the tag step). Returns the step and the MAC.
#[allow(clippy::too_many_arguments)]
async fn record_prior_state(
    c: &Clients,
    view: &InstanceView,
    finding_tag: &str,
    existing: &Record<'_>,
    tp: &Result<bool, String>,
    sb: &Result<String, String>,
    eips: &Result<Vec<Eip>, String>,
    asg: &Result<Option<AsgMember>, String>,
) -> (Step, Option<String>) {
    let replaced = match existing {
        Record::Ours(p) => {
            let mut s = Step::already("prior state recorded by an earlier run");
            s.evidence = serde_json::to_value(p).ok();
            return (s, None);
        }
        Record::OursUnreadable(e) => {
            return (
                Step::failed(format!("{e}; left as is, check the instance's tags")),
                None,
            );
        }
        Record::Untrusted => Some(
            "replaced prior-state tags the responder did not write for this quarantine (stale, planted, or edited after it)",
        ),
        Record::None => None,
    };
    let prior = capture(view, tp, sb, eips, asg);
    let mut gaps = Vec::new();
    if let Err(e) = tp {
        gaps.push(format!("termination protection ({e})"));
    }
    if let Err(e) = sb {
        gaps.push(format!("shutdown behaviour ({e})"));
    }
    if let Err(e) = eips {
        gaps.push(format!("Elastic IPs ({e})"));
    }
    let isolated: Vec<&str> = view
        .enis
        .iter()
        .filter(|e| already_in_isolation(e))
        .map(|e| e.id.as_str())
        .collect();
    if !isolated.is_empty() {
        gaps.push(format!(
            "groups of {} (already in isolation groups)",
            isolated.join(", ")
        ));
    }
    let evidence = serde_json::to_value(&prior).ok();
    let tags = match prior.encode() {
        Ok(t) => t,
        Err(e) => {
            let mut s = Step::failed(format!("{e}; nothing recorded"));
            s.evidence = evidence;
            return (s, None);
        }
    };
    // The finding the record (and its MAC) belongs to.
    let mut tags = tags;
    tags.push((record_mac::FINDING_KEY.to_owned(), finding_tag.to_owned()));
    let n = tags.len();
    // Keys of a replaced record that the new one does not overwrite.
    let stale: Vec<Tag> = view
        .tags
        .iter()
        .filter(|(k, _)| {
            super::prior_state::is_prior_key(k) && !tags.iter().any(|(new, _)| new == *k)
        })
        .map(|(k, _)| Tag::builder().key(k).build())
        .collect();
    let create = c
        .ec2
        .create_tags()
        .resources(&view.id)
        .set_tags(Some(tags.iter().map(|(k, v)| tag(k, v)).collect()))
        .send();
    let delete = async {
        if stale.is_empty() {
            return Ok(());
        }
        c.ec2
            .delete_tags()
            .resources(&view.id)
            .set_tags(Some(stale))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error("DeleteTags", &e))
    };
    let mac = maybe(c.mac_key.is_some(), async {
        let message = record_mac::canonical(
            &view.id,
            finding_tag,
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        record_mac::generate(&c.kms, c.mac_key.as_deref().unwrap_or_default(), message).await
    });
    let (sent, deleted, mac) = futures::join!(Box::pin(create), Box::pin(delete), Box::pin(mac));
    if let Err(e) = deleted {
        gaps.push(format!("stale prior-state tags left ({e})"));
    }
    let mac = match mac {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            gaps.push(format!("MAC ({e}): release will refuse this record"));
            None
        }
    };
    let mut s = match sent {
        Err(e) => Step::failed(format!(
            "{} (the prior state is in this outcome's evidence)",
            api_error("CreateTags", &e)
        )),
        Ok(_) if gaps.is_empty() => Step::done(match replaced {
            Some(why) => format!("recorded in {n} instance tags; {why}"),
            None => format!("recorded in {n} instance tags"),
        }),
        // Recorded what could be read; what could not is marked unknown and release leaves
        // it as it finds it. Reported as a failure so the alert says so.
        Ok(_) => Step::failed(format!(
            "recorded in {n} instance tags, except: {}{}",
            gaps.join("; "),
            replaced.map(|why| format!("; {why}")).unwrap_or_default()
        )),
    };
    s.evidence = evidence;
    (s, mac)
}

/// The isolation groups of every VPC the instance's ENIs are in, and the endpoints each
/// keeps reachable ([`sensor_link`]; found concurrently with the groups).
async fn prepare_groups(
    c: &Clients,
    view: &InstanceView,
    hint: &BTreeSet<String>,
    seen: Option<Result<FirstLook, String>>,
    links_seen: Option<Links>,
) -> (Groups, Links) {
    let vpcs = view.vpcs();
    // Reuse the first round trip's look when it covered the right VPC(s).
    let mut look = FirstLook::default();
    let mut missing: BTreeSet<String> = vpcs.clone();
    if let Some(Ok(first)) = seen {
        look = first;
        missing.retain(|v| !hint.contains(v));
    }
    let more = async {
        match missing.is_empty() {
            true => None,
            false => Some(isolation_groups::first_look(&c.ec2, &missing).await),
        }
    };
    // The first round trip found the hinted VPC's endpoints; only the others are looked up.
    let mut links = links_seen.unwrap_or_default();
    links.retain(|v, _| vpcs.contains(v));
    let unlooked: BTreeSet<String> = vpcs
        .iter()
        .filter(|v| !links.contains_key(*v))
        .cloned()
        .collect();
    let found = sensor_link::discover_all(&c.ec2, &unlooked, c.isolation.keep_ssm_endpoints);
    let (more, found) = futures::join!(Box::pin(more), Box::pin(found));
    links.extend(found);
    match more {
        Some(Ok(more)) => {
            look.observed.extend(more.observed);
            look.created.extend(more.created);
        }
        Some(Err(e)) => {
            return (
                vpcs.into_iter().map(|v| (v, Err(e.clone()))).collect(),
                links,
            );
        }
        None => {}
    }
    // Groups created in a VPC the finding named but the instance is not in get their
    // rules too, so no half-set-up group is left behind.
    let all: BTreeSet<String> = vpcs
        .iter()
        .cloned()
        .chain(look.created.iter().map(|g| g.vpc_id.clone()))
        .collect();
    let ensured = futures::future::join_all(all.iter().map(|v| {
        let keep = sensor_link::keep_of(links.get(v));
        let look = &look;
        async move { isolation_groups::ensure_looked(&c.ec2, v, look, &keep).await }
    }))
    .await;
    let groups = all
        .into_iter()
        .zip(ensured)
        .filter(|(v, _)| vpcs.contains(v))
        .collect();
    (groups, links)
}

type Groups = BTreeMap<String, Result<IsolationGroups, String>>;
type Links = BTreeMap<String, Result<SensorLink, String>>;

/// Isolates every ENI, then says what stays reachable and whether GuardDuty still sees
/// the instance.
async fn isolate(
    c: &Clients,
    view: &InstanceView,
    (groups, links): &(Groups, Links),
    existing: &Record<'_>,
) -> Step {
    let mut step = Box::pin(isolate_enis(c, view, groups, existing)).await;
    if step.status == Status::Skipped {
        return step;
    }
    let kept = sensor_link::notes(links, &mut step.detail);
    if step.status != Status::Failed {
        let subject = sensor_coverage::Subject::Ec2Instance(&view.id);
        let seen = sensor_coverage::check(&c.guardduty, subject, kept).await;
        step.detail.push_str(&format!("; {seen}"));
    }
    step
}

async fn isolate_enis(
    c: &Clients,
    view: &InstanceView,
    groups: &Groups,
    existing: &Record<'_>,
) -> Step {
    if view.enis.is_empty() {
        return Step::skipped("the instance has no network interfaces");
    }
    let results = futures::future::join_all(view.enis.iter().map(|eni| async move {
        let g = match eni.vpc_id.as_ref().and_then(|v| groups.get(v)) {
            Some(Ok(g)) => g,
            Some(Err(e)) => return (eni, None, Err(format!("{}: {e}", eni.id))),
            None => return (eni, None, Err(format!("{}: VPC unknown", eni.id))),
        };
        // An ENI found in an isolation group falls back to what an earlier run recorded.
        let recorded = match existing {
            Record::Ours(p) => p.network_interfaces.get(&eni.id).map(Vec::as_slice),
            _ => None,
        };
        (eni, Some(g), swap::isolate_eni(c, eni, g, recorded).await)
    }))
    .await;
    let mut changed = Vec::new();
    let mut unchanged = Vec::new();
    let mut errors = Vec::new();
    let mut notes = BTreeSet::new();
    for (eni, g, r) in results {
        if let Some(g) = g {
            if g.changed {
                notes.insert(format!(
                    "isolation groups of {} created or repaired",
                    g.vpc_id
                ));
            }
            notes.insert(format!(
                "{}: conversion {} then no-rules {}",
                g.vpc_id, g.conversion, g.no_rules
            ));
        }
        match r {
            Ok(true) => changed.push(eni.id.as_str()),
            Ok(false) => unchanged.push(eni.id.as_str()),
            Err(e) => errors.push(e),
        }
    }
    let notes = notes.into_iter().collect::<Vec<_>>().join("; ");
    if !errors.is_empty() {
        return Step::failed(format!(
            "{}; isolated: [{}] ({notes})",
            errors.join("; "),
            changed.join(", ")
        ));
    }
    if changed.is_empty() {
        return Step::already(format!(
            "every network interface already isolated: {} ({notes})",
            unchanged.join(", ")
        ));
    }
    Step::done(format!(
        "isolated {} network interface(s): {} ({notes})",
        changed.len() + unchanged.len(),
        changed
            .iter()
            .chain(unchanged.iter())
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

async fn protect(
    c: &Clients,
    view: &InstanceView,
    tp: &Result<bool, String>,
    sb: &Result<String, String>,
) -> Step {
    let id = view.id.as_str();
    let mut notes: Vec<String> = Vec::new();
    let mut already: Vec<String> = Vec::new();
    let cannot_stop = if view.spot {
        Some("Spot instance")
    } else if view.instance_store_root {
        Some("instance-store root device")
    } else {
        None
    };
    let want_tp = match (cannot_stop, tp) {
        (Some(_), _) if view.spot => {
            notes.push("termination protection skipped: not possible on a Spot instance".into());
            false
        }
        (_, Ok(true)) => {
            already.push("termination protection already on".into());
            false
        }
        _ => true,
    };
    let want_sb = match (cannot_stop, sb) {
        (Some(why), _) => {
            notes.push(format!("shutdown behaviour skipped: {why}"));
            false
        }
        (None, Ok(s)) if s == "stop" => {
            already.push("shutdown behaviour already stop".into());
            false
        }
        _ => true,
    };
    let dot: Vec<&str> = view
        .volumes
        .iter()
        .filter(|v| v.delete_on_termination)
        .map(|v| v.device_name.as_str())
        .collect();
    if dot.is_empty() && !view.volumes.is_empty() {
        already.push("DeleteOnTermination already off".into());
    }
    let tp_call = maybe(want_tp, async {
        c.ec2
            .modify_instance_attribute()
            .instance_id(id)
            .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .map(|_| "termination protection on".to_owned())
            .map_err(|e| api_error("ModifyInstanceAttribute(disableApiTermination)", &e))
    });
    let sb_call = maybe(want_sb, async {
        c.ec2
            .modify_instance_attribute()
            .instance_id(id)
            .attribute(InstanceAttributeName::InstanceInitiatedShutdownBehavior)
            .value("stop")
            .send()
            .await
            .map(|_| "shutdown behaviour stop".to_owned())
            .map_err(|e| {
                api_error(
                    "ModifyInstanceAttribute(instanceInitiatedShutdownBehavior)",
                    &e,
                )
            })
    });
    let dot_call = maybe(!dot.is_empty(), async {
        let mappings = dot
            .iter()
            .map(|d| {
                InstanceBlockDeviceMappingSpecification::builder()
                    .device_name(*d)
                    .ebs(
                        EbsInstanceBlockDeviceSpecification::builder()
                            .delete_on_termination(false)
                            .build(),
                    )
                    .build()
            })
            .collect();
        c.ec2
            .modify_instance_attribute()
            .instance_id(id)
            .set_block_device_mappings(Some(mappings))
            .send()
            .await
            .map(|_| format!("DeleteOnTermination off for {}", dot.join(", ")))
            .map_err(|e| api_error("ModifyInstanceAttribute(blockDeviceMapping)", &e))
    });
    let (a, b, d) = futures::join!(Box::pin(tp_call), Box::pin(sb_call), Box::pin(dot_call));
    let mut done = Vec::new();
    let mut errors = Vec::new();
    for r in [a, b, d].into_iter().flatten() {
        match r {
            Ok(m) => done.push(m),
            Err(e) => errors.push(e),
        }
    }
    let text = |parts: &[&Vec<String>]| {
        parts
            .iter()
            .flat_map(|p| p.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !errors.is_empty() {
        Step::failed(text(&[&errors, &done, &already, &notes]))
    } else if !done.is_empty() {
        Step::done(text(&[&done, &already, &notes]))
    } else if !already.is_empty() {
        Step::already(text(&[&already, &notes]))
    } else {
        Step::skipped(text(&[&notes]))
    }
}

async fn auto_scaling(
    c: &Clients,
    id: &str,
    member: &Result<Option<AsgMember>, String>,
    note: Option<&str>,
    prior_group: Option<&str>,
    standby: bool,
) -> Step {
    let m = match member {
        Err(e) => return Step::failed(e.clone()),
        Ok(None) => {
            return match prior_group {
                Some(g) if !standby => Step::already(format!("detached from {g} earlier")),
                Some(g) => Step::already(format!("left {g} earlier")),
                None => Step::skipped("not in an Auto Scaling group"),
            };
        }
        Ok(Some(m)) => m,
    };
    let state = m.lifecycle_state.as_str();
    let g = m.group.as_str();
    if standby && (state == "Standby" || state == "EnteringStandby") {
        return Step::already(format!("in standby in {g}"));
    }
    if !standby && state.starts_with("Detach") {
        return Step::already(format!("being detached from {g}"));
    }
    let suffix = note
        .map(|n| format!(" (membership from the instance's group tag: {n})"))
        .unwrap_or_default();
    if standby {
        match c
            .asg
            .enter_standby()
            .auto_scaling_group_name(g)
            .instance_ids(id)
            .should_decrement_desired_capacity(false)
            .send()
            .await
        {
            Ok(_) => Step::done(format!(
                "entered standby in {g}; desired capacity kept{suffix}"
            )),
            Err(e) => Step::failed(format!("{}{suffix}", api_error("EnterStandby", &e))),
        }
    } else {
        match c
            .asg
            .detach_instances()
            .auto_scaling_group_name(g)
            .instance_ids(id)
            .should_decrement_desired_capacity(false)
            .send()
            .await
        {
            Ok(_) => Step::done(format!("detached from {g}; desired capacity kept{suffix}")),
            Err(e) => Step::failed(format!("{}{suffix}", api_error("DetachInstances", &e))),
        }
    }
}

async fn disassociate(c: &Clients, eips: &Result<Vec<Eip>, String>, prior: bool) -> Step {
    let list = match eips {
        Err(e) => return Step::failed(e.clone()),
        Ok(l) => l,
    };
    let associated: Vec<(&Eip, &str)> = list
        .iter()
        .filter_map(|e| Some((e, e.association_id.as_deref()?)))
        .collect();
    if associated.is_empty() {
        return if prior {
            Step::already("Elastic IPs disassociated earlier")
        } else {
            Step::skipped("no Elastic IP associated")
        };
    }
    let results = futures::future::join_all(associated.iter().map(|(eip, assoc)| async move {
        c.ec2
            .disassociate_address()
            .association_id(*assoc)
            .send()
            .await
            .map(|_| format!("{} ({})", eip.public_ip, eip.allocation_id))
            .map_err(|e| {
                format!(
                    "{}: {}",
                    eip.public_ip,
                    api_error("DisassociateAddress", &e)
                )
            })
    }))
    .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    let ok: Vec<String> = ok.into_iter().filter_map(Result::ok).collect();
    let err: Vec<String> = err.into_iter().filter_map(Result::err).collect();
    if err.is_empty() {
        Step::done(format!("disassociated {}", ok.join(", ")))
    } else {
        Step::failed(format!(
            "{}; disassociated: [{}]",
            err.join("; "),
            ok.join(", ")
        ))
    }
}

/// Volume ids that already have an evidence snapshot for this finding. Filtered by our tags
/// and owned by this account (never a listing of every snapshot the account owns, and
/// never someone else's public snapshot carrying our tags).
async fn existing_snapshots(
    ec2: &aws_sdk_ec2::Client,
    finding: &str,
    instance_id: &str,
) -> Result<BTreeSet<String>, String> {
    let pages = ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            Filter::builder()
                .name(format!(
                    "tag:{}",
                    super::prior_state::TAG_PREFIX.to_owned() + "finding-id"
                ))
                .values(finding)
                .build(),
        )
        .filters(
            Filter::builder()
                .name(format!("tag:{SNAPSHOT_INSTANCE_KEY}"))
                .values(instance_id)
                .build(),
        )
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("DescribeSnapshots", &e))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.snapshots())
        .filter(|s| !matches!(s.state(), Some(aws_sdk_ec2::types::SnapshotState::Error)))
        .filter_map(|s| s.volume_id().map(str::to_owned))
        .collect())
}

async fn snapshot_volumes(
    c: &Clients,
    view: &InstanceView,
    finding: &str,
    existing: Result<BTreeSet<String>, String>,
) -> Step {
    let existing = match existing {
        Ok(e) => e,
        Err(e) => return Step::failed(e),
    };
    if view.volumes.is_empty() {
        return Step::skipped("no EBS volumes attached");
    }
    let todo: Vec<_> = view
        .volumes
        .iter()
        .filter(|v| !existing.contains(&v.volume_id))
        .collect();
    if todo.is_empty() {
        return Step::already(format!(
            "{} volume(s) already have a snapshot for this finding",
            view.volumes.len()
        ));
    }
    let results = futures::future::join_all(todo.iter().map(|v| async move {
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::Snapshot)
            .tags(tag(
                "Name",
                &tag_value(&format!(
                    "guardduty-responder {} {}",
                    view.id, v.device_name
                )),
            ))
            .tags(tag(FINDING_ID_KEY, finding))
            .tags(tag(SNAPSHOT_INSTANCE_KEY, &view.id))
            .tags(tag(SNAPSHOT_DEVICE_KEY, &tag_value(&v.device_name)))
            .tags(tag(SNAPSHOT_VOLUME_KEY, &v.volume_id))
            .build();
        let description = crate::sanitize::ascii_line(
            &format!(
                "GuardDuty responder evidence: finding {finding}, instance {}, device {}",
                view.id, v.device_name
            ),
            255,
        );
        c.ec2
            .create_snapshot()
            .volume_id(&v.volume_id)
            .description(description)
            .tag_specifications(tags)
            .send()
            .await
            .map(|o| {
                format!(
                    "{} ({})",
                    o.snapshot_id().unwrap_or("snapshot"),
                    v.device_name
                )
            })
            .map_err(|e| format!("{}: {}", v.device_name, api_error("CreateSnapshot", &e)))
    }))
    .await;
    let ok: Vec<String> = results.iter().filter_map(|r| r.clone().ok()).collect();
    let err: Vec<String> = results.iter().filter_map(|r| r.clone().err()).collect();
    let kept = if existing.is_empty() {
        String::new()
    } else {
        format!("; {} existed already", existing.len())
    };
    if err.is_empty() {
        Step::done(format!("started {} (not waited for){kept}", ok.join(", ")))
    } else {
        Step::failed(format!(
            "{}; started: [{}]{kept}",
            err.join("; "),
            ok.join(", ")
        ))
    }
}

/// The status tags, and the record's MAC when this run wrote one (last: an interrupted
/// run leaves an unsigned record, which release refuses rather than trusts).
async fn tag_instance(
    c: &Clients,
    view: &InstanceView,
    req: &Request<'_>,
    failed: bool,
    mac: Option<&str>,
) -> Step {
    let status = if failed {
        STATUS_INCOMPLETE
    } else {
        STATUS_QUARANTINED
    };
    let mut wanted = vec![
        (STATUS_KEY, status.to_owned()),
        (FINDING_ID_KEY, tag_value(req.finding_id)),
        (FINDING_TYPE_KEY, tag_value(req.finding_type)),
    ];
    wanted.extend(mac.map(|m| (MAC_KEY, m.to_owned())));
    if wanted
        .iter()
        .all(|(k, v)| view.tags.get(*k).map(String::as_str) == Some(v.as_str()))
    {
        return Step::already(format!("tagged {status} for this finding earlier"));
    }
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut tags: Vec<Tag> = wanted.iter().map(|(k, v)| tag(k, v)).collect();
    tags.push(tag(QUARANTINED_AT_KEY, &now));
    match c
        .ec2
        .create_tags()
        .resources(&view.id)
        .set_tags(Some(tags))
        .send()
        .await
    {
        Ok(_) => Step::done(format!("tagged {STATUS_KEY}={status}")),
        Err(e) => Step::failed(api_error("CreateTags", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ec2::observe::{GroupRef, Volume};

    fn view() -> InstanceView {
        let eni = |id: &str, groups: &[(&str, &str)]| Eni {
            id: id.into(),
            vpc_id: Some("vpc-0a1b2c3d4e5f60789".into()),
            groups: groups
                .iter()
                .map(|(id, name)| GroupRef {
                    id: (*id).into(),
                    name: Some((*name).into()),
                })
                .collect(),
            private_ips: vec![],
        };
        InstanceView {
            id: "i-0a1b2c3d4e5f60718".into(),
            state: "running".into(),
            spot: false,
            instance_store_root: false,
            asg_tag: None,
            enis: vec![
                eni(
                    "eni-89105b0f1abcd2385",
                    &[
                        ("sg-0123456789abcdef0", "web"),
                        ("sg-0fedcba9876543211", "ssh"),
                    ],
                ),
                eni(
                    "eni-b6c63d3a205f57764",
                    &[(
                        "sg-0aa11bb22cc33dd44",
                        isolation_groups::NO_RULES_GROUP_NAME,
                    )],
                ),
            ],
            volumes: vec![
                Volume {
                    device_name: "/dev/xvda".into(),
                    volume_id: "vol-1".into(),
                    delete_on_termination: true,
                },
                Volume {
                    device_name: "/dev/sdf".into(),
                    volume_id: "vol-2".into(),
                    delete_on_termination: false,
                },
            ],
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn capture_skips_enis_already_isolated_and_unreadable_values() {
        let p = capture(
            &view(),
            &Ok(false),
            &Err("denied".into()),
            &Ok(vec![
                Eip {
                    allocation_id: "eipalloc-0123456789abcdef0".into(),
                    association_id: Some("eipassoc-1".into()),
                    public_ip: "203.0.113.24".into(),
                    network_interface_id: Some("eni-89105b0f1abcd2385".into()),
                    private_ip: Some("10.0.1.23".into()),
                },
                Eip {
                    allocation_id: "eipalloc-0123456789abcdef1".into(),
                    association_id: None,
                    public_ip: "203.0.113.25".into(),
                    network_interface_id: None,
                    private_ip: None,
                },
            ]),
            &Ok(Some(AsgMember {
                group: "web".into(),
                lifecycle_state: "InService".into(),
            })),
        );
        assert_eq!(
            p.network_interfaces.keys().collect::<Vec<_>>(),
            ["eni-89105b0f1abcd2385"]
        );
        assert_eq!(p.termination_protection, Some(false));
        assert_eq!(p.shutdown_behavior, None);
        assert_eq!(p.delete_on_termination, ["/dev/xvda"]);
        assert_eq!(p.auto_scaling_group.as_deref(), Some("web"));
        assert_eq!(p.elastic_ips.as_ref().map(Vec::len), Some(1));
        assert!(p.encode().is_ok());
    }

    #[test]
    fn a_record_is_trusted_only_on_an_isolated_instance_or_for_this_finding() {
        let record = Ok(Some(PriorState::default()));
        let unreadable = Err(PriorStateError("garbage".into()));
        let mut live = view();
        live.enis.truncate(1); // no ENI in an isolation group
        assert!(matches!(
            judge_record(&live, "f1", &record, &MacVerdict::NotConfigured),
            Record::Untrusted
        ));
        assert!(matches!(
            judge_record(&live, "f1", &unreadable, &MacVerdict::NotConfigured),
            Record::Untrusted
        ));
        assert!(matches!(
            judge_record(&live, "f1", &Ok(None), &MacVerdict::NotConfigured),
            Record::None
        ));
        assert!(matches!(
            judge_record(&view(), "f1", &record, &MacVerdict::NotConfigured),
            Record::Ours(_)
        ));
        assert!(matches!(
            judge_record(&view(), "f1", &unreadable, &MacVerdict::NotConfigured),
            Record::OursUnreadable(_)
        ));
        live.tags.insert(FINDING_ID_KEY.into(), "f0".into());
        assert!(matches!(
            judge_record(&live, "f1", &record, &MacVerdict::NotConfigured),
            Record::Untrusted
        ));
        assert!(matches!(
            judge_record(&live, "f0", &record, &MacVerdict::NotConfigured),
            Record::Ours(_)
        ));
    }

    #[test]
    fn a_record_whose_mac_fails_is_replaced_one_without_is_kept() {
        let record = Ok(Some(PriorState::default()));
        assert!(matches!(
            judge_record(&view(), "f1", &record, &MacVerdict::Invalid),
            Record::Untrusted
        ));
        for kept in [
            MacVerdict::Valid,
            MacVerdict::Absent,
            MacVerdict::Unverifiable("throttled".into()),
        ] {
            assert!(matches!(
                judge_record(&view(), "f1", &record, &kept),
                Record::Ours(_)
            ));
        }
    }

    #[test]
    fn tag_values_are_restricted() {
        assert_eq!(
            tag_value("DefenseEvasion:Runtime/KernelModuleLoaded"),
            "DefenseEvasion:Runtime/KernelModuleLoaded"
        );
        assert_eq!(tag_value("a<b>\n\u{202e}"), "a_b___");
        assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
    }
}
