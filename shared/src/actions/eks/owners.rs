//! The pod's owner chain for its evidence bundle: ReplicaSet → Deployment, StatefulSet,
//! DaemonSet, Job → CronJob, followed through `ownerReferences`.
//!
//! The references come from the pod, which whoever runs in the namespace can create with
//! any `ownerReferences` (the API server checks little more than that they are not empty).
//! So the walk is bounded (depth and count), never visits an object twice (a loop ends),
//! follows only the built-in workload kinds at their own API version, reads only names that
//! are Kubernetes names (no `/`, no `..` path part), stores an owner only when its UID is the
//! one referenced (not another object that happens to have the name), and names each stored
//! object by its position, never by the reference's text.

use super::k8s::{ApiError, code};
use crate::evidence::collect::{Collected, Collection};
use crate::sanitize::ascii_line;
use crate::target::is_k8s_name;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use std::collections::BTreeSet;

/// Pod → ReplicaSet → Deployment is two levels; the rest is room for an unusual chain.
const MAX_DEPTH: usize = 4;
/// Owners read in all, whatever the pod's references claim.
const MAX_OWNERS: usize = 8;

/// `(kind, group, version, plural)` of the owners followed: what the responder's RBAC may
/// read (permissions.rs).
const FOLLOWED: &[(&str, &str, &str, &str)] = &[
    ("ReplicaSet", "apps", "v1", "replicasets"),
    ("Deployment", "apps", "v1", "deployments"),
    ("StatefulSet", "apps", "v1", "statefulsets"),
    ("DaemonSet", "apps", "v1", "daemonsets"),
    ("Job", "batch", "v1", "jobs"),
    ("CronJob", "batch", "v1", "cronjobs"),
];

/// A reference, for gap text: never the raw (attacker-chosen) bytes.
fn shown(r: &OwnerReference) -> String {
    format!("{} {}", ascii_line(&r.kind, 40), ascii_line(&r.name, 80))
}

/// The owner references of an object as the API returned it.
fn references(object: &serde_json::Value) -> Vec<OwnerReference> {
    serde_json::from_value(object["metadata"]["ownerReferences"].clone()).unwrap_or_default()
}

/// Reads the owners of the pod `described` in `namespace` (uid `pod_uid`), level by level.
pub(crate) async fn chain(
    client: &kube::Client,
    namespace: &str,
    pod_uid: &str,
    described: &serde_json::Value,
) -> Collection {
    let mut out = Collection::default();
    let mut seen: BTreeSet<String> = BTreeSet::from([pod_uid.to_owned()]);
    let mut level = references(described);
    let mut read = 0;
    for _depth in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for r in std::mem::take(&mut level) {
            if !seen.insert(r.uid.clone()) {
                out.absent.push(format!(
                    "owners: {} (uid {}) is referenced again, not read twice",
                    shown(&r),
                    ascii_line(&r.uid, 40)
                ));
                continue;
            }
            if read == MAX_OWNERS {
                out.gaps.push(format!(
                    "owners: more than {MAX_OWNERS} owners referenced, {} and the rest not read",
                    shown(&r)
                ));
                return out;
            }
            read += 1;
            match owner(client, namespace, &r, out.objects.len() + 1).await {
                Ok(Some((c, refs))) => {
                    out.objects.push(c);
                    next.extend(refs);
                }
                Ok(None) => out
                    .absent
                    .push(format!("owners: {} not found (deleted)", shown(&r))),
                Err(e) => out.gaps.push(format!("owners: {}: {e}", shown(&r))),
            }
        }
        level = next;
    }
    if let Some(r) = level.first() {
        out.gaps.push(format!(
            "owners: deeper than {MAX_DEPTH} levels, {} not read",
            shown(r)
        ));
    }
    out
}

/// One owner, `owners/<n>.<kind>.json` (the n-th stored), and its own references; `None`
/// when it is gone.
async fn owner(
    client: &kube::Client,
    namespace: &str,
    r: &OwnerReference,
    n: usize,
) -> Result<Option<(Collected, Vec<OwnerReference>)>, String> {
    let Some((kind, group, version, plural)) = FOLLOWED
        .iter()
        .copied()
        .find(|(k, g, v, _)| r.kind == *k && r.api_version == format!("{g}/{v}"))
    else {
        return Err(format!(
            "apiVersion {} is not a built-in workload kind: not followed",
            ascii_line(&r.api_version, 60)
        ));
    };
    if !is_k8s_name(&r.name) {
        return Err("not a Kubernetes object name: not read".to_owned());
    }
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let found = match api.get(&r.name).await {
        Ok(o) => o,
        Err(e) if code(&e) == Some(404) => return Ok(None),
        Err(e) => return Err(ApiError::new(&e, "get", plural).to_string()),
    };
    let uid = found.metadata.uid.clone().unwrap_or_default();
    if uid != r.uid {
        return Err(format!(
            "the object of that name has uid {}, not the referenced {}: another object, not stored",
            ascii_line(&uid, 40),
            ascii_line(&r.uid, 40)
        ));
    }
    let value = serde_json::to_value(&found).unwrap_or_default();
    let refs = references(&value);
    let name = format!("owners/{n}.{}.json", kind.to_ascii_lowercase());
    let source = format!("kubernetes:get {group}/{version} {plural}");
    Ok(Some((Collected::json(name, &source, &value), refs)))
}
