//! What keeps the evidence and the instance in place: termination and shutdown
//! protection, Auto Scaling detach or standby, Elastic IPs disassociated.

use super::*;

pub(super) async fn protect(
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

pub(super) async fn auto_scaling(
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

pub(super) async fn disassociate(
    c: &Clients,
    eips: &Result<Vec<Eip>, String>,
    prior: bool,
) -> Step {
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
