//! Network isolation: the VPC's isolation groups, then every ENI swapped through the
//! conversion group into the no-rules group (keeping the sensor link).

use super::*;

pub(super) fn is_isolation_group_name(name: Option<&str>) -> bool {
    name.is_some_and(|n| Role::from_name(n).is_some())
}

/// An ENI that already sits only in isolation groups: its current groups are not the
/// ones to restore.
pub(super) fn already_in_isolation(eni: &Eni) -> bool {
    !eni.groups.is_empty()
        && eni
            .groups
            .iter()
            .all(|g| is_isolation_group_name(g.name.as_deref()))
}

/// The isolation groups of every VPC the instance's ENIs are in, and the endpoints each
/// keeps reachable ([`sensor_link`]; found concurrently with the groups).
pub(super) async fn prepare_groups(
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

pub(super) type Groups = BTreeMap<String, Result<IsolationGroups, String>>;
pub(super) type Links = BTreeMap<String, Result<SensorLink, String>>;

/// Isolates every ENI, then says what stays reachable and whether GuardDuty still sees
/// the instance.
pub(super) async fn isolate(
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

pub(super) async fn isolate_enis(
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
