//! Evidence snapshots of every volume (one per volume per finding), and the status tags.

use super::*;

/// The evidence snapshots this finding already has, by volume id (the first of each
/// volume, [`super::snapshot_list::first_per_volume`]).
pub(super) async fn existing_snapshots(
    ec2: &aws_sdk_ec2::Client,
    finding: &str,
    instance_id: &str,
) -> Result<BTreeMap<String, String>, String> {
    use super::snapshot_list::{first_per_volume, own_snapshots, tag_filter};
    let filters = vec![
        tag_filter(FINDING_ID_KEY, Some(finding)),
        tag_filter(SNAPSHOT_INSTANCE_KEY, Some(instance_id)),
    ];
    let snapshots = own_snapshots(ec2, filters).await?;
    Ok(first_per_volume(&snapshots))
}

/// The step, and every evidence snapshot of this finding (earlier and started now).
pub(super) async fn snapshot_volumes(
    c: &Clients,
    view: &InstanceView,
    finding: &str,
    existing: Result<BTreeMap<String, String>, String>,
) -> (Step, Vec<String>) {
    let existing = match existing {
        Ok(e) => e,
        Err(e) => return (Step::failed(e), Vec::new()),
    };
    let mut ids: Vec<String> = existing.values().cloned().collect();
    if view.volumes.is_empty() {
        return (Step::skipped("no EBS volumes attached"), ids);
    }
    let todo: Vec<_> = view
        .volumes
        .iter()
        .filter(|v| !existing.contains_key(&v.volume_id))
        .collect();
    if todo.is_empty() {
        let step = Step::already(format!(
            "{} volume(s) already have a snapshot for this finding",
            view.volumes.len()
        ));
        return (step, ids);
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
            .map(|o| (o.snapshot_id().map(str::to_owned), v.device_name.clone()))
            .map_err(|e| format!("{}: {}", v.device_name, api_error("CreateSnapshot", &e)))
    }))
    .await;
    let ok: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(id, device)| format!("{} ({device})", id.as_deref().unwrap_or("snapshot")))
        .collect();
    ids.extend(
        results
            .iter()
            .filter_map(|r| r.as_ref().ok().and_then(|(id, _)| id.clone())),
    );
    let err: Vec<String> = results.iter().filter_map(|r| r.clone().err()).collect();
    let kept = if existing.is_empty() {
        String::new()
    } else {
        format!("; {} existed already", existing.len())
    };
    let step = if err.is_empty() {
        Step::done(format!("started {} (not waited for){kept}", ok.join(", ")))
    } else {
        Step::failed(format!(
            "{}; started: [{}]{kept}",
            err.join("; "),
            ok.join(", ")
        ))
    };
    (step, ids)
}

/// The status tags, and the record's MAC when this run wrote one (last: an interrupted
/// run leaves an unsigned record, which release refuses rather than trusts).
pub(super) async fn tag_instance(
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

/// The status tag (`failed` when a containment step failed; collection never counts), or,
/// without it, only the record's MAC when this run wrote one.
pub(super) async fn tag_and_seal(
    c: &Clients,
    view: &InstanceView,
    req: &Request<'_>,
    out: &mut HashMap<ActionKind, Step>,
    mac: Option<&str>,
) {
    if req.kinds.contains(&ActionKind::Ec2TagInstance) {
        let failed = out
            .iter()
            .any(|(k, s)| s.status == Status::Failed && !k.collects_evidence());
        let step = Box::pin(tag_instance(c, view, req, failed, mac)).await;
        out.insert(ActionKind::Ec2TagInstance, step);
    } else if let Some(mac) = mac {
        let sent = c
            .ec2
            .create_tags()
            .resources(&view.id)
            .tags(tag(MAC_KEY, mac));
        if let Err(e) = sent.send().await
            && let Some(s) = out.get_mut(&ActionKind::Ec2RecordPriorState)
        {
            s.status = Status::Failed;
            s.detail = format!(
                "{}; MAC not written: {}",
                s.detail,
                api_error("CreateTags", &e)
            );
        }
    }
}
