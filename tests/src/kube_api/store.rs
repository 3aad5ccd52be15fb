//! The object store behind the routes: get, list, create, and the API server's `Status` answers.

use super::*;

pub(super) fn stamp_new(st: &mut State, mut object: Value, kind: &Kind) -> Value {
    let version = st.next_version();
    let meta = object["metadata"].as_object_mut().expect("metadata");
    meta.entry("uid").or_insert_with(|| {
        json!(format!(
            "{:08x}-7e57-4000-8000-{:012x}",
            st.version,
            rand_u64() & 0xffff_ffff_ffff
        ))
    });
    meta.insert("resourceVersion".into(), json!(version));
    meta.entry("creationTimestamp")
        .or_insert_with(|| json!("2026-01-01T00:00:00Z"));
    object["apiVersion"] = json!(kind.group_version);
    object["kind"] = json!(kind.kind);
    object
}

pub(super) fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

pub(super) fn status(
    code: u16,
    reason: &str,
    message: String,
    name: Option<&str>,
    resource: Option<&str>,
) -> (u16, Value) {
    let mut details = Map::new();
    if let Some(n) = name {
        details.insert("name".into(), json!(n));
    }
    if let Some(r) = resource {
        details.insert("kind".into(), json!(r));
    }
    (
        code,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": details,
            "code": code,
        }),
    )
}

/// The API server's `Status` for an injected fault.
pub(super) fn fault_status(code: u16) -> (u16, Value) {
    let reason = match code {
        403 => "Forbidden",
        404 => "NotFound",
        429 => "TooManyRequests",
        504 => "Timeout",
        _ => "InternalError",
    };
    status(
        code,
        reason,
        format!("injected by the test server: {reason}"),
        None,
        None,
    )
}

pub(super) fn serve(
    st: &mut State,
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    if st.unauthenticated
        || !authorization.is_some_and(|a| {
            a.starts_with("Bearer k8s-aws-v1.") && a.len() > "Bearer k8s-aws-v1.".len()
        })
    {
        return status(401, "Unauthorized", "Unauthorized".into(), None, None);
    }
    let Some(r) = route(path) else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            None,
            None,
        );
    };
    let resource = r.kind.resource;
    let v = verb(method, r.name.is_some());
    let rbac = r.resource();
    if st.forbidden.iter().any(|(fv, fr)| fv == v && *fr == rbac) {
        let name = r
            .name
            .as_deref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        let group = r.kind.group_version.rsplit_once('/').map_or("", |(g, _)| g);
        let scope = match &r.namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".into(),
        };
        return status(
            403,
            "Forbidden",
            format!(
                "{resource}{name} is forbidden: User \"arn:aws:sts::123456789012:assumed-role/guardduty-responder-eks/responder\" cannot {v} resource \"{rbac}\" in API group \"{group}\" {scope}"
            ),
            r.name.as_deref(),
            Some(resource),
        );
    }
    let ns = r.namespace.clone().unwrap_or_default();
    if r.log {
        return match (method, &r.name) {
            ("GET", Some(name)) => pod_log(st, &ns, name, query),
            _ => status(
                405,
                "MethodNotAllowed",
                format!("{method} is not supported on {path}"),
                None,
                None,
            ),
        };
    }
    match (method, &r.name) {
        ("GET", Some(name)) => {
            let key = (resource.to_owned(), ns.clone(), name.clone());
            match st.objects.get(&key).cloned() {
                Some(obj) => {
                    match st.after_get.remove(&key) {
                        Some(AfterGet::Change(change)) => {
                            let version = st.next_version();
                            let stored = st.objects.get_mut(&key).expect("present");
                            change(stored);
                            stored["metadata"]["resourceVersion"] = json!(version);
                        }
                        Some(AfterGet::Delete) => {
                            st.objects.remove(&key);
                        }
                        None => {}
                    }
                    (200, obj)
                }
                None => not_found(resource, name),
            }
        }
        ("GET", None) => list(st, &r, query),
        ("POST", None) => create(st, &r, body),
        ("PATCH", Some(name)) => patch(st, &r, name, query, content_type, body),
        ("DELETE", Some(name)) => match st.objects.remove(&(resource.to_owned(), ns, name.clone()))
        {
            Some(_) => (
                200,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": {"name": name, "kind": resource}}),
            ),
            None => not_found(resource, name),
        },
        _ => status(
            405,
            "MethodNotAllowed",
            format!("{method} is not supported on {path} by this fake"),
            None,
            None,
        ),
    }
}

pub(super) fn not_found(resource: &str, name: &str) -> (u16, Value) {
    status(
        404,
        "NotFound",
        format!("{resource} \"{name}\" not found"),
        Some(name),
        Some(resource),
    )
}

pub(super) fn list(st: &State, r: &Route, query: &BTreeMap<String, String>) -> (u16, Value) {
    let labels = query.get("labelSelector").map(String::as_str).unwrap_or("");
    let fields = query.get("fieldSelector").map(String::as_str).unwrap_or("");
    let label_reqs = match parse_label_selector(labels) {
        Ok(r) => r,
        Err(e) => {
            return status(
                400,
                "BadRequest",
                format!("unable to parse requirement: {e}"),
                None,
                None,
            );
        }
    };
    let field_reqs = match parse_field_selector(r.kind.resource, fields) {
        Ok(r) => r,
        Err(e) => return status(400, "BadRequest", e, None, None),
    };
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let mut items: Vec<Value> = st
        .objects
        .iter()
        .filter(|((res, ns, _), _)| {
            res == r.kind.resource && r.namespace.as_ref().is_none_or(|want| want == ns)
        })
        .map(|(_, v)| v)
        .filter(|o| {
            let empty = Map::new();
            let l = o["metadata"]["labels"].as_object().unwrap_or(&empty);
            label_reqs.iter().all(|req| req.matches(l))
                && field_reqs
                    .iter()
                    .all(|(path, eq, want)| (field(o, path) == *want) == *eq)
        })
        .cloned()
        .collect();
    let more = limit.is_some_and(|l| items.len() > l);
    if let Some(l) = limit {
        items.truncate(l);
    }
    (
        200,
        json!({
            "kind": format!("{}List", r.kind.kind),
            "apiVersion": r.kind.group_version,
            "metadata": { "resourceVersion": st.version.to_string(), "continue": if more { "more" } else { "" } },
            "items": items,
        }),
    )
}

pub(super) fn create(st: &mut State, r: &Route, body: Option<&Value>) -> (u16, Value) {
    let Some(obj) = body.filter(|b| b.is_object()) else {
        return status(
            400,
            "BadRequest",
            "the body of the request was not a JSON object".into(),
            None,
            None,
        );
    };
    let mut obj = obj.clone();
    if obj["kind"].as_str() != Some(r.kind.kind) {
        return status(
            400,
            "BadRequest",
            format!("the kind {:?} does not match {}", obj["kind"], r.kind.kind),
            None,
            None,
        );
    }
    let ns = r.namespace.clone().unwrap_or_default();
    if r.kind.namespaced {
        match obj["metadata"]["namespace"].as_str() {
            Some(n) if n != ns => {
                return status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request".into(), None, None);
            }
            _ => obj["metadata"]["namespace"] = json!(ns),
        }
    }
    let name = match (
        obj["metadata"]["name"].as_str(),
        obj["metadata"]["generateName"].as_str(),
    ) {
        (Some(n), _) => n.to_owned(),
        (None, Some(g)) => format!("{g}{:05x}", st.version + 1),
        (None, None) => {
            return status(
                422,
                "Invalid",
                format!(
                    "{} \"\" is invalid: metadata.name: Required value",
                    r.kind.kind
                ),
                None,
                None,
            );
        }
    };
    obj["metadata"]["name"] = json!(name);
    let key = (r.kind.resource.to_owned(), ns, name.clone());
    if st.objects.contains_key(&key) {
        return status(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", r.kind.resource),
            Some(&name),
            Some(r.kind.resource),
        );
    }
    let stored = stamp_new(st, obj, r.kind);
    st.objects.insert(key, stored.clone());
    (201, stored)
}
