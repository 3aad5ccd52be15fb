//! Pure: one contained resource from the records the responder left on it. Each reader
//! hands over the raw tags, labels and annotations; only validated identifiers come out,
//! and a value that is not one is dropped with a note, never shown or pasted into a command.

use super::{Contained, RecordCheck};
use crate::actions::ecs::acl_record;
use crate::actions::eks::{
    FINDING_ID_ANNOTATION, FINDING_TYPE_ANNOTATION, POD_ANNOTATION, QUARANTINE_LABEL,
    QUARANTINED_AT_ANNOTATION, policy_name,
};
use crate::actions::tags::{
    FINDING_ID_KEY, FINDING_TYPE_KEY, QUARANTINED_AT_KEY, RECORD_FINDING_KEY, STATUS_INCOMPLETE,
    STATUS_KEY, STATUS_QUARANTINED,
};
use crate::classify::Surface;
use crate::ids::{ClusterName, InstanceId, K8sName, TaskArn};
use crate::render::release_command;
use crate::target::{Target, is_k8s_name};
use crate::validate::is_finding_id;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Where the records were read: every entry carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub account: String,
    pub region: String,
    pub partition: String,
    /// The read time: a containment time after it (plus skew) is forged and not believed.
    pub now: DateTime<Utc>,
}

/// Tolerated clock skew between the writer and the reader.
const SKEW_SECONDS: i64 = 300;

/// GuardDuty finding types: `Execution:Runtime/ReverseShell`, `…!DNS`.
pub fn is_finding_type(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/._!-".contains(&b))
}

/// Says what was refused, never echoing it: the value may be written to attack a channel.
fn note(notes: &mut Vec<String>, what: &str, raw: &str) {
    notes.push(format!(
        "{what} refused: not well-formed ({} characters)",
        raw.chars().count()
    ));
}

/// The first value of `keys` that passes `valid`; any other is noted.
fn checked(
    values: &BTreeMap<String, String>,
    keys: &[&str],
    what: &str,
    valid: fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Option<String> {
    for k in keys {
        match values.get(*k) {
            Some(v) if valid(v) => return Some(v.clone()),
            Some(v) => note(notes, what, v),
            None => {}
        }
    }
    None
}

fn contained_at(
    raw: Option<&String>,
    now: DateTime<Utc>,
    notes: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(t) if (t.to_utc() - now).num_seconds() <= SKEW_SECONDS => Some(t.to_utc()),
        Ok(_) => {
            note(notes, "containment time in the future", raw);
            None
        }
        Err(_) => {
            note(notes, "containment time", raw);
            None
        }
    }
}

/// The status tag's value; `None` when there is none (not contained by the responder).
fn status(tags: &BTreeMap<String, String>, notes: &mut Vec<String>) -> Option<String> {
    let v = tags.get(STATUS_KEY)?;
    if v == STATUS_QUARANTINED || v == STATUS_INCOMPLETE {
        return Some(v.clone());
    }
    note(notes, "status", v);
    Some("unrecognised".into())
}

fn entry(place: &Place, surface: Surface, resource: String, record: RecordCheck) -> Contained {
    Contained {
        surface,
        resource,
        cluster: None,
        account: place.account.clone(),
        region: place.region.clone(),
        finding_id: None,
        finding_type: None,
        status: STATUS_QUARANTINED.into(),
        contained_at: None,
        record,
        release_command: None,
        notes: Vec::new(),
    }
}

/// The status-tag fields EC2 instances and ECS tasks share.
fn from_status_tags(c: &mut Contained, tags: &BTreeMap<String, String>, now: DateTime<Utc>) {
    let n = &mut c.notes;
    c.finding_id = checked(
        tags,
        &[FINDING_ID_KEY, RECORD_FINDING_KEY],
        "finding id",
        is_finding_id,
        n,
    );
    c.finding_type = checked(
        tags,
        &[FINDING_TYPE_KEY],
        "finding type",
        is_finding_type,
        n,
    );
    c.contained_at = contained_at(tags.get(QUARANTINED_AT_KEY), now, n);
}

/// An EC2 instance carrying the quarantine status tag.
pub fn ec2_instance(
    place: &Place,
    instance_id: &str,
    tags: &BTreeMap<String, String>,
    record: RecordCheck,
) -> Option<Contained> {
    let instance_id = InstanceId::parse(instance_id).ok()?;
    let mut c = entry(place, Surface::Ec2, instance_id.to_string(), record);
    c.status = status(tags, &mut c.notes)?;
    from_status_tags(&mut c, tags, place.now);
    let target = Target::Ec2 {
        instance_id,
        vpc_id: None,
        network_interface_ids: vec![],
    };
    c.release_command = release_command(&target, &place.region, &place.partition);
    Some(c)
}

/// An ECS task carrying the quarantine status tag.
pub fn ecs_task(
    place: &Place,
    cluster: &str,
    task_arn: &str,
    tags: &BTreeMap<String, String>,
    record: RecordCheck,
) -> Option<Contained> {
    let (Ok(cluster), Ok(task_arn)) = (ClusterName::parse(cluster), TaskArn::parse(task_arn))
    else {
        return None;
    };
    let mut c = entry(place, Surface::Ecs, task_arn.to_string(), record);
    c.cluster = Some(cluster.to_string());
    c.status = status(tags, &mut c.notes)?;
    from_status_tags(&mut c, tags, place.now);
    let target = Target::Ecs {
        cluster,
        task_arn,
        launch_type: None,
        container_instance_host: None,
    };
    c.release_command = release_command(&target, &place.region, &place.partition);
    Some(c)
}

/// A task's network-ACL entries recorded on the ACL (`acl_record.rs`) when ECS no longer
/// knows the task: the entries still deny its old address, which another task may now have.
pub fn ecs_acl_record(
    place: &Place,
    acl_id: &str,
    task_id: &str,
    value: &str,
    record: RecordCheck,
) -> Option<Contained> {
    let entries = acl_record::decode(acl_id, value).ok()?;
    if entries.is_empty() || acl_record::task_id(&format!(":task/{task_id}")) != Some(task_id) {
        return None;
    }
    let mut c = entry(place, Surface::Ecs, format!("task/{task_id}"), record);
    c.notes.push(format!(
        "ECS no longer knows this task; {} network-ACL entries remain on {acl_id}: \
         release with its cluster and task ARN",
        entries.len()
    ));
    Some(c)
}

/// What the EKS reader found of one quarantine NetworkPolicy and its pod.
#[derive(Debug, Clone, Default)]
pub struct EksPolicy {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The policy's `creationTimestamp` (set by the API server).
    pub created: Option<DateTime<Utc>>,
    /// The quarantined pod's annotations, when the pod still exists.
    pub pod_annotations: Option<BTreeMap<String, String>>,
}

/// A quarantine NetworkPolicy: named for the UID its label selects, naming a valid pod.
pub fn eks_policy(place: &Place, p: &EksPolicy) -> Option<Contained> {
    let uid = p.labels.get(QUARANTINE_LABEL)?;
    let (Ok(cluster), Ok(namespace)) =
        (ClusterName::parse(&p.cluster), K8sName::parse(&p.namespace))
    else {
        return None;
    };
    if p.name != policy_name(uid) || !is_k8s_name(&p.name) {
        return None;
    }
    let mut notes = Vec::new();
    let pod = checked(
        &p.annotations,
        &[POD_ANNOTATION],
        "pod",
        is_k8s_name,
        &mut notes,
    )?;
    let workload_name = K8sName::parse(&pod).ok()?;
    let record = RecordCheck::Unverified("Kubernetes objects carry no seal".into());
    let mut c = entry(
        place,
        Surface::Eks,
        format!("{}/{pod}", p.namespace),
        record,
    );
    c.notes = notes;
    c.cluster = Some(p.cluster.clone());
    let none = BTreeMap::new();
    let pod_meta = p.pod_annotations.as_ref().unwrap_or(&none);
    c.finding_id = checked(
        &p.annotations,
        &[FINDING_ID_ANNOTATION],
        "finding id",
        is_finding_id,
        &mut c.notes,
    );
    c.finding_type = checked(
        pod_meta,
        &[FINDING_TYPE_ANNOTATION],
        "finding type",
        is_finding_type,
        &mut c.notes,
    );
    c.contained_at = contained_at(
        pod_meta.get(QUARANTINED_AT_ANNOTATION),
        place.now,
        &mut c.notes,
    )
    .or(p.created);
    if p.pod_annotations.is_none() {
        c.notes
            .push("the pod is gone; its NetworkPolicy remains".into());
    }
    let target = Target::Eks {
        cluster,
        namespace,
        workload_name,
        workload_type: "pods".into(),
        container_ids: vec![],
        node_instance_id: None,
    };
    c.release_command = release_command(&target, &place.region, &place.partition);
    Some(c)
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
