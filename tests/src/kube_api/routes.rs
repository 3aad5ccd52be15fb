//! The API paths the server knows: kinds, routes, verbs, query strings.

use super::*;

pub(super) struct Kind {
    pub(super) group_version: &'static str,
    pub(super) resource: &'static str,
    pub(super) kind: &'static str,
    pub(super) namespaced: bool,
}

pub(super) const KINDS: &[Kind] = &[
    Kind {
        group_version: "v1",
        resource: "pods",
        kind: "Pod",
        namespaced: true,
    },
    Kind {
        group_version: "v1",
        resource: "serviceaccounts",
        kind: "ServiceAccount",
        namespaced: true,
    },
    Kind {
        group_version: "v1",
        resource: "nodes",
        kind: "Node",
        namespaced: false,
    },
    Kind {
        group_version: "v1",
        resource: "events",
        kind: "Event",
        namespaced: true,
    },
    Kind {
        group_version: "networking.k8s.io/v1",
        resource: "networkpolicies",
        kind: "NetworkPolicy",
        namespaced: true,
    },
    Kind {
        group_version: "apps/v1",
        resource: "daemonsets",
        kind: "DaemonSet",
        namespaced: true,
    },
    Kind {
        group_version: "apps/v1",
        resource: "replicasets",
        kind: "ReplicaSet",
        namespaced: true,
    },
    Kind {
        group_version: "apps/v1",
        resource: "deployments",
        kind: "Deployment",
        namespaced: true,
    },
    Kind {
        group_version: "apps/v1",
        resource: "statefulsets",
        kind: "StatefulSet",
        namespaced: true,
    },
    Kind {
        group_version: "batch/v1",
        resource: "jobs",
        kind: "Job",
        namespaced: true,
    },
    Kind {
        group_version: "batch/v1",
        resource: "cronjobs",
        kind: "CronJob",
        namespaced: true,
    },
];

pub(super) fn kind_of_resource(resource: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.resource == resource)
}

pub(super) fn kind_of_object(kind: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Where a path points.
pub(super) struct Route {
    pub(super) kind: &'static Kind,
    pub(super) namespace: Option<String>,
    pub(super) name: Option<String>,
    /// The one subresource served: a pod's `log`.
    pub(super) log: bool,
}

impl Route {
    /// The resource as RBAC names it: `pods`, `pods/log`.
    pub(super) fn resource(&self) -> String {
        if self.log {
            format!("{}/log", self.kind.resource)
        } else {
            self.kind.resource.to_owned()
        }
    }
}

/// `"get pods/log"`: the verb and resource of a request, as RBAC names them.
pub(super) fn call(method: &str, path: &str) -> Option<String> {
    let r = route(path)?;
    Some(format!(
        "{} {}",
        verb(method, r.name.is_some()),
        r.resource()
    ))
}

pub(super) fn route(path: &str) -> Option<Route> {
    let (gv, rest) = if let Some(r) = path.strip_prefix("/api/v1/") {
        ("v1", r)
    } else if let Some(r) = path.strip_prefix("/apis/networking.k8s.io/v1/") {
        ("networking.k8s.io/v1", r)
    } else if let Some(r) = path.strip_prefix("/apis/apps/v1/") {
        ("apps/v1", r)
    } else if let Some(r) = path.strip_prefix("/apis/batch/v1/") {
        ("batch/v1", r)
    } else {
        return None;
    };
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (namespace, resource, name, log) = match parts.as_slice() {
        ["namespaces", ns, res] => (Some(ns.to_string()), *res, None, false),
        ["namespaces", ns, res, name] => {
            (Some(ns.to_string()), *res, Some(name.to_string()), false)
        }
        ["namespaces", ns, "pods", name, "log"] => {
            (Some(ns.to_string()), "pods", Some(name.to_string()), true)
        }
        [res] => (None, *res, None, false),
        [res, name] => (None, *res, Some(name.to_string()), false),
        _ => return None,
    };
    let kind = kind_of_resource(resource).filter(|k| k.group_version == gv)?;
    // A namespaced object needs its namespace; a cluster-scoped one has none.
    if (kind.namespaced && name.is_some() && namespace.is_none())
        || (!kind.namespaced && namespace.is_some())
    {
        return None;
    }
    Some(Route {
        kind,
        namespace,
        name,
        log,
    })
}

pub(super) fn verb(method: &str, has_name: bool) -> &'static str {
    match (method, has_name) {
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("PUT", _) => "update",
        ("DELETE", _) => "delete",
        _ => "unknown",
    }
}

pub(super) fn parse_query(q: Option<&str>) -> BTreeMap<String, String> {
    q.unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
