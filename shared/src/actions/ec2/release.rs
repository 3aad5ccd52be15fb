//! Release: a human decision, taken with `responder release ec2 <instance-id>`. Restores
//! what quarantine recorded on the instance (groups per ENI, protection flags, Auto
//! Scaling membership, Elastic IPs), then removes the quarantine tags. Evidence snapshots
//! stay. If any restore step fails the tags stay too, so release can simply be re-run.

use super::Clients;
use super::observe::{self, AsgMember, Described, InstanceView, api_error};
use super::prior_state::{EipAssociation, PriorState, PriorStateError, is_quarantine_key};
use super::record_mac::{self, MAC_KEY};
use super::release_checks::{self, LiveFacts};
use crate::outcome::Status;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, EbsInstanceBlockDeviceSpecification, InstanceAttributeName,
    InstanceBlockDeviceMappingSpecification, Tag,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// One release step. Spelled like the plan's action kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStep {
    RestoreSecurityGroups,
    RestoreProtection,
    RestoreAutoScaling,
    RestoreElasticIps,
    RemoveQuarantineTags,
}

impl ReleaseStep {
    pub fn name(self) -> &'static str {
        match self {
            ReleaseStep::RestoreSecurityGroups => "ec2.release.restore_security_groups",
            ReleaseStep::RestoreProtection => "ec2.release.restore_protection",
            ReleaseStep::RestoreAutoScaling => "ec2.release.restore_auto_scaling",
            ReleaseStep::RestoreElasticIps => "ec2.release.restore_elastic_ips",
            ReleaseStep::RemoveQuarantineTags => "ec2.release.remove_quarantine_tags",
        }
    }
}

impl Serialize for ReleaseStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseOutcome {
    pub kind: ReleaseStep,
    pub target: String,
    pub status: Status,
    pub detail: String,
}

/// What release did (or, when `executed` is false, would do), with the recorded state it
/// restores (for the operator to check).
#[derive(Debug, Clone, Serialize)]
pub struct Released {
    pub instance_id: String,
    pub executed: bool,
    pub prior_state: PriorState,
    /// E.g. that the record is unverified (no MAC key configured).
    pub warnings: Vec<String>,
    pub outcomes: Vec<ReleaseOutcome>,
}

/// Why release did not start. Nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReleaseError {
    #[error("{0:?} is not an instance id")]
    InvalidInstanceId(String),
    #[error("instance {0} {1}")]
    NotFound(String, String),
    #[error(
        "instance {0} carries no recorded prior state: not quarantined by the responder, or already released"
    )]
    NotQuarantined(String),
    #[error("instance {0}: {1}")]
    UnreadableState(String, PriorStateError),
    /// The record is not bound to the live instance or its MAC does not verify.
    #[error("instance {0}: release refused, nothing was changed: {reasons}", reasons = .1.join("; "))]
    Refused(String, Vec<String>),
    #[error("{0}")]
    Api(String),
}

type R = (Status, String);

/// Without `execute`, only reads: every step that would change something is reported
/// `skipped` with "dry run: would …".
pub(crate) async fn release(
    c: &Clients,
    instance_id: &str,
    execute: bool,
) -> Result<Released, ReleaseError> {
    if !crate::target::is_instance_id(instance_id) {
        return Err(ReleaseError::InvalidInstanceId(instance_id.to_owned()));
    }
    let (described, member) = futures::join!(
        Box::pin(observe::describe_instance(&c.ec2, instance_id)),
        Box::pin(observe::asg_membership(&c.asg, instance_id))
    );
    let view = match described {
        Described::Found(v) => v,
        Described::NotFound(why) => {
            return Err(ReleaseError::NotFound(instance_id.to_owned(), why));
        }
        Described::Failed(e) => return Err(ReleaseError::Api(e)),
    };
    let prior = PriorState::decode(view.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ReleaseError::UnreadableState(instance_id.to_owned(), e))?
        .ok_or_else(|| ReleaseError::NotQuarantined(instance_id.to_owned()))?;
    let warnings = Box::pin(check_record(c, &view, &prior, &member)).await?;

    let (groups, protection, asg, eips) = futures::join!(
        Box::pin(restore_groups(c, &view, &prior, execute)),
        Box::pin(restore_protection(c, &view, &prior, execute)),
        Box::pin(restore_auto_scaling(
            c,
            instance_id,
            &prior,
            &member,
            execute
        )),
        Box::pin(restore_eips(c, &prior, execute)),
    );
    let mut outcomes: Vec<ReleaseOutcome> = [
        (ReleaseStep::RestoreSecurityGroups, groups),
        (ReleaseStep::RestoreProtection, protection),
        (ReleaseStep::RestoreAutoScaling, asg),
        (ReleaseStep::RestoreElasticIps, eips),
    ]
    .into_iter()
    .map(|(kind, (status, detail))| ReleaseOutcome {
        kind,
        target: instance_id.to_owned(),
        status,
        detail,
    })
    .collect();
    let failed = outcomes.iter().any(|o| o.status == Status::Failed);
    let (status, detail) = if failed {
        (
            Status::Skipped,
            "kept: a restore step failed; fix it and run release again".to_owned(),
        )
    } else {
        Box::pin(remove_tags(c, &view, execute)).await
    };
    outcomes.push(ReleaseOutcome {
        kind: ReleaseStep::RemoveQuarantineTags,
        target: instance_id.to_owned(),
        status,
        detail,
    });
    Ok(Released {
        instance_id: instance_id.to_owned(),
        executed: execute,
        prior_state: prior,
        warnings,
        outcomes,
    })
}

/// Verifies the record's MAC and its binding to the live instance, concurrently; refuses
/// before anything is changed. Returns the warnings to show.
async fn check_record(
    c: &Clients,
    view: &InstanceView,
    prior: &PriorState,
    member: &Result<Option<AsgMember>, String>,
) -> Result<Vec<String>, ReleaseError> {
    let refused = |why: Vec<String>| ReleaseError::Refused(view.id.clone(), why);
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
async fn live_facts(
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

fn summarize(
    done: Vec<String>,
    already: Vec<String>,
    errors: Vec<String>,
    notes: Vec<String>,
) -> R {
    let join = |parts: [&Vec<String>; 4]| {
        parts
            .iter()
            .flat_map(|p| p.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !errors.is_empty() {
        (Status::Failed, join([&errors, &done, &already, &notes]))
    } else if !done.is_empty() {
        (Status::Done, join([&done, &already, &notes, &vec![]]))
    } else if !already.is_empty() {
        (
            Status::AlreadyDone,
            join([&already, &notes, &vec![], &vec![]]),
        )
    } else {
        (Status::Skipped, join([&notes, &vec![], &vec![], &vec![]]))
    }
}

/// The dry-run report: what would change, then what is already as recorded.
fn would(changes: Vec<String>, already: Vec<String>, notes: Vec<String>) -> R {
    let mut parts = vec![format!("dry run: would {}", changes.join("; "))];
    parts.extend(already);
    parts.extend(notes);
    (Status::Skipped, parts.join("; "))
}

async fn restore_groups(c: &Clients, view: &InstanceView, prior: &PriorState, execute: bool) -> R {
    let mut notes = Vec::new();
    let mut already = Vec::new();
    let mut todo = Vec::new();
    for (eni_id, groups) in &prior.network_interfaces {
        match view.enis.iter().find(|e| &e.id == eni_id) {
            None => notes.push(format!("{eni_id} is no longer attached; not restored")),
            Some(_) if groups.is_empty() => notes.push(format!("{eni_id}: no groups recorded")),
            Some(e) if &e.group_ids() == groups => {
                already.push(format!("{eni_id} already in {}", groups.join(",")))
            }
            Some(_) => todo.push((eni_id, groups)),
        }
    }
    let mut errors = Vec::new();
    for e in &view.enis {
        if prior.network_interfaces.contains_key(&e.id) {
            continue;
        }
        // Quarantined but its groups never recorded (the record's write failed): release
        // cannot know them, and must not call the instance released.
        let isolated = e.groups.iter().any(|g| {
            g.name
                .as_deref()
                .and_then(super::isolation_groups::Role::from_name)
                .is_some()
        });
        if isolated {
            errors.push(format!(
                "{}: still in an isolation group, and its prior groups were never recorded: \
                 restore them by hand from the quarantine alert",
                e.id
            ));
        } else {
            notes.push(format!("{}: no groups recorded; left as is", e.id));
        }
    }
    if !execute && !todo.is_empty() && errors.is_empty() {
        let changes = todo
            .iter()
            .map(|(eni, groups)| format!("set {eni} → {}", groups.join(",")))
            .collect();
        return would(changes, already, notes);
    }
    let results = futures::future::join_all(todo.into_iter().map(|(eni, groups)| async move {
        c.ec2
            .modify_network_interface_attribute()
            .network_interface_id(eni)
            .set_groups(Some(groups.clone()))
            .send()
            .await
            .map(|_| format!("{eni} → {}", groups.join(",")))
            .map_err(|e| {
                format!(
                    "{eni}: {}",
                    api_error("ModifyNetworkInterfaceAttribute", &e)
                )
            })
    }))
    .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    errors.extend(err.into_iter().filter_map(Result::err));
    summarize(
        ok.into_iter().filter_map(Result::ok).collect(),
        already,
        errors,
        notes,
    )
}

async fn restore_protection(
    c: &Clients,
    view: &InstanceView,
    prior: &PriorState,
    execute: bool,
) -> R {
    let id = view.id.as_str();
    let mut notes = Vec::new();
    let tp = match prior.termination_protection {
        None => {
            notes.push("termination protection left as is (prior value unknown)".into());
            None
        }
        Some(_) if view.spot => None,
        Some(v) => Some(v),
    };
    let sb = match prior.shutdown_behavior.as_deref() {
        None => {
            notes.push("shutdown behaviour left as is (prior value unknown)".into());
            None
        }
        Some(_) if view.spot || view.instance_store_root => None,
        Some(s) => Some(s.to_owned()),
    };
    let devices: Vec<&str> = prior
        .delete_on_termination
        .iter()
        .filter(|d| view.volumes.iter().any(|v| &v.device_name == *d))
        .map(String::as_str)
        .collect();
    if !execute {
        let mut changes = Vec::new();
        if let Some(v) = tp {
            changes.push(format!(
                "turn termination protection {}",
                if v { "on" } else { "off" }
            ));
        }
        if let Some(s) = &sb {
            changes.push(format!("set shutdown behaviour {s}"));
        }
        if !devices.is_empty() {
            changes.push(format!(
                "turn DeleteOnTermination on for {}",
                devices.join(", ")
            ));
        }
        if !changes.is_empty() {
            return would(changes, vec![], notes);
        }
    }
    let tp_call = async {
        match tp {
            None => None,
            Some(v) => Some(
                c.ec2
                    .modify_instance_attribute()
                    .instance_id(id)
                    .disable_api_termination(AttributeBooleanValue::builder().value(v).build())
                    .send()
                    .await
                    .map(|_| format!("termination protection {}", if v { "on" } else { "off" }))
                    .map_err(|e| api_error("ModifyInstanceAttribute(disableApiTermination)", &e)),
            ),
        }
    };
    let sb_call = async {
        match &sb {
            None => None,
            Some(s) => Some(
                c.ec2
                    .modify_instance_attribute()
                    .instance_id(id)
                    .attribute(InstanceAttributeName::InstanceInitiatedShutdownBehavior)
                    .value(s)
                    .send()
                    .await
                    .map(|_| format!("shutdown behaviour {s}"))
                    .map_err(|e| {
                        api_error(
                            "ModifyInstanceAttribute(instanceInitiatedShutdownBehavior)",
                            &e,
                        )
                    }),
            ),
        }
    };
    let dot_call = async {
        if devices.is_empty() {
            return None;
        }
        let mappings = devices
            .iter()
            .map(|d| {
                InstanceBlockDeviceMappingSpecification::builder()
                    .device_name(*d)
                    .ebs(
                        EbsInstanceBlockDeviceSpecification::builder()
                            .delete_on_termination(true)
                            .build(),
                    )
                    .build()
            })
            .collect();
        Some(
            c.ec2
                .modify_instance_attribute()
                .instance_id(id)
                .set_block_device_mappings(Some(mappings))
                .send()
                .await
                .map(|_| format!("DeleteOnTermination on for {}", devices.join(", ")))
                .map_err(|e| api_error("ModifyInstanceAttribute(blockDeviceMapping)", &e)),
        )
    };
    let (a, b, d) = futures::join!(Box::pin(tp_call), Box::pin(sb_call), Box::pin(dot_call));
    let (mut ok, mut err) = (Vec::new(), Vec::new());
    for r in [a, b, d].into_iter().flatten() {
        match r {
            Ok(m) => ok.push(m),
            Err(e) => err.push(e),
        }
    }
    summarize(ok, vec![], err, notes)
}

async fn restore_auto_scaling(
    c: &Clients,
    id: &str,
    prior: &PriorState,
    member: &Result<Option<AsgMember>, String>,
    execute: bool,
) -> R {
    let Some(group) = prior.auto_scaling_group.as_deref() else {
        return (Status::Skipped, "was not in an Auto Scaling group".into());
    };
    match member {
        Err(e) => (Status::Failed, e.clone()),
        Ok(Some(m)) if m.group == group && m.lifecycle_state.contains("Standby") && !execute => {
            would(vec![format!("leave standby in {group}")], vec![], vec![])
        }
        Ok(Some(m)) if m.group == group && m.lifecycle_state.contains("Standby") => {
            match c
                .asg
                .exit_standby()
                .auto_scaling_group_name(group)
                .instance_ids(id)
                .send()
                .await
            {
                Ok(_) => (Status::Done, format!("left standby in {group}")),
                Err(e) => (Status::Failed, api_error("ExitStandby", &e)),
            }
        }
        Ok(Some(m)) if m.group == group => (
            Status::AlreadyDone,
            format!("already in {group} ({})", m.lifecycle_state),
        ),
        Ok(Some(m)) => (
            Status::Skipped,
            format!("now in {} instead of {group}; left as is", m.group),
        ),
        Ok(None) if !execute => would(
            vec![format!(
                "re-attach to {group} (its desired capacity grows by one)"
            )],
            vec![],
            vec![],
        ),
        Ok(None) => match c
            .asg
            .attach_instances()
            .auto_scaling_group_name(group)
            .instance_ids(id)
            .send()
            .await
        {
            Ok(_) => (
                Status::Done,
                format!("re-attached to {group} (its desired capacity grows by one)"),
            ),
            Err(e) => (Status::Failed, api_error("AttachInstances", &e)),
        },
    }
}

async fn restore_eips(c: &Clients, prior: &PriorState, execute: bool) -> R {
    let list: &[EipAssociation] = match &prior.elastic_ips {
        None => return (Status::Skipped, "Elastic IPs were not recorded".into()),
        Some(l) if l.is_empty() => return (Status::Skipped, "no Elastic IP was associated".into()),
        Some(l) => l,
    };
    let ids: Vec<String> = list.iter().map(|e| e.allocation_id.clone()).collect();
    let now = match observe::addresses_by_allocation(&c.ec2, &ids).await {
        Ok(n) => n,
        Err(e) => return (Status::Failed, e),
    };
    let mut notes = Vec::new();
    let mut already = Vec::new();
    let mut todo = Vec::new();
    for want in list {
        match now.iter().find(|a| a.allocation_id == want.allocation_id) {
            None => notes.push(format!("{} no longer exists", want.allocation_id)),
            Some(a) if a.association_id.is_none() => todo.push(want),
            Some(a)
                if a.network_interface_id.as_deref() == Some(&want.network_interface_id)
                    && a.private_ip.as_deref() == Some(&want.private_ip) =>
            {
                already.push(format!("{} already associated", a.public_ip))
            }
            Some(a) => notes.push(format!(
                "{} is now associated elsewhere; left as is",
                a.public_ip
            )),
        }
    }
    if !execute && !todo.is_empty() {
        let changes = todo
            .iter()
            .map(|e| {
                format!(
                    "associate {} with {} {}",
                    e.allocation_id, e.network_interface_id, e.private_ip
                )
            })
            .collect();
        return would(changes, already, notes);
    }
    let results = futures::future::join_all(todo.into_iter().map(|e| async move {
        c.ec2
            .associate_address()
            .allocation_id(&e.allocation_id)
            .network_interface_id(&e.network_interface_id)
            .private_ip_address(&e.private_ip)
            .allow_reassociation(false)
            .send()
            .await
            .map(|_| {
                format!(
                    "{} → {} {}",
                    e.allocation_id, e.network_interface_id, e.private_ip
                )
            })
            .map_err(|err| {
                format!(
                    "{}: {}",
                    e.allocation_id,
                    api_error("AssociateAddress", &err)
                )
            })
    }))
    .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    summarize(
        ok.into_iter().filter_map(Result::ok).collect(),
        already,
        err.into_iter().filter_map(Result::err).collect(),
        notes,
    )
}

async fn remove_tags(c: &Clients, view: &InstanceView, execute: bool) -> R {
    let keys: Vec<&String> = view.tags.keys().filter(|k| is_quarantine_key(k)).collect();
    if keys.is_empty() {
        return (Status::AlreadyDone, "no quarantine tags".into());
    }
    if !execute {
        return would(
            vec![format!(
                "remove {} quarantine tags; evidence snapshots kept",
                keys.len()
            )],
            vec![],
            vec![],
        );
    }
    match c
        .ec2
        .delete_tags()
        .resources(&view.id)
        .set_tags(Some(
            keys.iter()
                .map(|k| Tag::builder().key(*k).build())
                .collect(),
        ))
        .send()
        .await
    {
        Ok(_) => (
            Status::Done,
            format!("removed {} tags; evidence snapshots kept", keys.len()),
        ),
        Err(e) => (Status::Failed, api_error("DeleteTags", &e)),
    }
}
