//! Each restore step: the network-ACL entries, the target registrations, the ENI's groups,
//! the revocation, and finally the record's tags.

use super::*;

pub(super) async fn remove_acl_entries(c: &Clients, record: &Record, execute: bool) -> R {
    if record.nacl.is_empty() {
        return (Status::Skipped, "no network-ACL entries recorded".into());
    }
    let ids: Vec<String> = record
        .nacl
        .iter()
        .map(|e| e.acl_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let acls: Vec<Acl> = match network_acl::acls_by_id(&c.ec2.ec2, &ids).await {
        Ok(a) => a,
        Err(e) if e.contains("InvalidNetworkAclID.NotFound") => vec![],
        Err(e) => return (Status::Failed, e),
    };
    let (mut already, mut notes, mut todo) = (Vec::new(), Vec::new(), Vec::new());
    for r in &record.nacl {
        let label = r.label();
        let Some(acl) = acls.iter().find(|a| a.id == r.acl_id) else {
            already.push(format!("{label}: the ACL no longer exists"));
            continue;
        };
        match acl
            .entries
            .iter()
            .find(|e| e.rule_number == r.rule_number && e.direction == r.direction)
        {
            None => already.push(format!("{label}: already removed")),
            Some(e) if e.allow == r.allow && e.cidr.as_deref() == Some(r.cidr.as_str()) => {
                todo.push((r, label))
            }
            Some(_) => notes.push(format!(
                "{label}: the rule number now holds another entry; left as is"
            )),
        }
    }
    if !execute && !todo.is_empty() {
        let changes = todo.iter().map(|(_, l)| format!("delete {l}")).collect();
        already.extend(notes);
        return would(changes, already);
    }
    let results = futures::future::join_all(todo.iter().map(|(r, label)| async move {
        network_acl::delete_entry(&c.ec2.ec2, &r.acl_id, r.rule_number, r.direction)
            .await
            .map(|_| format!("deleted {label}"))
            .map_err(|e| format!("{label}: {e}"))
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

pub(super) const GONE: &str = "ECS no longer knows the task (the record came from the network ACL)";

pub(super) async fn restore_targets(
    c: &Clients,
    view: Option<&TaskView>,
    record: &Record,
    execute: bool,
) -> R {
    let Some(view) = view else {
        return (
            Status::Skipped,
            format!("{GONE}: its IP may belong to another task; nothing re-registered"),
        );
    };
    if record.targets.is_empty() {
        return (Status::Skipped, "no deregistered targets recorded".into());
    }
    if !view.running() {
        return (
            Status::Skipped,
            format!(
                "the task is {}: its IP may belong to another task; targets not re-registered",
                view.last_status.to_lowercase()
            ),
        );
    }
    let label = |t: &record::Target| {
        format!(
            "{}{} in {}",
            t.id,
            t.port.map(|p| format!(":{p}")).unwrap_or_default(),
            t.target_group_arn
                .rsplit(":targetgroup/")
                .next()
                .unwrap_or("?")
        )
    };
    if !execute {
        return would(
            record
                .targets
                .iter()
                .map(|t| format!("register {}", label(t)))
                .collect(),
            vec![],
        );
    }
    let results = futures::future::join_all(record.targets.iter().map(|t| async move {
        let target = aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
            .id(&t.id)
            .set_port(t.port)
            .build();
        c.elb
            .register_targets()
            .target_group_arn(&t.target_group_arn)
            .targets(target)
            .send()
            .await
            .map(|_| format!("registered {}", label(t)))
            .map_err(|e| format!("{}: {}", label(t), api_error("RegisterTargets", &e)))
    }))
    .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    summarize(
        ok.into_iter().filter_map(Result::ok).collect(),
        vec![],
        err.into_iter().filter_map(Result::err).collect(),
        vec![],
    )
}

pub(super) async fn restore_groups(
    c: &Clients,
    view: Option<&TaskView>,
    record: &Record,
    execute: bool,
) -> R {
    let Some(view) = view else {
        return (Status::Skipped, format!("{GONE}: its ENI is gone"));
    };
    if record.prior_groups.is_empty() {
        return (Status::Skipped, "no security groups recorded".into());
    }
    if !view.running() {
        return (
            Status::Skipped,
            "the task is no longer running; its ENI is gone".into(),
        );
    }
    let mut notes = Vec::new();
    let mut todo = Vec::new();
    for (eni, groups) in &record.prior_groups {
        if view.eni_id.as_deref() != Some(eni.as_str()) {
            notes.push(format!("{eni} is not the task's ENI now; not restored"));
        } else if groups.is_empty() {
            notes.push(format!("{eni}: no groups recorded"));
        } else {
            todo.push((eni, groups));
        }
    }
    if !execute && !todo.is_empty() {
        return would(
            todo.iter()
                .map(|(e, g)| format!("set {e} → {}", g.join(",")))
                .collect(),
            notes,
        );
    }
    let results = futures::future::join_all(todo.into_iter().map(|(eni, groups)| async move {
        c.ec2
            .ec2
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
    summarize(
        ok.into_iter().filter_map(Result::ok).collect(),
        vec![],
        err.into_iter().filter_map(Result::err).collect(),
        notes,
    )
}

/// Status, detail, and whether the revocation (and so its tag on the task) is kept.
pub(super) async fn remove_revocation(
    c: &Clients,
    record: &Record,
    execute: bool,
) -> (Status, String, bool) {
    match record.revoked_role.as_deref() {
        None => (
            Status::Skipped,
            "no role-session revocation recorded".into(),
            false,
        ),
        Some(role) => crate::actions::revocation::release(&c.ec2.iam, role, execute).await,
    }
}

/// The responder's tags to remove: on the task (if ECS still knows it) and on the ACLs.
pub(super) struct Tags<'a> {
    pub(super) cluster: &'a str,
    pub(super) view: Option<&'a TaskView>,
    pub(super) acls: &'a [Acl],
    pub(super) acl_key: &'a str,
    pub(super) task_id: &'a str,
    /// The revocation stays, so does the task's record of it (a later release finds it).
    pub(super) keep_revoked_role: bool,
}

pub(super) async fn remove_tags(c: &Clients, t: &Tags<'_>, execute: bool) -> R {
    let keys: Vec<String> = t
        .view
        .map(|v| {
            v.tags
                .keys()
                .filter(|k| record::is_record_key(k))
                .filter(|k| !(t.keep_revoked_role && k.as_str() == record::REVOKED_ROLE_KEY))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let kept = t.keep_revoked_role
        && t.view
            .is_some_and(|v| v.tags.contains_key(record::REVOKED_ROLE_KEY));
    let note = kept.then(|| format!("kept {} (the revocation stays)", record::REVOKED_ROLE_KEY));
    if keys.is_empty() && t.acls.is_empty() {
        let mut d = "no responder tags".to_owned();
        if let Some(n) = &note {
            d = format!("{d}; {n}");
        }
        return (Status::AlreadyDone, d);
    }
    if !execute {
        let mut changes = Vec::new();
        if !keys.is_empty() {
            changes.push(format!(
                "remove {} responder tags from the task",
                keys.len()
            ));
        }
        for a in t.acls {
            changes.push(format!("remove tag {} from {}", t.acl_key, a.id));
        }
        return would(changes, note.into_iter().collect());
    }
    let on_task = async {
        if keys.is_empty() {
            return Ok(None);
        }
        let arn = t.view.map(|v| v.arn.as_str()).unwrap_or_default();
        c.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.clone()))
            .send()
            .await
            .map(|_| Some(format!("removed {} tags from the task", keys.len())))
            .map_err(|e| api_error("UntagResource", &e))
    };
    let acl_keys = [t.acl_key.to_owned(), record_seal::acl_mac_key(t.task_id)];
    let acl_keys = &acl_keys;
    let on_acls = futures::future::join_all(t.acls.iter().map(|a| async move {
        network_acl::untag(&c.ec2.ec2, &a.id, acl_keys)
            .await
            .map(|_| format!("removed tag {} from {}", t.acl_key, a.id))
            .map_err(|e| format!("{}: {e}", a.id))
    }));
    let (task, acls) = futures::join!(on_task, on_acls);
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    match task {
        Ok(d) => done.extend(d),
        Err(e) => errors.push(e),
    }
    // The record of a revocation that stays is sealed again on its own.
    if let (true, Some(v)) = (kept, t.view) {
        let left: std::collections::BTreeMap<String, String> = v
            .tags
            .iter()
            .filter(|(k, _)| k.as_str() == record::REVOKED_ROLE_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ledger = Default::default();
        let sealed = record_seal::seal_task(c, t.cluster, &v.arn, &left, None, &ledger);
        match Box::pin(sealed).await {
            Ok(note) => done.extend(note),
            Err(e) => errors.push(e),
        }
    }
    for r in acls {
        match r {
            Ok(d) => done.push(d),
            Err(e) => errors.push(e),
        }
    }
    summarize(done, vec![], errors, note.into_iter().collect())
}
