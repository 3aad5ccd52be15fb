//! PATCH semantics: JSON merge, strategic merge and server-side apply (with managed fields).

use super::*;

pub(super) fn patch(
    st: &mut State,
    r: &Route,
    name: &str,
    query: &BTreeMap<String, String>,
    content_type: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let ns = r.namespace.clone().unwrap_or_default();
    let key = (r.kind.resource.to_owned(), ns.clone(), name.to_owned());
    let Some(patch) = body.filter(|b| b.is_object()) else {
        return status(
            400,
            "BadRequest",
            "the patch is not a JSON object".into(),
            None,
            None,
        );
    };
    let ct = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    match ct {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let Some(existing) = st.objects.get(&key).cloned() else {
                return not_found(r.kind.resource, name);
            };
            if let Some(want) = patch["metadata"]["resourceVersion"].as_str()
                && existing["metadata"]["resourceVersion"].as_str() != Some(want)
            {
                return status(
                    409,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                        r.kind.resource
                    ),
                    Some(name),
                    Some(r.kind.resource),
                );
            }
            let mut updated = existing.clone();
            if ct == "application/merge-patch+json" {
                merge_patch(&mut updated, patch);
            } else if let Err(e) = strategic_merge(&mut updated, patch) {
                return status(400, "BadRequest", e, None, None);
            }
            // Identity fields cannot be changed by a patch.
            for f in ["name", "namespace", "uid", "creationTimestamp"] {
                updated["metadata"][f] = existing["metadata"][f].clone();
            }
            updated["apiVersion"] = existing["apiVersion"].clone();
            updated["kind"] = existing["kind"].clone();
            if updated != existing {
                updated["metadata"]["resourceVersion"] = json!(st.next_version());
                record_manager(
                    &mut updated,
                    query
                        .get("fieldManager")
                        .map(String::as_str)
                        .unwrap_or("kubectl-client-side-apply"),
                    "Update",
                );
            } else {
                updated["metadata"]["resourceVersion"] =
                    existing["metadata"]["resourceVersion"].clone();
            }
            st.objects.insert(key, updated.clone());
            (200, updated)
        }
        "application/apply-patch+yaml" => {
            let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) else {
                return status(
                    400,
                    "BadRequest",
                    "PATCH, application/apply-patch+yaml requires fieldManager".into(),
                    None,
                    None,
                );
            };
            let force = query.get("force").map(String::as_str) == Some("true");
            if patch["apiVersion"].as_str() != Some(r.kind.group_version)
                || patch["kind"].as_str() != Some(r.kind.kind)
            {
                return status(
                    400,
                    "BadRequest",
                    format!(
                        "apply config must name apiVersion {} and kind {}",
                        r.kind.group_version, r.kind.kind
                    ),
                    None,
                    None,
                );
            }
            if patch["metadata"]["name"].as_str() != Some(name) {
                return status(
                    400,
                    "BadRequest",
                    "the name of the object does not match the name on the URL".into(),
                    None,
                    None,
                );
            }
            if r.kind.namespaced
                && patch["metadata"]["namespace"]
                    .as_str()
                    .is_some_and(|n| n != ns)
            {
                return status(
                    400,
                    "BadRequest",
                    "the namespace of the object does not match the namespace on the URL".into(),
                    None,
                    None,
                );
            }
            match st.objects.get(&key).cloned() {
                None => {
                    let mut obj = patch.clone();
                    obj["metadata"]["namespace"] = if r.kind.namespaced {
                        json!(ns)
                    } else {
                        Value::Null
                    };
                    if !r.kind.namespaced {
                        obj["metadata"]
                            .as_object_mut()
                            .expect("metadata")
                            .remove("namespace");
                    }
                    record_manager(&mut obj, manager, "Apply");
                    let stored = stamp_new(st, obj, r.kind);
                    st.objects.insert(key, stored.clone());
                    (201, stored)
                }
                Some(existing) => {
                    let others: Vec<String> = existing["metadata"]["managedFields"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m["manager"].as_str())
                        .filter(|m| m != manager)
                        .map(str::to_owned)
                        .collect();
                    let mut conflicts = Vec::new();
                    let mut config = patch.clone();
                    config.as_object_mut().expect("object").remove("status");
                    changed_leaves(&existing, &config, "", &mut conflicts);
                    if !force && !others.is_empty() && !conflicts.is_empty() {
                        return status(
                            409,
                            "Conflict",
                            format!(
                                "Apply failed with {} conflict(s): conflict with \"{}\": {}",
                                conflicts.len(),
                                others[0],
                                conflicts.join(", ")
                            ),
                            Some(name),
                            Some(r.kind.resource),
                        );
                    }
                    let mut updated = existing.clone();
                    apply_merge(&mut updated, &config);
                    for f in [
                        "name",
                        "namespace",
                        "uid",
                        "creationTimestamp",
                        "resourceVersion",
                        "managedFields",
                    ] {
                        updated["metadata"][f] = existing["metadata"][f].clone();
                    }
                    if updated != existing {
                        updated["metadata"]["resourceVersion"] = json!(st.next_version());
                    }
                    if force {
                        // Forced: the conflicting fields now belong to this manager alone.
                        if let Some(mf) = updated["metadata"]["managedFields"].as_array_mut()
                            && !conflicts.is_empty()
                        {
                            mf.retain(|m| m["manager"].as_str() == Some(manager));
                        }
                    }
                    record_manager(&mut updated, manager, "Apply");
                    st.objects.insert(key, updated.clone());
                    (200, updated)
                }
            }
        }
        "application/json-patch+json" => status(
            415,
            "UnsupportedMediaType",
            "json-patch is not implemented by this fake (the executor never sends it)".into(),
            None,
            None,
        ),
        other => status(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
            ),
            None,
            None,
        ),
    }
}

pub(super) fn record_manager(obj: &mut Value, manager: &str, operation: &str) {
    let api_version = obj["apiVersion"].clone();
    let meta = obj["metadata"].as_object_mut().expect("metadata");
    let list = meta.entry("managedFields").or_insert_with(|| json!([]));
    let Some(list) = list.as_array_mut() else {
        return;
    };
    if !list.iter().any(|m| {
        m["manager"].as_str() == Some(manager) && m["operation"].as_str() == Some(operation)
    }) {
        list.push(json!({ "manager": manager, "operation": operation, "apiVersion": api_version, "fieldsType": "FieldsV1" }));
    }
}

/// RFC 7386.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Strategic merge for the shapes this fake stores: maps merge (null deletes), lists of
/// objects that all have a `name` merge by name, other lists replace. `$setElementOrder`
/// directives are accepted and ignored; other `$` directives are a 400.
pub(super) fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if k.starts_with("$setElementOrder/") {
                    continue;
                }
                if k.starts_with('$') {
                    return Err(format!("directive {k} is not implemented by this fake"));
                }
                if v.is_null() {
                    t.remove(k);
                    continue;
                }
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                match (slot.as_array_mut(), v.as_array()) {
                    (Some(old), Some(new)) if named(old) && named(new) => {
                        for item in new {
                            match old.iter_mut().find(|o| o["name"] == item["name"]) {
                                Some(o) => strategic_merge(o, item)?,
                                None => old.push(item.clone()),
                            }
                        }
                    }
                    _ => strategic_merge(slot, v)?,
                }
            }
            Ok(())
        }
        other => {
            *target = other.clone();
            Ok(())
        }
    }
}

pub(super) fn named(list: &[Value]) -> bool {
    !list.is_empty() && list.iter().all(|i| i["name"].is_string())
}

/// Server-side apply's merge: the config's maps merge into the object, its lists and
/// scalars replace; fields the config does not mention stay.
pub(super) fn apply_merge(target: &mut Value, config: &Value) {
    match (target.as_object_mut(), config) {
        (Some(t), Value::Object(c)) => {
            for (k, v) in c {
                apply_merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        _ => *target = config.clone(),
    }
}

/// Paths where `config` sets a value `existing` already has differently.
pub(super) fn changed_leaves(existing: &Value, config: &Value, at: &str, out: &mut Vec<String>) {
    match (existing, config) {
        (Value::Object(e), Value::Object(c)) => {
            for (k, v) in c {
                if at.is_empty() && (k == "apiVersion" || k == "kind") {
                    continue;
                }
                if let Some(ev) = e.get(k) {
                    changed_leaves(ev, v, &format!("{at}.{k}"), out);
                }
            }
        }
        (e, c) if e != c => out.push(at.to_owned()),
        _ => {}
    }
}
