//! Restore steps that put the instance back where it was attached: its Auto Scaling group
//! membership (attached again, or out of Standby) and its Elastic IPs.

use super::*;

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
