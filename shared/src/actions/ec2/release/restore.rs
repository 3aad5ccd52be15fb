//! Each restore step: groups per ENI, protection flags, Auto Scaling membership,
//! Elastic IPs, the role-session revocation, and finally the record's tags.

use super::*;
use crate::actions::revocation::is_role_name;

pub(super) async fn restore_groups(
    c: &Clients,
    view: &InstanceView,
    prior: &PriorState,
    execute: bool,
) -> R {
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
                .and_then(super::super::isolation_groups::Role::from_name)
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

pub(super) async fn restore_protection(
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

pub(super) async fn restore_auto_scaling(
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

pub(super) async fn restore_eips(c: &Clients, prior: &PriorState, execute: bool) -> R {
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

/// Status, detail, and whether the revocation (and so its tag) is kept, if one is
/// recorded: see [`crate::actions::revocation`] for why it may outlive the quarantine.
pub(super) async fn maybe_revocation(
    c: &Clients,
    view: &InstanceView,
    execute: bool,
) -> Option<(Status, String, bool)> {
    Some(match view.tags.get(REVOKED_ROLE_KEY)? {
        role if !is_role_name(role) => (
            Status::Failed,
            format!(
                "{REVOKED_ROLE_KEY} is not a role name: {:?}; check the role by hand",
                crate::sanitize::ascii_line(role, 80)
            ),
            true,
        ),
        role => crate::actions::revocation::release(&c.iam, role, execute).await,
    })
}

/// Removes the quarantine tags, and the revocation's record unless the revocation stays.
pub(super) async fn remove_tags(
    c: &Clients,
    view: &InstanceView,
    revocation_kept: bool,
    execute: bool,
) -> R {
    let keys: Vec<&String> = view
        .tags
        .keys()
        .filter(|k| is_quarantine_key(k) || (!revocation_kept && k.as_str() == REVOKED_ROLE_KEY))
        .collect();
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
