//! Each restore step: groups per ENI, protection flags, the role-session revocation, and
//! finally the record's tags (Auto Scaling membership and Elastic IPs: `reattach.rs`).

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
